//! Staking transactions. Each returns `Ok(Err(reason))` for a failed
//! transaction (included, fee paid, writes reverted by the executor) and
//! `Err` only for node problems (storage, corrupted state).

use super::store::*;
use super::types::*;
use super::{BONDED_POOL, DISTRIBUTION, UNBONDING_POOL, metadata};
use crate::block::Event;
use crate::crypto::PublicKey;
use crate::error::LedgerError;
use crate::math::{mul_div_ceil, mul_div_floor};
use crate::params::StakingParams;
use crate::state::StateStore;
use crate::types::{Address, Amount, Height, Rate};

/// A transaction's outcome: events and extra gas used, or the failure reason.
pub(crate) type TxOutcome = Result<Result<(Vec<Event>, u64), String>, LedgerError>;

macro_rules! fail {
    ($($t:tt)*) => { return Ok(Err(format!($($t)*))) };
}

/// The context staking code runs in: records, parameters, block position.
pub(crate) struct Ctx<'a, 'h, S> {
    pub r: Records<'h, S>,
    pub p: &'a StakingParams,
    pub height: Height,
    pub time_ms: u64,
    /// `withdraw_rewards` events of rewards paid out automatically because a
    /// delegation changed (the caller adds them to the receipt or block).
    pub settled: Vec<Event>,
}

fn ev(kind: &str, attrs: &[(&str, String)]) -> Event {
    Event::new(kind, attrs)
}

