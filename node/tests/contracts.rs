//! Contracts end to end against a real `agorad`: upload, instantiate,
//! execute and query the example token through JSON-RPC only, and every
//! abuse of the probe contract bounded while the node keeps producing blocks.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use ledger::{Address, Amount, Hash, Payload, PublicKey, SigningKey, TxBody};
use serde_json::{Value, json};

async fn wait_height(c: &HttpClient, h: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while height(c).await < h {
        assert!(Instant::now() < deadline, "chain did not reach height {h}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Sender {
    key: SigningKey,
    nonce: u64,
}

impl Sender {
    fn tx_hex(&mut self, payload: Payload, gas_limit: u64) -> String {
        let body = TxBody {
            chain_id: CHAIN.into(),
            sender: PublicKey::from_signing_key(&self.key),
            nonce: self.nonce,
            gas_limit,
            gas_price: Amount::new(1),
            payload,
        };
        self.nonce += 1;
        hex::encode(body.sign(&self.key).encode())
    }

    async fn commit(&mut self, c: &HttpClient, payload: Payload, gas_limit: u64) -> Value {
        let hex = self.tx_hex(payload, gas_limit);
        let r = call(c, "agora_sendTxCommit", rpc_params![hex]).await.unwrap();
        r["receipt"].clone()
    }

    async fn execute(&mut self, c: &HttpClient, contract: Address, msg: Value, gas: u64) -> Value {
        let payload = Payload::Execute { contract, msg: serde_json::to_vec(&msg).unwrap(), funds: Amount::ZERO };
        self.commit(c, payload, gas).await
    }
}

async fn query(c: &HttpClient, contract: Address, msg: Value) -> Result<Value, (i32, String)> {
    call(c, "agora_contractQuery", rpc_params![contract.to_string(), msg]).await.map(|r| r["data"].clone())
}

fn reason(r: &Value) -> String {
    assert_eq!(r["status"], "failed", "expected a failure: {r}");
    r["reason"].as_str().unwrap().to_owned()
}

async fn deploy(c: &HttpClient, s: &mut Sender, code: &[u8], label: &str, msg: Value) -> Address {
    let r = s.commit(c, Payload::StoreCode { code: code.to_vec() }, 700_000_000).await;
    assert_eq!(r["status"], "success", "{r}");
    let code_hash = Hash(hex::decode(r["data"].as_str().unwrap()).unwrap().try_into().unwrap());
    assert_eq!(code_hash, Hash::digest(code));
    let payload = Payload::Instantiate {
        code_hash,
        label: label.into(),
        msg: serde_json::to_vec(&msg).unwrap(),
        funds: Amount::ZERO,
    };
    let r = s.commit(c, payload, 10_000_000).await;
    assert_eq!(r["status"], "success", "{r}");
    let addr = ledger::contract_address(&code_hash, &addr(&s.key), label);
    assert_eq!(r["data"], hex::encode(addr.0));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_contract_end_to_end_over_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = (key(1), key(2));
    let home =
        Node::init(&dir.path().join("n"), &[(addr(&alice), 10u128.pow(12)), (addr(&bob), 10u128.pow(12))], "100ms");
    let node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;
    let mut a = Sender { key: alice.clone(), nonce: 0 };
    let mut b = Sender { key: bob.clone(), nonce: 0 };

    let init = json!({
        "name": "Agora Token", "symbol": "AGT", "decimals": 6,
        "initial_balances": [{ "address": addr(&alice).to_string(), "amount": "1000" }],
    });
    let token = deploy(&c, &mut a, contract_artifacts::TOKEN, "agt", init).await;
    let info = call(&c, "agora_contractInfo", rpc_params![token.to_string()]).await.unwrap();
    assert_eq!(info["label"], "agt");
    assert_eq!(info["creator"], addr(&alice).to_string());
    let code = call(&c, "agora_codeInfo", rpc_params![info["code_hash"].clone()]).await.unwrap();
    assert_eq!(code["size"].as_u64().unwrap() as usize, contract_artifacts::TOKEN.len());

    // dApps follow the token's transfers by event subscription.
    use jsonrpsee::core::client::SubscriptionClientT;
    let ws =
        jsonrpsee::ws_client::WsClientBuilder::default().build(format!("ws://127.0.0.1:{}", node.port)).await.unwrap();
    let mut events: jsonrpsee::core::client::Subscription<Value> = ws
        .subscribe("agora_subscribeEvents", rpc_params!["wasm-transfer", token.to_string()], "agora_unsubscribeEvents")
        .await
        .unwrap();

    // Alice → Bob, then Bob → Alice.
    let msg = json!({ "transfer": { "recipient": addr(&bob).to_string(), "amount": "250" } });
    let est_hex = a.tx_hex(
        Payload::Execute { contract: token, msg: serde_json::to_vec(&msg).unwrap(), funds: Amount::ZERO },
        10_000_000,
    );
    a.nonce -= 1;
    let est = call(&c, "agora_estimateGas", rpc_params![est_hex]).await.unwrap();
    let r = a.execute(&c, token, msg, 10_000_000).await;
    assert_eq!(r["status"], "success", "{r}");
    assert_eq!(r["gas_used"], est["gas_used"], "the dry run's gas is exact");
    let ev = r["events"].as_array().unwrap().iter().find(|e| e["kind"] == "wasm-transfer").expect("transfer event");
    assert_eq!(ev["attributes"][0], json!(["_contract", token.to_string()]));
    let r = b
        .execute(
            &c,
            token,
            json!({ "transfer": { "recipient": addr(&alice).to_string(), "amount": "50" } }),
            10_000_000,
        )
        .await;
    assert_eq!(r["status"], "success", "{r}");
    for (from, to, amount) in [(&alice, &bob, "250"), (&bob, &alice, "50")] {
        let n = tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap().unwrap().unwrap();
        let attrs = &n["event"]["attributes"];
        assert_eq!(n["event"]["kind"], "wasm-transfer", "{n}");
        assert!(attrs.as_array().unwrap().contains(&json!(["from", addr(from).to_string()])), "{n}");
        assert!(attrs.as_array().unwrap().contains(&json!(["to", addr(to).to_string()])), "{n}");
        assert!(attrs.as_array().unwrap().contains(&json!(["amount", amount])), "{n}");
    }

    let bal = |k: &SigningKey| json!({ "balance": { "address": addr(k).to_string() } });
    assert_eq!(query(&c, token, bal(&alice)).await.unwrap()["balance"], "800");
    assert_eq!(query(&c, token, bal(&bob)).await.unwrap()["balance"], "200");

    // Overspending fails in the receipt, pays gas, changes nothing.
    let r = b
        .execute(
            &c,
            token,
            json!({ "transfer": { "recipient": addr(&alice).to_string(), "amount": "201" } }),
            10_000_000,
        )
        .await;
    assert!(reason(&r).contains("insufficient"), "{r}");
    assert!(r["gas_used"].as_u64().unwrap() > 0);
    assert_eq!(query(&c, token, bal(&bob)).await.unwrap()["balance"], "200");
    // Bad messages get clear errors, on chain and in queries.
    let r = b.execute(&c, token, json!({ "steal": {} }), 10_000_000).await;
    assert!(reason(&r).contains("steal"), "{r}");
    let e = query(&c, token, json!({ "nope": {} })).await.unwrap_err();
    assert_eq!(e.0, 1014, "{e:?}");
    let e = query(&c, Address([5; 20]), json!({})).await.unwrap_err();
    assert_eq!(e.0, 1012, "{e:?}");

    // The same transfers from history, filtered by kind and contract.
    let hist =
        call(&c, "agora_getEvents", rpc_params![1, Value::Null, "wasm-transfer", token.to_string()]).await.unwrap();
    let amounts: Vec<&str> = hist["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["event"]["attributes"].as_array().unwrap().iter().find(|a| a[0] == "amount").unwrap()[1].as_str().unwrap()
        })
        .collect();
    assert_eq!(amounts, ["250", "50"], "{hist}");
    assert_eq!(hist["next_from_height"], Value::Null);

    // Raw storage is readable and listed in key order.
    let st = call(&c, "agora_contractStorage", rpc_params![token.to_string()]).await.unwrap();
    assert!(!st["entries"].as_array().unwrap().is_empty());
    let keys: Vec<String> =
        st["entries"].as_array().unwrap().iter().map(|e| e["key_hex"].as_str().unwrap().to_owned()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_contracts_are_bounded_and_blocks_keep_coming() {
    let dir = tempfile::tempdir().unwrap();
    let alice = key(1);
    let home = Node::init(&dir.path().join("n"), &[(addr(&alice), 10u128.pow(15))], "100ms");
    let node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;
    let mut a = Sender { key: alice.clone(), nonce: 0 };
    let probe = deploy(&c, &mut a, contract_artifacts::PROBE, "probe", json!({})).await;
    let other = deploy(&c, &mut a, contract_artifacts::PROBE, "probe-2", json!({})).await;

    let r = a.execute(&c, probe, json!({ "loop": {} }), 20_000_000).await;
    assert!(reason(&r).contains("out of gas"), "{r}");
    assert_eq!(r["gas_used"], 20_000_000);
    let r = a.execute(&c, probe, json!({ "grow_memory": { "pages": 100000 } }), 20_000_000).await;
    assert!(reason(&r).contains("memory.grow failed"), "{r}");
    let r = a.execute(&c, probe, json!({ "recurse": { "depth": 100000000u64 } }), 500_000_000).await;
    let why = reason(&r);
    // Each level keeps 64 bytes in linear memory: the 64 KiB shadow stack
    // runs out first and the next write traps out of bounds.
    assert!(
        why.contains("out of bounds memory access")
            || why.contains("call stack exhausted")
            || why.contains("out of gas"),
        "{r}"
    );
    let r = a.execute(&c, probe, json!({ "call_self": {} }), 20_000_000).await;
    assert!(reason(&r).contains("reentrant call"), "{r}");
    let r = a.execute(&c, probe, json!({ "reenter": { "via": other.to_string() } }), 20_000_000).await;
    assert!(reason(&r).contains(&format!("reentrant call to {probe} refused")), "{r}");
    let r1 = a.execute(&c, probe, json!({ "floats": { "iterations": 5000 } }), 20_000_000).await;
    let r2 = a.execute(&c, probe, json!({ "floats": { "iterations": 5000 } }), 20_000_000).await;
    assert_eq!(r1["status"], "success", "{r1}");
    assert_eq!((&r1["gas_used"], &r1["data"]), (&r2["gas_used"], &r2["data"]), "floats are deterministic");
    let r = a.execute(&c, probe, json!({ "fail_after_write": {} }), 20_000_000).await;
    assert_eq!(r["status"], "failed");

    // Malformed and oversized code.
    let bad = a.tx_hex(Payload::StoreCode { code: b"\0asm\x01\0\0\0garbage".to_vec() }, 500_000_000);
    a.nonce -= 1;
    let e = call(&c, "agora_sendTx", rpc_params![bad]).await.unwrap_err();
    assert_eq!(e.0, 1010, "{e:?}");
    assert!(e.1.contains("invalid contract code: invalid WebAssembly"), "{e:?}");
    let huge = vec![0u8; 900 * 1024];
    let e = call(&c, "agora_sendTx", rpc_params![a.tx_hex(Payload::StoreCode { code: huge }, 500_000_000)])
        .await
        .unwrap_err();
    a.nonce -= 1;
    assert_eq!(e.0, 1010, "{e:?}");
    assert!(e.1.contains("max_code_bytes"), "{e:?}");

    // The chain is alive.
    let h = height(&c).await;
    wait_height(&c, h + 3).await;
    let r = a.execute(&c, probe, json!({ "noop": {} }), 20_000_000).await;
    assert_eq!(r["status"], "success", "{r}");
}

/// The typed client (`rpc-api`) against the node: contracts listed by code in
/// bounded pages, and reads at past heights (point reads served, ordered
/// iteration and future heights refused with 1017).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_by_code_and_reads_at_past_heights() {
    use rpc_api::api::{ChainApiClient, ContractsApiClient, HistoryApiClient};
    use rpc_api::types::StorageResult;
    let code_of = |e: jsonrpsee::core::ClientError| match e {
        jsonrpsee::core::ClientError::Call(o) => o.code(),
        other => panic!("{other}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let alice = key(1);
    let home = Node::init(&dir.path().join("n"), &[(addr(&alice), 10u128.pow(12))], "100ms");
    let node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;
    let mut a = Sender { key: alice.clone(), nonce: 0 };
    let init = json!({
        "name": "Agora Token", "symbol": "AGT", "decimals": 6,
        "initial_balances": [{ "address": addr(&alice).to_string(), "amount": "1000" }],
    });
    let mut tokens = Vec::new();
    for label in ["t1", "t2", "t3"] {
        tokens.push(deploy(&c, &mut a, contract_artifacts::TOKEN, label, init.clone()).await);
    }
    tokens.sort();
    let code_hash = Hash::digest(contract_artifacts::TOKEN);

    // Pages in address order, bounded.
    let addrs = |p: &rpc_api::types::CodeContractsPage| p.contracts.iter().map(|c| c.address).collect::<Vec<_>>();
    let p1 = c.contracts_by_code(code_hash, None, Some(2)).await.unwrap();
    assert_eq!(addrs(&p1), tokens[..2]);
    assert_eq!(p1.next_start_after, Some(tokens[1]));
    let p2 = c.contracts_by_code(code_hash, p1.next_start_after, Some(2)).await.unwrap();
    assert_eq!((addrs(&p2), p2.next_start_after), (tokens[2..].to_vec(), None));
    let all = c.contracts_by_code(code_hash, None, None).await.unwrap();
    assert_eq!(addrs(&all), tokens);
    assert!(all.contracts.iter().all(|x| x.since_height.0 >= 1));
    assert!(c.contracts_by_code(Hash([7; 32]), None, None).await.unwrap().contracts.is_empty());
    // Out-of-range limits are clamped to 1..=100 (as CometBFT clamps per_page).
    assert_eq!(c.contracts_by_code(code_hash, None, Some(u64::MAX)).await.unwrap().contracts.len(), 3);
    assert_eq!(c.contracts_by_code(code_hash, None, Some(0)).await.unwrap().contracts.len(), 1);

    // A transfer, then reads before and after it.
    let token = tokens[0];
    let before = c.status().await.unwrap().latest_height.0;
    let bob = Address([9; 20]);
    let msg = json!({ "transfer": { "recipient": bob.to_string(), "amount": "250" } });
    let r = a.execute(&c, token, msg, 10_000_000).await;
    assert_eq!(r["status"], "success", "{r}");
    let bal = json!({ "balance": { "address": addr(&alice).to_string() } });
    let now = c.contract_query(token, Some(bal.clone()), None, None, None).await.unwrap();
    assert_eq!(now.data["balance"], "750");
    let then = c.contract_query(token, Some(bal.clone()), None, None, Some(before)).await.unwrap();
    assert_eq!(then.data["balance"], "1000", "the query ran against the state at height {before}");
    let tip = c.status().await.unwrap().latest_height.0;
    assert_eq!(code_of(c.contract_query(token, Some(bal), None, None, Some(tip + 1000)).await.unwrap_err()), 1017);

    // Storage: a point read at a past height is served, a listing is not.
    let StorageResult::Page(page) = c.contract_storage(token, None, None, None, None).await.unwrap() else {
        panic!("a page");
    };
    // The keys that existed before the transfer read as they were; Bob's
    // balance, written by the transfer, did not exist yet.
    let mut existed = 0;
    for e in &page.entries {
        let r = c.contract_storage(token, Some(e.key_hex.clone()), None, None, Some(before)).await.unwrap();
        let StorageResult::Value(v) = r else { panic!("one value") };
        assert_eq!(v.key_hex, e.key_hex);
        existed += usize::from(v.value_hex.is_some());
    }
    assert!(existed >= 1 && existed < page.entries.len(), "{existed} of {} keys existed before", page.entries.len());
    let key = page.entries[0].key_hex.clone();
    let e = c.contract_storage(token, None, None, None, Some(before)).await.unwrap_err();
    assert_eq!(code_of(e), 1017);
    // Before the contract existed: not found at that height.
    let e = c.contract_storage(token, Some(key), None, None, Some(1)).await.unwrap_err();
    assert_eq!(code_of(e), 1012);

    // Accounts at a past height, and above the tip.
    let at = c.get_account(addr(&alice), None, Some(1)).await.unwrap();
    assert_eq!((at.height.0, at.nonce, at.exists), (1, 0, Some(true)));
    assert_eq!(code_of(c.get_account(addr(&alice), None, Some(tip + 1000)).await.unwrap_err()), 1017);
    // Network info of a node without peers (and, by default, without its
    // listen addresses: `rpc.expose_peer_addresses` is off).
    let net = c.network_info().await.unwrap();
    assert!(net.node_id.is_some() && net.peers.is_empty() && net.listen_addrs.is_empty(), "{net:?}");
}
