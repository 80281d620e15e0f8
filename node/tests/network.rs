//! Multi-process BFT network tests: real `agorad` validators on loopback,
//! talking over libp2p, started and crashed through the `testnet` library.
//! Every test owns its processes (`OwnedTestnet` kills them on drop) and
//! waits with deadlines, so a failure cannot hang or leak processes.
//!
//! The tests run one at a time (a lock), so at most five nodes share the
//! machine's cores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::net::{assert_no_double_signs, block, block_id, call, height, start_net, wait_all};
use ledger::{Address, PublicKey, SigningKey};
use serde_json::{Value, json};
use testnet::OwnedTestnet;

static SERIAL: Mutex<()> = Mutex::new(());
const CHAIN: &str = "agora-net-e2e";
const RPC: Duration = Duration::from_secs(5);

fn net(dir: &std::path::Path, block_interval_ms: u64) -> OwnedTestnet {
    start_net(dir, CHAIN, block_interval_ms)
}

fn transfer_hex(k: &SigningKey, nonce: u64, to: Address, amount: u128) -> String {
    common::transfer_hex_on(CHAIN, k, nonce, to, amount)
}

fn signed_hex(k: &SigningKey, nonce: u64, payload: ledger::Payload, gas_limit: u64) -> String {
    common::net::signed_hex(CHAIN, k, nonce, payload, gas_limit)
}

#[test]
fn four_validators_commit_a_transfer_sent_to_node3_identically_everywhere() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net(dir.path(), 200);
    wait_all(&net, &[0, 1, 2, 3], 3, 60);
    for i in 0..4 {
        assert_eq!(net.status(i).unwrap().peers, 3, "node{i} is not connected to the three others");
    }
    // The validators are each other's gossip mesh peers (not gossipsub
    // explicit peers, which never join the mesh and so are never told
    // IDONTWANT: every relayed transaction batch went to them again).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    for i in 0..4 {
        loop {
            let info = call(&net, i, "agora_networkInfo", vec![]).unwrap();
            let peers = info["peers"].as_array().unwrap();
            let meshed = peers.iter().filter(|p| p["gossip_mesh"] == json!(true)).count();
            if meshed == 3 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "node{i}: {meshed} of 3 peers in its gossip mesh: {info}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    let from = testnet::load_key(CHAIN, 0);
    let to = PublicKey::from_signing_key(&testnet::load_key(CHAIN, 1)).address();
    let res = call(&net, 3, "agora_sendTxCommit", vec![json!(transfer_hex(&from, 0, to, 1_234_567)), json!(30_000)])
        .expect("transfer through node3");
    let hash = res["hash"].as_str().unwrap().to_string();
    let h = res["height"].as_u64().unwrap();
    wait_all(&net, &[0, 1, 2, 3], h, 30);
    let reference = block_id(&net, 0, h);
    for i in 0..4 {
        let tx = call(&net, i, "agora_getTx", vec![json!(hash)]).unwrap();
        assert_eq!(tx["height"].as_u64(), Some(h), "node{i}");
        assert_eq!(tx["receipt"]["status"], "success", "node{i}");
        assert_eq!(block_id(&net, i, h), reference, "node{i} has another block {h}");
    }
    // Blocks follow each other at about the interval, proposers rotate and
    // every block carries the previous one's certificate (over enough
    // heights for every validator to have had its turn).
    wait_all(&net, &[0, 1], h + 8, 30);
    let tip = height(&net, 0).min(height(&net, 1));
    let mut proposers = std::collections::BTreeSet::new();
    for hh in 2..=tip {
        let b = block(&net, 1, hh);
        proposers.insert(b["header"]["proposer"].as_str().unwrap().to_string());
        assert_eq!(b["last_commit"]["height"].as_u64(), Some(hh - 1));
        assert_eq!(b["last_commit"]["block_hash"], block(&net, 2, hh - 1)["hash"]);
    }
    assert!(proposers.len() >= 3, "proposers did not rotate: {proposers:?}");
    assert_no_double_signs(&net);
}

