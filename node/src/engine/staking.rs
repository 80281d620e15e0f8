//! The engine's part in proof of stake: late precommits completing the
//! stored certificate (so the next block credits every signer).

use ledger::{CommitSig, PublicKey, Signature};

use super::{Engine, EngineError, MessageAcceptance};

impl Engine {
    /// A precommit for the block just committed that is not in its stored
    /// certificate yet (it arrived after the decision): verified and added,
    /// so the next block's `last_commit` credits every validator that signed
    /// in time (rewards and liveness follow it). `None`: not such a vote.
    pub(super) fn late_precommit(
        &mut self,
        v: &consensus::SignedVote,
    ) -> Result<Option<MessageAcceptance>, EngineError> {
        let tip = self.chain.tip();
        if v.vote.vote_type != consensus::VoteType::Precommit || v.vote.height.0 != tip.height.0 || tip.height.0 == 0 {
            return Ok(None);
        }
        let Some(mut commit) = self.chain.store().seen_commit()? else { return Ok(None) };
        if commit.height != tip.height
            || commit.round != v.vote.round.0
            || v.vote.value_id.map(|x| x.0) != Some(commit.block_hash.0)
        {
            return Ok(None);
        }
        if commit.signatures.iter().any(|s| s.validator.0 == v.vote.validator.0) {
            return Ok(Some(MessageAcceptance::Ignore));
        }
        let Ok(key) = self.verify_member(consensus::Height(tip.height.0), &v.vote.validator) else {
            return Ok(Some(MessageAcceptance::Reject));
        };
        if v.verify(&self.chain_id, &key).is_err() {
            return Ok(Some(MessageAcceptance::Reject));
        }
        commit
            .signatures
            .push(CommitSig { validator: PublicKey(v.vote.validator.0), signature: Signature(v.signature.0) });
        commit.signatures.sort_by_key(|s| s.validator.0);
        self.chain.store().set_seen_commit(&commit)?;
        Ok(Some(MessageAcceptance::Accept))
    }
}
