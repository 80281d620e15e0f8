//! Compact proposals: an honest proposer sends its block with the
//! transactions named by hash ([`ledger::CompactBlock`]); every validator
//! already holds nearly all of them (they were gossiped when admitted), so a
//! 5,000-transfer proposal is ~160 KB instead of ~1 MB, and receivers
//! neither decode nor hash a megabyte per copy.
//!
//! - A compact block is checked as the full one is: its header must be the
//!   signed value and its hashes must reproduce the header's `tx_root`.
//! - Filled from the mempool, it becomes the full proposal and takes the
//!   full proposal's path (same checks, same verdicts).
//! - Transactions missing here are asked of the peer that sent the proposal
//!   (it had the whole block: it forwards only once it has), at most
//!   [`crate::p2p::MAX_TX_FETCH`] a request, only after the proposal's
//!   signature and proposer were verified (so bogus proposals cost no
//!   request), at most [`MAX_FETCHES`] at once. Every transaction that comes
//!   back must have an asked-for hash. The gossip verdict waits for the
//!   answer; a fetch that fails, brings nothing new or outlives its height
//!   ends as "ignore" (no blame: the core then treats the proposal as never
//!   received and prevotes nil on its timeout, and block sync fetches a
//!   decided block it lacks).

use std::collections::{BTreeMap, HashMap};

use consensus::{SignedMessage, SignedProposal, ValueId};
use ledger::{CompactBlock, Hash, Height, SignedTx};
use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};

use super::{Engine, EngineError};
use crate::p2p::{ConsensusMsg, MAX_TX_FETCH};

/// Compact proposals being filled at once; past it the oldest is dropped.
pub const MAX_FETCHES: usize = 8;

/// A compact proposal waiting for transactions from a peer.
#[derive(Debug)]
pub(super) struct Fetch {
    height: Height,
    proposal: SignedProposal,
    block: CompactBlock,
    txs: Vec<Option<SignedTx>>,
    /// The gossip message waiting for its verdict.
    id: MessageId,
    content: Hash,
    from: PeerId,
    /// Requests made so far (each must bring something new).
    requests: usize,
}

impl Fetch {
    fn missing(&self) -> Vec<Hash> {
        self.block.tx_hashes.iter().zip(&self.txs).filter(|(_, t)| t.is_none()).map(|(h, _)| *h).collect()
    }
}

pub(super) type Fetches = BTreeMap<ValueId, Fetch>;

impl Engine {
    /// A gossiped compact proposal. `None`: the verdict comes later (once
    /// the missing transactions arrive, or the fetch ends).
    pub(super) fn on_compact(
        &mut self,
        proposal: SignedProposal,
        block: Box<CompactBlock>,
        id: &MessageId,
        content: Hash,
        from: PeerId,
    ) -> Result<Option<MessageAcceptance>, EngineError> {
        let p = &proposal.proposal;
        let value_id = p.value_id;
        let height = Height(p.height.0);
        if block.hash().0 != value_id.0 || block.header.height != height || block.check_roots().is_err() {
            // Not the signed block: every relay checks this the same way.
            return Ok(Some(MessageAcceptance::Reject));
        }
        // The body we already hold, or one the mempool fills: the full path.
        let full = match self.proposals.get(&value_id) {
            Some(b) => Some(b.clone()),
            None => {
                let found = self.chain.mempool_lookup(&block.tx_hashes);
                if found.iter().all(Option::is_some) {
                    block.assemble(found.into_iter().flatten().collect())
                } else {
                    return self.start_fetch(proposal, *block, found, id, content, from);
                }
            }
        };
        let Some(full) = full else { return Ok(Some(MessageAcceptance::Ignore)) };
        self.status.send_modify(|s| s.compact_filled += 1);
        let msg = ConsensusMsg::Proposal { proposal, block: Box::new(full) };
        self.on_consensus(msg, content, from).map(Some)
    }

