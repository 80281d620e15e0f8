//! The node's JSON-RPC API (docs/rpc.md) as the wallet uses it: the typed
//! client of the `rpc-api` crate (`ChainApiClient`, `ContractsApiClient`, …,
//! implemented for jsonrpsee's HTTP client) for calls, a WebSocket client for
//! subscriptions. The result types are the API's own; each result is kept with
//! its JSON (`raw`) for `-o json`, which passes the node's answer on.
//!
//! The staking methods are in `rpc/staking.rs`.

use std::time::Duration;

use jsonrpsee::core::client::{Error as ClientError, Subscription};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use ledger::{Address, Hash};
use rpc_api::api::{ChainApiClient, ContractsApiClient, EventsApiClient, IndexApiClient};
use rpc_api::types::BlockId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, WalletError};
use crate::parse::{BlockSelector, NodeUrl};

mod history;
mod staking;
pub use history::*;
pub use staking::*;

/// Agora error codes (docs/rpc.md), as the node answers them.
pub mod codes {
    pub use rpc_api::codes::{CONTRACT_FAILED, NO_VALIDATOR, NOT_FOUND, TX_MALFORMED};
    pub const NONCE_USED: i32 = rpc_api::codes::NONCE_TOO_LOW;
    pub const COMMIT_TIMEOUT: i32 = rpc_api::codes::TIMEOUT;
}

/// The most `agora_sendTxCommit` waits, per the spec.
pub const MAX_COMMIT_TIMEOUT: Duration = Duration::from_millis(120_000);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A typed result with its JSON.
#[derive(Clone, Debug)]
pub struct WithRaw<T> {
    pub value: T,
    pub raw: Value,
}

impl<T: Serialize> WithRaw<T> {
    fn of(value: T) -> Result<WithRaw<T>> {
        let raw = serde_json::to_value(&value)
            .map_err(|e| WalletError::BadResponse { method: "(any)", reason: e.to_string() })?;
        Ok(WithRaw { value, raw })
    }
}

/// `agora_status`.
pub type StatusInfo = rpc_api::types::Status;
/// `agora_chainParams`.
pub type ChainParamsInfo = rpc_api::types::ChainParamsInfo;
/// The contract limits of `params.contracts`.
pub type ContractParamsInfo = ledger::params::ContractParams;
/// `agora_getAccount`.
pub type AccountInfo = rpc_api::types::AccountInfo;
/// A transaction receipt.
pub type ReceiptInfo = ledger::Receipt;
/// `agora_getTx`.
pub type TxInfo = rpc_api::types::TxInfo;
/// `agora_getBlock`.
pub type BlockInfo = rpc_api::types::BlockInfo;
/// `agora_estimateGas`.
pub type GasEstimate = rpc_api::types::GasEstimate;
/// `agora_contractQuery`.
pub type QueryResult = rpc_api::types::QueryResult;
/// `agora_contractInfo`.
pub type ContractInfo = rpc_api::types::ContractInfoResult;
/// `agora_codeInfo`.
pub type CodeInfo = rpc_api::types::CodeInfoResult;
/// `agora_contractStorage` with `key_hex`.
pub type StorageValue = rpc_api::types::StorageValue;
/// One entry of a storage page.
pub type StorageEntry = rpc_api::types::StorageEntry;
/// `agora_contractStorage` without `key_hex`.
pub type StoragePage = rpc_api::types::StoragePage;
/// `agora_sendTx`.
pub type Submitted = rpc_api::types::Submitted;
/// `agora_sendTxCommit`.
pub type Committed = rpc_api::types::Committed;

/// What the wallet reads from a receipt.
pub trait ReceiptExt {
    fn succeeded(&self) -> bool;
    fn failure_reason(&self) -> String;
    /// What the payload returned (a code hash, a new contract's address, a
    /// contract's result data; empty otherwise).
    fn data_bytes(&self) -> Result<Vec<u8>>;
}

impl ReceiptExt for ReceiptInfo {
    fn succeeded(&self) -> bool {
        self.status == ledger::TxStatus::Success
    }
    fn failure_reason(&self) -> String {
        match &self.status {
            ledger::TxStatus::Failed { reason } => reason.clone(),
            ledger::TxStatus::Success => "status `success`".into(),
        }
    }
    fn data_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.data.clone())
    }
}

/// What the wallet reads from a dry run.
pub trait GasEstimateExt {
    fn failure_reason(&self) -> String;
}

impl GasEstimateExt for GasEstimate {
    fn failure_reason(&self) -> String {
        self.reason.clone().unwrap_or_else(|| "status `failed`".into())
    }
}

/// A notification of `agora_subscribeNewBlocks`.
#[derive(Clone, Debug, Deserialize)]
pub struct NewBlock {
    pub height: u64,
    #[serde(default)]
    pub num_txs: Option<u64>,
}

