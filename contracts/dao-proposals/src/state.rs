//! Stored state, the module's configuration, and the pure rules: counting
//! votes and computing a proposal's status from its stored state and the time.

use agora_sdk::{Addr, ContractError, Item, Map, Uint128, ensure};
use dao_types::Fraction;
use serde::{Deserialize, Deserializer, Serialize};

use crate::json::{Obj, pick};
use crate::rules::{MAX_ACQUISITION_WINDOW_BLOCKS, MAX_CONVICTION_PERIOD_MS, OutflowCap, VotingRule};
use serde_json::value::RawValue;

/// Longest voting period (and voting delay plus voting period): 30 days, how
/// long the chain keeps stake history (a vote reads power at the snapshot).
pub const MAX_VOTING_SPAN_MS: u64 = 2_592_000_000;
/// `max_messages` when not given.
pub const DEFAULT_MAX_MESSAGES: u64 = 16;
/// Most messages of one proposal, whatever the configuration says.
pub const MAX_MESSAGES: u64 = 64;

pub const CONFIG: Item<Config> = Item::new("config");
pub const DAO: Item<Addr> = Item::new("dao");
pub const PROPOSAL_COUNT: Item<u64> = Item::new("count");
pub const PROPOSALS: Map<u64, Proposal> = Map::new("proposals");
/// `(proposal id, voter) -> ballot`.
pub const BALLOTS: Map<(u64, Addr), Ballot> = Map::new("ballots");
/// The treasury outflow of the current cap period: `(period, paid out)`.
pub const OUTFLOW: Item<(u64, u128)> = Item::new("outflow");
/// `acquisition_window_blocks` when not given.
pub const DEFAULT_ACQUISITION_WINDOW_BLOCKS: u64 = 1_000;

/// What happens to a proposal's deposit once the proposal is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundPolicy {
    /// Refunded unless vetoed by no-with-veto votes (then burned).
    Always,
    /// Refunded if the proposal passed (executed, failed or expired);
    /// rejected: to the DAO; vetoed by votes: burned.
    OnlyPassed,
    /// Never refunded (to the DAO; vetoed by votes: burned). Cancelled
    /// proposals are always refunded.
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deposit {
    pub amount: Uint128,
    pub refund: RefundPolicy,
}

/// The module's configuration (also its instantiate message). Each proposal
/// keeps a copy of the configuration it was created with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    pub voting_delay_ms: u64,
    pub min_voting_period_ms: u64,
    pub max_voting_period_ms: u64,
    pub quorum: Fraction,
    pub threshold: Fraction,
    pub veto_threshold: Fraction,
    pub allow_early_close: bool,
    pub allow_revoting: bool,
    pub deposit: Option<Deposit>,
    pub timelock_ms: u64,
    pub vetoer: Option<Addr>,
    pub execution_grace_ms: u64,
    pub max_messages: u64,
    /// How power becomes weight (see [`VotingRule`]).
    pub voting_rule: VotingRule,
    /// The `dao-identity` registry quadratic voting reads at the snapshot.
    pub identity_registry: Option<Addr>,
    /// A conviction vote of conviction k locks its power for 2^(k−1) of these.
    pub conviction_period_ms: u64,
    /// The `dao-delegation` contract whose delegations (at the snapshot) count.
    pub delegation: Option<Addr>,
    /// A proposal that first reaches quorum less than this before its voting
    /// end stays open until this long after that vote (0: off).
    pub late_quorum_extension_ms: u64,
    /// May cancel any proposal not executed yet.
    pub guardian: Option<Addr>,
    pub outflow_cap: Option<OutflowCap>,
    /// The concentration report's "acquired shortly before the snapshot":
    /// power gained within this many blocks before it.
    pub acquisition_window_blocks: u64,
}

