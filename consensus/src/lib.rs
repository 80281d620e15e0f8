//! Tendermint BFT consensus for Agora as a pure, deterministic state machine.
//!
//! The core implements Algorithm 1 of "The latest gossip on BFT consensus"
//! (Buchman, Kwon, Milosevic, arXiv 1807.04938) behind one entry point,
//! [`Consensus::handle`], which takes an [`Input`] and returns the
//! [`Effect`]s the node must carry out. It has no clock, no I/O, no
//! randomness, no threads and no hash-map iteration: the same inputs always
//! give the same effects, which is what makes the seeded simulator in
//! `tests/` reproducible.
//!
//! Layers (one file each):
//! - `types`, `messages`, `validator_set`: vocabulary, wire messages, sets.
//! - `signing`: canonical sign-bytes and the one verification rule
//!   (`verify_strict`); `signer`: the reference signer with its double-sign
//!   guard.
//! - `proposer`: CometBFT's weighted round-robin proposer selection.
//! - `vote_keeper`: votes per round/type, power tallies, equivocation.
//! - `state`: the paper's per-process variables; `rules`: the upon-rules;
//!   `driver`: one height (intake, own messages, timeouts, WAL replay).
//! - `consensus`: routing by height, next-height buffer, `StartHeight`.
//! - `evidence`, `certificate`: pure verifiable artefacts for the node.
//! - `timeouts`: logical timeouts and their durations.
//!
//! See `docs/consensus.md` for the design, the crash story and the
//! simulator.

#![forbid(unsafe_code)]

mod certificate;
mod consensus;
mod driver;
mod error;
mod evidence;
mod io;
mod messages;
mod proposer;
mod rules;
mod signer;
pub mod signing;
mod state;
mod timeouts;
mod types;
mod validator_set;
mod vote_keeper;

pub use certificate::{CommitCertificate, CommitSignature};
#[cfg(any(test, feature = "test-utils"))]
pub use consensus::BrokenRule;
pub use consensus::{Config, Consensus};
pub use error::Error;
pub use evidence::{Evidence, EvidenceKey};
pub use io::{Effect, Input, StartHeight};
pub use messages::{Proposal, SignedMessage, SignedProposal, SignedVote, Vote, WalEntry};
pub use proposer::{PriorityEntry, ProposerSelection};
pub use signer::{LastSigned, PendingSignature, Signer, SignerState};
pub use signing::{proposal_sign_bytes, vote_sign_bytes};
pub use state::ConsensusState;
pub use timeouts::{Timeout, TimeoutConfig, TimeoutKind};
pub use types::{ChainId, Height, Round, Signature, Step, ValidatorId, ValueId, VoteType, VotingPower};
pub use validator_set::{MAX_TOTAL_VOTING_POWER, Validator, ValidatorSet};

#[cfg(test)]
mod tests;
