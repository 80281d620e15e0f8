//! Authenticated account state behind a storage trait.
//!
//! State is a Jellyfish Merkle Tree (the `jmt` crate: a maintained, versioned
//! sparse Merkle tree with inclusion and exclusion proofs) keyed by
//! `sha256(namespace ‖ key)`. Version `h` of the tree is the state after block
//! `h`; version 0 is genesis. Beside the tree, stores keep a flat "latest value"
//! index so execution reads an account in one lookup instead of a tree walk.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::LedgerError;
use crate::types::{Address, Amount, Hash, Height};

pub use jmt::proof::SparseMerkleProof;

/// The Merkle proof type of account and storage proofs.
pub type StateProof = SparseMerkleProof<Sha256>;

/// Read access to committed state. The node implements it over RocksDB; tests
/// use [`MemStore`]. `TreeReader` gives the Merkle tree its nodes and versioned
/// values; `get_latest` is the fast path execution uses.
pub trait StateStore: TreeReader {
    /// The latest committed value under `key`, if any.
    fn get_latest(&self, key: &KeyHash) -> anyhow::Result<Option<Vec<u8>>>;
}

/// A native account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Account {
    pub balance: Amount,
    /// Number of transactions this account has sent; the next one must carry it.
    pub nonce: u64,
}

impl Account {
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }
    pub fn decode(bytes: &[u8]) -> Result<Account, LedgerError> {
        borsh::from_slice(bytes).map_err(|e| LedgerError::Corrupt(format!("account record: {e}")))
    }
}

/// The state key of an account.
pub fn account_key(addr: &Address) -> KeyHash {
    let mut k = Vec::with_capacity(5 + 20);
    k.extend_from_slice(b"acct/");
    k.extend_from_slice(&addr.0);
    KeyHash::with::<Sha256>(&k)
}

/// Everything a block (or genesis) changed: the new values and the Merkle
/// tree's new nodes. The node writes both in the block's single batch.
#[derive(Debug)]
pub struct StateDiff {
    pub version: Version,
    pub root: Hash,
    /// Final value per key (`None` = deleted), in key order.
    pub writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
    pub tree: TreeUpdateBatch,
}

/// Applies `writes` to the tree at `version` and returns the diff to persist.
pub fn compute_diff<S: StateStore>(
    store: &S,
    version: Version,
    writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
) -> Result<StateDiff, LedgerError> {
    let tree = JellyfishMerkleTree::<_, Sha256>::new(store);
    let (root, batch) = tree.put_value_set(writes.iter().map(|(k, v)| (*k, v.clone())), version)?;
    Ok(StateDiff { version, root: Hash(root.0), writes, tree: batch })
}

/// Builds the genesis state (version 0) from initial balances.
pub fn genesis_diff<S: StateStore>(store: &S, balances: &[(Address, Amount)]) -> Result<StateDiff, LedgerError> {
    let mut writes = BTreeMap::new();
    for (addr, bal) in balances {
        let acct = Account { balance: *bal, nonce: 0 };
        if writes.insert(account_key(addr), Some(acct.encode())).is_some() {
            return Err(LedgerError::InvalidBlock(format!("genesis lists account {addr} twice")));
        }
    }
    compute_diff(store, 0, writes)
}

/// The state root at a height.
pub fn root_at<S: StateStore>(store: &S, height: Height) -> Result<Hash, LedgerError> {
    let tree = JellyfishMerkleTree::<_, Sha256>::new(store);
    Ok(Hash(tree.get_root_hash(height.0)?.0))
}

/// Reads an account at a height together with its Merkle proof against that
/// height's state root (an exclusion proof if the account does not exist).
pub fn prove_account<S: StateStore>(
    store: &S,
    addr: &Address,
    height: Height,
) -> Result<(Option<Account>, StateProof), LedgerError> {
    let tree = JellyfishMerkleTree::<_, Sha256>::new(store);
    let (value, proof) = tree.get_with_proof(account_key(addr), height.0)?;
    let acct = value.as_deref().map(Account::decode).transpose()?;
    Ok((acct, proof))
}

/// Checks an account proof against a state root.
pub fn verify_account_proof(
    root: Hash,
    addr: &Address,
    account: Option<&Account>,
    proof: &StateProof,
) -> Result<(), LedgerError> {
    proof
        .verify(jmt::RootHash(root.0), account_key(addr), account.map(Account::encode))
        .map_err(|e| LedgerError::Proof(format!("{e:#}")))
}

/// The latest committed account, or the default (empty) account.
pub fn read_account<S: StateStore>(store: &S, addr: &Address) -> Result<Account, LedgerError> {
    match store.get_latest(&account_key(addr))? {
        Some(b) => Account::decode(&b),
        None => Ok(Account::default()),
    }
}

/// An in-memory [`StateStore`] for tests, simulations and dry runs.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    nodes: BTreeMap<NodeKey, Node>,
    values: BTreeMap<(KeyHash, Version), Option<OwnedValue>>,
    latest: BTreeMap<KeyHash, Vec<u8>>,
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Makes a diff the committed state.
    pub fn commit(&mut self, diff: &StateDiff) {
        for (k, n) in diff.tree.node_batch.nodes() {
            self.nodes.insert(k.clone(), n.clone());
        }
        for ((ver, kh), v) in diff.tree.node_batch.values() {
            self.values.insert((*kh, *ver), v.clone());
        }
        for (k, v) in &diff.writes {
            match v {
                Some(v) => self.latest.insert(*k, v.clone()),
                None => self.latest.remove(k),
            };
        }
    }
}

impl TreeReader for MemStore {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.nodes.get(node_key).cloned())
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.values.range((key_hash, 0)..=(key_hash, max_version)).next_back().and_then(|(_, v)| v.clone()))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        let mut best: Option<(NodeKey, LeafNode)> = None;
        for (k, n) in &self.nodes {
            if let Node::Leaf(leaf) = n
                && best.as_ref().is_none_or(|(_, b)| leaf.key_hash() > b.key_hash())
            {
                best = Some((k.clone(), leaf.clone()));
            }
        }
        Ok(best)
    }
}

impl StateStore for MemStore {
    fn get_latest(&self, key: &KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.latest.get(key).cloned())
    }
}
