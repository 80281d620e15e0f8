//! The Agora wallet (`agora` command line) as a library: key derivation
//! (BIP39 + SLIP-0010 ed25519 on `m/44'/7777'/0'/0'/0'`), the encrypted keyring,
//! the node's JSON-RPC client and the subcommands. `src/main.rs` only parses
//! the command line, runs [`commands::execute`], which reports errors and returns the exit code.
//!
//! See `docs/wallet.md` for the user documentation.

pub mod cli;
pub mod commands;
pub mod config;
pub mod derive;
pub mod error;
pub mod keystore;
pub mod output;
pub mod parse;
pub mod rpc;
pub mod secrets;
pub mod send;

pub use error::{Result, WalletError};
