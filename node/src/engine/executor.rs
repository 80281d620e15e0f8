//! The executor: builds, validates and commits blocks on its own thread, so
//! the consensus host never waits for block execution (votes and proposals
//! keep flowing while a block executes or is written).
//!
//! Jobs arrive on a small bounded mailbox and run one at a time, so block
//! sync and consensus never commit the same height twice (each job re-reads
//! the tip). Results go back to the host on a bounded channel. The host
//! keeps what the mailbox has no room for in a backlog and hands jobs over
//! by priority (commit, sync, build, then validations by round: the current
//! round's proposal is not stuck behind a byzantine proposer's blocks for
//! future rounds); the core bounds the backlog (a build per round, a
//! validation per proposed value, a commit per height, one sync batch).

use std::collections::BTreeMap;
use std::sync::Arc;

use consensus::ValueId;
use ledger::{Block, CertifiedBlock, Commit, Hash, Height, PublicKey};
use tokio::sync::mpsc;

use crate::chain::{Chain, ChainError, Executed};
use crate::phases::Phase;

/// Jobs in the executor's mailbox.
pub enum Job {
    /// Build our proposal for (height, round).
    Build {
        height: Height,
        round: u32,
        proposer: PublicKey,
        now_ms: u64,
        last_commit: Option<Commit>,
        corrupt: Corrupt,
    },
    /// Is this block valid? `now_ms`: our clock for a live proposal.
    Validate { height: Height, round: u32, value_id: ValueId, block: Option<Box<Block>>, now_ms: Option<u64> },
    /// Commit the decided value (executing it first if it was not).
    Commit { height: Height, value_id: ValueId, commit: Commit, block: Option<Box<Block>> },
    /// Verify, execute and commit blocks from block sync, in order.
    Synced { blocks: Vec<CertifiedBlock> },
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Build { height, round, .. } => write!(f, "Build({height}, round {round})"),
            Job::Validate { height, round, value_id, .. } => {
                write!(f, "Validate({height}, round {round}, {})", Hash(value_id.0))
            }
            Job::Commit { height, value_id, .. } => write!(f, "Commit({height}, {})", Hash(value_id.0)),
            Job::Synced { blocks } => write!(f, "Synced({} blocks)", blocks.len()),
        }
    }
}

/// Test-only mutation of a block we built (byzantine mode).
pub type Corrupt = Option<Box<dyn FnOnce(&mut Executed) + Send>>;

/// What the executor reports.
#[derive(Debug)]
pub enum Done {
    Built {
        height: Height,
        round: u32,
        value_id: ValueId,
        block: Box<Block>,
    },
    Validated {
        height: Height,
        value_id: ValueId,
        valid: bool,
    },
    /// The height is committed (by this job, or already by another).
    Committed {
        height: Height,
    },
    /// Decided, but the block is missing or does not execute here: block
    /// sync has to fetch it.
    CommitFailed {
        height: Height,
        value_id: ValueId,
    },
    /// `applied` synced blocks committed, and how the rest turned out.
    Synced {
        applied: u64,
        rest: SyncRest,
    },
}

/// What became of the synced blocks after the applied ones.
#[derive(Debug)]
pub enum SyncRest {
    /// None left (or only blocks we already had).
    Done,
    /// A block and its certificate do not match, or the certificate does
    /// not verify: the peer's fault.
    Invalid(String),
    /// A certified block does not execute here: our state or a local bound,
    /// not the peer's fault.
    NotApplicable(String),
}

impl Job {
    /// Hand-over order (lower first).
    pub fn priority(&self) -> (u8, u32) {
        match self {
            Job::Commit { .. } => (0, 0),
            Job::Synced { .. } => (1, 0),
            Job::Build { .. } => (2, 0),
            Job::Validate { round, .. } => (3, *round),
        }
    }
}

/// The executor's mailbox (small: the host orders what waits).
pub const MAILBOX: usize = 2;
/// Results waiting for the host.
pub const RESULTS: usize = 64;

/// Starts the executor thread. It ends when the mailbox closes.
pub fn start(chain: Arc<Chain>, done: mpsc::Sender<Result<Done, ChainError>>) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(MAILBOX);
    std::thread::Builder::new()
        .name("executor".into())
        // It executes blocks, so contract calls: the stack the deepest
        // allowed call chain needs, as every thread that runs contracts has
        // (with the default 2 MiB a block with such a chain overflowed it and
        // aborted the node; `hostile_contracts_neither_stop_nor_split_the_network`).
        .stack_size(vm::exec_thread_stack(ledger::params::MAX_CALL_DEPTH))
        .spawn(move || {
            let mut ex = Executor { chain, executed: BTreeMap::new() };
            while let Some(job) = rx.blocking_recv() {
                let result = ex.run(job);
                let fault = result.is_err();
                if done.blocking_send(result).is_err() || fault {
                    break;
                }
            }
        })
        .expect("spawning the executor thread");
    tx
}

struct Executor {
    chain: Arc<Chain>,
    /// Blocks built or validated at the height being decided, by value.
    executed: BTreeMap<ValueId, Executed>,
}

