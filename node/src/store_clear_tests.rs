//! Clearing a height's WAL entries and pending blocks (`Store::clear_height`).

#![allow(clippy::unwrap_used)]
use super::*;
use ledger::{Header, PublicKey};

fn block(n: u8) -> Block {
    let header = Header {
        version: ledger::block::HEADER_VERSION,
        chain_id: "c".into(),
        height: Height(u64::from(n)),
        time_ms: 1,
        parent_hash: Hash([n; 32]),
        tx_root: Hash::ZERO,
        state_root: Hash::ZERO,
        receipts_root: Hash::ZERO,
        proposer: PublicKey([n; 32]),
        client: "agorad/0.1.0".into(),
        validator_set_hash: Hash::ZERO,
        last_commit_hash: Hash::ZERO,
        evidence_hash: Hash::ZERO,
    };
    Block { header, txs: Vec::new(), last_commit: None, evidence: Vec::new() }
}

fn mem(store: &Store, property: &str) -> u64 {
    store.db.property_int_value_cf(store.cf(CF_META), property).unwrap().unwrap()
}

/// Range tombstones in the meta memtable: its entries less its puts and
/// point deletes (RocksDB has no property for them).
fn range_tombstones(store: &Store, base: u64, puts: u64) -> u64 {
    let entries = mem(store, "rocksdb.num-entries-active-mem-table") - base;
    entries - puts - mem(store, "rocksdb.num-deletes-active-mem-table")
}

/// Each height's WAL and pending blocks go with point deletes: no range
/// tombstone piles up in the memtable (reads of the meta column family
/// fragment them all), and nothing of a later height is lost, also after
/// a reopen with entries left from before.
#[test]
fn clearing_heights_leaves_no_range_tombstones_and_keeps_later_heights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = Store::open(&path, false).unwrap();
        let base = mem(&store, "rocksdb.num-entries-active-mem-table");
        for h in 1..=50u8 {
            for seq in 0..3 {
                store.wal_append(Height(u64::from(h)), seq, &[h, 1]).unwrap();
            }
            store.wal_append(Height(u64::from(h) + 1), 0, &[h, 2]).unwrap();
            store.put_pending_block(&block(h)).unwrap();
            store.clear_height(Height(u64::from(h))).unwrap();
            assert!(store.wal(Height(u64::from(h))).unwrap().is_empty());
            assert!(store.pending_block(&block(h).hash()).unwrap().is_none());
            assert_eq!(store.wal(Height(u64::from(h) + 1)).unwrap().len(), 1, "height {h}");
        }
        assert_eq!(mem(&store, "rocksdb.num-deletes-active-mem-table"), 50 * 3 + 50);
        assert_eq!(range_tombstones(&store, base, 50 * 4 + 50), 0);
        // An entry appended for a height after its clear goes with the next.
        store.wal_append(Height(50), 7, b"late").unwrap();
        store.clear_height(Height(50)).unwrap();
        assert!(store.wal(Height(50)).unwrap().is_empty());
        // Left behind for the reopened store to find.
        store.wal_append(Height(60), 0, b"x").unwrap();
        store.put_pending_block(&block(60)).unwrap();
    }
    let store = Store::open(&path, false).unwrap();
    let base = mem(&store, "rocksdb.num-entries-active-mem-table");
    let deletes = mem(&store, "rocksdb.num-deletes-active-mem-table");
    assert_eq!(store.wal(Height(51)).unwrap().len(), 1);
    store.clear_height(Height(60)).unwrap();
    assert!(store.wal(Height(51)).unwrap().is_empty());
    assert!(store.wal(Height(60)).unwrap().is_empty());
    assert!(store.pending_block(&block(60).hash()).unwrap().is_none());
    assert_eq!(mem(&store, "rocksdb.num-deletes-active-mem-table") - deletes, 3);
    assert_eq!(mem(&store, "rocksdb.num-entries-active-mem-table") - base, 3);
}
