//! A local Agora testnet: N validator processes (`agorad`) on one machine, on
//! loopback, without docker. Used by the `testnet` command line and by
//! multi-process end-to-end tests.
//!
//! A testnet lives in a directory `DIR`:
//!
//! ```text
//! DIR/testnet.json      state file: nodes, ports, peer ids, pids (see [`State`])
//! DIR/genesis.json      the shared genesis (copied into every home)
//! DIR/keys/             the wallet keyring: dev accounts and validator operator keys
//!                       `validator0`… (password `testnet-password`)
//! DIR/node{i}/          node i's home: config.toml, genesis.json, keys, data/, agorad.log
//! ```
//!
//! Each validator `i` is, in genesis, a self-delegation of its operator
//! account ([`operator_key`]`(chain_id, i)`, deterministic) with a short-period
//! staking configuration ([`StakingSettings`]); a validator can be made to
//! double-sign ([`Testnet::restart_byzantine`]).
//!
//! Everything is recorded in the state file, so separate invocations (and
//! separate processes) can act on a running net: [`Testnet::open`] loads it.
//!
//! ```no_run
//! use std::time::Duration;
//! use testnet::{Spec, Testnet};
//!
//! # fn main() -> anyhow::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let spec = Spec { validators: 4, ..Spec::new(dir.path().join("net"), "target/release/agorad") };
//! // `owned()`: every node is SIGKILLed when `net` is dropped, even on panic.
//! let mut net = Testnet::create(&spec)?.owned();
//! net.start_all()?;
//! net.wait_for_height_all(3, Duration::from_secs(60))?;
//! net.kill(3)?;
//! net.wait_for_height(0, 6, Duration::from_secs(60))?; // 3 of 4 keep deciding
//! net.start(3)?;
//! net.wait_for_height(3, 6, Duration::from_secs(60))?; // node3 catches up
//! # Ok(()) }
//! ```
//!
//! The API is synchronous and needs no runtime; RPC calls run on a short-lived
//! thread of their own, so it may also be called from inside a tokio runtime
//! (use `spawn_blocking` for the long waits there). Child processes run in
//! their own process group, so a terminal's Ctrl-C reaches only the program
//! that drives them, which then stops them itself.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail, ensure};
use ledger::{PublicKey, SigningKey};
use nix::sys::signal::Signal;
use serde_json::Value;

pub mod audit;
pub mod bench;
mod create;
pub mod dao;
pub use create::write_example_contracts;
use create::{build, check_binary, clear_dir, init_node, patch_config_file, prepare_dir};
pub mod load;
pub mod process;
pub mod prom;
pub use process::tail_file;
pub mod report;
pub mod rpc;
pub mod setup;
pub mod state;
mod validators;

use process::ProcState;
pub use setup::{
    Byzantine, StakingSettings, load_key, load_keys, operator_key, parse_byzantine, parse_node, parse_stakes,
};
pub use state::{DevAccount, NodeKind, NodeState, State};

/// Password of the dev accounts' and operator keys' keystores in `DIR/keys`.
pub const DEV_PASSWORD: &str = "testnet-password";
/// Name of each node's log file in its home.
pub const LOG_FILE: &str = "agorad.log";

/// What to create: see [`Testnet::create`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The testnet directory; must not exist or be empty.
    pub dir: PathBuf,
    /// The `agorad` binary.
    pub agorad: PathBuf,
    /// The `agora` wallet binary, used to create the dev accounts; `None` skips them.
    pub agora: Option<PathBuf>,
    /// Number of validators (default 4).
    pub validators: usize,
    /// Stake of each validator, in units of [`setup::POWER_PER_STAKE`] (10^6)
    /// voting power: a stake of 1 is a self-stake of 10^6 × power_reduction
    /// (10^12 base units). Empty = 100 each (default: voting power 10^8 each).
    pub stakes: Vec<u64>,
    /// Funded wallet accounts `dev0`, `dev1`… (default 2; needs `agora`).
    pub dev_accounts: usize,
    /// Funded deterministic accounts for load generation (default 256; see [`load_key`]).
    pub load_accounts: usize,
    /// Target time between blocks (default 1s).
    pub block_interval: Duration,
    /// Chain id (default `agora-testnet`).
    pub chain_id: String,
    /// Staking periods of the genesis (default: 1 min unbonding, 20 s jail,
    /// 100-block window, 1 min between commission changes).
    pub staking: StakingSettings,
    /// A validator started byzantine from its first start (default none).
    pub byzantine: Option<Byzantine>,
}

