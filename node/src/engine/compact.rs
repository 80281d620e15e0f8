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
//!   (an honest relay had the whole block: it forwards only once it has),
//!   then, if that peer fails or has nothing new, of other connected peers
//!   (at most [`MAX_FETCH_PEERS`] in all, so a relay that races to deliver
//!   proposals and then withholds their transactions only delays them). At
//!   most [`crate::p2p::MAX_TX_FETCH`] hashes a request, only after the
//!   proposal's signature and proposer were verified (so bogus proposals
//!   cost no request), at most [`MAX_FETCHES`] proposals at once. Only
//!   transactions with an asked-for hash are taken. The gossip verdict waits
//!   for the answer; a fetch that runs out of peers or outlives its height
//!   ends as "ignore" (no blame: the core then treats the proposal as never
//!   received and prevotes nil on its timeout, and block sync fetches a
//!   decided block it lacks).

use std::collections::{BTreeMap, HashMap};

use consensus::{SignedMessage, SignedProposal, ValueId};
use ledger::{CompactBlock, Hash, Height, SignedTx};
use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};

use super::{Engine, EngineError, now_ms};
use crate::p2p::{ConsensusMsg, MAX_TX_FETCH};

/// Compact proposals being filled at once; past it the oldest is dropped.
pub const MAX_FETCHES: usize = 8;
/// Peers asked for one proposal's transactions, the sender first.
pub const MAX_FETCH_PEERS: usize = 3;
/// How long a peer has to answer a transaction request before the next is
/// asked (a propose timeout is 1 s or more).
pub const FETCH_TIMEOUT_MS: u64 = 500;
/// No encoded transaction is smaller (a signed transfer is ~150 bytes), so
/// a block holds at most `max_block_bytes / MIN_TX_BYTES` of them.
pub const MIN_TX_BYTES: usize = 64;

fn has_duplicates(hashes: &[Hash]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(hashes.len());
    !hashes.iter().all(|h| seen.insert(*h))
}

/// A compact proposal waiting for transactions from a peer.
#[derive(Debug)]
pub struct Fetch {
    pub height: Height,
    pub round: u32,
    pub proposal: SignedProposal,
    pub block: CompactBlock,
    pub txs: Vec<Option<SignedTx>>,
    /// The gossip message waiting for its verdict, and its sender.
    pub id: MessageId,
    pub content: Hash,
    pub from: PeerId,
    /// The peer asked now, and every peer asked so far.
    asked: PeerId,
    tried: Vec<PeerId>,
    /// Requests made of the peer asked now (each must bring something new),
    /// and when it was last asked (ms).
    requests: usize,
    asked_at_ms: u64,
    /// The tag of the request outstanding now: only its answer (or failure)
    /// judges this fetch, even when other fetches ask the same peer.
    tag: u64,
}

impl Fetch {
    pub fn new(
        proposal: SignedProposal,
        block: CompactBlock,
        txs: Vec<Option<SignedTx>>,
        id: MessageId,
        content: Hash,
        from: PeerId,
        now_ms: u64,
    ) -> Fetch {
        let p = &proposal.proposal;
        Fetch {
            height: Height(p.height.0),
            round: p.round.0,
            proposal,
            block,
            txs,
            id,
            content,
            from,
            asked: from,
            tried: vec![from],
            requests: 1,
            asked_at_ms: now_ms,
            tag: 0,
        }
    }

    fn missing(&self) -> Vec<Hash> {
        self.block.tx_hashes.iter().zip(&self.txs).filter(|(_, t)| t.is_none()).map(|(h, _)| *h).collect()
    }

    fn value_id(&self) -> ValueId {
        self.proposal.proposal.value_id
    }
}

/// What the engine does next for a fetch.
#[derive(Debug)]
pub enum Step {
    /// Ask `peer` for these transactions; the answer comes back with `tag`.
    Ask { peer: PeerId, hashes: Vec<Hash>, tag: u64 },
    /// Every transaction is here: judge the full proposal.
    Filled(Box<Fetch>),
    /// Given up (no verdict against anyone).
    Ended(Box<Fetch>, &'static str),
}

/// The fetches in progress (pure: the engine carries out the steps).
#[derive(Debug, Default)]
pub struct Fetches {
    by_value: BTreeMap<ValueId, Fetch>,
    /// The last request tag handed out (tags are never reused).
    next_tag: u64,
}

impl Fetches {
    /// The next request tag (a free function of the counter, so it can be
    /// taken while a fetch in `by_value` is borrowed).
    fn fresh_tag(next_tag: &mut u64) -> u64 {
        *next_tag += 1;
        *next_tag
    }

