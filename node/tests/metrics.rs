//! Prometheus metrics of a real 4-validator network after some transfers:
//! each node's metrics port serves an exposition that the strict parser
//! (`testnet::prom`) and, where it is installed, `promtool check metrics`
//! accept, with sane values; the RPC port no longer serves `/metrics`; and a
//! client calling made-up method names cannot add labels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

mod common;

use common::net::{call, start_net, wait_all};
use ledger::PublicKey;
use serde_json::json;
use testnet::prom;

const CHAIN: &str = "agora-metrics";

fn promtool() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join("promtool"))
        .find(|p| p.is_file())
}

#[test]
fn every_node_serves_sane_metrics_on_its_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let net = start_net(dir.path(), CHAIN, 200);
    wait_all(&net, &[0, 1, 2, 3], 3, 60);

    // Transfers through different nodes, plus refused ones (bad nonce).
    let keys = net.load_keys();
    let to = PublicKey::from_signing_key(&keys[15]).address();
    let mut last = 0;
    for (n, k) in keys.iter().take(8).enumerate() {
        let tx = common::transfer_hex_on(CHAIN, k, 0, to, 1_000);
        let r = call(&net, n % 4, "agora_sendTxCommit", vec![json!(tx), json!(30_000)]).unwrap();
        last = last.max(r["height"].as_u64().unwrap());
    }
    let stale = common::transfer_hex_on(CHAIN, &keys[0], 0, to, 1_000);
    assert!(call(&net, 0, "agora_sendTx", vec![json!(stale)]).is_err());
    // Made-up method names: counted under `unknown`, never as labels.
    for i in 0..50 {
        assert!(call(&net, 0, &format!("agora_madeUp{i}"), vec![]).is_err());
    }
    wait_all(&net, &[0, 1, 2, 3], last + 2, 30);

    for i in 0..4 {
        let url = net.metrics_url(i).expect("a metrics port");
        let text = prom::fetch(&url, Duration::from_secs(10)).unwrap();
        let m = prom::parse(&text).unwrap_or_else(|e| panic!("node{i}: {e:#}\n{text}"));
        // What Prometheus itself asks for: OpenMetrics, the same series.
        let om = prom::fetch_as(&url, prom::OPENMETRICS, Duration::from_secs(10)).unwrap();
        assert!(om.ends_with("# EOF\n"), "node{i}: not OpenMetrics");
        let m2 = prom::parse(&om).unwrap_or_else(|e| panic!("node{i} (OpenMetrics): {e:#}\n{om}"));
        assert_eq!(m2.families.len(), m.families.len(), "node{i}");
        let v = |name: &str| m.value(name, &[]).unwrap_or_else(|| panic!("node{i}: no {name}\n{text}"));
        assert!(v("agora_consensus_height") >= (last + 1) as f64, "node{i}\n{text}");
        assert!(v("agora_consensus_total_txs") >= 8.0, "node{i}");
        assert_eq!(v("agora_consensus_validators"), 4.0, "node{i}");
        assert_eq!(v("agora_consensus_validators_power"), 4.0 * testnet::setup::DEFAULT_POWER as f64);
        assert_eq!(v("agora_consensus_validator_power"), testnet::setup::DEFAULT_POWER as f64);
        assert!(v("agora_consensus_missing_validators") <= 1.0, "node{i}");
        assert_eq!(v("agora_p2p_peers"), 3.0, "node{i}");
        assert_eq!(v("agora_consensus_syncing"), 0.0, "node{i}");
        assert!(v("agora_mempool_size") >= 0.0);
        assert!(m.sum("agora_p2p_message_receive_bytes_total") > 0.0, "node{i}: no gossip counted");
        assert!(m.value("agora_p2p_message_send_bytes_total", &[("topic", "consensus")]).unwrap() > 0.0);
        let intervals = v("agora_consensus_block_interval_seconds_count");
        assert!(intervals >= 2.0, "node{i}: {intervals} intervals");
        let mean = v("agora_consensus_block_interval_seconds_sum") / intervals;
        assert!(mean > 0.05 && mean < 5.0, "node{i}: mean block interval {mean}s");
        assert!(m.value("agora_rpc_requests_total", &[("method", "agora_status")]).unwrap() >= 1.0);
        // Every height this node committed wrote its block once.
        let writes = m.value("agora_block_phase_total", &[("phase", "commit_write")]).unwrap();
        assert!(writes >= last as f64, "node{i}: {writes} commit writes");
        assert!(m.value("agora_block_phase_seconds_total", &[("phase", "commit_write")]).unwrap() > 0.0);
        assert!(m.value("agora_block_phase_total", &[("phase", "notify")]).unwrap() >= writes);
        for name in [
            "agora_consensus_rounds",
            "agora_consensus_num_txs",
            "agora_consensus_byzantine_validators",
            "agora_consensus_validator_missed_blocks_total",
            "agora_vm_gas_used_total",
            "agora_vm_calls_total",
            "agora_vm_module_cache_misses_total",
            "agora_consensus_equivocations_total",
        ] {
            assert!(v(name) >= 0.0, "{name}");
        }
        // No label values beyond the registered methods, `unknown` and `batch`.
        assert!(!text.contains("madeUp"), "node{i}: a made-up method became a label");
        if let Some(promtool) = promtool() {
            let mut child = std::process::Command::new(&promtool)
                .args(["check", "metrics"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "node{i}: promtool check metrics: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            println!("promtool not installed: checked with the strict parser only");
        }
    }
    // node0 took the refused transaction and the made-up calls.
    let m = prom::scrape(&net.metrics_url(0).unwrap(), Duration::from_secs(10)).unwrap();
    assert!(m.sum("agora_mempool_failed_txs_total") >= 1.0);
    assert!(m.value("agora_rpc_requests_total", &[("method", "unknown")]).unwrap() >= 50.0);
    assert!(m.value("agora_rpc_request_errors_total", &[("method", "unknown")]).unwrap() >= 50.0);
    assert!(m.value("agora_rpc_requests_total", &[("method", "agora_sendTxCommit")]).unwrap() >= 2.0);
    let p50 = m.histogram_quantile("agora_rpc_request_duration_seconds", &[("method", "agora_status")], 0.5);
    assert!(p50.is_some());
    // The RPC port serves JSON-RPC only.
    let (code, _) = get(&net.rpc_url(0), "/metrics");
    assert_ne!(code, 200);
}

fn get(url: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    (out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), out)
}
