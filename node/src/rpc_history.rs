//! History methods (`rpc_api::api::HistoryApi`): an address's transactions
//! and event search read the index written at commit (`store_index.rs`);
//! block receipts, header ranges, contracts by code, health and genesis.
//! Every page has a hard maximum and every scan a budget.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonrpsee::core::RpcResult;
use jsonrpsee::types::ErrorObjectOwned;
use ledger::{Address, Hash, Height};
use rpc_api::api::{HistoryApiServer, MAX_HEADERS, MAX_PAGE, MAX_SEARCH_HEIGHTS, MAX_SEARCH_SCAN};
use rpc_api::codes;
use rpc_api::types::{
    AddressTxItem, AddressTxsPage, AttributeFilter, BlockReceipts, CodeContract, CodeContractsPage, EventSearchPage,
    GenesisInfo, HeaderItem, Health, HealthStatus, HistoryRole, SearchedEvent, SortOrder, TxRole,
};

use crate::rpc::RpcContext;
use crate::store::index::{
    BLOCK_EVENT_TX, EventPos, ROLE_CONTRACT_CALLED, ROLE_CONTRACT_EVENTS, ROLE_RECIPIENT, ROLE_SENDER,
};
use crate::store::{EventTopic, IndexedEvent, RoleKey};

/// Default page of `agora_txsByAddress`.
pub const DEFAULT_TXS_PAGE: u64 = 20;
/// Most attribute filters in one `agora_searchEvents` call.
pub const MAX_ATTRIBUTE_FILTERS: usize = 16;
/// Most blocks an `agora_searchEvents` call without `kind` or `contract` scans.
pub const MAX_UNINDEXED_SCAN_BLOCKS: u64 = 1000;

pub(crate) fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    tracing::error!(error = %e, "internal RPC error");
    err(codes::INTERNAL, format!("internal error: {e}"))
}

fn invalid(msg: impl Into<String>) -> ErrorObjectOwned {
    err(codes::INVALID_PARAMS, msg)
}

/// `limit` with its default, clamped to `1..=max`.
fn page_limit(limit: Option<u64>, default: u64, max: u64) -> usize {
    usize::try_from(limit.unwrap_or(default).clamp(1, max)).unwrap_or(1)
}

/// A `txsByAddress` cursor: `height:index` of the last transaction returned.
fn parse_tx_cursor(s: &str) -> Result<(u64, u32), ErrorObjectOwned> {
    let bad = || invalid(format!("cursor `{s}` is not a cursor this method returned"));
    let (h, i) = s.split_once(':').ok_or_else(bad)?;
    Ok((h.parse().map_err(|_| bad())?, i.parse().map_err(|_| bad())?))
}

/// A `searchEvents` cursor: `height:tx:event` of the last row read.
fn parse_event_cursor(s: &str) -> Result<EventPos, ErrorObjectOwned> {
    let bad = || invalid(format!("cursor `{s}` is not a cursor this method returned"));
    let mut it = s.split(':');
    let (Some(h), Some(t), Some(e), None) = (it.next(), it.next(), it.next(), it.next()) else { return Err(bad()) };
    Ok((h.parse().map_err(|_| bad())?, t.parse().map_err(|_| bad())?, e.parse().map_err(|_| bad())?))
}

fn event_cursor((h, t, e): EventPos) -> String {
    format!("{h}:{t}:{e}")
}

fn roles(bits: u8) -> Vec<TxRole> {
    [
        (ROLE_SENDER, TxRole::Sender),
        (ROLE_RECIPIENT, TxRole::Recipient),
        (ROLE_CONTRACT_CALLED, TxRole::ContractCalled),
        (ROLE_CONTRACT_EVENTS, TxRole::ContractEvents),
    ]
    .into_iter()
    .filter(|(b, _)| bits & b != 0)
    .map(|(_, r)| r)
    .collect()
}

fn searched(e: IndexedEvent) -> SearchedEvent {
    SearchedEvent {
        height: e.height,
        tx_hash: e.tx_hash,
        tx_index: (e.tx_index != BLOCK_EVENT_TX).then_some(e.tx_index),
        event_index: e.event_index,
        event: e.event,
    }
}

/// The history API the node serves.
#[derive(Debug)]
pub struct HistoryRpc {
    ctx: Arc<RpcContext>,
}

impl HistoryRpc {
    pub fn new(ctx: Arc<RpcContext>) -> HistoryRpc {
        HistoryRpc { ctx }
    }

