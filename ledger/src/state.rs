//! Authenticated account state behind a storage trait.
//!
//! State is a Jellyfish Merkle Tree (the `jmt` crate: a maintained, versioned
//! sparse Merkle tree with inclusion and exclusion proofs) keyed by
//! `sha256(namespace ‖ key)`. Version `h` of the tree is the state after block
//! `h`; version 0 is genesis. Beside the tree, stores keep a flat "latest value"
//! index so execution reads an account in one lookup instead of a tree walk.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

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

    /// The first committed storage entry of `contract` in key order within
    /// `(start, end)` (`end` exclusive, `None` = unbounded). This reads an
    /// ordered index kept beside the tree (tree keys are hashed, so the tree
    /// itself has no useful order); the index holds exactly the committed
    /// contract storage, so results are the same on every node.
    fn contract_next(
        &self,
        contract: &Address,
        start: Bound<&[u8]>,
        end: Option<&[u8]>,
    ) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>>;
}

/// Contract storage writes in the ordered index: `(contract, key) → value`.
pub type ContractKvWrites = BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>;

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

/// The state key of stored contract code (its wasm bytes).
pub fn code_key(code_hash: &Hash) -> KeyHash {
    KeyHash::with::<Sha256>([b"wasm/".as_slice(), &code_hash.0].concat())
}

/// The state key of stored code's metadata ([`CodeInfo`]).
pub fn code_info_key(code_hash: &Hash) -> KeyHash {
    KeyHash::with::<Sha256>([b"code/".as_slice(), &code_hash.0].concat())
}

/// The state key of a contract's metadata ([`ContractInfo`]).
pub fn contract_info_key(addr: &Address) -> KeyHash {
    KeyHash::with::<Sha256>([b"contract/".as_slice(), &addr.0].concat())
}

/// The state key of one entry of a contract's storage. The address has a
/// fixed length, so `(contract, key)` pairs never collide.
pub fn contract_storage_key(addr: &Address, key: &[u8]) -> KeyHash {
    KeyHash::with::<Sha256>([b"cs/".as_slice(), &addr.0, key].concat())
}

/// Metadata of uploaded contract code.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CodeInfo {
    pub code_hash: Hash,
    pub creator: Address,
    pub size: u32,
    pub height: Height,
}

/// Metadata of an instantiated contract.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ContractInfo {
    pub address: Address,
    pub code_hash: Hash,
    pub creator: Address,
    pub label: String,
    pub created_height: Height,
    /// The account allowed to migrate the contract to other code and to
    /// change this field (`None`: nobody; the code is then final).
    pub admin: Option<Address>,
}

/// Decodes a borsh record of the state, reporting corruption.
pub fn decode_record<T: BorshDeserialize>(what: &str, bytes: &[u8]) -> Result<T, LedgerError> {
    borsh::from_slice(bytes).map_err(|e| LedgerError::Corrupt(format!("{what} record: {e}")))
}

/// Everything a block (or genesis) changed: the new values and the Merkle
/// tree's new nodes. The node writes both in the block's single batch.
#[derive(Debug)]
pub struct StateDiff {
    pub version: Version,
    pub root: Hash,
    /// Final value per key (`None` = deleted), in key order.
    pub writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
    /// The same contract storage writes for the ordered index.
    pub contract_kv: ContractKvWrites,
    pub tree: TreeUpdateBatch,
}

/// Applies `writes` to the tree at `version` and returns the diff to persist.
pub fn compute_diff<S: StateStore>(
    store: &S,
    version: Version,
    writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
) -> Result<StateDiff, LedgerError> {
    compute_diff_with_kv(store, version, writes, BTreeMap::new())
}

