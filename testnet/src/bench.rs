//! `testnet bench`: a throughput and finality benchmark a user can run.
//!
//! It starts a fresh N-validator chain in its own directory, then for each
//! offered rate:
//! 1. **pre-signs** every transfer of the stage before the clock starts, on all
//!    cores, so signing does not compete with the validators while they are
//!    measured (the sender then only moves bytes);
//! 2. sends them at the offered rate as JSON-RPC batches of `agora_sendTx`,
//!    round-robin over the validators, re-sending (same bytes) what a node
//!    refused for a passing reason (mempool full, nonce gap, busy);
//! 3. learns each block's commit from an `agora_subscribeNewBlocks`
//!    WebSocket subscription and the block's transaction hashes, so the
//!    finality of **every** transaction (submit → committed block seen by
//!    a client) is known, not a sample;
//! 4. reads the CPU time of every validator, thread by thread
//!    (`/proc/PID/task/*/stat`), and groups it by job: the executor thread
//!    (build, validate, execute, commit), the RPC runtime, the main runtime
//!    (consensus, p2p, gossip admission), RocksDB's background threads.
//!
//! Committed tx/s counts this stage's transactions committed during the
//! sending window after a warm-up, over that window: the rate the chain
//! sustained, not the rate of a drain afterwards.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::ws_client::WsClientBuilder;
use ledger::{Address, Hash};
use rpc_api::api::EventsApiClient;
use rpc_api::types::{BlockId, BlockNotice, BlockTxs};
use tokio::sync::Semaphore;

use crate::load::{fetch_nonces, percentile};

mod cpu;
mod send;
mod txs;

use crate::{Spec, Testnet, rpc};
pub use cpu::thread_group;
use cpu::{clk_tck, cpu_use, process_ticks, thread_ticks};
use send::{Resent, send};
use txs::{Presigned, RECEIPT_SAMPLE, deploy_token, failed_receipts, presign};

/// Batches in flight at once.
const MAX_IN_FLIGHT: usize = 32;

/// The rate offered in one stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    /// This many transfers per second.
    Tps(u64),
    /// More than the chain can take ([`BenchOptions::saturation_tps`]).
    Saturation,
}

impl std::str::FromStr for Offered {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "max" | "sat" | "saturation" => Ok(Offered::Saturation),
            t => {
                let t = t.trim_end_matches("tps");
                let n = match t.strip_suffix('k') {
                    Some(k) => k.parse::<u64>().ok().and_then(|k| k.checked_mul(1000)),
                    None => t.parse::<u64>().ok(),
                };
                match n {
                    Some(n) if n > 0 && n <= 1_000_000 => Ok(Offered::Tps(n)),
                    _ => Err(format!("`{s}`: a rate is N, Nk (1..=1000k transfers/s) or `max`")),
                }
            }
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub validators: usize,
    pub stages: Vec<Offered>,
    /// What "saturation" offers (default 15 000 tx/s).
    pub saturation_tps: u64,
    /// Sending time per stage.
    pub duration: Duration,
    /// The chain's block interval.
    pub block_interval: Duration,
    /// Funded accounts the transfers come from.
    pub accounts: usize,
    /// `agora_sendTx` calls per JSON-RPC batch.
    pub batch: usize,
    /// Where the chain lives (created fresh; must not exist).
    pub dir: PathBuf,
    /// The `agorad` to run.
    pub agorad: PathBuf,
    /// What the load is: native transfers, or calls of a token contract.
    pub load: Load,
}

/// What `testnet bench` sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Load {
    /// Native transfers (`Payload::Transfer`).
    #[default]
    Transfers,
    /// `transfer` calls of the example token contract (`contracts/token`),
    /// deployed first with a balance for each sending account.
    Token,
}

/// Accounts given a token balance at instantiation (the instantiate message
/// must fit in one transaction).
pub const TOKEN_ACCOUNTS: usize = 256;
/// Gas limit of one token transfer call.
const TOKEN_CALL_GAS: u64 = 1_000_000;
const TOKEN_LABEL: &str = "bench-token";

