//! Command-line definitions (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use ledger::{Address, Amount, Hash, PublicKey, Rate};

use crate::output::OutputFormat;
use crate::parse::{
    BlockSelector, StorageKey, address_arg, amount_arg, block_arg, client_version_arg, consensus_key_arg, country_arg,
    details_arg, duration_arg, entity_arg, hash_arg, hosting_arg, moniker_arg, positive_amount_arg, rate_arg,
    storage_key_arg, website_arg,
};

pub use crate::config::DEFAULT_NODE;

/// Exit codes, shown at the end of `agora --help` (see also README and docs/wallet.md).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success; a transaction was committed and succeeded (or, with --no-wait, accepted by the mempool)
  1  a transaction was committed but failed (it paid its fee), or any other error
  2  usage error (bad flags or arguments)
  3  not committed yet: no commit within --timeout (it may still commit: agora tx HASH --wait)
  4  refused: the node rejected the transaction, or it is on another chain than the pinned chain id

Settings: flag, then environment (AGORA_NODE, AGORA_CHAIN_ID), then KEYRING_DIR/client.toml
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
    /// Import a key under a new name: an encrypted keystore file written by
    /// `agora keys export` (its password is asked to check it), or a mnemonic
    /// read from stdin (a hidden prompt on a terminal). Never replaces a key.
    Import {
        /// Name of the key in the keyring.
        name: String,
        /// The keystore JSON file to import [default: read a mnemonic from stdin].
        #[arg(long, value_name = "FILE")]
        keystore: Option<PathBuf>,
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
    /// Print a key's encrypted keystore (JSON, for `agora keys import`); with
    /// --mnemonic, print its mnemonic instead (asks for the password).
    Export {
        name: String,
        /// Print the secret mnemonic (full control of the funds) instead of the encrypted keystore.
        #[arg(long)]
        mnemonic: bool,
    },
    /// Delete a key from the keyring (asks for confirmation on stdin).
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
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
        tx: TxArgs,
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
        /// The account (user or contract) allowed to migrate the contract and
        /// change its admin [default: none: the code can never change].
        #[arg(long, value_parser = address_arg, value_name = "ADDRESS")]
        admin: Option<Address>,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Switch a contract to other uploaded code and run the new code's
    /// `migrate` with MSG (only the contract's admin may); state is kept.
    Migrate {
        /// The contract's `agora1…` address.
        #[arg(value_parser = address_arg, value_name = "ADDRESS")]
        contract: Address,
        /// Code hash (64 hex digits) of the new code, as printed by `agora contract store`.
        #[arg(long, value_parser = hash_arg, value_name = "CODE_HASH")]
        code_hash: Hash,
        #[arg(long, help = MSG_HELP, value_name = "MSG", allow_hyphen_values = true, default_value = "{}")]
        msg: String,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Hand a contract's admin role to ADDRESS, or remove it for good with
    /// --clear (only the current admin may).
    SetAdmin {
        /// The contract's `agora1…` address.
        #[arg(value_parser = address_arg, value_name = "CONTRACT")]
        contract: Address,
        /// The new admin.
        #[arg(value_parser = address_arg, value_name = "ADMIN", required_unless_present = "clear")]
        admin: Option<Address>,
        /// Remove the admin: nobody can migrate the contract any more.
        #[arg(long, conflicts_with = "admin")]
        clear: bool,
        #[command(flatten)]
        tx: TxArgs,
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
        tx: TxArgs,
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

    /// Show a contract's code hash, creator, label, admin, creation height and balance.
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

/// The `--status` filter of `agora validators`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidatorStatusFilter {
    All,
    Bonded,
    Unbonding,
    Unbonded,
    Jailed,
}

impl ValidatorStatusFilter {
    /// The `status` parameter of `agora_validators`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidatorStatusFilter::All => "all",
            ValidatorStatusFilter::Bonded => "bonded",
            ValidatorStatusFilter::Unbonding => "unbonding",
            ValidatorStatusFilter::Unbonded => "unbonded",
            ValidatorStatusFilter::Jailed => "jailed",
        }
    }
}

/// The `agora stake` subcommands.
#[derive(Debug, Subcommand)]
pub enum StakeCommand {
    /// Create a validator operated by the --from account, bonding its self-stake.
    CreateValidator(Box<CreateValidatorArgs>),

