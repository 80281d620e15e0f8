//! The consensus engine: the loop that feeds the pure `consensus` core its
//! inputs (network messages, timers, the application's answers, its own
//! signatures) and carries out its effects against the `Chain` seam (build →
//! validate → commit), the guarded signer, the WAL and the network.
//!
//! - Proposals travel with their block. A received block is stashed until the
//!   core accepts the proposal (signature, proposer of the round), then kept
//!   durably, executed, and voted for only if this node reproduces its header
//!   (`Chain::validate_block`: roots, validator-set hash, the previous block's
//!   certificate checked against the validator set).
//! - Every gossiped consensus message gets a verdict for gossipsub: forward
//!   (the core accepted it), drop (late, early, duplicate) or drop and
//!   penalise the sender (bad signature, not a validator, wrong proposer).
//! - Block sync: peers' tips arrive every second; when a peer is ahead (two
//!   or more heights, or one height for longer than a grace period) the
//!   engine fetches decided blocks with their certificates, verifies each
//!   certificate against the validator set, executes and commits the block,
//!   then restarts consensus at the new height.
//! - A node without a key in the validator set runs the core as an observer:
//!   it follows decisions from the gossip and block sync and serves RPC.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consensus::{
    ChainId, CommitCertificate, Config as CoreConfig, Consensus, Effect, Input, ProposerSelection, SignedMessage,
    Signer, SignerState, StartHeight, Timeout, ValidatorId, ValidatorSet, ValueId, WalEntry,
};
use ledger::{Block, Hash, Height, PublicKey, SigningKey};
use libp2p::PeerId;
use libp2p::gossipsub::MessageAcceptance;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::chain::{Chain, ChainError, Executed};
use crate::p2p::{ConsensusMsg, MAX_SYNC_BLOCKS, NetEvent, NetworkHandle, SyncedBlock};
use crate::privval::SignerStateFile;

/// Engine failures: storage, chain or a core error that is a bug, not input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("consensus: {0}")]
    Consensus(String),
    #[error("persisted consensus state is corrupt: {0}")]
    Corrupt(String),
}

impl From<crate::store::StoreError> for EngineError {
    fn from(e: crate::store::StoreError) -> Self {
        EngineError::Chain(ChainError::Store(e))
    }
}

/// The wall clock in milliseconds since the Unix epoch.
pub fn wall_clock_ms() -> u64 {
    now_ms()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

enum Event {
    Timeout(Timeout),
    NextHeight(Height),
}

/// What RPC shows of consensus.
#[derive(Clone, Debug, Default)]
pub struct ConsensusStatus {
    pub height: u64,
    pub round: u32,
    pub step: &'static str,
    /// A peer is ahead and blocks are being fetched.
    pub syncing: bool,
    /// Highest tip reported by a peer.
    pub best_peer_height: u64,
    /// Heights this node committed through block sync since it started.
    pub synced_blocks: u64,
    /// Equivocations (double signs) this node has seen since it started.
    pub equivocations: u64,
}

mod byzantine;
mod convert;
mod staking;

pub use byzantine::{Byzantine, InvalidTxKind};
pub use convert::{to_certificate, to_ledger_commit, validator_set};

/// How long a peer may be one height ahead before we fetch that block
/// instead of waiting for the height's precommits.
const ONE_BEHIND_GRACE: Duration = Duration::from_millis(1500);
/// A block request that has not been answered by then is given up.
const SYNC_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Proposal blocks kept per height before the core has accepted them.
const MAX_STASHED_PER_HEIGHT: usize = 16;

/// Drives one node's consensus (validator or observer).
pub struct Engine {
    chain: Arc<Chain>,
    core: Consensus,
    /// `None` for a node that is not a validator.
    signer: Option<Signer>,
    /// Where the signer's guard state is synced before a signature is released.
    signer_file: Option<SignerStateFile>,
    audit_log: Option<std::fs::File>,
    me: Option<PublicKey>,
    chain_id: ChainId,
    validators: ValidatorSet,
    selection: ProposerSelection,
    /// Blocks built or validated at the current height, by hash.
    blocks: BTreeMap<ValueId, Executed>,
    /// Blocks that came with proposals, until validated.
    proposed: BTreeMap<ValueId, (Height, Block)>,
    wal_seq: u64,
    /// Delay between a decision and the next height (the block interval).
    interval: Duration,
    events_tx: mpsc::UnboundedSender<Event>,
    events: mpsc::UnboundedReceiver<Event>,
    net: NetworkHandle,
    peer_tips: BTreeMap<PeerId, Height>,
    sync_inflight: Option<(PeerId, Instant)>,
    height_started: Instant,
    status: watch::Sender<ConsensusStatus>,
    /// Testing only: how this validator misbehaves (honest by default), and
    /// the key it misbehaves with.
    byzantine: Byzantine,
    byzantine_key: Option<SigningKey>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("me", &self.me).field("validators", &self.validators.len()).finish()
    }
}

