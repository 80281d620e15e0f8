//! The peer-to-peer edge: libp2p over TCP with noise and yamux.
//!
//! - gossipsub carries consensus messages (proposals with their block, votes)
//!   and batches of transactions, each on its own topic named after the
//!   chain id. Messages are validated *before* they are forwarded
//!   (`validate_messages`): consensus messages by the engine (through the
//!   consensus core: signature, membership, height and round window), tx
//!   batches here by mempool admission. Rejected messages lower the sender's
//!   gossipsub peer score; peers below the graylist threshold are ignored.
//! - request-response (`/agora/sync/1`) serves block sync: a peer's tip
//!   (status), and decided blocks with their commit certificates.
//! - identify + Kademlia find peers beyond the configured ones; persistent
//!   peers are redialled with exponential backoff.
//!
//! The swarm lives in one tokio task; the engine talks to it through a
//! [`NetworkHandle`] (commands) and receives [`NetEvent`]s. Both ways are
//! bounded channels; the policy when one is full is stated where it is sent
//! (a consensus message that finds the engine's mailbox full is dropped
//! without blame, as gossip may drop it anyway; the core rebroadcasts).
//! The network does not know the chain: it asks a [`NetHost`] for what it
//! serves and admits.
//!
//! Hostile peers:
//! - gossip is anonymous (no author or libp2p signature: each payload is
//!   signed by its own author) and a message id is the hash of a publication
//!   nonce and the payload, so an exact copy is a duplicate gossipsub drops
//!   and a re-published payload is recognised by the engine by its content;
//! - serving block sync is bounded per peer and in total (a request over
//!   the bound is answered "busy" at once, without reading the store);
//! - a peer the engine penalises (a lying tip, an invalid certificate) is
//!   disconnected, blacklisted in gossipsub and refused for a ban period.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ledger::{Hash, Height};
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId, TopicHash};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{Multiaddr, PeerId, StreamProtocol, identify, identity, kad, noise, ping, tcp, yamux};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::P2pConfig;

/// Networking failures at start-up (bad keys, addresses, transports).
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("node key: {0}")]
    Key(String),
    #[error("p2p address `{addr}`: {reason}")]
    Address { addr: String, reason: String },
    #[error("p2p transport: {0}")]
    Transport(String),
}

pub mod peers;
mod stats;
pub use stats::NetStats;
mod serve;
mod task;
use task::{Internal, MAX_ADMISSIONS, Redial, Task};
mod wire;
pub use wire::{
    ConsensusMsg, GOSSIP_NONCE_LEN, MAX_SYNC_BLOCKS, MAX_TX_FETCH, SyncCodec, SyncRequest, SyncResponse, gossip_frame,
    gossip_payload,
};

#[derive(NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
    identify: identify::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
    ping: ping::Behaviour,
}

/// What the network tells the engine.
#[derive(Debug)]
pub enum NetEvent {
    /// A consensus message to validate; answer with [`NetworkHandle::report`].
    Consensus { msg: ConsensusMsg, id: MessageId, from: PeerId, content: Hash },
    /// A peer's latest committed height.
    PeerStatus { peer: PeerId, tip: Height },
    /// Blocks a peer sent in answer to [`NetworkHandle::request_blocks`].
    Blocks { peer: PeerId, blocks: Vec<ledger::CertifiedBlock> },
    /// A block request failed (timeout, disconnect, error answer).
    SyncFailed { peer: PeerId, reason: String },
    /// A peer disconnected (its status is stale).
    PeerGone(PeerId),
    /// Transactions a peer sent in answer to [`NetworkHandle::request_txs`]
    /// (not yet checked against what was asked).
    /// `tag` is the one the request was made with.
    Txs { peer: PeerId, tag: u64, txs: Vec<ledger::SignedTx> },
    /// Transaction request `tag` failed (timeout, disconnect, error answer).
    TxsFailed { peer: PeerId, tag: u64 },
}

