//! Unit-test harness: a fixture of validators with keys, a node-like driver
//! that signs the core's `SignVote`/`SignProposal` through the guarded
//! signer and feeds them back, and a small language of actions and expected
//! effects for the table-driven rule tests.
#![allow(clippy::unwrap_used)]

mod certificate;
mod decision;
mod gossip;
mod intake;
mod restart;
mod rules;

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;

use crate::signing::{sign_proposal_unguarded, sign_vote_unguarded};
use crate::*;

pub(crate) fn val(n: u8) -> ValueId {
    ValueId([n; 32])
}

pub(crate) fn chain() -> ChainId {
    ChainId::new("agora-test").unwrap()
}

/// Validators with keys, in canonical order (index = canonical index).
pub(crate) struct Fixture {
    pub keys: Vec<SigningKey>,
    pub set: ValidatorSet,
    pub sel: ProposerSelection,
}

impl Fixture {
    pub fn new(powers: &[u64]) -> Fixture {
        let mut by_id: BTreeMap<ValidatorId, (SigningKey, u64)> = BTreeMap::new();
        for (i, p) in powers.iter().enumerate() {
            let key = SigningKey::from_bytes(&[i as u8 + 1; 32]);
            by_id.insert(ValidatorId(key.verifying_key().to_bytes()), (key, *p));
        }
        // Canonical order is by id; powers are assigned in that order so
        // that `powers[i]` is the power of canonical index i.
        let ids: Vec<ValidatorId> = by_id.keys().copied().collect();
        let keys: Vec<SigningKey> = by_id.into_values().map(|(k, _)| k).collect();
        let set = ValidatorSet::new(
            ids.iter().zip(powers).map(|(id, p)| Validator { public_key: *id, power: VotingPower(*p) }).collect(),
        )
        .unwrap();
        let sel = ProposerSelection::genesis(&set);
        Fixture { keys, set, sel }
    }

    pub fn id(&self, i: usize) -> ValidatorId {
        ValidatorId(self.keys[i].verifying_key().to_bytes())
    }

    pub fn proposer(&self, round: u32) -> usize {
        let id = self.sel.proposer(Round(round));
        self.set.index_of(&id).unwrap()
    }

    pub fn vote(&self, who: usize, t: VoteType, h: u64, r: u32, v: Option<u8>) -> SignedVote {
        let vote =
            Vote { vote_type: t, height: Height(h), round: Round(r), value_id: v.map(val), validator: self.id(who) };
        sign_vote_unguarded(&self.keys[who], &chain(), vote)
    }

    pub fn proposal(&self, h: u64, r: u32, v: u8, pol: Option<u32>) -> SignedProposal {
        let who = self.proposer(r);
        self.proposal_by(who, h, r, v, pol)
    }

    pub fn proposal_by(&self, who: usize, h: u64, r: u32, v: u8, pol: Option<u32>) -> SignedProposal {
        let p = Proposal {
            height: Height(h),
            round: Round(r),
            value_id: val(v),
            pol_round: pol.map(Round),
            proposer: self.id(who),
        };
        sign_proposal_unguarded(&self.keys[who], &chain(), p)
    }

    pub fn start(&self, h: u64) -> Input {
        Input::StartHeight(Box::new(StartHeight {
            height: Height(h),
            validators: self.set.clone(),
            proposer_selection: self.sel.clone(),
            wal: Vec::new(),
        }))
    }
}

/// Actions of the table tests. `usize` arguments index the *other*
/// validators (0 = first validator that is not us, …).
#[derive(Clone, Copy, Debug)]
pub(crate) enum A {
    /// Proposal from the round's proposer: (round, value, POL round).
    Prop(u32, u8, Option<u32>),
    /// Prevote from another validator: (who, round, value|nil).
    Pv(usize, u32, Option<u8>),
    /// Precommit from another validator.
    Pc(usize, u32, Option<u8>),
    /// The app's verdict on a value.
    Valid(u8, bool),
    /// A timer fires: (round, kind).
    To(u32, TimeoutKind),
    /// The app built a value: (round, value).
    Built(u32, u8),
}

/// Expected effects, ignoring Broadcast/WalAppend and the rebroadcast timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum P {
    Prevote(u32, Option<u8>),
    Precommit(u32, Option<u8>),
    Sched(TimeoutKind, u32),
    ReqVal(u32),
    Validate(u8),
    Propose(u32, u8, Option<u32>),
    Decide(u8),
    Evidence,
}

fn byte(v: ValueId) -> u8 {
    v.0[0]
}

pub(crate) fn patterns(effects: &[Effect]) -> Vec<P> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SignVote(v) => {
                let b = v.value_id.map(byte);
                Some(match v.vote_type {
                    VoteType::Prevote => P::Prevote(v.round.0, b),
                    VoteType::Precommit => P::Precommit(v.round.0, b),
                })
            }
            Effect::ScheduleTimeout { timeout, .. } if timeout.kind != TimeoutKind::Rebroadcast => {
                Some(P::Sched(timeout.kind, timeout.round.0))
            }
            Effect::RequestValue { round, .. } => Some(P::ReqVal(round.0)),
            Effect::ValidateValue { value_id, .. } => Some(P::Validate(byte(*value_id))),
            Effect::SignProposal(p) => Some(P::Propose(p.round.0, byte(p.value_id), p.pol_round.map(|r| r.0))),
            Effect::Decide { value_id, .. } => Some(P::Decide(byte(*value_id))),
            Effect::Evidence(_) => Some(P::Evidence),
            _ => None,
        })
        .collect()
}

