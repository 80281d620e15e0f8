//! More of the `testnet` binary (a module of `main.rs`, not of the library):
//! the `status`, `byzantine`, `reset` and `logs` commands, and the staking
//! and validator part of the `up` banner.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use testnet::setup::{BYZANTINE_FLAG, OPERATOR_BALANCE, parse_node};
use testnet::{Byzantine, DEV_PASSWORD, NodeKind, Testnet};

/// Voting power for people: `40M` for 40 000 000.
pub fn fmt_power(p: u64) -> String {
    if p >= 1_000_000 && p.is_multiple_of(1_000_000) { format!("{}M", p / 1_000_000) } else { p.to_string() }
}

/// The staking settings (from the genesis), the validators' operators and
/// any byzantine validator, for the `up` banner.
pub fn print_staking(net: &Testnet) {
    let g = match genesis::Genesis::load(&net.genesis_path()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("note: cannot read the genesis for its staking settings: {e}");
            return;
        }
    };
    let s = &g.params.staking;
    let d = |ms: u64| humantime::format_duration(Duration::from_millis(ms)).to_string();
    let pct = |r: ledger::Rate| f64::from(r.ppm()) / 10_000.0;
    println!();
    println!(
        "  Staking: unbonding {}, downtime jail {} (signing under {}% of a {}-block window), commission changes every {}",
        d(s.unbonding_time_ms),
        d(s.downtime_jail_ms),
        pct(s.min_signed_per_window),
        s.signed_blocks_window,
        d(s.commission_change_period_ms)
    );
    println!(
        "           slashing {}% for a double sign (tombstoned), {}% for downtime; power reduction {}; {} blocks/year",
        pct(s.slash_fraction_double_sign),
        pct(s.slash_fraction_downtime),
        s.power_reduction,
        s.blocks_per_year
    );
    println!("  Validator operators (self-stake bonded at genesis, {OPERATOR_BALANCE} units liquid each):");
    let mut key_name = None;
    for i in (0..net.nodes()).filter(|&i| net.node(i).kind == NodeKind::Validator) {
        let (Some(op), Some(v)) = (net.operator(i), g.validators.get(i)) else {
            continue;
        };
        let key = net.node(i).operator_key.clone().unwrap_or_else(|| "-".into());
        let m = &v.metadata;
        println!(
            "    {:<7} {key:<11} {op}  self-stake {}  {} {} {}",
            net.name(i),
            v.self_stake,
            m.country,
            m.hosting,
            m.client_version
        );
        key_name = key_name.or(net.node(i).operator_key.clone());
    }
    if let Some(k) = key_name {
        println!(
            "    agora --node {} --keyring-dir {} stake unjail --from {k}   (password {DEV_PASSWORD})",
            net.rpc_url(0),
            net.keyring_dir().display()
        );
    }
    println!(
        "  Decentralization index: every {} blocks; `agora --node {} decentralization` (--history, --distribution operators), {}",
        g.params.index.epoch_blocks,
        net.rpc_url(0),
        net.metrics_url(0).unwrap_or_else(|| "`testnet metrics`".into())
    );
    for i in 0..net.nodes() {
        if let Some(h) = net.byzantine_at(i) {
            println!(
                "  BYZANTINE: {} double-signs from height {h} (`testnet audit` shows it; `testnet restart {i}` makes it honest)",
                net.name(i)
            );
        }
    }
}

/// `testnet byzantine NODE [--at HEIGHT]`.
pub fn byzantine(net: &mut Testnet, node: &str, at: Option<u64>) -> Result<()> {
    let i = parse_node(node, net.nodes())?;
    ensure!(
        net.node(i).kind == NodeKind::Validator,
        "{} is a full node: only a validator can double-sign",
        net.name(i)
    );
    let current = net.chain_height();
    let height = match (at, &current) {
        (Some(h), _) => h,
        (None, Ok(h)) => h + 5,
        (None, Err(e)) => bail!("cannot tell the chain's height ({e:#}): give --at HEIGHT"),
    };
    if let Ok(h) = current
        && height <= h
    {
        eprintln!("note: the chain is at height {h} already: {} will not reach height {height} again", net.name(i));
    }
    net.restart_byzantine(i, height)?;
    // An agorad without the flag exits at once: report that, not success.
    std::thread::sleep(Duration::from_secs(1));
    if !net.is_running(i) {
        let msg = net.exited_message(i);
        net.set_byzantine(i, None)?;
        let hint = if msg.contains(BYZANTINE_FLAG) {
            format!("this agorad has no {BYZANTINE_FLAG} (rebuild it); ")
        } else {
            String::new()
        };
        bail!("{hint}{msg}\n({} is recorded as honest again: `testnet start {i}` starts it)", net.name(i));
    }
    let chain = current.map_or(String::new(), |h| format!(" (the chain is at height {h})"));
    println!(
        "{} restarted byzantine (pid {}): it double-signs (two conflicting prevotes) from height {height}{chain}",
        net.name(i),
        net.pid(i).unwrap_or(0)
    );
    println!("`testnet audit` finds the double sign; `testnet restart {i}` makes it honest again");
    Ok(())
}

