//! History: an address's transactions and event search (both read the index
//! written at commit), a block's receipts, header ranges, contracts by code,
//! health and genesis. Every list is paged and bounded.

#![allow(clippy::too_many_arguments)] // the methods' parameters are the JSON-RPC parameters

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)] // used by the server half only
use jsonrpsee::core::RpcResult;
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;
use ledger::{Address, Hash};

use crate::types::{
    AddressTxsPage, AttributeFilter, BlockReceipts, CodeContractsPage, EventSearchPage, GenesisInfo, HeaderItem,
    Health, HistoryRole, SortOrder,
};

/// Most items per page of `agora_txsByAddress`, `agora_searchEvents` and `agora_contractsByCode`.
pub const MAX_PAGE: u64 = 100;
/// Most heights one `agora_searchEvents` call covers.
pub const MAX_SEARCH_HEIGHTS: u64 = 10_000;
/// Most index rows one `agora_searchEvents` call reads (the rest is behind `next_cursor`).
pub const MAX_SEARCH_SCAN: usize = 10_000;
/// Most headers per `agora_headers` call.
pub const MAX_HEADERS: u64 = 100;

/// The history methods.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
pub trait HistoryApi {
    /// Transactions that touched `address` in heights `from_height..=to_height` (default: the whole indexed chain), newest first by default; `role` (default `any`) selects sent, received or contract ones. `limit`: default 20, at most 100. Reads only the address's own index rows, so any height range is cheap. Error 1017 below the index's first height.
    #[method(name = "txsByAddress", blocking)]
    fn txs_by_address(
        &self,
        address: Address,
        role: Option<HistoryRole>,
        from_height: Option<u64>,
        to_height: Option<u64>,
        cursor: Option<String>,
        limit: Option<u64>,
        order: Option<SortOrder>,
    ) -> RpcResult<AddressTxsPage>;

    /// Events in heights `from_height..=to_height` (at most 10,000 heights) of `kind` and/or `contract` having every `attributes` pair, oldest first. `limit`: default 100, at most 100. Without `kind` or `contract` the blocks themselves are scanned (at most 1000 per call). Error 1017 below the index's first height.
    #[method(name = "searchEvents", blocking)]
    fn search_events(
        &self,
        kind: Option<String>,
        contract: Option<Address>,
        attributes: Option<Vec<AttributeFilter>>,
        from_height: u64,
        to_height: u64,
        cursor: Option<String>,
        limit: Option<u64>,
    ) -> RpcResult<EventSearchPage>;

    /// Every receipt of the block at `height`, and the block's own events.
    #[method(name = "blockReceipts", blocking)]
    fn block_receipts(&self, height: u64) -> RpcResult<BlockReceipts>;

    /// The headers of heights `from..=to` (at most 100; clamped to the latest height).
    #[method(name = "headers", blocking)]
    fn headers(&self, from: u64, to: u64) -> RpcResult<Vec<HeaderItem>>;

    /// Contracts running `code_hash`, in address order after `start_after`. `limit`: default 100, at most 100.
    #[method(name = "contractsByCode", blocking)]
    fn contracts_by_code(
        &self,
        code_hash: Hash,
        start_after: Option<Address>,
        limit: Option<u64>,
    ) -> RpcResult<CodeContractsPage>;

    /// Is this node following the chain: `ok`, `catching_up` (block sync) or `stalled` (no block for 10 block intervals, at least 30 s).
    #[method(name = "health")]
    fn health(&self) -> RpcResult<Health>;

    /// The genesis document this node runs, with its hash.
    #[method(name = "genesis", blocking)]
    fn genesis(&self) -> RpcResult<GenesisInfo>;
}
