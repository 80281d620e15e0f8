//! Load generation: a steady stream of signed transfers from the testnet's
//! load accounts, paced to a target rate, sent as JSON-RPC batches of
//! `agora_sendTx` round-robin across nodes; then the committed count from the
//! blocks and the submit-to-commit latency sampled with `agora_sendTxCommit`.
//!
//! Nonces are tracked locally, starting from `agora_getAccount`'s
//! `pending_nonce`; a rejected transaction rewinds its account's nonce (so the
//! gap is refilled) unless the rejection says the nonce is taken.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, ensure};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClient;
use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::report::{BlockInfo, get_blocks};
use crate::{Testnet, rpc};

/// Batches in flight at once (beyond that, sending falls behind the target rate).
const MAX_IN_FLIGHT: usize = 16;
const DISTINCT_ERRORS: usize = 5;

/// Agora RPC error codes the load generator reacts to (docs/rpc.md).
mod codes {
    pub const NONCE_TOO_LOW: i32 = 1005;
    pub const DUPLICATE: i32 = 1008;
}

/// What load to send.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Target transactions per second (default 1000).
    pub tps: u64,
    /// How long to send (default 60 s).
    pub duration: Duration,
    /// `agora_sendTx` calls per JSON-RPC batch request (default 50).
    pub batch: usize,
    /// Nodes to send to, round-robin; `None` = every running node.
    pub nodes: Option<Vec<usize>>,
    /// Amount of each transfer (default 1).
    pub amount: u128,
    /// Gas limit of each transfer (default 10 000).
    pub gas_limit: u64,
    /// Sample commit latency with `agora_sendTxCommit` one at a time, each after a random pause of up to a second
    /// (uses the last load account; default true).
    pub sample_latency: bool,
    /// How long to wait for sent transactions to be committed after sending ends
    /// (default: 10 block intervals, at least 20 s).
    pub commit_wait: Option<Duration>,
    /// Set to stop sending early (e.g. on Ctrl-C); the report still follows.
    pub stop: Arc<AtomicBool>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            tps: 1000,
            duration: Duration::from_secs(60),
            batch: 50,
            nodes: None,
            amount: 1,
            gas_limit: 10_000,
            sample_latency: true,
            commit_wait: None,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What a load run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    pub target_tps: u64,
    pub nodes: Vec<String>,
    pub accounts: usize,
    /// Transactions sent with `agora_sendTx`.
    pub sent: u64,
    /// Time spent sending.
    pub send_secs: f64,
    pub admitted: u64,
    pub rejected: u64,
    /// The first distinct rejection messages, with how often each occurred.
    pub errors: Vec<(String, u64)>,
    /// Height when sending started, and the last height scanned.
    pub start_height: u64,
    pub end_height: u64,
    /// Transactions in blocks `start_height+1..=end_height` (everyone's, not only ours).
    pub committed: u64,
    /// `committed` over the block time from the start block to the last block with transactions.
    pub committed_tps: f64,
    /// Whether the wait for commits gave up with transactions still pending.
    pub commit_wait_timed_out: bool,
    /// Submit-to-commit latencies of the `agora_sendTxCommit` samples, sorted, in ms.
    pub latencies_ms: Vec<f64>,
}

impl LoadReport {
    /// The `p`-th percentile (0..=100) of the sampled latencies, in ms.
    pub fn latency_percentile(&self, p: usize) -> Option<f64> {
        percentile(&self.latencies_ms, p)
    }
}

/// The `p`-th percentile of sorted values (nearest rank, rounding down).
pub fn percentile(sorted: &[f64], p: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    sorted.get((sorted.len() - 1) * p.min(100) / 100).copied()
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "load: target {} tx/s to {} from {} accounts",
            self.target_tps,
            self.nodes.join(", "),
            self.accounts
        )?;
        let rate = if self.send_secs > 0.0 { self.sent as f64 / self.send_secs } else { 0.0 };
        writeln!(f, "  sent:      {} in {:.1} s ({rate:.0} tx/s)", self.sent, self.send_secs)?;
        writeln!(f, "  admitted:  {}", self.admitted)?;
        writeln!(f, "  rejected:  {}", self.rejected)?;
        for (msg, n) in &self.errors {
            writeln!(f, "    {n}x {msg}")?;
        }
        writeln!(
            f,
            "  committed: {} txs in {} blocks (heights {}..={}), {:.0} tx/s{}",
            self.committed,
            self.end_height.saturating_sub(self.start_height),
            self.start_height + 1,
            self.end_height,
            self.committed_tps,
            if self.commit_wait_timed_out { " (stopped waiting with transactions still pending)" } else { "" }
        )?;
        match (self.latency_percentile(50), self.latency_percentile(99)) {
            (Some(p50), Some(p99)) => write!(
                f,
                "  latency:   submit->commit over {} samples: p50 {p50:.0} ms, p99 {p99:.0} ms",
                self.latencies_ms.len()
            ),
            _ => write!(f, "  latency:   no samples"),
        }
    }
}

