//! The ledger's one error enum, and the reasons a transaction is refused.

use crate::types::Amount;

/// Why a transaction can never be part of a block in the current state.
///
/// These are *invalid* transactions: a block containing one is itself invalid.
/// A transaction that is valid but fails while executing (for example a transfer
/// of more than the sender holds after fees) is not an error: it is included,
/// pays its fee, bumps its nonce and gets a failed receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTx {
    #[error("transaction is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed transaction bytes: {0}")]
    Malformed(String),
    #[error("bad signature")]
    BadSignature,
    #[error("wrong chain id: transaction is for `{got}`, this chain is `{expected}`")]
    WrongChainId { expected: String, got: String },
    #[error("nonce {got} already used: the sender's next nonce is {expected}")]
    NonceTooLow { expected: u64, got: u64 },
    #[error("nonce {got} is ahead of the sender's next nonce {expected}")]
    NonceGap { expected: u64, got: u64 },
    #[error("gas price {got} is below the minimum {min}")]
    GasPriceTooLow { min: Amount, got: Amount },
    #[error("gas limit {got} is below the {needed} gas this transaction needs before execution")]
    GasLimitTooLow { needed: u64, got: u64 },
    #[error("gas limit {got} is above the per-transaction maximum {max}")]
    GasLimitTooHigh { max: u64, got: u64 },
    #[error("fee overflow: gas limit × gas price does not fit in an amount")]
    FeeOverflow,
    #[error("cannot pay fee: balance {balance}, maximum fee {fee}")]
    CannotPayFee { balance: Amount, fee: Amount },
    #[error("transfer amount must be positive")]
    ZeroAmount,
    #[error("block gas limit reached")]
    BlockGasExhausted,
    #[error("contract transaction: {0}")]
    Contract(String),
}

/// A **node fault**: the node itself failed (storage, corrupted state, a bug,
/// a genesis file it cannot use). Never the verdict on a transaction or a
/// block: input from users and peers is judged with [`InvalidTx`],
/// [`ApplyError::InvalidTx`] / [`ApplyError::Unexecutable`] or a failed
/// receipt, and nothing a user or peer sends may become a `LedgerError`.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("storage: {0}")]
    Storage(String),
    #[error("state corrupted: {0}")]
    Corrupt(String),
    #[error("encoding: {0}")]
    Encoding(String),
    #[error("merkle proof: {0}")]
    Proof(String),
    #[error("contract VM: {0}")]
    Vm(String),
}

impl From<anyhow::Error> for LedgerError {
    /// jmt reports storage failures as `anyhow::Error`; keep the text.
    fn from(e: anyhow::Error) -> Self {
        LedgerError::Storage(format!("{e:#}"))
    }
}

/// A malformed address, amount, rate or hex string from a user (CLI, RPC,
/// genesis file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid address: {0}")]
    Address(String),
    #[error("invalid amount: {0}")]
    Amount(String),
    #[error("invalid hex: {0}")]
    Hex(String),
}

/// Why a block's transactions could not be applied. The first two variants
/// are verdicts on the block (the proposer's problem: vote nil, keep
/// running); only [`ApplyError::Fault`] is this node's problem.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A transaction that can never be part of a block in this state.
    #[error("invalid transaction at index {index}: {reason}")]
    InvalidTx { index: usize, reason: InvalidTx },
    /// A transaction this node could not finish within its local resource
    /// bounds (the wall-clock guard, the instance pool). Not a consensus
    /// outcome: the node neither commits a result nor stops; it votes nil and
    /// a proposer drops the transaction.
    #[error("transaction at index {index} cannot be executed on this node: {reason}")]
    Unexecutable { index: usize, reason: String },
    #[error(transparent)]
    Fault(#[from] LedgerError),
}
