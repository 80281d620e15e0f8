//! Types of the decentralization-index methods. Exact values are
//! `{exact: "num/den", value}` ([`Ratio`]); weights are decimal strings.

use std::collections::BTreeMap;

use decentralization::{Ratio, Report};
use ledger::{Address, Hash, Height, Rate};
use serde::{Deserialize, Serialize};

/// The smallest Nakamoto coefficient over the subsystems at one threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadlineEntry {
    /// The threshold's name (`bft_halt`, `safety`, `majority_edi`, `majority`, `control`).
    pub threshold: String,
    /// The share, e.g. `"1/3"`.
    pub fraction: String,
    /// `">="` or `">"`.
    pub comparison: String,
    pub rule: String,
    /// Null when no subsystem reaches the threshold.
    pub value: Option<u32>,
    /// The subsystems that set the value.
    pub subsystems: Vec<String>,
}

/// One subsystem of an epoch's index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubsystemInfo {
    pub name: String,
    pub description: String,
    /// What the weight measures.
    pub weight: String,
    pub clustered: bool,
    /// True for clustered subsystems: the true coefficient may be lower.
    pub upper_bound: bool,
    pub entities: u64,
    pub listed_entities: u64,
    /// Decimal string.
    pub rest_weight: String,
    /// Decimal string.
    pub total: String,
    pub metrics_scope: String,
    /// Null for an empty or all-zero distribution.
    pub metrics: Option<Report>,
}

/// The Merkle proof of an epoch record (`prove`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochProof {
    pub height: Height,
    pub state_root: Hash,
    /// The state key, hex.
    pub key: String,
    /// The stored record, hex (null if absent).
    pub record: Option<String>,
    /// The borsh Jellyfish proof, hex.
    pub proof: String,
}

/// `agora_decentralization`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochIndex {
    pub epoch: u64,
    pub start_height: u64,
    pub end_height: u64,
    pub end_time_ms: u64,
    pub blocks: u64,
    pub epoch_blocks: u64,
    pub headline: Vec<HeadlineEntry>,
    pub subsystems: Vec<SubsystemInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<EpochProof>,
}

/// A subsystem's line of history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsystemSummary {
    /// Threshold name → coefficient (null if unreachable).
    pub nakamoto: BTreeMap<String, Option<u32>>,
    pub hhi: Option<Ratio>,
    pub entities: u64,
}

/// One epoch of `agora_decentralizationHistory` (and of the epoch subscription).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSummary {
    pub epoch: u64,
    pub start_height: u64,
    pub end_height: u64,
    pub end_time_ms: u64,
    pub headline: Vec<HeadlineEntry>,
    pub subsystems: BTreeMap<String, SubsystemSummary>,
}

/// `agora_decentralizationHistory`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochHistory {
    pub epochs: Vec<EpochSummary>,
    /// The latest ended epoch (null before the first).
    pub latest: Option<u64>,
    /// Pass as `from` for the next page (null when done).
    pub next: Option<u64>,
}

/// One entity of a distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityWeight {
    pub entity: String,
    /// Decimal string.
    pub weight: String,
    pub share: Option<f64>,
}

/// `agora_decentralizationDistribution`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistributionInfo {
    pub epoch: u64,
    pub end_height: u64,
    pub subsystem: String,
    pub description: String,
    pub weight: String,
    pub clustered: bool,
    /// Decimal string.
    pub total: String,
    /// Largest first, at most 1000.
    pub entities: Vec<EntityWeight>,
    pub rest_entities: u64,
    /// Decimal string.
    pub rest_weight: String,
}

/// The threshold `agora_delegationCheck` applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdInfo {
    pub name: String,
    pub fraction: String,
    pub comparison: String,
    pub rule: String,
}

/// A validator `agora_delegationCheck` suggests instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    pub validator: Address,
    pub moniker: String,
    /// The operator cluster.
    pub operator: String,
    /// Decimal string.
    pub power: String,
    pub commission: Rate,
    pub operator_holds_one_third: bool,
}

/// `agora_delegationCheck`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationCheck {
    pub validator: Address,
    pub moniker: String,
    /// The operator cluster.
    pub operator: String,
    pub power: u64,
    /// Decimal string.
    pub total_power: String,
    pub threshold: ThresholdInfo,
    pub halting_validators: Vec<Address>,
    pub halting_operators: Vec<String>,
    pub in_halting_validators: bool,
    pub in_halting_operators: bool,
    pub warn: bool,
    pub alternatives: Vec<Alternative>,
}