impl Engine {
    /// `key` is this node's validator key; if it is not in the validator set
    /// the node runs as an observer (full node).
    pub fn new(
        chain: Arc<Chain>,
        key: Option<ValidatorKey>,
        interval: Duration,
        net: NetworkHandle,
    ) -> Result<(Engine, watch::Receiver<ConsensusStatus>), EngineError> {
        let chain_id = ChainId::new(chain.chain_id()).map_err(|e| EngineError::Consensus(e.to_string()))?;
        let validators = (*chain.validators_at(chain.tip().height.next())?).clone();
        // A node with a key keeps its signer even while it is not in the set:
        // it starts signing in the first height whose set contains it.
        let me = key.as_ref().map(|k| PublicKey::from_signing_key(&k.key));
        let byzantine = key.as_ref().map(|k| k.byzantine.clone()).unwrap_or_default();
        let byzantine_key = key.as_ref().filter(|k| !k.byzantine.is_honest()).map(|k| k.key.clone());
        let (signer, signer_file, audit_log) = match key {
            Some(ValidatorKey { key, state_file, state, audit_log, .. }) => {
                // Nodes from before the state file kept the guard in the database.
                let bytes = match state {
                    Some(b) => Some(b),
                    None => chain.store().signer_state()?,
                };
                let state = match bytes {
                    Some(b) => borsh::from_slice::<SignerState>(&b)
                        .map_err(|e| EngineError::Corrupt(format!("signer state: {e}")))?,
                    None => SignerState::default(),
                };
                (Some(Signer::new(key, chain_id.clone(), state)), Some(state_file), audit_log)
            }
            None => (None, None, None),
        };
        let mut config = CoreConfig::new(chain_id.clone(), me.map(|m| ValidatorId(m.0)));
        // Timeouts scale with the block interval, so a local chain with a short
        // interval also recovers from a lost round fast; the propose timeout
        // must cover building, gossiping and re-executing a full block, and
        // grows by half a second per round until proposals get through.
        let base = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX).clamp(100, 2000);
        config.timeouts.propose_base_ms = (3 * base).max(1000);
        config.timeouts.propose_delta_ms = 500;
        config.timeouts.prevote_base_ms = base;
        config.timeouts.prevote_delta_ms = base / 2;
        config.timeouts.precommit_base_ms = base;
        config.timeouts.precommit_delta_ms = base / 2;
        let core = Consensus::new(config).map_err(|e| EngineError::Consensus(e.to_string()))?;
        let selection = ProposerSelection::genesis(&validators);
        let (events_tx, events) = mpsc::unbounded_channel();
        let (status, status_rx) = watch::channel(ConsensusStatus::default());
        Ok((
            Engine {
                chain,
                core,
                signer,
                signer_file,
                audit_log,
                me,
                chain_id,
                validators,
                selection,
                blocks: BTreeMap::new(),
                proposed: BTreeMap::new(),
                wal_seq: 0,
                interval,
                events_tx,
                events,
                net,
                peer_tips: BTreeMap::new(),
                sync_inflight: None,
                height_started: Instant::now(),
                status,
                byzantine,
                byzantine_key,
            },
            status_rx,
        ))
    }

    /// Is this node a validator of the current set?
    pub fn is_validator(&self) -> bool {
        self.me.is_some_and(|me| self.validators.get(&ValidatorId(me.0)).is_some())
    }

    /// Runs until `shutdown` flips; a block being committed is finished first.
    pub async fn run(
        mut self,
        mut net_events: mpsc::UnboundedReceiver<NetEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), EngineError> {
        // Proposer priorities follow every height from genesis, through
        // every validator-set change.
        self.selection = ProposerSelection::genesis(&*self.chain.validators_at(Height(1))?);
        for h in 1..=self.chain.tip().height.0 {
            self.selection = self.selection.next_height(&*self.chain.validators_at(Height(h + 1))?);
        }
        self.start_height(self.chain.tip().height.next()).await?;
        let mut sync_tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                ev = self.events.recv() => match ev {
                    Some(Event::Timeout(t)) => {
                        let _ = self.step(Input::TimeoutElapsed(t)).await?;
                    }
                    Some(Event::NextHeight(h)) => self.start_height(h).await?,
                    None => return Ok(()),
                },
                ev = net_events.recv() => match ev {
                    Some(ev) => self.on_net(ev).await?,
                    None => return Ok(()),
                },
                _ = sync_tick.tick() => self.maybe_sync(),
                _ = shutdown.changed() => return Ok(()),
            }
            self.publish_status();
        }
    }

    fn publish_status(&self) {
        let st = self.core.state();
        let best = self.peer_tips.values().map(|h| h.0).max().unwrap_or(0);
        self.status.send_modify(|s| {
            if let Some(st) = st {
                s.height = st.height.0;
                s.round = st.round.0;
                s.step = match st.step {
                    consensus::Step::Propose => "propose",
                    consensus::Step::Prevote => "prevote",
                    consensus::Step::Precommit => "precommit",
                };
            }
            s.syncing = self.sync_inflight.is_some();
            s.best_peer_height = best;
        });
    }

    /// Starts (or, after a restart, resumes from its WAL) `height`, which must
    /// follow the tip. Stale requests (the height was already started, or
    /// block sync moved past it) are ignored.
    async fn start_height(&mut self, height: Height) -> Result<(), EngineError> {
        if height != self.chain.tip().height.next() || self.core.state().is_some_and(|s| s.height.0 >= height.0) {
            return Ok(());
        }
        let store = self.chain.store();
        let mut wal = Vec::new();
        for raw in store.wal(height)? {
            wal.push(borsh::from_slice::<WalEntry>(&raw).map_err(|e| EngineError::Corrupt(format!("wal: {e}")))?);
        }
        let stored = wal.len();
        if let Some(signer) = &self.signer {
            wal = signer.state().recover_wal(consensus::Height(height.0), wal);
        }
        for e in &wal[stored..] {
            store.wal_append(
                height,
                stored as u64,
                &borsh::to_vec(e).map_err(|e| EngineError::Corrupt(e.to_string()))?,
            )?;
        }
        self.wal_seq = wal.len() as u64;
        if !wal.is_empty() {
            tracing::info!(%height, entries = wal.len(), "resuming height from the consensus WAL");
        }
        self.blocks.clear();
        self.proposed.retain(|_, (h, _)| *h >= height);
        self.height_started = Instant::now();
        let set = self.chain.validators_at(height)?;
        if *set != self.validators {
            tracing::info!(%height, validators = set.len(), total_power = set.total_power().0, "validator set changed");
            self.validators = (*set).clone();
        }
        let start = StartHeight {
            height: consensus::Height(height.0),
            validators: self.validators.clone(),
            proposer_selection: self.selection.clone(),
            wal,
        };
        match self.step(Input::StartHeight(Box::new(start))).await? {
            Err(e) if !e.is_benign() => Err(EngineError::Consensus(format!("starting height {height}: {e}"))),
            _ => Ok(()),
        }
    }

    /// Feeds one input and carries out the effects, including the inputs
    /// those effects produce, until the core is quiet. Returns the core's
    /// verdict on the first input (for gossip validation).
    async fn step(&mut self, input: Input) -> Result<Result<(), consensus::Error>, EngineError> {
        let mut inputs = VecDeque::from([input]);
        let mut first = None;
        while let Some(input) = inputs.pop_front() {
            let effects = match self.core.handle(input) {
                Ok(e) => {
                    first.get_or_insert(Ok(()));
                    e
                }
                Err(e) if e.is_benign() || first.is_none() => {
                    tracing::debug!(error = %e, "consensus ignored an input");
                    first.get_or_insert(Err(e));
                    continue;
                }
                Err(e) => return Err(EngineError::Consensus(e.to_string())),
            };
            for effect in effects {
                if let Some(next) = self.effect(effect).await? {
                    inputs.push_back(next);
                }
            }
        }
        Ok(first.unwrap_or(Ok(())))
    }

    async fn on_net(&mut self, ev: NetEvent) -> Result<(), EngineError> {
        match ev {
            NetEvent::Consensus { msg, id, from } => {
                let verdict = self.on_consensus(msg, from).await?;
                self.net.report(id, from, verdict);
            }
            NetEvent::PeerStatus { peer, tip } => {
                self.peer_tips.insert(peer, tip);
                self.maybe_sync();
            }
            NetEvent::PeerGone(peer) => {
                self.peer_tips.remove(&peer);
                if self.sync_inflight.is_some_and(|(p, _)| p == peer) {
                    self.sync_inflight = None;
                }
            }
            NetEvent::Blocks { peer, blocks } => {
                if self.sync_inflight.is_some_and(|(p, _)| p == peer) {
                    self.sync_inflight = None;
                }
                self.apply_synced(peer, blocks).await?;
            }
            NetEvent::SyncFailed { peer, reason } => {
                tracing::debug!(%peer, %reason, "block request failed");
                if self.sync_inflight.is_some_and(|(p, _)| p == peer) {
                    self.sync_inflight = None;
                }
                // Ask someone else next time.
                self.peer_tips.remove(&peer);
            }
        }
        Ok(())
    }

    /// Validates a gossiped consensus message by feeding it to the core.
    async fn on_consensus(&mut self, msg: ConsensusMsg, from: PeerId) -> Result<MessageAcceptance, EngineError> {
        if let ConsensusMsg::Vote(v) = &msg
            && let Some(verdict) = self.late_precommit(v)?
        {
            return Ok(verdict);
        }
        let (height, signed) = match &msg {
            ConsensusMsg::Proposal { proposal, .. } => {
                (proposal.proposal.height, SignedMessage::Proposal(proposal.clone()))
            }
            ConsensusMsg::Vote(v) => (v.vote.height, SignedMessage::Vote(v.clone())),
        };
        let current = match self.core.state() {
            Some(s) => s.height,
            None => return Ok(MessageAcceptance::Ignore),
        };
        if height.0 > current.0 + 1 {
            // The sender is at least this far: a hint that we are behind.
            let hint = Height(height.0 - 1);
            let tip = self.peer_tips.entry(from).or_insert(hint);
            if *tip < hint {
                *tip = hint;
            }
            self.maybe_sync();
            return Ok(MessageAcceptance::Ignore);
        }
        if height < current {
            return Ok(MessageAcceptance::Ignore);
        }
        if height.0 == current.0 + 1 {
            // The core buffers next-height messages unverified; check them here
            // so nothing unverified is forwarded.
            let verdict = match &signed {
                SignedMessage::Proposal(p) => self
                    .verify_member(height, &p.proposal.proposer)
                    .and_then(|k| p.verify(&self.chain_id, &k).map_err(|_| ())),
                SignedMessage::Vote(v) => self
                    .verify_member(height, &v.vote.validator)
                    .and_then(|k| v.verify(&self.chain_id, &k).map_err(|_| ())),
            };
            if verdict.is_err() {
                return Ok(MessageAcceptance::Reject);
            }
        }
        let input = match msg {
            ConsensusMsg::Proposal { proposal, block } => {
                let value_id = proposal.proposal.value_id;
                if block.hash().0 != value_id.0 || block.header.height.0 != height.0 {
                    return Ok(MessageAcceptance::Reject);
                }
                let stashed = self.proposed.values().filter(|(h, _)| h.0 == height.0).count();
                if !self.proposed.contains_key(&value_id) && !self.blocks.contains_key(&value_id) {
                    if stashed >= MAX_STASHED_PER_HEIGHT {
                        return Ok(MessageAcceptance::Ignore);
                    }
                    self.proposed.insert(value_id, (Height(height.0), *block));
                }
                Input::ProposalReceived(proposal)
            }
            ConsensusMsg::Vote(v) => Input::VoteReceived(v),
        };
        let proposal_value = match &input {
            Input::ProposalReceived(p) => Some(p.proposal.value_id),
            _ => None,
        };
        match self.step(input).await? {
            Ok(()) => Ok(MessageAcceptance::Accept),
            Err(e) => {
                if let Some(v) = proposal_value
                    && !self.blocks.contains_key(&v)
                {
                    self.proposed.remove(&v);
                }
                if e.is_benign() {
                    Ok(MessageAcceptance::Ignore)
                } else {
                    tracing::debug!(peer = %from, error = %e, "rejected consensus message");
                    Ok(MessageAcceptance::Reject)
                }
            }
        }
    }

    fn verify_member(&self, height: consensus::Height, id: &ValidatorId) -> Result<ed25519_dalek::VerifyingKey, ()> {
        let set = self.chain.validators_at(Height(height.0)).map_err(|_| ())?;
        if set.get(id).is_none() {
            return Err(());
        }
        consensus::signing::verifying_key(id).map_err(|_| ())
    }

    /// Fetches blocks when a peer is ahead.
    fn maybe_sync(&mut self) {
        if let Some((_, since)) = self.sync_inflight {
            if since.elapsed() < SYNC_REQUEST_TIMEOUT {
                return;
            }
            self.sync_inflight = None;
        }
        let tip = self.chain.tip().height;
        let Some((peer, best)) = self.peer_tips.iter().max_by_key(|(_, h)| **h).map(|(p, h)| (*p, *h)) else {
            return;
        };
        let behind = best.0.saturating_sub(tip.0);
        if behind == 0 || (behind == 1 && self.height_started.elapsed() < ONE_BEHIND_GRACE) {
            return;
        }
        tracing::info!(%peer, from = %tip.next(), peer_tip = %best, "behind a peer: fetching blocks");
        self.net.request_blocks(peer, tip.next(), MAX_SYNC_BLOCKS);
        self.sync_inflight = Some((peer, Instant::now()));
    }

    /// Verifies, executes and commits synced blocks in order, then restarts
    /// consensus after the new tip.
    async fn apply_synced(&mut self, peer: PeerId, blocks: Vec<SyncedBlock>) -> Result<(), EngineError> {
        let mut applied = 0u64;
        for SyncedBlock { block, commit } in blocks {
            let tip = self.chain.tip();
            let h = block.header.height;
            if h <= tip.height {
                continue;
            }
            if h != tip.height.next() {
                break;
            }
            if commit.height != h || commit.block_hash != block.hash() {
                tracing::warn!(%peer, height = %h, "synced block and certificate do not match");
                self.peer_tips.remove(&peer);
                break;
            }
            if let Err(e) = self.chain.verify_commit(h, &commit)? {
                tracing::warn!(%peer, height = %h, error = %e, "synced block has an invalid certificate");
                self.peer_tips.remove(&peer);
                break;
            }
            let chain = self.chain.clone();
            // Certified by more than 2/3: not held to this node's clock.
            let executed = match tokio::task::spawn_blocking(move || chain.validate_block(block, None))
                .await
                .map_err(|e| EngineError::Consensus(format!("validation task: {e}")))??
            {
                Ok(x) => x,
                Err(reason) => {
                    // A certified block we cannot reproduce: our state or the
                    // peer is wrong; do not commit it.
                    tracing::error!(%peer, height = %h, %reason, "certified block does not execute to its header");
                    self.peer_tips.remove(&peer);
                    break;
                }
            };
            let chain = self.chain.clone();
            tokio::task::spawn_blocking(move || chain.commit(executed, &commit))
                .await
                .map_err(|e| EngineError::Consensus(format!("commit task: {e}")))??;
            self.chain.store().clear_height(h)?;
            self.selection = self.selection.next_height(&*self.chain.validators_at(h.next())?);
            applied += 1;
        }
        if applied > 0 {
            let tip = self.chain.tip().height;
            tracing::info!(blocks = applied, %tip, "block sync applied");
            self.status.send_modify(|s| s.synced_blocks += applied);
            self.start_height(tip.next()).await?;
            self.maybe_sync();
        }
        Ok(())
    }

    async fn effect(&mut self, effect: Effect) -> Result<Option<Input>, EngineError> {
        match effect {
            Effect::Broadcast(SignedMessage::Vote(v)) => {
                self.net.broadcast(&ConsensusMsg::Vote(v));
                Ok(None)
            }
            Effect::Broadcast(SignedMessage::Proposal(p)) => {
                let id = p.proposal.value_id;
                let block = match self.blocks.get(&id) {
                    Some(e) => Some(e.block.clone()),
                    None => match self.proposed.get(&id) {
                        Some((_, b)) => Some(b.clone()),
                        None => self.chain.store().pending_block(&Hash(id.0))?,
                    },
                };
                match block {
                    Some(block) => self.net.broadcast(&ConsensusMsg::Proposal { proposal: p, block: Box::new(block) }),
                    None => tracing::warn!(value = %Hash(id.0), "cannot broadcast a proposal without its block"),
                }
                Ok(None)
            }
            Effect::ScheduleTimeout { timeout, duration_ms } => {
                let tx = self.events_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(duration_ms)).await;
                    let _ = tx.send(Event::Timeout(timeout));
                });
                Ok(None)
            }
            Effect::RequestValue { height, round } => {
                let Some(me) = self.me else { return Ok(None) };
                let chain = self.chain.clone();
                let last_commit = chain.store().seen_commit().map_err(ChainError::from)?;
                let started = Instant::now();
                let now = self.byzantine.now_ms(now_ms());
                let mut executed = tokio::task::spawn_blocking(move || chain.build_block(me, now, last_commit))
                    .await
                    .map_err(|e| EngineError::Consensus(format!("block building task: {e}")))??;
                self.corrupt_proposal(&mut executed);
                tracing::debug!(%height, %round, txs = executed.block.txs.len(), ms = started.elapsed().as_millis() as u64, "built block");
                // The block must survive a crash once we may have signed it.
                self.chain.store().put_pending_block(&executed.block)?;
                let value_id = ValueId(executed.block.hash().0);
                self.blocks.insert(value_id, executed);
                Ok(Some(Input::ValueBuilt { height, round, value_id }))
            }
            Effect::ValidateValue { height, value_id, .. } => {
                // A live proposal: its time is checked against our clock.
                let now = self.byzantine.now_ms(now_ms());
                let valid = self.validate(value_id, Some(now)).await?;
                Ok(Some(Input::ValueValidated { height, value_id, valid }))
            }
            Effect::SignProposal(p) => {
                let (Some(signer), Some(file)) = (&mut self.signer, &mut self.signer_file) else { return Ok(None) };
                match signer.sign_proposal(&p) {
                    Ok(pending) => {
                        persist_signer(file, pending.state())?;
                        let signed = pending.release();
                        audit(&mut self.audit_log, &SignedMessage::Proposal(signed.clone()));
                        Ok(Some(Input::ProposalSigned(signed)))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "signer refused a proposal");
                        Ok(Some(Input::SignRefused {
                            height: p.height,
                            round: p.round,
                            step: consensus::Step::Propose,
                        }))
                    }
                }
            }
            Effect::SignVote(v) => {
                let (Some(signer), Some(file)) = (&mut self.signer, &mut self.signer_file) else { return Ok(None) };
                match signer.sign_vote(&v) {
                    Ok(pending) => {
                        persist_signer(file, pending.state())?;
                        let signed = pending.release();
                        audit(&mut self.audit_log, &SignedMessage::Vote(signed.clone()));
                        self.maybe_double_sign(&signed);
                        Ok(Some(Input::VoteSigned(signed)))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "signer refused a vote");
                        Ok(Some(Input::SignRefused { height: v.height, round: v.round, step: v.step() }))
                    }
                }
            }
            Effect::WalAppend(entry) => {
                let bytes = borsh::to_vec(&entry).map_err(|e| EngineError::Corrupt(e.to_string()))?;
                self.chain.store().wal_append(Height(entry.height().0), self.wal_seq, &bytes)?;
                self.wal_seq += 1;
                Ok(None)
            }
            Effect::Decide { height, value_id, certificate } => {
                self.decide(height, value_id, &certificate).await?;
                Ok(None)
            }
            Effect::Evidence(ev) => {
                let (h, offender) = crate::chain::evidence_height(&ev);
                tracing::warn!(height = %h, validator = %PublicKey(offender.0), "validator equivocation detected: evidence queued for the next block");
                self.chain.add_evidence(*ev);
                self.status.send_modify(|s| s.equivocations += 1);
                Ok(None)
            }
        }
    }

    /// Is the block behind `value_id` valid? Our own blocks are valid by
    /// construction; others are re-executed and must reproduce their header.
    /// `now_ms`: our clock for a live proposal, `None` for a decided block.
    /// An invalid block is a verdict (`false`: the core prevotes nil), never
    /// an error; only a node fault is.
    async fn validate(&mut self, value_id: ValueId, now_ms: Option<u64>) -> Result<bool, EngineError> {
        if self.blocks.contains_key(&value_id) {
            return Ok(true);
        }
        let block = match self.proposed.remove(&value_id) {
            Some((_, b)) => {
                // Kept durably: after a crash we may need it to re-propose or commit.
                self.chain.store().put_pending_block(&b)?;
                Some(b)
            }
            None => self.chain.store().pending_block(&Hash(value_id.0))?,
        };
        let Some(block) = block else {
            tracing::warn!(value = %Hash(value_id.0), "asked to validate a block this node does not have");
            return Ok(false);
        };
        let chain = self.chain.clone();
        let started = Instant::now();
        match tokio::task::spawn_blocking(move || chain.validate_block(block, now_ms))
            .await
            .map_err(|e| EngineError::Consensus(format!("validation task: {e}")))??
        {
            Ok(executed) => {
                tracing::debug!(
                    txs = executed.block.txs.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "validated block"
                );
                self.blocks.insert(value_id, executed);
                Ok(true)
            }
            Err(reason) => {
                tracing::warn!(value = %Hash(value_id.0), %reason, "refusing a proposed block: voting nil");
                Ok(false)
            }
        }
    }

    async fn decide(
        &mut self,
        height: consensus::Height,
        value_id: ValueId,
        certificate: &CommitCertificate,
    ) -> Result<(), EngineError> {
        // Decided by more than 2/3 of the power: not held to our clock.
        if !self.validate(value_id, None).await? {
            // Decided by > 2/3 of the power but not reproducible here (or we
            // never received the block): block sync will fetch it.
            tracing::error!(%height, value = %Hash(value_id.0), "decided block is missing or does not execute here; waiting for block sync");
            return Ok(());
        }
        let executed =
            self.blocks.remove(&value_id).ok_or_else(|| EngineError::Consensus("decided block vanished".into()))?;
        let commit = to_ledger_commit(certificate);
        let chain = self.chain.clone();
        let started = Instant::now();
        tokio::task::spawn_blocking(move || chain.commit(executed, &commit))
            .await
            .map_err(|e| EngineError::Consensus(format!("commit task: {e}")))??;
        tracing::debug!(%height, ms = started.elapsed().as_millis() as u64, "commit written");
        self.chain.store().clear_height(Height(height.0))?;
        let next = Height(height.0).next();
        self.selection = self.selection.next_height(&*self.chain.validators_at(next)?);
        let tx = self.events_tx.clone();
        let wait = self.interval;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.send(Event::NextHeight(next));
        });
        Ok(())
    }
}

