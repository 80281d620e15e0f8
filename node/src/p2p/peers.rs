//! The peer table behind `agora_networkInfo`: this node's listen addresses
//! and its connected peers with the direction of the connection and what
//! they told identify (agent and protocol version). The network task writes
//! it on swarm events; RPC reads a snapshot. Bounded: at most
//! [`MAX_PEERS_LISTED`] peers and [`MAX_LISTEN_ADDRS`] addresses are kept.
//!
//! Network addresses (the peers' and this node's listen addresses) are left
//! out of the snapshot unless `[rpc] expose_peer_addresses` is on: a sentry
//! node's RPC would otherwise name the validator it shields.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use libp2p::{Multiaddr, PeerId};
use rpc_api::types::{NetworkInfo, PeerDirection, PeerInfo};

use super::NetworkHandle;

/// Most peers the table holds (the connection limit is far lower).
pub const MAX_PEERS_LISTED: usize = 1_000;
/// Most listen addresses the table holds.
pub const MAX_LISTEN_ADDRS: usize = 32;
/// Longest agent or protocol version kept (a peer chooses them).
pub const MAX_VERSION_CHARS: usize = 128;

#[derive(Debug, Default)]
struct Table {
    listen: Vec<Multiaddr>,
    /// Each peer with the address of its connection (shown only when
    /// `expose_addresses`).
    peers: BTreeMap<PeerId, (PeerInfo, Multiaddr)>,
    expose_addresses: bool,
}

/// Shared between the network task (writer) and the handle (reader).
#[derive(Clone, Debug, Default)]
pub struct PeerTable(Arc<Mutex<Table>>);

fn bounded(s: &str) -> String {
    s.chars().take(MAX_VERSION_CHARS).collect()
}

impl PeerTable {
    fn with<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut t = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut t)
    }

    pub fn listening(&self, addr: &Multiaddr) {
        self.with(|t| {
            if !t.listen.contains(addr) && t.listen.len() < MAX_LISTEN_ADDRS {
                t.listen.push(addr.clone());
            }
        });
    }

    pub fn not_listening(&self, addr: &Multiaddr) {
        self.with(|t| t.listen.retain(|a| a != addr));
    }

    pub fn connected(&self, peer: PeerId, addr: &Multiaddr, outbound: bool, now_ms: u64) {
        self.with(|t| {
            if t.peers.len() >= MAX_PEERS_LISTED && !t.peers.contains_key(&peer) {
                return;
            }
            t.peers.insert(
                peer,
                (
                    PeerInfo {
                        peer_id: peer.to_string(),
                        address: None,
                        direction: if outbound { PeerDirection::Outbound } else { PeerDirection::Inbound },
                        agent_version: None,
                        protocol_version: None,
                        connected_ms: now_ms,
                        gossip_mesh: false,
                    },
                    addr.clone(),
                ),
            );
        });
    }

    pub fn disconnected(&self, peer: &PeerId) {
        self.with(|t| t.peers.remove(peer));
    }

    pub fn identified(&self, peer: &PeerId, agent_version: &str, protocol_version: &str) {
        self.with(|t| {
            if let Some((p, _)) = t.peers.get_mut(peer) {
                p.agent_version = Some(bounded(agent_version));
                p.protocol_version = Some(bounded(protocol_version));
            }
        });
    }

    /// Marks the peers in this node's transaction gossip mesh (and only
    /// those).
    pub fn set_mesh(&self, mesh: &BTreeSet<PeerId>) {
        self.with(|t| {
            for (id, (p, _)) in t.peers.iter_mut() {
                p.gossip_mesh = mesh.contains(id);
            }
        });
    }

    /// Whether snapshots show network addresses (off by default).
    pub fn expose_addresses(&self, on: bool) {
        self.with(|t| t.expose_addresses = on);
    }

    /// The connected peers.
    pub fn peer_ids(&self) -> Vec<PeerId> {
        self.with(|t| t.peers.keys().copied().collect())
    }

    /// The table as `agora_networkInfo` answers it.
    pub fn snapshot(&self, node_id: PeerId) -> NetworkInfo {
        self.with(|t| {
            let show = t.expose_addresses;
            NetworkInfo {
                node_id: Some(node_id.to_string()),
                listen_addrs: if show { t.listen.iter().map(ToString::to_string).collect() } else { Vec::new() },
                num_peers: t.peers.len() as u64,
                peers: t
                    .peers
                    .values()
                    .map(|(p, a)| PeerInfo { address: show.then(|| a.to_string()), ..p.clone() })
                    .collect(),
            }
        })
    }
}

