//! Merkle root over an ordered list of hashes (transactions, receipts).
//!
//! Uses `rs_merkle` (a maintained binary Merkle tree with proofs) rather than a
//! hand-written tree. Each item enters as the leaf `SHA-256(0x00 ‖ item)` (33
//! bytes hashed) while inner nodes hash their two 32-byte children (64
//! bytes), so no inner node can stand in for a leaf (RFC 6962's separation):
//! the only list of items with a given root is the one that made it. This
//! matters where a list of hashes is checked against a root without the
//! items (a compact proposal's transaction hashes against `tx_root`): with raw
//! leaves, `[root]` itself or any row of inner nodes would pass. The empty
//! list's root is the zero hash.

use rs_merkle::{MerkleTree, algorithms::Sha256};

use crate::types::Hash;

/// The leaf of an item: its hash under the leaf prefix.
fn leaf(item: &Hash) -> Hash {
    let mut b = [0u8; 33];
    b[1..].copy_from_slice(&item.0);
    Hash::digest(&b)
}

pub fn merkle_root(leaves: impl IntoIterator<Item = Hash>) -> Hash {
    let leaves: Vec<[u8; 32]> = leaves.into_iter().map(|h| leaf(&h).0).collect();
    if leaves.is_empty() {
        return Hash::ZERO;
    }
    MerkleTree::<Sha256>::from_leaves(&leaves).root().map_or(Hash::ZERO, Hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u8) -> Hash {
        Hash::digest(&[i])
    }

    /// No other list of hashes has a list's root: not the root itself, not
    /// a row of inner nodes, not the list with an item dropped or repeated.
    #[test]
    fn only_the_list_itself_has_its_root() {
        let items: Vec<Hash> = (0..5).map(h).collect();
        let root = merkle_root(items.clone());
        assert_ne!(merkle_root([root]), root);
        // The inner row over the first four leaves, as rs_merkle builds it.
        let leaves: Vec<[u8; 32]> = items.iter().map(|x| leaf(x).0).collect();
        let pair = |a: &[u8; 32], b: &[u8; 32]| Hash::digest(&[&a[..], &b[..]].concat());
        let row = vec![pair(&leaves[0], &leaves[1]), pair(&leaves[2], &leaves[3]), leaf(&items[4])];
        assert_ne!(merkle_root(row.clone()), root);
        assert_ne!(merkle_root(row[..2].iter().copied()), merkle_root(items[..4].iter().copied()));
        assert_ne!(merkle_root(items[..4].iter().copied()), root);
        let mut twice = items.clone();
        twice.push(items[4]);
        assert_ne!(merkle_root(twice), root);
        // One item: its leaf, not the item.
        assert_eq!(merkle_root([h(1)]), leaf(&h(1)));
        assert_ne!(merkle_root([h(1)]), h(1));
        assert_eq!(merkle_root(std::iter::empty()), Hash::ZERO);
    }
}
