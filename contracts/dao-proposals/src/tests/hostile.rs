//! Validation, hostile input and the list queries.

use super::*;

#[test]
fn instantiate_validates_the_config() {
    let bad: [(&str, Value, &str); 8] = [
        ("min_voting_period_ms", json!(20_000), "min_voting_period_ms exceeds"),
        ("max_voting_period_ms", json!(0), "max_voting_period_ms must be positive"),
        ("max_voting_period_ms", json!(2_592_000_000u64), "at most 2592000000"),
        ("threshold", json!("0"), "threshold must be positive"),
        ("execution_grace_ms", json!(0), "execution_grace_ms must be positive"),
        ("max_messages", json!(65), "max_messages must be at most 64"),
        ("deposit", json!({"amount": "0", "refund": "never"}), "deposit amount must be positive"),
        ("quorum", json!("1.5"), "not a fraction"),
    ];
    for (field, value, want) in bad {
        let host = MockHost::new();
        host.store_code(PROPS, crate::mock_contract());
        let mut c = config();
        c[field] = value;
        let err = host.instantiate_code(PROPS, mock_addr("dao"), "p", 0, &serde_json::to_vec(&c).unwrap()).unwrap_err();
        assert!(err.contains(want), "{field}: {err}");
    }
    // The largest allowed span, and defaults.
    let host = MockHost::new();
    host.store_code(PROPS, crate::mock_contract());
    let c = json!({"max_voting_period_ms": 2_592_000_000u64, "quorum": "0", "threshold": "0.5",
        "veto_threshold": "1", "execution_grace_ms": 1});
    let m = host.instantiate_code(PROPS, mock_addr("dao"), "p", 0, &serde_json::to_vec(&c).unwrap()).unwrap();
    let got: Value = host.query_json(m, &json!({"config": {}})).unwrap();
    assert_eq!((got["max_messages"].as_u64(), got["deposit"].clone()), (Some(16), Value::Null));
    let dao: Value = host.query_json(m, &json!({"dao": {}})).unwrap();
    assert_eq!(dao, json!({"dao": mock_addr("dao")}));
}

#[test]
fn the_deposit_must_be_exact() {
    let t = setup();
    for paid in [0, 99, 101] {
        let err = t.propose_with(t.alice, paid, json!([])).unwrap_err();
        assert_eq!(err, format!("the deposit is exactly 100, got {paid}"));
    }
    assert_eq!(t.host.balance(t.alice), 1000);
    assert_eq!(t.q(json!({"proposal_count": {}})).unwrap(), json!({"count": 0}));
}

#[test]
fn hostile_proposals_are_refused() {
    let t = setup();
    let long = |n: usize| "x".repeat(n);
    let p = |title: String, description: String, msgs: Value| {
        t.exec(t.alice, DEPOSIT, json!({"propose": {"title": title, "description": description, "msgs": msgs}}))
    };
    assert!(p(String::new(), String::new(), json!([])).unwrap_err().contains("title must be 1 to 128 bytes"));
    assert!(p(long(129), String::new(), json!([])).unwrap_err().contains("title must be"));
    assert!(p(long(128), long(4097), json!([])).unwrap_err().contains("description must be at most 4096"));
    let many: Vec<Value> = (0..17).map(|_| json!({"transfer": {"to": t.dave, "amount": "1"}})).collect();
    assert_eq!(p("t".into(), String::new(), json!(many)).unwrap_err(), "too many messages (see max_messages)");
    let huge = json!([{"execute": {"contract": t.dave, "msg": {"blob": long(40_000)}}}]);
    assert!(p("t".into(), String::new(), huge).unwrap_err().contains("messages are larger than 32768 bytes"));
    let unknown = json!([{"self_destruct": {}}]);
    assert!(p("t".into(), String::new(), unknown).unwrap_err().contains("invalid message"));
    let extra = json!([{"transfer": {"to": t.dave, "amount": "1", "memo": "x"}}]);
    assert!(p("t".into(), String::new(), extra).unwrap_err().contains("invalid message"));
    let bad_amount = json!([{"transfer": {"to": t.dave, "amount": "-1"}}]);
    assert!(p("t".into(), String::new(), bad_amount).unwrap_err().contains("invalid message"));
    let bad_hash = json!([{"instantiate": {"code_hash": "ab", "label": "l", "msg": {}}}]);
    assert!(p("t".into(), String::new(), bad_hash).unwrap_err().contains("is not a code hash"));
    let params = json!([{"update_chain_params": {"changes": [1]}}]);
    assert!(p("t".into(), String::new(), params).unwrap_err().contains("must be an object"));
    let to_self = json!([{"execute": {"contract": t.module, "msg": {"cancel": {"proposal_id": 1}}}}]);
    assert_eq!(
        p("t".into(), String::new(), to_self).unwrap_err(),
        "a proposal can only send update_config to this module"
    );
    let bad_cfg = json!([{"execute": {"contract": t.module, "msg": {"update_config": {"config": {"max_voting_period_ms": 0,
        "quorum": "0", "threshold": "0.5", "veto_threshold": "1", "execution_grace_ms": 1}}}}}]);
    assert!(p("t".into(), String::new(), bad_cfg).unwrap_err().contains("max_voting_period_ms must be positive"));
    let paid = json!([{"execute": {"contract": t.module, "msg": {}, "funds": "1"}}]);
    assert_eq!(p("t".into(), String::new(), paid).unwrap_err(), "messages to this module cannot carry funds");
    // Nothing was stored; a maximal valid one is accepted.
    assert_eq!(t.q(json!({"proposal_count": {}})).unwrap(), json!({"count": 0}));
    let max: Vec<Value> = (0..16).map(|_| json!({"transfer": {"to": t.dave, "amount": "1"}})).collect();
    p(long(128), long(4096), json!(max)).unwrap();
    assert_eq!(t.q(json!({"proposal_count": {}})).unwrap(), json!({"count": 1}));
}

