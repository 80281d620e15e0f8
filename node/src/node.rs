//! Home-directory layout, `init`, and running a node until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use genesis::{ConsensusParams, Genesis, GenesisAccount, GenesisValidator};
use ledger::{Address, Amount, ChainParams, PublicKey};
use tokio::sync::watch;

use crate::chain::Chain;
use crate::config::{Config, LogFormat};
use crate::engine::{Byzantine, Engine, ValidatorKey};
use crate::mempool::MempoolLimits;
use crate::p2p::{NetHost, NetworkConfig, TxAdmission};
use crate::rpc::RpcContext;
use crate::rpc_server::{ServeOptions, serve};
use crate::store::Store;

/// Paths inside a node's home directory.
#[derive(Clone, Debug)]
pub struct Home(pub PathBuf);

impl Home {
    pub fn config(&self) -> PathBuf {
        self.0.join("config.toml")
    }
    pub fn genesis(&self) -> PathBuf {
        self.0.join("genesis.json")
    }
    pub fn validator_key(&self) -> PathBuf {
        self.0.join("validator_key.json")
    }
    /// The validator's double-sign guard state (kept outside `data/`).
    pub fn validator_state(&self) -> PathBuf {
        self.0.join("validator_state.bin")
    }
    pub fn node_key(&self) -> PathBuf {
        self.0.join("node_key.json")
    }
    pub fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

/// Options of `agorad init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub chain_id: String,
    pub moniker: String,
    pub funds: Vec<(Address, Amount)>,
    pub block_interval: Duration,
    pub rpc_listen: Option<String>,
    pub p2p_listen: Option<String>,
    /// Metrics listen address written to config.toml.
    pub metrics_listen: Option<String>,
    pub genesis_time: String,
    /// Operator account of the genesis validator (default: the first funded
    /// account, else the validator key's own address).
    pub operator: Option<Address>,
    /// The genesis validator's self-delegation.
    pub self_stake: Amount,
}

/// Writes keys, a commented config and a one-validator genesis into `home`.
pub fn init(home: &Home, opts: &InitOptions) -> anyhow::Result<PublicKey> {
    genesis::check_chain_id(&opts.chain_id)?;
    if home.config().exists() || home.genesis().exists() {
        bail!("{} already holds a node (config.toml or genesis.json exists)", home.0.display());
    }
    std::fs::create_dir_all(&home.0).with_context(|| format!("creating {}", home.0.display()))?;
    crate::keys::generate(&home.node_key())?;
    let vkey = crate::keys::generate(&home.validator_key())?;
    let vpk = PublicKey::from_signing_key(&vkey);
    let mut config = Config { moniker: opts.moniker.clone(), ..Config::default() };
    if let Some(l) = &opts.rpc_listen {
        config.rpc.listen = l.clone();
    }
    if let Some(l) = &opts.p2p_listen {
        config.p2p.listen = l.clone();
    }
    if let Some(l) = &opts.metrics_listen {
        config.metrics.listen = l.clone();
    }
    config.validate()?;
    std::fs::write(home.config(), config.commented_toml())?;
    let g = Genesis {
        version: genesis::GENESIS_VERSION,
        chain_id: opts.chain_id.clone(),
        genesis_time: opts.genesis_time.clone(),
        accounts: opts.funds.iter().map(|(a, b)| GenesisAccount { address: *a, balance: *b }).collect(),
        validators: vec![GenesisValidator {
            operator: opts.operator.or_else(|| opts.funds.first().map(|f| f.0)).unwrap_or_else(|| vpk.address()),
            public_key: vpk,
            self_stake: opts.self_stake,
            commission: Default::default(),
            min_self_delegation: None,
            metadata: ledger::staking::ValidatorMetadata {
                moniker: opts.moniker.clone(),
                client_version: format!("agorad/{}", env!("CARGO_PKG_VERSION")),
                ..Default::default()
            },
        }],
        params: ChainParams::default(),
        consensus: ConsensusParams { block_interval: opts.block_interval },
    };
    g.validate()?;
    std::fs::write(home.genesis(), g.to_json_pretty())?;
    Ok(vpk)
}

/// The node's libp2p peer id (from `node_key.json`).
pub fn node_id(home: &Home) -> anyhow::Result<libp2p::PeerId> {
    let key = crate::keys::load(&home.node_key())?;
    Ok(crate::p2p::keypair(key.to_bytes())?.public().to_peer_id())
}

