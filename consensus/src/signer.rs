//! The reference signer with its double-sign guard, shared by the node and
//! the simulator.
//!
//! It is pure: it holds the key and the last signed (height, round, step);
//! persisting that state is the caller's job. The API makes the order
//! explicit: `sign_*` returns a [`PendingSignature`] whose new guard state
//! must be written durably *before* `release()` hands out the signed message.
//! So after any crash, the persisted guard state is at or beyond everything
//! that ever left the process.
//!
//! Rule (as CometBFT's privval): a request is refused if its
//! (height, round, step) is below the last signed one, or equal to it with
//! different sign-bytes. An identical request is re-signed (ed25519 is
//! deterministic, so the signature is the same).
//!
//! The persisted state also holds the last signed message itself. A crash
//! between persisting the guard and appending to the WAL would otherwise
//! lose a message the guard will never let us replace; with it,
//! [`SignerState::recover_wal`] puts it back into the height's WAL, the core
//! resumes from it, and a restarted node never has to be refused.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::messages::{Proposal, SignedMessage, SignedProposal, SignedVote, Vote, WalEntry};
use crate::signing::{proposal_sign_bytes, sign_proposal_unguarded, sign_vote_unguarded, vote_sign_bytes};
use crate::types::{ChainId, Height, Round, Step, ValidatorId};

/// The last thing signed: what the guard must persist.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LastSigned {
    /// Height of the last signature.
    pub height: Height,
    /// Round of the last signature.
    pub round: Round,
    /// Step of the last signature (proposal = `Propose`).
    pub step: Step,
    /// SHA-256 of its sign-bytes, to recognise an identical re-request.
    pub sign_bytes_hash: [u8; 32],
    /// The signed message itself.
    pub message: SignedMessage,
}

/// The guard's persistent state (borsh-encode it to disk).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignerState {
    /// `None` until the first signature.
    pub last: Option<LastSigned>,
}

impl SignerState {
    /// The WAL to pass to `StartHeight` after a restart: `wal` (this
    /// height's entries) plus the last signed message if it is for `height`
    /// and the crash came before it reached the WAL. The node must make the
    /// result its WAL (append the recovered entry durably) before starting:
    /// the guard will forget the message at the next signature, and a later
    /// restart still needs it.
    pub fn recover_wal(&self, height: Height, mut wal: Vec<WalEntry>) -> Vec<WalEntry> {
        if let Some(last) = &self.last
            && last.height == height
        {
            let entry = WalEntry::Message(last.message.clone());
            if !wal.contains(&entry) {
                wal.push(entry);
            }
        }
        wal
    }
}

/// A signature that exists but must not be used before `state()` has been
/// persisted.
#[must_use = "persist state() and then release() the signed message"]
#[derive(Debug)]
pub struct PendingSignature<T> {
    signed: T,
    state: SignerState,
}

impl<T> PendingSignature<T> {
    /// The guard state to persist before releasing.
    pub fn state(&self) -> &SignerState {
        &self.state
    }

    /// The signed message; call only after `state()` is durable.
    pub fn release(self) -> T {
        self.signed
    }
}

