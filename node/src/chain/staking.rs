//! The chain's view of proof of stake: validator sets per height, the
//! previous height's signers, and double-sign evidence (pool, inclusion,
//! verification). The staking rules themselves are the ledger's.

use std::sync::Arc;

use ledger::staking::{Misbehaviour, StakingView, VoteInfo};
use ledger::{Commit, Evidence, Height, PublicKey};

use super::{Chain, ChainError, Check, invalid};

impl Chain {
    /// The validator set of `height`: the genesis set for heights 1 and 2,
    /// then whatever block `h − 2` decided. Known up to the tip + 2.
    pub fn validators_at(&self, height: Height) -> Result<Arc<consensus::ValidatorSet>, ChainError> {
        if let Some(s) = self.valsets.lock().map_err(|_| ChainError::Poisoned)?.get(&height) {
            return Ok(s.clone());
        }
        let known = self.tip().height.0.saturating_add(2);
        if height.0 > known || height == Height::GENESIS {
            return Err(ChainError::Unavailable(format!(
                "the validator set of height {height} is not known yet (known up to {known})"
            )));
        }
        let (_, members) = self
            .store
            .validator_set_at(height)?
            .ok_or_else(|| ChainError::Bug(format!("no validator set stored for height {height}")))?;
        let set = Arc::new(consensus_set(&members)?);
        let mut cache = self.valsets.lock().map_err(|_| ChainError::Poisoned)?;
        cache.insert(height, set.clone());
        while cache.len() > 256 {
            cache.pop_first();
        }
        Ok(set)
    }

    /// The staking members (operators, keys, powers) of the set of `height`.
    pub fn set_members_at(&self, height: Height) -> Result<Vec<ledger::staking::SetMember>, ChainError> {
        self.validators_at(height)?;
        Ok(self.store.validator_set_at(height)?.map(|(_, m)| m).unwrap_or_default())
    }

    /// Records verified equivocation evidence (from the consensus core) for
    /// inclusion in a block this node proposes.
    pub fn add_evidence(&self, ev: consensus::Evidence) {
        if let Ok(mut pool) = self.evidence.lock() {
            pool.entry(ev.offender()).or_insert(ev);
        }
    }

    /// Who signed the previous height, as execution needs it: the set of
    /// `height − 1` with a flag per member for a signature in `last_commit`.
    pub(super) fn vote_infos(&self, height: Height, last_commit: Option<&Commit>) -> Result<Vec<VoteInfo>, ChainError> {
        let (Some(c), Some(prev)) = (last_commit, height.0.checked_sub(1).filter(|h| *h > 0)) else {
            return Ok(Vec::new());
        };
        let set = self.validators_at(Height(prev))?;
        let signed: std::collections::BTreeSet<[u8; 32]> = c.signatures.iter().map(|s| s.validator.0).collect();
        Ok(set
            .validators()
            .iter()
            .map(|v| VoteInfo {
                validator: PublicKey(v.public_key.0),
                power: v.power.0,
                signed: signed.contains(&v.public_key.0),
            })
            .collect())
    }

    /// Checks a block's evidence: decodes strictly, one item per offender,
    /// within the age limit, signed by a member of its height's set.
    pub(super) fn verify_evidence(&self, height: Height, evidence: &[Evidence]) -> Result<Vec<Misbehaviour>, Check> {
        let sp = &self.params().staking;
        if evidence.len() > sp.max_evidence_per_block as usize {
            return Err(invalid(format!(
                "{} evidence items, the limit is {}",
                evidence.len(),
                sp.max_evidence_per_block
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::with_capacity(evidence.len());
        for (i, e) in evidence.iter().enumerate() {
            let bad = |m: String| invalid(format!("evidence {i}: {m}"));
            let ev: consensus::Evidence = borsh::from_slice(&e.0).map_err(|x| bad(format!("malformed: {x}")))?;
            let (h, offender) = evidence_height(&ev);
            if h == Height::GENESIS || h >= height {
                return Err(bad(format!("height {h} is not below the block's height {height}")));
            }
            if height.0.saturating_sub(h.0) > sp.max_evidence_age_blocks {
                return Err(bad(format!("height {h} is older than max_evidence_age_blocks")));
            }
            if !seen.insert(offender) {
                return Err(bad("a second item for the same validator".into()));
            }
            let set = self.validators_at(h)?;
            ev.verify(&set, &self.consensus_chain_id).map_err(|x| bad(x.to_string()))?;
            let power = set.get(&offender).map(|v| v.power.0).unwrap_or(0);
            out.push(Misbehaviour { validator: PublicKey(offender.0), height: h, power });
        }
        Ok(out)
    }

    /// Pool evidence still worth including at `height` (verified, within the
    /// age limit, offender not tombstoned yet); stale items are dropped.
    pub(super) fn evidence_for_block(&self, height: Height) -> Result<(Vec<Evidence>, Vec<Misbehaviour>), ChainError> {
        let pool: Vec<consensus::Evidence> =
            self.evidence.lock().map_err(|_| ChainError::Poisoned)?.values().cloned().collect();
        let mut view = StakingView::new(self.store.clone(), &self.params());
        let (mut items, mut misbehaviour, mut stale) = (Vec::new(), Vec::new(), Vec::new());
        for ev in pool {
            if items.len() >= self.params().staking.max_evidence_per_block as usize {
                break;
            }
            let (_, offender) = evidence_height(&ev);
            let tombstoned = view.validator_by_key(&PublicKey(offender.0))?.is_none_or(|v| v.tombstoned);
            let item = Evidence(borsh::to_vec(&ev).map_err(|e| ChainError::Bug(e.to_string()))?);
            match (tombstoned, self.verify_evidence(height, std::slice::from_ref(&item))) {
                (_, Err(Check::Fault(e))) => return Err(e),
                (false, Ok(m)) => {
                    items.push(item);
                    misbehaviour.extend(m);
                }
                _ => stale.push(offender),
            }
        }
        if !stale.is_empty() {
            let mut pool = self.evidence.lock().map_err(|_| ChainError::Poisoned)?;
            for o in stale {
                pool.remove(&o);
            }
        }
        Ok((items, misbehaviour))
    }
}

/// The consensus view of a staking validator set.
pub fn consensus_set(members: &[ledger::staking::SetMember]) -> Result<consensus::ValidatorSet, ChainError> {
    consensus::ValidatorSet::new(
        members
            .iter()
            .map(|m| consensus::Validator {
                public_key: consensus::ValidatorId(m.consensus_key.0),
                power: consensus::VotingPower(m.power),
            })
            .collect(),
    )
    .map_err(|e| ChainError::Bug(format!("validator set: {e}")))
}

/// (height, offender) of a piece of evidence.
pub fn evidence_height(ev: &consensus::Evidence) -> (Height, consensus::ValidatorId) {
    match ev {
        consensus::Evidence::DuplicateVote { first, .. } => (Height(first.vote.height.0), first.vote.validator),
        consensus::Evidence::DuplicateProposal { first, .. } => {
            (Height(first.proposal.height.0), first.proposal.proposer)
        }
    }
}
