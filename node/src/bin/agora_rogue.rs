//! `agora-rogue`: TESTING ONLY. A libp2p peer that speaks Agora's protocols
//! (tcp + noise + yamux, gossipsub on the chain's topics with signed
//! messages, `/agora/sync/1` block sync, identify, ping) but holds no
//! validator key and misbehaves on purpose, for the multi-process tests that
//! prove a node holds against byzantine peers (`node/tests/byzantine_peers.rs`).
//!
//! ```text
//! agora-rogue --chain-id ID --genesis-hash HEX --peer MULTIADDR... [--listen MULTIADDR]
//!             [--replay N] [--tamper [--tamper-copies N]] [--junk] [--lie-tip H]
//!             [--flood-sync] [--flood-concurrency N] [--duration-s S] [--report-ms MS]
//! ```
//!
//! - `--replay N`: re-publishes every consensus message it receives N times at
//!   once (fresh gossipsub sequence numbers, same bytes: the content-hash
//!   ids of the nodes make them duplicates), and once more after the nodes'
//!   duplicate cache has forgotten it (2.1 s later).
//! - `--tamper`: re-publishes each received proposal with another body (a tx
//!   added, dropped or duplicated, or the last commit removed), keeping the
//!   signed proposal and the header; `--tamper-copies N` different ones each.
//! - `--junk`: publishes undecodable bytes on both topics, votes of real
//!   validators altered after signing (bad signatures) and votes from keys
//!   outside the validator set.
//! - `--lie-tip H`: answers status requests with the right genesis and tip
//!   H; every blocks request gets an empty list. (Without it the rogue claims
//!   tip 0, so nobody asks it for blocks.)
//! - `--flood-sync`: keeps `--flood-concurrency` requests for blocks
//!   1..=64 outstanding to every connected peer, sending the next as soon
//!   as one is answered.
//!
//! Configured peers are redialled every second. Every `--report-ms` (and at
//! exit, after `--duration-s` or on SIGTERM/SIGINT) one JSON line with its
//! counters goes to stdout; see [`Stats`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use ledger::{Address, Amount, Hash, Height, Payload, PublicKey, SigningKey, TxBody};
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, TopicHash};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identify, identity, noise, ping, tcp, yamux};
use node::p2p::{ConsensusMsg, MAX_SYNC_BLOCKS, SyncCodec, SyncRequest, SyncResponse, gossip_frame, gossip_payload};
use rand::Rng;
use serde_json::json;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(name = "agora-rogue", about = "TESTING ONLY: a libp2p peer that attacks Agora nodes")]
struct Cli {
    /// The chain id (names the gossip topics).
    #[arg(long)]
    chain_id: String,
    /// The genesis hash, hex (`genesis_hash` of `agora_status`), sent in status answers.
    #[arg(long)]
    genesis_hash: Hash,
    /// Peers to dial (and redial), each ending in `/p2p/<peer id>`.
    #[arg(long = "peer", num_args = 1..)]
    peers: Vec<Multiaddr>,
    /// Listen here too (e.g. `/ip4/127.0.0.1/tcp/0`).
    #[arg(long)]
    listen: Option<Multiaddr>,
    /// Re-publish every received consensus message this many times.
    #[arg(long, default_value_t = 0)]
    replay: u32,
    /// Re-publish received proposals with a tampered body.
    #[arg(long)]
    tamper: bool,
    /// Tampered copies (each different) per received proposal.
    #[arg(long, default_value_t = 1)]
    tamper_copies: u32,
    /// Publish undecodable and badly signed consensus messages.
    #[arg(long)]
    junk: bool,
    /// Claim this tip in status answers and serve no blocks.
    #[arg(long)]
    lie_tip: Option<u64>,
    /// Flood every connected peer with block requests.
    #[arg(long)]
    flood_sync: bool,
    /// Block requests outstanding per peer while flooding.
    #[arg(long, default_value_t = 64)]
    flood_concurrency: usize,
    /// Exit after this many seconds (default: run until SIGTERM/SIGINT).
    #[arg(long)]
    duration_s: Option<u64>,
    /// How often a summary line is printed.
    #[arg(long, default_value_t = 1000)]
    report_ms: u64,
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

/// One remote peer's counters.
#[derive(Debug, Default)]
struct PeerStats {
    connected: bool,
    connections: u64,
    disconnects: u64,
    /// Consensus messages received from it (first deliveries only).
    received: u64,
    /// Its block requests we answered (with nothing).
    served: u64,
    answers: u64,
    busy: u64,
    errors: u64,
    failures: u64,
    /// Our block requests to it not answered yet.
    outstanding: usize,
}

/// What the rogue did and saw; printed as JSON.
#[derive(Debug, Default)]
struct Stats {
    /// Consensus messages received (first deliveries): proposals, votes,
    /// and proposals whose body is not the one their header commits to
    /// (a node relayed a tampered copy).
    received: u64,
    proposals: u64,
    votes: u64,
    bad_bodies: u64,
    /// Deliveries from a peer that had delivered messages of two signers
    /// (so it relays).
    relayed: u64,
    /// Gossip messages published, and publish calls gossipsub refused.
    published: u64,
    publish_errors: u64,
    /// Copies sent by `--replay` (at once and delayed), tampered proposals,
    /// junk messages.
    replayed: u64,
    replayed_late: u64,
    tampered: u64,
    junk: u64,
    /// Sync requests served to others.
    status_served: u64,
    blocks_requests_served: u64,
    /// Our block requests and how they ended.
    requests: u64,
    answers: u64,
    blocks_received: u64,
    busy: u64,
    errors: u64,
    failures: u64,
    peers: BTreeMap<PeerId, PeerStats>,
}

impl Stats {
    fn peer(&mut self, p: PeerId) -> &mut PeerStats {
        self.peers.entry(p).or_default()
    }

