//! Types of the contract methods: dry runs, queries, contract and code
//! metadata, storage. Byte strings are hex (`…_hex`).

use ledger::{Address, Amount, Event, Hash, Height};
use serde::{Deserialize, Serialize};

/// Whether a dry run succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecStatus {
    Success,
    Failed,
}

/// `agora_estimateGas`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasEstimate {
    pub gas_used: u64,
    pub status: ExecStatus,
    /// Why it failed (null on success).
    pub reason: Option<String>,
    pub min_gas_price: Amount,
    pub suggested_gas_limit: u64,
    /// What the payload returned, hex.
    pub data: String,
    pub events: Vec<Event>,
}

impl GasEstimate {
    pub fn succeeded(&self) -> bool {
        self.status == ExecStatus::Success
    }
}

/// `agora_contractQuery`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    /// The result parsed as JSON (null if it is not JSON).
    pub data: serde_json::Value,
    /// The result's bytes, hex.
    pub data_hex: String,
    pub gas_used: u64,
}

/// `agora_contractInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInfoResult {
    pub address: Address,
    /// The current code (after migrations).
    pub code_hash: Hash,
    pub creator: Address,
    pub label: String,
    pub created_height: Height,
    /// Allowed to migrate the contract and change its admin (null: nobody).
    pub admin: Option<Address>,
    pub balance: Amount,
}

/// `agora_codeInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInfoResult {
    pub code_hash: Hash,
    pub creator: Address,
    /// Bytes of wasm.
    pub size: u32,
    pub height: Height,
}

/// `agora_getCode`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeResult {
    pub code_hash: Hash,
    /// The uploaded wasm, hex.
    pub code_hex: String,
}

/// One storage entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageEntry {
    pub key_hex: String,
    pub value_hex: String,
}

/// `agora_contractStorage` with `key_hex`: one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageValue {
    pub key_hex: String,
    /// Null when the key is not set.
    pub value_hex: Option<String>,
}

/// `agora_contractStorage` without `key_hex`: a page in key order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoragePage {
    pub entries: Vec<StorageEntry>,
    /// Pass back as `start_after_hex` for the next page (null when done).
    pub next_start_after_hex: Option<String>,
}

/// `agora_contractStorage`: one value (with `key_hex`) or a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StorageResult {
    Value(StorageValue),
    Page(StoragePage),
}
