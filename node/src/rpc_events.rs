//! Events and subscriptions (`rpc_api::api::EventsApi`): past events by
//! height range (`agora_getEvents`), and the subscriptions to new blocks, a
//! transaction's status and events.
//!
//! Block and event subscriptions can start at a past height (`from_height`,
//! at most [`MAX_REPLAY`] below the tip): the node subscribes to the live
//! feed first, then reads the tip T, replays heights `from_height..=T` from
//! the store and drops live blocks up to T, so there is no gap and no
//! duplicate at the seam.
//!
//! Each subscription queues at most `rpc.subscription_buffer` notifications
//! (plus one block's worth when the queue is empty) for its subscriber. When
//! a block's notifications do not fit, or the subscriber fell behind the
//! chain's own feed, `rpc.slow_subscriber` decides: `notify` drops them and,
//! once there is room, sends `{missed, resume_from}` before going on; `close`
//! ends the subscription with an error naming the height to resume from.

use std::collections::VecDeque;
use std::sync::Arc;

use jsonrpsee::core::{RpcResult, SubscriptionResult, async_trait};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage, SubscriptionSink};
use ledger::{Address, Hash, Height};
use rpc_api::api::EventsApiServer;
use rpc_api::codes;
use rpc_api::types::{
    BlockNotice, EventNotice, EventNotification, EventsPage, Missed, NewBlock, PastEvent, TxState, TxStatusUpdate,
};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::config::SlowSubscriber;
use crate::rpc::RpcContext;
use crate::rpc_history::{err, internal};

/// Most blocks one `agora_getEvents` call scans.
pub const MAX_EVENT_SCAN_BLOCKS: u64 = 1000;
/// Most heights below the tip a subscription can replay from.
pub const MAX_REPLAY: u64 = 1000;

/// The events API the node serves.
#[derive(Debug)]
pub struct EventsRpc {
    ctx: Arc<RpcContext>,
    policy: SlowSubscriber,
    /// Notifications queued per subscription.
    buffer: usize,
}

impl EventsRpc {
    pub fn new(ctx: Arc<RpcContext>, policy: SlowSubscriber, buffer: usize) -> EventsRpc {
        EventsRpc { ctx, policy, buffer: buffer.max(1) }
    }

    /// The heights to replay for `from_height` (`None`: live only), checked
    /// against the tip read after subscribing.
    fn replay_range(&self, from_height: Option<u64>, tip: u64) -> Result<Option<(u64, u64)>, ErrorObjectOwned> {
        let Some(from) = from_height else { return Ok(None) };
        if from == 0 {
            return Err(err(codes::INVALID_PARAMS, "from_height: heights start at 1"));
        }
        if from > tip.saturating_add(1) {
            return Err(err(
                codes::HEIGHT_UNAVAILABLE,
                format!("from_height {from} is not committed yet (latest is {tip}); use at most {}", tip + 1),
            ));
        }
        if tip.saturating_sub(from) >= MAX_REPLAY {
            return Err(err(
                codes::INVALID_PARAMS,
                format!(
                    "from_height {from} is more than {MAX_REPLAY} heights below the latest height {tip}; \
                     read older heights with agora_searchEvents / agora_headers, then subscribe from a recent height"
                ),
            ));
        }
        Ok((from <= tip).then_some((from, tip)))
    }
}

fn event_matches(e: &ledger::Event, kind: Option<&str>, contract: Option<&str>) -> bool {
    kind.is_none_or(|k| k == e.kind)
        && contract.is_none_or(|c| e.attributes.iter().any(|(k, v)| k == "_contract" && v == c))
}

fn to_msg(v: &impl Serialize) -> Result<SubscriptionMessage, String> {
    serde_json::value::to_raw_value(v).map(SubscriptionMessage::from).map_err(|e| e.to_string())
}

/// The event notifications of a block, in the order the live feed sends
/// them: the block's own events first (zero tx hash, index u64 max), then
/// each transaction's.
fn block_event_notices(
    height: Height,
    block_hash: Hash,
    block_events: &[ledger::Event],
    txs: impl Iterator<Item = (Hash, usize, usize, ledger::Event)>,
    kind: Option<&str>,
    contract: Option<&str>,
) -> Result<Vec<SubscriptionMessage>, String> {
    let own = block_events.iter().enumerate().map(|(i, e)| (Hash::ZERO, usize::MAX, i, e.clone()));
    own.chain(txs)
        .filter(|(_, _, _, e)| event_matches(e, kind, contract))
        .map(|(tx_hash, index, ei, event)| {
            to_msg(&EventNotice::Event(EventNotification {
                height,
                block_hash,
                tx_hash,
                index: index as u64,
                event_index: u32::try_from(ei).unwrap_or(u32::MAX),
                event,
            }))
        })
        .collect()
}