/// Logs to stderr at `default` level unless `RUST_LOG` says otherwise, as
/// text or as one JSON object a line.
pub fn init_tracing(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = match format {
        LogFormat::Text => {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
            tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init()
        }
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init(),
    };
}

/// The log level `config.toml` of `home` asks for (`info` if it cannot be read).
pub fn log_level(home: &Home) -> String {
    Config::load(&home.config()).map(|c| c.log.level).unwrap_or_else(|_| "info".into())
}

/// The log settings `config.toml` of `home` asks for (defaults if it cannot be
/// read), with `format` overriding the file's format.
pub fn log_settings(home: &Home, format: Option<LogFormat>) -> (String, LogFormat) {
    let c = Config::load(&home.config()).map(|c| c.log).unwrap_or_default();
    (c.level, format.unwrap_or(c.format))
}

/// Command-line overrides of `config.toml` for `agorad start`.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    pub rpc_listen: Option<String>,
    pub metrics_listen: Option<String>,
}

/// Builds the node's runtime and runs the node until SIGINT or SIGTERM.
/// Every runtime thread, blocking ones included (they execute blocks, dry
/// runs and queries), gets the native stack that the deepest allowed chain
/// of contract calls needs ([`vm::exec_thread_stack`]).
pub fn start(home: &Home, overrides: StartOptions, byzantine: Byzantine) -> anyhow::Result<()> {
    // Sized for the deepest call chain any parameters may allow: governance
    // can raise `max_call_depth` while the node runs.
    let stack = vm::exec_thread_stack(ledger::params::MAX_CALL_DEPTH);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(stack)
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run(home, overrides, byzantine))
}

/// Runs the node until SIGINT or SIGTERM (on a runtime built by [`start`]).
pub async fn run(home: &Home, overrides: StartOptions, byzantine: Byzantine) -> anyhow::Result<()> {
    let mut config = Config::load(&home.config())?;
    if let Some(l) = overrides.rpc_listen {
        config.rpc.listen = l;
    }
    if let Some(l) = overrides.metrics_listen {
        config.metrics.listen = l;
    }
    config.validate()?;
    let genesis = Genesis::load(&home.genesis())?;
    let vkey = crate::keys::load(&home.validator_key())?;
    let vpk = PublicKey::from_signing_key(&vkey);
    let node_key = crate::keys::load(&home.node_key())?;
    let store = Store::open_with_index(&home.data(), config.storage.sync_writes, config.index.enabled)
        .with_context(|| format!("opening database in {}", home.data().display()))?;
    let limits = MempoolLimits {
        max_txs: config.mempool.max_txs,
        max_bytes: config.mempool.max_bytes,
        max_nonce_gap: config.mempool.max_nonce_gap,
    };
    let vm =
        vm::Vm::new(&genesis.params, vm::VmConfig { cache_dir: Some(home.0.join("wasm-cache")), unmetered: false })
            .context("starting the contract VM")?;
    let chain = Arc::new(Chain::open(store, &genesis, limits, vm)?);
    let interval = config.consensus.block_interval.unwrap_or(genesis.consensus.block_interval);
    chain.set_proposer_max_txs(config.consensus.max_block_txs);
    chain.set_client_tag(&config.consensus.client_tag).map_err(|e| anyhow::anyhow!("consensus.client_tag: {e}"))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let net_cfg = NetworkConfig {
        chain_id: genesis.chain_id.clone(),
        genesis_hash: chain.genesis_hash(),
        p2p: config.p2p.clone(),
        max_block_bytes: genesis.params.max_block_bytes as usize,
    };
    let (net, net_events, net_task) = crate::p2p::start(
        net_cfg,
        crate::p2p::keypair(node_key.to_bytes())?,
        chain.clone() as Arc<dyn NetHost>,
        stop_rx.clone(),
    )
    .await?;
    let (state_file, state) = crate::privval::SignerStateFile::open(&home.validator_state())
        .with_context(|| format!("opening {}", home.validator_state().display()))?;
    let audit_log = if config.consensus.signature_log {
        let path = home.0.join("signatures.jsonl");
        Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?,
        )
    } else {
        None
    };
    if let Some(h) = byzantine.double_sign_at {
        tracing::warn!(height = h, "BYZANTINE TEST MODE: this validator will double-sign a prevote at height {h}");
    }
    if !byzantine.is_honest() {
        tracing::warn!(?byzantine, "BYZANTINE TEST MODE");
    }
    let validator = ValidatorKey { key: vkey, state_file, state, audit_log, byzantine };
    net.expose_addresses(config.rpc.expose_peer_addresses);
    let (engine, consensus_status) = Engine::new(chain.clone(), Some(validator), interval, net.clone())?;
    let role = if engine.is_validator() { "validator" } else { "full node (not in the validator set)" };
    let ctx = Arc::new(RpcContext {
        chain: chain.clone(),
        validator: Some(vpk),
        moniker: config.moniker.clone(),
        block_interval: interval,
        max_commit_wait: config.rpc.max_commit_wait,
        net: Some(net.clone()),
        consensus: Some(consensus_status),
        query_slots: Arc::new(tokio::sync::Semaphore::new(config.rpc.max_concurrent_queries as usize)),
        admission: crate::admission::Admission::start(chain.clone()),
        max_batch: config.rpc.max_batch as usize,
    });
    let opts = ServeOptions {
        addr: config.rpc_addr()?,
        metrics: if config.metrics.enabled { Some(config.metrics_addr()?) } else { None },
        thread_stack: vm::exec_thread_stack(ledger::params::MAX_CALL_DEPTH),
    };
    let rpc = serve(ctx, &config.rpc, opts).await?;
    let addr = rpc.local_addr();
    tracing::info!(%addr, threads = config.rpc.worker_threads, "JSON-RPC (HTTP + WebSocket) listening");
    if let Some(m) = rpc.metrics_addr() {
        tracing::info!(addr = %m, "Prometheus metrics at http://{m}/metrics");
    }
    println!(
        "agorad: chain {} at height {}, {role}, peer id {}, RPC on http://{addr}",
        genesis.chain_id,
        chain.tip().height,
        net.local_peer_id()
    );

    let mut engine = tokio::spawn(engine.run(net_events, stop_rx));
    let finished = |r: Result<Result<(), crate::engine::EngineError>, tokio::task::JoinError>| match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(anyhow::Error::from(e).context("consensus stopped")),
        Err(e) => Err(anyhow::anyhow!("consensus task panicked: {e}")),
    };
    let result = tokio::select! {
        r = &mut engine => finished(r),
        s = shutdown_signal() => {
            tracing::info!(signal = s, "shutting down");
            let _ = stop_tx.send(true);
            // The engine finishes the block it is writing (its batch lands whole).
            finished(engine.await)
        }
    };
    let _ = stop_tx.send(true);
    let _ = net_task.await;
    rpc.stop().await;
    tracing::info!(height = %chain.tip().height, "stopped");
    result
}

