//! Staking in the mock node: a small model of validators and delegations
//! (one share = one token, rewards are 1% of a delegation, the commission
//! outstanding of a new validator is 30), the staking transactions with the
//! real node's events and failure reasons, and the staking RPC methods with
//! the JSON shapes of `wallet-cli/src/rpc/staking.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jsonrpsee::server::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use ledger::staking::{CommissionRates, ValidatorMetadata};
use ledger::{Address, Amount, Event, Payload, PublicKey, StakingParams};
use serde_json::{Value, json};

use super::mock_node::{State, named, param, req, rpc_err};

/// Block time of the mock chain.
pub const NOW_MS: u64 = 1_700_000_000_000;
pub const UNBONDING_MS: u64 = 600_000;
pub const MIN_SELF_DELEGATION: u128 = 1_000_000;
pub const POWER_REDUCTION: u128 = 1_000_000;
/// Gas of a staking payload, on top of the intrinsic gas.
pub const STAKING_GAS: u64 = 20_000;
/// Extra gas per delegation of a withdrawal from all validators.
pub const DELEGATION_GAS: u64 = 5_000;
/// Commission outstanding of a new validator.
pub const COMMISSION: u128 = 30;

#[derive(Clone, Debug)]
pub struct MockValidator {
    pub consensus_key: PublicKey,
    pub commission: CommissionRates,
    pub min_self_delegation: Amount,
    pub metadata: ValidatorMetadata,
    pub jailed: bool,
    pub tombstoned: bool,
    pub commission_outstanding: u128,
}

/// The staking state.
#[derive(Clone, Debug, Default)]
pub struct Staking {
    pub validators: BTreeMap<Address, MockValidator>,
    /// Tokens by (delegator, validator).
    pub delegations: BTreeMap<(Address, Address), u128>,
    /// (delegator, validator, completion, amount).
    pub unbonding: Vec<(Address, Address, u64, u128)>,
}

impl Staking {
    fn tokens(&self, op: &Address) -> u128 {
        self.delegations.iter().filter(|((_, v), _)| v == op).map(|(_, t)| t).sum()
    }

    fn power(&self, op: &Address) -> u64 {
        let v = &self.validators[op];
        if v.jailed { 0 } else { (self.tokens(op) / POWER_REDUCTION) as u64 }
    }