    fn line(&self, me: &PeerId, started: Instant, last: bool) -> String {
        let sum = |f: fn(&PeerStats) -> u64| self.peers.values().map(f).sum::<u64>();
        let peers: serde_json::Map<String, serde_json::Value> = self
            .peers
            .iter()
            .map(|(id, p)| {
                let v = json!({
                    "connected": p.connected, "connections": p.connections, "disconnects": p.disconnects,
                    "received": p.received, "served": p.served, "answers": p.answers, "busy": p.busy,
                    "errors": p.errors, "failures": p.failures,
                });
                (id.to_string(), v)
            })
            .collect();
        json!({
            "peer_id": me.to_string(),
            "elapsed_ms": started.elapsed().as_millis() as u64,
            "final": last,
            "connected": self.peers.values().filter(|p| p.connected).count(),
            "connections": sum(|p| p.connections),
            "disconnects": sum(|p| p.disconnects),
            "received": self.received,
            "proposals": self.proposals,
            "votes": self.votes,
            "bad_bodies": self.bad_bodies,
            "relayed": self.relayed,
            "published": self.published,
            "publish_errors": self.publish_errors,
            "replayed": self.replayed,
            "replayed_late": self.replayed_late,
            "tampered": self.tampered,
            "junk": self.junk,
            "status_served": self.status_served,
            "blocks_requests_served": self.blocks_requests_served,
            "requests": self.requests,
            "answers": self.answers,
            "blocks_received": self.blocks_received,
            "busy": self.busy,
            "errors": self.errors,
            "failures": self.failures,
            "peers": peers,
        })
        .to_string()
    }
}

/// Delayed replays kept at most (older ones are dropped).
const MAX_DELAYED: usize = 20_000;
/// The nodes recognise duplicates for 1.9 s; the late copy comes after that.
const LATE_REPLAY: Duration = Duration::from_millis(2100);

struct Rogue {
    cli: Cli,
    swarm: Swarm<Behaviour>,
    consensus: TopicHash,
    txs: TopicHash,
    stats: Stats,
    delayed: VecDeque<(Instant, Vec<u8>)>,
    /// Peer ids of the configured addresses (for redialling).
    targets: Vec<(PeerId, Multiaddr)>,
    /// The highest height seen in received votes (for junk votes).
    seen_height: u64,
    counter: u64,
    /// Signers of the consensus messages each peer delivered.
    signers: BTreeMap<PeerId, BTreeSet<[u8; 32]>>,
}

impl Rogue {
    /// Publishes `payload` under a fresh nonce (each call is a new message).
    fn publish(&mut self, topic: TopicHash, payload: Vec<u8>) -> bool {
        match self.swarm.behaviour_mut().gossipsub.publish(topic, gossip_frame(&payload)) {
            Ok(_) => {
                self.stats.published += 1;
                true
            }
            Err(_) => {
                self.stats.publish_errors += 1;
                false
            }
        }
    }

    fn publish_msg(&mut self, msg: &ConsensusMsg) -> bool {
        match borsh::to_vec(msg) {
            Ok(bytes) => self.publish(self.consensus.clone(), bytes),
            Err(_) => false,
        }
    }

