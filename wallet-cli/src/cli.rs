//! Command-line definitions (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ledger::{Amount, Hash};

use crate::output::OutputFormat;
use crate::parse::{BlockSelector, amount_arg, block_arg, duration_arg, hash_arg};

/// The default node URL.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:26657";

/// agora: the Agora wallet (keys, transfers and chain queries).
#[derive(Debug, Parser)]
#[command(name = "agora", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Node JSON-RPC URL (http:// or https://; subscriptions use ws:// / wss:// on the same address).
    #[arg(long, global = true, env = "AGORA_NODE", default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,

    /// Output format: human text, or one JSON document on stdout for scripts.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Keyring directory [default: ~/.agora/keys].
    #[arg(long, global = true, env = "AGORA_KEYRING_DIR", value_name = "DIR")]
    pub keyring_dir: Option<PathBuf>,

    /// Read the keystore password from the first line of FILE (otherwise env
    /// AGORA_PASSWORD, otherwise an interactive prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage keys in the keyring.
    #[command(subcommand)]
    Keys(KeysCommand),

    /// Show the balance and nonce of an address or of a key of the keyring.
    Balance {
        /// An `agora1…` address or a key name.
        #[arg(value_name = "ADDRESS_OR_KEYNAME")]
        target: String,
    },

    /// Sign and send a transfer, and wait for it to be committed.
    Transfer(TransferArgs),

    /// Show a transaction and its receipt.
    Tx {
        /// Transaction hash (64 hex digits).
        #[arg(value_parser = hash_arg)]
        hash: Hash,
        /// If the node does not know the transaction yet, wait for it to be committed.
        #[arg(long)]
        wait: bool,
        /// How long `--wait` waits.
        #[arg(long, value_parser = duration_arg, default_value = "30s", value_name = "DURATION")]
        timeout: Duration,
    },

    /// Show the node's status.
    Status,

    /// Show a block: by height, by hash, or the latest.
    Block {
        /// A height, a block hash or `latest` [default: latest].
        #[arg(value_parser = block_arg, value_name = "HEIGHT|HASH|latest")]
        block: Option<BlockSelector>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key from a new 24-word mnemonic.
    New {
        /// Name of the key in the keyring.
        name: String,
    },
    /// Restore a key from its mnemonic (prompt, --mnemonic-file, or env AGORA_MNEMONIC).
    Recover {
        /// Name of the key in the keyring.
        name: String,
        /// Read the mnemonic from FILE.
        #[arg(long, value_name = "FILE")]
        mnemonic_file: Option<PathBuf>,
    },
    /// List the keys of the keyring.
    List,
    /// Show a key's address and public key.
    Show {
        name: String,
        /// Print only the address.
        #[arg(long)]
        address: bool,
    },
    /// Print a key's mnemonic (asks for the password).
    Export { name: String },
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Key that signs and pays.
    #[arg(long, value_name = "KEYNAME")]
    pub from: String,

    /// Recipient: an `agora1…` address or a key name.
    #[arg(long, value_name = "ADDRESS_OR_KEYNAME")]
    pub to: String,

    /// Amount in base units (a whole number).
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true)]
    pub amount: Amount,

    /// Gas price in base units per gas [default: the chain's min_gas_price].
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, value_name = "PRICE")]
    pub gas_price: Option<Amount>,

    /// Gas limit [default: estimated by a dry run on the node].
    #[arg(long, value_name = "GAS")]
    pub gas_limit: Option<u64>,

    /// Nonce [default: the sender's next nonce, from the node].
    #[arg(long)]
    pub nonce: Option<u64>,

    /// Return once the node's mempool accepted the transaction, without waiting for a block.
    #[arg(long)]
    pub no_wait: bool,

    /// How long to wait for the commit (at most 120s).
    #[arg(long, value_parser = duration_arg, default_value = "30s", value_name = "DURATION")]
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn amount_errors_come_from_clap() {
        let e = Cli::try_parse_from(["agora", "transfer", "--from", "a", "--to", "b", "--amount", "-5"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("negative"), "{e}");
        let e = Cli::try_parse_from(["agora", "transfer", "--from", "a", "--to", "b", "--amount", "1.5"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("fraction"), "{e}");
    }
}
