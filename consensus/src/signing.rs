//! Canonical sign-bytes and the one verification rule.
//!
//! sign-bytes = domain tag ‖ borsh(chain id) ‖ borsh(message). The tags of
//! proposals and votes differ, so one can never be passed off as the other;
//! the chain id stops cross-chain replay. The node's signer must sign exactly
//! these bytes, which is why the functions are public.
//!
//! Verification is `VerifyingKey::verify_strict` everywhere (messages,
//! certificates, evidence): it rejects weak keys, small-order R and
//! non-canonical s. There is deliberately no batch verification:
//! ed25519-dalek's `verify_batch` accepts signatures `verify_strict` rejects,
//! and two rules would let honest nodes disagree on what is valid.

use borsh::BorshSerialize;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::error::Error;
use crate::messages::{Proposal, SignedProposal, SignedVote, Vote};
use crate::types::{ChainId, Signature, ValidatorId};

/// Domain tag of proposal sign-bytes.
pub const PROPOSAL_DOMAIN: &[u8] = b"agora/consensus/proposal/v1";
/// Domain tag of vote sign-bytes.
pub const VOTE_DOMAIN: &[u8] = b"agora/consensus/vote/v1";

fn sign_bytes<T: BorshSerialize>(domain: &[u8], chain_id: &ChainId, msg: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(domain.len() + 4 + chain_id.as_str().len() + 96);
    out.extend_from_slice(domain);
    // Writing into a Vec cannot fail; the match documents it without unwrap.
    match chain_id.serialize(&mut out).and_then(|()| msg.serialize(&mut out)) {
        Ok(()) => out,
        Err(e) => unreachable!("borsh into a Vec cannot fail: {e}"),
    }
}

/// The exact bytes a proposer signs for `proposal` on `chain_id`.
pub fn proposal_sign_bytes(chain_id: &ChainId, proposal: &Proposal) -> Vec<u8> {
    sign_bytes(PROPOSAL_DOMAIN, chain_id, proposal)
}

/// The exact bytes a validator signs for `vote` on `chain_id`.
pub fn vote_sign_bytes(chain_id: &ChainId, vote: &Vote) -> Vec<u8> {
    sign_bytes(VOTE_DOMAIN, chain_id, vote)
}

/// The one verification rule: strict ed25519.
pub fn verify_strict(key: &VerifyingKey, msg: &[u8], signature: &Signature) -> bool {
    let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
    key.verify_strict(msg, &sig).is_ok()
}

/// Parses a validator id as a verifying key, refusing weak keys.
pub fn verifying_key(id: &ValidatorId) -> Result<VerifyingKey, Error> {
    match VerifyingKey::from_bytes(&id.0) {
        Ok(k) if !k.is_weak() => Ok(k),
        _ => Err(Error::InvalidPublicKey(*id)),
    }
}

impl SignedProposal {
    /// Checks the proposer's signature with `key` (which must be the key of
    /// `proposal.proposer`).
    pub fn verify(&self, chain_id: &ChainId, key: &VerifyingKey) -> Result<(), Error> {
        if verify_strict(key, &proposal_sign_bytes(chain_id, &self.proposal), &self.signature) {
            Ok(())
        } else {
            Err(Error::InvalidSignature(self.proposal.proposer))
        }
    }
}

impl SignedVote {
    /// Checks the voter's signature with `key` (which must be the key of
    /// `vote.validator`).
    pub fn verify(&self, chain_id: &ChainId, key: &VerifyingKey) -> Result<(), Error> {
        if verify_strict(key, &vote_sign_bytes(chain_id, &self.vote), &self.signature) {
            Ok(())
        } else {
            Err(Error::InvalidSignature(self.vote.validator))
        }
    }
}

/// Signs a proposal WITHOUT the double-sign guard. For tests, tools and the
/// simulator's byzantine nodes; a validator must use [`crate::Signer`].
pub fn sign_proposal_unguarded(key: &SigningKey, chain_id: &ChainId, proposal: Proposal) -> SignedProposal {
    let sig = key.sign(&proposal_sign_bytes(chain_id, &proposal));
    SignedProposal { proposal, signature: Signature(sig.to_bytes()) }
}

/// Signs a vote WITHOUT the double-sign guard. For tests, tools and the
/// simulator's byzantine nodes; a validator must use [`crate::Signer`].
pub fn sign_vote_unguarded(key: &SigningKey, chain_id: &ChainId, vote: Vote) -> SignedVote {
    let sig = key.sign(&vote_sign_bytes(chain_id, &vote));
    SignedVote { vote, signature: Signature(sig.to_bytes()) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::types::{Height, Round, ValueId};

    #[test]
    fn sign_bytes_separate_domains_and_chains() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let me = ValidatorId(key.verifying_key().to_bytes());
        let a = ChainId::new("agora-1").unwrap();
        let b = ChainId::new("agora-2").unwrap();
        let vote = Vote::prevote(Height(1), Round(0), Some(ValueId([1; 32])), me);
        assert_ne!(vote_sign_bytes(&a, &vote), vote_sign_bytes(&b, &vote));
        let sv = sign_vote_unguarded(&key, &a, vote.clone());
        assert!(sv.verify(&a, &key.verifying_key()).is_ok());
        assert_eq!(sv.verify(&b, &key.verifying_key()), Err(Error::InvalidSignature(me)));
        // Tampering with the content breaks the signature.
        let mut bad = sv.clone();
        bad.vote.round = Round(1);
        assert!(bad.verify(&a, &key.verifying_key()).is_err());
        // The same vote as a precommit has different sign-bytes.
        let pc = Vote::precommit(Height(1), Round(0), Some(ValueId([1; 32])), me);
        assert_ne!(vote_sign_bytes(&a, &vote), vote_sign_bytes(&a, &pc));
    }

    #[test]
    fn weak_keys_rejected() {
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert!(verifying_key(&ValidatorId(weak)).is_err());
    }
}