    /// Change your validator's commission rate, minimum self-delegation or metadata.
    EditValidator(Box<EditValidatorArgs>),

    /// Bond tokens to a validator.
    Delegate {
        /// The validator's operator address (`agora1…`) or the name of its operator's key.
        #[arg(value_name = "VALIDATOR")]
        validator: String,
        /// Tokens to bond, in base units.
        #[arg(value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Unbond tokens from a validator; they return after the unbonding period.
    Undelegate {
        /// The validator's operator address (`agora1…`) or the name of its operator's key.
        #[arg(value_name = "VALIDATOR")]
        validator: String,
        /// Tokens to unbond, in base units.
        #[arg(value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Move bonded tokens from one validator to another at once.
    Redelegate {
        /// The source validator's operator address or operator key name.
        #[arg(value_name = "SRC_VALIDATOR")]
        src: String,
        /// The destination validator's operator address or operator key name.
        #[arg(value_name = "DST_VALIDATOR")]
        dst: String,
        /// Tokens to move, in base units.
        #[arg(value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Withdraw delegation rewards (and, for an operator, its commission).
    WithdrawRewards {
        /// Only the rewards of the delegation to this validator (address or
        /// operator key name) [default: all delegations].
        #[arg(long, value_name = "VALIDATOR")]
        validator: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Return your jailed validator to candidacy once its jail time is over.
    Unjail {
        #[command(flatten)]
        tx: TxArgs,
    },
}

/// Descriptive fields of a validator, optional in both commands. Each is
/// checked like the chain does (`ledger::staking::metadata::validate`).
#[derive(Debug, Args)]
pub struct MetadataArgs {
    /// Web site: https://… or http://… (empty to clear).
    #[arg(long, value_parser = website_arg, value_name = "URL")]
    pub website: Option<String>,
    /// The organisation running the validator [chain default: the moniker].
    #[arg(long, value_parser = entity_arg, value_name = "ORG")]
    pub entity: Option<String>,
    /// ISO 3166-1 alpha-2 country code of the validator's machines, e.g. DE.
    #[arg(long, value_parser = country_arg, value_name = "CC")]
    pub country: Option<String>,
    /// Hosting provider or autonomous system, e.g. Hetzner or AS24940.
    #[arg(long, value_parser = hosting_arg, value_name = "PROVIDER_OR_ASN")]
    pub hosting: Option<String>,
    /// Client software and version, e.g. agorad/0.1.0.
    #[arg(long, value_parser = client_version_arg, value_name = "VERSION")]
    pub client_version: Option<String>,
    /// Free text, at most 280 characters.
    #[arg(long, value_parser = details_arg, value_name = "TEXT")]
    pub details: Option<String>,
}

/// `agora stake create-validator`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("consensus").required(true).args(["consensus_key", "validator_key"])))]
pub struct CreateValidatorArgs {
    /// Tokens of the operator to bond as its own stake, in base units.
    #[arg(long, value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub self_stake: Amount,
    /// The validator's consensus public key: 64 hex digits, as printed by
    /// `agorad show-validator --home HOME`.
    #[arg(long, value_parser = consensus_key_arg, value_name = "HEX")]
    pub consensus_key: Option<PublicKey>,
    /// Read the consensus public key from agorad's key file
    /// (HOME/validator_key.json; a node HOME directory works too).
    #[arg(long, value_name = "FILE")]
    pub validator_key: Option<PathBuf>,
    /// Commission taken from delegators' rewards.
    #[arg(long, value_parser = rate_arg, default_value = "0.10", value_name = "RATE")]
    pub commission_rate: Rate,
    /// Highest commission rate the validator may ever set (cannot change later).
    #[arg(long, value_parser = rate_arg, default_value = "0.20", value_name = "RATE")]
    pub max_commission_rate: Rate,
    /// Largest change of the commission rate in one edit (cannot change later).
    #[arg(long, value_parser = rate_arg, default_value = "0.01", value_name = "RATE")]
    pub max_commission_change: Rate,
    /// The operator's own stake must stay worth at least this, or the
    /// validator is jailed [default: the chain's min_self_delegation].
    #[arg(long, value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub min_self_delegation: Option<Amount>,
    /// Display name, 1 to 64 characters.
    #[arg(long, value_parser = moniker_arg, value_name = "NAME")]
    pub moniker: String,
    #[command(flatten)]
    pub metadata: MetadataArgs,
    #[command(flatten)]
    pub tx: TxArgs,
}

/// `agora stake edit-validator`: at least one change.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("changes")
        .required(true)
        .multiple(true)
        .args(["commission_rate", "min_self_delegation", "moniker", "website", "entity", "country", "hosting",
               "client_version", "details"])
))]
pub struct EditValidatorArgs {
    /// New commission rate (within the max rate and max change, once per change period).
    #[arg(long, value_parser = rate_arg, value_name = "RATE")]
    pub commission_rate: Option<Rate>,
    /// New minimum self-delegation (it can only increase).
    #[arg(long, value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub min_self_delegation: Option<Amount>,
    /// New display name, 1 to 64 characters.
    #[arg(long, value_parser = moniker_arg, value_name = "NAME")]
    pub moniker: Option<String>,
    #[command(flatten)]
    pub metadata: MetadataArgs,
    #[command(flatten)]
    pub tx: TxArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::GasSetting;
    use clap::CommandFactory;

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
        assert_eq!(tx.flags.gas, GasSetting::Auto, "auto is the default");
        let cli =
            Cli::try_parse_from(["agora", "contract", "execute", &a, "{}", "--from", "k", "--gas", "5000"]).unwrap();
        let Command::Contract(ContractCommand::Execute { tx, .. }) = cli.command else { panic!("other command") };
        assert_eq!(tx.flags.gas, GasSetting::Limit(5000));

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

