//! Our own precommit at the decision: a validator that decides from
//! others' precommits without having precommitted in the deciding round
//! still signs and sends its precommit for the decided value (so it is in
//! the next block's last commit), and nothing else happens after the
//! decision.

use super::{A::*, Fixture, Harness, P, chain, non_proposer, patterns, val};
use crate::*;

const EQ: [u64; 4] = [1, 1, 1, 1];

fn own_precommits(log: &[Effect], r: u32) -> Vec<Option<ValueId>> {
    log.iter()
        .filter_map(|e| match e {
            Effect::SignVote(v) if v.vote_type == VoteType::Precommit && v.round == Round(r) => Some(v.value_id),
            _ => None,
        })
        .collect()
}

#[test]
fn decider_still_in_propose_signs_and_sends_its_precommit() {
    let fx = Fixture::new(&EQ);
    let me = non_proposer(&EQ);
    let mut core = Consensus::new(Config::new(chain(), Some(fx.id(me)))).unwrap();
    let mut signer = Signer::new(fx.keys[me].clone(), chain(), SignerState::default());
    let mut all = core.handle(fx.start(1)).unwrap();
    // 2f+1 precommits for value 1 at round 0 while we are still in Propose.
    for o in (0..4).filter(|i| *i != me) {
        all.extend(core.handle(Input::VoteReceived(fx.vote(o, VoteType::Precommit, 1, 0, Some(1)))).unwrap());
    }
    all.extend(core.handle(Input::ProposalReceived(fx.proposal(1, 0, 1, None))).unwrap());
    let e = core.handle(Input::ValueValidated { height: Height(1), value_id: val(1), valid: true }).unwrap();
    // Exactly: our precommit for (1, 0, v) first, then Decide.
    let expected = Vote::precommit(Height(1), Round(0), Some(val(1)), fx.id(me));
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0], Effect::SignVote(expected.clone()));
    assert!(matches!(&e[1], Effect::Decide { value_id, .. } if *value_id == val(1)));
    all.extend(e);
    // Never a prevote.
    assert!(!all.iter().any(|x| matches!(x, Effect::SignVote(v) if v.vote_type == VoteType::Prevote)));
    let st = core.state().unwrap();
    assert_eq!((st.step, st.decision), (Step::Propose, Some((Round(0), val(1)))));
    // The signed precommit is taken although the height is decided: WAL,
    // then broadcast, nothing else.
    let sv = signer.sign_vote(&expected).unwrap().release();
    let msg = SignedMessage::Vote(sv.clone());
    assert!(!core.is_known(&msg));
    let back = core.handle(Input::VoteSigned(sv.clone())).unwrap();
    assert_eq!(back, vec![Effect::WalAppend(WalEntry::Message(msg.clone())), Effect::Broadcast(msg.clone())]);
    assert!(core.is_known(&msg));
    // Idempotent; other late answers for the decided height do nothing.
    assert_eq!(core.handle(Input::VoteSigned(sv)), Ok(vec![]));
    let other = Vote::prevote(Height(1), Round(0), Some(val(1)), fx.id(me));
    let other = crate::signing::sign_vote_unguarded(&fx.keys[me], &chain(), other);
    assert_eq!(core.handle(Input::VoteSigned(other)), Ok(vec![]));
    let refused = Input::SignRefused { height: Height(1), round: Round(0), step: Step::Precommit };
    assert_eq!(core.handle(refused), Ok(vec![]));
    assert_eq!(core.state().unwrap().decision, Some((Round(0), val(1))));
}

#[test]
fn refused_decision_precommit_is_harmless() {
    let fx = Fixture::new(&EQ);
    let me = non_proposer(&EQ);
    let mut core = Consensus::new(Config::new(chain(), Some(fx.id(me)))).unwrap();
    core.handle(fx.start(1)).unwrap();
    core.handle(Input::ProposalReceived(fx.proposal(1, 0, 1, None))).unwrap();
    core.handle(Input::ValueValidated { height: Height(1), value_id: val(1), valid: true }).unwrap();
    let mut last = Vec::new();
    for o in (0..4).filter(|i| *i != me) {
        last = core.handle(Input::VoteReceived(fx.vote(o, VoteType::Precommit, 1, 0, Some(1)))).unwrap();
    }
    assert!(matches!(last.first(), Some(Effect::SignVote(v)) if v.vote_type == VoteType::Precommit));
    let refused = Input::SignRefused { height: Height(1), round: Round(0), step: Step::Precommit };
    assert_eq!(core.handle(refused), Ok(vec![]));
    // The next height starts normally.
    let e = core.handle(fx.start(2)).unwrap();
    assert!(patterns(&e).contains(&P::Sched(TimeoutKind::Propose, 0)));
}

