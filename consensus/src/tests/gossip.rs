//! The gossip-facing queries (`is_known`, `keeps`) and the per-signer
//! quota of the next-height buffer.

use super::{A::*, Fixture, Harness, chain, non_proposer};
use crate::*;

const EQ: [u64; 4] = [1, 1, 1, 1];

fn vote_msg(fx: &Fixture, who: usize, t: VoteType, h: u64, r: u32, v: Option<u8>) -> SignedMessage {
    SignedMessage::Vote(fx.vote(who, t, h, r, v))
}

fn feed_msg(core: &mut Consensus, m: &SignedMessage) -> Result<Vec<Effect>, Error> {
    core.handle(match m.clone() {
        SignedMessage::Proposal(sp) => Input::ProposalReceived(sp),
        SignedMessage::Vote(sv) => Input::VoteReceived(sv),
    })
}

#[test]
fn is_known_finds_stored_messages_of_the_current_height() {
    let mut h = Harness::new(&EQ, non_proposer(&EQ));
    let (a, b) = (h.other(0), h.other(1));
    let pv = vote_msg(&h.fx, a, VoteType::Prevote, 1, 0, Some(1));
    assert!(!h.core.is_known(&pv));
    h.act(Pv(0, 0, Some(1))).unwrap();
    assert!(h.core.is_known(&pv));
    // Same content, other signature: known (content is what counts).
    let SignedMessage::Vote(mut resigned) = pv.clone() else { unreachable!() };
    resigned.signature.0[0] ^= 1;
    assert!(h.core.is_known(&SignedMessage::Vote(resigned)));
    // Other value, type, round, signer: not known.
    assert!(!h.core.is_known(&vote_msg(&h.fx, a, VoteType::Prevote, 1, 0, None)));
    assert!(!h.core.is_known(&vote_msg(&h.fx, a, VoteType::Precommit, 1, 0, Some(1))));
    assert!(!h.core.is_known(&vote_msg(&h.fx, a, VoteType::Prevote, 1, 1, Some(1))));
    assert!(!h.core.is_known(&vote_msg(&h.fx, b, VoteType::Prevote, 1, 0, Some(1))));
    // A stranger's vote: not known, and no panic.
    let stranger = Fixture::new(&[1, 1, 1, 1, 1]);
    assert!(!h.core.is_known(&vote_msg(&stranger, 4, VoteType::Prevote, 1, 0, Some(1))));
    // Proposals: by content (value and POL round).
    let prop = SignedMessage::Proposal(h.fx.proposal(1, 0, 1, None));
    assert!(!h.core.is_known(&prop));
    h.act(Prop(0, 1, None)).unwrap();
    assert!(h.core.is_known(&prop));
    assert!(!h.core.is_known(&SignedMessage::Proposal(h.fx.proposal(1, 0, 2, None))));
    // Our own vote (prevote nil after timeoutPropose) is known.
    h.act(To(0, TimeoutKind::Propose)).unwrap();
    let me = h.me;
    assert!(h.core.is_known(&vote_msg(&h.fx, me, VoteType::Prevote, 1, 0, None)));
    // Only a query: nothing changed (the next duplicate is still silent).
    let state = h.core.state();
    assert!(h.core.is_known(&pv));
    assert_eq!(h.core.state(), state);
    assert!(h.act(Pv(0, 0, Some(1))).unwrap().is_empty());
}

#[test]
fn is_known_finds_our_own_proposal() {
    let me = Fixture::new(&EQ).proposer(0);
    let mut h = Harness::new(&EQ, me);
    h.act(Built(0, 7)).unwrap();
    let own = h.log.iter().find_map(|e| match e {
        Effect::Broadcast(m @ SignedMessage::Proposal(_)) => Some(m.clone()),
        _ => None,
    });
    assert!(h.core.is_known(&own.unwrap()));
    assert!(!h.core.is_known(&SignedMessage::Proposal(h.fx.proposal_by(me, 1, 0, 8, None))));
}

#[test]
fn is_known_finds_buffered_next_height_messages_only() {
    let fx = Fixture::new(&EQ);
    let me = non_proposer(&EQ);
    let mut core = Consensus::new(Config::new(chain(), Some(fx.id(me)))).unwrap();
    let o = (0..4).find(|i| *i != me).unwrap();
    let next = vote_msg(&fx, o, VoteType::Prevote, 2, 3, None);
    assert!(!core.is_known(&next)); // not started
    core.handle(fx.start(1)).unwrap();
    assert!(!core.is_known(&next));
    assert_eq!(feed_msg(&mut core, &next), Ok(vec![]));
    assert!(core.is_known(&next));
    assert_eq!(core.buffered(), 1); // is_known stored nothing
    assert!(!core.is_known(&vote_msg(&fx, o, VoteType::Prevote, 2, 3, Some(1))));
    assert!(!core.is_known(&vote_msg(&fx, o, VoteType::Precommit, 2, 3, None)));
    // A buffered proposal with another POL round is another message.
    let p = fx.proposal(2, 1, 5, None);
    assert_eq!(feed_msg(&mut core, &SignedMessage::Proposal(p.clone())), Ok(vec![]));
    assert!(core.is_known(&SignedMessage::Proposal(p)));
    assert!(!core.is_known(&SignedMessage::Proposal(fx.proposal(2, 1, 5, Some(0)))));
    // Two heights ahead: never stored, never known.
    assert!(!core.is_known(&vote_msg(&fx, o, VoteType::Prevote, 3, 3, None)));
    // Once height 2 runs, the buffered message lives in its driver; a
    // message of the left height 1 is no longer known.
    let old = vote_msg(&fx, o, VoteType::Prevote, 1, 0, None);
    assert_eq!(feed_msg(&mut core, &old), Ok(vec![]));
    assert!(core.is_known(&old));
    core.handle(fx.start(2)).unwrap();
    assert!(core.is_known(&next));
    assert!(!core.is_known(&old));
}

