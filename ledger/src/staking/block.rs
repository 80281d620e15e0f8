//! What staking does around a block's transactions: rewards and liveness
//! (from the previous height's commit), evidence, maturing queues and the
//! validator-set update that takes effect two heights later. Also genesis.

use std::collections::BTreeMap;

use super::store::*;
use super::tx::Ctx;
use super::types::*;
use super::{BONDED_POOL, DISTRIBUTION, FEE_COLLECTOR, UNBONDING_POOL};
use crate::block::Event;
use crate::contract::{Host, HostEnv, LedgerHost};
use crate::crypto::PublicKey;
use crate::error::LedgerError;
use crate::math::mul_div_floor;
use crate::params::{ChainParams, StakingParams};
use crate::state::{Account, StateDiff, StateStore, account_key, compute_diff_with_kv};
use crate::types::{Address, Amount, Height, Rate};

/// Staking's block hooks.
#[derive(Debug)]
pub struct BlockStaking;

fn ev(kind: &str, attrs: &[(&str, String)]) -> Event {
    Event::new(kind, attrs)
}

/// Why a validator is slashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Infraction {
    DoubleSign,
    Downtime,
}

impl<S: StateStore + Send + 'static> Ctx<'_, '_, S> {
    /// Rewards of the previous block (its fees) plus this block's inflation,
    /// to the validators whose precommits are in this block's certificate,
    /// by power; the community tax and rounding leftovers to the community
    /// pool.
    pub fn distribute(&mut self, votes: &[VoteInfo], events: &mut Vec<Event>) -> Result<(), LedgerError> {
        let fees = self.r.host.account(&FEE_COLLECTOR)?.balance;
        self.r.move_tokens(&FEE_COLLECTOR, &DISTRIBUTION, fees)?;
        let supply = self.r.totals()?.supply;
        let provision = if self.p.blocks_per_year == 0 {
            Amount::ZERO
        } else {
            Amount::new(
                mul_div_floor(supply.get(), u128::from(self.p.inflation_rate.ppm()), u128::from(Rate::SCALE))
                    / u128::from(self.p.blocks_per_year),
            )
        };
        self.r.mint(&DISTRIBUTION, provision)?;
        let total = fees.checked_add(provision).ok_or_else(|| LedgerError::Corrupt("reward overflow".into()))?;
        if total.is_zero() {
            return Ok(());
        }
        let tax = self.p.community_tax.mul_floor(total);
        let remaining = total.get() - tax.get();
        // With the operator power cap on, rewards follow stake, not the
        // capped voting power: stake above the cap stays bonded and earns.
        let capped = self.p.max_operator_power < Rate::ONE;
        let mut signers: Vec<(Address, u64)> = Vec::new();
        for v in votes.iter().filter(|v| v.signed && v.power > 0) {
            if let Some(op) = self.r.operator_of(&v.validator)? {
                let weight = match self.r.validator(&op)? {
                    Some(val) if capped => val.power(self.p.power_reduction).max(1),
                    _ => v.power,
                };
                signers.push((op, weight));
            }
        }
        let signed_power: u128 = signers.iter().map(|(_, p)| u128::from(*p)).sum();
        let mut paid: u128 = 0;
        if signed_power > 0 {
            for (op, power) in &signers {
                let Some(mut v) = self.r.validator(op)? else { continue };
                let reward = mul_div_floor(remaining, u128::from(*power), signed_power);
                let commission = v.commission.rate.mul_floor(Amount::new(reward));
                let rest = reward - commission.get();
                if v.shares == 0 {
                    continue; // its share stays in the community pool
                }
                v.commission_outstanding = v
                    .commission_outstanding
                    .checked_add(commission)
                    .ok_or_else(|| LedgerError::Corrupt("commission overflow".into()))?;
                v.reward_acc = v.reward_acc.add_reward(rest, v.shares);
                self.r.put_validator(&v)?;
                paid += reward;
            }
        }
        let mut t = self.r.totals()?;
        let to_pool = Amount::new(total.get() - paid);
        t.community_pool = t
            .community_pool
            .checked_add(to_pool)
            .ok_or_else(|| LedgerError::Corrupt("community pool overflow".into()))?;
        self.r.put_totals(&t)?;
        events.push(ev(
            "rewards",
            &[
                ("fees", fees.to_string()),
                ("minted", provision.to_string()),
                ("to_validators", paid.to_string()),
                ("community_pool", to_pool.to_string()),
            ],
        ));
        Ok(())
    }

    /// Liveness: records the previous height's missed signatures and jails
    /// (and slashes) a validator that missed too many of the window.
    pub fn track_liveness(
        &mut self,
        votes: &[VoteInfo],
        events: &mut Vec<Event>,
        dirty: &mut bool,
    ) -> Result<(), LedgerError> {
        let Some(voted_height) = self.height.0.checked_sub(1).filter(|h| *h > 0) else { return Ok(()) };
        let window = self.p.signed_blocks_window.max(1);
        let min_signed = mul_div_floor(u128::from(window), u128::from(self.p.min_signed_per_window.ppm()), 1_000_000);
        let max_missed = u128::from(window) - min_signed;
        for vote in votes {
            let Some(op) = self.r.operator_of(&vote.validator)? else { continue };
            let Some(mut v) = self.r.validator(&op)? else { continue };
            if v.jailed || v.tombstoned {
                continue;
            }
            let mut si =
                self.r.signing_info(&op)?.unwrap_or(SigningInfo { start_height: Height(voted_height), missed: vec![] });
            let before = si.missed.len();
            let cutoff = voted_height.saturating_sub(window);
            si.missed.retain(|h| *h > cutoff);
            let mut changed = si.missed.len() != before;
            if !vote.signed && si.missed.last() != Some(&voted_height) {
                si.missed.push(voted_height);
                changed = true;
            }
            let window_done = voted_height >= si.start_height.0.saturating_add(window).saturating_sub(1);
            if window_done && si.missed.len() as u128 > max_missed {
                let missed = si.missed.len();
                let power = v.power(self.p.power_reduction);
                let slashed = self.slash(&mut v, Height(voted_height), power, Infraction::Downtime)?;
                v.jailed = true;
                v.jailed_until_ms = self.time_ms.saturating_add(self.p.downtime_jail_ms);
                self.r.put_validator(&v)?;
                si = SigningInfo { start_height: self.height, missed: Vec::new() };
                self.r.put_signing_info(&op, &si)?;
                *dirty = true;
                events.push(ev(
                    "slash",
                    &[
                        ("validator", op.to_string()),
                        ("reason", "downtime".into()),
                        ("missed_blocks", missed.to_string()),
                        ("window", window.to_string()),
                        ("amount", slashed.to_string()),
                        ("jailed_until_ms", v.jailed_until_ms.to_string()),
                    ],
                ));
                continue;
            }
            if changed {
                self.r.put_signing_info(&op, &si)?;
            }
        }
        Ok(())
    }

    /// Double-sign evidence (verified by the node against the validator set
    /// of its height): slash, jail and tombstone.
    pub fn punish(&mut self, m: &Misbehaviour, events: &mut Vec<Event>, dirty: &mut bool) -> Result<(), LedgerError> {
        let Some(op) = self.r.operator_of(&m.validator)? else { return Ok(()) };
        let Some(mut v) = self.r.validator(&op)? else { return Ok(()) };
        if v.tombstoned || self.height.0.saturating_sub(m.height.0) > self.p.max_evidence_age_blocks {
            return Ok(());
        }
        let slashed = self.slash(&mut v, m.height, m.power, Infraction::DoubleSign)?;
        v.jailed = true;
        v.tombstoned = true;
        v.jailed_until_ms = u64::MAX;
        self.r.put_validator(&v)?;
        *dirty = true;
        events.push(ev(
            "slash",
            &[
                ("validator", op.to_string()),
                ("reason", "double_sign".into()),
                ("infraction_height", m.height.to_string()),
                ("amount", slashed.to_string()),
                ("tombstoned", "true".into()),
            ],
        ));
        Ok(())
    }

    /// Burns `fraction × (power at the infraction × power_reduction)` of the
    /// stake that was bonded to `v` at `infraction`: unbonding entries and
    /// redelegations made since then first, then the validator's tokens.
    /// Never more than each holds. Returns the amount burned.
    pub(crate) fn slash(
        &mut self,
        v: &mut Validator,
        infraction: Height,
        power: u64,
        kind: Infraction,
    ) -> Result<Amount, LedgerError> {
        let fraction = match kind {
            Infraction::DoubleSign => self.p.slash_fraction_double_sign,
            Infraction::Downtime => self.p.slash_fraction_downtime,
        };
        let stake = self.p.power_reduction.checked_mul(u128::from(power)).unwrap_or(Amount::new(u128::MAX));
        let target = fraction.mul_floor(stake);
        let mut remaining = target;
        let mut burned = Amount::ZERO;
        let op = v.operator;

        // Unbonding entries that started at or after the infraction.
        let prefix = key(VAL_UNBONDING, &[&op.0]);
        for (k, _) in self.r.scan(&prefix, None, usize::MAX)? {
            let d = addr_at(&k, 21)?;
            let mut entries = self.r.unbonding(&d, &op)?;
            for e in entries.iter_mut() {
                if e.creation_height < infraction || e.completion_ms <= self.time_ms {
                    continue;
                }
                let cut = fraction.mul_floor(e.initial).min(e.balance);
                e.balance = Amount::new(e.balance.get() - cut.get());
                self.r.burn(&UNBONDING_POOL, cut)?;
                burned = Amount::new(burned.get() + cut.get());
                remaining = Amount::new(remaining.get().saturating_sub(cut.get()));
            }
            self.r.put_unbonding(&d, &op, &entries)?;
        }

        // Stake redelegated away since the infraction: burn it at its destination.
        let prefix = key(SRC_REDELEGATION, &[&op.0]);
        for (k, _) in self.r.scan(&prefix, None, usize::MAX)? {
            let d = addr_at(&k, 21)?;
            let dst = addr_at(&k, 41)?;
            let entries = self.r.redelegation(&d, &op, &dst)?;
            for e in &entries {
                if e.creation_height < infraction || e.completion_ms <= self.time_ms {
                    continue;
                }
                let Some(mut vd) = self.r.validator(&dst)? else { continue };
                let Some(mut del) = self.r.delegation(&d, &dst)? else { continue };
                let cut_tokens = fraction.mul_floor(e.initial);
                if cut_tokens.is_zero() || vd.tokens.is_zero() {
                    continue;
                }
                let shares = crate::math::mul_div_ceil(cut_tokens.get(), vd.shares, vd.tokens.get())
                    .min(e.shares_dst)
                    .min(del.shares);
                let tokens = self.unbond_shares(&d, &mut vd, &mut del, shares)?;
                self.r.burn(&BONDED_POOL, tokens)?;
                self.r.put_validator(&vd)?;
                burned = Amount::new(burned.get() + tokens.get());
                remaining = Amount::new(remaining.get().saturating_sub(tokens.get()));
            }
        }

        // The rest from the validator's bonded tokens.
        let cut = remaining.min(v.tokens);
        v.tokens = Amount::new(v.tokens.get() - cut.get());
        self.r.burn(&BONDED_POOL, cut)?;
        burned = Amount::new(burned.get() + cut.get());
        Ok(burned)
    }

    /// Pays out matured unbondings, forgets matured redelegations and
    /// finishes validators' unbonding.
    pub fn mature(&mut self, events: &mut Vec<Event>) -> Result<(), LedgerError> {
        let upto = |tag: u8, now: u64| key(tag, &[&now.saturating_add(1).to_be_bytes()]);
        for k in self.r.scan_upto(&[UNBONDING_QUEUE], &upto(UNBONDING_QUEUE, self.time_ms), usize::MAX)? {
            let (d, op) = (addr_at(&k, 9)?, addr_at(&k, 29)?);
            let mut entries = self.r.unbonding(&d, &op)?;
            let mut paid = Amount::ZERO;
            entries.retain(|e| {
                if e.completion_ms <= self.time_ms {
                    paid = Amount::new(paid.get() + e.balance.get());
                    false
                } else {
                    true
                }
            });
            self.r.move_tokens(&UNBONDING_POOL, &d, paid)?;
            self.r.put_unbonding(&d, &op, &entries)?;
            self.r.del(&k)?;
            if !paid.is_zero() {
                events.push(ev(
                    "unbonding_complete",
                    &[("delegator", d.to_string()), ("validator", op.to_string()), ("amount", paid.to_string())],
                ));
            }
        }
        for k in self.r.scan_upto(&[REDELEGATION_QUEUE], &upto(REDELEGATION_QUEUE, self.time_ms), usize::MAX)? {
            let (d, src, dst) = (addr_at(&k, 9)?, addr_at(&k, 29)?, addr_at(&k, 49)?);
            let mut entries = self.r.redelegation(&d, &src, &dst)?;
            entries.retain(|e| e.completion_ms > self.time_ms);
            self.r.put_redelegation(&d, &src, &dst, &entries)?;
            self.r.del(&k)?;
        }
        for k in self.r.scan_upto(&[VALIDATOR_QUEUE], &upto(VALIDATOR_QUEUE, self.time_ms), usize::MAX)? {
            let op = addr_at(&k, 9)?;
            if let Some(mut v) = self.r.validator(&op)?
                && matches!(v.status, ValidatorStatus::Unbonding { completion_ms } if completion_ms <= self.time_ms)
            {
                v.status = ValidatorStatus::Unbonded;
                self.r.put_validator(&v)?;
            }
            self.r.del(&k)?;
        }
        Ok(())
    }

    /// The top `max_validators` by power that are not jailed. If the result
    /// differs from the current set it is stored and returned (for H+2).
    /// An empty result keeps the old set (a chain without validators halts).
    pub fn update_set(&mut self, events: &mut Vec<Event>) -> Result<Option<Vec<SetMember>>, LedgerError> {
        let mut candidates: Vec<SetMember> = Vec::new();
        let mut records: BTreeMap<Address, Validator> = BTreeMap::new();
        for (_, b) in self.r.scan(&[VALIDATOR], None, usize::MAX)? {
            let v: Validator = borsh::from_slice(&b).map_err(|e| LedgerError::Corrupt(format!("validator: {e}")))?;
            let power = v.power(self.p.power_reduction);
            if v.jailed || v.tombstoned || power == 0 {
                continue;
            }
            candidates.push(SetMember { operator: v.operator, consensus_key: v.consensus_key, power });
            records.insert(v.operator, v);
        }
        candidates.sort_by(|a, b| b.power.cmp(&a.power).then(a.consensus_key.cmp(&b.consensus_key)));
        candidates.truncate(self.p.max_validators as usize);
        if self.p.max_operator_power < Rate::ONE {
            cap_operator_power(&mut candidates, &records, self.p.max_operator_power);
        }
        // Keep the total in consensus's range (only reachable with an absurd supply).
        while candidates.iter().map(|m| u128::from(m.power)).sum::<u128>() > u128::from(MAX_TOTAL_POWER) {
            for m in &mut candidates {
                m.power = (m.power / 2).max(1);
            }
        }
        candidates.sort_by_key(|m| m.consensus_key);
        let old = self.r.active_set()?;
        if candidates == old {
            return Ok(None);
        }
        if candidates.is_empty() {
            events
                .push(ev("validator_set_kept", &[("reason", "no eligible validator; keeping the current set".into())]));
            return Ok(None);
        }
        let new_ops: BTreeMap<Address, u64> = candidates.iter().map(|m| (m.operator, m.power)).collect();
        for m in &old {
            if !new_ops.contains_key(&m.operator)
                && let Some(mut v) = self.r.validator(&m.operator)?
            {
                let completion_ms = self.time_ms.saturating_add(self.p.unbonding_time_ms);
                v.status = ValidatorStatus::Unbonding { completion_ms };
                self.r.put_validator(&v)?;
                self.r.put(&key(VALIDATOR_QUEUE, &[&completion_ms.to_be_bytes(), &m.operator.0]), &())?;
                events.push(ev("validator_left_set", &[("validator", m.operator.to_string())]));
            }
        }
        for m in &candidates {
            if let Some(mut v) = self.r.validator(&m.operator)?
                && v.status != ValidatorStatus::Bonded
            {
                v.status = ValidatorStatus::Bonded;
                self.r.put_validator(&v)?;
                self.r.put_signing_info(&m.operator, &SigningInfo { start_height: self.height, missed: vec![] })?;
                events.push(ev(
                    "validator_joined_set",
                    &[("validator", m.operator.to_string()), ("power", m.power.to_string())],
                ));
            }
        }
        self.r.put(ACTIVE_SET, &candidates)?;
        events.push(ev(
            "validator_set_update",
            &[
                ("effective_height", (self.height.0 + 2).to_string()),
                ("validators", candidates.len().to_string()),
                ("total_power", candidates.iter().map(|m| m.power).sum::<u64>().to_string()),
            ],
        ));
        Ok(Some(candidates))
    }
}

