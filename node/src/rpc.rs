//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee). The methods are
//! the typed traits of the `rpc-api` crate; this module implements the chain
//! methods ([`ChainApiServer`]) and the shared helpers. Method names, params
//! and error codes are documented in `docs/rpc.md`.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::server::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use ledger::state::{prove_account, read_account};
use ledger::{Address, Hash, Height, InvalidTx, PublicKey, SignedTx};
use rpc_api::api::ChainApiServer;
use rpc_api::types::{
    AccountInfo, BlockId, BlockInfo, BlockTxs, ChainParamsInfo, Committed, ConsensusProgress, HashedTx, NetworkInfo,
    SendVerdict, Status, Submitted, TxInfo, VerdictError,
};
use serde_json::json;

use crate::chain::{Chain, TxCommitted};
use crate::mempool::MempoolError;

/// Agora's RPC error codes (docs/rpc.md), shared with the clients.
pub use rpc_api::codes;

pub(crate) fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    tracing::error!(error = %e, "internal RPC error");
    err(codes::INTERNAL, format!("internal error: {e}"))
}

/// `height` is pruned or not committed yet.
pub(crate) fn height_unavailable(msg: impl Into<String>) -> ErrorObjectOwned {
    err(codes::HEIGHT_UNAVAILABLE, msg)
}

/// A past height a read names: at most the tip (else 1017).
pub(crate) fn past_height(ctx: &RpcContext, height: u64) -> Result<Height, ErrorObjectOwned> {
    let tip = ctx.chain.tip().height;
    if height > tip.0 {
        return Err(height_unavailable(format!("height {height} is above the latest height {tip}")));
    }
    Ok(Height(height))
}

pub(crate) fn invalid_tx(e: &InvalidTx) -> ErrorObjectOwned {
    use InvalidTx::*;
    let code = match e {
        Malformed(_) => codes::TX_MALFORMED,
        TooLarge { .. } => codes::TX_TOO_LARGE,
        BadSignature => codes::BAD_SIGNATURE,
        WrongChainId { .. } => codes::WRONG_CHAIN_ID,
        NonceTooLow { expected, .. } => {
            return ErrorObjectOwned::owned(codes::NONCE_TOO_LOW, e.to_string(), Some(json!({ "expected": expected })));
        }
        NonceGap { .. } => codes::NONCE_GAP,
        GasPriceTooLow { .. } | GasLimitTooLow { .. } | GasLimitTooHigh { .. } | FeeOverflow | CannotPayFee { .. } => {
            codes::FEE
        }
        ZeroAmount | BlockGasExhausted | Contract(_) => codes::TX_INVALID,
    };
    err(code, e.to_string())
}

fn mempool_err(e: MempoolError) -> ErrorObjectOwned {
    match &e {
        MempoolError::Invalid(i) => invalid_tx(i),
        MempoolError::Duplicate(_) | MempoolError::AlreadyCommitted(_) | MempoolError::NonceTaken { .. } => {
            err(codes::DUPLICATE, e.to_string())
        }
        MempoolError::Full(_) => err(codes::MEMPOOL_FULL, e.to_string()),
        MempoolError::WaitingFull(_) => err(codes::NONCE_GAP, e.to_string()),
        MempoolError::PendingFees { .. } => err(codes::FEE, e.to_string()),
        MempoolError::Dropped(_) => err(codes::TX_INVALID, e.to_string()),
        MempoolError::State(s) => internal(s),
    }
}

/// Shared state of the RPC handlers.
#[derive(Debug)]
pub struct RpcContext {
    pub chain: Arc<Chain>,
    /// This node's validator key (reported as `validator` while it is in
    /// the set of the next height).
    pub validator: Option<PublicKey>,
    pub moniker: String,
    pub block_interval: Duration,
    pub max_commit_wait: Duration,
    /// The network, to gossip admitted transactions and count peers.
    pub net: Option<crate::p2p::NetworkHandle>,
    /// Consensus progress, from the engine.
    pub consensus: Option<tokio::sync::watch::Receiver<crate::engine::ConsensusStatus>>,
    /// Bounds concurrent contract queries and dry runs (each holds up to
    /// `max_call_depth + 1` wasm instances and a blocking thread), so RPC can
    /// never starve block execution of instances or threads.
    pub query_slots: Arc<tokio::sync::Semaphore>,
    /// Where submitted transactions are admitted (signatures in batches).
    pub admission: crate::admission::Admission,
    /// Most transactions one `agora_sendTxs` takes (`rpc.max_batch`: it
    /// counts as that many calls).
    pub max_batch: usize,
}

