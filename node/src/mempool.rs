//! The mempool: admission checks, per-sender nonce ordering, a size bound, and
//! eviction of transactions a committed block made invalid.
//!
//! Every transaction's signature is verified exactly once, here; the verified
//! form ([`VerifiedTx`]) is what block building executes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use ledger::exec::{check_fee_payable, check_stateless};
use ledger::{Account, Address, Amount, ChainParams, Hash, InvalidTx, LedgerError, TxBody, VerifiedTx};

/// Why the mempool refused a transaction.
#[derive(Debug, thiserror::Error)]
pub enum MempoolError {
    #[error(transparent)]
    Invalid(#[from] InvalidTx),
    #[error("transaction {0} is already in the mempool")]
    Duplicate(Hash),
    #[error("transaction {0} is already committed")]
    AlreadyCommitted(Hash),
    #[error("a transaction with nonce {nonce} from this sender is already pending")]
    NonceTaken { nonce: u64 },
    #[error("mempool is full ({0} transactions)")]
    Full(usize),
    #[error(
        "{0} transactions already wait in this mempool behind a missing nonce (the most it keeps); send the account's next nonce first"
    )]
    WaitingFull(usize),
    #[error(
        "the sender cannot pay the maximum fees of all its pending transactions: balance {balance}, needed {needed}"
    )]
    PendingFees { balance: Amount, needed: Amount },
    #[error("transaction {0} was dropped by this node (it cannot be included in a block here); not admitted again")]
    Dropped(Hash),
    #[error("state: {0}")]
    State(#[from] LedgerError),
}

/// Is `reason` one that no later state can change? Such a transaction can
/// never enter a block, so a proposer that meets it drops it for good.
/// (A nonce gap can be filled, a balance can grow, a full block empties.)
pub fn permanently_invalid(reason: &InvalidTx) -> bool {
    !matches!(reason, InvalidTx::NonceGap { .. } | InvalidTx::CannotPayFee { .. } | InvalidTx::BlockGasExhausted)
}

/// How many dropped transaction hashes a mempool remembers, so gossip does
/// not bring them back.
pub const DROPPED_MEMORY: usize = 4096;

/// Mempool limits (from `config.toml`).
#[derive(Clone, Debug)]
pub struct MempoolLimits {
    pub max_txs: usize,
    pub max_bytes: usize,
    /// How far ahead of an account's next nonce a transaction may be queued.
    pub max_nonce_gap: u64,
}

#[derive(Debug)]
struct Entry {
    tx: VerifiedTx,
    seq: u64,
}

/// The share of `max_txs` that transactions waiting behind a missing nonce may
/// take (one in four). They cannot enter a block until the missing one comes,
/// and may never: without a bound, accounts that queue transactions after a
/// nonce they never send fill the pool for nothing (such transactions never
/// execute, so never pay) and every node then refuses everyone else's.
pub const WAITING_SHARE_DIVISOR: usize = 4;

/// Earlier transactions of one admission batch that passed [`Mempool::check`]
/// before their signatures, as they may change the pool once inserted in
/// order: the run of each sender they extend, and how many waiting
/// transactions they may bring into a run (at most). The waiting-share check
/// of a later transaction allows for both, so the checks before the
/// signature are never stricter than inserting one by one. Empty for
/// [`Mempool::insert`] (the state itself).
#[derive(Debug, Default)]
pub struct BatchRuns {
    run_end: HashMap<Address, u64>,
    may_absorb: usize,
}

/// One sender's pending transactions by nonce, and what is kept as they come
/// and go, so that admission and the re-check after a block walk no queue (an
/// overloaded node holds tens of transactions per sender): the sum of their
/// maximum fees, and the run from the account's nonce `base` up to the first
/// missing nonce `run_end`. Entries above `run_end` wait; `waiting` counts them.
#[derive(Debug)]
struct Queue {
    txs: BTreeMap<u64, Entry>,
    fees: Amount,
    base: u64,
    run_end: u64,
    waiting: usize,
}

