//! `config.toml`: the operator's settings, with defaults for everything and a
//! `validate()` that explains what is wrong.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Node configuration. Every field has a default, so an empty file is valid.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// A human name for this node (logs, status).
    pub moniker: String,
    pub rpc: RpcConfig,
    pub mempool: MempoolConfig,
    pub p2p: P2pConfig,
    pub consensus: ConsensusConfig,
    pub storage: StorageConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub index: IndexConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// libp2p listen address (multiaddr), e.g. /ip4/0.0.0.0/tcp/26656.
    pub listen: String,
    /// Addresses other nodes should dial to reach this one (behind NAT etc.).
    pub external_addresses: Vec<String>,
    /// Peers kept connected at all times and redialled with backoff:
    /// multiaddrs ending in /p2p/<peer id>.
    pub persistent_peers: Vec<String>,
    /// Entry points for peer discovery (Kademlia); dialled like persistent peers.
    pub bootstrap_peers: Vec<String>,
    /// Most peers connected at once (persistent peers are always allowed).
    pub max_peers: usize,
    /// Largest block-sync response accepted from a peer, in bytes.
    pub max_sync_response_bytes: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    /// Address of the JSON-RPC server (HTTP and WebSocket on one port).
    pub listen: String,
    pub max_connections: u32,
    pub max_request_bytes: u32,
    pub max_response_bytes: u32,
    /// Longest `agora_sendTxCommit` may wait.
    #[serde(with = "humantime_serde")]
    pub max_commit_wait: Duration,
    /// What a block or event subscription does when its subscriber does not
    /// keep up: `notify` (drop, then send `{missed, resume_from}`) or `close`.
    pub slow_subscriber: SlowSubscriber,
    /// Notifications queued per subscription before it counts as slow.
    pub subscription_buffer: usize,
    /// Most calls in one JSON-RPC batch.
    pub max_batch: u32,
    /// Most subscriptions one WebSocket connection holds at once.
    pub max_subscriptions_per_connection: u32,
    /// Contract queries and dry runs running at once (more wait briefly, then `BUSY`).
    pub max_concurrent_queries: u32,
    /// Origins allowed to call from a browser (CORS). Empty: no CORS headers
    /// (browsers refuse cross-origin calls); `["*"]`: any origin.
    pub cors_allowed_origins: Vec<String>,
    /// Requests per client IP address (token bucket); HTTP answers 429 past
    /// it, WebSocket calls get error 1016 (`RATE_LIMITED`).
    pub rate_limit_per_ip: RateLimitConfig,
    /// Loopback clients (127.0.0.0/8, ::1) are not rate limited, nor held to
    /// `max_connections_per_ip`, unless their request came through a proxy
    /// (a trusted one, or one that added `X-Forwarded-For`, `Forwarded` or
    /// `X-Real-IP`).
    pub rate_limit_exempt_loopback: bool,
    /// Threads of the RPC server's own runtime (separate from consensus and p2p).
    pub worker_threads: u32,
    /// Most connections open at once from one client address (IPv6: one
    /// /64); more are closed as soon as they are accepted.
    pub max_connections_per_ip: u32,
    /// Most subscriptions open at once, all connections together (each can
    /// queue `subscription_buffer` notifications); past it, error 1018.
    pub max_subscriptions_total: u32,
    /// Reverse proxies (IP addresses or networks like `10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client, for the rate limit and the per-IP
    /// connection cap. Nobody else's header is believed.
    pub trusted_proxies: Vec<String>,
    /// Show network addresses (the peers' and this node's listen addresses)
    /// in `agora_networkInfo`. Off: a sentry's RPC does not reveal the
    /// validator behind it.
    pub expose_peer_addresses: bool,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub per_second: u32,
    pub burst: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics at `http://LISTEN/metrics`.
    pub enabled: bool,
    /// Address of the metrics server (its own port, not the RPC port).
    pub listen: String,
}

