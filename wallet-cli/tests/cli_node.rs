//! Command-line tests against a mock node that follows docs/rpc.md: transfer
//! (estimate, sign, commit), failures, and the query commands.
#![allow(clippy::unwrap_used)]

mod common;

use common::mock_node::{self, MockNode, State};
use common::{Env, stderr, stdout};
use ledger::{Amount, Payload};

fn node(balance: u128, nonce: u64) -> MockNode {
    MockNode::start(State { balance, nonce, ..State::default() })
}

#[test]
fn transfer_estimates_signs_and_waits() {
    let env = Env::new();
    let alice = env.new_key("alice");
    let bob = env.new_key("bob");
    let node = node(1_000_000, 3);

    let out = env
        .json(&["transfer", "--node", &node.url, "--from", "alice", "--to", "bob", "--amount", "1234", "-o", "json"]);
    let st = node.state();
    assert_eq!(st.estimates, 1, "one dry run");
    assert_eq!(st.committed.len(), 1);
    let (tx, height) = &st.committed[0];
    // What was signed.
    assert!(tx.clone().verify().is_ok());
    assert_eq!(tx.body.chain_id, mock_node::CHAIN_ID);
    assert_eq!(tx.body.sender_address().to_string(), alice["address"].as_str().unwrap());
    assert_eq!(tx.body.nonce, 3, "the account's next nonce");
    assert_eq!(tx.body.gas_price, Amount::new(1), "the chain's min_gas_price");
    let expected_gas =
        mock_node::BASE_TX_GAS + mock_node::GAS_PER_BYTE * tx.encode().len() as u64 + mock_node::TRANSFER_GAS;
    assert_eq!(tx.body.gas_limit, (expected_gas * 13).div_ceil(10), "the dry run's gas_used × 1.3, rounded up");
    let Payload::Transfer { to, amount } = &tx.body.payload else { panic!("not a transfer: {:?}", tx.body.payload) };
    assert_eq!(to.to_string(), bob["address"].as_str().unwrap());
    assert_eq!(*amount, Amount::new(1234));
    // What was printed.
    assert_eq!(out["hash"], tx.hash().to_string());
    assert_eq!(out["height"], *height);
    assert!(out["block_hash"].as_str().unwrap().len() == 64);
    assert_eq!(out["receipt"]["status"], "success");
    assert_eq!(out["receipt"]["gas_used"], expected_gas);
    assert_eq!(out["receipt"]["fee"], expected_gas.to_string());
    assert_eq!(out["nonce"], 3);
    drop(st);

    // The transaction can be looked up.
    let hash = out["hash"].as_str().unwrap();
    let t = env.json(&["tx", hash, "--node", &node.url, "-o", "json"]);
    assert_eq!(t["hash"], hash);
    assert_eq!(t["receipt"]["status"], "success");
    let text = env.run(&["tx", hash, "--node", &node.url]);
    let text = stdout(&text);
    assert!(text.contains("status:") && text.contains("success") && text.contains("amount:     1234"), "{text}");

    // Text output of a second transfer, with explicit gas and nonce.
    let out = env.run(&[
        "transfer",
        "--node",
        &node.url,
        "--from",
        "alice",
        "--to",
        bob["address"].as_str().unwrap(),
        "--amount",
        "1",
        "--gas",
        "5000",
        "--gas-price",
        "2",
        "--nonce",
        "4",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("status:") && text.contains("success") && text.contains("gas used:"), "{text}");
    let st = node.state();
    assert_eq!(st.estimates, 1, "no dry run when --gas N is given");
    assert_eq!((st.committed[1].0.body.gas_limit, st.committed[1].0.body.gas_price), (5000, Amount::new(2)));
}

#[test]
fn node_errors_show_code_and_message() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000, 3);
    let out = env
        .run(&["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "5", "--nonce", "1"]);
    assert_eq!(out.status.code(), Some(4), "refused by the node");
    let err = stderr(&out);
    assert!(
        err.contains("node rejected the transaction (1005): nonce 1 already used: the sender's next nonce is 3"),
        "{err}"
    );
}

#[test]
fn explicit_nonce_is_used_and_the_dry_run_still_works() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000, 3);
    // Nonce 5 is ahead of the committed 3: the dry run (at nonce 3) succeeds and the
    // node's admission refuses the gap, with its code and message.
    let out = env
        .run(&["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "5", "--nonce", "5"]);
    assert_eq!(out.status.code(), Some(4), "refused by the node");
    assert!(stderr(&out).contains("(1006): nonce 5 is ahead of the sender's next nonce 3"), "{}", stderr(&out));
    assert_eq!(node.state().estimates, 1);
}

#[test]
fn failed_receipt_exits_non_zero_with_the_reason() {
    let env = Env::new();
    env.new_key("alice");
    let node = MockNode::start(State { balance: 1_000_000, fail_receipts: true, ..State::default() });
    let out = env.run(&[
        "transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "5", "--gas", "5000", "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "committed but failed: {}", stderr(&out));
    // One JSON document: the error, with the result (and its receipt) as data.
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &doc["error"];
    assert_eq!((e["code"].as_u64(), e["kind"].as_str()), (Some(1), Some("tx_failed")), "{doc}");
    assert!(e["message"].as_str().unwrap().contains("failed: insufficient balance for the transfer"), "{doc}");
    assert_eq!(e["data"]["receipt"]["status"], "failed");
    assert_eq!(e["data"]["status"], "failed");
    assert!(e["data"]["hash"].as_str().unwrap().len() == 64);
    // In text: the result on stdout, the error on stderr.
    let out = env.run(&["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("status:"), "{}", stdout(&out));
    assert!(stderr(&out).contains("failed: insufficient balance for the transfer"), "{}", stderr(&out));
}

#[test]
fn failed_dry_run_sends_nothing() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(100_000, 0);
    let out = env.run(&["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "200000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("dry run of this transfer failed: insufficient balance"), "{}", stderr(&out));
    assert!(node.state().committed.is_empty());

    // The dry run charges no fee: the wallet checks amount + fee itself.
    let out = env.run(&["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "99999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("insufficient balance") && stderr(&out).contains("maximum fee"), "{}", stderr(&out));
    assert_eq!(node.state().estimates, 2);

    // With --gas N the wallet checks the balance itself.
    let out = env.run(&[
        "transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "99999", "--gas", "3000",
    ]);
    assert!(stderr(&out).contains("insufficient balance"), "{}", stderr(&out));
    let out = env.run(&[
        "transfer",
        "--node",
        &node.url,
        "--from",
        "alice",
        "--to",
        "alice",
        "--amount",
        "1",
        "--gas",
        "100000001",
    ]);
    assert!(stderr(&out).contains("above the chain's per-transaction maximum"), "{}", stderr(&out));
    let out = env.run(&[
        "transfer",
        "--node",
        &node.url,
        "--from",
        "alice",
        "--to",
        "alice",
        "--amount",
        "1",
        "--gas-price",
        "0",
    ]);
    assert!(stderr(&out).contains("below the chain's minimum"), "{}", stderr(&out));
    assert!(node.state().committed.is_empty());
}

#[test]
fn transfer_without_password_does_not_sign() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000, 0);
    let out = env
        .cmd(&["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "1"])
        .env("AGORA_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("wrong password or corrupted keystore"), "{}", stderr(&out));
    assert!(node.state().committed.is_empty());
}

#[test]
fn no_wait_then_tx_wait() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000, 0);
    let out = env.json(&[
        "transfer",
        "--node",
        &node.url,
        "--from",
        "alice",
        "--to",
        "alice",
        "--amount",
        "7",
        "--no-wait",
        "-o",
        "json",
    ]);
    assert_eq!(out["status"], "pending");
    let hash = out["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash, node.state().committed[0].0.hash().to_string());

    // A transaction the node learns about only after the subscription started.
    let pending_tx = {
        let mut t = node.state().committed[0].0.clone();
        t.body.nonce = 1;
        t
    };
    let pending_hash = pending_tx.hash().to_string();
    node.state().commit_on_subscribe = Some(pending_tx);
    let out = env.run(&["tx", &pending_hash, "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let t = env.json(&["tx", &pending_hash, "--wait", "--timeout", "10s", "--node", &node.url, "-o", "json"]);
    assert_eq!(t["hash"], pending_hash.as_str());
    assert_eq!(t["height"], 7);
}

#[test]
fn balance_status_block() {
    let env = Env::new();
    let alice = env.new_key("alice");
    let node = node(123_456_789_012_345_678_901_234_567_890, 9);

    let b = env.json(&["balance", "alice", "--node", &node.url, "-o", "json"]);
    assert_eq!(b["address"], alice["address"]);
    assert_eq!(b["balance"], "123456789012345678901234567890");
    assert_eq!(b["nonce"], 9);
    assert_eq!(b["height"], mock_node::HEIGHT);
    let out = env.run(&["balance", alice["address"].as_str().unwrap(), "--node", &node.url]);
    assert!(stdout(&out).contains("balance: 123456789012345678901234567890"), "{}", stdout(&out));

    let s = env.json(&["status", "--node", &node.url, "-o", "json"]);
    assert_eq!(s["chain_id"], mock_node::CHAIN_ID);
    let out = env.run(&["status", "--node", &node.url]);
    assert!(stdout(&out).contains("latest height:") && stdout(&out).contains("2023-11-14T22:13:20.000Z"));

    let latest = env.json(&["block", "--node", &node.url, "-o", "json"]);
    assert_eq!(latest["header"]["height"], mock_node::HEIGHT);
    let hash = latest["hash"].as_str().unwrap().to_owned();
    for sel in ["latest", "5", hash.as_str()] {
        let b = env.json(&["block", sel, "--node", &node.url, "-o", "json"]);
        assert_eq!(b["hash"], hash.as_str(), "block {sel}");
    }
    let out = env.run(&["block", "5", "--node", &node.url]);
    let text = stdout(&out);
    assert!(text.contains("transactions:") && text.contains("1 signatures"), "{text}");
    let out = env.run(&["block", "99", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("block at height 99 not found"), "{}", stderr(&out));
    let out = env.run(&["block", "nonsense", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(2));
}
