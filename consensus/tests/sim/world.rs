//! The simulated world: one seeded RNG, a simulated clock and event queue,
//! the network (delays, drops, duplicates, partitions), crashes/restarts,
//! the application, and the node edge that executes the cores' effects.
//!
//! The network and block sync live in `net.rs`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use consensus::{
    ChainId, CommitCertificate, Effect, Height, Input, ProposerSelection, Round, SignedMessage, StartHeight, Step,
    Timeout, Validator, ValidatorId, ValidatorSet, ValueId, VotingPower,
};
use ed25519_dalek::SigningKey;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

use super::checker::{Checker, TraceEv, app_valid};
use super::node::SimNode;
use super::scenario::Scenario;

/// Window of the core's future-round storage (Config default).
pub const WINDOW: u32 = 10;

#[derive(Clone, Debug)]
pub enum NetMsg {
    Consensus(SignedMessage),
    /// "I am at this height": a peer that committed it answers with `Sync`.
    SyncRequest(Height),
    /// A committed height's certificate (block sync).
    Sync(Box<CommitCertificate>),
}

#[derive(Debug)]
pub enum Event {
    Deliver { from: usize, to: usize, msg: NetMsg },
    Timer { node: usize, inc: u32, timeout: Timeout },
    App { node: usize, inc: u32, input: Input },
    Crash(usize),
    Restart(usize),
    PartitionStart(usize),
    PartitionEnd(usize),
    Gst,
}

#[derive(Debug)]
struct Scheduled {
    time: u64,
    seq: u64,
    ev: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    // Min-heap on (time, seq): seq makes equal times deterministic.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

/// Fault and traffic counters of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub partitions: u64,
    pub crashes: u64,
    pub crash_at_sign: u64,
    pub equivocations: u64,
    pub random_votes: u64,
    pub evidence: u64,
    pub syncs: u64,
    pub refused_signatures: u64,
    pub invalid_built: u64,
    /// Honest prevotes for a value other than the voter's lock (legal
    /// through L28 with a newer POL; with the broken rule, also without).
    pub prevotes_against_lock: u64,
    /// Honest nodes' own precommits of the deciding round asked for by a
    /// decided core (`SignVote` after `Decide` in the batch order, or
    /// before it) and sent after the decision.
    pub decision_precommits: u64,
    pub max_round: u32,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.delivered += o.delivered;
        self.dropped += o.dropped;
        self.duplicated += o.duplicated;
        self.partitions += o.partitions;
        self.crashes += o.crashes;
        self.crash_at_sign += o.crash_at_sign;
        self.equivocations += o.equivocations;
        self.random_votes += o.random_votes;
        self.evidence += o.evidence;
        self.syncs += o.syncs;
        self.refused_signatures += o.refused_signatures;
        self.invalid_built += o.invalid_built;
        self.prevotes_against_lock += o.prevotes_against_lock;
        self.decision_precommits += o.decision_precommits;
        self.max_round = self.max_round.max(o.max_round);
    }
}

pub struct Sim {
    pub sc: Scenario,
    pub rng: ChaCha8Rng,
    pub now: u64,
    seq: u64,
    queue: BinaryHeap<Scheduled>,
    pub nodes: Vec<SimNode>,
    pub set: ValidatorSet,
    pub ids: Vec<ValidatorId>,
    pub chain: ChainId,
    sels: Vec<ProposerSelection>,
    pub checker: Checker,
    pub counts: Counts,
    pub active: Vec<usize>,
    broken_lock: bool,
    done: usize,
    /// First release time of an honest proposal, per (height, round).
    pub proposal_time: std::collections::BTreeMap<(Height, Round), u64>,
    /// (node, height, decided round, time) of honest core decisions.
    pub decisions: Vec<(usize, Height, Round, u64)>,
    last_round: Vec<(Height, Round)>,
    /// Fork attack roles per height: (victim decider, honest node kept
    /// from seeing the byzantine prevotes).
    pub fork: std::collections::BTreeMap<Height, Option<(usize, Vec<bool>)>>,
}