    #[test]
    #[allow(clippy::unwrap_used)]
    fn contract_admin_arguments() {
        let (a, b, h) = (Address([3; 20]).to_string(), Address([4; 20]).to_string(), "ab".repeat(32));
        let parse = |args: &[&str]| Cli::try_parse_from([&["agora", "contract"], args].concat());
        let cli = parse(&["instantiate", &h, "{}", "--label", "l", "--from", "k"]).unwrap();
        let Command::Contract(ContractCommand::Instantiate { admin, .. }) = cli.command else { panic!("other") };
        assert_eq!(admin, None, "no admin by default");
        let cli = parse(&["instantiate", &h, "{}", "--label", "l", "--admin", &b, "--from", "k"]).unwrap();
        let Command::Contract(ContractCommand::Instantiate { admin, .. }) = cli.command else { panic!("other") };
        assert_eq!(admin, Some(Address([4; 20])));
        let cli = parse(&["migrate", &a, "--code-hash", &h, "--msg", r#"{"v":2}"#, "--from", "k"]).unwrap();
        let Command::Contract(ContractCommand::Migrate { contract, code_hash, msg, .. }) = cli.command else {
            panic!("other")
        };
        assert_eq!((contract, code_hash, msg.as_str()), (Address([3; 20]), Hash([0xab; 32]), r#"{"v":2}"#));
        assert!(parse(&["migrate", &a, "--from", "k"]).is_err(), "--code-hash is required");
        let cli = parse(&["set-admin", &a, &b, "--from", "k"]).unwrap();
        let Command::Contract(ContractCommand::SetAdmin { admin, clear, .. }) = cli.command else { panic!("other") };
        assert_eq!((admin, clear), (Some(Address([4; 20])), false));
        let cli = parse(&["set-admin", &a, "--clear", "--from", "k"]).unwrap();
        let Command::Contract(ContractCommand::SetAdmin { admin, clear, .. }) = cli.command else { panic!("other") };
        assert_eq!((admin, clear), (None, true));
        assert!(parse(&["set-admin", &a, "--from", "k"]).is_err(), "ADMIN or --clear");
        assert!(parse(&["set-admin", &a, &b, "--clear", "--from", "k"]).is_err(), "not both");
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn staking_arguments() {
        let a = Address([3; 20]).to_string();
        let b = Address([4; 20]).to_string();
        let pk = PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[5; 32])).to_string();
        let parse = |args: &[&str]| Cli::try_parse_from([&["agora"], args].concat());
        let err = |args: &[&str]| parse(args).unwrap_err().to_string();

        let cli = parse(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "5000000",
            "--consensus-key",
            &pk,
            "--moniker",
            "alpha",
            "--country",
            "de",
        ])
        .unwrap();
        let Command::Stake(StakeCommand::CreateValidator(c)) = cli.command else { panic!("other command") };
        assert_eq!((c.self_stake, c.consensus_key.map(|k| k.to_string())), (Amount::new(5_000_000), Some(pk.clone())));
        assert_eq!(
            (c.commission_rate.ppm(), c.max_commission_rate.ppm(), c.max_commission_change.ppm()),
            (100_000, 200_000, 10_000)
        );
        assert_eq!((c.metadata.country.as_deref(), c.min_self_delegation), (Some("DE"), None));
        assert_eq!(c.tx.flags.gas, GasSetting::Auto);

        let base = ["stake", "create-validator", "--from", "k", "--self-stake", "5", "--moniker", "m"];
        assert!(err(&base).contains("--consensus-key <HEX>|--validator-key <FILE>"), "{}", err(&base));
        let both = [&base[..], &["--consensus-key", &pk, "--validator-key", "f.json"]].concat();
        assert!(err(&both).contains("cannot be used with"));
        let with_key = [&base[..], &["--consensus-key", &pk]].concat();
        for (extra, msg) in [
            (&["--commission-rate", "1.5"][..], "invalid rate"),
            (&["--max-commission-rate", "120%"][..], "invalid rate"),
            (&["--country", "Germany"][..], "ISO 3166"),
            (&["--website", "v.example"][..], "https://"),
            (&["--min-self-delegation", "0"][..], "greater than zero"),
        ] {
            let e = err(&[&with_key[..], extra].concat());
            assert!(e.contains(msg), "{extra:?}: {e}");
        }
        let e = err(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "5",
            "--moniker",
            "",
            "--consensus-key",
            &pk,
        ]);
        assert!(e.contains("moniker must not be empty"), "{e}");
        let e = err(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "0",
            "--moniker",
            "m",
            "--consensus-key",
            &pk,
        ]);
        assert!(e.contains("greater than zero"), "{e}");
        let e = err(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "5",
            "--moniker",
            "m",
            "--consensus-key",
            "abcd",
        ]);
        assert!(e.contains("invalid consensus key"), "{e}");

