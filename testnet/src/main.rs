//! `testnet`: run a local N-validator Agora chain (`agorad` processes on loopback).

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::{Args, Parser, Subcommand};
use jsonrpsee::http_client::HttpClient;
use testnet::load::LoadOptions;

// `testnet status | head` must not panic when the reader goes away: stdout
// writes that fail (EPIPE) end the program quietly, as other Unix tools do.
macro_rules! println {
    () => {{
        if writeln!(std::io::stdout()).is_err() {
            std::process::exit(0);
        }
    }};
    ($($arg:tt)*) => {{
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

use testnet::setup::{DEV_ACCOUNT_BALANCE, parse_node, parse_node_list, parse_stakes};
use testnet::{DEV_PASSWORD, NodeKind, Spec, Testnet, parse_byzantine, rpc};
use tokio::signal::unix::{SignalKind, signal};

mod cmds;

#[derive(Debug, Parser)]
#[command(
    name = "testnet",
    version,
    about = "Run a local N-validator Agora chain: agorad processes on loopback, no docker",
    long_about = "Run a local N-validator Agora chain: agorad processes on loopback, no docker.\n\n\
                  `testnet up` creates the chain in --dir (default ./.testnet) the first time and resumes it \
                  afterwards; the other commands act on the running chain from any terminal."
)]
struct Cli {
    /// Testnet directory.
    #[arg(long, global = true, env = "TESTNET_DIR", default_value = ".testnet", value_name = "DIR")]
    dir: PathBuf,
    /// Where `agorad` and `agora` are [default: $CARGO_TARGET_DIR/release if it has agorad, else PATH].
    #[arg(long, global = true, env = "TESTNET_BIN_DIR", value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create the testnet if DIR has none, start every node, wait for the first
    /// block and show a live status line; Ctrl-C stops every node.
    Up(UpArgs),
    /// Stop every node (SIGTERM, then SIGKILL after 10 s).
    Down,
    /// Stop every node and delete the testnet directory.
    Reset,
    /// One line per node: running?, height, round, peers, RPC URL, operator.
    Status,
    /// Print a node's log, following it like `tail -f` by default.
    Logs {
        /// Node index (2) or name (node2).
        node: String,
        /// Follow the log (the default).
        #[arg(short = 'f', long, overrides_with = "no_follow")]
        follow: bool,
        /// Print the log and exit.
        #[arg(long)]
        no_follow: bool,
        /// When following, start with the last N lines.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
    },
    /// Kill a node with SIGKILL (a crash).
    Kill { node: String },
    /// Stop a node and start it again (honest, if it was byzantine).
    Restart { node: String },
    /// Restart a validator byzantine: from HEIGHT on it signs and broadcasts
    /// two conflicting prevotes per height until it is slashed out of the set
    /// (`testnet restart NODE` makes it honest again).
    Byzantine {
        /// Validator index (2) or name (node2).
        node: String,
        /// Height to double-sign at [default: the chain's height + 5].
        #[arg(long, value_name = "HEIGHT")]
        at: Option<u64>,
    },
    /// Pause a node (SIGSTOP).
    Pause { node: String },
    /// Resume a paused node (SIGCONT).
    Resume { node: String },
    /// Stop a node (SIGTERM, then SIGKILL after 10 s).
    Stop { node: String },
    /// Start a stopped node.
    Start { node: String },
    /// Delete a stopped node's chain data (keeps its keys, config and genesis).
    Wipe { node: String },
    /// Create and start a full (non-validator) node peered with every validator.
    AddFullNode,
    /// Send a steady stream of signed transfers and report what got committed.
    Load(LoadArgs),
    /// Throughput and finality of a fresh chain: start N validators in their
    /// own directory, send pre-signed transfers at each rate, print committed
    /// tx/s, finality p50/p99 and each validator's CPU by thread job.
    Bench(cmds::BenchArgs),
    /// Check every validator's signature log for a double sign (two
    /// different values signed for one height, round and step).
    Audit,
    /// A node's key figures from its Prometheus metrics: height, peers,
    /// mempool, block interval, RPC rate… (two scrapes a second apart).
    Metrics {
        /// Node index (2) or name (node2) [default: the first running node].
        node: Option<String>,
        /// Print the raw exposition instead.
        #[arg(long)]
        raw: bool,
    },
    /// Summarise blocks: count, transactions, block time, rounds.
    Report {
        #[arg(long)]
        from: Option<u64>,
        #[arg(long)]
        to: Option<u64>,
        /// Node to read from [default: the first running node].
        #[arg(long)]
        node: Option<String>,
    },
}

#[derive(Debug, Args)]
struct UpArgs {
    /// Number of validators [default: 4, or the number of --stakes].
    #[arg(short = 'n', long)]
    validators: Option<usize>,
    /// Stake of each validator, e.g. 40,30,20,10 [default: 100 each]. Unit: 10^6
    /// voting power, i.e. a self-stake of 10^12 base units (10^6 × power_reduction).
    #[arg(long)]
    stakes: Option<String>,
    /// Funded wallet accounts dev0, dev1… [default: 2].
    #[arg(long)]
    dev_accounts: Option<usize>,
    /// Funded accounts for `testnet load` [default: 256].
    #[arg(long)]
    load_accounts: Option<usize>,
    /// Target time between blocks [default: 1s].
    #[arg(long, value_parser = humantime::parse_duration)]
    block_interval: Option<Duration>,
    /// Chain id [default: agora-testnet].
    #[arg(long)]
    chain_id: Option<String>,
    /// How long undelegated stake stays bonded (slashable) [default: 1m].
    #[arg(long, value_parser = humantime::parse_duration)]
    unbonding_time: Option<Duration>,
    /// How long a validator jailed for downtime waits before it may unjail [default: 20s].
    #[arg(long, value_parser = humantime::parse_duration)]
    jail_time: Option<Duration>,
    /// Blocks over which missed signatures count towards downtime jailing [default: 100].
    #[arg(long, value_name = "N")]
    signed_blocks_window: Option<u64>,
    /// Blocks per decentralization-index epoch [default: about 30 s of blocks].
    #[arg(long, value_name = "N")]
    epoch_blocks: Option<u64>,
    /// Run validator NODE byzantine: it double-signs (two conflicting prevotes)
    /// from HEIGHT on, e.g. 2@40. Also applies when resuming a testnet.
    #[arg(long, value_name = "NODE@HEIGHT")]
    byzantine: Option<String>,
    /// Start the nodes and return, leaving them running (`testnet down` stops them).
    #[arg(long)]
    detach: bool,
    /// How long to wait for every node to reach height 1.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

impl UpArgs {
    fn creation_flags_given(&self) -> bool {
        self.validators.is_some()
            || self.stakes.is_some()
            || self.dev_accounts.is_some()
            || self.load_accounts.is_some()
            || self.block_interval.is_some()
            || self.chain_id.is_some()
            || self.unbonding_time.is_some()
            || self.jail_time.is_some()
            || self.signed_blocks_window.is_some()
            || self.epoch_blocks.is_some()
    }
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// Target transactions per second.
    #[arg(long, default_value_t = 1000)]
    tps: u64,
    /// How long to send.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// `agora_sendTx` calls per JSON-RPC batch.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Nodes to send to, round-robin: `all` (every running node) or a list like 0,2.
    #[arg(long, default_value = "all")]
    nodes: String,
    /// Do not sample commit latency with agora_sendTxCommit.
    #[arg(long)]
    no_latency: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("testnet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

fn run(cli: Cli) -> Result<()> {
    let dir = cli.dir.clone();
    match &cli.cmd {
        Cmd::Up(args) => runtime()?.block_on(up(&cli, args)),
        Cmd::Down => {
            let mut net = Testnet::open(&dir)?;
            let running = (0..net.nodes()).filter(|&i| net.is_running(i)).count();
            net.stop_all()?;
            if running == 0 {
                println!("no node was running");
            } else {
                println!("stopped {running} node(s)");
            }
            Ok(())
        }
        Cmd::Reset => cmds::reset(&dir),
        Cmd::Status => cmds::status(&dir),
        Cmd::Logs { node, follow: _, no_follow, lines } => {
            let net = Testnet::open(&dir)?;
            let i = parse_node(node, net.nodes())?;
            cmds::logs(&net.log_path(i), !no_follow, *lines)
        }
        Cmd::Kill { node } => node_action(&cli, node, "killed", |n, i| n.kill(i)),
        Cmd::Restart { node } => node_action(&cli, node, "restarted", |n, i| n.restart(i)),
        Cmd::Byzantine { node, at } => cmds::byzantine(&mut open_with_bins(&cli)?, node, *at),
        Cmd::Pause { node } => node_action(&cli, node, "paused", |n, i| n.pause(i)),
        Cmd::Resume { node } => node_action(&cli, node, "resumed", |n, i| n.resume(i)),
        Cmd::Stop { node } => node_action(&cli, node, "stopped", |n, i| n.stop(i)),
        Cmd::Start { node } => node_action(&cli, node, "started", |n, i| {
            if n.is_running(i) {
                bail!("{} is already running (pid {})", n.name(i), n.pid(i).unwrap_or(0));
            }
            n.start(i)
        }),
        Cmd::Wipe { node } => node_action(&cli, node, "wiped (chain data deleted)", |n, i| n.wipe_data(i)),
        Cmd::AddFullNode => {
            let mut net = open_with_bins(&cli)?;
            let i = net.add_full_node()?;
            net.start(i)?;
            println!(
                "added {} (full node) at {}, peered with {} validators; started (pid {}), log {}",
                net.name(i),
                net.rpc_url(i),
                net.validators(),
                net.pid(i).unwrap_or(0),
                net.log_path(i).display()
            );
            Ok(())
        }
        Cmd::Load(args) => runtime()?.block_on(load(&dir, args)),
        Cmd::Bench(args) => {
            let agorad = find_bins(cli.bin_dir.as_deref())?
                .agorad
                .ok_or_else(|| anyhow!("no agorad found (build it with `cargo build --release`, or pass --bin-dir)"))?;
            runtime()?.block_on(cmds::bench(args, agorad))
        }
        Cmd::Audit => {
            let net = Testnet::open(&dir)?;
            let a = net.audit_signatures()?;
            println!(
                "{} signatures by {} validators up to height {}: {} double sign(s)",
                a.signatures,
                a.validators,
                a.max_height,
                a.conflicts.len()
            );
            for c in &a.conflicts {
                println!("  DOUBLE SIGN: {c}");
            }
            ensure!(a.conflicts.is_empty(), "a validator double-signed");
            Ok(())
        }
        Cmd::Metrics { node, raw } => cmds::metrics(&dir, node.as_deref(), *raw),
        Cmd::Report { from, to, node } => runtime()?.block_on(report(&dir, *from, *to, node.as_deref())),
    }
}

// ---- binaries -----------------------------------------------------------

struct Bins {
    agorad: Option<PathBuf>,
    agora: Option<PathBuf>,
}

fn find_in(dir: &Path, name: &str) -> Option<PathBuf> {
    let p = dir.join(name);
    p.is_file().then(|| std::path::absolute(&p).unwrap_or(p))
}

fn find_bins(bin_dir: Option<&Path>) -> Result<Bins> {
    if let Some(d) = bin_dir {
        let agorad = find_in(d, "agorad").ok_or_else(|| anyhow!("--bin-dir {}: no agorad there", d.display()))?;
        return Ok(Bins { agorad: Some(agorad), agora: find_in(d, "agora") });
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(t).join("release"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cache/agora-target/release"));
    }
    let agorad_dir = dirs.iter().find(|d| d.join("agorad").is_file());
    let agorad = agorad_dir.and_then(|d| find_in(d, "agorad"));
    let agora = agorad_dir.and_then(|d| find_in(d, "agora")).or_else(|| dirs.iter().find_map(|d| find_in(d, "agora")));
    Ok(Bins { agorad, agora })
}

/// Opens the testnet, pointing it at the freshest agorad found (e.g. after a rebuild).
fn open_with_bins(cli: &Cli) -> Result<Testnet> {
    let mut net = Testnet::open(&cli.dir)?;
    let bins = find_bins(cli.bin_dir.as_deref())?;
    if let Some(a) = bins.agorad
        && a != net.state().agorad
    {
        net.set_agorad(&a)?;
    }
    Ok(net)
}

fn node_action(cli: &Cli, node: &str, done: &str, f: impl FnOnce(&mut Testnet, usize) -> Result<()>) -> Result<()> {
    let mut net = open_with_bins(cli)?;
    let i = parse_node(node, net.nodes())?;
    f(&mut net, i)?;
    match net.pid(i) {
        Some(pid) if net.is_running(i) => println!("{} {done} (pid {pid})", net.name(i)),
        _ => println!("{} {done}", net.name(i)),
    }
    Ok(())
}

// ---- up -----------------------------------------------------------------

async fn up(cli: &Cli, args: &UpArgs) -> Result<()> {
    // Handle the signals from here on (children run in their own process groups,
    // so a terminal's Ctrl-C reaches only this process).
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
            interrupted.store(true, Ordering::SeqCst);
        });
    }

    let bins = find_bins(cli.bin_dir.as_deref())?;
    let byzantine = args.byzantine.as_deref().map(parse_byzantine).transpose()?;
    let mut net = if Testnet::exists(&cli.dir) {
        if args.creation_flags_given() {
            eprintln!(
                "note: {} already holds a testnet; creation options are ignored (`testnet reset` starts over)",
                cli.dir.display()
            );
        }
        let mut net = open_with_bins(cli)?;
        if let Some(b) = byzantine {
            cmds::resume_byzantine(&mut net, b)?;
        }
        net
    } else {
        let agorad = bins.agorad.clone().ok_or_else(|| {
            anyhow!("cannot find agorad: build it (bash scripts/testnet.sh does) or pass --bin-dir DIR")
        })?;
        let stakes = match &args.stakes {
            Some(s) => parse_stakes(s)?,
            None => Vec::new(),
        };
        let mut spec = Spec::new(&cli.dir, agorad);
        spec.validators = args.validators.unwrap_or(if stakes.is_empty() { 4 } else { stakes.len() });
        spec.stakes = stakes;
        spec.agora = bins.agora.clone();
        spec.dev_accounts = args.dev_accounts.unwrap_or(2);
        spec.load_accounts = args.load_accounts.unwrap_or(256);
        spec.block_interval = args.block_interval.unwrap_or(Duration::from_secs(1));
        if let Some(c) = &args.chain_id {
            spec.chain_id = c.clone();
        }
        let st = &mut spec.staking;
        st.unbonding_time = args.unbonding_time.unwrap_or(st.unbonding_time);
        st.jail_time = args.jail_time.unwrap_or(st.jail_time);
        st.signed_blocks_window = args.signed_blocks_window.unwrap_or(st.signed_blocks_window);
        st.epoch_blocks = args.epoch_blocks.or(st.epoch_blocks);
        spec.byzantine = byzantine;
        if spec.agora.is_none() && spec.dev_accounts > 0 {
            eprintln!("note: the wallet `agora` was not found next to agorad or on PATH: no dev accounts");
        }
        eprintln!(
            "==> creating a {}-validator testnet \"{}\" in {}",
            spec.validators,
            spec.chain_id,
            cli.dir.display()
        );
        Testnet::create(&spec)?
    };
    if interrupted.load(Ordering::SeqCst) {
        println!("interrupted; no node was started");
        return Ok(());
    }

    let n = net.nodes();
    eprintln!("==> starting {n} nodes ({})", net.state().agorad.display());
    if let Err(e) = net.start_all() {
        let _ = net.stop_all();
        return Err(e);
    }
    match wait_first_block(&net, args.timeout, &interrupted).await {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("interrupted: stopping every node");
            net.stop_all()?;
            return Ok(());
        }
        Err(e) => {
            let _ = net.stop_all();
            return Err(e.context("the testnet did not start (every node was stopped)"));
        }
    }
    eprintln!("==> deploying the DAO (4 contracts, stake voting, governs the chain parameters)");
    let vetoer = net.dev_accounts().first().map(|d| d.address);
    if let Err(e) = testnet::dao::deploy(&net.rpc_url(0), net.chain_id(), net.dir(), vetoer).await {
        eprintln!("note: the DAO was not deployed: {e:#}");
    }
    print_banner(&net, bins.agora.as_deref().or(net.state().agora.as_deref()));
    if args.detach {
        println!("The nodes keep running in the background: `testnet status`, `testnet down`.");
        return Ok(());
    }
    println!("Ctrl-C stops every node; `testnet up` resumes this chain, `testnet reset` deletes it.\n");
    live(&mut net, &interrupted).await;
    println!();
    eprintln!("==> stopping every node");
    net.stop_all()?;
    eprintln!("==> stopped; `testnet up` resumes the chain");
    Ok(())
}

/// Waits until every node reports height >= 1. `Ok(false)` if interrupted.
async fn wait_first_block(net: &Testnet, timeout: Duration, interrupted: &AtomicBool) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    let clients: Vec<HttpClient> =
        (0..net.nodes()).map(|i| rpc::client(&net.rpc_url(i), Duration::from_secs(1))).collect::<Result<_>>()?;
    let mut last: Vec<String> = vec!["no answer yet".into(); net.nodes()];
    loop {
        if interrupted.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let mut all = true;
        for (i, c) in clients.iter().enumerate() {
            if !net.is_running(i) {
                bail!("{}", net.exited_message(i));
            }
            match rpc::ChainApiClient::status(c).await {
                Ok(s) if s.latest_height.0 >= 1 => last[i] = "ok".into(),
                Ok(s) => {
                    all = false;
                    last[i] = format!("at height {}", s.latest_height);
                }
                Err(e) => {
                    all = false;
                    last[i] = format!("status: {}", rpc::describe(&e));
                }
            }
        }
        if all {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            let i = (0..net.nodes()).find(|&i| last[i] != "ok").unwrap_or(0);
            let behind: Vec<String> = (0..net.nodes()).map(|i| format!("{}: {}", net.name(i), last[i])).collect();
            bail!(
                "not every node reached height 1 within {} ({}); last lines of {}:\n{}",
                humantime::format_duration(timeout),
                behind.join(", "),
                net.log_path(i).display(),
                net.log_tail(i, 30)
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn print_banner(net: &Testnet, agora: Option<&Path>) {
    let validators = net.validators();
    let powers: Vec<String> =
        net.state().nodes.iter().filter(|n| n.kind == NodeKind::Validator).map(|n| cmds::fmt_power(n.power)).collect();
    println!();
    println!(
        "  Agora testnet \"{}\": {validators} validators (voting power {}), data in {}",
        net.chain_id(),
        powers.join("/"),
        net.dir().display()
    );
    for i in 0..net.nodes() {
        let kind = if net.node(i).kind == NodeKind::Validator { "validator" } else { "full node" };
        println!("    {:<7} {kind:<9}  RPC {}   log {}", net.name(i), net.rpc_url(i), net.log_path(i).display());
    }
    cmds::print_staking(net);
    let url = net.rpc_url(0);
    let devs = net.dev_accounts();
    if !devs.is_empty() {
        println!();
        println!("  Funded dev accounts ({DEV_ACCOUNT_BALANCE} units each).");
        println!("  TESTNET ONLY: these mnemonics are printed and stored in clear; never use them for real funds.");
        for d in devs {
            println!("    {}  {}", d.name, d.address);
            println!("          {}", d.mnemonic);
        }
    }
    match testnet::write_example_contracts(net.dir()) {
        Ok(dir) => {
            println!();
            println!("  Example contracts (wasm) in {}:", dir.display());
            let names: Vec<&str> = contract_artifacts::all().iter().map(|(n, _)| *n).collect();
            println!("    {}.wasm", names.join(".wasm, "));
            if let Some(d) = devs.first() {
                println!("    agora --node {url} contract store {}/token.wasm --from {}", dir.display(), d.name);
            }
        }
        Err(e) => eprintln!("note: could not write the example contracts: {e:#}"),
    }
    if let Ok(d) = testnet::dao::read(net.dir()) {
        println!();
        println!(
            "  DAO {} (voting power: bonded stake; {}governs the chain's parameters):",
            d.dao,
            if d.governs_chain { "" } else { "does NOT " }
        );
        let k = format!("--keyring-dir {}", net.keyring_dir().display());
        let dao = d.dao;
        println!("    agora --node {url} dao info {dao}");
        println!(
            "    agora --node {url} {k} dao propose {dao} --title 'cheaper gas' --param min_gas_price=2 --from validator0"
        );
        println!(
            "    agora --node {url} {k} dao vote {dao} 1 yes --from validator1   # and validator2: quorum is 0.334"
        );
        println!("    agora --node {url} dao list {dao}        # 30 s of voting, then a 5 s timelock");
        println!("    agora --node {url} {k} dao execute {dao} 1 --from validator0");
        println!("    (power = stake bonded at the block before the proposal: dev accounts delegate first)");
        println!("    codes (for `agora dao create`): {}", net.dir().join(testnet::dao::DAO_FILE).display());
    }
    println!();
    println!("  Use the wallet against any node:");
    if let Some(dir) = agora.and_then(Path::parent) {
        println!("    export PATH=\"{}:$PATH\"", dir.display());
    }
    println!("    agora --node {url} status");
    if let Some(d) = devs.first() {
        println!("    agora keys recover {}            # paste {}'s mnemonic above", d.name, d.name);
        println!("    agora keys new alice");
        println!("    agora --node {url} transfer --from {} --to alice --amount 1000000", d.name);
        println!(
            "    (or use the testnet's keyring as is: agora --keyring-dir {} ..., password {DEV_PASSWORD})",
            net.keyring_dir().display()
        );
    }
    println!(
        "  More: testnet status | logs 1 | kill 2 | restart 2 | byzantine 2 | audit | load --tps 500 | report | down"
    );
    println!();
}

/// Per-node view for the live line.
#[derive(Default)]
struct Poll {
    height: Option<u64>,
    round: Option<u64>,
    peers: Option<u64>,
    total_txs: Option<u64>,
}

async fn poll(c: &HttpClient) -> Option<Poll> {
    let s = rpc::ChainApiClient::status(c).await.ok()?;
    Some(Poll {
        height: Some(s.latest_height.0),
        round: Some(u64::from(s.consensus.round)),
        peers: Some(s.peers),
        total_txs: Some(s.total_txs),
    })
}

/// Refreshes one status line every second until `interrupted`.
async fn live(net: &mut Testnet, interrupted: &AtomicBool) {
    let tty = std::io::stdout().is_terminal();
    // (time, cumulative txs) samples of one reference node, for tx/s over ~5 s.
    let mut window: VecDeque<(Instant, u64)> = VecDeque::new();
    let mut reference: Option<usize> = None;
    let mut counted_height: u64 = 0;
    let mut counted_txs: u64 = 0;
    let mut tick: u64 = 0;
    let mut cache: std::collections::BTreeMap<String, HttpClient> = std::collections::BTreeMap::new();
    while !interrupted.load(Ordering::SeqCst) {
        let _ = net.refresh();
        let n = net.nodes();
        let clients: Vec<Option<HttpClient>> = (0..n)
            .map(|i| {
                let url = net.rpc_url(i);
                if !cache.contains_key(&url) {
                    let c = rpc::client(&url, Duration::from_millis(800)).ok()?;
                    cache.insert(url.clone(), c);
                }
                cache.get(&url).cloned()
            })
            .collect();
        let running: Vec<bool> = (0..n).map(|i| net.is_running(i)).collect();
        let mut polls: Vec<Option<Poll>> = Vec::with_capacity(n);
        let futs = clients.iter().cloned().zip(running.clone()).map(|(c, up)| async move {
            match (c, up) {
                (Some(c), true) => poll(&c).await,
                _ => None,
            }
        });
        for p in futures_join(futs).await {
            polls.push(p.flatten());
        }
        let heights: Vec<u64> = polls.iter().flatten().filter_map(|p| p.height).collect();
        let h = match (heights.iter().min(), heights.iter().max()) {
            (Some(lo), Some(hi)) if lo == hi => hi.to_string(),
            (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
            _ => "-".into(),
        };
        let r = polls.iter().flatten().filter_map(|p| p.round).max().map_or("-".into(), |r| r.to_string());
        let peers: Vec<String> =
            polls.iter().map(|p| p.as_ref().and_then(|p| p.peers).map_or("-".into(), |x| x.to_string())).collect();
        let up = running.iter().filter(|r| **r).count();

        // tx/s from one reference node: total_txs, else txs counted from its new blocks.
        if reference.is_none_or(|i| polls.get(i).is_none_or(Option::is_none)) {
            reference = polls.iter().position(Option::is_some);
            window.clear();
            counted_height = polls.iter().flatten().next().and_then(|p| p.height).unwrap_or(0);
            counted_txs = 0;
        }
        let mut tps = "-".to_string();
        if let Some(i) = reference
            && let Some(Some(p)) = polls.get(i)
        {
            let cumulative = match p.total_txs {
                Some(t) => Some(t),
                None => match (&clients[i], p.height) {
                    (Some(c), Some(tip)) if tip > counted_height => {
                        let from = (counted_height + 1).max(tip.saturating_sub(50));
                        match testnet::report::get_blocks(c, from, tip).await {
                            Ok(blocks) => {
                                counted_txs += blocks.iter().map(|b| b.txs as u64).sum::<u64>();
                                counted_height = tip;
                                Some(counted_txs)
                            }
                            Err(_) => None,
                        }
                    }
                    _ => Some(counted_txs),
                },
            };
            if let Some(c) = cumulative {
                let now = Instant::now();
                window.push_back((now, c));
                while window.len() > 6 {
                    window.pop_front();
                }
                if let (Some((t0, c0)), Some((t1, c1))) = (window.front(), window.back()) {
                    let dt = t1.duration_since(*t0).as_secs_f64();
                    if dt > 0.5 {
                        tps = format!("{:.0}", c1.saturating_sub(*c0) as f64 / dt);
                    }
                }
            }
        }
        let line = format!("h={h} r={r} peers={} tx/s={tps} up={up}/{n}", peers.join("/"));
        if tty {
            print!("\r{line}\x1b[K");
            let _ = std::io::stdout().flush();
        } else if tick.is_multiple_of(10) {
            println!("{line}");
        }
        tick += 1;
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until && !interrupted.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs futures concurrently and returns their outputs in order (`None` for one that panicked).
async fn futures_join<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<Option<T>> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.ok());
    }
    out
}

// ---- other commands -----------------------------------------------------

async fn load(dir: &Path, args: &LoadArgs) -> Result<()> {
    let net = Testnet::open(dir)?;
    let nodes = parse_node_list(&args.nodes, net.nodes())?;
    let opts = LoadOptions {
        tps: args.tps,
        duration: args.duration,
        batch: args.batch,
        nodes,
        sample_latency: !args.no_latency,
        ..LoadOptions::default()
    };
    let stop = opts.stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping the load, then reporting");
            stop.store(true, Ordering::SeqCst);
        }
    });
    eprintln!(
        "==> sending {} tx/s for {} in batches of {} (Ctrl-C stops early)",
        args.tps,
        humantime::format_duration(args.duration),
        args.batch
    );
    let report = testnet::load::run(&net, &opts).await?;
    println!("{report}");
    Ok(())
}

async fn report(dir: &Path, from: Option<u64>, to: Option<u64>, node: Option<&str>) -> Result<()> {
    let net = Testnet::open(dir)?;
    let i = match node {
        Some(s) => parse_node(s, net.nodes())?,
        None => (0..net.nodes()).find(|&i| net.is_running(i)).ok_or_else(|| anyhow!("no node is running"))?,
    };
    let client = rpc::client(&net.rpc_url(i), Duration::from_secs(30))?;
    let r = testnet::report::scan(&client, from, to).await?;
    println!("read from {} ({})", net.name(i), net.rpc_url(i));
    println!("{r}");
    Ok(())
}
