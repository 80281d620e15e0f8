//! Message intake: verification, duplicates, bounds, evidence and
//! power-weighted thresholds.

use ed25519_dalek::SigningKey;

use super::{A::*, Fixture, Harness, P, chain, non_proposer, patterns, val};
use crate::signing::sign_vote_unguarded;
use crate::*;

const EQ: [u64; 4] = [1, 1, 1, 1];

fn harness() -> Harness {
    Harness::new(&EQ, non_proposer(&EQ))
}

fn vote_input(h: &Harness, who: usize, t: VoteType, height: u64, r: u32, v: Option<u8>) -> Input {
    Input::VoteReceived(h.fx.vote(who, t, height, r, v))
}

#[test]
fn duplicate_vote_is_idempotent_and_not_double_counted() {
    let mut h = harness();
    h.act(To(0, TimeoutKind::Propose)).unwrap(); // our prevote nil
    let o = h.other(0);
    let first = h.feed(vote_input(&h, o, VoteType::Prevote, 1, 0, None)).unwrap();
    assert!(patterns(&first).is_empty());
    // The same vote 5 times: no effects, still only 2 nil prevotes (no L44).
    for _ in 0..5 {
        let again = h.feed(vote_input(&h, o, VoteType::Prevote, 1, 0, None)).unwrap();
        assert!(again.is_empty());
    }
    assert_eq!(h.state().step, Step::Prevote);
    // A third distinct voter completes 2f+1 nil -> L44.
    let e = h.act(Pv(1, 0, None)).unwrap();
    assert_eq!(patterns(&e), vec![P::Precommit(0, None)]);
}

#[test]
fn duplicate_proposal_is_idempotent() {
    let mut h = harness();
    assert_eq!(patterns(&h.act(Prop(0, 1, None)).unwrap()), vec![P::Validate(1)]);
    assert!(h.act(Prop(0, 1, None)).unwrap().is_empty());
}

