//! The application side of consensus: build a block (propose), check a block
//! someone else built (validate), persist a decided block (commit).
//!
//! This is the seam a consensus engine drives. The consensus engine (`engine.rs`)
//! calls these three methods from the core's `RequestValue`, `ValidateValue`
//! and `Decide` effects.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use genesis::Genesis;
use ledger::merkle::merkle_root;
use ledger::state::read_account;
use ledger::tx::SignedTx;
use ledger::{
    Account, Address, ApplyError, Block, BlockEnv, BlockExecutor, BlockOutcome, ChainParams, Commit, ExecError, Hash,
    Header, Height, InvalidTx, LedgerError, PublicKey, Receipt, UncheckedTx, VerifiedTx,
};
use tokio::sync::{broadcast, oneshot};

use crate::mempool::{BatchRuns, Mempool, MempoolError, MempoolLimits};
use crate::phases::Phase;

mod notify;
mod query;
mod staking;
mod sync;
#[cfg(test)]
mod tests;
use crate::store::{Store, StoreError};
pub use notify::{BlockEvents, CommittedBlock, MAX_WATCHERS_PER_TX, TxCommitted};
pub use staking::{consensus_set, evidence_height};

/// A **node fault** of the chain logic: storage, corrupted state, a genesis
/// this node cannot use, a bug. It stops the node with a clear message.
/// Input from peers and users is never a `ChainError`: blocks get a
/// [`BlockRejected`] verdict, transactions a mempool error or a receipt.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("this data directory belongs to another chain: stored genesis hash {stored}, genesis file hash {file}")]
    GenesisMismatch { stored: Hash, file: Hash },
    #[error("genesis: {0}")]
    Genesis(String),
    /// Asked for something this node does not know yet (a future height).
    #[error("not available: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Bug(String),
    #[error("lock poisoned: a thread panicked while holding chain state")]
    Poisoned,
}

/// Why this node does not vote for, or commit, a block it was given: the
/// verdict on outside input, never a reason to stop.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockRejected {
    /// The block breaks a rule (header, roots, signatures, an invalid
    /// transaction, a time too far ahead): the proposer's fault.
    #[error("invalid block: {0}")]
    Invalid(String),
    /// A transaction could not be executed within this node's local bounds
    /// (wall-clock guard, instance pool): the node votes nil.
    #[error("block cannot be executed on this node: {0}")]
    Unexecutable(String),
}

/// The answer to "is this outside block acceptable?": the outer `Err` is a
/// node fault, the inner one the verdict on the block.
pub type Checked<T> = Result<Result<T, BlockRejected>, ChainError>;

/// Internal: either kind of failure, so checks can use `?`; split at the
/// public boundary with [`split`].
#[derive(Debug)]
pub(crate) enum Check {
    Rejected(BlockRejected),
    Fault(ChainError),
}

impl<E: Into<ChainError>> From<E> for Check {
    fn from(e: E) -> Check {
        Check::Fault(e.into())
    }
}

fn invalid(m: impl Into<String>) -> Check {
    Check::Rejected(BlockRejected::Invalid(m.into()))
}

fn split<T>(r: Result<T, Check>) -> Checked<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Check::Rejected(v)) => Ok(Err(v)),
        Err(Check::Fault(e)) => Err(e),
    }
}

/// The latest committed block, as RPC and block building see it.
#[derive(Clone, Debug)]
pub struct Tip {
    pub height: Height,
    pub hash: Hash,
    pub state_root: Hash,
    pub time_ms: u64,
}

/// A block together with its verified transactions and execution result.
#[derive(Debug)]
pub struct Executed {
    pub block: Block,
    pub txs: Vec<VerifiedTx>,
    pub outcome: BlockOutcome,
}