    fn start_fetch(
        &mut self,
        proposal: SignedProposal,
        block: CompactBlock,
        txs: Vec<Option<SignedTx>>,
        id: &MessageId,
        content: Hash,
        from: PeerId,
    ) -> Result<Option<MessageAcceptance>, EngineError> {
        let p = &proposal.proposal;
        let value_id = p.value_id;
        let Some(current) = self.core.state().map(|s| s.height) else {
            return Ok(Some(MessageAcceptance::Ignore));
        };
        // Only the heights the core takes (a far-ahead one is a sync hint,
        // given by the full path when the proposal is filled).
        if p.height < current || p.height.0 > current.0 + 1 || self.fetches.contains_key(&value_id) {
            return Ok(Some(MessageAcceptance::Ignore));
        }
        let signed = SignedMessage::Proposal(proposal.clone());
        if self.core.is_known(&signed) && !self.awaiting_body.contains_key(&value_id) {
            return Ok(Some(MessageAcceptance::Ignore));
        }
        // Verified before anything is asked for: a made-up proposal costs
        // no request.
        if self.verify(p.height, &signed).is_err() || (p.height.0 == current.0 + 1 && !self.next_height_proposer_ok(p))
        {
            return Ok(Some(MessageAcceptance::Reject));
        }
        if self.fetches.len() >= MAX_FETCHES
            && let Some(oldest) =
                self.fetches.iter().min_by_key(|(_, f)| (f.height, f.proposal.proposal.round)).map(|(v, _)| *v)
        {
            self.end_fetch(oldest, "too many proposals being filled");
        }
        let fetch =
            Fetch { height: Height(p.height.0), proposal, block, txs, id: id.clone(), content, from, requests: 1 };
        let missing = fetch.missing();
        tracing::debug!(value = %Hash(value_id.0), missing = missing.len(), peer = %from, "compact proposal: fetching transactions");
        self.net.request_txs(from, missing);
        self.fetches.insert(value_id, fetch);
        Ok(None)
    }

    /// Transactions a peer sent: each fills the fetches (asked of that peer)
    /// that named its hash.
    pub(super) fn on_txs(&mut self, peer: PeerId, txs: Vec<SignedTx>) -> Result<(), EngineError> {
        let mut by_hash: HashMap<Hash, SignedTx> = txs.into_iter().map(|t| (t.hash(), t)).collect();
        let asked: Vec<ValueId> = self.fetches.iter().filter(|(_, f)| f.from == peer).map(|(v, _)| *v).collect();
        for v in asked {
            let Some(f) = self.fetches.get_mut(&v) else { continue };
            let mut new = 0usize;
            for (h, slot) in f.block.tx_hashes.iter().zip(f.txs.iter_mut()) {
                if slot.is_none()
                    && let Some(t) = by_hash.remove(h)
                {
                    *slot = Some(t);
                    new += 1;
                }
            }
            let missing = f.missing();
            // Each request must bring something new, and a block needs at
            // most one request per MAX_TX_FETCH of its transactions.
            let spent = f.requests > f.block.tx_hashes.len().div_ceil(MAX_TX_FETCH);
            if missing.is_empty() {
                self.finish_fetch(v)?;
            } else if new == 0 || spent {
                self.end_fetch(v, "the peer does not have them");
            } else {
                // An answer cut at the response size: ask for the rest.
                f.requests += 1;
                self.net.request_txs(peer, missing);
            }
        }
        Ok(())
    }

    /// A transaction request to `peer` failed: its fetches end.
    pub(super) fn on_txs_failed(&mut self, peer: PeerId) {
        let asked: Vec<ValueId> = self.fetches.iter().filter(|(_, f)| f.from == peer).map(|(v, _)| *v).collect();
        for v in asked {
            self.end_fetch(v, "the request failed");
        }
    }

    /// Fetches of heights below `height` end (the core moved on).
    pub(super) fn drop_fetches_below(&mut self, height: Height) {
        let old: Vec<ValueId> = self.fetches.iter().filter(|(_, f)| f.height < height).map(|(v, _)| *v).collect();
        for v in old {
            self.end_fetch(v, "the height is over");
        }
    }

    fn finish_fetch(&mut self, v: ValueId) -> Result<(), EngineError> {
        let Some(f) = self.fetches.remove(&v) else { return Ok(()) };
        let txs: Vec<SignedTx> = f.txs.into_iter().flatten().collect();
        let verdict = match f.block.assemble(txs) {
            Some(block) => {
                self.status.send_modify(|s| s.compact_fetched += 1);
                let msg = ConsensusMsg::Proposal { proposal: f.proposal, block: Box::new(block) };
                self.on_consensus(msg, f.content, f.from)?
            }
            None => MessageAcceptance::Ignore,
        };
        self.net.report(f.id, f.from, verdict);
        Ok(())
    }

    fn end_fetch(&mut self, v: ValueId, why: &str) {
        if let Some(f) = self.fetches.remove(&v) {
            self.status.send_modify(|s| s.compact_unfilled += 1);
            tracing::debug!(value = %Hash(v.0), peer = %f.from, missing = f.missing().len(), why, "compact proposal not filled");
            self.net.report(f.id, f.from, MessageAcceptance::Ignore);
        }
    }
}
