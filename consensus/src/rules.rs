//! The upon-rules of Algorithm 1 ("The latest gossip on BFT consensus",
//! Buchman, Kwon, Milosevic, arXiv 1807.04938), written to be read beside
//! the paper. `run_rules` re-evaluates every rule after each input until none
//! fires; each rule is guarded by the step or a once-per-round flag, so the
//! loop terminates.
//!
//! Deviations, all deliberate and documented:
//! - `valid(v)` is asynchronous: the app answers `ValidateValue` later, and a
//!   rule needing `valid(v)` waits for the answer (a timeout may fire first).
//! - StartRound schedules timeoutPropose for the proposer too (as CometBFT):
//!   a slow app or a refused signature can then never stall a round.
//! - L49 needs 2f+1 precommits for `v` and `valid(v) = true`; the paper's
//!   "proposal from proposer(h, r)" is there to supply `v`, which we already
//!   have (validated) from a proposal of any round of this height.
//! - At L49 a validator that holds no precommit of its own for the deciding
//!   round `r` also asks to sign ⟨PRECOMMIT, h_p, r, id(v)⟩ (not in the
//!   paper, which needs no commit signatures after the decision), so that
//!   it appears in the next block's commit (see
//!   `HeightDriver::on_own_decision_precommit`).
//! - L55 counts, per validator, the highest round it sent a valid message
//!   for, and skips to the highest round `R` reached by > 1/3 of the power:
//!   the paper's rule with the same guarantee (some correct process is at
//!   round ≥ R) that also works when single votes of far rounds were
//!   dropped by the window.

use crate::certificate::CommitCertificate;
use crate::driver::HeightDriver;
use crate::io::Effect;
use crate::messages::{Proposal, SignedMessage, Vote, WalEntry};
use crate::state::RoundFlags;
use crate::timeouts::TimeoutKind;
use crate::types::{Round, Step, ValueId, VoteType};

impl HeightDriver {
    /// Function StartRound(round) (paper lines 11-21).
    pub(crate) fn start_round(&mut self, round: Round, out: &mut Vec<Effect>) {
        self.state.round = round;
        self.state.step = Step::Propose;
        if self.own.is_some() && round > Round::ZERO {
            out.push(Effect::WalAppend(WalEntry::Round(self.state.height, round)));
        }
        self.flags = RoundFlags {
            // A restart may resume a round whose proposal we already signed.
            proposal_sent: self.own_proposals.contains_key(&round),
            ..RoundFlags::default()
        };
        let is_proposer = self.own.is_some_and(|(_, idx)| self.schedule.proposer(round) == idx);
        if is_proposer && !self.flags.proposal_sent {
            match self.state.valid {
                // L15: proposal ← validValue_p, with POL round validRound_p.
                Some((vr, v)) => self.propose(v, Some(vr), out),
                // L18: proposal ← getValue() — asked of the app.
                None => {
                    self.flags.value_requested = true;
                    out.push(Effect::RequestValue { height: self.state.height, round });
                }
            }
        }
        // L21 (for everyone, see module doc).
        self.schedule_timeout(TimeoutKind::Propose, out);
    }

    /// L19: broadcast ⟨PROPOSAL, h_p, round_p, proposal, validRound_p⟩
    /// (via the signer).
    pub(crate) fn propose(&mut self, v: ValueId, pol_round: Option<Round>, out: &mut Vec<Effect>) {
        let Some((me, _)) = self.own else { return };
        self.flags.proposal_sent = true;
        out.push(Effect::SignProposal(Proposal {
            height: self.state.height,
            round: self.state.round,
            value_id: v,
            pol_round,
            proposer: me,
        }));
    }

    /// broadcast ⟨PREVOTE|PRECOMMIT, h_p, round_p, v⟩ (via the signer). The
    /// caller updates `step_p`; non-validators follow the steps silently.
    pub(crate) fn cast_vote(&mut self, t: VoteType, v: Option<ValueId>, out: &mut Vec<Effect>) {
        let Some((me, _)) = self.own else { return };
        let vote =
            Vote { vote_type: t, height: self.state.height, round: self.state.round, value_id: v, validator: me };
        out.push(Effect::SignVote(vote));
    }

    /// Evaluates the upon-rules until none fires.
    pub(crate) fn run_rules(&mut self, out: &mut Vec<Effect>) {
        let mut fired = 0u32;
        loop {
            if self.decided() {
                return;
            }
            let progress = self.l49_decide(out)
                || self.l55_round_skip(out)
                || self.l22_l28_prevote_proposal(out)
                || self.l36_prevote_quorum_for_value(out)
                || self.l44_prevote_quorum_nil(out)
                || self.l34_prevote_quorum_any(out)
                || self.l47_precommit_quorum_any(out);
            if !progress {
                return;
            }
            fired += 1;
            // Each firing moves the step/round forward or sets a flag; a
            // runaway loop would be a bug in the guards, not in the input.
            assert!(fired < 1_000_000, "upon-rule loop does not terminate");
        }
    }