/// The node's chain: committed state, mempool and commit notifications.
#[derive(Debug)]
pub struct Chain {
    store: Store,
    vm: vm::Vm,
    chain_id: String,
    /// The parameters in force for the next block (the state's record,
    /// re-read after every commit: governance may change them).
    params: RwLock<Arc<ChainParams>>,
    genesis_hash: Hash,
    consensus_chain_id: consensus::ChainId,
    /// Validator sets by height (recent ones; the store has them all).
    valsets: Mutex<BTreeMap<Height, Arc<consensus::ValidatorSet>>>,
    /// Verified double-sign evidence waiting to be put in a block, one per
    /// offender (a tombstoned validator is punished once).
    evidence: Mutex<BTreeMap<consensus::ValidatorId, consensus::Evidence>>,
    tip: RwLock<Tip>,
    /// Proposer priorities of the height after the tip (kept with each block).
    proposers: Mutex<Option<(Height, consensus::ProposerSelection)>>,
    /// Held while a block is committed and while a late precommit updates
    /// the stored certificate.
    commit_lock: Mutex<()>,
    /// (height, hash) of the last commit certificate that verified.
    last_verified_commit: Mutex<Option<(Height, Hash)>>,
    /// Most transactions this node puts in a block it proposes (a local policy).
    proposer_max_txs: std::sync::atomic::AtomicUsize,
    /// The client name this node writes in the headers it proposes.
    client: RwLock<String>,
    mempool: Mutex<Mempool>,
    blocks: broadcast::Sender<Arc<CommittedBlock>>,
    events: broadcast::Sender<Arc<BlockEvents>>,
    watchers: Mutex<HashMap<Hash, Vec<oneshot::Sender<TxCommitted>>>>,
    /// Mempool refusals by reason (for the metrics).
    rejections: crate::metrics::Rejections,
    /// Where block time goes (for the metrics and `testnet bench`).
    phases: crate::phases::PhaseTimes,
    /// Transactions of the proposals of the height being decided (see
    /// `Chain::remember_proposal`).
    proposal_txs: Mutex<(Height, HashMap<Hash, SignedTx>)>,
    /// Drops committed blocks' data off the consensus path.
    retire: crate::retire::Retire,
}

/// This software, as block headers name it.
pub const CLIENT: &str = concat!("agorad/", env!("CARGO_PKG_VERSION"));

/// The client name for a build tag (`agorad/VERSION+TAG`; no tag: [`CLIENT`]).
pub fn client_name(tag: &str) -> String {
    if tag.is_empty() { CLIENT.to_owned() } else { format!("{CLIENT}+{tag}") }
}