#[test]
fn equivocation_yields_evidence_once_and_is_not_counted() {
    let mut h = harness();
    let o = h.other(0);
    h.act(Pv(0, 0, Some(1))).unwrap();
    let e = h.act(Pv(0, 0, Some(2))).unwrap();
    assert_eq!(patterns(&e), vec![P::Evidence]);
    let Some(Effect::Evidence(ev)) = e.first() else { panic!("expected evidence") };
    assert_eq!(ev.offender(), h.fx.id(o));
    assert!(ev.verify(&h.fx.set, &chain()).is_ok());
    match ev.as_ref() {
        Evidence::DuplicateVote { first, second } => {
            assert_eq!(first.vote.value_id, Some(val(1)));
            assert_eq!(second.vote.value_id, Some(val(2)));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Third conflicting vote: no second report for the same slot.
    assert!(h.act(Pv(0, 0, None)).unwrap().is_empty());
    // Same validator, precommit slot: separate report.
    h.act(Pc(0, 0, Some(1))).unwrap();
    assert_eq!(patterns(&h.act(Pc(0, 0, Some(3))).unwrap()), vec![P::Evidence]);
}

#[test]
fn double_proposal_yields_evidence() {
    let mut h = harness();
    h.act(Prop(0, 1, None)).unwrap();
    let e = h.act(Prop(0, 2, None)).unwrap();
    assert_eq!(patterns(&e), vec![P::Evidence, P::Validate(2)]);
    let e = h.act(Prop(0, 3, None)).unwrap();
    // Beyond max_proposals_per_round (2): dropped, already reported.
    assert!(e.is_empty());
    let Some(Effect::Evidence(ev)) = h.log.iter().find(|x| matches!(x, Effect::Evidence(_))) else {
        panic!("no evidence")
    };
    assert!(matches!(ev.as_ref(), Evidence::DuplicateProposal { .. }));
    assert!(ev.verify(&h.fx.set, &chain()).is_ok());
}

#[test]
fn invalid_signature_is_rejected() {
    let mut h = harness();
    let o = h.other(0);
    let mut sv = h.fx.vote(o, VoteType::Prevote, 1, 0, None);
    sv.signature.0[5] ^= 1;
    assert_eq!(h.feed(Input::VoteReceived(sv)), Err(Error::InvalidSignature(h.fx.id(o))));
    // Signed by someone else's key but claiming to be `o`.
    let other = h.other(1);
    let vote = Vote::prevote(Height(1), Round(0), None, h.fx.id(o));
    let forged = sign_vote_unguarded(&h.fx.keys[other], &chain(), vote);
    assert!(matches!(h.feed(Input::VoteReceived(forged)), Err(Error::InvalidSignature(_))));
    // Wrong chain id.
    let vote = Vote::prevote(Height(1), Round(0), None, h.fx.id(o));
    let foreign = sign_vote_unguarded(&h.fx.keys[o], &ChainId::new("other").unwrap(), vote);
    assert!(h.feed(Input::VoteReceived(foreign)).is_err());
    let mut sp = h.fx.proposal(1, 0, 1, None);
    sp.signature.0[0] ^= 1;
    assert!(matches!(h.feed(Input::ProposalReceived(sp)), Err(Error::InvalidSignature(_))));
}

#[test]
fn non_member_is_rejected() {
    let mut h = harness();
    let stranger = SigningKey::from_bytes(&[99; 32]);
    let id = ValidatorId(stranger.verifying_key().to_bytes());
    let sv = sign_vote_unguarded(&stranger, &chain(), Vote::prevote(Height(1), Round(0), None, id));
    assert_eq!(h.feed(Input::VoteReceived(sv)), Err(Error::UnknownValidator(id)));
}

#[test]
fn proposal_from_non_proposer_or_bad_pol_is_rejected() {
    let mut h = harness();
    let not_proposer = h.other(1);
    let sp = h.fx.proposal_by(not_proposer, 1, 0, 1, None);
    assert!(matches!(h.feed(Input::ProposalReceived(sp)), Err(Error::NotProposer { .. })));
    let sp = h.fx.proposal(1, 1, 1, Some(1));
    assert!(matches!(h.feed(Input::ProposalReceived(sp)), Err(Error::InvalidPolRound { .. })));
}

#[test]
fn wrong_heights() {
    let mut h = harness();
    let o = h.other(0);
    // Height 0 < 1: stale.
    assert!(matches!(h.feed(vote_input(&h, o, VoteType::Prevote, 0, 0, None)), Err(Error::StaleHeight { .. })));
    // Height 3 > 1 + 1: dropped.
    assert!(matches!(h.feed(vote_input(&h, o, VoteType::Prevote, 3, 0, None)), Err(Error::FutureHeight { .. })));
    // Height 2: buffered until StartHeight(2).
    assert_eq!(h.feed(vote_input(&h, o, VoteType::Prevote, 2, 0, None)), Ok(vec![]));
    assert_eq!(h.core.buffered(), 1);
    // Stale timeouts and app answers are ignored.
    let t = Timeout { height: Height(7), round: Round(0), kind: TimeoutKind::Propose };
    assert_eq!(h.feed(Input::TimeoutElapsed(t)), Ok(vec![]));
    // Before any StartHeight.
    let mut fresh = Consensus::new(Config::new(chain(), None)).unwrap();
    assert_eq!(fresh.handle(vote_input(&h, o, VoteType::Prevote, 1, 0, None)), Err(Error::NotStarted));
}

#[test]
fn next_height_buffer_is_bounded_and_replayed() {
    let fx = Fixture::new(&EQ);
    let me = non_proposer(&EQ);
    let mut cfg = Config::new(chain(), Some(fx.id(me)));
    cfg.max_next_height_messages = 3;
    let mut core = Consensus::new(cfg).unwrap();
    core.handle(fx.start(1)).unwrap();
    let others: Vec<usize> = (0..4).filter(|i| *i != me).collect();
    // Round beyond the window: refused.
    let far = Input::VoteReceived(fx.vote(others[0], VoteType::Prevote, 2, 11, None));
    assert!(matches!(core.handle(far), Err(Error::RoundTooFarAhead { .. })));
    for o in &others {
        let pv = Input::VoteReceived(fx.vote(*o, VoteType::Prevote, 2, 0, None));
        assert_eq!(core.handle(pv), Ok(vec![]));
    }
    // Duplicate of a buffered slot: accepted silently, not stored twice.
    let dup = Input::VoteReceived(fx.vote(others[0], VoteType::Prevote, 2, 0, None));
    assert_eq!(core.handle(dup), Ok(vec![]));
    assert_eq!(core.buffered(), 3);
    let extra = Input::VoteReceived(fx.vote(others[0], VoteType::Precommit, 2, 0, None));
    assert_eq!(core.handle(extra), Err(Error::BufferFull));
    // StartHeight(2) replays the buffer: 3 nil prevotes from others at
    // round 0 are now counted for height 2.
    let effects = core.handle(fx.start(2)).unwrap();
    assert_eq!(core.buffered(), 0);
    assert!(patterns(&effects).contains(&P::Sched(TimeoutKind::Propose, 0)));
    let t = Timeout { height: Height(2), round: Round(0), kind: TimeoutKind::Propose };
    let e = core.handle(Input::TimeoutElapsed(t)).unwrap();
    // L57 prevotes nil; the 3 buffered nil prevotes are 2f+1 already -> L44.
    assert_eq!(patterns(&e), vec![P::Prevote(0, None), P::Precommit(0, None)]);
    assert_eq!(core.state().unwrap().height, Height(2));
}

#[test]
fn future_rounds_within_window_are_kept_beyond_are_not() {
    let mut h = harness();
    // Round 10 is within the window (0 + 10): kept, counted when we get
    // there. Round 11 is beyond: only its round is remembered.
    h.act(Pv(0, 10, None)).unwrap();
    h.act(Pv(1, 11, None)).unwrap();
    // f+1 reached round >= 10 -> skip to 10 (the highest round f+1 reached).
    assert_eq!(h.state().round, 10);
    // At round 10 only one prevote is stored (the round-11 one was dropped).
    h.act(To(10, TimeoutKind::Propose)).unwrap();
    let e = h.act(Pv(2, 10, None)).unwrap();
    // ours + 2 others = 3 nil prevotes in round 10 -> L44.
    assert_eq!(patterns(&e), vec![P::Precommit(10, None)]);
}

#[test]
fn far_rounds_are_verified_before_counting_for_l55() {
    let mut h = harness();
    let o = h.other(0);
    let mut sv = h.fx.vote(o, VoteType::Prevote, 1, 500, None);
    sv.signature.0[1] ^= 1;
    assert!(h.feed(Input::VoteReceived(sv)).is_err());
    h.act(Pv(1, 500, None)).unwrap();
    assert_eq!(h.state().round, 0);
    h.act(Pv(0, 500, None)).unwrap();
    assert_eq!(h.state().round, 500);
}

#[test]
fn thresholds_are_by_power_not_count() {
    // Powers by canonical index: 10, 20, 30, 40 (total 100): quorum needs
    // > 66 2/3, f+1 needs > 33 1/3.
    let powers = [10, 20, 30, 40];
    let fx = Fixture::new(&powers);
    let me = 0; // power 10
    let mut h = Harness::with(fx, me, SignerState::default(), vec![]);
    let idx = |p: u64| powers.iter().position(|x| *x == p).unwrap();
    let prevote =
        |h: &Harness, who: usize, v: Option<u8>| Input::VoteReceived(h.fx.vote(who, VoteType::Prevote, 1, 0, v));
    h.act(To(0, TimeoutKind::Propose)).unwrap(); // our nil prevote (10)
    // 10 + 20 + 30 = 60 of nil from three validators: not a quorum.
    h.feed(prevote(&h, idx(20), None)).unwrap();
    let e = h.feed(prevote(&h, idx(30), None)).unwrap();
    assert!(patterns(&e).is_empty());
    assert_eq!(h.state().step, Step::Prevote);
    // + 40 = 100: quorum of nil -> L44.
    let e = h.feed(prevote(&h, idx(40), None)).unwrap();
    assert_eq!(patterns(&e), vec![P::Precommit(0, None)]);

    // f+1 by power: validators of power 10 + 20 (two of them, 30) do not
    // make us skip; the single validator of power 40 does.
    let fx = Fixture::new(&powers);
    let mut h = Harness::with(fx, idx(30), SignerState::default(), vec![]);
    h.feed(Input::VoteReceived(h.fx.vote(idx(10), VoteType::Prevote, 1, 3, None))).unwrap();
    h.feed(Input::VoteReceived(h.fx.vote(idx(20), VoteType::Prevote, 1, 3, None))).unwrap();
    assert_eq!(h.state().round, 0);
    let fx = Fixture::new(&powers);
    let mut h = Harness::with(fx, idx(30), SignerState::default(), vec![]);
    h.feed(Input::VoteReceived(h.fx.vote(idx(40), VoteType::Prevote, 1, 3, None))).unwrap();
    assert_eq!(h.state().round, 3);

    // Two validators (30 + 40 = 70) are a quorum on their own.
    let fx = Fixture::new(&powers);
    let mut h = Harness::with(fx, idx(10), SignerState::default(), vec![]);
    h.feed(Input::VoteReceived(h.fx.vote(idx(30), VoteType::Precommit, 1, 0, None))).unwrap();
    let e = h.feed(Input::VoteReceived(h.fx.vote(idx(40), VoteType::Precommit, 1, 0, None))).unwrap();
    assert_eq!(patterns(&e), vec![P::Sched(TimeoutKind::Precommit, 0)]);
}

#[test]
fn observer_follows_without_signing() {
    let fx = Fixture::new(&EQ);
    let mut core = Consensus::new(Config::new(chain(), None)).unwrap();
    core.handle(fx.start(1)).unwrap();
    let p = fx.proposal(1, 0, 1, None);
    core.handle(Input::ProposalReceived(p)).unwrap();
    core.handle(Input::ValueValidated { height: Height(1), value_id: val(1), valid: true }).unwrap();
    let mut decided = false;
    for who in 0..3 {
        let e = core.handle(Input::VoteReceived(fx.vote(who, VoteType::Precommit, 1, 0, Some(1)))).unwrap();
        assert!(!e.iter().any(|x| matches!(x, Effect::SignVote(_))));
        if let Some(Effect::Decide { certificate, .. }) = e.iter().find(|x| matches!(x, Effect::Decide { .. })) {
            assert!(certificate.verify(&fx.set, &chain()).is_ok());
            decided = true;
        }
    }
    assert!(decided);
    // After the decision the height's messages are no longer taken.
    assert_eq!(
        core.handle(Input::VoteReceived(fx.vote(3, VoteType::Precommit, 1, 0, Some(1)))),
        Err(Error::AlreadyDecided(Height(1)))
    );
}

#[test]
fn equivocator_counts_once_per_proposed_value() {
    // The paper counts messages: an equivocator's vote for a proposed value
    // counts towards that value even if its first vote was for something
    // else, so a POL that relies on it is still visible.
    let mut h = harness();
    h.act(Prop(0, 1, None)).unwrap();
    h.act(Valid(1, true)).unwrap(); // our prevote for 1
    h.act(Pv(0, 0, None)).unwrap(); // other 0 first votes nil ...
    let e = h.act(Pv(0, 0, Some(1))).unwrap(); // ... then for 1: evidence
    assert_eq!(patterns(&e), vec![P::Evidence]);
    // Ours + other 0 (for 1) + other 1 = 2f+1 for value 1 -> L36.
    let e = h.act(Pv(1, 0, Some(1))).unwrap();
    assert_eq!(patterns(&e), vec![P::Precommit(0, Some(1))]);
    // A conflicting vote for a never-proposed value is reported but not kept.
    h.act(Pv(2, 0, None)).unwrap();
    let e = h.act(Pv(2, 0, Some(77))).unwrap();
    assert_eq!(patterns(&e), vec![P::Evidence]);
}

#[test]
fn messages_of_an_older_round_trigger_one_catch_up() {
    let mut h = harness();
    // Get to round 1 by timeouts, holding 2f+1 precommits of round 0.
    for a in [To(0, TimeoutKind::Propose), Pc(0, 0, None), Pc(1, 0, None), Pc(2, 0, None)] {
        h.act(a).unwrap();
    }
    h.act(To(0, TimeoutKind::Precommit)).unwrap();
    assert_eq!(h.state().round, 1);
    // A peer re-sends its round-0 precommit (a duplicate for us): we relay
    // the round-0 precommits (and our round-0/1 messages) once.
    let e = h.act(Pc(0, 0, None)).unwrap();
    let relayed =
        e.iter().filter(|x| matches!(x, Effect::Broadcast(SignedMessage::Vote(v)) if v.vote.round.0 == 0)).count();
    assert!(relayed >= 3, "relayed {relayed}");
    // Not again before the next rebroadcast tick.
    assert!(h.act(Pc(1, 0, None)).unwrap().is_empty());
    h.act(To(1, TimeoutKind::Rebroadcast)).unwrap();
    assert!(!h.act(Pc(1, 0, None)).unwrap().is_empty());
}

#[test]
fn messages_signed_with_our_key_from_the_network_never_take_our_own_slots() {
    let mut h = harness();
    let me = h.me;
    // Another process holding our key (or a relay echoing us): votes for a
    // value at this height and the next, and a proposal in our name.
    let foreign = [
        vote_input(&h, me, VoteType::Prevote, 1, 0, Some(1)),
        vote_input(&h, me, VoteType::Precommit, 1, 0, Some(1)),
        vote_input(&h, me, VoteType::Prevote, 1, 1000, None),
        vote_input(&h, me, VoteType::Prevote, 2, 0, Some(3)),
        Input::ProposalReceived(h.fx.proposal_by(me, 1, 0, 4, None)),
    ];
    for input in foreign {
        let err = h.feed(input).unwrap_err();
        assert_eq!(err, Error::OwnKeyFromNetwork);
        assert!(err.is_benign(), "the relay is not to blame");
    }
    // Our own prevote still takes its slot, and it is the only vote of ours
    // that counts: with two others' nil prevotes that makes 3 of 4.
    assert_eq!(patterns(&h.act(To(0, TimeoutKind::Propose)).unwrap()), vec![P::Prevote(0, None)]);
    h.act(Pv(0, 0, None)).unwrap();
    assert_eq!(patterns(&h.act(Pv(1, 0, None)).unwrap()), vec![P::Precommit(0, None)]);
    // Our signed prevote coming back from the network is dropped the same way.
    let ours = h.log.iter().find_map(|e| match e {
        Effect::Broadcast(SignedMessage::Vote(v)) if v.vote.validator == h.fx.id(me) => Some(v.clone()),
        _ => None,
    });
    let echo = ours.expect("our prevote was broadcast");
    assert_eq!(h.feed(Input::VoteReceived(echo)).unwrap_err(), Error::OwnKeyFromNetwork);
}