impl Spec {
    /// The default spec for a testnet in `dir` run with `agorad`: 4 equal
    /// validators, 2 dev accounts (if `agora` is set), 256 load accounts, 1s blocks,
    /// the testnet staking periods, no byzantine validator.
    pub fn new(dir: impl Into<PathBuf>, agorad: impl Into<PathBuf>) -> Spec {
        Spec {
            dir: dir.into(),
            agorad: agorad.into(),
            agora: None,
            validators: 4,
            stakes: Vec::new(),
            dev_accounts: 2,
            load_accounts: 256,
            block_interval: Duration::from_secs(1),
            chain_id: "agora-testnet".into(),
            staking: StakingSettings::default(),
            byzantine: None,
        }
    }
}

impl Default for Spec {
    /// [`Spec::new`] with empty paths: set `dir` and `agorad`.
    fn default() -> Self {
        Spec::new(PathBuf::new(), PathBuf::new())
    }
}

/// A testnet on this machine, backed by its state file `DIR/testnet.json`.
///
/// Node indices are `0..nodes()`: validators first (`node0`…), then full nodes
/// in the order they were added. Dropping a `Testnet` leaves its processes
/// running (they can be reached again with [`Testnet::open`]); see
/// [`Testnet::owned`] for a handle that kills them on drop.
#[derive(Debug)]
pub struct Testnet {
    dir: PathBuf,
    state: State,
    /// Processes this handle spawned (reaped through these handles).
    children: Mutex<BTreeMap<usize, Child>>,
    stop_timeout: Duration,
    rpc_timeout: Duration,
}

impl Testnet {
    /// Creates a testnet as `spec` describes, without starting it: for each
    /// validator `agorad init` (free loopback ports for RPC and P2P), its key
    /// and peer id; with the wallet, the operator keys (`validator{i}`) and dev
    /// accounts in the keyring; one genesis (validators as their operators'
    /// self-delegations, operator, dev and load accounts funded, the staking
    /// periods of `spec.staking`) copied into every home; each
    /// config's `p2p.persistent_peers` set to the other validators.
    ///
    /// Refuses a directory that already holds a testnet or anything else; on
    /// failure, removes what it wrote.
    pub fn create(spec: &Spec) -> Result<Testnet> {
        let powers = setup::powers(spec.validators, &spec.stakes)?;
        genesis::check_chain_id(&spec.chain_id).map_err(|e| anyhow!("chain id: {e}"))?;
        spec.staking.params(spec.block_interval).context("staking settings")?;
        if let Some(b) = spec.byzantine {
            ensure!(
                b.node < spec.validators,
                "byzantine node{} does not exist: the testnet has {} validators",
                b.node,
                spec.validators
            );
            ensure!(b.height >= 1, "byzantine height must be at least 1");
        }
        check_binary(&spec.agorad)?;
        if let Some(a) = &spec.agora {
            check_binary(a)?;
        }
        let created_dir = prepare_dir(&spec.dir)?;
        let dir = std::fs::canonicalize(&spec.dir).with_context(|| format!("resolving {}", spec.dir.display()))?;
        let marker = dir.join(state::CREATING_MARKER);
        let result = std::fs::write(&marker, "testnet create in progress\n")
            .with_context(|| format!("writing in {}", dir.display()))
            .and_then(|()| build(&dir, spec, &powers))
            .and_then(|s| {
                s.save(&dir)?;
                std::fs::remove_file(&marker).with_context(|| format!("removing {}", marker.display()))?;
                Ok(s)
            });
        match result {
            Ok(state) => Ok(Testnet::from_state(dir, state)),
            Err(e) => {
                if created_dir {
                    let _ = std::fs::remove_dir_all(&dir);
                } else {
                    clear_dir(&dir);
                }
                Err(e.context(format!("creating the testnet in {}", spec.dir.display())))
            }
        }
    }