    /// The first indexed height (the next height when the index is off).
    fn index_from(&self) -> Result<u64, ErrorObjectOwned> {
        let store = self.ctx.chain.store();
        if !store.index_enabled() {
            return Ok(self.ctx.chain.tip().height.0.saturating_add(1));
        }
        Ok(store.index_from().map_err(internal)?.map_or(1, |h| h.0).max(1))
    }

    /// Fails with 1017 when this node does not keep the history index.
    fn require_index(&self) -> Result<(), ErrorObjectOwned> {
        if self.ctx.chain.store().index_enabled() {
            return Ok(());
        }
        Err(err(
            codes::HEIGHT_UNAVAILABLE,
            "this node does not keep the history index (`[index] enabled = false` in its config.toml); \
             ask a node that does",
        ))
    }

    /// Checks a range's low end against the index and the tip.
    fn check_from(&self, from: u64, index_from: u64, tip: u64) -> Result<(), ErrorObjectOwned> {
        if from < index_from {
            return Err(err(
                codes::HEIGHT_UNAVAILABLE,
                format!(
                    "height {from} is below the history index, which starts at height {index_from} \
                     (the index was enabled or its format changed there; a node resynced from \
                     genesis serves the full history)"
                ),
            ));
        }
        if from > tip {
            return Err(err(
                codes::HEIGHT_UNAVAILABLE,
                format!("height {from} is not committed yet (latest is {tip})"),
            ));
        }
        Ok(())
    }

    /// Events of no kind and no contract: the blocks themselves, at most
    /// [`MAX_UNINDEXED_SCAN_BLOCKS`] per call, in index order (each
    /// transaction's events, then the block's own).
    ///
    /// Also bounded by `budget`: after that many rows (receipts and events)
    /// read it stops, with the position of the last event read as cursor.
    fn scan_blocks(
        &self,
        (from, to): (u64, u64),
        after: Option<EventPos>,
        limit: usize,
        budget: usize,
        keep: &dyn Fn(&IndexedEvent) -> bool,
    ) -> Result<(Vec<IndexedEvent>, Option<EventPos>), ErrorObjectOwned> {
        let budget = budget.max(1);
        let (mut read, mut last_read) = (0usize, None);
        let store = self.ctx.chain.store();
        let start = after.map_or(from, |a| a.0);
        let last = to.min(start.saturating_add(MAX_UNINDEXED_SCAN_BLOCKS - 1));
        let mut out: Vec<IndexedEvent> = Vec::new();
        for h in start..=last {
            if read >= budget && h > start {
                // Out of budget at a block boundary: continue with this block.
                return Ok((out, Some((h - 1, u32::MAX, u32::MAX))));
            }
            let receipts = store.receipts(Height(h)).map_err(internal)?.unwrap_or_default();
            let own = store.block_events(Height(h)).map_err(internal)?;
            // Receipts without events cost a row each too.
            read = read.saturating_add(receipts.iter().filter(|r| r.events.is_empty()).count());
            let rows = receipts
                .into_iter()
                .enumerate()
                .flat_map(|(t, r)| {
                    let t = u32::try_from(t).unwrap_or(u32::MAX - 1);
                    r.events.into_iter().enumerate().map(move |(e, ev)| (t, e, r.tx_hash, ev))
                })
                .chain(own.into_iter().enumerate().map(|(e, ev)| (BLOCK_EVENT_TX, e, Hash::ZERO, ev)));
            for (t, e, tx_hash, event) in rows {
                let pos = (h, t, u32::try_from(e).unwrap_or(u32::MAX));
                if after.is_some_and(|a| pos <= a) {
                    continue;
                }
                if read >= budget
                    && let Some(stop) = last_read
                {
                    // Out of budget with rows left: continue after the last row read.
                    return Ok((out, Some(stop)));
                }
                read += 1;
                last_read = Some(pos);
                let row = IndexedEvent { height: Height(h), tx_index: t, event_index: pos.2, tx_hash, event };
                if keep(&row) {
                    if let Some(l) = out.get(limit.saturating_sub(1)) {
                        // A full page and one more: continue after the last returned.
                        let next = (l.height.0, l.tx_index, l.event_index);
                        return Ok((out, Some(next)));
                    }
                    out.push(row);
                }
            }
        }
        let next = (last < to).then_some((last, u32::MAX, u32::MAX));
        Ok((out, next))
    }
}

