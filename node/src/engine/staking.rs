//! The engine's part in proof of stake: late precommits completing the
//! stored certificate (so the next block credits every signer), and the
//! byzantine test mode.

use consensus::ValueId;
use ledger::{CommitSig, Hash, PublicKey, Signature};

use super::{ConsensusMsg, Engine, EngineError, MessageAcceptance};

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

    /// Byzantine test mode: from the configured height on, after each of our
    /// prevotes, sign a conflicting one (nil ↔ value) without the double-sign
    /// guard and send it too, so honest peers hold evidence against us. It
    /// goes on at every height (a node catching up after a restart may sign
    /// its first prevotes for heights the others have left, which proves
    /// nothing to them) until the node is out of the set.
    pub(super) fn maybe_double_sign(&mut self, signed: &consensus::SignedVote) {
        let Some((at, key)) = &self.byzantine else { return };
        if signed.vote.height.0 < *at || signed.vote.vote_type != consensus::VoteType::Prevote {
            return;
        }
        let mut other = signed.vote.clone();
        other.value_id = match other.value_id {
            Some(_) => None,
            None => Some(ValueId(Hash::digest(b"agora/byzantine-test-value").0)),
        };
        let sig = Signature::sign(key, &consensus::vote_sign_bytes(&self.chain_id, &other));
        let (height, round) = (other.height.0, other.round.0);
        let conflicting = consensus::SignedVote { vote: other, signature: consensus::Signature(sig.0) };
        tracing::warn!(height, round, "BYZANTINE TEST MODE: sending a conflicting prevote (double sign)");
        self.net.broadcast(&ConsensusMsg::Vote(conflicting));
    }
}
