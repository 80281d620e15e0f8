//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee). The method list
//! and error codes are documented in `docs/rpc.md`.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::server::RpcModule;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use ledger::state::{prove_account, read_account};
use ledger::{Address, Hash, Height, InvalidTx, PublicKey, SignedTx};
use serde_json::{Value, json};

use crate::chain::{Chain, TxCommitted};
use crate::mempool::MempoolError;

/// Agora's RPC error codes (docs/rpc.md), shared with the clients.
pub use rpc_api::codes;

type RpcResult = Result<Value, ErrorObjectOwned>;

pub(crate) fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    tracing::error!(error = %e, "internal RPC error");
    err(codes::INTERNAL, format!("internal error: {e}"))
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
        MempoolError::PendingFees { .. } => err(codes::FEE, e.to_string()),
        MempoolError::Dropped(_) => err(codes::TX_INVALID, e.to_string()),
        MempoolError::State(s) => internal(s),
    }
}

/// Positional or named arguments.
pub(crate) struct Args(pub(crate) Value);

impl Args {
    pub(crate) fn of(p: &Params<'_>) -> Result<Args, ErrorObjectOwned> {
        let v: Option<Value> = p.parse().map_err(|e| err(codes::INVALID_PARAMS, e.message().to_owned()))?;
        Ok(Args(v.unwrap_or(Value::Null)))
    }

    pub(crate) fn raw(&self, idx: usize, name: &str) -> Option<&Value> {
        let v = match &self.0 {
            // `[{"name": …}]`: one object of named parameters in an array.
            // No method takes an object as its first positional parameter, so a
            // lone object is named parameters even when `name` is not among them.
            Value::Array(a) if a.len() == 1 && a[0].is_object() => a[0].get(name),
            Value::Array(a) => a.get(idx),
            Value::Object(o) => o.get(name),
            _ => None,
        };
        v.filter(|v| !v.is_null())
    }

    pub(crate) fn opt<T: serde::de::DeserializeOwned>(
        &self,
        idx: usize,
        name: &str,
    ) -> Result<Option<T>, ErrorObjectOwned> {
        self.raw(idx, name)
            .map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `{name}`: {e}")))
            })
            .transpose()
    }

    pub(crate) fn req<T: serde::de::DeserializeOwned>(&self, idx: usize, name: &str) -> Result<T, ErrorObjectOwned> {
        self.opt(idx, name)?.ok_or_else(|| err(codes::INVALID_PARAMS, format!("missing parameter `{name}`")))
    }

    pub(crate) fn tx_bytes(&self) -> Result<Vec<u8>, ErrorObjectOwned> {
        let s: String = self.req(0, "tx_hex")?;
        let s = s.strip_prefix("0x").unwrap_or(&s);
        hex::decode(s).map_err(|e| err(codes::TX_MALFORMED, format!("tx_hex is not valid hex: {e}")))
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
}

/// Contract queries running at once, per node.
pub const MAX_CONCURRENT_QUERIES: usize = 8;

pub(crate) fn committed_json(hash: &Hash, c: &TxCommitted) -> Value {
    json!({ "hash": hash, "height": c.height, "index": c.index, "block_hash": c.block_hash, "receipt": c.receipt })
}

fn status(ctx: &RpcContext) -> RpcResult {
    let tip = ctx.chain.tip();
    let cs = ctx.consensus.as_ref().map(|c| c.borrow().clone()).unwrap_or_default();
    Ok(json!({
        "chain_id": ctx.chain.chain_id(),
        "genesis_hash": ctx.chain.genesis_hash(),
        "node_version": env!("CARGO_PKG_VERSION"),
        "client": ctx.chain.client(),
        "moniker": ctx.moniker,
        "latest_height": tip.height,
        "latest_block_hash": tip.hash,
        "latest_state_root": tip.state_root,
        "latest_block_time_ms": tip.time_ms,
        "syncing": cs.syncing,
        "best_peer_height": cs.best_peer_height,
        "synced_blocks": cs.synced_blocks,
        "equivocations_seen": cs.equivocations,
        "consensus": { "height": cs.height, "round": cs.round, "step": cs.step },
        "validator": ctx.validator.filter(|k| {
            ctx.chain
                .validators_at(tip.height.next())
                .is_ok_and(|set| set.get(&consensus::ValidatorId(k.0)).is_some())
        }),
        "node_id": ctx.net.as_ref().map(|n| n.local_peer_id().to_string()),
        "peers": ctx.net.as_ref().map_or(0, |n| n.peer_count()),
        "total_txs": ctx.chain.total_txs(),
        "mempool_size": ctx.chain.mempool_size(),
    }))
}

