//! The node's JSON-RPC API (docs/rpc.md) as the wallet uses it: an HTTP client
//! for calls, a WebSocket client for subscriptions, and typed results.
//!
//! Results are read as JSON values first and then into the structs below, which
//! ignore fields they do not know, so a node that adds fields keeps working. The
//! raw value is kept alongside for `-o json`, which passes the node's answer on.
//!
//! The staking methods (`agora_stakingParams`, `agora_validators`,
//! `agora_validator`, `agora_validatorDelegations`, `agora_delegations`,
//! `agora_validatorSet`, `agora_supply`) and the JSON shapes the wallet
//! expects from them are documented in `rpc/staking.rs`; their parameters go
//! by name, as a JSON object (`"params": {"validator": "agora1…"}`), like the
//! contract methods'.

use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Error as ClientError, Subscription};
use jsonrpsee::core::params::ObjectParams;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use ledger::{Address, Amount, Hash};
use rpc_api::api::EventsApiClient;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Result, WalletError};
use crate::parse::{BlockSelector, NodeUrl};

mod history;
mod staking;
pub use history::*;
pub use staking::*;

/// Agora error codes (docs/rpc.md).
pub mod codes {
    pub const TX_MALFORMED: i32 = 1001;
    pub const NONCE_USED: i32 = 1005;
    pub const COMMIT_TIMEOUT: i32 = 1011;
    pub const NOT_FOUND: i32 = 1012;
    pub const CONTRACT_FAILED: i32 = 1014;
    /// `agora_validator`: no validator with that operator address.
    pub const NO_VALIDATOR: i32 = 1020;
}

/// The most `agora_sendTxCommit` waits, per the spec.
pub const MAX_COMMIT_TIMEOUT: Duration = Duration::from_millis(120_000);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A typed result with the node's raw JSON.
#[derive(Clone, Debug)]
pub struct WithRaw<T> {
    pub value: T,
    pub raw: Value,
}

/// `agora_status`.
#[derive(Clone, Debug, Deserialize)]
pub struct StatusInfo {
    pub chain_id: String,
    pub genesis_hash: String,
    #[serde(default)]
    pub node_version: Option<String>,
    pub latest_height: u64,
    pub latest_block_hash: String,
    #[serde(default)]
    pub latest_state_root: Option<String>,
    #[serde(default)]
    pub latest_block_time_ms: Option<u64>,
    #[serde(default)]
    pub syncing: Option<bool>,
    #[serde(default)]
    pub validator: Option<Value>,
    #[serde(default)]
    pub mempool_size: Option<u64>,
    #[serde(default)]
    pub peers: Option<u64>,
    #[serde(default)]
    pub node_id: Option<String>,
    #[serde(default)]
    pub consensus: Option<Value>,
}

/// `agora_chainParams`.
#[derive(Clone, Debug, Deserialize)]
pub struct ChainParamsInfo {
    pub chain_id: String,
    pub params: GasParams,
    #[serde(default)]
    pub block_interval_ms: Option<u64>,
}

/// The parameters of `agora_chainParams` the wallet uses.
#[derive(Clone, Debug, Deserialize)]
pub struct GasParams {
    pub max_tx_gas: u64,
    pub min_gas_price: Amount,
    #[serde(default)]
    pub max_tx_bytes: Option<u64>,
    /// Contract limits (absent on nodes without contracts).
    #[serde(default)]
    pub contracts: Option<ContractParamsInfo>,
}

/// The contract limits of `params.contracts` the wallet checks locally.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContractParamsInfo {
    #[serde(default)]
    pub max_code_bytes: Option<u64>,
    #[serde(default)]
    pub max_msg_bytes: Option<u64>,
    #[serde(default)]
    pub max_label_bytes: Option<u64>,
}

/// `agora_getAccount`.
#[derive(Clone, Debug, Deserialize)]
pub struct AccountInfo {
    pub address: Address,
    pub balance: Amount,
    pub nonce: u64,
    /// Next nonce counting this node's pending transactions from the account
    /// (absent on older nodes and for historical queries).
    #[serde(default)]
    pub pending_nonce: Option<u64>,
    pub height: u64,
}

/// A transaction receipt.
#[derive(Clone, Debug, Deserialize)]
pub struct ReceiptInfo {
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub gas_used: u64,
    pub fee: Amount,
    #[serde(default)]
    pub events: Vec<Value>,
    /// What the payload returned (hex): a code hash, a new contract's address,
    /// a contract's result data; empty or absent otherwise.
    #[serde(default)]
    pub data: Option<String>,
}