#[test]
fn unknown_ids_and_bad_votes() {
    let t = setup();
    for action in ["execute", "cancel", "veto", "close"] {
        assert_eq!(t.act(t.vetoer, action, 7).unwrap_err(), "no proposal 7");
    }
    assert_eq!(t.vote(t.alice, 7, "yes").unwrap_err(), "no proposal 7");
    assert_eq!(t.q(json!({"proposal": {"proposal_id": 7}})).unwrap_err(), "no proposal 7");
    let id = t.propose(json!([]));
    t.at(1000);
    assert!(t.vote(t.alice, id, "maybe").unwrap_err().contains("invalid message"));
    let r = t.exec(t.alice, 0, json!({"vote": {"proposal_id": id, "option": "yes", "rationale": "r".repeat(1025)}}));
    assert_eq!(r.unwrap_err(), "rationale is longer than 1024 bytes");
    assert!(t.act(t.alice, "close", id).unwrap_err().contains("(status: open)"));
    assert_eq!(t.q(json!({"list_votes": {"proposal_id": id}})).unwrap(), json!({"votes": []}));
}

#[test]
fn tallies_cannot_overflow() {
    let t = setup();
    let whale = u128::MAX - 10;
    t.set_power(t.bob, 1, whale);
    t.set_power(t.carol, 1, 20);
    t.set_power(Addr::ZERO, 1, u128::MAX);
    let id = t.propose(json!([]));
    t.at(1000);
    t.vote(t.bob, id, "yes").unwrap();
    assert_eq!(t.vote(t.carol, id, "no").unwrap_err(), "tally overflow");
    t.vote(t.dave, id, "abstain").unwrap(); // 5 more fits
    let p = t.proposal(id);
    assert_eq!(
        (p["tally"]["yes"].as_str(), p["tally"]["abstain"].as_str()),
        (Some(whale.to_string().as_str()), Some("5"))
    );
    t.at(11_000);
    assert_eq!(t.status(id), "timelocked");
}

