use ledger::Height;

use super::*;

const LIAR: u8 = 1;
const HONEST: u8 = 2;

fn requests(actions: &[SyncAction<u8>]) -> Vec<(u8, Height)> {
    actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Request { peer, from } => Some((*peer, *from)),
            SyncAction::Penalise { .. } => None,
        })
        .collect()
}

fn penalised(actions: &[SyncAction<u8>]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Penalise { peer, .. } => Some(*peer),
            SyncAction::Request { .. } => None,
        })
        .collect()
}

#[test]
fn a_peer_that_claims_a_huge_tip_and_sends_nothing_is_penalised_and_the_honest_peer_serves() {
    let mut s = Sync::default();
    s.on_tip(LIAR, Height(u64::MAX), 0);
    s.on_tip(HONEST, Height(50), 0);
    let mut tip = Height(10);
    let mut now = 1;
    let mut liar_asked = 0;
    let mut bans = Vec::new();
    for _ in 0..20 {
        let acts = s.poll(tip, 0, now);
        bans.extend(penalised(&acts));
        for (peer, from) in requests(&acts) {
            assert_eq!(from, tip.next());
            let answer = if peer == LIAR {
                liar_asked += 1;
                Answer::Applied(0)
            } else {
                let n = 50u64.saturating_sub(tip.0).min(8);
                tip = Height(tip.0 + n);
                Answer::Applied(n)
            };
            bans.extend(penalised(&s.on_answer(peer, answer, tip, now)));
        }
        now += 100;
    }
    assert_eq!(tip, Height(50), "the honest peer brought us to its tip");
    assert_eq!(bans, vec![LIAR]);
    assert_eq!(liar_asked, MAX_STRIKES);
    // Banned: its claims are not heard until the ban ends.
    s.on_tip(LIAR, Height(u64::MAX), now);
    assert_eq!(s.best_claim(), Height(50));
    assert!(s.is_banned(&LIAR, now));
    assert!(!s.is_banned(&LIAR, now + BAN_MS));
}

#[test]
fn requests_are_spread_over_peers_ahead() {
    let mut s = Sync::default();
    for p in 1..=3u8 {
        s.on_tip(p, Height(100), 0);
    }
    let mut asked = Vec::new();
    for t in 0..6u64 {
        let acts = s.poll(Height(t * 10), 0, 1 + t);
        let (peer, _) = requests(&acts)[0];
        asked.push(peer);
        s.on_answer(peer, Answer::Applied(10), Height(t * 10 + 10), 1 + t);
    }
    assert_eq!(asked, vec![1, 2, 3, 1, 2, 3]);
}

#[test]
fn a_silent_peer_times_out_into_strikes() {
    let mut s = Sync::default();
    s.on_tip(LIAR, Height(100), 0);
    assert_eq!(requests(&s.poll(Height(1), 0, 1)), vec![(LIAR, Height(2))]);
    assert!(s.poll(Height(1), 0, 2).is_empty(), "one request at a time");
    let acts = s.poll(Height(1), 0, 1 + REQUEST_TIMEOUT_MS);
    assert!(penalised(&acts).is_empty(), "one strike is not a penalty");
    assert_eq!(requests(&acts), vec![(LIAR, Height(2))], "asked again (the only peer)");
    let acts = s.poll(Height(1), 0, 2 + 2 * REQUEST_TIMEOUT_MS);
    assert_eq!(penalised(&acts), vec![LIAR]);
    assert!(!s.is_syncing());
}

#[test]
fn an_invalid_certificate_is_penalised_at_once() {
    let mut s = Sync::default();
    s.on_tip(LIAR, Height(100), 0);
    let _ = s.poll(Height(1), 0, 1);
    let acts = s.on_answer(LIAR, Answer::Invalid("bad certificate".into()), Height(1), 2);
    assert_eq!(penalised(&acts), vec![LIAR]);
    assert!(s.poll(Height(1), 0, 3).is_empty());
}

