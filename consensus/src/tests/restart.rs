//! Crash/restart: resuming from the signer's guard state and the WAL of our
//! own signed messages.

use super::{A::*, Fixture, Harness, P, non_proposer, patterns};
use crate::*;

const EQ: [u64; 4] = [1, 1, 1, 1];

fn wal(h: &Harness) -> Vec<WalEntry> {
    h.log
        .iter()
        .filter_map(|e| match e {
            Effect::WalAppend(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn own(h: &Harness, wal: &[WalEntry]) -> Vec<SignedMessage> {
    wal.iter()
        .filter_map(|e| match e {
            WalEntry::Message(m) if m.signer() == h.fx.id(h.me) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn restart(h: &Harness, wal: Vec<WalEntry>) -> Harness {
    Harness::with(Fixture::new(&EQ), h.me, h.signer.state().clone(), wal)
}

#[test]
fn replay_restores_round_step_and_lock() {
    let me = non_proposer(&EQ);
    let mut h = Harness::new(&EQ, me);
    for a in [Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1)), Pv(1, 0, Some(1))] {
        h.act(a).unwrap();
    }
    let before = h.state();
    assert_eq!(before.locked, Some((0, 1)));
    let wal = wal(&h);
    // Our prevote, the two other prevotes of the POL (persisted when we
    // locked, before our precommit), our precommit.
    assert_eq!(wal.len(), 4);
    let own = own(&h, &wal);
    assert_eq!(own.len(), 2);
    let mut r = restart(&h, wal.clone());
    let after = r.state();
    assert_eq!(after.round, 0);
    assert_eq!(after.step, Step::Precommit);
    assert_eq!(after.locked, Some((0, 1)));
    // The replayed messages were re-broadcast, nothing was signed again.
    let rebroadcast: Vec<SignedMessage> = r
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Broadcast(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(rebroadcast, own);
    assert!(!r.log.iter().any(|e| matches!(e, Effect::SignVote(_))));
    // The lock still binds after the restart: a fresh proposal for another
    // value in round 1 gets a nil prevote.
    for a in [Pc(0, 0, None), Pc(1, 0, None), To(0, TimeoutKind::Precommit)] {
        r.act(a).unwrap();
    }
    r.act(Prop(1, 2, None)).unwrap();
    let e = r.act(Valid(2, true)).unwrap();
    assert_eq!(patterns(&e), vec![P::Prevote(1, None)]);
}

#[test]
fn refused_signature_after_lost_wal_entry_does_not_stall() {
    let me = non_proposer(&EQ);
    let mut h = Harness::new(&EQ, me);
    for a in [Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1)), Pv(1, 0, Some(1))] {
        h.act(a).unwrap();
    }
    // Crash after the guard persisted the precommit but before the WAL got
    // it: the WAL only holds the prevote.
    let mut wal = wal(&h);
    wal.truncate(1);
    let mut r = restart(&h, wal);
    assert_eq!(r.state().step, Step::Prevote);
    assert_eq!(r.state().locked, None);
    // Peers re-deliver the proposal and their prevotes: L36 asks to
    // precommit value 1 again. Byte-identical to what the guard signed, so
    // it is re-signed and sent, and the lock is back.
    for a in [Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1))] {
        r.act(a).unwrap();
    }
    let e = r.act(Pv(1, 0, Some(1))).unwrap();
    assert_eq!(patterns(&e), vec![P::Precommit(0, Some(1))]);
    assert!(e.iter().any(|x| matches!(x,
        Effect::Broadcast(SignedMessage::Vote(v)) if v.vote.vote_type == VoteType::Precommit)));
    assert_eq!(r.state().locked, Some((0, 1)));

    // Now the conflicting case: WAL holds only the prevote, and the node
    // times out instead (prevote timeout -> precommit nil) — the guard
    // refuses, nothing is broadcast, and the round still ends by timeout.
    let mut wal2 = self::wal(&h);
    wal2.truncate(1);
    let mut r = restart(&h, wal2);
    r.act(Pv(1, 0, None)).unwrap();
    r.act(Pv(2, 0, None)).unwrap(); // 2f+1 prevotes for anything -> L34
    let e = r.act(To(0, TimeoutKind::Prevote)).unwrap();
    // Refused -> nothing sent, the precommit timeout starts at once.
    assert_eq!(patterns(&e), vec![P::Precommit(0, None), P::Sched(TimeoutKind::Precommit, 0)]);
    assert!(!e.iter().any(|x| matches!(x, Effect::Broadcast(_))), "a refused signature must not be broadcast");
    assert_eq!(r.state().step, Step::Precommit);
    r.act(To(0, TimeoutKind::Precommit)).unwrap();
    assert_eq!(r.state().round, 1);
    // Round 1: signing works again.
    let e = r.act(To(1, TimeoutKind::Propose)).unwrap();
    assert!(e.iter().any(|x| matches!(x, Effect::Broadcast(_))));
}

#[test]
fn proposer_does_not_repropose_after_restart() {
    let fx = Fixture::new(&EQ);
    let me = fx.proposer(0);
    let mut h = Harness::new(&EQ, me);
    h.act(Built(0, 7)).unwrap();
    let wal = wal(&h);
    assert!(matches!(wal.as_slice(), [WalEntry::Message(SignedMessage::Proposal(_))]));
    let r = restart(&h, wal);
    let p = patterns(&r.log);
    assert!(!p.iter().any(|x| matches!(x, P::ReqVal(_) | P::Propose(..))));
    assert!(p.contains(&P::Validate(7)));
    assert!(r.log.iter().any(|e| matches!(e, Effect::Broadcast(SignedMessage::Proposal(_)))));
    assert_eq!(r.state().step, Step::Propose);
}

#[test]
fn replayed_messages_of_other_heights_or_signers_are_ignored() {
    let me = non_proposer(&EQ);
    let h = Harness::new(&EQ, me);
    let other = h.fx.vote(h.other(0), VoteType::Prevote, 1, 3, None);
    let old = h.fx.vote(me, VoteType::Precommit, 0, 5, Some(1));
    let r =
        restart(&h, vec![WalEntry::Message(SignedMessage::Vote(other)), WalEntry::Message(SignedMessage::Vote(old))]);
    assert_eq!(r.state().round, 0);
    assert_eq!(r.state().locked, None);
}

#[test]
fn guard_message_recovers_a_lost_wal_entry() {
    let me = non_proposer(&EQ);
    let mut h = Harness::new(&EQ, me);
    for a in [Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1)), Pv(1, 0, Some(1))] {
        h.act(a).unwrap();
    }
    // Crash after the guard persisted our precommit, before the WAL got it.
    let mut lost = wal(&h);
    lost.pop();
    let recovered = h.signer.state().recover_wal(Height(1), lost);
    let r = restart(&h, recovered.clone());
    assert_eq!(r.state().step, Step::Precommit);
    assert_eq!(r.state().locked, Some((0, 1)));
    // The recovered precommit is re-broadcast; nothing is signed or refused.
    assert!(r.log.iter().any(|e| matches!(e,
        Effect::Broadcast(SignedMessage::Vote(v)) if v.vote.vote_type == VoteType::Precommit)));
    assert!(!r.log.iter().any(|e| matches!(e, Effect::SignVote(_))));
}