impl Chain {
    /// Opens the chain on `store`, writing the genesis state on first start and
    /// checking the genesis hash on every later start.
    pub fn open(store: Store, genesis: &Genesis, limits: MempoolLimits, vm: vm::Vm) -> Result<Chain, ChainError> {
        let consensus_chain_id =
            consensus::ChainId::new(&genesis.chain_id).map_err(|e| ChainError::Genesis(e.to_string()))?;
        let genesis_hash = genesis.hash();
        match store.genesis_hash()? {
            Some(stored) if stored != genesis_hash => {
                return Err(ChainError::GenesisMismatch { stored, file: genesis_hash });
            }
            Some(_) => {}
            None => {
                let (diff, set) = genesis.initial_state(&store).map_err(|e| ChainError::Genesis(e.to_string()))?;
                consensus_set(&set)?;
                store.init_genesis(genesis_hash, &diff, &set)?;
                tracing::info!(chain_id = %genesis.chain_id, %genesis_hash, root = %diff.root, "wrote genesis state");
            }
        }
        if store.genesis_doc()?.is_none() {
            let doc = serde_json::to_vec(genesis).map_err(|e| ChainError::Genesis(e.to_string()))?;
            store.put_genesis_doc(&doc)?;
        }
        // A data directory from before parameters were kept in the state has
        // no record: its parameters are the genesis file's.
        let params = ledger::governance::read_params(&store)?.unwrap_or_else(|| genesis.params.clone());
        let genesis_time_ms = genesis.genesis_time_ms().map_err(|e| ChainError::Genesis(e.to_string()))?;
        let height = store.height()?.unwrap_or(Height::GENESIS);
        let tip = if height == Height::GENESIS {
            Tip {
                height,
                hash: genesis_hash,
                state_root: ledger::state::root_at(&store, height)?,
                time_ms: genesis_time_ms,
            }
        } else {
            let b =
                store.block(height)?.ok_or_else(|| ChainError::Bug(format!("block {height} missing from store")))?;
            Tip { height, hash: b.hash(), state_root: b.header.state_root, time_ms: b.header.time_ms }
        };
        tracing::info!(height = %tip.height, hash = %tip.hash, root = %tip.state_root, "chain opened");
        let (blocks, _) = broadcast::channel(256);
        let (events, _) = broadcast::channel(256);
        Ok(Chain {
            store,
            vm,
            chain_id: genesis.chain_id.clone(),
            params: RwLock::new(Arc::new(params)),
            genesis_hash,
            consensus_chain_id,
            valsets: Mutex::new(BTreeMap::new()),
            evidence: Mutex::new(BTreeMap::new()),
            tip: RwLock::new(tip),
            last_verified_commit: Mutex::new(None),
            proposers: Mutex::new(None),
            commit_lock: Mutex::new(()),
            proposer_max_txs: std::sync::atomic::AtomicUsize::new(usize::MAX),
            client: RwLock::new(CLIENT.to_owned()),
            mempool: Mutex::new(Mempool::new(limits)),
            blocks,
            events,
            watchers: Mutex::new(HashMap::new()),
            rejections: crate::metrics::Rejections::default(),
            phases: crate::phases::PhaseTimes::default(),
            proposal_txs: Mutex::new((Height::GENESIS, HashMap::new())),
            retire: crate::retire::Retire::start(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn vm(&self) -> &vm::Vm {
        &self.vm
    }
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }
    /// The chain parameters in force for the next block.
    pub fn params(&self) -> Arc<ChainParams> {
        self.params.read().map(|p| p.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }
    pub fn tip(&self) -> Tip {
        self.tip.read().map(|t| t.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }
    /// Caps the transactions of blocks this node proposes.
    /// Names this node's build in the headers it proposes: `agorad/VERSION`,
    /// or `agorad/VERSION+TAG` for a tagged (patched, custom) build.
    pub fn set_client_tag(&self, tag: &str) -> Result<(), String> {
        let client = client_name(tag);
        ledger::block::check_client(&client)?;
        *self.client.write().map_err(|_| "poisoned lock".to_owned())? = client;
        Ok(())
    }

    /// The client name this node writes in the headers it proposes.
    pub fn client(&self) -> String {
        self.client.read().map(|c| c.clone()).unwrap_or_else(|_| CLIENT.to_owned())
    }

    pub fn set_proposer_max_txs(&self, n: usize) {
        self.proposer_max_txs.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }
    /// Total transactions committed so far.
    pub fn total_txs(&self) -> u64 {
        self.store.total_txs().unwrap_or(0)
    }
    pub fn mempool_size(&self) -> usize {
        self.mempool.lock().map(|m| m.len()).unwrap_or(0)
    }
    /// The next nonce for `sender` counting its pending mempool transactions.
    pub fn pending_nonce(&self, sender: &Address, committed: u64) -> u64 {
        self.mempool.lock().map(|m| m.next_nonce(sender, committed)).unwrap_or(committed)
    }
    /// Mempool admission of raw transaction bytes: size, decoding, signature
    /// (verified once, here), chain id, gas, nonce, fee, duplicates.
    pub fn submit_tx(&self, bytes: &[u8]) -> Result<Hash, MempoolError> {
        let r = self.admit(bytes);
        if let Err(e) = &r {
            self.rejections.record(e);
        }
        r
    }

    /// Mempool refusals so far, by reason.
    pub fn rejections(&self) -> &crate::metrics::Rejections {
        &self.rejections
    }

    /// Time spent so far by block phase.
    pub fn phases(&self) -> &crate::phases::PhaseTimes {
        &self.phases
    }

    /// [`Chain::submit_tx`] for a batch (a gossiped one): the transactions that
    /// pass the cheap checks have their signatures verified in one batch, then
    /// each is admitted in order. Verdicts in order, the same as submitting one
    /// by one; it stops after the first error `stop` says ends the batch (the
    /// rest are not admitted, as one by one they would not be reached).
    pub fn submit_txs(
        &self,
        batch: &[Vec<u8>],
        stop: impl Fn(&MempoolError) -> bool,
    ) -> Vec<Result<Hash, MempoolError>> {
        let params = self.params();
        let mut runs = BatchRuns::default();
        let prechecked: Vec<Result<UncheckedTx, MempoolError>> =
            batch.iter().map(|bytes| self.precheck(bytes, &params, &mut runs)).collect();
        let mut verdicts: Vec<Result<(), MempoolError>> = Vec::with_capacity(batch.len());
        let mut unchecked = Vec::with_capacity(batch.len());
        for p in prechecked {
            verdicts.push(p.map(|u| unchecked.push(u)));
        }
        let mut checked = UncheckedTx::verify_all(unchecked).into_iter();
        let mut out = Vec::with_capacity(batch.len());
        for v in verdicts {
            let r = v.and_then(|()| {
                // `verify_all` returns one verdict per transaction given.
                let tx = checked.next().unwrap_or(Err(ledger::InvalidTx::BadSignature))?;
                self.admit_verified(tx, &params)
            });
            if let Err(e) = &r {
                self.rejections.record(e);
            }
            let end = r.as_ref().is_err_and(&stop);
            out.push(r);
            if end {
                break;
            }
        }
        out
    }

    fn admit(&self, bytes: &[u8]) -> Result<Hash, MempoolError> {
        let params = self.params();
        let tx = self.precheck(bytes, &params, &mut BatchRuns::default())?.verify()?;
        self.admit_verified(tx, &params)
    }

    /// The checks before the signature: cheap ones first, since a gossiped tx
    /// usually arrives from several peers, and often after the block that
    /// includes it was already committed. Then every check of the mempool on
    /// the body as sent ([`Mempool::check`]): a transaction it refuses would
    /// be refused after the signature check too, so it costs no signature.
    /// `runs`: what the batch's earlier transactions may change ([`BatchRuns`]).
    fn precheck(&self, bytes: &[u8], params: &ChainParams, runs: &mut BatchRuns) -> Result<UncheckedTx, MempoolError> {
        let unchecked = UncheckedTx::from_bytes(bytes, params.max_tx_bytes as usize)?;
        let hash = unchecked.hash();
        // As in `admit_verified`: the account is read under the lock, so it
        // and the queues are of the same height.
        let pool = self.mempool.lock().map_err(|_| LedgerError::Storage("mempool lock poisoned".into()))?;
        let sender = unchecked.unverified_sender();
        let account = read_account(&self.store, &sender)?;
        let body = unchecked.unverified_body();
        match pool.check(&hash, &sender, body, unchecked.encoded_len(), &account, &self.chain_id, params, runs) {
            Ok(_) => {}
            // In the pool: `Duplicate` comes first, as it always has.
            Err(e @ MempoolError::Duplicate(_)) => return Err(e),
            // A committed transaction is named as such whatever else is
            // wrong with it now. The index is read only on this path: a
            // committed transaction never passes `check`, since committing
            // it moved its sender's nonce past it and accounts are never
            // deleted (one store read a transaction saved at admission).
            Err(e) => {
                drop(pool);
                if self.store.tx_location(&hash).map_err(|e| LedgerError::Storage(e.to_string()))?.is_some() {
                    return Err(MempoolError::AlreadyCommitted(hash));
                }
                return Err(e);
            }
        }
        pool.passed(runs, &sender, body.nonce, &account);
        Ok(unchecked)
    }

    /// The checks after the signature, and the insertion.
    fn admit_verified(&self, tx: VerifiedTx, params: &ChainParams) -> Result<Hash, MempoolError> {
        // Code that would only produce a failed receipt is refused up front,
        // so the uploader gets the reason at once and pays nothing. (Mempool
        // policy only: blocks stay valid with such a tx, which then fails.)
        if let ledger::Payload::StoreCode { code } = &tx.body().payload
            && code.len() <= params.contracts.max_code_bytes as usize
            && let Err(e) = vm::validate::check_code(code, params)
        {
            return Err(MempoolError::Invalid(ledger::InvalidTx::Contract(format!("invalid contract code: {e}"))));
        }
        // Lock before reading the account, so a concurrent commit's eviction pass
        // sees this transaction (see `commit`).
        let mut pool = self.mempool.lock().map_err(|_| LedgerError::Storage("mempool lock poisoned".into()))?;
        let account = read_account(&self.store, &tx.sender())?;
        pool.insert(tx, &account, &self.chain_id, params)
    }

    /// Propose: builds the next block from the mempool and executes it.
    /// `now_ms` is the proposer's clock; the block time never goes backwards.
    pub fn build_block(
        &self,
        proposer: PublicKey,
        now_ms: u64,
        last_commit: Option<Commit>,
    ) -> Result<Executed, ChainError> {
        let started = std::time::Instant::now();
        let tip = self.tip();
        let height = tip.height.next();
        let time_ms = ledger::proposal_time(tip.time_ms, now_ms)
            .ok_or_else(|| ChainError::Bug(format!("the tip's time {} ms cannot be followed", tip.time_ms)))?;
        let params = self.params();
        let max_txs = (params.max_block_bytes as usize / 100)
            .min(self.proposer_max_txs.load(std::sync::atomic::Ordering::Relaxed))
            .max(1);
        // A sender whose account cannot be read is offered from its lowest
        // queued nonce; the builder's own read then reports the fault.
        let next_nonce = |a: &Address| read_account(&self.store, a).ok().map(|acct| acct.nonce);
        let candidates = self.mempool.lock().map_err(|_| ChainError::Poisoned)?.candidates(max_txs, next_nonce);
        let validator_set_hash = Hash(self.validators_at(height)?.hash());
        let (evidence, misbehaviour) = self.evidence_for_block(height)?;
        let env = BlockEnv {
            chain_id: self.chain_id.clone(),
            height,
            time_ms,
            last_commit: self.vote_infos(height, last_commit.as_ref())?,
            misbehaviour,
            proposer: Some((proposer, self.client())),
        };
        let env_client = env.proposer.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
        let byte_budget = self.tx_byte_budget(height)?;
        let mut exec = BlockExecutor::with_vm(&self.store, &params, env, &self.vm);
        let mut included = Vec::with_capacity(candidates.len());
        let mut skipped: Option<Address> = None;
        let mut dropped: Vec<Hash> = Vec::new();
        let mut bytes = 0usize;
        for tx in candidates {
            if skipped == Some(tx.sender()) {
                continue; // an earlier nonce of this sender was not includable
            }
            if bytes + tx.encoded_len() > byte_budget {
                break;
            }
            match exec.execute(&tx) {
                Ok(_) => {
                    bytes += tx.encoded_len();
                    included.push(tx);
                }
                Err(ExecError::Invalid(InvalidTx::BlockGasExhausted)) => break,
                Err(ExecError::Invalid(reason)) => {
                    // A reason that cannot change (chain id, gas limits, a nonce
                    // already used, …) will not let it into any later block either.
                    if crate::mempool::permanently_invalid(&reason) {
                        dropped.push(tx.hash());
                    }
                    tracing::debug!(hash = %tx.hash(), %reason, "skipping transaction");
                    skipped = Some(tx.sender());
                }
                Err(ExecError::Unexecutable(reason)) => {
                    // This node cannot run it within its bounds; it leaves the
                    // block (and the mempool), the rest of the block goes on.
                    tracing::warn!(hash = %tx.hash(), %reason, "transaction cannot be executed on this node: dropped");
                    dropped.push(tx.hash());
                    skipped = Some(tx.sender());
                }
                Err(ExecError::Fault(e)) => return Err(e.into()),
            }
        }
        if !dropped.is_empty() {
            let mut pool = self.mempool.lock().map_err(|_| ChainError::Poisoned)?;
            for h in &dropped {
                pool.remove(h);
            }
        }
        let outcome = exec.finish()?;
        let header = Header {
            version: ledger::block::HEADER_VERSION,
            chain_id: self.chain_id.clone(),
            height,
            time_ms,
            parent_hash: tip.hash,
            tx_root: merkle_root(included.iter().map(VerifiedTx::hash)),
            state_root: outcome.state_root(),
            receipts_root: merkle_root(outcome.receipts.iter().map(Receipt::hash)),
            proposer,
            client: env_client,
            validator_set_hash,
            last_commit_hash: last_commit.as_ref().map_or(Hash::ZERO, Commit::hash),
            evidence_hash: ledger::block::evidence_hash(&evidence),
        };
        let block = Block { header, txs: included.iter().map(|t| t.tx().clone()).collect(), last_commit, evidence };
        self.phases.record(Phase::Build, started);
        Ok(Executed { block, txs: included, outcome })
    }

    /// Validate: checks a block built by someone else against the current tip
    /// and re-executes it; the header's roots must be reproduced exactly.
    /// `now_ms` is this validator's clock for a live proposal (its time may be
    /// at most [`ledger::MAX_FUTURE_DRIFT_MS`] ahead), `None` for a block that
    /// comes with a verified commit certificate (block sync).
    /// Signatures already verified at mempool admission are not checked again.
    pub fn validate_block(&self, block: Block, now_ms: Option<u64>) -> Checked<Executed> {
        split(self.check_block(block, now_ms))
    }

    fn check_block(&self, block: Block, now_ms: Option<u64>) -> Result<Executed, Check> {
        let tip = self.tip();
        let h = &block.header;
        if h.version != ledger::block::HEADER_VERSION {
            return Err(invalid(format!("header version {}", h.version)));
        }
        if h.chain_id != self.chain_id {
            return Err(invalid(format!("chain id `{}`", h.chain_id)));
        }
        if h.height != tip.height.next() {
            return Err(invalid(format!("height {} does not follow {}", h.height, tip.height)));
        }
        if h.parent_hash != tip.hash {
            return Err(invalid(format!("parent {} is not the tip {}", h.parent_hash, tip.hash)));
        }
        ledger::check_block_time(tip.time_ms, h.time_ms, now_ms).map_err(invalid)?;
        let set = self.validators_at(h.height)?;
        if h.validator_set_hash != Hash(set.hash()) {
            return Err(invalid(format!(
                "validator set hash {} is not the set of height {}",
                h.validator_set_hash, h.height
            )));
        }
        if set.get(&consensus::ValidatorId(h.proposer.0)).is_none() {
            return Err(invalid(format!("proposer {} is not in the validator set", h.proposer)));
        }
        ledger::block::check_client(&h.client).map_err(|e| invalid(format!("header: {e}")))?;
        // Hashed once: the roots and the mempool lookups both need them.
        let tx_hashes = block.tx_hashes();
        block.check_body_roots_hashed(&tx_hashes).map_err(invalid)?;
        match (&block.last_commit, tip.height) {
            (None, Height::GENESIS) => {}
            (Some(_), Height::GENESIS) => return Err(invalid("the first block carries no last commit")),
            (None, _) => return Err(invalid("missing the previous block's commit certificate")),
            (Some(c), _) => {
                if c.block_hash != tip.hash {
                    return Err(invalid(format!("last commit is for {}, not the parent {}", c.block_hash, tip.hash)));
                }
                self.check_commit(tip.height, c)?;
            }
        }
        let misbehaviour = self.verify_evidence(h.height, &block.evidence)?;
        let started = std::time::Instant::now();
        let txs = self.verify_txs(&block.txs, &tx_hashes)?;
        self.phases.record(Phase::Verify, started);
        let started = std::time::Instant::now();
        let tx_bytes: usize = txs.iter().map(VerifiedTx::encoded_len).sum();
        if tx_bytes > self.tx_byte_budget(h.height)? {
            return Err(invalid(format!("{tx_bytes} bytes of transactions exceed the block limit")));
        }
        let env = BlockEnv {
            chain_id: self.chain_id.clone(),
            height: h.height,
            time_ms: h.time_ms,
            last_commit: self.vote_infos(h.height, block.last_commit.as_ref())?,
            misbehaviour,
            proposer: Some((h.proposer, h.client.clone())),
        };
        let outcome = match ledger::apply_block(&self.store, &self.params(), env, &self.vm, &txs) {
            Ok(o) => o,
            Err(e @ ApplyError::InvalidTx { .. }) => return Err(invalid(e.to_string())),
            Err(ApplyError::Unexecutable { index, reason }) => {
                self.drop_unexecutable(&txs[index], &reason);
                return Err(Check::Rejected(BlockRejected::Unexecutable(format!("transaction {index}: {reason}"))));
            }
            Err(ApplyError::Fault(e)) => return Err(e.into()),
        };
        if outcome.state_root() != h.state_root {
            return Err(invalid(format!(
                "state root {} does not match execution {}",
                h.state_root,
                outcome.state_root()
            )));
        }
        if merkle_root(outcome.receipts.iter().map(Receipt::hash)) != h.receipts_root {
            return Err(invalid("receipts root does not match execution"));
        }
        self.phases.record(Phase::Execute, started);
        Ok(Executed { block, txs, outcome })
    }

    /// Forgets a transaction this node cannot execute within its local
    /// bounds, so it does not keep coming back in this node's proposals.
    fn drop_unexecutable(&self, tx: &VerifiedTx, reason: &str) {
        tracing::warn!(hash = %tx.hash(), %reason, "transaction cannot be executed on this node: dropped from the mempool");
        if let Ok(mut pool) = self.mempool.lock() {
            pool.remove(&tx.hash());
        }
    }

    /// Bytes of transactions a block may carry: `max_block_bytes` less room
    /// for the header and the previous block's certificate (96 bytes a
    /// signer), so every valid block fits in one gossiped proposal.
    fn tx_byte_budget(&self, height: Height) -> Result<usize, ChainError> {
        // Evidence: two signed messages (~300 bytes) per item.
        let params = self.params();
        let evidence = 400 * params.staking.max_evidence_per_block as usize;
        let overhead = 4096 + evidence + 96 * self.validators_at(height)?.len();
        Ok((params.max_block_bytes as usize).saturating_sub(overhead))
    }

    /// Checks a commit certificate for `height` against that height's validator set.
    /// The last certificate that verified is remembered, so the same one is
    /// not checked again (block sync checks block h's certificate, then meets
    /// it again as block h+1's `last_commit`; each round's proposal repeats it).
    pub fn verify_commit(&self, height: Height, commit: &Commit) -> Checked<()> {
        split(self.check_commit(height, commit))
    }

    fn check_commit(&self, height: Height, commit: &Commit) -> Result<(), Check> {
        let key = (height, commit.hash());
        if self.last_verified_commit.lock().is_ok_and(|k| *k == Some(key)) {
            return Ok(());
        }
        if height == Height::GENESIS || height > self.tip().height.next() {
            return Err(invalid(format!("a commit certificate for height {height} cannot be checked here")));
        }
        crate::convert::to_certificate(commit)
            .verify_for_height(consensus::Height(height.0), &*self.validators_at(height)?, &self.consensus_chain_id)
            .map_err(|e| invalid(format!("commit certificate for height {height}: {e}")))?;
        if let Ok(mut k) = self.last_verified_commit.lock() {
            *k = Some(key);
        }
        Ok(())
    }

    /// The transactions of a block, verified: those this node's mempool already
    /// admitted were verified then and are not checked again; the rest are
    /// checked on all cores.
    /// `hashes[i]` is `txs[i]`'s hash.
    fn verify_txs(&self, txs: &[SignedTx], hashes: &[Hash]) -> Result<Vec<VerifiedTx>, Check> {
        let known: Vec<Option<VerifiedTx>> = {
            let pool = self.mempool.lock().map_err(|_| ChainError::Poisoned)?;
            hashes.iter().map(|h| pool.get(h)).collect()
        };
        let missing: Vec<usize> = known.iter().enumerate().filter(|(_, k)| k.is_none()).map(|(i, _)| i).collect();
        let mut verified: BTreeMap<usize, VerifiedTx> = BTreeMap::new();
        if !missing.is_empty() {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(missing.len().div_ceil(64));
            let chunk = missing.len().div_ceil(threads.max(1));
            let results: Vec<Result<Vec<(usize, VerifiedTx)>, Check>> = std::thread::scope(|scope| {
                let handles: Vec<_> = missing
                    .chunks(chunk)
                    .map(|idx| {
                        scope.spawn(move || {
                            // One signature batch per thread (same verdicts as one by one).
                            let checked = SignedTx::verify_all(idx.iter().map(|&i| txs[i].clone()).collect());
                            idx.iter()
                                .zip(checked)
                                .map(|(&i, v)| v.map(|v| (i, v)).map_err(|e| invalid(format!("tx {i}: {e}"))))
                                .collect::<Result<Vec<_>, _>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| Err(Check::Fault(ChainError::Bug("verifier panicked".into()))))
                    })
                    .collect()
            });
            for r in results {
                verified.extend(r?);
            }
        }
        known
            .into_iter()
            .enumerate()
            .map(|(i, k)| {
                k.or_else(|| verified.remove(&i))
                    .ok_or_else(|| Check::Fault(ChainError::Bug(format!("tx {i} was not verified"))))
            })
            .collect()
    }

    /// Commit: persists a decided block in one synced batch, then advances the
    /// tip, evicts what the block made invalid and notifies subscribers.
    pub fn commit(&self, executed: Executed, commit: &Commit) -> Result<(), ChainError> {
        let Executed { block, txs, outcome } = executed;
        let guard = self.commit_lock.lock().map_err(|_| ChainError::Poisoned)?;
        let tip = self.tip();
        if block.header.height != tip.height.next() || block.header.parent_hash != tip.hash {
            return Err(ChainError::Bug(format!(
                "block {} does not extend the tip {}",
                block.header.height, tip.height
            )));
        }
        let next = block.header.height.next();
        let proposers = self.proposer_selection()?.next_height(&*self.validators_at(next)?);
        let encoded = borsh::to_vec(&proposers).map_err(|e| ChainError::Bug(e.to_string()))?;
        let started = std::time::Instant::now();
        self.store.commit_block(&block, &outcome, commit, (next, &encoded))?;
        self.phases.record(Phase::Write, started);
        if !block.evidence.is_empty()
            && let Ok(mut pool) = self.evidence.lock()
        {
            for e in &block.evidence {
                if let Ok(ev) = borsh::from_slice::<consensus::Evidence>(&e.0) {
                    pool.remove(&ev.offender());
                }
            }
        }
        for e in &outcome.events {
            if matches!(e.kind.as_str(), "slash" | "jail" | "validator_set_update") {
                tracing::warn!(height = %block.header.height, kind = %e.kind, attributes = ?e.attributes, "staking");
            }
        }
        let hash = block.hash();
        let new_tip = Tip {
            height: block.header.height,
            hash,
            state_root: block.header.state_root,
            time_ms: block.header.time_ms,
        };
        *self.tip.write().map_err(|_| ChainError::Poisoned)? = new_tip;
        *self.proposers.lock().map_err(|_| ChainError::Poisoned)? = Some((next, proposers));
        drop(guard);
        if let Some(p) = ledger::governance::read_params(&self.store)?
            && p != *self.params()
        {
            tracing::warn!(height = %block.header.height, "chain parameters changed by governance");
            *self.params.write().map_err(|_| ChainError::Poisoned)? = Arc::new(p);
        }

        // Every account the block touched: senders, recipients, fee collector.
        let started = std::time::Instant::now();
        let mut touched: BTreeMap<Address, Account> = BTreeMap::new();
        for t in &txs {
            touched.entry(t.sender()).or_default();
            match &t.body().payload {
                ledger::Payload::Transfer { to, .. } => {
                    touched.entry(*to).or_default();
                }
                ledger::Payload::Execute { contract, .. } => {
                    touched.entry(*contract).or_default();
                }
                _ => {}
            }
        }
        for (addr, acct) in touched.iter_mut() {
            *acct = read_account(&self.store, addr)?;
        }
        let hashes: Vec<Hash> = txs.iter().map(VerifiedTx::hash).collect();
        let evicted = self.mempool.lock().map_err(|_| ChainError::Poisoned)?.update(&hashes, &touched);
        self.phases.record(Phase::Mempool, started);

        let started = std::time::Instant::now();
        self.notify(&block, hash, &outcome);
        self.phases.record(Phase::Notify, started);
        tracing::info!(
            height = %block.header.height, hash = %hash, txs = txs.len(), evicted,
            root = %block.header.state_root, "committed block"
        );
        self.retire.drop_later((block, txs, outcome));
        Ok(())
    }
}
