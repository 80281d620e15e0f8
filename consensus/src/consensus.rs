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
    /// Messages buffered for the next height per signer; beyond it that
    /// signer's messages are refused with `Error::SignerQuotaFull`, so one
    /// validator (or someone replaying its old equivocations) cannot fill
    /// the shared buffer and crowd the others out. `Config::new` sets
    /// `4 * (max_future_rounds + 1)`: a proposal, a prevote, a precommit
    /// and one equivocating copy per bufferable round. Recompute it when
    /// changing `max_future_rounds`.
    pub max_next_height_per_signer: usize,
}

impl Config {
    /// Defaults: CometBFT timeouts, 10 future rounds, 2 proposals per round,
    /// 4096 next-height messages, 44 of them per signer.
    pub fn new(chain_id: ChainId, own_id: Option<ValidatorId>) -> Config {
        let max_future_rounds = 10;
        Config {
            chain_id,
            own_id,
            timeouts: TimeoutConfig::default(),
            max_future_rounds,
            max_proposals_per_round: 2,
            max_next_height_messages: 4096,
            max_next_height_per_signer: Config::per_signer_quota(max_future_rounds),
        }
    }

    /// The default per-signer next-height quota for a round window:
    /// `4 * (max_future_rounds + 1)` (proposal, prevote, precommit and one
    /// equivocating copy for each of the rounds `0..=max_future_rounds`).
    pub fn per_signer_quota(max_future_rounds: u32) -> usize {
        (max_future_rounds as usize).saturating_add(1).saturating_mul(4)
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
    /// Number of messages of each signer in `next_height` (always in step
    /// with it: incremented on insert, cleared when the buffer is taken).
    next_height_per_signer: BTreeMap<ValidatorId, usize>,
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
        if config.max_next_height_per_signer == 0 {
            return Err(Error::InvalidConfig("max_next_height_per_signer must be ≥ 1"));
        }
        Ok(Consensus {
            config,
            driver: None,
            next_height: BTreeMap::new(),
            next_height_per_signer: BTreeMap::new(),
            ignore_lock: false,
        })
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

    /// True iff exactly this message (same proposal / same vote content) is
    /// already stored: in the current height's driver (its proposals, its
    /// vote keeper, our own proposals and votes) or in the next-height
    /// buffer. A pure, cheap query (no signature check, no state change):
    /// the node uses it to tell gossip duplicates ("ignore, do not
    /// forward") from new messages. Content equality is what the core's own
    /// duplicate handling uses too; a copy with a different (even invalid)
    /// signature counts as known, which is fine for gossip — the stored
    /// original was verified (current height) or will be (next height).
    pub fn is_known(&self, msg: &SignedMessage) -> bool {
        let Some(d) = &self.driver else {
            return false;
        };
        let h = msg.height();
        if h == d.height() {
            return d.is_known(msg);
        }
        if Some(h) != d.height().next() {
            return false;
        }
        self.next_height.get(&buffer_key(msg)).is_some_and(|stored| same_content(stored, msg))
    }

    /// Would a message of (`height`, `round`) be stored (window-wise)? For
    /// the current height while undecided: `round ≤ round_p +
    /// max_future_rounds` (older rounds are stored too); for the next
    /// height: `round ≤ max_future_rounds`; anything else: no. The node
    /// uses it to keep gossip from forwarding messages the core only looks
    /// at (a valid vote beyond the window is verified to note its round for
    /// L55 and answered with `Ok`, but not stored). It does not look at the
    /// next-height buffer's quotas, which may still refuse a message.
    pub fn keeps(&self, height: Height, round: Round) -> bool {
        let Some(d) = &self.driver else {
            return false;
        };
        if height == d.height() {
            return !d.decided() && round <= d.max_round();
        }
        Some(height) == d.height().next() && round.0 <= self.config.max_future_rounds
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
            Input::VoteSigned(sv) => match &mut self.driver {
                // The one vote a decided height still takes: our precommit
                // of the deciding round (see `on_own_decision_precommit`).
                Some(d) if d.height() == sv.vote.height && d.decided() => d.on_own_decision_precommit(sv),
                _ => match self.current(sv.vote.height) {
                    Some(d) => d.on_own_vote(sv),
                    None => Ok(Vec::new()),
                },
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
        self.next_height_per_signer.clear();
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
        // Ours enter through the signer and the WAL only (see the error).
        if self.config.own_id == Some(msg.signer()) {
            return Err(Error::OwnKeyFromNetwork);
        }
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
        // yet), bounded by round, by (round, signer, kind, value), per
        // signer and in total.
        if msg.round().0 > self.config.max_future_rounds {
            return Err(Error::RoundTooFarAhead { got: msg.round(), current: Round::ZERO });
        }
        let key = buffer_key(&msg);
        if self.next_height.contains_key(&key) {
            return Ok(Vec::new());
        }
        let signer = msg.signer();
        let count = self.next_height_per_signer.get(&signer).copied().unwrap_or(0);
        if count >= self.config.max_next_height_per_signer {
            return Err(Error::SignerQuotaFull);
        }
        if self.next_height.len() >= self.config.max_next_height_messages {
            return Err(Error::BufferFull);
        }
        self.next_height.insert(key, msg);
        self.next_height_per_signer.insert(signer, count + 1);
        Ok(Vec::new())
    }
}

/// The next-height buffer's key of a message.
fn buffer_key(msg: &SignedMessage) -> BufferKey {
    let (kind, value) = match msg {
        SignedMessage::Proposal(p) => (0, Some(p.proposal.value_id)),
        SignedMessage::Vote(v) => (1 + v.vote.vote_type as u8, v.vote.value_id),
    };
    (msg.round(), msg.signer(), kind, value)
}

/// Same proposal / same vote, signatures aside.
fn same_content(a: &SignedMessage, b: &SignedMessage) -> bool {
    match (a, b) {
        (SignedMessage::Proposal(x), SignedMessage::Proposal(y)) => x.proposal == y.proposal,
        (SignedMessage::Vote(x), SignedMessage::Vote(y)) => x.vote == y.vote,
        _ => false,
    }
}