/// Contract queries running at once, per node.
pub const MAX_CONCURRENT_QUERIES: usize = 8;

pub(crate) fn committed(hash: &Hash, c: &TxCommitted) -> Committed {
    Committed {
        hash: *hash,
        height: c.height,
        index: c.index as u64,
        block_hash: c.block_hash,
        receipt: c.receipt.clone(),
    }
}

pub(crate) fn tx_info(ctx: &RpcContext, hash: Hash) -> Result<Option<TxInfo>, ErrorObjectOwned> {
    let store = ctx.chain.store();
    let Some(loc) = store.tx_location(&hash).map_err(internal)? else {
        return Ok(None);
    };
    let block = store.block(loc.height).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
    let receipts = store.receipts(loc.height).map_err(internal)?.ok_or_else(|| internal("receipts missing"))?;
    let i = loc.index as usize;
    let (Some(tx), Some(receipt)) = (block.txs.get(i), receipts.get(i)) else {
        return Err(internal("tx index points outside its block"));
    };
    Ok(Some(TxInfo {
        hash,
        height: loc.height,
        index: u64::from(loc.index),
        block_hash: block.hash(),
        tx: tx.clone(),
        receipt: receipt.clone(),
    }))
}

/// The decoded bytes of a `tx_hex` parameter.
pub(crate) fn tx_bytes(tx_hex: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let s = tx_hex.strip_prefix("0x").unwrap_or(tx_hex);
    hex::decode(s).map_err(|e| err(codes::TX_MALFORMED, format!("tx_hex is not valid hex: {e}")))
}

/// The typed API's handlers: one value shared by every area's server trait.
#[derive(Clone, Debug)]
pub struct Api(pub Arc<RpcContext>);

impl std::ops::Deref for Api {
    type Target = RpcContext;
    fn deref(&self) -> &RpcContext {
        &self.0
    }
}

impl Api {
    /// `agora_sendTx` of one transaction: admitted (then gossiped) or the
    /// RPC error for its refusal.
    async fn submit(&self, tx_hex: &str) -> Result<Hash, ErrorObjectOwned> {
        let bytes = tx_bytes(tx_hex)?;
        let (verdict, bytes) = self.admission.submit(bytes).await;
        let hash = verdict.map_err(mempool_err)?;
        if let Some(net) = &self.net {
            net.gossip_tx(bytes);
        }
        Ok(hash)
    }
}

#[async_trait]
impl ChainApiServer for Api {
    async fn status(&self) -> RpcResult<Status> {
        let ctx = &self.0;
        let tip = ctx.chain.tip();
        let cs = ctx.consensus.as_ref().map(|c| c.borrow().clone()).unwrap_or_default();
        Ok(Status {
            chain_id: ctx.chain.chain_id().to_owned(),
            genesis_hash: ctx.chain.genesis_hash(),
            node_version: env!("CARGO_PKG_VERSION").to_owned(),
            client: ctx.chain.client(),
            moniker: ctx.moniker.clone(),
            latest_height: tip.height,
            latest_block_hash: tip.hash,
            latest_state_root: tip.state_root,
            latest_block_time_ms: tip.time_ms,
            syncing: cs.syncing,
            best_peer_height: cs.best_peer_height,
            synced_blocks: cs.synced_blocks,
            equivocations_seen: cs.equivocations,
            consensus: ConsensusProgress { height: cs.height, round: cs.round, step: cs.step.to_owned() },
            validator: ctx.validator.filter(|k| {
                ctx.chain
                    .validators_at(tip.height.next())
                    .is_ok_and(|set| set.get(&consensus::ValidatorId(k.0)).is_some())
            }),
            node_id: ctx.net.as_ref().map(|n| n.local_peer_id().to_string()),
            peers: ctx.net.as_ref().map_or(0, |n| n.peer_count() as u64),
            total_txs: ctx.chain.total_txs(),
            mempool_size: ctx.chain.mempool_size() as u64,
        })
    }

    async fn chain_params(&self) -> RpcResult<ChainParamsInfo> {
        Ok(ChainParamsInfo {
            chain_id: self.chain.chain_id().to_owned(),
            params: (*self.chain.params()).clone(),
            block_interval_ms: u64::try_from(self.block_interval.as_millis()).unwrap_or(u64::MAX),
        })
    }