        let e = err(&["stake", "edit-validator", "--from", "k"]);
        assert!(e.contains("required arguments were not provided") && e.contains("--commission-rate"), "{e}");
        let cli = parse(&["stake", "edit-validator", "--from", "k", "--details", ""]).unwrap();
        let Command::Stake(StakeCommand::EditValidator(e)) = cli.command else { panic!("other command") };
        assert_eq!(e.metadata.details.as_deref(), Some(""), "an empty value clears a field");
        let cli = parse(&["stake", "edit-validator", "--from", "k", "--commission-rate", "5%"]).unwrap();
        let Command::Stake(StakeCommand::EditValidator(e)) = cli.command else { panic!("other command") };
        assert_eq!(e.commission_rate.map(Rate::ppm), Some(50_000));

        let cli = parse(&["stake", "redelegate", &a, &b, "10", "--from", "k", "--gas", "90000"]).unwrap();
        let Command::Stake(StakeCommand::Redelegate { src, dst, amount, tx }) = cli.command else { panic!() };
        assert_eq!(
            (src, dst, amount, tx.flags.gas),
            (a.clone(), b.clone(), Amount::new(10), GasSetting::Limit(90_000))
        );
        assert!(err(&["stake", "delegate", &a, "0", "--from", "k"]).contains("greater than zero"));
        assert!(err(&["stake", "delegate", &a, "-3", "--from", "k"]).contains("negative"));
        assert!(err(&["stake", "delegate", &a, "3"]).contains("--from"));
        let cli = parse(&["stake", "withdraw-rewards", "--from", "k"]).unwrap();
        assert!(matches!(cli.command, Command::Stake(StakeCommand::WithdrawRewards { validator: None, .. })));
        assert!(parse(&["stake", "unjail", "--from", "k"]).is_ok());

        let cli = parse(&["validators", "--status", "jailed"]).unwrap();
        assert!(matches!(cli.command, Command::Validators { status: ValidatorStatusFilter::Jailed }));
        let cli = parse(&["validators"]).unwrap();
        assert!(matches!(cli.command, Command::Validators { status: ValidatorStatusFilter::All }));
        assert!(parse(&["validators", "--status", "active"]).is_err());
        assert!(matches!(parse(&["delegations"]).unwrap().command, Command::Delegations { delegator: None }));
        assert!(matches!(parse(&["validator", "mykey"]).unwrap().command, Command::Validator { .. }));
    }
}