enum Command {
    PublishConsensus(Vec<u8>),
    Report { id: MessageId, from: PeerId, acceptance: MessageAcceptance },
    RequestBlocks { peer: PeerId, from: Height, max: u32 },
    RequestTxs { peer: PeerId, hashes: Vec<Hash>, tag: u64 },
    Penalise { peer: PeerId, reason: String },
}

/// What the network needs from the node: its tip, decided blocks to serve,
/// and admission of gossiped transactions.
pub trait NetHost: Send + Sync + 'static {
    fn tip_height(&self) -> Height;
    /// Decided blocks `from..` (at most `max`), each with its certificate.
    fn certified_blocks(&self, from: Height, max: u32) -> Result<Vec<ledger::CertifiedBlock>, String>;
    /// Admits a gossiped batch, in order (signatures verified as one batch):
    /// one verdict per transaction up to and including the first `Invalid`,
    /// after which the rest are not admitted.
    fn admit_txs(&self, batch: &[Vec<u8>]) -> Vec<TxAdmission>;
    /// The transactions with these hashes this node holds (its mempool), in
    /// the order asked; at most `max_bytes` of them (encoded), with their size.
    fn txs_by_hash(&self, hashes: &[Hash], max_bytes: usize) -> (Vec<ledger::SignedTx>, usize);
}

/// The verdict on one gossiped transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxAdmission {
    /// New and admitted to the mempool.
    Admitted,
    /// Malformed, badly signed, too large or for another chain: the sender
    /// is to blame.
    Invalid,
    /// Known, or not admitted for a reason that is nobody's fault (a race
    /// with a commit, a full mempool).
    Skipped,
}

/// Commands queued from the engine and RPC to the swarm task.
pub const COMMAND_QUEUE: usize = 4096;
/// Client transactions queued for gossip.
pub const TX_QUEUE: usize = 16_384;
/// Events queued from the swarm task to the engine.
pub const EVENT_QUEUE: usize = 2048;
/// Sync requests served at once, in total and per peer; more are answered
/// "busy" without reading the store.
pub const MAX_SERVING: usize = 8;
pub const MAX_SERVING_PER_PEER: usize = 2;
/// Block requests served per peer per second (a syncing node has one out at
/// a time); more are answered "busy".
pub const MAX_SERVED_PER_SECOND: u32 = 4;
/// Transaction requests (compact proposals being filled) answered per peer
/// per second; more are answered "busy". An honest validator asks at most
/// once per proposal it lacks transactions of.
pub const MAX_TX_REQUESTS_PER_SECOND: u32 = 16;
/// The error answer of a server at its serving bound (no blame).
pub const BUSY: &str = "busy";
/// How long a penalised peer stays out.
pub const BAN: Duration = Duration::from_millis(crate::sync::BAN_MS);

/// The engine's and RPC's way to the swarm task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct NetworkHandle {
    commands: mpsc::Sender<Command>,
    txs: mpsc::Sender<Vec<u8>>,
    peers: Arc<AtomicUsize>,
    stats: Arc<NetStats>,
    local_peer_id: PeerId,
    table: peers::PeerTable,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::PublishConsensus(b) => write!(f, "PublishConsensus({} bytes)", b.len()),
            Command::Report { id, acceptance, .. } => write!(f, "Report({id}, {acceptance:?})"),
            Command::RequestBlocks { peer, from, max } => write!(f, "RequestBlocks({peer}, {from}, {max})"),
            Command::RequestTxs { peer, hashes, tag } => {
                write!(f, "RequestTxs({peer}, {} hashes, tag {tag})", hashes.len())
            }
            Command::Penalise { peer, reason } => write!(f, "Penalise({peer}: {reason})"),
        }
    }
}

impl NetworkHandle {
    /// Publishes a consensus message to all peers. Queue full: dropped
    /// (the core rebroadcasts its own messages).
    pub fn broadcast(&self, msg: &ConsensusMsg) {
        match borsh::to_vec(msg) {
            Ok(bytes) => self.command(Command::PublishConsensus(bytes)),
            Err(e) => tracing::error!(error = %e, "cannot encode a consensus message"),
        }
    }

