//! RocksDB storage: blocks, receipts, the tx-hash index, Merkle state and
//! metadata, one column family per table. Each block is written in ONE synced
//! `WriteBatch`, so after a crash the store holds every block up to some height
//! completely, and nothing of the next.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::store_cache::Caches;
use borsh::{BorshDeserialize, BorshSerialize};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use ledger::staking::SetMember;
use ledger::state::{StateDiff, StateStore};
use ledger::{Block, Commit, Event, Hash, Height, Receipt};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DB, Direction, IteratorMode, MemtableFactory, Options,
    SliceTransform, WriteBatch, WriteOptions,
};

const CF_META: &str = "meta";
const CF_BLOCKS: &str = "blocks"; // height (BE) -> borsh Block
const CF_BLOCK_HASH: &str = "block_hash"; // block hash -> height (BE)
const CF_RECEIPTS: &str = "receipts"; // height (BE) -> borsh Vec<Receipt>
const CF_TX_INDEX: &str = "tx_index"; // tx hash -> borsh TxLocation
const CF_NODES: &str = "jmt_nodes"; // borsh NodeKey -> borsh Node
const CF_VALUES: &str = "jmt_values"; // key hash ‖ version (BE) -> borsh Option<value>
const CF_LATEST: &str = "state_latest"; // key hash -> value
const CF_CONTRACT_KV: &str = "contract_kv"; // contract address (20) ‖ raw key -> value (ordered index)
const CF_VALSETS: &str = "validator_sets"; // first height (BE) -> borsh Vec<SetMember>, written on change
const CF_BLOCK_EVENTS: &str = "block_events"; // height (BE) -> borsh Vec<Event> (only when non-empty)

/// Every column family.
const ALL_CFS: [&str; 14] = [
    CF_META,
    CF_BLOCKS,
    CF_BLOCK_HASH,
    CF_RECEIPTS,
    CF_TX_INDEX,
    CF_NODES,
    CF_VALUES,
    CF_LATEST,
    CF_CONTRACT_KV,
    CF_VALSETS,
    CF_BLOCK_EVENTS,
    index::CF_IDX_ADDRESS,
    index::CF_IDX_EVENTS,
    index::CF_IDX_CODE,
];

#[path = "store_index.rs"]
pub mod index;
pub use index::{AddressEntry, AddressTx, EventTopic, IndexedEvent, RoleKey};

const META_GENESIS_HASH: &[u8] = b"genesis_hash";
const META_HEIGHT: &[u8] = b"height";
const META_SEEN_COMMIT: &[u8] = b"seen_commit";
const META_TOTAL_TXS: &[u8] = b"total_txs";
const META_SIGNER: &[u8] = b"signer_state";
const META_PROPOSERS: &[u8] = b"proposer_priorities"; // borsh (Height, bytes): priorities of that height
const WAL_PREFIX: &[u8] = b"wal/"; // wal/ ‖ height (BE) ‖ seq (BE) -> borsh WalEntry
const PENDING_BLOCK_PREFIX: &[u8] = b"pblk/"; // pblk/ ‖ block hash -> borsh Block

/// Storage failures. A corrupt record is reported, never unwrapped.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("rocksdb: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("corrupt record in `{table}`: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("this CPU lacks {0}, which this build of RocksDB uses for its checksums (see .cargo/config.toml)")]
    Cpu(&'static str),
}

/// RocksDB is built with SSE 4.2 and PCLMUL on x86-64 (`.cargo/config.toml`)
/// and checks nothing at run time: without them its first checksum would be
/// an illegal instruction, so opening a store checks first.
fn check_cpu() -> Result<(), StoreError> {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::arch::is_x86_feature_detected!("sse4.2") {
            return Err(StoreError::Cpu("SSE 4.2"));
        }
        if !std::arch::is_x86_feature_detected!("pclmulqdq") {
            return Err(StoreError::Cpu("PCLMULQDQ"));
        }
    }
    Ok(())
}

/// Where a committed transaction lives.
#[derive(Clone, Copy, Debug, BorshSerialize, BorshDeserialize)]
pub struct TxLocation {
    pub height: Height,
    pub index: u32,
}