/// A validator's key with its double-sign guard file.
#[derive(Debug)]
pub struct ValidatorKey {
    pub key: SigningKey,
    pub state_file: SignerStateFile,
    /// The guard state read from the file (`None`: never signed).
    pub state: Option<Vec<u8>>,
    /// Where to append an audit line per released signature, if enabled.
    pub audit_log: Option<std::fs::File>,
    /// Testing only: how this validator misbehaves (default: honest).
    pub byzantine: Byzantine,
}

/// One line of the signature audit log.
fn audit_line(msg: &SignedMessage) -> String {
    let (kind, h, r, value) = match msg {
        SignedMessage::Proposal(p) => ("proposal", p.proposal.height.0, p.proposal.round.0, Some(p.proposal.value_id)),
        SignedMessage::Vote(v) => {
            let kind = match v.vote.vote_type {
                consensus::VoteType::Prevote => "prevote",
                consensus::VoteType::Precommit => "precommit",
            };
            (kind, v.vote.height.0, v.vote.round.0, v.vote.value_id)
        }
    };
    let value = value.map_or("null".to_string(), |v| format!("\"{}\"", Hash(v.0)));
    format!(
        "{{\"validator\":\"{}\",\"height\":{h},\"round\":{r},\"step\":\"{kind}\",\"value\":{value},\"time_ms\":{}}}\n",
        PublicKey(msg.signer().0),
        now_ms()
    )
}

fn audit(log: &mut Option<std::fs::File>, msg: &SignedMessage) {
    if let Some(f) = log {
        use std::io::Write;
        if let Err(e) = f.write_all(audit_line(msg).as_bytes()) {
            tracing::warn!(error = %e, "cannot append to the signature log");
        }
    }
}

fn persist_signer(file: &mut SignerStateFile, state: &SignerState) -> Result<(), EngineError> {
    let bytes = borsh::to_vec(state).map_err(|e| EngineError::Corrupt(e.to_string()))?;
    file.write(&bytes).map_err(|e| EngineError::Corrupt(format!("writing the signer state: {e}")))
}