    /// Adds a bonded validator directly (test setup).
    pub fn add_validator(&mut self, op: Address, moniker: &str, tokens: u128) {
        self.validators.insert(
            op,
            MockValidator {
                consensus_key: PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[op.0[0]; 32])),
                commission: CommissionRates::default(),
                min_self_delegation: Amount::new(MIN_SELF_DELEGATION),
                metadata: ValidatorMetadata { moniker: moniker.into(), country: "DE".into(), ..Default::default() },
                jailed: false,
                tombstoned: false,
                commission_outstanding: 0,
            },
        );
        self.delegations.insert((op, op), tokens);
    }

    fn known(&self, op: &Address) -> Result<&MockValidator, String> {
        self.validators.get(op).ok_or_else(|| format!("no validator with operator address {op}"))
    }

    /// Runs a staking payload; the events, the extra gas, or why it failed.
    pub fn run(&mut self, d: Address, payload: &Payload) -> Result<(Vec<Event>, u64), String> {
        let ev = Event::new;
        match payload {
            Payload::CreateValidator { consensus_key, self_stake, commission, min_self_delegation, metadata } => {
                ledger::staking::metadata::validate(metadata).map_err(|e| format!("invalid metadata: {e}"))?;
                if *min_self_delegation < Amount::new(MIN_SELF_DELEGATION) {
                    return Err(format!("min_self_delegation {min_self_delegation} is below the chain's minimum"));
                }
                if self.validators.contains_key(&d) {
                    return Err(format!("{d} already operates a validator"));
                }
                self.validators.insert(
                    d,
                    MockValidator {
                        consensus_key: *consensus_key,
                        commission: *commission,
                        min_self_delegation: *min_self_delegation,
                        metadata: metadata.clone(),
                        jailed: false,
                        tombstoned: false,
                        commission_outstanding: COMMISSION,
                    },
                );
                *self.delegations.entry((d, d)).or_default() += self_stake.get();
                let attrs = [
                    ("validator", d.to_string()),
                    ("consensus_key", consensus_key.to_string()),
                    ("self_stake", self_stake.to_string()),
                    ("moniker", metadata.moniker.clone()),
                ];
                Ok((vec![ev("create_validator", &attrs)], 0))
            }
            Payload::EditValidator { commission_rate, min_self_delegation, metadata } => {
                let v = self.validators.get_mut(&d).ok_or_else(|| format!("{d} does not operate a validator"))?;
                if let Some(r) = commission_rate {
                    v.commission.rate = *r;
                }
                if let Some(m) = min_self_delegation {
                    v.min_self_delegation = *m;
                }
                v.metadata = metadata.apply(&v.metadata);
                Ok((vec![ev("edit_validator", &[("validator", d.to_string())])], 0))
            }
            Payload::Delegate { validator, amount } => {
                if self.known(validator)?.tombstoned {
                    return Err(format!("validator {validator} is tombstoned"));
                }
                *self.delegations.entry((d, *validator)).or_default() += amount.get();
                let attrs = [
                    ("delegator", d.to_string()),
                    ("validator", validator.to_string()),
                    ("amount", amount.to_string()),
                    ("shares", amount.to_string()),
                ];
                Ok((vec![ev("delegate", &attrs)], 0))
            }
            Payload::Undelegate { validator, amount } => {
                self.known(validator)?;
                let have = self.delegations.get(&(d, *validator)).copied().unwrap_or(0);
                if amount.get() > have {
                    return Err(format!("only {have} is delegated to {validator}"));
                }
                self.delegations.insert((d, *validator), have - amount.get());
                let done = NOW_MS + UNBONDING_MS;
                self.unbonding.push((d, *validator, done, amount.get()));
                let attrs = [
                    ("delegator", d.to_string()),
                    ("validator", validator.to_string()),
                    ("amount", amount.to_string()),
                    ("completion_time_ms", done.to_string()),
                ];
                Ok((vec![ev("undelegate", &attrs)], 0))
            }
            Payload::Redelegate { src_validator, dst_validator, amount } => {
                self.known(src_validator)?;
                self.known(dst_validator)?;
                let have = self.delegations.get(&(d, *src_validator)).copied().unwrap_or(0);
                if amount.get() > have {
                    return Err(format!("only {have} is delegated to {src_validator}"));
                }
                self.delegations.insert((d, *src_validator), have - amount.get());
                *self.delegations.entry((d, *dst_validator)).or_default() += amount.get();
                let attrs = [
                    ("delegator", d.to_string()),
                    ("source_validator", src_validator.to_string()),
                    ("destination_validator", dst_validator.to_string()),
                    ("amount", amount.to_string()),
                    ("completion_time_ms", (NOW_MS + UNBONDING_MS).to_string()),
                ];
                Ok((vec![ev("redelegate", &attrs)], 0))
            }
            Payload::WithdrawRewards { validator } => {
                let targets: Vec<(Address, u128)> = self
                    .delegations
                    .iter()
                    .filter(|((del, v), _)| *del == d && validator.is_none_or(|x| x == *v))
                    .map(|((_, v), t)| (*v, *t))
                    .collect();
                let mut events: Vec<Event> = targets
                    .iter()
                    .map(|(v, t)| {
                        let attrs = [
                            ("delegator", d.to_string()),
                            ("validator", v.to_string()),
                            ("amount", (t / 100).to_string()),
                        ];
                        ev("withdraw_rewards", &attrs)
                    })
                    .collect();
                if validator.is_none_or(|v| v == d)
                    && let Some(v) = self.validators.get_mut(&d)
                {
                    let c = std::mem::take(&mut v.commission_outstanding);
                    events.push(ev("withdraw_commission", &[("validator", d.to_string()), ("amount", c.to_string())]));
                }
                if events.is_empty() {
                    return Err(format!("{d} has no delegations and no commission to withdraw"));
                }
                Ok((events, DELEGATION_GAS * targets.len() as u64))
            }
            Payload::Unjail {} => {
                let v = self.validators.get_mut(&d).ok_or_else(|| format!("{d} does not operate a validator"))?;
                if !v.jailed {
                    return Err(format!("validator {d} is not jailed"));
                }
                v.jailed = false;
                Ok((vec![ev("unjail", &[("validator", d.to_string())])], 0))
            }
            other => Err(format!("not a staking payload: {other:?}")),
        }
    }

    /// A validator as `agora_validator` shows it.
    pub fn validator_json(&self, op: &Address) -> Value {
        let v = &self.validators[op];
        let tokens = self.tokens(op);
        let power = self.power(op);
        json!({
            "operator": op, "consensus_key": v.consensus_key, "metadata": v.metadata,
            "tokens": tokens.to_string(), "delegator_shares": tokens.to_string(),
            "self_delegation": self.delegations.get(&(*op, *op)).copied().unwrap_or(0).to_string(),
            "min_self_delegation": v.min_self_delegation, "power": power, "in_active_set": power > 0,
            "status": if power > 0 { "bonded" } else { "unbonded" }, "unbonding_completion_ms": null,
            "jailed": v.jailed, "jailed_until_ms": if v.jailed { NOW_MS + 60_000 } else { 0 },
            "tombstoned": v.tombstoned, "commission": v.commission, "commission_changed_ms": NOW_MS,
            "commission_outstanding": v.commission_outstanding.to_string(), "missed_blocks": 1,
            "signed_blocks_window": 100, "created_height": 1
        })
    }
}