/// Most of the set's voting power the operator cap may remove (10 %). Capping
/// the largest operators raises every other share, an attacker's included:
/// with this bound a coalition's share of the power is at most its share of
/// the stake × 10/9 (so halting the chain still takes 30 % of the stake).
pub const CAP_MAX_REMOVED: Rate = match Rate::from_ppm(100_000) {
    Some(r) => r,
    None => Rate::ZERO,
};

/// The decentralization-aware set rule: the validators of one operator
/// (clustered as the index clusters them: by declared entity) hold at most
/// `cap` of the set's voting power together, as far as removing at most
/// [`CAP_MAX_REMOVED`] of the power allows; an operator over it has its
/// validators' power scaled down proportionally (each keeps at least 1).
/// Pure integer water-filling (`decentralization::cap_shares_bounded`).
pub(crate) fn cap_operator_power(set: &mut [SetMember], records: &BTreeMap<Address, Validator>, cap: Rate) {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, m) in set.iter().enumerate() {
        let cluster = records.get(&m.operator).map_or_else(|| m.operator.to_string(), crate::index::cluster_of);
        groups.entry(cluster).or_default().push(i);
    }
    let groups: Vec<Vec<usize>> = groups.into_values().collect();
    let totals: Vec<u128> = groups.iter().map(|g| g.iter().map(|&i| u128::from(set[i].power)).sum()).collect();
    let Ok(cap) = decentralization::PowerCap::new(u64::from(cap.ppm()), u64::from(Rate::SCALE)) else {
        return; // a positive denominator: cannot happen
    };
    let Ok(budget) = decentralization::PowerCap::new(u64::from(CAP_MAX_REMOVED.ppm()), u64::from(Rate::SCALE)) else {
        return;
    };
    let capped = decentralization::cap_shares_bounded(&totals, cap, budget);
    for ((g, total), new_total) in groups.iter().zip(&totals).zip(capped) {
        if new_total == *total {
            continue;
        }
        let powers: Vec<u128> = g.iter().map(|&i| u128::from(set[i].power)).collect();
        for (&i, p) in g.iter().zip(decentralization::split_capped(&powers, new_total)) {
            set[i].power = u64::try_from(p).unwrap_or(u64::MAX).max(1);
        }
    }
}

