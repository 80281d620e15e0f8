//! The staking methods of the node's JSON-RPC API and their results.
//!
//! Parameters go by name (a JSON object as `params`), like the contract
//! methods; amounts are decimal strings, rates decimal strings (`"0.05"`),
//! times milliseconds since the Unix epoch. The contract with the node:
//!
//! - `agora_stakingParams` `[]` → the JSON of `ledger::StakingParams`
//!   (`min_self_delegation`, `power_reduction`, `unbonding_time_ms`, …).
//! - `agora_validators` `{status?: "all"|"bonded"|"unbonding"|"unbonded"|"jailed"}`
//!   → `{height, total_power, validators: [V]}` where V is
//!   `{operator, consensus_key, metadata: {moniker, website, operator_entity,
//!   country, hosting, client_version, details}, tokens, delegator_shares,
//!   self_delegation, min_self_delegation, power (0 outside the active set),
//!   in_active_set, status: "bonded"|"unbonding"|"unbonded",
//!   unbonding_completion_ms, jailed, jailed_until_ms, tombstoned,
//!   commission: {rate, max_rate, max_change_rate}, commission_changed_ms,
//!   commission_outstanding, missed_blocks, signed_blocks_window, created_height}`.
//! - `agora_validator` `{validator}` → V; error 1020 if there is no such validator.
//! - `agora_validatorDelegations` `{validator, after?, limit?}` →
//!   `{delegations: [{delegator, validator, shares, amount, pending_rewards}], next}`.
//! - `agora_delegations` `{delegator}` → `{delegator, delegations: [{delegator,
//!   validator, moniker, shares, amount, pending_rewards}], unbonding: [{validator,
//!   creation_height, completion_time_ms, initial, balance}], redelegations:
//!   [{src_validator, dst_validator, creation_height, completion_time_ms, initial,
//!   shares}], total_delegated, total_unbonding, total_pending_rewards,
//!   commission_outstanding}` (`commission_outstanding` null unless the account
//!   operates a validator).
//! - `agora_validatorSet` `{height?}` → `{height, total_power, hash, validators:
//!   [{consensus_key, operator, moniker, power}]}`.
//! - `agora_supply` `[]` → `{supply, bonded, unbonding, community_pool,
//!   fee_collector, distribution, minted, burned}`.
//!
//! As elsewhere, fields the wallet does not know are ignored, and most fields
//! it only shows are optional, so small changes on the node side do not break
//! the commands.

use jsonrpsee::rpc_params;
use ledger::{Address, Amount, PublicKey, Rate};
use serde::Deserialize;
use serde_json::Value;

use super::{NodeClient, WithRaw, codes, named, not_found};
use crate::error::{Result, WalletError};

/// `agora_stakingParams`: the parameters the wallet uses.
#[derive(Clone, Debug, Deserialize)]
pub struct StakingParamsInfo {
    /// Least minimum self-delegation a new validator may declare.
    pub min_self_delegation: Amount,
    /// Tokens per unit of voting power.
    pub power_reduction: Amount,
    pub unbonding_time_ms: u64,
    #[serde(default)]
    pub max_validators: Option<u32>,
    #[serde(default)]
    pub max_entries: Option<u32>,
    #[serde(default)]
    pub commission_change_period_ms: Option<u64>,
    #[serde(default)]
    pub signed_blocks_window: Option<u64>,
    #[serde(default)]
    pub downtime_jail_ms: Option<u64>,
}

/// A validator's descriptive fields: the ledger's own type (same JSON).
pub type MetadataInfo = ledger::staking::ValidatorMetadata;

/// A validator's commission rates.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct CommissionInfo {
    pub rate: Rate,
    pub max_rate: Rate,
    pub max_change_rate: Rate,
}

/// One validator (`agora_validator`, and each of `agora_validators`).
#[derive(Clone, Debug, Deserialize)]
pub struct ValidatorInfo {
    pub operator: Address,
    pub consensus_key: PublicKey,
    #[serde(default)]
    pub metadata: MetadataInfo,
    pub tokens: Amount,
    /// A u128 as a decimal string.
    #[serde(default)]
    pub delegator_shares: Value,
    #[serde(default)]
    pub self_delegation: Option<Amount>,
    #[serde(default)]
    pub min_self_delegation: Option<Amount>,
    /// Voting power; 0 outside the active set.
    #[serde(default)]
    pub power: u64,
    #[serde(default)]
    pub in_active_set: bool,
    /// `bonded`, `unbonding` or `unbonded`.
    pub status: String,
    #[serde(default)]
    pub unbonding_completion_ms: Option<u64>,
    #[serde(default)]
    pub jailed: bool,
    #[serde(default)]
    pub jailed_until_ms: u64,
    #[serde(default)]
    pub tombstoned: bool,
    pub commission: CommissionInfo,
    #[serde(default)]
    pub commission_changed_ms: Option<u64>,
    #[serde(default)]
    pub commission_outstanding: Option<Amount>,
    #[serde(default)]
    pub missed_blocks: Option<u64>,
    #[serde(default)]
    pub signed_blocks_window: Option<u64>,
    #[serde(default)]
    pub created_height: Option<u64>,
}