impl Config {
    pub fn validate(&self) -> Result<(), ContractError> {
        ensure!(
            self.min_voting_period_ms <= self.max_voting_period_ms,
            "min_voting_period_ms exceeds max_voting_period_ms"
        );
        let span = self.voting_delay_ms.checked_add(self.max_voting_period_ms);
        ensure!(
            self.max_voting_period_ms > 0 && span.is_some_and(|s| s <= MAX_VOTING_SPAN_MS),
            "max_voting_period_ms must be positive and, with voting_delay_ms, at most 2592000000"
        );
        let span = span.and_then(|s| s.checked_add(self.late_quorum_extension_ms));
        ensure!(
            span.is_some_and(|s| s <= MAX_VOTING_SPAN_MS),
            "voting_delay_ms + max_voting_period_ms + late_quorum_extension_ms must be at most 2592000000"
        );
        match self.voting_rule {
            VotingRule::Token => {}
            VotingRule::Quadratic => {
                ensure!(self.identity_registry.is_some(), "quadratic voting needs an identity_registry")
            }
            VotingRule::Conviction => ensure!(
                (1..=MAX_CONVICTION_PERIOD_MS).contains(&self.conviction_period_ms),
                "conviction voting needs conviction_period_ms between 1 and 1814400000 (21 days)"
            ),
        }
        ensure!(
            !self.allow_early_close || (self.voting_rule == VotingRule::Token && self.delegation.is_none()),
            "allow_early_close needs the token rule without delegation (weights and overrides can move cast power)"
        );
        ensure!(
            self.outflow_cap.as_ref().is_none_or(|c| c.threshold >= self.threshold),
            "outflow_cap.threshold must be at least threshold"
        );
        ensure!(
            self.acquisition_window_blocks <= MAX_ACQUISITION_WINDOW_BLOCKS,
            "acquisition_window_blocks must be at most 1000000"
        );
        ensure!(self.threshold > Fraction::ZERO, "threshold must be positive");
        ensure!(self.execution_grace_ms > 0, "execution_grace_ms must be positive");
        ensure!(self.max_messages <= MAX_MESSAGES, "max_messages must be at most 64");
        ensure!(self.deposit.as_ref().is_none_or(|d| !d.amount.is_zero()), "deposit amount must be positive");
        Ok(())
    }

    pub fn deposit_amount(&self) -> u128 {
        self.deposit.as_ref().map_or(0, |d| d.amount.u128())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteOption {
    Yes,
    No,
    Abstain,
    NoWithVeto,
}

impl VoteOption {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteOption::Yes => "yes",
            VoteOption::No => "no",
            VoteOption::Abstain => "abstain",
            VoteOption::NoWithVeto => "no_with_veto",
        }
    }
}

/// A stored vote (the voter is in the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ballot {
    pub option: VoteOption,
    /// Power counted: the voter's own power committed plus `delegated`.
    pub power: Uint128,
    pub rationale: Option<String>,
    /// Power of delegators who have not voted themselves.
    pub delegated: Uint128,
    /// What the ballot weighs in the tally under the proposal's rule.
    pub weight: Uint128,
    pub conviction: u8,
    /// Own power gained within the acquisition window before the snapshot.
    pub recent: Uint128,
}

impl Ballot {
    /// The voter's own power committed.
    pub fn own(&self) -> u128 {
        self.power.u128().saturating_sub(self.delegated.u128())
    }
}

/// The code a proposal's message targets, as it was when the proposal was
/// created: execution fails if it changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pin {
    pub contract: Addr,
    /// Hex code hash (`None`: not a contract).
    pub code_hash: Option<String>,
    pub admin: Option<Addr>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub yes: Uint128,
    pub no: Uint128,
    pub abstain: Uint128,
    pub no_with_veto: Uint128,
}

impl Tally {
    fn slot(&mut self, option: VoteOption) -> &mut Uint128 {
        match option {
            VoteOption::Yes => &mut self.yes,
            VoteOption::No => &mut self.no,
            VoteOption::Abstain => &mut self.abstain,
            VoteOption::NoWithVeto => &mut self.no_with_veto,
        }
    }

    /// Adds `power` for `option`; `None` if any sum would overflow.
    pub fn add(mut self, option: VoteOption, power: u128) -> Option<Tally> {
        let s = self.slot(option);
        *s = s.checked_add(power)?;
        self.checked_cast().map(|_| self)
    }

    /// Removes `power` from `option`.
    pub fn sub(mut self, option: VoteOption, power: u128) -> Option<Tally> {
        let s = self.slot(option);
        *s = s.checked_sub(power)?;
        Some(self)
    }