/// Runs load against `net` (see [`LoadOptions`]).
pub async fn run(net: &Testnet, opts: &LoadOptions) -> Result<LoadReport> {
    let which: Vec<usize> = match &opts.nodes {
        None => (0..net.nodes()).filter(|&i| net.is_running(i)).collect(),
        Some(v) => v.clone(),
    };
    ensure!(!which.is_empty(), "no node is running (start the testnet with `testnet up`)");
    for &i in &which {
        ensure!(i < net.nodes(), "node {i} does not exist");
        ensure!(net.is_running(i), "{} is not running", net.name(i));
    }
    let targets: Vec<(String, String)> = which.iter().map(|&i| (net.name(i).to_owned(), net.rpc_url(i))).collect();
    let keys = net.load_keys();
    ensure!(!keys.is_empty(), "this testnet has no load accounts (create it with --load-accounts N)");
    run_on(&targets, net.chain_id(), keys, opts).await
}

struct Shared {
    nonces: Vec<u64>,
    admitted: u64,
    rejected: u64,
    errors: Vec<(String, u64)>,
}

impl Shared {
    fn note_error(&mut self, msg: String) {
        self.rejected += 1;
        if let Some(e) = self.errors.iter_mut().find(|(m, _)| *m == msg) {
            e.1 += 1;
        } else if self.errors.len() < DISTINCT_ERRORS {
            self.errors.push((msg, 1));
        }
    }
}

struct Signer {
    key: SigningKey,
    public: PublicKey,
    to: Address,
}

struct TxParams {
    chain_id: String,
    gas_limit: u64,
    gas_price: u128,
    amount: u128,
}

impl TxParams {
    fn signed_hex(&self, s: &Signer, nonce: u64) -> String {
        let body = TxBody {
            chain_id: self.chain_id.clone(),
            sender: s.public,
            nonce,
            gas_limit: self.gas_limit,
            gas_price: Amount::new(self.gas_price),
            payload: Payload::Transfer { to: s.to, amount: Amount::new(self.amount) },
        };
        hex::encode(body.sign(&s.key).encode())
    }
}

