//! The history methods against a real `agorad`: an address's transactions by
//! role with cursor paging, event search, block receipts, header ranges,
//! contracts by code, health, genesis, subscriptions resumed from a past
//! height, slow subscribers under both policies, and hostile parameters.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use ledger::{Address, Amount, Hash, Payload, PublicKey, SigningKey, TxBody};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn wait_height(c: &HttpClient, h: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
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
    fn new(key: SigningKey) -> Sender {
        Sender { key, nonce: 0 }
    }

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

    /// Sends and waits for the commit; returns `{hash, height, index, receipt, …}`.
    async fn commit(&mut self, c: &HttpClient, payload: Payload, gas_limit: u64) -> Value {
        let hex = self.tx_hex(payload, gas_limit);
        let r = call(c, "agora_sendTxCommit", rpc_params![hex]).await.unwrap();
        assert_eq!(r["receipt"]["status"], "success", "{r}");
        r
    }

    async fn transfer(&mut self, c: &HttpClient, to: Address) -> Value {
        self.commit(c, Payload::Transfer { to, amount: Amount::new(7) }, 10_000).await
    }
}

async fn deploy(c: &HttpClient, s: &mut Sender, code: &[u8], label: &str, msg: Value) -> (Hash, Address, Value) {
    let r = s.commit(c, Payload::StoreCode { code: code.to_vec() }, 700_000_000).await;
    let code_hash = Hash::digest(code);
    assert_eq!(r["receipt"]["data"], hex::encode(code_hash.0));
    let payload = Payload::Instantiate {
        code_hash,
        label: label.into(),
        msg: serde_json::to_vec(&msg).unwrap(),
        funds: Amount::ZERO,
    };
    let r = s.commit(c, payload, 10_000_000).await;
    (code_hash, ledger::contract_address(&code_hash, &addr(&s.key), label), r)
}

/// Named parameters.
async fn named(c: &HttpClient, method: &str, params: Value) -> Result<Value, (i32, String)> {
    use jsonrpsee::core::client::ClientT;
    let mut p = jsonrpsee::core::params::ObjectParams::new();
    for (k, v) in params.as_object().unwrap() {
        p.insert(k, v).unwrap();
    }
    c.request::<Value, _>(method, p).await.map_err(|e| match e {
        jsonrpsee::core::ClientError::Call(o) => (o.code(), o.message().to_owned()),
        other => (0, other.to_string()),
    })
}

/// Every page of `agora_txsByAddress`, following `next_cursor`.
async fn all_pages(c: &HttpClient, mut params: Value) -> (Vec<Value>, usize) {
    let (mut items, mut pages) = (Vec::new(), 0);
    loop {
        let p = named(c, "agora_txsByAddress", params.clone()).await.unwrap();
        pages += 1;
        items.extend(p["txs"].as_array().unwrap().iter().cloned());
        match p["next_cursor"].as_str() {
            Some(cur) => params["cursor"] = json!(cur),
            None => return (items, pages),
        }
        assert!(pages < 100, "paging must end");
    }
}

