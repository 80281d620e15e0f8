//! Types of the events methods: past events (`agora_getEvents`) and the
//! notifications of the three subscriptions.

use ledger::{Event, Hash, Height, Receipt};
use serde::{Deserialize, Serialize};

/// One event of `agora_getEvents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastEvent {
    pub height: Height,
    pub tx_hash: Hash,
    /// The transaction's index in its block.
    pub index: u64,
    pub event: Event,
}

/// `agora_getEvents`: a page of past events in block order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<PastEvent>,
    /// Pass back as `from_height` for the rest; null when done.
    pub next_from_height: Option<u64>,
}

/// An event notification of `agora_subscribeEvents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventNotification {
    pub height: Height,
    pub block_hash: Hash,
    /// Zero for the block's own events (rewards, slashes…).
    pub tx_hash: Hash,
    /// The transaction's index in its block; 18446744073709551615 (u64 max) for the block's own events.
    pub index: u64,
    /// The event's index in its receipt (or among the block's own events).
    #[serde(default)]
    pub event_index: u32,
    pub event: Event,
}

/// Sent on a subscription (with `rpc.slow_subscriber = "notify"`) after the
/// node dropped notifications the subscriber did not read in time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missed {
    /// Blocks whose notifications were dropped (wholly or partly).
    pub missed: u64,
    /// The first height not fully delivered: fetch `resume_from` up to the
    /// height of the next notification (e.g. with `agora_searchEvents` or
    /// `agora_headers`), or resubscribe with `from_height`.
    pub resume_from: Height,
}

/// A notification of `agora_subscribeEvents`: an event, or a [`Missed`] notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventNotice {
    Missed(Missed),
    Event(EventNotification),
}

/// A notification of `agora_subscribeNewBlocks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBlock {
    pub height: Height,
    pub hash: Hash,
    pub state_root: Hash,
    pub time_ms: u64,
    pub num_txs: u64,
    pub gas_used: u64,
}

/// A notification of `agora_subscribeNewBlocks`: a block, or a [`Missed`] notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockNotice {
    Missed(Missed),
    Block(NewBlock),
}

/// Where a watched transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxState {
    /// In this node's mempool, or not yet known to it.
    Pending,
    Committed,
}

/// A notification of `agora_subscribeTxStatus`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxStatusUpdate {
    pub hash: Hash,
    pub status: TxState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Height>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<Hash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}
