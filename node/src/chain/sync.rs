//! What the chain gives block sync and consensus start-up: decided blocks
//! with their certificates, and the proposer priorities of the next height.

use consensus::ProposerSelection;
use ledger::{Hash, Height};

use super::{Chain, ChainError};

impl Chain {
    /// Decided blocks `from..` with their commit certificates, for block sync:
    /// block h's certificate is block h+1's `last_commit`, and the tip's is the
    /// one this node decided with. Stops at `max` blocks or about 16 MiB.
    pub fn synced_blocks(&self, from: Height, max: u32) -> Result<Vec<ledger::CertifiedBlock>, ChainError> {
        const BUDGET: usize = 16 * 1024 * 1024;
        let tip = self.tip().height;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut h = from.max(Height(1));
        let mut next = if h <= tip { self.store.block(h)? } else { None };
        while let Some(block) = next.take() {
            if out.len() >= max as usize || (bytes > BUDGET && !out.is_empty()) {
                break;
            }
            let commit = if h < tip {
                let after = self.store.block(h.next())?;
                let c = after.as_ref().and_then(|b| b.last_commit.clone());
                next = after;
                c
            } else {
                // A block committed since `tip` was read replaces the seen
                // commit; the certificate then sits in the new block.
                match self.store.seen_commit()? {
                    Some(c) if c.height == h => Some(c),
                    _ => self.store.block(h.next())?.and_then(|b| b.last_commit),
                }
            };
            let Some(commit) = commit else { break };
            bytes += block.txs.iter().map(|t| t.encode().len()).sum::<usize>() + 1024;
            out.push(ledger::CertifiedBlock { block, commit });
            h = h.next();
        }
        Ok(out)
    }

    /// The proposer priorities of the height after the tip. They are stored
    /// with every block, so start-up reads them instead of replaying every
    /// height since genesis (start-up time does not grow with the chain).
    /// A data directory from before they were stored replays once.
    pub fn proposer_selection(&self) -> Result<ProposerSelection, ChainError> {
        let next = self.tip().height.next();
        let mut cached = self.proposers.lock().map_err(|_| ChainError::Poisoned)?;
        if let Some((h, s)) = &*cached
            && *h == next
        {
            return Ok(s.clone());
        }
        let (mut h, mut sel) = match self.store.proposer_priorities()? {
            Some((h, bytes)) if h <= next => {
                let sel = borsh::from_slice::<ProposerSelection>(&bytes)
                    .map_err(|e| ChainError::Bug(format!("stored proposer priorities: {e}")))?;
                (h, sel)
            }
            _ => (Height(1), ProposerSelection::genesis(&*self.validators_at(Height(1))?)),
        };
        if next.0 - h.0 > 1 {
            tracing::info!(from = %h, to = %next, "replaying proposer priorities (data directory from an older version)");
        }
        while h < next {
            h = h.next();
            sel = sel.next_height(&*self.validators_at(h)?);
        }
        *cached = Some((next, sel.clone()));
        Ok(sel)
    }

    /// The proposer priorities of `height`, which must be the height after
    /// the tip or the one after that (computed from the stored ones and that
    /// height's set). `Unavailable` if the tip moved meanwhile.
    pub fn proposer_selection_at(&self, height: Height) -> Result<ProposerSelection, ChainError> {
        let next = self.tip().height.next();
        let sel = self.proposer_selection()?;
        // The tip may have moved between the two reads: re-check it.
        let (tip_next, sel) = (self.tip().height.next(), sel);
        if tip_next != next {
            return Err(ChainError::Unavailable(format!("the tip moved while reading the priorities of {height}")));
        }
        if height == next {
            Ok(sel)
        } else if height == next.next() {
            Ok(sel.next_height(&*self.validators_at(height)?))
        } else {
            Err(ChainError::Unavailable(format!("proposer priorities of height {height} (next is {next})")))
        }
    }

