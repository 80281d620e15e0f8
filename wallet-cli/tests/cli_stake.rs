//! Command-line tests of `agora stake …`, `agora validators`, `agora validator`
//! and `agora delegations` against the mock node (see
//! `tests/common/mock_staking.rs` for its model of staking).
#![allow(clippy::unwrap_used)]

mod common;

use common::mock_node::{self, MockNode, State};
use common::mock_staking::{self, MIN_SELF_DELEGATION, NOW_MS, UNBONDING_MS};
use common::{Env, stderr, stdout};
use ledger::{Address, Amount, Payload, PublicKey};
use serde_json::Value;
use wallet_cli::parse::GasAdjustment;

fn node(balance: u128) -> MockNode {
    MockNode::start(State { balance, ..State::default() })
}

fn addr(key: &Value) -> Address {
    key["address"].as_str().unwrap().parse().unwrap()
}

/// The payload of the last committed transaction.
fn last_payload(node: &MockNode) -> Payload {
    node.state().committed.last().unwrap().0.body.payload.clone()
}

fn committed(node: &MockNode) -> usize {
    node.state().committed.len()
}

/// Runs and expects exit code `code`; returns stderr.
fn fails(env: &Env, args: &[&str], code: i32) -> String {
    let out = env.run(args);
    assert_eq!(out.status.code(), Some(code), "agora {args:?}: {}{}", stdout(&out), stderr(&out));
    stderr(&out)
}

#[test]
fn create_validator_reads_the_node_key_and_the_chain_minimum() {
    let env = Env::new();
    let val = env.new_key("val");
    let node = node(10_000_000_000);
    // agorad's key file in a node home (node/src/keys.rs).
    let pk = PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[42; 32]));
    let home = env.dir.path().join("node-home");
    std::fs::create_dir(&home).unwrap();
    let key_file = format!(r#"{{"type": "ed25519", "public_key": "{pk}", "secret_key": "{}"}}"#, "00".repeat(32));
    std::fs::write(home.join("validator_key.json"), key_file).unwrap();

    let out = env.json(&[
        "stake",
        "create-validator",
        "--from",
        "val",
        "--self-stake",
        "2000000",
        "--validator-key",
        home.to_str().unwrap(),
        "--moniker",
        "alpha",
        "--country",
        "de",
        "--website",
        "https://alpha.example",
        "--node",
        &node.url,
        "-o",
        "json",
    ]);
    let Payload::CreateValidator { consensus_key, self_stake, commission, min_self_delegation, metadata } =
        last_payload(&node)
    else {
        panic!("not a create-validator")
    };
    assert_eq!((consensus_key, self_stake), (pk, Amount::new(2_000_000)));
    assert_eq!(min_self_delegation, Amount::new(MIN_SELF_DELEGATION), "the chain's min_self_delegation");
    assert_eq!(
        (commission.rate.ppm(), commission.max_rate.ppm(), commission.max_change_rate.ppm()),
        (100_000, 200_000, 10_000)
    );
    assert_eq!((metadata.moniker.as_str(), metadata.country.as_str()), ("alpha", "DE"));
    assert_eq!(metadata.website, "https://alpha.example");
    assert_eq!(out["operator"], val["address"]);
    assert_eq!(out["consensus_key"], pk.to_string());
    assert_eq!(out["min_self_delegation"], MIN_SELF_DELEGATION.to_string());
    assert_eq!(out["receipt"]["status"], "success");
    {
        let st = node.state();
        assert_eq!(st.estimates, 1, "--gas auto: one dry run");
        let tx = &st.committed[0].0;
        let used = mock_node::intrinsic_gas(tx) + mock_staking::STAKING_GAS;
        assert_eq!(out["gas_estimate"], used);
        assert_eq!(tx.body.gas_limit, GasAdjustment::DEFAULT.apply(used, mock_node::MAX_TX_GAS));
    }

    // `agora tx` shows it.
    let text = stdout(&env.run(&["tx", out["hash"].as_str().unwrap(), "--node", &node.url]));
    assert!(text.contains("create validator") && text.contains("10% (max 20%, max change 1%)"), "{text}");

    // A second one fails in the dry run: nothing is sent.
    let e = fails(
        &env,
        &[
            "stake",
            "create-validator",
            "--from",
            "val",
            "--self-stake",
            "2000000",
            "--consensus-key",
            &pk.to_string(),
            "--moniker",
            "alpha",
            "--node",
            &node.url,
        ],
        1,
    );
    assert!(e.contains("the dry run of this validator creation failed") && e.contains("already operates"), "{e}");
    assert_eq!(committed(&node), 1);
}