#[test]
fn list_queries_page_and_clamp() {
    let t = setup();
    for _ in 0..5 {
        t.propose(json!([]));
    }
    let ids = |v: Value| -> Vec<u64> {
        v["proposals"].as_array().unwrap().iter().map(|p| p["id"].as_u64().unwrap()).collect()
    };
    assert_eq!(ids(t.q(json!({"list_proposals": {}})).unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(ids(t.q(json!({"list_proposals": {"start_after": 2, "limit": 2}})).unwrap()), [3, 4]);
    assert_eq!(ids(t.q(json!({"list_proposals": {"limit": 0}})).unwrap()), Vec::<u64>::new());
    assert_eq!(ids(t.q(json!({"list_proposals": {"start_after": u64::MAX}})).unwrap()), Vec::<u64>::new());
    assert_eq!(ids(t.q(json!({"list_proposals": {"limit": 4_000_000_000u32}})).unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(ids(t.q(json!({"reverse_proposals": {}})).unwrap()), [5, 4, 3, 2, 1]);
    assert_eq!(ids(t.q(json!({"reverse_proposals": {"start_before": 4, "limit": 2}})).unwrap()), [3, 2]);
    assert_eq!(ids(t.q(json!({"reverse_proposals": {"start_before": 1}})).unwrap()), Vec::<u64>::new());
    assert_eq!(ids(t.q(json!({"reverse_proposals": {"start_before": u64::MAX, "limit": 1}})).unwrap()), [5]);
    assert_eq!(ids(t.q(json!({"reverse_proposals": {"limit": 0}})).unwrap()), Vec::<u64>::new());
    let all = t.q(json!({"list_proposals": {}})).unwrap();
    assert_eq!(all["proposals"][0], t.proposal(1));
    assert_eq!(all["proposals"][0]["status"], "pending");
    // Many proposals: the limit is clamped to 100.
    t.host.set_balance(t.alice, 1_000_000);
    for _ in 0..100 {
        t.propose(json!([]));
    }
    assert_eq!(ids(t.q(json!({"list_proposals": {"limit": 1000}})).unwrap()).len(), 100);
    assert_eq!(
        ids(t.q(json!({"list_proposals": {"start_after": 100, "limit": 1000}})).unwrap()),
        [101, 102, 103, 104, 105]
    );

    // Votes.
    t.at(1000);
    let voters = [t.alice, t.bob, t.carol, t.dave];
    for v in voters {
        t.vote(v, 1, "abstain").unwrap();
    }
    let mut sorted = voters.to_vec();
    sorted.sort();
    let got = t.q(json!({"list_votes": {"proposal_id": 1, "limit": 3}})).unwrap();
    let got: Vec<Addr> =
        got["votes"].as_array().unwrap().iter().map(|v| serde_json::from_value(v["voter"].clone()).unwrap()).collect();
    assert_eq!(got, sorted[..3]);
    let rest = t.q(json!({"list_votes": {"proposal_id": 1, "start_after": sorted[2]}})).unwrap();
    assert_eq!(rest["votes"].as_array().unwrap().len(), 1);
    let power = [(t.alice, "50"), (t.bob, "30"), (t.carol, "15"), (t.dave, "5")]
        .into_iter()
        .find(|(a, _)| *a == sorted[3])
        .unwrap()
        .1;
    assert_eq!(
        rest["votes"][0],
        json!({"voter": sorted[3], "option": "abstain", "power": power, "rationale": null,
            "delegated": "0", "weight": power, "conviction": 0, "recent": power})
    );
    assert_eq!(t.q(json!({"list_votes": {"proposal_id": 2}})).unwrap(), json!({"votes": []}));
    assert_eq!(t.q(json!({"list_votes": {"proposal_id": 1, "limit": 0}})).unwrap(), json!({"votes": []}));
}

#[test]
fn messages_are_parsed_strictly() {
    let t = setup();
    let id = t.propose(json!([]));
    t.at(1000);
    let cases = [
        (json!({"vote": {"proposal_id": id, "option": "yes", "extra": 1}}), "invalid message: unknown field `extra`"),
        (json!({"vote": {"option": "yes"}}), "invalid message: missing field `proposal_id`"),
        (
            json!({"vote": {"proposal_id": "1", "option": "yes"}}),
            "invalid message: field `proposal_id`: invalid type: string \"1\", expected u64",
        ),
        (
            json!({"vote": {"proposal_id": id, "option": "maybe"}}),
            "invalid message: field `option`: unknown value `maybe`",
        ),
        (json!({"vote": {"proposal_id": id, "option": "yes"}, "cancel": {"proposal_id": id}}), "exactly one field"),
        (json!({"explode": {}}), "invalid message: unknown message `explode`"),
        (json!({"execute": []}), "invalid message: invalid JSON"),
        (json!([]), "invalid message"),
    ];
    for (msg, want) in cases {
        let err = t.exec(t.alice, 0, msg.clone()).unwrap_err();
        assert!(err.starts_with(want) || err.contains(want), "{msg}: {err}");
    }
    let dup = br#"{"vote":{"proposal_id":1,"proposal_id":1,"option":"yes"}}"#;
    let err = t.host.execute(t.module, t.alice, 0, dup).unwrap_err();
    assert!(err.contains("duplicate field `proposal_id`"), "{err}");
    // `null` is "not given" for optional fields.
    t.exec(t.alice, 0, json!({"vote": {"proposal_id": id, "option": "yes", "rationale": null}})).unwrap();
    let err = t.q(json!({"config": {"x": 1}})).unwrap_err();
    assert!(err.contains("unknown field `x`"), "{err}");
    let err = t.q(json!({"proposals": {}})).unwrap_err();
    assert!(err.contains("unknown query `proposals`"), "{err}");
    assert_eq!(t.q(json!({"dao": {}})).unwrap(), json!({"dao": t.dao}));
}

#[test]
fn rule_settings_are_validated() {
    let reg = mock_addr("registry");
    let bad: [(Value, &str); 7] = [
        (json!({"voting_rule": "quadratic"}), "quadratic voting needs an identity_registry"),
        (json!({"voting_rule": "conviction"}), "needs conviction_period_ms"),
        (json!({"voting_rule": "conviction", "conviction_period_ms": 1_814_400_001u64}), "needs conviction_period_ms"),
        (json!({"voting_rule": "plural"}), "unknown value `plural`"),
        (
            json!({"voting_rule": "quadratic", "identity_registry": reg, "allow_early_close": true}),
            "allow_early_close needs",
        ),
        (json!({"late_quorum_extension_ms": 2_592_000_000u64 - 10_999}), "late_quorum_extension_ms must be at most"),
        (json!({"acquisition_window_blocks": 1_000_001}), "acquisition_window_blocks must be at most 1000000"),
    ];
    for (fields, want) in bad {
        let host = MockHost::new();
        host.store_code(PROPS, crate::mock_contract());
        let mut c = config();
        for (k, v) in fields.as_object().unwrap() {
            c[k] = v.clone();
        }
        let err = host.instantiate_code(PROPS, mock_addr("dao"), "p", 0, &serde_json::to_vec(&c).unwrap()).unwrap_err();
        assert!(err.contains(want), "{fields}: {err}");
    }
    let cap = |c: Value| {
        let host = MockHost::new();
        host.store_code(PROPS, crate::mock_contract());
        let mut cfg = config();
        cfg["outflow_cap"] = c;
        host.instantiate_code(PROPS, mock_addr("dao"), "p", 0, &serde_json::to_vec(&cfg).unwrap())
    };
    assert!(cap(json!({"amount": "1", "period_ms": 0, "threshold": "0.9"})).unwrap_err().contains("period_ms"));
    assert!(cap(json!({"amount": "1", "period_ms": 1, "threshold": "0"})).unwrap_err().contains("threshold"));
    assert!(cap(json!({"amount": "1", "period_ms": 1, "threshold": "0.9", "x": 1})).unwrap_err().contains("unknown"));
    cap(json!({"amount": "1", "period_ms": 1, "threshold": "0.9"})).unwrap();
}

#[test]
fn vote_arguments_are_bounded() {
    let t = setup();
    let id = t.propose(json!([]));
    t.at(1000);
    let v = |extra: Value| {
        let mut m = json!({"proposal_id": id, "option": "yes"});
        for (k, x) in extra.as_object().unwrap() {
            m[k] = x.clone();
        }
        t.exec(t.alice, 0, json!({"vote": m}))
    };
    assert!(v(json!({"conviction": 1})).unwrap_err().contains("only under the conviction rule"));
    assert!(v(json!({"conviction": 7})).unwrap_err().contains("conviction must be 0 to 6"));
    assert!(v(json!({"conviction": 256})).unwrap_err().contains("conviction"));
    assert!(v(json!({"power": "51"})).unwrap_err().contains("cannot commit 51: the power at the snapshot is 50"));
    assert!(v(json!({"power": "-1"})).unwrap_err().contains("power"));
    assert_eq!(v(json!({"power": "0"})).unwrap_err(), "no voting power at the snapshot");
    v(json!({"power": "20"})).unwrap();
    let p = t.proposal(id);
    assert_eq!((p["tally"]["yes"].as_str(), p["turnout"].as_str()), (Some("20"), Some("20")));
}

#[test]
fn guardian_cancels_until_execution_and_only_the_current_one() {
    let gina = mock_addr("gina");
    let t = setup_with(|c| {
        c["guardian"] = json!(mock_addr("gina"));
    });
    let id = t.propose(t.transfer(t.dave, 1));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.at(11_000);
    assert_eq!(t.status(id), "timelocked");
    assert!(t.act(t.bob, "cancel", id).unwrap_err().contains("only the proposer or the guardian"));
    t.act(gina, "cancel", id).unwrap();
    let p = t.proposal(id);
    assert_eq!((p["status"].as_str(), p["cancelled_by"].clone()), (Some("cancelled"), json!(gina)));
    assert!(t.act(gina, "cancel", id).unwrap_err().contains("(status: cancelled)"));
    // Executed proposals are out of reach.
    let id = t.propose(t.transfer(t.dave, 1));
    t.at(12_000);
    t.vote(t.alice, id, "yes").unwrap();
    t.at(30_000);
    t.act(t.carol, "execute", id).unwrap();
    assert!(t.act(gina, "cancel", id).unwrap_err().contains("(status: executed)"));
}
