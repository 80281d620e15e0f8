//! History index figures (run: `cargo bench -p node --bench history_index`),
//! in-process on a real RocksDB (writes not synced), through the node's own
//! commit path (`Chain::build_block` + `Chain::commit`, which writes the index
//! in the block's batch) and its own RPC module (JSON in, JSON out):
//! - commit time per block with and without the index (`Store::open_with_index`),
//!   for a chain of 100,000 transfers built twice;
//! - `agora_txsByAddress`: first page, a deep page (by cursor), a sender's page;
//! - `agora_searchEvents`: by kind, by kind and attribute (a 1 % match);
//! - `agora_headers` for 100 blocks of 1,000 transactions, against decoding the blocks;
//! - the index's size on disk next to the whole database's, with and without it.
//!
//! Figures are printed (medians of repeated calls), never asserted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use node::chain::Chain;
use node::mempool::MempoolLimits;
use node::store::Store;
use serde_json::{Value, json};

const SENDERS: usize = 2_000;
const PER_SENDER: u64 = 50;
const RECIPIENTS: usize = 100;
const BLOCK_TXS: usize = 1_000;
const RUNS: usize = 50;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn dir_bytes(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| d.filter_map(Result::ok).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

fn recipient(i: usize) -> Address {
    Address([(i % RECIPIENTS) as u8 + 1; 20])
}

/// A chain of 100,000 transfers (sender i pays recipient i % 100, 50
/// times), committed a block at a time; returns it, its directory and the
/// commit times. `index` turns the history index on or off.
fn build(keys: &[SigningKey], validator: &SigningKey, index: bool) -> (tempfile::TempDir, Arc<Chain>, Vec<Duration>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let funded: Vec<&SigningKey> = keys.iter().collect();
    let genesis = node::testing::genesis("bench", &funded, validator);
    let store = Store::open_with_index(&dir.path().join("db"), false, index).expect("open");
    let limits = MempoolLimits { max_txs: 1_000_000, max_bytes: 1 << 30, max_nonce_gap: 1_000 };
    let chain = Arc::new(
        Chain::open(store, &genesis, limits, vm::Vm::new(&genesis.params, Default::default()).expect("vm"))
            .expect("chain"),
    );
    chain.set_proposer_max_txs(BLOCK_TXS);
    let me = PublicKey::from_signing_key(validator);
    let total = SENDERS * PER_SENDER as usize;
    let mut commit_times = Vec::new();
    let mut submitted = 0usize;
    for n in 0..PER_SENDER {
        for (i, k) in keys.iter().enumerate() {
            let tx = TxBody {
                chain_id: "bench".into(),
                sender: PublicKey::from_signing_key(k),
                nonce: n,
                gas_limit: 10_000,
                gas_price: Amount::new(1),
                payload: Payload::Transfer { to: recipient(i), amount: Amount::new(1) },
            }
            .sign(k)
            .encode();
            chain.submit_tx(&tx).expect("admit");
            submitted += 1;
        }
        // Drain the pool a block at a time as it fills.
        while chain.mempool_size() >= BLOCK_TXS || (submitted == total && chain.mempool_size() > 0) {
            let executed = chain.build_block(me, 0, None).expect("build");
            let commit = ledger::Commit {
                height: executed.block.header.height,
                round: 0,
                block_hash: executed.block.hash(),
                signatures: vec![],
            };
            let c = Instant::now();
            chain.commit(executed, &commit).expect("commit");
            commit_times.push(c.elapsed());
        }
    }
    chain.store().flush().expect("flush");
    (dir, chain, commit_times)
}

fn main() {
    let keys: Vec<SigningKey> = (0..SENDERS)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            SigningKey::from_bytes(&s)
        })
        .collect();
    let validator = SigningKey::from_bytes(&[0xaa; 32]);

    // The same chain without the index: the commit path's cost of the index.
    let (plain_dir, plain, plain_times) = build(&keys, &validator, false);
    let plain_ms = median(plain_times).as_secs_f64() * 1e3;
    let plain_bytes = dir_bytes(&plain_dir.path().join("db"));
    let n = plain.total_txs().max(1) as f64;
    println!(
        "without index: commit median {plain_ms:.1} ms a block of {BLOCK_TXS}; database {:.1} MiB ({:.0} bytes a transaction)",
        plain_bytes as f64 / (1024.0 * 1024.0),
        plain_bytes as f64 / n
    );
    drop(plain);
    drop(plain_dir);

    let t = Instant::now();
    let (dir, chain, commit_times) = build(&keys, &validator, true);
    let db = dir.path().join("db");
    let tip = chain.tip().height.0;
    let with_ms = median(commit_times).as_secs_f64() * 1e3;
    println!(
        "with index: {} transfers in {} blocks of up to {BLOCK_TXS}, built in {:.1} s; commit (one batch, index included): median {with_ms:.1} ms a block ({:+.1} ms, {:+.0} % for the index)",
        chain.total_txs(),
        tip,
        t.elapsed().as_secs_f64(),
        with_ms - plain_ms,
        (with_ms / plain_ms - 1.0) * 100.0
    );

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let ctx = Arc::new(node::rpc::RpcContext {
        chain: chain.clone(),
        validator: None,
        moniker: "bench".into(),
        block_interval: Duration::from_millis(1000),
        max_commit_wait: Duration::from_millis(10),
        net: None,
        consensus: None,
        query_slots: Arc::new(tokio::sync::Semaphore::new(node::rpc::MAX_CONCURRENT_QUERIES)),
        admission: node::admission::Admission::start(chain.clone()),
        max_batch: 100,
    });
    let module = node::rpc_server::api(ctx, &Default::default()).expect("module");
    let call = |method: &str, params: Value| -> Value {
        let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
        let (resp, _) = rt.block_on(module.raw_json_request(&req, 1)).expect("response");
        let v: Value = serde_json::from_str(resp.get()).expect("json");
        assert!(v.get("result").is_some(), "{method}: {v}");
        v["result"].clone()
    };
    let time = |label: &str, method: &str, params: Value, count: &dyn Fn(&Value) -> usize| {
        let mut runs = Vec::with_capacity(RUNS);
        let mut n = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = call(method, params.clone());
            runs.push(t.elapsed());
            n = count(&r);
        }
        println!("{label}: median {:.3} ms ({n} items a call, {RUNS} calls)", median(runs).as_secs_f64() * 1e3);
    };
    let txs = |r: &Value| r["txs"].as_array().map_or(0, Vec::len);
    let events = |r: &Value| r["events"].as_array().map_or(0, Vec::len);

    let hot = recipient(7).to_string();
    time(
        "txsByAddress, a recipient of 1,000 txs, first page of 100 (newest first)",
        "agora_txsByAddress",
        json!({ "address": hot, "limit": 100 }),
        &txs,
    );
    // A deep page: walk 9 pages by cursor, then time the 10th.
    let mut cursor = Value::Null;
    for _ in 0..9 {
        cursor = call("agora_txsByAddress", json!({ "address": hot, "limit": 100, "cursor": cursor }))["next_cursor"]
            .clone();
    }
    time(
        "txsByAddress, same recipient, 10th page of 100 by cursor",
        "agora_txsByAddress",
        json!({ "address": hot, "limit": 100, "cursor": cursor }),
        &txs,
    );
    time(
        "txsByAddress, a sender of 50 txs, role sent",
        "agora_txsByAddress",
        json!({ "address": PublicKey::from_signing_key(&keys[11]).address().to_string(), "role": "sent", "limit": 100 }),
        &txs,
    );
    let range = json!([1, tip]);
    time(
        "searchEvents kind=transfer over the whole chain, first page of 100",
        "agora_searchEvents",
        json!({ "kind": "transfer", "from_height": range[0], "to_height": range[1], "limit": 100 }),
        &events,
    );
    time(
        "searchEvents kind=transfer with attribute to=<one of 100 recipients> (1 % match, scan budget 10,000 rows)",
        "agora_searchEvents",
        json!({ "kind": "transfer", "attributes": [{ "key": "to", "value": hot }], "from_height": range[0],
                "to_height": range[1], "limit": 100 }),
        &events,
    );
    time(
        "searchEvents kind=rewards (one block event per block) over the whole chain",
        "agora_searchEvents",
        json!({ "kind": "rewards", "from_height": range[0], "to_height": range[1], "limit": 100 }),
        &events,
    );

    // 100 headers of 1000-transaction blocks: decoded from the front of each
    // stored block (the RPC), against decoding the whole blocks.
    let hdr_to = tip.min(100);
    time(
        "headers 1..=100 (1,000-tx blocks) over RPC, header prefix only",
        "agora_headers",
        json!({ "from": 1, "to": hdr_to }),
        &|r: &Value| r.as_array().map_or(0, Vec::len),
    );
    let mut runs = Vec::with_capacity(RUNS / 5);
    for _ in 0..RUNS / 5 {
        let t = Instant::now();
        for h in 1..=hdr_to {
            let b = chain.store().block(ledger::Height(h)).expect("read").expect("stored");
            std::hint::black_box((b.hash(), b.txs.len()));
        }
        runs.push(t.elapsed());
    }
    println!(
        "the same 100 headers by decoding whole blocks (the former way): median {:.3} ms",
        median(runs).as_secs_f64() * 1e3
    );

    chain.store().flush().expect("flush");
    let index = chain.store().index_disk_bytes().expect("size");
    let whole = dir_bytes(&db);
    println!(
        "index on disk: {:.1} MiB ({:.0} bytes a transaction); whole database: {:.1} MiB ({:.0} bytes a transaction; {:.0} without the index)",
        index as f64 / (1024.0 * 1024.0),
        index as f64 / chain.total_txs().max(1) as f64,
        whole as f64 / (1024.0 * 1024.0),
        whole as f64 / chain.total_txs().max(1) as f64,
        plain_bytes as f64 / n
    );
}