#[test]
fn decider_through_the_edge_broadcasts_its_precommit() {
    // With the node-like harness (guarded signer, auto feedback): our
    // precommit for v is signed, logged and broadcast; we never prevoted.
    let mut h = Harness::new(&EQ, non_proposer(&EQ));
    h.act(Prop(0, 1, None)).unwrap();
    h.act(Pc(0, 0, Some(1))).unwrap();
    h.act(Pc(1, 0, Some(1))).unwrap();
    h.act(Pc(2, 0, Some(1))).unwrap();
    let e = h.act(Valid(1, true)).unwrap();
    assert_eq!(patterns(&e), vec![P::Precommit(0, Some(1)), P::Decide(1)]);
    let me = h.fx.id(h.me);
    let sent: Vec<&SignedVote> = e
        .iter()
        .filter_map(|x| match x {
            Effect::Broadcast(SignedMessage::Vote(sv)) if sv.vote.validator == me => Some(sv),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].vote, Vote::precommit(Height(1), Round(0), Some(val(1)), me));
    assert!(sent[0].verify(&chain(), h.fx.set.key(h.me)).is_ok());
    let wal = e.iter().position(|x| matches!(x, Effect::WalAppend(WalEntry::Message(m)) if m.signer() == me));
    let bc = e.iter().position(|x| matches!(x, Effect::Broadcast(m) if m.signer() == me));
    assert!(wal.unwrap() < bc.unwrap(), "WAL before broadcast");
    assert!(!h.log.iter().any(|x| matches!(x, Effect::SignVote(v) if v.vote_type == VoteType::Prevote)));
}

#[test]
fn decider_that_precommitted_nil_does_not_precommit_again() {
    let mut h = Harness::new(&EQ, non_proposer(&EQ));
    h.act(To(0, TimeoutKind::Propose)).unwrap(); // prevote nil
    h.act(Pv(0, 0, None)).unwrap();
    h.act(Pv(1, 0, None)).unwrap(); // L44: precommit nil
    assert_eq!(own_precommits(&h.log, 0), vec![None]);
    h.act(Prop(0, 1, None)).unwrap();
    h.act(Valid(1, true)).unwrap();
    h.act(Pc(0, 0, Some(1))).unwrap();
    h.act(Pc(1, 0, Some(1))).unwrap();
    let e = h.act(Pc(2, 0, Some(1))).unwrap();
    assert_eq!(patterns(&e), vec![P::Decide(1)]);
    assert_eq!(own_precommits(&h.log, 0), vec![None]);
}

#[test]
fn decider_that_precommitted_the_value_does_not_precommit_again() {
    let mut h = Harness::new(&EQ, non_proposer(&EQ));
    h.act(Prop(0, 1, None)).unwrap();
    h.act(Valid(1, true)).unwrap();
    h.act(Pv(0, 0, Some(1))).unwrap();
    h.act(Pv(1, 0, Some(1))).unwrap(); // L36: precommit 1
    h.act(Pc(0, 0, Some(1))).unwrap();
    let e = h.act(Pc(1, 0, Some(1))).unwrap();
    assert_eq!(patterns(&e), vec![P::Decide(1)]);
    assert_eq!(own_precommits(&h.log, 0), vec![Some(val(1))]);
}

#[test]
fn decider_that_signed_in_a_later_round_does_not_ask() {
    // Round 1 prevote signed: the guard would refuse a round-0 precommit,
    // so the core does not ask for it.
    let mut h = Harness::new(&EQ, non_proposer(&EQ));
    h.act(Pv(0, 1, None)).unwrap();
    h.act(Pv(1, 1, None)).unwrap(); // L55 -> round 1
    h.act(To(1, TimeoutKind::Propose)).unwrap(); // prevote nil in round 1
    h.act(Prop(0, 1, None)).unwrap();
    h.act(Valid(1, true)).unwrap();
    h.act(Pc(0, 0, Some(1))).unwrap();
    h.act(Pc(1, 0, Some(1))).unwrap();
    let e = h.act(Pc(2, 0, Some(1))).unwrap();
    assert_eq!(patterns(&e), vec![P::Decide(1)]);
    assert!(own_precommits(&h.log, 0).is_empty());
}

#[test]
fn observer_decides_without_signing() {
    let fx = Fixture::new(&EQ);
    let mut core = Consensus::new(Config::new(chain(), None)).unwrap();
    core.handle(fx.start(1)).unwrap();
    core.handle(Input::ProposalReceived(fx.proposal(1, 0, 1, None))).unwrap();
    core.handle(Input::ValueValidated { height: Height(1), value_id: val(1), valid: true }).unwrap();
    let mut e = Vec::new();
    for o in 0..3 {
        e.extend(core.handle(Input::VoteReceived(fx.vote(o, VoteType::Precommit, 1, 0, Some(1)))).unwrap());
    }
    assert_eq!(patterns(&e), vec![P::Decide(1)]);
}

#[test]
fn restart_after_the_decision_precommit_does_not_ask_again() {
    // Crash after our decision precommit reached the WAL but before the
    // commit: the replay restores it, and the re-decision asks for nothing.
    let mut h = Harness::new(&EQ, non_proposer(&EQ));
    h.act(Prop(0, 1, None)).unwrap();
    h.act(Pc(0, 0, Some(1))).unwrap();
    h.act(Pc(1, 0, Some(1))).unwrap();
    h.act(Pc(2, 0, Some(1))).unwrap();
    h.act(Valid(1, true)).unwrap();
    let wal: Vec<WalEntry> = h
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::WalAppend(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(wal.len(), 1);
    let guard = h.signer.state().clone();
    let fx = Fixture::new(&EQ);
    let mut r = Harness::with(fx, h.me, guard, wal);
    // The lock restored from it is the decided value (harmless).
    assert_eq!(r.state().locked, Some((0, 1)));
    r.act(Prop(0, 1, None)).unwrap();
    r.act(Valid(1, true)).unwrap();
    r.act(Pc(0, 0, Some(1))).unwrap();
    let e = r.act(Pc(1, 0, Some(1))).unwrap();
    assert_eq!(patterns(&e), vec![P::Decide(1)]);
}
