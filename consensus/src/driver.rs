//! Height driver: everything that happens inside one height. It checks and
//! stores incoming messages (verify once, duplicates idempotent, round
//! window), handles our own signed messages, app answers, timeouts and WAL
//! replay, then lets `rules` re-evaluate the paper's upon-rules.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Error;
use crate::evidence::Evidence;
use crate::io::Effect;
use crate::messages::{SignedMessage, SignedProposal, SignedVote, Vote, WalEntry};
use crate::proposer::{ProposerSchedule, ProposerSelection};
use crate::state::{ConsensusState, RoundFlags};
use crate::timeouts::{Timeout, TimeoutConfig, TimeoutKind};
use crate::types::{ChainId, Height, Round, Step, ValidatorId, ValueId, VoteType};
use crate::validator_set::ValidatorSet;
use crate::vote_keeper::{AddOutcome, VoteKeeper};

/// Limits copied from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_future_rounds: u32,
    pub max_proposals_per_round: usize,
}

/// State and message store of the current height.
#[derive(Debug)]
pub(crate) struct HeightDriver {
    pub(crate) chain_id: ChainId,
    pub(crate) timeouts: TimeoutConfig,
    pub(crate) limits: Limits,
    /// Our id and canonical index, if we are a member of this height's set.
    pub(crate) own: Option<(ValidatorId, usize)>,
    pub(crate) validators: ValidatorSet,
    pub(crate) schedule: ProposerSchedule,
    pub(crate) state: ConsensusState,
    pub(crate) flags: RoundFlags,
    pub(crate) votes: VoteKeeper,
    /// Proposals from each round's proposer (first ones, bounded).
    pub(crate) proposals: BTreeMap<Round, Vec<SignedProposal>>,
    /// The application's verdicts, by value.
    pub(crate) validity: BTreeMap<ValueId, bool>,
    pub(crate) validation_requested: BTreeSet<ValueId>,
    /// Highest round each validator sent a valid message for (L55).
    pub(crate) highest_round: Vec<Option<Round>>,
    pub(crate) own_proposals: BTreeMap<Round, SignedProposal>,
    pub(crate) own_votes: BTreeMap<(Round, VoteType), SignedVote>,
    pub(crate) reported_proposals: BTreeSet<Round>,
    /// Test-only broken rule (always false unless set via `test-utils`).
    pub(crate) ignore_lock: bool,
    /// One catch-up broadcast per rebroadcast period (see `catch_up`).
    pub(crate) catchup_armed: bool,
}