/// A notification of `agora_subscribeTxStatus`.
#[derive(Clone, Debug, Deserialize)]
pub struct TxStatusUpdate {
    pub status: String,
    #[serde(default)]
    pub height: Option<u64>,
}

/// A connection to one node.
#[derive(Clone, Debug)]
pub struct NodeClient {
    url: NodeUrl,
    http: HttpClient,
    request_timeout: Duration,
}

impl NodeClient {
    /// A client whose calls give up after `request_timeout` (must exceed any
    /// `agora_sendTxCommit` wait).
    pub fn new(url: &NodeUrl, request_timeout: Duration) -> Result<NodeClient> {
        let http = HttpClientBuilder::default()
            .request_timeout(request_timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .build(&url.http)
            .map_err(|e| {
                WalletError::InvalidArgument(format!("invalid node URL `{}`: {}", url.http, error_chain(&e)))
            })?;
        Ok(NodeClient { url: url.clone(), http, request_timeout })
    }

    pub fn url(&self) -> &str {
        &self.url.http
    }

    /// A typed call's result with its JSON; errors mapped as [`Self::map_error`].
    fn typed<T: Serialize>(
        &self,
        r: std::result::Result<T, ClientError>,
        method: &'static str,
        context: &'static str,
    ) -> Result<WithRaw<T>> {
        WithRaw::of(r.map_err(|e| self.map_error(e, method, context))?)
    }

    fn map_error(&self, e: ClientError, method: &'static str, context: &'static str) -> WalletError {
        match e {
            ClientError::Call(obj) => WalletError::Rpc {
                context,
                code: obj.code(),
                message: obj.message().to_owned(),
                data: obj.data().map(|d| d.get().to_owned()),
            },
            ClientError::RequestTimeout => {
                WalletError::NodeTimeout { url: self.url.http.clone(), secs: self.request_timeout.as_secs() }
            }
            ClientError::ParseError(err) => {
                WalletError::BadResponse { method, reason: format!("malformed JSON-RPC response: {err}") }
            }
            ClientError::Transport(err) => {
                if let Some(jsonrpsee::http_client::transport::Error::Rejected { status_code }) = err.downcast_ref() {
                    return WalletError::NodeHttpStatus { url: self.url.http.clone(), status: *status_code };
                }
                WalletError::NodeUnreachable { url: self.url.http.clone(), reason: error_chain(err.as_ref()) }
            }
            other => WalletError::NodeUnreachable { url: self.url.http.clone(), reason: error_chain(&other) },
        }
    }

    pub async fn status(&self) -> Result<WithRaw<StatusInfo>> {
        self.typed(self.http.status().await, "status", "node error")
    }

    pub async fn chain_params(&self) -> Result<WithRaw<ChainParamsInfo>> {
        self.typed(self.http.chain_params().await, "chainParams", "node error")
    }

    pub async fn account(&self, address: &Address) -> Result<WithRaw<AccountInfo>> {
        self.typed(self.http.get_account(*address, None, None).await, "getAccount", "node error")
    }

    /// `None` when the node does not know the transaction.
    pub async fn tx(&self, hash: &Hash) -> Result<Option<WithRaw<TxInfo>>> {
        let r = self.http.get_tx(*hash).await.map_err(|e| self.map_error(e, "getTx", "node error"))?;
        r.map(WithRaw::of).transpose()
    }

    pub async fn block(&self, which: &BlockSelector) -> Result<WithRaw<BlockInfo>> {
        let id = match which {
            BlockSelector::Latest => None,
            BlockSelector::Height(h) => Some(BlockId::Height(*h)),
            BlockSelector::Hash(h) => Some(BlockId::Hash(*h)),
        };
        match self.typed(self.http.get_block(id, None).await, "getBlock", "node error") {
            Err(WalletError::Rpc { code: codes::NOT_FOUND, .. }) => Err(WalletError::NotFound(which.to_string())),
            r => r,
        }
    }

    pub async fn estimate_gas(&self, tx_hex: &str) -> Result<WithRaw<GasEstimate>> {
        let r = self.http.estimate_gas(tx_hex.to_owned()).await;
        self.typed(r, "estimateGas", "node rejected the dry run of the transaction")
    }

    pub async fn send_tx(&self, tx_hex: &str) -> Result<WithRaw<Submitted>> {
        self.typed(self.http.send_tx(tx_hex.to_owned()).await, "sendTx", "node rejected the transaction")
    }

    /// Submits and waits up to `timeout` for the commit. The node's timeout
    /// error (1011) is returned as [`WalletError::Rpc`] with that code.
    pub async fn send_tx_commit(&self, tx_hex: &str, timeout: Duration) -> Result<WithRaw<Committed>> {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let r = self.http.send_tx_commit(tx_hex.to_owned(), Some(ms)).await;
        self.typed(r, "sendTxCommit", "node rejected the transaction")
    }

    /// `agora_contractQuery` with the message's exact bytes (`msg_hex`).
    /// Unknown contract → [`WalletError::NotFound`]; a failing contract →
    /// [`WalletError::Rpc`] with code [`codes::CONTRACT_FAILED`] and its message.
    pub async fn contract_query(
        &self,
        address: &Address,
        msg: &[u8],
        gas_limit: Option<u64>,
    ) -> Result<WithRaw<QueryResult>> {
        let r = self.http.contract_query(*address, None, gas_limit, Some(hex::encode(msg)), None).await;
        not_found(self.typed(r, "contractQuery", "the contract refused the query"), || format!("contract {address}"))
    }

    pub async fn contract_info(&self, address: &Address) -> Result<WithRaw<ContractInfo>> {
        let r = self.http.contract_info(*address).await;
        not_found(self.typed(r, "contractInfo", "node error"), || format!("contract {address}"))
    }

    pub async fn code_info(&self, code_hash: &Hash) -> Result<WithRaw<CodeInfo>> {
        let r = self.http.code_info(*code_hash).await;
        not_found(self.typed(r, "codeInfo", "node error"), || format!("code {code_hash}"))
    }

    /// `agora_getCode`: the wasm bytes, checked against `code_hash`.
    pub async fn code(&self, code_hash: &Hash) -> Result<Vec<u8>> {
        let r = self.http.get_code(*code_hash).await;
        let c = not_found(self.typed(r, "getCode", "node error"), || format!("code {code_hash}"))?;
        let code = decode_hex("getCode", "code_hex", &c.value.code_hex)?;
        if Hash::digest(&code) != *code_hash {
            return Err(WalletError::BadResponse {
                method: "getCode",
                reason: format!("the code's SHA-256 is {}, not {code_hash}", Hash::digest(&code)),
            });
        }
        Ok(code)
    }

    /// One value of a contract's storage (`None` if the key is not set).
    pub async fn contract_storage_get(&self, address: &Address, key: &[u8]) -> Result<WithRaw<StorageValue>> {
        let r = self.http.contract_storage(*address, Some(hex::encode(key)), None, None, None).await;
        let r = not_found(self.typed(r, "contractStorage", "node error"), || format!("contract {address}"))?;
        match r.value {
            rpc_api::types::StorageResult::Value(v) => Ok(WithRaw { value: v, raw: r.raw }),
            rpc_api::types::StorageResult::Page(_) => Err(WalletError::BadResponse {
                method: "contractStorage",
                reason: "a page of entries where one value was asked for".into(),
            }),
        }
    }

    /// A page of a contract's storage, in key order after `start_after`.
    pub async fn contract_storage_list(
        &self,
        address: &Address,
        start_after: Option<&[u8]>,
        limit: Option<u32>,
    ) -> Result<WithRaw<StoragePage>> {
        let r =
            self.http.contract_storage(*address, None, start_after.map(hex::encode), limit.map(u64::from), None).await;
        let r = not_found(self.typed(r, "contractStorage", "node error"), || format!("contract {address}"))?;
        match r.value {
            rpc_api::types::StorageResult::Page(p) => Ok(WithRaw { value: p, raw: r.raw }),
            rpc_api::types::StorageResult::Value(_) => Err(WalletError::BadResponse {
                method: "contractStorage",
                reason: "one value where a page of entries was asked for".into(),
            }),
        }
    }

    /// `agora_decentralization` (`epoch` or `height`; default the latest).
    pub async fn decentralization(
        &self,
        epoch: Option<u64>,
        height: Option<u64>,
    ) -> Result<WithRaw<rpc_api::types::EpochIndex>> {
        let r = self.http.decentralization(epoch, height, None).await;
        self.typed(r, "decentralization", "cannot read the decentralization index")
    }

    /// `agora_decentralizationDistribution`.
    pub async fn decentralization_distribution(
        &self,
        subsystem: &str,
        epoch: Option<u64>,
        height: Option<u64>,
    ) -> Result<WithRaw<rpc_api::types::DistributionInfo>> {
        let r = self.http.decentralization_distribution(subsystem.to_owned(), epoch, height).await;
        self.typed(r, "decentralizationDistribution", "cannot read the decentralization index")
    }

    /// `agora_decentralizationHistory`.
    pub async fn decentralization_history(
        &self,
        from: Option<u64>,
        limit: Option<u64>,
    ) -> Result<WithRaw<rpc_api::types::EpochHistory>> {
        let r = self.http.decentralization_history(from, limit).await;
        self.typed(r, "decentralizationHistory", "cannot read the decentralization index")
    }

    /// `agora_delegationCheck`.
    pub async fn delegation_check(&self, validator: &Address) -> Result<WithRaw<rpc_api::types::DelegationCheck>> {
        let r = self.http.delegation_check(*validator).await;
        self.typed(r, "delegationCheck", "cannot check the delegation")
    }

    /// Opens a WebSocket connection for subscriptions.
    pub async fn ws(&self) -> Result<WsClient> {
        WsClientBuilder::default()
            .connection_timeout(CONNECT_TIMEOUT)
            .request_timeout(self.request_timeout)
            .build(&self.url.ws)
            .await
            .map_err(|e| WalletError::NodeUnreachable { url: self.url.ws.clone(), reason: error_chain(&e) })
    }

    /// `agora_subscribeNewBlocks` on `ws` (the generated `EventsApiClient`).
    pub async fn subscribe_new_blocks(&self, ws: &WsClient) -> Result<BlockSubscription> {
        EventsApiClient::subscribe_new_blocks(ws, None)
            .await
            .map(|inner| BlockSubscription { inner })
            .map_err(|e| self.map_error(e, "agora_subscribeNewBlocks", "node refused the subscription"))
    }

    /// `agora_subscribeTxStatus` on `ws` (the generated `EventsApiClient`).
    pub async fn subscribe_tx_status(&self, ws: &WsClient, hash: &Hash) -> Result<TxStatusSubscription> {
        EventsApiClient::subscribe_tx_status(ws, *hash)
            .await
            .map(|inner| TxStatusSubscription { inner })
            .map_err(|e| self.map_error(e, "agora_subscribeTxStatus", "node refused the subscription"))
    }
}

/// `agora_subscribeNewBlocks` as the wallet reads it: new blocks (a node's
/// notice of missed blocks is skipped: the wallet only shows the latest height).
#[derive(Debug)]
pub struct BlockSubscription {
    inner: Subscription<rpc_api::types::BlockNotice>,
}

impl BlockSubscription {
    pub async fn next(&mut self) -> Option<std::result::Result<NewBlock, serde_json::Error>> {
        loop {
            match self.inner.next().await? {
                Ok(rpc_api::types::BlockNotice::Block(b)) => {
                    return Some(Ok(NewBlock { height: b.height.0, num_txs: Some(b.num_txs) }));
                }
                Ok(rpc_api::types::BlockNotice::Missed(_)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// `agora_subscribeTxStatus` as the wallet reads it.
#[derive(Debug)]
pub struct TxStatusSubscription {
    inner: Subscription<rpc_api::types::TxStatusUpdate>,
}

impl TxStatusSubscription {
    pub async fn next(&mut self) -> Option<std::result::Result<TxStatusUpdate, serde_json::Error>> {
        Some(self.inner.next().await?.map(|u| TxStatusUpdate {
            status: match u.status {
                rpc_api::types::TxState::Pending => "pending".into(),
                rpc_api::types::TxState::Committed => "committed".into(),
            },
            height: u.height.map(|h| h.0),
        }))
    }
}

/// Turns the node's "not found" (1012) into [`WalletError::NotFound`].
fn not_found<T>(r: Result<T>, what: impl FnOnce() -> String) -> Result<T> {
    match r {
        Err(WalletError::Rpc { code: codes::NOT_FOUND, .. }) => Err(WalletError::NotFound(what())),
        r => r,
    }
}

/// Decodes a hex field of a node's answer.
pub fn decode_hex(method: &'static str, field: &str, s: &str) -> Result<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|e| WalletError::BadResponse { method, reason: format!("`{field}` is not hex: {e}") })
}

/// An error and its sources, joined with `: ` (the lowest cause last), without
/// repeating a message that a source already carries.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn receipts_say_why_they_failed() {
        let r = ReceiptInfo {
            tx_hash: Hash([1; 32]),
            sender: Address([2; 20]),
            status: ledger::TxStatus::Failed { reason: "insufficient balance".into() },
            gas_used: 2190,
            fee: ledger::Amount::new(2190),
            events: Vec::new(),
            data: vec![0, 0xff],
        };
        assert!(!r.succeeded());
        assert_eq!(r.failure_reason(), "insufficient balance");
        assert_eq!(r.data_bytes().unwrap(), vec![0, 0xff]);
        let w = WithRaw::of(r).unwrap();
        assert_eq!(w.raw["status"], "failed");
        assert_eq!(w.raw["fee"], "2190");
    }

    #[test]
    fn error_display_shows_code_and_message() {
        let e = WalletError::Rpc {
            context: "node rejected the transaction",
            code: 1005,
            message: "nonce 3 already used: the sender's next nonce is 4".into(),
            data: Some("{\"expected\":4}".into()),
        };
        assert_eq!(
            e.to_string(),
            "node rejected the transaction (1005): nonce 3 already used: the sender's next nonce is 4 [data: {\"expected\":4}]"
        );
    }
}