    async fn get_block(&self, block: Option<BlockId>, full_txs: Option<bool>) -> RpcResult<BlockInfo> {
        let store = self.chain.store();
        let height = match block.unwrap_or(BlockId::Latest) {
            BlockId::Latest => self.chain.tip().height,
            BlockId::Height(h) => Height(h),
            BlockId::Hash(h) => store
                .height_of(&h)
                .map_err(internal)?
                .ok_or_else(|| err(codes::NOT_FOUND, format!("no block with hash {h}")))?,
        };
        if height == Height::GENESIS {
            return Err(err(
                codes::NOT_FOUND,
                "height 0 is the genesis state, not a block; the first block is height 1",
            ));
        }
        let block = store.block(height).map_err(internal)?.ok_or_else(|| {
            err(codes::NOT_FOUND, format!("no block at height {height} (latest is {})", self.chain.tip().height))
        })?;
        let txs = if full_txs.unwrap_or(true) {
            BlockTxs::Full(block.txs.iter().map(|t| HashedTx { hash: t.hash(), tx: t.clone() }).collect())
        } else {
            BlockTxs::Hashes(block.txs.iter().map(SignedTx::hash).collect())
        };
        Ok(BlockInfo {
            hash: block.hash(),
            num_txs: block.txs.len() as u64,
            txs,
            evidence: block.evidence.iter().map(crate::rpc_staking::evidence_info).collect(),
            events: store.block_events(height).map_err(internal)?,
            header: block.header,
            last_commit: block.last_commit,
        })
    }

    async fn get_tx(&self, hash: Hash) -> RpcResult<Option<TxInfo>> {
        tx_info(&self.0, hash)
    }

    async fn get_account(&self, address: Address, prove: Option<bool>, height: Option<u64>) -> RpcResult<AccountInfo> {
        let prove = prove.unwrap_or(false);
        let tip = self.chain.tip();
        let height = match height {
            Some(h) => past_height(&self.0, h)?,
            None => tip.height,
        };
        let store = self.chain.store();
        if !prove && height == tip.height {
            let a = read_account(store, &address).map_err(internal)?;
            return Ok(AccountInfo {
                address,
                balance: a.balance,
                nonce: a.nonce,
                pending_nonce: Some(self.chain.pending_nonce(&address, a.nonce)),
                height,
                state_root: tip.state_root,
                exists: None,
                proof: None,
            });
        }
        let root = ledger::state::root_at(store, height)
            .map_err(|_| height_unavailable(format!("the state at height {height} is not available")))?;
        let (acct, proof) = prove_account(store, &address, height).map_err(internal)?;
        let a = acct.unwrap_or_default();
        let proof = if prove { Some(hex::encode(borsh::to_vec(&proof).map_err(internal)?)) } else { None };
        Ok(AccountInfo {
            address,
            balance: a.balance,
            nonce: a.nonce,
            pending_nonce: None,
            height,
            state_root: root,
            exists: Some(acct.is_some()),
            proof,
        })
    }

    async fn send_tx(&self, tx_hex: String) -> RpcResult<Submitted> {
        Ok(Submitted { hash: self.submit(&tx_hex).await? })
    }

    async fn send_txs(&self, txs_hex: Vec<String>) -> RpcResult<Vec<SendVerdict>> {
        if txs_hex.len() > self.max_batch {
            return Err(err(
                codes::INVALID_PARAMS,
                format!("{} transactions in one call; at most {} (rpc.max_batch)", txs_hex.len(), self.max_batch),
            ));
        }
        // Every submission is queued before any verdict is awaited, in the
        // order given (the queue is first come, first served), so the
        // admission thread takes them as one signature batch and admits
        // them in that order.
        let verdicts = futures::future::join_all(txs_hex.iter().map(|h| self.submit(h))).await;
        Ok(verdicts
            .into_iter()
            .map(|v| match v {
                Ok(hash) => SendVerdict { hash: Some(hash), error: None },
                Err(e) => SendVerdict {
                    hash: None,
                    error: Some(VerdictError {
                        code: e.code(),
                        message: e.message().to_owned(),
                        data: e.data().and_then(|d| serde_json::from_str(d.get()).ok()),
                    }),
                },
            })
            .collect())
    }

