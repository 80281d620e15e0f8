//! Logical timeouts. The core has no clock: it emits
//! `ScheduleTimeout { timeout, duration_ms }` and the node turns that into a
//! timer that later feeds `TimeoutElapsed(timeout)` back. Stale timeouts (for
//! an old height/round/step) are simply ignored, so timers never need
//! cancelling.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::types::{Height, Round};

/// Which timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum TimeoutKind {
    /// timeoutPropose (handled by L57).
    Propose,
    /// timeoutPrevote (scheduled by L34, handled by L61).
    Prevote,
    /// timeoutPrecommit (scheduled by L47, handled by L65).
    Precommit,
    /// Not in the paper: periodic re-broadcast of our latest messages, the
    /// liveness aid for lossy links (gossip stand-in, as Malachite does).
    Rebroadcast,
}

/// A logical timeout `{height, round, kind}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Timeout {
    /// Height it was scheduled in.
    pub height: Height,
    /// Round it was scheduled in.
    pub round: Round,
    /// Which timeout.
    pub kind: TimeoutKind,
}

/// Timeout durations: `base + delta · round` milliseconds, integers only.
/// Defaults are CometBFT's (propose 3 s, prevote 1 s, precommit 1 s, each
/// +0.5 s per round) plus a 1 s rebroadcast period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// timeoutPropose at round 0.
    pub propose_base_ms: u64,
    /// Added per round.
    pub propose_delta_ms: u64,
    /// timeoutPrevote at round 0.
    pub prevote_base_ms: u64,
    /// Added per round.
    pub prevote_delta_ms: u64,
    /// timeoutPrecommit at round 0.
    pub precommit_base_ms: u64,
    /// Added per round.
    pub precommit_delta_ms: u64,
    /// Period of the rebroadcast timer (constant; 0 disables it).
    pub rebroadcast_ms: u64,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            propose_base_ms: 3000,
            propose_delta_ms: 500,
            prevote_base_ms: 1000,
            prevote_delta_ms: 500,
            precommit_base_ms: 1000,
            precommit_delta_ms: 500,
            rebroadcast_ms: 1000,
        }
    }
}

impl TimeoutConfig {
    /// Duration of `kind` in `round`, in milliseconds (saturating). Growing
    /// with the round is what eventually makes timeouts exceed the unknown
    /// post-GST delay bound.
    pub fn duration_ms(&self, kind: TimeoutKind, round: Round) -> u64 {
        let (base, delta) = match kind {
            TimeoutKind::Propose => (self.propose_base_ms, self.propose_delta_ms),
            TimeoutKind::Prevote => (self.prevote_base_ms, self.prevote_delta_ms),
            TimeoutKind::Precommit => (self.precommit_base_ms, self.precommit_delta_ms),
            TimeoutKind::Rebroadcast => return self.rebroadcast_ms,
        };
        base.saturating_add(delta.saturating_mul(u64::from(round.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cometbft_defaults_grow_per_round() {
        let c = TimeoutConfig::default();
        assert_eq!(c.duration_ms(TimeoutKind::Propose, Round(0)), 3000);
        assert_eq!(c.duration_ms(TimeoutKind::Propose, Round(2)), 4000);
        assert_eq!(c.duration_ms(TimeoutKind::Prevote, Round(1)), 1500);
        assert_eq!(c.duration_ms(TimeoutKind::Precommit, Round(4)), 3000);
        assert_eq!(c.duration_ms(TimeoutKind::Rebroadcast, Round(9)), 1000);
        assert_eq!(c.duration_ms(TimeoutKind::Propose, Round(u32::MAX)), 3000 + 500 * u64::from(u32::MAX));
    }
}
