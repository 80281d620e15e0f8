//! Events and subscriptions: past events by height range (`agora_getEvents`),
//! and the live subscriptions (new blocks, a transaction's status, events).

use std::sync::Arc;

use jsonrpsee::core::SubscriptionError;
use jsonrpsee::types::Params;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use ledger::{Address, Hash, Height};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::rpc::{Args, RpcContext, codes, committed_json, err, get_tx, internal};

type RpcResult = Result<Value, jsonrpsee::types::ErrorObjectOwned>;

const MAX_EVENT_SCAN_BLOCKS: u64 = 1000;

fn event_matches(e: &ledger::Event, kind: Option<&str>, contract: Option<&str>) -> bool {
    kind.is_none_or(|k| k == e.kind)
        && contract.is_none_or(|c| e.attributes.iter().any(|(k, v)| k == "_contract" && v == c))
}

fn get_events(ctx: &RpcContext, args: &Args) -> RpcResult {
    let tip = ctx.chain.tip().height.get();
    let from: u64 = args.req(0, "from_height")?;
    let to: u64 = args.opt(1, "to_height")?.unwrap_or(tip).min(tip);
    let kind: Option<String> = args.opt(2, "kind")?;
    let contract: Option<Address> = args.opt(3, "contract")?;
    let limit = args.opt::<usize>(4, "limit")?.unwrap_or(100).clamp(1, 1000);
    if from == 0 || from > to.max(1) {
        return Err(err(codes::INVALID_PARAMS, format!("from_height must be in 1..={to}")));
    }
    let last = to.min(from + MAX_EVENT_SCAN_BLOCKS - 1);
    let contract = contract.map(|a| a.to_string());
    let mut out = Vec::new();
    let mut next = None;
    // Pages end at block boundaries (a block's events are never split), so
    // `next_from_height` can be passed back as is.
    for h in from..=last {
        let receipts = ctx.chain.store().receipts(Height(h)).map_err(internal)?.unwrap_or_default();
        let block: Vec<Value> = receipts
            .iter()
            .enumerate()
            .flat_map(|(index, r)| r.events.iter().map(move |e| (index, r, e)))
            .filter(|(_, _, e)| event_matches(e, kind.as_deref(), contract.as_deref()))
            .map(|(index, r, e)| json!({ "height": h, "tx_hash": r.tx_hash, "index": index, "event": e }))
            .collect();
        if !out.is_empty() && out.len() + block.len() > limit {
            next = Some(h);
            break;
        }
        out.extend(block);
    }
    // Where to continue: the block that did not fit, or the first unscanned one.
    let next = next.or((last < to).then_some(last + 1));
    Ok(json!({ "events": out, "next_from_height": next }))
}

async fn sub_events(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    ctx: Arc<RpcContext>,
) -> Result<(), String> {
    let parsed = Args::of(&params).and_then(|a| {
        let kind = a.opt::<String>(0, "kind")?;
        let contract = a.opt::<Address>(1, "contract")?;
        Ok((kind, contract))
    });
    let (kind, contract) = match parsed {
        Ok(x) => x,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    let mut rx = ctx.chain.subscribe_events();
    let sink = pending.accept().await.map_err(|e| e.to_string())?;
    let contract = contract.map(|a| a.to_string());
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            r = rx.recv() => match r {
                Ok(b) => {
                    for (tx_hash, index, e) in &b.events {
                        if !event_matches(e, kind.as_deref(), contract.as_deref()) {
                            continue;
                        }
                        let v = json!({ "height": b.height, "block_hash": b.block_hash, "tx_hash": tx_hash,
                                        "index": index, "event": e });
                        if sink.send(to_msg(&v).map_err(|e| e.to_string())?).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::debug!(skipped = n, "slow event subscriber"),
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}

fn to_msg(v: &Value) -> Result<SubscriptionMessage, serde_json::Error> {
    serde_json::value::to_raw_value(v).map(SubscriptionMessage::from)
}

async fn sub_blocks(pending: PendingSubscriptionSink, ctx: Arc<RpcContext>) -> Result<(), String> {
    let mut rx = ctx.chain.subscribe_blocks();
    let sink = pending.accept().await.map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            r = rx.recv() => match r {
                Ok(b) => {
                    let v = json!({ "height": b.height, "hash": b.hash, "state_root": b.state_root,
                                    "time_ms": b.time_ms, "num_txs": b.num_txs, "gas_used": b.gas_used });
                    if sink.send(to_msg(&v).map_err(|e| e.to_string())?).await.is_err() {
                        return Ok(());
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::debug!(skipped = n, "slow block subscriber"),
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}

async fn sub_tx(params: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<RpcContext>) -> Result<(), String> {
    let parsed = Args::of(&params)
        .and_then(|a| a.req::<String>(0, "hash"))
        .and_then(|s| s.parse::<Hash>().map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `hash`: {e}"))));
    let hash = match parsed {
        Ok(h) => h,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    let rx = ctx.chain.watch_tx(hash).map_err(|e| e.to_string())?;
    let sink = pending.accept().await.map_err(|e| e.to_string())?;
    let send = |v: Value| {
        let sink = sink.clone();
        async move {
            let m = to_msg(&v).map_err(|e| e.to_string())?;
            sink.send(m).await.map_err(|e| e.to_string())
        }
    };
    if let Ok(Some(_)) = ctx.chain.store().tx_location(&hash) {
        ctx.chain.prune_watchers(&hash);
        let args = Args(json!([hash]));
        let v = get_tx(&ctx, &args).map_err(|e| e.message().to_owned())?;
        return send(json!({ "hash": hash, "status": "committed", "height": v["height"], "block_hash": v["block_hash"], "receipt": v["receipt"] })).await;
    }
    send(json!({ "hash": hash, "status": "pending" })).await?;
    tokio::select! {
        _ = sink.closed() => { ctx.chain.prune_watchers(&hash); Ok(()) }
        r = rx => match r {
            Ok(c) => {
                let mut v = committed_json(&hash, &c);
                v["status"] = json!("committed");
                send(v).await
            }
            Err(_) => Ok(()),
        }
    }
}

pub(crate) fn register(m: &mut RpcModule<RpcContext>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("agora_getEvents", |p, c, _| get_events(c, &Args::of(&p)?))?;
    m.register_subscription(
        "agora_subscribeNewBlocks",
        "agora_newBlock",
        "agora_unsubscribeNewBlocks",
        |_, pending, c, _| async move { sub_blocks(pending, c).await.map_err(SubscriptionError::from) },
    )?;
    m.register_subscription(
        "agora_subscribeTxStatus",
        "agora_txStatus",
        "agora_unsubscribeTxStatus",
        |p, pending, c, _| async move { sub_tx(p, pending, c).await.map_err(SubscriptionError::from) },
    )?;
    m.register_subscription(
        "agora_subscribeEvents",
        "agora_event",
        "agora_unsubscribeEvents",
        |p, pending, c, _| async move { sub_events(p, pending, c).await.map_err(SubscriptionError::from) },
    )?;
    Ok(())
}
