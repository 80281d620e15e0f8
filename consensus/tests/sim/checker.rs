//! Invariant checks, run as the simulation goes (after every step), plus a
//! compact trace for failure reports.
//!
//! - agreement: no two honest nodes decide different values at one height;
//! - validity: a decided value was proposed (signed proposal seen) and the
//!   app judges it valid;
//! - no honest equivocation: an honest node never signs two different
//!   messages for one (height, round, step), across restarts;
//! - evidence: an honest node that accepted two conflicting votes of one
//!   validator reports it (and every evidence verifies and names a
//!   byzantine validator);
//! - liveness: after GST each height is decided by every honest node within
//!   `liveness_bound_ms` (checked at the end);
//! - own precommit at the decision: a precommit of the deciding round that
//!   an honest decided core asks for is sent before the node starts the
//!   next height, unless the guard refuses it or the node crashes (checked
//!   in `world.rs`, where effects are carried out).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use consensus::{ChainId, EvidenceKey, Height, Proposal, Round, Step, ValidatorId, ValidatorSet, ValueId, Vote};

/// Validity oracle of the simulated application: deterministic in the id.
pub fn app_valid(v: &ValueId, invalid_permille: u32) -> bool {
    let x = u32::from(u16::from_le_bytes([v.0[0], v.0[1]])) % 1000;
    x >= invalid_permille
}

#[derive(Clone, Debug)]
pub enum TraceEv {
    Gst,
    Crash(usize),
    CrashAtSign(usize, Height, Round, Step),
    Restart(usize, Height),
    Partition(Vec<bool>),
    Heal,
    Decide(usize, Height, Round, ValueId),
    EnterRound(usize, Height, Round),
    Sync(usize, Height, ValueId),
    Equivocation(usize, Height, Round),
    Violation(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SignedKind {
    Proposal,
    Vote(Step),
}

#[derive(Debug)]
pub struct Checker {
    pub honest: Vec<bool>,
    invalid_permille: u32,
    decisions: BTreeMap<Height, (ValueId, usize)>,
    pub decide_time: BTreeMap<(usize, Height), u64>,
    proposed: BTreeSet<ValueId>,
    signed: BTreeMap<(usize, Height, Round, SignedKind), Vec<u8>>,
    pub violations: Vec<String>,
    trace: VecDeque<(u64, TraceEv)>,
    pub agreement_violation: bool,
    /// Keep the whole trace (single-seed replays), not just the tail.
    pub keep_all: bool,
}

const TRACE_KEEP: usize = 48;

impl Checker {
    pub fn new(honest: Vec<bool>, invalid_permille: u32) -> Checker {
        Checker {
            honest,
            invalid_permille,
            decisions: BTreeMap::new(),
            decide_time: BTreeMap::new(),
            proposed: BTreeSet::new(),
            signed: BTreeMap::new(),
            violations: Vec::new(),
            trace: VecDeque::new(),
            agreement_violation: false,
            keep_all: false,
        }
    }

    pub fn trace(&mut self, now: u64, ev: TraceEv) {
        if self.trace.len() == TRACE_KEEP && !self.keep_all {
            self.trace.pop_front();
        }
        self.trace.push_back((now, ev));
    }

    pub fn violation(&mut self, now: u64, what: String) {
        self.trace(now, TraceEv::Violation(what.clone()));
        self.violations.push(format!("t={now}ms {what}"));
    }

    /// Any signed proposal (honest or not) makes its value "proposed".
    pub fn proposed(&mut self, p: &Proposal) {
        self.proposed.insert(p.value_id);
    }

    /// An honest node's guard released a signature.
    pub fn honest_signed_vote(&mut self, now: u64, node: usize, v: &Vote) {
        let bytes = borsh::to_vec(v).unwrap_or_default();
        self.honest_signed(now, node, v.height, v.round, SignedKind::Vote(v.step()), bytes);
    }

    pub fn honest_signed_proposal(&mut self, now: u64, node: usize, p: &Proposal) {
        self.proposed(p);
        let bytes = borsh::to_vec(p).unwrap_or_default();
        self.honest_signed(now, node, p.height, p.round, SignedKind::Proposal, bytes);
    }

    fn honest_signed(&mut self, now: u64, node: usize, h: Height, r: Round, kind: SignedKind, bytes: Vec<u8>) {
        match self.signed.get(&(node, h, r, kind)) {
            Some(prev) if *prev != bytes => {
                self.violation(now, format!("honest equivocation: node {node} signed two {kind:?} at {h}/{r}"))
            }
            Some(_) => {}
            None => {
                self.signed.insert((node, h, r, kind), bytes);
            }
        }
    }

    /// An honest node decided (by its core, or by adopting a certificate).
    pub fn decided(&mut self, now: u64, node: usize, h: Height, v: ValueId) {
        if !self.honest[node] {
            return;
        }
        self.decide_time.entry((node, h)).or_insert(now);
        match self.decisions.get(&h) {
            Some((w, first)) if *w != v => {
                let first = *first;
                let w = *w;
                self.agreement_violation = true;
                self.violation(
                    now,
                    format!("AGREEMENT: height {h}: node {first} decided {w}, node {node} decided {v}"),
                );
            }
            Some(_) => {}
            None => {
                self.decisions.insert(h, (v, node));
            }
        }
        if !self.proposed.contains(&v) {
            self.violation(now, format!("VALIDITY: {v} decided at {h} was never proposed"));
        }
        if !app_valid(&v, self.invalid_permille) {
            self.violation(now, format!("VALIDITY: {v} decided at {h} is invalid"));
        }
    }

    pub fn evidence(
        &mut self,
        now: u64,
        node: usize,
        e: &consensus::Evidence,
        set: &ValidatorSet,
        chain: &ChainId,
        ids: &[ValidatorId],
    ) {
        if let Err(err) = e.verify(set, chain) {
            self.violation(now, format!("node {node} reported bad evidence: {err}"));
        }
        let offender = ids.iter().position(|id| *id == e.offender());
        if offender.is_none_or(|o| self.honest[o]) {
            self.violation(now, format!("node {node} reported evidence against honest {offender:?}"));
        }
    }

    /// End-of-run liveness check.
    pub fn liveness(&mut self, now: u64, gst: u64, heights: u64, bound: u64) {
        let mut prev = 0u64;
        for h in 1..=heights {
            let mut last = 0u64;
            for node in 0..self.honest.len() {
                if !self.honest[node] {
                    continue;
                }
                match self.decide_time.get(&(node, Height(h))) {
                    Some(t) => last = last.max(*t),
                    None => {
                        self.violation(now, format!("LIVENESS: node {node} never decided height {h}"));
                        return;
                    }
                }
            }
            let deadline = gst.max(prev) + bound;
            if last > deadline {
                self.violation(now, format!("LIVENESS: height {h} fully decided at {last}ms > deadline {deadline}ms"));
            }
            prev = last;
        }
    }

    /// True once an honest node decided `h`.
    pub fn is_decided(&self, h: Height) -> bool {
        self.decisions.contains_key(&h)
    }

    pub fn trace_summary(&self) -> String {
        let mut s = String::new();
        for (t, ev) in &self.trace {
            s.push_str(&format!("    t={t:>7}ms {ev:?}\n"));
        }
        s
    }

    pub fn evidence_key_of(v: &Vote) -> EvidenceKey {
        EvidenceKey::Vote(v.validator, v.height, v.round, v.vote_type)
    }
}
