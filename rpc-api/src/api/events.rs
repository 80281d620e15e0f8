//! Events and subscriptions: past events by height range, and the live
//! subscriptions (new blocks, a transaction's status, events), which can
//! resume from a past height.

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)] // used by the server half only
use jsonrpsee::core::{RpcResult, SubscriptionResult};
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;
use ledger::{Address, Hash};

use crate::types::{BlockNotice, EventNotice, EventsPage, TxStatusUpdate};

/// Past events and the subscriptions.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
pub trait EventsApi {
    /// Past events in block order, at most 1000 blocks per call; pages end at block boundaries (pass `next_from_height` back). `limit`: default 100, at most 1000.
    #[method(name = "getEvents", blocking)]
    fn get_events(
        &self,
        from_height: u64,
        to_height: Option<u64>,
        kind: Option<String>,
        contract: Option<Address>,
        limit: Option<u64>,
    ) -> RpcResult<EventsPage>;

    /// One notification per committed block. `from_height` (at most 1000 below the latest height) replays the blocks from there first, then continues live without gap or duplicate.
    #[subscription(name = "subscribeNewBlocks" => "newBlock", unsubscribe = "unsubscribeNewBlocks", item = BlockNotice)]
    async fn subscribe_new_blocks(&self, from_height: Option<u64>) -> SubscriptionResult;

    /// A transaction's status: `pending`, then `committed` (the subscription ends there).
    #[subscription(name = "subscribeTxStatus" => "txStatus", unsubscribe = "unsubscribeTxStatus", item = TxStatusUpdate)]
    async fn subscribe_tx_status(&self, hash: Hash) -> SubscriptionResult;

    /// One notification per matching event of every committed block (`kind`, `contract` filter). `from_height` (at most 1000 below the latest height) replays from there first, then continues live without gap or duplicate.
    #[subscription(name = "subscribeEvents" => "event", unsubscribe = "unsubscribeEvents", item = EventNotice)]
    async fn subscribe_events(
        &self,
        kind: Option<String>,
        contract: Option<Address>,
        from_height: Option<u64>,
    ) -> SubscriptionResult;
}