    /// All power cast (`None` on overflow; a stored tally never overflows).
    pub fn checked_cast(&self) -> Option<u128> {
        self.yes
            .u128()
            .checked_add(self.no.u128())?
            .checked_add(self.abstain.u128())?
            .checked_add(self.no_with_veto.u128())
    }

    pub fn cast(&self) -> u128 {
        self.checked_cast().unwrap_or(u128::MAX)
    }
}

/// A proposal's status. The stored `final_status` only ever holds the sticky
/// ones (cancelled, executed, execution_failed, vetoed, and rejected/expired
/// once closed); the others are computed from the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Open,
    Passed,
    Rejected,
    Vetoed,
    Timelocked,
    Executed,
    ExecutionFailed,
    Expired,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Open => "open",
            Status::Passed => "passed",
            Status::Rejected => "rejected",
            Status::Vetoed => "vetoed",
            Status::Timelocked => "timelocked",
            Status::Executed => "executed",
            Status::ExecutionFailed => "execution_failed",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    pub id: u64,
    pub title: String,
    pub description: String,
    pub proposer: Addr,
    /// The messages, as raw JSON (`dao_types::DaoMsg`s, checked by the DAO).
    pub msgs: Vec<Box<RawValue>>,
    pub config: Config,
    pub voting_module: Addr,
    pub snapshot_height: u64,
    pub total_power: Uint128,
    pub created_ms: u64,
    pub voting_start_ms: u64,
    pub voting_end_ms: u64,
    /// Weights per option.
    pub tally: Tally,
    /// Power that voted (before weights): what quorum counts.
    pub turnout: Uint128,
    /// Native tokens the messages pay out of the treasury.
    pub outflow: Uint128,
    /// Needs the outflow cap's threshold: it changes the cap, the modules,
    /// or a contract's code or admin (a way around the cap later).
    pub cap_threshold: bool,
    /// Only replaces the guardian (and other settings of this module): the
    /// guardian cannot cancel it.
    pub guardian_proof: bool,
    /// The targets' code and admin at creation.
    pub pins: Vec<Pin>,
    /// When quorum was first reached.
    pub quorum_at_ms: Option<u64>,
    /// Set when the guardian cancelled the proposal.
    pub cancelled_by: Option<Addr>,
    /// The deposit paid.
    pub deposit: Uint128,
    pub deposit_settled: bool,
    /// A sticky status, once one is reached.
    pub final_status: Option<Status>,
    /// Set when the vetoer vetoed the proposal.
    pub vetoed_by: Option<Addr>,
    /// When the outcome became certain (early close only).
    pub decided_at_ms: Option<u64>,
    pub executed_at_ms: Option<u64>,
    /// When it was cancelled, vetoed by the vetoer, or closed.
    pub closed_at_ms: Option<u64>,
    pub execution_failure: Option<String>,
}

/// `Deserialize` through [`Obj`] (one shared object parser, see `json`).
macro_rules! via_obj {
    ($t:ty, $f:expr) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let o = Obj::deserialize(d)?;
                $f(&o).map_err(|e: ContractError| serde::de::Error::custom(e.message()))
            }
        }
    };
}

/// `Deserialize` of a unit enum from its name.
macro_rules! via_name {
    ($t:ty, $all:expr) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                pick(&s, &$all, <$t>::as_str).map_err(|e| serde::de::Error::custom(e.message()))
            }
        }
    };
}

via_name!(VoteOption, [VoteOption::Yes, VoteOption::No, VoteOption::Abstain, VoteOption::NoWithVeto]);
via_name!(RefundPolicy, [RefundPolicy::Always, RefundPolicy::OnlyPassed, RefundPolicy::Never]);
via_name!(
    Status,
    [
        Status::Pending,
        Status::Open,
        Status::Passed,
        Status::Rejected,
        Status::Vetoed,
        Status::Timelocked,
        Status::Executed,
        Status::ExecutionFailed,
        Status::Expired,
        Status::Cancelled,
    ]
);

impl RefundPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundPolicy::Always => "always",
            RefundPolicy::OnlyPassed => "only_passed",
            RefundPolicy::Never => "never",
        }
    }
}

via_obj!(Deposit, |o: &Obj| -> Result<Deposit, ContractError> {
    o.only(&["amount", "refund"])?;
    Ok(Deposit { amount: o.req("amount")?, refund: o.req("refund")? })
});

