//! Commit notifications: block and event subscribers, and callers waiting
//! for one transaction's commit.

use std::sync::Arc;

use ledger::{Block, BlockOutcome, Hash, Height, Receipt};
use tokio::sync::{broadcast, oneshot};

use super::{Chain, ChainError};

/// Most callers waiting for one transaction's commit (`agora_sendTxCommit`,
/// `agora_subscribeTxStatus`): the commit clones its receipt for each.
pub const MAX_WATCHERS_PER_TX: usize = 64;

/// What subscribers learn when a block is committed.
#[derive(Clone, Debug)]
pub struct CommittedBlock {
    pub height: Height,
    pub hash: Hash,
    pub state_root: Hash,
    pub time_ms: u64,
    pub num_txs: usize,
    pub gas_used: u64,
}

/// The events of one committed block, for event subscribers.
#[derive(Clone, Debug)]
pub struct BlockEvents {
    pub height: Height,
    pub block_hash: Hash,
    /// (tx hash, tx index in the block, event), in block order.
    pub events: Vec<(Hash, usize, ledger::Event)>,
}

/// Where a watched transaction ended up.
#[derive(Clone, Debug)]
pub struct TxCommitted {
    pub height: Height,
    pub index: usize,
    pub block_hash: Hash,
    pub receipt: Receipt,
}

impl Chain {
    pub fn subscribe_blocks(&self) -> broadcast::Receiver<Arc<CommittedBlock>> {
        self.blocks.subscribe()
    }

    /// Events of every committed transaction (successful ones carry the
    /// contract events), block by block.
    pub fn subscribe_events(&self) -> broadcast::Receiver<Arc<BlockEvents>> {
        self.events.subscribe()
    }

    /// Registers interest in a transaction's commit. Register *before*
    /// submitting, so a fast commit cannot be missed.
    pub fn watch_tx(&self, hash: Hash) -> Result<oneshot::Receiver<TxCommitted>, ChainError> {
        let (tx, rx) = oneshot::channel();
        let mut w = self.watchers.lock().map_err(|_| ChainError::Poisoned)?;
        let list = w.entry(hash).or_default();
        if list.len() >= MAX_WATCHERS_PER_TX {
            list.retain(|s| !s.is_closed());
            if list.len() >= MAX_WATCHERS_PER_TX {
                return Err(ChainError::Unavailable(format!(
                    "{MAX_WATCHERS_PER_TX} callers already wait for transaction {hash}; retry later"
                )));
            }
        }
        list.push(tx);
        Ok(rx)
    }

    /// Forgets watchers whose receivers are gone (timed-out callers).
    pub fn prune_watchers(&self, hash: &Hash) {
        if let Ok(mut w) = self.watchers.lock()
            && let Some(v) = w.get_mut(hash)
        {
            v.retain(|s| !s.is_closed());
            if v.is_empty() {
                w.remove(hash);
            }
        }
    }

    pub(super) fn notify(&self, block: &Block, hash: Hash, outcome: &BlockOutcome) {
        if let Ok(mut w) = self.watchers.lock()
            && !w.is_empty()
        {
            for (index, r) in outcome.receipts.iter().enumerate() {
                if let Some(list) = w.remove(&r.tx_hash) {
                    let c = TxCommitted { height: block.header.height, index, block_hash: hash, receipt: r.clone() };
                    for s in list {
                        let _ = s.send(c.clone());
                    }
                }
            }
        }
        if self.events.receiver_count() > 0 {
            // Block-level events (rewards, slashes, …) come first, with a zero
            // transaction hash and index `usize::MAX`.
            let events = outcome
                .events
                .iter()
                .map(|e| (Hash::ZERO, usize::MAX, e.clone()))
                .chain(
                    outcome
                        .receipts
                        .iter()
                        .enumerate()
                        .flat_map(|(i, r)| r.events.iter().map(move |e| (r.tx_hash, i, e.clone()))),
                )
                .collect();
            let _ = self.events.send(Arc::new(BlockEvents { height: block.header.height, block_hash: hash, events }));
        }
        let _ = self.blocks.send(Arc::new(CommittedBlock {
            height: block.header.height,
            hash,
            state_root: block.header.state_root,
            time_ms: block.header.time_ms,
            num_txs: block.txs.len(),
            gas_used: outcome.gas_used,
        }));
    }
}