/// `agora_validators`.
#[derive(Clone, Debug, Deserialize)]
pub struct ValidatorsInfo {
    pub height: u64,
    pub total_power: u64,
    pub validators: Vec<ValidatorInfo>,
}

/// A delegation (`agora_delegations`, `agora_validatorDelegations`).
#[derive(Clone, Debug, Deserialize)]
pub struct DelegationInfo {
    #[serde(default)]
    pub delegator: Option<Address>,
    pub validator: Address,
    /// The validator's moniker (`agora_delegations` only).
    #[serde(default)]
    pub moniker: Option<String>,
    #[serde(default)]
    pub shares: Value,
    pub amount: Amount,
    #[serde(default)]
    pub pending_rewards: Amount,
}

/// Tokens on their way back to a delegator.
#[derive(Clone, Debug, Deserialize)]
pub struct UnbondingInfo {
    pub validator: Address,
    #[serde(default)]
    pub creation_height: Option<u64>,
    pub completion_time_ms: u64,
    pub initial: Amount,
    pub balance: Amount,
}

/// Stake moved between validators, slashable at the source until it completes.
#[derive(Clone, Debug, Deserialize)]
pub struct RedelegationInfo {
    pub src_validator: Address,
    pub dst_validator: Address,
    #[serde(default)]
    pub creation_height: Option<u64>,
    pub completion_time_ms: u64,
    pub initial: Amount,
    #[serde(default)]
    pub shares: Value,
}

/// `agora_delegations`.
#[derive(Clone, Debug, Deserialize)]
pub struct DelegationsInfo {
    pub delegator: Address,
    #[serde(default)]
    pub delegations: Vec<DelegationInfo>,
    #[serde(default)]
    pub unbonding: Vec<UnbondingInfo>,
    #[serde(default)]
    pub redelegations: Vec<RedelegationInfo>,
    #[serde(default)]
    pub total_delegated: Option<Amount>,
    #[serde(default)]
    pub total_unbonding: Option<Amount>,
    #[serde(default)]
    pub total_pending_rewards: Option<Amount>,
    /// Unwithdrawn commission, when the account operates a validator.
    #[serde(default)]
    pub commission_outstanding: Option<Amount>,
}

/// `agora_validatorDelegations`: a page of a validator's delegations.
#[derive(Clone, Debug, Deserialize)]
pub struct ValidatorDelegationsPage {
    pub delegations: Vec<DelegationInfo>,
    #[serde(default)]
    pub next: Option<Address>,
}

/// One member of `agora_validatorSet`.
#[derive(Clone, Debug, Deserialize)]
pub struct SetMemberInfo {
    pub consensus_key: PublicKey,
    pub operator: Address,
    #[serde(default)]
    pub moniker: Option<String>,
    pub power: u64,
}

/// `agora_validatorSet`.
#[derive(Clone, Debug, Deserialize)]
pub struct ValidatorSetInfo {
    pub height: u64,
    pub total_power: u64,
    #[serde(default)]
    pub hash: Option<String>,
    pub validators: Vec<SetMemberInfo>,
}

/// `agora_supply`.
#[derive(Clone, Debug, Deserialize)]
pub struct SupplyInfo {
    pub supply: Amount,
    pub bonded: Amount,
    pub unbonding: Amount,
    #[serde(default)]
    pub community_pool: Option<Amount>,
    #[serde(default)]
    pub fee_collector: Option<Amount>,
    #[serde(default)]
    pub distribution: Option<Amount>,
    #[serde(default)]
    pub minted: Option<Amount>,
    #[serde(default)]
    pub burned: Option<Amount>,
}

/// Turns "no such validator" (1020, or the generic 1012) into [`WalletError::NotFound`].
fn no_validator<T>(r: Result<T>, validator: &Address) -> Result<T> {
    match r {
        Err(WalletError::Rpc { code: codes::NO_VALIDATOR, .. }) => {
            Err(WalletError::NotFound(format!("validator {validator}")))
        }
        r => not_found(r, || format!("validator {validator}")),
    }
}

impl NodeClient {
    pub async fn staking_params(&self) -> Result<WithRaw<StakingParamsInfo>> {
        self.call("agora_stakingParams", rpc_params![], "node error").await
    }

    /// `status`: `all`, `bonded`, `unbonding`, `unbonded` or `jailed`.
    pub async fn validators(&self, status: &str) -> Result<WithRaw<ValidatorsInfo>> {
        self.call("agora_validators", named(&[("status", Value::from(status))])?, "node error").await
    }

    /// A validator by operator address; [`WalletError::NotFound`] if there is none.
    pub async fn validator(&self, operator: &Address) -> Result<WithRaw<ValidatorInfo>> {
        let p = named(&[("validator", Value::from(operator.to_string()))])?;
        no_validator(self.call("agora_validator", p, "node error").await, operator)
    }