/// `testnet up --byzantine NODE@HEIGHT` on an existing testnet.
pub fn resume_byzantine(net: &mut Testnet, b: Byzantine) -> Result<()> {
    ensure!(b.node < net.validators(), "--byzantine {b}: the testnet has {} validators", net.validators());
    if net.is_running(b.node) {
        net.restart_byzantine(b.node, b.height)
    } else {
        net.set_byzantine(b.node, Some(b.height))
    }
}

pub fn status(dir: &Path) -> Result<()> {
    let mut net = Testnet::open(dir)?;
    net.set_rpc_timeout(Duration::from_secs(1));
    println!("testnet \"{}\" in {}", net.chain_id(), net.dir().display());
    for i in 0..net.nodes() {
        let kind = if net.node(i).kind == NodeKind::Validator { "validator" } else { "full" };
        let state = if net.is_paused(i) {
            "paused"
        } else if net.is_running(i) {
            "running"
        } else {
            "stopped"
        };
        let mut detail = String::new();
        if state == "running" {
            match net.status(i) {
                Ok(s) => {
                    detail = format!("h={} r={} peers={}", s.latest_height, s.consensus.round, s.peers);
                }
                Err(_) => detail = "RPC not answering".into(),
            }
        }
        let pid = net.pid(i).filter(|_| state != "stopped").map_or(String::new(), |p| format!("pid {p}"));
        let operator = net.operator(i).map_or("-".to_string(), |a| format!("operator {a}"));
        let byzantine = net.byzantine_at(i).map_or(String::new(), |h| format!("  BYZANTINE@{h}"));
        println!(
            "{:<7} {kind:<9} {state:<8} {pid:<10} {detail:<28} {}  {operator}{byzantine}",
            net.name(i),
            net.rpc_url(i)
        );
    }
    Ok(())
}

pub fn reset(dir: &Path) -> Result<()> {
    if Testnet::exists(dir) {
        let mut net = Testnet::open(dir)?;
        net.stop_all()?;
        let path = net.dir().to_path_buf();
        std::fs::remove_dir_all(&path).with_context(|| format!("deleting {}", path.display()))?;
        println!("stopped every node and deleted {}", path.display());
        return Ok(());
    }
    if dir.join(testnet::state::CREATING_MARKER).exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("deleting {}", dir.display()))?;
        println!("deleted the half-created testnet in {}", dir.display());
        return Ok(());
    }
    if dir.exists() {
        bail!("{} does not hold a testnet (no testnet.json): not deleting it", dir.display());
    }
    println!("{} does not exist: nothing to reset", dir.display());
    Ok(())
}

pub fn logs(path: &Path, follow: bool, lines: usize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if !follow {
        let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        std::io::copy(&mut f, &mut out).with_context(|| format!("reading {}", path.display()))?;
        return Ok(());
    }
    let tail = testnet::tail_file(path, lines);
    if !tail.is_empty() {
        writeln!(out, "{tail}")?;
    }
    out.flush()?;
    let mut pos = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut buf = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let Ok(mut f) = std::fs::File::open(path) else {
            continue;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < pos {
            pos = 0; // truncated or replaced
        }
        if len == pos {
            continue;
        }
        f.seek(SeekFrom::Start(pos))?;
        buf.clear();
        f.read_to_end(&mut buf)?;
        pos += buf.len() as u64;
        out.write_all(&buf)?;
        out.flush()?;
    }
}

