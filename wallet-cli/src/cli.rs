//! Command-line definitions (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ledger::{Address, Amount, Hash};

use crate::output::OutputFormat;
use crate::parse::{
    BlockSelector, GasSetting, StorageKey, address_arg, amount_arg, block_arg, duration_arg, gas_arg, hash_arg,
    storage_key_arg,
};

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

    /// Upload, create, call and inspect WebAssembly contracts.
    #[command(subcommand)]
    Contract(ContractCommand),

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

/// A contract message: a JSON document, or `@FILE` to read it from FILE.
const MSG_HELP: &str = "JSON message (quote it for the shell: '{\"increment\":{}}'), or @FILE to read it from FILE";

#[derive(Debug, Subcommand)]
pub enum ContractCommand {
    /// Upload WebAssembly code (a .wasm file); prints its code hash.
    Store {
        /// The .wasm file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        tx: ContractTxArgs,
    },

    /// Create a contract from uploaded code; prints its address.
    Instantiate {
        /// Code hash (64 hex digits), as printed by `agora contract store`.
        #[arg(value_parser = hash_arg, value_name = "CODE_HASH")]
        code_hash: Hash,
        #[arg(help = MSG_HELP, value_name = "MSG", allow_hyphen_values = true)]
        msg: String,
        /// A name for the contract, unique per creator and code (the address depends on it).
        #[arg(long)]
        label: String,
        /// Native tokens to send to the new contract, in base units.
        #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, default_value = "0", value_name = "AMOUNT")]
        funds: Amount,
        #[command(flatten)]
        tx: ContractTxArgs,
    },

    /// Call a contract in a transaction; prints its events and returned data.
    Execute {
        /// The contract's `agora1…` address.
        #[arg(value_parser = address_arg, value_name = "ADDRESS")]
        contract: Address,
        #[arg(help = MSG_HELP, value_name = "MSG", allow_hyphen_values = true)]
        msg: String,
        /// Native tokens to send to the contract with the call, in base units.
        #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, default_value = "0", value_name = "AMOUNT")]
        funds: Amount,
        #[command(flatten)]
        tx: ContractTxArgs,
    },

    /// Ask a contract a read-only question (no transaction, no fee); prints its JSON answer.
    Query {
        #[arg(value_parser = address_arg, value_name = "ADDRESS")]
        contract: Address,
        #[arg(help = MSG_HELP, value_name = "MSG", allow_hyphen_values = true)]
        msg: String,
        /// Gas limit of the query [default: the node's].
        #[arg(long, value_name = "GAS")]
        gas_limit: Option<u64>,
    },

    /// Show a contract's code hash, creator, label, creation height and balance.
    Info {
        #[arg(value_parser = address_arg, value_name = "ADDRESS")]
        contract: Address,
    },

    /// Show who uploaded code, when, and its size; optionally save the wasm.
    CodeInfo {
        #[arg(value_parser = hash_arg, value_name = "CODE_HASH")]
        code_hash: Hash,
        /// Also download the code (agora_getCode) into FILE (must not exist).
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },

    /// Read a contract's storage: one key, or the entries in key order.
    Storage {
        #[arg(value_parser = address_arg, value_name = "ADDRESS")]
        contract: Address,
        /// Show only this key: text, or 0x… for hex bytes.
        #[arg(long, value_parser = storage_key_arg, value_name = "KEY", conflicts_with_all = ["limit", "start_after"])]
        key: Option<StorageKey>,
        /// List at most N entries [default: the node's page size].
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// List the entries after this key (text, or 0x… for hex): the next page.
        #[arg(long, value_parser = storage_key_arg, value_name = "KEY")]
        start_after: Option<StorageKey>,
    },
}

/// Options of the contract commands that send a transaction.
#[derive(Debug, Args)]
pub struct ContractTxArgs {
    /// Key that signs and pays.
    #[arg(long, value_name = "KEYNAME")]
    pub from: String,

    /// Gas limit: `auto` = a dry run's gas × 1.3 + 10000 (capped at the chain's
    /// max_tx_gas; a failing dry run sends nothing), or a number used as is.
    #[arg(long, value_parser = gas_arg, default_value = "auto", value_name = "auto|GAS")]
    pub gas: GasSetting,

    /// Gas price in base units per gas [default: the chain's min_gas_price].
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, value_name = "PRICE")]
    pub gas_price: Option<Amount>,

    /// Nonce [default: the sender's next nonce, from the node].
    #[arg(long)]
    pub nonce: Option<u64>,

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

    #[test]
    #[allow(clippy::unwrap_used)]
    fn contract_arguments() {
        let a = Address([3; 20]).to_string();
        let cli =
            Cli::try_parse_from(["agora", "contract", "execute", &a, r#"{"increment":{}}"#, "--from", "k"]).unwrap();
        let Command::Contract(ContractCommand::Execute { contract, msg, funds, tx }) = cli.command else {
            panic!("parsed as another command")
        };
        assert_eq!((contract, msg.as_str(), funds), (Address([3; 20]), r#"{"increment":{}}"#, Amount::ZERO));
        assert_eq!(tx.gas, GasSetting::Auto, "auto is the default");
        let cli =
            Cli::try_parse_from(["agora", "contract", "execute", &a, "{}", "--from", "k", "--gas", "5000"]).unwrap();
        let Command::Contract(ContractCommand::Execute { tx, .. }) = cli.command else { panic!("other command") };
        assert_eq!(tx.gas, GasSetting::Limit(5000));

        let e = Cli::try_parse_from(["agora", "contract", "execute", "agora1nope", "{}", "--from", "k"]).unwrap_err();
        assert!(e.to_string().contains("invalid address"), "{e}");
        let e = Cli::try_parse_from(["agora", "contract", "execute", &a, "{}", "--from", "k", "--gas", "lots"])
            .unwrap_err();
        assert!(e.to_string().contains("neither `auto` nor a whole number"), "{e}");
        let cli = Cli::try_parse_from(["agora", "contract", "storage", &a, "--key", "0x00ff"]).unwrap();
        let Command::Contract(ContractCommand::Storage { key, .. }) = cli.command else { panic!("other command") };
        assert_eq!(key, Some(StorageKey(vec![0, 0xff])));
        let e = Cli::try_parse_from(["agora", "contract", "storage", &a, "--key", "k", "--limit", "3"]).unwrap_err();
        assert!(e.to_string().contains("cannot be used with"), "{e}");
    }
}