/// How a feed turns blocks into notifications.
trait FeedSource: Send + Sync {
    type Live: Send + Sync + 'static;
    fn height(&self, b: &Self::Live) -> u64;
    fn live(&self, b: &Self::Live) -> Result<Vec<SubscriptionMessage>, String>;
    /// The notifications of a stored height (replay).
    fn stored(&self, h: u64) -> Result<Vec<SubscriptionMessage>, String>;
}

struct EventsFeed {
    ctx: Arc<RpcContext>,
    kind: Option<String>,
    contract: Option<String>,
}

impl FeedSource for EventsFeed {
    type Live = crate::chain::BlockEvents;
    fn height(&self, b: &Self::Live) -> u64 {
        b.height.0
    }
    fn live(&self, b: &Self::Live) -> Result<Vec<SubscriptionMessage>, String> {
        // Live events carry their position in the block: block events first
        // (index usize::MAX), then each receipt's, so event indexes restart per tx.
        let mut out = Vec::new();
        let mut last: Option<usize> = None;
        let mut ei = 0usize;
        for (tx_hash, index, e) in &b.events {
            if last != Some(*index) {
                last = Some(*index);
                ei = 0;
            }
            if event_matches(e, self.kind.as_deref(), self.contract.as_deref()) {
                out.push(to_msg(&EventNotice::Event(EventNotification {
                    height: b.height,
                    block_hash: b.block_hash,
                    tx_hash: *tx_hash,
                    index: *index as u64,
                    event_index: u32::try_from(ei).unwrap_or(u32::MAX),
                    event: e.clone(),
                }))?);
            }
            ei += 1;
        }
        Ok(out)
    }
    fn stored(&self, h: u64) -> Result<Vec<SubscriptionMessage>, String> {
        let store = self.ctx.chain.store();
        let block = store.block(Height(h)).map_err(|e| e.to_string())?.ok_or(format!("block {h} missing"))?;
        let receipts = store.receipts(Height(h)).map_err(|e| e.to_string())?.unwrap_or_default();
        let own = store.block_events(Height(h)).map_err(|e| e.to_string())?;
        let txs = receipts
            .into_iter()
            .enumerate()
            .flat_map(|(i, r)| r.events.into_iter().enumerate().map(move |(ei, e)| (r.tx_hash, i, ei, e)));
        block_event_notices(Height(h), block.hash(), &own, txs, self.kind.as_deref(), self.contract.as_deref())
    }
}

struct BlocksFeed {
    ctx: Arc<RpcContext>,
}

impl FeedSource for BlocksFeed {
    type Live = crate::chain::CommittedBlock;
    fn height(&self, b: &Self::Live) -> u64 {
        b.height.0
    }
    fn live(&self, b: &Self::Live) -> Result<Vec<SubscriptionMessage>, String> {
        Ok(vec![to_msg(&BlockNotice::Block(NewBlock {
            height: b.height,
            hash: b.hash,
            state_root: b.state_root,
            time_ms: b.time_ms,
            num_txs: b.num_txs as u64,
            gas_used: b.gas_used,
        }))?])
    }
    fn stored(&self, h: u64) -> Result<Vec<SubscriptionMessage>, String> {
        let store = self.ctx.chain.store();
        let block = store.block(Height(h)).map_err(|e| e.to_string())?.ok_or(format!("block {h} missing"))?;
        let receipts = store.receipts(Height(h)).map_err(|e| e.to_string())?.unwrap_or_default();
        Ok(vec![to_msg(&BlockNotice::Block(NewBlock {
            height: Height(h),
            hash: block.hash(),
            state_root: block.header.state_root,
            time_ms: block.header.time_ms,
            num_txs: block.txs.len() as u64,
            gas_used: receipts.iter().map(|r| r.gas_used).sum(),
        }))?])
    }
}

