//! Proposal lifecycles: pass, reject, veto, cancel, expiry, early close, revoting.

use super::*;

#[test]
fn pass_timelock_execute_moves_treasury_funds() {
    let t = setup();
    let id = t.propose(t.transfer(t.dave, 300));
    assert_eq!(id, 1);
    assert_eq!((t.host.balance(t.alice), t.host.balance(t.module)), (900, 100));
    let p = t.proposal(id);
    assert_eq!(p["status"], "pending");
    assert_eq!(p["snapshot_height"], 9);
    assert_eq!(p["total_power"], "100");
    assert_eq!(p["voting_start_ms"], T0 + 1000);
    assert_eq!(p["voting_end_ms"], T0 + 11_000);
    assert_eq!(p["time_left_ms"], 1000);
    assert_eq!(p["quorum_reached"], false);
    assert_eq!(p["voting_module"], json!(agora_sdk::contract_address(&VOTING, &t.dao, "voting")));
    let ev = t.events().pop().unwrap();
    assert_eq!(
        (ev.kind.as_str(), ev.attr("proposal_id"), ev.attr("snapshot_height")),
        ("proposal_created", Some("1"), Some("9"))
    );
    assert!(t.vote(t.alice, id, "yes").unwrap_err().contains("not open for voting (status: pending)"));

    t.at(1000);
    assert_eq!(t.status(id), "open");
    t.vote(t.alice, id, "yes").unwrap();
    t.vote(t.bob, id, "no").unwrap();
    let ev = t.events();
    assert_eq!(
        ev[1].attributes[1..],
        [
            ("voter".to_owned(), t.bob.to_string()),
            ("option".to_owned(), "no".to_owned()),
            ("power".to_owned(), "30".to_owned()),
            ("weight".to_owned(), "30".to_owned()),
            ("delegated".to_owned(), "0".to_owned()),
            ("conviction".to_owned(), "0".to_owned())
        ]
    );
    assert!(t.act(t.carol, "execute", id).unwrap_err().contains("cannot be executed (status: open)"));
    let p = t.proposal(id);
    assert_eq!(p["tally"], json!({"yes": "50", "no": "30", "abstain": "0", "no_with_veto": "0"}));
    assert_eq!(p["quorum_reached"], true);
    assert_eq!(p["time_left_ms"], 10_000);

    t.at(11_000);
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["time_left_ms"].as_u64()), (Some("timelocked"), Some(5000)));
    assert_eq!(p["passed_at_ms"], T0 + 11_000);
    assert!(t.act(t.carol, "execute", id).unwrap_err().contains("(status: timelocked)"));
    assert!(t.vote(t.carol, id, "no").unwrap_err().contains("(status: timelocked)"));
    t.at(16_000);
    assert_eq!(t.status(id), "passed");
    assert_eq!(t.proposal(id)["time_left_ms"], 20_000);
    t.act(t.carol, "execute", id).unwrap();
    assert_eq!((t.host.balance(t.dao), t.host.balance(t.dave)), (700, 1300));
    assert_eq!((t.host.balance(t.alice), t.host.balance(t.module)), (1000, 0)); // deposit refunded
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["executed_at_ms"].as_u64()), (Some("executed"), Some(T0 + 16_000)));
    assert_eq!(p["time_left_ms"], Value::Null);
    let kinds: Vec<String> = t.host.take_events().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["treasury_transfer", "proposal_executed", "deposit_settled", "proposal_executed"]);
    assert!(t.act(t.carol, "execute", id).unwrap_err().contains("(status: executed)"));
    assert!(t.act(t.carol, "close", id).unwrap_err().contains("(status: executed)"));
}