impl<S: StateStore + Send + 'static> Ctx<'_, '_, S> {
    // ---- shared mechanics -------------------------------------------------

    /// Pays a delegation's accrued rewards and moves its accumulator mark.
    pub fn settle(&mut self, d: &Address, v: &Validator, del: &mut Delegation) -> Result<Amount, LedgerError> {
        let owed = Amount::new(v.reward_acc.earned(del.reward_acc, del.shares));
        del.reward_acc = v.reward_acc;
        self.r.move_tokens(&DISTRIBUTION, d, owed)?;
        if !owed.is_zero() {
            self.settled.push(ev(
                "withdraw_rewards",
                &[("delegator", d.to_string()), ("validator", v.operator.to_string()), ("amount", owed.to_string())],
            ));
        }
        Ok(owed)
    }

    /// Adds `amount` tokens (already in the bonded pool) to `v` for `d`.
    /// Returns the shares issued, or why not.
    fn bond(&mut self, d: &Address, v: &mut Validator, amount: Amount) -> Result<Result<u128, String>, LedgerError> {
        let shares = if v.shares == 0 {
            if !v.tokens.is_zero() {
                // Cannot happen: shareless tokens are swept (see `unbond_shares`).
                return Err(LedgerError::Corrupt(format!("validator {} has tokens but no shares", v.operator)));
            }
            amount.get()
        } else if v.tokens.is_zero() {
            return Ok(Err(format!("validator {} was slashed to zero and takes no delegations", v.operator)));
        } else {
            mul_div_floor(amount.get(), v.shares, v.tokens.get())
        };
        if shares == 0 {
            return Ok(Err(format!("{amount} is too small to buy a share of validator {}", v.operator)));
        }
        let existing = self.r.delegation(d, &v.operator)?;
        if existing.is_none() && self.r.delegator_index(d)?.len() >= crate::governance::MAX_DELEGATIONS_PER_ACCOUNT {
            return Ok(Err(format!(
                "{d} already delegates to {} validators, the most one account may",
                crate::governance::MAX_DELEGATIONS_PER_ACCOUNT
            )));
        }
        let mut del = existing.unwrap_or_default();
        self.settle(d, v, &mut del)?;
        del.shares = del.shares.checked_add(shares).ok_or_else(|| LedgerError::Corrupt("shares overflow".into()))?;
        v.shares = v.shares.checked_add(shares).ok_or_else(|| LedgerError::Corrupt("shares overflow".into()))?;
        v.tokens = v.tokens.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("tokens overflow".into()))?;
        self.r.put_delegation(d, &v.operator, &del)?;
        Ok(Ok(shares))
    }

    /// Removes `shares` of `d`'s delegation from `v` (rewards settled first)
    /// and returns the tokens they were worth; the tokens stay in the bonded
    /// pool for the caller to move. Shareless leftovers (slashing dust) go to
    /// the community pool.
    pub fn unbond_shares(
        &mut self,
        d: &Address,
        v: &mut Validator,
        del: &mut Delegation,
        shares: u128,
    ) -> Result<Amount, LedgerError> {
        self.settle(d, v, del)?;
        let shares = shares.min(del.shares);
        let tokens = v.tokens_for(shares);
        del.shares -= shares;
        v.shares -= shares;
        v.tokens = v.tokens.checked_sub(tokens).ok_or_else(|| LedgerError::Corrupt("tokens underflow".into()))?;
        self.r.put_delegation(d, &v.operator, del)?;
        if v.shares == 0 && !v.tokens.is_zero() {
            let dust = v.tokens;
            v.tokens = Amount::ZERO;
            self.r.move_tokens(&BONDED_POOL, &DISTRIBUTION, dust)?;
            let mut t = self.r.totals()?;
            t.community_pool = t.community_pool.checked_add(dust).unwrap_or(t.community_pool);
            self.r.put_totals(&t)?;
        }
        Ok(tokens)
    }

    /// Shares of `del` to remove so that `amount` tokens are released, or why not.
    fn shares_for(v: &Validator, del: &Delegation, amount: Amount) -> Result<u128, String> {
        if amount.is_zero() {
            return Err("amount must be positive".into());
        }
        if v.tokens.is_zero() || v.shares == 0 {
            return Err(format!("validator {} has no tokens left", v.operator));
        }
        let value = v.tokens_for(del.shares);
        if amount > value {
            return Err(format!("only {value} is delegated to {}", v.operator));
        }
        if amount == value {
            return Ok(del.shares);
        }
        Ok(mul_div_ceil(amount.get(), v.shares, v.tokens.get()).min(del.shares))
    }

    /// Jails a validator whose operator's own stake fell below its minimum.
    fn check_self_delegation(&mut self, v: &mut Validator, events: &mut Vec<Event>) -> Result<(), LedgerError> {
        let own = self.r.delegation(&v.operator, &v.operator)?.map_or(0, |d| d.shares);
        if !v.jailed && v.tokens_for(own) < v.min_self_delegation {
            v.jailed = true;
            v.jailed_until_ms = self.time_ms;
            events.push(ev(
                "jail",
                &[("validator", v.operator.to_string()), ("reason", "self-delegation below minimum".into())],
            ));
        }
        Ok(())
    }

    fn load(&mut self, op: &Address) -> Result<Result<Validator, String>, LedgerError> {
        Ok(self.r.validator(op)?.ok_or_else(|| format!("no validator with operator address {op}")))
    }

    fn check_entries(&self, n: usize, what: &str) -> Result<(), String> {
        if n >= self.p.max_entries as usize {
            return Err(format!(
                "{what} already has {n} entries in its unbonding period, the most allowed (max_entries); wait for one to complete"
            ));
        }
        Ok(())
    }

    // ---- transactions ----------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub fn create_validator(
        &mut self,
        sender: Address,
        consensus_key: PublicKey,
        self_stake: Amount,
        commission: CommissionRates,
        min_self_delegation: Amount,
        metadata: &ValidatorMetadata,
    ) -> TxOutcome {
        if let Err(e) = metadata::validate(metadata) {
            fail!("invalid metadata: {e}");
        }
        if commission.max_rate > Rate::ONE || commission.rate > commission.max_rate {
            fail!("commission rate {} is above max_rate {}", commission.rate, commission.max_rate);
        }
        if commission.max_change_rate > commission.max_rate {
            fail!("max_change_rate {} is above max_rate {}", commission.max_change_rate, commission.max_rate);
        }
        if min_self_delegation < self.p.min_self_delegation {
            fail!(
                "min_self_delegation {min_self_delegation} is below the chain's minimum {}",
                self.p.min_self_delegation
            );
        }
        if self_stake < min_self_delegation {
            fail!("self-stake {self_stake} is below the declared min_self_delegation {min_self_delegation}");
        }
        if self.r.validator(&sender)?.is_some() {
            fail!("{sender} already operates a validator");
        }
        match ed25519_dalek::VerifyingKey::from_bytes(&consensus_key.0) {
            Ok(k) if !k.is_weak() => {}
            _ => fail!("consensus key {consensus_key} is not a valid ed25519 public key"),
        }
        if let Some(other) = self.r.operator_of(&consensus_key)? {
            fail!("consensus key {consensus_key} is already used by validator {other}");
        }
        let mut v = Validator {
            operator: sender,
            consensus_key,
            tokens: Amount::ZERO,
            shares: 0,
            commission,
            commission_changed_ms: self.time_ms,
            commission_outstanding: Amount::ZERO,
            min_self_delegation,
            status: ValidatorStatus::Unbonded,
            jailed: false,
            jailed_until_ms: 0,
            tombstoned: false,
            metadata: metadata.clone(),
            reward_acc: Default::default(),
            created_height: self.height,
        };
        if let Err(e) = self.r.host.move_balance(&sender, &BONDED_POOL, self_stake)? {
            fail!("cannot bond the self-stake: {e}");
        }
        if let Err(e) = self.bond(&sender, &mut v, self_stake)? {
            fail!("{e}");
        }
        self.r.put(&key(CONS_KEY, &[&consensus_key.0]), &sender.0)?;
        self.r.put_validator(&v)?;
        Ok(Ok((
            vec![ev(
                "create_validator",
                &[
                    ("validator", sender.to_string()),
                    ("consensus_key", consensus_key.to_string()),
                    ("self_stake", self_stake.to_string()),
                    ("moniker", metadata.moniker.clone()),
                ],
            )],
            0,
        )))
    }

    pub fn edit_validator(
        &mut self,
        sender: Address,
        commission_rate: Option<Rate>,
        min_self_delegation: Option<Amount>,
        update: &MetadataUpdate,
    ) -> TxOutcome {
        let mut v = match self.load(&sender)? {
            Ok(v) => v,
            Err(_) => fail!("{sender} does not operate a validator"),
        };
        if commission_rate.is_none() && min_self_delegation.is_none() && update.is_empty() {
            fail!("nothing to change");
        }
        let mut attrs = vec![("validator", sender.to_string())];
        if let Some(rate) = commission_rate {
            let c = v.commission;
            if rate > c.max_rate {
                fail!("commission rate {rate} is above this validator's max_rate {}", c.max_rate);
            }
            let change = if rate > c.rate { rate.ppm() - c.rate.ppm() } else { c.rate.ppm() - rate.ppm() };
            if change > c.max_change_rate.ppm() {
                fail!("commission may change by at most {} at a time (from {} to {rate})", c.max_change_rate, c.rate);
            }
            let next = v.commission_changed_ms.saturating_add(self.p.commission_change_period_ms);
            if rate != c.rate && self.time_ms < next && v.created_height != self.height {
                fail!(
                    "commission was changed less than {} s ago; next change allowed at block time {next} ms",
                    self.p.commission_change_period_ms / 1000
                );
            }
            if rate != c.rate {
                v.commission.rate = rate;
                v.commission_changed_ms = self.time_ms;
            }
            attrs.push(("commission_rate", rate.to_string()));
        }
        if let Some(min) = min_self_delegation {
            if min < v.min_self_delegation {
                fail!("min_self_delegation can only increase (now {})", v.min_self_delegation);
            }
            let own = self.r.delegation(&sender, &sender)?.map_or(0, |d| d.shares);
            if v.tokens_for(own) < min {
                fail!("min_self_delegation {min} is above the operator's own delegation {}", v.tokens_for(own));
            }
            v.min_self_delegation = min;
            attrs.push(("min_self_delegation", min.to_string()));
        }
        if !update.is_empty() {
            let m = update.apply(&v.metadata);
            if let Err(e) = metadata::validate(&m) {
                fail!("invalid metadata: {e}");
            }
            v.metadata = m;
        }
        self.r.put_validator(&v)?;
        Ok(Ok((vec![ev("edit_validator", &attrs)], 0)))
    }

    pub fn delegate(&mut self, d: Address, op: Address, amount: Amount) -> TxOutcome {
        if amount.is_zero() {
            fail!("amount must be positive");
        }
        let mut v = match self.load(&op)? {
            Ok(v) => v,
            Err(e) => fail!("{e}"),
        };
        if v.tombstoned {
            fail!("validator {op} is tombstoned (it double-signed) and can never validate again");
        }
        if let Err(e) = self.r.host.move_balance(&d, &BONDED_POOL, amount)? {
            fail!("cannot delegate: {e}");
        }
        let shares = match self.bond(&d, &mut v, amount)? {
            Ok(s) => s,
            Err(e) => fail!("{e}"),
        };
        self.r.put_validator(&v)?;
        Ok(Ok((
            vec![ev(
                "delegate",
                &[
                    ("delegator", d.to_string()),
                    ("validator", op.to_string()),
                    ("amount", amount.to_string()),
                    ("shares", shares.to_string()),
                ],
            )],
            0,
        )))
    }

    pub fn undelegate(&mut self, d: Address, op: Address, amount: Amount) -> TxOutcome {
        let mut v = match self.load(&op)? {
            Ok(v) => v,
            Err(e) => fail!("{e}"),
        };
        let Some(mut del) = self.r.delegation(&d, &op)? else { fail!("{d} has no delegation to {op}") };
        let shares = match Self::shares_for(&v, &del, amount) {
            Ok(s) => s,
            Err(e) => fail!("{e}"),
        };
        let mut entries = self.r.unbonding(&d, &op)?;
        if let Err(e) = self.check_entries(entries.len(), &format!("the unbonding of {d} from {op}")) {
            fail!("{e}");
        }
        let tokens = self.unbond_shares(&d, &mut v, &mut del, shares)?;
        if tokens.is_zero() {
            fail!("{amount} is worth less than one token after rounding");
        }
        self.r.move_tokens(&BONDED_POOL, &UNBONDING_POOL, tokens)?;
        let completion_ms = self.time_ms.saturating_add(self.p.unbonding_time_ms);
        entries.push(UnbondingEntry { creation_height: self.height, completion_ms, initial: tokens, balance: tokens });
        self.r.put_unbonding(&d, &op, &entries)?;
        self.r.put(&key(UNBONDING_QUEUE, &[&completion_ms.to_be_bytes(), &d.0, &op.0]), &())?;
        let mut events = vec![ev(
            "undelegate",
            &[
                ("delegator", d.to_string()),
                ("validator", op.to_string()),
                ("amount", tokens.to_string()),
                ("completion_time_ms", completion_ms.to_string()),
            ],
        )];
        if d == op {
            self.check_self_delegation(&mut v, &mut events)?;
        }
        self.r.put_validator(&v)?;
        Ok(Ok((events, 0)))
    }

    pub fn redelegate(&mut self, d: Address, src: Address, dst: Address, amount: Amount) -> TxOutcome {
        if src == dst {
            fail!("source and destination are the same validator");
        }
        let mut vs = match self.load(&src)? {
            Ok(v) => v,
            Err(e) => fail!("{e}"),
        };
        let mut vd = match self.load(&dst)? {
            Ok(v) => v,
            Err(e) => fail!("{e}"),
        };
        if vd.tombstoned {
            fail!("validator {dst} is tombstoned (it double-signed) and can never validate again");
        }
        let Some(mut del) = self.r.delegation(&d, &src)? else { fail!("{d} has no delegation to {src}") };
        // No hopping: stake that arrived at `src` by a redelegation still in
        // its unbonding period cannot move on (it must stay slashable there).
        let prefix = key(REDELEGATION, &[&d.0]);
        for (k, _) in self.r.scan(&prefix, None, usize::MAX)? {
            if addr_at(&k, 41)? == src {
                fail!(
                    "stake redelegated to {src} is still in its unbonding period and cannot be redelegated again (no hopping)"
                );
            }
        }
        let mut entries = self.r.redelegation(&d, &src, &dst)?;
        if let Err(e) = self.check_entries(entries.len(), &format!("the redelegation of {d} from {src} to {dst}")) {
            fail!("{e}");
        }
        let shares = match Self::shares_for(&vs, &del, amount) {
            Ok(s) => s,
            Err(e) => fail!("{e}"),
        };
        let tokens = self.unbond_shares(&d, &mut vs, &mut del, shares)?;
        if tokens.is_zero() {
            fail!("{amount} is worth less than one token after rounding");
        }
        let shares_dst = match self.bond(&d, &mut vd, tokens)? {
            Ok(s) => s,
            Err(e) => fail!("{e}"),
        };
        let completion_ms = self.time_ms.saturating_add(self.p.unbonding_time_ms);
        entries.push(RedelegationEntry { creation_height: self.height, completion_ms, initial: tokens, shares_dst });
        self.r.put_redelegation(&d, &src, &dst, &entries)?;
        self.r.put(&key(REDELEGATION_QUEUE, &[&completion_ms.to_be_bytes(), &d.0, &src.0, &dst.0]), &())?;
        let mut events = vec![ev(
            "redelegate",
            &[
                ("delegator", d.to_string()),
                ("source_validator", src.to_string()),
                ("destination_validator", dst.to_string()),
                ("amount", tokens.to_string()),
                ("completion_time_ms", completion_ms.to_string()),
            ],
        )];
        if d == src {
            self.check_self_delegation(&mut vs, &mut events)?;
        }
        self.r.put_validator(&vs)?;
        self.r.put_validator(&vd)?;
        Ok(Ok((events, 0)))
    }

    /// Withdraws delegation rewards (from one validator or all) and, for an
    /// operator, its commission.
    pub fn withdraw_rewards(&mut self, d: Address, only: Option<Address>) -> TxOutcome {
        let targets: Vec<Address> = match only {
            Some(op) => {
                if self.r.validator(&op)?.is_none() {
                    fail!("no validator with operator address {op}");
                }
                vec![op]
            }
            None => {
                let prefix = key(DELEGATION, &[&d.0]);
                self.r.scan(&prefix, None, usize::MAX)?.iter().map(|(k, _)| addr_at(k, 21)).collect::<Result<_, _>>()?
            }
        };
        let mut total = Amount::ZERO;
        let mut events = Vec::new();
        for op in &targets {
            let Some(v) = self.r.validator(op)? else { continue };
            let Some(mut del) = self.r.delegation(&d, op)? else {
                if only.is_some() && *op != d {
                    fail!("{d} has no delegation to {op}");
                }
                continue;
            };
            let paid = self.settle(&d, &v, &mut del)?;
            self.settled.clear();
            self.r.put_delegation(&d, op, &del)?;
            total = total.checked_add(paid).ok_or_else(|| LedgerError::Corrupt("reward overflow".into()))?;
            events.push(ev(
                "withdraw_rewards",
                &[("delegator", d.to_string()), ("validator", op.to_string()), ("amount", paid.to_string())],
            ));
        }
        if only.is_none_or(|op| op == d)
            && let Some(mut v) = self.r.validator(&d)?
        {
            let c = v.commission_outstanding;
            v.commission_outstanding = Amount::ZERO;
            self.r.move_tokens(&DISTRIBUTION, &d, c)?;
            self.r.put_validator(&v)?;
            events.push(ev("withdraw_commission", &[("validator", d.to_string()), ("amount", c.to_string())]));
        }
        if events.is_empty() {
            fail!("{d} has no delegations and no commission to withdraw");
        }
        let gas = self.p.delegation_gas.saturating_mul(targets.len() as u64);
        Ok(Ok((events, gas)))
    }

    pub fn unjail(&mut self, sender: Address) -> TxOutcome {
        let Some(mut v) = self.r.validator(&sender)? else { fail!("{sender} does not operate a validator") };
        if v.tombstoned {
            fail!("validator {sender} is tombstoned (it double-signed) and can never be unjailed");
        }
        if !v.jailed {
            fail!("validator {sender} is not jailed");
        }
        if self.time_ms < v.jailed_until_ms {
            let left = (v.jailed_until_ms - self.time_ms).div_ceil(1000);
            fail!("validator {sender} is jailed for {left} s more (until block time {} ms)", v.jailed_until_ms);
        }
        let own = self.r.delegation(&sender, &sender)?.map_or(0, |d| d.shares);
        if v.tokens_for(own) < v.min_self_delegation {
            fail!(
                "self-delegation {} is below min_self_delegation {}: delegate more before unjailing",
                v.tokens_for(own),
                v.min_self_delegation
            );
        }
        v.jailed = false;
        self.r.put_validator(&v)?;
        self.r.put_signing_info(&sender, &SigningInfo { start_height: self.height, missed: Vec::new() })?;
        Ok(Ok((vec![ev("unjail", &[("validator", sender.to_string())])], 0)))
    }
}