/// Runs one subscription: replay, then live, through a bounded queue.
async fn run_feed<F: FeedSource>(
    sink: SubscriptionSink,
    mut rx: broadcast::Receiver<Arc<F::Live>>,
    src: F,
    replay: Option<(u64, u64)>,
    first_live: u64,
    policy: SlowSubscriber,
    cap: usize,
) -> SubscriptionResult {
    let mut queue: VecDeque<SubscriptionMessage> = VecDeque::new();
    let (mut replay_next, replay_end) = replay.unwrap_or((1, 0));
    // The next live height expected; lower ones were replayed (or predate the subscription).
    let mut next = first_live;
    let mut lag: Option<Missed> = None;
    loop {
        if let Some(m) = &lag
            && queue.len() < cap
        {
            queue.push_back(to_msg(&m)?);
            lag = None;
        }
        let replaying = replay_next <= replay_end;
        let front = queue.front().cloned();
        let has_front = front.is_some();
        tokio::select! {
            biased;
            _ = sink.closed() => return Ok(()),
            r = async { match front { Some(m) => sink.send(m).await, None => std::future::pending().await } }, if has_front => {
                if r.is_err() {
                    return Ok(());
                }
                queue.pop_front();
            }
            _ = std::future::ready(()), if replaying && queue.len() < cap => {
                // One stored block (a few reads): small enough to read inline.
                queue.extend(src.stored(replay_next)?);
                replay_next += 1;
            }
            r = rx.recv(), if !replaying => match r {
                Ok(b) => {
                    let h = src.height(&b);
                    if h < next {
                        continue; // replayed already, or from before the subscription
                    }
                    next = h + 1;
                    let msgs = src.live(&b)?;
                    if msgs.is_empty() {
                        continue;
                    }
                    if let Some(m) = &mut lag {
                        m.missed += 1;
                        continue;
                    }
                    if queue.len() + msgs.len() > cap {
                        match policy {
                            SlowSubscriber::Close => {
                                return Err(format!(
                                    "subscriber too slow: the notifications of height {h} did not fit its buffer of {cap}; \
                                     resubscribe with from_height {h}"
                                ).into());
                            }
                            SlowSubscriber::Notify => lag = Some(Missed { missed: 1, resume_from: Height(h) }),
                        }
                    } else {
                        queue.extend(msgs);
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    match policy {
                        SlowSubscriber::Close => {
                            return Err(format!(
                                "subscriber too slow: {n} blocks from height {next} were missed; resubscribe with from_height {next}"
                            ).into());
                        }
                        SlowSubscriber::Notify => match &mut lag {
                            Some(m) => m.missed += n,
                            None => lag = Some(Missed { missed: n, resume_from: Height(next) }),
                        },
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}

/// Prunes a transaction's closed watchers when dropped.
struct PruneWatchers(Arc<crate::chain::Chain>, Hash);

impl Drop for PruneWatchers {
    fn drop(&mut self) {
        self.0.prune_watchers(&self.1);
    }
}

/// Most rows (receipts and events) an `agora_getEvents` call reads: once
/// past it, the page ends before the next block (at least one block is read).
pub const MAX_EVENT_SCAN_ROWS: usize = 10_000;

/// `agora_getEvents`' scan of heights `from..=to`: at most
/// [`MAX_EVENT_SCAN_BLOCKS`] blocks and, at block boundaries, `budget` rows
/// read; returns the events and the height to continue from.
fn past_events(
    ctx: &RpcContext,
    (from, to): (u64, u64),
    kind: Option<&str>,
    contract: Option<Address>,
    limit: usize,
    budget: usize,
) -> Result<(Vec<PastEvent>, Option<u64>), ErrorObjectOwned> {
    let last = to.min(from + MAX_EVENT_SCAN_BLOCKS - 1);
    let contract = contract.map(|a| a.to_string());
    let mut out = Vec::new();
    let mut next = None;
    let mut read = 0usize;
    // Pages end at block boundaries (a block's events are never split), so
    // `next_from_height` can be passed back as is.
    for h in from..=last {
        if h > from && read >= budget {
            next = Some(h);
            break;
        }
        let receipts = ctx.chain.store().receipts(Height(h)).map_err(internal)?.unwrap_or_default();
        read = read.saturating_add(receipts.iter().map(|r| 1 + r.events.len()).sum::<usize>());
        let block: Vec<PastEvent> = receipts
            .iter()
            .enumerate()
            .flat_map(|(index, r)| r.events.iter().map(move |e| (index, r, e)))
            .filter(|(_, _, e)| event_matches(e, kind, contract.as_deref()))
            .map(|(index, r, e)| PastEvent {
                height: Height(h),
                tx_hash: r.tx_hash,
                index: index as u64,
                event: e.clone(),
            })
            .collect();
        if !out.is_empty() && out.len() + block.len() > limit {
            next = Some(h);
            break;
        }
        out.extend(block);
    }
    // Where to continue: the block that did not fit, or the first unscanned one.
    let next = next.or((last < to).then_some(last + 1));
    Ok((out, next))
}

#[async_trait]
impl EventsApiServer for EventsRpc {
    fn get_events(
        &self,
        from_height: u64,
        to_height: Option<u64>,
        kind: Option<String>,
        contract: Option<Address>,
        limit: Option<u64>,
    ) -> RpcResult<EventsPage> {
        let ctx = &self.ctx;
        let tip = ctx.chain.tip().height.get();
        let from = from_height;
        let to = to_height.unwrap_or(tip).min(tip);
        let limit = usize::try_from(limit.unwrap_or(100).clamp(1, 1000)).unwrap_or(1000);
        if from == 0 || from > to.max(1) {
            return Err(err(codes::INVALID_PARAMS, format!("from_height must be in 1..={to}")));
        }
        let (events, next_from_height) =
            past_events(ctx, (from, to), kind.as_deref(), contract, limit, MAX_EVENT_SCAN_ROWS)?;
        Ok(EventsPage { events, next_from_height })
    }

    async fn subscribe_new_blocks(
        &self,
        pending: PendingSubscriptionSink,
        from_height: Option<u64>,
    ) -> SubscriptionResult {
        let rx = self.ctx.chain.subscribe_blocks();
        let tip = self.ctx.chain.tip().height.get();
        let replay = match self.replay_range(from_height, tip) {
            Ok(r) => r,
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        let sink = pending.accept().await?;
        let src = BlocksFeed { ctx: self.ctx.clone() };
        run_feed(sink, rx, src, replay, tip + 1, self.policy, self.buffer).await
    }

    async fn subscribe_tx_status(&self, pending: PendingSubscriptionSink, hash: Hash) -> SubscriptionResult {
        let ctx = &self.ctx;
        // Declared before `rx`, so dropped after it: whatever way this
        // returns, this subscription's watcher is gone and then pruned.
        let _prune = PruneWatchers(ctx.chain.clone(), hash);
        let rx = ctx.chain.watch_tx(hash).map_err(|e| e.to_string())?;
        let sink = pending.accept().await?;
        if let Some(loc) = ctx.chain.store().tx_location(&hash).map_err(|e| e.to_string())? {
            ctx.chain.prune_watchers(&hash);
            let store = ctx.chain.store();
            let block = store.block(loc.height).map_err(|e| e.to_string())?.ok_or("indexed block missing")?;
            let receipt = store
                .receipts(loc.height)
                .map_err(|e| e.to_string())?
                .and_then(|r| r.into_iter().nth(loc.index as usize))
                .ok_or("indexed receipt missing")?;
            let v = TxStatusUpdate {
                hash,
                status: TxState::Committed,
                height: Some(loc.height),
                index: Some(u64::from(loc.index)),
                block_hash: Some(block.hash()),
                receipt: Some(receipt),
            };
            sink.send(to_msg(&v)?).await.map_err(|e| e.to_string())?;
            return Ok(());
        }
        let pending_v = TxStatusUpdate {
            hash,
            status: TxState::Pending,
            height: None,
            index: None,
            block_hash: None,
            receipt: None,
        };
        sink.send(to_msg(&pending_v)?).await.map_err(|e| e.to_string())?;
        tokio::select! {
            _ = sink.closed() => { ctx.chain.prune_watchers(&hash); Ok(()) }
            r = rx => match r {
                Ok(c) => {
                    let v = TxStatusUpdate {
                        hash,
                        status: TxState::Committed,
                        height: Some(c.height),
                        index: Some(c.index as u64),
                        block_hash: Some(c.block_hash),
                        receipt: Some(c.receipt),
                    };
                    sink.send(to_msg(&v)?).await.map_err(|e| e.to_string())?;
                    Ok(())
                }
                Err(_) => Ok(()),
            }
        }
    }

    async fn subscribe_events(
        &self,
        pending: PendingSubscriptionSink,
        kind: Option<String>,
        contract: Option<Address>,
        from_height: Option<u64>,
    ) -> SubscriptionResult {
        let rx = self.ctx.chain.subscribe_events();
        let tip = self.ctx.chain.tip().height.get();
        let replay = match self.replay_range(from_height, tip) {
            Ok(r) => r,
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        let sink = pending.accept().await?;
        let src = EventsFeed { ctx: self.ctx.clone(), kind, contract: contract.map(|a| a.to_string()) };
        run_feed(sink, rx, src, replay, tip + 1, self.policy, self.buffer).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::time::Duration;

    use jsonrpsee::RpcModule;
    use ledger::{PublicKey, SigningKey};
    use serde_json::{Value, json};

    use super::*;
    use crate::chain::Chain;

    const CHAIN: &str = "events-test";

    fn val() -> SigningKey {
        SigningKey::from_bytes(&[2; 32])
    }

    fn ctx(dir: &std::path::Path) -> Arc<RpcContext> {
        let user = SigningKey::from_bytes(&[1; 32]);
        crate::rpc::tests::ctx_for(Arc::new(crate::testing::chain_on(dir, CHAIN, &user, &val())), 1)
    }

    fn produce(chain: &Chain) -> u64 {
        let v = val();
        let ex = chain.build_block(PublicKey::from_signing_key(&v), 0, None).unwrap();
        let h = ex.block.header.height;
        let commit = crate::testing::certificate(CHAIN, &v, h.0, ex.block.hash());
        chain.commit(ex, &commit).unwrap();
        h.0
    }

    /// `agora_getEvents` stops at a block boundary once it has read its row
    /// budget, and resumes from `next_from_height` without gap or duplicate.
    #[test]
    fn get_events_stops_on_its_row_budget_at_a_block_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        let user = SigningKey::from_bytes(&[1; 32]);
        for b in 0..3u64 {
            for n in 0..2 {
                ctx.chain.submit_tx(&crate::testing::transfer(&user, b * 2 + n, CHAIN)).unwrap();
            }
            produce(&ctx.chain);
        }
        let (all, next) = past_events(&ctx, (1, 3), None, None, 1000, usize::MAX).unwrap();
        assert_eq!(next, None);
        assert_eq!(all.len(), 12, "a fee and a transfer event a transaction");
        // 2 receipts and 4 events a block: past a budget of 5 rows, one block a call.
        let (mut got, mut from, mut calls) = (Vec::new(), 1, 0);
        loop {
            let (page, next) = past_events(&ctx, (from, 3), None, None, 1000, 5).unwrap();
            assert!(page.iter().all(|e| e.height.0 == from), "one block a call");
            calls += 1;
            got.extend(page);
            match next {
                Some(h) => from = h,
                None => break,
            }
            assert!(calls < 10, "the scan must end");
        }
        assert_eq!(calls, 3);
        assert_eq!(serde_json::to_value(&got).unwrap(), serde_json::to_value(&all).unwrap());
    }

    fn module(ctx: &Arc<RpcContext>, policy: SlowSubscriber, buffer: usize) -> RpcModule<EventsRpc> {
        EventsRpc::new(ctx.clone(), policy, buffer).into_rpc()
    }

    async fn next(sub: &mut jsonrpsee::core::server::Subscription) -> Option<Value> {
        tokio::time::timeout(Duration::from_secs(10), sub.next::<Value>())
            .await
            .expect("a notification in time")
            .map(|r| r.expect("a notification").0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resuming_from_a_past_height_has_no_gap_and_no_duplicate_at_the_seam() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        for _ in 0..20 {
            produce(&ctx.chain);
        }
        let m = module(&ctx, SlowSubscriber::Notify, 64);
        // Blocks keep coming while the subscription replays and switches to live.
        let chain = ctx.chain.clone();
        let writer = std::thread::spawn(move || {
            for _ in 0..30 {
                produce(&chain);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let mut sub = m.subscribe("agora_subscribeNewBlocks", vec![json!(5)], 1000).await.unwrap();
        let mut heights = Vec::new();
        while heights.len() < 45 {
            let n = next(&mut sub).await.unwrap();
            assert!(n.get("missed").is_none(), "nothing is missed by a subscriber that reads: {n}");
            heights.push(n["height"].as_u64().unwrap());
        }
        writer.join().unwrap();
        assert_eq!(heights, (5..50).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replay_is_bounded_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        for _ in 0..(MAX_REPLAY + 5) {
            produce(&ctx.chain);
        }
        let tip = ctx.chain.tip().height.0;
        let m = module(&ctx, SlowSubscriber::Notify, 64);
        for (from, code) in [
            (0, codes::INVALID_PARAMS),
            (tip - MAX_REPLAY, codes::INVALID_PARAMS),
            (tip + 2, codes::HEIGHT_UNAVAILABLE),
        ] {
            for method in ["agora_subscribeNewBlocks", "agora_subscribeEvents"] {
                let params = if method == "agora_subscribeEvents" {
                    vec![json!(null), json!(null), json!(from)]
                } else {
                    vec![json!(from)]
                };
                match m.subscribe(method, params, 10).await.unwrap_err() {
                    jsonrpsee::core::server::MethodsError::JsonRpc(e) => {
                        assert_eq!(e.code(), code, "{method} from {from}: {e}")
                    }
                    other => panic!("{method} from {from}: {other}"),
                }
            }
        }
        // The oldest allowed height replays MAX_REPLAY blocks; the next one is live.
        let mut sub = m.subscribe("agora_subscribeNewBlocks", vec![json!(tip - MAX_REPLAY + 1)], 2000).await.unwrap();
        for h in (tip - MAX_REPLAY + 1)..=tip {
            assert_eq!(next(&mut sub).await.unwrap()["height"], h);
        }
        let chain = ctx.chain.clone();
        let h = tokio::task::spawn_blocking(move || produce(&chain)).await.unwrap();
        assert_eq!(next(&mut sub).await.unwrap()["height"], h);
        // Events replay the stored blocks' events in the live order: block events first.
        let mut ev = m.subscribe("agora_subscribeEvents", vec![json!(null), json!(null), json!(h)], 100).await.unwrap();
        let first = next(&mut ev).await.unwrap();
        assert_eq!(first["height"], h);
        assert_eq!(first["tx_hash"], Hash::ZERO.to_string(), "{first}");
    }

    /// A subscriber that does not read: its queue fills, then `notify` drops
    /// blocks and says which, and `close` ends the subscription.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_subscriber_is_told_what_it_missed_or_closed() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        produce(&ctx.chain);
        let buffer = 4;
        let notify = module(&ctx, SlowSubscriber::Notify, buffer);
        let close = module(&ctx, SlowSubscriber::Close, buffer);
        // A channel of 1 to the subscriber: it holds one notification, the
        // subscription's own queue `buffer` more.
        let mut n_sub = notify.subscribe("agora_subscribeNewBlocks", Vec::<Value>::new(), 1).await.unwrap();
        let mut c_sub = close.subscribe("agora_subscribeNewBlocks", Vec::<Value>::new(), 1).await.unwrap();
        let chain = ctx.chain.clone();
        let produced: Vec<u64> =
            tokio::task::spawn_blocking(move || (0..20).map(|_| produce(&chain)).collect()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;

        // notify: the blocks that fitted, then {missed, resume_from}, then live again.
        let mut got = Vec::new();
        let missed = loop {
            let n = next(&mut n_sub).await.unwrap();
            if n.get("missed").is_some() {
                break n;
            }
            got.push(n["height"].as_u64().unwrap());
        };
        assert_eq!(got, produced[..got.len()].to_vec(), "what was delivered is in order, without gap");
        assert!(got.len() <= buffer + 2, "at most the channel, the queue and one block: {got:?}");
        let resume_from = missed["resume_from"].as_u64().unwrap();
        assert_eq!(resume_from, got.last().unwrap() + 1, "{missed}");
        assert_eq!(missed["missed"].as_u64().unwrap(), produced.last().unwrap() + 1 - resume_from, "{missed}");
        let chain = ctx.chain.clone();
        let h = tokio::task::spawn_blocking(move || produce(&chain)).await.unwrap();
        assert_eq!(next(&mut n_sub).await.unwrap()["height"], h, "the subscription goes on");

        // close: what was in the channel, then the end.
        let mut delivered = 0;
        while let Some(n) = next(&mut c_sub).await {
            assert!(n.get("missed").is_none());
            delivered += 1;
            assert!(delivered <= buffer + 2);
        }
        assert!(delivered >= 1);
    }
}