via_obj!(Config, |o: &Obj| -> Result<Config, ContractError> {
    o.only(&[
        "voting_delay_ms",
        "min_voting_period_ms",
        "max_voting_period_ms",
        "quorum",
        "threshold",
        "veto_threshold",
        "allow_early_close",
        "allow_revoting",
        "deposit",
        "timelock_ms",
        "vetoer",
        "execution_grace_ms",
        "max_messages",
        "voting_rule",
        "identity_registry",
        "conviction_period_ms",
        "delegation",
        "late_quorum_extension_ms",
        "guardian",
        "outflow_cap",
        "acquisition_window_blocks",
    ])?;
    Ok(Config {
        voting_delay_ms: o.or_default("voting_delay_ms")?,
        min_voting_period_ms: o.or_default("min_voting_period_ms")?,
        max_voting_period_ms: o.req("max_voting_period_ms")?,
        quorum: o.req("quorum")?,
        threshold: o.req("threshold")?,
        veto_threshold: o.req("veto_threshold")?,
        allow_early_close: o.or_default("allow_early_close")?,
        allow_revoting: o.or_default("allow_revoting")?,
        deposit: o.opt("deposit")?,
        timelock_ms: o.or_default("timelock_ms")?,
        vetoer: o.opt("vetoer")?,
        execution_grace_ms: o.req("execution_grace_ms")?,
        max_messages: o.opt("max_messages")?.unwrap_or(DEFAULT_MAX_MESSAGES),
        voting_rule: o.or_default("voting_rule")?,
        identity_registry: o.opt("identity_registry")?,
        conviction_period_ms: o.or_default("conviction_period_ms")?,
        delegation: o.opt("delegation")?,
        late_quorum_extension_ms: o.or_default("late_quorum_extension_ms")?,
        guardian: o.opt("guardian")?,
        outflow_cap: o.opt("outflow_cap")?,
        acquisition_window_blocks: o.opt("acquisition_window_blocks")?.unwrap_or(DEFAULT_ACQUISITION_WINDOW_BLOCKS),
    })
});

via_obj!(Tally, |o: &Obj| -> Result<Tally, ContractError> {
    Ok(Tally { yes: o.req("yes")?, no: o.req("no")?, abstain: o.req("abstain")?, no_with_veto: o.req("no_with_veto")? })
});

via_obj!(Ballot, |o: &Obj| -> Result<Ballot, ContractError> {
    Ok(Ballot {
        option: o.req("option")?,
        power: o.req("power")?,
        rationale: o.opt("rationale")?,
        delegated: o.or_default("delegated")?,
        weight: o.req("weight")?,
        conviction: o.or_default("conviction")?,
        recent: o.or_default("recent")?,
    })
});

via_obj!(Pin, |o: &Obj| -> Result<Pin, ContractError> {
    Ok(Pin { contract: o.req("contract")?, code_hash: o.opt("code_hash")?, admin: o.opt("admin")? })
});

via_obj!(Proposal, |o: &Obj| -> Result<Proposal, ContractError> {
    Ok(Proposal {
        id: o.req("id")?,
        title: o.req("title")?,
        description: o.req("description")?,
        proposer: o.req("proposer")?,
        msgs: o.req("msgs")?,
        config: o.req("config")?,
        voting_module: o.req("voting_module")?,
        snapshot_height: o.req("snapshot_height")?,
        total_power: o.req("total_power")?,
        created_ms: o.req("created_ms")?,
        voting_start_ms: o.req("voting_start_ms")?,
        voting_end_ms: o.req("voting_end_ms")?,
        tally: o.req("tally")?,
        turnout: o.req("turnout")?,
        outflow: o.or_default("outflow")?,
        cap_threshold: o.or_default("cap_threshold")?,
        guardian_proof: o.or_default("guardian_proof")?,
        pins: o.or_default("pins")?,
        quorum_at_ms: o.opt("quorum_at_ms")?,
        cancelled_by: o.opt("cancelled_by")?,
        deposit: o.req("deposit")?,
        deposit_settled: o.req("deposit_settled")?,
        final_status: o.opt("final_status")?,
        vetoed_by: o.opt("vetoed_by")?,
        decided_at_ms: o.opt("decided_at_ms")?,
        executed_at_ms: o.opt("executed_at_ms")?,
        closed_at_ms: o.opt("closed_at_ms")?,
        execution_failure: o.opt("execution_failure")?,
    })
});