fn chain_params(ctx: &RpcContext) -> RpcResult {
    Ok(json!({
        "chain_id": ctx.chain.chain_id(),
        "params": *ctx.chain.params(),
        "block_interval_ms": u64::try_from(ctx.block_interval.as_millis()).unwrap_or(u64::MAX),
    }))
}

fn get_block(ctx: &RpcContext, args: &Args) -> RpcResult {
    let store = ctx.chain.store();
    let height = match args.raw(0, "block") {
        None => ctx.chain.tip().height,
        Some(Value::String(s)) if s == "latest" => ctx.chain.tip().height,
        Some(Value::Number(n)) => Height(
            n.as_u64().ok_or_else(|| err(codes::INVALID_PARAMS, "parameter `block`: height must be a whole number"))?,
        ),
        Some(Value::String(s)) => {
            let h: Hash = s.parse().map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `block`: {e}")))?;
            store
                .height_of(&h)
                .map_err(internal)?
                .ok_or_else(|| err(codes::NOT_FOUND, format!("no block with hash {h}")))?
        }
        Some(_) => return Err(err(codes::INVALID_PARAMS, "parameter `block`: a height, a block hash or \"latest\"")),
    };
    if height == Height::GENESIS {
        return Err(err(codes::NOT_FOUND, "height 0 is the genesis state, not a block; the first block is height 1"));
    }
    let block = store.block(height).map_err(internal)?.ok_or_else(|| {
        err(codes::NOT_FOUND, format!("no block at height {height} (latest is {})", ctx.chain.tip().height))
    })?;
    let full = args.opt::<bool>(1, "full_txs")?.unwrap_or(true);
    let txs: Vec<Value> = if full {
        block.txs.iter().map(|t| json!({ "hash": t.hash(), "tx": t })).collect()
    } else {
        block.txs.iter().map(|t| json!(t.hash())).collect()
    };
    Ok(json!({
        "hash": block.hash(),
        "header": block.header,
        "num_txs": block.txs.len(),
        "txs": txs,
        "last_commit": block.last_commit,
        "evidence": block.evidence.iter().map(crate::rpc_staking::evidence_json).collect::<Vec<_>>(),
        "events": store.block_events(height).map_err(internal)?,
    }))
}

pub(crate) fn get_tx(ctx: &RpcContext, args: &Args) -> RpcResult {
    let hash: Hash = args
        .req::<String>(0, "hash")?
        .parse()
        .map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `hash`: {e}")))?;
    let store = ctx.chain.store();
    let Some(loc) = store.tx_location(&hash).map_err(internal)? else {
        return Ok(Value::Null);
    };
    let block = store.block(loc.height).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
    let receipts = store.receipts(loc.height).map_err(internal)?.ok_or_else(|| internal("receipts missing"))?;
    let i = loc.index as usize;
    let (Some(tx), Some(receipt)) = (block.txs.get(i), receipts.get(i)) else {
        return Err(internal("tx index points outside its block"));
    };
    Ok(
        json!({ "hash": hash, "height": loc.height, "index": i, "block_hash": block.hash(), "tx": tx, "receipt": receipt }),
    )
}

fn get_account(ctx: &RpcContext, args: &Args) -> RpcResult {
    let addr: Address = args
        .req::<String>(0, "address")?
        .parse()
        .map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `address`: {e}")))?;
    let prove = args.opt::<bool>(1, "prove")?.unwrap_or(false);
    let tip = ctx.chain.tip();
    let height = args.opt::<u64>(2, "height")?.map_or(tip.height, Height);
    if height > tip.height {
        return Err(err(codes::NOT_FOUND, format!("height {height} is above the latest height {}", tip.height)));
    }
    let store = ctx.chain.store();
    if !prove && height == tip.height {
        let a = read_account(store, &addr).map_err(internal)?;
        let pending_nonce = ctx.chain.pending_nonce(&addr, a.nonce);
        return Ok(json!({ "address": addr, "balance": a.balance, "nonce": a.nonce, "pending_nonce": pending_nonce,
                          "height": height, "state_root": tip.state_root }));
    }
    let root = ledger::state::root_at(store, height)
        .map_err(|_| err(codes::NOT_FOUND, format!("state at height {height} is not available")))?;
    let (acct, proof) = prove_account(store, &addr, height).map_err(internal)?;
    let a = acct.unwrap_or_default();
    let mut v = json!({ "address": addr, "balance": a.balance, "nonce": a.nonce, "height": height, "state_root": root, "exists": acct.is_some() });
    if prove {
        v["proof"] = json!(hex::encode(borsh::to_vec(&proof).map_err(internal)?));
    }
    Ok(v)
}

