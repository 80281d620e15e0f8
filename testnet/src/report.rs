//! Reading the chain back: blocks in JSON-RPC batches, and a summary of a
//! height range (block times, transactions, rounds).

use std::fmt;

use anyhow::{Context, Result, anyhow, ensure};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClient;

use crate::rpc;

/// Blocks fetched per JSON-RPC batch.
const BLOCK_BATCH: u64 = 100;

/// The fields of an `agora_getBlock` result that the tools use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub height: u64,
    /// `header.time_ms`.
    pub time_ms: u64,
    /// Number of transactions.
    pub txs: usize,
    /// `last_commit.round`: the round in which the *previous* block was decided.
    pub last_commit_round: Option<u64>,
}

impl BlockInfo {
    /// The summary of an `agora_getBlock` result.
    pub fn from_block(b: &rpc::types::BlockInfo) -> BlockInfo {
        BlockInfo {
            height: b.header.height.0,
            time_ms: b.header.time_ms,
            txs: usize::try_from(b.num_txs).unwrap_or(usize::MAX),
            last_commit_round: b.last_commit.as_ref().map(|c| u64::from(c.round)),
        }
    }
}

/// Blocks `from..=to` (which must exist), fetched in batches.
pub async fn get_blocks(client: &HttpClient, from: u64, to: u64) -> Result<Vec<BlockInfo>> {
    let mut out = Vec::new();
    let mut h = from;
    while h <= to {
        let end = to.min(h + BLOCK_BATCH - 1);
        let mut b = BatchRequestBuilder::new();
        for x in h..=end {
            rpc::batch::get_block(&mut b, rpc::types::BlockId::Height(x), false).context("building a batch request")?;
        }
        let resp = client
            .batch_request::<rpc::types::BlockInfo>(b)
            .await
            .map_err(|e| anyhow!("getBlock {h}..{end}: {}", rpc::describe(&e)))?;
        for (x, r) in (h..=end).zip(resp) {
            let v = r.map_err(|e| anyhow!("getBlock {x}: code {}: {}", e.code(), e.message()))?;
            out.push(BlockInfo::from_block(&v));
        }
        h = end + 1;
    }
    Ok(out)
}

/// `latest_height` of a node.
pub async fn latest_height(client: &HttpClient) -> Result<u64> {
    Ok(rpc::named("status", rpc::ChainApiClient::status(client).await)?.latest_height.0)
}

/// A summary of blocks `from..=to`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainReport {
    pub from: u64,
    pub to: u64,
    pub blocks: u64,
    pub txs: u64,
    pub max_txs_in_block: usize,
    /// Mean time between consecutive blocks of the range, in ms (`None` for one block).
    pub avg_block_time_ms: Option<f64>,
    /// Longest gap between consecutive blocks of the range, in ms.
    pub max_block_time_ms: Option<u64>,
    /// Blocks whose deciding round is known (block H+1 exists and carries H's commit).
    pub rounds_known: u64,
    /// Blocks decided in a round above 0.
    pub late_rounds: u64,
    pub max_round: u64,
}

/// Summarises blocks `from..=to` (defaults: 1 and the node's latest height).
/// The round a block H was decided in is read from block H+1's `last_commit`.
pub async fn scan(client: &HttpClient, from: Option<u64>, to: Option<u64>) -> Result<ChainReport> {
    let tip = latest_height(client).await?;
    ensure!(tip >= 1, "the chain has no blocks yet");
    let to = to.unwrap_or(tip);
    ensure!(to <= tip, "--to {to} is above the latest height {tip}");
    let from = from.unwrap_or(1).max(1);
    ensure!(from <= to, "--from {from} is above --to {to}");
    let blocks = get_blocks(client, from, (to + 1).min(tip)).await?;
    Ok(summarise(from, to, &blocks))
}

/// The summary of `from..=to` given those blocks and, if available, block `to + 1`.
pub fn summarise(from: u64, to: u64, blocks: &[BlockInfo]) -> ChainReport {
    let in_range: Vec<&BlockInfo> = blocks.iter().filter(|b| b.height >= from && b.height <= to).collect();
    let txs = in_range.iter().map(|b| b.txs as u64).sum();
    let max_txs_in_block = in_range.iter().map(|b| b.txs).max().unwrap_or(0);
    let gaps: Vec<u64> = in_range.windows(2).map(|w| w[1].time_ms.saturating_sub(w[0].time_ms)).collect();
    let avg_block_time_ms = match (in_range.first(), in_range.last()) {
        (Some(a), Some(b)) if b.height > a.height => {
            Some(b.time_ms.saturating_sub(a.time_ms) as f64 / (b.height - a.height) as f64)
        }
        _ => None,
    };
    let mut rounds_known = 0;
    let mut late_rounds = 0;
    let mut max_round = 0;
    for b in blocks.iter().filter(|b| b.height > from && b.height <= to + 1) {
        if let Some(r) = b.last_commit_round {
            rounds_known += 1;
            max_round = max_round.max(r);
            if r > 0 {
                late_rounds += 1;
            }
        }
    }
    ChainReport {
        from,
        to,
        blocks: in_range.len() as u64,
        txs,
        max_txs_in_block,
        avg_block_time_ms,
        max_block_time_ms: gaps.iter().copied().max(),
        rounds_known,
        late_rounds,
        max_round,
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "blocks {}..={}: {} blocks, {} txs (at most {} in one block)",
            self.from, self.to, self.blocks, self.txs, self.max_txs_in_block
        )?;
        match (self.avg_block_time_ms, self.max_block_time_ms) {
            (Some(avg), Some(max)) => writeln!(f, "  block time: average {avg:.0} ms, longest {max} ms")?,
            _ => writeln!(f, "  block time: needs at least two blocks")?,
        }
        if self.rounds_known == 0 {
            write!(f, "  rounds: unknown (no following block carries a commit yet)")
        } else {
            write!(
                f,
                "  rounds: {} of {} blocks decided in a round > 0 (highest round {})",
                self.late_rounds, self.rounds_known, self.max_round
            )
        }
    }
}
