//! Admission of client transactions in signature batches. RPC handlers hand
//! each submitted transaction to one admission thread, which takes whatever
//! is queued (at most [`MAX_BATCH`]), runs the cheap checks, verifies the
//! signatures of those that pass as one batch and admits them in order
//! ([`Chain::submit_txs`]: the verdicts are those of one-by-one
//! submission). A batch of 64 costs about 15 µs a signature instead of 40.
//! Nothing waits for company: when the node is idle a batch is the one
//! transaction that came.
//!
//! The queue is bounded ([`QUEUE`]); a handler waits for room, so a flood
//! of submissions is paced by this thread, not stacked up in memory.

use std::sync::Arc;

use ledger::Hash;
use tokio::sync::{mpsc, oneshot};

use crate::chain::Chain;
use crate::mempool::MempoolError;

/// Most transactions verified as one batch.
pub const MAX_BATCH: usize = 256;
/// Submissions waiting for the admission thread.
pub const QUEUE: usize = 4096;

/// A submission: its bytes, and where its verdict (and the bytes, for
/// gossip) go back.
type Job = (Vec<u8>, oneshot::Sender<(Result<Hash, MempoolError>, Vec<u8>)>);

/// The handle RPC submits through. Dropping the last one ends the thread.
#[derive(Clone, Debug)]
pub struct Admission {
    queue: mpsc::Sender<Job>,
}

impl Admission {
    /// Starts the admission thread for `chain`.
    pub fn start(chain: Arc<Chain>) -> Admission {
        let (queue, mut rx) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("admission".into())
            // Uploaded code is validated here: the stack the VM needs, as
            // the RPC threads have.
            .stack_size(vm::exec_thread_stack(ledger::params::MAX_CALL_DEPTH))
            .spawn(move || {
                crate::priority::lower_this_thread();
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    tracing::trace!(batch = jobs.len(), "admitting");
                    let (bytes, replies): (Vec<Vec<u8>>, Vec<_>) = jobs.into_iter().unzip();
                    // No verdict ends the batch early: each gets its own. A
                    // panic (a bug) answers this batch with an error and the
                    // thread goes on: one bad batch must not end admission.
                    let verdicts =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| chain.submit_txs(&bytes, |_| false)))
                            .unwrap_or_else(|_| {
                                tracing::error!(
                                    batch = bytes.len(),
                                    "transaction admission panicked (a bug); batch refused"
                                );
                                Vec::new()
                            });
                    let mut verdicts = verdicts.into_iter();
                    for (reply, b) in replies.into_iter().zip(bytes) {
                        let v = verdicts.next().unwrap_or_else(|| Err(internal_error()));
                        let _ = reply.send((v, b));
                    }
                }
            })
            .expect("spawning the admission thread");
        Admission { queue }
    }

    /// Admits one transaction (waiting for room in the queue); its verdict,
    /// with the bytes given back.
    pub async fn submit(&self, bytes: Vec<u8>) -> (Result<Hash, MempoolError>, Vec<u8>) {
        let (reply, verdict) = oneshot::channel();
        if self.queue.send((bytes, reply)).await.is_err() {
            return (Err(stopped()), Vec::new());
        }
        verdict.await.unwrap_or_else(|_| (Err(stopped()), Vec::new()))
    }
}

fn stopped() -> MempoolError {
    MempoolError::Invalid(ledger::InvalidTx::Malformed("the node is shutting down".into()))
}

fn internal_error() -> MempoolError {
    MempoolError::Invalid(ledger::InvalidTx::Malformed("internal error while admitting; see the node's log".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testing::transfer;
    use ledger::SigningKey;

    /// Many submissions at once are admitted in batches with the verdicts
    /// of one-by-one submission: good ones admitted, a forged one refused,
    /// a duplicate refused once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_submissions_get_one_by_one_verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
        let chain = Arc::new(crate::testing::chain_on(dir.path(), "adm-test", &user, &val));
        let adm = Admission::start(chain.clone());
        // A nonce the mempool would take: a forged transaction it refuses
        // anyway is refused before its signature (`Mempool::check`).
        let mut forged = transfer(&user, 64, "adm-test");
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let mut handles = Vec::new();
        for n in 0..64u64 {
            let (adm, bytes) = (adm.clone(), transfer(&user, n, "adm-test"));
            handles.push(tokio::spawn(async move { adm.submit(bytes).await }));
        }
        let bad = adm.submit(forged.clone()).await;
        assert!(matches!(bad.0, Err(MempoolError::Invalid(_))), "{:?}", bad.0);
        assert_eq!(bad.1, forged, "the bytes come back");
        for h in handles {
            let (v, bytes) = h.await.unwrap();
            assert_eq!(v.unwrap(), ledger::SignedTx::decode(&bytes).unwrap().hash());
        }
        assert_eq!(chain.mempool_size(), 64);
        let again = adm.submit(transfer(&user, 7, "adm-test")).await;
        assert!(matches!(again.0, Err(MempoolError::Duplicate(_))), "{:?}", again.0);
        // The counted refusals are the same as one by one.
        assert_eq!((chain.rejections().get("bad_signature"), chain.rejections().get("duplicate")), (1, 1));
    }
}