/// The slow-subscriber policy (`rpc.slow_subscriber`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlowSubscriber {
    /// Drop what does not fit, then tell the subscriber what it missed.
    #[default]
    Notify,
    /// Close the subscription with an error naming the height to resume from.
    Close,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    pub max_txs: usize,
    pub max_bytes: usize,
    pub max_nonce_gap: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// Overrides the genesis block interval on this node (for tests); empty = genesis value.
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub block_interval: Option<Duration>,
    /// Most transactions this node puts in a block it proposes, so a block
    /// can be built, gossiped and re-executed by every validator well within
    /// the propose timeout (the chain's own limits are `max_block_bytes` and
    /// `max_block_gas`).
    pub max_block_txs: usize,
    /// Append every signature this validator releases to `signatures.jsonl`
    /// in the home directory (an audit trail for double-sign checks).
    pub signature_log: bool,
    /// Tags this build in the headers it proposes: `agorad/VERSION+TAG`
    /// (empty: `agorad/VERSION`).
    pub client_tag: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// fsync each block's batch. Turning this off loses durability on power loss.
    pub sync_writes: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `tracing` filter, e.g. "info" or "node=debug,info". `RUST_LOG` overrides it.
    pub level: String,
    /// `text` (human-readable) or `json` (one JSON object a line).
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            moniker: "agora-node".into(),
            rpc: RpcConfig::default(),
            mempool: MempoolConfig::default(),
            p2p: P2pConfig::default(),
            consensus: ConsensusConfig::default(),
            storage: StorageConfig::default(),
            log: LogConfig::default(),
            metrics: MetricsConfig::default(),
            index: IndexConfig::default(),
        }
    }
}
impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            listen: "127.0.0.1:26657".into(),
            max_connections: 1000,
            // A contract upload of `max_code_bytes` (256 KiB) is 512 KiB of hex.
            max_request_bytes: 4 * 1024 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_commit_wait: Duration::from_secs(120),
            slow_subscriber: SlowSubscriber::Notify,
            subscription_buffer: 1024,
            max_batch: 100,
            max_subscriptions_per_connection: 64,
            max_concurrent_queries: 8,
            cors_allowed_origins: Vec::new(),
            rate_limit_per_ip: RateLimitConfig::default(),
            rate_limit_exempt_loopback: true,
            worker_threads: 2,
            max_connections_per_ip: 32,
            max_subscriptions_total: 1024,
            trusted_proxies: Vec::new(),
            expose_peer_addresses: false,
        }
    }
}
impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig { per_second: 200, burst: 400 }
    }
}
impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true, listen: "127.0.0.1:26660".into() }
    }
}
impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig { max_txs: 100_000, max_bytes: 128 * 1024 * 1024, max_nonce_gap: 256 }
    }
}
impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            listen: "/ip4/0.0.0.0/tcp/26656".into(),
            external_addresses: Vec::new(),
            persistent_peers: Vec::new(),
            bootstrap_peers: Vec::new(),
            max_peers: 50,
            max_sync_response_bytes: 32 * 1024 * 1024,
        }
    }
}
impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig { block_interval: None, max_block_txs: 5000, signature_log: false, client_tag: String::new() }
    }
}
/// `[index]`: the history index behind `agora_txsByAddress`,
/// `agora_searchEvents` and `agora_contractsByCode` (like CometBFT's
/// `tx_index.indexer = "kv" | "null"`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// Write the index at commit (in each block's batch). Off: nothing is
    /// written, the rows already written are dropped at start, and those
    /// methods answer 1017; turned on again, it indexes from the next height.
    pub enabled: bool,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { enabled: true }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { sync_writes: true }
    }
}
impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info,libp2p_gossipsub=error,libp2p_request_response=error".into(), format: LogFormat::Text }
    }
}

/// Upper bounds of the `[rpc]` limits: values past them are mistakes (a
/// typo, a unit confusion), not policies, and are refused at start-up.
pub mod rpc_bounds {
    pub const MAX_CONNECTIONS: u32 = 100_000;
    pub const MAX_REQUEST_BYTES: u32 = 256 * 1024 * 1024;
    pub const MAX_RESPONSE_BYTES: u32 = 1024 * 1024 * 1024;
    pub const MAX_BATCH: u32 = 10_000;
    pub const MAX_SUBSCRIPTIONS: u32 = 10_000;
    pub const MAX_CONCURRENT_QUERIES: u32 = 1024;
    pub const MAX_RATE_PER_SECOND: u32 = 1_000_000;
    pub const MAX_WORKER_THREADS: u32 = 256;
    pub const MAX_CORS_ORIGINS: usize = 256;
    pub const MAX_SUBSCRIPTIONS_TOTAL: u32 = 1_000_000;
    /// `max_subscriptions_total × subscription_buffer`: notifications that
    /// may wait in subscription queues at once (a block notification is
    /// at most 300 bytes, an event one up to a few KiB).
    pub const MAX_QUEUED_NOTIFICATIONS: u64 = 1 << 24;
}

