//! Byzantine validators against a real 4-validator network (separate
//! processes on loopback): node3 runs the `agorad-byzantine` test binary and
//! floods proposals, relays tampered proposal bodies, or floods votes. Each
//! test checks that the honest validators keep committing within a bounded
//! time, that no process exits, that every honest node has the same blocks
//! and state roots, and that the attack was seen and answered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

mod common;

use common::net::{
    HONEST, all_running, assert_same_chain, block, call, height, log, net_with_byzantine_node3, start_net, wait_all,
};
use testnet::Testnet;

static SERIAL: Mutex<()> = Mutex::new(());
const CHAIN: &str = "agora-byzantine-validators-e2e";

/// Honest validators go `gain` heights further within `secs`, with node3
/// attacking all along; then the honest chains agree.
fn honest_keep_committing(net: &Testnet, gain: u64, secs: u64) -> u64 {
    wait_all(net, &HONEST, 2, 60);
    let h0 = height(net, 0);
    wait_all(net, &HONEST, h0 + gain, secs);
    all_running(net);
    let tip = HONEST.iter().map(|i| height(net, *i)).min().unwrap();
    assert_same_chain(net, &HONEST, tip);
    tip
}

fn peer_id(net: &Testnet, i: usize) -> String {
    call(net, i, "agora_status", vec![]).unwrap()["node_id"].as_str().unwrap().to_owned()
}

#[test]
fn a_validator_flooding_proposals_fills_only_its_own_quota_and_the_chain_goes_on() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net_with_byzantine_node3(dir.path(), CHAIN, &["--flood-proposals"]);
    let tip = honest_keep_committing(&net, 15, 120);
    assert!(log(&net, 3).contains("BYZANTINE TEST MODE: flooded"), "node3 never flooded:\n{}", net.log_tail(3, 30));
    // Its equivocations in its own rounds are caught as evidence; proposals
    // for rounds it does not propose are rejected as messages.
    let seen = HONEST.iter().any(|i| log(&net, *i).contains("validator equivocation detected"));
    assert!(seen, "no honest node saw node3's duplicate proposals:\n{}", net.log_tail(0, 40));
    let node3 = peer_id(&net, 3);
    let rejected = HONEST.iter().any(|i| {
        log(&net, *i).contains(&format!("peer={node3}")) && log(&net, *i).contains("peer sent invalid gossip")
    });
    assert!(rejected, "no honest node rejected node3's flood");
    assert!(tip >= 15);
}

#[test]
fn tampered_proposal_bodies_are_rejected_and_never_make_a_real_block_invalid() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net_with_byzantine_node3(dir.path(), CHAIN, &["--tamper-relay"]);
    let tip = honest_keep_committing(&net, 15, 120);
    assert!(
        log(&net, 3).contains("BYZANTINE TEST MODE: relaying a proposal with a tampered body"),
        "node3 never tampered:\n{}",
        net.log_tail(3, 30)
    );
    let node3 = peer_id(&net, 3);
    for i in HONEST {
        let l = log(&net, i);
        // Before the fix a tampered copy that arrived first was stored and
        // executed, and the real block got a nil prevote.
        assert!(!l.contains("refusing a proposed block"), "node{i} judged a real block by a tampered copy:\n{l}");
    }
    let rejected = HONEST.iter().any(|i| {
        let l = log(&net, *i);
        l.contains("peer sent invalid gossip") && l.contains(&format!("peer={node3}"))
    });
    assert!(rejected, "no honest node rejected node3's tampered relays:\n{}", net.log_tail(0, 40));
    // Every honest validator's proposals made it into the chain.
    let proposers: std::collections::BTreeSet<String> =
        (2..=tip).map(|h| block(&net, 0, h)["header"]["proposer"].as_str().unwrap().to_owned()).collect();
    assert!(proposers.len() >= 3, "proposers: {proposers:?}");
}

#[test]
fn a_validator_flooding_votes_for_far_rounds_and_the_next_height_cannot_stall_anyone() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net_with_byzantine_node3(dir.path(), CHAIN, &["--flood-votes"]);
    honest_keep_committing(&net, 15, 120);
    // node3 itself is otherwise honest and keeps up.
    let tip = height(&net, 0);
    wait_all(&net, &[3], tip.saturating_sub(2), 30);
}

/// An operator mistake: a second node runs with node3's validator key and a
/// guard state of its own, so the two sign different things in one name.
/// Neither stops on meeting the other's messages (before, a vote of the twin
/// that took the slot of node3's own vote stopped node3's consensus), both
/// tell the operator, the honest validators slash node3, and the chain
/// goes on.
#[test]
fn a_second_node_signing_with_a_validators_key_gets_it_slashed_and_nothing_stops() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut net = start_net(dir.path(), CHAIN, 200);
    wait_all(&net, &[0, 1, 2, 3], 2, 60);
    let twin = net.add_full_node().unwrap();
    std::fs::copy(net.home(3).join("validator_key.json"), net.home(twin).join("validator_key.json")).unwrap();
    net.start(twin).unwrap();
    let warning = "another node may be running with the same key";
    let slashed = |net: &testnet::Testnet| log(net, 0).contains("reason\", \"double_sign");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !(slashed(&net) && [3, twin].iter().any(|i| log(&net, *i).contains(warning))) {
        assert!(
            std::time::Instant::now() < deadline,
            "node3 and its twin were never caught:\n{}",
            net.log_tail(twin, 40)
        );
        all_running(&net);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let tip = honest_keep_committing(&net, 10, 60);
    // node3 and the twin are not stopped: they follow the chain as full nodes.
    wait_all(&net, &[3, twin], tip, 30);
    assert_same_chain(&net, &[0, 1, 2, 3, twin], tip);
}
