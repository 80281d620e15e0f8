//! The per-process variables of Algorithm 1 for the current height
//! (`h_p`, `round_p`, `step_p`, `lockedValue/Round`, `validValue/Round`,
//! `decision_p`) plus the "for the first time" flags of the current round.

use crate::types::{Height, Round, Step, ValueId};

/// Once-per-round guards ("for the first time" in the paper, and "did we
/// already ask for a value / propose").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RoundFlags {
    /// `RequestValue` emitted in this round.
    pub value_requested: bool,
    /// Our proposal for this round was requested or already exists.
    pub proposal_sent: bool,
    /// L34 fired (prevote timeout scheduled).
    pub prevote_timeout: bool,
    /// L47 fired (precommit timeout scheduled).
    pub precommit_timeout: bool,
    /// L36 fired (lock/valid updated).
    pub l36_done: bool,
}

/// A read-only snapshot of the state machine, for tests, metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsensusState {
    /// `h_p`.
    pub height: Height,
    /// `round_p`.
    pub round: Round,
    /// `step_p`.
    pub step: Step,
    /// (`lockedRound_p`, `lockedValue_p`); `None` = (−1, nil).
    pub locked: Option<(Round, ValueId)>,
    /// (`validRound_p`, `validValue_p`); `None` = (−1, nil).
    pub valid: Option<(Round, ValueId)>,
    /// `decision_p[h_p]` with the round whose precommits decided it.
    pub decision: Option<(Round, ValueId)>,
}

impl ConsensusState {
    /// The state at the start of a height (before StartRound(0)).
    pub(crate) fn new(height: Height) -> ConsensusState {
        ConsensusState { height, round: Round::ZERO, step: Step::Propose, locked: None, valid: None, decision: None }
    }
}