impl RpcConfig {
    /// Refuses zero and absurd limits, naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        use rpc_bounds as b;
        let range = |field: &'static str, v: u64, min: u64, max: u64| {
            if v < min || v > max {
                Err(ConfigError::Invalid { field, reason: format!("{v} is out of range: must be {min}..={max}") })
            } else {
                Ok(())
            }
        };
        range("rpc.max_connections", self.max_connections.into(), 1, b::MAX_CONNECTIONS.into())?;
        range("rpc.max_request_bytes", self.max_request_bytes.into(), 1024, b::MAX_REQUEST_BYTES.into())?;
        range("rpc.max_response_bytes", self.max_response_bytes.into(), 64 * 1024, b::MAX_RESPONSE_BYTES.into())?;
        range("rpc.max_batch", self.max_batch.into(), 1, b::MAX_BATCH.into())?;
        range(
            "rpc.max_subscriptions_per_connection",
            self.max_subscriptions_per_connection.into(),
            1,
            b::MAX_SUBSCRIPTIONS.into(),
        )?;
        range("rpc.max_concurrent_queries", self.max_concurrent_queries.into(), 1, b::MAX_CONCURRENT_QUERIES.into())?;
        range("rpc.worker_threads", self.worker_threads.into(), 1, b::MAX_WORKER_THREADS.into())?;
        range("rpc.max_connections_per_ip", self.max_connections_per_ip.into(), 1, b::MAX_CONNECTIONS.into())?;
        range(
            "rpc.max_subscriptions_total",
            self.max_subscriptions_total.into(),
            1,
            b::MAX_SUBSCRIPTIONS_TOTAL.into(),
        )?;
        let queued = u64::from(self.max_subscriptions_total).saturating_mul(self.subscription_buffer as u64);
        if queued > b::MAX_QUEUED_NOTIFICATIONS {
            return Err(ConfigError::Invalid {
                field: "rpc.max_subscriptions_total",
                reason: format!(
                    "{} subscriptions × subscription_buffer {} could queue {queued} notifications; at most {} \
                     (lower one of them)",
                    self.max_subscriptions_total,
                    self.subscription_buffer,
                    b::MAX_QUEUED_NOTIFICATIONS
                ),
            });
        }
        if self.trusted_proxies.len() > crate::rpc_limits::client::MAX_TRUSTED_PROXIES {
            return Err(ConfigError::Invalid {
                field: "rpc.trusted_proxies",
                reason: format!("at most {} entries", crate::rpc_limits::client::MAX_TRUSTED_PROXIES),
            });
        }
        for p in &self.trusted_proxies {
            crate::rpc_limits::IpNet::parse(p)
                .map_err(|reason| ConfigError::Invalid { field: "rpc.trusted_proxies", reason })?;
        }
        range(
            "rpc.rate_limit_per_ip.per_second",
            self.rate_limit_per_ip.per_second.into(),
            1,
            b::MAX_RATE_PER_SECOND.into(),
        )?;
        range("rpc.rate_limit_per_ip.burst", self.rate_limit_per_ip.burst.into(), 1, b::MAX_RATE_PER_SECOND.into())?;
        if self.max_commit_wait.is_zero() || self.max_commit_wait > Duration::from_secs(3600) {
            return Err(ConfigError::Invalid {
                field: "rpc.max_commit_wait",
                reason: "must be more than 0s and at most 1h".into(),
            });
        }
        if self.cors_allowed_origins.len() > b::MAX_CORS_ORIGINS {
            return Err(ConfigError::Invalid {
                field: "rpc.cors_allowed_origins",
                reason: format!("at most {} origins", b::MAX_CORS_ORIGINS),
            });
        }
        for o in &self.cors_allowed_origins {
            if let Err(reason) = crate::rpc_limits::check_origin(o) {
                return Err(ConfigError::Invalid { field: "rpc.cors_allowed_origins", reason });
            }
        }
        Ok(())
    }
}

