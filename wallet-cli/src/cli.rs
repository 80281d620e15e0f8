//! Command-line definitions (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ledger::{Amount, Hash};

use crate::output::OutputFormat;
use crate::parse::{BlockSelector, amount_arg, block_arg, duration_arg, hash_arg};

pub use crate::config::DEFAULT_NODE;

/// Exit codes, shown at the end of `agora --help` (see also README and docs/wallet.md).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success; a transaction was committed and succeeded (or, with --no-wait, accepted by the mempool)
  1  a transaction was committed but failed (it paid its fee), or any other error
  2  usage error (bad flags or arguments)
  3  not committed yet: no commit within --timeout (it may still commit: agora tx HASH --wait)
  4  refused: the node rejected the transaction, it is on another chain than the pinned chain id,
     or the fee is above the wallet's cap (--max-fee)

Settings: flag, then environment (AGORA_NODE, AGORA_CHAIN_ID, AGORA_MAX_FEE), then KEYRING_DIR/client.toml
(`agora config`), then the default. Under -o json, errors are one JSON document on stdout:
{\"error\": {\"code\": EXIT_CODE, \"kind\": …, \"message\": …, \"data\": …}}.";

/// Whether a command line asks for `-o json` (so that even its usage errors
/// are reported as JSON).
pub fn wants_json<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> bool {
    let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut json = false;
    for (i, a) in args.iter().enumerate() {
        if a == "--" {
            break;
        }
        let value = match a.as_str() {
            "-o" | "--output" => args.get(i + 1).map(String::as_str),
            _ => a.strip_prefix("--output=").or_else(|| a.strip_prefix("-o=")).or_else(|| a.strip_prefix("-o")),
        };
        if let Some(v) = value {
            json = v.eq_ignore_ascii_case("json");
        }
    }
    json
}

/// agora: the Agora wallet (keys, transfers and chain queries).
#[derive(Debug, Parser)]
#[command(name = "agora", version, about, long_about = None, propagate_version = true, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Node JSON-RPC URL (http:// or https://; subscriptions use ws:// / wss://
    /// on the same address) [env: AGORA_NODE; then `node` in client.toml;
    /// default: http://127.0.0.1:26657].
    #[arg(long, global = true, value_name = "URL")]
    pub node: Option<String>,

    /// The chain id to sign for: the wallet refuses (exit 4) a node on another
    /// chain [env: AGORA_CHAIN_ID; then `chain-id` in client.toml; default: the
    /// node's, with a note on stderr].
    #[arg(long, global = true, value_parser = crate::config::chain_id_arg, value_name = "ID")]
    pub chain_id: Option<String>,

    /// Output format: human text, or one JSON document on stdout for scripts
    /// (errors too) [default: `output` in client.toml, else text].
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<OutputFormat>,

    /// Keyring directory, which also holds client.toml [default: ~/.agora/keys].
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

    /// Show or change the client configuration (KEYRING_DIR/client.toml):
    /// `agora config` shows every setting and where it comes from, `agora
    /// config chain-id agora-1` pins the chain, `--unset` removes a setting.
    Config(ConfigArgs),

    /// Upload, create, call and inspect WebAssembly contracts.
    #[command(subcommand)]
    Contract(ContractCommand),

    /// DAOs built from the example contracts: create, propose, vote, veto,
    /// cancel, execute, close; list and show proposals with live tallies.
    #[command(subcommand)]
    Dao(DaoCommand),

    /// Run a validator and delegate stake: create-validator, edit-validator,
    /// delegate, undelegate, redelegate, withdraw-rewards, unjail.
    ///
    /// Amounts are whole numbers of base units; rates are decimals (0.05) or
    /// percentages (5%). Each command checks its arguments, makes a dry run
    /// (--gas auto), checks the balance, signs, and waits for the commit; it
    /// exits with 1 if the transaction was included but failed.
    #[command(subcommand)]
    Stake(StakeCommand),

    /// List the validators: voting power and its share, tokens, commission, status.
    Validators {
        /// Which validators: `jailed` lists the jailed ones whatever their status.
        #[arg(long, value_enum, default_value_t = ValidatorStatusFilter::All)]
        status: ValidatorStatusFilter,
    },

    /// The decentralization index of the latest epoch (or of --epoch / --height):
    /// Nakamoto coefficients, HHI, Gini and entropy of each subsystem; with
    /// --history the epochs, with --distribution a subsystem's raw distribution,
    /// with --csv FILE the metrics of a local `entity,weight` file (offline).
    Decentralization(DecentralizationArgs),

    /// Show a validator: metadata, stake, commission, status and signing record.
    Validator {
        /// The operator's `agora1…` address, or the name of the operator's key.
        #[arg(value_name = "ADDRESS_OR_KEYNAME")]
        validator: String,
    },

    /// Show an account's delegations (with pending rewards), unbondings and redelegations.
    Delegations {
        /// An `agora1…` address or a key name [default: the keyring's only key].
        #[arg(value_name = "ADDRESS_OR_KEYNAME")]
        delegator: Option<String>,
    },

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

    /// The transactions that touched an address (sent, received, contract
    /// calls), newest first, from the node's history index.
    History(crate::commands::history::HistoryArgs),

    /// Show the node's status.
    Status,

    /// Show the chain parameters in force for the next block (gas prices and
    /// limits, contract and staking parameters, the governance contract) as JSON.
    ChainParams,

    /// Show a block: by height, by hash, or the latest.
    Block {
        /// A height, a block hash or `latest` [default: latest].
        #[arg(value_parser = block_arg, value_name = "HEIGHT|HASH|latest")]
        block: Option<BlockSelector>,
    },
}