impl HeightDriver {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        chain_id: ChainId,
        timeouts: TimeoutConfig,
        limits: Limits,
        own_id: Option<ValidatorId>,
        height: Height,
        validators: ValidatorSet,
        proposers: ProposerSelection,
        ignore_lock: bool,
    ) -> HeightDriver {
        let own = own_id.and_then(|id| validators.index_of(&id).map(|i| (id, i)));
        let n = validators.len();
        HeightDriver {
            chain_id,
            timeouts,
            limits,
            own,
            validators,
            schedule: ProposerSchedule::new(proposers),
            state: ConsensusState::new(height),
            flags: RoundFlags::default(),
            votes: VoteKeeper::default(),
            proposals: BTreeMap::new(),
            validity: BTreeMap::new(),
            validation_requested: BTreeSet::new(),
            highest_round: vec![None; n],
            own_proposals: BTreeMap::new(),
            own_votes: BTreeMap::new(),
            reported_proposals: BTreeSet::new(),
            ignore_lock,
            catchup_armed: true,
        }
    }

    pub(crate) fn height(&self) -> Height {
        self.state.height
    }

    pub(crate) fn decided(&self) -> bool {
        self.state.decision.is_some()
    }

    /// Starts the height: restores from our WAL messages (if any), then
    /// StartRound (paper: `upon start do StartRound(0)`).
    pub(crate) fn start(&mut self, wal: Vec<WalEntry>) -> Vec<Effect> {
        let mut out = Vec::new();
        self.schedule_timeout(TimeoutKind::Rebroadcast, &mut out);
        let (round, step) = self.restore(wal, &mut out);
        if step == Step::Propose {
            self.start_round(round, &mut out);
        } else {
            // We had already voted in `round`: resume there without
            // re-running StartRound (which would propose again).
            self.state.round = round;
            self.state.step = step;
            self.flags = RoundFlags { proposal_sent: true, ..RoundFlags::default() };
        }
        self.run_rules(&mut out);
        out
    }

    /// WAL replay: stores our own messages, re-broadcasts them and derives
    /// where to resume. The lock is exactly our latest non-nil precommit
    /// (L36 is the only place that locks, and it precommits at the same
    /// time), so restoring it from the WAL is exact; validValue may be older
    /// than before the crash, which only costs liveness, never safety.
    /// Others' prevotes in the WAL (the POL of our lock) are re-verified and
    /// counted like received ones.
    fn restore(&mut self, wal: Vec<WalEntry>, out: &mut Vec<Effect>) -> (Round, Step) {
        let Some((me, idx)) = self.own else {
            return (Round::ZERO, Step::Propose);
        };
        let power = self.validators.validators()[idx].power.0;
        let mut entered = Round::ZERO;
        for entry in wal {
            if entry.height() != self.state.height {
                continue; // not this height's WAL: nothing to restore from it
            }
            let msg = match entry {
                WalEntry::Round(_, r) => {
                    entered = entered.max(r);
                    continue;
                }
                WalEntry::Message(m) => m,
            };
            if msg.signer() != me {
                if let SignedMessage::Vote(sv) = msg {
                    self.restore_pol_vote(sv);
                }
                continue;
            }
            match &msg {
                SignedMessage::Proposal(sp) => {
                    let r = sp.proposal.round;
                    self.own_proposals.insert(r, sp.clone());
                    self.proposals.entry(r).or_default().push(sp.clone());
                    self.request_validation(sp.proposal.value_id, r, out);
                }
                SignedMessage::Vote(sv) => {
                    let key = (sv.vote.round, sv.vote.vote_type);
                    self.own_votes.insert(key, sv.clone());
                    let _ = self.votes.add(idx, power, sv.clone(), true);
                }
            }
            self.note_round(idx, msg.round());
            out.push(Effect::Broadcast(msg));
        }
        self.state.locked = self
            .own_votes
            .iter()
            .filter(|((_, t), _)| *t == VoteType::Precommit)
            .filter_map(|((r, _), sv)| sv.vote.value_id.map(|v| (*r, v)))
            .max_by_key(|(r, _)| *r);
        self.state.valid = self.state.locked;
        let last_proposal = self.own_proposals.keys().next_back().copied();
        let last_vote = self.own_votes.keys().next_back().copied();
        let (round, step) = match (last_proposal, last_vote) {
            (_, Some((r, t))) if last_proposal.is_none_or(|p| p <= r) => (r, t.into()),
            (Some(p), _) => (p, Step::Propose),
            _ => (Round::ZERO, Step::Propose),
        };
        if entered > round { (entered, Step::Propose) } else { (round, step) }
    }

    fn restore_pol_vote(&mut self, sv: SignedVote) {
        let Some(i) = self.validators.index_of(&sv.vote.validator) else {
            return;
        };
        if sv.verify(&self.chain_id, self.validators.key(i)).is_ok() {
            let power = self.validators.validators()[i].power.0;
            self.note_round(i, sv.vote.round);
            let _ = self.votes.add(i, power, sv, true);
        }
    }

    /// Records that validator `idx` sent a valid message for `round` (L55).
    pub(crate) fn note_round(&mut self, idx: usize, round: Round) {
        let slot = &mut self.highest_round[idx];
        if slot.is_none_or(|r| r < round) {
            *slot = Some(round);
        }
    }

    /// The highest round whose messages are stored (`round_p +
    /// max_future_rounds`).
    pub(crate) fn max_round(&self) -> Round {
        Round(self.state.round.0.saturating_add(self.limits.max_future_rounds))
    }

    pub(crate) fn request_validation(&mut self, v: ValueId, round: Round, out: &mut Vec<Effect>) {
        if !self.validity.contains_key(&v) && self.validation_requested.insert(v) {
            out.push(Effect::ValidateValue { height: self.state.height, round, value_id: v });
        }
    }

    pub(crate) fn schedule_timeout(&self, kind: TimeoutKind, out: &mut Vec<Effect>) {
        let duration_ms = self.timeouts.duration_ms(kind, self.state.round);
        if kind == TimeoutKind::Rebroadcast && duration_ms == 0 {
            return;
        }
        out.push(Effect::ScheduleTimeout {
            timeout: Timeout { height: self.state.height, round: self.state.round, kind },
            duration_ms,
        });
    }

    /// A proposal from the network, for this height.
    pub(crate) fn on_proposal(&mut self, sp: SignedProposal) -> Result<Vec<Effect>, Error> {
        let p = &sp.proposal;
        let idx = self.validators.index_of(&p.proposer).ok_or(Error::UnknownValidator(p.proposer))?;
        if let Some(pol) = p.pol_round
            && pol >= p.round
        {
            return Err(Error::InvalidPolRound { pol, round: p.round });
        }
        if p.round > self.max_round() {
            return Err(Error::RoundTooFarAhead { got: p.round, current: self.state.round });
        }
        if self.schedule.proposer(p.round) != idx {
            return Err(Error::NotProposer { signer: p.proposer, round: p.round });
        }
        let round = p.round;
        let stored = self.proposals.get(&round).map_or(0, Vec::len);
        if self.proposals.get(&round).is_some_and(|l| l.iter().any(|q| q.proposal == *p)) {
            // Duplicate: not re-verified, changes nothing — but a re-sent old
            // message is exactly how a peer stuck in an old round shows up.
            let mut out = Vec::new();
            self.catch_up(round, &mut out);
            return Ok(out);
        }
        sp.verify(&self.chain_id, self.validators.key(idx))?;
        let mut out = Vec::new();
        self.note_round(idx, round);
        self.catch_up(round, &mut out);
        if stored > 0
            && self.reported_proposals.insert(round)
            && let Some(first) = self.proposals.get(&round).and_then(|l| l.first())
        {
            out.push(Effect::Evidence(Box::new(Evidence::DuplicateProposal {
                first: first.clone(),
                second: sp.clone(),
            })));
        }
        if stored >= self.limits.max_proposals_per_round {
            // Keep the evidence, drop the extra proposal (bounded memory).
            self.run_rules(&mut out);
            return Ok(out);
        }
        let v = p.value_id;
        self.proposals.entry(round).or_default().push(sp);
        self.request_validation(v, round, &mut out);
        self.run_rules(&mut out);
        Ok(out)
    }

    /// A vote from the network, for this height.
    pub(crate) fn on_vote(&mut self, sv: SignedVote) -> Result<Vec<Effect>, Error> {
        let v = &sv.vote;
        let idx = self.validators.index_of(&v.validator).ok_or(Error::UnknownValidator(v.validator))?;
        let mut out = Vec::new();
        if v.round > self.max_round() {
            // Too far ahead to keep, but a valid one still tells us that its
            // sender reached that round (L55).
            sv.verify(&self.chain_id, self.validators.key(idx))?;
            self.note_round(idx, v.round);
            self.run_rules(&mut out);
            return Ok(out);
        }
        if self.votes.contains(idx, v) {
            // Duplicate: not re-verified, changes nothing (see on_proposal).
            self.catch_up(v.round, &mut out);
            return Ok(out);
        }
        sv.verify(&self.chain_id, self.validators.key(idx))?;
        self.note_round(idx, v.round);
        self.catch_up(v.round, &mut out);
        let power = self.validators.validators()[idx].power.0;
        // A conflicting vote is worth keeping for nil or a proposed value.
        let relevant = v.value_id.is_none_or(|x| self.validation_requested.contains(&x));
        if let AddOutcome::Equivocation(Some(e)) = self.votes.add(idx, power, sv, relevant) {
            out.push(Effect::Evidence(e));
        }
        self.run_rules(&mut out);
        Ok(out)
    }

    /// Our proposal came back signed from the guarded signer.
    pub(crate) fn on_own_proposal(&mut self, sp: SignedProposal) -> Result<Vec<Effect>, Error> {
        let (me, idx) = self.own.ok_or(Error::NotOwnMessage)?;
        let p = &sp.proposal;
        if p.proposer != me || self.schedule.proposer(p.round) != idx {
            return Err(Error::NotOwnMessage);
        }
        let round = p.round;
        let v = p.value_id;
        let pol = p.pol_round;
        if self.own_proposals.contains_key(&round) {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        self.own_proposals.insert(round, sp.clone());
        self.proposals.entry(round).or_default().push(sp.clone());
        self.note_round(idx, round);
        let msg = SignedMessage::Proposal(sp);
        out.push(Effect::WalAppend(WalEntry::Message(msg.clone())));
        out.push(Effect::Broadcast(msg));
        if let Some(vr) = pol {
            self.broadcast_pol(vr, v, &mut out);
        }
        self.request_validation(v, round, &mut out);
        self.run_rules(&mut out);
        Ok(out)
    }

    /// Stores our signed vote in its (round, type) slot and the vote
    /// keeper. `Ok(false)`: this identical vote is already stored. An error:
    /// another vote holds the slot (the guard failed; never send a second
    /// vote for one slot).
    fn store_own_vote(&mut self, idx: usize, sv: &SignedVote) -> Result<bool, Error> {
        let key = (sv.vote.round, sv.vote.vote_type);
        if let Some(existing) = self.own_votes.get(&key) {
            return if existing.vote == sv.vote { Ok(false) } else { Err(Error::NotOwnMessage) };
        }
        let power = self.validators.validators()[idx].power.0;
        if let AddOutcome::Equivocation(_) = self.votes.add(idx, power, sv.clone(), true) {
            return Err(Error::NotOwnMessage);
        }
        self.own_votes.insert(key, sv.clone());
        Ok(true)
    }

    /// Our vote came back signed from the guarded signer.
    pub(crate) fn on_own_vote(&mut self, sv: SignedVote) -> Result<Vec<Effect>, Error> {
        let (me, idx) = self.own.ok_or(Error::NotOwnMessage)?;
        if sv.vote.validator != me {
            return Err(Error::NotOwnMessage);
        }
        if !self.store_own_vote(idx, &sv)? {
            return Ok(Vec::new());
        }
        self.note_round(idx, sv.vote.round);
        let msg = SignedMessage::Vote(sv);
        let mut out = vec![Effect::WalAppend(WalEntry::Message(msg.clone())), Effect::Broadcast(msg)];
        self.run_rules(&mut out);
        Ok(out)
    }

    /// True iff exactly this message (content, not signature) is stored:
    /// among the proposals of its round, in the vote keeper, or among our
    /// own proposals and votes. The caller checked the height.
    pub(crate) fn is_known(&self, msg: &SignedMessage) -> bool {
        match msg {
            SignedMessage::Proposal(sp) => {
                let p = &sp.proposal;
                self.proposals.get(&p.round).is_some_and(|l| l.iter().any(|q| q.proposal == *p))
                    || self.own_proposals.get(&p.round).is_some_and(|q| q.proposal == *p)
            }
            SignedMessage::Vote(sv) => {
                let v = &sv.vote;
                self.own_votes.get(&(v.round, v.vote_type)).is_some_and(|o| o.vote == *v)
                    || self.validators.index_of(&v.validator).is_some_and(|i| self.votes.contains(i, v))
            }
        }
    }

    /// The precommit we still owe at the decision `(r, v)` (see
    /// `on_own_decision_precommit`): `Some` iff we are a member of the set,
    /// hold no precommit of our own for `r`, did not already ask for one in
    /// `r` (step `precommit` of round `r`: that request is in flight or was
    /// refused), and signed nothing in a later round (the guard would
    /// refuse it anyway).
    pub(crate) fn decision_precommit(&self, r: Round, v: ValueId) -> Option<Vote> {
        let (me, _) = self.own?;
        let asked = self.own_votes.contains_key(&(r, VoteType::Precommit))
            || (self.state.round == r && self.state.step == Step::Precommit);
        let later = self.own_votes.keys().any(|(round, _)| *round > r) || self.own_proposals.keys().any(|x| *x > r);
        (!asked && !later).then(|| Vote::precommit(self.state.height, r, Some(v), me))
    }

    /// Our precommit for the decided value in the deciding round came back
    /// signed (asked for at the decision, see `rules::l49_decide`, or by
    /// L36 in the same batch just before the decision). The only input a
    /// decided height still acts on: it is stored in `own_votes` (and the
    /// vote keeper) and sent — `WalAppend`, `Broadcast`, nothing else; no
    /// rule runs after the decision. Any other late `VoteSigned` for the
    /// decided height is dropped, as before.
    ///
    /// Why this is safe although we may never have locked or prevoted in
    /// that round: 2f+1 precommits for `v` at `r` already exist, so `v` is
    /// decided and no correct process can decide anything else at this
    /// height; our precommit for `v` at `r` can only add to a quorum for
    /// that same (r, v) and cannot help any conflicting decision (a
    /// precommit counts only for its own round and value; towards another
    /// node's "2f+1 precommits of anything" at `r` (L47) it only starts a
    /// timeout, which never leads to a non-nil vote). It does not
    /// make us equivocate: we ask only when we hold no precommit for `r`,
    /// and the signer's double-sign guard still refuses if we already
    /// precommitted something else at `r` (or signed anything later) —
    /// `SignRefused` for it is then harmless (a decided height ignores
    /// it). After a crash before the commit, the WAL replay may restore a
    /// "lock" on `(r, v)` from it: a lock on the decided value, again
    /// harmless. What it buys: our signature can join the next block's
    /// `last_commit`, so a validator that decided from others' precommits
    /// is not counted as absent (and jailed for downtime).
    pub(crate) fn on_own_decision_precommit(&mut self, sv: SignedVote) -> Result<Vec<Effect>, Error> {
        let (Some((r, v)), Some((me, idx))) = (self.state.decision, self.own) else {
            return Ok(Vec::new());
        };
        if sv.vote != Vote::precommit(self.state.height, r, Some(v), me) {
            return Ok(Vec::new());
        }
        if !self.store_own_vote(idx, &sv)? {
            return Ok(Vec::new());
        }
        let msg = SignedMessage::Vote(sv);
        Ok(vec![Effect::WalAppend(WalEntry::Message(msg.clone())), Effect::Broadcast(msg)])
    }

    /// The prevotes that prove POL round `vr` for `v`, so peers that missed
    /// them can apply L28 to our re-proposal.
    fn broadcast_pol(&self, vr: Round, v: ValueId, out: &mut Vec<Effect>) {
        if let Some(set) = self.votes.get(vr, VoteType::Prevote) {
            for pv in set.votes_for(Some(v)) {
                out.push(Effect::Broadcast(SignedMessage::Vote(pv.clone())));
            }
        }
    }

    /// The guard refused to sign our message for (round, step). Nothing is
    /// sent for that step; so that we do not wait for a quorum our own
    /// missing vote may be needed for, the step's timeout is started right
    /// away (as if L34/L47 had fired): L61/L65 then move us on. Timeouts
    /// only ever lead to nil votes and new rounds, so this is safe.
    pub(crate) fn on_sign_refused(&mut self, round: Round, step: Step) -> Vec<Effect> {
        let mut out = Vec::new();
        if round != self.state.round {
            return out;
        }
        match step {
            Step::Prevote if self.state.step == Step::Prevote && !self.flags.prevote_timeout => {
                self.flags.prevote_timeout = true;
                self.schedule_timeout(TimeoutKind::Prevote, &mut out);
            }
            Step::Precommit if !self.flags.precommit_timeout => {
                self.flags.precommit_timeout = true;
                self.schedule_timeout(TimeoutKind::Precommit, &mut out);
            }
            // A refused proposal: timeoutPropose is always running.
            _ => {}
        }
        out
    }

    /// The app built a value for (height, round).
    pub(crate) fn on_value_built(&mut self, round: Round, v: ValueId) -> Vec<Effect> {
        let mut out = Vec::new();
        let waiting = self.state.round == round
            && self.state.step == Step::Propose
            && self.flags.value_requested
            && !self.flags.proposal_sent;
        if waiting {
            self.propose(v, None, &mut out);
        }
        out
    }

    /// The app judged a value.
    pub(crate) fn on_value_validated(&mut self, v: ValueId, valid: bool) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.validation_requested.contains(&v) && !self.validity.contains_key(&v) {
            self.validity.insert(v, valid);
            self.run_rules(&mut out);
        }
        out
    }

    /// A timer fired (heights already checked by the caller).
    pub(crate) fn on_timeout(&mut self, t: Timeout) -> Vec<Effect> {
        let mut out = Vec::new();
        let current = t.round == self.state.round;
        match t.kind {
            // L57: OnTimeoutPropose — prevote nil if still proposing.
            TimeoutKind::Propose if current && self.state.step == Step::Propose => {
                self.cast_vote(VoteType::Prevote, None, &mut out);
                self.state.step = Step::Prevote;
            }
            // L61: OnTimeoutPrevote — precommit nil if still prevoting.
            TimeoutKind::Prevote if current && self.state.step == Step::Prevote => {
                self.cast_vote(VoteType::Precommit, None, &mut out);
                self.state.step = Step::Precommit;
            }
            // L65: OnTimeoutPrecommit — next round.
            TimeoutKind::Precommit if current => {
                if let Some(next) = self.state.round.next() {
                    self.start_round(next, &mut out);
                }
            }
            TimeoutKind::Rebroadcast => {
                self.catchup_armed = true;
                self.rebroadcast(&mut out);
                self.schedule_timeout(TimeoutKind::Rebroadcast, &mut out);
            }
            _ => return out, // stale: nothing changed
        }
        self.run_rules(&mut out);
        out
    }

    /// A valid message of an older round `r` shows that its sender may be
    /// stuck there: waiting for 2f+1 precommits of `r` (L47) that validators
    /// which already left `r` will never send again, or that only reached
    /// us. We relay what moved us on — the proposals and votes we hold for
    /// our previous and current round: 2f+1 precommits of `round_p − 1` let
    /// it time out of its round, or f+1 messages of a higher round let it
    /// skip (L55). This is the gossip the paper assumes ("a message received
    /// by a correct process is eventually received by all"), done only on
    /// demand and at most once per rebroadcast period.
    fn catch_up(&mut self, r: Round, out: &mut Vec<Effect>) {
        if r >= self.state.round || !self.catchup_armed {
            return;
        }
        self.catchup_armed = false;
        let from = Round(self.state.round.0 - 1);
        for round in [from, self.state.round] {
            for sp in self.proposals.get(&round).into_iter().flatten() {
                out.push(Effect::Broadcast(SignedMessage::Proposal(sp.clone())));
            }
            for t in [VoteType::Prevote, VoteType::Precommit] {
                for sv in self.votes.get(round, t).into_iter().flat_map(|s| s.all()) {
                    out.push(Effect::Broadcast(SignedMessage::Vote(sv.clone())));
                }
            }
        }
    }

    /// Re-sends our proposal of the current round (with its POL) and all
    /// our votes of this height: the liveness aid for links that drop
    /// messages (a stand-in for gossip). All rounds, not only the latest:
    /// peers left behind in an older round may need exactly our old
    /// precommit to reach the 2f+1 of L47 (the paper assumes every message
    /// of a correct process is eventually delivered). At most two votes per
    /// round; receivers drop duplicates before any signature check.
    fn rebroadcast(&self, out: &mut Vec<Effect>) {
        if let Some(sp) = self.own_proposals.get(&self.state.round) {
            out.push(Effect::Broadcast(SignedMessage::Proposal(sp.clone())));
            if let Some(vr) = sp.proposal.pol_round {
                self.broadcast_pol(vr, sp.proposal.value_id, out);
            }
        }
        for sv in self.own_votes.values() {
            out.push(Effect::Broadcast(SignedMessage::Vote(sv.clone())));
        }
    }
}