    /// Gossips a transaction this node admitted from a client. Queue full:
    /// not gossiped (it stays in this node's mempool and its blocks).
    pub fn gossip_tx(&self, bytes: Vec<u8>) {
        if self.txs.try_send(bytes).is_err() {
            tracing::debug!("tx gossip queue full: transaction kept locally");
        }
    }

    /// The verdict on a gossiped message: forward it, drop it, or drop it and
    /// penalise the peer that sent it. Queue full: dropped (gossipsub forgets
    /// unvalidated messages with its history).
    pub fn report(&self, id: MessageId, from: PeerId, acceptance: MessageAcceptance) {
        self.command(Command::Report { id, from, acceptance });
    }

    /// Asks `peer` for decided blocks starting at `from`. Queue full: the
    /// request times out in the sync state machine and is made again.
    pub fn request_blocks(&self, peer: PeerId, from: Height, max: u32) {
        self.command(Command::RequestBlocks { peer, from, max });
    }

    /// Asks `peer` for transactions by hash (at most [`MAX_TX_FETCH`]; more
    /// are not asked for). Queue full: dropped (the engine's fetch then ends
    /// with its height or round, like a proposal never received).
    /// The answer comes back as [`NetEvent::Txs`] or [`NetEvent::TxsFailed`]
    /// with `tag`.
    pub fn request_txs(&self, peer: PeerId, mut hashes: Vec<Hash>, tag: u64) {
        hashes.truncate(MAX_TX_FETCH);
        self.command(Command::RequestTxs { peer, hashes, tag });
    }

    /// Disconnects `peer` and keeps it out for [`BAN`].
    pub fn penalise(&self, peer: PeerId, reason: String) {
        self.command(Command::Penalise { peer, reason });
    }

    fn command(&self, cmd: Command) {
        if let Err(e) = self.commands.try_send(cmd) {
            tracing::debug!(command = ?e.into_inner(), "network command queue full: dropped");
        }
    }

    /// Connected peers right now.
    pub fn peer_count(&self) -> usize {
        self.peers.load(Ordering::Relaxed)
    }

    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Gossip byte counters.
    pub fn stats(&self) -> Arc<NetStats> {
        self.stats.clone()
    }
}

/// An error with its sources ("cannot listen: address in use"): libp2p's
/// transport errors carry the useful part in their source.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.retain(|p| !p.is_empty());
    parts.dedup();
    parts.join(": ")
}

/// The libp2p identity from the node key (ed25519 secret bytes).
pub fn keypair(secret: [u8; 32]) -> Result<identity::Keypair, NetError> {
    identity::Keypair::ed25519_from_bytes(secret).map_err(|e| NetError::Key(e.to_string()))
}

fn parse_addr(s: &str) -> Result<Multiaddr, NetError> {
    s.parse().map_err(|e: libp2p::multiaddr::Error| NetError::Address { addr: s.into(), reason: e.to_string() })
}

/// A configured peer: its address must end in `/p2p/<peer id>`.
fn parse_peer(s: &str) -> Result<(PeerId, Multiaddr), NetError> {
    let addr = parse_addr(s)?;
    match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(id)) => Ok((id, addr)),
        _ => Err(NetError::Address { addr: s.into(), reason: "must end with /p2p/<peer id>".into() }),
    }
}

/// The gossip topics. Version 2: anonymous messages with a publication nonce
/// (version 1 was signed gossip; the two do not mix, so they do not share a
/// topic and a node of each version simply does not hear the other's gossip).
fn topics(chain_id: &str) -> (IdentTopic, IdentTopic) {
    (IdentTopic::new(format!("/agora/{chain_id}/consensus/2")), IdentTopic::new(format!("/agora/{chain_id}/txs/2")))
}

fn score_params(
    consensus: &TopicHash,
    txs: &TopicHash,
) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    // Only invalid messages count against a peer (P4); delivery-rate scores
    // (P3) would punish quiet topics, which consensus is between heights.
    let topic = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -10.0,
        invalid_message_deliveries_decay: 0.9,
        ..Default::default()
    };
    let mut params = gossipsub::PeerScoreParams::default();
    params.topics.insert(consensus.clone(), topic.clone());
    params.topics.insert(txs.clone(), topic);
    // Many peers from one IP are normal on a local testnet.
    params.ip_colocation_factor_weight = 0.0;
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: -50.0,
        publish_threshold: -100.0,
        graylist_threshold: -200.0,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 5.0,
    };
    (params, thresholds)
}

