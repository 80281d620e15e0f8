//! Equivocation evidence: two different messages signed by one validator for
//! the same (height, round, type). It carries both signed messages, so anyone
//! holding the validator set can re-check it with [`Evidence::verify`].

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::Error;
use crate::messages::{SignedProposal, SignedVote};
use crate::types::{ChainId, Height, Round, ValidatorId, VoteType};
use crate::validator_set::ValidatorSet;

/// Proof that a validator equivocated.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Evidence {
    /// Two different votes, same height/round/type/validator.
    DuplicateVote {
        /// The vote seen (and counted) first.
        first: SignedVote,
        /// The conflicting vote.
        second: SignedVote,
    },
    /// Two different proposals by the round's proposer.
    DuplicateProposal {
        /// The proposal seen first.
        first: SignedProposal,
        /// The conflicting proposal.
        second: SignedProposal,
    },
}

/// What an equivocation is reported once per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EvidenceKey {
    /// (validator, height, round, vote type).
    Vote(ValidatorId, Height, Round, VoteType),
    /// (proposer, height, round).
    Proposal(ValidatorId, Height, Round),
}

impl Evidence {
    /// The offender.
    pub fn offender(&self) -> ValidatorId {
        match self {
            Evidence::DuplicateVote { first, .. } => first.vote.validator,
            Evidence::DuplicateProposal { first, .. } => first.proposal.proposer,
        }
    }

    /// The (offender, height, round[, type]) this evidence is about.
    pub fn key(&self) -> EvidenceKey {
        match self {
            Evidence::DuplicateVote { first, .. } => {
                EvidenceKey::Vote(first.vote.validator, first.vote.height, first.vote.round, first.vote.vote_type)
            }
            Evidence::DuplicateProposal { first, .. } => {
                EvidenceKey::Proposal(first.proposal.proposer, first.proposal.height, first.proposal.round)
            }
        }
    }

    /// Pure check: same signer, same height/round/type, different content,
    /// both signatures valid for a member of `validators`.
    pub fn verify(&self, validators: &ValidatorSet, chain_id: &ChainId) -> Result<(), Error> {
        match self {
            Evidence::DuplicateVote { first, second } => {
                let (a, b) = (&first.vote, &second.vote);
                let same_slot = a.validator == b.validator
                    && a.height == b.height
                    && a.round == b.round
                    && a.vote_type == b.vote_type;
                if !same_slot || a.value_id == b.value_id {
                    return Err(Error::InvalidEvidence);
                }
                let idx = validators.index_of(&a.validator).ok_or(Error::UnknownValidator(a.validator))?;
                first.verify(chain_id, validators.key(idx))?;
                second.verify(chain_id, validators.key(idx))
            }
            Evidence::DuplicateProposal { first, second } => {
                let (a, b) = (&first.proposal, &second.proposal);
                let same_slot = a.proposer == b.proposer && a.height == b.height && a.round == b.round;
                if !same_slot || a == b {
                    return Err(Error::InvalidEvidence);
                }
                let idx = validators.index_of(&a.proposer).ok_or(Error::UnknownValidator(a.proposer))?;
                first.verify(chain_id, validators.key(idx))?;
                second.verify(chain_id, validators.key(idx))
            }
        }
    }
}