/// Largest total voting power consensus accepts (`i64::MAX / 8`, as CometBFT).
pub const MAX_TOTAL_POWER: u64 = (i64::MAX / 8) as u64;

/// A genesis validator, as `genesis` hands it over.
#[derive(Clone, Debug)]
pub struct GenesisValidatorSpec {
    pub operator: Address,
    pub consensus_key: PublicKey,
    pub self_stake: Amount,
    pub commission: CommissionRates,
    pub min_self_delegation: Amount,
    pub metadata: ValidatorMetadata,
}

/// The genesis state (version 0): balances, the genesis validators bonded
/// with their self-stakes, the supply record and the initial active set.
/// Returns the diff and the initial set (the validator set of heights 1 and 2).
pub fn genesis_state<S: StateStore + Clone + Send + 'static>(
    store: &S,
    params: &ChainParams,
    chain_id: &str,
    time_ms: u64,
    balances: &[(Address, Amount)],
    validators: &[GenesisValidatorSpec],
) -> Result<(StateDiff, Vec<SetMember>), LedgerError> {
    let env = HostEnv {
        chain_id: chain_id.to_owned(),
        height: Height::GENESIS,
        time_ms,
        origin: Address([0; 20]),
        params: params.clone(),
        read_only: false,
    };
    let mut host = LedgerHost::new(store.clone(), BTreeMap::new(), BTreeMap::new(), env);
    let mut supply = Amount::ZERO;
    let mut seen = std::collections::BTreeSet::new();
    for (addr, bal) in balances {
        if !seen.insert(*addr) {
            return Err(LedgerError::Genesis(format!("genesis lists account {addr} twice")));
        }
        host.put(account_key(addr), Some(Account { balance: *bal, nonce: 0 }.encode()));
        supply = supply.checked_add(*bal).ok_or_else(|| LedgerError::Genesis("supply overflows".into()))?;
    }
    for g in validators {
        supply = supply.checked_add(g.self_stake).ok_or_else(|| LedgerError::Genesis("supply overflows".into()))?;
    }
    let set = {
        let mut ctx = Ctx {
            r: Records { host: &mut host },
            p: &params.staking,
            height: Height::GENESIS,
            time_ms,
            settled: Vec::new(),
        };
        ctx.r.put_totals(&Totals { supply, ..Totals::default() })?;
        for g in validators {
            // The self-stake is created in the bonded pool (it is part of the supply).
            let mut pool = ctx.r.host.account(&BONDED_POOL)?;
            pool.balance = pool.balance.checked_add(g.self_stake).ok_or_else(|| LedgerError::Corrupt("pool".into()))?;
            ctx.r.host.put_account(&BONDED_POOL, &pool);
            let out = ctx.create_validator_bonded(g)?;
            if let Err(e) = out {
                return Err(LedgerError::Genesis(format!("genesis validator {}: {e}", g.operator)));
            }
        }
        let mut events = Vec::new();
        ctx.update_set(&mut events)?.unwrap_or_default()
    };
    // The parameters in force from block 1 on (governance may change them).
    let params_record = crate::governance::encode_params(params);
    host.storage_set(&crate::governance::PARAMS, crate::governance::PARAMS_KEY, &params_record)?;
    let (writes, kv) = host.into_writes();
    let diff = compute_diff_with_kv(store, 0, writes, kv)?;
    Ok((diff, set))
}

