//! Sending a stage's transactions: one `agora_sendTxs` call per batch, and
//! why transactions were sent again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClient;
use rpc_api::api::ChainApiClient;
use rpc_api::codes;

use super::txs::Presigned;
use crate::rpc;

/// Transactions sent again, by the reason the node gave.
#[derive(Debug, Default)]
pub(super) struct Resent {
    mempool_full: AtomicU64,
    nonce_gap: AtomicU64,
    busy: AtomicU64,
    rate_limited: AtomicU64,
    /// The whole batch failed (connection, timeout, HTTP status).
    transport: AtomicU64,
}

impl Resent {
    fn count(&self, code: i32) {
        let c = match code {
            codes::MEMPOOL_FULL => &self.mempool_full,
            codes::NONCE_GAP => &self.nonce_gap,
            codes::BUSY => &self.busy,
            _ => &self.rate_limited,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn parts(&self) -> [(&'static str, u64); 5] {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("mempool full", l(&self.mempool_full)),
            ("nonce gap", l(&self.nonce_gap)),
            ("busy", l(&self.busy)),
            ("rate limited", l(&self.rate_limited)),
            ("batch failed", l(&self.transport)),
        ]
    }

    pub(super) fn total(&self) -> u64 {
        self.parts().iter().map(|(_, n)| n).sum()
    }

    pub(super) fn by_reason(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> =
            self.parts().into_iter().filter(|(_, n)| *n > 0).map(|(r, n)| (r.to_string(), n)).collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.1));
        v
    }
}

/// Sends one batch as one `agora_sendTxs` call (or, to a node without it,
/// as a JSON-RPC batch of `agora_sendTx`); what was refused for a passing
/// reason goes back to `retry` (same bytes, same nonce order).
#[allow(clippy::too_many_arguments)]
pub(super) async fn send(
    client: &HttpClient,
    batch: Vec<Presigned>,
    retry: &Mutex<Vec<Presigned>>,
    resent: &Resent,
    failed: &AtomicU64,
    errors: &Mutex<Vec<(String, u64)>>,
    no_send_txs: &AtomicBool,
) {
    let note = |msg: String| {
        failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut e) = errors.lock() {
            if let Some(x) = e.iter_mut().find(|(m, _)| *m == msg) {
                x.1 += 1;
            } else if e.len() < 5 {
                e.push((msg, 1));
            }
        }
    };
    let verdicts: Option<Vec<Result<(), (i32, String)>>> = if no_send_txs.load(Ordering::Relaxed) {
        send_tx_batch(client, &batch).await
    } else {
        let hexes: Vec<String> = batch.iter().map(|t| t.hex.clone()).collect();
        match client.send_txs(hexes).await {
            Ok(vs) => Some(
                vs.into_iter()
                    .map(|v| match v.error {
                        None => Ok(()),
                        Some(e) => Err((e.code, e.message)),
                    })
                    .collect(),
            ),
            // A node from before `agora_sendTxs` (`testnet --bin-dir`).
            Err(jsonrpsee::core::client::Error::Call(e))
                if e.code() == jsonrpsee::types::error::METHOD_NOT_FOUND_CODE =>
            {
                no_send_txs.store(true, Ordering::Relaxed);
                send_tx_batch(client, &batch).await
            }
            Err(_) => None,
        }
    };
    let mut again = Vec::new();
    match verdicts {
        Some(vs) => {
            for (t, r) in batch.into_iter().zip(vs) {
                match r {
                    Ok(()) => {}
                    Err((code, message)) => match code {
                        codes::DUPLICATE | codes::NONCE_TOO_LOW => {} // already in (gossip got there first)
                        c @ (codes::MEMPOOL_FULL | codes::NONCE_GAP | codes::BUSY | codes::RATE_LIMITED) => {
                            resent.count(c);
                            again.push(t)
                        }
                        _ => note(format!("code {code}: {message}")),
                    },
                }
            }
        }
        None => {
            resent.transport.fetch_add(batch.len() as u64, Ordering::Relaxed);
            again = batch
        }
    }
    if !again.is_empty() {
        // Lowest nonces first, so an account's gap closes before its later transfers return.
        again.sort_by_key(|t| t.account);
        if let Ok(mut r) = retry.lock() {
            r.extend(again);
        }
    }
}

/// The batch as a JSON-RPC batch of `agora_sendTx`: one verdict each, or
/// `None` when the whole batch failed.
async fn send_tx_batch(client: &HttpClient, batch: &[Presigned]) -> Option<Vec<Result<(), (i32, String)>>> {
    let mut b = BatchRequestBuilder::new();
    for t in batch {
        let _ = rpc::batch::send_tx(&mut b, &t.hex);
    }
    let resp = client.batch_request::<rpc::types::Submitted>(b).await.ok()?;
    Some(resp.into_iter().map(|r| r.map(|_| ()).map_err(|e| (e.code(), e.message().to_owned()))).collect())
}