/// [`compute_diff`] with contract storage writes for the ordered index.
pub fn compute_diff_with_kv<S: StateStore>(
    store: &S,
    version: Version,
    writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
    contract_kv: ContractKvWrites,
) -> Result<StateDiff, LedgerError> {
    let tree = JellyfishMerkleTree::<_, Sha256>::new(store);
    // A block that only sets values takes the tree's batch insert: each new
    // node is built and hashed once for the whole block, where inserting key
    // by key rehashes the upper nodes once per key (measured: most of a
    // block's validation time at 5k transfers/s). The tree's shape, and so
    // its root, depends only on the keys and values, not on how they went
    // in (`tests/state_root_batch.rs` checks the two paths agree). The batch
    // insert has no deletion, so a block that deletes goes key by key; nor
    // does it start from a missing root (a tree with no root at the previous
    // version), which the key-by-key insert reads as empty.
    let has_base = version == 0 || tree.get_root_hash_option(version - 1)?.is_some();
    let (root, batch) = if has_base && !writes.is_empty() && writes.values().all(Option::is_some) {
        let set = writes.iter().filter_map(|(k, v)| v.clone().map(|v| (*k, v))).collect();
        let (roots, batch) = tree.batch_put_value_sets(vec![set], None, version)?;
        let root = *roots.first().ok_or_else(|| LedgerError::Storage("jmt batch insert gave no root".into()))?;
        (root, batch)
    } else {
        tree.put_value_set(writes.iter().map(|(k, v)| (*k, v.clone())), version)?
    };
    Ok(StateDiff { version, root: Hash(root.0), writes, contract_kv, tree: batch })
}

/// Reads any value at a height with its Merkle proof against that height's
/// state root (used for contract storage and metadata proofs).
pub fn prove_key<S: StateStore>(
    store: &S,
    key: KeyHash,
    height: Height,
) -> Result<(Option<Vec<u8>>, StateProof), LedgerError> {
    let tree = JellyfishMerkleTree::<_, Sha256>::new(store);
    Ok(tree.get_with_proof(key, height.0)?)
}

/// Builds the genesis state (version 0) from initial balances.
pub fn genesis_diff<S: StateStore>(store: &S, balances: &[(Address, Amount)]) -> Result<StateDiff, LedgerError> {
    let mut writes = BTreeMap::new();
    for (addr, bal) in balances {
        let acct = Account { balance: *bal, nonce: 0 };
        if writes.insert(account_key(addr), Some(acct.encode())).is_some() {
            return Err(LedgerError::Genesis(format!("genesis lists account {addr} twice")));
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

/// An in-memory [`StateStore`] for tests, simulations and dry runs. Cloning
/// is cheap (shared, copy-on-write), as contract execution needs an owned handle.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    inner: Arc<MemInner>,
}

#[derive(Debug, Default, Clone)]
struct MemInner {
    nodes: BTreeMap<NodeKey, Node>,
    values: BTreeMap<(KeyHash, Version), Option<OwnedValue>>,
    latest: BTreeMap<KeyHash, Vec<u8>>,
    contract_kv: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Makes a diff the committed state.
    pub fn commit(&mut self, diff: &StateDiff) {
        let inner = Arc::make_mut(&mut self.inner);
        for (k, n) in diff.tree.node_batch.nodes() {
            inner.nodes.insert(k.clone(), n.clone());
        }
        for ((ver, kh), v) in diff.tree.node_batch.values() {
            inner.values.insert((*kh, *ver), v.clone());
        }
        for (k, v) in &diff.writes {
            match v {
                Some(v) => inner.latest.insert(*k, v.clone()),
                None => inner.latest.remove(k),
            };
        }
        for (k, v) in &diff.contract_kv {
            match v {
                Some(v) => inner.contract_kv.insert(k.clone(), v.clone()),
                None => inner.contract_kv.remove(k),
            };
        }
    }
}

impl TreeReader for MemStore {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.inner.nodes.get(node_key).cloned())
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.inner.values.range((key_hash, 0)..=(key_hash, max_version)).next_back().and_then(|(_, v)| v.clone()))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        let mut best: Option<(NodeKey, LeafNode)> = None;
        for (k, n) in &self.inner.nodes {
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
        Ok(self.inner.latest.get(key).cloned())
    }

    fn contract_next(
        &self,
        contract: &Address,
        start: Bound<&[u8]>,
        end: Option<&[u8]>,
    ) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let lo = match start {
            Bound::Included(k) => Bound::Included((*contract, k.to_vec())),
            Bound::Excluded(k) => Bound::Excluded((*contract, k.to_vec())),
            Bound::Unbounded => Bound::Included((*contract, Vec::new())),
        };
        let found = self.inner.contract_kv.range((lo, Bound::Unbounded)).next();
        Ok(found.and_then(|((a, k), v)| {
            (a == contract && end.is_none_or(|e| k.as_slice() < e)).then(|| (k.clone(), v.clone()))
        }))
    }
}
