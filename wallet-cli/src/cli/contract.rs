//! `agora contract …`: the contract subcommands' arguments.

use std::path::PathBuf;

use clap::Subcommand;
use ledger::{Address, Amount, Hash};

use super::TxArgs;
use crate::parse::{StorageKey, address_arg, amount_arg, hash_arg, storage_key_arg};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::parse::GasSetting;
    use clap::Parser;

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
}
