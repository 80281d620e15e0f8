//! The limits on a real RPC server (its own runtime, a loopback port):
//! the per-IP connection cap at accept and for WebSockets, the node-wide
//! subscription cap, `X-Forwarded-For` from trusted and untrusted peers, and
//! `GET /health`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::{ClientT, Error as ClientError, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{RateLimitConfig, RpcConfig};
use crate::rpc::RpcContext;
use crate::rpc_server::{RpcServer, ServeOptions, serve};

const CHAIN: &str = "rpc-test";

/// The data directory comes first: bindings drop in reverse order, so the
/// directory outlives the server and the store (a store closed after its
/// directory was removed writes a new one that nobody removes).
async fn start(cfg: RpcConfig) -> (tempfile::TempDir, RpcServer, u16, Arc<RpcContext>) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = crate::rpc::tests::ctx(dir.path(), 1);
    let opts = ServeOptions { addr: "127.0.0.1:0".parse().unwrap(), metrics: None, thread_stack: 4 << 20 };
    let server = serve(ctx.clone(), &cfg, opts).await.unwrap();
    let port = server.local_addr().port();
    (dir, server, port, ctx)
}

/// One HTTP/1.1 request on its own connection: (status, whole response).
async fn http(port: u16, method_path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut req =
        format!("{method_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    if s.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    (text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}

const STATUS: &str = r#"{"jsonrpc":"2.0","id":1,"method":"agora_status","params":[]}"#;

async fn post(port: u16, headers: &[(&str, &str)]) -> u16 {
    http(port, "POST /", headers, STATUS).await.0
}

/// Did the server close this connection (EOF or reset) within `wait`?
async fn closed(s: &mut TcpStream, wait: Duration) -> bool {
    let mut b = [0u8; 64];
    match tokio::time::timeout(wait, s.read(&mut b)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

/// A raw WebSocket handshake with `headers`: the stream and the status.
async fn ws_handshake(port: u16, headers: &[(&str, &str)]) -> (TcpStream, u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut req = String::from(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return (s, 0);
    }
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut b)).await {
            Ok(Ok(1)) => head.push(b[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (s, status)
}

/// Retries `f` until it is true, for at most 5 s (the server notices a
/// closed connection asynchronously).
async fn eventually<F: AsyncFnMut() -> bool>(mut f: F) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn strict(per_ip: u32) -> RpcConfig {
    RpcConfig {
        rate_limit_exempt_loopback: false,
        max_connections_per_ip: per_ip,
        rate_limit_per_ip: RateLimitConfig { per_second: 10_000, burst: 10_000 },
        ..RpcConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_per_ip_connection_cap_refuses_at_accept_and_gives_places_back() {
    let (_dir, _server, port, _ctx) = start(strict(4)).await;
    // Four idle connections (not a byte sent) hold the address's places.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    // The fifth is closed as soon as it is accepted, before any request.
    let mut fifth = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(closed(&mut fifth, Duration::from_secs(5)).await, "a fifth connection from one address was kept");
    assert_eq!(post(port, &[]).await, 0, "a request on a fifth connection was served");
    for s in &mut idle {
        assert!(!closed(s, Duration::from_millis(100)).await, "a connection within the cap was closed");
    }
    // Closing two gives two places back.
    idle.truncate(2);
    assert!(eventually(async || post(port, &[]).await == 200).await, "no place given back");
    // (that request's connection gives its place back as it ends)
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut a = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut b = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(!closed(&mut a, Duration::from_millis(200)).await && !closed(&mut b, Duration::from_millis(200)).await);
    assert!(closed(&mut c, Duration::from_secs(5)).await);
    drop((idle, a, b, c));

    // WebSockets hold their place for their whole life (after the upgrade,
    // the HTTP connection is gone but the WebSocket is not).
    let url = format!("ws://127.0.0.1:{port}");
    let mut clients: Vec<WsClient> = Vec::new();
    assert!(
        eventually(async || {
            if let Ok(c) = WsClientBuilder::default().build(&url).await {
                clients.push(c);
            }
            clients.len() == 4
        })
        .await
    );
    for c in &clients {
        let _: Value = c.request("agora_status", rpc_params![]).await.unwrap();
    }
    let mut extra = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(closed(&mut extra, Duration::from_secs(5)).await, "4 WebSockets open, yet a fifth connection was kept");
    assert!(WsClientBuilder::default().build(&url).await.is_err());
    // A WebSocket closed: its place is back.
    clients.pop();
    assert!(eventually(async || post(port, &[]).await == 200).await, "a closed WebSocket kept its place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_loopback_exemption_covers_the_connection_cap_only_when_on() {
    let cfg = RpcConfig { max_connections_per_ip: 2, ..RpcConfig::default() };
    let (_dir, _server, port, _ctx) = start(cfg).await;
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    for s in &mut held {
        assert!(!closed(s, Duration::from_millis(100)).await, "an exempt loopback connection was refused");
    }
    assert_eq!(post(port, &[]).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_forwarded_for_from_an_untrusted_peer_is_ignored_and_ends_the_loopback_exemption() {
    // The default: loopback exempt, no trusted proxy. A client (or a
    // same-host proxy nobody listed) sends X-Forwarded-For.
    let cfg = RpcConfig { rate_limit_per_ip: RateLimitConfig { per_second: 1, burst: 3 }, ..RpcConfig::default() };
    let (_dir, _server, port, _ctx) = start(cfg).await;
    // Without the header: exempt, never limited.
    for _ in 0..20 {
        assert_eq!(post(port, &[]).await, 200);
    }
    // With it: limited, and a new spoofed address each time is no new bucket.
    let mut codes = Vec::new();
    for i in 0..10 {
        let spoof = format!("198.51.100.{i}");
        codes.push(post(port, &[("X-Forwarded-For", &spoof)]).await);
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 3, "{codes:?}");
    assert!(codes.iter().skip(3).all(|c| *c == 429), "{codes:?}");
    // Forwarded / X-Real-IP count as going through a proxy too.
    assert_eq!(post(port, &[("X-Real-IP", "198.51.100.77")]).await, 429);
    assert_eq!(post(port, &[("Forwarded", "for=198.51.100.78")]).await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_trusted_proxy_names_the_client_for_the_rate_limit_and_the_connection_cap() {
    let cfg = RpcConfig {
        rate_limit_per_ip: RateLimitConfig { per_second: 1, burst: 2 },
        trusted_proxies: vec!["127.0.0.1".into()],
        max_connections_per_ip: 2,
        ..RpcConfig::default()
    };
    let (_dir, _server, port, _ctx) = start(cfg).await;
    let a = [("X-Forwarded-For", "203.0.113.1")];
    assert_eq!(post(port, &a).await, 200);
    assert_eq!(post(port, &a).await, 200);
    assert_eq!(post(port, &a).await, 429, "the client the proxy names is limited");
    // Another client behind the same proxy has its own bucket.
    assert_eq!(post(port, &[("X-Forwarded-For", "203.0.113.2")]).await, 200);
    // What the client wrote itself (left of what the proxy appended) is ignored.
    for i in 0..5 {
        let spoofed = format!("198.51.100.{i}, 203.0.113.1");
        assert_eq!(post(port, &[("X-Forwarded-For", &spoofed)]).await, 429);
    }
    // The proxy's own requests (no header) are limited under its address:
    // a trusted proxy is never exempt, loopback or not.
    let mut own = Vec::new();
    for _ in 0..5 {
        own.push(post(port, &[]).await);
    }
    assert!(own.contains(&429), "{own:?}");
    // A trusted proxy sending garbage where the client should be.
    assert_eq!(post(port, &[("X-Forwarded-For", "203.0.113.3, not-an-ip")]).await, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_websockets_through_a_trusted_proxy_count_against_their_client() {
    let cfg = RpcConfig { trusted_proxies: vec!["127.0.0.1".into()], ..strict(2) };
    let (_dir, _server, port, _ctx) = start(cfg).await;
    // The proxy's own connections are not capped at accept...
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    for s in &mut idle {
        assert!(!closed(s, Duration::from_millis(100)).await, "a trusted proxy's connection was refused");
    }
    // ...but each WebSocket it forwards holds a place of the client it names.
    let c = [("X-Forwarded-For", "203.0.113.50")];
    let (ws1, s1) = ws_handshake(port, &c).await;
    let (ws2, s2) = ws_handshake(port, &c).await;
    let (mut ws3, s3) = ws_handshake(port, &c).await;
    assert_eq!((s1, s2, s3), (101, 101, 429));
    let mut body = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), ws3.read(&mut body)).await.unwrap().unwrap();
    let refusal = String::from_utf8_lossy(&body[..n]);
    assert!(refusal.contains("too many connections"), "not the connection cap: {refusal}");
    assert_eq!(ws_handshake(port, &[("X-Forwarded-For", "203.0.113.51")]).await.1, 101, "another client");
    drop(ws1);
    assert!(eventually(async || ws_handshake(port, &c).await.1 == 101).await, "a closed WebSocket kept its place");
    drop(ws2);
}

async fn sub(c: &WsClient) -> Result<jsonrpsee::core::client::Subscription<Value>, ClientError> {
    c.subscribe::<Value, _>("agora_subscribeNewBlocks", rpc_params![], "agora_unsubscribeNewBlocks").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_subscriptions_are_capped_node_wide_and_released_every_way() {
    let cfg = RpcConfig { max_subscriptions_total: 3, ..RpcConfig::default() };
    let (_dir, _server, port, ctx) = start(cfg).await;
    let url = format!("ws://127.0.0.1:{port}");
    let a = WsClientBuilder::default().build(&url).await.unwrap();
    let b = WsClientBuilder::default().build(&url).await.unwrap();
    let a1 = sub(&a).await.unwrap();
    let _a2 = sub(&a).await.unwrap();
    let _b1 = sub(&b).await.unwrap();
    // Full: refused with 1018, on any connection, for any subscription method.
    let full = |r: Result<jsonrpsee::core::client::Subscription<Value>, ClientError>| match r {
        Err(ClientError::Call(e)) => e.code() == rpc_api::codes::TOO_MANY_SUBSCRIPTIONS,
        _ => false,
    };
    assert!(full(sub(&b).await));
    assert!(full(b.subscribe("agora_subscribeEvents", rpc_params![], "agora_unsubscribeEvents").await));
    let c = WsClientBuilder::default().build(&url).await.unwrap();
    assert!(full(sub(&c).await));
    // Unsubscribe: the place is back.
    a1.unsubscribe().await.unwrap();
    let mut b2 = None;
    assert!(
        eventually(async || {
            b2 = sub(&b).await.ok();
            b2.is_some()
        })
        .await,
        "unsubscribing kept the place"
    );
    assert!(full(sub(&c).await));
    // A closed connection gives back all its places.
    drop(a);
    let mut c1 = None;
    assert!(
        eventually(async || {
            c1 = sub(&c).await.ok();
            c1.is_some()
        })
        .await,
        "a closed connection kept its place"
    );
    assert!(full(sub(&c).await));
    // A subscription that ends by itself (a committed transaction's status)
    // gives its place back too.
    drop(c1);
    let user = ledger::SigningKey::from_bytes(&[1; 32]);
    let val = ledger::SigningKey::from_bytes(&[2; 32]);
    let hash = ledger::Hash::digest(&crate::testing::transfer(&user, 0, CHAIN));
    let chain = ctx.chain.clone();
    tokio::task::spawn_blocking(move || crate::testing::commit_transfer(&chain, &user, &val, 0, CHAIN)).await.unwrap();
    let mut tx_sub = None;
    assert!(
        eventually(async || {
            tx_sub = c
                .subscribe::<Value, _>(
                    "agora_subscribeTxStatus",
                    rpc_params![hash.to_string()],
                    "agora_unsubscribeTxStatus",
                )
                .await
                .ok();
            tx_sub.is_some()
        })
        .await
    );
    let mut tx_sub = tx_sub.unwrap();
    let done = tokio::time::timeout(Duration::from_secs(10), tx_sub.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(done["status"], "committed", "{done}");
    assert!(eventually(async || sub(&c).await.is_ok()).await, "an ended subscription kept its place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_get_health_answers_503_when_stalled_and_200_when_following() {
    let cfg = RpcConfig {
        rate_limit_exempt_loopback: false,
        rate_limit_per_ip: RateLimitConfig { per_second: 1, burst: 4 },
        ..RpcConfig::default()
    };
    let (_dir, _server, port, ctx) = start(cfg).await;
    // Only genesis, from long ago: stalled.
    let (code, text) = http(port, "GET /health", &[], "").await;
    assert_eq!(code, 503, "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap().trim()).unwrap();
    assert_eq!(body["status"], "stalled");
    assert!(text.to_ascii_lowercase().contains("content-type: application/json"));
    // A block just now: ok, and the body is agora_health's answer.
    let chain = ctx.chain.clone();
    tokio::task::spawn_blocking(move || {
        let v = ledger::SigningKey::from_bytes(&[2; 32]);
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let ex = chain.build_block(ledger::PublicKey::from_signing_key(&v), now_ms, None).unwrap();
        let cert = crate::testing::certificate(CHAIN, &v, ex.block.header.height.0, ex.block.hash());
        chain.commit(ex, &cert).unwrap();
    })
    .await
    .unwrap();
    let (code, text) = http(port, "GET /health", &[], "").await;
    assert_eq!(code, 200, "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap().trim()).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["latest_height"], 1);
    for k in ["latest_block_time_ms", "last_block_age_ms", "block_interval_ms", "syncing", "peers", "index_from"] {
        assert!(body.get(k).is_some(), "{k} missing: {body}");
    }
    // Rate limited like everything else (a burst of 4).
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(http(port, "GET /health", &[], "").await.0);
    }
    assert!(codes.contains(&429), "{codes:?}");
    assert!(codes.iter().all(|c| *c == 200 || *c == 429), "{codes:?}");
}

/// A batch's calls run concurrently but answer in order, each under the
/// single-call conventions (a missing parameter named, `[{…}]` as named
/// parameters); a batch of sendTx is admitted as one signature batch with
/// one-by-one verdicts; invalid entries keep their place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_answer_in_order_with_single_call_conventions() {
    let (_dir, _server, port, ctx) = start(RpcConfig::default()).await;
    let user = ledger::SigningKey::from_bytes(&[1; 32]);
    let mut calls: Vec<String> = (0..40u64)
        .map(|n| {
            let tx = hex::encode(crate::testing::transfer(&user, n, CHAIN));
            format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"agora_sendTx","params":["{tx}"]}}"#)
        })
        .collect();
    calls.push(r#"{"jsonrpc":"2.0","id":"dup","method":"agora_sendTx","params":[{"tx_hex":"00"}]}"#.into());
    calls.push(r#"{"jsonrpc":"2.0","id":"missing","method":"agora_getBlock2"}"#.into());
    calls.push(r#"{"jsonrpc":"2.0","id":"acct","method":"agora_getAccount"}"#.into());
    calls.push(r#"{"oops":1}"#.into());
    let body = format!("[{}]", calls.join(","));
    let (code, text) = http(port, "POST /", &[], &body).await;
    assert_eq!(code, 200, "{text}");
    let answers: Vec<Value> = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap().trim()).unwrap();
    assert_eq!(answers.len(), 44);
    for (n, a) in answers.iter().take(40).enumerate() {
        assert_eq!(a["id"], n as u64, "in order: {a}");
        assert!(a["result"]["hash"].is_string(), "{a}");
    }
    assert_eq!(ctx.chain.mempool_size(), 40);
    // `[{…}]` read as named parameters: the tx is judged, not the shape.
    assert_eq!(answers[40]["id"], "dup");
    assert!(answers[40]["error"]["code"].is_i64(), "{}", answers[40]);
    assert_eq!(answers[41]["error"]["code"], -32601, "{}", answers[41]);
    // A missing required parameter is named, as in a single call.
    assert_eq!(answers[42]["error"]["code"], -32602);
    assert!(answers[42]["error"]["message"].as_str().unwrap().contains("address"), "{}", answers[42]);
    assert_eq!(answers[43]["error"]["code"], -32600, "{}", answers[43]);
}

fn send_txs_body(txs: &[String]) -> String {
    let list: Vec<String> = txs.iter().map(|t| format!("\"{t}\"")).collect();
    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"agora_sendTxs","params":[[{}]]}}"#, list.join(","))
}

fn json_body(text: &str) -> Value {
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap().trim()).unwrap()
}

/// `agora_sendTxs` answers every transaction in order with the verdict
/// `agora_sendTx` would give it (consecutive nonces of one sender in one
/// call admitted; a forgery, a duplicate and bad hex refused in their place),
/// takes named parameters, and refuses more than `rpc.max_batch`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_txs_gives_each_transaction_its_own_verdict_in_order() {
    use rpc_api::codes;
    let (_dir, _server, port, ctx) = start(RpcConfig::default()).await;
    let user = ledger::SigningKey::from_bytes(&[1; 32]);
    let tx = |n: u64| hex::encode(crate::testing::transfer(&user, n, CHAIN));
    let mut forged = crate::testing::transfer(&user, 3, CHAIN);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let txs = vec![tx(0), tx(1), tx(2), hex::encode(&forged), tx(1), "zz".into(), format!("0x{}", tx(3))];
    let (code, text) = http(port, "POST /", &[], &send_txs_body(&txs)).await;
    assert_eq!(code, 200, "{text}");
    let v = json_body(&text);
    let verdicts = v["result"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(verdicts.len(), txs.len());
    let hash =
        |n: u64| ledger::SignedTx::decode(&crate::testing::transfer(&user, n, CHAIN)).unwrap().hash().to_string();
    for (i, n) in [(0, 0), (1, 1), (2, 2), (6, 3)] {
        assert_eq!(verdicts[i], serde_json::json!({ "hash": hash(n) }), "{i}: {v}");
    }
    assert_eq!(verdicts[3]["error"]["code"], codes::BAD_SIGNATURE, "{v}");
    assert_eq!(verdicts[4]["error"]["code"], codes::DUPLICATE, "{v}");
    assert_eq!(verdicts[5]["error"]["code"], codes::TX_MALFORMED, "{v}");
    assert!(verdicts[3].get("hash").is_none(), "{v}");
    assert_eq!(ctx.chain.mempool_size(), 4);

    // Named parameters, both forms.
    for params in [format!(r#"{{"txs_hex":["{}"]}}"#, tx(4)), format!(r#"[{{"txs_hex":["{}"]}}]"#, tx(5))] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":2,"method":"agora_sendTxs","params":{params}}}"#);
        let v = json_body(&http(port, "POST /", &[], &body).await.1);
        assert!(v["result"][0]["hash"].is_string(), "{v}");
    }
    assert_eq!(ctx.chain.mempool_size(), 6);

    // More than `rpc.max_batch` (100 here): refused as a whole, nothing admitted.
    let many: Vec<String> = (6..107).map(tx).collect();
    let v = json_body(&http(port, "POST /", &[], &send_txs_body(&many)).await.1);
    assert_eq!(v["error"]["code"], codes::INVALID_PARAMS, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("at most 100"), "{v}");
    assert_eq!(ctx.chain.mempool_size(), 6);
}

/// A `agora_sendTxs` of n transactions pays n calls of the caller's rate
/// limit, alone or inside a batch: many transactions in one call are no
/// way around the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_txs_pays_the_rate_limit_per_transaction() {
    use rpc_api::codes;
    let cfg = RpcConfig { rate_limit_per_ip: RateLimitConfig { per_second: 1, burst: 10 }, ..strict(64) };
    let (_dir, _server, port, ctx) = start(cfg).await;
    let user = ledger::SigningKey::from_bytes(&[1; 32]);
    let tx = |n: u64| hex::encode(crate::testing::transfer(&user, n, CHAIN));
    // 4 of the 10 tokens.
    let v = json_body(&http(port, "POST /", &[], &send_txs_body(&[tx(0), tx(1), tx(2), tx(3)])).await.1);
    assert_eq!(v["result"].as_array().map(Vec::len), Some(4), "{v}");
    // 7 more would be 11: refused (the HTTP request's own token is spent).
    let seven: Vec<String> = (4..11).map(tx).collect();
    let v = json_body(&http(port, "POST /", &[], &send_txs_body(&seven)).await.1);
    assert_eq!(v["error"]["code"], codes::RATE_LIMITED, "{v}");
    assert_eq!(ctx.chain.mempool_size(), 4);
    // Inside a batch the same: 1 + 5 calls' worth, with 5 tokens left.
    let call = |id: u32, txs: &[String]| {
        let list: Vec<String> = txs.iter().map(|t| format!("\"{t}\"")).collect();
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"agora_sendTxs","params":[[{}]]}}"#, list.join(","))
    };
    let body = format!("[{},{}]", call(1, &[tx(4)]), call(2, &(5..10).map(tx).collect::<Vec<_>>()));
    let v = json_body(&http(port, "POST /", &[], &body).await.1);
    assert!(v.as_array().unwrap().iter().all(|a| a["error"]["code"] == codes::RATE_LIMITED), "{v}");
    assert_eq!(ctx.chain.mempool_size(), 4);
    // That request's own token was spent: 1 + 3 fits the 4 left.
    let body = format!("[{},{}]", call(1, &[tx(4)]), call(2, &(5..8).map(tx).collect::<Vec<_>>()));
    let v = json_body(&http(port, "POST /", &[], &body).await.1);
    assert!(v.as_array().unwrap().iter().all(|a| a["result"].is_array()), "{v}");
    assert_eq!(ctx.chain.mempool_size(), 8);
}