/// The chain as the network sees it (the network does not import the chain).
impl NetHost for Chain {
    fn tip_height(&self) -> ledger::Height {
        self.tip().height
    }

    fn certified_blocks(&self, from: ledger::Height, max: u32) -> Result<Vec<ledger::CertifiedBlock>, String> {
        self.synced_blocks(from, max).map_err(|e| e.to_string())
    }

    fn txs_by_hash(&self, hashes: &[ledger::Hash], max_bytes: usize) -> (Vec<ledger::SignedTx>, usize) {
        self.mempool_txs(hashes, max_bytes)
    }

    fn admit_txs(&self, batch: &[Vec<u8>]) -> Vec<TxAdmission> {
        let invalid = |e: &crate::mempool::MempoolError| tx_admission(e) == TxAdmission::Invalid;
        self.submit_txs(batch, invalid)
            .iter()
            .map(|r| match r {
                Ok(_) => TxAdmission::Admitted,
                Err(e) => tx_admission(e),
            })
            .collect()
    }
}

/// Whom a refused gossiped transaction blames.
fn tx_admission(e: &crate::mempool::MempoolError) -> TxAdmission {
    use crate::mempool::MempoolError;
    match e {
        MempoolError::Invalid(
            ledger::InvalidTx::Malformed(_)
            | ledger::InvalidTx::BadSignature
            | ledger::InvalidTx::TooLarge { .. }
            | ledger::InvalidTx::WrongChainId { .. },
        ) => TxAdmission::Invalid,
        // Races with commits and other peers' batches are normal.
        _ => TxAdmission::Skipped,
    }
}

async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return "SIGINT";
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Parses `ADDRESS=AMOUNT`.
pub fn parse_fund(s: &str) -> anyhow::Result<(Address, Amount)> {
    let (a, b) = s.split_once('=').context("expected ADDRESS=AMOUNT")?;
    Ok((a.parse()?, b.parse()?))
}