    async fn send_tx_commit(&self, tx_hex: String, timeout_ms: Option<u64>) -> RpcResult<Committed> {
        let ctx = &self.0;
        let bytes = tx_bytes(&tx_hex)?;
        let timeout = Duration::from_millis(timeout_ms.unwrap_or(30_000)).min(ctx.max_commit_wait);
        // Decode just enough to learn the hash, so the watcher is in place before
        // the transaction can possibly be committed.
        let hash = SignedTx::decode(&bytes).map_err(|e| invalid_tx(&e))?.hash();
        let rx = ctx.chain.watch_tx(hash).map_err(|e| match e {
            crate::chain::ChainError::Unavailable(m) => err(codes::BUSY, m),
            e => internal(e),
        })?;
        let (verdict, bytes) = ctx.admission.submit(bytes).await;
        match verdict.map(|_| bytes) {
            Ok(bytes) => {
                if let Some(net) = &ctx.net {
                    net.gossip_tx(bytes);
                }
            }
            Err(e) => {
                ctx.chain.prune_watchers(&hash);
                return Err(mempool_err(e));
            }
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(c)) => Ok(committed(&hash, &c)),
            Ok(Err(_)) => Err(err(codes::SHUTTING_DOWN, "node is shutting down")),
            Err(_) => {
                ctx.chain.prune_watchers(&hash);
                Err(ErrorObjectOwned::owned(
                    codes::TIMEOUT,
                    format!(
                        "transaction {hash} was admitted but not committed within {} ms; it may still commit",
                        timeout.as_millis()
                    ),
                    Some(json!({ "hash": hash })),
                ))
            }
        }
    }

    async fn network_info(&self) -> RpcResult<NetworkInfo> {
        Ok(match &self.net {
            Some(net) => net.info(),
            None => NetworkInfo { node_id: None, listen_addrs: Vec::new(), peers: Vec::new(), num_peers: 0 },
        })
    }
}

/// Every typed area of the API, implemented by [`Api`].
pub fn typed_modules(ctx: Arc<RpcContext>) -> Result<RpcModule<()>, jsonrpsee::core::RegisterMethodError> {
    use rpc_api::api::{ContractsApiServer, IndexApiServer, StakingApiServer};
    let api = Api(ctx);
    let mut m = RpcModule::new(());
    m.merge(ChainApiServer::into_rpc(api.clone()))?;
    m.merge(StakingApiServer::into_rpc(api.clone()))?;
    m.merge(IndexApiServer::into_rpc(api.clone()))?;
    m.merge(ContractsApiServer::into_rpc(api))?;
    Ok(m)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    pub(crate) fn ctx(dir: &std::path::Path, slots: usize) -> Arc<RpcContext> {
        let (user, val) = (ledger::SigningKey::from_bytes(&[1; 32]), ledger::SigningKey::from_bytes(&[2; 32]));
        ctx_for(Arc::new(crate::testing::chain_on(dir, "rpc-test", &user, &val)), slots)
    }

    /// An RPC context over `chain` with no network, no consensus and
    /// `slots` query slots (for unit tests of the RPC modules).
    pub(crate) fn ctx_for(chain: Arc<crate::chain::Chain>, slots: usize) -> Arc<RpcContext> {
        Arc::new(RpcContext {
            chain: chain.clone(),
            validator: None,
            moniker: "t".into(),
            block_interval: Duration::from_millis(100),
            max_commit_wait: Duration::from_millis(10),
            net: None,
            consensus: None,
            query_slots: Arc::new(tokio::sync::Semaphore::new(slots)),
            admission: crate::admission::Admission::start(chain.clone()),
            max_batch: 100,
        })
    }

    #[tokio::test]
    async fn dry_runs_wait_for_a_contract_slot_then_get_busy() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path(), 1);
        let m = crate::rpc_server::api(ctx.clone(), &crate::config::RpcConfig::default()).unwrap();
        let user = ledger::SigningKey::from_bytes(&[1; 32]);
        let tx = hex::encode(crate::testing::transfer(&user, 0, "rpc-test"));
        let req = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"agora_estimateGas","params":["{tx}"]}}"#);
        // A free slot: the dry run runs.
        let (resp, _) = m.raw_json_request(&req, 1).await.unwrap();
        assert!(resp.get().contains("\"status\":\"success\""), "{}", resp.get());
        // Every slot taken: the request waits, then is refused, not queued forever.
        let held = ctx.query_slots.clone().acquire_owned().await.unwrap();
        let started = std::time::Instant::now();
        let (resp, _) = m.raw_json_request(&req, 1).await.unwrap();
        assert!(resp.get().contains(&format!("{}", codes::BUSY)), "{}", resp.get());
        assert!(started.elapsed() >= crate::rpc_contracts::VM_SLOT_WAIT);
        drop(held);
        let (resp, _) = m.raw_json_request(&req, 1).await.unwrap();
        assert!(resp.get().contains("\"status\":\"success\""), "{}", resp.get());
    }
}
