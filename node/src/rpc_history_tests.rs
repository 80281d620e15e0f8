//! Tests of the history methods through their RPC module (JSON in, JSON
//! out): the index switched off, requests below `index_from`, the block
//! scan's budget, headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use jsonrpsee::RpcModule;
use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use serde_json::{Value, json};

use super::*;
use crate::chain::Chain;
use crate::store::Store;

const CHAIN: &str = "hist-test";

fn keys() -> (SigningKey, SigningKey) {
    (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]))
}

fn bob() -> Address {
    Address([0xb0; 20])
}

fn chain_with_index(dir: &std::path::Path, index: bool) -> Arc<Chain> {
    let (user, val) = keys();
    let genesis = crate::testing::genesis(CHAIN, &[&user], &val);
    let store = Store::open_with_index(&dir.join("db"), false, index).unwrap();
    let limits = crate::mempool::MempoolLimits { max_txs: 1000, max_bytes: 1 << 24, max_nonce_gap: 100 };
    Arc::new(Chain::open(store, &genesis, limits, vm::Vm::new(&genesis.params, Default::default()).unwrap()).unwrap())
}

/// Commits a block of `n` transfers to bob, starting at `nonce`.
fn produce(chain: &Chain, nonce: u64, n: u64) {
    let (user, val) = keys();
    for i in nonce..nonce + n {
        let tx = TxBody {
            chain_id: CHAIN.into(),
            sender: PublicKey::from_signing_key(&user),
            nonce: i,
            gas_limit: 10_000,
            gas_price: Amount::new(1),
            payload: Payload::Transfer { to: bob(), amount: Amount::new(1) },
        };
        chain.submit_tx(&tx.sign(&user).encode()).unwrap();
    }
    let ex = chain.build_block(PublicKey::from_signing_key(&val), 0, None).unwrap();
    let h = ex.block.header.height;
    let commit = crate::testing::certificate(CHAIN, &val, h.0, ex.block.hash());
    chain.commit(ex, &commit).unwrap();
}

fn rpc(chain: Arc<Chain>) -> (HistoryRpc, RpcModule<HistoryRpc>) {
    let ctx = || crate::rpc::tests::ctx_for(chain.clone(), 1);
    (HistoryRpc::new(ctx()), HistoryRpc::new(ctx()).into_rpc())
}

/// The call's `result`, or its error `(code, message)`.
async fn call<T: Send + Sync + 'static>(m: &RpcModule<T>, method: &str, params: Value) -> Result<Value, (i64, String)> {
    let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
    let (resp, _) = m.raw_json_request(&req, 1).await.unwrap();
    let v: Value = serde_json::from_str(resp.get()).unwrap();
    match v.get("result") {
        Some(r) => Ok(r.clone()),
        None => Err((v["error"]["code"].as_i64().unwrap(), v["error"]["message"].as_str().unwrap().to_owned())),
    }
}

#[tokio::test]
async fn with_the_index_off_the_history_methods_answer_1017() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain_with_index(dir.path(), false);
    produce(&chain, 0, 2);
    let (_, m) = rpc(chain);
    let unavailable = codes::HEIGHT_UNAVAILABLE as i64;
    for (method, params) in [
        ("agora_txsByAddress", json!({ "address": bob().to_string() })),
        ("agora_searchEvents", json!({ "kind": "transfer", "from_height": 1, "to_height": 1 })),
        ("agora_searchEvents", json!({ "from_height": 1, "to_height": 1 })),
        ("agora_contractsByCode", json!({ "code_hash": ledger::Hash::ZERO.to_string() })),
    ] {
        let (code, msg) = call(&m, method, params).await.unwrap_err();
        assert_eq!(code, unavailable, "{method}: {msg}");
        assert!(msg.contains("[index] enabled = false"), "{msg}");
    }
    // What does not need the index is still served.
    let h = call(&m, "agora_headers", json!({ "from": 1, "to": 1 })).await.unwrap();
    assert_eq!(h[0]["num_txs"], 2);
    let health = call(&m, "agora_health", json!([])).await.unwrap();
    assert_eq!(health["index_from"], 2, "nothing indexed: the index would start at the next height");
}

#[tokio::test]
async fn a_request_below_index_from_answers_1017() {
    let dir = tempfile::tempdir().unwrap();
    {
        let chain = chain_with_index(dir.path(), false);
        produce(&chain, 0, 1);
        produce(&chain, 1, 1);
    }
    let chain = chain_with_index(dir.path(), true);
    assert_eq!(chain.store().index_from().unwrap(), Some(ledger::Height(3)));
    produce(&chain, 2, 1);
    let (_, m) = rpc(chain);
    let unavailable = codes::HEIGHT_UNAVAILABLE as i64;
    let bob = bob().to_string();
    let (code, msg) = call(&m, "agora_txsByAddress", json!({ "address": bob, "from_height": 1 })).await.unwrap_err();
    assert_eq!(code, unavailable);
    assert!(msg.contains("starts at height 3"), "{msg}");
    let below = json!({ "kind": "transfer", "from_height": 2, "to_height": 3 });
    assert_eq!(call(&m, "agora_searchEvents", below).await.unwrap_err().0, unavailable);
    // From index_from on (and by default) it is served.
    let page = call(&m, "agora_txsByAddress", json!({ "address": bob })).await.unwrap();
    assert_eq!(page["txs"].as_array().unwrap().len(), 1);
    assert_eq!(page["from_height"], 3);
    let ok = json!({ "kind": "transfer", "from_height": 3, "to_height": 3 });
    assert_eq!(call(&m, "agora_searchEvents", ok).await.unwrap()["events"].as_array().unwrap().len(), 1);
}

/// The unindexed scan (no kind, no contract) stops after `budget` rows and
/// resumes from its cursor without gap or duplicate.
#[tokio::test]
async fn the_block_scan_stops_on_its_row_budget_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain_with_index(dir.path(), true);
    for b in 0..4 {
        produce(&chain, b * 3, 3);
    }
    let (h, _) = rpc(chain);
    let keep = |_: &IndexedEvent| true;
    let (all, next) = h.scan_blocks((1, 4), None, 1000, 1000, &keep).unwrap();
    assert_eq!(next, None);
    assert!(all.len() >= 24, "two events a transfer, and block events: {}", all.len());
    let (mut got, mut after, mut calls) = (Vec::new(), None, 0);
    loop {
        let (page, next) = h.scan_blocks((1, 4), after, 1000, 5, &keep).unwrap();
        assert!(page.len() <= 5, "at most the budget of rows read: {}", page.len());
        calls += 1;
        got.extend(page);
        match next {
            Some(p) => after = Some(p),
            None => break,
        }
        assert!(calls < 100, "the scan must end");
    }
    assert!(calls >= all.len() / 5, "{} rows at 5 a call took {calls} calls", all.len());
    assert_eq!(got, all);
}

#[tokio::test]
async fn headers_match_the_stored_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain_with_index(dir.path(), true);
    produce(&chain, 0, 3);
    produce(&chain, 3, 0);
    let (_, m) = rpc(chain.clone());
    let got = call(&m, "agora_headers", json!({ "from": 1, "to": 2 })).await.unwrap();
    for (i, h) in [1u64, 2].into_iter().enumerate() {
        let b = chain.store().block(ledger::Height(h)).unwrap().unwrap();
        assert_eq!(got[i]["hash"], json!(b.hash()));
        assert_eq!(got[i]["num_txs"], b.txs.len());
        assert_eq!(got[i]["header"], serde_json::to_value(&b.header).unwrap());
    }
}
