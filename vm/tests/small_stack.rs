//! The example contracts link with a 64 KiB shadow stack (see their
//! `build.rs`; `contracts/artifacts/tests/abi.rs` checks the stack-first
//! layout): hostile nesting is refused (the token's typed fields) or kept as
//! text (a DAO proposal's messages, nested 2 000 deep), and recursion past the
//! stack fails the call with an out-of-bounds trap, never the node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod dao_harness;

use common::World;
use dao_harness::{Chain, M, addr, exec, key, upload_all};
use ledger::{Address, Amount, ChainParams, Payload, TxStatus, contract_address};

fn nested(depth: usize) -> serde_json::Value {
    let mut v = serde_json::json!(1);
    for _ in 0..depth {
        v = serde_json::json!([v]);
    }
    v
}

#[test]
fn deeply_nested_messages_fail_cleanly_or_parse() {
    let mut w = World::new();
    let token = w.token();
    let to = Address([9; 20]).to_string();
    for depth in [1, 16, 64, 127, 128, 200, 5_000] {
        let msg = serde_json::json!({"transfer": {"recipient": to, "amount": nested(depth)}});
        let r = w.exec(token, &serde_json::to_vec(&msg).unwrap(), 5_000_000);
        assert!(common::reason(&r).contains("invalid message"), "depth {depth}: {r:?}");
    }
    // The chain still works: a plain transfer succeeds.
    let msg = serde_json::json!({"transfer": {"recipient": to, "amount": "1"}});
    assert_eq!(w.exec(token, &serde_json::to_vec(&msg).unwrap(), 5_000_000).status, TxStatus::Success);
}

#[test]
fn probe_recursion_exhausts_the_stack_as_a_failed_call() {
    let mut w = World::new();
    let code_hash = w.store_code(contract_artifacts::PROBE);
    let payload = Payload::Instantiate { code_hash, label: "p".into(), msg: b"{}".to_vec(), funds: Amount::ZERO };
    let r = w.tx(payload, 10_000_000).unwrap();
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let probe = ledger::contract_address(&code_hash, &w.me(), "p");
    // Each level keeps 64 bytes on the shadow stack: hundreds of levels fit.
    let r = w.exec(probe, br#"{"recurse":{"depth":500}}"#, 50_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    for depth in [2_000u64, 10_000_000] {
        let msg = serde_json::json!({"recurse": {"depth": depth}});
        let r = w.exec(probe, &serde_json::to_vec(&msg).unwrap(), 500_000_000);
        assert!(common::reason(&r).contains("out of bounds memory access"), "{r:?}");
    }
    let r = w.exec(probe, br#"{"recurse":{"depth":10}}"#, 50_000_000);
    assert_eq!(r.status, TxStatus::Success, "the contract still works: {r:?}");
}

/// A DAO proposal carries arbitrary JSON for the contracts it will call: the
/// proposal module parses it (raw JSON, nesting checked) with the small stack.
#[test]
fn dao_proposals_with_deeply_nested_messages() {
    let (deployer, v0) = (key("deployer"), key("v0"));
    let mut c = Chain::new(&[&deployer, &v0], &[(&v0, 40 * M)], ChainParams::default());
    let codes = upload_all(&mut c, &deployer);
    let rules = serde_json::json!({
        "voting_delay_ms": 0, "min_voting_period_ms": 1_000, "max_voting_period_ms": 10_000,
        "quorum": "0.334", "threshold": "0.5", "veto_threshold": "0.334",
        "allow_early_close": false, "allow_revoting": false,
        "deposit": null, "timelock_ms": 0, "vetoer": null, "execution_grace_ms": 60_000,
    });
    let msg = serde_json::json!({
        "name": "deep", "description": "",
        "voting": { "code_hash": codes.stake.to_string(), "label": "voting", "msg": {} },
        "proposals": [{ "code_hash": codes.proposals.to_string(), "label": "proposals", "msg": rules }],
    });
    let payload = Payload::Instantiate {
        code_hash: codes.core,
        label: "deep".into(),
        msg: serde_json::to_vec(&msg).unwrap(),
        funds: Amount::ZERO,
    };
    dao_harness::ok(&c.one(100, &deployer, payload));
    let dao = contract_address(&codes.core, &addr(&deployer), "deep");
    let props = c.query(dao, serde_json::json!({"proposal_modules": {}})).unwrap()["proposal_modules"][0]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for depth in [1, 64, 127, 128, 200, 2_000] {
        let msgs = serde_json::json!([{"execute": {"contract": dao.to_string(), "msg": nested(depth)}}]);
        let p = exec(props, serde_json::json!({"propose": {"title": "t", "description": "", "msgs": msgs}}), 0);
        let r = c.one(100, &v0, p);
        // Raw JSON is kept as text (no recursion in the contract): every
        // depth is stored, at a price that grows with its size.
        assert_eq!(r.status, TxStatus::Success, "depth {depth}: {r:?}");
    }
}