/// The node's database. Cheap to clone (shared handle).
#[derive(Clone, Debug)]
pub struct Store {
    db: Arc<DB>,
    /// Tree nodes and latest values in memory (`store_cache.rs`).
    caches: Caches,
    sync: bool,
    /// Whether commits write the history index (`[index] enabled`).
    index: bool,
    /// What the next [`Store::clear_height`] deletes, shared by the clones.
    cleared: Arc<Mutex<Cleared>>,
    /// Bytes of the last block's write batch: the next one starts with that
    /// much room, so a batch of megabytes is not grown by doubling (each step
    /// a copy into freshly faulted pages, ~2 % of a validator's CPU at 10k
    /// transfers/s). At most [`MAX_BATCH_HINT`].
    batch_hint: Arc<AtomicUsize>,
}

/// Largest room a block's write batch starts with (a larger batch grows).
const MAX_BATCH_HINT: usize = 64 << 20;

/// The WAL entries and pending blocks still stored, so that
/// [`Store::clear_height`] deletes them one key at a time. A range delete
/// would leave a range tombstone in the memtable for every height, and
/// RocksDB fragments all of a memtable's range tombstones again for reads
/// after each new one: with a tombstone a height, reads of the meta column
/// family grew slower with every height until the memtable was flushed
/// (measured: a third of a validator's CPU on empty heights).
#[derive(Debug, Default)]
struct Cleared {
    /// Every height below this one had its WAL cleared (`None`: not known
    /// since the store was opened; the first clear scans from 0).
    wal_from: Option<Height>,
    /// The pending blocks written since the last clear (`None`: not known
    /// since the store was opened; the first clear scans for them).
    pending: Option<BTreeSet<Hash>>,
}

fn decode<T: BorshDeserialize>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    borsh::from_slice(bytes).map_err(|e| StoreError::Corrupt { table, reason: e.to_string() })
}

fn enc<T: BorshSerialize>(v: &T) -> Vec<u8> {
    borsh::to_vec(v).expect("writing to a Vec cannot fail")
}

fn value_key(kh: &KeyHash, version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&kh.0);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

/// The block cache all column families share (uncompressed blocks, index
/// and filter blocks). Allocated as blocks are read, so a small chain uses
/// little of it; 256 MiB holds the upper levels of the state tree and the
/// hot accounts of a chain with millions of them.
const BLOCK_CACHE_BYTES: usize = 256 << 20;

/// Table options of every column family: a bloom filter in every table file
/// (10 bits a key, ~1 % false positives: a lookup of an absent key — every
/// new transaction's hash in `tx_index` at admission — skips the file, and a
/// present key's lookup skips the files that lack it), and index and filter
/// blocks in the shared cache with level 0's pinned. A bloom filter over the
/// memtable's keys only pays where lookups miss (`tx_index`, see `open`):
/// on the state's families the keys looked up are in the memtable.
fn cf_options(cache: &Cache) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut o = Options::default();
    o.set_block_based_table_factory(&table);
    o
}

/// Column families read and written only by whole key, never iterated, whose
/// keys are 32-byte hashes (uniformly spread): `tx_index` (a transaction
/// hash) and `state_latest` (a state key hash). Their memtable is a hash
/// table of small skip lists (RocksDB's `HashSkipList`, bucketed by the key's
/// first [`POINT_PREFIX`] bytes) instead of one skip list over the whole
/// memtable: every block inserts thousands of random keys into each, and in
/// one big skip list each insert and lookup walks ~20 levels of cache misses
/// (measured with 600k keys in the memtable: 3.1–3.5 µs a key inserted
/// against 0.63–0.70 µs, lookups 3.6–4.3 µs against 1.2–1.4 µs).
///
/// The price is order: an iterator over such a memtable sees one bucket only,
/// so these families must never be iterated (only `get`, `put`, `delete`);
/// `point_families_are_never_iterated` checks the source for it.
const POINT_CFS: [&str; 2] = [CF_TX_INDEX, CF_LATEST];
/// Bytes of a key that pick its memtable bucket (every key of a point family
/// is a 32-byte hash, so every key is long enough).
const POINT_PREFIX: usize = 8;
/// Buckets of a point family's memtable (2 MiB of pointers each): with a
/// full 64 MiB memtable a bucket holds a handful of keys.
const POINT_BUCKETS: usize = 1 << 18;