#[test]
fn keeps_follows_the_round_windows() {
    let fx = Fixture::new(&EQ);
    let me = non_proposer(&EQ);
    let mut core = Consensus::new(Config::new(chain(), Some(fx.id(me)))).unwrap();
    assert!(!core.keeps(Height(1), Round(0))); // not started
    core.handle(fx.start(1)).unwrap();
    // Current height at round 0: rounds 0..=10.
    assert!(core.keeps(Height(1), Round(0)));
    assert!(core.keeps(Height(1), Round(10)));
    assert!(!core.keeps(Height(1), Round(11)));
    // Next height: rounds 0..=10 (max_future_rounds), whatever round_p is.
    assert!(core.keeps(Height(2), Round(10)));
    assert!(!core.keeps(Height(2), Round(11)));
    // Past heights and heights beyond the next: never.
    assert!(!core.keeps(Height(0), Round(0)));
    assert!(!core.keeps(Height(3), Round(0)));
    // A vote beyond the window is answered Ok (its round counts for L55)
    // but not stored: keeps says so, and is_known stays false.
    let others: Vec<usize> = (0..4).filter(|i| *i != me).collect();
    let far = vote_msg(&fx, others[0], VoteType::Prevote, 1, 11, None);
    assert!(feed_msg(&mut core, &far).is_ok());
    assert!(!core.is_known(&far));
    // f+1 at round 3 -> round_p = 3: the window moves, old rounds stay.
    for o in &others[..2] {
        feed_msg(&mut core, &vote_msg(&fx, *o, VoteType::Prevote, 1, 3, None)).unwrap();
    }
    assert_eq!(core.state().unwrap().round, Round(3));
    assert!(core.keeps(Height(1), Round(0)));
    assert!(core.keeps(Height(1), Round(13)));
    assert!(!core.keeps(Height(1), Round(14)));
    // Decided: the current height keeps nothing more, the next one does.
    feed_msg(&mut core, &SignedMessage::Proposal(fx.proposal(1, 0, 1, None))).unwrap();
    core.handle(Input::ValueValidated { height: Height(1), value_id: super::val(1), valid: true }).unwrap();
    for o in &others {
        feed_msg(&mut core, &vote_msg(&fx, *o, VoteType::Precommit, 1, 0, Some(1))).unwrap();
    }
    assert!(core.state().unwrap().decision.is_some());
    assert!(!core.keeps(Height(1), Round(3)));
    assert!(core.keeps(Height(2), Round(0)));
}

#[test]
fn per_signer_quota_leaves_room_for_other_signers() {
    let fx = Fixture::new(&EQ);
    let me = non_proposer(&EQ);
    let mut cfg = Config::new(chain(), Some(fx.id(me)));
    cfg.max_next_height_per_signer = 3;
    cfg.max_next_height_messages = 7;
    let mut core = Consensus::new(cfg).unwrap();
    core.handle(fx.start(1)).unwrap();
    let o: Vec<usize> = (0..4).filter(|i| *i != me).collect();
    let pv = |who: usize, r: u32| Input::VoteReceived(fx.vote(who, VoteType::Prevote, 2, r, None));
    // Signer A fills its quota; its next message is refused (benign).
    for r in 0..3 {
        assert_eq!(core.handle(pv(o[0], r)), Ok(vec![]));
    }
    let refused = core.handle(pv(o[0], 3));
    assert_eq!(refused, Err(Error::SignerQuotaFull));
    assert!(refused.unwrap_err().is_benign());
    // A duplicate of a buffered message is still a silent Ok.
    assert_eq!(core.handle(pv(o[0], 0)), Ok(vec![]));
    // Signer B is not affected by A's quota.
    for r in 0..3 {
        assert_eq!(core.handle(pv(o[1], r)), Ok(vec![]));
    }
    assert_eq!(core.handle(pv(o[1], 3)), Err(Error::SignerQuotaFull));
    // The total bound still holds: 6 + 1 = 7, then full for everyone.
    assert_eq!(core.handle(pv(o[2], 0)), Ok(vec![]));
    assert_eq!(core.buffered(), 7);
    assert_eq!(core.handle(pv(o[2], 1)), Err(Error::BufferFull));
    assert_eq!(core.buffered(), 7);
    // Taking the buffer clears the counts: A may buffer for height 3.
    core.handle(fx.start(2)).unwrap();
    assert_eq!(core.buffered(), 0);
    for r in 0..3 {
        let input = Input::VoteReceived(fx.vote(o[0], VoteType::Prevote, 3, r, None));
        assert_eq!(core.handle(input), Ok(vec![]));
    }
    assert_eq!(core.buffered(), 3);
}

#[test]
fn per_signer_quota_default_and_validation() {
    let cfg = Config::new(chain(), None);
    assert_eq!(cfg.max_next_height_per_signer, 4 * (cfg.max_future_rounds as usize + 1));
    assert_eq!(Config::per_signer_quota(10), 44);
    let mut bad = cfg.clone();
    bad.max_next_height_per_signer = 0;
    assert!(matches!(Consensus::new(bad), Err(Error::InvalidConfig(_))));
}