#[test]
fn create_validator_refusals_send_nothing() {
    let env = Env::new();
    env.new_key("val");
    let node = node(2_000_000);
    let pk = PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[42; 32])).to_string();
    let run = |extra: &[&str], stake: &str, code: i32| {
        let mut args = vec!["stake", "create-validator", "--from", "val", "--moniker", "m", "--node", &node.url];
        args.extend(["--self-stake", stake]);
        args.extend(extra);
        fails(&env, &args, code)
    };
    let e = run(&["--consensus-key", &pk, "--commission-rate", "0.3"], "1500000", 2);
    assert!(e.contains("above the maximum commission rate 0.2"), "{e}");
    let e = run(&["--consensus-key", &pk, "--min-self-delegation", "1600000"], "1500000", 2);
    assert!(e.contains("below the minimum self-delegation 1600000"), "{e}");
    let e = run(&[], "1500000", 2);
    assert!(e.contains("--consensus-key"), "{e}");
    let e = run(&["--consensus-key", &pk, "--country", "Atlantis"], "1500000", 2);
    assert!(e.contains("ISO 3166"), "{e}");
    let e = run(&["--validator-key", "/nonexistent/validator_key.json"], "1500000", 1);
    assert!(e.contains("cannot read the validator key file"), "{e}");
    assert_eq!(node.state().estimates, 0, "refused before asking the node");

    let e = run(&["--consensus-key", &pk, "--min-self-delegation", "500"], "1500000", 1);
    assert!(e.contains("below the chain's minimum 1000000"), "{e}");
    let e = run(&["--consensus-key", &pk], "999999", 1);
    assert!(e.contains("self-stake 999999 is below the minimum self-delegation 1000000"), "{e}");
    // The balance must cover the self-stake and the maximum fee.
    let e = run(&["--consensus-key", &pk], "2000000", 1);
    assert!(e.contains("insufficient balance") && e.contains("self-stake 2000000"), "{e}");
    assert_eq!(committed(&node), 0);
}

/// A node with validators `alpha` and `beta`, and a key `del`.
fn staking_node(env: &Env) -> (MockNode, Address, Address) {
    env.new_key("del");
    let node = node(1_000_000_000);
    let (a, b) = (Address([1; 20]), Address([2; 20]));
    {
        let mut st = node.state();
        st.contracts.staking.add_validator(a, "alpha", 5_000_000);
        st.contracts.staking.add_validator(b, "beta", 3_000_000);
    }
    (node, a, b)
}