impl<S: StateStore + Send + 'static> Ctx<'_, '_, S> {
    /// Genesis: a validator whose self-stake is already in the bonded pool.
    fn create_validator_bonded(&mut self, g: &GenesisValidatorSpec) -> Result<Result<(), String>, LedgerError> {
        // Fund the operator with the stake for a moment, then run the normal
        // path, so genesis validators obey exactly the rules of later ones.
        self.r.move_tokens(&BONDED_POOL, &g.operator, g.self_stake)?;
        Ok(self
            .create_validator(
                g.operator,
                g.consensus_key,
                g.self_stake,
                g.commission,
                g.min_self_delegation,
                &g.metadata,
            )?
            .map(|_| ()))
    }
}

impl BlockStaking {
    /// Runs before the block's transactions.
    pub(crate) fn begin<S: StateStore + Send + 'static>(
        host: &mut LedgerHost<S>,
        p: &StakingParams,
        height: Height,
        time_ms: u64,
        votes: &[VoteInfo],
        misbehaviour: &[Misbehaviour],
        dirty: &mut bool,
    ) -> Result<Vec<Event>, LedgerError> {
        let mut ctx = Ctx { r: Records { host }, p, height, time_ms, settled: Vec::new() };
        let mut events = Vec::new();
        ctx.distribute(votes, &mut events)?;
        for m in misbehaviour {
            ctx.punish(m, &mut events, dirty)?;
        }
        ctx.track_liveness(votes, &mut events, dirty)?;
        events.append(&mut ctx.settled);
        Ok(events)
    }

    /// Runs after the block's transactions. Returns the new validator set if
    /// it changed (effective at `height + 2`).
    pub(crate) fn end<S: StateStore + Send + 'static>(
        host: &mut LedgerHost<S>,
        p: &StakingParams,
        height: Height,
        time_ms: u64,
        dirty: bool,
        events: &mut Vec<Event>,
    ) -> Result<Option<Vec<SetMember>>, LedgerError> {
        let mut ctx = Ctx { r: Records { host }, p, height, time_ms, settled: Vec::new() };
        ctx.mature(events)?;
        if !dirty {
            return Ok(None);
        }
        ctx.update_set(events)
    }
}