impl Queue {
    fn new(base: u64) -> Queue {
        Queue { txs: BTreeMap::new(), fees: Amount::ZERO, base, run_end: base, waiting: 0 }
    }

    /// Inserts at a free `nonce` not below `base`.
    fn add(&mut self, nonce: u64, e: Entry) {
        self.txs.insert(nonce, e);
        if nonce == self.run_end {
            self.run_end += 1;
            self.absorb();
        } else if nonce > self.run_end {
            self.waiting += 1;
        }
    }

    /// Moves `run_end` up over entries that waited and now follow the run.
    fn absorb(&mut self) {
        while self.txs.contains_key(&self.run_end) {
            self.run_end += 1;
            self.waiting = self.waiting.saturating_sub(1);
        }
    }

    fn take(&mut self, nonce: u64) -> Option<Entry> {
        let e = self.txs.remove(&nonce)?;
        if nonce > self.run_end {
            self.waiting = self.waiting.saturating_sub(1);
        } else if nonce >= self.base && nonce < self.run_end {
            // The rest of the run now waits behind the hole.
            self.waiting += usize::try_from(self.run_end - nonce - 1).unwrap_or(usize::MAX);
            self.run_end = nonce;
        }
        Some(e)
    }

    /// The account's nonce is now `nonce` (the caller took the entries below).
    fn rebase(&mut self, nonce: u64) {
        if nonce > self.base {
            self.base = nonce;
        }
        if self.run_end < self.base {
            self.run_end = self.base;
        }
        self.absorb();
    }
}

impl std::ops::Deref for Queue {
    type Target = BTreeMap<u64, Entry>;
    fn deref(&self) -> &Self::Target {
        &self.txs
    }
}

/// A queue's transactions from its lowest nonce up to the first missing one.
fn contiguous(q: &Queue) -> impl Iterator<Item = &Entry> {
    let mut next: Option<u64> = None;
    q.iter()
        .take_while(move |(n, _)| {
            let in_run = next.is_none_or(|x| **n == x);
            next = n.checked_add(1);
            in_run
        })
        .map(|(_, e)| e)
}

/// A queued transaction's maximum fee (admission refused any that overflows).
fn max_fee(e: &Entry) -> Amount {
    e.tx.body().max_fee().unwrap_or(Amount::ZERO)
}

/// Pending transactions, indexed by hash and by (sender, nonce).
#[derive(Debug)]
pub struct Mempool {
    limits: MempoolLimits,
    by_hash: HashMap<Hash, (Address, u64)>,
    by_sender: BTreeMap<Address, Queue>,
    bytes: usize,
    /// Transactions behind a missing nonce, all senders (each queue's `waiting`).
    waiting: usize,
    next_seq: u64,
    /// Recently dropped hashes (bounded by [`DROPPED_MEMORY`], oldest first).
    dropped: VecDeque<Hash>,
    dropped_set: HashSet<Hash>,
}

impl Mempool {
    pub fn new(limits: MempoolLimits) -> Mempool {
        Mempool {
            limits,
            by_hash: HashMap::new(),
            by_sender: BTreeMap::new(),
            bytes: 0,
            waiting: 0,
            next_seq: 0,
            dropped: VecDeque::new(),
            dropped_set: HashSet::new(),
        }
    }

