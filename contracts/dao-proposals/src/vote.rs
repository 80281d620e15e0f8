//! Casting a vote: power at the snapshot, delegations at the snapshot with
//! overridable counting, the proposal's voting rule, conviction locks, and
//! the late-quorum extension.
//!
//! **Delegation** (OpenZeppelin `GovernorCountingOverridable`, one level):
//! a delegator's share `⌊power × bps / 10000⌋` (power and shares as of the
//! snapshot) counts for each delegate that votes, unless the delegator votes
//! itself: then it votes its whole power, and the share is taken back from a
//! delegate that already voted (or never added to one that votes later).
//! Delegations changed after the snapshot change nothing for the proposal.

use agora_sdk::{Addr, ContractError, Response, Uint128, block_time_ms, caller, ensure};

use crate::json::Obj;
use crate::rules::{self, MAX_CONVICTION, VotingRule};
use crate::state::{BALLOTS, Ballot, Proposal, Status, VoteOption};
use crate::{MAX_RATIONALE_BYTES, ask, event, load, need, power};

/// What a voter sends besides the proposal id.
#[derive(Clone, Debug)]
pub struct Cast {
    pub option: VoteOption,
    pub rationale: Option<String>,
    /// Own power committed (default: all of it).
    pub power: Option<Uint128>,
    pub conviction: u8,
}

/// `⌊power × bps / 10000⌋` without overflow.
pub fn share(power: u128, bps: u32) -> u128 {
    let bps = u128::from(bps.min(10_000));
    (power / 10_000) * bps + (power % 10_000) * bps / 10_000
}

/// `(address, bps)` pairs of a delegation query's list `key`, each item's
/// address in `field`.
fn shares(registry: &Addr, q: String, key: &str, field: &str) -> Result<Vec<(Addr, u32)>, ContractError> {
    let items: Vec<Obj> = ask(registry, &q, key).map_err(|e| format!("delegation: {e}"))?;
    items.iter().map(|o| Ok((o.req(field)?, o.req("bps")?))).collect()
}

