//! Tests of the history index (`store_index.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use ledger::{Amount, PublicKey, SigningKey, TxBody};

use super::*;
use crate::chain::Chain;

const CHAIN: &str = "idx-test";

fn keys() -> (SigningKey, SigningKey) {
    (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]))
}

fn send(k: &SigningKey, nonce: u64, to: Address) -> Vec<u8> {
    TxBody {
        chain_id: CHAIN.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit: 10_000,
        gas_price: Amount::new(1),
        payload: Payload::Transfer { to, amount: Amount::new(1) },
    }
    .sign(k)
    .encode()
}

/// Builds and commits one block with `txs`, through the node's commit path.
fn produce(chain: &Chain, val: &SigningKey, txs: &[Vec<u8>]) -> Height {
    for t in txs {
        chain.submit_tx(t).unwrap();
    }
    let ex = chain.build_block(PublicKey::from_signing_key(val), 0, None).unwrap();
    assert_eq!(ex.block.txs.len(), txs.len());
    let h = ex.block.header.height;
    let commit = crate::testing::certificate(CHAIN, val, h.0, ex.block.hash());
    chain.commit(ex, &commit).unwrap();
    h
}

fn bob() -> Address {
    Address([0xb0; 20])
}

#[test]
fn rows_are_written_with_the_block_and_read_back_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let alice = PublicKey::from_signing_key(&user).address();
    {
        let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
        assert_eq!(chain.store().index_from().unwrap(), Some(Height(1)), "a new database indexes from 1");
        produce(&chain, &val, &[send(&user, 0, bob()), send(&user, 1, bob())]);
        produce(&chain, &val, &[send(&user, 2, alice)]);
    }
    let store = Store::open(&dir.path().join("db"), false).unwrap();
    assert_eq!(store.height().unwrap(), Some(Height(2)));
    let all = |a: &Address, r, desc| store.address_txs(a, r, (1, 2), None, desc, 100).unwrap();
    let sent = all(&alice, RoleKey::Sent, false);
    assert_eq!(sent.iter().map(|r| (r.height.0, r.index)).collect::<Vec<_>>(), [(1, 0), (1, 1), (2, 0)]);
    // Alice paid herself at height 2: one row with both roles.
    assert_eq!(sent[2].entry.roles, ROLE_SENDER | ROLE_RECIPIENT);
    assert_eq!(sent[0].entry.payload, "transfer");
    assert!(sent[0].entry.success);
    let received = all(&alice, RoleKey::Received, false);
    assert_eq!(received.iter().map(|r| (r.height.0, r.index)).collect::<Vec<_>>(), [(2, 0)]);
    let bob_any = all(&bob(), RoleKey::Any, true);
    assert_eq!(bob_any.iter().map(|r| (r.height.0, r.index)).collect::<Vec<_>>(), [(1, 1), (1, 0)], "newest first");
    assert_eq!(bob_any[0].entry.roles, ROLE_RECIPIENT);
    assert!(all(&bob(), RoleKey::Sent, false).is_empty());
    assert_eq!(bob_any[0].entry.tx_hash, store.receipts(Height(1)).unwrap().unwrap()[1].tx_hash);
    // Paging: after (1, 0) ascending comes (1, 1); descending from (2, 0) comes (1, 1).
    let p = store.address_txs(&alice, RoleKey::Any, (1, 2), Some((1, 0)), false, 1).unwrap();
    assert_eq!((p[0].height.0, p[0].index), (1, 1));
    let p = store.address_txs(&alice, RoleKey::Any, (1, 2), Some((2, 0)), true, 5).unwrap();
    assert_eq!(p.iter().map(|r| (r.height.0, r.index)).collect::<Vec<_>>(), [(1, 1), (1, 0)]);
    // The height range bounds the scan.
    assert_eq!(store.address_txs(&alice, RoleKey::Any, (2, 2), None, false, 100).unwrap().len(), 1);
    // Events by kind: three transfers and their fees; block 2 pays block 1's fees as rewards.
    let (ev, stop) =
        store.indexed_events(&EventTopic::Kind("transfer".into()), (1, 2), None, 100, 100, |_| true).unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(stop, None);
    assert_eq!((ev[2].height.0, ev[2].tx_index, ev[2].event_index), (2, 0, 1), "the fee event comes first");
    let (rewards, _) =
        store.indexed_events(&EventTopic::Kind("rewards".into()), (1, 2), None, 100, 100, |_| true).unwrap();
    assert!(rewards.iter().all(|e| e.tx_index == BLOCK_EVENT_TX && e.tx_hash == Hash::ZERO));
    assert!(!rewards.is_empty());
}

