//! The history method the wallet calls (`agora_txsByAddress`), through the
//! generated `rpc_api` client.

use ledger::Address;
use rpc_api::api::HistoryApiClient;
use rpc_api::types::{AddressTxsPage, HistoryRole, SortOrder};

use super::NodeClient;
use crate::error::Result;

/// What `agora_txsByAddress` is asked for.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    pub role: Option<HistoryRole>,
    pub from_height: Option<u64>,
    pub to_height: Option<u64>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
    pub order: Option<SortOrder>,
}

impl NodeClient {
    /// One page of the transactions that touched `address`.
    pub async fn txs_by_address(&self, address: &Address, q: &HistoryQuery) -> Result<AddressTxsPage> {
        self.http
            .txs_by_address(*address, q.role, q.from_height, q.to_height, q.cursor.clone(), q.limit, q.order)
            .await
            .map_err(|e| self.map_error(e, "agora_txsByAddress", "node error"))
    }
}