/// Runs load against the nodes `targets` (name, RPC URL) of chain `chain_id`,
/// signing with `keys` (funded accounts).
pub async fn run_on(
    targets: &[(String, String)],
    chain_id: &str,
    mut keys: Vec<SigningKey>,
    opts: &LoadOptions,
) -> Result<LoadReport> {
    ensure!(opts.tps > 0, "--tps must be positive");
    ensure!(opts.batch > 0, "--batch must be positive");
    ensure!(!targets.is_empty(), "no node to send to");
    ensure!(!keys.is_empty(), "no load accounts");
    let clients: Vec<HttpClient> =
        targets.iter().map(|(_, u)| rpc::client(u, Duration::from_secs(30))).collect::<Result<_>>()?;
    let first = &clients[0];

    let cp = rpc::named("chainParams", rpc::ChainApiClient::chain_params(first).await)?;
    let node_chain = &cp.chain_id;
    ensure!(node_chain == chain_id, "{} serves chain `{node_chain}`, not `{chain_id}`", targets[0].0);
    let gas_price = cp.params.min_gas_price.get();
    let interval = Duration::from_millis(cp.block_interval_ms);
    let params =
        Arc::new(TxParams { chain_id: chain_id.to_owned(), gas_limit: opts.gas_limit, gas_price, amount: opts.amount });

    let sampler_key = if opts.sample_latency && keys.len() >= 2 { keys.pop() } else { None };
    let n = keys.len();
    let addresses: Vec<Address> = keys.iter().map(crate::setup::address_of).collect();
    let signers: Arc<Vec<Signer>> = Arc::new(
        keys.into_iter()
            .enumerate()
            .map(|(i, key)| Signer { public: PublicKey::from_signing_key(&key), key, to: addresses[(i + 1) % n] })
            .collect(),
    );
    let nonces = fetch_nonces(first, &addresses).await?;
    let start_height = crate::report::latest_height(first).await?;
    let shared = Arc::new(Mutex::new(Shared { nonces, admitted: 0, rejected: 0, errors: Vec::new() }));

    // The latency sampler: one sendTxCommit at a time, each after a random pause
    // of up to a second, from its own account.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = match sampler_key {
        Some(key) => {
            let public = PublicKey::from_signing_key(&key);
            let signer = Signer { key, public, to: addresses[0] };
            let (client, params, sampling) = (first.clone(), params.clone(), sampling.clone());
            Some(tokio::spawn(async move { sample_latency(client, signer, params, sampling).await }))
        }
        None => None,
    };

    let sem = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let t0 = Instant::now();
    let mut sent: u64 = 0;
    let mut next_account = 0usize;
    let mut k: u64 = 0;
    loop {
        let due = Duration::from_secs_f64(k as f64 * opts.batch as f64 / opts.tps as f64);
        if due >= opts.duration || opts.stop.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep_until((t0 + due).into()).await;
        if opts.stop.load(Ordering::Relaxed) {
            break;
        }
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let mut picked = Vec::with_capacity(opts.batch);
        if let Ok(mut s) = shared.lock() {
            for _ in 0..opts.batch {
                let a = next_account % n;
                next_account += 1;
                picked.push((a, s.nonces[a]));
                s.nonces[a] += 1;
            }
        }
        let txs: Vec<(usize, u64, String)> =
            picked.into_iter().map(|(a, nonce)| (a, nonce, params.signed_hex(&signers[a], nonce))).collect();
        sent += txs.len() as u64;
        let client = clients[(k as usize) % clients.len()].clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            send_batch(&client, txs, &shared).await;
            drop(permit);
        });
        k += 1;
    }
    // Every batch in flight has answered once all permits are back.
    let _all = sem.acquire_many(MAX_IN_FLIGHT as u32).await;
    let send_secs = t0.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);

    // Count what the blocks committed.
    let wait = opts.commit_wait.unwrap_or_else(|| (interval * 10).max(Duration::from_secs(20)));
    let (committed, end_height, committed_secs, timed_out) =
        count_commits(&clients, start_height, interval, wait).await?;

    let mut latencies_ms = match sampler {
        Some(h) => match tokio::time::timeout(Duration::from_secs(5), h).await {
            Ok(Ok(v)) => v,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    latencies_ms.sort_by(f64::total_cmp);
    let (admitted, rejected, errors) = match shared.lock() {
        Ok(s) => (s.admitted, s.rejected, s.errors.clone()),
        Err(_) => (0, 0, Vec::new()),
    };
    Ok(LoadReport {
        target_tps: opts.tps,
        nodes: targets.iter().map(|(n, _)| n.clone()).collect(),
        accounts: n,
        sent,
        send_secs,
        admitted,
        rejected,
        errors,
        start_height,
        end_height,
        committed,
        committed_tps: if committed_secs > 0.0 { committed as f64 / committed_secs } else { 0.0 },
        commit_wait_timed_out: timed_out,
        latencies_ms,
    })
}

/// Each address's next nonce (`pending_nonce`, else `nonce`), in batches.
pub(crate) async fn fetch_nonces(client: &HttpClient, addresses: &[Address]) -> Result<Vec<u64>> {
    let mut out = Vec::with_capacity(addresses.len());
    for chunk in addresses.chunks(100) {
        let mut b = BatchRequestBuilder::new();
        for a in chunk {
            rpc::batch::get_account(&mut b, a)?;
        }
        let resp = client
            .batch_request::<rpc::types::AccountInfo>(b)
            .await
            .map_err(|e| anyhow!("getAccount: {}", rpc::describe(&e)))?;
        for (a, r) in chunk.iter().zip(resp) {
            let v = r.map_err(|e| anyhow!("getAccount {a}: code {}: {}", e.code(), e.message()))?;
            out.push(v.pending_nonce.unwrap_or(v.nonce));
        }
    }
    Ok(out)
}

async fn send_batch(client: &HttpClient, txs: Vec<(usize, u64, String)>, shared: &Mutex<Shared>) {
    let mut b = BatchRequestBuilder::new();
    for (_, _, tx) in &txs {
        let _ = rpc::batch::send_tx(&mut b, tx);
    }
    let resp = client.batch_request::<rpc::types::Submitted>(b).await;
    let Ok(mut s) = shared.lock() else {
        return;
    };
    match resp {
        Ok(resp) => {
            for ((a, nonce, _), r) in txs.iter().zip(resp) {
                match r {
                    Ok(_) => s.admitted += 1,
                    Err(e) => {
                        match e.code() {
                            codes::DUPLICATE => {}
                            codes::NONCE_TOO_LOW => {
                                let expected = e
                                    .data()
                                    .and_then(|d| serde_json::from_str::<Value>(d.get()).ok())
                                    .and_then(|d| d["expected"].as_u64());
                                if let Some(x) = expected {
                                    s.nonces[*a] = s.nonces[*a].max(x);
                                }
                            }
                            _ => s.nonces[*a] = s.nonces[*a].min(*nonce),
                        }
                        s.note_error(format!("code {}: {}", e.code(), e.message()));
                    }
                }
            }
        }
        Err(e) => {
            let msg = rpc::describe(&e);
            for (a, nonce, _) in &txs {
                s.nonces[*a] = s.nonces[*a].min(*nonce);
                s.note_error(msg.clone());
            }
        }
    }
}

async fn sample_latency(client: HttpClient, s: Signer, params: Arc<TxParams>, running: Arc<AtomicBool>) -> Vec<f64> {
    let mut out = Vec::new();
    let mut nonce: Option<u64> = None;
    // Samples start at a random point of the block cycle: a sample sent right
    // after the previous one committed would always wait a whole block
    // interval and measure only the worst phase.
    let mut rng = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
        | 1;
    let mut first = true;
    while running.load(Ordering::Relaxed) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // The first sample goes at once, so a short run (1 s) always has one.
        if !std::mem::take(&mut first) {
            tokio::time::sleep(Duration::from_millis(rng % 1000)).await;
        }
        if !running.load(Ordering::Relaxed) {
            break;
        }
        let tick = Instant::now();
        let n = match nonce {
            Some(n) => n,
            None => match fetch_nonces(&client, &[s.public.address()]).await {
                Ok(v) => v.first().copied().unwrap_or(0),
                Err(_) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let tx = params.signed_hex(&s, n);
        match rpc::ChainApiClient::send_tx_commit(&client, tx, Some(30_000)).await {
            Ok(_) => {
                out.push(tick.elapsed().as_secs_f64() * 1e3);
                nonce = Some(n + 1);
            }
            // Re-read the nonce after any failure (a timed-out tx may still commit).
            Err(_) => nonce = None,
        }
    }
    out
}

/// Scans blocks after `start` until the nodes' mempools are empty (or `wait`
/// passes): (txs committed, last height scanned, seconds from the start block
/// to the last block with txs, whether it gave up).
async fn count_commits(
    clients: &[HttpClient],
    start: u64,
    interval: Duration,
    wait: Duration,
) -> Result<(u64, u64, f64, bool)> {
    let first = &clients[0];
    let deadline = Instant::now() + wait;
    let send_end = crate::report::latest_height(first).await?;
    let start_time = if start >= 1 { get_blocks(first, start, start).await?.first().map(|b| b.time_ms) } else { None };
    let mut h = start;
    let mut committed = 0u64;
    let mut first_time: Option<u64> = start_time;
    let mut last_tx_time: Option<u64> = None;
    let mut empty_after_end = 0u32;
    loop {
        let tip = crate::report::latest_height(first).await?;
        if tip > h {
            let blocks: Vec<BlockInfo> = get_blocks(first, h + 1, tip).await?;
            for b in &blocks {
                if first_time.is_none() {
                    first_time = Some(b.time_ms.saturating_sub(u64::try_from(interval.as_millis()).unwrap_or(0)));
                }
                committed += b.txs as u64;
                if b.txs > 0 {
                    last_tx_time = Some(b.time_ms);
                    empty_after_end = 0;
                } else if b.height > send_end {
                    empty_after_end += 1;
                }
            }
            h = tip;
        }
        if h > send_end {
            let mut pending = 0u64;
            let mut known = true;
            for c in clients {
                match rpc::ChainApiClient::status(c).await.ok().map(|s| s.mempool_size) {
                    Some(p) => pending += p,
                    None => known = false,
                }
            }
            if (known && pending == 0) || (!known && empty_after_end >= 2) {
                break;
            }
        }
        if Instant::now() >= deadline {
            let secs = span_secs(first_time, last_tx_time);
            return Ok((committed, h, secs, true));
        }
        tokio::time::sleep(interval.clamp(Duration::from_millis(50), Duration::from_millis(500))).await;
    }
    Ok((committed, h, span_secs(first_time, last_tx_time), false))
}

fn span_secs(from: Option<u64>, to: Option<u64>) -> f64 {
    match (from, to) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e3,
        _ => 0.0,
    }
}