#[test]
fn a_scan_budget_stops_and_resumes_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
    let mut nonce = 0;
    for _ in 0..4 {
        let txs: Vec<_> = (0..3).map(|i| send(&user, nonce + i, bob())).collect();
        nonce += 3;
        produce(&chain, &val, &txs);
    }
    let store = chain.store();
    let topic = EventTopic::Kind("fee".into());
    let (all, _) = store.indexed_events(&topic, (1, 4), None, 1000, 1000, |_| true).unwrap();
    assert_eq!(all.len(), 12);
    // Keep only even tx indexes, reading at most 5 rows a call.
    let keep = |e: &IndexedEvent| e.tx_index.is_multiple_of(2);
    let (mut got, mut after, mut calls) = (Vec::new(), None, 0);
    loop {
        let (page, stop) = store.indexed_events(&topic, (1, 4), after, 100, 5, keep).unwrap();
        calls += 1;
        got.extend(page);
        match stop {
            Some(p) => after = Some(p),
            None => break,
        }
        assert!(calls < 10, "the scan must end");
    }
    assert!(calls >= 3, "12 rows at 5 a call take at least 3 calls, took {calls}");
    let want: Vec<_> = all.into_iter().filter(keep).collect();
    assert_eq!(got, want);
    // A budget of 0 still makes progress (it is at least 1).
    let (page, stop) = store.indexed_events(&topic, (1, 4), None, 100, 0, |_| true).unwrap();
    assert_eq!((page.len(), stop), (1, Some((1, 0, 0))));
}

#[test]
fn a_database_from_before_the_index_records_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    {
        let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
        produce(&chain, &val, &[send(&user, 0, bob())]);
        produce(&chain, &val, &[]);
        // As an older node would have left it: no `index_from` record.
        let s = chain.store();
        let mut b = WriteBatch::default();
        b.delete_cf(s.cf(super::super::CF_META), META_INDEX_FROM);
        s.write(b).unwrap();
    }
    let store = Store::open(&dir.path().join("db"), false).unwrap();
    assert_eq!(store.index_from().unwrap(), Some(Height(3)));
    // Recorded once: reopening keeps it.
    drop(store);
    let store = Store::open(&dir.path().join("db"), false).unwrap();
    assert_eq!(store.index_from().unwrap(), Some(Height(3)));
}

