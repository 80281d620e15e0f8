//! Attacks on the rules themselves under an outflow cap (from an attack
//! review): a guardian-proof config swap, a stale config replayed, a second
//! module removing the first one's cap, chain governance handed over.

use super::*;

const EVIL: [u8; 32] = [9; 32];

/// A delegation contract that lists `victim` `n` times as `to`'s delegator.
fn evil_registry(victim: Addr, to: Addr, n: usize) -> MockContract {
    MockContract::new().instantiate(|_| Ok(vec![])).query(move |msg| {
        let q: Value = serde_json::from_slice(msg).unwrap();
        let out = if q["delegators"]["delegate"] == json!(to) {
            json!({"delegators": vec![json!({"delegator": victim, "bps": 10_000}); n]})
        } else if q.get("delegators").is_some() {
            json!({"delegators": []})
        } else {
            json!({"delegations": []})
        };
        Ok(serde_json::to_vec(&out).unwrap())
    })
}

fn capped(c: &mut Value) {
    c["guardian"] = json!(mock_addr("gina"));
    c["vetoer"] = Value::Null;
    c["outflow_cap"] = json!({"amount": "10", "period_ms": 1_000_000_000u64, "threshold": "0.9"});
}

fn set_config(module: Addr, config: Value) -> Value {
    json!([{"execute": {"contract": module, "msg": {"update_config": {"config": config}}}}])
}

#[test]
fn a_config_swap_with_a_new_guardian_is_cancellable_and_needs_the_cap_threshold() {
    let t = setup_with(capped);
    let gina = mock_addr("gina");
    t.host.store_code(EVIL, evil_registry(t.dave, t.alice, 100));
    let evil = t.host.instantiate_code(EVIL, t.alice, "evil", 0, b"{}").unwrap();
    let mut grab: Value = t.q(json!({"config": {}})).unwrap();
    grab["guardian"] = json!(t.alice);
    grab["delegation"] = json!(evil);
    let id = t.propose(set_config(t.module, grab));
    let p = t.proposal(id);
    assert_eq!((p["cap_threshold"].as_bool(), p["guardian_proof"].as_bool()), (Some(true), Some(false)));
    t.at(1000);
    t.vote(t.alice, id, "yes").unwrap();
    t.vote(t.bob, id, "no").unwrap(); // 62.5 %: not above the cap's 90 %
    t.at(11_000);
    assert_eq!(t.status(id), "rejected");
    // Only the guardian changes: guardian-proof.
    let mut only: Value = t.q(json!({"config": {}})).unwrap();
    only["guardian"] = json!(t.bob);
    let id = t.propose(set_config(t.module, only));
    assert_eq!(t.proposal(id)["guardian_proof"], true);
    assert!(t.act(gina, "cancel", id).unwrap_err().contains("cannot cancel a proposal that replaces the guardian"));
}

#[test]
fn a_duplicate_delegator_list_counts_nothing_twice() {
    let t = setup();
    t.host.store_code(EVIL, evil_registry(t.dave, t.alice, 3));
    let evil = t.host.instantiate_code(EVIL, t.alice, "evil", 0, b"{}").unwrap();
    let mut cfg: Value = t.q(json!({"config": {}})).unwrap();
    cfg["delegation"] = json!(evil);
    let id = t.propose(set_config(t.module, cfg));
    t.at(1000);
    for v in [t.alice, t.bob, t.carol, t.dave] {
        t.vote(v, id, "yes").unwrap();
    }
    t.at(16_000);
    t.act(t.carol, "execute", id).unwrap();
    let id = t.propose(json!([]));
    t.at(17_000);
    let err = t.vote(t.alice, id, "yes").unwrap_err();
    assert!(err.contains("not sorted and unique"), "{err}");
}

#[test]
fn a_stale_config_fails_instead_of_undoing_a_later_change() {
    let t = setup_with(capped);
    let current: Value = t.q(json!({"config": {}})).unwrap();
    let stale = t.propose(set_config(t.module, current.clone()));
    let mut tight = current.clone();
    tight["outflow_cap"]["amount"] = json!("1");
    let tighten = t.propose(set_config(t.module, tight));
    t.at(1000);
    for v in [t.alice, t.bob, t.carol, t.dave] {
        t.vote(v, tighten, "yes").unwrap();
        t.vote(v, stale, "yes").unwrap();
    }
    t.at(16_000);
    t.act(t.carol, "execute", tighten).unwrap();
    t.act(t.carol, "execute", stale).unwrap();
    let p = t.proposal(stale);
    assert_eq!(p["status"], "execution_failed");
    assert!(p["execution_failure"].as_str().unwrap().contains("configuration changed"), "{p}");
    assert_eq!(t.q(json!({"config": {}})).unwrap()["outflow_cap"]["amount"], "1");
}

#[test]
fn rules_of_other_modules_and_of_the_chain_need_the_cap_threshold() {
    let host = MockHost::new();
    let powers: Powers = Rc::default();
    host.store_code(CORE, dao_core::mock_contract());
    host.store_code(VOTING, mock_voting(powers.clone()));
    host.store_code(PROPS, crate::mock_contract());
    let alice = mock_addr("alice");
    for (a, p) in [(alice, 50), (Addr::ZERO, 100)] {
        powers.borrow_mut().insert((a, 1), p);
        host.set_balance(a, 1000);
    }
    let mut cfg = config();
    capped(&mut cfg);
    let msg = json!({"name": "DAO", "voting": {"code_hash": hex(VOTING), "label": "voting", "msg": {}},
        "proposals": [{"code_hash": hex(PROPS), "label": "a", "msg": cfg}, {"code_hash": hex(PROPS), "label": "b", "msg": cfg}]});
    host.set_block_height(H0);
    host.set_block_time_ms(T0);
    let dao = host.instantiate_code(CORE, alice, "dao", 0, &serde_json::to_vec(&msg).unwrap()).unwrap();
    let (a, b) = (agora_sdk::contract_address(&PROPS, &dao, "a"), agora_sdk::contract_address(&PROPS, &dao, "b"));
    let voting = agora_sdk::contract_address(&VOTING, &dao, "voting");
    let mut open = cfg.clone();
    open["outflow_cap"] = Value::Null;
    let cases = [
        (json!([{"execute": {"contract": a, "msg": {"update_config": {"config": open}}}}]), true),
        (json!([{"execute": {"contract": voting, "msg": {"anything": {}}}}]), true),
        (json!([{"update_chain_params": {"changes": {"governance": alice}}}]), true),
        (json!([{"update_config": {"name": "renamed"}}]), false),
        (json!([{"transfer": {"to": alice, "amount": "5"}}]), false),
        (json!([{"execute": {"contract": alice, "msg": {}}}]), false),
    ];
    for (msgs, want) in cases {
        let m = json!({"propose": {"title": "t", "msgs": msgs}});
        let id: u64 = String::from_utf8(host.execute_json(b, alice, DEPOSIT, &m).unwrap()).unwrap().parse().unwrap();
        let p: Value = host.query_json(b, &json!({"proposal": {"proposal_id": id}})).unwrap();
        assert_eq!(p["cap_threshold"], want, "{msgs}");
    }
}
