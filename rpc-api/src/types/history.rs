//! Types of the history methods: an address's transactions, event search,
//! a block's receipts, header ranges, contracts by code, health and genesis.

use ledger::{Address, Event, Hash, Header, Height, Receipt};
use serde::{Deserialize, Serialize};

/// Which transactions of an address `agora_txsByAddress` returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryRole {
    /// Sent by the address.
    Sent,
    /// Transfers to the address.
    Received,
    /// Calls of the contract at the address (execute, instantiate, migrate, update_admin) and transactions in which it emitted events.
    Contract,
    /// All of the above.
    #[default]
    Any,
}

/// Page order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// The part an address played in a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxRole {
    Sender,
    Recipient,
    ContractCalled,
    ContractEvents,
}

/// One transaction of `agora_txsByAddress`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressTxItem {
    pub height: Height,
    /// The transaction's index in its block.
    pub index: u32,
    pub hash: Hash,
    /// Every role the address had in it.
    pub roles: Vec<TxRole>,
    /// The payload type (`transfer`, `execute`, `delegate`, …).
    #[serde(rename = "type")]
    pub payload_type: String,
    pub success: bool,
}

/// `agora_txsByAddress`: a page of an address's transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressTxsPage {
    pub address: Address,
    pub role: HistoryRole,
    pub order: SortOrder,
    /// The height range searched (after defaults and clamping to the latest height).
    pub from_height: Height,
    pub to_height: Height,
    pub txs: Vec<AddressTxItem>,
    /// Pass back as `cursor` (with the same other parameters) for the next page; null when there is none.
    pub next_cursor: Option<String>,
}

/// An attribute an event must have (`agora_searchEvents`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeFilter {
    pub key: String,
    pub value: String,
}

/// One event of `agora_searchEvents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchedEvent {
    pub height: Height,
    /// Zero for the block's own events.
    pub tx_hash: Hash,
    /// The transaction's index in its block; null for the block's own events.
    pub tx_index: Option<u32>,
    /// The event's index in its receipt (or among the block's own events).
    pub event_index: u32,
    pub event: Event,
}

/// `agora_searchEvents`: a page of matching events, in (height, tx, event) order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSearchPage {
    pub from_height: Height,
    pub to_height: Height,
    pub events: Vec<SearchedEvent>,
    /// Pass back as `cursor` for the rest; null when done. A page can be short (even empty) with a cursor when the scan budget ran out.
    pub next_cursor: Option<String>,
}

/// `agora_blockReceipts`: every receipt of a block, in block order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockReceipts {
    pub height: Height,
    pub block_hash: Hash,
    pub time_ms: u64,
    pub receipts: Vec<Receipt>,
    /// The block's own events, outside any transaction (rewards, slashes…).
    pub block_events: Vec<Event>,
}

/// One header of `agora_headers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderItem {
    pub hash: Hash,
    pub num_txs: u64,
    pub header: Header,
}

/// A contract of `agora_contractsByCode`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeContract {
    pub address: Address,
    /// The height it was instantiated with, or migrated to, this code.
    pub since_height: Height,
}

/// `agora_contractsByCode`: contracts running a code, in address order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeContractsPage {
    pub code_hash: Hash,
    pub contracts: Vec<CodeContract>,
    /// Pass back as `start_after`; null when done.
    pub next_start_after: Option<Address>,
}

/// The node's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Following the chain: the last block is recent.
    Ok,
    /// Fetching blocks from a peer that is ahead.
    CatchingUp,
    /// No block for much longer than the block interval.
    Stalled,
}

/// `agora_health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub latest_height: Height,
    pub latest_block_time_ms: u64,
    /// Milliseconds since the latest block's time, by this node's clock.
    pub last_block_age_ms: u64,
    pub block_interval_ms: u64,
    pub syncing: bool,
    pub peers: u64,
    /// The first height the history index covers.
    pub index_from: Height,
}

/// `agora_genesis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenesisInfo {
    pub chain_id: String,
    pub genesis_hash: Hash,
    /// The genesis document (as in `genesis.json`).
    pub genesis: serde_json::Value,
}
