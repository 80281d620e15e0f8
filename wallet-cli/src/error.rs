//! The wallet's one error enum.
//!
//! Every message is written for the person at the terminal: it says what went
//! wrong and, where there is one, what to do about it. `main` prints the error on
//! stderr and exits with [`WalletError::exit_code`].

use std::path::PathBuf;

/// Errors of the wallet library.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("{context}: {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "invalid key name `{0}`: use 1 to 64 characters among letters, digits, `.`, `_` and `-`, starting with a letter or digit"
    )]
    InvalidKeyName(String),

    #[error("no key named `{name}` in the keyring {dir} (see `agora keys list`)")]
    KeyNotFound { name: String, dir: PathBuf },

    #[error("a key named `{name}` already exists ({path}); choose another name")]
    KeyExists { name: String, path: PathBuf },

    #[error("wrong password or corrupted keystore")]
    WrongPassword,

    #[error("keystore {path}: {reason}")]
    Keystore { path: PathBuf, reason: String },

    #[error("invalid mnemonic: {0}")]
    Mnemonic(String),

    #[error("key derivation: {0}")]
    Derivation(String),

    #[error("{0}")]
    Password(String),

    #[error("invalid amount: {0}")]
    Amount(String),

    #[error("{0}")]
    InvalidArgument(String),

    /// Arguments that are each well-formed but do not fit together (e.g. a
    /// commission rate above the maximum rate): a usage error, exit code 2.
    #[error("{0}")]
    Usage(String),

    #[error("cannot reach node at {url}: {reason}")]
    NodeUnreachable { url: String, reason: String },

    #[error("the server at {url} answered HTTP {status}; is this the JSON-RPC address of an Agora node?")]
    NodeHttpStatus { url: String, status: u16 },

    #[error("node at {url} did not answer within {secs}s")]
    NodeTimeout { url: String, secs: u64 },

    #[error("{context} ({code}): {message}{}", data.as_ref().map(|d| format!(" [data: {d}]")).unwrap_or_default())]
    Rpc { context: &'static str, code: i32, message: String, data: Option<String> },

    #[error("unexpected answer from node to {method}: {reason}")]
    BadResponse { method: &'static str, reason: String },

    #[error("{0} not found")]
    NotFound(String),

    #[error(
        "transaction {hash} was not committed within {secs}s; it may still commit later (check with `agora tx {hash}`)"
    )]
    CommitTimeout { hash: String, secs: u64 },

    #[error("the dry run of this {what} failed: {reason}; nothing was sent")]
    DryRunFailed { what: &'static str, reason: String },

    #[error("transaction {hash} was included at height {height} but failed: {reason}")]
    TxFailed { hash: String, height: u64, reason: String },

    #[error("cannot write output: {0}")]
    Output(String),
}

impl WalletError {
    /// Process exit code for this error: 3 when a transaction was committed but
    /// failed (it paid its fee), 2 for usage errors ([`WalletError::Usage`];
    /// those found by the argument parser exit with 2 as well), 1 for
    /// everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            WalletError::TxFailed { .. } => 3,
            WalletError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> WalletError {
        WalletError::Io { context, path: path.into(), source }
    }
}

/// The wallet's result type.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