impl Store {
    /// Opens (or creates) the database with the history index on.
    pub fn open(path: &Path, sync: bool) -> Result<Store, StoreError> {
        Store::open_with_index(path, sync, true)
    }

    /// Opens the database; `index` turns the history index on or off (see
    /// `store_index.rs`: off drops its rows and writes none).
    pub fn open_with_index(path: &Path, sync: bool, index: bool) -> Result<Store, StoreError> {
        check_cpu()?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        opts.increase_parallelism(2);
        // Required by the hash memtables of `POINT_CFS`; writes come from one
        // thread at a time anyway (the executor, the engine's WAL appends).
        opts.set_allow_concurrent_memtable_write(false);
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs = ALL_CFS.into_iter().map(|n| {
            let mut o = cf_options(&cache);
            if n == CF_TX_INDEX {
                // Every new transaction is looked up here at admission, and
                // misses: the filter answers most misses without searching
                // the memtable (measured: its search fell from 8.3 % to
                // 6.1 % of a validator's CPU at 5k transfers/s).
                o.set_memtable_prefix_bloom_ratio(0.05);
                o.set_memtable_whole_key_filtering(true);
            }
            if POINT_CFS.contains(&n) {
                o.set_prefix_extractor(SliceTransform::create_fixed_prefix(POINT_PREFIX));
                o.set_memtable_factory(MemtableFactory::HashSkipList {
                    bucket_count: POINT_BUCKETS,
                    height: 4,
                    branching_factor: 4,
                });
            }
            ColumnFamilyDescriptor::new(n, o)
        });
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        let store = Store {
            db: Arc::new(db),
            caches: Caches::new(),
            sync,
            index,
            cleared: Arc::default(),
            batch_hint: Arc::default(),
        };
        store.init_index()?;
        Ok(store)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(name).expect("column families are created at open")
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(self.sync);
        self.db.write_opt(batch, &wo)?;
        Ok(())
    }

    pub fn genesis_hash(&self) -> Result<Option<Hash>, StoreError> {
        match self.db.get_cf(self.cf(CF_META), META_GENESIS_HASH)? {
            Some(b) => Ok(Some(decode(CF_META, &b)?)),
            None => Ok(None),
        }
    }

    /// The last committed height (0 after genesis), or `None` for an empty store.
    pub fn height(&self) -> Result<Option<Height>, StoreError> {
        match self.db.get_cf(self.cf(CF_META), META_HEIGHT)? {
            Some(b) => Ok(Some(decode(CF_META, &b)?)),
            None => Ok(None),
        }
    }