#[test]
fn answers_we_did_not_ask_for_change_nothing() {
    let mut s = Sync::default();
    s.on_tip(HONEST, Height(100), 0);
    assert!(s.on_answer(LIAR, Answer::Invalid("x".into()), Height(1), 1).is_empty());
    assert!(s.on_answer(HONEST, Answer::Applied(5), Height(6), 1).is_empty());
    assert_eq!(s.synced, 0);
}

#[test]
fn one_height_behind_waits_for_the_grace_period() {
    let mut s = Sync::default();
    s.on_tip(HONEST, Height(11), 0);
    assert!(s.poll(Height(10), 0, 1).is_empty());
    assert_eq!(requests(&s.poll(Height(10), ONE_BEHIND_GRACE_MS, 2)), vec![(HONEST, Height(11))]);
}

/// A short-interval chain fetches sooner; the grace never drops below the
/// floor nor grows past the old 1.5 s.
#[test]
fn the_grace_follows_the_block_interval_within_bounds() {
    assert_eq!(one_behind_grace_for(100), 500);
    assert_eq!(one_behind_grace_for(10), MIN_ONE_BEHIND_GRACE_MS);
    assert_eq!(one_behind_grace_for(200), 1_000);
    assert_eq!(one_behind_grace_for(1_000), ONE_BEHIND_GRACE_MS);
    assert_eq!(one_behind_grace_for(u64::MAX), ONE_BEHIND_GRACE_MS);
    let mut s = Sync::with_one_behind_grace(one_behind_grace_for(100));
    s.on_tip(HONEST, Height(11), 0);
    assert!(s.poll(Height(10), 499, 1).is_empty());
    assert_eq!(requests(&s.poll(Height(10), 500, 2)), vec![(HONEST, Height(11))]);
}

#[test]
fn tracked_peers_are_bounded() {
    let mut s: Sync<u32> = Sync::default();
    for p in 0..(MAX_TRACKED_PEERS as u32 * 4) {
        s.on_tip(p, Height(5), 0);
    }
    assert_eq!(s.peers.len(), MAX_TRACKED_PEERS);
}

#[test]
fn reconnecting_wipes_no_strike_and_a_disconnect_with_our_request_out_is_one() {
    let mut s = Sync::default();
    s.on_tip(LIAR, Height(1_000_000), 0);
    assert_eq!(requests(&s.poll(Height(1), 0, 1)), vec![(LIAR, Height(2))]);
    assert!(penalised(&s.on_peer_gone(LIAR, 2)).is_empty(), "first strike");
    s.on_tip(LIAR, Height(1_000_000), 3);
    assert_eq!(requests(&s.poll(Height(1), 0, 4)), vec![(LIAR, Height(2))]);
    assert_eq!(penalised(&s.on_peer_gone(LIAR, 5)), vec![LIAR], "second strike survives the reconnect");
    s.on_tip(LIAR, Height(1_000_000), 6);
    assert!(s.poll(Height(1), 0, 7).is_empty(), "banned");
}

#[test]
fn busy_answers_and_races_with_our_own_commits_are_no_strike() {
    let mut s = Sync::default();
    s.on_tip(HONEST, Height(100), 0);
    for t in 0..10u64 {
        let acts = s.poll(Height(10), 0, 1 + t);
        assert_eq!(requests(&acts), vec![(HONEST, Height(11))]);
        let answer = if t % 2 == 0 { Answer::Busy } else { Answer::NotApplicable("diverged".into()) };
        assert!(penalised(&s.on_answer(HONEST, answer, Height(10), 1 + t)).is_empty());
    }
    // Our consensus committed what we asked for meanwhile: an empty answer is fine.
    for t in 0..4u64 {
        let _ = s.poll(Height(10 + t), 0, 100 + t);
        let acts = s.on_answer(HONEST, Answer::Applied(0), Height(11 + t), 100 + t);
        assert!(penalised(&acts).is_empty());
    }
}

#[test]
fn a_new_peer_waits_behind_the_peers_already_known() {
    let mut s = Sync::default();
    s.on_tip(HONEST, Height(100), 0);
    s.on_tip(LIAR, Height(u64::MAX), 50);
    let (peer, _) = requests(&s.poll(Height(1), 0, 60))[0];
    assert_eq!(peer, HONEST, "the newcomer does not jump the queue with a bigger claim");
}
