//! Staking records and transaction arguments. Records are borsh-encoded in
//! the staking module's namespace of the authenticated state; their JSON
//! forms are what RPC shows.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::math::Acc;
use crate::types::{Address, Amount, Height, Rate};

/// Commission a validator takes from its delegators' rewards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionRates {
    /// Current rate.
    pub rate: Rate,
    /// Highest rate the validator may ever set (fixed at creation).
    pub max_rate: Rate,
    /// Largest change of the rate in one edit (fixed at creation).
    pub max_change_rate: Rate,
}

impl Default for CommissionRates {
    fn default() -> Self {
        CommissionRates {
            rate: Rate::from_ppm(100_000).unwrap_or(Rate::ZERO),
            max_rate: Rate::from_ppm(200_000).unwrap_or(Rate::ZERO),
            max_change_rate: Rate::from_ppm(10_000).unwrap_or(Rate::ZERO),
        }
    }
}

/// Who runs a validator, where and with what: shown by RPC and used by the
/// decentralization index. Validated on every write (see `metadata.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidatorMetadata {
    /// Display name, 1–64 characters.
    pub moniker: String,
    /// `https://…` or `http://…`, or empty.
    pub website: String,
    /// The organisation running it (one entity may run several validators);
    /// empty means the moniker.
    pub operator_entity: String,
    /// ISO 3166-1 alpha-2 country code (e.g. `DE`), or empty if undisclosed.
    pub country: String,
    /// Hosting provider or autonomous system, e.g. `Hetzner` or `AS24940`.
    pub hosting: String,
    /// Client software and version, e.g. `agorad/0.1.0`.
    pub client_version: String,
    /// Free text, at most 280 characters.
    pub details: String,
}

/// Changes to metadata; `None` keeps a field.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataUpdate {
    pub moniker: Option<String>,
    pub website: Option<String>,
    pub operator_entity: Option<String>,
    pub country: Option<String>,
    pub hosting: Option<String>,
    pub client_version: Option<String>,
    pub details: Option<String>,
}

impl MetadataUpdate {
    pub fn is_empty(&self) -> bool {
        *self == MetadataUpdate::default()
    }

    /// `m` with the given fields replaced.
    pub fn apply(&self, m: &ValidatorMetadata) -> ValidatorMetadata {
        let pick = |new: &Option<String>, old: &String| new.clone().unwrap_or_else(|| old.clone());
        ValidatorMetadata {
            moniker: pick(&self.moniker, &m.moniker),
            website: pick(&self.website, &m.website),
            operator_entity: pick(&self.operator_entity, &m.operator_entity),
            country: pick(&self.country, &m.country),
            hosting: pick(&self.hosting, &m.hosting),
            client_version: pick(&self.client_version, &m.client_version),
            details: pick(&self.details, &m.details),
        }
    }
}

/// Where a validator stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ValidatorStatus {
    /// In the active set: it signs blocks, earns rewards, can be slashed.
    Bonded,
    /// Left the set; its stake stays slashable until `completion_ms`.
    Unbonding { completion_ms: u64 },
    /// Not in the set (never joined, or the unbonding period has passed).
    Unbonded,
}

/// A validator.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// The account that created it; it edits, unjails and takes commission.
    pub operator: Address,
    /// The ed25519 key it signs consensus messages with.
    pub consensus_key: PublicKey,
    /// Tokens bonded to it (self-delegation included), after slashes.
    pub tokens: Amount,
    /// Delegator shares issued; a share is worth `tokens / shares`.
    pub shares: u128,
    pub commission: CommissionRates,
    /// Block time of the last commission change (creation time at first).
    pub commission_changed_ms: u64,
    /// Commission earned and not yet withdrawn.
    pub commission_outstanding: Amount,
    /// The operator's own delegation must stay worth at least this.
    pub min_self_delegation: Amount,
    pub status: ValidatorStatus,
    pub jailed: bool,
    /// When a jailed validator may unjail (block time, ms).
    pub jailed_until_ms: u64,
    /// Double-signed: slashed, jailed for ever.
    pub tombstoned: bool,
    pub metadata: ValidatorMetadata,
    /// Rewards per share accumulated since creation (× `math::ACC_SCALE`).
    pub reward_acc: Acc,
    pub created_height: Height,
}

impl Validator {
    /// Tokens `shares` of this validator are worth (rounded down).
    pub fn tokens_for(&self, shares: u128) -> Amount {
        if self.shares == 0 {
            return Amount::ZERO;
        }
        Amount::new(crate::math::mul_div_floor(shares, self.tokens.get(), self.shares))
    }

    /// Voting power its stake gives (0 below `power_reduction`).
    pub fn power(&self, power_reduction: Amount) -> u64 {
        if power_reduction.is_zero() {
            return 0;
        }
        u64::try_from(self.tokens.get() / power_reduction.get()).unwrap_or(u64::MAX)
    }
}

/// A delegator's stake in one validator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Delegation {
    pub shares: u128,
    /// The validator's `reward_acc` when rewards were last settled.
    pub reward_acc: Acc,
}

/// Tokens on their way back to a delegator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UnbondingEntry {
    pub creation_height: Height,
    pub completion_ms: u64,
    pub initial: Amount,
    /// What will be paid out (less than `initial` after a slash).
    pub balance: Amount,
}

/// Stake moved from one validator to another, slashable at the source
/// until `completion_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RedelegationEntry {
    pub creation_height: Height,
    pub completion_ms: u64,
    pub initial: Amount,
    /// Shares the moved tokens bought at the destination.
    pub shares_dst: u128,
}

/// Liveness record of a bonded validator: the heights it missed within the
/// window (only misses are written, so a healthy validator costs nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub struct SigningInfo {
    /// Counting starts here (bonding or unjailing).
    pub start_height: Height,
    /// Missed heights inside the window, ascending.
    pub missed: Vec<u64>,
}

/// One member of the active set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetMember {
    pub operator: Address,
    pub consensus_key: PublicKey,
    pub power: u64,
}

/// Supply bookkeeping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Totals {
    /// Every token in existence: genesis + minted − slashed (burned).
    pub supply: Amount,
    /// Held by the distribution module for governance spending.
    pub community_pool: Amount,
    /// Minted as inflation so far.
    pub minted: Amount,
    /// Burned by slashing so far.
    pub burned: Amount,
}

/// One validator of the previous height and whether its precommit is in the
/// block's commit certificate (what the node passes in `BlockEnv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteInfo {
    pub validator: PublicKey,
    pub power: u64,
    pub signed: bool,
}

/// Verified double-sign evidence, as the node passes it to execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Misbehaviour {
    pub validator: PublicKey,
    /// Height of the infraction.
    pub height: Height,
    /// Its voting power at that height.
    pub power: u64,
}
