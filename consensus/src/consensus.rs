//! The entry point: `Consensus::handle(Input) -> Result<Vec<Effect>, Error>`.
//! Routes inputs by height (past: ignored, current: the height driver,
//! next: a bounded buffer, beyond: dropped) and starts heights.

use std::collections::BTreeMap;

use crate::driver::{HeightDriver, Limits};
use crate::error::Error;
use crate::io::{Effect, Input, StartHeight};
use crate::messages::SignedMessage;
use crate::state::ConsensusState;
use crate::timeouts::TimeoutConfig;
use crate::types::{ChainId, Height, Round, ValidatorId, ValueId};
use crate::validator_set::ValidatorSet;

/// Static configuration of a core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Chain id, part of every sign-bytes.
    pub chain_id: ChainId,
    /// Our validator id, `None` for a non-validating (observer) node. A node
    /// whose id is not in a height's set just follows that height.
    pub own_id: Option<ValidatorId>,
    /// Timeout durations.
    pub timeouts: TimeoutConfig,
    /// Messages for rounds up to `round_p + max_future_rounds` are stored;
    /// beyond that they are dropped (their round still counts for L55).
    pub max_future_rounds: u32,
    /// Distinct proposals kept per round (a correct proposer sends one; the
    /// rest only serve as evidence).
    pub max_proposals_per_round: usize,
    /// Messages buffered (unverified) for the next height, in total: one per
    /// (round, signer, kind, value), rounds ≤ `max_future_rounds`; beyond
    /// it they are refused with `Error::BufferFull`.
    pub max_next_height_messages: usize,
}

impl Config {
    /// Defaults: CometBFT timeouts, 10 future rounds, 2 proposals per round,
    /// 4096 next-height messages.
    pub fn new(chain_id: ChainId, own_id: Option<ValidatorId>) -> Config {
        Config {
            chain_id,
            own_id,
            timeouts: TimeoutConfig::default(),
            max_future_rounds: 10,
            max_proposals_per_round: 2,
            max_next_height_messages: 4096,
        }
    }
}

/// Test-only rule breakers, to prove that the simulator's checker can fail.
#[cfg(any(test, feature = "test-utils"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokenRule {
    /// Ignore `lockedValue/lockedRound` at L22/L28 (prevote any valid value).
    IgnoreLock,
}

/// Key of the next-height buffer: one message per (round, signer, kind,
/// value), so an equivocator's second message is kept for evidence too.
type BufferKey = (Round, ValidatorId, u8, Option<ValueId>);

/// The Tendermint core: a pure, deterministic state machine.
#[derive(Debug)]
pub struct Consensus {
    config: Config,
    driver: Option<HeightDriver>,
    next_height: BTreeMap<BufferKey, SignedMessage>,
    ignore_lock: bool,
}