    fn on_gossip(&mut self, from: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
        // Never forwarded as gossipsub would: whatever goes out is published
        // (signed) by the rogue itself.
        let _ = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
            &id,
            &from,
            MessageAcceptance::Ignore,
        );
        if message.topic != self.consensus {
            return;
        }
        self.stats.received += 1;
        self.stats.peer(from).received += 1;
        let Some(data) = gossip_payload(&message.data).map(<[u8]>::to_vec) else { return };
        if self.cli.replay > 0 {
            for _ in 0..self.cli.replay {
                if self.publish(self.consensus.clone(), data.clone()) {
                    self.stats.replayed += 1;
                }
            }
            if self.delayed.len() >= MAX_DELAYED {
                self.delayed.pop_front();
            }
            self.delayed.push_back((Instant::now() + LATE_REPLAY, data.clone()));
        }
        let Ok(msg) = borsh::from_slice::<ConsensusMsg>(&data) else { return };
        // Gossip names no author: a peer that delivered messages signed by
        // two validators relayed at least one of them (a node signs with
        // one key).
        let signer = match &msg {
            ConsensusMsg::Proposal { proposal, .. } | ConsensusMsg::CompactProposal { proposal, .. } => {
                proposal.proposal.proposer.0
            }
            ConsensusMsg::Vote(v) => v.vote.validator.0,
        };
        let signers = self.signers.entry(from).or_default();
        signers.insert(signer);
        if signers.len() > 1 {
            self.stats.relayed += 1;
        }
        match &msg {
            ConsensusMsg::Proposal { proposal, block } => {
                self.stats.proposals += 1;
                if block.hash().0 != proposal.proposal.value_id.0 || block.check_body_roots().is_err() {
                    self.stats.bad_bodies += 1;
                }
            }
            ConsensusMsg::CompactProposal { proposal, block } => {
                self.stats.proposals += 1;
                if block.hash().0 != proposal.proposal.value_id.0 || block.check_roots().is_err() {
                    self.stats.bad_bodies += 1;
                }
            }
            ConsensusMsg::Vote(_) => self.stats.votes += 1,
        }
        match msg {
            // A compact copy with other hashes than the signed ones (one made
            // up, or one dropped): the same as a tampered body.
            ConsensusMsg::CompactProposal { proposal, block } if self.cli.tamper => {
                for _ in 0..self.cli.tamper_copies.max(1) {
                    self.counter += 1;
                    let mut block = block.clone();
                    if self.counter.is_multiple_of(2) && !block.tx_hashes.is_empty() {
                        block.tx_hashes.pop();
                    } else {
                        block.tx_hashes.push(ledger::Hash(rand::random::<[u8; 32]>()));
                    }
                    if self.publish_msg(&ConsensusMsg::CompactProposal { proposal: proposal.clone(), block }) {
                        self.stats.tampered += 1;
                    }
                }
            }
            ConsensusMsg::Proposal { proposal, block } if self.cli.tamper => {
                for _ in 0..self.cli.tamper_copies.max(1) {
                    self.counter += 1;
                    let block = Box::new(tamper((*block).clone(), self.counter, &self.cli.chain_id));
                    if self.publish_msg(&ConsensusMsg::Proposal { proposal: proposal.clone(), block }) {
                        self.stats.tampered += 1;
                    }
                }
            }
            ConsensusMsg::Vote(v) => {
                self.seen_height = self.seen_height.max(v.vote.height.0);
                if self.cli.junk {
                    self.counter += 1;
                    let bad = altered_vote(v, self.counter);
                    if self.publish_msg(&ConsensusMsg::Vote(bad)) {
                        self.stats.junk += 1;
                    }
                }
            }
            ConsensusMsg::Proposal { .. } | ConsensusMsg::CompactProposal { .. } => {}
        }
    }