    /// Drops a pending transaction for good: it is removed and, for a while
    /// ([`DROPPED_MEMORY`] drops), not admitted again. Returns whether it was pending.
    pub fn remove(&mut self, h: &Hash) -> bool {
        if self.dropped_set.insert(*h) {
            self.dropped.push_back(*h);
            while self.dropped.len() > DROPPED_MEMORY {
                if let Some(old) = self.dropped.pop_front() {
                    self.dropped_set.remove(&old);
                }
            }
        }
        match self.by_hash.remove(h) {
            Some((sender, nonce)) => {
                let removed = self.remove_entry(&sender, nonce).is_some();
                self.trim_waiting(&sender);
                removed
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
    pub fn contains(&self, h: &Hash) -> bool {
        self.by_hash.contains_key(h)
    }

    /// Whether a transaction of `encoded_len` bytes could still fit. A full
    /// pool evicts nothing to make room, so a transaction refused here would
    /// be refused by [`Mempool::insert`] too: admission asks this *before*
    /// verifying the signature, so an overloaded node sheds load for the
    /// price of a decode instead of a signature check.
    pub fn has_room(&self, encoded_len: usize) -> Result<(), MempoolError> {
        if self.by_hash.len() >= self.limits.max_txs || self.bytes.saturating_add(encoded_len) > self.limits.max_bytes {
            return Err(MempoolError::Full(self.by_hash.len()));
        }
        Ok(())
    }

    /// An admitted (so already verified) transaction by hash.
    pub fn get(&self, h: &Hash) -> Option<VerifiedTx> {
        let (sender, nonce) = self.by_hash.get(h)?;
        self.by_sender.get(sender)?.get(nonce).map(|e| e.tx.clone())
    }

    /// The next nonce a sender should use, counting its contiguous pending
    /// transactions after the committed nonce.
    pub fn next_nonce(&self, sender: &Address, committed: u64) -> u64 {
        let mut n = committed;
        if let Some(q) = self.by_sender.get(sender) {
            while q.contains_key(&n) {
                n += 1;
            }
        }
        n
    }

    /// Every check of [`Mempool::insert`] but the insertion: would a
    /// transaction with this hash, claimed sender and body be admitted now,
    /// given the sender's committed `account`? Returns the sender's queued
    /// maximum fees with it.
    ///
    /// Admission also asks this *before* the signature check, on the body as
    /// sent (see [`ledger::UncheckedTx::unverified_body`]): a refusal here is
    /// one `insert` gives for the same state whoever signed, so an
    /// overloaded node (or one fed transactions it cannot keep: a used or
    /// far-off nonce, an unfunded sender, a full waiting share) sheds them
    /// for the price of a decode and an account read, not a signature check.
    /// `batch`: what the batch's earlier transactions may still change
    /// ([`BatchRuns`]; record each that passes with [`Mempool::passed`]).
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        &self,
        hash: &Hash,
        sender: &Address,
        body: &TxBody,
        encoded_len: usize,
        account: &Account,
        chain_id: &str,
        params: &ChainParams,
        batch: &BatchRuns,
    ) -> Result<Amount, MempoolError> {
        if self.by_hash.contains_key(hash) {
            return Err(MempoolError::Duplicate(*hash));
        }
        if self.dropped_set.contains(hash) {
            return Err(MempoolError::Dropped(*hash));
        }
        check_stateless(body, encoded_len, chain_id, params)?;
        if body.nonce < account.nonce {
            return Err(InvalidTx::NonceTooLow { expected: account.nonce, got: body.nonce }.into());
        }
        if body.nonce > account.nonce.saturating_add(self.limits.max_nonce_gap) {
            return Err(InvalidTx::NonceGap { expected: account.nonce, got: body.nonce }.into());
        }
        check_fee_payable(body, account)?;
        let queue = self.by_sender.get(sender);
        if queue.is_some_and(|q| q.contains_key(&body.nonce)) {
            return Err(MempoolError::NonceTaken { nonce: body.nonce });
        }
        // The sender must be able to pay the maximum fees of everything it has queued.
        let fee = body.max_fee().ok_or(InvalidTx::FeeOverflow)?;
        let needed = queue.map_or(Some(fee), |q| q.fees.checked_add(fee)).ok_or(InvalidTx::FeeOverflow)?;
        if needed > account.balance {
            return Err(MempoolError::PendingFees { balance: account.balance, needed });
        }
        self.has_room(encoded_len)?;
        // Behind a missing nonce: admitted only within the waiting share.
        if body.nonce > self.run_end(sender, account, batch)
            && self.waiting.saturating_sub(batch.may_absorb) >= self.max_waiting()
        {
            return Err(MempoolError::WaitingFull(self.waiting));
        }
        Ok(needed)
    }

    /// Where `sender`'s run ends (its first missing nonce), counting what
    /// `batch` may add before it.
    fn run_end(&self, sender: &Address, account: &Account, batch: &BatchRuns) -> u64 {
        let pool = self.by_sender.get(sender).map_or(account.nonce, |q| q.run_end.max(account.nonce));
        batch.run_end.get(sender).map_or(pool, |b| pool.max(*b))
    }

    /// Records in `batch` that a transaction of `sender` with `nonce` passed
    /// [`Mempool::check`]: if it continues the run, the run goes on past it
    /// and over what is queued after it (whose waiting transactions may then
    /// leave the waiting count).
    pub fn passed(&self, batch: &mut BatchRuns, sender: &Address, nonce: u64, account: &Account) {
        if nonce != self.run_end(sender, account, batch) {
            return;
        }
        let queue = self.by_sender.get(sender);
        let mut next = nonce.saturating_add(1);
        // Bounded by the sender's queue (at most the nonce gap bound).
        while queue.is_some_and(|q| q.contains_key(&next)) {
            next = next.saturating_add(1);
        }
        batch.run_end.insert(*sender, next);
        batch.may_absorb = batch.may_absorb.saturating_add(queue.map_or(0, |q| q.waiting));
    }

    /// Admits a verified transaction given the sender's committed account.
    pub fn insert(
        &mut self,
        tx: VerifiedTx,
        account: &Account,
        chain_id: &str,
        params: &ChainParams,
    ) -> Result<Hash, MempoolError> {
        let (hash, sender) = (tx.hash(), tx.sender());
        let needed =
            self.check(&hash, &sender, tx.body(), tx.encoded_len(), account, chain_id, params, &BatchRuns::default())?;
        let body = tx.body();
        self.bytes += tx.encoded_len();
        self.by_hash.insert(hash, (sender, body.nonce));
        let seq = self.next_seq;
        self.next_seq += 1;
        let q = self.by_sender.entry(sender).or_insert_with(|| Queue::new(account.nonce));
        let before = q.waiting;
        q.add(body.nonce, Entry { tx, seq });
        q.fees = needed;
        self.waiting = self.waiting.saturating_sub(before) + q.waiting;
        Ok(hash)
    }

    /// The most transactions kept behind a missing nonce ([`WAITING_SHARE_DIVISOR`]).
    pub fn max_waiting(&self) -> usize {
        (self.limits.max_txs / WAITING_SHARE_DIVISOR).max(1)
    }

    /// Transactions kept behind a missing nonce.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Candidates for the next block: senders in order of their oldest pending
    /// transaction, each sender's transactions in nonce order from the
    /// account's next nonce (`next_nonce`, the committed state) up to the
    /// first missing one. The block builder executes them and skips what is
    /// not valid.
    ///
    /// A transaction after a missing nonce cannot enter this block (its
    /// predecessor is neither committed nor pending here), so it is not
    /// listed: otherwise senders that queue many such transactions (an
    /// attacker, or the holes an overloaded network makes when each node
    /// refuses different transactions) take the block's `max` slots and the
    /// block holds none of the includable ones behind them. Where
    /// `next_nonce` does not know a sender, its run starts at its lowest
    /// queued nonce.
    pub fn candidates(&self, max: usize, next_nonce: impl Fn(&Address) -> Option<u64>) -> Vec<VerifiedTx> {
        let mut senders: Vec<(u64, &Address, &Queue)> =
            self.by_sender.iter().map(|(a, q)| (q.values().map(|e| e.seq).min().unwrap_or(u64::MAX), a, q)).collect();
        senders.sort_by_key(|(seq, _, _)| *seq);
        let mut out = Vec::with_capacity(max.min(self.len()));
        for (_, addr, q) in senders {
            if out.len() >= max {
                break;
            }
            let Some(first) = q.keys().next() else { continue };
            if next_nonce(addr).is_some_and(|n| n != *first) {
                continue; // the account's next nonce is not here: nothing to include
            }
            out.extend(contiguous(q).take(max - out.len()).map(|e| e.tx.clone()));
        }
        out
    }

    /// After a block: drops included transactions, then re-checks every account
    /// the block touched (`touched` → its new state), evicting transactions whose
    /// nonce is now used or whose maximum fees the sender can no longer pay.
    pub fn update(&mut self, included: &[Hash], touched: &BTreeMap<Address, Account>) -> usize {
        let mut evicted = 0;
        // Senders of included transactions, with a floor of their new nonce.
        let mut moved: BTreeMap<Address, u64> = BTreeMap::new();
        for h in included {
            if let Some((sender, nonce)) = self.by_hash.remove(h) {
                self.remove_entry(&sender, nonce);
                let floor = moved.entry(sender).or_default();
                *floor = (*floor).max(nonce.saturating_add(1));
            }
        }
        for (addr, acct) in touched {
            let Some(q) = self.by_sender.get(addr) else { continue };
            let mut drop: BTreeSet<u64> = q.range(..acct.nonce).map(|(n, _)| *n).collect();
            let stale = drop.iter().filter_map(|n| q.get(n)).try_fold(Amount::ZERO, |a, e| a.checked_add(max_fee(e)));
            let still_queued = stale.and_then(|s| q.fees.checked_sub(s));
            // The usual case: the account can still pay for all it has queued.
            if still_queued.is_none_or(|f| f > acct.balance) {
                let mut fees = Amount::ZERO;
                for (n, e) in q.range(acct.nonce..) {
                    // Admission checked that max_fee fits; an overflow here evicts.
                    match e.tx.body().max_fee().and_then(|f| fees.checked_add(f)) {
                        Some(f) if f <= acct.balance => fees = f,
                        _ => {
                            drop.insert(*n);
                        }
                    }
                }
            }
            for n in drop {
                if let Some(e) = self.remove_entry(addr, n) {
                    self.by_hash.remove(&e.tx.hash());
                    evicted += 1;
                }
            }
            moved.insert(*addr, acct.nonce);
        }
        // Each run now starts at the account's nonce (taking an included
        // transaction made the rest of its run wait for a moment). A sender
        // the block moved but `touched` misses gets the floor.
        for (addr, nonce) in &moved {
            if let Some(q) = self.by_sender.get_mut(addr) {
                let before = q.waiting;
                q.rebase(*nonce);
                self.waiting = self.waiting.saturating_sub(before) + q.waiting;
            }
        }
        // Only then is what waits real: trim if a hole an eviction opened
        // took the pool past its share.
        for addr in touched.keys() {
            if self.waiting <= self.max_waiting() {
                break;
            }
            evicted += self.trim_waiting(addr);
        }
        evicted
    }

    /// An eviction or a drop can open a hole in a run and leave the rest of
    /// it waiting: if that takes the pool past its waiting share, `sender`'s
    /// highest waiting transactions go. So the share bounds what waits, not
    /// only what is admitted. Returns how many went.
    fn trim_waiting(&mut self, sender: &Address) -> usize {
        let mut trimmed = 0;
        while self.waiting > self.max_waiting() {
            let Some(nonce) =
                self.by_sender.get(sender).filter(|q| q.waiting > 0).and_then(|q| q.keys().next_back().copied())
            else {
                break;
            };
            let Some(e) = self.remove_entry(sender, nonce) else { break };
            self.by_hash.remove(&e.tx.hash());
            trimmed += 1;
        }
        trimmed
    }

    fn remove_entry(&mut self, sender: &Address, nonce: u64) -> Option<Entry> {
        let q = self.by_sender.get_mut(sender)?;
        let before = q.waiting;
        let e = q.take(nonce)?;
        self.waiting = self.waiting.saturating_sub(before) + q.waiting;
        // The sum covers this entry, so it cannot go below zero.
        q.fees = q.fees.checked_sub(max_fee(&e)).unwrap_or(Amount::ZERO);
        self.bytes -= e.tx.encoded_len();
        if q.is_empty() {
            self.by_sender.remove(sender);
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests;