/// A crash can only leave what one atomic batch left: RocksDB checkpoints
/// taken while blocks are being committed are point-in-time images, and in
/// every one each stored block has its index rows and no index row is
/// above the stored height.
#[test]
fn block_and_index_are_stored_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = std::sync::Arc::new(crate::testing::chain_on(dir.path(), CHAIN, &user, &val));
    let blocks = 100u64;
    let writer = {
        let (chain, user, val) = (chain.clone(), user.clone(), val.clone());
        std::thread::spawn(move || {
            for n in 0..blocks {
                produce(&chain, &val, &[send(&user, n, bob())]);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        })
    };
    let mut images = Vec::new();
    while !writer.is_finished() || images.is_empty() {
        let path = dir.path().join(format!("cp{}", images.len()));
        rocksdb::checkpoint::Checkpoint::new(&chain.store().db).unwrap().create_checkpoint(&path).unwrap();
        images.push(path);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    writer.join().unwrap();
    let mut heights = Vec::new();
    for path in &images {
        let s = Store::open(path, false).unwrap();
        let h = s.height().unwrap().unwrap().0;
        heights.push(h);
        let rows = s.address_txs(&bob(), RoleKey::Received, (1, u64::MAX), None, false, 1000).unwrap();
        assert_eq!(rows.len() as u64, h, "one received transfer per stored block, none beyond (height {h})");
        for r in &rows {
            assert!(s.block(r.height).unwrap().is_some());
            assert_eq!(r.index, 0);
        }
        let (fees, _) =
            s.indexed_events(&EventTopic::Kind("fee".into()), (1, u64::MAX), None, 1000, 1000, |_| true).unwrap();
        assert_eq!(fees.len() as u64, h);
    }
    heights.dedup();
    assert!(heights.len() >= 3, "checkpoints at several heights: {heights:?}");
}

/// A chain like `testing::chain_on`, with the index on or off.
fn chain_with_index(dir: &std::path::Path, user: &SigningKey, val: &SigningKey, index: bool) -> Chain {
    let genesis = crate::testing::genesis(CHAIN, &[user], val);
    let store = Store::open_with_index(&dir.join("db"), false, index).unwrap();
    let limits = crate::mempool::MempoolLimits { max_txs: 1000, max_bytes: 1 << 24, max_nonce_gap: 100 };
    Chain::open(store, &genesis, limits, vm::Vm::new(&genesis.params, Default::default()).unwrap()).unwrap()
}

/// Rows in the index's column families.
fn index_rows(s: &Store) -> usize {
    [CF_IDX_ADDRESS, CF_IDX_EVENTS, CF_IDX_CODE]
        .into_iter()
        .map(|cf| s.db.iterator_cf(s.cf(cf), IteratorMode::Start).count())
        .sum()
}

#[test]
fn receipts_are_encoded_as_borsh_with_the_offset_of_each() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
    produce(&chain, &val, &[send(&user, 0, bob()), send(&user, 1, bob()), send(&user, 2, bob())]);
    let receipts = chain.store().receipts(Height(1)).unwrap().unwrap();
    let (bytes, offsets) = encode_receipts(&receipts);
    assert_eq!(bytes, enc(&receipts), "the same bytes as borsh's Vec<Receipt>");
    assert_eq!(offsets.len(), 3);
    for (r, off) in receipts.iter().zip(&offsets) {
        let mut rest = &bytes[*off as usize..];
        assert_eq!(&Receipt::deserialize(&mut rest).unwrap(), r);
    }
}

#[test]
fn one_row_per_address_and_per_event_kind_in_a_block_pointing_into_the_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
    produce(&chain, &val, &[send(&user, 0, bob()), send(&user, 1, bob()), send(&user, 2, bob())]);
    let s = chain.store();
    let rows: Vec<_> = s.db.iterator_cf(s.cf(CF_IDX_ADDRESS), IteratorMode::Start).map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "the sender's row and bob's, not one per transaction");
    for (k, v) in &rows {
        assert_eq!((k.len(), v.len()), (28, 3 * ADDRESS_ENTRY_LEN));
    }
    let rows: Vec<_> = s.db.iterator_cf(s.cf(CF_IDX_EVENTS), IteratorMode::Start).map(Result::unwrap).collect();
    let kinds: Vec<_> = rows.iter().map(|(k, _)| String::from_utf8_lossy(&k[2..k.len() - 8]).into_owned()).collect();
    assert_eq!(kinds, ["fee", "rewards", "transfer"], "a row per kind in the block");
    for (kind, (_, v)) in kinds.iter().zip(&rows) {
        if kind != "rewards" {
            assert_eq!(v.len(), 3 * EVENT_ENTRY_LEN, "{kind}: an entry per transaction");
        }
    }
    let (ev, _) = s.indexed_events(&EventTopic::Kind("transfer".into()), (1, 1), None, 10, 10, |_| true).unwrap();
    let receipts = s.receipts(Height(1)).unwrap().unwrap();
    assert_eq!(ev.len(), 3);
    for e in &ev {
        let r = &receipts[e.tx_index as usize];
        assert_eq!((e.tx_hash, &e.event), (r.tx_hash, &r.events[e.event_index as usize]));
    }
}