#[test]
fn quorum_without_majority_is_rejected_and_the_deposit_goes_by_policy() {
    for (policy, to_proposer) in [("only_passed", false), ("never", false), ("always", true)] {
        let t = setup_with(|c| c["deposit"]["refund"] = json!(policy));
        let id = t.propose(t.transfer(t.dave, 1));
        t.at(1000);
        t.vote(t.bob, id, "no").unwrap(); // 30
        t.vote(t.dave, id, "yes").unwrap(); // 5
        t.vote(t.carol, id, "abstain").unwrap(); // 15
        t.at(11_000);
        let p = t.proposal(id);
        assert_eq!((p["status"].as_str(), p["quorum_reached"].as_bool()), (Some("rejected"), Some(true)));
        assert!(t.act(t.carol, "execute", id).unwrap_err().contains("(status: rejected)"));
        t.events();
        t.act(t.carol, "close", id).unwrap();
        let ev = t.events();
        assert_eq!(ev[1].kind, "proposal_closed");
        assert_eq!(ev[1].attr("status"), Some("rejected"));
        let want = if to_proposer { (1000, 1000) } else { (900, 1100) };
        assert_eq!((t.host.balance(t.alice), t.host.balance(t.dao)), want, "{policy}");
        assert_eq!(t.proposal(id)["final_status"], "rejected");
        assert!(t.act(t.carol, "close", id).unwrap_err().contains("already closed"));
        assert_eq!(t.host.balance(t.module), 0);
    }
}

#[test]
fn no_quorum_is_rejected() {
    let t = setup();
    let id = t.propose(json!([]));
    t.at(1000);
    t.vote(t.carol, id, "yes").unwrap(); // 15 of 100 < 0.3
    t.vote(t.dave, id, "yes").unwrap();
    t.at(11_000);
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["quorum_reached"].as_bool()), (Some("rejected"), Some(false)));
}

#[test]
fn no_with_veto_burns_the_deposit() {
    let t = setup_with(|c| c["deposit"]["refund"] = json!("always"));
    let id = t.propose(t.transfer(t.dave, 1));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.vote(t.bob, id, "no_with_veto").unwrap(); // 30/80 > 0.334
    t.at(11_000);
    assert_eq!(t.status(id), "vetoed");
    assert!(t.act(t.carol, "execute", id).is_err());
    t.act(t.carol, "close", id).unwrap();
    assert_eq!(t.host.burned(), DEPOSIT);
    assert_eq!((t.host.balance(t.alice), t.host.balance(t.module), t.host.balance(t.dao)), (900, 0, 1000));
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["vetoed_by"].is_null()), (Some("vetoed"), true));
}

#[test]
fn the_vetoer_can_veto_while_open_or_timelocked() {
    let t = setup();
    let id = t.propose(t.transfer(t.dave, 1));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.at(12_000);
    assert_eq!(t.status(id), "timelocked");
    assert_eq!(t.act(t.alice, "veto", id).unwrap_err(), "unauthorized: only the vetoer can veto");
    t.events();
    t.act(t.vetoer, "veto", id).unwrap();
    let ev = t.events();
    assert_eq!((ev[1].kind.as_str(), ev[1].attr("by")), ("proposal_vetoed", Some(t.vetoer.to_string().as_str())));
    assert_eq!(ev[0].attr("action"), Some("to_dao")); // only_passed: treated as rejected
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["vetoed_by"].clone()), (Some("vetoed"), json!(t.vetoer)));
    assert_eq!(p["passed_at_ms"], Value::Null);
    assert_eq!((t.host.balance(t.dao), t.host.balance(t.alice)), (1100, 900));
    t.at(16_000);
    assert!(t.act(t.carol, "execute", id).unwrap_err().contains("(status: vetoed)"));
    assert!(t.act(t.vetoer, "veto", id).unwrap_err().contains("(status: vetoed)"));
    // Pending and passed proposals cannot be vetoed; open ones can.
    let id2 = t.propose(json!([]));
    assert!(t.act(t.vetoer, "veto", id2).unwrap_err().contains("(status: pending)"));
    t.at(17_000);
    t.act(t.vetoer, "veto", id2).unwrap();
    let id3 = t.propose(json!([]));
    t.at(18_000);
    t.vote(t.alice, id3, "yes").unwrap();
    t.at(33_000);
    assert_eq!(t.status(id3), "passed");
    assert!(t.act(t.vetoer, "veto", id3).unwrap_err().contains("(status: passed)"));
}

