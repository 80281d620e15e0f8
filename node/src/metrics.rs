//! Prometheus metrics on their own port (`[metrics] listen`, default
//! 127.0.0.1:26660, `GET /metrics`), named in the `agora_` namespace after the
//! ones operators know from CometBFT (docs/metrics.md lists them all).
//!
//! Nothing here runs on the consensus path. Values come from three places:
//! - per block, a sampler task that follows committed blocks (height, block
//!   interval, txs, validators and their power, missing and byzantine
//!   validators, this validator's missed blocks);
//! - at scrape, from state the node keeps anyway (mempool, peers, consensus
//!   round and sync status, VM counters, mempool rejections, gossip bytes,
//!   the decentralization index, re-read only when the height changed);
//! - the RPC middleware ([`RpcMetrics`]): one relaxed atomic add and one
//!   histogram observation per call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use decentralization::Threshold;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::mempool::MempoolError;
use crate::rpc::RpcContext;

/// The path Prometheus scrapes.
pub const PATH: &str = "/metrics";
/// The content type of the OpenMetrics exposition (served to clients that
/// accept it, as Prometheus does).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the classic Prometheus text format (served otherwise:
/// curl, promtool).
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The OpenMetrics text as the classic Prometheus text format: counter
/// families are named with their `_total` suffix (as their samples are),
/// and the OpenMetrics-only `# UNIT` and `# EOF` lines are dropped.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> =
        openmetrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let rest = line
            .strip_prefix("# HELP ")
            .map(|r| ("# HELP ", r))
            .or(line.strip_prefix("# TYPE ").map(|r| ("# TYPE ", r)));
        match rest {
            Some((kw, r)) => {
                let (name, tail) = r.split_once(' ').unwrap_or((r, ""));
                if counters.contains(name) && !name.ends_with("_total") {
                    out.push_str(&format!("{kw}{name}_total {tail}"));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}
/// Scrapes served at once; more connections are closed at once.
pub const MAX_SCRAPE_CONNECTIONS: usize = 16;

type Label = [(&'static str, &'static str); 1];
type FGauge = Gauge<f64, AtomicU64>;
type DynLabels = Vec<(String, String)>;
type DynGauges = Family<DynLabels, FGauge>;
type HistFamily = Family<Label, Histogram, fn() -> Histogram>;

/// Why the mempool refused a transaction: the `reason` label of
/// `agora_mempool_failed_txs_total`. A fixed list, so the label set is bounded.
pub const REJECTION_REASONS: [&str; 12] = [
    "too_large",
    "malformed",
    "bad_signature",
    "wrong_chain_id",
    "nonce_too_low",
    "nonce_gap",
    "fee",
    "duplicate",
    "full",
    "contract",
    "invalid",
    "internal",
];

/// The `reason` label of a mempool refusal.
pub fn rejection_reason(e: &MempoolError) -> &'static str {
    use ledger::InvalidTx as I;
    match e {
        MempoolError::Invalid(i) => match i {
            I::TooLarge { .. } => "too_large",
            I::Malformed(_) => "malformed",
            I::BadSignature => "bad_signature",
            I::WrongChainId { .. } => "wrong_chain_id",
            I::NonceTooLow { .. } => "nonce_too_low",
            I::NonceGap { .. } => "nonce_gap",
            I::GasPriceTooLow { .. }
            | I::GasLimitTooLow { .. }
            | I::GasLimitTooHigh { .. }
            | I::FeeOverflow
            | I::CannotPayFee { .. } => "fee",
            I::Contract(_) => "contract",
            I::ZeroAmount | I::BlockGasExhausted => "invalid",
        },
        MempoolError::Duplicate(_) | MempoolError::AlreadyCommitted(_) | MempoolError::Dropped(_) => "duplicate",
        MempoolError::NonceTaken { .. } => "nonce_too_low",
        MempoolError::Full(_) => "full",
        MempoolError::WaitingFull(_) => "nonce_gap",
        MempoolError::PendingFees { .. } => "fee",
        MempoolError::State(_) => "internal",
    }
}

/// Mempool refusals by reason: one relaxed atomic add per refusal (kept by
/// the chain, read at scrape).
#[derive(Debug, Default)]
pub struct Rejections([AtomicU64; REJECTION_REASONS.len()]);

impl Rejections {
    pub fn record(&self, e: &MempoolError) {
        let r = rejection_reason(e);
        if let Some(i) = REJECTION_REASONS.iter().position(|x| *x == r) {
            self.0[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    pub fn get(&self, reason: &str) -> u64 {
        REJECTION_REASONS.iter().position(|x| *x == reason).map_or(0, |i| self.0[i].load(Ordering::Relaxed))
    }
}

/// Seconds buckets of RPC call latency.
fn latency_histogram() -> Histogram {
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

/// One method's counter and latency histogram (handles into the registry).
#[derive(Clone, Debug)]
pub struct MethodMetrics {
    requests: Counter,
    errors: Counter,
    duration: Histogram,
}

impl MethodMetrics {
    /// A call that did not run (rate limited, or an invalid batch entry).
    pub fn count(&self, ran: bool) {
        self.requests.inc();
        if !ran {
            self.errors.inc();
        }
    }
    pub fn observe(&self, took: Duration, ok: bool) {
        self.count(ok);
        self.duration.observe(took.as_secs_f64());
    }
}

/// The label for a method name no handler has: a client cannot grow the
/// label set by calling made-up names.
pub const UNKNOWN_METHOD: &str = "unknown";

/// RPC metrics, labelled by method. The label set is fixed when the server
/// starts: every registered method, [`UNKNOWN_METHOD`] and `batch`.
#[derive(Debug)]
pub struct RpcMetrics {
    methods: HashMap<&'static str, MethodMetrics>,
    unknown: MethodMetrics,
    batch: Histogram,
    rate_limited: Family<Label, Counter>,
    pub connections_refused: Counter,
}

impl RpcMetrics {
    /// The metrics of `name` (the `unknown` ones if no such method exists).
    pub fn method(&self, name: &str) -> &MethodMetrics {
        self.methods.get(name).unwrap_or(&self.unknown)
    }
    pub fn batch(&self, took: Duration) {
        self.batch.observe(took.as_secs_f64());
    }
    pub fn rate_limited(&self, transport: &'static str, n: u64) {
        self.rate_limited.get_or_create(&[("transport", transport)]).inc_by(n);
    }
    /// Label values in use (a bound for tests).
    pub fn labels(&self) -> usize {
        self.methods.len() + 1
    }
}

/// Gauges set by the block sampler (see [`Metrics::observe_block`]).
#[derive(Debug, Default)]
struct BlockGauges {
    height: Gauge,
    rounds: Gauge,
    num_txs: Gauge,
    block_gas: Gauge,
    block_time: Gauge,
    validators: Gauge,
    validators_power: Gauge,
    missing: Gauge,
    missing_power: Gauge,
    byzantine: Gauge,
    own_power: Gauge,
    own_missed: Counter,
    own_last_signed: Gauge,
}

/// Values read at scrape time.
#[derive(Debug, Default)]
struct LiveGauges {
    total_txs: Gauge,
    consensus_height: Gauge,
    consensus_round: Gauge,
    syncing: Gauge,
    best_peer_height: Gauge,
    synced_blocks: Counter,
    equivocations: Counter,
    mempool_size: Gauge,
    mempool_failed: Family<Label, Counter>,
    phase_seconds: Family<Label, Counter<f64, std::sync::atomic::AtomicU64>>,
    phase_count: Family<Label, Counter>,
    compact: Family<Label, Counter>,
    peers: Gauge,
    recv_bytes: Family<Label, Counter>,
    send_bytes: Family<Label, Counter>,
    vm_gas: Counter,
    vm_calls: Counter,
    vm_cache_hits: Family<Label, Counter>,
    vm_cache_misses: Counter,
    vm_modules: Gauge,
}

#[derive(Debug, Default)]
struct Decentralization {
    epoch: DynGauges,
    nakamoto: DynGauges,
    headline: DynGauges,
    metric: DynGauges,
    /// Height the index gauges were last read at.
    at_height: Mutex<Option<u64>>,
}

/// All the node's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    block: BlockGauges,
    block_interval: Histogram,
    live: LiveGauges,
    index: Decentralization,
    pub rpc: Arc<RpcMetrics>,
    /// Scrapes are serialised (counters copied from elsewhere advance by
    /// their delta since the last scrape).
    scrape: Mutex<()>,
}

/// A counter copied from a monotonic source: advanced by the difference.
fn follow(c: &Counter, source: u64) {
    let now = c.get();
    if source > now {
        c.inc_by(source - now);
    }
}

fn gauge_i(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

impl Metrics {
    /// Registers every metric. `methods`: the RPC method names (the only
    /// `method` label values besides `unknown` and `batch`).
    pub fn new(methods: impl IntoIterator<Item = &'static str>) -> Metrics {
        let mut reg = Registry::with_prefix("agora");
        let b = BlockGauges::default();
        let live = LiveGauges::default();
        let index = Decentralization::default();
        let block_interval = Histogram::new([0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0]);

        // Consensus (CometBFT: consensus_*).
        reg.register("consensus_height", "Height of the latest committed block", b.height.clone());
        reg.register(
            "consensus_rounds",
            "Round in which the previous height was decided (from the latest block's last commit; 0 = first round)",
            b.rounds.clone(),
        );
        reg.register(
            "consensus_block_interval_seconds",
            "Time between consecutive blocks (block header times)",
            block_interval.clone(),
        );
        reg.register("consensus_num_txs", "Transactions in the latest block", b.num_txs.clone());
        reg.register("consensus_total_txs", "Transactions committed since genesis", live.total_txs.clone());
        reg.register("consensus_block_gas_used", "Gas used by the latest block", b.block_gas.clone());
        reg.register(
            "consensus_latest_block_timestamp_seconds",
            "Header time of the latest block (Unix seconds)",
            b.block_time.clone(),
        );
        reg.register("consensus_validators", "Validators in the set of the next height", b.validators.clone());
        reg.register(
            "consensus_validators_power",
            "Total voting power of the set of the next height",
            b.validators_power.clone(),
        );
        reg.register(
            "consensus_missing_validators",
            "Validators of the previous height whose precommit is not in the latest block's last commit",
            b.missing.clone(),
        );
        reg.register(
            "consensus_missing_validators_power",
            "Voting power of the missing validators",
            b.missing_power.clone(),
        );
        reg.register(
            "consensus_byzantine_validators",
            "Evidence items (double signs) in the latest block",
            b.byzantine.clone(),
        );
        reg.register(
            "consensus_validator_power",
            "This node's validator voting power (0: not in the set)",
            b.own_power.clone(),
        );
        reg.register(
            "consensus_validator_missed_blocks",
            "Blocks whose last commit lacks this validator's precommit while it was in the set",
            b.own_missed.clone(),
        );
        reg.register(
            "consensus_validator_last_signed_height",
            "Latest height whose commit holds this validator's precommit",
            b.own_last_signed.clone(),
        );
        reg.register("consensus_step_height", "Height consensus is working on", live.consensus_height.clone());
        reg.register("consensus_round", "Round consensus is in at the current height", live.consensus_round.clone());
        reg.register(
            "consensus_syncing",
            "1 while the node is catching up through block sync (a peer is ahead), else 0",
            live.syncing.clone(),
        );
        reg.register("consensus_best_peer_height", "Highest tip a peer reported", live.best_peer_height.clone());
        reg.register(
            "consensus_synced_blocks",
            "Heights committed through block sync since start",
            live.synced_blocks.clone(),
        );
        reg.register(
            "consensus_equivocations",
            "Equivocations (double signs) seen since start",
            live.equivocations.clone(),
        );
        // Mempool.
        reg.register("mempool_size", "Transactions waiting in the mempool", live.mempool_size.clone());
        reg.register(
            "mempool_failed_txs",
            "Transactions the mempool refused (from clients and gossip), by reason",
            live.mempool_failed.clone(),
        );
        // Where block time goes (the executor's phases; `testnet bench` reads them).
        reg.register(
            "block_phase_seconds",
            "Time the executor spent in each block phase since start (build, verify, execute, writes, mempool update, notify)",
            live.phase_seconds.clone(),
        );
        reg.register("block_phase", "Times each block phase ran since start", live.phase_count.clone());
        reg.register(
            "consensus_compact_proposals",
            "Compact proposals received, by outcome: filled from the mempool, fetched (missing transactions asked of a peer), unfilled",
            live.compact.clone(),
        );
        // P2P.
        reg.register("p2p_peers", "Connected peers", live.peers.clone());
        reg.register("p2p_message_receive_bytes", "Gossip payload bytes received, by topic", live.recv_bytes.clone());
        reg.register(
            "p2p_message_send_bytes",
            "Gossip payload bytes published by this node (before fan-out), by topic",
            live.send_bytes.clone(),
        );
        // VM.
        reg.register("vm_gas_used", "Gas used by contract calls (blocks, queries and dry runs)", live.vm_gas.clone());
        reg.register("vm_calls", "Contract call frames run (sub-calls included)", live.vm_calls.clone());
        reg.register(
            "vm_module_cache_hits",
            "Compiled contract modules found in the cache, by tier (memory, disk)",
            live.vm_cache_hits.clone(),
        );
        reg.register(
            "vm_module_cache_misses",
            "Contract modules compiled (not found in any cache)",
            live.vm_cache_misses.clone(),
        );
        reg.register("vm_modules_in_memory", "Compiled modules held in memory", live.vm_modules.clone());
        // Decentralization index.
        reg.register(
            "decentralization_epoch",
            "Latest epoch whose decentralization index is stored",
            index.epoch.clone(),
        );
        reg.register(
            "decentralization_nakamoto",
            "Nakamoto coefficient: smallest number of entities whose weight meets the threshold (rule in the labels)",
            index.nakamoto.clone(),
        );
        reg.register(
            "decentralization_headline_nakamoto",
            "Smallest Nakamoto coefficient over all subsystems at the threshold",
            index.headline.clone(),
        );
        reg.register(
            "decentralization_metric",
            "Concentration metric of a subsystem (hhi 0..10000, gini, largest_share, shannon_entropy_bits, normalised_entropy, theil, entities)",
            index.metric.clone(),
        );
        // RPC.
        let requests: Family<Label, Counter> = Family::default();
        let errors: Family<Label, Counter> = Family::default();
        let duration: HistFamily = Family::new_with_constructor(latency_histogram);
        let rate_limited: Family<Label, Counter> = Family::default();
        let connections_refused = Counter::default();
        reg.register("rpc_requests", "JSON-RPC calls, by method (unknown names: `unknown`)", requests.clone());
        reg.register("rpc_request_errors", "JSON-RPC calls answered with an error, by method", errors.clone());
        reg.register(
            "rpc_request_duration_seconds",
            "JSON-RPC call latency, by method (`batch`: a whole batch)",
            duration.clone(),
        );
        reg.register(
            "rpc_rate_limited",
            "Requests refused by the per-IP rate limit, by transport (http: requests, ws: calls)",
            rate_limited.clone(),
        );
        reg.register(
            "rpc_connections_refused",
            "Connections closed at once because max_connections (or the address's max_connections_per_ip) were open",
            connections_refused.clone(),
        );
        let handle = |name: &'static str| MethodMetrics {
            requests: requests.get_or_create(&[("method", name)]).clone(),
            errors: errors.get_or_create(&[("method", name)]).clone(),
            duration: duration.get_or_create(&[("method", name)]).clone(),
        };
        let methods: HashMap<&'static str, MethodMetrics> = methods.into_iter().map(|m| (m, handle(m))).collect();
        let rpc = RpcMetrics {
            unknown: handle(UNKNOWN_METHOD),
            batch: duration.get_or_create(&[("method", "batch")]).clone(),
            methods,
            rate_limited,
            connections_refused,
        };
        for r in REJECTION_REASONS {
            let _ = live.mempool_failed.get_or_create(&[("reason", r)]);
        }
        for t in ["consensus", "txs"] {
            let _ = live.recv_bytes.get_or_create(&[("topic", t)]);
            let _ = live.send_bytes.get_or_create(&[("topic", t)]);
        }
        for t in ["memory", "disk"] {
            let _ = live.vm_cache_hits.get_or_create(&[("tier", t)]);
        }
        for t in ["http", "ws"] {
            let _ = rpc.rate_limited.get_or_create(&[("transport", t)]);
        }
        Metrics { registry: reg, block: b, block_interval, live, index, rpc: Arc::new(rpc), scrape: Mutex::new(()) }
    }

    /// Records a committed block (called by the sampler, off the consensus path).
    pub fn observe_block(&self, ctx: &RpcContext, b: &crate::chain::CommittedBlock, prev_time_ms: Option<u64>) {
        let m = &self.block;
        m.height.set(gauge_i(b.height.0));
        m.num_txs.set(gauge_i(b.num_txs));
        m.block_gas.set(gauge_i(b.gas_used));
        m.block_time.set(gauge_i(b.time_ms / 1000));
        if let Some(p) = prev_time_ms {
            self.block_interval.observe(b.time_ms.saturating_sub(p) as f64 / 1000.0);
        }
        let chain = &ctx.chain;
        if let Ok(set) = chain.validators_at(b.height.next()) {
            m.validators.set(gauge_i(set.len()));
            m.validators_power.set(gauge_i(set.total_power().0));
            let own = ctx.validator.map_or(0, |k| set.power_of(&consensus::ValidatorId(k.0)).0);
            m.own_power.set(gauge_i(own));
        }
        let Ok(Some(block)) = chain.store().block(b.height) else { return };
        m.byzantine.set(gauge_i(block.evidence.len()));
        let Some(lc) = &block.last_commit else {
            m.missing.set(0);
            m.missing_power.set(0);
            return;
        };
        m.rounds.set(i64::from(lc.round));
        let Ok(set) = chain.validators_at(lc.height) else { return };
        let signed: std::collections::BTreeSet<_> = lc.signatures.iter().map(|s| s.validator).collect();
        let (mut missing, mut missing_power) = (0usize, 0u64);
        for v in set.validators() {
            if !signed.contains(&ledger::PublicKey(v.public_key.0)) {
                missing += 1;
                missing_power = missing_power.saturating_add(v.power.0);
            }
        }
        m.missing.set(gauge_i(missing));
        m.missing_power.set(gauge_i(missing_power));
        if let Some(k) = ctx.validator
            && set.get(&consensus::ValidatorId(k.0)).is_some()
        {
            if signed.contains(&k) {
                m.own_last_signed.set(gauge_i(lc.height.0));
            } else {
                m.own_missed.inc();
            }
        }
    }

    /// The exposition text: live values refreshed, then every metric encoded.
    pub fn render(&self, ctx: &RpcContext) -> Result<String, String> {
        let _serial = self.scrape.lock().map_err(|_| "metrics lock poisoned".to_string())?;
        let l = &self.live;
        let chain = &ctx.chain;
        l.total_txs.set(gauge_i(chain.total_txs()));
        l.mempool_size.set(gauge_i(chain.mempool_size()));
        for r in REJECTION_REASONS {
            follow(&l.mempool_failed.get_or_create(&[("reason", r)]), chain.rejections().get(r));
        }
        for p in crate::phases::Phase::ALL {
            let (count, micros) = chain.phases().get(p);
            follow(&l.phase_count.get_or_create(&[("phase", p.name())]), count);
            let secs = l.phase_seconds.get_or_create(&[("phase", p.name())]);
            let source = micros as f64 / 1e6;
            if source > secs.get() {
                secs.inc_by(source - secs.get());
            }
        }
        if let Some(cs) = &ctx.consensus {
            let cs = cs.borrow().clone();
            l.consensus_height.set(gauge_i(cs.height));
            l.consensus_round.set(i64::from(cs.round));
            l.syncing.set(i64::from(cs.syncing));
            l.best_peer_height.set(gauge_i(cs.best_peer_height));
            follow(&l.synced_blocks, cs.synced_blocks);
            follow(&l.equivocations, cs.equivocations);
            follow(&l.compact.get_or_create(&[("outcome", "filled")]), cs.compact_filled);
            follow(&l.compact.get_or_create(&[("outcome", "fetched")]), cs.compact_fetched);
            follow(&l.compact.get_or_create(&[("outcome", "unfilled")]), cs.compact_unfilled);
        }
        if let Some(net) = &ctx.net {
            l.peers.set(gauge_i(net.peer_count()));
            let s = net.stats();
            follow(&l.recv_bytes.get_or_create(&[("topic", "consensus")]), s.recv_consensus.load(Ordering::Relaxed));
            follow(&l.recv_bytes.get_or_create(&[("topic", "txs")]), s.recv_txs.load(Ordering::Relaxed));
            follow(&l.send_bytes.get_or_create(&[("topic", "consensus")]), s.sent_consensus.load(Ordering::Relaxed));
            follow(&l.send_bytes.get_or_create(&[("topic", "txs")]), s.sent_txs.load(Ordering::Relaxed));
        }
        let vm = chain.vm();
        let (calls, gas) = vm.call_stats();
        follow(&l.vm_calls, calls);
        follow(&l.vm_gas, gas);
        let c = vm.cache_stats();
        follow(&l.vm_cache_hits.get_or_create(&[("tier", "memory")]), c.memory_hits);
        follow(&l.vm_cache_hits.get_or_create(&[("tier", "disk")]), c.disk_hits);
        follow(&l.vm_cache_misses, c.compiles);
        l.vm_modules.set(gauge_i(c.modules_in_memory));
        self.refresh_index(ctx)?;
        let mut out = String::new();
        encode(&mut out, &self.registry).map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// Re-reads the decentralization index when the height moved.
    fn refresh_index(&self, ctx: &RpcContext) -> Result<(), String> {
        let height = crate::rpc_index::tip_height(ctx).0;
        let mut at = self.index.at_height.lock().map_err(|_| "metrics lock poisoned".to_string())?;
        if *at == Some(height) {
            return Ok(());
        }
        let ix = &self.index;
        let Some(r) = crate::rpc_index::latest_record(ctx).map_err(|e| e.to_string())? else {
            *at = Some(height);
            return Ok(());
        };
        for f in [&ix.epoch, &ix.nakamoto, &ix.headline, &ix.metric] {
            f.clear();
        }
        ix.epoch.get_or_create(&Vec::new()).set(r.epoch as f64);
        let labels = |pairs: &[(&str, &str)]| -> DynLabels {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        for h in crate::rpc_index::headline(&r) {
            if let Some(v) = h.value {
                let l =
                    labels(&[("threshold", &h.threshold), ("fraction", &h.fraction), ("comparison", &h.comparison)]);
                ix.headline.get_or_create(&l).set(f64::from(v));
            }
        }
        for s in &r.subsystems {
            for (t, v) in Threshold::STANDARD.iter().zip(&s.nakamoto) {
                if let Some(v) = v {
                    let fraction = t.fraction();
                    let l = labels(&[
                        ("subsystem", &s.name),
                        ("threshold", t.name),
                        ("fraction", &fraction),
                        ("comparison", t.cmp.symbol()),
                    ]);
                    ix.nakamoto.get_or_create(&l).set(f64::from(*v));
                }
            }
            let Some(m) = crate::rpc_index::report(s) else { continue };
            let values = [
                ("hhi", Some(m.hhi.to_f64())),
                ("gini", Some(m.gini.to_f64())),
                ("largest_share", Some(m.largest_share.to_f64())),
                ("shannon_entropy_bits", m.shannon_entropy_bits),
                ("normalised_entropy", m.normalised_entropy),
                ("theil", m.theil),
                ("entities", Some(m.entities as f64)),
            ];
            for (name, value) in values {
                if let Some(x) = value {
                    ix.metric.get_or_create(&labels(&[("subsystem", &s.name), ("metric", name)])).set(x);
                }
            }
        }
        *at = Some(height);
        Ok(())
    }
}

/// Follows committed blocks and records them (runs until the chain's block
/// channel closes or its runtime stops).
pub async fn sample_blocks(metrics: Arc<Metrics>, ctx: Arc<RpcContext>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut blocks = ctx.chain.subscribe_blocks();
    let mut prev: Option<(u64, u64)> = None;
    // The block the node starts at, so the gauges are set before the first new one.
    let tip = ctx.chain.tip();
    if tip.height.0 > 0 {
        let b = crate::chain::CommittedBlock {
            height: tip.height,
            hash: tip.hash,
            state_root: tip.state_root,
            time_ms: tip.time_ms,
            num_txs: ctx.chain.store().block(tip.height).ok().flatten().map_or(0, |b| b.txs.len()),
            gas_used: 0,
        };
        let (m, c) = (metrics.clone(), ctx.clone());
        let _ = tokio::task::spawn_blocking(move || m.observe_block(&c, &b, None)).await;
        prev = Some((tip.height.0, tip.time_ms));
    }
    loop {
        let b = match blocks.recv().await {
            Ok(b) => b,
            Err(RecvError::Lagged(_)) => {
                prev = None;
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let prev_time = prev.filter(|(h, _)| h + 1 == b.height.0).map(|(_, t)| t);
        prev = Some((b.height.0, b.time_ms));
        let (m, c) = (metrics.clone(), ctx.clone());
        let _ = tokio::task::spawn_blocking(move || m.observe_block(&c, &b, prev_time)).await;
    }
}

fn text_response(status: u16, content_type: &str, body: String) -> HttpResponse {
    let mut r = HttpResponse::new(HttpBody::from(body));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert("content-type", v);
    }
    r
}

/// Answers one request of the metrics server.
async fn answer(req: HttpRequest<hyper::body::Incoming>, m: Arc<Metrics>, ctx: Arc<RpcContext>) -> HttpResponse {
    if req.uri().path() != PATH {
        return text_response(404, "text/plain", format!("not found: metrics are at {PATH}\n"));
    }
    if req.method() != "GET" && req.method() != "HEAD" {
        return text_response(405, "text/plain", format!("only GET is served at {PATH}\n"));
    }
    let openmetrics = req
        .headers()
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    match tokio::task::spawn_blocking(move || m.render(&ctx)).await {
        Ok(Ok(text)) if openmetrics => text_response(200, OPENMETRICS, text),
        Ok(Ok(text)) => text_response(200, PROMETHEUS_TEXT, to_prometheus_text(&text)),
        Ok(Err(e)) => text_response(500, "text/plain", format!("cannot render metrics: {e}\n")),
        Err(e) => text_response(500, "text/plain", format!("cannot render metrics: {e}\n")),
    }
}

/// The metrics HTTP server: binds `addr` (on the current runtime) and serves
/// [`PATH`] until `stop` fires. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    ctx: Arc<RpcContext>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_SCRAPE_CONNECTIONS));
    tokio::spawn(sample_blocks(metrics.clone(), ctx.clone()));
    tokio::spawn(async move {
        loop {
            let sock = tokio::select! {
                _ = stop.changed() => return,
                r = listener.accept() => match r {
                    Ok((s, _)) => s,
                    Err(e) => {
                        tracing::debug!(error = %e, "metrics: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else { continue };
            let (m, c) = (metrics.clone(), ctx.clone());
            let svc = tower::service_fn(move |req| {
                let (m, c) = (m.clone(), c.clone());
                async move { Ok::<_, std::convert::Infallible>(answer(req, m, c).await) }
            });
            tokio::spawn(async move {
                let _permit = permit;
                let _ = tokio::time::timeout(Duration::from_secs(30), jsonrpsee::server::serve(sock, svc)).await;
            });
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests;
