//! In-memory caches in front of the two column families the executor and
//! admission read most: the state tree's nodes and the latest state values.
//! Measured at 5k transfers/s on 4 validators, RocksDB's memtable search for
//! these reads was the largest single cost of a validator after signatures.
//!
//! Both are bounded LRU caches (`hashlink`, the LRU map behind several
//! well-kept crates). Their consistency rules differ:
//! - **Tree nodes never change** once written (a node key includes the
//!   version that created it, and no version is ever pruned), so a node read
//!   from the database or written by a commit can be cached as is.
//! - **Latest values** change at every commit. They are cached only from
//!   commits, never from reads: a read racing a commit could otherwise put an
//!   old value back after the commit's new one. A commit updates the cache
//!   right after its write batch, before the mempool's pass over the new
//!   state, so a reader that sees an old value sees it exactly as it would
//!   have by reading just before the commit.

use std::sync::{Arc, Mutex, MutexGuard};

use hashlink::LruCache;
use jmt::KeyHash;
use jmt::storage::{Node, NodeKey};

/// Tree nodes kept (~0.8 KiB each at most: ~25 MiB). The nodes on the paths
/// of the accounts touched in the last blocks, and the upper levels.
pub(crate) const NODES: usize = 32_768;
/// Latest values kept (an account record is ~100 bytes: ~10 MiB).
pub(crate) const LATEST: usize = 65_536;
/// Largest value the latest cache keeps, so it holds at most
/// `LATEST × (MAX_CACHED_VALUE + key)` ≈ 66 MiB whatever the values written
/// (a storage value may be 128 KiB, stored code 256 KiB).
pub(crate) const MAX_CACHED_VALUE: usize = 1024;

/// A cached latest value: the key, and its value or `None` for deleted.
#[cfg(test)]
pub(crate) type LatestEntry = (KeyHash, Option<Vec<u8>>);

#[derive(Clone)]
pub(crate) struct Caches {
    nodes: Arc<Mutex<LruCache<NodeKey, Node>>>,
    latest: Arc<Mutex<LruCache<KeyHash, Option<Vec<u8>>>>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").field("nodes", &NODES).field("latest", &LATEST).finish()
    }
}

/// A poisoned lock only means another thread panicked while holding it; the
/// cache itself is still a valid map (each operation is one call).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Caches {
    pub(crate) fn new() -> Caches {
        Caches::with_capacity(NODES, LATEST)
    }

    pub(crate) fn with_capacity(nodes: usize, latest: usize) -> Caches {
        Caches {
            nodes: Arc::new(Mutex::new(LruCache::new(nodes))),
            latest: Arc::new(Mutex::new(LruCache::new(latest))),
        }
    }

    pub(crate) fn node(&self, key: &NodeKey) -> Option<Node> {
        lock(&self.nodes).get(key).cloned()
    }

    pub(crate) fn put_node(&self, key: NodeKey, node: Node) {
        lock(&self.nodes).insert(key, node);
    }

    /// `Some(value)` if the key's latest value (or its absence) is known.
    pub(crate) fn latest(&self, key: &KeyHash) -> Option<Option<Vec<u8>>> {
        lock(&self.latest).get(key).cloned()
    }

    /// Records what a commit wrote (call after its batch is written).
    pub(crate) fn committed<'a>(
        &self,
        nodes: impl IntoIterator<Item = (&'a NodeKey, &'a Node)>,
        latest: impl IntoIterator<Item = (&'a KeyHash, &'a Option<Vec<u8>>)>,
    ) {
        {
            let mut n = lock(&self.nodes);
            for (k, v) in nodes {
                n.insert(k.clone(), v.clone());
            }
        }
        let mut l = lock(&self.latest);
        for (k, v) in latest {
            // Bounded in bytes too: a value above the limit (contract code,
            // large contract values) is not kept, and whatever older value
            // the cache held for the key goes, so it is read from the store.
            if v.as_ref().is_some_and(|v| v.len() > MAX_CACHED_VALUE) {
                l.remove(k);
            } else {
                l.insert(*k, v.clone());
            }
        }
    }

    /// Everything cached, for tests that compare it with the database.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> (Vec<(NodeKey, Node)>, Vec<LatestEntry>) {
        let n = lock(&self.nodes).iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let l = lock(&self.latest).iter().map(|(k, v)| (*k, v.clone())).collect();
        (n, l)
    }
}

#[cfg(test)]
mod tests {
    use jmt::storage::LeafNode;

    use super::*;

    fn leaf(i: u8) -> (NodeKey, Node) {
        // Version `i`, empty nibble path (jmt has no public path constructor).
        let key: NodeKey = borsh::from_slice(&[[i, 0, 0, 0, 0, 0, 0, 0], [0; 8], [0; 8]].concat()[..20]).expect("key");
        (key, Node::Leaf(LeafNode::new(KeyHash([i; 32]), jmt::ValueHash([i; 32]))))
    }

    #[test]
    fn bounded_and_least_recently_used_goes_first() {
        let c = Caches::with_capacity(2, 2);
        let (k1, n1) = leaf(1);
        let (k2, n2) = leaf(2);
        let (k3, n3) = leaf(3);
        c.put_node(k1.clone(), n1.clone());
        c.put_node(k2.clone(), n2);
        assert_eq!(c.node(&k1), Some(n1)); // k1 is now the most recent
        c.put_node(k3.clone(), n3.clone());
        assert!(c.node(&k2).is_none(), "the least recently used went");
        assert_eq!(c.node(&k3), Some(n3));
        let writes: Vec<(KeyHash, Option<Vec<u8>>)> = (0..5u8).map(|i| (KeyHash([i; 32]), Some(vec![i]))).collect();
        c.committed([], writes.iter().map(|(k, v)| (k, v)));
        let (nodes, latest) = c.entries();
        assert_eq!((nodes.len(), latest.len()), (2, 2));
        assert_eq!(c.latest(&KeyHash([4; 32])), Some(Some(vec![4])));
        assert_eq!(c.latest(&KeyHash([0; 32])), None, "evicted: unknown, not absent");
    }

    #[test]
    fn large_values_are_not_kept_and_drop_an_older_small_one() {
        let c = Caches::with_capacity(4, 4);
        let k = KeyHash([8; 32]);
        let small = [(k, Some(vec![1; MAX_CACHED_VALUE]))];
        c.committed([], small.iter().map(|(k, v)| (k, v)));
        assert_eq!(c.latest(&k), Some(Some(vec![1; MAX_CACHED_VALUE])));
        let large = [(k, Some(vec![2; MAX_CACHED_VALUE + 1]))];
        c.committed([], large.iter().map(|(k, v)| (k, v)));
        assert_eq!(c.latest(&k), None, "unknown to the cache: read from the store");
    }

    #[test]
    fn a_deletion_is_remembered_as_absent() {
        let c = Caches::with_capacity(4, 4);
        let k = KeyHash([7; 32]);
        let set = [(k, Some(vec![1]))];
        c.committed([], set.iter().map(|(k, v)| (k, v)));
        let del = [(k, None)];
        c.committed([], del.iter().map(|(k, v)| (k, v)));
        assert_eq!(c.latest(&k), Some(None));
    }
}