#[test]
fn only_the_proposer_cancels_and_only_while_pending() {
    let t = setup();
    let id = t.propose(json!([]));
    assert_eq!(t.act(t.bob, "cancel", id).unwrap_err(), "unauthorized: only the proposer or the guardian can cancel");
    t.act(t.alice, "cancel", id).unwrap();
    assert_eq!((t.host.balance(t.alice), t.host.balance(t.module)), (1000, 0));
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["close_ms"].clone()), (Some("cancelled"), Value::Null));
    assert!(t.act(t.alice, "cancel", id).unwrap_err().contains("(status: cancelled)"));
    t.at(1000);
    assert!(t.vote(t.alice, id, "yes").unwrap_err().contains("(status: cancelled)"));
    let id2 = t.propose(json!([]));
    t.at(2000);
    assert!(t.act(t.alice, "cancel", id2).unwrap_err().contains("(status: open)"));
}

#[test]
fn expired_proposals_cannot_run_and_close_settles_the_deposit() {
    for (policy, alice, dao) in [("only_passed", 1000, 1000), ("never", 900, 1100)] {
        let t = setup_with(|c| c["deposit"]["refund"] = json!(policy));
        let id = t.propose(t.transfer(t.dave, 1));
        t.at(1000);
        t.vote(t.alice, id, "yes").unwrap();
        t.at(35_999);
        assert_eq!(t.status(id), "passed");
        t.at(36_000);
        assert_eq!(t.status(id), "expired");
        assert!(t.act(t.carol, "execute", id).unwrap_err().contains("(status: expired)"));
        t.act(t.carol, "close", id).unwrap();
        assert_eq!((t.host.balance(t.alice), t.host.balance(t.dao), t.host.balance(t.dave)), (alice, dao, 1000));
        assert_eq!(t.proposal(id)["final_status"], "expired");
    }
}

#[test]
fn no_timelock_means_passed_at_close() {
    let t = setup_with(|c| c["timelock_ms"] = json!(0));
    let id = t.propose(t.transfer(t.dave, 1));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.at(11_000);
    assert_eq!(t.status(id), "passed");
    t.act(t.carol, "execute", id).unwrap();
    assert_eq!(t.host.balance(t.dave), 1001);
}

#[test]
fn early_close_once_decided_but_not_before_the_minimum_period() {
    let t = setup_with(|c| {
        c["allow_early_close"] = json!(true);
        c["min_voting_period_ms"] = json!(4000);
    });
    let id = t.propose(t.transfer(t.dave, 1));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap(); // 50: rest (50) all veto would veto
    assert_eq!(t.proposal(id)["decided_at_ms"], Value::Null);
    t.at(2000);
    t.vote(t.bob, id, "yes").unwrap(); // 80: rest 20 cannot veto (20/100) nor block
    let p = t.proposal(id);
    assert_eq!((p["decided_at_ms"].as_u64(), p["close_ms"].as_u64()), (Some(T0 + 2000), Some(T0 + 5000)));
    assert_eq!((p["status"].as_str(), p["time_left_ms"].as_u64()), (Some("open"), Some(3000)));
    t.at(4999);
    t.vote(t.carol, id, "no").unwrap(); // still open until the minimum period; decided stays
    assert_eq!(t.proposal(id)["decided_at_ms"], T0 + 2000);
    t.at(5000);
    assert_eq!(t.status(id), "timelocked");
    assert!(t.vote(t.dave, id, "no").is_err());
    t.at(10_000);
    assert_eq!(t.status(id), "passed");
    t.act(t.carol, "execute", id).unwrap();
    assert_eq!(t.host.balance(t.dave), 1001);

    // A certain rejection closes early too.
    let id = t.propose(json!([]));
    t.at(11_000);
    t.vote(t.alice, id, "no").unwrap();
    t.vote(t.carol, id, "no").unwrap(); // 65 no: yes at most 35; veto at most 35/100 > .334
    assert_eq!(t.proposal(id)["decided_at_ms"], Value::Null);
    t.vote(t.dave, id, "no").unwrap(); // 70 no: veto at most 30/100
    assert_eq!(t.proposal(id)["decided_at_ms"], T0 + 11_000);
    t.at(15_000);
    assert_eq!(t.status(id), "rejected");
}