#[test]
fn a_role_filter_stops_on_its_budget_and_resumes_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
    let alice = PublicKey::from_signing_key(&user).address();
    // Alice sends 4 blocks of 3; she receives only the last transfer of each.
    let mut nonce = 0;
    for _ in 0..4 {
        let txs = vec![send(&user, nonce, bob()), send(&user, nonce + 1, bob()), send(&user, nonce + 2, alice)];
        nonce += 3;
        produce(&chain, &val, &txs);
    }
    let s = chain.store();
    for desc in [false, true] {
        let all = s.address_txs(&alice, RoleKey::Received, (1, 4), None, desc, 100).unwrap();
        assert_eq!(all.len(), 4);
        let (mut got, mut after, mut calls) = (Vec::new(), None, 0);
        loop {
            let (page, stop) = s.address_page(&alice, RoleKey::Received, (1, 4), after, desc, 100, 2).unwrap();
            calls += 1;
            got.extend(page);
            match stop {
                Some(p) => after = Some(p),
                None => break,
            }
            assert!(calls < 20, "the scan must end");
        }
        assert_eq!(calls, 6, "12 entries at 2 a call");
        assert_eq!(got, all, "descending {desc}");
    }
}

#[test]
fn an_index_of_another_format_is_dropped_and_indexing_restarts_at_the_next_height() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    {
        let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
        produce(&chain, &val, &[send(&user, 0, bob())]);
        produce(&chain, &val, &[send(&user, 1, bob())]);
        // As a node of format 1 left it: `index_from` but no `index_format`.
        let s = chain.store();
        let mut b = WriteBatch::default();
        b.delete_cf(s.cf(super::super::CF_META), META_INDEX_FORMAT);
        s.write(b).unwrap();
        assert!(index_rows(s) > 0);
    }
    let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
    let s = chain.store();
    assert_eq!(s.index_from().unwrap(), Some(Height(3)), "indexes from the next height");
    assert_eq!(s.index_format().unwrap(), Some(INDEX_FORMAT));
    assert_eq!(index_rows(s), 0, "no row of the old layout is left to be misread");
    produce(&chain, &val, &[send(&user, 2, bob())]);
    let rows = s.address_txs(&bob(), RoleKey::Received, (1, 3), None, false, 10).unwrap();
    assert_eq!(rows.iter().map(|r| r.height.0).collect::<Vec<_>>(), [3]);
}

#[test]
fn with_the_index_off_nothing_is_written_and_turning_it_on_indexes_from_the_next_height() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    {
        let chain = chain_with_index(dir.path(), &user, &val, true);
        produce(&chain, &val, &[send(&user, 0, bob())]);
        assert!(index_rows(chain.store()) > 0);
    }
    {
        let chain = chain_with_index(dir.path(), &user, &val, false);
        let s = chain.store();
        assert!(!s.index_enabled());
        assert_eq!(index_rows(s), 0, "turning the index off drops its rows");
        assert_eq!(s.index_from().unwrap(), None);
        produce(&chain, &val, &[send(&user, 1, bob())]);
        produce(&chain, &val, &[send(&user, 2, bob())]);
        assert_eq!(index_rows(s), 0, "and commits write none");
        assert_eq!(s.receipts(Height(3)).unwrap().unwrap().len(), 1, "blocks and receipts are still stored");
    }
    let chain = chain_with_index(dir.path(), &user, &val, true);
    let s = chain.store();
    assert_eq!(s.index_from().unwrap(), Some(Height(4)));
    produce(&chain, &val, &[send(&user, 3, bob())]);
    let rows = s.address_txs(&bob(), RoleKey::Any, (1, 4), None, false, 10).unwrap();
    assert_eq!(rows.iter().map(|r| r.height.0).collect::<Vec<_>>(), [4]);
}

#[test]
fn a_header_is_read_from_the_front_of_the_stored_block() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = crate::testing::chain_on(dir.path(), CHAIN, &user, &val);
    produce(&chain, &val, &[send(&user, 0, bob()), send(&user, 1, bob())]);
    produce(&chain, &val, &[]);
    for h in [1, 2] {
        let b = chain.store().block(Height(h)).unwrap().unwrap();
        let (header, n) = chain.store().header(Height(h)).unwrap().unwrap();
        assert_eq!((header, n), (b.header.clone(), b.txs.len() as u64));
    }
    assert_eq!(chain.store().header(Height(3)).unwrap(), None);
}