    fn locked_for_rules(&self) -> Option<(Round, ValueId)> {
        if self.ignore_lock {
            None // test-only broken rule: forget the lock at L22/L28
        } else {
            self.state.locked
        }
    }

    /// L22 and L28, `while step_p = propose`.
    fn l22_l28_prevote_proposal(&mut self, out: &mut Vec<Effect>) -> bool {
        if self.state.step != Step::Propose {
            return false;
        }
        let round = self.state.round;
        let Some(list) = self.proposals.get(&round) else {
            return false;
        };
        let locked = self.locked_for_rules();
        let mut decision: Option<Option<ValueId>> = None;
        for sp in list {
            let v = sp.proposal.value_id;
            // valid(v): wait for the application's answer.
            let Some(&valid) = self.validity.get(&v) else {
                continue;
            };
            match sp.proposal.pol_round {
                // L22: upon ⟨PROPOSAL, h_p, round_p, v, −1⟩ from proposer:
                // prevote id(v) if valid(v) ∧ (lockedRound = −1 ∨ lockedValue = v).
                None => {
                    let ok = valid && locked.is_none_or(|(_, lv)| lv == v);
                    decision = Some(ok.then_some(v));
                }
                // L28: upon ⟨PROPOSAL, h_p, round_p, v, vr⟩ ∧ 2f+1
                // ⟨PREVOTE, h_p, vr, id(v)⟩, 0 ≤ vr < round_p (checked on
                // receipt): prevote id(v) if valid(v) ∧ (lockedRound ≤ vr ∨
                // lockedValue = v).
                Some(vr) => {
                    let pol = self
                        .votes
                        .get(vr, VoteType::Prevote)
                        .is_some_and(|s| self.validators.is_quorum(s.power_for(Some(v))));
                    if !pol {
                        continue;
                    }
                    let ok = valid && locked.is_none_or(|(lr, lv)| lr <= vr || lv == v);
                    decision = Some(ok.then_some(v));
                }
            }
            break;
        }
        let Some(value) = decision else {
            return false;
        };
        self.cast_vote(VoteType::Prevote, value, out);
        self.state.step = Step::Prevote; // L27 / L33
        true
    }

    /// L34: upon 2f+1 ⟨PREVOTE, h_p, round_p, ∗⟩ while step_p = prevote for
    /// the first time: schedule OnTimeoutPrevote.
    fn l34_prevote_quorum_any(&mut self, out: &mut Vec<Effect>) -> bool {
        if self.state.step != Step::Prevote || self.flags.prevote_timeout {
            return false;
        }
        let any = self.votes.get(self.state.round, VoteType::Prevote).map_or(0, |s| s.total());
        if !self.validators.is_quorum(any) {
            return false;
        }
        self.flags.prevote_timeout = true;
        self.schedule_timeout(TimeoutKind::Prevote, out);
        true
    }

    /// L36: upon ⟨PROPOSAL, h_p, round_p, v, ∗⟩ from proposer ∧ 2f+1
    /// ⟨PREVOTE, h_p, round_p, id(v)⟩ while valid(v) ∧ step_p ≥ prevote for
    /// the first time: if step_p = prevote { lock v, precommit id(v), step ←
    /// precommit }; validValue ← v, validRound ← round_p.
    fn l36_prevote_quorum_for_value(&mut self, out: &mut Vec<Effect>) -> bool {
        if self.state.step < Step::Prevote || self.flags.l36_done {
            return false;
        }
        let round = self.state.round;
        let Some(set) = self.votes.get(round, VoteType::Prevote) else {
            return false;
        };
        let Some(list) = self.proposals.get(&round) else {
            return false;
        };
        let found = set.tallies().find_map(|(value, power)| {
            let v = value?;
            let ok = self.validators.is_quorum(power)
                && self.validity.get(&v) == Some(&true)
                && list.iter().any(|sp| sp.proposal.value_id == v);
            ok.then_some(v)
        });
        let Some(v) = found else {
            return false;
        };
        self.flags.l36_done = true;
        if self.state.step == Step::Prevote {
            // The POL goes to the WAL before the precommit is even signed,
            // so the lock stays provable after a crash (see Effect::WalAppend).
            if let Some((me, _)) = self.own
                && let Some(set) = self.votes.get(round, VoteType::Prevote)
            {
                for pv in set.votes_for(Some(v)).filter(|pv| pv.vote.validator != me) {
                    out.push(Effect::WalAppend(WalEntry::Message(SignedMessage::Vote(pv.clone()))));
                }
            }
            self.state.locked = Some((round, v));
            self.cast_vote(VoteType::Precommit, Some(v), out);
            self.state.step = Step::Precommit;
        }
        self.state.valid = Some((round, v));
        true
    }