/// Configuration problems, each naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {error}", .path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: {error}", .path.display())]
    Parse { path: PathBuf, error: Box<toml::de::Error> },
    #[error("config `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io { path: path.into(), error })?;
        let c: Config =
            toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.into(), error: Box::new(e) })?;
        c.validate()?;
        Ok(c)
    }

    pub fn rpc_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.rpc.listen.parse().map_err(|e| ConfigError::Invalid {
            field: "rpc.listen",
            reason: format!("`{}` is not an address like 127.0.0.1:26657 ({e})", self.rpc.listen),
        })
    }

    pub fn metrics_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.metrics.listen.parse().map_err(|e| ConfigError::Invalid {
            field: "metrics.listen",
            reason: format!("`{}` is not an address like 127.0.0.1:26660 ({e})", self.metrics.listen),
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.rpc_addr()?;
        self.metrics_addr()?;
        self.rpc.validate()?;
        let inv = |field, reason: &str| Err(ConfigError::Invalid { field, reason: reason.into() });
        if self.metrics.enabled && self.metrics.listen == self.rpc.listen {
            return inv("metrics.listen", "must differ from rpc.listen (metrics have their own port)");
        }
        if !(1..=100_000).contains(&self.rpc.subscription_buffer) {
            return inv("rpc.subscription_buffer", "must be in 1..=100000");
        }
        if self.mempool.max_txs == 0 {
            return inv("mempool.max_txs", "must be positive");
        }
        if self.mempool.max_bytes < 64 * 1024 {
            return inv("mempool.max_bytes", "must be at least 64 KiB");
        }
        for (field, list) in [
            ("p2p.listen", std::slice::from_ref(&self.p2p.listen)),
            ("p2p.external_addresses", &self.p2p.external_addresses[..]),
        ] {
            for a in list {
                if a.parse::<libp2p::Multiaddr>().is_err() {
                    return Err(ConfigError::Invalid {
                        field,
                        reason: format!("`{a}` is not a multiaddr like /ip4/127.0.0.1/tcp/26656"),
                    });
                }
            }
        }
        for (field, list) in
            [("p2p.persistent_peers", &self.p2p.persistent_peers), ("p2p.bootstrap_peers", &self.p2p.bootstrap_peers)]
        {
            for a in list {
                let ok = a
                    .parse::<libp2p::Multiaddr>()
                    .is_ok_and(|m| matches!(m.iter().last(), Some(libp2p::multiaddr::Protocol::P2p(_))));
                if !ok {
                    return Err(ConfigError::Invalid {
                        field,
                        reason: format!("`{a}` is not a peer address like /ip4/10.0.0.2/tcp/26656/p2p/12D3KooW…"),
                    });
                }
            }
        }
        if let Err(e) = ledger::block::check_client(&crate::chain::client_name(&self.consensus.client_tag)) {
            return inv("consensus.client_tag", &e);
        }
        if self.consensus.max_block_txs == 0 {
            return inv("consensus.max_block_txs", "must be positive");
        }
        if self.p2p.max_peers == 0 {
            return inv("p2p.max_peers", "must be positive");
        }
        if self.p2p.max_sync_response_bytes < 1024 * 1024 {
            return inv("p2p.max_sync_response_bytes", "must be at least 1 MiB");
        }
        if let Some(i) = self.consensus.block_interval
            && i > Duration::from_secs(600)
        {
            return inv("consensus.block_interval", "must be at most 10m (0s = no pause between heights)");
        }
        Ok(())
    }

    /// The commented file `agorad init` writes.
    pub fn commented_toml(&self) -> String {
        let d = self;
        format!(
            r#"# Agora node configuration (agorad). Every setting has a default;
# delete a line to get it back. Durations are human-readable: "500ms", "2s", "1m".

# A human name for this node, shown in logs and status.
moniker = "{moniker}"

[rpc]
# JSON-RPC over HTTP and WebSocket, on one port. Keep it on loopback unless you
# put it behind a proxy: it accepts transactions from anyone who can reach it.
listen = "{listen}"
max_connections = {maxc}
# Largest request body, in bytes (transactions are far smaller).
max_request_bytes = {maxreq}
max_response_bytes = {maxresp}
# Longest a client may wait in agora_sendTxCommit.
max_commit_wait = "{wait}"
# A block or event subscriber that does not keep up: "notify" drops what does
# not fit its buffer, then sends {{"missed": n, "resume_from": height}};
# "close" ends the subscription with an error naming the height to resume from.
slow_subscriber = "{slow}"
# Notifications queued per subscription before its subscriber counts as slow.
subscription_buffer = {subbuf}
# Most calls in one JSON-RPC batch (a bigger batch gets one error).
max_batch = {max_batch}
# Most subscriptions one WebSocket connection may hold.
max_subscriptions_per_connection = {max_subs}
# Contract queries and dry runs running at once (more wait up to 1s, then BUSY).
max_concurrent_queries = {max_queries}
# Browser origins allowed to call (CORS), e.g. ["https://explorer.example"].
# Empty: no CORS headers at all; ["*"]: any origin.
cors_allowed_origins = {cors}
# Threads of the RPC server's own runtime, apart from consensus and p2p.
worker_threads = {workers}
# Clients on loopback (127.0.0.0/8, ::1) are not rate limited nor held to
# max_connections_per_ip, unless the request came through a proxy (a trusted
# one, or one that added X-Forwarded-For, Forwarded or X-Real-IP).
rate_limit_exempt_loopback = {exempt}
# Most connections open at once from one client address (IPv6: one /64).
max_connections_per_ip = {per_ip}
# Most subscriptions open at once, all connections together (each queues up
# to subscription_buffer notifications, at most 300 bytes a block); past it, error 1018.
max_subscriptions_total = {subs_total}
# Reverse proxies whose X-Forwarded-For names the client (for the rate limit
# and the per-IP connection cap), e.g. ["127.0.0.1", "10.0.0.0/8"]. The
# header of any other peer is never believed.
trusted_proxies = {proxies}
# Show network addresses (peers' and this node's) in agora_networkInfo. Keep
# it off on a sentry: the addresses would reveal the validator behind it.
expose_peer_addresses = {expose}

[rpc.rate_limit_per_ip]
# Requests per client IP: a token bucket of `burst` refilled at `per_second`.
# Past it, HTTP answers 429 and WebSocket calls get error 1016 (RATE_LIMITED).
per_second = {rate}
burst = {burst}

[metrics]
# Prometheus metrics at http://LISTEN/metrics, on their own port.
enabled = {metrics_enabled}
listen = "{metrics_listen}"

[mempool]
# Bound on pending transactions, by count and by total size in bytes.
max_txs = {mtx}
max_bytes = {mbytes}
# How far ahead of an account's next nonce a transaction may wait in the pool.
# Transactions waiting behind a missing nonce take at most a quarter of max_txs.
max_nonce_gap = {gap}

[p2p]
# libp2p (TCP + noise + yamux). Listen address as a multiaddr.
listen = "{p2p_listen}"
# Addresses other nodes should dial to reach this node, if not the listen one.
external_addresses = {external}
# Peers to stay connected to (redialled with backoff), as
# "/ip4/HOST/tcp/PORT/p2p/PEER_ID". Validators usually list each other here.
persistent_peers = {persistent}
# Entry points for peer discovery (Kademlia), same format.
bootstrap_peers = {bootstrap}
max_peers = {max_peers}
# Largest block-sync response accepted from a peer, in bytes.
max_sync_response_bytes = {max_sync}

[consensus]
# Uncomment to override the genesis block interval on this node only.
# block_interval = "1s"
# Most transactions this node puts in a block it proposes (so a block is
# built, gossiped and re-executed by every validator well within the propose
# timeout; the chain's hard limits are max_block_bytes and max_block_gas).
max_block_txs = {max_block_txs}
# Append each signature this validator releases (height, round, step, value)
# to signatures.jsonl in the home directory: an audit trail for double-sign checks.
signature_log = {siglog}
# A tag for a custom build: the headers this validator proposes then name its
# client "agorad/VERSION+TAG" (the decentralization index counts clients).
client_tag = "{client_tag}"

[storage]
# fsync every block's write batch (turn off only for throwaway test chains).
sync_writes = {sync}

[index]
# The history index (txsByAddress, searchEvents, contractsByCode), written with
# each block. false: nothing is written, rows already written are dropped at
# start, and those methods answer 1017; set back to true, it indexes from the
# next height (resync from genesis for the full history).
enabled = {index_enabled}

[log]
# tracing filter: "info", "debug", "node=debug,info"… RUST_LOG overrides it.
level = "{level}"
# "text" (for people) or "json" (one object a line, for log collectors).
format = "{log_format}"
"#,
            moniker = d.moniker,
            client_tag = d.consensus.client_tag,
            listen = d.rpc.listen,
            maxc = d.rpc.max_connections,
            maxreq = d.rpc.max_request_bytes,
            maxresp = d.rpc.max_response_bytes,
            wait = humantime::format_duration(d.rpc.max_commit_wait),
            slow = match d.rpc.slow_subscriber {
                SlowSubscriber::Notify => "notify",
                SlowSubscriber::Close => "close",
            },
            subbuf = d.rpc.subscription_buffer,
            mtx = d.mempool.max_txs,
            mbytes = d.mempool.max_bytes,
            gap = d.mempool.max_nonce_gap,
            sync = d.storage.sync_writes,
            index_enabled = d.index.enabled,
            siglog = d.consensus.signature_log,
            max_block_txs = d.consensus.max_block_txs,
            p2p_listen = d.p2p.listen,
            external = toml_list(&d.p2p.external_addresses),
            persistent = toml_list(&d.p2p.persistent_peers),
            bootstrap = toml_list(&d.p2p.bootstrap_peers),
            max_peers = d.p2p.max_peers,
            max_sync = d.p2p.max_sync_response_bytes,
            level = d.log.level,
            log_format = d.log.format.as_str(),
            max_batch = d.rpc.max_batch,
            max_subs = d.rpc.max_subscriptions_per_connection,
            max_queries = d.rpc.max_concurrent_queries,
            cors = toml_list(&d.rpc.cors_allowed_origins),
            workers = d.rpc.worker_threads,
            exempt = d.rpc.rate_limit_exempt_loopback,
            per_ip = d.rpc.max_connections_per_ip,
            subs_total = d.rpc.max_subscriptions_total,
            proxies = toml_list(&d.rpc.trusted_proxies),
            expose = d.rpc.expose_peer_addresses,
            rate = d.rpc.rate_limit_per_ip.per_second,
            burst = d.rpc.rate_limit_per_ip.burst,
            metrics_enabled = d.metrics.enabled,
            metrics_listen = d.metrics.listen,
        )
    }
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn commented_template_parses_to_defaults() {
        let c = Config { moniker: "n1".into(), ..Config::default() };
        let parsed: Config = toml::from_str(&c.commented_toml()).unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed.moniker, "n1");
        assert_eq!(parsed.rpc.listen, c.rpc.listen);
        assert_eq!(parsed.rpc.max_commit_wait, c.rpc.max_commit_wait);
        assert!(parsed.storage.sync_writes);
        assert_eq!(parsed.p2p.listen, c.p2p.listen);
    }

    #[test]
    fn peers_must_name_their_id() {
        let c: Config = toml::from_str("[p2p]\npersistent_peers = [\"/ip4/127.0.0.1/tcp/1\"]").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("p2p.persistent_peers"));
        let c: Config = toml::from_str("[p2p]\nlisten = \"127.0.0.1:1\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("p2p.listen"));
        let mut c = Config::default();
        c.p2p.persistent_peers =
            vec!["/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA".into()];
        let parsed: Config = toml::from_str(&c.commented_toml()).unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed.p2p.persistent_peers, c.p2p.persistent_peers);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let c: Config = toml::from_str("[rpc]\nlisten = \"nowhere\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("rpc.listen"));
        assert!(toml::from_str::<Config>("[rpc]\nlistn = \"x\"").is_err());
        let c: Config = toml::from_str("[consensus]\nblock_interval = \"1h\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("consensus.block_interval"));
    }

    #[test]
    fn rpc_limits_reject_zero_and_absurd_values() {
        for (toml_text, field) in [
            ("[rpc]\nmax_batch = 0", "rpc.max_batch"),
            ("[rpc]\nmax_batch = 1000000", "rpc.max_batch"),
            ("[rpc]\nmax_connections = 0", "rpc.max_connections"),
            ("[rpc]\nmax_subscriptions_per_connection = 0", "rpc.max_subscriptions_per_connection"),
            ("[rpc]\nmax_concurrent_queries = 0", "rpc.max_concurrent_queries"),
            ("[rpc]\nmax_concurrent_queries = 100000", "rpc.max_concurrent_queries"),
            ("[rpc]\nworker_threads = 0", "rpc.worker_threads"),
            ("[rpc]\nmax_connections_per_ip = 0", "rpc.max_connections_per_ip"),
            ("[rpc]\nmax_subscriptions_total = 0", "rpc.max_subscriptions_total"),
            ("[rpc]\nmax_subscriptions_total = 100000\nsubscription_buffer = 1000", "rpc.max_subscriptions_total"),
            ("[rpc]\ntrusted_proxies = [\"proxy.example\"]", "rpc.trusted_proxies"),
            ("[rpc]\ntrusted_proxies = [\"10.0.0.1/8\"]", "rpc.trusted_proxies"),
            ("[rpc]\nmax_response_bytes = 10", "rpc.max_response_bytes"),
            ("[rpc]\nmax_request_bytes = 4294967295", "rpc.max_request_bytes"),
            ("[rpc]\nmax_commit_wait = \"0s\"", "rpc.max_commit_wait"),
            ("[rpc.rate_limit_per_ip]\nper_second = 0", "rpc.rate_limit_per_ip.per_second"),
            ("[rpc.rate_limit_per_ip]\nburst = 0", "rpc.rate_limit_per_ip.burst"),
            ("[rpc]\ncors_allowed_origins = [\"example.com\"]", "rpc.cors_allowed_origins"),
            ("[rpc]\ncors_allowed_origins = [\"https://a.example/path\"]", "rpc.cors_allowed_origins"),
            ("[metrics]\nlisten = \"nowhere\"", "metrics.listen"),
            ("[metrics]\nlisten = \"127.0.0.1:26657\"", "metrics.listen"),
        ] {
            let c: Config = toml::from_str(toml_text).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{toml_text}: {e}");
        }
        assert!(toml::from_str::<Config>("[log]\nformat = \"xml\"").is_err());
        let c: Config = toml::from_str(
            "[rpc]\ncors_allowed_origins = [\"*\", \"http://localhost:8080\"]\n[log]\nformat = \"json\"\n[metrics]\nenabled = false",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.log.format, LogFormat::Json);
    }

    #[test]
    fn commented_template_keeps_every_limit() {
        let mut c = Config::default();
        c.rpc.max_batch = 7;
        c.rpc.max_subscriptions_per_connection = 9;
        c.rpc.max_concurrent_queries = 3;
        c.rpc.cors_allowed_origins = vec!["https://x.example".into()];
        c.rpc.rate_limit_per_ip = RateLimitConfig { per_second: 5, burst: 11 };
        c.rpc.rate_limit_exempt_loopback = false;
        c.rpc.worker_threads = 4;
        c.rpc.max_connections_per_ip = 5;
        c.rpc.max_subscriptions_total = 77;
        c.rpc.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into(), "fd00::/8".into()];
        c.rpc.expose_peer_addresses = true;
        c.metrics = MetricsConfig { enabled: false, listen: "127.0.0.1:9999".into() };
        c.log.format = LogFormat::Json;
        let p: Config = toml::from_str(&c.commented_toml()).unwrap();
        p.validate().unwrap();
        assert_eq!(p.rpc.max_batch, 7);
        assert_eq!(p.rpc.max_subscriptions_per_connection, 9);
        assert_eq!(p.rpc.max_concurrent_queries, 3);
        assert_eq!(p.rpc.cors_allowed_origins, c.rpc.cors_allowed_origins);
        assert_eq!(p.rpc.rate_limit_per_ip, c.rpc.rate_limit_per_ip);
        assert!(!p.rpc.rate_limit_exempt_loopback);
        assert_eq!(p.rpc.worker_threads, 4);
        assert_eq!(p.rpc.max_connections_per_ip, 5);
        assert_eq!(p.rpc.max_subscriptions_total, 77);
        assert_eq!(p.rpc.trusted_proxies, c.rpc.trusted_proxies);
        assert!(p.rpc.expose_peer_addresses);
        assert!(!p.metrics.enabled);
        assert_eq!(p.metrics.listen, "127.0.0.1:9999");
        assert_eq!(p.log.format, LogFormat::Json);
    }
}