impl Consensus {
    /// A core waiting for its first `StartHeight`.
    pub fn new(config: Config) -> Result<Consensus, Error> {
        if config.max_future_rounds == 0 {
            return Err(Error::InvalidConfig("max_future_rounds must be ≥ 1"));
        }
        if config.max_proposals_per_round == 0 {
            return Err(Error::InvalidConfig("max_proposals_per_round must be ≥ 1"));
        }
        Ok(Consensus { config, driver: None, next_height: BTreeMap::new(), ignore_lock: false })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Snapshot of the state machine (`None` before the first height).
    pub fn state(&self) -> Option<ConsensusState> {
        self.driver.as_ref().map(|d| d.state)
    }

    /// The current height's validator set.
    pub fn validators(&self) -> Option<&ValidatorSet> {
        self.driver.as_ref().map(|d| &d.validators)
    }

    /// Number of messages in the next-height buffer.
    pub fn buffered(&self) -> usize {
        self.next_height.len()
    }

    /// Test-only: break one rule of the algorithm on purpose.
    #[cfg(any(test, feature = "test-utils"))]
    pub fn set_broken_rule(&mut self, rule: Option<BrokenRule>) {
        self.ignore_lock = rule == Some(BrokenRule::IgnoreLock);
        if let Some(d) = &mut self.driver {
            d.ignore_lock = self.ignore_lock;
        }
    }

    /// The single entry point. `Ok(effects)`: carry them out in order.
    /// `Err(e)`: the input was rejected and changed nothing (see
    /// [`Error::is_benign`] for whether the sender is to blame).
    pub fn handle(&mut self, input: Input) -> Result<Vec<Effect>, Error> {
        match input {
            Input::StartHeight(sh) => self.start_height(*sh),
            Input::ProposalReceived(sp) => self.route(SignedMessage::Proposal(sp)),
            Input::VoteReceived(sv) => self.route(SignedMessage::Vote(sv)),
            Input::TimeoutElapsed(t) => Ok(self.current(t.height).map(|d| d.on_timeout(t)).unwrap_or_default()),
            Input::ValueBuilt { height, round, value_id } => {
                Ok(self.current(height).map(|d| d.on_value_built(round, value_id)).unwrap_or_default())
            }
            Input::ValueValidated { height, value_id, valid } => {
                Ok(self.current(height).map(|d| d.on_value_validated(value_id, valid)).unwrap_or_default())
            }
            Input::ProposalSigned(sp) => match self.current(sp.proposal.height) {
                Some(d) => d.on_own_proposal(sp),
                None => Ok(Vec::new()), // height moved on: nothing to send
            },
            Input::VoteSigned(sv) => match self.current(sv.vote.height) {
                Some(d) => d.on_own_vote(sv),
                None => Ok(Vec::new()),
            },
            Input::SignRefused { height, round, step } => {
                Ok(self.current(height).map(|d| d.on_sign_refused(round, step)).unwrap_or_default())
            }
        }
    }

    /// The driver if it runs `height` and has not decided it.
    fn current(&mut self, height: Height) -> Option<&mut HeightDriver> {
        self.driver.as_mut().filter(|d| d.height() == height && !d.decided())
    }

    fn start_height(&mut self, sh: StartHeight) -> Result<Vec<Effect>, Error> {
        if let Some(d) = &self.driver
            && sh.height <= d.height()
        {
            return Err(Error::HeightNotIncreasing { got: sh.height, current: d.height() });
        }
        if !sh.proposer_selection.matches(&sh.validators) {
            return Err(Error::PrioritiesMismatch);
        }
        let limits = Limits {
            max_future_rounds: self.config.max_future_rounds,
            max_proposals_per_round: self.config.max_proposals_per_round,
        };
        let mut driver = HeightDriver::new(
            self.config.chain_id.clone(),
            self.config.timeouts,
            limits,
            self.config.own_id,
            sh.height,
            sh.validators,
            sh.proposer_selection,
            self.ignore_lock,
        );
        let mut out = driver.start(sh.wal);
        // Buffered messages for this height, in deterministic key order;
        // invalid ones are dropped like any bad message.
        let buffered = std::mem::take(&mut self.next_height);
        for msg in buffered.into_values().filter(|m| m.height() == sh.height) {
            if driver.decided() {
                break;
            }
            let res = match msg {
                SignedMessage::Proposal(sp) => driver.on_proposal(sp),
                SignedMessage::Vote(sv) => driver.on_vote(sv),
            };
            if let Ok(effects) = res {
                out.extend(effects);
            }
        }
        self.driver = Some(driver);
        Ok(out)
    }

    fn route(&mut self, msg: SignedMessage) -> Result<Vec<Effect>, Error> {
        let Some(d) = &mut self.driver else {
            return Err(Error::NotStarted);
        };
        let (got, current) = (msg.height(), d.height());
        if got < current {
            return Err(Error::StaleHeight { got, current });
        }
        if got == current {
            if d.decided() {
                return Err(Error::AlreadyDecided(current));
            }
            return match msg {
                SignedMessage::Proposal(sp) => d.on_proposal(sp),
                SignedMessage::Vote(sv) => d.on_vote(sv),
            };
        }
        if Some(got) != current.next() {
            return Err(Error::FutureHeight { got, current });
        }
        // Next height: buffered unverified (its validator set is not known
        // yet), bounded by round, by (round, signer, kind) and in total.
        if msg.round().0 > self.config.max_future_rounds {
            return Err(Error::RoundTooFarAhead { got: msg.round(), current: Round::ZERO });
        }
        let (kind, value) = match &msg {
            SignedMessage::Proposal(p) => (0, Some(p.proposal.value_id)),
            SignedMessage::Vote(v) => (1 + v.vote.vote_type as u8, v.vote.value_id),
        };
        let key = (msg.round(), msg.signer(), kind, value);
        if self.next_height.contains_key(&key) {
            return Ok(Vec::new());
        }
        if self.next_height.len() >= self.config.max_next_height_messages {
            return Err(Error::BufferFull);
        }
        self.next_height.insert(key, msg);
        Ok(Vec::new())
    }
}