impl ReceiptInfo {
    pub fn succeeded(&self) -> bool {
        self.status == "success"
    }
    pub fn failure_reason(&self) -> String {
        self.reason.clone().unwrap_or_else(|| format!("status `{}`", self.status))
    }
    /// The decoded `data` (empty when absent).
    pub fn data_bytes(&self) -> Result<Vec<u8>> {
        decode_hex("receipt", "data", self.data.as_deref().unwrap_or(""))
    }
}

/// `agora_getTx`.
#[derive(Clone, Debug, Deserialize)]
pub struct TxInfo {
    pub hash: Hash,
    pub height: u64,
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default)]
    pub block_hash: Option<Hash>,
    #[serde(default)]
    pub tx: Value,
    pub receipt: ReceiptInfo,
}

/// `agora_getBlock`.
#[derive(Clone, Debug, Deserialize)]
pub struct BlockInfo {
    pub hash: Hash,
    pub header: HeaderInfo,
    #[serde(default)]
    pub txs: Vec<BlockTx>,
    #[serde(default)]
    pub last_commit: Option<Value>,
}

/// The header fields `agora block` shows.
#[derive(Clone, Debug, Deserialize)]
pub struct HeaderInfo {
    pub height: u64,
    pub time_ms: u64,
    #[serde(default)]
    pub chain_id: Option<String>,
    #[serde(default)]
    pub parent_hash: Option<String>,
    #[serde(default)]
    pub state_root: Option<String>,
    #[serde(default)]
    pub tx_root: Option<String>,
    #[serde(default)]
    pub proposer: Option<String>,
}

/// One transaction of a block.
#[derive(Clone, Debug, Deserialize)]
pub struct BlockTx {
    pub hash: Hash,
}

/// `agora_estimateGas`.
#[derive(Clone, Debug, Deserialize)]
pub struct GasEstimate {
    pub gas_used: u64,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub suggested_gas_limit: Option<u64>,
    /// What the payload would return (hex), on nodes with contracts.
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub events: Vec<Value>,
}

impl GasEstimate {
    pub fn succeeded(&self) -> bool {
        self.status == "success"
    }
    pub fn failure_reason(&self) -> String {
        self.reason.clone().unwrap_or_else(|| format!("status `{}`", self.status))
    }
}

/// `agora_contractQuery`.
#[derive(Clone, Debug, Deserialize)]
pub struct QueryResult {
    /// The result as JSON, when its bytes are JSON (else null).
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub data_hex: String,
    #[serde(default)]
    pub gas_used: Option<u64>,
}

/// `agora_contractInfo`.
#[derive(Clone, Debug, Deserialize)]
pub struct ContractInfo {
    pub address: Address,
    pub code_hash: Hash,
    pub creator: Address,
    pub label: String,
    pub created_height: u64,
    #[serde(default)]
    pub balance: Option<Amount>,
}

/// `agora_codeInfo`.
#[derive(Clone, Debug, Deserialize)]
pub struct CodeInfo {
    pub code_hash: Hash,
    pub creator: Address,
    pub size: u64,
    pub height: u64,
}

/// `agora_getCode`.
#[derive(Clone, Debug, Deserialize)]
pub struct Code {
    pub code_hash: Hash,
    pub code_hex: String,
}

/// `agora_contractStorage` with `key_hex`.
#[derive(Clone, Debug, Deserialize)]
pub struct StorageValue {
    pub key_hex: String,
    #[serde(default)]
    pub value_hex: Option<String>,
}

/// One entry of `agora_contractStorage` without `key_hex`.
#[derive(Clone, Debug, Deserialize)]
pub struct StorageEntry {
    pub key_hex: String,
    pub value_hex: String,
}

/// `agora_contractStorage` without `key_hex`: a page of entries in key order.
#[derive(Clone, Debug, Deserialize)]
pub struct StoragePage {
    pub entries: Vec<StorageEntry>,
    #[serde(default)]
    pub next_start_after_hex: Option<String>,
}

/// `agora_sendTx`.
#[derive(Clone, Debug, Deserialize)]
pub struct Submitted {
    pub hash: Hash,
}

/// `agora_sendTxCommit`.
#[derive(Clone, Debug, Deserialize)]
pub struct Committed {
    pub hash: Hash,
    pub height: u64,
    #[serde(default)]
    pub index: Option<u64>,
    pub block_hash: Hash,
    pub receipt: ReceiptInfo,
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