impl Sim {
    pub fn new(sc: Scenario, rng: ChaCha8Rng, broken_lock: bool, full_trace: bool) -> Sim {
        let chain = ChainId::new("agora-sim").unwrap_or_else(|e| panic!("{e}"));
        // Keys from the seeded RNG; canonical order is by key, so node i
        // is canonical validator i and gets powers[i].
        let mut rng = rng;
        let mut keys: Vec<SigningKey> = (0..sc.n())
            .map(|_| {
                let mut b = [0u8; 32];
                rng.fill_bytes(&mut b);
                SigningKey::from_bytes(&b)
            })
            .collect();
        keys.sort_by_key(|k| k.verifying_key().to_bytes());
        let ids: Vec<ValidatorId> = keys.iter().map(|k| ValidatorId(k.verifying_key().to_bytes())).collect();
        let set = ValidatorSet::new(
            ids.iter().zip(&sc.powers).map(|(id, p)| Validator { public_key: *id, power: VotingPower(*p) }).collect(),
        )
        .unwrap_or_else(|e| panic!("bad set: {e}"));
        let sels = vec![ProposerSelection::genesis(&set)];
        let n = keys.len();
        let nodes = keys.into_iter().enumerate().map(|(i, k)| SimNode::new(k, sc.byzantine[i], &chain)).collect();
        let honest = sc.byzantine.iter().map(|b| !b).collect();
        let mut checker = Checker::new(honest, sc.invalid_permille);
        checker.keep_all = full_trace;
        Sim {
            sc,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            set,
            ids,
            chain,
            sels,
            checker,
            counts: Counts::default(),
            active: Vec::new(),
            broken_lock,
            done: 0,
            proposal_time: Default::default(),
            decisions: Vec::new(),
            last_round: vec![(Height(0), Round(0)); n],
            fork: Default::default(),
        }
    }

    pub fn at(&mut self, time: u64, ev: Event) {
        self.seq += 1;
        self.queue.push(Scheduled { time, seq: self.seq, ev });
    }

