//! End-to-end load figures (run: `cargo bench -p node --bench rpc_load`):
//! starts a real `agorad` on loopback with synced RocksDB writes, sends signed
//! transfers from many funded accounts over JSON-RPC from concurrent clients,
//! and reports admitted tx/s, committed tx/s (from the blocks themselves) and
//! the latency from submission to commit (p50/p99 of `agora_sendTxCommit`).
//! Environment: `LOAD_TXS` (default 20000), `LOAD_CLIENTS` (default 16),
//! `LOAD_INTERVAL` (block interval, default 200ms), `LOAD_BATCH` (sendTx calls
//! per JSON-RPC batch request, default 50; 1 = one HTTP request per tx).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use serde_json::Value;

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total = env_or("LOAD_TXS", 20_000) as usize;
    let clients = env_or("LOAD_CLIENTS", 16) as usize;
    let interval = std::env::var("LOAD_INTERVAL").unwrap_or_else(|_| "200ms".into());
    let batch = env_or("LOAD_BATCH", 50).max(1) as usize;
    let accounts = clients * 64;
    let keys: Vec<SigningKey> = (0..accounts)
        .map(|i| {
            let mut s = [7u8; 32];
            s[..8].copy_from_slice(&(i as u64).to_le_bytes());
            SigningKey::from_bytes(&s)
        })
        .collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("node");
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mut init = Command::new(env!("CARGO_BIN_EXE_agorad"));
    init.args(["init", "--home"]).arg(&home).args(["--chain-id", "load", "--block-interval", &interval]);
    init.args(["--p2p-listen", "/ip4/127.0.0.1/tcp/0"]);
    for k in &keys {
        init.arg("--fund").arg(format!("{}=1000000000000", PublicKey::from_signing_key(k).address()));
    }
    assert!(init.status().expect("agorad init").success());
    let _node = Kill(
        Command::new(env!("CARGO_BIN_EXE_agorad"))
            .args(["start", "--home"])
            .arg(&home)
            .args(["--rpc-listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("agorad start"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let client =
        Arc::new(HttpClientBuilder::default().request_timeout(Duration::from_secs(120)).build(&url).expect("client"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.request::<Value, _>("agora_status", rpc_params![]).await.is_err() {
        assert!(Instant::now() < deadline, "node did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start_height =
        client.request::<Value, _>("agora_status", rpc_params![]).await.expect("status")["latest_height"]
            .as_u64()
            .expect("height");

    // Sign everything first: the figure is the node's, not the signer's.
    let per_account = total.div_ceil(accounts) as u64;
    let mut work: Vec<Vec<String>> = vec![Vec::new(); clients];
    for n in 0..per_account {
        for (i, k) in keys.iter().enumerate() {
            let body = TxBody {
                chain_id: "load".into(),
                sender: PublicKey::from_signing_key(k),
                nonce: n,
                gas_limit: 10_000,
                gas_price: Amount::new(1),
                payload: Payload::Transfer { to: Address([(i % 200) as u8; 20]), amount: Amount::new(1) },
            };
            work[i % clients].push(hex::encode(body.sign(k).encode()));
        }
    }
    let sent: usize = work.iter().map(Vec::len).sum();

    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (c, txs) in work.into_iter().enumerate() {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // JSON-RPC batches of up to `batch` sendTx calls; the first tx of every
            // 10th batch (even clients) is sent alone with sendTxCommit instead:
            // the latency sample.
            for (j, chunk) in txs.chunks(batch).enumerate() {
                let mut rest = chunk;
                if j % 10 == 0 && c % 2 == 0 {
                    let t = Instant::now();
                    if client.request::<Value, _>("agora_sendTxCommit", rpc_params![chunk[0].clone()]).await.is_ok() {
                        latencies.push(t.elapsed());
                    }
                    rest = &chunk[1..];
                }
                if rest.is_empty() {
                    continue;
                }
                let mut b = BatchRequestBuilder::new();
                for tx in rest {
                    b.insert("agora_sendTx", rpc_params![tx.clone()]).expect("params");
                }
                let _ = client.batch_request::<Value>(b).await;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("client task"));
    }
    let admitted_in = t0.elapsed();

    // Wait until every transaction is in a block, then count them from the blocks.
    let mut committed = 0usize;
    let mut h = start_height;
    let mut last_commit_at = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    while committed < sent && Instant::now() < deadline {
        let b = client.request::<Value, _>("agora_getBlock", rpc_params![h + 1]).await;
        match b {
            Ok(b) => {
                let n = b["txs"].as_array().map_or(0, Vec::len);
                if n > 0 {
                    committed += n;
                    last_commit_at = t0.elapsed();
                }
                h += 1;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    latencies.sort();
    let pct =
        |p: usize| latencies.get(latencies.len().saturating_sub(1) * p / 100).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    println!(
        "rpc load: {sent} signed transfers from {accounts} accounts over {clients} HTTP clients, JSON-RPC batches of {batch}, block interval {interval}"
    );
    println!("  admitted: {:.0} tx/s ({:.2?})", sent as f64 / admitted_in.as_secs_f64(), admitted_in);
    println!(
        "  committed: {committed} in {} blocks, {:.0} tx/s (first submission to last commit, {:.2?})",
        h - start_height,
        committed as f64 / last_commit_at.as_secs_f64(),
        last_commit_at
    );
    println!("  submit->commit latency over {} samples: p50 {:.0} ms, p99 {:.0} ms", latencies.len(), pct(50), pct(99));
}