    /// Calls `method` and returns the raw result.
    async fn call_raw(
        &self,
        method: &'static str,
        params: impl ToRpcParams + Send,
        context: &'static str,
    ) -> Result<Value> {
        self.http.request::<Value, _>(method, params).await.map_err(|e| self.map_error(e, method, context))
    }

    /// Calls `method` and returns the node's result as it wrote it (so its
    /// numbers can be shown exactly).
    pub async fn call_text(
        &self,
        method: &'static str,
        params: impl ToRpcParams + Send,
        context: &'static str,
    ) -> Result<Box<serde_json::value::RawValue>> {
        self.http
            .request::<Box<serde_json::value::RawValue>, _>(method, params)
            .await
            .map_err(|e| self.map_error(e, method, context))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: impl ToRpcParams + Send,
        context: &'static str,
    ) -> Result<WithRaw<T>> {
        let raw = self.call_raw(method, params, context).await?;
        Ok(WithRaw { value: decode(method, &raw)?, raw })
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
        self.call("agora_status", rpc_params![], "node error").await
    }

    pub async fn chain_params(&self) -> Result<WithRaw<ChainParamsInfo>> {
        self.call("agora_chainParams", rpc_params![], "node error").await
    }

    pub async fn account(&self, address: &Address) -> Result<WithRaw<AccountInfo>> {
        self.call("agora_getAccount", rpc_params![address.to_string()], "node error").await
    }

    /// `None` when the node does not know the transaction.
    pub async fn tx(&self, hash: &Hash) -> Result<Option<WithRaw<TxInfo>>> {
        let raw = self.call_raw("agora_getTx", rpc_params![hash.to_string()], "node error").await?;
        if raw.is_null() {
            return Ok(None);
        }
        Ok(Some(WithRaw { value: decode("agora_getTx", &raw)?, raw }))
    }

    pub async fn block(&self, which: &BlockSelector) -> Result<WithRaw<BlockInfo>> {
        let params = match which {
            BlockSelector::Latest => rpc_params![],
            other => rpc_params![other.to_param()],
        };
        match self.call("agora_getBlock", params, "node error").await {
            Err(WalletError::Rpc { code: codes::NOT_FOUND, .. }) => Err(WalletError::NotFound(which.to_string())),
            r => r,
        }
    }

    pub async fn estimate_gas(&self, tx_hex: &str) -> Result<WithRaw<GasEstimate>> {
        self.call("agora_estimateGas", rpc_params![tx_hex], "node rejected the dry run of the transaction").await
    }

    pub async fn send_tx(&self, tx_hex: &str) -> Result<WithRaw<Submitted>> {
        self.call("agora_sendTx", rpc_params![tx_hex], "node rejected the transaction").await
    }

    /// Submits and waits up to `timeout` for the commit. The node's timeout
    /// error (1011) is returned as [`WalletError::Rpc`] with that code.
    pub async fn send_tx_commit(&self, tx_hex: &str, timeout: Duration) -> Result<WithRaw<Committed>> {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.call("agora_sendTxCommit", rpc_params![tx_hex, ms], "node rejected the transaction").await
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
        let mut p = vec![("address", Value::from(address.to_string())), ("msg_hex", Value::from(hex::encode(msg)))];
        if let Some(g) = gas_limit {
            p.push(("gas_limit", Value::from(g)));
        }
        let r = self.call("agora_contractQuery", named(&p)?, "the contract refused the query").await;
        not_found(r, || format!("contract {address}"))
    }

    pub async fn contract_info(&self, address: &Address) -> Result<WithRaw<ContractInfo>> {
        let p = named(&[("address", Value::from(address.to_string()))])?;
        not_found(self.call("agora_contractInfo", p, "node error").await, || format!("contract {address}"))
    }

    pub async fn code_info(&self, code_hash: &Hash) -> Result<WithRaw<CodeInfo>> {
        let p = named(&[("code_hash", Value::from(code_hash.to_string()))])?;
        not_found(self.call("agora_codeInfo", p, "node error").await, || format!("code {code_hash}"))
    }

    /// `agora_getCode`: the wasm bytes, checked against `code_hash`.
    pub async fn code(&self, code_hash: &Hash) -> Result<Vec<u8>> {
        let p = named(&[("code_hash", Value::from(code_hash.to_string()))])?;
        let c: WithRaw<Code> =
            not_found(self.call("agora_getCode", p, "node error").await, || format!("code {code_hash}"))?;
        let code = decode_hex("agora_getCode", "code_hex", &c.value.code_hex)?;
        if Hash::digest(&code) != *code_hash {
            return Err(WalletError::BadResponse {
                method: "agora_getCode",
                reason: format!("the code's SHA-256 is {}, not {code_hash}", Hash::digest(&code)),
            });
        }
        Ok(code)
    }

