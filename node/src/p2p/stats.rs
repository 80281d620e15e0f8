//! Gossip traffic counters for the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

/// Gossip payload bytes by topic, for the metrics (relaxed atomic adds on
/// the swarm task; read at scrape).
#[derive(Debug, Default)]
pub struct NetStats {
    pub recv_consensus: AtomicU64,
    pub recv_txs: AtomicU64,
    pub sent_consensus: AtomicU64,
    pub sent_txs: AtomicU64,
}

pub(super) fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::Relaxed);
}