    /// One round of junk that needs nothing received: undecodable bytes on
    /// both topics and a vote from a key outside the validator set.
    fn junk_tick(&mut self) {
        let mut rng = rand::thread_rng();
        let mut bytes = vec![0xff_u8; rng.gen_range(1..512)];
        rng.fill(&mut bytes[1..]);
        if self.publish(self.consensus.clone(), bytes.clone()) {
            self.stats.junk += 1;
        }
        if self.publish(self.txs.clone(), bytes) {
            self.stats.junk += 1;
        }
        if self.seen_height > 0 {
            let vote = consensus::Vote {
                vote_type: consensus::VoteType::Prevote,
                height: consensus::Height(self.seen_height),
                round: consensus::Round(0),
                value_id: Some(consensus::ValueId(rng.r#gen())),
                validator: consensus::ValidatorId(rng.r#gen()),
            };
            let sig = consensus::Signature([7; 64]);
            if self.publish_msg(&ConsensusMsg::Vote(consensus::SignedVote { vote, signature: sig })) {
                self.stats.junk += 1;
            }
        }
    }

    fn flush_delayed(&mut self) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, data)) = self.delayed.pop_front()
                && self.publish(self.consensus.clone(), data)
            {
                self.stats.replayed_late += 1;
            }
        }
    }

    fn redial(&mut self) {
        for (id, addr) in self.targets.clone() {
            if self.swarm.is_connected(&id) {
                continue;
            }
            let opts =
                DialOpts::peer_id(id).addresses(vec![addr]).condition(PeerCondition::DisconnectedAndNotDialing).build();
            let _ = self.swarm.dial(opts);
        }
    }

    /// Tops up the outstanding block requests to `peer` (flood mode).
    fn flood(&mut self, peer: PeerId) {
        if !self.cli.flood_sync || !self.swarm.is_connected(&peer) {
            return;
        }
        while self.stats.peer(peer).outstanding < self.cli.flood_concurrency {
            let req = SyncRequest::Blocks { from: Height(1), max: MAX_SYNC_BLOCKS };
            let _ = self.swarm.behaviour_mut().sync.send_request(&peer, req);
            self.stats.peer(peer).outstanding += 1;
            self.stats.requests += 1;
        }
    }

    fn on_sync(&mut self, ev: request_response::Event<SyncRequest, SyncResponse>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let response = match request {
                        SyncRequest::Status => {
                            self.stats.status_served += 1;
                            SyncResponse::Status {
                                genesis: self.cli.genesis_hash,
                                tip: Height(self.cli.lie_tip.unwrap_or(0)),
                            }
                        }
                        SyncRequest::Blocks { .. } => {
                            self.stats.blocks_requests_served += 1;
                            self.stats.peer(peer).served += 1;
                            SyncResponse::Blocks(Vec::new())
                        }
                        // It holds no mempool: nothing to give.
                        SyncRequest::Txs { .. } => SyncResponse::Txs(Vec::new()),
                    };
                    let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
                }
                request_response::Message::Response { response, .. } => {
                    let p = self.stats.peer(peer);
                    p.outstanding = p.outstanding.saturating_sub(1);
                    match response {
                        SyncResponse::Txs(_) => p.answers += 1,
                        SyncResponse::Blocks(blocks) => {
                            p.answers += 1;
                            self.stats.answers += 1;
                            self.stats.blocks_received += blocks.len() as u64;
                        }
                        SyncResponse::Error(e) if e == "busy" => {
                            p.busy += 1;
                            self.stats.busy += 1;
                        }
                        SyncResponse::Error(_) => {
                            p.errors += 1;
                            self.stats.errors += 1;
                        }
                        SyncResponse::Status { .. } => {}
                    }
                    self.flood(peer);
                }
            },
            request_response::Event::OutboundFailure { peer, .. } => {
                let p = self.stats.peer(peer);
                p.outstanding = p.outstanding.saturating_sub(1);
                p.failures += 1;
                self.stats.failures += 1;
                self.flood(peer);
            }
            _ => {}
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } if num_established.get() == 1 => {
                let p = self.stats.peer(peer_id);
                p.connected = true;
                p.connections += 1;
                self.flood(peer_id);
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                let p = self.stats.peer(peer_id);
                if p.connected {
                    p.connected = false;
                    p.disconnects += 1;
                }
                // Requests on the closed connection fail; none are counted
                // as outstanding any more.
                p.outstanding = 0;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => self.on_gossip(propagation_source, message_id, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(ev)) => self.on_sync(ev),
            _ => {}
        }
    }
}

/// A copy of `block` whose body no longer matches its (signed) header.
fn tamper(mut block: ledger::Block, k: u64, chain_id: &str) -> ledger::Block {
    match (k % 4, block.txs.is_empty()) {
        (1, false) => {
            block.txs.pop();
        }
        (2, false) => {
            let first = block.txs[0].clone();
            block.txs.push(first);
        }
        (3, _) if block.last_commit.is_some() => block.last_commit = None,
        _ => {
            let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
            let tx = TxBody {
                chain_id: chain_id.to_owned(),
                sender: PublicKey::from_signing_key(&key),
                nonce: k,
                gas_limit: 100_000,
                gas_price: Amount::new(1),
                payload: Payload::Transfer { to: Address([0xee; 20]), amount: Amount::new(1) },
            };
            block.txs.push(tx.sign(&key));
        }
    }
    block
}