#[test]
fn restored_pol_travels_with_the_reproposal() {
    // Lock on value 1 in round 0, crash, restart from the WAL (which holds
    // the POL), and reach round 3 where we propose: the re-proposal carries
    // the POL prevotes of round 0 restored from the WAL.
    let me = non_proposer(&EQ);
    let mut h = Harness::new(&EQ, me);
    for a in [Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1)), Pv(1, 0, Some(1))] {
        h.act(a).unwrap();
    }
    let mut r = restart(&h, wal(&h));
    // f+1 of round 2 -> skip there, then time the round out to round 3.
    for a in [Pc(0, 2, None), Pc(1, 2, None), Pc(2, 2, None)] {
        r.act(a).unwrap();
    }
    let e = r.act(To(2, TimeoutKind::Precommit)).unwrap();
    assert!(patterns(&e).contains(&P::Propose(3, 1, Some(0))));
    let pol: Vec<_> = e
        .iter()
        .filter(|x| {
            matches!(x, Effect::Broadcast(SignedMessage::Vote(v))
            if v.vote.round.0 == 0 && v.vote.value_id == Some(super::val(1)))
        })
        .collect();
    assert_eq!(pol.len(), 3);
}

#[test]
fn round_entries_in_the_wal_resume_the_round() {
    let me = non_proposer(&EQ);
    let mut h = Harness::new(&EQ, me);
    // Round 0 times out without us signing anything in round 1 yet.
    h.act(To(0, TimeoutKind::Precommit)).unwrap();
    let wal = wal(&h);
    assert_eq!(wal, vec![WalEntry::Round(Height(1), Round(1))]);
    let r = restart(&h, wal);
    assert_eq!(r.state().round, 1);
    assert_eq!(r.state().step, Step::Propose);
}
