//! The contract methods: dry runs, queries, metadata, code, storage.

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)]
use jsonrpsee::core::RpcResult;
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;
use ledger::{Address, Hash};

use crate::types::{CodeInfoResult, CodeResult, ContractInfoResult, GasEstimate, QueryResult, StorageResult};

/// Contracts: dry runs, read-only queries, metadata and storage.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
pub trait ContractsApi {
    /// Dry-runs a transaction (signature not checked) against the latest state: gas used, status, data, events.
    #[method(name = "estimateGas")]
    async fn estimate_gas(&self, tx_hex: String) -> RpcResult<GasEstimate>;

    /// Runs a contract's `query` entry point read-only with `msg` (JSON) or `msg_hex` (raw bytes), at the latest state or at `height`.
    #[method(name = "contractQuery")]
    async fn contract_query(
        &self,
        address: Address,
        msg: Option<serde_json::Value>,
        gas_limit: Option<u64>,
        msg_hex: Option<String>,
        height: Option<u64>,
    ) -> RpcResult<QueryResult>;

    /// A contract's metadata and balance; 1012 if there is no contract.
    #[method(name = "contractInfo")]
    async fn contract_info(&self, address: Address) -> RpcResult<ContractInfoResult>;

    /// Metadata of uploaded code; 1012 if unknown.
    #[method(name = "codeInfo")]
    async fn code_info(&self, code_hash: Hash) -> RpcResult<CodeInfoResult>;

    /// The uploaded wasm of `code_hash`.
    #[method(name = "getCode")]
    async fn get_code(&self, code_hash: Hash) -> RpcResult<CodeResult>;

    /// One storage value (`key_hex`) or a page in key order after `start_after_hex` (`limit` 1–100, default 50); `height` reads a past state (single keys only).
    #[method(name = "contractStorage")]
    async fn contract_storage(
        &self,
        address: Address,
        key_hex: Option<String>,
        start_after_hex: Option<String>,
        limit: Option<u64>,
        height: Option<u64>,
    ) -> RpcResult<StorageResult>;
}
