//! The chain methods: status, parameters, blocks, transactions, accounts,
//! submission, network info.

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)]
use jsonrpsee::core::RpcResult;
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;
use ledger::{Address, Hash};

use crate::types::{
    AccountInfo, BlockId, BlockInfo, ChainParamsInfo, Committed, NetworkInfo, SendVerdict, Status, Submitted, TxInfo,
};

/// Chain state, blocks, transactions and accounts.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
pub trait ChainApi {
    /// The node's chain, tip, consensus progress, peers and mempool.
    #[method(name = "status")]
    async fn status(&self) -> RpcResult<Status>;

    /// The chain parameters in force for the next block.
    #[method(name = "chainParams")]
    async fn chain_params(&self) -> RpcResult<ChainParamsInfo>;

    /// A block by height, hash or "latest" (default); `full_txs` (default true) false lists only tx hashes. Error 1012 if unknown.
    #[method(name = "getBlock")]
    async fn get_block(&self, block: Option<BlockId>, full_txs: Option<bool>) -> RpcResult<BlockInfo>;

    /// A committed transaction with its receipt, or null if unknown.
    #[method(name = "getTx")]
    async fn get_tx(&self, hash: Hash) -> RpcResult<Option<TxInfo>>;

    /// An account's balance and nonce, at the latest height or at `height` (1017 if pruned or in the future); `prove` adds a Merkle proof.
    #[method(name = "getAccount")]
    async fn get_account(&self, address: Address, prove: Option<bool>, height: Option<u64>) -> RpcResult<AccountInfo>;

    /// Submits a transaction (hex of the borsh `SignedTx`); answers once the mempool admitted it.
    #[method(name = "sendTx")]
    async fn send_tx(&self, tx_hex: String) -> RpcResult<Submitted>;

    /// Submits many transactions (hex of each borsh `SignedTx`; at most `rpc.max_batch`, default 100) and answers once each was admitted or refused: one verdict per transaction, in order, `{hash}` or `{error: {code, message, data}}` as `agora_sendTx` would answer it. They are admitted in the order given (consecutive nonces of one sender may share a call); the call costs one rate-limit token per transaction.
    #[method(name = "sendTxs")]
    async fn send_txs(&self, txs_hex: Vec<String>) -> RpcResult<Vec<SendVerdict>>;

    /// Submits a transaction and waits up to `timeout_ms` (default 30000, capped by the node) for its commit; 1011 on timeout.
    #[method(name = "sendTxCommit")]
    async fn send_tx_commit(&self, tx_hex: String, timeout_ms: Option<u64>) -> RpcResult<Committed>;

    /// This node's peer id, listen addresses and connected peers with their identify versions and direction.
    #[method(name = "networkInfo")]
    async fn network_info(&self) -> RpcResult<NetworkInfo>;
}