impl Executor {
    fn run(&mut self, job: Job) -> Result<Done, ChainError> {
        match job {
            Job::Build { height, round, proposer, now_ms, last_commit, corrupt } => {
                let started = std::time::Instant::now();
                let mut executed = self.chain.build_block(proposer, now_ms, last_commit)?;
                if let Some(f) = corrupt {
                    f(&mut executed);
                }
                tracing::debug!(%height, round, txs = executed.block.txs.len(), ms = started.elapsed().as_millis() as u64, "built block");
                // Peers filling our compact proposal may ask for any of these.
                self.chain.remember_proposal(&executed.block, &executed.block.tx_hashes());
                // The block must survive a crash once we may have signed it.
                let started = std::time::Instant::now();
                self.chain.store().put_pending_block(&executed.block)?;
                self.chain.phases().record(Phase::Pending, started);
                let value_id = ValueId(executed.block.hash().0);
                let block = Box::new(executed.block.clone());
                self.keep(height, value_id, executed);
                Ok(Done::Built { height, round, value_id, block })
            }
            Job::Validate { height, value_id, block, now_ms, .. } => {
                let valid = self.validate(height, value_id, block, now_ms)?;
                Ok(Done::Validated { height, value_id, valid })
            }
            Job::Commit { height, value_id, commit, block } => {
                if self.chain.tip().height >= height {
                    return Ok(Done::Committed { height });
                }
                // Decided by more than 2/3 of the power: not held to our clock.
                if !self.validate(height, value_id, block, None)? {
                    return Ok(Done::CommitFailed { height, value_id });
                }
                let Some(executed) = self.executed.remove(&value_id) else {
                    return Err(ChainError::Bug("decided block vanished".into()));
                };
                let started = std::time::Instant::now();
                self.chain.commit(executed, &commit)?;
                tracing::debug!(%height, ms = started.elapsed().as_millis() as u64, "commit written");
                self.chain.store().clear_height(height)?;
                self.executed.clear();
                Ok(Done::Committed { height })
            }
            Job::Synced { blocks } => self.apply_synced(blocks),
        }
    }

    fn keep(&mut self, height: Height, value_id: ValueId, executed: Executed) {
        // Only the height being decided is kept (bounded by the core's
        // requests: a build per round, a validation per proposed value).
        self.executed.retain(|_, e| e.block.header.height == height);
        self.executed.insert(value_id, executed);
    }

    /// Our own blocks are valid by construction; others are re-executed and
    /// must reproduce their header. An invalid block is a verdict, never an
    /// error; only a node fault is.
    fn validate(
        &mut self,
        height: Height,
        value_id: ValueId,
        block: Option<Box<Block>>,
        now_ms: Option<u64>,
    ) -> Result<bool, ChainError> {
        if self.executed.contains_key(&value_id) {
            return Ok(true);
        }
        let block = match block {
            Some(b) => {
                // Kept durably: after a crash we may need it to re-propose or commit.
                let started = std::time::Instant::now();
                self.chain.store().put_pending_block(&b)?;
                self.chain.phases().record(Phase::Pending, started);
                Some(*b)
            }
            None => self.chain.store().pending_block(&Hash(value_id.0))?,
        };
        let Some(block) = block else {
            tracing::warn!(value = %Hash(value_id.0), "asked to execute a block this node does not have");
            return Ok(false);
        };
        let started = std::time::Instant::now();
        match self.chain.validate_block(block, now_ms)? {
            Ok(executed) => {
                tracing::debug!(
                    txs = executed.block.txs.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "validated block"
                );
                self.keep(height, value_id, executed);
                Ok(true)
            }
            Err(reason) => {
                tracing::warn!(value = %Hash(value_id.0), %reason, "refusing a proposed block: voting nil");
                Ok(false)
            }
        }
    }

    fn apply_synced(&mut self, blocks: Vec<CertifiedBlock>) -> Result<Done, ChainError> {
        let mut applied = 0u64;
        for CertifiedBlock { block, commit } in blocks {
            let tip = self.chain.tip();
            let h = block.header.height;
            if h <= tip.height {
                continue;
            }
            if h != tip.height.next() {
                break;
            }
            if commit.height != h || commit.block_hash != block.hash() {
                return Ok(Done::Synced {
                    applied,
                    rest: SyncRest::Invalid(format!("block {h} does not match its certificate")),
                });
            }
            if let Err(e) = self.chain.verify_commit(h, &commit)? {
                return Ok(Done::Synced {
                    applied,
                    rest: SyncRest::Invalid(format!("block {h}: invalid certificate: {e}")),
                });
            }
            // Certified by more than 2/3: not held to this node's clock.
            let executed = match self.chain.validate_block(block, None)? {
                Ok(x) => x,
                Err(reason) => {
                    // A certified block we cannot reproduce: our state or the
                    // peer is wrong; do not commit it.
                    tracing::error!(height = %h, %reason, "certified block does not execute to its header");
                    return Ok(Done::Synced {
                        applied,
                        rest: SyncRest::NotApplicable(format!("block {h} does not execute: {reason}")),
                    });
                }
            };
            self.chain.commit(executed, &commit)?;
            self.chain.store().clear_height(h)?;
            self.executed.clear();
            applied += 1;
        }
        Ok(Done::Synced { applied, rest: SyncRest::Done })
    }
}
