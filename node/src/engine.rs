//! The consensus host: the loop that feeds the pure `consensus` core its
//! inputs (network messages, timers, the executor's answers, its own
//! signatures) and carries out its effects. It never waits for a block to
//! execute: building, validating and committing run on the [`executor`]
//! thread and come back as inputs, so votes and proposals keep flowing
//! while a block executes or is written. Block sync decisions are made by
//! the sans-IO [`crate::sync`] state machine; the network is reached only
//! through bounded queues.
//!
//! - Proposals travel with their block, its transactions named by hash
//!   ([`compact`]: filled from the mempool, the rest fetched from the
//!   sender), then judged as full proposals. A body is kept (in the
//!   [`proposals`] store, bounded per proposer) only after the proposal's
//!   signature verified and the body matched the signed header, so a
//!   tampered copy is refused as a message and never decides the value's
//!   validity. A value whose body is missing is validated when a body
//!   arrives, never judged invalid for lack of it.
//! - Every gossiped consensus message gets a verdict for gossipsub: forward
//!   (new to the core and inside its round window), drop (duplicates, late,
//!   early, outside the window, a full mailbox) or drop and penalise the
//!   sender (bad signature, not a validator, wrong proposer, tampered body).
//! - A node without a key in the validator set runs the core as an observer:
//!   it follows decisions from the gossip and block sync and serves RPC.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consensus::{
    ChainId, Config as CoreConfig, Consensus, Effect, Input, SignedMessage, Signer, SignerState, StartHeight, Timeout,
    ValidatorId, ValidatorSet, ValueId, WalEntry,
};
use ledger::{Hash, Height, PublicKey, SigningKey};
use libp2p::PeerId;
use libp2p::gossipsub::MessageAcceptance;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::chain::{Chain, ChainError};
use crate::convert::to_ledger_commit;
use crate::p2p::{ConsensusMsg, MAX_SYNC_BLOCKS, NetEvent, NetworkHandle};
use crate::privval::SignerStateFile;
use crate::sync::{Answer, Sync, SyncAction};

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
    /// Compact proposals since start: filled from the mempool, completed
    /// by fetching transactions from a peer, and not filled.
    pub compact_filled: u64,
    pub compact_fetched: u64,
    pub compact_unfilled: u64,
}

mod byzantine;
pub mod compact;
pub mod executor;
mod gossip;
pub mod proposals;
mod signing;
mod staking;

pub use byzantine::{Byzantine, InvalidTxKind};
pub use signing::ValidatorKey;

use executor::{Done, Job, SyncRest};
use proposals::ProposalStore;

/// A copy of a message this node forwarded is forwarded again at most this
/// often (longer than gossip's duplicate cache, so a replayed copy cannot be
/// amplified; short enough that a rebroadcast crosses hops within seconds).
const RELAY_AGAIN: Duration = Duration::from_secs(5);

