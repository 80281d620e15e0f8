//! An RPC flood against one validator of a real 4-validator network (one
//! `agorad` process each), while blocks keep coming: big batches, WebSocket
//! call storms, many subscriptions, slow consumers that never read, batches
//! and subscriptions over the limits. The limits answer with their errors
//! (batch too large, too many subscriptions, HTTP 429, WebSocket 1016) and
//! block production goes on: heights advance, no interval exceeds a generous
//! bound, and the flooded validator keeps signing. Quiet and flooded block
//! rates and intervals are printed (figures, not assertions: the machine is
//! shared).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::net::{call, create_net, wait_all};
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHAIN: &str = "agora-flood";
const INTERVAL_MS: u64 = 300;
/// node0's batch limit and subscription limit in this test.
const MAX_BATCH: usize = 50;
const MAX_SUBS: usize = 8;

/// Sets `[rpc]` keys in node `i`'s config.toml.
fn set_rpc(net: &testnet::Testnet, i: usize, set: &[(&str, toml::Value)]) {
    let path = net.home(i).join("config.toml");
    let mut t: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let rpc = t.entry("rpc").or_insert_with(|| toml::Value::Table(toml::Table::new())).as_table_mut().unwrap();
    for (k, v) in set {
        match k.split_once('.') {
            Some((table, key)) => {
                let sub =
                    rpc.entry(table).or_insert_with(|| toml::Value::Table(toml::Table::new())).as_table_mut().unwrap();
                sub.insert(key.to_string(), v.clone());
            }
            None => {
                rpc.insert(k.to_string(), v.clone());
            }
        }
    }
    std::fs::write(&path, toml::to_string(&t).unwrap()).unwrap();
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

/// One HTTP/1.1 request (Connection: close): (status, headers+body text).
async fn http(port: u16, method: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<(u16, String)> {
    http_at(port, method, "/", headers, body).await
}

async fn http_at(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .map_err(|_| std::io::Error::other("timed out"))??;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, text))
}

fn batch_body(n: usize) -> String {
    let calls: Vec<Value> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                json!({"jsonrpc": "2.0", "id": i, "method": "agora_status", "params": []})
            } else {
                json!({"jsonrpc": "2.0", "id": i, "method": "agora_getBlock", "params": ["latest"]})
            }
        })
        .collect();
    serde_json::to_string(&calls).unwrap()
}

/// A WebSocket client that subscribes and then never reads a byte: the
/// server's per-connection buffer fills and it must apply backpressure to
/// this connection alone.
async fn slow_consumer(port: u16, subs: usize) -> std::io::Result<tokio::net::TcpStream> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    for i in 0..subs {
        let method = if i % 2 == 0 { "agora_subscribeNewBlocks" } else { "agora_subscribeEvents" };
        let params = if i % 2 == 0 { json!([]) } else { json!([{}]) };
        let msg = json!({"jsonrpc": "2.0", "id": i, "method": method, "params": params}).to_string();
        s.write_all(&ws_frame(msg.as_bytes())).await?;
    }
    Ok(s)
}