impl BenchOptions {
    pub fn new(dir: PathBuf, agorad: PathBuf) -> BenchOptions {
        BenchOptions {
            validators: 4,
            stages: vec![Offered::Tps(1000), Offered::Tps(5000), Offered::Saturation],
            saturation_tps: 15_000,
            duration: Duration::from_secs(20),
            block_interval: Duration::from_millis(100),
            accounts: 2048,
            batch: 100,
            dir,
            agorad,
            load: Load::Transfers,
        }
    }
}

/// CPU use of one process over a stage, by thread group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cpu {
    pub name: String,
    /// Cores used on average (1.0 = one core busy all the time).
    pub total: f64,
    /// (group, cores), largest first.
    pub groups: Vec<(String, f64)>,
}

/// What one stage measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageReport {
    pub label: String,
    pub offered_tps: u64,
    pub seconds: f64,
    pub sent: u64,
    /// Refused for a passing reason and sent again.
    pub resent: u64,
    /// The same, by reason (mempool full, nonce gap, ...), most first.
    pub resent_why: Vec<(String, u64)>,
    /// Refused for good (first few distinct reasons, with counts).
    pub failed: u64,
    pub errors: Vec<(String, u64)>,
    /// This stage's transactions seen committed.
    pub committed: u64,
    /// Committed during the sending window after warm-up, per second.
    pub committed_tps: f64,
    /// Blocks during the stage, and their mean transaction count.
    pub blocks: u64,
    pub txs_per_block: f64,
    /// Of the stage's blocks: decided in a round above 0, the highest round,
    /// and the mean and longest time between blocks (header times).
    pub late_rounds: u64,
    pub max_round: u64,
    pub block_time_ms: Option<f64>,
    pub max_block_time_ms: Option<u64>,
    /// Submit → commit of every committed transaction, sorted, in ms.
    pub finality_ms: Vec<f64>,
    pub cpu: Vec<Cpu>,
    /// This process (sending, WebSocket, bookkeeping), in cores.
    pub sender_cpu: f64,
    /// Of a sample of the stage's transactions: (failed receipts, found).
    pub failed_receipts: (u64, u64),
    /// Where the validators' executors spent the stage, by block phase.
    pub phases: Vec<PhaseUse>,
}

/// One block phase over a stage, summed over the validators
/// (`agora_block_phase_*` metrics, after minus before).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseUse {
    pub phase: String,
    pub runs: u64,
    pub seconds: f64,
}

/// The phase names every node exports (`agora_block_phase_total{phase}`).
const PHASES: [&str; 7] = ["build", "pending_write", "verify", "execute", "commit_write", "mempool_update", "notify"];

/// Each phase's (runs, seconds) summed over the nodes that answer; a node
/// without metrics counts nothing.
fn phase_totals(metrics: &[String]) -> Vec<(u64, f64)> {
    let mut out = vec![(0u64, 0.0f64); PHASES.len()];
    for url in metrics {
        let Ok(e) = crate::prom::scrape(url, Duration::from_secs(5)) else { continue };
        for (i, p) in PHASES.iter().enumerate() {
            out[i].0 += e.value("agora_block_phase_total", &[("phase", p)]).unwrap_or(0.0) as u64;
            out[i].1 += e.value("agora_block_phase_seconds_total", &[("phase", p)]).unwrap_or(0.0);
        }
    }
    out
}

fn phase_use(before: &[(u64, f64)], after: &[(u64, f64)]) -> Vec<PhaseUse> {
    PHASES
        .iter()
        .zip(before.iter().zip(after))
        .map(|(p, ((r0, s0), (r1, s1)))| PhaseUse {
            phase: (*p).to_owned(),
            runs: r1.saturating_sub(*r0),
            seconds: (s1 - s0).max(0.0),
        })
        .collect()
}

/// A whole run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BenchReport {
    pub validators: usize,
    pub cores: usize,
    pub block_interval_ms: u64,
    pub accounts: usize,
    pub agorad: String,
    pub load: Load,
    pub stages: Vec<StageReport>,
}

