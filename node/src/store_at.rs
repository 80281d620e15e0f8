//! The committed state as of a past height, for RPC reads (`height` on
//! `agora_getAccount`, `agora_contractQuery`, `agora_contractStorage`).
//!
//! Point reads come from the versioned Merkle values (every version is kept:
//! the tree's value table is keyed by key hash and version). The ordered
//! contract-storage index beside the tree holds only the latest state, so an
//! ordered iteration at a past height cannot be served: it fails, and the
//! view remembers that it was asked, so the RPC can answer 1017 with a clear
//! message instead of a contract error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use ledger::Height;
use ledger::state::StateStore;

use crate::store::Store;

/// The message of the error an ordered iteration at a past height returns.
pub const PAST_ITERATION: &str =
    "ordered iteration over contract storage is only served at the latest height (past heights support point reads)";

/// A read-only view of the state at `height` (which must be committed).
#[derive(Clone, Debug)]
pub struct StoreAt {
    store: Store,
    version: Version,
    iterated: Arc<AtomicBool>,
}

impl StoreAt {
    pub fn new(store: Store, height: Height) -> StoreAt {
        StoreAt { store, version: height.0, iterated: Arc::new(AtomicBool::new(false)) }
    }

    /// Whether something asked this view (or a clone) for an ordered iteration.
    pub fn iterated(&self) -> bool {
        self.iterated.load(Ordering::Relaxed)
    }
}

impl TreeReader for StoreAt {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.store.node_for_query(node_key)
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        self.store.get_value_option(max_version.min(self.version), key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.store.get_rightmost_leaf()
    }
}

impl StateStore for StoreAt {
    fn get_latest(&self, key: &KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        self.store.get_value_option(self.version, *key)
    }

    fn contract_next(
        &self,
        _contract: &ledger::Address,
        _start: std::ops::Bound<&[u8]>,
        _end: Option<&[u8]>,
    ) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.iterated.store(true, Ordering::Relaxed);
        anyhow::bail!(PAST_ITERATION)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ledger::state::read_account;

    #[test]
    fn reads_an_account_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let (user, val) = (ledger::SigningKey::from_bytes(&[1; 32]), ledger::SigningKey::from_bytes(&[2; 32]));
        let chain = crate::testing::chain_on(dir.path(), "at-test", &user, &val);
        let addr = ledger::PublicKey::from_signing_key(&user).address();
        let before = read_account(chain.store(), &addr).unwrap();
        crate::testing::commit_transfer(&chain, &user, &val, 0, "at-test");
        let now = read_account(chain.store(), &addr).unwrap();
        assert_ne!(before, now, "the transfer changed the account");
        let at0 = StoreAt::new(chain.store().clone(), Height(0));
        assert_eq!(read_account(&at0, &addr).unwrap(), before);
        let at1 = StoreAt::new(chain.store().clone(), Height(1));
        assert_eq!(read_account(&at1, &addr).unwrap(), now);
        assert!(!at0.iterated());
        let e = ledger::contract::list_contract_storage(&at0, &addr, None, 5).unwrap_err();
        assert!(e.to_string().contains("only served at the latest height"), "{e}");
        assert!(at0.iterated());
    }
}
