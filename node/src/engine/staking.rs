//! The engine's part in proof of stake: late precommits completing the
//! stored certificate (so the next block credits every signer).

use ledger::{CommitSig, Hash, Height, PublicKey, Signature};

use super::{Engine, EngineError, MessageAcceptance};

/// Late precommits kept while the decided block is being committed (at
/// most one per validator of the set).
pub(super) type PendingLate = std::collections::BTreeMap<consensus::ValidatorId, consensus::SignedVote>;

impl Engine {
    /// A precommit for the decided value that the decision did not need: for
    /// the block just committed, it is verified and added to the stored
    /// certificate, so the next block's `last_commit` credits every validator
    /// that signed in time (rewards and liveness follow it); while the
    /// decided block is still being committed, it is kept until the commit
    /// lands. `None`: not such a vote.
    pub(super) fn late_precommit(
        &mut self,
        v: &consensus::SignedVote,
    ) -> Result<Option<MessageAcceptance>, EngineError> {
        if v.vote.vote_type != consensus::VoteType::Precommit {
            return Ok(None);
        }
        let tip = self.chain.tip();
        let for_tip = v.vote.height.0 == tip.height.0 && tip.height.0 > 0;
        let decided = self
            .core
            .state()
            .and_then(|s| s.decision.filter(|_| s.height == v.vote.height && !for_tip))
            .map(|(_, value)| value);
        if !for_tip && decided.is_none() {
            return Ok(None);
        }
        if for_tip {
            // Cheap checks first: a duplicate costs no signature check.
            let Some(commit) = self.chain.store().seen_commit()? else { return Ok(None) };
            if commit.height != tip.height
                || commit.round != v.vote.round.0
                || v.vote.value_id.map(|x| x.0) != Some(commit.block_hash.0)
            {
                return Ok(None);
            }
            if commit.signatures.iter().any(|s| s.validator.0 == v.vote.validator.0) {
                return Ok(Some(MessageAcceptance::Ignore));
            }
        } else if v.vote.value_id != decided || self.pending_late.contains_key(&v.vote.validator) {
            return Ok(None);
        }
        let Ok(key) = self.verify_member(v.vote.height, &v.vote.validator) else {
            return Ok(Some(MessageAcceptance::Reject));
        };
        if v.verify(&self.chain_id, &key).is_err() {
            return Ok(Some(MessageAcceptance::Reject));
        }
        if !for_tip {
            self.pending_late.insert(v.vote.validator, v.clone());
            return Ok(Some(MessageAcceptance::Accept));
        }
        Ok(Some(if self.add_late(v)? { MessageAcceptance::Accept } else { MessageAcceptance::Ignore }))
    }

    /// Adds a verified precommit to the tip's stored certificate.
    pub(super) fn add_late(&self, v: &consensus::SignedVote) -> Result<bool, EngineError> {
        let Some(value) = v.vote.value_id else { return Ok(false) };
        let sig = CommitSig { validator: PublicKey(v.vote.validator.0), signature: Signature(v.signature.0) };
        Ok(self.chain.add_late_precommit(Height(v.vote.height.0), v.vote.round.0, Hash(value.0), sig)?)
    }
}