/// Runs the benchmark: creates the chain, runs every stage, stops the chain.
pub async fn run(opts: &BenchOptions) -> Result<BenchReport> {
    ensure!(opts.validators >= 1, "--validators must be at least 1");
    ensure!(opts.batch >= 1 && opts.batch <= 1000, "--batch must be 1..=1000");
    ensure!(opts.accounts >= 2, "--accounts must be at least 2");
    ensure!(!opts.stages.is_empty(), "no stage to run");
    ensure!(opts.duration >= Duration::from_secs(2), "--duration must be at least 2 s");
    ensure!(!opts.dir.exists(), "{} already exists; `testnet bench` creates a fresh chain", opts.dir.display());
    let mut spec = Spec::new(&opts.dir, &opts.agorad);
    spec.validators = opts.validators;
    spec.dev_accounts = 0;
    spec.load_accounts = opts.accounts;
    spec.block_interval = opts.block_interval;
    let mut net = Testnet::create(&spec).context("creating the bench chain")?.owned();
    net.start_all()?;
    net.wait_for_height_all(2, Duration::from_secs(60)).context("waiting for the first blocks")?;

    let mut keys = net.load_keys();
    let urls: Vec<String> = (0..net.validators()).map(|i| net.rpc_url(i)).collect();
    let metrics: Vec<String> = (0..net.validators()).filter_map(|i| net.metrics_url(i)).collect();
    let clients: Vec<HttpClient> =
        urls.iter().map(|u| rpc::client(u, Duration::from_secs(30))).collect::<Result<_>>()?;
    let cp = rpc::named("chainParams", rpc::ChainApiClient::chain_params(&clients[0]).await)?;
    let gas_price = cp.params.min_gas_price.get();
    let token = match opts.load {
        Load::Transfers => None,
        Load::Token => {
            // Only the accounts holding tokens send.
            keys.truncate(TOKEN_ACCOUNTS);
            eprintln!("bench: deploying the token contract with a balance for {} accounts", keys.len());
            Some(deploy_token(&urls[0], &cp.chain_id, &keys).await?)
        }
    };
    let addresses: Vec<Address> = keys.iter().map(crate::setup::address_of).collect();
    let pids: Vec<(String, u32)> =
        (0..net.validators()).filter_map(|i| net.pid(i).map(|p| (net.name(i).to_owned(), p))).collect();

    let mut report = BenchReport {
        validators: opts.validators,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        block_interval_ms: u64::try_from(opts.block_interval.as_millis()).unwrap_or(u64::MAX),
        accounts: keys.len(),
        agorad: opts.agorad.display().to_string(),
        load: opts.load,
        stages: Vec::new(),
    };
    for stage in &opts.stages {
        let (label, tps) = match *stage {
            Offered::Tps(n) => (format!("{n} tx/s"), n),
            Offered::Saturation => (format!("saturation ({} tx/s offered)", opts.saturation_tps), opts.saturation_tps),
        };
        let nonces = fetch_nonces(&clients[0], &addresses).await?;
        let total = usize::try_from(tps.saturating_mul(opts.duration.as_secs())).unwrap_or(usize::MAX);
        eprintln!("bench: {label}: pre-signing {total} transactions");
        let txs = presign(&keys, &addresses, &nonces, total, &cp.chain_id, gas_price, token);
        eprintln!("bench: {label}: sending for {} s", opts.duration.as_secs());
        let sample: Vec<Hash> = txs.iter().step_by((txs.len() / RECEIPT_SAMPLE).max(1)).map(|t| t.hash).collect();
        let mut s = run_stage(&urls, &metrics, &clients, &pids, txs, tps, opts).await?;
        s.label = label;
        s.failed_receipts = failed_receipts(&clients[0], &sample).await;
        eprintln!("bench: {}", s.summary());
        report.stages.push(s);
    }
    drop(net);
    Ok(report)
}

/// Commit times seen by the block watcher, and the blocks of the stage.
#[derive(Default)]
struct Seen {
    committed: HashMap<Hash, Instant>,
    blocks: u64,
    block_txs: u64,
}

