//! Table-driven tests of the upon-rules and timeout handlers:
//! (setup actions, input) → (expected effects, expected state).
//!
//! Four validators of power 1 (quorum 3, f+1 = 2). We are the validator
//! that proposes none of rounds 0-2; proposers rotate 0, 1, 2, us, 0, ...
//! `Pv(n, r, v)` is a prevote of the n-th *other* validator.

use super::{A, A::*, Harness, P, S, non_proposer};
use crate::{Step, TimeoutKind as K};

const EQ: [u64; 4] = [1, 1, 1, 1];

struct Case {
    name: &'static str,
    setup: Vec<A>,
    input: A,
    effects: Vec<P>,
    state: S,
}

fn s(round: u32, step: Step) -> S {
    S { round, step, locked: None, valid: None, decided: None }
}

fn locked(mut st: S, r: u32, v: u8) -> S {
    st.locked = Some((r, v));
    st.valid = Some((r, v));
    st
}

/// Lock on value 1 in round 0: proposal, valid, our prevote + 2 others.
fn lock0() -> Vec<A> {
    vec![Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1)), Pv(1, 0, Some(1))]
}

/// From precommit step of round 0 to round 1 via L47 + L65.
fn to_round1() -> Vec<A> {
    vec![Pc(0, 0, None), Pc(1, 0, None), To(0, K::Precommit)]
}