fn staking(st: &Arc<Mutex<State>>) -> Staking {
    st.lock().unwrap().contracts.staking.clone()
}

/// Registers `agora_stakingParams`, `agora_validators`, `agora_validator` and `agora_delegations`.
pub fn register(m: &mut RpcModule<Arc<Mutex<State>>>) {
    m.register_method("agora_stakingParams", |_, _, _| {
        let p = StakingParams {
            min_self_delegation: Amount::new(MIN_SELF_DELEGATION),
            power_reduction: Amount::new(POWER_REDUCTION),
            unbonding_time_ms: UNBONDING_MS,
            ..StakingParams::default()
        };
        serde_json::to_value(p).unwrap()
    })
    .unwrap();
    m.register_method("agora_validators", |p, st, _| {
        let o = named("agora_validators", &p)?;
        let status: String = param(&o, "status")?.unwrap_or_else(|| "all".into());
        let s = staking(st);
        let all: Vec<Value> = s.validators.keys().map(|op| s.validator_json(op)).collect();
        let list: Vec<Value> = all
            .into_iter()
            .filter(|v| match status.as_str() {
                "all" => true,
                "jailed" => v["jailed"] == true,
                other => v["status"] == other,
            })
            .collect();
        let total: u64 = s.validators.keys().map(|op| s.power(op)).sum();
        Ok::<_, ErrorObjectOwned>(json!({"height": super::mock_node::HEIGHT, "total_power": total, "validators": list}))
    })
    .unwrap();
    m.register_method("agora_validator", |p, st, _| {
        let o = named("agora_validator", &p)?;
        let op: Address = req(&o, "validator")?;
        let s = staking(st);
        if !s.validators.contains_key(&op) {
            return Err(rpc_err(1020, format!("no validator with operator address {op}"), None));
        }
        Ok(s.validator_json(&op))
    })
    .unwrap();
    m.register_method("agora_delegations", |p, st, _| {
        let o = named("agora_delegations", &p)?;
        let d: Address = req(&o, "delegator")?;
        let s = staking(st);
        let dels: Vec<Value> = s
            .delegations
            .iter()
            .filter(|((del, _), t)| *del == d && **t > 0)
            .map(|((_, v), t)| {
                json!({"delegator": d, "validator": v, "moniker": s.validators[v].metadata.moniker,
                       "shares": t.to_string(), "amount": t.to_string(), "pending_rewards": (t / 100).to_string()})
            })
            .collect();
        let unb: Vec<Value> = s
            .unbonding
            .iter()
            .filter(|(del, ..)| *del == d)
            .map(|(_, v, done, a)| {
                json!({"validator": v, "creation_height": 6, "completion_time_ms": done,
                       "initial": a.to_string(), "balance": a.to_string()})
            })
            .collect();
        let total: u128 = s.delegations.iter().filter(|((del, _), _)| *del == d).map(|(_, t)| t).sum();
        let rewards: u128 = s.delegations.iter().filter(|((del, _), _)| *del == d).map(|(_, t)| t / 100).sum();
        let unbonding: u128 = s.unbonding.iter().filter(|(del, ..)| *del == d).map(|(.., a)| a).sum();
        Ok::<_, ErrorObjectOwned>(json!({
            "delegator": d, "height": super::mock_node::HEIGHT, "delegations": dels, "unbonding": unb, "redelegations": [],
            "total_delegated": total.to_string(), "total_unbonding": unbonding.to_string(),
            "total_pending_rewards": rewards.to_string(),
            "commission_outstanding": s.validators.get(&d).map(|v| v.commission_outstanding.to_string())
        }))
    })
    .unwrap();
}