/// Expected state: round, step, locked (round, value), valid (round, value),
/// decided value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct S {
    pub round: u32,
    pub step: Step,
    pub locked: Option<(u32, u8)>,
    pub valid: Option<(u32, u8)>,
    pub decided: Option<u8>,
}

/// A core plus a node-like edge (guarded signer, auto feedback).
pub(crate) struct Harness {
    pub fx: Fixture,
    pub me: usize,
    pub core: Consensus,
    pub signer: Signer,
    pub height: u64,
    /// Every effect ever produced (for WAL/restart tests).
    pub log: Vec<Effect>,
}

impl Harness {
    /// `me` = canonical index of our validator.
    pub fn new(powers: &[u64], me: usize) -> Harness {
        let fx = Fixture::new(powers);
        Harness::with(fx, me, SignerState::default(), Vec::new())
    }

    pub fn with(fx: Fixture, me: usize, guard: SignerState, wal: Vec<WalEntry>) -> Harness {
        let core = Consensus::new(Config::new(chain(), Some(fx.id(me)))).unwrap();
        let signer = Signer::new(fx.keys[me].clone(), chain(), guard);
        let mut h = Harness { fx, me, core, signer, height: 1, log: Vec::new() };
        let start = Input::StartHeight(Box::new(StartHeight {
            height: Height(1),
            validators: h.fx.set.clone(),
            proposer_selection: h.fx.sel.clone(),
            wal,
        }));
        h.feed(start).unwrap();
        h
    }

    /// Index of the `n`-th validator other than us.
    pub fn other(&self, n: usize) -> usize {
        (0..self.fx.keys.len()).filter(|i| *i != self.me).nth(n).unwrap()
    }

    /// Feeds an input, signing whatever the core asks to sign (as the node
    /// would) and feeding the signed messages back. Returns all effects.
    pub fn feed(&mut self, input: Input) -> Result<Vec<Effect>, Error> {
        let first = self.core.handle(input)?;
        let mut all = Vec::new();
        let mut queue = first;
        while !queue.is_empty() {
            let mut next = Vec::new();
            for e in queue {
                let follow = match &e {
                    Effect::SignVote(v) => Some(match self.signer.sign_vote(v) {
                        Ok(p) => Input::VoteSigned(p.release()),
                        Err(_) => Input::SignRefused { height: v.height, round: v.round, step: v.step() },
                    }),
                    Effect::SignProposal(p) => Some(match self.signer.sign_proposal(p) {
                        Ok(s) => Input::ProposalSigned(s.release()),
                        Err(_) => Input::SignRefused { height: p.height, round: p.round, step: Step::Propose },
                    }),
                    _ => None,
                };
                self.log.push(e.clone());
                all.push(e);
                if let Some(i) = follow {
                    next.extend(self.core.handle(i)?);
                }
            }
            queue = next;
        }
        Ok(all)
    }

    pub fn act(&mut self, a: A) -> Result<Vec<Effect>, Error> {
        let h = self.height;
        let input = match a {
            A::Prop(r, v, pol) => Input::ProposalReceived(self.fx.proposal(h, r, v, pol)),
            A::Pv(o, r, v) => Input::VoteReceived(self.fx.vote(self.other(o), VoteType::Prevote, h, r, v)),
            A::Pc(o, r, v) => Input::VoteReceived(self.fx.vote(self.other(o), VoteType::Precommit, h, r, v)),
            A::Valid(v, ok) => Input::ValueValidated { height: Height(h), value_id: val(v), valid: ok },
            A::To(r, kind) => Input::TimeoutElapsed(Timeout { height: Height(h), round: Round(r), kind }),
            A::Built(r, v) => Input::ValueBuilt { height: Height(h), round: Round(r), value_id: val(v) },
        };
        self.feed(input)
    }

    pub fn state(&self) -> S {
        let s = self.core.state().unwrap();
        S {
            round: s.round.0,
            step: s.step,
            locked: s.locked.map(|(r, v)| (r.0, byte(v))),
            valid: s.valid.map(|(r, v)| (r.0, byte(v))),
            decided: s.decision.map(|(_, v)| byte(v)),
        }
    }
}

/// Picks our index: a validator that proposes none of rounds 0..=2 (so that
/// proposals in those rounds come from others).
pub(crate) fn non_proposer(powers: &[u64]) -> usize {
    let fx = Fixture::new(powers);
    let props: Vec<usize> = (0..3).map(|r| fx.proposer(r)).collect();
    (0..powers.len()).find(|i| !props.contains(i)).unwrap()
}
