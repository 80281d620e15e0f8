//! Types of the staking methods: validators, delegations, the validator set,
//! supply. Share counts (u128) are decimal strings, like amounts.

use ledger::staking::{CommissionRates, ValidatorMetadata};
use ledger::{Address, Amount, Hash, Height, PublicKey};
use serde::{Deserialize, Serialize};

/// `agora_validators` `status` filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidatorFilter {
    #[default]
    All,
    Bonded,
    Unbonding,
    Unbonded,
    Jailed,
    Active,
}

impl ValidatorFilter {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidatorFilter::All => "all",
            ValidatorFilter::Bonded => "bonded",
            ValidatorFilter::Unbonding => "unbonding",
            ValidatorFilter::Unbonded => "unbonded",
            ValidatorFilter::Jailed => "jailed",
            ValidatorFilter::Active => "active",
        }
    }
}

impl std::str::FromStr for ValidatorFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("`{s}` is not one of all, bonded, unbonding, unbonded, jailed, active"))
    }
}

/// A validator's bonding status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BondStatus {
    Bonded,
    Unbonding,
    Unbonded,
}

impl BondStatus {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            BondStatus::Bonded => "bonded",
            BondStatus::Unbonding => "unbonding",
            BondStatus::Unbonded => "unbonded",
        }
    }
}

/// One validator (`agora_validator`, each of `agora_validators`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorInfo {
    pub operator: Address,
    pub consensus_key: PublicKey,
    pub metadata: ValidatorMetadata,
    pub tokens: Amount,
    /// Decimal string.
    pub delegator_shares: String,
    pub self_delegation: Amount,
    pub min_self_delegation: Amount,
    /// Voting power in the set of the next height (0 outside it).
    pub power: u64,
    pub in_active_set: bool,
    pub status: BondStatus,
    pub unbonding_completion_ms: Option<u64>,
    pub jailed: bool,
    /// Null once tombstoned.
    pub jailed_until_ms: Option<u64>,
    pub tombstoned: bool,
    pub commission: CommissionRates,
    pub commission_changed_ms: u64,
    pub commission_outstanding: Amount,
    /// Blocks missed in the current signing window.
    pub missed_blocks: u64,
    pub signed_blocks_window: u64,
    pub signing_start_height: Option<Height>,
    pub created_height: Height,
}

/// `agora_validators`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorsInfo {
    pub height: Height,
    pub total_power: u64,
    /// Sorted by tokens, largest first.
    pub validators: Vec<ValidatorInfo>,
}

/// A delegation (`agora_delegations`, `agora_validatorDelegations`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationInfo {
    pub delegator: Address,
    pub validator: Address,
    /// The validator's moniker (`agora_delegations` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moniker: Option<String>,
    /// Decimal string.
    pub shares: String,
    pub amount: Amount,
    pub pending_rewards: Amount,
}

/// `agora_validatorDelegations`: a page of a validator's delegations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorDelegationsPage {
    pub delegations: Vec<DelegationInfo>,
    /// Pass as `after` for the next page (null when done).
    pub next: Option<Address>,
}

/// An unbonding entry of `agora_delegations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnbondingInfo {
    pub validator: Address,
    pub creation_height: Height,
    pub completion_time_ms: u64,
    pub initial: Amount,
    pub balance: Amount,
}

/// A redelegation entry of `agora_delegations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedelegationInfo {
    pub src_validator: Address,
    pub dst_validator: Address,
    pub creation_height: Height,
    pub completion_time_ms: u64,
    pub initial: Amount,
    /// Shares bought at the destination, decimal string.
    pub shares: String,
}

/// `agora_delegations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationsInfo {
    pub delegator: Address,
    pub height: Height,
    pub delegations: Vec<DelegationInfo>,
    pub unbonding: Vec<UnbondingInfo>,
    pub redelegations: Vec<RedelegationInfo>,
    pub total_delegated: Amount,
    pub total_unbonding: Amount,
    pub total_pending_rewards: Amount,
    /// Null unless the account operates a validator.
    pub commission_outstanding: Option<Amount>,
}

/// A member of `agora_validatorSet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMemberInfo {
    pub consensus_key: PublicKey,
    pub operator: Address,
    pub moniker: Option<String>,
    pub power: u64,
}

/// `agora_validatorSet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSetInfo {
    pub height: Height,
    pub total_power: u64,
    pub hash: Hash,
    pub validators: Vec<SetMemberInfo>,
}

/// `agora_supply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyInfo {
    pub height: Height,
    pub supply: Amount,
    pub bonded: Amount,
    pub unbonding: Amount,
    pub community_pool: Amount,
    pub fee_collector: Amount,
    pub distribution: Amount,
    pub minted: Amount,
    pub burned: Amount,
}
