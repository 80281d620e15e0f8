//! Commit certificates: the > 2/3-power set of precommits for one value in one
//! round that justified a decision (L49). `verify` is a pure function the node
//! also uses for block sync.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::Error;
use crate::messages::{SignedVote, Vote};
use crate::signing::{verify_strict, vote_sign_bytes};
use crate::types::{ChainId, Height, Round, Signature, ValidatorId, ValueId};
use crate::validator_set::ValidatorSet;

/// One precommit signature inside a certificate (the vote itself is implied:
/// PRECOMMIT for the certificate's height, round and value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CommitSignature {
    /// The signer.
    pub validator: ValidatorId,
    /// Its signature over the implied precommit's sign-bytes.
    pub signature: Signature,
}

/// Proof that `value_id` was decided at `height`: precommits for it in
/// `round` carrying more than 2/3 of the voting power, sorted by validator id.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CommitCertificate {
    /// Decided height.
    pub height: Height,
    /// Round of the precommits.
    pub round: Round,
    /// Decided value.
    pub value_id: ValueId,
    /// Signatures, strictly increasing by validator id.
    pub signatures: Vec<CommitSignature>,
}

impl CommitCertificate {
    /// Builds a certificate from precommits for one (height, round, value);
    /// sorts them canonically. The caller guarantees they match.
    pub(crate) fn from_precommits<'a>(
        height: Height,
        round: Round,
        value_id: ValueId,
        precommits: impl Iterator<Item = &'a SignedVote>,
    ) -> CommitCertificate {
        let mut signatures: Vec<CommitSignature> = precommits
            .map(|sv| {
                assert!(
                    sv.vote.height == height && sv.vote.round == round && sv.vote.value_id == Some(value_id),
                    "certificate built from mismatching precommits"
                );
                CommitSignature { validator: sv.vote.validator, signature: sv.signature }
            })
            .collect();
        signatures.sort_by_key(|s| s.validator);
        CommitCertificate { height, round, value_id, signatures }
    }

    /// The precommit a signature in this certificate is over.
    pub fn vote_of(&self, validator: ValidatorId) -> Vote {
        Vote::precommit(self.height, self.round, Some(self.value_id), validator)
    }

    /// Checks the certificate against the validator set of its height:
    /// canonical order (no duplicates), every signer a member, every
    /// signature valid (strict ed25519), and the signers' power > 2/3 of the
    /// total. Any bad signature rejects the whole certificate, so a valid
    /// certificate has exactly one encoding per signer set.
    pub fn verify(&self, validators: &ValidatorSet, chain_id: &ChainId) -> Result<(), Error> {
        let mut power: u64 = 0;
        for (i, cs) in self.signatures.iter().enumerate() {
            if i > 0 && self.signatures[i - 1].validator >= cs.validator {
                return Err(Error::CertificateNotCanonical);
            }
            let idx = validators.index_of(&cs.validator).ok_or(Error::UnknownValidator(cs.validator))?;
            let bytes = vote_sign_bytes(chain_id, &self.vote_of(cs.validator));
            if !verify_strict(validators.key(idx), &bytes, &cs.signature) {
                return Err(Error::InvalidSignature(cs.validator));
            }
            // Members' powers sum to at most the set total, no overflow.
            power += validators.validators()[idx].power.0;
        }
        if validators.is_quorum(power) { Ok(()) } else { Err(Error::InsufficientVotingPower) }
    }

    /// [`CommitCertificate::verify`] plus a check that it is for `height`.
    pub fn verify_for_height(
        &self,
        height: Height,
        validators: &ValidatorSet,
        chain_id: &ChainId,
    ) -> Result<(), Error> {
        if self.height != height {
            return Err(Error::CertificateHeight { got: self.height, expected: height });
        }
        self.verify(validators, chain_id)
    }
}