/// How a finished vote came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Rejected,
    Vetoed,
}

/// Counting on `(yes, no, abstain, veto)` against `total`, exactly, when
/// weights are powers (the token rule).
pub fn outcome(c: &Config, counts: [u128; 4], total: u128) -> Outcome {
    let cast = counts.iter().fold(0u128, |s, c| s.saturating_add(*c));
    outcome_with(c, c.threshold, counts, cast, total)
}

/// Counting on weights `(yes, no, abstain, veto)` with `turnout` power voting
/// of `total`: quorum counts power, veto and threshold count weights.
pub fn outcome_with(
    c: &Config,
    threshold: Fraction,
    [yes, no, abstain, veto]: [u128; 4],
    turnout: u128,
    total: u128,
) -> Outcome {
    let cast = yes.saturating_add(no).saturating_add(abstain).saturating_add(veto);
    if !c.quorum.reached_by(turnout, total) {
        Outcome::Rejected
    } else if c.veto_threshold.exceeded_by(veto, cast) {
        Outcome::Vetoed
    } else if threshold.exceeded_by(yes, yes.saturating_add(no).saturating_add(veto)) {
        Outcome::Passed
    } else {
        Outcome::Rejected
    }
}

impl Proposal {
    fn counts(&self) -> [u128; 4] {
        let t = &self.tally;
        [t.yes.u128(), t.no.u128(), t.abstain.u128(), t.no_with_veto.u128()]
    }

    /// The threshold this proposal must pass: the outflow cap's when it pays
    /// out more than the cap by itself.
    pub fn threshold(&self) -> Fraction {
        match &self.config.outflow_cap {
            Some(cap) if self.outflow > cap.amount || self.cap_threshold => cap.threshold,
            _ => self.config.threshold,
        }
    }

    pub fn outcome(&self) -> Outcome {
        let turnout = self.turnout.u128();
        outcome_with(&self.config, self.threshold(), self.counts(), turnout, self.total_power.u128())
    }

    pub fn quorum_reached(&self) -> bool {
        self.config.quorum.reached_by(self.turnout.u128(), self.total_power.u128())
    }

    /// The outcome if all power not cast yet went to `option` (`None`: nobody
    /// else votes). Only meaningful under the token rule without delegation
    /// (weight = power, cast power never moves), the only case with early close.
    fn outcome_if(&self, option: Option<usize>) -> Outcome {
        let (mut counts, mut turnout) = (self.counts(), self.turnout.u128());
        if let Some(i) = option {
            let remaining = self.total_power.u128().saturating_sub(turnout);
            counts[i] = counts[i].saturating_add(remaining);
            turnout = turnout.saturating_add(remaining);
        }
        outcome_with(&self.config, self.threshold(), counts, turnout, self.total_power.u128())
    }

    /// The outcome if no further vote can change it. Every outcome's region
    /// is checked on the vertices of the remaining power's allocations
    /// (all to one option, or nobody votes), which is exact:
    /// * passing is convex (quorum, no veto and threshold are half-spaces);
    ///   "nobody votes" dominates yes and abstain, so it must hold for
    ///   nobody, all-no and all-veto;
    /// * veto is convex; all-veto is dominated by "nobody votes", and
    ///   yes/no/abstain are equivalent, so nobody and all-abstain;
    /// * rejection is certain iff passing is impossible (all-yes is the best
    ///   case for quorum, threshold and against veto) and veto is impossible
    ///   (all-veto is its best case).
    pub fn certain_outcome(&self) -> Option<Outcome> {
        let (none, yes, no, abstain, veto) = (
            self.outcome_if(None),
            self.outcome_if(Some(0)),
            self.outcome_if(Some(1)),
            self.outcome_if(Some(2)),
            self.outcome_if(Some(3)),
        );
        if [none, no, veto].iter().all(|o| *o == Outcome::Passed) {
            Some(Outcome::Passed)
        } else if [none, abstain].iter().all(|o| *o == Outcome::Vetoed) {
            Some(Outcome::Vetoed)
        } else if yes != Outcome::Passed && veto != Outcome::Vetoed {
            Some(Outcome::Rejected)
        } else {
            None
        }
    }

