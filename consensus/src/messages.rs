//! The consensus messages of Algorithm 1 and their signed envelopes. These
//! are plain data with borsh encodings (the wire and WAL format); signing and
//! verification live in `signing`.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::types::{Height, Round, Signature, Step, ValidatorId, ValueId, VoteType};

/// ⟨PROPOSAL, h, r, v, vr⟩: the proposer of round `round` proposes
/// `value_id`; `pol_round` is the paper's `validRound` (`None` = −1), the
/// round of the proof-of-lock that justifies a re-proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed value (block hash).
    pub value_id: ValueId,
    /// POL round (`vr` in the paper), `None` for a fresh value.
    pub pol_round: Option<Round>,
    /// Who proposes (must be the round's proposer).
    pub proposer: ValidatorId,
}

/// ⟨PREVOTE|PRECOMMIT, h, r, id(v) | nil⟩ by `validator`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The value voted for, `None` for nil.
    pub value_id: Option<ValueId>,
    /// The voter.
    pub validator: ValidatorId,
}

impl Vote {
    /// A prevote.
    pub fn prevote(height: Height, round: Round, value_id: Option<ValueId>, validator: ValidatorId) -> Vote {
        Vote { vote_type: VoteType::Prevote, height, round, value_id, validator }
    }

    /// A precommit.
    pub fn precommit(height: Height, round: Round, value_id: Option<ValueId>, validator: ValidatorId) -> Vote {
        Vote { vote_type: VoteType::Precommit, height, round, value_id, validator }
    }

    /// The step this vote belongs to (for the double-sign guard).
    pub fn step(&self) -> Step {
        self.vote_type.into()
    }
}

/// A proposal with the proposer's signature over
/// [`crate::signing::proposal_sign_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// Signature by `proposal.proposer`.
    pub signature: Signature,
}

/// A vote with the voter's signature over [`crate::signing::vote_sign_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// Signature by `vote.validator`.
    pub signature: Signature,
}

/// Either signed message: what is broadcast, buffered and written to the WAL.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SignedMessage {
    /// A signed proposal.
    Proposal(SignedProposal),
    /// A signed vote.
    Vote(SignedVote),
}

/// One record of a height's write-ahead log (see `Effect::WalAppend`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum WalEntry {
    /// A signed message: one of ours (appended before it is broadcast), or
    /// a prevote of the proof-of-lock of our lock.
    Message(SignedMessage),
    /// We entered this round of this height, so a restart resumes there even
    /// if we had not signed anything in it yet (the 2f+1 precommits or f+1
    /// messages that moved us there may never be sent again).
    Round(Height, Round),
}

impl WalEntry {
    /// The height the entry belongs to.
    pub fn height(&self) -> Height {
        match self {
            WalEntry::Message(m) => m.height(),
            WalEntry::Round(h, _) => *h,
        }
    }
}

impl SignedMessage {
    /// The message's height.
    pub fn height(&self) -> Height {
        match self {
            SignedMessage::Proposal(p) => p.proposal.height,
            SignedMessage::Vote(v) => v.vote.height,
        }
    }

    /// The message's round.
    pub fn round(&self) -> Round {
        match self {
            SignedMessage::Proposal(p) => p.proposal.round,
            SignedMessage::Vote(v) => v.vote.round,
        }
    }

    /// Who signed it.
    pub fn signer(&self) -> ValidatorId {
        match self {
            SignedMessage::Proposal(p) => p.proposal.proposer,
            SignedMessage::Vote(v) => v.vote.validator,
        }
    }
}