    /// Writes the genesis state (version 0), the genesis validator set (of
    /// heights 1 and 2) and the genesis hash in one batch.
    pub fn init_genesis(&self, genesis_hash: Hash, diff: &StateDiff, set: &[SetMember]) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        self.put_state(&mut b, diff);
        b.put_cf(self.cf(CF_VALSETS), 1u64.to_be_bytes(), enc(&set.to_vec()));
        b.put_cf(self.cf(CF_META), META_GENESIS_HASH, enc(&genesis_hash));
        b.put_cf(self.cf(CF_META), META_HEIGHT, enc(&Height::GENESIS));
        self.write(b)?;
        self.state_written(diff);
        Ok(())
    }

    /// After a batch with `diff` is written: its nodes and values go to the
    /// caches (see `store_cache.rs` for why this order is safe).
    fn state_written(&self, diff: &StateDiff) {
        self.caches.committed(diff.tree.node_batch.nodes(), &diff.writes);
    }

    fn put_state(&self, b: &mut WriteBatch, diff: &StateDiff) {
        let nodes = self.cf(CF_NODES);
        for (k, n) in diff.tree.node_batch.nodes() {
            b.put_cf(nodes, enc(k), enc(n));
        }
        let values = self.cf(CF_VALUES);
        for ((ver, kh), v) in diff.tree.node_batch.values() {
            b.put_cf(values, value_key(kh, *ver), enc(v));
        }
        let latest = self.cf(CF_LATEST);
        for (k, v) in &diff.writes {
            match v {
                Some(v) => b.put_cf(latest, k.0, v),
                None => b.delete_cf(latest, k.0),
            }
        }
        let kv = self.cf(CF_CONTRACT_KV);
        for ((addr, key), v) in &diff.contract_kv {
            let k = [addr.0.as_slice(), key].concat();
            match v {
                Some(v) => b.put_cf(kv, k, v),
                None => b.delete_cf(kv, k),
            }
        }
    }

    /// Persists a decided block, its receipts, its state changes, the tx index,
    /// the history index (`store_index.rs`) and the commit that decided it, atomically and durably.
    pub fn commit_block(
        &self,
        block: &Block,
        outcome: &ledger::BlockOutcome,
        commit: &Commit,
        proposers: (Height, &[u8]),
    ) -> Result<(), StoreError> {
        let (receipts, diff, events) = (&outcome.receipts, &outcome.diff, &outcome.events);
        let validator_updates = outcome.validator_updates.as_deref();
        let h = block.header.height;
        let hk = h.0.to_be_bytes();
        let mut b = WriteBatch::with_capacity_bytes(self.batch_hint.load(Ordering::Relaxed));
        self.put_state(&mut b, diff);
        if !events.is_empty() {
            b.put_cf(self.cf(CF_BLOCK_EVENTS), hk, enc(events));
        }
        if let Some(set) = validator_updates {
            b.put_cf(self.cf(CF_VALSETS), (h.0 + 2).to_be_bytes(), enc(&set.to_vec()));
        }
        b.put_cf(self.cf(CF_BLOCKS), hk, enc(block));
        b.put_cf(self.cf(CF_BLOCK_HASH), block.hash().0, hk);
        let (receipts_bytes, offsets) = index::encode_receipts(receipts);
        b.put_cf(self.cf(CF_RECEIPTS), hk, receipts_bytes);
        // The history index goes in the same batch: block and index together or neither.
        if self.index {
            self.put_index(&mut b, block, outcome, &offsets);
        }
        let idx = self.cf(CF_TX_INDEX);
        for (i, r) in receipts.iter().enumerate() {
            let loc = TxLocation { height: h, index: u32::try_from(i).expect("block tx count fits u32") };
            b.put_cf(idx, r.tx_hash.0, enc(&loc));
        }
        b.put_cf(self.cf(CF_META), META_HEIGHT, enc(&h));
        b.put_cf(self.cf(CF_META), META_SEEN_COMMIT, enc(commit));
        b.put_cf(self.cf(CF_META), META_PROPOSERS, enc(&(proposers.0, proposers.1.to_vec())));
        let total = self.total_txs()?.saturating_add(receipts.len() as u64);
        b.put_cf(self.cf(CF_META), META_TOTAL_TXS, total.to_be_bytes());
        self.batch_hint.store(b.size_in_bytes().min(MAX_BATCH_HINT), Ordering::Relaxed);
        self.write(b)?;
        self.state_written(diff);
        Ok(())
    }

    /// Transactions committed in all blocks so far.
    pub fn total_txs(&self) -> Result<u64, StoreError> {
        match self.db.get_cf(self.cf(CF_META), META_TOTAL_TXS)? {
            Some(b) => Ok(u64::from_be_bytes(
                b.as_slice()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt { table: CF_META, reason: "total_txs".into() })?,
            )),
            None => Ok(0),
        }
    }

    /// Replaces the latest block's certificate with a fuller one (late
    /// precommits), so the next proposal records who signed.
    pub fn set_seen_commit(&self, commit: &Commit) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_META), META_SEEN_COMMIT, enc(commit));
        self.write(b)
    }

    /// The validator set in force at `height`: the latest change at or below
    /// it, with the height it took effect.
    pub fn validator_set_at(&self, height: Height) -> Result<Option<(Height, Vec<SetMember>)>, StoreError> {
        let cf = self.cf(CF_VALSETS);
        let mut it = self.db.iterator_cf(cf, IteratorMode::From(&height.0.to_be_bytes(), Direction::Reverse));
        match it.next() {
            Some(Ok((k, v))) => {
                let from = u64::from_be_bytes(
                    k.as_ref()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt { table: CF_VALSETS, reason: "key".into() })?,
                );
                Ok(Some((Height(from), decode(CF_VALSETS, &v)?)))
            }
            Some(Err(e)) => Err(e.into()),
            None => Ok(None),
        }
    }

    /// Events of a block outside its transactions (rewards, slashes, jailings…).
    pub fn block_events(&self, h: Height) -> Result<Vec<Event>, StoreError> {
        match self.db.get_cf(self.cf(CF_BLOCK_EVENTS), h.0.to_be_bytes())? {
            Some(b) => decode(CF_BLOCK_EVENTS, &b),
            None => Ok(Vec::new()),
        }
    }

    /// The commit certificate of the latest block (carried by the next block).
    /// The proposer priorities stored with the latest block: (the height
    /// they are for, their encoding). `None` in data directories from before
    /// they were stored.
    pub fn proposer_priorities(&self) -> Result<Option<(Height, Vec<u8>)>, StoreError> {
        match self.db.get_cf(self.cf(CF_META), META_PROPOSERS)? {
            Some(b) => Ok(Some(decode(CF_META, &b)?)),
            None => Ok(None),
        }
    }

    pub fn seen_commit(&self) -> Result<Option<Commit>, StoreError> {
        match self.db.get_cf(self.cf(CF_META), META_SEEN_COMMIT)? {
            Some(b) => Ok(Some(decode(CF_META, &b)?)),
            None => Ok(None),
        }
    }

    /// A block's header and transaction count, decoded from the front of
    /// the stored block only (the header is its first field, the borsh
    /// length of `txs` follows), without decoding the transactions.
    pub fn header(&self, h: Height) -> Result<Option<(ledger::Header, u64)>, StoreError> {
        let Some(b) = self.db.get_pinned_cf(self.cf(CF_BLOCKS), h.0.to_be_bytes())? else { return Ok(None) };
        let mut rest: &[u8] = &b;
        let header = ledger::Header::deserialize(&mut rest)
            .map_err(|e| StoreError::Corrupt { table: CF_BLOCKS, reason: e.to_string() })?;
        let n = rest
            .get(..4)
            .and_then(|n| <[u8; 4]>::try_from(n).ok())
            .ok_or_else(|| StoreError::Corrupt { table: CF_BLOCKS, reason: "no transaction count".into() })?;
        Ok(Some((header, u64::from(u32::from_le_bytes(n)))))
    }

    pub fn block(&self, h: Height) -> Result<Option<Block>, StoreError> {
        match self.db.get_cf(self.cf(CF_BLOCKS), h.0.to_be_bytes())? {
            Some(b) => Ok(Some(decode(CF_BLOCKS, &b)?)),
            None => Ok(None),
        }
    }

    pub fn height_of(&self, hash: &Hash) -> Result<Option<Height>, StoreError> {
        match self.db.get_cf(self.cf(CF_BLOCK_HASH), hash.0)? {
            Some(b) => {
                let a: [u8; 8] = b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                    table: CF_BLOCK_HASH,
                    reason: "height is not 8 bytes".into(),
                })?;
                Ok(Some(Height(u64::from_be_bytes(a))))
            }
            None => Ok(None),
        }
    }

    pub fn receipts(&self, h: Height) -> Result<Option<Vec<Receipt>>, StoreError> {
        match self.db.get_cf(self.cf(CF_RECEIPTS), h.0.to_be_bytes())? {
            Some(b) => Ok(Some(decode(CF_RECEIPTS, &b)?)),
            None => Ok(None),
        }
    }

    pub fn tx_location(&self, hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        match self.db.get_cf(self.cf(CF_TX_INDEX), hash.0)? {
            Some(b) => Ok(Some(decode(CF_TX_INDEX, &b)?)),
            None => Ok(None),
        }
    }
}

