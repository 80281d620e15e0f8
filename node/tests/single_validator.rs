//! End-to-end tests against a real `agorad` process on loopback.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::rpc_params;
use ledger::{Address, Amount, Payload, PublicKey, TxBody};

async fn wait_height(c: &jsonrpsee::http_client::HttpClient, h: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while height(c).await < h {
        assert!(Instant::now() < deadline, "chain did not reach height {h}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_commits_and_balances_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = (key(1), key(2));
    let home = Node::init(&dir.path().join("n"), &[(addr(&alice), 1_000_000)], "100ms");
    let node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;

    let r = call(&c, "agora_sendTxCommit", rpc_params![transfer_hex(&alice, 0, addr(&bob), 12_345)]).await.unwrap();
    assert_eq!(r["receipt"]["status"], "success");
    let fee: u128 = r["receipt"]["fee"].as_str().unwrap().parse().unwrap();
    let gas: u128 = r["receipt"]["gas_used"].as_u64().unwrap().into();
    assert_eq!(fee, gas, "gas price 1");
    assert_eq!(account(&c, &addr(&alice)).await, (1_000_000 - 12_345 - fee, 1));
    assert_eq!(account(&c, &addr(&bob)).await, (12_345, 0));
    // The fee is collected for the validators: the next block distributes it
    // (with that block's inflation) as rewards.
    let h = r["height"].as_u64().unwrap();
    wait_height(&c, h + 1).await;
    let next = call(&c, "agora_getBlock", rpc_params![h + 1]).await.unwrap();
    let rewards = next["events"].as_array().unwrap().iter().find(|e| e["kind"] == "rewards").unwrap();
    assert_eq!(rewards["attributes"][0], serde_json::json!(["fees", fee.to_string()]));

    let tx = call(&c, "agora_getTx", rpc_params![r["hash"].clone()]).await.unwrap();
    assert_eq!(tx["height"], r["height"]);
    assert_eq!(tx["receipt"]["events"][1]["kind"], "transfer");
    assert_eq!(call(&c, "agora_getTx", rpc_params!["00".repeat(32)]).await.unwrap(), serde_json::Value::Null);

    // A proof of Bob's account verifies against the state root it reports.
    let a = call(&c, "agora_getAccount", rpc_params![addr(&bob).to_string(), true]).await.unwrap();
    let proof: ledger::state::StateProof =
        borsh::from_slice(&hex::decode(a["proof"].as_str().unwrap()).unwrap()).unwrap();
    let root: ledger::Hash = a["state_root"].as_str().unwrap().parse().unwrap();
    let acct = ledger::Account { balance: Amount::new(12_345), nonce: 0 };
    ledger::state::verify_account_proof(root, &addr(&bob), Some(&acct), &proof).unwrap();

    // Blocks carry their parent's commit certificate: real precommits of the
    // consensus core, verified against the genesis validator set.
    wait_height(&c, 3).await;
    let b2 = call(&c, "agora_getBlock", rpc_params![2]).await.unwrap();
    let b1 = call(&c, "agora_getBlock", rpc_params![1]).await.unwrap();
    let commit: ledger::Commit = serde_json::from_value(b2["last_commit"].clone()).unwrap();
    assert_eq!(serde_json::to_value(commit.block_hash).unwrap(), b1["hash"]);
    let genesis = genesis::Genesis::load(&home.join("genesis.json")).unwrap();
    let vset = node::convert::validator_set(&genesis.validator_set().unwrap()).unwrap();
    let chain_id = consensus::ChainId::new(CHAIN).unwrap();
    node::convert::to_certificate(&commit).verify(&vset, &chain_id).unwrap();
    let mut forged = commit.clone();
    forged.block_hash = ledger::Hash([1; 32]);
    assert!(node::convert::to_certificate(&forged).verify(&vset, &chain_id).is_err());

    // Gas estimate by dry run equals what the transfer really used.
    let est = call(&c, "agora_estimateGas", rpc_params![transfer_hex(&alice, 1, addr(&bob), 1)]).await.unwrap();
    assert_eq!(u128::from(est["gas_used"].as_u64().unwrap()), gas);
}

fn body(k: &ledger::SigningKey, nonce: u64) -> TxBody {
    TxBody {
        chain_id: CHAIN.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit: 10_000,
        gas_price: Amount::new(1),
        payload: Payload::Transfer { to: Address([9; 20]), amount: Amount::new(1) },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_the_node_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, poor) = (key(1), key(3));
    let home = Node::init(&dir.path().join("n"), &[(addr(&alice), 1_000_000), (addr(&poor), 10)], "100ms");
    let mut node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;
    let send = |hex: String| {
        let c = c.clone();
        async move { call(&c, "agora_sendTx", rpc_params![hex]).await }
    };
    let code = |r: Result<serde_json::Value, (i32, String)>| r.unwrap_err().0;

    assert_eq!(code(send("zz".into()).await), 1001, "not hex");
    assert_eq!(code(send("deadbeef".into()).await), 1001, "not a transaction");
    let mut bad_sig = body(&alice, 0).sign(&alice);
    bad_sig.signature.0[0] ^= 1;
    assert_eq!(code(send(hex::encode(bad_sig.encode())).await), 1003, "bad signature");
    let mut wrong_chain = body(&alice, 0);
    wrong_chain.chain_id = "other".into();
    assert_eq!(code(send(hex::encode(wrong_chain.sign(&alice).encode())).await), 1004, "wrong chain id");
    assert_eq!(code(send(hex::encode(body(&poor, 0).sign(&poor).encode())).await), 1007, "fee not payable");
    let mut overflow = body(&alice, 0);
    overflow.gas_price = Amount::new(u128::MAX);
    assert_eq!(code(send(hex::encode(overflow.sign(&alice).encode())).await), 1007, "fee overflows u128");
    let huge = "00".repeat(1024 * 1024 + 1);
    assert_eq!(code(send(huge).await), 1002, "oversized");
    let mut big_amount = body(&alice, 0);
    big_amount.payload = Payload::Transfer { to: Address([9; 20]), amount: Amount::new(u128::MAX) };
    let r = call(&c, "agora_sendTxCommit", rpc_params![hex::encode(big_amount.clone().sign(&alice).encode())])
        .await
        .unwrap();
    assert_eq!(r["receipt"]["status"], "failed", "an unaffordable amount fails in execution and pays its fee");
    assert!(r["receipt"]["reason"].as_str().unwrap().contains("insufficient funds"));
    let replay = hex::encode(big_amount.sign(&alice).encode());
    assert_eq!(code(send(replay).await), 1008, "replay of a committed tx");
    let (e, msg) = send(hex::encode(body(&alice, 0).sign(&alice).encode())).await.unwrap_err();
    assert_eq!(e, 1005, "replayed nonce: {msg}");
    assert!(msg.contains("nonce 0 already used"), "{msg}");
    assert_eq!(code(send(hex::encode(body(&alice, 10_000).sign(&alice).encode())).await), 1006);
    assert_eq!(code(call(&c, "agora_noSuchMethod", rpc_params![]).await), -32601);
    assert_eq!(code(call(&c, "agora_getAccount", rpc_params!["agora1notanaddress"]).await), -32602);
    assert_eq!(code(call(&c, "agora_getBlock", rpc_params![1_000_000]).await), 1012);
    let raw = raw_post(node.port, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
    assert!(raw.contains("-32700"), "malformed JSON: {raw}");

    let h = height(&c).await;
    wait_height(&c, h + 3).await;
    assert!(node.is_running());
    assert!(node.terminate().success(), "clean exit on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_that_was_committed() {
    let dir = tempfile::tempdir().unwrap();
    let senders: Vec<_> = (10..14u8).map(key).collect();
    let funds: Vec<_> = senders.iter().map(|k| (addr(k), 10_000_000u128)).collect();
    let home = Node::init(&dir.path().join("n"), &funds, "50ms");
    let mut node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;

    // 1,000 transfers from 4 senders, each waiting for its commit; kill -9 halfway.
    let (tx_done, mut rx_done) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = vec![];
    for (i, k) in senders.iter().enumerate() {
        let (c, k, tx_done) = (c.clone(), k.clone(), tx_done.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..250u64 {
                let to = Address([i as u8 + 1; 20]);
                match call(&c, "agora_sendTxCommit", rpc_params![transfer_hex(&k, n, to, 1 + n as u128)]).await {
                    Ok(r) => tx_done.send(r).unwrap(),
                    Err(_) => return,
                }
            }
        }));
    }
    drop(tx_done);
    let mut committed = vec![];
    while committed.len() < 300 {
        committed.push(rx_done.recv().await.unwrap());
    }
    node.kill9();
    for t in tasks {
        let _ = t.await;
    }
    while let Ok(r) = rx_done.try_recv() {
        committed.push(r);
    }
    let last_height = committed.iter().map(|r| r["height"].as_u64().unwrap()).max().unwrap();

    let mut node = Node::start(&home);
    let c = node.client();
    assert!(height(&c).await >= last_height, "restart resumes at or after the last reported commit");
    let mut roots = BTreeMap::new();
    for r in &committed {
        let t = call(&c, "agora_getTx", rpc_params![r["hash"].clone()]).await.unwrap();
        assert_eq!(t["height"], r["height"], "committed tx {} is still there", r["hash"]);
        assert_eq!(t["block_hash"], r["block_hash"]);
        roots.insert(r["height"].as_u64().unwrap(), r["block_hash"].clone());
    }
    // Balances match the committed transfers: recipient i got exactly the sum
    // of the amounts of its committed transfers, each sender's nonce covers them.
    let mut per_recipient = [0u128; 4];
    let mut per_sender = [0u64; 4];
    for r in &committed {
        let t = call(&c, "agora_getTx", rpc_params![r["hash"].clone()]).await.unwrap();
        let to: Address = t["tx"]["body"]["payload"]["to"].as_str().unwrap().parse().unwrap();
        let amount: u128 = t["tx"]["body"]["payload"]["amount"].as_str().unwrap().parse().unwrap();
        per_recipient[usize::from(to.0[0] - 1)] += amount;
        per_sender[usize::from(to.0[0] - 1)] += 1;
    }
    for i in 0..4 {
        let (bal, _) = account(&c, &Address([i as u8 + 1; 20])).await;
        let (_, nonce) = account(&c, &addr(&senders[i])).await;
        assert!(nonce >= per_sender[i]);
        // Transfers that committed but whose reply was lost in the kill count too.
        assert!(bal >= per_recipient[i], "recipient {i}: {bal} < {}", per_recipient[i]);
        assert_eq!(bal, (1..=u128::from(nonce)).sum::<u128>(), "recipient {i} holds exactly the committed transfers");
    }
    // Block hashes (hence state roots) at every height are unchanged.
    for (h, hash) in roots {
        let b = call(&c, "agora_getBlock", rpc_params![h]).await.unwrap();
        assert_eq!(b["hash"], hash, "block {h}");
    }
    // And the chain goes on.
    let h = height(&c).await;
    wait_height(&c, h + 2).await;
    node.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subscriptions_report_blocks_and_tx_status() {
    use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
    use jsonrpsee::ws_client::WsClientBuilder;

    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = (key(1), key(2));
    let home = Node::init(&dir.path().join("n"), &[(addr(&alice), 1_000_000)], "100ms");
    let node = Node::start(&home);
    let ws = WsClientBuilder::default().build(format!("ws://127.0.0.1:{}", node.port)).await.unwrap();

    let mut blocks: Subscription<serde_json::Value> =
        ws.subscribe("agora_subscribeNewBlocks", rpc_params![], "agora_unsubscribeNewBlocks").await.unwrap();
    let first = blocks.next().await.unwrap().unwrap();
    let second = blocks.next().await.unwrap().unwrap();
    assert_eq!(second["height"].as_u64().unwrap(), first["height"].as_u64().unwrap() + 1);
    assert_eq!(second["hash"].as_str().unwrap().len(), 64);

    // Subscribe to a tx before sending it: pending, then committed with its receipt.
    let tx = transfer_hex(&alice, 0, addr(&bob), 77);
    let hash = ledger::SignedTx::decode(&hex::decode(&tx).unwrap()).unwrap().hash().to_string();
    let mut status: Subscription<serde_json::Value> =
        ws.subscribe("agora_subscribeTxStatus", rpc_params![hash.clone()], "agora_unsubscribeTxStatus").await.unwrap();
    assert_eq!(status.next().await.unwrap().unwrap()["status"], "pending");
    let sent: serde_json::Value = ws.request("agora_sendTx", rpc_params![tx]).await.unwrap();
    assert_eq!(sent["hash"], hash);
    let done = tokio::time::timeout(Duration::from_secs(10), status.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(done["status"], "committed");
    assert_eq!(done["receipt"]["status"], "success");

    // A subscription to an already committed tx answers at once.
    let mut again: Subscription<serde_json::Value> =
        ws.subscribe("agora_subscribeTxStatus", rpc_params![hash], "agora_unsubscribeTxStatus").await.unwrap();
    assert_eq!(again.next().await.unwrap().unwrap()["status"], "committed");

    // A malformed hash is refused with invalid params.
    let bad = ws
        .subscribe::<serde_json::Value, _>("agora_subscribeTxStatus", rpc_params!["xyz"], "agora_unsubscribeTxStatus")
        .await;
    assert!(bad.is_err());
}