/// A masked client text frame.
fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut f = vec![0x81];
    if payload.len() < 126 {
        f.push(0x80 | payload.len() as u8);
    } else {
        f.push(0x80 | 126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// (height, header time ms) of blocks `from..=to` as node `i` serves them.
fn block_times(net: &testnet::Testnet, i: usize, from: u64, to: u64) -> Vec<(u64, u64)> {
    (from..=to)
        .map(|h| {
            let b = call(net, i, "agora_getBlock", vec![json!(h), json!(false)]).unwrap();
            (h, b["header"]["time_ms"].as_u64().unwrap())
        })
        .collect()
}

/// (blocks/s, p50 interval s, max interval s) over the blocks.
fn figures(times: &[(u64, u64)]) -> (f64, f64, f64) {
    let mut gaps: Vec<u64> = times.windows(2).map(|w| w[1].1.saturating_sub(w[0].1)).collect();
    gaps.sort_unstable();
    let span = times.last().unwrap().1.saturating_sub(times[0].1) as f64 / 1000.0;
    let rate = if span > 0.0 { (times.len() - 1) as f64 / span } else { 0.0 };
    (rate, gaps[gaps.len() / 2] as f64 / 1000.0, *gaps.last().unwrap() as f64 / 1000.0)
}

#[derive(Default)]
struct Tally {
    batch_ok: AtomicU64,
    batch_calls: AtomicU64,
    ws_calls: AtomicU64,
    over_batch_refused: AtomicU64,
    over_subs_refused: AtomicU64,
    subs_ok: AtomicU64,
    notifications: AtomicU64,
    errors: AtomicU64,
}

#[test]
fn rpc_flood_does_not_stop_block_production() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = create_net(dir.path(), CHAIN, INTERVAL_MS);
    // node0: the flooded one (loopback exempt from the rate limit, so the
    // flood reaches the handlers); node1: a strict rate limit and CORS.
    set_rpc(
        &net,
        0,
        &[
            ("max_batch", toml::Value::Integer(MAX_BATCH as i64)),
            ("max_subscriptions_per_connection", toml::Value::Integer(MAX_SUBS as i64)),
        ],
    );
    set_rpc(
        &net,
        1,
        &[
            ("rate_limit_exempt_loopback", toml::Value::Boolean(false)),
            ("rate_limit_per_ip.per_second", toml::Value::Integer(20)),
            ("rate_limit_per_ip.burst", toml::Value::Integer(40)),
            ("cors_allowed_origins", toml::Value::Array(vec![toml::Value::String("http://explorer.test".into())])),
        ],
    );
    // node3 shows network addresses in agora_networkInfo (the others do not).
    set_rpc(&net, 3, &[("expose_peer_addresses", toml::Value::Boolean(true))]);
    net.start_all().expect("start");
    wait_all(&net, &[0, 1, 2, 3], 3, 60);

    // --- Quiet: the block interval without load (read from node2). ---------
    let q0 = net.height(2).unwrap();
    std::thread::sleep(Duration::from_secs(8));
    let q1 = net.height(2).unwrap();
    let quiet = block_times(&net, 2, q0, q1);
    let (quiet_rate, quiet_p50, quiet_max) = figures(&quiet);

    // --- node1's limits: HTTP 429, WebSocket 1016, CORS preflight. --------
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let p1 = port_of(&net.rpc_url(1));
    rt.block_on(async {
        let status = json!({"jsonrpc": "2.0", "id": 1, "method": "agora_status", "params": []}).to_string();
        let mut codes = std::collections::BTreeMap::new();
        for _ in 0..100 {
            let (code, _) = http(p1, "POST", &[], &status).await.unwrap();
            *codes.entry(code).or_insert(0) += 1;
        }
        assert!(codes.get(&200).copied().unwrap_or(0) >= 40, "{codes:?}");
        assert!(codes.get(&429).copied().unwrap_or(0) >= 1, "no HTTP 429 from a strict rate limit: {codes:?}");
        // Preflight from an allowed origin, and from another one.
        let (code, text) =
            http(p1, "OPTIONS", &[("Origin", "http://explorer.test"), ("Access-Control-Request-Method", "POST")], "")
                .await
                .unwrap();
        if code != 429 {
            assert_eq!(code, 204, "{text}");
            assert!(text.to_ascii_lowercase().contains("access-control-allow-origin: http://explorer.test"), "{text}");
        }
        let (code, _) =
            http(p1, "OPTIONS", &[("Origin", "http://evil.test"), ("Access-Control-Request-Method", "POST")], "")
                .await
                .unwrap();
        assert!(code == 403 || code == 429, "{code}");
        // WebSocket calls past the limit: error 1016.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let ws = WsClientBuilder::default().build(&format!("ws://127.0.0.1:{p1}")).await.unwrap();
        let mut limited = 0;
        for _ in 0..100 {
            if let Err(jsonrpsee::core::client::Error::Call(e)) =
                ws.request::<Value, _>("agora_status", rpc_params![]).await
            {
                assert_eq!(e.code(), rpc_api::codes::RATE_LIMITED, "{e:?}");
                limited += 1;
            }
        }
        assert!(limited >= 1, "no WebSocket call was rate limited");
        drop(ws);
        // The per-IP connection cap (default 32; node1 does not exempt
        // loopback): past it, connections are closed as soon as accepted.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut held = Vec::new();
        for _ in 0..40 {
            held.push(tokio::net::TcpStream::connect(("127.0.0.1", p1)).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut open = 0;
        for s in &mut held {
            let mut b = [0u8; 16];
            match tokio::time::timeout(Duration::from_millis(50), s.read(&mut b)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {}
                _ => open += 1,
            }
        }
        assert!((24..=32).contains(&open), "{open} of 40 connections from one address stayed open (cap 32)");
    });
    // Network addresses: hidden by default (node0), shown when configured (node3).
    let hidden = call(&net, 0, "agora_networkInfo", vec![]).unwrap();
    let shown = call(&net, 3, "agora_networkInfo", vec![]).unwrap();
    let peers = |v: &Value| v["peers"].as_array().cloned().unwrap_or_default();
    assert!(!peers(&hidden).is_empty() && !peers(&shown).is_empty(), "{hidden} {shown}");
    assert!(peers(&hidden).iter().all(|p| p["address"].is_null() && p["peer_id"].is_string()), "{hidden}");
    assert_eq!(hidden["listen_addrs"], json!([]), "{hidden}");
    assert!(peers(&shown).iter().all(|p| p["address"].as_str().is_some_and(|a| a.starts_with("/ip4/"))), "{shown}");
    assert!(!shown["listen_addrs"].as_array().unwrap().is_empty(), "{shown}");

    // --- The flood on node0. ----------------------------------------------
    let p0 = port_of(&net.rpc_url(0));
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let f0 = net.height(2).unwrap();
    let flood_start = Instant::now();
    let mut tasks = Vec::new();
    let mut slow = Vec::new();
    rt.block_on(async {
        // Slow consumers: subscribed, never read.
        for _ in 0..16 {
            match slow_consumer(p0, MAX_SUBS).await {
                Ok(s) => slow.push(s),
                Err(_) => {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    // Big batches over HTTP, at the limit.
    for _ in 0..4 {
        let (t, stop) = (tally.clone(), stop.clone());
        tasks.push(rt.spawn(async move {
            let body = batch_body(MAX_BATCH);
            while !stop.load(Ordering::Relaxed) {
                match http(p0, "POST", &[], &body).await {
                    Ok((200, text)) if text.contains("latest_height") => {
                        t.batch_ok.fetch_add(1, Ordering::Relaxed);
                        t.batch_calls.fetch_add(MAX_BATCH as u64, Ordering::Relaxed);
                    }
                    _ => {
                        t.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // Batches over the limit: refused whole.
    {
        let (t, stop) = (tally.clone(), stop.clone());
        tasks.push(rt.spawn(async move {
            let body = batch_body(MAX_BATCH + 1);
            while !stop.load(Ordering::Relaxed) {
                if let Ok((_, text)) = http(p0, "POST", &[], &body).await {
                    let refused = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str::<Value>(b).ok());
                    match refused {
                        Some(v) if v["error"]["code"].as_i64().is_some() && !text.contains("latest_height") => {
                            t.over_batch_refused.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            t.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    // WebSocket call storms, and subscriptions to the limit and one more.
    for _ in 0..3 {
        let (t, stop) = (tally.clone(), stop.clone());
        tasks.push(rt.spawn(async move {
            let ws = Arc::new(
                WsClientBuilder::default()
                    .max_concurrent_requests(64)
                    .build(&format!("ws://127.0.0.1:{p0}"))
                    .await
                    .unwrap(),
            );
            let mut subs = Vec::new();
            for i in 0..=MAX_SUBS {
                let s = ws
                    .subscribe::<Value, _>("agora_subscribeNewBlocks", rpc_params![], "agora_unsubscribeNewBlocks")
                    .await;
                match (i < MAX_SUBS, s) {
                    (true, Ok(s)) => {
                        t.subs_ok.fetch_add(1, Ordering::Relaxed);
                        subs.push(s);
                    }
                    (false, Err(_)) => {
                        t.over_subs_refused.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        t.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            let reader = {
                let t = t.clone();
                tokio::spawn(async move {
                    let mut all = futures::stream::select_all(subs);
                    while let Some(n) = futures::StreamExt::next(&mut all).await {
                        if n.is_ok() {
                            t.notifications.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            };
            while !stop.load(Ordering::Relaxed) {
                let calls = (0..32).map(|_| {
                    let ws = ws.clone();
                    async move { ws.request::<Value, _>("agora_status", rpc_params![]).await }
                });
                for r in futures::future::join_all(calls).await {
                    if r.is_ok() {
                        t.ws_calls.fetch_add(1, Ordering::Relaxed);
                    } else {
                        t.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // jsonrpsee's client batches, at the limit.
                let mut b = BatchRequestBuilder::new();
                for _ in 0..MAX_BATCH {
                    b.insert("agora_status", rpc_params![]).unwrap();
                }
                if ws.batch_request::<Value>(b).await.is_ok() {
                    t.ws_calls.fetch_add(MAX_BATCH as u64, Ordering::Relaxed);
                }
            }
            reader.abort();
        }));
    }
    // Block production meanwhile, from node2 and node0's metrics port.
    let flood_for = Duration::from_secs(20);
    let mut node0_heights = Vec::new();
    while flood_start.elapsed() < flood_for {
        std::thread::sleep(Duration::from_secs(2));
        let m = testnet::prom::scrape(&net.metrics_url(0).unwrap(), Duration::from_secs(10));
        node0_heights.push(m.ok().and_then(|m| m.value("agora_consensus_height", &[])).unwrap_or(0.0) as u64);
    }
    // Health as a load balancer sees it, on the flooded node.
    let (health_code, health_text) = rt.block_on(http_at(p0, "GET", "/health", &[], "")).expect("GET /health on node0");
    let f1 = net.height(2).unwrap();
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
        }
    });
    drop(slow);
    let elapsed = flood_start.elapsed().as_secs_f64();
    let flooded = block_times(&net, 2, f0, f1);
    let (flood_rate, flood_p50, flood_max) = figures(&flooded);

    // Did node0 keep signing during the flood? (its precommits in the commits)
    let node0_key = net.node(0).validator_key.clone();
    let (mut signed, mut total) = (0, 0);
    for h in (f0 + 1)..=f1 {
        let b = call(&net, 2, "agora_getBlock", vec![json!(h), json!(false)]).unwrap();
        if let Some(sigs) = b["last_commit"]["signatures"].as_array() {
            total += 1;
            if sigs.iter().any(|s| s["validator"].as_str() == Some(node0_key.as_str())) {
                signed += 1;
            }
        }
    }
    let t = &tally;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!("rpc flood on node0 for {elapsed:.1}s (4 validators, {INTERVAL_MS} ms interval):");
    println!(
        "  quiet:   {:>3} blocks, {quiet_rate:.2} blocks/s, p50 interval {quiet_p50:.3}s, max {quiet_max:.3}s",
        quiet.len() - 1
    );
    println!(
        "  flooded: {:>3} blocks, {flood_rate:.2} blocks/s, p50 interval {flood_p50:.3}s, max {flood_max:.3}s",
        flooded.len() - 1
    );
    println!(
        "  node0 signed {signed}/{total} flooded blocks; node0 heights (metrics port, every 2s): {node0_heights:?}"
    );
    println!(
        "  load: {} HTTP batches ({} calls), {} WS calls, {:.0} calls/s; {} subscriptions, {} notifications read; 16 slow consumers x {MAX_SUBS} subscriptions",
        get(&t.batch_ok),
        get(&t.batch_calls),
        get(&t.ws_calls),
        (get(&t.batch_calls) + get(&t.ws_calls)) as f64 / elapsed,
        get(&t.subs_ok),
        get(&t.notifications)
    );
    println!(
        "  limits: {} over-limit batches refused, {} over-limit subscriptions refused; {} other errors",
        get(&t.over_batch_refused),
        get(&t.over_subs_refused),
        get(&t.errors)
    );

    println!("  GET /health on node0 during the flood: {health_code}");
    assert_eq!(health_code, 200, "{health_text}");
    assert!(health_text.contains(r#""status":"ok""#), "{health_text}");
    // The limits answered.
    assert!(get(&t.batch_ok) > 0, "no batch at the limit was served");
    assert!(get(&t.over_batch_refused) > 0, "over-limit batches were not refused");
    assert_eq!(get(&t.over_subs_refused), 3, "each connection's subscription past the limit must be refused");
    assert_eq!(get(&t.subs_ok), 3 * MAX_SUBS as u64);
    // Blocks kept coming (generous bounds: the machine is shared).
    assert!(f1 >= f0 + 5, "only {} blocks in {elapsed:.0}s of flood", f1 - f0);
    assert!(flood_max < 10.0, "a block interval of {flood_max}s during the flood");
    assert!(node0_heights.windows(2).any(|w| w[1] > w[0]), "node0 stopped committing: {node0_heights:?}");
    // The flooded node still answers and is at the tip.
    let h2 = net.height(2).unwrap();
    net.wait_for_height(0, h2, Duration::from_secs(30)).unwrap();
    assert!(signed * 2 >= total, "node0 signed only {signed}/{total} blocks during the flood");
}