/// Holds a validator key and the double-sign guard.
pub struct Signer {
    key: SigningKey,
    id: ValidatorId,
    chain_id: ChainId,
    state: SignerState,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret key.
        f.debug_struct("Signer")
            .field("id", &self.id)
            .field("chain_id", &self.chain_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer resuming from `state` (use `SignerState::default()` for a
    /// brand-new key).
    pub fn new(key: SigningKey, chain_id: ChainId, state: SignerState) -> Signer {
        let id = ValidatorId(key.verifying_key().to_bytes());
        Signer { key, id, chain_id, state }
    }

    /// The validator id of the key.
    pub fn id(&self) -> ValidatorId {
        self.id
    }

    /// The current (in-memory) guard state.
    pub fn state(&self) -> &SignerState {
        &self.state
    }

    /// Signs a proposal if the guard allows it.
    pub fn sign_proposal(&mut self, proposal: &Proposal) -> Result<PendingSignature<SignedProposal>, Error> {
        if proposal.proposer != self.id {
            return Err(Error::WrongSigner);
        }
        let bytes = proposal_sign_bytes(&self.chain_id, proposal);
        let hash = self.check(proposal.height, proposal.round, Step::Propose, &bytes)?;
        let signed = sign_proposal_unguarded(&self.key, &self.chain_id, proposal.clone());
        self.record(proposal.height, proposal.round, Step::Propose, hash, SignedMessage::Proposal(signed.clone()));
        Ok(PendingSignature { signed, state: self.state.clone() })
    }

    /// Signs a vote if the guard allows it.
    pub fn sign_vote(&mut self, vote: &Vote) -> Result<PendingSignature<SignedVote>, Error> {
        if vote.validator != self.id {
            return Err(Error::WrongSigner);
        }
        let bytes = vote_sign_bytes(&self.chain_id, vote);
        let hash = self.check(vote.height, vote.round, vote.step(), &bytes)?;
        let signed = sign_vote_unguarded(&self.key, &self.chain_id, vote.clone());
        self.record(vote.height, vote.round, vote.step(), hash, SignedMessage::Vote(signed.clone()));
        Ok(PendingSignature { signed, state: self.state.clone() })
    }

    /// The guard rule; returns the sign-bytes hash when signing is allowed.
    fn check(&self, height: Height, round: Round, step: Step, bytes: &[u8]) -> Result<[u8; 32], Error> {
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(last) = &self.state.last {
            let hrs = (height, round, step);
            let last_hrs = (last.height, last.round, last.step);
            let refused = hrs < last_hrs || (hrs == last_hrs && hash != last.sign_bytes_hash);
            if refused {
                return Err(Error::DoubleSignRefused { height, round, step });
            }
        }
        Ok(hash)
    }

    fn record(&mut self, height: Height, round: Round, step: Step, hash: [u8; 32], message: SignedMessage) {
        self.state.last = Some(LastSigned { height, round, step, sign_bytes_hash: hash, message });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::types::ValueId;

    fn signer() -> Signer {
        Signer::new(SigningKey::from_bytes(&[9; 32]), ChainId::new("test").unwrap(), SignerState::default())
    }

    #[test]
    fn guard_orders_height_round_step() {
        let mut s = signer();
        let me = s.id();
        let v = |r, t: fn(Height, Round, Option<ValueId>, ValidatorId) -> Vote, x: u8| {
            t(Height(5), Round(r), Some(ValueId([x; 32])), me)
        };
        let p =
            Proposal { height: Height(5), round: Round(1), value_id: ValueId([1; 32]), pol_round: None, proposer: me };
        let _ = s.sign_proposal(&p).unwrap().release();
        // Same proposal again: identical bytes are re-signed.
        let _ = s.sign_proposal(&p).unwrap().release();
        // A different proposal at the same (h, r, step) is refused.
        let p2 = Proposal { value_id: ValueId([2; 32]), ..p.clone() };
        assert!(matches!(s.sign_proposal(&p2), Err(Error::DoubleSignRefused { .. })));
        let _ = s.sign_vote(&v(1, Vote::prevote, 1)).unwrap().release();
        assert!(s.sign_vote(&v(1, Vote::prevote, 2)).is_err());
        let _ = s.sign_vote(&v(1, Vote::precommit, 1)).unwrap().release();
        // Going back to a prevote of the same round is refused.
        assert!(s.sign_vote(&v(1, Vote::prevote, 1)).is_err());
        // Lower round refused, higher allowed.
        assert!(s.sign_vote(&v(0, Vote::precommit, 1)).is_err());
        let pending = s.sign_vote(&v(2, Vote::prevote, 3)).unwrap();
        assert_eq!(pending.state().last.as_ref().unwrap().round, Round(2));
        let _ = pending.release();
    }

    #[test]
    fn restored_state_keeps_guarding() {
        let mut s = signer();
        let me = s.id();
        let vote = Vote::prevote(Height(3), Round(0), None, me);
        let persisted = s.sign_vote(&vote).unwrap().state().clone();
        let mut restarted = Signer::new(SigningKey::from_bytes(&[9; 32]), ChainId::new("test").unwrap(), persisted);
        let other = Vote::prevote(Height(3), Round(0), Some(ValueId([4; 32])), me);
        assert!(restarted.sign_vote(&other).is_err());
        assert!(restarted.sign_vote(&vote).is_ok());
    }

    #[test]
    fn recover_wal_adds_the_lost_last_message() {
        let mut s = signer();
        let me = s.id();
        let vote = Vote::prevote(Height(3), Round(1), None, me);
        let pending = s.sign_vote(&vote).unwrap();
        let persisted = pending.state().clone();
        let signed = pending.release(); // crash before the WAL append
        let wal = persisted.recover_wal(Height(3), vec![]);
        assert_eq!(wal, vec![WalEntry::Message(SignedMessage::Vote(signed.clone()))]);
        // Already in the WAL: not duplicated. Other height: not added.
        assert_eq!(persisted.recover_wal(Height(3), wal.clone()), wal);
        assert!(persisted.recover_wal(Height(4), vec![]).is_empty());
    }

    #[test]
    fn refuses_foreign_messages() {
        let mut s = signer();
        let vote = Vote::prevote(Height(1), Round(0), None, ValidatorId([0; 32]));
        assert_eq!(s.sign_vote(&vote).err(), Some(Error::WrongSigner));
    }
}