fn positions(items: &[Value]) -> Vec<(u64, u64)> {
    items.iter().map(|t| (t["height"].as_u64().unwrap(), t["index"].as_u64().unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_history_event_search_and_the_other_history_methods() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol) = (key(1), key(2), key(3));
    let dave = Address([0xda; 20]);
    let funds = 10u128.pow(12);
    let home = Node::init(
        &dir.path().join("n"),
        &[(addr(&alice), funds), (addr(&bob), funds), (addr(&carol), funds)],
        "100ms",
    );
    let node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;
    let (mut a, mut b, mut cr) = (Sender::new(alice.clone()), Sender::new(bob.clone()), Sender::new(carol.clone()));

    // Alice → Bob four times, Bob → Carol once, Alice → Alice once.
    let mut to_bob = Vec::new();
    for _ in 0..4 {
        to_bob.push(a.transfer(&c, addr(&bob)).await);
    }
    let first_height = to_bob[0]["height"].as_u64().unwrap();
    b.transfer(&c, addr(&carol)).await;
    let own = a.transfer(&c, addr(&alice)).await;
    // A token contract: upload, instantiate, one call that emits `wasm-transfer`.
    let init = json!({ "name": "T", "symbol": "TTT", "decimals": 0,
                       "initial_balances": [{ "address": addr(&alice).to_string(), "amount": "100" }] });
    let (code_hash, token, _) = deploy(&c, &mut a, contract_artifacts::TOKEN, "t", init).await;
    let msg = json!({ "transfer": { "recipient": addr(&bob).to_string(), "amount": "5" } });
    let exec = a
        .commit(
            &c,
            Payload::Execute { contract: token, msg: serde_json::to_vec(&msg).unwrap(), funds: Amount::ZERO },
            10_000_000,
        )
        .await;
    // Carol → Dave 105 times, to go past the page maximum.
    let mut last = Value::Null;
    for _ in 0..105 {
        let hex = cr.tx_hex(Payload::Transfer { to: dave, amount: Amount::new(1) }, 10_000);
        last = call(&c, "agora_sendTx", rpc_params![hex]).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while call(&c, "agora_getTx", rpc_params![last["hash"].clone()]).await.unwrap().is_null() {
        assert!(Instant::now() < deadline, "carol's transfers did not commit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tip = height(&c).await;

    // --- agora_txsByAddress, by role ---
    let page = |address: Address, role: &str| json!({ "address": address.to_string(), "role": role, "limit": 100 });
    let alice_any = named(&c, "agora_txsByAddress", page(addr(&alice), "any")).await.unwrap();
    let txs = alice_any["txs"].as_array().unwrap();
    assert_eq!(txs.len(), 8, "4 to Bob, 1 to herself, upload, instantiate, execute: {alice_any}");
    assert_eq!(alice_any["order"], "desc");
    assert_eq!(txs[0]["hash"], exec["hash"], "newest first");
    assert_eq!(txs[0]["type"], "execute");
    assert!(txs.iter().all(|t| t["roles"].as_array().unwrap().contains(&json!("sender")) && t["success"] == true));
    let self_tx = txs.iter().find(|t| t["hash"] == own["hash"]).unwrap();
    assert_eq!(self_tx["roles"], json!(["sender", "recipient"]));
    let sent = named(&c, "agora_txsByAddress", page(addr(&alice), "sent")).await.unwrap();
    assert_eq!(sent["txs"].as_array().unwrap().len(), 8);
    let received = named(&c, "agora_txsByAddress", page(addr(&alice), "received")).await.unwrap();
    assert_eq!(received["txs"].as_array().unwrap().len(), 1);
    assert_eq!(received["txs"][0]["hash"], own["hash"]);
    let bob_received = named(&c, "agora_txsByAddress", page(addr(&bob), "received")).await.unwrap();
    let hashes: Vec<&Value> = bob_received["txs"].as_array().unwrap().iter().map(|t| &t["hash"]).collect();
    assert_eq!(hashes, to_bob.iter().rev().map(|r| &r["hash"]).collect::<Vec<_>>());
    assert_eq!(
        named(&c, "agora_txsByAddress", page(addr(&bob), "sent")).await.unwrap()["txs"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        named(&c, "agora_txsByAddress", page(addr(&bob), "any")).await.unwrap()["txs"].as_array().unwrap().len(),
        5
    );
    // The contract: instantiated and called (and it emitted events in the call).
    let contract = named(&c, "agora_txsByAddress", page(token, "contract")).await.unwrap();
    let ctxs = contract["txs"].as_array().unwrap();
    assert_eq!(ctxs.len(), 2, "{contract}");
    assert_eq!(ctxs[0]["hash"], exec["hash"]);
    assert_eq!(ctxs[0]["roles"], json!(["contract_called", "contract_events"]));
    assert_eq!(ctxs[1]["type"], "instantiate");
    assert!(named(&c, "agora_txsByAddress", page(token, "sent")).await.unwrap()["txs"].as_array().unwrap().is_empty());
    // Positional parameters work too.
    let pos = call(&c, "agora_txsByAddress", rpc_params![addr(&bob).to_string(), "received"]).await.unwrap();
    assert_eq!(pos["txs"].as_array().unwrap().len(), 4);

    // Paging: small pages in both orders give the same rows as one big page, without dup or gap.
    let one =
        named(&c, "agora_txsByAddress", json!({ "address": addr(&alice).to_string(), "limit": 100, "order": "asc" }))
            .await
            .unwrap();
    let one = positions(one["txs"].as_array().unwrap());
    let (asc, pages) = all_pages(&c, json!({ "address": addr(&alice).to_string(), "limit": 3, "order": "asc" })).await;
    assert_eq!(pages, 3);
    assert_eq!(positions(&asc), one);
    let (desc, _) = all_pages(&c, json!({ "address": addr(&alice).to_string(), "limit": 3 })).await;
    assert_eq!(positions(&desc), one.iter().rev().cloned().collect::<Vec<_>>());
    // A height range bounds the rows.
    let ranged = named(
        &c,
        "agora_txsByAddress",
        json!({ "address": addr(&bob).to_string(), "from_height": first_height, "to_height": first_height }),
    )
    .await
    .unwrap();
    assert_eq!(ranged["txs"].as_array().unwrap().len(), 1);
    // The page maximum: a huge limit gives 100 and a cursor; the rest is 5.
    let dave_p = named(&c, "agora_txsByAddress", json!({ "address": dave.to_string(), "limit": 1_000_000_000u64 }))
        .await
        .unwrap();
    assert_eq!(dave_p["txs"].as_array().unwrap().len(), 100);
    let rest = named(
        &c,
        "agora_txsByAddress",
        json!({ "address": dave.to_string(), "limit": 1_000_000, "cursor": dave_p["next_cursor"] }),
    )
    .await
    .unwrap();
    assert_eq!(rest["txs"].as_array().unwrap().len(), 5);
    assert_eq!(rest["next_cursor"], Value::Null);
    let (dave_all, _) = all_pages(&c, json!({ "address": dave.to_string(), "limit": 7 })).await;
    let set: BTreeSet<(u64, u64)> = positions(&dave_all).into_iter().collect();
    assert_eq!(set.len(), 105, "no duplicate across 15 pages");
    // An unknown address has an empty history, not an error.
    let nobody = named(&c, "agora_txsByAddress", json!({ "address": Address([0x77; 20]).to_string() })).await.unwrap();
    assert_eq!(nobody["txs"], json!([]));
    assert_eq!(nobody["next_cursor"], Value::Null);
    // Hostile parameters.
    let bad = |p: Value| {
        let c = c.clone();
        async move { named(&c, "agora_txsByAddress", p).await.unwrap_err().0 }
    };
    let a_s = addr(&alice).to_string();
    assert_eq!(bad(json!({ "address": a_s, "from_height": 9, "to_height": 3 })).await, -32602, "inverted range");
    assert_eq!(bad(json!({ "address": a_s, "cursor": "zzz" })).await, -32602, "bogus cursor");
    assert_eq!(bad(json!({ "address": a_s, "cursor": "1:2:3" })).await, -32602, "bogus cursor");
    assert_eq!(
        bad(json!({ "address": a_s, "cursor": format!("{}:0", tip + 100) })).await,
        -32602,
        "cursor outside range"
    );
    assert_eq!(bad(json!({ "address": a_s, "role": "owner" })).await, -32602, "unknown role");
    assert_eq!(bad(json!({ "address": "agora1nope" })).await, -32602, "bad address");
    assert_eq!(bad(json!({ "address": a_s, "limit": -1 })).await, -32602, "negative limit");
    assert_eq!(bad(json!({ "address": a_s, "from_height": tip + 1000 })).await, 1017, "future height");
    let clamped = named(&c, "agora_txsByAddress", json!({ "address": a_s, "to_height": u64::MAX })).await.unwrap();
    let t = clamped["to_height"].as_u64().unwrap();
    assert!(t >= tip && t <= height(&c).await, "to_height is clamped to the latest height: {t}");

    // --- the wallet: `agora history` on top of agora_txsByAddress ---
    let w = Wallet { keyring: dir.path().join("keys"), node: node.url() };
    let bob_s = addr(&bob).to_string();
    let p1 = w.json(&["history", &bob_s, "--role", "received", "--limit", "3"]);
    assert_eq!(p1["txs"].as_array().unwrap().len(), 3);
    let cur = p1["next_cursor"].as_str().unwrap().to_owned();
    let p2 = w.json(&["history", &bob_s, "--role", "received", "--limit", "3", "--cursor", &cur]);
    assert_eq!(p2["txs"].as_array().unwrap().len(), 1);
    assert_eq!(p2["txs"][0]["hash"], to_bob[0]["hash"], "the oldest comes last");
    assert_eq!(p2["next_cursor"], Value::Null);
    let text = w.run(&["history", &bob_s]);
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("HEIGHT") && text.contains(to_bob[3]["hash"].as_str().unwrap()), "{text}");
    assert!(text.contains("recipient") && text.contains("sender"), "{text}");
    let refused = w.run(&["history", &bob_s, "--limit", "1000"]);
    assert!(!refused.status.success(), "the wallet refuses a limit above 100");

    // --- agora_searchEvents ---
    let search = |p: Value| {
        let c = c.clone();
        async move { named(&c, "agora_searchEvents", p).await }
    };
    let transfers = search(json!({ "kind": "transfer", "from_height": 1, "to_height": tip })).await.unwrap();
    assert_eq!(transfers["events"].as_array().unwrap().len(), 100, "4 + 1 + 1 + 105 native transfers, 100 a page");
    let more =
        search(json!({ "kind": "transfer", "from_height": 1, "to_height": tip, "cursor": transfers["next_cursor"] }))
            .await
            .unwrap();
    assert_eq!(more["events"].as_array().unwrap().len(), 11);
    assert_eq!(more["next_cursor"], Value::Null);
    let to_bob_ev =
        search(json!({ "kind": "transfer", "attributes": [{ "key": "to", "value": addr(&bob).to_string() }],
                                   "from_height": 1, "to_height": tip }))
        .await
        .unwrap();
    let evs = to_bob_ev["events"].as_array().unwrap();
    assert_eq!(evs.len(), 4);
    assert_eq!(evs[0]["tx_hash"], to_bob[0]["hash"]);
    assert_eq!(evs[0]["event_index"], 1, "after the fee event");
    let wasm = search(json!({ "contract": token.to_string(), "from_height": 1, "to_height": tip })).await.unwrap();
    let kinds: Vec<&str> =
        wasm["events"].as_array().unwrap().iter().map(|e| e["event"]["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"instantiate") && kinds.contains(&"wasm-transfer"), "{kinds:?}");
    let wt =
        search(json!({ "kind": "wasm-transfer", "contract": token.to_string(), "from_height": 1, "to_height": tip }))
            .await
            .unwrap();
    assert_eq!(wt["events"].as_array().unwrap().len(), 1);
    assert_eq!(wt["events"][0]["tx_hash"], exec["hash"]);
    // Block events (rewards) have no transaction.
    let rewards = search(json!({ "kind": "rewards", "from_height": 1, "to_height": tip })).await.unwrap();
    let rewards = rewards["events"].as_array().unwrap();
    assert!(!rewards.is_empty());
    assert!(rewards.iter().all(|e| e["tx_index"].is_null() && e["tx_hash"] == Hash::ZERO.to_string()), "{rewards:?}");
    // Without kind or contract the blocks are scanned; paging still has no dup or gap.
    let (mut scanned, mut cursor) = (Vec::new(), Value::Null);
    loop {
        let p =
            search(json!({ "from_height": first_height, "to_height": first_height + 3, "limit": 2, "cursor": cursor }))
                .await
                .unwrap();
        scanned.extend(p["events"].as_array().unwrap().iter().cloned());
        cursor = p["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let mut expected = 0;
    for h in first_height..=first_height + 3 {
        let r = call(&c, "agora_blockReceipts", rpc_params![h]).await.unwrap();
        expected += r["block_events"].as_array().unwrap().len();
        expected +=
            r["receipts"].as_array().unwrap().iter().map(|r| r["events"].as_array().unwrap().len()).sum::<usize>();
    }
    assert_eq!(scanned.len(), expected);
    let keys: BTreeSet<String> =
        scanned.iter().map(|e| format!("{}:{}:{}", e["height"], e["tx_index"], e["event_index"])).collect();
    assert_eq!(keys.len(), expected, "no duplicate");
    // Hostile parameters.
    let code = |p: Value| {
        let c = c.clone();
        async move { named(&c, "agora_searchEvents", p).await.unwrap_err().0 }
    };
    assert_eq!(code(json!({ "kind": "transfer", "from_height": 5, "to_height": 4 })).await, -32602, "inverted");
    assert_eq!(
        code(json!({ "kind": "transfer", "from_height": 1, "to_height": 10_001 })).await,
        -32602,
        "too many heights"
    );
    assert!(
        search(json!({ "kind": "transfer", "from_height": 1, "to_height": 10_000 })).await.is_ok(),
        "10,000 is allowed"
    );
    assert_eq!(code(json!({ "kind": "transfer", "from_height": 1, "to_height": 2, "cursor": "1:x:2" })).await, -32602);
    let many: Vec<Value> = (0..17).map(|i| json!({ "key": "k", "value": i.to_string() })).collect();
    assert_eq!(code(json!({ "kind": "transfer", "attributes": many, "from_height": 1, "to_height": 2 })).await, -32602);
    assert_eq!(code(json!({ "kind": "transfer", "from_height": tip + 100, "to_height": tip + 200 })).await, 1017);
    assert_eq!(code(json!({ "kind": "transfer" })).await, -32602, "the range is required");
    let none = search(json!({ "kind": "no-such-kind", "from_height": 1, "to_height": tip })).await.unwrap();
    assert_eq!((none["events"].clone(), none["next_cursor"].clone()), (json!([]), Value::Null));

    // --- agora_blockReceipts ---
    let h = to_bob[1]["height"].as_u64().unwrap();
    let r = call(&c, "agora_blockReceipts", rpc_params![h]).await.unwrap();
    let block = call(&c, "agora_getBlock", rpc_params![h]).await.unwrap();
    assert_eq!(r["block_hash"], block["hash"]);
    assert_eq!(r["receipts"].as_array().unwrap().len() as u64, block["num_txs"].as_u64().unwrap());
    assert!(r["receipts"].as_array().unwrap().iter().any(|x| x["tx_hash"] == to_bob[1]["hash"]));
    assert_eq!(call(&c, "agora_blockReceipts", rpc_params![0]).await.unwrap_err().0, 1012);
    assert_eq!(call(&c, "agora_blockReceipts", rpc_params![tip + 1000]).await.unwrap_err().0, 1017);

    // --- agora_headers ---
    let hs = call(&c, "agora_headers", rpc_params![1, 5]).await.unwrap();
    let hs = hs.as_array().unwrap();
    assert_eq!(hs.iter().map(|x| x["header"]["height"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(hs[2]["hash"], call(&c, "agora_getBlock", rpc_params![3]).await.unwrap()["hash"]);
    assert_eq!(hs[1]["header"]["parent_hash"], hs[0]["hash"]);
    let n = call(&c, "agora_headers", rpc_params![1, 100]).await.unwrap().as_array().unwrap().len();
    assert!(n >= 100.min(tip as usize) && n <= 100, "{n} headers");
    assert_eq!(call(&c, "agora_headers", rpc_params![1, 101]).await.unwrap_err().0, -32602, "at most 100");
    assert_eq!(call(&c, "agora_headers", rpc_params![5, 4]).await.unwrap_err().0, -32602);
    assert_eq!(call(&c, "agora_headers", rpc_params![0, 4]).await.unwrap_err().0, -32602);
    assert_eq!(call(&c, "agora_headers", rpc_params![tip + 100, tip + 110]).await.unwrap_err().0, 1017);
    let clamped = call(&c, "agora_headers", rpc_params![tip - 1, tip + 50]).await.unwrap();
    assert!(clamped.as_array().unwrap().len() >= 2, "clamped to the latest height");

    // --- agora_contractsByCode ---
    let by_code = call(&c, "agora_contractsByCode", rpc_params![code_hash.to_string()]).await.unwrap();
    assert_eq!(
        by_code["contracts"],
        json!([{ "address": token.to_string(), "since_height": by_code["contracts"][0]["since_height"] }])
    );
    let other = call(&c, "agora_contractsByCode", rpc_params![Hash([9; 32]).to_string()]).await.unwrap();
    assert_eq!(other["contracts"], json!([]));

    // --- agora_health, agora_genesis ---
    let health = call(&c, "agora_health", rpc_params![]).await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["index_from"], 1);
    assert!(health["last_block_age_ms"].as_u64().unwrap() < 10_000);
    let status = call(&c, "agora_status", rpc_params![]).await.unwrap();
    let genesis = call(&c, "agora_genesis", rpc_params![]).await.unwrap();
    assert_eq!(genesis["genesis_hash"], status["genesis_hash"]);
    assert_eq!(genesis["chain_id"], CHAIN);
    let file: genesis::Genesis = serde_json::from_value(genesis["genesis"].clone()).unwrap();
    assert_eq!(
        serde_json::to_value(file.hash()).unwrap(),
        status["genesis_hash"],
        "the document hashes to the genesis hash"
    );

    // --- rpc.discover lists the methods from the same definitions ---
    let doc = call(&c, "rpc.discover", rpc_params![]).await.unwrap();
    let names: Vec<&str> = doc["methods"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    for m in [
        "agora_txsByAddress",
        "agora_searchEvents",
        "agora_blockReceipts",
        "agora_headers",
        "agora_health",
        "agora_genesis",
        "agora_contractsByCode",
        "agora_getEvents",
        "agora_subscribeEvents",
    ] {
        assert!(names.contains(&m), "{m} missing from rpc.discover");
    }

    // --- subscriptions resumed from a past height ---
    let ws =
        jsonrpsee::ws_client::WsClientBuilder::default().build(format!("ws://127.0.0.1:{}", node.port)).await.unwrap();
    let mut events: Subscription<Value> = ws
        .subscribe(
            "agora_subscribeEvents",
            rpc_params!["transfer", Value::Null, first_height],
            "agora_unsubscribeEvents",
        )
        .await
        .unwrap();
    let mut blocks: Subscription<Value> = ws
        .subscribe("agora_subscribeNewBlocks", rpc_params![first_height], "agora_unsubscribeNewBlocks")
        .await
        .unwrap();
    let live = a.transfer(&c, addr(&bob)).await;
    let mut got = Vec::new();
    while got.last().is_none_or(|e: &Value| e["tx_hash"] != live["hash"]) {
        let n = tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap().unwrap().unwrap();
        got.push(n);
        assert!(got.len() <= 112, "more transfers than were made");
    }
    assert_eq!(got.len(), 112, "111 replayed and the live one");
    let keys: BTreeSet<(u64, u64)> =
        got.iter().map(|e| (e["height"].as_u64().unwrap(), e["index"].as_u64().unwrap())).collect();
    assert_eq!(keys.len(), 112, "no duplicate");
    assert_eq!(got[0]["tx_hash"], to_bob[0]["hash"]);
    let mut heights = Vec::new();
    let live_h = live["height"].as_u64().unwrap();
    while heights.last().is_none_or(|h| *h < live_h) {
        let n = tokio::time::timeout(Duration::from_secs(10), blocks.next()).await.unwrap().unwrap().unwrap();
        heights.push(n["height"].as_u64().unwrap());
    }
    assert_eq!(heights, (first_height..=live_h).collect::<Vec<_>>(), "replay then live: no gap, no duplicate");
    let far = ws
        .subscribe::<Value, _>(
            "agora_subscribeNewBlocks",
            rpc_params![height(&c).await + 10],
            "agora_unsubscribeNewBlocks",
        )
        .await;
    assert!(far.is_err(), "a future height is refused");
    let zero = ws.subscribe::<Value, _>("agora_subscribeNewBlocks", rpc_params![0], "agora_unsubscribeNewBlocks").await;
    assert!(zero.is_err());
    drop(node);
}

/// A WebSocket client that subscribes and then does not read, on a socket
/// with a small receive buffer (a slow consumer).
struct SlowClient {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl SlowClient {
    async fn connect(port: u16, request: &str) -> SlowClient {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let mut stream = sock.connect(([127, 0, 0, 1], port).into()).await.unwrap();
        let hs = format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(hs.as_bytes()).await.unwrap();
        let mut c = SlowClient { stream, buf: Vec::new() };
        while !c.buf.windows(4).any(|w| w == b"\r\n\r\n") {
            c.fill().await;
        }
        let end = c.buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(c.buf.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&c.buf));
        c.buf.drain(..end);
        // A masked text frame (mask key zero).
        let payload = request.as_bytes();
        let mut frame = vec![0x81u8];
        if payload.len() < 126 {
            frame.push(0x80 | payload.len() as u8);
        } else {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(payload);
        c.stream.write_all(&frame).await.unwrap();
        c
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = tokio::time::timeout(Duration::from_secs(30), self.stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "connection closed");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// The next text message.
    async fn next(&mut self) -> Value {
        loop {
            if self.buf.len() >= 2 {
                let (op, len7) = (self.buf[0] & 0x0f, (self.buf[1] & 0x7f) as usize);
                let (len, hdr) = match len7 {
                    126 if self.buf.len() >= 4 => (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4),
                    127 if self.buf.len() >= 10 => {
                        (u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n, 2),
                };
                if len != usize::MAX && self.buf.len() >= hdr + len {
                    let payload: Vec<u8> = self.buf.drain(..hdr + len).skip(hdr).collect();
                    if op == 1 {
                        return serde_json::from_slice(&payload).unwrap();
                    }
                    continue; // ping or other control frame
                }
            }
            self.fill().await;
        }
    }
}

/// Sets `rpc.slow_subscriber` and a small `rpc.subscription_buffer`.
fn set_policy(home: &std::path::Path, policy: &str) {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("slow_subscriber") {
            out.push_str(&format!("slow_subscriber = \"{policy}\"\n"));
        } else if line.starts_with("subscription_buffer") {
            out.push_str("subscription_buffer = 16\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(out.contains(&format!("slow_subscriber = \"{policy}\"")));
    std::fs::write(path, out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscribers_are_told_what_they_missed_or_closed() {
    let dir = tempfile::tempdir().unwrap();
    let alice = key(1);
    let home = Node::init(&dir.path().join("n"), &[(addr(&alice), 10u128.pow(15))], "100ms");
    set_policy(&home, "notify");
    let mut node = Node::start(&home);
    let c = node.client();
    wait_height(&c, 1).await;
    let mut a = Sender::new(alice.clone());
    let (_, probe, _) = deploy(&c, &mut a, contract_artifacts::PROBE, "probe", json!({})).await;
    let emit = |a: &mut Sender, n: u32| {
        a.tx_hex(
            Payload::Execute {
                contract: probe,
                msg: serde_json::to_vec(&json!({ "emit": { "n": n } })).unwrap(),
                funds: Amount::ZERO,
            },
            400_000_000,
        )
    };

    for policy in ["notify", "close"] {
        if policy == "close" {
            node.terminate();
            set_policy(&home, "close");
            node = Node::start(&home);
        }
        let c = node.client();
        let req = r#"{"jsonrpc":"2.0","id":1,"method":"agora_subscribeEvents","params":["wasm-probe"]}"#;
        let mut slow = SlowClient::connect(node.port, req).await;
        let accepted = slow.next().await;
        let sub_id = accepted["result"].clone();
        assert!(!sub_id.is_null(), "{accepted}");
        // Far more notifications than the socket, the server's buffer and the
        // subscription's queue of 16 hold, while the client reads nothing.
        let mut last = Value::Null;
        for _ in 0..4 {
            last = call(&c, "agora_sendTxCommit", rpc_params![emit(&mut a, 20_000)]).await.unwrap();
            assert_eq!(last["receipt"]["status"], "success", "{last}");
        }
        // Blocks keep coming meanwhile.
        let h = height(&c).await;
        wait_height(&c, h + 2).await;
        // Now read: the policy's verdict must come.
        let mut delivered = 0u64;
        let verdict = loop {
            let m = slow.next().await;
            assert_eq!(m["params"]["subscription"], sub_id, "{m}");
            if m["params"].get("error").is_some() || m["params"]["result"].get("missed").is_some() {
                break m;
            }
            delivered += 1;
            assert!(delivered < 80_000, "neither a missed notice nor a close");
        };
        match policy {
            "notify" => {
                let missed = &verdict["params"]["result"];
                assert!(missed["missed"].as_u64().unwrap() >= 1, "{verdict}");
                let resume = missed["resume_from"].as_u64().unwrap();
                assert!(resume <= last["height"].as_u64().unwrap(), "{verdict}");
                // The subscription goes on: a later event arrives.
                let later = call(&c, "agora_sendTxCommit", rpc_params![emit(&mut a, 1)]).await.unwrap();
                loop {
                    let m = slow.next().await;
                    if m["params"]["result"]["tx_hash"] == later["hash"] {
                        break;
                    }
                }
            }
            _ => {
                let e = verdict["params"]["error"].to_string();
                assert!(e.contains("too slow") && e.contains("from_height"), "{verdict}");
            }
        }
    }
    drop(node);
}