#[test]
fn one_of_four_down_keeps_going_two_down_halts_and_restart_resumes() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut net = net(dir.path(), 200);
    wait_all(&net, &[0, 1, 2, 3], 3, 60);

    net.kill(1).unwrap();
    let h = height(&net, 0);
    wait_all(&net, &[0, 2, 3], h + 5, 60);

    net.kill(2).unwrap();
    // At most the height in flight can still be decided (its precommits may
    // already be out); after that nothing has > 2/3 of the power.
    std::thread::sleep(Duration::from_secs(1));
    let halted = height(&net, 0).max(height(&net, 3));
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(height(&net, 0).max(height(&net, 3)), halted, "a block was committed without > 2/3 of the power");

    net.start(1).unwrap();
    net.start(2).unwrap();
    wait_all(&net, &[0, 1, 2, 3], halted + 5, 90);
    let (a, b) = (block_id(&net, 0, halted + 3), block_id(&net, 2, halted + 3));
    assert_eq!(a, b);
    assert_no_double_signs(&net);
}

#[test]
fn kill_9_of_every_validator_under_load_loses_no_committed_tx() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut net = net(dir.path(), 200);
    wait_all(&net, &[0, 1, 2, 3], 2, 60);

    // Eight senders, each committing transfers one after another through a
    // node of its own; every commit they hear about is recorded.
    let committed: Arc<Mutex<Vec<(String, u64, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let urls: Vec<String> = (0..4).map(|i| net.rpc_url(i)).collect();
    let mut senders = Vec::new();
    for s in 0..8usize {
        let (committed, stop, url) = (committed.clone(), stop.clone(), urls[s % 4].clone());
        senders.push(std::thread::spawn(move || {
            let key = testnet::load_key(CHAIN, s);
            let to = PublicKey::from_signing_key(&testnet::load_key(CHAIN, 8 + s)).address();
            let mut nonce = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tx = transfer_hex(&key, nonce, to, 1);
                match testnet::rpc::call_blocking(&url, "agora_sendTxCommit", vec![json!(tx), json!(20_000)], RPC) {
                    Ok(r) => {
                        let c = (
                            r["hash"].as_str().unwrap().to_string(),
                            r["height"].as_u64().unwrap(),
                            r["block_hash"].as_str().unwrap().to_string(),
                        );
                        committed.lock().unwrap().push(c);
                        nonce += 1;
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed.lock().unwrap().len() < 40 {
        assert!(Instant::now() < deadline, "load did not commit");
        std::thread::sleep(Duration::from_millis(100));
    }
    for i in 0..4 {
        net.kill(i).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let before: Vec<(String, u64, String)> = committed.lock().unwrap().clone();
    let max_h = before.iter().map(|c| c.1).max().unwrap();

    net.start_all().unwrap();
    wait_all(&net, &[0, 1, 2, 3], max_h + 3, 90);
    for (hash, h, block_hash) in &before {
        for i in 0..4 {
            let tx =
                call(&net, i, "agora_getTx", vec![json!(hash)]).unwrap_or_else(|e| panic!("node{i} lost {hash}: {e}"));
            assert_eq!(tx["height"].as_u64(), Some(*h), "node{i}: {hash}");
            assert_eq!(tx["block_hash"].as_str(), Some(block_hash.as_str()), "node{i}: {hash}");
        }
    }
    assert_no_double_signs(&net);
}

#[test]
fn a_wiped_validator_and_a_new_full_node_catch_up_by_block_sync() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut net = net(dir.path(), 100);
    wait_all(&net, &[0, 1, 2, 3], 10, 60);

    net.kill(3).unwrap();
    net.wipe_data(3).unwrap();
    let h = height(&net, 0);
    wait_all(&net, &[0, 1, 2], h + 10, 60);
    net.start(3).unwrap();
    let target = height(&net, 0) + 5;
    wait_all(&net, &[3], target, 60);
    assert!(net.status(3).unwrap().synced_blocks > 0, "node3 did not use block sync");
    assert_eq!(block_id(&net, 3, target - 6), block_id(&net, 0, target - 6));

    let full = net.add_full_node().unwrap();
    // The full node knows only node0 (as a bootstrap peer) and must find the
    // other validators through Kademlia.
    let cfg_path = net.home(full).join("config.toml");
    let mut cfg: toml::Table = std::fs::read_to_string(&cfg_path).unwrap().parse().unwrap();
    let p2p = cfg.get_mut("p2p").and_then(|v| v.as_table_mut()).unwrap();
    let peers = p2p["persistent_peers"].as_array().unwrap().clone();
    assert_eq!(peers.len(), 4);
    p2p.insert("persistent_peers".into(), toml::Value::Array(vec![]));
    p2p.insert("bootstrap_peers".into(), toml::Value::Array(vec![peers[0].clone()]));
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    net.start(full).unwrap();
    let target = height(&net, 0) + 3;
    wait_all(&net, &[full], target, 60);
    let st = net.status(full).unwrap();
    assert!(st.validator.is_none(), "the full node must not validate");
    assert!(st.synced_blocks > 0);
    assert_eq!(block_id(&net, full, 5), block_id(&net, 1, 5));
    let deadline = Instant::now() + Duration::from_secs(30);
    while net.status(full).unwrap().peers < 2 {
        assert!(Instant::now() < deadline, "the full node found no peer beyond its bootstrap node");
        std::thread::sleep(Duration::from_millis(200));
    }
    // It serves state: a funded account with a proof against its state root.
    let who = PublicKey::from_signing_key(&testnet::load_key(CHAIN, 3)).address();
    let acct = call(&net, full, "agora_getAccount", vec![json!(who.to_string())]).unwrap();
    assert_eq!(acct["balance"], "1000000000000");
    assert_no_double_signs(&net);
}

#[test]
fn a_contract_call_has_identical_gas_events_and_state_root_on_every_validator() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = net(dir.path(), 200);
    wait_all(&net, &[0, 1, 2, 3], 2, 60);
    let alice = testnet::load_key(CHAIN, 0);
    let me = PublicKey::from_signing_key(&alice).address();
    let bob = PublicKey::from_signing_key(&testnet::load_key(CHAIN, 1)).address();
    let commit = |node: usize, hex: String| -> Value {
        call(&net, node, "agora_sendTxCommit", vec![json!(hex), json!(30_000)]).expect("commit")
    };

    // Upload through node0, instantiate through node1, execute through node2.
    let code = contract_artifacts::TOKEN;
    let r = commit(0, signed_hex(&alice, 0, ledger::Payload::StoreCode { code: code.to_vec() }, 700_000_000));
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let code_hash = ledger::Hash::digest(code);
    let init = json!({ "name": "Net", "symbol": "NET", "decimals": 0,
        "initial_balances": [{ "address": me.to_string(), "amount": "1000" }] });
    let payload = ledger::Payload::Instantiate {
        code_hash,
        label: "net".into(),
        msg: serde_json::to_vec(&init).unwrap(),
        funds: ledger::Amount::ZERO,
    };
    let r = commit(1, signed_hex(&alice, 1, payload, 10_000_000));
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let token = ledger::contract_address(&code_hash, &me, "net");
    let msg = json!({ "transfer": { "recipient": bob.to_string(), "amount": "123" } });
    let payload = ledger::Payload::Execute {
        contract: token,
        msg: serde_json::to_vec(&msg).unwrap(),
        funds: ledger::Amount::ZERO,
    };
    let r = commit(2, signed_hex(&alice, 2, payload, 10_000_000));
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let (hash, h) = (r["hash"].clone(), r["height"].as_u64().unwrap());
    wait_all(&net, &[0, 1, 2, 3], h, 30);

    let reference = call(&net, 0, "agora_getTx", vec![hash.clone()]).unwrap()["receipt"].clone();
    assert!(reference["events"].as_array().unwrap().iter().any(|e| e["kind"] == "wasm-transfer"), "{reference}");
    let root = block_id(&net, 0, h);
    for i in 0..4 {
        let tx = call(&net, i, "agora_getTx", vec![hash.clone()]).unwrap();
        assert_eq!(tx["receipt"], reference, "node{i} has another receipt (gas, events, data)");
        assert_eq!(block_id(&net, i, h), root, "node{i} has another block or state root at {h}");
        let q = call(
            &net,
            i,
            "agora_contractQuery",
            vec![json!(token.to_string()), json!({ "balance": { "address": bob.to_string() } })],
        )
        .unwrap();
        assert_eq!(q["data"]["balance"], "123", "node{i}");
    }
    assert_no_double_signs(&net);
}
