//! The crate's single error type. `Consensus::handle` returns it when an
//! input is rejected (no effects; the message was not stored); constructors,
//! the signer and certificate/evidence verification return it too.

use crate::types::{Height, Round, Step, ValidatorId};

/// Everything that can go wrong in the consensus crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    // ---- construction -------------------------------------------------
    /// A validator set must have at least one member.
    #[error("validator set is empty")]
    EmptyValidatorSet,
    /// The same public key appears twice in a validator set.
    #[error("validator {0} appears twice")]
    DuplicateValidator(ValidatorId),
    /// Members must have positive power (removal is expressed by absence).
    #[error("validator {0} has zero voting power")]
    ZeroVotingPower(ValidatorId),
    /// The key is not a valid ed25519 point or is a weak (small-order) key.
    #[error("validator {0} has an invalid or weak public key")]
    InvalidPublicKey(ValidatorId),
    /// Total power above `MAX_TOTAL_VOTING_POWER` (i64::MAX / 8, as CometBFT).
    #[error("total voting power exceeds the maximum")]
    TotalVotingPowerOverflow,
    /// Proposer priorities were given for a different validator set.
    #[error("proposer priorities do not match the validator set")]
    PrioritiesMismatch,
    /// Chain ids are 1..=64 printable ASCII bytes.
    #[error("invalid chain id")]
    InvalidChainId,
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),

    // ---- received messages ----------------------------------------------
    /// No height has been started yet.
    #[error("no height started")]
    NotStarted,
    /// The signer is not a member of the validator set of that height.
    #[error("{0} is not in the validator set")]
    UnknownValidator(ValidatorId),
    /// Signature does not verify (strict ed25519) for the claimed signer.
    #[error("invalid signature from {0}")]
    InvalidSignature(ValidatorId),
    /// A proposal signed by someone other than the round's proposer.
    #[error("{signer} is not the proposer of round {round}")]
    NotProposer {
        /// Who signed it.
        signer: ValidatorId,
        /// The round it claims.
        round: Round,
    },
    /// A proposal's POL round must be lower than its round.
    #[error("proof-of-lock round {pol} is not below round {round}")]
    InvalidPolRound {
        /// The claimed POL round.
        pol: Round,
        /// The proposal's round.
        round: Round,
    },
    /// A message for a height already left behind (benign: late delivery).
    #[error("message for past height {got} (at {current})")]
    StaleHeight {
        /// The message's height.
        got: Height,
        /// The core's height.
        current: Height,
    },
    /// A message for a height beyond the next one: dropped.
    #[error("message for height {got} too far ahead (at {current})")]
    FutureHeight {
        /// The message's height.
        got: Height,
        /// The core's height.
        current: Height,
    },
    /// The current height is already decided; its messages are no longer needed.
    #[error("height {0} already decided")]
    AlreadyDecided(Height),
    /// A round beyond the buffering window: dropped (its round still counts
    /// towards the L55 round skip when the signature is valid).
    #[error("round {got} beyond the buffering window (at round {current})")]
    RoundTooFarAhead {
        /// The message's round.
        got: Round,
        /// The core's round.
        current: Round,
    },
    /// The bounded next-height buffer is full: dropped.
    #[error("next-height buffer full")]
    BufferFull,
    /// The signer already has `max_next_height_per_signer` messages in the
    /// next-height buffer: dropped. Benign like `BufferFull`: an honest
    /// validator a height ahead can exceed it only by racing far through
    /// rounds, and the buffer holds unverified messages, so the claimed
    /// signer may not even have sent it.
    #[error("next-height buffer quota of the signer full")]
    SignerQuotaFull,
    /// A message from the network signed with our own key. Ours enter only
    /// through the signer (and the WAL), so a copy relayed back adds
    /// nothing, and one we did not sign here means another process holds
    /// our key (a second instance, or a stolen key). Either way it is not
    /// stored: it must never fill the slot of the vote we are about to
    /// sign. Benign: the relay is not to blame.
    #[error("message signed with our own key arrived from the network")]
    OwnKeyFromNetwork,
    /// `StartHeight` must move forward.
    #[error("cannot start height {got}: at {current}")]
    HeightNotIncreasing {
        /// The requested height.
        got: Height,
        /// The current height.
        current: Height,
    },
    /// A message fed back as our own (signed or replayed) is not ours or not
    /// for the current height.
    #[error("not our own message for the current height")]
    NotOwnMessage,

    // ---- signer -------------------------------------------------------
    /// The double-sign guard refused: the request is at or below the last
    /// signed (height, round, step) and is not byte-identical to it.
    #[error("double-sign guard refused {height}/{round}/{step:?}")]
    DoubleSignRefused {
        /// Requested height.
        height: Height,
        /// Requested round.
        round: Round,
        /// Requested step.
        step: Step,
    },
    /// The signer was asked to sign a message naming another validator.
    #[error("message names another signer")]
    WrongSigner,

    // ---- certificates and evidence --------------------------------------
    /// The certificate is not for the expected height.
    #[error("certificate for height {got}, expected {expected}")]
    CertificateHeight {
        /// The certificate's height.
        got: Height,
        /// The expected height.
        expected: Height,
    },
    /// Signers must be strictly increasing by id (canonical, no duplicates).
    #[error("certificate signers are not strictly sorted")]
    CertificateNotCanonical,
    /// The valid signatures carry no more than 2/3 of the power.
    #[error("certificate has insufficient voting power")]
    InsufficientVotingPower,
    /// Evidence does not show two conflicting messages by one signer.
    #[error("evidence is not a valid equivocation")]
    InvalidEvidence,
}

impl Error {
    /// True for rejections that say nothing bad about the sender (late or
    /// early delivery, full buffers, duplicates of decided heights). The node
    /// may use the others to score peers.
    pub fn is_benign(&self) -> bool {
        matches!(
            self,
            Error::NotStarted
                | Error::StaleHeight { .. }
                | Error::FutureHeight { .. }
                | Error::AlreadyDecided(_)
                | Error::RoundTooFarAhead { .. }
                | Error::BufferFull
                | Error::SignerQuotaFull
                | Error::OwnKeyFromNetwork
        )
    }
}
