//! Compact proposals on a real 4-validator testnet: proposals travel with
//! their transactions named by hash, and a validator whose mempool does not
//! hold them asks the proposer, then votes for the block like the others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

mod common;

use common::net::{assert_no_double_signs, assert_same_chain, call, create_net, height, wait_all};
use ledger::Address;
use serde_json::json;

const CHAIN: &str = "agora-compact-e2e";

fn compact(net: &testnet::Testnet, i: usize, outcome: &str) -> f64 {
    let url = net.metrics_url(i).unwrap();
    let m = testnet::prom::scrape(&url, Duration::from_secs(5)).unwrap();
    m.value("agora_consensus_compact_proposals_total", &[("outcome", outcome)]).unwrap_or(0.0)
}

#[test]
fn a_validator_lacking_the_transactions_fetches_them_from_the_proposer() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = create_net(dir.path(), CHAIN, 200);
    // node3's mempool holds 2 transactions: it refuses nearly all the
    // gossiped ones, so the others' proposals name transactions it lacks.
    let cfg_path = net.home(3).join("config.toml");
    let mut cfg: toml::Table = std::fs::read_to_string(&cfg_path).unwrap().parse().unwrap();
    let mempool = cfg.get_mut("mempool").and_then(|v| v.as_table_mut()).unwrap();
    mempool.insert("max_txs".into(), toml::Value::Integer(2));
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    net.start_all().unwrap();
    wait_all(&net, &[0, 1, 2, 3], 3, 60);
    // A validator that starts late on a loaded machine may sync the first
    // blocks; what counts is that it needs no sync once transactions flow.
    let synced_at_start = net.status(3).unwrap().synced_blocks;

    // 16 accounts × 4 transfers, all sent to node0 (they reach node1 and
    // node2 by gossip; node3 keeps at most 2).
    let to = Address([0x42; 20]);
    let mut hashes = Vec::new();
    for nonce in 0..4u64 {
        for k in net.load_keys() {
            let hex = common::transfer_hex_on(CHAIN, &k, nonce, to, 1);
            let h = call(&net, 0, "agora_sendTx", vec![json!(hex)]).unwrap();
            hashes.push(h.as_str().or_else(|| h["hash"].as_str()).expect("a tx hash").to_owned());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for h in &hashes {
        while call(&net, 3, "agora_getTx", vec![json!(h)]).unwrap().is_null() {
            assert!(Instant::now() < deadline, "{h} was not committed");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let h = height(&net, 0);
    wait_all(&net, &[0, 1, 2, 3], h + 2, 60);
    assert_same_chain(&net, &[0, 1, 2, 3], h);

    // node3 filled at least one proposal by asking for what it lacked, and
    // committed the blocks with the others (no block sync was needed).
    assert!(compact(&net, 3, "fetched") >= 1.0, "node3 fetched no transactions");
    assert_eq!(net.status(3).unwrap().synced_blocks, synced_at_start, "node3 fell back to block sync");
    // The others fill proposals from their mempools (they may still fetch a
    // transaction the proposer admitted a moment before it built).
    for i in 0..3 {
        assert!(compact(&net, i, "filled") >= 1.0, "node{i} filled no compact proposal");
    }
    // And node3 voted for those blocks rather than nil: its signature log
    // holds a precommit for at least one of them. (Not the certificates: a
    // certificate holds the first > 2/3 precommits, and node3, which fetches
    // first, is often the last.)
    let me = net.status(3).unwrap().validator.expect("node3 validates").to_string();
    let signed = std::fs::read_to_string(net.home(3).join("signatures.jsonl")).unwrap();
    let precommits: Vec<serde_json::Value> = signed
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["step"] == "precommit")
        .collect();
    let mut voted = 0;
    for hh in 1..=h {
        let b = call(&net, 0, "agora_getBlock", vec![json!(hh)]).unwrap();
        let txs = b["txs"].as_array().map_or(0, Vec::len);
        let proposer = b["header"]["proposer"].as_str().unwrap_or_default().to_owned();
        let hash = b["hash"].as_str().unwrap_or_default().to_owned();
        if txs > 2 && proposer != me && precommits.iter().any(|p| p["height"] == hh && p["value"] == hash.as_str()) {
            voted += 1;
        }
    }
    assert!(voted >= 1, "node3 ({me}) precommitted none of the blocks it had to fill");
    assert_no_double_signs(&net);
}