impl HistoryApiServer for HistoryRpc {
    fn txs_by_address(
        &self,
        address: Address,
        role: Option<HistoryRole>,
        from_height: Option<u64>,
        to_height: Option<u64>,
        cursor: Option<String>,
        limit: Option<u64>,
        order: Option<SortOrder>,
    ) -> RpcResult<AddressTxsPage> {
        self.require_index()?;
        let (role, order) = (role.unwrap_or_default(), order.unwrap_or_default());
        let limit = page_limit(limit, DEFAULT_TXS_PAGE, MAX_PAGE);
        if let (Some(f), Some(t)) = (from_height, to_height)
            && f > t
        {
            return Err(invalid(format!("from_height {f} is above to_height {t}")));
        }
        let tip = self.ctx.chain.tip().height.0;
        let index_from = self.index_from()?;
        let from = from_height.unwrap_or(index_from).max(1);
        self.check_from(from, index_from, tip)?;
        let to = to_height.unwrap_or(tip).min(tip);
        let after = cursor.as_deref().map(parse_tx_cursor).transpose()?;
        if let Some((h, _)) = after
            && !(from..=to).contains(&h)
        {
            return Err(invalid(format!("cursor height {h} is outside the range {from}..={to}")));
        }
        let key = match role {
            HistoryRole::Any => RoleKey::Any,
            HistoryRole::Sent => RoleKey::Sent,
            HistoryRole::Received => RoleKey::Received,
            HistoryRole::Contract => RoleKey::Contract,
        };
        let desc = order == SortOrder::Desc;
        let (mut rows, stopped) = self
            .ctx
            .chain
            .store()
            .address_page(&address, key, (from, to), after, desc, limit + 1, MAX_SEARCH_SCAN)
            .map_err(internal)?;
        // A full page and one more: continue after the last returned; or the
        // role filter's budget ran out: continue after the last entry read.
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| (r.height.0, r.index))
        } else {
            stopped
        };
        let next_cursor = next.map(|(h, i)| format!("{h}:{i}"));
        let txs = rows
            .into_iter()
            .map(|r| AddressTxItem {
                height: r.height,
                index: r.index,
                hash: r.entry.tx_hash,
                roles: roles(r.entry.roles),
                payload_type: r.entry.payload.to_owned(),
                success: r.entry.success,
            })
            .collect();
        Ok(AddressTxsPage { address, role, order, from_height: Height(from), to_height: Height(to), txs, next_cursor })
    }

    fn search_events(
        &self,
        kind: Option<String>,
        contract: Option<Address>,
        attributes: Option<Vec<AttributeFilter>>,
        from_height: u64,
        to_height: u64,
        cursor: Option<String>,
        limit: Option<u64>,
    ) -> RpcResult<EventSearchPage> {
        self.require_index()?;
        if from_height > to_height {
            return Err(invalid(format!("from_height {from_height} is above to_height {to_height}")));
        }
        if to_height - from_height >= MAX_SEARCH_HEIGHTS {
            return Err(invalid(format!(
                "at most {MAX_SEARCH_HEIGHTS} heights per call; {from_height}..={to_height} is {}",
                to_height - from_height + 1
            )));
        }
        let attributes = attributes.unwrap_or_default();
        if attributes.len() > MAX_ATTRIBUTE_FILTERS {
            return Err(invalid(format!("at most {MAX_ATTRIBUTE_FILTERS} attribute filters")));
        }
        let limit = page_limit(limit, MAX_PAGE, MAX_PAGE);
        let tip = self.ctx.chain.tip().height.0;
        let index_from = self.index_from()?;
        let from = from_height.max(1);
        self.check_from(from, index_from, tip)?;
        let to = to_height.min(tip);
        let after = cursor.as_deref().map(parse_event_cursor).transpose()?;
        if let Some((h, _, _)) = after
            && !(from..=to).contains(&h)
        {
            return Err(invalid(format!("cursor height {h} is outside the range {from}..={to}")));
        }
        let contract_s = contract.map(|c| c.to_string());
        let keep = |e: &IndexedEvent| {
            kind.as_ref().is_none_or(|k| *k == e.event.kind)
                && contract_s.as_ref().is_none_or(|c| {
                    e.event.attributes.iter().any(|(k, v)| (k == "_contract" || k == "contract_address") && v == c)
                })
                && attributes.iter().all(|f| e.event.attributes.iter().any(|(k, v)| *k == f.key && *v == f.value))
        };
        let topic = contract.map(EventTopic::Contract).or_else(|| kind.clone().map(EventTopic::Kind));
        let (mut rows, stopped) = match &topic {
            Some(t) => self
                .ctx
                .chain
                .store()
                .indexed_events(t, (from, to), after, limit + 1, MAX_SEARCH_SCAN, keep)
                .map_err(internal)?,
            None => self.scan_blocks((from, to), after, limit, MAX_SEARCH_SCAN, &keep)?,
        };
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|l| (l.height.0, l.tx_index, l.event_index))
        } else {
            stopped
        };
        Ok(EventSearchPage {
            from_height: Height(from),
            to_height: Height(to),
            events: rows.into_iter().map(searched).collect(),
            next_cursor: next.map(event_cursor),
        })
    }

    fn block_receipts(&self, height: u64) -> RpcResult<BlockReceipts> {
        let tip = self.ctx.chain.tip().height.0;
        if height == 0 {
            return Err(err(
                codes::NOT_FOUND,
                "height 0 is the genesis state, not a block; the first block is height 1",
            ));
        }
        if height > tip {
            return Err(err(
                codes::HEIGHT_UNAVAILABLE,
                format!("height {height} is not committed yet (latest is {tip})"),
            ));
        }
        let store = self.ctx.chain.store();
        let block =
            store.block(Height(height)).map_err(internal)?.ok_or_else(|| err(codes::NOT_FOUND, "block not stored"))?;
        Ok(BlockReceipts {
            height: Height(height),
            block_hash: block.hash(),
            time_ms: block.header.time_ms,
            receipts: store.receipts(Height(height)).map_err(internal)?.unwrap_or_default(),
            block_events: store.block_events(Height(height)).map_err(internal)?,
        })
    }

    fn headers(&self, from: u64, to: u64) -> RpcResult<Vec<HeaderItem>> {
        if from == 0 {
            return Err(invalid("from: heights start at 1 (height 0 is the genesis state)"));
        }
        if from > to {
            return Err(invalid(format!("from {from} is above to {to}")));
        }
        if to - from >= MAX_HEADERS {
            return Err(invalid(format!("at most {MAX_HEADERS} headers per call; {from}..={to} is {}", to - from + 1)));
        }
        let tip = self.ctx.chain.tip().height.0;
        if from > tip {
            return Err(err(
                codes::HEIGHT_UNAVAILABLE,
                format!("height {from} is not committed yet (latest is {tip})"),
            ));
        }
        let store = self.ctx.chain.store();
        (from..=to.min(tip))
            .map(|h| {
                let (header, num_txs) = store
                    .header(Height(h))
                    .map_err(internal)?
                    .ok_or_else(|| err(codes::NOT_FOUND, format!("block {h} not stored")))?;
                Ok(HeaderItem { hash: header.hash(), num_txs, header })
            })
            .collect()
    }

    fn contracts_by_code(
        &self,
        code_hash: Hash,
        start_after: Option<Address>,
        limit: Option<u64>,
    ) -> RpcResult<CodeContractsPage> {
        self.require_index()?;
        let limit = page_limit(limit, MAX_PAGE, MAX_PAGE);
        let mut rows =
            self.ctx.chain.store().contracts_by_code(&code_hash, start_after.as_ref(), limit + 1).map_err(internal)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_start_after = more.then(|| rows.last().map(|(a, _)| *a)).flatten();
        Ok(CodeContractsPage {
            code_hash,
            contracts: rows.into_iter().map(|(address, since_height)| CodeContract { address, since_height }).collect(),
            next_start_after,
        })
    }

    fn health(&self) -> RpcResult<Health> {
        let tip = self.ctx.chain.tip();
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let age = now_ms.saturating_sub(tip.time_ms);
        let interval = self.ctx.block_interval;
        let stall = (interval * 10).max(Duration::from_secs(30));
        let syncing = self.ctx.consensus.as_ref().is_some_and(|c| c.borrow().syncing);
        let status = if syncing {
            HealthStatus::CatchingUp
        } else if u128::from(age) > stall.as_millis() {
            HealthStatus::Stalled
        } else {
            HealthStatus::Ok
        };
        Ok(Health {
            status,
            latest_height: tip.height,
            latest_block_time_ms: tip.time_ms,
            last_block_age_ms: age,
            block_interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            syncing,
            peers: self.ctx.net.as_ref().map_or(0, |n| n.peer_count() as u64),
            index_from: Height(self.index_from()?),
        })
    }

    fn genesis(&self) -> RpcResult<GenesisInfo> {
        let doc = self
            .ctx
            .chain
            .store()
            .genesis_doc()
            .map_err(internal)?
            .ok_or_else(|| internal("the genesis document is not stored"))?;
        Ok(GenesisInfo {
            chain_id: self.ctx.chain.chain_id().to_owned(),
            genesis_hash: self.ctx.chain.genesis_hash(),
            genesis: serde_json::from_slice(&doc).map_err(internal)?,
        })
    }
}

#[cfg(test)]
#[path = "rpc_history_tests.rs"]
mod tests;