/// Timers the host runs (the core's timeouts and the block interval).
#[derive(Clone, Copy, Debug)]
enum Timer {
    Core(Timeout),
    NextHeight(Height),
}

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
    /// Bodies that came with proposals.
    proposals: ProposalStore,
    /// Values the core asked to validate before their body arrived, with
    /// the (height, round) they were proposed in.
    awaiting_body: BTreeMap<ValueId, (Height, u32)>,
    /// Messages this node forwarded, by content hash, and when: a copy of one
    /// is forwarded again at most every [`RELAY_AGAIN`] (so rebroadcasts
    /// cross several hops, and replays cannot make it amplify).
    relayed: BTreeMap<Hash, Instant>,
    /// Compact proposals waiting for transactions from a peer.
    fetches: compact::Fetches,
    /// Values being validated by the executor, with their (height, round).
    validating: BTreeMap<ValueId, (Height, u32)>,
    /// Propose timeouts held back until the validation of a proposal of
    /// their round completes (see [`Engine::fire_timers`]).
    deferred: Vec<Timeout>,
    /// Jobs not yet taken by the executor's mailbox, in order.
    backlog: VecDeque<Job>,
    jobs: Option<mpsc::Sender<Job>>,
    /// Precommits for the decided value that arrived (or that we cast)
    /// after the decision: added to the stored certificate once committed.
    pending_late: staking::PendingLate,
    /// The peer whose blocks the executor is applying.
    applying_sync: Option<PeerId>,
    wal_seq: u64,
    /// The block interval: the next height starts this long after the
    /// previous one started, or as soon as it is committed if that took
    /// longer (a target time between blocks, not a pause after each).
    interval: Duration,
    timers: BTreeMap<(Instant, u64), Timer>,
    timer_seq: u64,
    net: NetworkHandle,
    sync: Sync<PeerId>,
    height_started: Instant,
    status: watch::Sender<ConsensusStatus>,
    /// Testing only: how this validator misbehaves (honest by default), and
    /// the key it misbehaves with.
    byzantine: Byzantine,
    byzantine_key: Option<SigningKey>,
    /// The last height at which a message signed with our key but not by
    /// this process arrived (warned about once per height).
    own_key_warned: Option<consensus::Height>,
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
                proposals: ProposalStore::default(),
                awaiting_body: BTreeMap::new(),
                validating: BTreeMap::new(),
                deferred: Vec::new(),
                backlog: VecDeque::new(),
                jobs: None,
                pending_late: staking::PendingLate::new(),
                relayed: BTreeMap::new(),
                fetches: compact::Fetches::default(),
                applying_sync: None,
                wal_seq: 0,
                interval,
                timers: BTreeMap::new(),
                timer_seq: 0,
                net,
                sync: Sync::with_one_behind_grace(crate::sync::one_behind_grace_for(base)),
                height_started: Instant::now(),
                status,
                byzantine,
                byzantine_key,
                own_key_warned: None,
            },
            status_rx,
        ))
    }

    /// Is this node a validator of the current set?
    pub fn is_validator(&self) -> bool {
        self.me.is_some_and(|me| self.validators.get(&ValidatorId(me.0)).is_some())
    }

    /// Runs until `shutdown` flips; the executor finishes the job it is on
    /// (a block being committed lands whole) before this returns.
    pub async fn run(
        mut self,
        mut net_events: mpsc::Receiver<NetEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), EngineError> {
        let (done_tx, mut done) = mpsc::channel(executor::RESULTS);
        self.jobs = Some(executor::start(self.chain.clone(), done_tx));
        let result = self.run_loop(&mut net_events, &mut done, &mut shutdown).await;
        // Closing the mailbox stops the executor after its current job.
        self.jobs = None;
        self.backlog.clear();
        while done.recv().await.is_some() {}
        result
    }

    async fn run_loop(
        &mut self,
        net_events: &mut mpsc::Receiver<NetEvent>,
        done: &mut mpsc::Receiver<Result<Done, ChainError>>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), EngineError> {
        self.start_height(self.chain.tip().height.next())?;
        let mut sync_tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            let next_timer = self.timers.keys().next().map(|(t, _)| *t);
            tokio::select! {
                _ = tokio::time::sleep_until(next_timer.unwrap_or_else(Instant::now)), if next_timer.is_some() => {
                    self.fire_timers()?;
                }
                d = done.recv() => match d {
                    Some(Ok(d)) => self.on_done(d)?,
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(EngineError::Consensus("the executor stopped".into())),
                },
                ev = net_events.recv() => match ev {
                    Some(ev) => self.on_net(ev)?,
                    None => return Ok(()),
                },
                _ = sync_tick.tick() => {
                    self.poll_sync();
                    self.expire_fetches()?;
                }
                _ = shutdown.changed() => return Ok(()),
            }
            self.pump();
            self.publish_status();
        }
    }

    fn fire_timers(&mut self) -> Result<(), EngineError> {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                // A proposal of this round that arrived is judged before its
                // propose timeout counts (as a node that validates inline
                // does): the timeout waits for the executor. Delaying a
                // timeout never costs safety, and execution is bounded by
                // the block's gas and size limits.
                Timer::Core(t)
                    if t.kind == consensus::TimeoutKind::Propose
                        && self.validating.values().any(|(h, r)| h.0 == t.height.0 && *r == t.round.0) =>
                {
                    self.deferred.push(t);
                }
                Timer::Core(t) => {
                    let _ = self.step(Input::TimeoutElapsed(t))?;
                }
                Timer::NextHeight(h) => self.start_height(h)?,
            }
        }
        Ok(())
    }

    fn schedule(&mut self, after: Duration, timer: Timer) {
        self.timer_seq += 1;
        self.timers.insert((Instant::now() + after, self.timer_seq), timer);
    }

    /// Queues a job for the executor (in order; see [`Engine::pump`]).
    fn submit(&mut self, job: Job) {
        self.backlog.push_back(job);
        self.pump();
    }

    /// Hands queued jobs to the executor's mailbox while it has room, the
    /// most urgent first (see [`Job::priority`]). The backlog is bounded by
    /// the core (a build per round, a validation per proposed value, a
    /// commit per height, one sync batch at a time) and emptied of older
    /// heights at every new height.
    fn pump(&mut self) {
        let Some(jobs) = &self.jobs else { return };
        while let Some(best) = (0..self.backlog.len()).min_by_key(|i| (self.backlog[*i].priority(), *i)) {
            let Some(job) = self.backlog.remove(best) else { break };
            match jobs.try_send(job) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) => {
                    self.backlog.insert(best, job);
                    break;
                }
            }
        }
    }

    fn publish_status(&self) {
        let st = self.core.state();
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
            s.syncing = self.sync.is_syncing() || self.applying_sync.is_some();
            s.best_peer_height = self.sync.best_claim().0;
            s.synced_blocks = self.sync.synced;
        });
    }

    /// How long to wait after a commit before starting the next height: what
    /// is left of the block interval since this height started, and at least
    /// a tenth of the interval. A full block
    /// that took longer than the interval to decide and write is followed at
    /// once (a pause after every commit would put the whole interval on the
    /// critical path of every height under load).
    fn next_height_delay(&self) -> Duration {
        // A tenth of the interval at least: the precommits that come just
        // after the decision still join the stored certificate, so slower
        // honest validators are credited (and not counted as missing).
        self.interval.saturating_sub(self.height_started.elapsed()).max(self.interval / 10)
    }

    /// Starts (or, after a restart, resumes from its WAL) `height`, which must
    /// follow the tip. Stale requests (the height was already started, or
    /// block sync moved past it) are ignored.
    fn start_height(&mut self, height: Height) -> Result<(), EngineError> {
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
        // The core's decision moved on: what belonged to older heights goes.
        // Read first: block sync may move the tip meanwhile (then this start
        // is stale and the sync path starts the right height).
        let proposer_selection = match self.chain.proposer_selection_at(height) {
            Ok(s) => s,
            Err(ChainError::Unavailable(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        self.proposals.start_height(height);
        self.awaiting_body.retain(|_, (h, _)| *h >= height);
        self.drop_fetches_below(height)?;
        self.validating.retain(|_, (h, _)| *h >= height);
        self.deferred.retain(|t| t.height.0 >= height.0);
        self.relayed.clear();
        self.pending_late.clear();
        self.backlog.retain(|j| match j {
            Job::Build { height: h, .. } | Job::Validate { height: h, .. } => *h >= height,
            Job::Commit { .. } | Job::Synced { .. } => true,
        });
        self.timers.retain(|_, t| match t {
            Timer::Core(t) => t.height.0 >= height.0,
            Timer::NextHeight(h) => *h >= height,
        });
        self.height_started = Instant::now();
        let set = self.chain.validators_at(height)?;
        if *set != self.validators {
            tracing::info!(%height, validators = set.len(), total_power = set.total_power().0, "validator set changed");
            self.validators = (*set).clone();
        }
        let start = StartHeight {
            height: consensus::Height(height.0),
            validators: self.validators.clone(),
            // Stored with every block: start-up does not replay the chain.
            proposer_selection,
            wal,
        };
        match self.step(Input::StartHeight(Box::new(start)))? {
            Err(e) if !e.is_benign() => Err(EngineError::Consensus(format!("starting height {height}: {e}"))),
            _ => Ok(()),
        }
    }

    /// Feeds one input and carries out the effects, including the inputs
    /// those effects produce, until the core is quiet. Returns the core's
    /// verdict on the first input (for gossip validation).
    fn step(&mut self, input: Input) -> Result<Result<(), consensus::Error>, EngineError> {
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
                if let Some(next) = self.effect(effect)? {
                    inputs.push_back(next);
                }
            }
        }
        Ok(first.unwrap_or(Ok(())))
    }

    fn on_net(&mut self, ev: NetEvent) -> Result<(), EngineError> {
        let now = now_ms();
        match ev {
            NetEvent::Consensus { msg: ConsensusMsg::CompactProposal { proposal, block }, id, from, content } => {
                if let Some(verdict) = self.on_compact(proposal, block, &id, content, from)? {
                    self.net.report(id, from, verdict);
                }
            }
            NetEvent::Consensus { msg, id, from, content } => {
                let verdict = self.on_consensus(msg, content, from, None)?;
                self.net.report(id, from, verdict);
            }
            NetEvent::Txs { peer, tag, txs } => self.on_txs(peer, tag, txs)?,
            NetEvent::TxsFailed { peer, tag } => self.on_txs_failed(peer, tag)?,
            NetEvent::PeerStatus { peer, tip } => {
                self.sync.on_tip(peer, tip, now);
                self.poll_sync();
            }
            NetEvent::PeerGone(peer) => self.sync_actions(|s| s.on_peer_gone(peer, now)),
            NetEvent::Blocks { peer, blocks } => {
                if blocks.is_empty() {
                    let tip = self.chain.tip().height;
                    self.sync_actions(|s| s.on_answer(peer, Answer::Applied(0), tip, now));
                } else if self.applying_sync.is_none() {
                    self.applying_sync = Some(peer);
                    self.submit(Job::Synced { blocks });
                }
            }
            NetEvent::SyncFailed { peer, reason } => {
                tracing::debug!(%peer, %reason, "block request failed");
                let answer = if reason == crate::p2p::BUSY { Answer::Busy } else { Answer::Failed(reason) };
                let tip = self.chain.tip().height;
                self.sync_actions(|s| s.on_answer(peer, answer, tip, now));
            }
        }
        Ok(())
    }

    /// Asks the sync state machine what to do, unless a batch is being applied.
    fn poll_sync(&mut self) {
        if self.applying_sync.is_some() {
            return;
        }
        let tip = self.chain.tip().height;
        let age = u64::try_from(self.height_started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let now = now_ms();
        self.sync_actions(|s| s.poll(tip, age, now));
    }

    fn sync_actions(&mut self, f: impl FnOnce(&mut Sync<PeerId>) -> Vec<SyncAction<PeerId>>) {
        for action in f(&mut self.sync) {
            match action {
                SyncAction::Request { peer, from } => {
                    tracing::info!(%peer, %from, "behind a peer: fetching blocks");
                    self.net.request_blocks(peer, from, MAX_SYNC_BLOCKS);
                }
                SyncAction::Penalise { peer, reason } => self.net.penalise(peer, reason),
            }
        }
    }

    fn on_done(&mut self, done: Done) -> Result<(), EngineError> {
        match done {
            Done::Built { height, round, value_id, block } => {
                if let Some(me) = self.me {
                    self.proposals.insert(height, round, me, value_id, *block);
                }
                let _ = self.step(Input::ValueBuilt {
                    height: consensus::Height(height.0),
                    round: consensus::Round(round),
                    value_id,
                })?;
            }
            Done::Validated { height, value_id, valid } => {
                self.validating.remove(&value_id);
                let _ = self.step(Input::ValueValidated { height: consensus::Height(height.0), value_id, valid })?;
                let (due, wait): (Vec<Timeout>, Vec<Timeout>) = std::mem::take(&mut self.deferred)
                    .into_iter()
                    .partition(|t| !self.validating.values().any(|(h, r)| h.0 == t.height.0 && *r == t.round.0));
                self.deferred = wait;
                for t in due {
                    let _ = self.step(Input::TimeoutElapsed(t))?;
                }
            }
            Done::Committed { height } => {
                // Precommits that came after the decision join the stored
                // certificate (ours included).
                for (_, v) in std::mem::take(&mut self.pending_late) {
                    if v.vote.height.0 == height.0 {
                        let _ = self.add_late(&v)?;
                    }
                }
                self.schedule(self.next_height_delay(), Timer::NextHeight(height.next()));
            }
            Done::CommitFailed { height, value_id } => {
                // Decided by > 2/3 of the power but not reproducible here (or
                // we never received the block): block sync will fetch it.
                tracing::error!(%height, value = %Hash(value_id.0), "decided block is missing or does not execute here; waiting for block sync");
            }
            Done::Synced { applied, rest } => {
                let Some(peer) = self.applying_sync.take() else { return Ok(()) };
                let now = now_ms();
                let tip = self.chain.tip().height;
                let answer = match rest {
                    SyncRest::Done => Answer::Applied(applied),
                    SyncRest::Invalid(reason) => {
                        // The good blocks before the bad one still count.
                        self.sync.synced += applied;
                        Answer::Invalid(reason)
                    }
                    SyncRest::NotApplicable(reason) => {
                        tracing::error!(%peer, %reason, "a certified block does not execute here");
                        self.sync.synced += applied;
                        Answer::NotApplicable(reason)
                    }
                };
                self.sync_actions(|s| s.on_answer(peer, answer, tip, now));
                if applied > 0 {
                    tracing::info!(blocks = applied, %tip, "block sync applied");
                    self.start_height(tip.next())?;
                    self.poll_sync();
                }
            }
        }
        Ok(())
    }

    fn effect(&mut self, effect: Effect) -> Result<Option<Input>, EngineError> {
        match effect {
            Effect::Broadcast(SignedMessage::Vote(v)) => {
                self.net.broadcast(&ConsensusMsg::Vote(v));
                Ok(None)
            }
            Effect::Broadcast(SignedMessage::Proposal(p)) => {
                let id = p.proposal.value_id;
                let block = match self.proposals.get(&id) {
                    Some(b) => Some(b.clone()),
                    None => self.chain.store().pending_block(&Hash(id.0))?,
                };
                match block {
                    // Transactions by hash: the validators hold them already.
                    Some(block) => self.net.broadcast(&ConsensusMsg::CompactProposal {
                        proposal: p,
                        block: Box::new(ledger::CompactBlock::of(&block)),
                    }),
                    None => tracing::warn!(value = %Hash(id.0), "cannot broadcast a proposal without its block"),
                }
                Ok(None)
            }
            Effect::ScheduleTimeout { timeout, duration_ms } => {
                self.schedule(Duration::from_millis(duration_ms), Timer::Core(timeout));
                Ok(None)
            }
            Effect::RequestValue { height, round } => {
                let Some(me) = self.me else { return Ok(None) };
                let last_commit = self.chain.store().seen_commit().map_err(ChainError::from)?;
                let now = self.byzantine.now_ms(now_ms());
                let corrupt = self.corruption();
                self.submit(Job::Build {
                    height: Height(height.0),
                    round: round.0,
                    proposer: me,
                    now_ms: now,
                    last_commit,
                    corrupt,
                });
                Ok(None)
            }
            Effect::ValidateValue { height, round, value_id } => {
                self.request_validation(Height(height.0), round.0, value_id);
                Ok(None)
            }
            Effect::SignProposal(p) => {
                let (Some(signer), Some(file)) = (&mut self.signer, &mut self.signer_file) else { return Ok(None) };
                match signer.sign_proposal(&p) {
                    Ok(pending) => {
                        signing::persist_signer(file, pending.state())?;
                        let signed = pending.release();
                        signing::audit(&mut self.audit_log, &SignedMessage::Proposal(signed.clone()));
                        self.maybe_flood_proposals(&signed);
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
                        signing::persist_signer(file, pending.state())?;
                        let signed = pending.release();
                        signing::audit(&mut self.audit_log, &SignedMessage::Vote(signed.clone()));
                        self.maybe_double_sign(&signed);
                        self.maybe_flood_votes(&signed);
                        if self.core.state().is_some_and(|s| s.decision.is_some() && s.height == signed.vote.height) {
                            // Cast after the decision: it joins the stored
                            // certificate once the block is committed.
                            self.pending_late.insert(signed.vote.validator, signed.clone());
                        }
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
                let height = Height(height.0);
                let block = self.proposals.get(&value_id).map(|b| Box::new(b.clone()));
                self.submit(Job::Commit { height, value_id, commit: to_ledger_commit(&certificate), block });
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
}