async fn send_tx_commit(ctx: Arc<RpcContext>, args: Args) -> RpcResult {
    let bytes = args.tx_bytes()?;
    let timeout_ms = args.opt::<u64>(1, "timeout_ms")?.unwrap_or(30_000);
    let timeout = Duration::from_millis(timeout_ms).min(ctx.max_commit_wait);
    // Decode just enough to learn the hash, so the watcher is in place before
    // the transaction can possibly be committed.
    let hash = SignedTx::decode(&bytes).map_err(|e| invalid_tx(&e))?.hash();
    let rx = ctx.chain.watch_tx(hash).map_err(internal)?;
    let chain = ctx.chain.clone();
    let admitted =
        tokio::task::spawn_blocking(move || chain.submit_tx(&bytes).map(|_| bytes)).await.map_err(internal)?;
    match admitted {
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
        Ok(Ok(c)) => Ok(committed_json(&hash, &c)),
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

/// Builds the RPC module with every method.
pub fn module(ctx: Arc<RpcContext>) -> Result<RpcModule<RpcContext>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::from_arc(ctx);
    m.register_method("agora_status", |_, c, _| status(c))?;
    m.register_method("agora_chainParams", |_, c, _| chain_params(c))?;
    m.register_method("agora_getBlock", |p, c, _| get_block(c, &Args::of(&p)?))?;
    m.register_method("agora_getTx", |p, c, _| get_tx(c, &Args::of(&p)?))?;
    m.register_method("agora_getAccount", |p, c, _| get_account(c, &Args::of(&p)?))?;
    m.register_async_method("agora_sendTx", |p, c, _| async move {
        let bytes = Args::of(&p)?.tx_bytes()?;
        let chain = c.chain.clone();
        let (h, bytes) = tokio::task::spawn_blocking(move || chain.submit_tx(&bytes).map(|h| (h, bytes)))
            .await
            .map_err(internal)?
            .map_err(mempool_err)?;
        if let Some(net) = &c.net {
            net.gossip_tx(bytes);
        }
        Ok::<Value, ErrorObjectOwned>(json!({ "hash": h }))
    })?;
    crate::rpc_staking::register(&mut m)?;
    crate::rpc_index::register(&mut m)?;
    m.register_async_method("agora_sendTxCommit", |p, c, _| async move { send_tx_commit(c, Args::of(&p)?).await })?;
    crate::rpc_contracts::register(&mut m)?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ctx(dir: &std::path::Path, slots: usize) -> Arc<RpcContext> {
        let (user, val) = (ledger::SigningKey::from_bytes(&[1; 32]), ledger::SigningKey::from_bytes(&[2; 32]));
        Arc::new(RpcContext {
            chain: Arc::new(crate::testing::chain_on(dir, "rpc-test", &user, &val)),
            validator: None,
            moniker: "t".into(),
            block_interval: Duration::from_millis(100),
            max_commit_wait: Duration::from_millis(10),
            net: None,
            consensus: None,
            query_slots: Arc::new(tokio::sync::Semaphore::new(slots)),
        })
    }

    #[test]
    fn a_lone_object_is_named_parameters() {
        let a = Args(json!([{ "height": 5 }]));
        assert_eq!(a.opt::<u64>(0, "epoch").unwrap(), None, "not the object itself as `epoch`");
        assert_eq!(a.opt::<u64>(1, "height").unwrap(), Some(5));
        let a = Args(json!({ "height": 5 }));
        assert_eq!(a.opt::<u64>(0, "epoch").unwrap(), None);
        let a = Args(json!([7, 5]));
        assert_eq!((a.opt::<u64>(0, "epoch").unwrap(), a.opt::<u64>(1, "height").unwrap()), (Some(7), Some(5)));
    }

    #[tokio::test]
    async fn dry_runs_wait_for_a_contract_slot_then_get_busy() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path(), 1);
        let m = module(ctx.clone()).unwrap();
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