/// Power delegated to `delegate` at the snapshot by delegators who have not
/// voted on `p`.
fn delegated_in(registry: &Addr, p: &Proposal, delegate: &Addr) -> Result<u128, ContractError> {
    let q = format!(r#"{{"delegators":{{"delegate":"{delegate}","height":{}}}}}"#, p.snapshot_height);
    let mut sum = 0u128;
    let mut last: Option<Addr> = None;
    for (delegator, bps) in shares(registry, q, "delegators", "delegator")? {
        // dao-delegation lists each delegator once, sorted: anything else
        // would count someone's power twice.
        ensure!(last.is_none_or(|l| l < delegator), "delegation: delegators are not sorted and unique");
        last = Some(delegator);
        if BALLOTS.may_load(&(p.id, delegator))?.is_some() {
            continue;
        }
        let power = power(&p.voting_module, Some(&delegator), p.snapshot_height)?;
        sum = sum.checked_add(share(power, bps)).ok_or("delegated power overflows")?;
    }
    Ok(sum)
}

/// Takes `voter`'s delegated shares back from the delegates that already
/// voted on `p` (the voter overrides them).
fn override_delegates(registry: &Addr, p: &mut Proposal, voter: &Addr, full: u128) -> Result<(), ContractError> {
    let q = format!(r#"{{"delegations":{{"delegator":"{voter}","height":{}}}}}"#, p.snapshot_height);
    for (delegate, bps) in shares(registry, q, "delegations", "delegate")? {
        let Some(mut b) = BALLOTS.may_load(&(p.id, delegate))? else { continue };
        let cut = share(full, bps).min(b.delegated.u128());
        if cut == 0 {
            continue;
        }
        b.delegated = Uint128(b.delegated.u128() - cut);
        b.power = Uint128(b.power.u128().saturating_sub(cut));
        let weight = rules::weight(p.config.voting_rule, b.own(), b.delegated.u128(), b.conviction);
        p.tally =
            p.tally.sub(b.option, b.weight.u128()).and_then(|t| t.add(b.option, weight)).ok_or("tally underflow")?;
        p.turnout = Uint128(p.turnout.u128().saturating_sub(cut));
        b.weight = Uint128(weight);
        BALLOTS.save(&(p.id, delegate), &b)?;
        event(
            "vote_overridden",
            p.id,
            &[("delegate", &delegate.to_string()), ("delegator", &voter.to_string()), ("power", &cut.to_string())],
        );
    }
    Ok(())
}

/// `voter`'s power at the snapshot, and `window` blocks before it (for the
/// concentration report; best effort: a report must never stop a vote, and a
/// stake module cannot read beyond the chain's stake history). One call to
/// the voting module when it answers `voting_powers_at_heights`.
fn snapshot_powers(p: &Proposal, voter: &Addr, window: u64) -> Result<(u128, Option<u128>), ContractError> {
    let snapshot = p.snapshot_height;
    if window == 0 {
        return Ok((power(&p.voting_module, Some(voter), snapshot)?, None));
    }
    let back = snapshot.saturating_sub(window);
    let q = format!(r#"{{"voting_powers_at_heights":{{"address":"{voter}","heights":[{snapshot},{back}]}}}}"#);
    let both: Result<Vec<Option<Uint128>>, ContractError> = ask(&p.voting_module, &q, "powers");
    match both.ok().as_deref() {
        Some([Some(full), before]) => Ok((full.u128(), before.map(|b| b.u128()))),
        _ => {
            let full = power(&p.voting_module, Some(voter), snapshot)?;
            Ok((full, power(&p.voting_module, Some(voter), back).ok()))
        }
    }
}

/// Whether `voter` held an identity of `registry` at the end of block `height`.
fn has_identity(registry: &Addr, voter: &Addr, height: u64) -> Result<bool, ContractError> {
    let q = format!(r#"{{"identity_at":{{"address":"{voter}","height":{height}}}}}"#);
    let data = agora_sdk::query_contract(registry, q.as_bytes()).map_err(|e| format!("identity registry: {e}"))?;
    Ok(agora_sdk::from_json::<Obj>(&data)?.opt::<String>("identity")?.is_some())
}

pub fn vote(id: u64, cast: Cast) -> Result<Response, ContractError> {
    let Cast { option, rationale, power: commit, conviction } = cast;
    ensure!(rationale.as_ref().is_none_or(|r| r.len() <= MAX_RATIONALE_BYTES), "rationale is longer than 1024 bytes");
    let mut p = load(id)?;
    let now = block_time_ms();
    let (s, _) = p.status(now);
    need(s == Status::Open, "the proposal is not open for voting", s)?;
    let voter = caller();
    let old = BALLOTS.may_load(&(id, voter))?;
    ensure!(old.is_none() || p.config.allow_revoting, "already voted on this proposal");
    let rule = p.config.voting_rule;
    ensure!(conviction <= MAX_CONVICTION, "conviction must be 0 to 6");
    ensure!(conviction == 0 || rule == VotingRule::Conviction, "conviction applies only under the conviction rule");
    let snapshot = p.snapshot_height;

    let window = p.config.acquisition_window_blocks;
    let (full, before) = snapshot_powers(&p, &voter, window)?;
    let own = match commit {
        Some(c) => {
            ensure!(c.u128() <= full, "cannot commit {c}: the power at the snapshot is {full}");
            c.u128()
        }
        None => full,
    };
    if rule == VotingRule::Quadratic {
        let registry = p.config.identity_registry.ok_or("no identity registry")?;
        ensure!(
            has_identity(&registry, &voter, snapshot)?,
            "no identity at the snapshot: quadratic voting counts registered identities only"
        );
    }
    // Quadratic voting counts each identity's own power: delegating to one
    // voter would only lower the square roots, and would count power of
    // holders without an identity.
    let delegation = p.config.delegation.filter(|_| rule != VotingRule::Quadratic);
    let delegated = match &delegation {
        Some(registry) => delegated_in(registry, &p, &voter)?,
        None => 0,
    };
    let counted = own.checked_add(delegated).ok_or("voting power overflows")?;
    ensure!(counted <= p.total_power.u128(), "voting power {counted} is more than the total power at the snapshot");
    ensure!(counted > 0, "no voting power at the snapshot");
    let weight = rules::weight(rule, own, delegated, conviction);

    if conviction > 0 && own > 0 {
        // Locked from now until 2^(k−1) periods after the latest possible end.
        let end = p.voting_start_ms.saturating_add(p.config.max_voting_period_ms);
        let until = end
            .saturating_add(p.config.late_quorum_extension_ms)
            .saturating_add(rules::lock_ms(conviction, p.config.conviction_period_ms));
        let msg = format!(r#"{{"lock_for":{{"voter":"{voter}","amount":"{own}","until_ms":{until}}}}}"#);
        agora_sdk::call(&p.voting_module, msg.as_bytes(), 0, 0)
            .map_err(|e| format!("conviction needs the voting module to lock the power: {e}"))?;
    }
    // Nothing counts as recent where the look-back could not be read.
    let recent = before.map_or(0, |before| full.saturating_sub(before).min(own));

    if let Some(old) = &old {
        p.tally = p.tally.sub(old.option, old.weight.u128()).ok_or("tally underflow")?;
        p.turnout = Uint128(p.turnout.u128().saturating_sub(old.power.u128()));
    } else if let Some(registry) = &delegation {
        override_delegates(registry, &mut p, &voter, full)?;
    }
    p.tally = p.tally.add(option, weight).ok_or("tally overflow")?;
    p.turnout = Uint128(p.turnout.u128().checked_add(counted).ok_or("turnout overflow")?);
    if p.config.allow_early_close
        && !p.config.allow_revoting
        && p.decided_at_ms.is_none()
        && p.certain_outcome().is_some()
    {
        p.decided_at_ms = Some(now);
    }
    late_quorum(&mut p, now);
    let ballot = Ballot {
        option,
        power: Uint128(counted),
        rationale,
        delegated: Uint128(delegated),
        weight: Uint128(weight),
        conviction,
        recent: Uint128(recent),
    };
    BALLOTS.save(&(id, voter), &ballot)?;
    crate::state::PROPOSALS.save(&id, &p)?;
    event(
        "vote",
        id,
        &[
            ("voter", &voter.to_string()),
            ("option", option.as_str()),
            ("power", &counted.to_string()),
            ("weight", &weight.to_string()),
            ("delegated", &delegated.to_string()),
            ("conviction", &conviction.to_string()),
        ],
    );
    Ok(Response::new())
}

/// OpenZeppelin `PreventLateQuorum`: the vote that first reaches quorum
/// keeps voting open at least `late_quorum_extension_ms` longer.
fn late_quorum(p: &mut Proposal, now: u64) {
    if p.quorum_at_ms.is_some() || !p.quorum_reached() {
        return;
    }
    p.quorum_at_ms = Some(now);
    let extended = now.saturating_add(p.config.late_quorum_extension_ms);
    if p.config.late_quorum_extension_ms > 0 && extended > p.voting_end_ms {
        p.voting_end_ms = extended;
        // A decided early close would otherwise end it before the extension.
        p.decided_at_ms = None;
        event("voting_extended", p.id, &[("voting_end_ms", &extended.to_string())]);
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_floor_without_overflow() {
        assert_eq!(share(100, 2_500), 25);
        assert_eq!(share(99, 5_000), 49);
        assert_eq!(share(u128::MAX, 10_000), u128::MAX);
        assert_eq!(share(u128::MAX, 5_000), u128::MAX / 2);
        assert_eq!(share(7, 0), 0);
    }
}
