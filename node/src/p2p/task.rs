//! The swarm task: one tokio task owns the libp2p swarm and turns its
//! events, the engine's commands and finished background work into gossip,
//! sync answers, peer verdicts and [`NetEvent`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use ledger::Hash;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId};
use libp2p::request_response::{OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::serve::admit_batch;
use super::stats::add;
use super::wire::{TX_BATCH_BYTES, TX_BATCH_DELAY, TX_BATCH_MAX, gossip_frame, gossip_payload};
use super::{
    BAN, Behaviour, BehaviourEvent, Command, ConsensusMsg, NetEvent, NetHost, NetStats, SyncRequest, SyncResponse,
    peers,
};

#[derive(Debug)]
pub(super) struct Redial {
    pub(super) addr: Multiaddr,
    pub(super) backoff: Duration,
    pub(super) next: Instant,
}

/// Work finished off the swarm task (blocking store reads, admission).
pub(super) enum Internal {
    Respond(PeerId, ResponseChannel<SyncResponse>, SyncResponse),
    Verdict(MessageId, PeerId, MessageAcceptance),
}

pub(super) struct Task {
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) host: Arc<dyn NetHost>,
    pub(super) consensus_topic: IdentTopic,
    pub(super) tx_topic: IdentTopic,
    pub(super) events: mpsc::Sender<NetEvent>,
    pub(super) peers: Arc<AtomicUsize>,
    /// Peers and listen addresses for `agora_networkInfo`.
    pub(super) table: peers::PeerTable,
    pub(super) stats: Arc<NetStats>,
    pub(super) persistent: BTreeMap<PeerId, Redial>,
    pub(super) connected: BTreeSet<PeerId>,
    pub(super) max_peers: usize,
    pub(super) genesis_hash: Hash,
    /// Our outstanding block requests.
    pub(super) pending_blocks: BTreeMap<OutboundRequestId, PeerId>,
    /// Most bytes of transactions in one answer to a transaction request (a
    /// block's worth, below what a peer's codec accepts as a response), and
    /// the most sent to one peer in a second (two blocks' worth).
    pub(super) max_tx_response: usize,
    /// Our outstanding transaction requests (compact proposals being filled).
    /// Transaction requests in flight, with the engine's tag.
    pub(super) pending_txs: BTreeMap<OutboundRequestId, u64>,
    pub(super) internal: (mpsc::Sender<Internal>, mpsc::Receiver<Internal>),
    pub(super) tx_batch: Vec<Vec<u8>>,
    pub(super) tx_batch_bytes: usize,
    /// Gossiped tx batches being admitted at once (at most `MAX_ADMISSIONS`).
    pub(super) admission: Arc<tokio::sync::Semaphore>,
    /// Sync requests being served, per peer (in total at most `MAX_SERVING`).
    pub(super) serving: BTreeMap<PeerId, usize>,
    /// Block requests served per peer in the current second (connected
    /// peers only), at most `MAX_SERVED_PER_SECOND`.
    /// and transaction requests (at most `MAX_TX_REQUESTS_PER_SECOND`).
    /// and bytes of transactions sent (at most two blocks' worth).
    pub(super) serve_window: BTreeMap<PeerId, (Instant, u32, u32, usize)>,
    /// Penalised peers and when their ban ends.
    pub(super) banned: BTreeMap<PeerId, Instant>,
    /// Invalid gossip messages per peer (for the log).
    pub(super) rejected: BTreeMap<PeerId, u64>,
}

/// Gossiped tx batches admitted concurrently; more are dropped.
pub(super) const MAX_ADMISSIONS: usize = 32;