    pub fn contains(&self, v: &ValueId) -> bool {
        self.by_value.contains_key(v)
    }

    pub fn len(&self) -> usize {
        self.by_value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }

    /// Starts a fetch: asks its sender for what is missing. Past
    /// [`MAX_FETCHES`] the highest (height, round) goes, the new one if it is
    /// that: the current height's proposals are never pushed out by a flood
    /// of later ones.
    pub fn start(&mut self, fetch: Fetch) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.by_value.contains_key(&fetch.value_id()) {
            steps.push(Step::Ended(Box::new(fetch), "already being filled"));
            return steps;
        }
        if self.by_value.len() >= MAX_FETCHES {
            let highest =
                self.by_value.iter().max_by_key(|(_, f)| (f.height, f.round)).map(|(v, f)| (*v, (f.height, f.round)));
            match highest {
                Some((v, at)) if at > (fetch.height, fetch.round) => {
                    if let Some(f) = self.by_value.remove(&v) {
                        steps.push(Step::Ended(Box::new(f), "too many proposals being filled"));
                    }
                }
                _ => {
                    steps.push(Step::Ended(Box::new(fetch), "too many proposals being filled"));
                    return steps;
                }
            }
        }
        let mut fetch = fetch;
        fetch.tag = Self::fresh_tag(&mut self.next_tag);
        steps.push(Step::Ask { peer: fetch.from, hashes: fetch.missing(), tag: fetch.tag });
        self.by_value.insert(fetch.value_id(), fetch);
        steps
    }

    /// Transactions `peer` sent in answer to request `tag`: they fill the
    /// fetches asked of it (only asked-for hashes are taken). Only the fetch
    /// that made request `tag` is judged by it: if it brought nothing new the
    /// fetch moves to another peer; cut at the response size, it asks for
    /// the rest. Other fetches asked of the same peer keep waiting for their
    /// own answers.
    pub fn on_txs(
        &mut self,
        peer: PeerId,
        tag: u64,
        txs: Vec<SignedTx>,
        connected: &[PeerId],
        now_ms: u64,
    ) -> Vec<Step> {
        let mut by_hash: HashMap<Hash, SignedTx> = txs.into_iter().map(|t| (t.hash(), t)).collect();
        let asked: Vec<ValueId> = self.by_value.iter().filter(|(_, f)| f.asked == peer).map(|(v, _)| *v).collect();
        let mut steps = Vec::new();
        for v in asked {
            let Some(f) = self.by_value.get_mut(&v) else { continue };
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
            // A block needs at most one request per MAX_TX_FETCH of its
            // transactions from one peer.
            let spent = f.requests > f.block.tx_hashes.len().div_ceil(MAX_TX_FETCH);
            if missing.is_empty() {
                if let Some(f) = self.by_value.remove(&v) {
                    steps.push(Step::Filled(Box::new(f)));
                }
            } else if f.tag != tag {
                // Not the answer to this fetch's request: it waits for its own.
            } else if new == 0 || spent {
                steps.extend(self.next_peer(v, connected, now_ms));
            } else {
                f.requests += 1;
                f.asked_at_ms = now_ms;
                f.tag = Self::fresh_tag(&mut self.next_tag);
                steps.push(Step::Ask { peer, hashes: missing, tag: f.tag });
            }
        }
        steps
    }

    /// Request `tag` to `peer` failed: the fetch that made it moves to
    /// another peer.
    pub fn on_failed(&mut self, peer: PeerId, tag: u64, connected: &[PeerId], now_ms: u64) -> Vec<Step> {
        let asked: Vec<ValueId> =
            self.by_value.iter().filter(|(_, f)| f.asked == peer && f.tag == tag).map(|(v, _)| *v).collect();
        asked.into_iter().flat_map(|v| self.next_peer(v, connected, now_ms)).collect()
    }

    /// Fetches whose peer has not answered within [`FETCH_TIMEOUT_MS`] move
    /// to another peer (a silent peer, or an answer lost on the way).
    pub fn expire(&mut self, connected: &[PeerId], now_ms: u64) -> Vec<Step> {
        let late: Vec<ValueId> = self
            .by_value
            .iter()
            .filter(|(_, f)| now_ms.saturating_sub(f.asked_at_ms) >= FETCH_TIMEOUT_MS)
            .map(|(v, _)| *v)
            .collect();
        late.into_iter().flat_map(|v| self.next_peer(v, connected, now_ms)).collect()
    }