    /// A page of a validator's delegations, in delegator order after `after`.
    pub async fn validator_delegations(
        &self,
        operator: &Address,
        after: Option<&Address>,
        limit: Option<u32>,
    ) -> Result<WithRaw<ValidatorDelegationsPage>> {
        let mut p = vec![("validator", Value::from(operator.to_string()))];
        if let Some(a) = after {
            p.push(("after", Value::from(a.to_string())));
        }
        if let Some(l) = limit {
            p.push(("limit", Value::from(l)));
        }
        no_validator(self.call("agora_validatorDelegations", named(&p)?, "node error").await, operator)
    }

    /// An account's delegations, unbondings and redelegations.
    pub async fn delegations(&self, delegator: &Address) -> Result<WithRaw<DelegationsInfo>> {
        let p = named(&[("delegator", Value::from(delegator.to_string()))])?;
        self.call("agora_delegations", p, "node error").await
    }

    /// The active set at `height` [default: the latest].
    pub async fn validator_set(&self, height: Option<u64>) -> Result<WithRaw<ValidatorSetInfo>> {
        let p = match height {
            Some(h) => named(&[("height", Value::from(h))])?,
            None => named(&[])?,
        };
        self.call("agora_validatorSet", p, "node error").await
    }

    pub async fn supply(&self) -> Result<WithRaw<SupplyInfo>> {
        self.call("agora_supply", rpc_params![], "node error").await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::decode;
    use super::*;
    use serde_json::json;

    /// A validator as the node's contract describes it.
    pub fn validator_json(op: Address) -> Value {
        json!({
            "operator": op, "consensus_key": "ab".repeat(32),
            "metadata": {"moniker": "alpha", "website": "https://a.example", "operator_entity": "Alpha Inc",
                         "country": "DE", "hosting": "AS24940", "client_version": "agorad/0.1.0", "details": ""},
            "tokens": "3000000", "delegator_shares": "3000000", "self_delegation": "2000000",
            "min_self_delegation": "1000000", "power": 3, "in_active_set": true, "status": "bonded",
            "unbonding_completion_ms": null, "jailed": false, "jailed_until_ms": 0, "tombstoned": false,
            "commission": {"rate": "0.1", "max_rate": "0.2", "max_change_rate": "0.01"},
            "commission_changed_ms": 1_700_000_000_000u64, "commission_outstanding": "12",
            "missed_blocks": 2, "signed_blocks_window": 100, "created_height": 0, "future_field": [1]
        })
    }

    #[test]
    fn staking_results_decode() {
        let op = Address([4; 20]);
        let v: ValidatorInfo = decode("agora_validator", &validator_json(op)).unwrap();
        assert_eq!((v.operator, v.power, v.tokens), (op, 3, Amount::new(3_000_000)));
        assert_eq!(v.commission.rate.ppm(), 100_000);
        assert_eq!(v.metadata.country, "DE");
        assert_eq!(v.delegator_shares, json!("3000000"));

        // Optional fields may be missing.
        let v: ValidatorInfo = decode(
            "agora_validator",
            &json!({"operator": op, "consensus_key": "ab".repeat(32), "tokens": "5", "status": "unbonded",
                    "commission": {"rate": "0", "max_rate": "1", "max_change_rate": "1"}}),
        )
        .unwrap();
        assert_eq!((v.power, v.jailed, v.metadata.moniker.as_str()), (0, false, ""));

        let p: StakingParamsInfo =
            decode("agora_stakingParams", &serde_json::to_value(ledger::StakingParams::default()).unwrap()).unwrap();
        assert_eq!(p.min_self_delegation, ledger::StakingParams::default().min_self_delegation);
        assert_eq!(p.unbonding_time_ms, 21 * 24 * 3600 * 1000);

        let d: DelegationsInfo = decode(
            "agora_delegations",
            &json!({"delegator": op, "delegations": [{"delegator": op, "validator": op, "moniker": "alpha",
                     "shares": "10", "amount": "10", "pending_rewards": "1"}],
                    "unbonding": [{"validator": op, "creation_height": 3, "completion_time_ms": 5,
                                   "initial": "4", "balance": "4"}],
                    "redelegations": [], "total_delegated": "10", "total_unbonding": "4",
                    "total_pending_rewards": "1", "commission_outstanding": null}),
        )
        .unwrap();
        assert_eq!(d.delegations[0].pending_rewards, Amount::new(1));
        assert_eq!(d.unbonding[0].balance, Amount::new(4));
        assert!(d.commission_outstanding.is_none());

        let e = decode::<ValidatorInfo>("agora_validator", &json!({"operator": "x"})).unwrap_err();
        assert!(e.to_string().contains("agora_validator"), "{e}");
    }

    #[test]
    fn missing_validator_is_not_found() {
        let op = Address([4; 20]);
        let rpc = |code| WalletError::Rpc { context: "node error", code, message: "no".into(), data: None };
        let e = no_validator::<()>(Err(rpc(1020)), &op).unwrap_err();
        assert_eq!(e.to_string(), format!("validator {op} not found"));
        assert!(matches!(no_validator::<()>(Err(rpc(1012)), &op), Err(WalletError::NotFound(_))));
        assert!(matches!(no_validator::<()>(Err(rpc(-32601)), &op), Err(WalletError::Rpc { .. })));
    }
}