/// `testnet metrics [NODE]`: key figures from a node's metrics port.
pub fn metrics(dir: &Path, node: Option<&str>, raw: bool) -> Result<()> {
    use testnet::prom;
    let net = Testnet::open(dir)?;
    let i = match node {
        Some(n) => parse_node(n, net.nodes())?,
        None => (0..net.nodes()).find(|&i| net.is_running(i)).context("no node is running")?,
    };
    let url = net
        .metrics_url(i)
        .with_context(|| format!("{} has no metrics port (created by an older testnet)", net.name(i)))?;
    let timeout = Duration::from_secs(5);
    if raw {
        print!("{}", prom::fetch(&url, timeout)?);
        return Ok(());
    }
    let first = prom::scrape(&url, timeout)?;
    let t0 = std::time::Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let m = prom::scrape(&url, timeout)?;
    let secs = t0.elapsed().as_secs_f64();
    let v = |name: &str| m.value(name, &[]).unwrap_or(f64::NAN);
    let rate = |name: &str| (m.sum(name) - first.sum(name)) / secs;
    let interval = "agora_consensus_block_interval_seconds";
    let count = m.value(&format!("{interval}_count"), &[]).unwrap_or(0.0);
    let mean = if count > 0.0 { m.value(&format!("{interval}_sum"), &[]).unwrap_or(0.0) / count } else { f64::NAN };
    let p50 = m.histogram_quantile(interval, &[], 0.5).unwrap_or(f64::NAN);
    let p99 = m.histogram_quantile(interval, &[], 0.99).unwrap_or(f64::NAN);
    println!("{} ({url})", net.name(i));
    println!(
        "  height            {} (round {}, syncing {})",
        v("agora_consensus_height"),
        v("agora_consensus_round"),
        v("agora_consensus_syncing")
    );
    println!("  blocks/s          {:.2}", rate("agora_consensus_height"));
    println!("  block interval    mean {mean:.3}s, p50 <= {p50}s, p99 <= {p99}s ({count} blocks)");
    println!(
        "  txs               {} total, {} in the latest block, {:.1}/s",
        v("agora_consensus_total_txs"),
        v("agora_consensus_num_txs"),
        rate("agora_consensus_total_txs")
    );
    println!(
        "  validators        {} (power {}), missing {} (power {}), this node's power {}, missed {}",
        v("agora_consensus_validators"),
        v("agora_consensus_validators_power"),
        v("agora_consensus_missing_validators"),
        v("agora_consensus_missing_validators_power"),
        v("agora_consensus_validator_power"),
        v("agora_consensus_validator_missed_blocks_total")
    );
    println!("  peers             {}", v("agora_p2p_peers"));
    println!(
        "  gossip            in {:.0} B/s, out {:.0} B/s",
        rate("agora_p2p_message_receive_bytes_total"),
        rate("agora_p2p_message_send_bytes_total")
    );
    println!(
        "  mempool           {} txs, {} refused",
        v("agora_mempool_size"),
        m.sum("agora_mempool_failed_txs_total")
    );
    println!(
        "  rpc               {:.1} calls/s ({} total), {} rate limited",
        rate("agora_rpc_requests_total"),
        m.sum("agora_rpc_requests_total"),
        m.sum("agora_rpc_rate_limited_total")
    );
    println!("  vm                {} calls, {} gas", m.sum("agora_vm_calls_total"), m.sum("agora_vm_gas_used_total"));
    if let Some(n) = m.value("agora_decentralization_headline_nakamoto", &[("threshold", "bft_halt")]) {
        println!("  nakamoto (halt)   {n}");
    }
    Ok(())
}

/// `testnet bench` options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Validators to start.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Offered rates, one stage each: transfers/s (`1000`, `5k`) or `max`.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,max")]
    rates: Vec<testnet::bench::Offered>,
    /// What `max` offers, in transfers/s.
    #[arg(long, default_value_t = 15_000)]
    saturation_tps: u64,
    /// Sending time per stage.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: std::time::Duration,
    /// The chain's block interval.
    #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
    block_interval: std::time::Duration,
    /// Funded accounts sending transfers.
    #[arg(long, default_value_t = 2048)]
    accounts: usize,
    /// Transactions per `agora_sendTxs` call (at most the nodes'
    /// `rpc.max_batch`, 100 by default; a node without `agora_sendTxs` gets
    /// them as a JSON-RPC batch of `agora_sendTx`).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// What to send: native transfers, or `transfer` calls of the example
    /// token contract (deployed first; the first 256 accounts send).
    #[arg(long, value_enum, default_value = "transfers")]
    load: testnet::bench::Load,
    /// Keep the bench chain in this directory (must not exist) instead of a
    /// temporary one deleted afterwards.
    #[arg(long, value_name = "DIR")]
    keep: Option<std::path::PathBuf>,
}

pub async fn bench(args: &BenchArgs, agorad: std::path::PathBuf) -> anyhow::Result<()> {
    let tmp;
    let dir = match &args.keep {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().context("creating a temporary directory")?;
            tmp.path().join("bench")
        }
    };
    let mut opts = testnet::bench::BenchOptions::new(dir, agorad);
    opts.validators = args.validators;
    opts.stages = args.rates.clone();
    opts.saturation_tps = args.saturation_tps;
    opts.duration = args.duration;
    opts.block_interval = args.block_interval;
    opts.accounts = args.accounts;
    opts.batch = args.batch;
    opts.load = args.load;
    let report = testnet::bench::run(&opts).await?;
    println!("{report}");
    Ok(())
}