    /// Opens the testnet in `dir` (reads its state file).
    pub fn open(dir: &Path) -> Result<Testnet> {
        let dir = std::fs::canonicalize(dir)
            .map_err(|_| anyhow!("{} holds no testnet (the directory does not exist)", dir.display()))?;
        let state = State::load(&dir)?;
        Ok(Testnet::from_state(dir, state))
    }

    /// Whether `dir` holds a testnet (its state file exists).
    pub fn exists(dir: &Path) -> bool {
        State::path(dir).is_file()
    }

    fn from_state(dir: PathBuf, state: State) -> Testnet {
        Testnet {
            dir,
            state,
            children: Mutex::new(BTreeMap::new()),
            stop_timeout: Duration::from_secs(10),
            rpc_timeout: Duration::from_secs(2),
        }
    }

    /// This testnet as a handle that SIGKILLs every running node when dropped
    /// (for tests: nothing leaks, even when the test panics).
    pub fn owned(self) -> OwnedTestnet {
        OwnedTestnet(Some(self))
    }

    // ---- reading -------------------------------------------------------

    /// The testnet directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state as last read or written.
    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn chain_id(&self) -> &str {
        &self.state.chain_id
    }

    /// Number of nodes (validators and full nodes).
    pub fn nodes(&self) -> usize {
        self.state.nodes.len()
    }

    /// Number of validators (they are nodes `0..validators()`).
    pub fn validators(&self) -> usize {
        self.state.nodes.iter().filter(|n| n.kind == NodeKind::Validator).count()
    }

    /// Node `i`'s record. Panics if `i >= nodes()` (like slice indexing).
    pub fn node(&self, i: usize) -> &NodeState {
        &self.state.nodes[i]
    }

    /// `node{i}`.
    pub fn name(&self, i: usize) -> &str {
        &self.node(i).name
    }

    /// Node `i`'s home directory.
    pub fn home(&self, i: usize) -> PathBuf {
        self.dir.join(&self.node(i).home)
    }