    /// Fetches of heights below `height` end (the core moved on).
    pub fn drop_below(&mut self, height: Height) -> Vec<Step> {
        let old: Vec<ValueId> = self.by_value.iter().filter(|(_, f)| f.height < height).map(|(v, _)| *v).collect();
        old.into_iter()
            .filter_map(|v| self.by_value.remove(&v))
            .map(|f| Step::Ended(Box::new(f), "the height is over"))
            .collect()
    }

    /// The next connected peer not asked yet, or the end after
    /// [`MAX_FETCH_PEERS`].
    fn next_peer(&mut self, v: ValueId, connected: &[PeerId], now_ms: u64) -> Option<Step> {
        let f = self.by_value.get_mut(&v)?;
        match connected.iter().find(|p| !f.tried.contains(p)) {
            Some(&p) if f.tried.len() < MAX_FETCH_PEERS => {
                f.tried.push(p);
                f.asked = p;
                f.requests = 1;
                f.asked_at_ms = now_ms;
                f.tag = Self::fresh_tag(&mut self.next_tag);
                Some(Step::Ask { peer: p, hashes: f.missing(), tag: f.tag })
            }
            _ => self.by_value.remove(&v).map(|f| Step::Ended(Box::new(f), "no peer had them")),
        }
    }
}

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
        let max_block_bytes = self.chain.params().max_block_bytes as usize;
        // Not the signed block, more hashes than a block can hold, or a
        // transaction twice (never a valid block): every relay checks this
        // the same way.
        if block.hash().0 != value_id.0
            || block.header.height != height
            || block.tx_hashes.len() > max_block_bytes / MIN_TX_BYTES
            || has_duplicates(&block.tx_hashes)
            || block.check_roots().is_err()
        {
            return Ok(Some(MessageAcceptance::Reject));
        }
        // The body we already hold: the full path.
        if let Some(b) = self.proposals.get(&value_id) {
            let msg = ConsensusMsg::Proposal { proposal, block: Box::new(b.clone()) };
            return self.on_consensus(msg, content, from, None).map(Some);
        }
        // Nothing is looked up or asked for before the proposal is known to be
        // a real one, of a height the core takes.
        let Some(current) = self.core.state().map(|s| s.height) else {
            return Ok(Some(MessageAcceptance::Ignore));
        };
        if p.height.0 > current.0 + 1 {
            // A hint that we are behind, as for a full proposal.
            self.sync.on_tip(from, Height(p.height.0 - 2), now_ms());
            self.poll_sync();
            return Ok(Some(MessageAcceptance::Ignore));
        }
        if p.height < current
            || (p.height.0 == current.0 + 1 && p.round.0 > self.core.config().max_future_rounds)
            || self.fetches.contains(&value_id)
        {
            return Ok(Some(MessageAcceptance::Ignore));
        }
        let signed = SignedMessage::Proposal(proposal.clone());
        if self.core.is_known(&signed) && !self.awaiting_body.contains_key(&value_id) {
            return Ok(Some(MessageAcceptance::Ignore));
        }
        if self.verify(p.height, &signed).is_err() || (p.height.0 == current.0 + 1 && !self.next_height_proposer_ok(p))
        {
            return Ok(Some(MessageAcceptance::Reject));
        }
        // Filled from the mempool, at most a block's worth of bytes.
        let Some(found) = self.chain.mempool_lookup(&block.tx_hashes, max_block_bytes) else {
            return Ok(Some(MessageAcceptance::Ignore));
        };
        if found.iter().all(Option::is_some) {
            // The mempool is keyed by each transaction's hash: none is hashed again.
            let Some(full) = block.assemble_known(found.into_iter().flatten().collect()) else {
                return Ok(Some(MessageAcceptance::Ignore));
            };
            self.status.send_modify(|s| s.compact_filled += 1);
            let msg = ConsensusMsg::Proposal { proposal, block: Box::new(full) };
            return self.on_consensus(msg, content, from, Some(block.tx_hashes)).map(Some);
        }
        let fetch = Fetch::new(proposal, *block, found, id.clone(), content, from, now_ms());
        tracing::debug!(value = %Hash(value_id.0), missing = fetch.txs.iter().filter(|t| t.is_none()).count(), peer = %from, "compact proposal: fetching transactions");
        let steps = self.fetches.start(fetch);
        self.fetch_steps(steps)?;
        Ok(None)
    }

    /// Transactions a peer sent in answer to request `tag`.
    pub(super) fn on_txs(&mut self, peer: PeerId, tag: u64, txs: Vec<SignedTx>) -> Result<(), EngineError> {
        if self.fetches.is_empty() {
            return Ok(());
        }
        let steps = self.fetches.on_txs(peer, tag, txs, &self.fallback_peers(), now_ms());
        self.fetch_steps(steps)
    }

    /// The connected peers in random order: whom to ask next is not
    /// something a peer can arrange by choosing its id.
    fn fallback_peers(&self) -> Vec<PeerId> {
        use rand::seq::SliceRandom;
        let mut peers = self.net.connected_peers();
        peers.shuffle(&mut rand::thread_rng());
        peers
    }

    /// Moves fetches whose peer is silent to another peer (run on the
    /// engine's periodic tick).
    pub(super) fn expire_fetches(&mut self) -> Result<(), EngineError> {
        if self.fetches.is_empty() {
            return Ok(());
        }
        let steps = self.fetches.expire(&self.fallback_peers(), now_ms());
        self.fetch_steps(steps)
    }

    /// Transaction request `tag` to `peer` failed.
    pub(super) fn on_txs_failed(&mut self, peer: PeerId, tag: u64) -> Result<(), EngineError> {
        let steps = self.fetches.on_failed(peer, tag, &self.fallback_peers(), now_ms());
        self.fetch_steps(steps)
    }

    /// Fetches of heights below `height` end (the core moved on).
    pub(super) fn drop_fetches_below(&mut self, height: Height) -> Result<(), EngineError> {
        let steps = self.fetches.drop_below(height);
        self.fetch_steps(steps)
    }

    fn fetch_steps(&mut self, steps: Vec<Step>) -> Result<(), EngineError> {
        for step in steps {
            match step {
                Step::Ask { peer, hashes, tag } => self.net.request_txs(peer, hashes, tag),
                Step::Filled(f) => {
                    let Fetch { proposal, block, txs, id, content, from, .. } = *f;
                    // From the mempool (keyed by hash) or matched by hash on
                    // arrival (`Fetches::on_txs`): none is hashed again.
                    let verdict = match block.assemble_known(txs.into_iter().flatten().collect()) {
                        Some(full) => {
                            self.status.send_modify(|s| s.compact_fetched += 1);
                            let msg = ConsensusMsg::Proposal { proposal, block: Box::new(full) };
                            self.on_consensus(msg, content, from, Some(block.tx_hashes))?
                        }
                        None => MessageAcceptance::Ignore,
                    };
                    self.net.report(id, from, verdict);
                }
                Step::Ended(f, why) => {
                    self.status.send_modify(|s| s.compact_unfilled += 1);
                    tracing::debug!(value = %Hash(f.value_id().0), peer = %f.from, missing = f.missing().len(), why, "compact proposal not filled");
                    self.net.report(f.id, f.from, MessageAcceptance::Ignore);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ledger::{Block, SigningKey};

    fn txs(n: u64) -> Vec<SignedTx> {
        let k = SigningKey::from_bytes(&[3; 32]);
        (0..n).map(|i| SignedTx::decode(&crate::testing::transfer(&k, i, "compact-test")).unwrap()).collect()
    }

    /// A compact proposal of `n` transactions at (height, round) with the
    /// first `have` of them held; the rest missing.
    fn fetch(height: u64, round: u32, n: u64, have: usize, from: PeerId) -> (Fetch, Vec<SignedTx>) {
        let all = txs(n);
        let header = ledger::Header {
            version: ledger::block::HEADER_VERSION,
            chain_id: "compact-test".into(),
            height: Height(height),
            // Another round, another block.
            time_ms: u64::from(round) + 1,
            parent_hash: Hash([1; 32]),
            tx_root: ledger::merkle::merkle_root(all.iter().map(SignedTx::hash)),
            state_root: Hash([2; 32]),
            receipts_root: Hash([3; 32]),
            proposer: ledger::PublicKey([4; 32]),
            client: "agorad/0.1.0".into(),
            validator_set_hash: Hash([5; 32]),
            last_commit_hash: Hash::ZERO,
            evidence_hash: ledger::block::evidence_hash(&[]),
        };
        let block = Block { header, txs: all.clone(), last_commit: None, evidence: Vec::new() };
        let compact = CompactBlock::of(&block);
        compact.check_roots().unwrap();
        let proposal = SignedProposal {
            proposal: consensus::Proposal {
                height: consensus::Height(height),
                round: consensus::Round(round),
                value_id: ValueId(compact.hash().0),
                pol_round: None,
                proposer: consensus::ValidatorId([1; 32]),
            },
            signature: consensus::Signature([0; 64]),
        };
        let held = all.iter().enumerate().map(|(i, t)| (i < have).then(|| t.clone())).collect();
        (Fetch::new(proposal, compact, held, MessageId::new(&[height as u8, round as u8]), Hash::ZERO, from, 0), all)
    }

    fn asks(steps: &[Step]) -> Vec<(PeerId, usize)> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Ask { peer, hashes, .. } => Some((*peer, hashes.len())),
                _ => None,
            })
            .collect()
    }

    /// The tag of the request outstanding for the fetch asked of `peer`.
    fn tag(set: &Fetches, peer: PeerId) -> u64 {
        set.by_value.values().find(|f| f.asked == peer).map(|f| f.tag).expect("a fetch asked of the peer")
    }

    #[test]
    fn missing_transactions_are_asked_of_the_sender_and_fill_the_block() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut set = Fetches::default();
        let (f, all) = fetch(5, 0, 10, 7, a);
        assert_eq!(asks(&set.start(f)), vec![(a, 3)]);
        // An answer from a peer that was not asked is not taken.
        assert!(set.on_txs(b, tag(&set, a), all.clone(), &[a, b], 0).is_empty());
        // Part of it, with transactions not in the block (not taken): the rest is asked again of the same peer.
        let mut part = all[7..8].to_vec();
        part.extend(txs(20)[10..].iter().cloned());
        let steps = set.on_txs(a, tag(&set, a), part, &[a, b], 0);
        assert_eq!(asks(&steps), vec![(a, 2)]);
        let steps = set.on_txs(a, tag(&set, a), all[8..].to_vec(), &[a, b], 0);
        let [Step::Filled(f)] = steps.as_slice() else { panic!("{steps:?}") };
        let block = f.block.assemble(f.txs.iter().flatten().cloned().collect()).unwrap();
        assert_eq!(block.txs, all);
        assert!(set.is_empty());
    }

    #[test]
    fn a_peer_that_withholds_is_replaced_and_the_peers_asked_are_bounded() {
        let peers: Vec<PeerId> = (0..6).map(|_| PeerId::random()).collect();
        let mut set = Fetches::default();
        let (f, all) = fetch(5, 0, 4, 0, peers[0]);
        set.start(f);
        // The sender answers with nothing: the next connected peer is asked.
        let first = tag(&set, peers[0]);
        assert_eq!(asks(&set.on_txs(peers[0], first, Vec::new(), &peers, 0)), vec![(peers[1], 4)]);
        // That one fails: a third.
        assert_eq!(asks(&set.on_failed(peers[1], tag(&set, peers[1]), &peers, 0)), vec![(peers[2], 4)]);
        // A late answer from a peer no longer asked is not taken.
        assert!(set.on_txs(peers[0], first, all.clone(), &peers, 0).is_empty());
        // After MAX_FETCH_PEERS, the fetch ends without blame.
        let steps = set.on_failed(peers[2], tag(&set, peers[2]), &peers, 0);
        assert!(matches!(steps.as_slice(), [Step::Ended(_, "no peer had them")]), "{steps:?}");
        assert!(set.is_empty());
        // No other peer connected: it ends at once.
        let (f, _) = fetch(6, 0, 4, 0, peers[0]);
        set.start(f);
        let steps = set.on_failed(peers[0], tag(&set, peers[0]), &peers[..1], 0);
        assert!(matches!(steps.as_slice(), [Step::Ended(..)]));
    }

    #[test]
    fn fetches_are_bounded_keep_the_current_height_and_end_with_it() {
        let p = PeerId::random();
        let mut set = Fetches::default();
        for r in 0..MAX_FETCHES as u32 {
            set.start(fetch(7, r + 1, 3, 1, p).0);
        }
        assert_eq!(set.len(), MAX_FETCHES);
        // A lower one pushes out the highest (height, round).
        let steps = set.start(fetch(7, 0, 2, 0, p).0);
        let ended: Vec<u32> =
            steps.iter().filter_map(|s| if let Step::Ended(f, _) = s { Some(f.round) } else { None }).collect();
        assert_eq!(ended, vec![MAX_FETCHES as u32]);
        assert_eq!(set.len(), MAX_FETCHES);
        // A flood of next-height proposals cannot push the current height out.
        for r in 0..4 {
            let steps = set.start(fetch(8, r, 2, 0, p).0);
            assert!(matches!(steps.as_slice(), [Step::Ended(f, _)] if f.height == Height(8)), "{steps:?}");
        }
        // The same proposal twice: the second is not fetched again.
        let steps = set.start(fetch(7, 0, 2, 0, p).0);
        assert!(matches!(steps.as_slice(), [Step::Ended(_, "already being filled")]));
        assert_eq!(set.drop_below(Height(8)).len(), MAX_FETCHES);
        assert!(set.is_empty());
    }

    #[test]
    fn repeated_hashes_are_seen() {
        assert!(!has_duplicates(&[]));
        assert!(!has_duplicates(&[Hash([1; 32]), Hash([2; 32])]));
        assert!(has_duplicates(&[Hash([1; 32]), Hash([2; 32]), Hash([1; 32])]));
    }

    #[test]
    fn a_silent_peer_is_replaced_after_the_timeout() {
        let peers: Vec<PeerId> = (0..3).map(|_| PeerId::random()).collect();
        let mut set = Fetches::default();
        set.start(fetch(5, 0, 3, 0, peers[0]).0);
        assert!(set.expire(&peers, FETCH_TIMEOUT_MS - 1).is_empty());
        assert_eq!(asks(&set.expire(&peers, FETCH_TIMEOUT_MS)), vec![(peers[1], 3)]);
        // The new peer gets its own full timeout.
        assert!(set.expire(&peers, FETCH_TIMEOUT_MS + 10).is_empty());
        assert_eq!(asks(&set.expire(&peers, 2 * FETCH_TIMEOUT_MS)), vec![(peers[2], 3)]);
        let steps = set.expire(&peers, 3 * FETCH_TIMEOUT_MS);
        assert!(matches!(steps.as_slice(), [Step::Ended(..)]), "{steps:?}");
    }

    #[test]
    fn a_large_block_takes_one_request_per_bound_and_no_more() {
        let p = PeerId::random();
        let mut set = Fetches::default();
        let (f, all) = fetch(9, 0, 5, 0, p);
        set.start(f);
        // Each answer brings one transaction (a server cut at its byte
        // bound): with 5 transactions, one request is the most the block
        // needs, so after the second the peer is given up.
        assert_eq!(asks(&set.on_txs(p, tag(&set, p), all[..1].to_vec(), &[p], 0)), vec![(p, 4)]);
        let steps = set.on_txs(p, tag(&set, p), all[1..2].to_vec(), &[p], 0);
        assert!(matches!(steps.as_slice(), [Step::Ended(..)]), "{steps:?}");
    }

    #[test]
    fn two_fetches_from_one_peer_are_judged_by_their_own_answers() {
        let (p, q) = (PeerId::random(), PeerId::random());
        let mut set = Fetches::default();
        let (f1, all1) = fetch(5, 0, 3, 0, p);
        let (f2, _) = fetch(5, 1, 4, 0, p);
        let v2 = f2.value_id();
        set.start(f1);
        set.start(f2);
        let tags: Vec<u64> = set.by_value.values().map(|f| f.tag).collect();
        assert_ne!(tags[0], tags[1], "each request has its own tag");
        let t1 = set.by_value.values().find(|f| f.block.tx_hashes.len() == 3).unwrap().tag;
        let t2 = set.by_value[&v2].tag;
        // The answer to the first request fills the first fetch; the second,
        // which learnt nothing from it, keeps waiting for its own answer
        // instead of giving up on the peer.
        let steps = set.on_txs(p, t1, all1.clone(), &[p, q], 0);
        assert!(matches!(steps.as_slice(), [Step::Filled(_)]), "{steps:?}");
        assert_eq!(set.by_value[&v2].asked, p);
        // A failure of a request that is not its own does not move it either.
        assert!(set.on_failed(p, t1, &[p, q], 0).is_empty());
        assert_eq!(set.by_value[&v2].asked, p);
        // Its own failure does.
        assert_eq!(asks(&set.on_failed(p, t2, &[p, q], 0)), vec![(q, 4)]);
    }
}