impl NetworkHandle {
    /// The peers connected right now.
    pub fn connected_peers(&self) -> Vec<PeerId> {
        self.table.peer_ids()
    }

    /// This node's id, listen addresses and connected peers (addresses only
    /// if [`NetworkHandle::expose_addresses`] was turned on).
    pub fn info(&self) -> NetworkInfo {
        self.table.snapshot(self.local_peer_id)
    }

    /// `[rpc] expose_peer_addresses`: show network addresses in [`Self::info`].
    pub fn expose_addresses(&self, on: bool) {
        self.table.expose_addresses(on);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tracks_peers_and_their_versions_within_bounds() {
        let t = PeerTable::default();
        t.expose_addresses(true);
        let me = PeerId::random();
        let a: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        t.listening(&a);
        t.listening(&a);
        let (p, q) = (PeerId::random(), PeerId::random());
        t.connected(p, &a, true, 5);
        t.connected(q, &a, false, 6);
        t.identified(&p, &"x".repeat(1000), "/agora/1");
        let s = t.snapshot(me);
        assert_eq!(s.listen_addrs, vec![a.to_string()]);
        assert_eq!(s.num_peers, 2);
        let pi = s.peers.iter().find(|x| x.peer_id == p.to_string()).unwrap();
        assert_eq!(pi.direction, PeerDirection::Outbound);
        assert_eq!(pi.agent_version.as_ref().unwrap().len(), MAX_VERSION_CHARS);
        assert_eq!(pi.protocol_version.as_deref(), Some("/agora/1"));
        let qi = s.peers.iter().find(|x| x.peer_id == q.to_string()).unwrap();
        assert_eq!((qi.direction, qi.agent_version.clone()), (PeerDirection::Inbound, None));
        t.disconnected(&p);
        assert_eq!(t.snapshot(me).num_peers, 1);
        t.not_listening(&a);
        assert!(t.snapshot(me).listen_addrs.is_empty());
        for i in 0..(MAX_PEERS_LISTED + 10) {
            t.connected(PeerId::random(), &a, i % 2 == 0, 0);
        }
        assert_eq!(t.snapshot(me).peers.len(), MAX_PEERS_LISTED);
        for i in 0..(MAX_LISTEN_ADDRS + 5) {
            t.listening(&format!("/ip4/127.0.0.1/tcp/{}", 100 + i).parse().unwrap());
        }
        assert_eq!(t.snapshot(me).listen_addrs.len(), MAX_LISTEN_ADDRS);
    }

    #[test]
    fn addresses_are_hidden_unless_exposed() {
        let t = PeerTable::default();
        let me = PeerId::random();
        let listen: Multiaddr = "/ip4/10.1.2.3/tcp/26656".parse().unwrap();
        let sentry_of: Multiaddr = "/ip4/192.0.2.44/tcp/40000".parse().unwrap();
        t.listening(&listen);
        let p = PeerId::random();
        t.connected(p, &sentry_of, false, 7);
        t.identified(&p, "agorad/1.0", "/agora/1");
        // Default: no address anywhere in the answer, the rest is there.
        let s = t.snapshot(me);
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("10.1.2.3") && !json.contains("192.0.2.44"), "{json}");
        assert!(s.listen_addrs.is_empty());
        assert_eq!(s.num_peers, 1);
        let pi = &s.peers[0];
        assert_eq!(pi.address, None);
        assert_eq!(pi.peer_id, p.to_string());
        assert_eq!((pi.direction, pi.connected_ms), (PeerDirection::Inbound, 7));
        assert_eq!(pi.agent_version.as_deref(), Some("agorad/1.0"));
        assert_eq!(pi.protocol_version.as_deref(), Some("/agora/1"));
        // Exposed: the addresses.
        t.expose_addresses(true);
        let s = t.snapshot(me);
        assert_eq!(s.listen_addrs, vec![listen.to_string()]);
        assert_eq!(s.peers[0].address.as_deref(), Some(sentry_of.to_string().as_str()));
    }
}