    /// One line per node: height, round, step, lock, valid, decision.
    pub fn node_states(&self) -> String {
        let mut s = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let st = n.core.as_ref().and_then(|c| c.state());
            s.push_str(&format!(
                "    node {i}{}: {:?}\n",
                if n.byzantine { " (byzantine)" } else { "" },
                st.map(|st| (st.height.0, st.round.0, st.step, st.locked, st.valid, st.decision))
            ));
        }
        s
    }

    pub fn honest(&self, i: usize) -> bool {
        !self.nodes[i].byzantine
    }

    pub fn time_limit(&self) -> u64 {
        self.sc.gst + self.sc.heights * self.sc.liveness_bound_ms + 5_000
    }

    /// Runs until every honest node committed `heights` blocks (or the time
    /// limit), checking invariants along the way.
    pub fn run(&mut self) {
        let honest_count = self.nodes.iter().filter(|n| !n.byzantine).count();
        for k in 0..self.sc.partitions.len() {
            let (s, e) = (self.sc.partitions[k].start, self.sc.partitions[k].end);
            self.at(s, Event::PartitionStart(k));
            self.at(e, Event::PartitionEnd(k));
        }
        for c in self.sc.crashes.clone() {
            self.at(c.at, Event::Crash(c.node));
            self.at(c.restart_at, Event::Restart(c.node));
        }
        self.at(self.sc.gst, Event::Gst);
        for i in 0..self.nodes.len() {
            self.restart(i);
        }
        let limit = self.time_limit();
        while self.done < honest_count {
            let Some(s) = self.queue.pop() else { break };
            if s.time > limit {
                break;
            }
            self.now = s.time;
            self.dispatch(s.ev);
        }
        let (gst, heights, bound) = (self.sc.gst, self.sc.heights, self.sc.liveness_bound_ms);
        self.checker.liveness(self.now, gst, heights, bound);
    }

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
            Event::Timer { node, inc, timeout } => {
                if self.nodes[node].incarnation == inc {
                    self.feed(node, Input::TimeoutElapsed(timeout));
                }
            }
            Event::App { node, inc, input } => {
                if self.nodes[node].incarnation == inc {
                    self.feed(node, input);
                }
            }
            Event::Crash(i) => self.crash(i),
            Event::Restart(i) => self.restart(i),
            Event::PartitionStart(k) => {
                self.active.push(k);
                self.counts.partitions += 1;
                let side = self.sc.partitions[k].side.clone();
                self.checker.trace(self.now, TraceEv::Partition(side));
            }
            Event::PartitionEnd(k) => {
                self.active.retain(|x| *x != k);
                self.checker.trace(self.now, TraceEv::Heal);
            }
            Event::Gst => self.checker.trace(self.now, TraceEv::Gst),
        }
    }

    fn crash(&mut self, i: usize) {
        if self.nodes[i].core.is_some() {
            self.nodes[i].crash();
            self.counts.crashes += 1;
            self.checker.trace(self.now, TraceEv::Crash(i));
        }
    }

    /// Boot or restart from persisted state: guard, WAL, committed blocks.
    fn restart(&mut self, i: usize) {
        if self.nodes[i].core.is_some() {
            return;
        }
        let broken = self.broken_lock;
        let chain = self.chain.clone();
        self.nodes[i].boot(&chain, self.sc.timeouts, broken);
        let h = self.nodes[i].next_height();
        if self.now > 0 {
            self.checker.trace(self.now, TraceEv::Restart(i, h));
        }
        // The WAL of this height, plus the guard's last signed message if a
        // crash hit between the guard's persist and the WAL append.
        let wal = self.nodes[i].guard.recover_wal(h, self.nodes[i].wal_for(h));
        self.nodes[i].wal = wal.clone(); // persisted, recovered entry included
        let input = self.start_input(h, wal);
        self.feed(i, input);
    }

    /// `S_h`: carried from height to height exactly as a node would.
    fn start_input(&mut self, h: Height, wal: Vec<consensus::WalEntry>) -> Input {
        while self.sels.len() < h.0 as usize {
            let next = self.sels[self.sels.len() - 1].next_height(&self.set);
            self.sels.push(next);
        }
        let sel = self.sels[(h.0 - 1) as usize].clone();
        Input::StartHeight(Box::new(StartHeight {
            height: h,
            validators: self.set.clone(),
            proposer_selection: sel,
            wal,
        }))
    }

    pub fn feed(&mut self, i: usize, input: Input) {
        let mut work = VecDeque::from([input]);
        self.drain(i, &mut work);
    }

    pub fn drain(&mut self, i: usize, work: &mut VecDeque<Input>) {
        while let Some(input) = work.pop_front() {
            if let Input::StartHeight(sh) = &input
                && let Some((h, r)) = self.nodes[i].owed_precommit.take()
                && sh.height > h
            {
                self.checker.violation(
                    self.now,
                    format!("node {i} left height {h} without sending its precommit of deciding round {r}"),
                );
            }
            let Some(core) = self.nodes[i].core.as_mut() else {
                return;
            };
            if let Ok(effects) = core.handle(input) {
                self.execute_all(i, effects, work);
            }
        }
    }

    pub fn execute_all(&mut self, i: usize, effects: Vec<Effect>, work: &mut VecDeque<Input>) {
        for e in effects {
            if self.nodes[i].core.is_none() {
                return; // crashed mid-way: the rest never happens
            }
            self.execute(i, e, work);
        }
        if let Some(st) = self.nodes[i].core.as_ref().and_then(|c| c.state()) {
            self.counts.max_round = self.counts.max_round.max(st.round.0);
            if st.round.0 > 0 && self.last_round[i] != (st.height, st.round) {
                self.checker.trace(self.now, TraceEv::EnterRound(i, st.height, st.round));
            }
            self.last_round[i] = (st.height, st.round);
        }
    }

    /// The node edge: carries out one effect.
    fn execute(&mut self, i: usize, e: Effect, work: &mut VecDeque<Input>) {
        let inc = self.nodes[i].incarnation;
        match e {
            Effect::Broadcast(m) => {
                if let SignedMessage::Vote(sv) = &m
                    && sv.vote.validator == self.ids[i]
                    && self.owes(i, &sv.vote)
                {
                    self.nodes[i].owed_precommit = None;
                    self.counts.decision_precommits += 1;
                }
                if self.nodes[i].byzantine {
                    self.byz_broadcast(i, m);
                } else {
                    self.broadcast(i, NetMsg::Consensus(m));
                }
            }
            Effect::ScheduleTimeout { timeout, duration_ms } => {
                self.at(self.now + duration_ms, Event::Timer { node: i, inc, timeout })
            }
            Effect::RequestValue { height, round } => {
                let mut b = [0u8; 32];
                self.rng.fill_bytes(&mut b);
                let value_id = ValueId(b);
                if !app_valid(&value_id, self.sc.invalid_permille) {
                    self.counts.invalid_built += 1;
                }
                let delay = self.rng.gen_range(0..=self.sc.build_max_ms);
                let input = Input::ValueBuilt { height, round, value_id };
                self.at(self.now + delay, Event::App { node: i, inc, input });
            }
            Effect::ValidateValue { height, value_id, .. } => {
                let valid = app_valid(&value_id, self.sc.invalid_permille);
                let delay = self.rng.gen_range(0..=self.sc.validate_max_ms);
                let input = Input::ValueValidated { height, value_id, valid };
                self.at(self.now + delay, Event::App { node: i, inc, input });
            }
            Effect::SignProposal(p) => self.sign_proposal(i, p, work),
            Effect::SignVote(v) => {
                if self.owes(i, &v) {
                    self.nodes[i].owed_precommit = Some((v.height, v.round));
                }
                self.sign_vote(i, v, work)
            }
            Effect::WalAppend(m) => self.nodes[i].wal_append(m),
            Effect::Decide { height, value_id, certificate } => {
                if certificate.verify(&self.set, &self.chain).is_err() {
                    self.checker.violation(self.now, format!("node {i} decided with a bad certificate"));
                }
                if self.honest(i) {
                    self.decisions.push((i, height, certificate.round, self.now));
                }
                self.checker.trace(self.now, TraceEv::Decide(i, height, certificate.round, value_id));
                self.commit(i, height, value_id, certificate, work);
                self.maybe_crash_after_decide(i, height);
            }
            Effect::Evidence(ev) => {
                self.counts.evidence += 1;
                let (set, chain, ids) = (&self.set, &self.chain, &self.ids);
                if self.honest(i) {
                    self.checker.evidence(self.now, i, &ev, set, chain, ids);
                }
                self.nodes[i].evidence_keys.insert(ev.key());
            }
        }
    }

    /// Is `v` honest node `i`'s own precommit of the round its (decided)
    /// core decided in? Such a precommit, asked for by the core after the
    /// decision, must be sent before the next height starts (unless the
    /// guard refuses it or the node crashes).
    fn owes(&self, i: usize, v: &consensus::Vote) -> bool {
        let st = self.nodes[i].core.as_ref().and_then(|c| c.state());
        self.honest(i)
            && v.validator == self.ids[i]
            && v.vote_type == consensus::VoteType::Precommit
            && st.is_some_and(|st| st.height == v.height && st.decision.is_some_and(|(r, _)| r == v.round))
    }

    /// Commit a decided block (from the core or from sync) and start the
    /// next height.
    pub fn commit(&mut self, i: usize, h: Height, v: ValueId, cert: CommitCertificate, work: &mut VecDeque<Input>) {
        self.checker.decided(self.now, i, h, v);
        if self.honest(i) && h.0 == self.sc.heights && !self.nodes[i].store.contains_key(&h) {
            self.done += 1;
        }
        self.nodes[i].store.insert(h, (v, cert));
        self.nodes[i].wal.clear();
        let input = self.start_input(Height(h.0 + 1), Vec::new());
        work.push_back(input);
    }

    fn sign_vote(&mut self, i: usize, v: consensus::Vote, work: &mut VecDeque<Input>) {
        if self.nodes[i].byzantine {
            let sv = consensus::signing::sign_vote_unguarded(&self.nodes[i].key, &self.chain, v);
            work.push_back(Input::VoteSigned(sv));
            return;
        }
        let lock = self.nodes[i].core.as_ref().and_then(|c| c.state()).and_then(|s| s.locked);
        if v.vote_type == consensus::VoteType::Prevote
            && let (Some((_, l)), Some(x)) = (lock, v.value_id)
            && l != x
        {
            self.counts.prevotes_against_lock += 1;
        }
        match self.nodes[i].signer.sign_vote(&v) {
            Ok(pending) => {
                // Persist the guard state before the signature is released.
                self.nodes[i].guard = pending.state().clone();
                self.checker.honest_signed_vote(self.now, i, &v);
                if self.crash_at_sign(i, v.height, v.round, v.step()) {
                    return;
                }
                work.push_back(Input::VoteSigned(pending.release()));
            }
            Err(_) => {
                self.counts.refused_signatures += 1;
                if self.nodes[i].owed_precommit == Some((v.height, v.round)) {
                    self.nodes[i].owed_precommit = None; // refused: nothing to send
                }
                work.push_back(Input::SignRefused { height: v.height, round: v.round, step: v.step() });
            }
        }
    }

    fn sign_proposal(&mut self, i: usize, p: consensus::Proposal, work: &mut VecDeque<Input>) {
        if self.nodes[i].byzantine {
            let mut p = p;
            let amnesia = self.forking() || self.rng.gen_range(0..1000) < self.sc.byz.fresh_proposal_permille;
            if p.pol_round.is_some() && amnesia {
                // Amnesia: forget validValue, propose something new (valid).
                p.value_id = self.fresh_valid_value();
                p.pol_round = None;
            }
            self.checker.proposed(&p);
            let sp = consensus::signing::sign_proposal_unguarded(&self.nodes[i].key, &self.chain, p);
            work.push_back(Input::ProposalSigned(sp));
            return;
        }
        match self.nodes[i].signer.sign_proposal(&p) {
            Ok(pending) => {
                self.nodes[i].guard = pending.state().clone();
                self.checker.honest_signed_proposal(self.now, i, &p);
                if self.crash_at_sign(i, p.height, p.round, Step::Propose) {
                    return;
                }
                self.proposal_time.entry((p.height, p.round)).or_insert(self.now);
                work.push_back(Input::ProposalSigned(pending.release()));
            }
            Err(_) => {
                self.counts.refused_signatures += 1;
                work.push_back(Input::SignRefused { height: p.height, round: p.round, step: Step::Propose });
            }
        }
    }

    /// A random value the app will judge valid.
    pub fn fresh_valid_value(&mut self) -> ValueId {
        loop {
            let mut b = [0u8; 32];
            self.rng.fill_bytes(&mut b);
            if app_valid(&ValueId(b), self.sc.invalid_permille) {
                return ValueId(b);
            }
        }
    }

    /// Before GST, sometimes crash between the guard's persist and the WAL
    /// write: the signature exists (the guard remembers it) but is lost.
    fn crash_at_sign(&mut self, i: usize, h: Height, r: Round, step: Step) -> bool {
        if self.now >= self.sc.gst || self.rng.gen_range(0..1000) >= self.sc.crash_at_sign_permille {
            return false;
        }
        self.nodes[i].crash();
        self.counts.crash_at_sign += 1;
        self.counts.crashes += 1;
        self.checker.trace(self.now, TraceEv::CrashAtSign(i, h, r, step));
        let back = (self.now + self.rng.gen_range(200..=3_000)).min(self.sc.gst);
        self.at(back.max(self.now + 1), Event::Restart(i));
        true
    }

    /// Before GST, sometimes crash an honest node right after it committed.
    fn maybe_crash_after_decide(&mut self, i: usize, h: Height) {
        let fork_victim = self.forking() && self.fork_roles(h).is_some_and(|(v, _)| v == i);
        if self.nodes[i].byzantine
            || self.now >= self.sc.gst
            || (!fork_victim && self.rng.gen_range(0..1000) >= self.sc.crash_after_decide_permille)
        {
            return;
        }
        self.crash(i);
        // Back only at GST: until then nobody can learn the decision from it.
        self.at(self.sc.gst.max(self.now + 1), Event::Restart(i));
    }
}
