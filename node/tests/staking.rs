//! Proof of stake end to end: real `agorad` validators (4, on loopback)
//! started through the `testnet` library, driven with signed staking
//! transactions over RPC and the `agora` wallet binary, checked over RPC.
//!
//! Every test owns its processes (`OwnedTestnet` kills them on drop), waits
//! with deadlines, and runs alone (a lock) so four nodes share the cores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ledger::staking::MetadataUpdate;
use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use serde_json::{Value, json};
use testnet::{DEV_PASSWORD, OwnedTestnet, Spec, Testnet};

static SERIAL: Mutex<()> = Mutex::new(());
const RPC: Duration = Duration::from_secs(10);
/// Tokens per unit of voting power (the default `power_reduction`).
const POWER_REDUCTION: u128 = 1_000_000;
/// Each validator's genesis self-stake with the testnet's default stakes (100).
const SELF_STAKE: u128 = 100_000_000 * POWER_REDUCTION;

fn agora_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agorad")).with_file_name("agora")
}

fn net(dir: &std::path::Path, chain: &str, tweak: impl FnOnce(&mut Spec)) -> OwnedTestnet {
    let mut spec = Spec::new(dir.join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.agora = Some(agora_bin());
    spec.dev_accounts = 1;
    spec.load_accounts = 0;
    spec.chain_id = chain.into();
    spec.block_interval = Duration::from_millis(200);
    tweak(&mut spec);
    let mut net = Testnet::create(&spec).expect("create testnet").owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().expect("start");
    for i in 0..4 {
        net.wait_for_height(i, 2, Duration::from_secs(60)).unwrap_or_else(|e| panic!("node{i}: {e:#}"));
    }
    net
}

fn call(net: &Testnet, i: usize, method: &str, args: Vec<Value>) -> Value {
    testnet::rpc::call_blocking(&net.rpc_url(i), method, args, RPC)
        .unwrap_or_else(|e| panic!("node{i} {method}: {e:#}"))
}

fn amount(v: &Value) -> u128 {
    v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")).parse().unwrap()
}

fn balance(net: &Testnet, a: &Address) -> u128 {
    amount(&call(net, 0, "agora_getAccount", vec![json!(a.to_string())])["balance"])
}

fn dev_key(net: &Testnet) -> SigningKey {
    testnet::setup::wallet_key(&net.dev_accounts()[0].mnemonic).unwrap()
}

/// Signs `payload` from `k`, sends it and waits for its commit; returns
/// `{height, receipt}`.
fn send(net: &Testnet, k: &SigningKey, payload: Payload) -> Value {
    let from = PublicKey::from_signing_key(k);
    let acct = call(net, 0, "agora_getAccount", vec![json!(from.address().to_string())]);
    let body = TxBody {
        chain_id: net.chain_id().into(),
        sender: from,
        nonce: acct["pending_nonce"].as_u64().unwrap(),
        gas_limit: 500_000,
        gas_price: Amount::new(1),
        payload,
    };
    let hex = hex::encode(body.sign(k).encode());
    call(net, 0, "agora_sendTxCommit", vec![json!(hex)])
}

fn ok(r: &Value) -> &Value {
    assert_eq!(r["receipt"]["status"], "success", "transaction failed: {r}");
    &r["receipt"]
}

fn event_sum(receipt_or_block: &Value, kind: &str) -> u128 {
    receipt_or_block["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| attr(e, "amount").parse::<u128>().unwrap())
        .sum()
}

fn attr(e: &Value, k: &str) -> String {
    e["attributes"].as_array().unwrap().iter().find(|a| a[0] == k).map(|a| a[1].as_str().unwrap().to_string()).unwrap()
}

fn validator(net: &Testnet, op: &Address) -> Value {
    call(net, 0, "agora_validator", vec![json!({ "validator": op.to_string() })])
}

fn set_power(net: &Testnet, height: u64, op: &Address) -> Option<u64> {
    let s = call(net, 0, "agora_validatorSet", vec![json!({ "height": height })]);
    s["validators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["operator"] == op.to_string())
        .map(|v| v["power"].as_u64().unwrap())
}

fn block(net: &Testnet, i: usize, h: u64) -> Value {
    call(net, i, "agora_getBlock", vec![json!(h), json!(false)])
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_height(net: &Testnet, nodes: &[usize], h: u64, secs: u64) {
    for &i in nodes {
        net.wait_for_height(i, h, Duration::from_secs(secs))
            .unwrap_or_else(|e| panic!("node{i} did not reach {h}: {e:#}\n{}", net.log_tail(i, 30)));
    }
}

/// Everyone's balance + the pools = the total supply, at one height.
fn assert_supply_adds_up(net: &Testnet) {
    let mut accounts: Vec<Address> = net.dev_accounts().iter().map(|d| d.address).collect();
    accounts.extend((0..4).filter_map(|i| net.operator(i)));
    // The genesis funds the deployer of the testnet's DAO too.
    accounts.push(testnet::dao::deployer(net.chain_id()));
    for _ in 0..10 {
        let s = call(net, 0, "agora_supply", vec![]);
        let h = s["height"].as_u64().unwrap();
        let liquid: u128 = accounts
            .iter()
            .map(|a| {
                amount(&call(net, 0, "agora_getAccount", vec![json!(a.to_string()), json!(false), json!(h)])["balance"])
            })
            .sum();
        let again = call(net, 0, "agora_supply", vec![]);
        if again["height"] != s["height"] {
            continue; // a block was committed in between; read again
        }
        let held = liquid
            + amount(&s["bonded"])
            + amount(&s["unbonding"])
            + amount(&s["fee_collector"])
            + amount(&s["distribution"]);
        assert_eq!(held, amount(&s["supply"]), "supply does not add up at height {h}: {s}");
        println!(
            "supply at height {h}: {} = liquid {liquid} + pools (minted {}, burned {})",
            s["supply"], s["minted"], s["burned"]
        );
        return;
    }
    panic!("the chain moved on during every supply reading");
}

/// Acceptance 1: a delegation that takes node0 from 25 % to 50 % of the
/// power changes its voting power from H+2 on, and its share of proposals
/// follows over the next 200 blocks.
#[test]
fn delegation_doubles_a_validators_power_from_h_plus_2_and_its_proposals_follow() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net(dir.path(), "stake-power", |_| {});
    let keys: Vec<PublicKey> = (0..4).map(|i| net.node(i).validator_key.parse().unwrap()).collect();
    let op0 = net.operator(0).unwrap();

    // Proposers before the change: equal stakes, equal turns.
    wait_height(&net, &[0], 101, 120);
    let before_to = 100;
    let r = send(&net, &dev_key(&net), Payload::Delegate { validator: op0, amount: Amount::new(2 * SELF_STAKE) });
    ok(&r);
    let h = r["height"].as_u64().unwrap();
    assert_eq!(amount(&validator(&net, &op0)["tokens"]), 3 * SELF_STAKE);
    // The set of H+1 was fixed before H: unchanged. From H+2 on: 300 of 600.
    wait_height(&net, &[0], h + 1, 30);
    assert_eq!(set_power(&net, h + 1, &op0), Some(100_000_000));
    assert_eq!(set_power(&net, h + 2, &op0), Some(300_000_000));
    let total = call(&net, 0, "agora_validatorSet", vec![json!({ "height": h + 2 })])["total_power"].as_u64().unwrap();
    assert_eq!(total, 600_000_000);
    // Blocks carry the hash of the set that decides them.
    wait_height(&net, &[0], h + 2, 30);
    let vs = |x: u64| call(&net, 0, "agora_validatorSet", vec![json!({ "height": x })])["hash"].clone();
    assert_eq!(block(&net, 0, h + 1)["header"]["validator_set_hash"], vs(h + 1));
    assert_eq!(block(&net, 0, h + 2)["header"]["validator_set_hash"], vs(h + 2));
    assert_ne!(vs(h + 1), vs(h + 2));

    let count = |from: u64, to: u64| {
        let mut c: BTreeMap<usize, u64> = BTreeMap::new();
        for x in from..=to {
            let p: PublicKey = block(&net, 0, x)["header"]["proposer"].as_str().unwrap().parse().unwrap();
            *c.entry(keys.iter().position(|k| *k == p).unwrap()).or_default() += 1;
        }
        c
    };
    let before = count(1, before_to);
    wait_height(&net, &[0, 1, 2, 3], h + 201, 240);
    let after = count(h + 2, h + 201);
    println!("proposals in heights 1..={before_to} (25 % each): {before:?}");
    for i in 0..4 {
        let n = before.get(&i).copied().unwrap_or(0);
        assert!((20..=30).contains(&n), "node{i} proposed {n} of 100 at 25 % of the power: {before:?}");
    }
    println!("proposals in heights {}..={} (node0 at 50 %): {after:?}", h + 2, h + 201);
    let n0 = after.get(&0).copied().unwrap_or(0);
    assert!((90..=110).contains(&n0), "node0 proposed {n0} of 200 blocks at 50 % of the power: {after:?}");
    for i in 1..4 {
        let n = after.get(&i).copied().unwrap_or(0);
        assert!((25..=42).contains(&n), "node{i} proposed {n} of 200 at 1/6 of the power: {after:?}");
    }
    for i in 0..4 {
        assert_eq!(block(&net, i, h + 201)["hash"], block(&net, 0, h + 201)["hash"], "node{i} diverged");
    }
    // A validator restarted after the change replays the sets and proposer
    // priorities from its store: it takes part in consensus again (its
    // precommits reach the certificates) instead of only syncing.
    let mut net = net;
    net.kill(1).unwrap();
    net.start(1).unwrap();
    let key1 = net.node(1).validator_key.clone();
    let from = net.height(0).unwrap() + 3;
    wait_until("node1's precommits after its restart", 60, || {
        let tip = net.height(0).unwrap_or(0);
        (from..=tip).any(|x| {
            block(&net, 0, x)["last_commit"]["signatures"]
                .as_array()
                .is_some_and(|s| s.iter().any(|v| v["validator"] == key1.as_str()))
        })
    });
    let tip = net.height(1).unwrap();
    assert_eq!(block(&net, 1, tip)["hash"], block(&net, 0, tip)["hash"]);
    assert_supply_adds_up(&net);
}

/// Acceptance 2: undelegated tokens leave the bonded stake at once and come
/// back only after the unbonding period; rewards accrue and are withdrawn
/// with exact amounts.
#[test]
fn undelegation_waits_the_unbonding_period_and_rewards_are_paid_exactly() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net(dir.path(), "stake-unbond", |s| s.staking.unbonding_time = Duration::from_secs(12));
    let dev = dev_key(&net);
    let me = PublicKey::from_signing_key(&dev).address();
    let op1 = net.operator(1).unwrap();

    let stake = 10_000_000 * POWER_REDUCTION; // 1e13
    ok(&send(&net, &dev, Payload::Delegate { validator: op1, amount: Amount::new(stake) }));
    let h0 = net.height(0).unwrap();
    wait_height(&net, &[0], h0 + 10, 30);

    // Rewards accrue block by block.
    let d = call(&net, 0, "agora_delegations", vec![json!({ "delegator": me.to_string() })]);
    let pending = amount(&d["total_pending_rewards"]);
    assert!(pending > 0, "no rewards after 10 blocks: {d}");
    assert_eq!(amount(&d["total_delegated"]), stake);

    // Withdraw: the receipt's amount is exactly what the balance gained (less the fee),
    // at least what was pending a moment before (one more block has accrued since).
    let before = balance(&net, &me);
    let r = send(&net, &dev, Payload::WithdrawRewards { validator: None });
    let rc = ok(&r);
    let withdrawn = event_sum(rc, "withdraw_rewards");
    let fee = amount(&rc["fee"]);
    assert!(withdrawn >= pending, "withdrew {withdrawn}, {pending} was pending before");
    assert_eq!(balance(&net, &me), before + withdrawn - fee);
    println!("rewards: {pending} pending, {withdrawn} withdrawn, fee {fee}");
    // The operator withdraws its commission the same way.
    let opk = net.operator_key(1).unwrap();
    let ob = balance(&net, &op1);
    let r = send(&net, &opk, Payload::WithdrawRewards { validator: None });
    let rc = ok(&r);
    let commission = event_sum(rc, "withdraw_commission");
    let own = event_sum(rc, "withdraw_rewards");
    assert!(commission > 0, "no commission: {rc}");
    assert_eq!(balance(&net, &op1), ob + commission + own - amount(&rc["fee"]));

    // Undelegate half: out of the bonded stake in the same block.
    let tokens_before = amount(&validator(&net, &op1)["tokens"]);
    let before = balance(&net, &me);
    let r = send(&net, &dev, Payload::Undelegate { validator: op1, amount: Amount::new(stake / 2) });
    let rc = ok(&r);
    let settled = event_sum(rc, "withdraw_rewards");
    let fee = amount(&rc["fee"]);
    let completion: u64 = attr(
        rc["events"].as_array().unwrap().iter().find(|e| e["kind"] == "undelegate").unwrap(),
        "completion_time_ms",
    )
    .parse()
    .unwrap();
    assert_eq!(amount(&validator(&net, &op1)["tokens"]), tokens_before - stake / 2);
    let d = call(&net, 0, "agora_delegations", vec![json!({ "delegator": me.to_string() })]);
    assert_eq!(amount(&d["total_delegated"]), stake / 2);
    assert_eq!(amount(&d["total_unbonding"]), stake / 2);
    assert_eq!(d["unbonding"][0]["completion_time_ms"], completion);
    // Nothing comes back yet (only the auto-withdrawn rewards, minus the fee).
    let after_tx = before + settled - fee;
    assert_eq!(balance(&net, &me), after_tx);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(balance(&net, &me), after_tx, "unbonded tokens came back before the unbonding period");

    // After the completion time (block time), exactly the undelegated amount returns.
    wait_until("the unbonding to complete", 60, || {
        call(&net, 0, "agora_delegations", vec![json!({ "delegator": me.to_string() })])["unbonding"]
            .as_array()
            .unwrap()
            .is_empty()
    });
    assert_eq!(balance(&net, &me), after_tx + stake / 2);
    let mut found = false;
    let tip = net.height(0).unwrap();
    for x in (tip.saturating_sub(30)..=tip).rev() {
        let b = block(&net, 0, x);
        if b["events"].as_array().unwrap().iter().any(|e| e["kind"] == "unbonding_complete") {
            assert!(b["header"]["time_ms"].as_u64().unwrap() >= completion);
            assert_eq!(event_sum(&b, "unbonding_complete"), stake / 2);
            found = true;
            break;
        }
    }
    assert!(found, "no unbonding_complete event in the last 30 blocks");
    assert_supply_adds_up(&net);
}

/// Acceptance 3: a validator that double-signs is slashed (its delegators
/// too), tombstoned, leaves the set at H+2, and the chain goes on.
#[test]
fn double_signer_is_slashed_tombstoned_and_removed_while_the_chain_goes_on() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut net = net(dir.path(), "stake-byzantine", |_| {});
    let dev = dev_key(&net);
    let me = PublicKey::from_signing_key(&dev).address();
    let op3 = net.operator(3).unwrap();
    let delegated = 10_000_000 * POWER_REDUCTION;
    let r = send(&net, &dev, Payload::Delegate { validator: op3, amount: Amount::new(delegated) });
    ok(&r);
    let h = r["height"].as_u64().unwrap();
    wait_height(&net, &[0], h + 3, 30);
    assert_eq!(set_power(&net, h + 3, &op3), Some(110_000_000));

    let at = net.height(0).unwrap() + 6;
    net.restart_byzantine(3, at).unwrap();
    // Evidence lands in a block soon after.
    let mut evidence_height = None;
    let mut next = at;
    wait_until("evidence in a block", 90, || {
        let tip = net.height(0).unwrap_or(0);
        while next <= tip {
            let b = block(&net, 0, next);
            if !b["evidence"].as_array().unwrap().is_empty() {
                assert!(b["evidence"][0]["height"].as_u64().unwrap() >= at, "{b}");
                evidence_height = Some(next);
                return true;
            }
            next += 1;
        }
        false
    });
    let e = evidence_height.unwrap();
    let b = block(&net, 0, e);
    let infraction = b["evidence"][0]["height"].as_u64().unwrap();
    let slashed = event_sum(&b, "slash");
    // 5 % of the stake bonded at the infraction: power 110e6 × 1e6.
    assert_eq!(slashed, 110_000_000 * POWER_REDUCTION / 20, "{b}");
    let v = validator(&net, &op3);
    assert_eq!(v["tombstoned"], true);
    assert_eq!(v["jailed"], true);
    assert_eq!(amount(&v["tokens"]), SELF_STAKE + delegated - slashed);
    // The delegator lost the same 5 %.
    let d = call(&net, 0, "agora_delegations", vec![json!({ "delegator": me.to_string() })]);
    assert_eq!(amount(&d["total_delegated"]), delegated * 95 / 100);
    // Still in the set of E+1, gone from E+2.
    wait_height(&net, &[0], e + 1, 30);
    assert_eq!(set_power(&net, e + 1, &op3), Some(110_000_000));
    assert_eq!(set_power(&net, e + 2, &op3), None);
    // It can never come back.
    let r = send(&net, &net.operator_key(3).unwrap(), Payload::Unjail {});
    assert_eq!(r["receipt"]["status"], "failed");
    assert!(r["receipt"]["reason"].as_str().unwrap().contains("tombstoned"), "{r}");
    // The chain goes on with the other three, identically.
    wait_height(&net, &[0, 1, 2], e + 15, 60);
    for i in 1..3 {
        assert_eq!(block(&net, i, e + 15)["hash"], block(&net, 0, e + 15)["hash"]);
    }
    println!(
        "double signs from {at} on: evidence for {infraction} in block {e}, slashed {slashed}, out of the set from {}",
        e + 2
    );
    assert_supply_adds_up(&net);
}

/// Acceptance 4: a validator stopped long enough is jailed and slashed for
/// downtime; after the jail time its operator unjails it with the wallet and
/// it returns to the set.
#[test]
fn stopped_validator_is_jailed_then_unjails_with_the_wallet_and_returns() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    assert!(agora_bin().exists(), "{} is missing: run the tests with `cargo test --workspace`", agora_bin().display());
    let dir = tempfile::tempdir().unwrap();
    let mut net = net(dir.path(), "stake-downtime", |s| {
        s.staking.signed_blocks_window = 20;
        s.staking.jail_time = Duration::from_secs(6);
    });
    let op3 = net.operator(3).unwrap();
    // The window must have elapsed since genesis before anyone is judged.
    wait_height(&net, &[0], 22, 60);
    net.kill(3).unwrap();
    wait_until("node3 to be jailed", 60, || validator(&net, &op3)["jailed"] == true);
    let v = validator(&net, &op3);
    assert_eq!(v["tombstoned"], false);
    // 1 % of its stake.
    assert_eq!(amount(&v["tokens"]), SELF_STAKE - SELF_STAKE / 100);
    let tip = net.height(0).unwrap();
    let mut jailed_at = None;
    for x in (tip.saturating_sub(20)..=tip).rev() {
        let b = block(&net, 0, x);
        if let Some(e) = b["events"].as_array().unwrap().iter().find(|e| e["kind"] == "slash") {
            assert_eq!(attr(e, "reason"), "downtime");
            assert_eq!(attr(e, "amount"), (SELF_STAKE / 100).to_string());
            jailed_at = Some(x);
            break;
        }
    }
    let j = jailed_at.expect("a downtime slash event");
    wait_height(&net, &[0], j + 2, 30);
    assert_eq!(set_power(&net, j + 2, &op3), None, "still in the set after jailing");

    // Bring the node back; unjailing before the jail time is refused.
    net.start(3).unwrap();
    let wallet = |args: &[&str]| {
        std::process::Command::new(agora_bin())
            .arg("--keyring-dir")
            .arg(net.keyring_dir())
            .args(["--node", &net.rpc_url(0)])
            .args(args)
            .env("AGORA_PASSWORD", DEV_PASSWORD)
            .output()
            .unwrap()
    };
    let early = wallet(&["stake", "unjail", "--from", "validator3"]);
    if early.status.success() {
        // The jail time may already be over if the restart was slow.
        println!("unjail succeeded at once: {}", String::from_utf8_lossy(&early.stdout));
    } else {
        let err = String::from_utf8_lossy(&early.stderr);
        assert!(err.contains("jailed for"), "unexpected refusal: {err}");
        std::thread::sleep(Duration::from_secs(7));
        let out = wallet(&["stake", "unjail", "--from", "validator3"]);
        assert!(
            out.status.success(),
            "unjail failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert_eq!(validator(&net, &op3)["jailed"], false);
    let u = net.height(0).unwrap();
    wait_height(&net, &[0], u + 3, 30);
    assert_eq!(set_power(&net, u + 3, &op3), Some(99_000_000));
    // It signs again: its precommits appear in later certificates.
    let key3 = net.node(3).validator_key.clone();
    wait_until("node3's signature in a commit", 60, || {
        let tip = net.height(0).unwrap_or(0);
        block(&net, 0, tip)["last_commit"]["signatures"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x["validator"] == key3.as_str()))
    });
    assert_supply_adds_up(&net);
}

/// Staking transactions refused by the rules fail with a reason, pay the
/// fee, and change nothing else; metadata edits are validated.
#[test]
fn invalid_staking_transactions_fail_cleanly() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net(dir.path(), "stake-invalid", |_| {});
    let dev = dev_key(&net);
    let me = PublicKey::from_signing_key(&dev).address();
    let op0 = net.operator(0).unwrap();
    let before = validator(&net, &op0);
    let cases = [
        (Payload::Undelegate { validator: op0, amount: Amount::new(1) }, "no delegation"),
        (Payload::Delegate { validator: me, amount: Amount::new(5) }, "no validator"),
        (Payload::Redelegate { src_validator: op0, dst_validator: op0, amount: Amount::new(5) }, "same validator"),
        (Payload::Unjail {}, "does not operate"),
        (
            Payload::EditValidator {
                commission_rate: None,
                min_self_delegation: None,
                metadata: MetadataUpdate { country: Some("Atlantis".into()), ..Default::default() },
            },
            "does not operate",
        ),
    ];
    for (p, why) in cases {
        let r = send(&net, &dev, p);
        assert_eq!(r["receipt"]["status"], "failed", "{r}");
        assert!(r["receipt"]["reason"].as_str().unwrap().contains(why), "{why}: {r}");
    }
    let opk = net.operator_key(0).unwrap();
    let bad_country = Payload::EditValidator {
        commission_rate: None,
        min_self_delegation: None,
        metadata: MetadataUpdate { country: Some("Atlantis".into()), ..Default::default() },
    };
    let r = send(&net, &opk, bad_country);
    assert!(r["receipt"]["reason"].as_str().unwrap().contains("ISO 3166"), "{r}");
    let r = send(
        &net,
        &opk,
        Payload::EditValidator {
            commission_rate: Some("0.5".parse().unwrap()),
            min_self_delegation: None,
            metadata: MetadataUpdate::default(),
        },
    );
    assert!(r["receipt"]["reason"].as_str().unwrap().contains("max_rate"), "{r}");
    let r = send(
        &net,
        &opk,
        Payload::EditValidator {
            commission_rate: None,
            min_self_delegation: None,
            metadata: MetadataUpdate { website: Some("https://node0.example".into()), ..Default::default() },
        },
    );
    ok(&r);
    let after = validator(&net, &op0);
    assert_eq!(after["metadata"]["website"], "https://node0.example");
    assert_eq!(after["tokens"], before["tokens"]);
    // Zero amounts are refused at the door.
    let body = TxBody {
        chain_id: net.chain_id().into(),
        sender: PublicKey::from_signing_key(&dev),
        nonce: 99,
        gas_limit: 500_000,
        gas_price: Amount::new(1),
        payload: Payload::Delegate { validator: op0, amount: Amount::ZERO },
    };
    let e = testnet::rpc::call_blocking(
        &net.rpc_url(0),
        "agora_sendTx",
        vec![json!(hex::encode(body.sign(&dev).encode()))],
        RPC,
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("positive"), "{e:#}");
    let e = testnet::rpc::call_blocking(
        &net.rpc_url(0),
        "agora_validator",
        vec![json!({ "validator": me.to_string() })],
        RPC,
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("1020") || format!("{e:#}").contains("no validator"), "{e:#}");
    assert_supply_adds_up(&net);
}