    /// When voting ends: the voting end, or after an early decision
    /// `max(decided, start + min period)`.
    pub fn close_ms(&self) -> u64 {
        match self.decided_at_ms {
            Some(d) => {
                d.max(self.voting_start_ms.saturating_add(self.config.min_voting_period_ms)).min(self.voting_end_ms)
            }
            None => self.voting_end_ms,
        }
    }

    /// The status at `now`, and when it next changes by itself.
    pub fn status(&self, now: u64) -> (Status, Option<u64>) {
        if let Some(s) = self.final_status {
            return (s, None);
        }
        if now < self.voting_start_ms {
            return (Status::Pending, Some(self.voting_start_ms));
        }
        let close = self.close_ms();
        if now < close {
            return (Status::Open, Some(close));
        }
        match self.outcome() {
            Outcome::Rejected => (Status::Rejected, None),
            Outcome::Vetoed => (Status::Vetoed, None),
            Outcome::Passed => {
                let unlock = close.saturating_add(self.config.timelock_ms);
                let expiry = unlock.saturating_add(self.config.execution_grace_ms);
                if now < unlock {
                    (Status::Timelocked, Some(unlock))
                } else if now < expiry {
                    (Status::Passed, Some(expiry))
                } else {
                    (Status::Expired, None)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cfg(quorum: &str, threshold: &str, veto: &str) -> Config {
        Config {
            voting_delay_ms: 0,
            min_voting_period_ms: 0,
            max_voting_period_ms: 10,
            quorum: quorum.parse().unwrap(),
            threshold: threshold.parse().unwrap(),
            veto_threshold: veto.parse().unwrap(),
            allow_early_close: true,
            allow_revoting: false,
            deposit: None,
            timelock_ms: 0,
            vetoer: None,
            execution_grace_ms: 1,
            max_messages: DEFAULT_MAX_MESSAGES,
            voting_rule: VotingRule::Token,
            identity_registry: None,
            conviction_period_ms: 0,
            delegation: None,
            late_quorum_extension_ms: 0,
            guardian: None,
            outflow_cap: None,
            acquisition_window_blocks: 0,
        }
    }

    fn prop(c: Config, [yes, no, abstain, veto]: [u128; 4], total: u128) -> Proposal {
        Proposal {
            id: 1,
            title: String::new(),
            description: String::new(),
            proposer: Addr::ZERO,
            msgs: vec![],
            config: c,
            voting_module: Addr::ZERO,
            snapshot_height: 0,
            total_power: Uint128(total),
            created_ms: 0,
            voting_start_ms: 0,
            voting_end_ms: 10,
            tally: Tally { yes: Uint128(yes), no: Uint128(no), abstain: Uint128(abstain), no_with_veto: Uint128(veto) },
            turnout: Uint128(yes + no + abstain + veto),
            outflow: Uint128(0),
            cap_threshold: false,
            guardian_proof: false,
            pins: vec![],
            quorum_at_ms: None,
            cancelled_by: None,
            deposit: Uint128(0),
            deposit_settled: false,
            final_status: None,
            vetoed_by: None,
            decided_at_ms: None,
            executed_at_ms: None,
            closed_at_ms: None,
            execution_failure: None,
        }
    }

    #[test]
    fn counting_is_exact() {
        let c = cfg("0.4", "0.5", "0.334");
        assert_eq!(outcome(&c, [20, 19, 0, 0], 100), Outcome::Rejected); // quorum 39 < 40
        assert_eq!(outcome(&c, [21, 19, 0, 0], 100), Outcome::Passed);
        assert_eq!(outcome(&c, [20, 20, 0, 0], 100), Outcome::Rejected); // not more than half
        assert_eq!(outcome(&c, [1, 0, 39, 0], 100), Outcome::Passed); // abstain only for quorum
        assert_eq!(outcome(&c, [30, 0, 0, 16], 100), Outcome::Vetoed); // 16/46 > 0.334
        assert_eq!(outcome(&c, [30, 0, 2, 16], 100), Outcome::Passed); // 16/48 < 0.334; 30/46 yes
        assert_eq!(outcome(&c, [0, 0, 0, 0], 0), Outcome::Rejected);
        assert_eq!(outcome(&c, [u128::MAX, 0, 0, 0], u128::MAX), Outcome::Passed);
    }

    #[test]
    fn certain_outcomes() {
        let c = cfg("0.4", "0.5", "0.334");
        // 51 yes of 100: all the rest voting no gives 51/100, veto 49/100 > 0.334: not certain.
        assert_eq!(prop(c.clone(), [51, 0, 0, 0], 100).certain_outcome(), None);
        // 67 yes: rest all veto is 33/100 < 0.334, and 67 > half: certain pass.
        assert_eq!(prop(c.clone(), [67, 0, 0, 0], 100).certain_outcome(), Some(Outcome::Passed));
        assert_eq!(prop(c.clone(), [66, 0, 0, 0], 100).certain_outcome(), None); // 34/100 > 0.334
        // Veto 35: certain whatever the rest does (35/100 > 0.334), quorum reached.
        assert_eq!(prop(c.clone(), [0, 0, 0, 35], 100).certain_outcome(), None); // quorum not yet
        assert_eq!(prop(c.clone(), [0, 0, 5, 35], 100).certain_outcome(), Some(Outcome::Vetoed));
        assert_eq!(prop(c.clone(), [0, 0, 6, 34], 100).certain_outcome(), Some(Outcome::Vetoed)); // 34/100 > .334
        assert_eq!(prop(c.clone(), [0, 0, 7, 33], 100).certain_outcome(), None); // 33/100 not > .334
        // 50 no: yes can reach at most 50 of 100, not more than half; veto
        // can reach at most 50/100 > 0.334: not certain.
        assert_eq!(prop(c.clone(), [0, 50, 0, 0], 100).certain_outcome(), None);
        // 67 no: veto at most 33/100: certain rejection.
        assert_eq!(prop(c.clone(), [0, 67, 0, 0], 100).certain_outcome(), Some(Outcome::Rejected));
        // Quorum unreachable: total 100, quorum 0.4, but only... all cast: decided.
        assert_eq!(prop(c.clone(), [20, 20, 0, 0], 40).certain_outcome(), Some(Outcome::Rejected));
        assert_eq!(prop(c.clone(), [21, 19, 0, 0], 40).certain_outcome(), Some(Outcome::Passed));
        // Veto disabled (1): a mostly-no vote is decided once yes cannot exceed half.
        let c1 = cfg("0", "0.5", "1");
        assert_eq!(prop(c1.clone(), [0, 50, 0, 0], 100).certain_outcome(), Some(Outcome::Rejected));
        assert_eq!(prop(c1, [51, 0, 0, 0], 100).certain_outcome(), Some(Outcome::Passed));
        // Exhaustive check against brute force on a small total.
        let c = cfg("0.3", "0.6", "0.25");
        let total = 7u128;
        for y in 0..=total {
            for n in 0..=total - y {
                for a in 0..=total - y - n {
                    for v in 0..=total - y - n - a {
                        let p = prop(c.clone(), [y, n, a, v], total);
                        let rem = total - y - n - a - v;
                        let mut seen = std::collections::BTreeSet::new();
                        for y2 in 0..=rem {
                            for n2 in 0..=rem - y2 {
                                for a2 in 0..=rem - y2 - n2 {
                                    for v2 in 0..=rem - y2 - n2 - a2 {
                                        let o = outcome(&c, [y + y2, n + n2, a + a2, v + v2], total);
                                        seen.insert(format!("{o:?}"));
                                    }
                                }
                            }
                        }
                        let brute = (seen.len() == 1).then(|| seen.into_iter().next().unwrap());
                        assert_eq!(p.certain_outcome().map(|o| format!("{o:?}")), brute, "{y} {n} {a} {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn tallies_never_overflow() {
        let t = Tally::default().add(VoteOption::Yes, u128::MAX).unwrap();
        assert_eq!(t.add(VoteOption::No, 1), None);
        assert_eq!(t.sub(VoteOption::No, 1), None);
        assert_eq!(t.sub(VoteOption::Yes, u128::MAX).unwrap(), Tally::default());
    }
}
