//! The state tree's two insert paths agree: a block that only sets values goes
//! through the tree's batch insert (`state::compute_diff`), a block that also
//! deletes goes key by key. Every node must reach the same root as the key-by-key
//! path alone, whatever the history, or a validator would vote nil on honest
//! blocks. Proofs read from the batch-built tree must verify against its root.

use std::collections::BTreeMap;

use jmt::{JellyfishMerkleTree, KeyHash, Version};
use ledger::state::{MemStore, compute_diff, prove_key, root_at};
use ledger::{Hash, Height};
use proptest::prelude::*;
use sha2::Sha256;

/// The reference: every block key by key (the only path before the batch).
fn reference_diff(store: &MemStore, version: Version, writes: BTreeMap<KeyHash, Option<Vec<u8>>>) -> ledger::StateDiff {
    let tree = JellyfishMerkleTree::<_, Sha256>::new(store);
    let (root, batch) =
        tree.put_value_set(writes.iter().map(|(k, v)| (*k, v.clone())), version).expect("reference insert");
    ledger::StateDiff { version, root: Hash(root.0), writes, contract_kv: BTreeMap::new(), tree: batch }
}

/// Keys from a small pool (so blocks update and delete what earlier blocks
/// wrote) plus fresh random ones; a key shares its first bytes with others
/// when `shared_prefix` is set, so the tree grows deep chains.
fn key(pool_index: u16, fresh: Option<[u8; 32]>, shared_prefix: bool) -> KeyHash {
    let mut k = match fresh {
        Some(k) => k,
        None => {
            let mut k = [0u8; 32];
            k[..2].copy_from_slice(&pool_index.to_be_bytes());
            k[31] = 0x5a;
            scramble(&k)
        }
    };
    if shared_prefix {
        k[..3].copy_from_slice(&[0xab, 0xcd, 0xef]);
    }
    KeyHash(k)
}

/// A fixed scramble of a pool key (spreads pool keys over the tree).
fn scramble(k: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(k).into()
}

type Op = (u16, Option<[u8; 32]>, bool, Option<u8>);

fn block_strategy() -> impl Strategy<Value = Vec<Op>> {
    // (pool index, fresh key or pool, shared prefix, value byte or delete)
    let op = (
        0u16..40,
        prop::option::weighted(0.4, any::<[u8; 32]>()),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.85, any::<u8>()),
    );
    prop::collection::vec(op, 0..60)
}

fn writes_of(block: &[Op]) -> BTreeMap<KeyHash, Option<Vec<u8>>> {
    block
        .iter()
        .map(|(i, fresh, shared, v)| (key(*i, *fresh, *shared), v.map(|b| vec![b; 1 + (b as usize % 7)])))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn batch_and_key_by_key_reach_the_same_root(blocks in prop::collection::vec(block_strategy(), 1..12)) {
        let mut fast = MemStore::new();
        let mut reference = MemStore::new();
        for (i, block) in blocks.iter().enumerate() {
            let version = i as Version;
            let writes = writes_of(block);
            let a = compute_diff(&fast, version, writes.clone()).expect("compute_diff");
            let b = reference_diff(&reference, version, writes.clone());
            prop_assert_eq!(a.root, b.root, "block {} ({} writes)", i, writes.len());
            fast.commit(&a);
            reference.commit(&b);
            prop_assert_eq!(root_at(&fast, Height(version)).expect("root"), a.root);
            // Every key written so far proves its latest value against the root.
            for (k, v) in &writes {
                let (got, proof) = prove_key(&fast, *k, Height(version)).expect("proof");
                prop_assert_eq!(&got, v);
                let root = jmt::RootHash(a.root.0);
                match &got {
                    Some(val) => prop_assert!(proof.verify_existence(root, *k, val).is_ok()),
                    None => prop_assert!(proof.verify_nonexistence(root, *k).is_ok()),
                }
            }
        }
    }
}

/// A block with only sets takes the batch path, and one with a delete the
/// key-by-key path: both in one history, at realistic sizes (a 1,000-transfer
/// block touches ~2,000 accounts of a 20,000-account tree).
#[test]
fn large_blocks_agree_across_paths() {
    let mut fast = MemStore::new();
    let mut reference = MemStore::new();
    let account = |n: u32| KeyHash(scramble(&n.to_be_bytes()));
    let mut version = 0;
    let mut step = |writes: BTreeMap<KeyHash, Option<Vec<u8>>>| {
        let a = compute_diff(&fast, version, writes.clone()).expect("compute_diff");
        let b = reference_diff(&reference, version, writes);
        assert_eq!(a.root, b.root, "version {version}");
        fast.commit(&a);
        reference.commit(&b);
        version += 1;
    };
    step((0..20_000).map(|n| (account(n), Some(n.to_le_bytes().to_vec()))).collect());
    for round in 0..3u32 {
        step((0..2_000).map(|n| (account((n * 7 + round * 13) % 20_000), Some(vec![round as u8; 9]))).collect());
    }
    // One delete sends the block key by key.
    let mut w: BTreeMap<_, _> = (0..500).map(|n| (account(n * 3), Some(vec![1; 4]))).collect();
    w.insert(account(19_999), None);
    step(w);
    step((0..2_000).map(|n| (account(n * 9 % 20_000), Some(vec![2; 5]))).collect());
}

/// A diff at a version whose previous root is missing (an empty store asked
/// for version 3) reads the tree as empty on both paths.
#[test]
fn a_missing_previous_root_reads_as_an_empty_tree() {
    let store = MemStore::new();
    let writes: BTreeMap<KeyHash, Option<Vec<u8>>> =
        (0..50u32).map(|n| (KeyHash(scramble(&n.to_be_bytes())), Some(vec![1; 3]))).collect();
    let a = compute_diff(&store, 3, writes.clone()).expect("compute_diff");
    let b = reference_diff(&store, 3, writes);
    assert_eq!(a.root, b.root);
}