async fn run_stage(
    urls: &[String],
    metrics: &[String],
    clients: &[HttpClient],
    pids: &[(String, u32)],
    txs: Vec<Presigned>,
    tps: u64,
    opts: &BenchOptions,
) -> Result<StageReport> {
    // The watcher: every block's commit instant, then its transaction hashes.
    let ws_url = urls[0].replacen("http://", "ws://", 1);
    let ws = WsClientBuilder::default()
        .max_buffer_capacity_per_subscription(4096)
        .build(&ws_url)
        .await
        .with_context(|| format!("WebSocket to {ws_url}"))?;
    let mut sub = EventsApiClient::subscribe_new_blocks(&ws, None)
        .await
        .map_err(|e| anyhow!("subscribeNewBlocks: {}", rpc::describe(&e)))?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watcher = {
        let (seen, client) = (seen.clone(), clients[0].clone());
        tokio::spawn(async move {
            while let Some(Ok(notice)) = sub.next().await {
                let at = Instant::now();
                let BlockNotice::Block(b) = notice else { continue };
                let hashes =
                    match rpc::ChainApiClient::get_block(&client, Some(BlockId::Height(b.height.0)), Some(false)).await
                    {
                        Ok(info) => match info.txs {
                            BlockTxs::Hashes(h) => h,
                            BlockTxs::Full(f) => f.into_iter().map(|t| t.hash).collect(),
                        },
                        Err(_) => Vec::new(),
                    };
                if let Ok(mut s) = seen.lock() {
                    s.blocks += 1;
                    s.block_txs += hashes.len() as u64;
                    for h in hashes {
                        s.committed.insert(h, at);
                    }
                }
            }
        })
    };

    let start_height = crate::report::latest_height(&clients[0]).await?;
    let phases_before = phase_totals(metrics);
    let cpu_before: Vec<_> = pids.iter().map(|(_, p)| (process_ticks(*p), thread_ticks(*p))).collect();
    let self_before = process_ticks(std::process::id());
    let t_cpu = Instant::now();

    let submitted: Arc<Mutex<HashMap<Hash, Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(txs.len())));
    let retry: Arc<Mutex<Vec<Presigned>>> = Arc::new(Mutex::new(Vec::new()));
    let (resent, failed) = (Arc::new(Resent::default()), Arc::new(AtomicU64::new(0)));
    let no_send_txs = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let errors: Arc<Mutex<Vec<(String, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let sem = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let sent_total = txs.len() as u64;
    let mut fresh = txs.into_iter();
    let t0 = Instant::now();
    let send_until = t0 + opts.duration;
    let mut k: u64 = 0;
    loop {
        let due = t0 + Duration::from_secs_f64(k as f64 * opts.batch as f64 / tps as f64);
        let retry_len = retry.lock().map(|r| r.len()).unwrap_or(0);
        let more_fresh = fresh.len() > 0;
        if !more_fresh && retry_len == 0 {
            break;
        }
        // Retries go on after the window for a while, so every transaction
        // gets its chance (and finality counts its wait).
        if Instant::now() > send_until + Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep_until(due.max(Instant::now()).into()).await;
        let Ok(permit) = sem.clone().acquire_owned().await else { break };
        let mut batch: Vec<Presigned> = retry
            .lock()
            .map(|mut r| {
                let take = r.len().min(opts.batch);
                r.drain(..take).collect()
            })
            .unwrap_or_default();
        batch.extend(fresh.by_ref().take(opts.batch - batch.len()));
        if batch.is_empty() {
            drop(permit);
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        if let Ok(mut m) = submitted.lock() {
            let now = Instant::now();
            for t in &batch {
                m.entry(t.hash).or_insert(now);
            }
        }
        let client = clients[(k as usize) % clients.len()].clone();
        let (retry, resent, failed, errors) = (retry.clone(), resent.clone(), failed.clone(), errors.clone());
        let no_send_txs = no_send_txs.clone();
        tokio::spawn(async move {
            send(&client, batch, &retry, &resent, &failed, &errors, &no_send_txs).await;
            drop(permit);
        });
        k += 1;
    }
    let _all = sem.acquire_many(MAX_IN_FLIGHT as u32).await;
    let send_end = Instant::now();

    // Wait for the chain to take what was admitted (or give up).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = 0usize;
    let mut still = 0u32;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let n = seen.lock().map(|s| s.committed.len()).unwrap_or(0);
        still = if n == last { still + 1 } else { 0 };
        last = n;
        if still >= 8 || Instant::now() >= deadline {
            break;
        }
    }
    let wall = t_cpu.elapsed().as_secs_f64();
    let cpu: Vec<Cpu> = pids
        .iter()
        .zip(cpu_before)
        .map(|((name, pid), (total0, before))| {
            let total = process_ticks(*pid).saturating_sub(total0);
            cpu_use(name, total, &before, &thread_ticks(*pid), wall)
        })
        .collect();
    let sender_cpu = process_ticks(std::process::id()).saturating_sub(self_before) as f64 / clk_tck() / wall;
    let phases = phase_use(&phases_before, &phase_totals(metrics));
    watcher.abort();
    let end_height = crate::report::latest_height(&clients[0]).await?;
    let chain = if end_height > start_height {
        crate::report::scan(&clients[0], Some(start_height + 1), Some(end_height)).await.ok()
    } else {
        None
    };

    let submitted = submitted.lock().map(|m| m.clone()).unwrap_or_default();
    let seen = seen.lock().map(|s| (s.committed.clone(), s.blocks, s.block_txs)).unwrap_or_default();
    let (committed_at, blocks, block_txs) = seen;
    let warmup = (opts.duration / 5).min(Duration::from_secs(2));
    let window_start = t0 + warmup;
    let window_end = send_end.min(t0 + opts.duration).max(window_start + Duration::from_millis(1));
    let mut finality_ms = Vec::with_capacity(submitted.len());
    let mut in_window = 0u64;
    for (h, sent_at) in &submitted {
        if let Some(at) = committed_at.get(h) {
            finality_ms.push(at.saturating_duration_since(*sent_at).as_secs_f64() * 1e3);
            if *at >= window_start && *at <= window_end {
                in_window += 1;
            }
        }
    }
    finality_ms.sort_by(f64::total_cmp);
    Ok(StageReport {
        label: String::new(),
        offered_tps: tps,
        seconds: opts.duration.as_secs_f64(),
        sent: sent_total,
        resent: resent.total(),
        resent_why: resent.by_reason(),
        failed: failed.load(Ordering::Relaxed),
        errors: errors.lock().map(|e| e.clone()).unwrap_or_default(),
        committed: finality_ms.len() as u64,
        committed_tps: in_window as f64 / (window_end - window_start).as_secs_f64(),
        blocks,
        txs_per_block: if blocks > 0 { block_txs as f64 / blocks as f64 } else { 0.0 },
        finality_ms,
        late_rounds: chain.as_ref().map_or(0, |c| c.late_rounds),
        max_round: chain.as_ref().map_or(0, |c| c.max_round),
        block_time_ms: chain.as_ref().and_then(|c| c.avg_block_time_ms),
        max_block_time_ms: chain.as_ref().and_then(|c| c.max_block_time_ms),
        cpu,
        sender_cpu,
        phases,
        failed_receipts: (0, 0),
    })
}

