//! Where a node's block time goes: the executor's work by phase, as running
//! totals (how many times, how many microseconds). `/metrics` exports them as
//! `agora_block_phase_seconds_total{phase}` and `agora_block_phase_total{phase}`;
//! `testnet bench` turns the difference over a stage into a mean per block.
//!
//! Recording is two relaxed atomic adds; nothing here is read on the
//! consensus path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A phase of the executor's work on a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Building our proposal: choosing mempool transactions and executing them.
    Build,
    /// Writing a proposed block durably before voting for it (synced).
    Pending,
    /// Checking the signatures of a received block's transactions the mempool
    /// did not already hold.
    Verify,
    /// Executing a received block and sealing its state.
    Execute,
    /// Writing a decided block, its state, receipts and index (one batch).
    Write,
    /// Re-reading touched accounts and evicting from the mempool after a commit.
    Mempool,
    /// Waking RPC subscribers and transaction watchers after a commit.
    Notify,
}

impl Phase {
    pub const ALL: [Phase; 7] =
        [Phase::Build, Phase::Pending, Phase::Verify, Phase::Execute, Phase::Write, Phase::Mempool, Phase::Notify];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Build => "build",
            Phase::Pending => "pending_write",
            Phase::Verify => "verify",
            Phase::Execute => "execute",
            Phase::Write => "commit_write",
            Phase::Mempool => "mempool_update",
            Phase::Notify => "notify",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Running totals per phase.
#[derive(Debug, Default)]
pub struct PhaseTimes {
    count: [AtomicU64; Phase::ALL.len()],
    micros: [AtomicU64; Phase::ALL.len()],
}

impl PhaseTimes {
    /// Adds the time since `started` to `phase`.
    pub fn record(&self, phase: Phase, started: Instant) {
        let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.count[phase.index()].fetch_add(1, Ordering::Relaxed);
        self.micros[phase.index()].fetch_add(us, Ordering::Relaxed);
    }

    /// (times recorded, total microseconds) of `phase`.
    pub fn get(&self, phase: Phase) -> (u64, u64) {
        (self.count[phase.index()].load(Ordering::Relaxed), self.micros[phase.index()].load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_up_separately() {
        let t = PhaseTimes::default();
        let long_ago = Instant::now().checked_sub(std::time::Duration::from_millis(5)).unwrap_or_else(Instant::now);
        t.record(Phase::Write, long_ago);
        t.record(Phase::Write, long_ago);
        t.record(Phase::Build, Instant::now());
        let (n, us) = t.get(Phase::Write);
        assert_eq!(n, 2);
        assert!(us >= 10_000, "{us}");
        assert_eq!(t.get(Phase::Build).0, 1);
        assert_eq!(t.get(Phase::Notify), (0, 0));
        let names: std::collections::BTreeSet<_> = Phase::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), Phase::ALL.len());
        assert!(Phase::ALL.iter().enumerate().all(|(i, p)| p.index() == i));
    }
}