    /// Node `i`'s log (`agorad start`'s stdout and stderr, appended).
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.home(i).join(LOG_FILE)
    }

    /// `http://127.0.0.1:PORT` of node `i`'s JSON-RPC.
    pub fn rpc_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.node(i).rpc_port)
    }

    /// `http://127.0.0.1:PORT/metrics` of node `i`'s Prometheus metrics
    /// (`None` for a node created before nodes had a metrics port).
    pub fn metrics_url(&self, i: usize) -> Option<String> {
        let p = self.node(i).metrics_port;
        (p != 0).then(|| format!("http://127.0.0.1:{p}/metrics"))
    }

    /// The shared genesis file.
    pub fn genesis_path(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }

    /// The wallet keyring holding the dev accounts and the operator keys
    /// `validator{i}` (password [`DEV_PASSWORD`]).
    pub fn keyring_dir(&self) -> PathBuf {
        self.dir.join("keys")
    }

    /// The funded dev accounts (empty if the testnet was created without `agora`).
    pub fn dev_accounts(&self) -> &[DevAccount] {
        &self.state.dev_accounts
    }

    /// The funded load accounts' keys.
    pub fn load_keys(&self) -> Vec<SigningKey> {
        load_keys(&self.state.chain_id, self.state.load_accounts)
    }

    /// The pid recorded for node `i`, if it was started and not stopped since.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.node(i).pid
    }

    /// Whether node `i`'s process is alive (paused counts as alive). Reaps it
    /// if this handle spawned it and it exited.
    pub fn is_running(&self, i: usize) -> bool {
        self.proc_state(i) != ProcState::Dead
    }

    /// Whether node `i` is alive but paused (SIGSTOP).
    pub fn is_paused(&self, i: usize) -> bool {
        self.proc_state(i) == ProcState::Paused
    }

    fn proc_state(&self, i: usize) -> ProcState {
        let Some(pid) = self.state.nodes.get(i).and_then(|n| n.pid) else {
            return ProcState::Dead;
        };
        if let Ok(mut children) = self.children.lock()
            && let Some(c) = children.get_mut(&i)
            && c.id() == pid
        {
            // Our own child is alive until reaped: a killed multi-threaded process
            // shows as a zombie in /proc a moment before it can be waited for.
            return match c.try_wait() {
                Ok(None) => match process::proc_state(pid, &self.home(i)) {
                    ProcState::Paused => ProcState::Paused,
                    ProcState::Running | ProcState::Dead => ProcState::Running,
                },
                Ok(Some(_)) | Err(_) => {
                    children.remove(&i);
                    ProcState::Dead
                }
            };
        }
        process::proc_state(pid, &self.home(i))
    }

    /// The last `lines` lines of node `i`'s log.
    /// Checks every node's signature log (`HOME/signatures.jsonl`) for a
    /// validator that signed two different values for one step.
    pub fn audit_signatures(&self) -> Result<audit::SignatureAudit> {
        let paths: Vec<PathBuf> = (0..self.nodes()).map(|i| self.home(i).join("signatures.jsonl")).collect();
        audit::audit_logs(paths.iter().map(PathBuf::as_path))
    }

    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        tail_file(&self.log_path(i), lines)
    }

    /// `agora_status` of node `i` (HTTP, 2 s timeout).
    pub fn status(&self, i: usize) -> Result<rpc::types::Status> {
        self.check_index(i)?;
        rpc::blocking(&self.rpc_url(i), self.rpc_timeout, |c| async move {
            rpc::named("status", rpc::ChainApiClient::status(&c).await)
        })
    }

    /// `latest_height` of node `i`.
    pub fn height(&self, i: usize) -> Result<u64> {
        Ok(self.status(i)?.latest_height.0)
    }

    /// Waits until node `i` reports `latest_height >= h`. Fails early, with the
    /// end of its log, if the process exits.
    pub fn wait_for_height(&self, i: usize, h: u64, timeout: Duration) -> Result<()> {
        self.check_index(i)?;
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            if !self.is_running(i) {
                bail!("{}", self.exited_message(i));
            }
            match self.height(i) {
                Ok(got) if got >= h => return Ok(()),
                Ok(got) => last = format!("at height {got}"),
                Err(e) => last = format!("{e:#}"),
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not reach height {h} within {} ({last}); last lines of {}:\n{}",
                    self.name(i),
                    humantime::format_duration(timeout),
                    self.log_path(i).display(),
                    self.log_tail(i, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until every running node reports `latest_height >= h`.
    pub fn wait_for_height_all(&self, h: u64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for i in 0..self.nodes() {
            if self.node(i).pid.is_some() {
                self.wait_for_height(i, h, deadline.saturating_duration_since(Instant::now()))?;
            }
        }
        Ok(())
    }

    /// "node2 exited …; last lines of its log: …".
    pub fn exited_message(&self, i: usize) -> String {
        format!(
            "{} is not running (it exited or was stopped); last lines of {}:\n{}",
            self.name(i),
            self.log_path(i).display(),
            self.log_tail(i, 30)
        )
    }

    fn check_index(&self, i: usize) -> Result<()> {
        ensure!(i < self.nodes(), "node {i} does not exist: the testnet has {} nodes", self.nodes());
        Ok(())
    }

    // ---- settings ------------------------------------------------------

    /// How long [`stop`](Self::stop) waits after SIGTERM before SIGKILL (default 10 s).
    pub fn set_stop_timeout(&mut self, d: Duration) {
        self.stop_timeout = d;
    }

    /// Timeout of [`status`](Self::status) calls (default 2 s).
    pub fn set_rpc_timeout(&mut self, d: Duration) {
        self.rpc_timeout = d;
    }

    /// Uses another `agorad` binary from now on (recorded in the state file).
    pub fn set_agorad(&mut self, agorad: &Path) -> Result<()> {
        check_binary(agorad)?;
        self.refresh()?;
        self.state.agorad = agorad.to_path_buf();
        self.state.save(&self.dir)
    }

    /// Re-reads the state file (other invocations may have started or stopped nodes).
    pub fn refresh(&mut self) -> Result<()> {
        self.state = State::load(&self.dir)?;
        Ok(())
    }

    fn set_pid(&mut self, i: usize, pid: Option<u32>) -> Result<()> {
        self.refresh()?;
        let n = self.state.nodes.get_mut(i).ok_or_else(|| anyhow!("node {i} vanished from the state file"))?;
        n.pid = pid;
        self.state.save(&self.dir)
    }

    // ---- processes -----------------------------------------------------

    /// Starts every node that is not running.
    pub fn start_all(&mut self) -> Result<()> {
        for i in 0..self.nodes() {
            self.start(i)?;
        }
        Ok(())
    }

    /// Starts node `i` (`agorad start --home HOME`, output appended to its log,
    /// in its own process group), byzantine if so recorded (see
    /// [`restart_byzantine`](Self::restart_byzantine)). Does nothing if it is
    /// already running.
    pub fn start(&mut self, i: usize) -> Result<()> {
        self.start_with(i, None, &[])
    }

    /// [`start`](Self::start) with `program` for the testnet's `agorad` (e.g.
    /// `agorad-byzantine`) and `extra` arguments after `start --home HOME`.
    pub fn start_with(&mut self, i: usize, program: Option<&Path>, extra: &[String]) -> Result<()> {
        self.check_index(i)?;
        self.refresh()?;
        if self.is_running(i) {
            return Ok(());
        }
        if let Some(pid) = self.node(i).pid {
            process::reap_if_child(pid, Duration::ZERO);
        }
        let home = self.home(i);
        let log_path = self.log_path(i);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let now = humantime::format_rfc3339_seconds(SystemTime::now());
        let byzantine = self.node(i).byzantine_at;
        let program = program.unwrap_or(&self.state.agorad).to_path_buf();
        let mode = byzantine.map_or(String::new(), |h| format!(" BYZANTINE (double-signs from height {h})"))
            + &format!(" ({} {})", program.display(), extra.join(" "));
        writeln!(log, "==== testnet: starting {}{mode} at {now} ====", self.name(i))
            .with_context(|| format!("writing {}", log_path.display()))?;
        let out = log.try_clone().with_context(|| format!("opening {}", log_path.display()))?;
        let mut cmd = Command::new(&program);
        cmd.arg("start").arg("--home").arg(&home);
        if let Some(h) = byzantine {
            cmd.arg(setup::BYZANTINE_FLAG).arg(h.to_string());
        }
        cmd.args(extra);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {} ({})", self.name(i), self.state.agorad.display()))?;
        let pid = child.id();
        if let Ok(mut children) = self.children.lock()
            && let Some(mut old) = children.insert(i, child)
        {
            let _ = old.try_wait();
        }
        self.set_pid(i, Some(pid))
    }

    /// Stops node `i`: SIGTERM, then SIGKILL if it has not exited within the
    /// stop timeout (10 s). Does nothing if it is not running.
    pub fn stop(&mut self, i: usize) -> Result<()> {
        self.check_index(i)?;
        self.stop_many(&[i])
    }

    /// Stops every running node (SIGTERM to all at once, SIGKILL for those
    /// still running after the stop timeout).
    pub fn stop_all(&mut self) -> Result<()> {
        self.refresh()?;
        let all: Vec<usize> = (0..self.nodes()).collect();
        self.stop_many(&all)
    }

    fn stop_many(&mut self, which: &[usize]) -> Result<()> {
        self.refresh()?;
        let mut alive = Vec::new();
        for &i in which {
            if let Some(pid) = self.node(i).pid
                && self.is_running(i)
            {
                process::send(pid, Signal::SIGTERM)?;
                // A paused process would sit on SIGTERM until continued.
                process::send(pid, Signal::SIGCONT)?;
                alive.push(i);
            }
        }
        let deadline = Instant::now() + self.stop_timeout;
        while alive.iter().any(|&i| self.is_running(i)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for &i in &alive {
            if self.is_running(i)
                && let Some(pid) = self.node(i).pid
            {
                process::send(pid, Signal::SIGKILL)?;
            }
        }
        self.wait_dead(&alive)?;
        for &i in which {
            if self.node(i).pid.is_some() {
                self.forget(i)?;
            }
        }
        Ok(())
    }

    /// Kills node `i` with SIGKILL (a crash) and waits for it to be gone.
    pub fn kill(&mut self, i: usize) -> Result<()> {
        self.check_index(i)?;
        self.refresh()?;
        if let Some(pid) = self.node(i).pid {
            if self.is_running(i) {
                process::send(pid, Signal::SIGKILL)?;
                self.wait_dead(&[i])?;
            }
            self.forget(i)?;
        }
        Ok(())
    }

    /// Pauses node `i` (SIGSTOP): it keeps its sockets but does nothing.
    /// Returns once the process is stopped.
    pub fn pause(&mut self, i: usize) -> Result<()> {
        self.signal_running(i, Signal::SIGSTOP, true)
    }

    /// Resumes a paused node `i` (SIGCONT). Returns once the process runs again.
    pub fn resume(&mut self, i: usize) -> Result<()> {
        self.signal_running(i, Signal::SIGCONT, false)
    }

    fn signal_running(&mut self, i: usize, sig: Signal, paused: bool) -> Result<()> {
        self.check_index(i)?;
        self.refresh()?;
        let pid = match self.node(i).pid {
            Some(pid) if self.is_running(i) => pid,
            _ => bail!("{} is not running", self.name(i)),
        };
        process::send(pid, sig)?;
        // Signals are delivered asynchronously: wait until /proc shows the effect.
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.is_running(i) && self.is_paused(i) != paused && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// Stops node `i` (as [`stop`](Self::stop)) and starts it again, honest
    /// (a byzantine node no longer double-signs).
    pub fn restart(&mut self, i: usize) -> Result<()> {
        self.stop(i)?;
        self.set_byzantine(i, None)?;
        self.start(i)
    }

    /// Deletes node `i`'s chain data (`HOME/data`), keeping its keys, config and
    /// genesis: started again, it syncs from its peers. The node must be stopped.
    pub fn wipe_data(&mut self, i: usize) -> Result<()> {
        self.check_index(i)?;
        self.refresh()?;
        ensure!(!self.is_running(i), "{} is running: stop it before wiping its data", self.name(i));
        let data = self.home(i).join("data");
        match std::fs::remove_dir_all(&data) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {}", data.display())),
        }
    }

    /// Adds a full (non-validator) node: `agorad init` into its own home, the
    /// testnet's genesis, every validator as a persistent peer. Does not start
    /// it (call [`start`](Self::start) with the returned index).
    pub fn add_full_node(&mut self) -> Result<usize> {
        self.refresh()?;
        let i = self.nodes();
        let name = format!("node{i}");
        let home = self.dir.join(&name);
        ensure!(!home.exists(), "{} already exists", home.display());
        let used: Vec<u16> = self.state.nodes.iter().flat_map(|n| [n.rpc_port, n.p2p_port, n.metrics_port]).collect();
        let ports = loop {
            let p = setup::free_ports(3)?;
            if !p.iter().any(|x| used.contains(x)) {
                break p;
            }
        };
        let interval = Duration::from_millis(self.state.block_interval_ms);
        let agorad = self.state.agorad.clone();
        let made = init_node(&agorad, &home, &self.state.chain_id, &name, interval, ports[0], ports[1], ports[2])
            .and_then(|(key, node_id)| {
                std::fs::copy(self.genesis_path(), home.join("genesis.json"))
                    .with_context(|| format!("copying the genesis into {}", home.display()))?;
                let peers: Vec<String> = self
                    .state
                    .nodes
                    .iter()
                    .filter(|n| n.kind == NodeKind::Validator)
                    .map(NodeState::multiaddr)
                    .collect();
                patch_config_file(&home, &peers)?;
                Ok((key, node_id))
            });
        let (key, node_id) = match made {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&home);
                return Err(e.context(format!("adding full node {name}")));
            }
        };
        self.state.nodes.push(NodeState {
            name: name.clone(),
            kind: NodeKind::Full,
            home: PathBuf::from(&name),
            rpc_port: ports[0],
            p2p_port: ports[1],
            metrics_port: ports[2],
            node_id,
            validator_key: key.to_string(),
            power: 0,
            pid: None,
            operator: None,
            operator_key: None,
            byzantine_at: None,
        });
        self.state.save(&self.dir)?;
        Ok(i)
    }

    /// Waits (up to 5 s after SIGKILL) for processes to be gone, reaping them.
    fn wait_dead(&mut self, which: &[usize]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<usize> = which.iter().copied().filter(|&i| self.is_running(i)).collect();
            if left.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let names: Vec<&str> = left.iter().map(|&i| self.name(i)).collect();
                bail!("{} did not exit after SIGKILL", names.join(", "));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Reaps node `i`'s process if ours and clears its pid.
    fn forget(&mut self, i: usize) -> Result<()> {
        let owned = self.children.lock().ok().and_then(|mut c| c.remove(&i));
        if let Some(mut c) = owned {
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        } else if let Some(pid) = self.node(i).pid {
            process::reap_if_child(pid, Duration::from_secs(2));
        }
        self.set_pid(i, None)
    }

    /// SIGKILLs every running node without waiting for the state file (for drops).
    fn kill_all_now(&mut self) {
        let _ = self.refresh();
        for i in 0..self.nodes() {
            if let Some(pid) = self.node(i).pid
                && self.is_running(i)
            {
                let _ = process::send(pid, Signal::SIGKILL);
            }
        }
        let all: Vec<usize> = (0..self.nodes()).collect();
        let _ = self.wait_dead(&all);
        for i in 0..self.nodes() {
            if self.node(i).pid.is_some() {
                let _ = self.forget(i);
            }
        }
    }
}

/// A [`Testnet`] that SIGKILLs every running node when dropped. Derefs to the
/// testnet.
#[derive(Debug)]
pub struct OwnedTestnet(Option<Testnet>);

impl OwnedTestnet {
    /// Gives the testnet back without killing anything.
    pub fn into_inner(mut self) -> Testnet {
        match self.0.take() {
            Some(t) => t,
            None => unreachable!("OwnedTestnet always holds a testnet until dropped"),
        }
    }
}

impl std::ops::Deref for OwnedTestnet {
    type Target = Testnet;
    fn deref(&self) -> &Testnet {
        match &self.0 {
            Some(t) => t,
            None => unreachable!("OwnedTestnet always holds a testnet until dropped"),
        }
    }
}

impl std::ops::DerefMut for OwnedTestnet {
    fn deref_mut(&mut self) -> &mut Testnet {
        match &mut self.0 {
            Some(t) => t,
            None => unreachable!("OwnedTestnet always holds a testnet until dropped"),
        }
    }
}

impl Drop for OwnedTestnet {
    fn drop(&mut self) {
        if let Some(t) = &mut self.0 {
            t.kill_all_now();
        }
    }
}