/// A real validator's vote changed after it was signed: the signature no
/// longer verifies. Alternates a new value, the other vote type and the
/// next height.
fn altered_vote(mut v: consensus::SignedVote, k: u64) -> consensus::SignedVote {
    match k % 3 {
        0 => v.vote.value_id = Some(consensus::ValueId(rand::random())),
        1 => {
            v.vote.vote_type = match v.vote.vote_type {
                consensus::VoteType::Prevote => consensus::VoteType::Precommit,
                consensus::VoteType::Precommit => consensus::VoteType::Prevote,
            }
        }
        _ => {
            v.vote.height = consensus::Height(v.vote.height.0 + 1);
            v.vote.value_id = Some(consensus::ValueId(rand::random()));
        }
    }
    v
}

fn build_swarm(cli: &Cli) -> Result<(Swarm<Behaviour>, TopicHash, TopicHash), String> {
    let key = identity::Keypair::generate_ed25519();
    let consensus = IdentTopic::new(format!("/agora/{}/consensus/2", cli.chain_id));
    let txs = IdentTopic::new(format!("/agora/{}/txs/2", cli.chain_id));
    // The nodes' gossip: anonymous, ids from the nonce and payload.
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .message_id_fn(node::p2p::message_id)
        .validate_messages()
        .max_transmit_size(16 << 20)
        .heartbeat_interval(Duration::from_millis(700))
        .build()
        .map_err(|e| format!("gossipsub config: {e}"))?;
    let mut gossip = gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, config)
        .map_err(|e| format!("gossipsub: {e}"))?;
    gossip.subscribe(&consensus).map_err(|e| format!("subscribe: {e:?}"))?;
    gossip.subscribe(&txs).map_err(|e| format!("subscribe: {e:?}"))?;
    let sync = request_response::Behaviour::with_codec(
        SyncCodec::new(64 << 20),
        [(StreamProtocol::new("/agora/sync/1"), ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(Duration::from_secs(10))
            .with_max_concurrent_streams(cli.flood_concurrency.max(16) * 2),
    );
    let identify = identify::Behaviour::new(
        identify::Config::new("/agora/1".into(), key.public()).with_agent_version("agora-rogue".into()),
    );
    let behaviour = Behaviour { gossipsub: gossip, sync, identify, ping: ping::Behaviour::default() };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| e.to_string())?
        .with_behaviour(|_| behaviour)
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    Ok((swarm, consensus.hash(), txs.hash()))
}

async fn run(cli: Cli) -> Result<(), String> {
    let (mut swarm, consensus, txs) = build_swarm(&cli)?;
    if let Some(l) = &cli.listen {
        swarm.listen_on(l.clone()).map_err(|e| format!("listen on {l}: {e}"))?;
    }
    let mut targets = Vec::new();
    for a in &cli.peers {
        match a.iter().last() {
            Some(libp2p::multiaddr::Protocol::P2p(id)) => targets.push((id, a.clone())),
            _ => return Err(format!("peer address {a} must end with /p2p/<peer id>")),
        }
    }
    let me = *swarm.local_peer_id();
    let started = Instant::now();
    let deadline = cli.duration_s.map(|s| started + Duration::from_secs(s));
    let report_every = Duration::from_millis(cli.report_ms.max(50));
    let mut r = Rogue {
        cli,
        swarm,
        consensus,
        txs,
        stats: Stats::default(),
        delayed: VecDeque::new(),
        targets,
        seen_height: 0,
        counter: 0,
        signers: BTreeMap::new(),
    };
    // The first line at once: tests read the peer id from it.
    println!("{}", r.stats.line(&me, started, false));
    r.redial();
    let mut report = tokio::time::interval(report_every);
    let mut redial = tokio::time::interval(Duration::from_secs(1));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("signal handler: {e}"))?;
    let end = tokio::time::sleep_until(deadline.unwrap_or_else(|| started + Duration::from_secs(365 * 86_400)));
    tokio::pin!(end);
    loop {
        tokio::select! {
            ev = r.swarm.select_next_some() => r.on_swarm(ev),
            _ = report.tick() => println!("{}", r.stats.line(&me, started, false)),
            _ = redial.tick() => r.redial(),
            _ = tick.tick() => {
                r.flush_delayed();
                if r.cli.junk {
                    r.junk_tick();
                }
            }
            _ = &mut end => break,
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("{}", r.stats.line(&me, started, true));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("agora-rogue: error: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agora-rogue: error: {e}");
            ExitCode::FAILURE
        }
    }
}
