//! Read-only views of staking state for RPC and tools (latest committed state).

use std::collections::BTreeMap;

use super::store::*;
use super::types::*;
use super::{BONDED_POOL, DISTRIBUTION, FEE_COLLECTOR, UNBONDING_POOL};
use crate::contract::{HostEnv, LedgerHost};
use crate::error::LedgerError;
use crate::params::ChainParams;
use crate::state::StateStore;
use crate::types::{Address, Amount, Height};

/// Queries over a snapshot of the state.
pub struct StakingView<S> {
    host: LedgerHost<S>,
}

impl<S> std::fmt::Debug for StakingView<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StakingView")
    }
}

/// A delegation with what it is worth and what it has earned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegationView {
    pub delegator: Address,
    pub validator: Address,
    pub shares: u128,
    pub amount: Amount,
    pub pending_rewards: Amount,
}

/// Where every token is (see the module docs for the pools).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupplyView {
    pub totals: Totals,
    pub bonded: Amount,
    pub unbonding: Amount,
    pub fee_collector: Amount,
    pub distribution: Amount,
}

impl<S: StateStore + Send + 'static> StakingView<S> {
    pub fn new(store: S, params: &ChainParams) -> Self {
        let env = HostEnv {
            chain_id: String::new(),
            height: Height::GENESIS,
            time_ms: 0,
            origin: Address([0; 20]),
            params: params.clone(),
            read_only: true,
        };
        StakingView { host: LedgerHost::read_only(store, env) }
    }

    fn r(&mut self) -> Records<'_, S> {
        Records { host: &mut self.host }
    }

    pub fn validator(&mut self, op: &Address) -> Result<Option<Validator>, LedgerError> {
        self.r().validator(op)
    }

    pub fn validator_by_key(&mut self, pk: &crate::crypto::PublicKey) -> Result<Option<Validator>, LedgerError> {
        match self.r().operator_of(pk)? {
            Some(op) => self.r().validator(&op),
            None => Ok(None),
        }
    }

    /// Every validator, by operator address.
    pub fn validators(&mut self) -> Result<Vec<Validator>, LedgerError> {
        self.r()
            .scan(&[VALIDATOR], None, usize::MAX)?
            .iter()
            .map(|(_, b)| borsh::from_slice(b).map_err(|e| LedgerError::Corrupt(format!("validator: {e}"))))
            .collect()
    }

    pub fn active_set(&mut self) -> Result<Vec<SetMember>, LedgerError> {
        self.r().active_set()
    }

    pub fn signing_info(&mut self, op: &Address) -> Result<Option<SigningInfo>, LedgerError> {
        self.r().signing_info(op)
    }

    pub fn self_delegation(&mut self, v: &Validator) -> Result<Amount, LedgerError> {
        Ok(v.tokens_for(self.r().delegation(&v.operator, &v.operator)?.map_or(0, |d| d.shares)))
    }

    fn view(&mut self, d: Address, op: Address, del: Delegation) -> Result<DelegationView, LedgerError> {
        let v = self.r().validator(&op)?.ok_or_else(|| LedgerError::Corrupt(format!("delegation to unknown {op}")))?;
        Ok(DelegationView {
            delegator: d,
            validator: op,
            shares: del.shares,
            amount: v.tokens_for(del.shares),
            pending_rewards: Amount::new(v.reward_acc.earned(del.reward_acc, del.shares)),
        })
    }

    /// An account's delegations.
    pub fn delegations_of(&mut self, d: &Address) -> Result<Vec<DelegationView>, LedgerError> {
        let rows = self.r().scan(&key(DELEGATION, &[&d.0]), None, usize::MAX)?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, b) in rows {
            let del: Delegation =
                borsh::from_slice(&b).map_err(|e| LedgerError::Corrupt(format!("delegation: {e}")))?;
            out.push(self.view(*d, addr_at(&k, 21)?, del)?);
        }
        Ok(out)
    }

    /// A validator's delegations in delegator order, `limit` after `after`.
    pub fn delegations_to(
        &mut self,
        op: &Address,
        after: Option<&Address>,
        limit: usize,
    ) -> Result<Vec<DelegationView>, LedgerError> {
        let prefix = key(VAL_DELEGATOR, &[&op.0]);
        let after_key = after.map(|a| key(VAL_DELEGATOR, &[&op.0, &a.0]));
        let rows = self.r().scan(&prefix, after_key.as_deref(), limit)?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, _) in rows {
            let d = addr_at(&k, 21)?;
            if let Some(del) = self.r().delegation(&d, op)? {
                out.push(self.view(d, *op, del)?);
            }
        }
        Ok(out)
    }

    /// An account's unbonding entries, by validator.
    pub fn unbondings_of(&mut self, d: &Address) -> Result<Vec<(Address, Vec<UnbondingEntry>)>, LedgerError> {
        let rows = self.r().scan(&key(UNBONDING, &[&d.0]), None, usize::MAX)?;
        rows.iter()
            .map(|(k, b)| {
                Ok((
                    addr_at(k, 21)?,
                    borsh::from_slice(b).map_err(|e| LedgerError::Corrupt(format!("unbonding: {e}")))?,
                ))
            })
            .collect()
    }

    /// An account's redelegations in their unbonding period: (src, dst, entries).
    #[allow(clippy::type_complexity)]
    pub fn redelegations_of(
        &mut self,
        d: &Address,
    ) -> Result<Vec<(Address, Address, Vec<RedelegationEntry>)>, LedgerError> {
        let rows = self.r().scan(&key(REDELEGATION, &[&d.0]), None, usize::MAX)?;
        rows.iter()
            .map(|(k, b)| {
                Ok((
                    addr_at(k, 21)?,
                    addr_at(k, 41)?,
                    borsh::from_slice(b).map_err(|e| LedgerError::Corrupt(format!("redelegation: {e}")))?,
                ))
            })
            .collect()
    }

    /// Totals and the module accounts' balances.
    pub fn supply(&mut self) -> Result<SupplyView, LedgerError> {
        let totals = self.r().totals()?;
        Ok(SupplyView {
            totals,
            bonded: self.host.account(&BONDED_POOL)?.balance,
            unbonding: self.host.account(&UNBONDING_POOL)?.balance,
            fee_collector: self.host.account(&FEE_COLLECTOR)?.balance,
            distribution: self.host.account(&DISTRIBUTION)?.balance,
        })
    }

    /// Checks the staking invariants; `liquid` is the sum of every other
    /// account's balance (the caller knows the accounts; the state tree's
    /// hashed keys cannot be enumerated by owner). Returns what is wrong.
    pub fn check_invariants(&mut self, liquid: Amount) -> Result<Vec<String>, LedgerError> {
        let mut bad = Vec::new();
        let s = self.supply()?;
        let validators = self.validators()?;
        let tokens: u128 = validators.iter().map(|v| v.tokens.get()).sum();
        if tokens != s.bonded.get() {
            bad.push(format!("bonded pool {} != Σ validator tokens {tokens}", s.bonded));
        }
        let mut unbonding = 0u128;
        let mut pending = 0u128;
        let mut by_val: BTreeMap<Address, u128> = BTreeMap::new();
        let rows = self.r().scan(&[UNBONDING], None, usize::MAX)?;
        for (_, b) in rows {
            let e: Vec<UnbondingEntry> = borsh::from_slice(&b).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
            for x in e {
                if x.balance > x.initial {
                    bad.push("unbonding entry balance above its initial amount".into());
                }
                unbonding += x.balance.get();
            }
        }
        if unbonding != s.unbonding.get() {
            bad.push(format!("unbonding pool {} != Σ entries {unbonding}", s.unbonding));
        }
        let rows = self.r().scan(&[DELEGATION], None, usize::MAX)?;
        for (k, b) in rows {
            let del: Delegation = borsh::from_slice(&b).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
            let op = addr_at(&k, 21)?;
            let v = validators.iter().find(|v| v.operator == op);
            match v {
                Some(v) => pending += v.reward_acc.earned(del.reward_acc, del.shares),
                None => bad.push(format!("delegation to unknown validator {op}")),
            }
            *by_val.entry(op).or_default() += del.shares;
        }
        for v in &validators {
            if by_val.get(&v.operator).copied().unwrap_or(0) != v.shares {
                bad.push(format!("validator {} shares {} != Σ its delegations", v.operator, v.shares));
            }
            if v.shares == 0 && !v.tokens.is_zero() {
                bad.push(format!("validator {} has tokens without shares", v.operator));
            }
        }
        let commission: u128 = validators.iter().map(|v| v.commission_outstanding.get()).sum();
        let owed = s.totals.community_pool.get() + commission + pending;
        if s.distribution.get() < owed {
            bad.push(format!(
                "distribution holds {} but owes {owed} (community pool + commission + rewards): rounding created tokens",
                s.distribution
            ));
        }
        let held = liquid.get() + s.bonded.get() + s.unbonding.get() + s.fee_collector.get() + s.distribution.get();
        if held != s.totals.supply.get() {
            bad.push(format!(
                "supply {} != liquid {liquid} + bonded {} + unbonding {} + fees {} + distribution {} = {held}",
                s.totals.supply, s.bonded, s.unbonding, s.fee_collector, s.distribution
            ));
        }
        Ok(bad)
    }
}