/// `agora config [KEY [VALUE]]`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The setting to show or change [default: show all].
    #[arg(value_enum, value_name = "KEY")]
    pub key: Option<crate::config::ConfigKey>,
    /// The new value.
    #[arg(value_name = "VALUE", requires = "key", conflicts_with = "unset")]
    pub value: Option<String>,
    /// Remove the setting from client.toml.
    #[arg(long, requires = "key")]
    pub unset: bool,
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Recipient: an `agora1…` address or a key name.
    #[arg(long, value_name = "ADDRESS_OR_KEYNAME")]
    pub to: String,

    /// Amount in base units (a whole number).
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true)]
    pub amount: Amount,

    #[command(flatten)]
    pub tx: TxArgs,
}

mod dao;
pub use dao::{DaoCommand, VoteOption};
mod tx;
pub use tx::{OptionalTxArgs, TxArgs, TxFlags};
mod decentralization;
pub use decentralization::{DecentralizationArgs, MAX_HISTORY_LIMIT};

mod keys;
pub use keys::KeysCommand;
mod contract;
pub use contract::ContractCommand;
mod staking;
pub use staking::{CreateValidatorArgs, EditValidatorArgs, MetadataArgs, StakeCommand, ValidatorStatusFilter};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::GasSetting;
    use clap::CommandFactory;
    use ledger::Address;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_output_is_seen_before_parsing() {
        let w = |args: &[&str]| wants_json(args.iter().map(std::ffi::OsString::from));
        assert!(w(&["agora", "transfer", "-o", "json"]));
        assert!(w(&["agora", "-ojson", "transfer"]));
        assert!(w(&["agora", "--output=json", "x"]));
        assert!(w(&["agora", "--output", "JSON"]));
        assert!(!w(&["agora", "transfer", "-o", "text"]));
        assert!(!w(&["agora", "-o", "json", "-o", "text"]), "the last one counts");
        assert!(!w(&["agora", "transfer"]));
        assert!(!w(&["agora", "contract", "execute", "--", "-o", "json"]));
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn tx_flags_have_one_shape() {
        let a = Address([3; 20]).to_string();
        let h = "ab".repeat(32);
        // Every transaction command takes the same options.
        let commands: Vec<Vec<&str>> = vec![
            vec!["transfer", "--to", &a, "--amount", "5"],
            vec!["contract", "store", "c.wasm"],
            vec!["contract", "instantiate", &h, "{}", "--label", "l"],
            vec!["contract", "execute", &a, "{}"],
            vec!["contract", "migrate", &a, "--code-hash", &h],
            vec!["contract", "set-admin", &a, "--clear"],
            vec!["stake", "delegate", &a, "5"],
            vec!["stake", "undelegate", &a, "5"],
            vec!["stake", "redelegate", &a, &a, "5"],
            vec!["stake", "withdraw-rewards"],
            vec!["stake", "unjail"],
            vec!["dao", "vote", &a, "1", "yes"],
            vec!["dao", "execute", &a, "1"],
        ];
        let flags = [
            "--from",
            "k",
            "--gas",
            "auto",
            "--gas-adjustment",
            "1.5",
            "--fees",
            "9000",
            "--nonce",
            "4",
            "--no-wait",
            "--timeout",
            "5s",
        ];
        for c in &commands {
            let args = [&["agora"][..], c, &flags].concat();
            let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let f = tx_flags_of(&cli.command).unwrap_or_else(|| panic!("{c:?} has no TxFlags"));
            assert_eq!(f.gas, GasSetting::Auto);
            assert_eq!(f.gas_adjustment.to_string(), "1.5");
            assert_eq!((f.fees, f.gas_price, f.nonce, f.no_wait), (Some(Amount::new(9000)), None, Some(4), true));
            assert_eq!(f.timeout, Duration::from_secs(5));
            // Defaults: auto × 1.3, the chain's price, wait for the commit.
            let args = [&["agora"][..], c, &["--from", "k"]].concat();
            let cli = Cli::try_parse_from(&args).unwrap();
            let f = tx_flags_of(&cli.command).unwrap();
            assert_eq!((f.gas, f.gas_adjustment.to_string(), f.no_wait), (GasSetting::Auto, "1.3".into(), false));
            // Fees and a gas price exclude each other; bad values are usage errors.
            for bad in [
                &["--fees", "1", "--gas-price", "1"][..],
                &["--gas-adjustment", "0.5"],
                &["--gas-adjustment", "1,3"],
                &["--gas", "0"],
                &["--fees", "1.5"],
            ] {
                let args = [&["agora"][..], c, &["--from", "k"], bad].concat();
                let e = Cli::try_parse_from(&args).unwrap_err();
                assert_eq!(e.exit_code(), 2, "{args:?}");
            }
        }
        // The old transfer flag is gone: one shape.
        assert!(
            Cli::try_parse_from(["agora", "transfer", "--from", "k", "--to", &a, "--amount", "1", "--gas-limit", "5"])
                .is_err()
        );
        let cli =
            Cli::try_parse_from(["agora", "transfer", "--from", "k", "--to", &a, "--amount", "1", "--gas", "21000"])
                .unwrap();
        assert_eq!(tx_flags_of(&cli.command).unwrap().gas, GasSetting::Limit(21_000));
    }

    /// The [`TxFlags`] of a parsed transaction command.
    fn tx_flags_of(c: &Command) -> Option<&TxFlags> {
        match c {
            Command::Transfer(t) => Some(&t.tx.flags),
            Command::Contract(
                ContractCommand::Store { tx, .. }
                | ContractCommand::Instantiate { tx, .. }
                | ContractCommand::Execute { tx, .. }
                | ContractCommand::Migrate { tx, .. }
                | ContractCommand::SetAdmin { tx, .. },
            ) => Some(&tx.flags),
            Command::Stake(
                StakeCommand::Delegate { tx, .. }
                | StakeCommand::Undelegate { tx, .. }
                | StakeCommand::Redelegate { tx, .. }
                | StakeCommand::WithdrawRewards { tx, .. }
                | StakeCommand::Unjail { tx },
            ) => Some(&tx.flags),
            Command::Dao(DaoCommand::Vote { tx, .. } | DaoCommand::Execute { tx, .. }) => Some(&tx.flags),
            _ => None,
        }
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
