//! `agora keys …`: the keyring subcommands' arguments.

use std::path::PathBuf;

use clap::Subcommand;

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
