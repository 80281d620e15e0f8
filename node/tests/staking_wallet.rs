//! Staking as a user does it: the real `agora` wallet binary against a real
//! 4-validator testnet, including a full node that becomes a validator
//! through `agora stake create-validator` and starts signing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Wallet, agora_bin};
use serde_json::{Value, json};
use testnet::{Spec, Testnet};

fn call(net: &Testnet, method: &str, args: Vec<Value>) -> Value {
    testnet::rpc::call_blocking(&net.rpc_url(0), method, args, Duration::from_secs(10)).unwrap()
}

#[test]
fn wallet_delegates_and_turns_a_full_node_into_a_validator() {
    assert!(agora_bin().exists(), "{} is missing: run the tests with `cargo test --workspace`", agora_bin().display());
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::new(dir.path().join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.agora = Some(agora_bin());
    spec.dev_accounts = 1;
    spec.load_accounts = 0;
    spec.chain_id = "stake-wallet".into();
    spec.block_interval = Duration::from_millis(200);
    let mut net = Testnet::create(&spec).unwrap().owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().unwrap();
    net.wait_for_height(0, 2, Duration::from_secs(60)).unwrap();
    let w = Wallet { keyring: net.keyring_dir(), node: net.rpc_url(0) };

    let vs = w.json(&["validators"]);
    let list = vs["validators"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|v| v["power"] == 100_000_000 && v["status"] == "bonded"), "{vs}");
    let op1 = net.operator(1).unwrap().to_string();

    // Delegate, then see it (with rewards accruing) in `agora delegations`.
    let r = w.json(&["stake", "delegate", &op1, "5000000000000", "--from", "dev0"]);
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    std::thread::sleep(Duration::from_secs(2));
    let d = w.json(&["delegations", "dev0"]);
    assert_eq!(d["total_delegated"], "5000000000000", "{d}");
    assert_ne!(d["total_pending_rewards"], "0", "{d}");
    // Validators can be named by their operator's key name too.
    let r = w.json(&["stake", "delegate", "validator2", "1000000", "--from", "dev0"]);
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let r = w.json(&["stake", "withdraw-rewards", "--from", "dev0"]);
    assert_eq!(r["receipt"]["status"], "success", "{r}");

    // Bad input: refused before anything is sent.
    let out = w.run(&["stake", "delegate", &op1, "0", "--from", "dev0"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = w.run(&["stake", "edit-validator", "--from", "validator1", "--country", "Atlantis"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));

    // A full node joins the set with `create-validator` and signs from H+2.
    let i = net.add_full_node().unwrap();
    net.start(i).unwrap();
    let home = net.home(i);
    let r = w.json(&[
        "stake",
        "create-validator",
        "--from",
        "dev0",
        "--self-stake",
        "50000000000000",
        "--validator-key",
        home.to_str().unwrap(),
        "--moniker",
        "dev0-node",
        "--country",
        "DE",
        "--hosting",
        "AS24940",
    ]);
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let h = r["height"].as_u64().unwrap();
    let v = w.json(&["validator", "dev0"]);
    assert_eq!(v["metadata"]["country"], "DE");
    let set = call(&net, "agora_validatorSet", vec![json!({ "height": h + 2 })]);
    let key = std::fs::read_to_string(home.join("validator_key.json")).unwrap();
    let new = set["validators"].as_array().unwrap().iter().find(|m| m["moniker"] == "dev0-node").cloned();
    assert_eq!(new.as_ref().map(|m| m["power"].clone()), Some(json!(50_000_000)), "{set}");
    let pk = new.unwrap()["consensus_key"].as_str().unwrap().to_string();
    assert!(key.contains(&pk), "the set's key is not node{i}'s validator key");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let tip = net.height(0).unwrap();
        let b = call(&net, "agora_getBlock", vec![json!(tip), json!(false)]);
        if b["last_commit"]["signatures"].as_array().is_some_and(|s| s.iter().any(|x| x["validator"] == pk.as_str())) {
            break;
        }
        assert!(Instant::now() < deadline, "node{i} never signed as a validator\n{}", net.log_tail(i, 40));
        std::thread::sleep(Duration::from_millis(300));
    }
    let st = net.status(i).unwrap();
    assert!(st.validator.is_some(), "node{i} does not report itself as a validator: {st:?}");
}
