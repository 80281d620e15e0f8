//! The wallet's one error enum, its exit codes and its JSON form.
//!
//! Every message is written for the person at the terminal: it says what went
//! wrong and, where there is one, what to do about it. `main` prints the error on
//! stderr (or, under `-o json`, as `{"error": {…}}` on stdout, see
//! [`WalletError::to_json`]) and exits with [`WalletError::exit_code`]:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; a transaction was committed and succeeded, or (`--no-wait`) the mempool accepted it |
//! | 1 | a transaction was committed but failed (it paid its fee), or any other error |
//! | 2 | usage error (bad flags or arguments) |
//! | 3 | not committed yet: no commit within `--timeout` (it may still commit) |
//! | 4 | refused: the node rejected the transaction (mempool or validation), the node is on another chain than the pinned chain id, or the fee is above the wallet's cap (`--max-fee`); nothing was committed |

use std::path::PathBuf;

use serde_json::{Value, json};

/// Exit code of success.
pub const EXIT_OK: u8 = 0;
/// Exit code of a committed but failed transaction, and of any other error.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of usage errors (also clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of "not committed yet" (the wait timed out).
pub const EXIT_PENDING: u8 = 3;
/// Exit code of a transaction refused by the node, or a chain id mismatch.
pub const EXIT_REFUSED: u8 = 4;

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

    /// `result` is the command's `-o json` document (with the receipt), which
    /// then goes out as the error's `data` instead of a second document.
    #[error("transaction {hash} was included at height {height} but failed: {reason}")]
    TxFailed { hash: String, height: u64, reason: String, result: Option<Box<Value>> },

    /// The node refused the transaction (admission or validation): nothing was
    /// committed.
    #[error("{context} ({code}): {message}{}", data.as_ref().map(|d| format!(" [data: {d}]")).unwrap_or_default())]
    Refused { context: &'static str, code: i32, message: String, data: Option<String> },

    #[error(
        "the node at {node} is on chain `{node_chain}`, but the wallet is pinned to chain `{pinned}` ({pinned_by}); nothing was signed or sent"
    )]
    WrongChain { node: String, node_chain: String, pinned: String, pinned_by: &'static str },

    /// The maximum fee is above the wallet's cap (`--max-fee`, …): nothing
    /// was signed.
    #[error(
        "refusing to sign: the transaction could pay up to {fee} in fees (gas limit {gas_limit} × gas price {gas_price}; the node's min_gas_price is {min_gas_price}), above the maximum fee {cap} ({cap_source}); nothing was signed or sent. If you trust the node and this fee, raise the cap with --max-fee, AGORA_MAX_FEE or `agora config max-fee AMOUNT`, or fix the fee with --fees"
    )]
    FeeAboveCap {
        fee: String,
        gas_limit: u64,
        gas_price: ledger::Amount,
        min_gas_price: ledger::Amount,
        cap: ledger::Amount,
        cap_source: String,
    },

    #[error("client config {path}: {reason}")]
    Config { path: PathBuf, reason: String },

    #[error("cannot write output: {0}")]
    Output(String),
}

impl WalletError {
    /// Process exit code for this error (table in the module documentation):
    /// 3 for a commit wait that timed out, 4 for a transaction the node refused
    /// or a chain id mismatch, 2 for usage errors ([`WalletError::Usage`]; those
    /// found by the argument parser exit with 2 as well), 1 for everything else
    /// (a committed but failed transaction included).
    pub fn exit_code(&self) -> u8 {
        match self {
            WalletError::CommitTimeout { .. } => EXIT_PENDING,
            WalletError::Refused { .. } | WalletError::WrongChain { .. } | WalletError::FeeAboveCap { .. } => {
                EXIT_REFUSED
            }
            WalletError::Usage(_) => EXIT_USAGE,
            _ => EXIT_FAILED,
        }
    }

    /// A stable name of the kind of error, for scripts (`error.kind` in JSON).
    pub fn kind(&self) -> &'static str {
        match self {
            WalletError::Io { .. } | WalletError::Output(_) => "io",
            WalletError::InvalidKeyName(_) | WalletError::InvalidArgument(_) | WalletError::Amount(_) => {
                "invalid_argument"
            }
            WalletError::Usage(_) => "usage",
            WalletError::KeyNotFound { .. } => "key_not_found",
            WalletError::KeyExists { .. } => "key_exists",
            WalletError::WrongPassword | WalletError::Password(_) => "password",
            WalletError::Keystore { .. } | WalletError::Mnemonic(_) | WalletError::Derivation(_) => "keystore",
            WalletError::NodeUnreachable { .. }
            | WalletError::NodeHttpStatus { .. }
            | WalletError::NodeTimeout { .. } => "node_unreachable",
            WalletError::Rpc { .. } => "rpc",
            WalletError::BadResponse { .. } => "bad_response",
            WalletError::NotFound(_) => "not_found",
            WalletError::CommitTimeout { .. } => "not_committed",
            WalletError::DryRunFailed { .. } => "dry_run_failed",
            WalletError::TxFailed { .. } => "tx_failed",
            WalletError::Refused { .. } => "refused",
            WalletError::WrongChain { .. } => "wrong_chain",
            WalletError::FeeAboveCap { .. } => "fee_above_cap",
            WalletError::Config { .. } => "config",
        }
    }

    /// The `-o json` form: `{"error": {"code", "kind", "message", "data"}}`,
    /// where `code` is the exit code and `data` carries what a script needs
    /// (the node's error code and data, the transaction hash, the result of a
    /// committed but failed transaction), or null.
    pub fn to_json(&self) -> Value {
        let parse = |d: &Option<String>| d.as_deref().map(|d| serde_json::from_str(d).unwrap_or_else(|_| json!(d)));
        let data = match self {
            WalletError::Rpc { code, data, .. } | WalletError::Refused { code, data, .. } => {
                json!({ "rpc_code": code, "rpc_data": parse(data) })
            }
            WalletError::CommitTimeout { hash, secs } => json!({ "hash": hash, "timeout_secs": secs }),
            WalletError::TxFailed { hash, height, reason, result } => match result {
                Some(r) => (**r).clone(),
                None => json!({ "hash": hash, "height": height, "reason": reason }),
            },
            WalletError::WrongChain { node_chain, pinned, pinned_by, .. } => {
                json!({ "node_chain_id": node_chain, "pinned_chain_id": pinned, "pinned_by": pinned_by })
            }
            WalletError::DryRunFailed { reason, .. } => json!({ "reason": reason }),
            WalletError::FeeAboveCap { fee, gas_limit, gas_price, min_gas_price, cap, cap_source } => json!({
                "fee": fee, "gas_limit": gas_limit, "gas_price": gas_price, "min_gas_price": min_gas_price,
                "max_fee": cap, "max_fee_source": cap_source
            }),
            _ => Value::Null,
        };
        json!({ "error": { "code": self.exit_code(), "kind": self.kind(), "message": self.to_string(), "data": data } })
    }

    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> WalletError {
        WalletError::Io { context, path: path.into(), source }
    }
}

/// The wallet's result type.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