    /// Adds a late precommit signature to the stored certificate of the tip
    /// (the next block's `last_commit`), under the same lock as `commit`, so
    /// a commit in between cannot be overwritten. Returns whether it was
    /// added (false: not for the tip's certificate, or already in it).
    pub fn add_late_precommit(
        &self,
        height: Height,
        round: u32,
        block_hash: ledger::Hash,
        sig: ledger::CommitSig,
    ) -> Result<bool, ChainError> {
        let _guard = self.commit_lock.lock().map_err(|_| ChainError::Poisoned)?;
        if self.tip().height != height {
            return Ok(false);
        }
        let Some(mut commit) = self.store.seen_commit()? else { return Ok(false) };
        if commit.height != height || commit.round != round || commit.block_hash != block_hash {
            return Ok(false);
        }
        if commit.signatures.iter().any(|s| s.validator == sig.validator) {
            return Ok(false);
        }
        commit.signatures.push(sig);
        commit.signatures.sort_by_key(|s| s.validator.0);
        self.store.set_seen_commit(&commit)?;
        Ok(true)
    }

    /// The priorities of the height after the tip, replayed from genesis
    /// through every height (how start-up worked before they were stored;
    /// the restart bench compares both).
    pub fn replay_proposer_selection(&self) -> Result<ProposerSelection, ChainError> {
        let mut sel = ProposerSelection::genesis(&*self.validators_at(Height(1))?);
        for h in 1..=self.tip().height.0 {
            sel = sel.next_height(&*self.validators_at(Height(h + 1))?);
        }
        Ok(sel)
    }
}

/// Transactions of the current height's proposals kept for peers (a dozen
/// full blocks).
pub const MAX_PROPOSAL_TXS: usize = 65_536;

impl Chain {
    /// The mempool's transactions with these hashes, one answer per hash
    /// (how a compact proposal is filled in); `None` once the ones found
    /// exceed `max_bytes` (no block that large is valid).
    pub fn mempool_lookup(&self, hashes: &[Hash], max_bytes: usize) -> Option<Vec<Option<ledger::SignedTx>>> {
        let pool = self.mempool.lock().ok()?;
        let mut bytes = 0usize;
        let mut out = Vec::with_capacity(hashes.len());
        for h in hashes {
            let t = pool.get(h);
            if let Some(t) = &t {
                bytes = bytes.saturating_add(t.encoded_len());
                if bytes > max_bytes {
                    return None;
                }
            }
            out.push(t.map(|t| t.tx().clone()));
        }
        Some(out)
    }

    /// What a peer filling a compact proposal asked for: the mempool's
    /// transactions with these hashes, in the order asked, those it lacks
    /// and repeated hashes left out, and no more than `max_bytes` of them
    /// (encoded); with their encoded size.
    pub fn mempool_txs(&self, hashes: &[Hash], max_bytes: usize) -> (Vec<ledger::SignedTx>, usize) {
        let (Ok(pool), Ok(proposed)) = (self.mempool.lock(), self.proposal_txs.lock()) else {
            return (Vec::new(), 0);
        };
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut seen = std::collections::HashSet::with_capacity(hashes.len());
        for h in hashes.iter().filter(|h| seen.insert(**h)) {
            // The mempool knows each size; a kept proposal's is measured.
            let Some((t, len)) = pool
                .get(h)
                .map(|t| (t.tx().clone(), t.encoded_len()))
                .or_else(|| proposed.1.get(h).map(|t| (t.clone(), t.encode().len())))
            else {
                continue;
            };
            if bytes.saturating_add(len) > max_bytes {
                break;
            }
            bytes += len;
            out.push(t);
        }
        (out, bytes)
    }

    /// Keeps the transactions of a block proposed at the height being
    /// decided (built here, or received whole or filled), so this node can
    /// give them to a peer filling the compact proposal even when they are
    /// not in its mempool: a proposer's own block (a byzantine one's
    /// included), or transactions this node fetched itself. A higher height
    /// replaces what was kept; at most [`MAX_PROPOSAL_TXS`] are kept.
    /// `hashes[i]` is the hash of `block.txs[i]`.
    pub fn remember_proposal(&self, block: &ledger::Block, hashes: &[Hash]) {
        let Ok(mut kept) = self.proposal_txs.lock() else { return };
        let h = block.header.height;
        if h < kept.0 {
            return;
        }
        if h > kept.0 {
            *kept = (h, std::collections::HashMap::new());
        }
        for (t, h) in block.txs.iter().zip(hashes) {
            if kept.1.len() >= MAX_PROPOSAL_TXS {
                break;
            }
            kept.1.entry(*h).or_insert_with(|| t.clone());
        }
    }
}
