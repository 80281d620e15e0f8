//! Agora's ledger: the chain's data types, their canonical encoding, the
//! authenticated account state and pure block execution.
//!
//! Everything here is deterministic and free of I/O: the node supplies a
//! [`state::StateStore`] and persists the [`state::StateDiff`] each block yields.
//! Canonical encoding is borsh (fixed-width integers, no maps, strict decoding),
//! used for everything hashed or signed; serde/JSON forms exist for RPC only.

pub mod admin;
pub mod block;
pub mod contract;
pub mod crypto;
pub mod error;
pub mod exec;
pub mod governance;
pub mod index;
pub mod math;
pub mod merkle;
pub mod params;
pub mod sigbatch;
pub mod staking;
pub mod state;
pub mod tx;
pub mod types;

pub use block::{
    Block, CertifiedBlock, Commit, CommitSig, CompactBlock, Event, Evidence, Header, MAX_FUTURE_DRIFT_MS, Receipt,
    TxStatus, check_block_time, proposal_time,
};
pub use contract::{ContractVm, NoContracts, contract_address};
pub use crypto::{PublicKey, Signature, SigningKey};
pub use error::{ApplyError, InvalidTx, LedgerError, ParseError};
pub use exec::{BlockEnv, BlockExecutor, BlockOutcome, ExecError, apply_block};
pub use params::{ChainParams, StakingParams};
pub use state::{Account, MemStore, StateDiff, StateStore};
pub use tx::{Payload, SignedTx, TxBody, UncheckedTx, VerifiedTx};
pub use types::{Address, Amount, Hash, Height, Rate};