/// Consensus persistence: the signer's guard state, the per-height WAL and
/// the blocks proposed or received for the height being decided. WAL writes
/// are synced before the caller goes on (a signature must never leave the
/// process before the record that covers it is durable); see
/// `put_pending_block` for the one that is not.
impl Store {
    pub fn signer_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_META), META_SIGNER)?)
    }

    fn write_synced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(batch, &wo)?;
        Ok(())
    }

    /// A write that is never synced on its own (whatever `sync_writes` says);
    /// the next synced write covers it (one log for the whole database).
    fn write_unsynced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.db.write_opt(batch, &WriteOptions::default())?;
        Ok(())
    }

    fn wal_key(height: Height, seq: u64) -> Vec<u8> {
        let mut k = WAL_PREFIX.to_vec();
        k.extend_from_slice(&height.0.to_be_bytes());
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// The WAL entries of `height`, in append order.
    pub fn wal(&self, height: Height) -> Result<Vec<Vec<u8>>, StoreError> {
        let start = Self::wal_key(height, 0);
        let end = Self::wal_key(height, u64::MAX);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_META), IteratorMode::From(&start, Direction::Forward)) {
            let (k, v) = item?;
            if k.as_ref() > end.as_slice() {
                break;
            }
            out.push(v.to_vec());
        }
        Ok(out)
    }

    pub fn wal_append(&self, height: Height, seq: u64, entry: &[u8]) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_META), Self::wal_key(height, seq), entry);
        self.write_synced(b)
    }

    /// Drops the WAL of every height up to `height` and all pending blocks,
    /// with a point delete for each (see [`Cleared`]).
    pub fn clear_height(&self, height: Height) -> Result<(), StoreError> {
        let mut cleared = self.cleared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let meta = self.cf(CF_META);
        let mut b = WriteBatch::default();
        // A seek past the deletions of earlier clears, not through them. It
        // starts a height early: an entry appended for the last cleared height
        // after its clear (a late precommit) goes now.
        let from = cleared.wal_from.map_or(0, |h| h.0.saturating_sub(1));
        let start = Self::wal_key(Height(from), 0);
        let end = Self::wal_key(height, u64::MAX);
        for item in self.db.iterator_cf(meta, IteratorMode::From(&start, Direction::Forward)) {
            let (k, _) = item?;
            if k.as_ref() > end.as_slice() {
                break;
            }
            b.delete_cf(meta, k);
        }
        let pending = match cleared.pending.take() {
            Some(known) => known.into_iter().map(|h| Self::pending_key(&h)).collect(),
            None => self.scan_pending()?,
        };
        for k in pending {
            b.delete_cf(meta, k);
        }
        // Not synced: if a crash loses it, the old entries stay until the next
        // clear, and a restart reads only the WAL of the height after the tip.
        self.write_unsynced(b)?;
        cleared.wal_from = cleared.wal_from.max(Some(height.next()));
        cleared.pending = Some(BTreeSet::new());
        Ok(())
    }

    /// The keys of every stored pending block.
    fn scan_pending(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut keys = Vec::new();
        let it = self.db.iterator_cf(self.cf(CF_META), IteratorMode::From(PENDING_BLOCK_PREFIX, Direction::Forward));
        for item in it {
            let (k, _) = item?;
            if !k.starts_with(PENDING_BLOCK_PREFIX) {
                break;
            }
            keys.push(k.to_vec());
        }
        Ok(keys)
    }

    fn pending_key(hash: &Hash) -> Vec<u8> {
        let mut k = PENDING_BLOCK_PREFIX.to_vec();
        k.extend_from_slice(&hash.0);
        k
    }

    /// Keeps a block proposed or received at the height being decided, for a
    /// restart that must re-propose or commit it. Not synced on its own: the
    /// block only serves liveness (the peers that sent or received it hold it
    /// too), a process crash keeps it (the write is in RocksDB's log), and the
    /// next synced write — the WAL entry of the proposal or vote that refers to
    /// it — makes it durable, because RocksDB has one log for the whole
    /// database and a synced write syncs everything logged before it.
    pub fn put_pending_block(&self, block: &Block) -> Result<(), StoreError> {
        let hash = block.hash();
        let mut cleared = self.cleared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_META), Self::pending_key(&hash), enc(block));
        self.write_unsynced(b)?;
        if let Some(known) = cleared.pending.as_mut() {
            known.insert(hash);
        }
        Ok(())
    }

    pub fn pending_block(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        match self.db.get_cf(self.cf(CF_META), Self::pending_key(hash))? {
            Some(b) => Ok(Some(decode(CF_META, &b)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
impl Store {
    /// Checks every cached node and latest value against the database;
    /// returns how many were checked.
    pub(crate) fn check_caches(&self) -> usize {
        let (nodes, latest) = self.caches.entries();
        for (k, n) in &nodes {
            let raw = self.db.get_cf(self.cf(CF_NODES), enc(k)).expect("read").expect("a cached node is stored");
            assert_eq!(&decode::<Node>(CF_NODES, &raw).expect("decode"), n, "node {k:?}");
        }
        for (k, v) in &latest {
            assert_eq!(&self.db.get_cf(self.cf(CF_LATEST), k.0).expect("read"), v, "latest {k:?}");
        }
        nodes.len() + latest.len()
    }
}

impl Store {
    /// A tree node for a read at a past height (`StoreAt`: RPC queries): from
    /// the cache if it is there, without filling it, so queries cannot push
    /// the executor's working set out.
    pub fn node_for_query(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.caches.node(node_key) {
            Some(n) => Ok(Some(n)),
            None => self.stored_node(node_key),
        }
    }

    fn stored_node(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.db.get_cf(self.cf(CF_NODES), enc(node_key))? {
            Some(b) => Ok(Some(decode(CF_NODES, &b)?)),
            None => Ok(None),
        }
    }
}

impl TreeReader for Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        if let Some(n) = self.caches.node(node_key) {
            return Ok(Some(n));
        }
        let node = self.stored_node(node_key)?;
        if let Some(n) = &node {
            self.caches.put_node(node_key.clone(), n.clone());
        }
        Ok(node)
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        let start = value_key(&key_hash, max_version);
        let mut it = self.db.iterator_cf(self.cf(CF_VALUES), IteratorMode::From(&start, Direction::Reverse));
        match it.next() {
            Some(Ok((k, v))) if k.len() == 40 && k[..32] == key_hash.0 => Ok(decode(CF_VALUES, &v)?),
            Some(Err(e)) => Err(e.into()),
            _ => Ok(None),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only jmt's state-restore path uses this; Agora does not restore state
        // from chunks (nodes sync by replaying blocks).
        anyhow::bail!("state restore from chunks is not supported by this store")
    }
}

impl StateStore for Store {
    fn get_latest(&self, key: &KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(v) = self.caches.latest(key) {
            return Ok(v);
        }
        Ok(self.db.get_cf(self.cf(CF_LATEST), key.0)?)
    }

    fn contract_next(
        &self,
        contract: &ledger::Address,
        start: std::ops::Bound<&[u8]>,
        end: Option<&[u8]>,
    ) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
        use std::ops::Bound;
        let (from, skip_equal) = match start {
            Bound::Included(k) => ([contract.0.as_slice(), k].concat(), None),
            Bound::Excluded(k) => ([contract.0.as_slice(), k].concat(), Some(k)),
            Bound::Unbounded => (contract.0.to_vec(), None),
        };
        let it = self.db.iterator_cf(self.cf(CF_CONTRACT_KV), IteratorMode::From(&from, Direction::Forward));
        for item in it {
            let (k, v) = item?;
            if k.len() < 20 || k[..20] != contract.0 {
                return Ok(None);
            }
            let key = &k[20..];
            if skip_equal.is_some_and(|s| s == key) {
                continue;
            }
            if end.is_some_and(|e| key >= e) {
                return Ok(None);
            }
            return Ok(Some((key.to_vec(), v.to_vec())));
        }
        Ok(None)
    }
}

#[cfg(test)]
#[path = "store_point_tests.rs"]
mod point_tests;

#[cfg(test)]
#[path = "store_clear_tests.rs"]
mod clear_tests;