impl Task {
    pub(super) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut txs: mpsc::Receiver<Vec<u8>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut maintenance = tokio::time::interval(Duration::from_millis(500));
        let mut status_poll = tokio::time::interval(Duration::from_millis(1000));
        let mut discovery = tokio::time::interval(Duration::from_secs(30));
        let flush = tokio::time::sleep(TX_BATCH_DELAY);
        tokio::pin!(flush);
        let mut flush_armed = false;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                ev = self.swarm.select_next_some() => self.on_swarm(ev),
                Some(cmd) = commands.recv() => self.on_command(cmd),
                Some(int) = self.internal.1.recv() => self.on_internal(int),
                Some(tx) = txs.recv() => {
                    self.tx_batch_bytes += tx.len();
                    self.tx_batch.push(tx);
                    if self.tx_batch.len() >= TX_BATCH_MAX || self.tx_batch_bytes >= TX_BATCH_BYTES {
                        self.flush_txs();
                        flush_armed = false;
                    } else if !flush_armed {
                        flush.as_mut().reset(Instant::now() + TX_BATCH_DELAY);
                        flush_armed = true;
                    }
                }
                _ = &mut flush, if flush_armed => {
                    self.flush_txs();
                    flush_armed = false;
                }
                _ = maintenance.tick() => {
                    self.unban();
                    self.redial();
                    let mesh = self.swarm.behaviour().gossipsub.mesh_peers(&self.tx_topic.hash()).copied().collect();
                    self.table.set_mesh(&mesh);
                }
                _ = status_poll.tick() => {
                    let peers: Vec<PeerId> = self.connected.iter().copied().collect();
                    for p in peers {
                        self.swarm.behaviour_mut().sync.send_request(&p, SyncRequest::Status);
                    }
                }
                _ = discovery.tick() => {
                    if !self.connected.is_empty() {
                        let _ = self.swarm.behaviour_mut().kad.bootstrap();
                    }
                }
            }
        }
        tracing::info!("p2p stopped");
    }

    fn flush_txs(&mut self) {
        if self.tx_batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.tx_batch);
        self.tx_batch_bytes = 0;
        match borsh::to_vec(&batch) {
            Ok(bytes) => {
                add(&self.stats.sent_txs, bytes.len());
                if let Err(e) =
                    self.swarm.behaviour_mut().gossipsub.publish(self.tx_topic.clone(), gossip_frame(&bytes))
                {
                    // No peers yet is normal; the txs stay in our mempool.
                    tracing::debug!(error = %e, txs = batch.len(), "tx batch not published");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot encode a tx batch"),
        }
    }

    fn redial(&mut self) {
        let now = Instant::now();
        let mut dial = Vec::new();
        for (id, r) in self.persistent.iter_mut() {
            if !self.connected.contains(id)
                && r.next <= now
                && !self.swarm.is_connected(id)
                && !self.banned.contains_key(id)
            {
                dial.push(r.addr.clone());
                r.next = now + r.backoff;
                r.backoff = (r.backoff * 2).min(Duration::from_secs(10));
            }
        }
        for a in dial {
            if let Err(e) = self.swarm.dial(a.clone()) {
                tracing::debug!(addr = %a, error = %e, "dial failed");
            }
        }
    }

    /// Ends bans that are over.
    fn unban(&mut self) {
        let now = Instant::now();
        let over: Vec<PeerId> = self.banned.iter().filter(|(_, until)| **until <= now).map(|(p, _)| *p).collect();
        for p in over {
            self.banned.remove(&p);
            self.swarm.behaviour_mut().gossipsub.remove_blacklisted_peer(&p);
        }
    }

    pub(super) fn penalise(&mut self, peer: PeerId, reason: &str) {
        if self.persistent.contains_key(&peer) {
            // A peer the operator configured is never banned: it is dropped
            // and redialled with backoff.
            tracing::warn!(%peer, %reason, "persistent peer penalised: disconnecting (redialled later)");
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        tracing::warn!(%peer, %reason, ban_s = BAN.as_secs(), "peer penalised: disconnecting");
        // Bounded: one entry per penalised peer, for BAN; past the bound the
        // peer is only disconnected (a blacklist entry would never be lifted).
        if self.banned.len() < 4 * self.max_peers.max(64) {
            self.banned.insert(peer, Instant::now() + BAN);
            self.swarm.behaviour_mut().gossipsub.blacklist_peer(&peer);
        }
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    /// Reports a gossip verdict. A rejected message lowers its sender's
    /// gossipsub score (below the graylist threshold its messages are
    /// ignored); the first and every 100th are logged with the score.
    fn verdict(&mut self, id: MessageId, from: PeerId, acceptance: MessageAcceptance) {
        if matches!(acceptance, MessageAcceptance::Reject) {
            let n = self.rejected.entry(from).or_default();
            *n += 1;
            if *n == 1 || n.is_multiple_of(100) {
                let score = self.swarm.behaviour().gossipsub.peer_score(&from);
                tracing::warn!(peer = %from, rejected = *n, ?score, "peer sent invalid gossip: its score drops");
            }
            if self.rejected.len() > 4 * self.max_peers.max(64) {
                self.rejected.pop_first();
            }
        }
        let _ = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(&id, &from, acceptance);
    }

    pub(super) fn send_event(&mut self, ev: NetEvent) {
        if let Err(e) = self.events.try_send(ev) {
            match e.into_inner() {
                // The engine is behind: the message is dropped without blame.
                NetEvent::Consensus { id, from, .. } => {
                    let _ = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                        &id,
                        &from,
                        MessageAcceptance::Ignore,
                    );
                }
                other => tracing::debug!(event = ?other, "engine mailbox full: network event dropped"),
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::PublishConsensus(bytes) => {
                let len = bytes.len();
                add(&self.stats.sent_consensus, len);
                match self.swarm.behaviour_mut().gossipsub.publish(self.consensus_topic.clone(), gossip_frame(&bytes)) {
                    Ok(_) => {}
                    // Normal while peers are still connecting; the core rebroadcasts.
                    Err(gossipsub::PublishError::NoPeersSubscribedToTopic | gossipsub::PublishError::Duplicate) => {}
                    Err(e) => tracing::warn!(error = %e, bytes = len, "consensus message not published"),
                }
            }
            Command::Report { id, from, acceptance } => self.verdict(id, from, acceptance),
            Command::RequestBlocks { peer, from, max } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Blocks { from, max });
                self.pending_blocks.insert(id, peer);
            }
            Command::RequestTxs { peer, hashes, tag } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, SyncRequest::Txs { hashes });
                self.pending_txs.insert(id, tag);
            }
            Command::Penalise { peer, reason } => self.penalise(peer, &reason),
        }
    }

    fn on_internal(&mut self, int: Internal) {
        match int {
            Internal::Respond(peer, channel, response) => {
                if let Some(n) = self.serving.get_mut(&peer) {
                    *n -= 1;
                    if *n == 0 {
                        self.serving.remove(&peer);
                    }
                }
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
            }
            Internal::Verdict(id, from, acceptance) => self.verdict(id, from, acceptance),
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "p2p listening");
                self.table.listening(&address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => self.table.not_listening(&address),
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. }
                if num_established.get() == 1 =>
            {
                if self.banned.contains_key(&peer_id) {
                    tracing::debug!(peer = %peer_id, "banned peer; disconnecting");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if self.connected.len() >= self.max_peers && !self.persistent.contains_key(&peer_id) {
                    tracing::debug!(peer = %peer_id, "peer limit reached; disconnecting");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                self.connected.insert(peer_id);
                self.peers.store(self.connected.len(), Ordering::Relaxed);
                let now = crate::engine::wall_clock_ms();
                self.table.connected(peer_id, endpoint.get_remote_address(), endpoint.is_dialer(), now);
                tracing::info!(peer = %peer_id, addr = %endpoint.get_remote_address(), peers = self.connected.len(), "peer connected");
                if let Some(r) = self.persistent.get_mut(&peer_id) {
                    r.backoff = Duration::from_millis(500);
                }
                self.swarm.behaviour_mut().sync.send_request(&peer_id, SyncRequest::Status);
                if self.connected.len() == 1 {
                    // First contact: look for more peers right away.
                    let _ = self.swarm.behaviour_mut().kad.bootstrap();
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. }
                if num_established == 0 && self.connected.contains(&peer_id) =>
            {
                self.connected.remove(&peer_id);
                self.table.disconnected(&peer_id);
                self.serve_window.remove(&peer_id);
                {
                    self.peers.store(self.connected.len(), Ordering::Relaxed);
                    tracing::info!(peer = %peer_id, cause = ?cause.map(|c| c.to_string()), peers = self.connected.len(), "peer disconnected");
                    self.send_event(NetEvent::PeerGone(peer_id));
                    if let Some(r) = self.persistent.get_mut(&peer_id) {
                        r.next = Instant::now() + r.backoff;
                    }
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(peer = ?peer_id, %error, "outgoing connection failed");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => self.on_gossip(propagation_source, message_id, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(ev)) => self.on_sync(ev),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, is_new_peer: true, ..
            })) if peer != *self.swarm.local_peer_id()
                && !self.connected.contains(&peer)
                && self.connected.len() < self.max_peers =>
            {
                // Discovery: connect to peers Kademlia found (full nodes that only
                // know a bootstrap node reach the rest of the network this way).
                let _ = self.swarm.dial(peer);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                self.table.identified(&peer_id, &info.agent_version, &info.protocol_version);
                // Only peers that speak our Kademlia protocol join the routing table.
                let ours = info.protocols.iter().any(|p| p.as_ref().ends_with("/kad/1"));
                if ours {
                    for a in info.listen_addrs {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, a);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_gossip(&mut self, from: PeerId, id: MessageId, message: gossipsub::Message) {
        let Some(payload) = gossip_payload(&message.data) else {
            tracing::debug!(peer = %from, "gossip message without a nonce");
            self.verdict(id, from, MessageAcceptance::Reject);
            return;
        };
        if message.topic == self.consensus_topic.hash() {
            add(&self.stats.recv_consensus, message.data.len());
            match borsh::from_slice::<ConsensusMsg>(payload) {
                Ok(msg) => {
                    // The payload's hash: copies published again (another
                    // nonce) are known by it.
                    let content = Hash::digest(payload);
                    self.send_event(NetEvent::Consensus { msg, id, from, content });
                }
                Err(e) => {
                    tracing::debug!(peer = %from, error = %e, "undecodable consensus message");
                    self.verdict(id, from, MessageAcceptance::Reject);
                }
            }
        } else if message.topic == self.tx_topic.hash() {
            add(&self.stats.recv_txs, message.data.len());
            let Ok(batch) = borsh::from_slice::<Vec<Vec<u8>>>(payload) else {
                self.verdict(id, from, MessageAcceptance::Reject);
                return;
            };
            // Bounded admission work: past the limit a batch is dropped without
            // blame (backpressure, as a full mempool would).
            let Ok(permit) = self.admission.clone().try_acquire_owned() else {
                self.verdict(id, from, MessageAcceptance::Ignore);
                return;
            };
            let host = self.host.clone();
            let out = self.internal.0.clone();
            tokio::task::spawn_blocking(move || {
                // Client work (`crate::priority`): this blocking thread stays
                // lowered, as the main runtime's blocking pool only does
                // work off the consensus path (gossip admission, block sync
                // serving, metrics).
                crate::priority::lower_this_thread();
                let verdict = admit_batch(&*host, &batch);
                drop(permit);
                let _ = out.blocking_send(Internal::Verdict(id, from, verdict));
            });
        } else {
            self.verdict(id, from, MessageAcceptance::Ignore);
        }
    }
}
