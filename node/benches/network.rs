//! Figures for the 4-validator network on this machine (run:
//! `cargo bench -p node --bench network`). Real `agorad` processes on
//! loopback, synced RocksDB, libp2p gossip between them:
//!
//! 1. Empty heights: validators with no pause between heights
//!    (`consensus.block_interval = "0s"` in each config.toml); reports the
//!    time per height (consensus + signing + WAL/guard syncs + commit).
//! 2. Load: signed transfers over JSON-RPC to all four nodes at a target rate;
//!    reports committed tx/s and submit→commit latency (p50/p99).
//!
//! Environment: `NET_VALIDATORS` (4), `NET_EMPTY_SECS` (10), `NET_LOAD_TPS`
//! (12000), `NET_LOAD_SECS` (20), `NET_INTERVAL_MS` (block interval under
//! load, 100), `NET_SKIP_EMPTY` / `NET_SKIP_LOAD`, `NET_AGORAD` (another
//! `agorad` to run, for before/after figures with the same bench).

use std::path::Path;
use std::time::{Duration, Instant};

use testnet::{Spec, Testnet};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn set_interval_override(home: &Path, interval: &str) {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).expect("config.toml");
    let mut table: toml::Table = text.parse().expect("config.toml parses");
    let consensus = table
        .entry("consensus")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .expect("table");
    consensus.insert("block_interval".into(), toml::Value::String(interval.into()));
    std::fs::write(&path, toml::to_string(&table).expect("toml")).expect("write config");
}

fn make_net(dir: &Path, validators: usize, interval_ms: u64, accounts: usize) -> testnet::OwnedTestnet {
    let agorad = std::env::var_os("NET_AGORAD")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_agorad").into());
    let mut spec = Spec::new(dir, agorad);
    spec.validators = validators;
    spec.dev_accounts = 0;
    spec.load_accounts = accounts;
    spec.block_interval = Duration::from_millis(interval_ms.max(10));
    let mut net = Testnet::create(&spec).expect("create testnet").owned();
    if interval_ms < 10 {
        for i in 0..validators {
            set_interval_override(&net.home(i), &format!("{interval_ms}ms"));
        }
    }
    net.start_all().expect("start");
    net.wait_for_height_all(2, Duration::from_secs(60)).expect("first blocks");
    net
}

fn main() {
    let validators = env_or("NET_VALIDATORS", 4) as usize;
    let dir = tempfile::tempdir().expect("tempdir");

    if std::env::var_os("NET_SKIP_EMPTY").is_none() {
        let secs = env_or("NET_EMPTY_SECS", 10);
        let net = make_net(&dir.path().join("empty"), validators, 0, 4);
        let h0 = net.height(0).expect("height");
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(secs));
        let h1 = net.height(0).expect("height");
        let elapsed = t0.elapsed().as_secs_f64();
        let heights = h1 - h0;
        let report = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
            let client = testnet::rpc::client(&net.rpc_url(0), Duration::from_secs(10)).expect("client");
            testnet::report::scan(&client, Some(h0 + 1), Some(h1)).await.expect("scan")
        });
        println!(
            "empty heights: {validators} validators, no pause between heights: {heights} heights in {elapsed:.1} s = {:.1} ms per height ({:.0} heights/s); decided in round > 0: {} of {}",
            elapsed * 1000.0 / heights.max(1) as f64,
            heights as f64 / elapsed,
            report.late_rounds,
            report.rounds_known,
        );
        drop(net);
    }

    if std::env::var_os("NET_SKIP_LOAD").is_none() {
        let tps = env_or("NET_LOAD_TPS", 12_000);
        let secs = env_or("NET_LOAD_SECS", 20);
        let interval = env_or("NET_INTERVAL_MS", 100);
        let net = make_net(&dir.path().join("load"), validators, interval, 2048);
        let opts =
            testnet::load::LoadOptions { tps, duration: Duration::from_secs(secs), batch: 100, ..Default::default() };
        let report = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(testnet::load::run(&net, &opts))
            .expect("load run");
        println!("load: {validators} validators, block interval {interval} ms");
        print!("{report}");
    }
}