#[test]
fn no_early_close_with_revoting() {
    let t = setup_with(|c| {
        c["allow_early_close"] = json!(true);
        c["allow_revoting"] = json!(true);
    });
    let id = t.propose(json!([]));
    t.at(1000);
    for v in [t.alice, t.bob, t.carol, t.dave] {
        t.vote(v, id, "yes").unwrap();
    }
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["decided_at_ms"].clone()), (Some("open"), Value::Null));
}

#[test]
fn revoting_replaces_the_old_vote_only_when_allowed() {
    let t = setup();
    let id = t.propose(json!([]));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    assert_eq!(t.vote(t.alice, id, "no").unwrap_err(), "already voted on this proposal");
    assert_eq!(t.proposal(id)["tally"]["yes"], "50");

    let t = setup_with(|c| c["allow_revoting"] = json!(true));
    let id = t.propose(json!([]));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.exec(t.alice, 0, json!({"vote": {"proposal_id": id, "option": "no_with_veto", "rationale": "changed my mind"}}))
        .unwrap();
    assert_eq!(t.proposal(id)["tally"], json!({"yes": "0", "no": "0", "abstain": "0", "no_with_veto": "50"}));
    let v = t.q(json!({"vote": {"proposal_id": id, "voter": t.alice}})).unwrap();
    assert_eq!(
        v,
        json!({"vote": {"voter": t.alice, "option": "no_with_veto", "power": "50", "rationale": "changed my mind",
            "delegated": "0", "weight": "50", "conviction": 0, "recent": "50"}})
    );
    t.at(11_000);
    assert_eq!(t.status(id), "vetoed");
}

#[test]
fn power_after_the_snapshot_counts_nothing() {
    let t = setup();
    let eve = mock_addr("eve");
    t.host.set_balance(eve, 1000);
    // eve gets power in the creation block (height 10): snapshot is 9.
    t.set_power(eve, H0, 1000);
    t.set_power(t.alice, H0, 1000);
    t.set_power(Addr::ZERO, H0, 2100);
    assert_eq!(t.propose_with(eve, DEPOSIT, json!([])).unwrap_err(), "no voting power at the snapshot");
    let id = t.propose(json!([]));
    assert_eq!(t.proposal(id)["total_power"], "100");
    t.at(1000);
    assert_eq!(t.vote(eve, id, "yes").unwrap_err(), "no voting power at the snapshot");
    t.vote(t.alice, id, "yes").unwrap();
    assert_eq!(t.proposal(id)["tally"]["yes"], "50");
    // A proposal created later snapshots the new powers.
    let id2 = t.propose(json!([]));
    assert_eq!(t.proposal(id2)["total_power"], "2100");
}

#[test]
fn zero_power_voters_are_refused() {
    let t = setup();
    let id = t.propose(json!([]));
    t.at(1000);
    assert_eq!(t.vote(mock_addr("nobody"), id, "yes").unwrap_err(), "no voting power at the snapshot");
    assert_eq!(t.q(json!({"vote": {"proposal_id": id, "voter": mock_addr("nobody")}})).unwrap(), json!({"vote": null}));
    assert_eq!(t.proposal(id)["tally"]["yes"], "0");
}

