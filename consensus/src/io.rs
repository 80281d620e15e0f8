//! The core's whole interface: every `Input` the node feeds in and every
//! `Effect` it must carry out, in order. Nothing else crosses the boundary:
//! no clock, no network, no randomness, no storage.

use crate::certificate::CommitCertificate;
use crate::evidence::Evidence;
use crate::messages::{Proposal, SignedMessage, SignedProposal, SignedVote, Vote, WalEntry};
use crate::proposer::ProposerSelection;
use crate::timeouts::Timeout;
use crate::types::{Height, Round, Step, ValueId};
use crate::validator_set::ValidatorSet;

/// Parameters of `Input::StartHeight`.
#[derive(Clone, Debug)]
pub struct StartHeight {
    /// The height to run.
    pub height: Height,
    /// Its validator set.
    pub validators: ValidatorSet,
    /// Proposer priorities the height starts from (`S_h`, see `proposer`).
    pub proposer_selection: ProposerSelection,
    /// This height's WAL (every `WalAppend` of the height, in order; use
    /// `SignerState::recover_wal` to complete it) after a restart; empty on
    /// a fresh start. From our own messages and round entries the core
    /// restores round, step and lock and re-broadcasts our messages; the
    /// others' prevotes in it are the proof-of-lock of that lock (verified
    /// again).
    pub wal: Vec<WalEntry>,
}

/// Everything the node feeds the core.
#[derive(Clone, Debug)]
pub enum Input {
    /// Start (or, with a `wal`, resume) a height. Abandons the current
    /// height, decided or not (block sync may skip heights). Buffered
    /// messages for the new height are processed right away.
    StartHeight(Box<StartHeight>),
    /// A proposal from the network (verified here: signature, proposer of
    /// the round, height, round window).
    ProposalReceived(SignedProposal),
    /// A vote from the network (verified here: signature, membership,
    /// height, round window).
    VoteReceived(SignedVote),
    /// A timer the core asked for with `ScheduleTimeout` has fired. Stale
    /// ones are ignored, so timers never need cancelling.
    TimeoutElapsed(Timeout),
    /// The application's answer to `RequestValue`: the id (block hash) of
    /// the value it built for (height, round).
    ValueBuilt {
        /// Height of the request.
        height: Height,
        /// Round of the request.
        round: Round,
        /// The built value's id.
        value_id: ValueId,
    },
    /// The application's answer to `ValidateValue`. Only after `valid: true`
    /// does a proposal count as a valid proposal; `false` makes the core
    /// prevote nil on it (L22/L28).
    ValueValidated {
        /// Height of the request.
        height: Height,
        /// The value.
        value_id: ValueId,
        /// The application's verdict.
        valid: bool,
    },
    /// Our proposal, signed by the edge after its double-sign guard persisted
    /// the new (h, r, step). The core then emits `WalAppend` and `Broadcast`.
    ProposalSigned(SignedProposal),
    /// Our vote, signed by the edge after its double-sign guard persisted the
    /// new (h, r, step). After the height is decided only one is still
    /// taken: our precommit of the deciding round for the decided value
    /// (asked for with the decision, see `Effect::Decide`); others for that
    /// height are dropped.
    VoteSigned(SignedVote),
    /// The edge's guard refused a `SignProposal`/`SignVote` (it already
    /// signed something else at or after that (h, r, step); with
    /// `SignerState::recover_wal` used on restart this does not happen, but
    /// a node must still cope). The core sends nothing for that step, starts
    /// the step's timeout so it does not wait for a quorum its own missing
    /// vote may be needed for, and moves on through L61/L65.
    SignRefused {
        /// Height of the refused request.
        height: Height,
        /// Round of the refused request.
        round: Round,
        /// Step of the refused request.
        step: Step,
    },
}

/// Everything the core asks the node to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send a signed message to all peers: ours (fresh or rebroadcast), or
    /// others' messages we relay — the POL prevotes of our re-proposal, and
    /// the catch-up for a peer seen in an older round.
    Broadcast(SignedMessage),
    /// Start a timer; after `duration_ms` feed `TimeoutElapsed(timeout)`.
    ScheduleTimeout {
        /// What to feed back.
        timeout: Timeout,
        /// How long to wait, in milliseconds.
        duration_ms: u64,
    },
    /// We are the proposer of (height, round) and have no valid value:
    /// build one and answer `ValueBuilt`.
    RequestValue {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
    },
    /// A proposal for `value_id` arrived (the node holds the block beside
    /// it): check it and answer `ValueValidated`. Asked once per value.
    ValidateValue {
        /// Height.
        height: Height,
        /// Round of the proposal that carried it.
        round: Round,
        /// The value to check.
        value_id: ValueId,
    },
    /// Sign this proposal with the guarded signer; feed back
    /// `ProposalSigned` (or `SignRefused`).
    SignProposal(Proposal),
    /// Sign this vote with the guarded signer; feed back `VoteSigned` (or
    /// `SignRefused`).
    SignVote(Vote),
    /// Append to this height's WAL, durably, before carrying out the
    /// effects that follow. Used for our own signed messages (before their
    /// `Broadcast`); when we lock (L36), for the 2f+1 prevotes that justify
    /// the lock (before our precommit is even signed), so that a restarted
    /// node can still prove its lock when it re-proposes even if validators
    /// that were part of that proof never send their prevotes again; and for
    /// each round we enter, so a restart resumes in that round. The WAL is
    /// per height: start a new one with each `StartHeight`.
    WalAppend(WalEntry),
    /// The height is decided: commit the block `value_id` with this
    /// certificate, then send `StartHeight` for the next height. If we are
    /// a validator of the height without a precommit of our own in the
    /// deciding round, a `SignVote` for that precommit (decided value)
    /// comes right before it: feed its `VoteSigned` back before the next
    /// `StartHeight` so that it is logged and broadcast (it can then enter
    /// the next block's last commit).
    Decide {
        /// The decided height.
        height: Height,
        /// The decided value.
        value_id: ValueId,
        /// > 2/3 power of precommits for it, from one round.
        certificate: CommitCertificate,
    },
    /// A validator equivocated; reported once per (validator, height, round,
    /// type).
    Evidence(Box<Evidence>),
}