    /// L44: upon 2f+1 ⟨PREVOTE, h_p, round_p, nil⟩ while step_p = prevote:
    /// precommit nil, step ← precommit.
    fn l44_prevote_quorum_nil(&mut self, out: &mut Vec<Effect>) -> bool {
        if self.state.step != Step::Prevote {
            return false;
        }
        let nil = self.votes.get(self.state.round, VoteType::Prevote).map_or(0, |s| s.power_for(None));
        if !self.validators.is_quorum(nil) {
            return false;
        }
        self.cast_vote(VoteType::Precommit, None, out);
        self.state.step = Step::Precommit;
        true
    }

    /// L47: upon 2f+1 ⟨PRECOMMIT, h_p, round_p, ∗⟩ for the first time:
    /// schedule OnTimeoutPrecommit.
    fn l47_precommit_quorum_any(&mut self, out: &mut Vec<Effect>) -> bool {
        if self.flags.precommit_timeout {
            return false;
        }
        let any = self.votes.get(self.state.round, VoteType::Precommit).map_or(0, |s| s.total());
        if !self.validators.is_quorum(any) {
            return false;
        }
        self.flags.precommit_timeout = true;
        self.schedule_timeout(TimeoutKind::Precommit, out);
        true
    }

    /// L49: upon ⟨PROPOSAL, h_p, r, v, ∗⟩ ∧ 2f+1 ⟨PRECOMMIT, h_p, r, id(v)⟩
    /// while decision_p[h_p] = nil: if valid(v) decide v (any round r).
    /// Effects: `SignVote(precommit r, v)` if we still owe one, then
    /// `Decide`.
    fn l49_decide(&mut self, out: &mut Vec<Effect>) -> bool {
        let height = self.state.height;
        let mut found = None;
        for r in self.votes.rounds() {
            let Some(set) = self.votes.get(r, VoteType::Precommit) else {
                continue;
            };
            let value = set.tallies().find_map(|(value, power)| {
                let v = value?;
                let ok = self.validators.is_quorum(power) && self.validity.get(&v) == Some(&true);
                ok.then_some(v)
            });
            if let Some(v) = value {
                let certificate = CommitCertificate::from_precommits(height, r, v, set.votes_for(Some(v)));
                found = Some((r, v, certificate));
                break;
            }
        }
        let Some((r, v, certificate)) = found else {
            return false;
        };
        self.state.decision = Some((r, v));
        // Our own precommit for (r, v) if we never cast one (decided from
        // others' precommits while in an earlier step or round), so we are
        // in the next block's last_commit; why this is safe: see
        // `HeightDriver::on_own_decision_precommit`. It comes *before*
        // `Decide`: a node carries out effects in order and commits (and
        // may start the next height) at `Decide`, so asked first, the
        // signature is persisted by the guard and its `VoteSigned` is
        // queued ahead of the next `StartHeight` and still finds this height
        // (a `VoteSigned` for a height already left is dropped). No prevote.
        if let Some(vote) = self.decision_precommit(r, v) {
            out.push(Effect::SignVote(vote));
        }
        out.push(Effect::Decide { height, value_id: v, certificate });
        true
    }

    /// L55: upon f+1 ⟨∗, h_p, round, ∗, ∗⟩ with round > round_p:
    /// StartRound(round) (generalised as described in the module doc).
    fn l55_round_skip(&mut self, out: &mut Vec<Effect>) -> bool {
        let current = self.state.round;
        let mut ahead: Vec<(Round, u64)> = self
            .highest_round
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.filter(|r| *r > current).map(|r| (r, self.validators.validators()[i].power.0)))
            .collect();
        // Highest rounds first; the first prefix holding > 1/3 of the power
        // names the highest round that f+1 validators have reached.
        ahead.sort_by_key(|a| std::cmp::Reverse(a.0));
        let mut power = 0u64;
        let mut target = None;
        for (r, p) in ahead {
            power += p;
            if self.validators.is_one_third(power) {
                target = Some(r);
                break;
            }
        }
        let Some(r) = target else {
            return false;
        };
        self.start_round(r, out);
        true
    }
}