#[test]
fn execution_failure_is_recorded_and_changes_nothing_in_the_dao() {
    let t = setup();
    let msgs = json!([
        {"transfer": {"to": t.dave, "amount": "10"}},
        {"update_config": {"name": "Renamed"}},
        {"transfer": {"to": t.dave, "amount": "5000"}},
    ]);
    let id = t.propose(msgs);
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.at(16_000);
    t.events();
    t.act(t.carol, "execute", id).unwrap();
    let p = t.proposal(id);
    assert_eq!(p["status"], "execution_failed");
    let reason = p["execution_failure"].as_str().unwrap();
    assert!(reason.starts_with("message 2: insufficient funds"), "{reason}");
    assert_eq!((t.host.balance(t.dao), t.host.balance(t.dave)), (1000, 1000));
    let name: Value = t.host.query_json(t.dao, &json!({"config": {}})).unwrap();
    assert_eq!(name["name"], "DAO");
    assert_eq!(t.host.balance(t.alice), 1000); // deposit refunded (the proposal passed)
    let ev = t.events();
    assert_eq!(ev[0].kind, "proposal_execution_failed");
    assert_eq!(ev[0].attr("reason"), Some(reason));
    assert!(t.act(t.carol, "execute", id).unwrap_err().contains("(status: execution_failed)"));
}

#[test]
fn chain_params_need_the_dao_to_be_governance() {
    let t = setup();
    let msgs = json!([{"update_chain_params": {"changes": {"staking": {"unbonding_blocks": 5}}}}]);
    let a = t.propose(msgs.clone());
    let b = t.propose(msgs);
    t.at(1000);
    t.vote(t.alice, a, "yes").unwrap();
    t.vote(t.alice, b, "yes").unwrap();
    t.at(16_000);
    t.act(t.carol, "execute", a).unwrap();
    assert_eq!(t.status(a), "execution_failed");
    assert!(t.proposal(a)["execution_failure"].as_str().unwrap().contains("not the chain's governance contract"));
    assert!(t.host.param_updates().is_empty());
    t.host.set_governance(Some(t.dao));
    t.act(t.carol, "execute", b).unwrap();
    assert_eq!(t.status(b), "executed");
    assert_eq!(t.host.param_updates(), vec![json!({"staking": {"unbonding_blocks": 5}})]);
}

#[test]
fn only_the_dao_updates_configs_and_proposals_keep_theirs() {
    let t = setup();
    let mut new_cfg = config();
    new_cfg["deposit"] = Value::Null;
    new_cfg["voting_delay_ms"] = json!(0);
    let upd = json!({"update_config": {"config": new_cfg}});
    assert_eq!(t.exec(t.alice, 0, upd.clone()).unwrap_err(), "unauthorized: only the DAO can update the configuration");
    // Not even the DAO's own execute_proposal, from someone else.
    let direct = json!({"execute_proposal": {"proposal_id": 1, "msgs": [{"update_config": {"name": "x"}}]}});
    assert!(t.host.execute_json(t.dao, t.alice, 0, &direct).unwrap_err().starts_with("unauthorized"));

    let msgs = json!([
        {"execute": {"contract": t.module, "msg": upd}},
        {"update_config": {"name": "Renamed", "description": "new"}},
    ]);
    let id = t.propose(msgs);
    let pending = t.propose(json!([]));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.at(16_000);
    t.act(t.carol, "execute", id).unwrap();
    assert_eq!(t.status(id), "executed");
    let c = t.q(json!({"config": {}})).unwrap();
    assert_eq!((c["deposit"].clone(), c["voting_delay_ms"].as_u64()), (Value::Null, Some(0)));
    let d: Value = t.host.query_json(t.dao, &json!({"config": {}})).unwrap();
    assert_eq!((d["name"].as_str(), d["description"].as_str()), (Some("Renamed"), Some("new")));
    // The older proposal keeps its configuration (and deposit); new ones take the new one.
    assert_eq!(t.proposal(pending)["config"]["voting_delay_ms"], 1000);
    assert_eq!(t.propose_with(t.bob, 100, json!([])).unwrap_err(), "the deposit is exactly 0, got 100");
    let id = t.propose_with(t.bob, 0, json!([])).unwrap();
    assert_eq!(t.status(id), "open");
}
