//! Merkle root over an ordered list of hashes (transactions, receipts).
//!
//! Uses `rs_merkle` (a maintained binary Merkle tree with proofs) rather than a
//! hand-written tree. Leaves are 32-byte hashes and inner nodes hash 64 bytes,
//! so a leaf can never be confused with an inner node. The empty list's root is
//! the zero hash.

use rs_merkle::{MerkleTree, algorithms::Sha256};

use crate::types::Hash;

pub fn merkle_root(leaves: impl IntoIterator<Item = Hash>) -> Hash {
    let leaves: Vec<[u8; 32]> = leaves.into_iter().map(|h| h.0).collect();
    if leaves.is_empty() {
        return Hash::ZERO;
    }
    MerkleTree::<Sha256>::from_leaves(&leaves).root().map_or(Hash::ZERO, Hash)
}