#[test]
fn delegate_undelegate_redelegate_withdraw() {
    let env = Env::new();
    let (node, a, b) = staking_node(&env);
    let (sa, sb) = (a.to_string(), b.to_string());
    let url = node.url.clone();

    let out = env.json(&["stake", "delegate", &sa, "1000", "--from", "del", "--node", &url, "-o", "json"]);
    assert_eq!(last_payload(&node), Payload::Delegate { validator: a, amount: Amount::new(1000) });
    assert_eq!((out["amount"].as_str(), out["shares"].as_str()), (Some("1000"), Some("1000")));
    assert_eq!(out["validator"], sa.as_str());

    // Unknown validators and unaffordable amounts are refused before the dry run.
    let estimates = node.state().estimates;
    let unknown = Address([9; 20]).to_string();
    let e = fails(&env, &["stake", "delegate", &unknown, "5", "--from", "del", "--node", &url], 1);
    assert!(e.contains(&format!("validator {unknown} not found")), "{e}");
    let e = fails(&env, &["stake", "delegate", &sa, "999999999", "--from", "del", "--node", &url], 1);
    assert!(e.contains("insufficient balance") && e.contains("amount 999999999"), "{e}");
    assert_eq!(node.state().estimates, estimates + 1, "only the affordable-looking one was dry-run");

    // Undelegate: the completion time comes from the receipt.
    let out = env.run(&["stake", "undelegate", &sa, "400", "--from", "del", "--node", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let done = NOW_MS + UNBONDING_MS;
    assert!(text.contains("completes:") && text.contains("2023-11-14T22:23:20.000Z ("), "{text}");
    assert!(text.contains("undelegate ") && text.contains(&format!("completion_time_ms={done}")), "{text}");
    let out = env.json(&["stake", "undelegate", &sa, "100", "--from", "del", "--node", &url, "-o", "json"]);
    assert_eq!(out["completion_time_ms"], done);
    assert_eq!(out["completion_time"], "2023-11-14T22:23:20.000Z");
    assert_eq!(out["unbonded"], "100");
    let e = fails(&env, &["stake", "undelegate", &sa, "501", "--from", "del", "--node", &url], 1);
    assert!(e.contains("dry run of this undelegation failed: only 500 is delegated"), "{e}");

    // Redelegate.
    let e = fails(&env, &["stake", "redelegate", &sa, &sa, "1", "--from", "del", "--node", &url], 2);
    assert!(e.contains("the same"), "{e}");
    let out = env.json(&["stake", "redelegate", &sa, &sb, "300", "--from", "del", "--node", &url, "-o", "json"]);
    let redelegation = Payload::Redelegate { src_validator: a, dst_validator: b, amount: Amount::new(300) };
    assert_eq!(last_payload(&node), redelegation);
    assert_eq!(out["completion_time_ms"], done);

    // Withdraw: the sum of the withdraw_rewards amounts (200/100 + 300/100).
    let out = env.run(&["stake", "withdraw-rewards", "--from", "del", "--node", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("withdrawn: 5\n"), "{}", stdout(&out));
    let out =
        env.json(&["stake", "withdraw-rewards", "--validator", &sb, "--from", "del", "--node", &url, "-o", "json"]);
    assert_eq!(last_payload(&node), Payload::WithdrawRewards { validator: Some(b) });
    assert_eq!((out["withdrawn"].as_str(), out["rewards"].as_str()), (Some("3"), Some("3")));
    assert!(out["commission"].is_null());

    // Delegations: tables and totals.
    let text = stdout(&env.run(&["delegations", "--node", &url]));
    assert!(text.contains("Delegations") && text.contains("alpha") && text.contains("beta"), "{text}");
    assert!(text.contains("Unbonding") && text.contains("2023-11-14T22:23:20.000Z"), "{text}");
    assert!(text.contains("delegated:       500\n") && text.contains("unbonding:       500\n"), "{text}");
    let j = env.json(&["delegations", "del", "--node", &url, "-o", "json"]);
    assert_eq!(j["total_delegated"], "500");
    assert_eq!(j["delegations"].as_array().unwrap().len(), 2);
}

#[test]
fn a_committed_failure_exits_with_1() {
    let env = Env::new();
    let (node, a, _) = staking_node(&env);
    // `--gas N` skips the dry run, so the chain's refusal shows in the receipt.
    let out =
        env.run(&["stake", "undelegate", &a.to_string(), "5", "--from", "del", "--gas", "90000", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("but failed: only 0 is delegated"), "{}", stderr(&out));
    assert!(stdout(&out).contains("status:") && stdout(&out).contains("failed"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("completes:"), "{}", stdout(&out));
    assert_eq!(node.state().estimates, 0);
}

#[test]
fn operators_edit_unjail_and_withdraw_commission() {
    let env = Env::new();
    let val = env.new_key("val");
    let (node, _, _) = staking_node(&env);
    let op = addr(&val);
    node.state().contracts.staking.add_validator(op, "gamma", 2_000_000);
    let url = node.url.clone();

    let e = fails(&env, &["stake", "edit-validator", "--from", "val", "--node", &url], 2);
    assert!(e.contains("--commission-rate"), "{e}");
    let e = fails(&env, &["stake", "edit-validator", "--from", "val", "--commission-rate", "0.5", "--node", &url], 1);
    assert!(e.contains("above this validator's maximum rate 0.2"), "{e}");
    let e = fails(&env, &["stake", "edit-validator", "--from", "val", "--commission-rate", "0.2", "--node", &url], 1);
    assert!(e.contains("at most 0.01 at a time"), "{e}");
    let e = fails(&env, &["stake", "edit-validator", "--from", "del", "--details", "x", "--node", &url], 1);
    assert!(e.contains("does not operate a validator"), "{e}");

    let out = env.run(&[
        "stake",
        "edit-validator",
        "--from",
        "val",
        "--commission-rate",
        "11%",
        "--details",
        "hello",
        "--node",
        &url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let Payload::EditValidator { commission_rate, min_self_delegation, metadata } = last_payload(&node) else {
        panic!("not an edit")
    };
    assert_eq!((commission_rate.map(|r| r.ppm()), min_self_delegation), (Some(110_000), None));
    assert_eq!((metadata.details.as_deref(), metadata.moniker), (Some("hello"), None));
    let text = stdout(&out);
    assert!(text.contains("10% → 11%") && text.contains(r#""" → "hello""#), "{text}");

    let e = fails(&env, &["stake", "unjail", "--from", "val", "--node", &url], 1);
    assert!(e.contains("is not jailed"), "{e}");
    node.state().contracts.staking.validators.get_mut(&op).unwrap().jailed = true;
    let text = stdout(&env.run(&["validators", "--status", "jailed", "--node", &url]));
    assert!(text.contains("gamma") && text.contains("jailed") && !text.contains("alpha"), "{text}");
    let out = env.json(&["stake", "unjail", "--from", "val", "--node", &url, "-o", "json"]);
    assert_eq!(last_payload(&node), Payload::Unjail {});
    assert_eq!(out["receipt"]["status"], "success");

    node.state().contracts.staking.validators.get_mut(&op).unwrap().commission_outstanding = 30;
    let out = env.json(&["stake", "withdraw-rewards", "--from", "val", "--node", &url, "-o", "json"]);
    // 2 000 000 / 100 in rewards + 30 of commission.
    assert_eq!((out["rewards"].as_str(), out["commission"].as_str()), (Some("20000"), Some("30")));
    assert_eq!(out["withdrawn"], "20030");
}

#[test]
fn validator_queries() {
    let env = Env::new();
    let (node, a, b) = staking_node(&env);
    let url = node.url.clone();

    let out = env.run(&["validators", "--node", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("MONIKER") && lines[1].starts_with("alpha") && lines[2].starts_with("beta"), "{text}");
    assert!(lines[1].contains("62.50%") && lines[2].contains("37.50%") && lines[1].contains("1/100"), "{text}");
    assert!(text.contains("2 validators, 2 in the active set; total voting power 8 at height 5"), "{text}");
    let j = env.json(&["validators", "--node", &url, "-o", "json"]);
    assert_eq!((j["total_power"].as_u64(), j["validators"].as_array().unwrap().len()), (Some(8), 2));
    let out = env.run(&["validators", "--status", "unbonding", "--node", &url]);
    assert!(out.status.success() && stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains("no unbonding validators"), "{}", stderr(&out));

    let text = stdout(&env.run(&["validator", &b.to_string(), "--node", &url]));
    for want in ["moniker:", "beta", "bonded (in the active set)", "voting power:", "3000000 (minimum 1000000)"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let j = env.json(&["validator", &a.to_string(), "--node", &url, "-o", "json"]);
    assert_eq!(j["metadata"]["moniker"], "alpha");
    let unknown = Address([9; 20]).to_string();
    let e = fails(&env, &["validator", &unknown, "--node", &url], 1);
    assert!(e.contains(&format!("validator {unknown} not found")), "{e}");

    // `agora delegations` without an argument needs exactly one key.
    env.new_key("other");
    let e = fails(&env, &["delegations", "--node", &url], 2);
    assert!(e.contains("the keyring has 2 keys"), "{e}");
    let text = stdout(&env.run(&["delegations", "other", "--node", &url]));
    assert!(text.contains("(no delegations, unbondings or redelegations)"), "{text}");
}