// ---- output ----

impl StageReport {
    pub fn p(&self, q: usize) -> Option<f64> {
        percentile(&self.finality_ms, q)
    }

    pub fn summary(&self) -> String {
        let ms = |v: Option<f64>| v.map(|x| format!("{x:.0} ms")).unwrap_or_else(|| "-".into());
        format!(
            "{}: committed {:.0} tx/s; finality p50 {} p99 {}",
            self.label,
            self.committed_tps,
            ms(self.p(50)),
            ms(self.p(99))
        )
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "testnet bench: {} validators on {} cores, block interval {} ms, {} accounts sending {}, {}",
            self.validators,
            self.cores,
            self.block_interval_ms,
            self.accounts,
            match self.load {
                Load::Transfers => "native transfers",
                Load::Token => "token contract transfer calls",
            },
            self.agorad
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| offered | committed tx/s | finality p50 | p99 | committed / sent | resent | failed | blocks | txs/block | block time mean / max | rounds > 0 (max) |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        let ms = |v: Option<f64>| v.map(|x| format!("{x:.0} ms")).unwrap_or_else(|| "-".into());
        for s in &self.stages {
            writeln!(
                f,
                "| {} | {:.0} | {} | {} | {} / {} | {} | {} | {} | {:.0} | {} / {} | {} ({}) |",
                s.label,
                s.committed_tps,
                ms(s.p(50)),
                ms(s.p(99)),
                s.committed,
                s.sent,
                s.resent,
                s.failed,
                s.blocks,
                s.txs_per_block,
                ms(s.block_time_ms),
                ms(s.max_block_time_ms.map(|v| v as f64)),
                s.late_rounds,
                s.max_round
            )?;
        }
        for s in &self.stages {
            writeln!(f)?;
            writeln!(f, "CPU during {} (cores; 1.00 = one core busy):", s.label)?;
            for c in &s.cpu {
                // Groups under half a percent of a core are left out.
                let parts: Vec<String> =
                    c.groups.iter().filter(|(_, v)| *v >= 0.005).map(|(g, v)| format!("{g} {v:.2}")).collect();
                writeln!(f, "  {}: {:.2} = {}", c.name, c.total, parts.join(", "))?;
            }
            writeln!(f, "  bench sender (this process): {:.2}", s.sender_cpu)?;
            let (failed, seen) = s.failed_receipts;
            if failed > 0 {
                writeln!(f, "  FAILED RECEIPTS: {failed} of {seen} sampled transactions")?;
            } else if seen > 0 {
                writeln!(f, "  receipts: all {seen} sampled transactions succeeded")?;
            }
            if s.phases.iter().any(|p| p.runs > 0) {
                writeln!(
                    f,
                    "Executor phases during {} (summed over validators: ms per run × runs; wall time, so waiting for a core counts):",
                    s.label
                )?;
                let parts: Vec<String> = s
                    .phases
                    .iter()
                    .filter(|p| p.runs > 0)
                    .map(|p| format!("{} {:.1} × {}", p.phase, p.seconds * 1e3 / p.runs as f64, p.runs))
                    .collect();
                writeln!(f, "  {}", parts.join(", "))?;
            }
            if s.resent > 0 {
                let why: Vec<String> = s.resent_why.iter().map(|(r, n)| format!("{r} {n}")).collect();
                writeln!(f, "  sent again {}×: {}", s.resent, why.join(", "))?;
            }
            for (e, n) in &s.errors {
                writeln!(f, "  refused {n}×: {e}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::cpu::parse_stat;
    use super::*;
    use ledger::{Amount, Payload};

    #[test]
    fn rates_parse_and_nonsense_is_refused() {
        assert_eq!("1000".parse::<Offered>(), Ok(Offered::Tps(1000)));
        assert_eq!("5k".parse::<Offered>(), Ok(Offered::Tps(5000)));
        assert_eq!("max".parse::<Offered>(), Ok(Offered::Saturation));
        for bad in ["0", "-1", "k", "1.5k", "", "99999999k", "fast"] {
            assert!(bad.parse::<Offered>().is_err(), "{bad}");
        }
    }

    #[test]
    fn stat_lines_with_odd_thread_names_parse() {
        let line = "123 (tokio-runtime-w) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0 1 0";
        assert_eq!(parse_stat(line), Some(("tokio-runtime-w".into(), 280)));
        let odd = "9 (a) (b) R 1 2 3 4 5 6 7 8 9 10 7 8 0 0";
        assert_eq!(parse_stat(odd), Some(("a) (b".into(), 15)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn cpu_is_grouped_by_thread_job() {
        let before = HashMap::from([(1, ("executor".to_owned(), 100)), (2, ("agora-rpc".to_owned(), 0))]);
        let after = HashMap::from([
            (1, ("executor".to_owned(), 100 + clk_tck() as u64)),
            (2, ("agora-rpc".to_owned(), clk_tck() as u64 / 2)),
            (3, ("rocksdb:low".to_owned(), 0)),
        ]);
        let tck = clk_tck() as u64;
        // The process used 2 s of CPU: 1.5 s in live threads, 0.5 s in
        // threads that have exited since.
        let c = cpu_use("node0", 2 * tck, &before, &after, 1.0);
        assert!((c.total - 2.0).abs() < 0.02, "{c:?}");
        assert_eq!(c.groups[0].0, thread_group("executor"));
        assert!(c.groups[1..].iter().any(|(g, v)| g == &thread_group("agora-rpc") && (v - 0.5).abs() < 0.02), "{c:?}");
        assert!(c.groups.iter().any(|(g, v)| g.starts_with("threads that exited") && (v - 0.5).abs() < 0.02), "{c:?}");
        // Never less than what the live threads show.
        assert!((cpu_use("node0", 0, &before, &after, 1.0).total - 1.5).abs() < 0.02);
    }

    #[test]
    fn phase_use_is_after_minus_before_and_never_negative() {
        let before = vec![(1, 0.5); PHASES.len()];
        let mut after = vec![(4, 2.0); PHASES.len()];
        after[1] = (0, 0.0); // a node restarted: its counters went back
        let u = phase_use(&before, &after);
        assert_eq!(u.len(), PHASES.len());
        assert_eq!((u[0].phase.as_str(), u[0].runs, u[0].seconds), ("build", 3, 1.5));
        assert_eq!((u[1].runs, u[1].seconds), (0, 0.0));
        // A node without metrics adds nothing.
        assert_eq!(phase_totals(&[]), vec![(0, 0.0); PHASES.len()]);
    }

    #[test]
    fn presigned_token_calls_transfer_one_unit_to_the_next_account() {
        let keys = crate::setup::load_keys("bench-test", 2);
        let addrs: Vec<Address> = keys.iter().map(crate::setup::address_of).collect();
        let contract = Address([7; 20]);
        let txs = presign(&keys, &addrs, &[0, 3], 3, "bench-test", 1, Some(contract));
        let decoded: Vec<ledger::tx::SignedTx> =
            txs.iter().map(|t| ledger::tx::SignedTx::decode(&hex::decode(&t.hex).unwrap()).unwrap()).collect();
        assert_eq!(decoded.iter().map(|t| t.body.nonce).collect::<Vec<_>>(), [0, 3, 1]);
        for (i, t) in decoded.iter().enumerate() {
            assert_eq!(t.body.gas_limit, TOKEN_CALL_GAS);
            let Payload::Execute { contract: c, msg, funds } = &t.body.payload else { panic!("{:?}", t.body.payload) };
            assert_eq!((*c, *funds), (contract, Amount::ZERO));
            let msg: serde_json::Value = serde_json::from_slice(msg).unwrap();
            assert_eq!(msg["transfer"]["recipient"], addrs[(i + 1) % 2].to_string());
            assert_eq!(msg["transfer"]["amount"], "1");
        }
    }

    #[test]
    fn presigned_transfers_use_consecutive_nonces_per_account() {
        let keys = crate::setup::load_keys("bench-test", 3);
        let addrs: Vec<Address> = keys.iter().map(crate::setup::address_of).collect();
        let txs = presign(&keys, &addrs, &[5, 0, 9], 7, "bench-test", 1, None);
        assert_eq!(txs.len(), 7);
        let accounts: Vec<usize> = txs.iter().map(|t| t.account).collect();
        assert_eq!(accounts, [0, 1, 2, 0, 1, 2, 0]);
        let nonces: Vec<u64> = txs
            .iter()
            .map(|t| ledger::tx::SignedTx::decode(&hex::decode(&t.hex).unwrap()).unwrap().body.nonce)
            .collect();
        assert_eq!(nonces, [5, 0, 9, 6, 1, 10, 7]);
        let mut hashes: Vec<Hash> = txs.iter().map(|t| t.hash).collect();
        hashes.dedup();
        assert_eq!(hashes.len(), 7);
    }
}