/// Everything the swarm task needs besides the chain.
#[derive(Debug)]
pub struct NetworkConfig {
    pub chain_id: String,
    pub genesis_hash: Hash,
    pub p2p: P2pConfig,
    pub max_block_bytes: usize,
}

/// Starts the network task. Returns the handle, the event stream and the
/// task (which ends when `shutdown` flips).
pub async fn start(
    cfg: NetworkConfig,
    key: identity::Keypair,
    host: Arc<dyn NetHost>,
    shutdown: watch::Receiver<bool>,
) -> Result<(NetworkHandle, mpsc::Receiver<NetEvent>, tokio::task::JoinHandle<()>), NetError> {
    let local_peer_id = key.public().to_peer_id();
    let (consensus_topic, tx_topic) = topics(&cfg.chain_id);
    // A proposal carries a whole block: the limit is the block limit plus room
    // for the proposal and framing.
    let max_msg = cfg.max_block_bytes + 64 * 1024;
    let max_response = (cfg.max_block_bytes * 2).max(cfg.p2p.max_sync_response_bytes);
    // Anonymous gossip: no author, sequence number or libp2p signature on a
    // message. Every payload is signed by its own author (a validator's
    // proposal or vote, a user's transaction) and checked by the engine or
    // admission; peers are scored and blamed by the connection a message came
    // on, which noise authenticates. A libp2p signature per message only
    // added an ed25519 signing per publication and a verification per copy
    // received (~20 % of a validator's CPU at empty heights).
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .max_transmit_size(max_msg)
        .heartbeat_interval(Duration::from_millis(700))
        // Ids from the content *and* its publication (source, sequence
        // number): see `message_id`. Copies of one message are recognised by
        // the engine (by content hash), which forwards a known message again
        // at most every 5 s, so a replayed copy is never amplified.
        .message_id_fn(message_id)
        .duplicate_cache_time(DUPLICATE_CACHE)
        .build()
        .map_err(|e| NetError::Transport(format!("gossipsub config: {e}")))?;
    let mut gossip = gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
        .map_err(|e| NetError::Transport(format!("gossipsub: {e}")))?;
    let (params, thresholds) = score_params(&consensus_topic.hash(), &tx_topic.hash());
    gossip.with_peer_score(params, thresholds).map_err(|e| NetError::Transport(format!("peer scoring: {e}")))?;
    gossip.subscribe(&consensus_topic).map_err(|e| NetError::Transport(format!("subscribe: {e:?}")))?;
    gossip.subscribe(&tx_topic).map_err(|e| NetError::Transport(format!("subscribe: {e:?}")))?;

    let sync = request_response::Behaviour::with_codec(
        SyncCodec { max_response },
        [(StreamProtocol::new("/agora/sync/1"), ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(Duration::from_secs(20))
            .with_max_concurrent_streams(MAX_SYNC_STREAMS),
    );
    let identify = identify::Behaviour::new(
        identify::Config::new("/agora/1".into(), key.public())
            .with_agent_version(format!("agorad/{}", env!("CARGO_PKG_VERSION"))),
    );
    let mut kad_cfg = kad::Config::new(
        StreamProtocol::try_from_owned(format!("/agora/{}/kad/1", cfg.chain_id))
            .map_err(|e| NetError::Transport(format!("kad protocol name: {e}")))?,
    );
    kad_cfg.set_query_timeout(Duration::from_secs(30));
    let mut kademlia = kad::Behaviour::with_config(local_peer_id, kad::store::MemoryStore::new(local_peer_id), kad_cfg);
    kademlia.set_mode(Some(kad::Mode::Server));
    let behaviour = Behaviour { gossipsub: gossip, sync, identify, kad: kademlia, ping: ping::Behaviour::default() };

    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();

    let listen = parse_addr(&cfg.p2p.listen)?;
    swarm
        .listen_on(listen.clone())
        .map_err(|e| NetError::Address { addr: cfg.p2p.listen.clone(), reason: error_chain(&e) })?;
    for a in &cfg.p2p.external_addresses {
        swarm.add_external_address(parse_addr(a)?);
    }
    let mut persistent = BTreeMap::new();
    for s in cfg.p2p.persistent_peers.iter().chain(cfg.p2p.bootstrap_peers.iter()) {
        let (id, addr) = parse_peer(s)?;
        if id == local_peer_id {
            continue;
        }
        swarm.behaviour_mut().kad.add_address(&id, addr.clone());
        // Not a gossipsub *explicit* peer: explicit peers stay out of the
        // mesh, so they get no IDONTWANT, and every message a node relays
        // went to each of them even when they had it. Among four validators
        // that tripled every transaction batch on the wire (each node
        // received it from the publisher and from both other relays) and
        // each copy cost a decode and a signature check. As mesh peers they
        // are told IDONTWANT on receipt (messages over 1000 bytes, which
        // transaction batches under load are) and are sent a relayed message
        // only when they did not say so; the redial below keeps them
        // connected, and the node's own messages go to every peer
        // (flood publishing) mesh or not.
        persistent.insert(id, Redial { addr, backoff: Duration::from_millis(500), next: Instant::now() });
    }
    let peers = Arc::new(AtomicUsize::new(0));
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (txs_tx, txs_rx) = mpsc::channel(TX_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let table = peers::PeerTable::default();
    let stats = Arc::new(NetStats::default());
    let handle = NetworkHandle {
        commands: cmd_tx,
        txs: txs_tx,
        peers: peers.clone(),
        stats: stats.clone(),
        local_peer_id,
        table: table.clone(),
    };
    let task = Task {
        swarm,
        host,
        consensus_topic,
        tx_topic,
        events: ev_tx,
        peers,
        table,
        stats,
        persistent,
        connected: BTreeSet::new(),
        max_peers: cfg.p2p.max_peers,
        genesis_hash: cfg.genesis_hash,
        pending_blocks: BTreeMap::new(),
        pending_txs: BTreeMap::new(),
        max_tx_response: cfg.max_block_bytes.min(max_response.saturating_sub(64 * 1024)),
        internal: mpsc::channel(MAX_ADMISSIONS + MAX_SERVING),
        tx_batch: Vec::new(),
        tx_batch_bytes: 0,
        admission: Arc::new(tokio::sync::Semaphore::new(MAX_ADMISSIONS)),
        serving: BTreeMap::new(),
        serve_window: BTreeMap::new(),
        banned: BTreeMap::new(),
        rejected: BTreeMap::new(),
    };
    tracing::info!(peer_id = %local_peer_id, %listen, "p2p starting");
    let join = tokio::spawn(task.run(cmd_rx, txs_rx, shutdown));
    Ok((handle, ev_rx, join))
}

/// Gossip ids are remembered for this long (longer than gossip's IHAVE
/// window, 3 heartbeats of 700 ms, so advertised messages are not fetched
/// twice).
const DUPLICATE_CACHE: Duration = Duration::from_millis(2500);
/// Sync streams open at once per connection.
const MAX_SYNC_STREAMS: usize = 16;

/// A gossip message's id: the hash of its topic and data, the data being a
/// publication nonce and the payload ([`gossip_frame`]). The payload alone
/// is not enough: gossipsub refuses to publish an id still in its duplicate
/// cache, and that cache only forgets old ids when a new one is inserted, so
/// in a stalled network (nothing new arriving) a node's rebroadcast of its
/// own vote would be refused forever and the network could never recover (a
/// multi-process test found exactly that). Each publication therefore has its
/// own id, and two different payloads never share one. Every peer must
/// compute ids the same way (they travel in IHAVE, IWANT and IDONTWANT).
pub fn message_id(m: &gossipsub::Message) -> MessageId {
    MessageId::from(Hash::digest_parts(&[m.topic.as_str().as_bytes(), &m.data]).0.to_vec())
}

#[cfg(test)]
mod tests;