    /// One value of a contract's storage (`None` if the key is not set).
    pub async fn contract_storage_get(&self, address: &Address, key: &[u8]) -> Result<WithRaw<StorageValue>> {
        let p = named(&[("address", Value::from(address.to_string())), ("key_hex", Value::from(hex::encode(key)))])?;
        not_found(self.call("agora_contractStorage", p, "node error").await, || format!("contract {address}"))
    }

    /// A page of a contract's storage, in key order after `start_after`.
    pub async fn contract_storage_list(
        &self,
        address: &Address,
        start_after: Option<&[u8]>,
        limit: Option<u32>,
    ) -> Result<WithRaw<StoragePage>> {
        let mut p = vec![("address", Value::from(address.to_string()))];
        if let Some(s) = start_after {
            p.push(("start_after_hex", Value::from(hex::encode(s))));
        }
        if let Some(l) = limit {
            p.push(("limit", Value::from(l)));
        }
        let r = self.call("agora_contractStorage", named(&p)?, "node error").await;
        not_found(r, || format!("contract {address}"))
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

/// Parameters by name (the contract methods are specified that way).
fn named(pairs: &[(&str, Value)]) -> Result<ObjectParams> {
    let mut p = ObjectParams::new();
    for (name, value) in pairs {
        p.insert(name, value).map_err(|e| WalletError::InvalidArgument(format!("cannot encode `{name}`: {e}")))?;
    }
    Ok(p)
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

fn decode<T: DeserializeOwned>(method: &'static str, raw: &Value) -> Result<T> {
    T::deserialize(raw).map_err(|e| WalletError::BadResponse { method, reason: e.to_string() })
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
    use serde_json::json;

    #[test]
    fn results_tolerate_extra_fields() {
        let c: Committed = decode(
            "agora_sendTxCommit",
            &json!({
                "hash": "11".repeat(32), "height": 7, "index": 0, "block_hash": "22".repeat(32),
                "receipt": {"tx_hash": "11".repeat(32), "sender": "x", "status": "failed",
                            "reason": "insufficient balance", "gas_used": 2190, "fee": "2190",
                            "events": [], "new_field": 1},
                "also_new": true
            }),
        )
        .unwrap();
        assert_eq!(c.height, 7);
        assert!(!c.receipt.succeeded());
        assert_eq!(c.receipt.failure_reason(), "insufficient balance");
        assert_eq!(c.receipt.fee, Amount::new(2190));

        let p: ChainParamsInfo = decode(
            "agora_chainParams",
            &json!({"chain_id": "agora-test", "block_interval_ms": 1000, "params": {
                "max_tx_bytes": 32768, "max_block_bytes": 8388608, "max_block_gas": 100000000000u64,
                "max_tx_gas": 10000000, "min_gas_price": "1", "base_tx_gas": 1000,
                "gas_per_tx_byte": 10, "transfer_gas": 1000}}),
        )
        .unwrap();
        assert_eq!(p.params.max_tx_gas, 10_000_000);
        assert_eq!(p.params.min_gas_price, Amount::new(1));

        assert!(p.params.contracts.is_none(), "older nodes have no contract parameters");

        let p: ChainParamsInfo = decode(
            "agora_chainParams",
            &json!({"chain_id": "agora-test", "params": {
                "max_tx_bytes": 1048576, "max_tx_gas": 100000000u64, "min_gas_price": "1",
                "contracts": {"max_code_bytes": 819200, "max_msg_bytes": 262144, "max_label_bytes": 128,
                              "gas_code_byte": 50}}}),
        )
        .unwrap();
        let c = p.params.contracts.unwrap();
        assert_eq!((c.max_code_bytes, c.max_msg_bytes, c.max_label_bytes), (Some(819_200), Some(262_144), Some(128)));

        let r: ReceiptInfo =
            decode("receipt", &json!({"status": "success", "gas_used": 1, "fee": "1", "data": "00ff"})).unwrap();
        assert_eq!(r.data_bytes().unwrap(), vec![0, 0xff]);
        let r: ReceiptInfo = decode("receipt", &json!({"status": "success", "gas_used": 1, "fee": "1"})).unwrap();
        assert!(r.data_bytes().unwrap().is_empty());

        let e = decode::<AccountInfo>("agora_getAccount", &json!({"address": "nope"})).unwrap_err();
        assert!(e.to_string().contains("agora_getAccount"), "{e}");
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