fn cat(parts: &[Vec<A>]) -> Vec<A> {
    parts.concat()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "L22 unlocked, valid fresh proposal -> prevote v",
            setup: vec![Prop(0, 1, None)],
            input: Valid(1, true),
            effects: vec![P::Prevote(0, Some(1))],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L22 invalid proposal -> prevote nil",
            setup: vec![Prop(0, 1, None)],
            input: Valid(1, false),
            effects: vec![P::Prevote(0, None)],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L22 proposal is only asked to be validated, no vote yet",
            setup: vec![],
            input: Prop(0, 1, None),
            effects: vec![P::Validate(1)],
            state: s(0, Step::Propose),
        },
        Case {
            name: "L22 locked on another value -> prevote nil",
            setup: cat(&[lock0(), to_round1(), vec![Prop(1, 2, None)]]),
            input: Valid(2, true),
            effects: vec![P::Prevote(1, None)],
            state: locked(s(1, Step::Prevote), 0, 1),
        },
        Case {
            name: "L22 locked on the same value -> prevote v",
            setup: cat(&[lock0(), to_round1()]),
            input: Prop(1, 1, None),
            effects: vec![P::Prevote(1, Some(1))],
            state: locked(s(1, Step::Prevote), 0, 1),
        },
        Case {
            name: "L28 POL round newer than lock -> prevote v (unlock)",
            setup: cat(&[
                lock0(),
                // POL for value 2 in round 1 (also makes us skip to round 1)
                vec![Pv(0, 1, Some(2)), Pv(1, 1, Some(2)), Pv(2, 1, Some(2))],
                // f+1 of round 2 -> skip to round 2
                vec![Pc(0, 2, None), Pc(1, 2, None)],
                vec![Prop(2, 2, Some(1))],
            ]),
            input: Valid(2, true),
            effects: vec![P::Prevote(2, Some(2))],
            state: locked(s(2, Step::Prevote), 0, 1),
        },
        Case {
            name: "L28 lock newer than POL, other value -> prevote nil",
            setup: vec![
                Pv(0, 0, Some(2)),
                Pv(1, 0, Some(2)),
                Pv(2, 0, Some(2)),
                Pv(1, 1, Some(1)),
                Pv(2, 1, Some(1)),
                Prop(1, 1, None),
                Valid(1, true),
                Pc(0, 2, None),
                Pc(1, 2, None),
                Prop(2, 2, Some(0)),
            ],
            input: Valid(2, true),
            effects: vec![P::Prevote(2, None)],
            state: locked(s(2, Step::Prevote), 1, 1),
        },
        Case {
            name: "L28 lock newer than POL but same value -> prevote v",
            setup: vec![
                Pv(0, 0, Some(1)),
                Pv(1, 0, Some(1)),
                Pv(2, 0, Some(1)),
                Pv(1, 1, Some(1)),
                Pv(2, 1, Some(1)),
                Prop(1, 1, None),
                Valid(1, true),
                Pc(0, 2, None),
                Pc(1, 2, None),
            ],
            input: Prop(2, 1, Some(0)),
            effects: vec![P::Prevote(2, Some(1))],
            state: locked(s(2, Step::Prevote), 1, 1),
        },
        Case {
            name: "L28 without the POL prevotes -> wait",
            setup: vec![Pv(1, 1, None), Pv(2, 1, None), Prop(1, 3, Some(0))],
            input: Valid(3, true),
            effects: vec![],
            state: s(1, Step::Propose),
        },
        Case {
            name: "L57 timeoutPropose while proposing -> prevote nil",
            setup: vec![],
            input: To(0, K::Propose),
            effects: vec![P::Prevote(0, None)],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L57 stale timeoutPropose (other round) -> nothing",
            setup: vec![],
            input: To(1, K::Propose),
            effects: vec![],
            state: s(0, Step::Propose),
        },
        Case {
            name: "L57 timeoutPropose after prevoting -> nothing",
            setup: vec![Prop(0, 1, None), Valid(1, true)],
            input: To(0, K::Propose),
            effects: vec![],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L34 2f+1 prevotes for anything -> schedule timeoutPrevote",
            setup: vec![Prop(0, 1, None), Valid(1, true), Pv(0, 0, None)],
            input: Pv(1, 0, Some(2)),
            effects: vec![P::Sched(K::Prevote, 0)],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L34 only once per round",
            setup: vec![Prop(0, 1, None), Valid(1, true), Pv(0, 0, None), Pv(1, 0, Some(2))],
            input: Pv(2, 0, Some(3)),
            effects: vec![],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L36 2f+1 prevotes for v at prevote step -> lock, precommit v",
            setup: vec![Prop(0, 1, None), Valid(1, true), Pv(0, 0, Some(1))],
            input: Pv(1, 0, Some(1)),
            effects: vec![P::Precommit(0, Some(1))],
            state: locked(s(0, Step::Precommit), 0, 1),
        },
        Case {
            name: "L36 at precommit step -> only validValue/validRound",
            setup: vec![
                Prop(0, 1, None),
                To(0, K::Propose),
                Pv(0, 0, Some(1)),
                Pv(1, 0, Some(1)),
                To(0, K::Prevote),
                Pv(2, 0, Some(1)),
            ],
            input: Valid(1, true),
            effects: vec![],
            state: S { valid: Some((0, 1)), ..s(0, Step::Precommit) },
        },
        Case {
            name: "L36 needs valid(v): invalid value never locks",
            setup: vec![Prop(0, 1, None), Pv(0, 0, Some(1)), Pv(1, 0, Some(1)), Pv(2, 0, Some(1))],
            input: Valid(1, false),
            // 2f+1 prevotes for value 1 but it is invalid: L22 prevotes nil,
            // L36 never fires, only L34 schedules the prevote timeout.
            effects: vec![P::Prevote(0, None), P::Sched(K::Prevote, 0)],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L44 2f+1 prevotes nil -> precommit nil",
            setup: vec![Prop(0, 1, None), Valid(1, false), Pv(0, 0, None)],
            input: Pv(1, 0, None),
            effects: vec![P::Precommit(0, None)],
            state: s(0, Step::Precommit),
        },
        Case {
            name: "L47 2f+1 precommits for anything -> schedule timeoutPrecommit",
            setup: vec![Prop(0, 1, None), Valid(1, false), Pv(0, 0, None), Pv(1, 0, None), Pc(0, 0, None)],
            input: Pc(1, 0, Some(1)),
            effects: vec![P::Sched(K::Precommit, 0)],
            state: s(0, Step::Precommit),
        },
        Case {
            name: "L49 2f+1 precommits for v in this round -> decide",
            setup: cat(&[lock0(), vec![Pc(0, 0, Some(1))]]),
            input: Pc(1, 0, Some(1)),
            effects: vec![P::Decide(1)],
            state: S { decided: Some(1), ..locked(s(0, Step::Precommit), 0, 1) },
        },
        Case {
            // We left round 0 after prevoting and signed nothing since: we
            // still precommit the decided value in the deciding round.
            name: "L49 precommits from an earlier round -> own precommit, decide",
            setup: vec![
                Prop(0, 1, None),
                Valid(1, true),
                Pv(0, 2, None),
                Pv(1, 2, None),
                Pc(0, 0, Some(1)),
                Pc(1, 0, Some(1)),
            ],
            input: Pc(2, 0, Some(1)),
            effects: vec![P::Precommit(0, Some(1)), P::Decide(1)],
            state: S { decided: Some(1), ..s(2, Step::Propose) },
        },
        Case {
            // Still in Propose: no prevote, but our precommit for v.
            name: "L49 waits for valid(v); own precommit, decide",
            setup: vec![Prop(0, 1, None), Pc(0, 0, Some(1)), Pc(1, 0, Some(1)), Pc(2, 0, Some(1))],
            input: Valid(1, true),
            effects: vec![P::Precommit(0, Some(1)), P::Decide(1)],
            state: S { decided: Some(1), ..s(0, Step::Propose) },
        },
        Case {
            name: "L49 precommits for an invalid value never decide",
            setup: vec![Prop(0, 1, None), Pc(0, 0, Some(1)), Pc(1, 0, Some(1)), Pc(2, 0, Some(1))],
            input: Valid(1, false),
            effects: vec![P::Prevote(0, None)],
            state: s(0, Step::Prevote),
        },
        Case {
            name: "L55 f+1 messages of a higher round -> skip to it",
            setup: vec![Pv(0, 4, None)],
            input: Pv(1, 4, None),
            effects: vec![P::Sched(K::Propose, 4)],
            state: s(4, Step::Propose),
        },
        Case {
            name: "L55 f messages of a higher round -> stay",
            setup: vec![],
            input: Pc(0, 4, None),
            effects: vec![],
            state: s(0, Step::Propose),
        },
        Case {
            name: "L55 counts a proposal and a vote from different senders",
            setup: vec![Prop(4, 9, None)],
            input: Pc(1, 4, None),
            effects: vec![P::Sched(K::Propose, 4)],
            state: s(4, Step::Propose),
        },
        Case {
            name: "L61 timeoutPrevote while prevoting -> precommit nil",
            setup: vec![To(0, K::Propose), Pv(0, 0, Some(1)), Pv(1, 0, None)],
            input: To(0, K::Prevote),
            effects: vec![P::Precommit(0, None)],
            state: s(0, Step::Precommit),
        },
        Case {
            name: "L61 timeoutPrevote at propose step -> nothing",
            setup: vec![],
            input: To(0, K::Prevote),
            effects: vec![],
            state: s(0, Step::Propose),
        },
        Case {
            name: "L65 timeoutPrecommit -> StartRound(round + 1)",
            setup: vec![],
            input: To(0, K::Precommit),
            effects: vec![P::Sched(K::Propose, 1)],
            state: s(1, Step::Propose),
        },
        Case {
            name: "L65 stale timeoutPrecommit -> nothing",
            setup: vec![To(0, K::Precommit)],
            input: To(0, K::Precommit),
            effects: vec![],
            state: s(1, Step::Propose),
        },
        Case {
            name: "lock survives into later rounds; validValue too",
            setup: cat(&[lock0(), to_round1()]),
            input: To(1, K::Propose),
            effects: vec![P::Prevote(1, None)],
            state: locked(s(1, Step::Prevote), 0, 1),
        },
    ]
}

#[test]
fn rule_table() {
    let me = non_proposer(&EQ);
    for case in cases() {
        let mut h = Harness::new(&EQ, me);
        for (i, a) in case.setup.iter().enumerate() {
            if let Err(e) = h.act(*a) {
                panic!("{}: setup step {i} {a:?} failed: {e}", case.name);
            }
        }
        let effects = match h.act(case.input) {
            Ok(e) => e,
            Err(e) => panic!("{}: input {:?} failed: {e}", case.name, case.input),
        };
        assert_eq!(super::patterns(&effects), case.effects, "effects of case `{}`", case.name);
        assert_eq!(h.state(), case.state, "state after case `{}`", case.name);
    }
}

#[test]
fn proposer_builds_proposes_and_validates_its_own_value() {
    let fx = super::Fixture::new(&EQ);
    let me = fx.proposer(0);
    let mut h = Harness::new(&EQ, me);
    assert_eq!(super::patterns(&h.log), vec![P::ReqVal(0), P::Sched(K::Propose, 0)]);
    // Wrong round: ignored.
    assert!(h.act(Built(1, 7)).unwrap().is_empty());
    let e = h.act(Built(0, 7)).unwrap();
    assert_eq!(super::patterns(&e), vec![P::Propose(0, 7, None), P::Validate(7)]);
    // A second answer for the same round does not propose again.
    assert!(h.act(Built(0, 8)).unwrap().is_empty());
    let e = h.act(Valid(7, true)).unwrap();
    assert_eq!(super::patterns(&e), vec![P::Prevote(0, Some(7))]);
}

#[test]
fn proposer_reproposes_valid_value_with_pol_round() {
    // We propose round 3 (rotation 0, 1, 2, us). Get validValue = 1 in
    // round 0, then reach round 3 by timeouts: StartRound(3) re-proposes it
    // with POL round 0 and broadcasts the POL prevotes with it.
    let me = non_proposer(&EQ);
    let mut h = Harness::new(&EQ, me);
    for a in [
        Prop(0, 1, None),
        Valid(1, true),
        Pv(0, 0, Some(1)),
        Pv(1, 0, Some(1)),
        Pc(0, 0, None),
        Pc(1, 0, None),
        To(0, K::Precommit),
        To(1, K::Propose),
        Pv(0, 1, None),
        Pv(1, 1, None),
        Pc(0, 1, None),
        Pc(1, 1, None),
        To(1, K::Precommit),
        To(2, K::Propose),
        Pv(0, 2, None),
        Pv(1, 2, None),
        Pc(0, 2, None),
        Pc(1, 2, None),
    ] {
        h.act(a).unwrap();
    }
    let e = h.act(To(2, K::Precommit)).unwrap();
    assert_eq!(super::patterns(&e), vec![P::Propose(3, 1, Some(0)), P::Sched(K::Propose, 3), P::Prevote(3, Some(1))]);
    // The POL prevotes of round 0 for value 1 travel with the proposal.
    let pol_broadcasts = e
        .iter()
        .filter(|x| {
            matches!(x, crate::Effect::Broadcast(crate::SignedMessage::Vote(v))
                if v.vote.round.0 == 0 && v.vote.value_id == Some(super::val(1)))
        })
        .count();
    assert_eq!(pol_broadcasts, 3);
    // Our own re-proposal: validity already known, we are locked on it -> L28.
    assert_eq!(h.state().step, Step::Prevote);
    assert!(h.log.iter().any(|x| matches!(x,
        crate::Effect::SignVote(v) if v.round.0 == 3 && v.value_id == Some(super::val(1)))));
}
