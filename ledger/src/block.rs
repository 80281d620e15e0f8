//! Blocks, headers, commit certificates and receipts.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, Signature};
use crate::merkle::merkle_root;
use crate::tx::SignedTx;
use crate::types::{Address, Hash, Height};

/// 2: headers name the proposer's client software (`client`).
/// 3: the transaction and receipt roots hash leaves apart from inner nodes
/// (`merkle::merkle_root`), so a list of hashes binds to its root.
pub const HEADER_VERSION: u32 = 3;

/// Longest `Header::client`, in bytes.
pub const MAX_CLIENT_BYTES: usize = 64;

/// Checks a header's client name: 1 to [`MAX_CLIENT_BYTES`] printable ASCII
/// characters without spaces (`name/version`, as `agorad/0.1.0`), and not one
/// of the index's own buckets (`other`, `invalid`).
pub fn check_client(client: &str) -> Result<(), String> {
    if client.is_empty() || client.len() > MAX_CLIENT_BYTES {
        return Err(format!("client name must have 1 to {MAX_CLIENT_BYTES} bytes, not {}", client.len()));
    }
    if !client.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("client name must be printable ASCII without spaces".into());
    }
    if client == "other" || client == "invalid" {
        return Err(format!("client name `{client}` is reserved by the decentralization index"));
    }
    Ok(())
}

/// A block header. Its hash is the block's identity; everything else in the
/// block is bound to it through roots.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub version: u32,
    pub chain_id: String,
    pub height: Height,
    /// Proposer's time in milliseconds since the Unix epoch; never decreases.
    pub time_ms: u64,
    /// Hash of the parent header (the genesis hash for height 1).
    pub parent_hash: Hash,
    /// Merkle root of the transaction hashes, in block order.
    pub tx_root: Hash,
    /// Authenticated state root after executing this block.
    pub state_root: Hash,
    /// Merkle root of the receipts' hashes, in block order.
    pub receipts_root: Hash,
    /// Consensus key of the validator that proposed this block.
    pub proposer: PublicKey,
    /// The proposer's client software and version (`agorad/0.1.0`), checked
    /// by [`check_client`]: the chain counts which software produced its
    /// blocks (the client subsystem of the decentralization index).
    pub client: String,
    /// Hash of the validator set that decides this block (the consensus
    /// crate's `ValidatorSet::hash`, supplied by the node).
    pub validator_set_hash: Hash,
    /// Hash of `Block::last_commit` (zero when absent).
    pub last_commit_hash: Hash,
    /// Hash of `Block::evidence` (zero when there is none).
    pub evidence_hash: Hash,
}

impl Header {
    pub fn hash(&self) -> Hash {
        Hash::digest(&borsh::to_vec(self).expect("writing to a Vec cannot fail"))
    }
}

/// One validator's precommit signature inside a commit certificate.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitSig {
    pub validator: PublicKey,
    pub signature: Signature,
}

/// The precommits (more than 2/3 of voting power) that decided a block.
/// Verification is the consensus crate's job; the ledger only carries it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Commit {
    pub height: Height,
    pub round: u32,
    pub block_hash: Hash,
    pub signatures: Vec<CommitSig>,
}

impl Commit {
    pub fn hash(&self) -> Hash {
        Hash::digest(&borsh::to_vec(self).expect("writing to a Vec cannot fail"))
    }
}

/// A decided block with the commit certificate that decided it: what block
/// sync carries (block h's certificate is block h+1's `last_commit`, the tip's
/// is the one its node decided with).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CertifiedBlock {
    pub block: Block,
    pub commit: Commit,
}

/// Double-sign evidence carried by a block: the consensus crate's canonical
/// (borsh) encoding of its `Evidence`. The ledger does not interpret it: the
/// node decodes and verifies it against the validator set of its height and
/// passes a `staking::Misbehaviour` to execution.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Evidence(#[serde(with = "crate::types::hex_bytes")] pub Vec<u8>);

/// Hash of a block's evidence list (zero when empty).
pub fn evidence_hash(evidence: &[Evidence]) -> Hash {
    if evidence.is_empty() {
        return Hash::ZERO;
    }
    Hash::digest(&borsh::to_vec(evidence).expect("writing to a Vec cannot fail"))
}

/// A block: header, transactions, the certificate that decided its parent,
/// and evidence of misbehaviour.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    pub header: Header,
    pub txs: Vec<SignedTx>,
    pub last_commit: Option<Commit>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Checks that the body matches the roots its header commits to.
    pub fn check_body_roots(&self) -> Result<(), String> {
        self.check_body_roots_hashed(&self.tx_hashes())
    }

    /// The transactions' hashes, in order (each one encodes the transaction).
    pub fn tx_hashes(&self) -> Vec<Hash> {
        self.txs.iter().map(SignedTx::hash).collect()
    }

    /// [`Block::check_body_roots`] with the transactions' hashes computed
    /// once by the caller: `hashes[i]` must be `txs[i]`'s hash
    /// ([`Block::tx_hashes`], or the hashes of the compact block it was
    /// assembled from). A count that differs fails.
    pub fn check_body_roots_hashed(&self, hashes: &[Hash]) -> Result<(), String> {
        if hashes.len() != self.txs.len() {
            return Err(format!("{} transaction hashes for {} transactions", hashes.len(), self.txs.len()));
        }
        check_roots(&self.header, hashes.iter().copied(), self.last_commit.as_ref(), &self.evidence)
    }
}

fn check_roots(
    header: &Header,
    tx_hashes: impl Iterator<Item = Hash>,
    last_commit: Option<&Commit>,
    evidence: &[Evidence],
) -> Result<(), String> {
    let tx_root = merkle_root(tx_hashes);
    if tx_root != header.tx_root {
        return Err(format!("tx root {} does not match header {}", tx_root, header.tx_root));
    }
    if last_commit.map_or(Hash::ZERO, Commit::hash) != header.last_commit_hash {
        return Err("last commit does not match its hash in the header".into());
    }
    if evidence_hash(evidence) != header.evidence_hash {
        return Err("evidence does not match its hash in the header".into());
    }
    Ok(())
}

/// A block whose transactions are named by hash: how a proposal travels.
/// Validators already hold nearly every transaction of a proposal in their
/// mempools (they were gossiped on admission), so a proposal of 5,000
/// transfers is ~160 KB of hashes instead of ~1 MB of transactions, and the
/// receivers fetch only what they lack. The hashes alone are checked against
/// the header's `tx_root`, so a compact block is as binding as the full one.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CompactBlock {
    pub header: Header,
    pub tx_hashes: Vec<Hash>,
    pub last_commit: Option<Commit>,
    pub evidence: Vec<Evidence>,
}

impl CompactBlock {
    pub fn of(block: &Block) -> CompactBlock {
        CompactBlock {
            header: block.header.clone(),
            tx_hashes: block.txs.iter().map(SignedTx::hash).collect(),
            last_commit: block.last_commit.clone(),
            evidence: block.evidence.clone(),
        }
    }

    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Checks the hashes, last commit and evidence against the header's roots.
    pub fn check_roots(&self) -> Result<(), String> {
        check_roots(&self.header, self.tx_hashes.iter().copied(), self.last_commit.as_ref(), &self.evidence)
    }

    /// The full block from its transactions, in order. `None` unless there is
    /// exactly one per hash and each has its hash (so the block's roots are
    /// the compact block's).
    pub fn assemble(&self, txs: Vec<SignedTx>) -> Option<Block> {
        if txs.iter().zip(&self.tx_hashes).any(|(t, h)| t.hash() != *h) {
            return None;
        }
        self.assemble_known(txs)
    }

    /// [`CompactBlock::assemble`] from transactions whose hashes the caller
    /// already knows to be `tx_hashes`, in order (a mempool keyed by the hash
    /// of each one's bytes, which strict decoding makes its encoding; fetched
    /// ones matched by hash on arrival), so none is encoded and hashed again.
    /// `None` if the count differs.
    pub fn assemble_known(&self, txs: Vec<SignedTx>) -> Option<Block> {
        if txs.len() != self.tx_hashes.len() {
            return None;
        }
        Some(Block {
            header: self.header.clone(),
            txs,
            last_commit: self.last_commit.clone(),
            evidence: self.evidence.clone(),
        })
    }
}

/// Outcome of one executed transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    Success,
    Failed { reason: String },
}

/// A typed event with string attributes, as dApps and indexers consume them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl Event {
    pub fn new(kind: &str, attributes: &[(&str, String)]) -> Event {
        Event {
            kind: kind.to_owned(),
            attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        }
    }

    /// [`Event::new`] taking the values by move (no copy of each string): for
    /// the events every transaction emits.
    pub fn owned<const N: usize>(kind: &str, attributes: [(&str, String); N]) -> Event {
        Event { kind: kind.to_owned(), attributes: attributes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }
    }
}

/// What executing a transaction did.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    pub tx_hash: Hash,
    pub sender: Address,
    #[serde(flatten)]
    pub status: TxStatus,
    pub gas_used: u64,
    pub fee: crate::types::Amount,
    pub events: Vec<Event>,
    /// What the payload returned: a contract's result data, the code hash of
    /// stored code, the address of a new contract; empty otherwise.
    #[serde(with = "crate::types::hex_bytes", default)]
    pub data: Vec<u8>,
}

impl Receipt {
    pub fn hash(&self) -> Hash {
        Hash::digest(&borsh::to_vec(self).expect("writing to a Vec cannot fail"))
    }
}

/// How far ahead of a validator's own clock a proposed block's time may be.
///
/// The block-time rule (see ARCHITECTURE.md, "What the node trusts"): a
/// block's time is strictly greater than its parent's (every block), and a
/// validator votes for a *proposed* block only if its time is at most
/// `MAX_FUTURE_DRIFT_MS` ahead of the validator's own clock (a
/// proposer-based timestamp with an upper bound, as CometBFT's PBTS).
/// Since a block needs prevotes of more than 2/3 of the power, at least one
/// honest validator accepted its time: while fewer than 1/3 of the power is
/// byzantine, chain time is never more than this drift ahead of the clock of
/// some honest validator. Certified blocks (block sync) are not checked
/// against the local clock: more than 2/3 already did.
pub const MAX_FUTURE_DRIFT_MS: u64 = 2_000;

/// The time a proposer gives the block after `parent_ms`: its own clock, or
/// one millisecond after the parent if its clock is not ahead of it. `None`
/// only if the parent's time is `u64::MAX`, which no accepted block can have.
pub fn proposal_time(parent_ms: u64, now_ms: u64) -> Option<u64> {
    Some(now_ms.max(parent_ms.checked_add(1)?))
}

/// Checks a block's time against its parent and, for a live proposal, the
/// validator's clock `now_ms` (`None` for a certified block).
pub fn check_block_time(parent_ms: u64, time_ms: u64, now_ms: Option<u64>) -> Result<(), String> {
    if time_ms <= parent_ms {
        return Err(format!("block time {time_ms} ms is not after its parent's {parent_ms} ms"));
    }
    if let Some(now) = now_ms {
        let limit = now.saturating_add(MAX_FUTURE_DRIFT_MS);
        if time_ms > limit {
            return Err(format!(
                "block time {time_ms} ms is {} ms ahead of this validator's clock ({now} ms); at most {MAX_FUTURE_DRIFT_MS} ms is accepted",
                time_ms - now
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn block_time_must_follow_the_parent() {
        assert!(check_block_time(1_000, 1_001, None).is_ok());
        assert!(check_block_time(1_000, 1_000, None).is_err());
        assert!(check_block_time(1_000, 999, None).is_err());
        assert!(check_block_time(u64::MAX, u64::MAX, None).is_err());
        assert!(check_block_time(0, u64::MAX, None).is_ok(), "certified blocks are not held to a clock");
    }

    #[test]
    fn proposed_time_is_bounded_by_the_clock_at_the_edge() {
        let now = 50_000;
        assert!(check_block_time(1, now + MAX_FUTURE_DRIFT_MS, Some(now)).is_ok());
        assert!(check_block_time(1, now + MAX_FUTURE_DRIFT_MS + 1, Some(now)).is_err());
        assert!(check_block_time(1, now + 30 * 24 * 3_600_000, Some(now)).is_err(), "a month ahead");
        assert!(check_block_time(1, u64::MAX, Some(now)).is_err());
        // A validator whose clock is near the end of time does not overflow.
        assert!(check_block_time(1, u64::MAX, Some(u64::MAX - 1)).is_ok());
        // Behind the clock is fine (a slow proposer, a re-proposal).
        assert!(check_block_time(1, 2, Some(now)).is_ok());
    }

    #[test]
    fn proposers_never_go_backwards_or_overflow() {
        assert_eq!(proposal_time(100, 50), Some(101));
        assert_eq!(proposal_time(100, 500), Some(500));
        assert_eq!(proposal_time(u64::MAX - 1, 0), Some(u64::MAX));
        assert_eq!(proposal_time(u64::MAX, 0), None);
        for (parent, now) in [(0, 0), (5, 5), (7, 3), (1 << 40, (1 << 40) + 9)] {
            let t = proposal_time(parent, now).expect("no overflow");
            assert!(check_block_time(parent, t, Some(now)).is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Amount, Payload, SigningKey, TxBody};

    fn block(n: u64) -> Block {
        let key = SigningKey::from_bytes(&[7; 32]);
        let sender = PublicKey::from_signing_key(&key);
        let txs: Vec<SignedTx> = (0..n)
            .map(|nonce| {
                TxBody {
                    chain_id: "c".into(),
                    sender,
                    nonce,
                    gas_limit: 100_000,
                    gas_price: Amount::new(1),
                    payload: Payload::Transfer { to: Address([9; 20]), amount: Amount::new(u128::from(nonce) + 1) },
                }
                .sign(&key)
            })
            .collect();
        let header = Header {
            version: crate::block::HEADER_VERSION,
            chain_id: "c".into(),
            height: Height(3),
            time_ms: 1,
            parent_hash: Hash([1; 32]),
            tx_root: merkle_root(txs.iter().map(SignedTx::hash)),
            state_root: Hash([2; 32]),
            receipts_root: Hash([3; 32]),
            proposer: sender,
            client: "agorad/0.1.0".into(),
            validator_set_hash: Hash([4; 32]),
            last_commit_hash: Hash::ZERO,
            evidence_hash: evidence_hash(&[]),
        };
        Block { header, txs, last_commit: None, evidence: Vec::new() }
    }

    #[test]
    fn a_compact_block_is_as_binding_as_the_full_one() {
        let b = block(5);
        b.check_body_roots().unwrap();
        let c = CompactBlock::of(&b);
        assert_eq!(c.hash(), b.hash());
        c.check_roots().unwrap();
        // Reassembled from the same transactions: the very block.
        assert_eq!(c.assemble(b.txs.clone()).unwrap(), b);
        // Hashes swapped, dropped or added: the header's tx root refuses them.
        let mut swapped = c.clone();
        swapped.tx_hashes.swap(0, 1);
        assert!(swapped.check_roots().is_err());
        let mut short = c.clone();
        short.tx_hashes.pop();
        assert!(short.check_roots().is_err());
        let mut long = c.clone();
        long.tx_hashes.push(Hash([5; 32]));
        assert!(long.check_roots().is_err());
        // The root itself as the only hash (with raw leaves it would pass).
        let mut root_only = c.clone();
        root_only.tx_hashes = vec![b.header.tx_root];
        assert!(root_only.check_roots().is_err());
        let mut other_evidence = c.clone();
        other_evidence.evidence.push(Evidence(vec![1]));
        assert!(other_evidence.check_roots().is_err());
        // Transactions out of order, missing, extra or different: no block.
        let mut txs = b.txs.clone();
        txs.swap(1, 2);
        assert!(c.assemble(txs).is_none());
        assert!(c.assemble(b.txs[..4].to_vec()).is_none());
        let mut more = b.txs.clone();
        more.push(b.txs[0].clone());
        assert!(c.assemble(more).is_none());
        let mut other = b.txs.clone();
        other[4] = block(6).txs[5].clone();
        assert!(c.assemble(other).is_none());
        // An empty block too.
        let e = block(0);
        assert_eq!(CompactBlock::of(&e).assemble(Vec::new()).unwrap(), e);
    }

    /// Hashes computed once and handed on check the same as computing them:
    /// the block's own pass, any other list (reordered, one short, one
    /// more, one different) fails, and so does a count that differs.
    /// Assembly from known hashes checks the count.
    #[test]
    fn precomputed_hashes_check_the_body_as_computed_ones_do() {
        let b = block(5);
        let hashes = b.tx_hashes();
        assert_eq!(hashes, b.txs.iter().map(SignedTx::hash).collect::<Vec<_>>());
        b.check_body_roots_hashed(&hashes).unwrap();
        let mut swapped = hashes.clone();
        swapped.swap(0, 1);
        assert!(b.check_body_roots_hashed(&swapped).is_err());
        assert!(b.check_body_roots_hashed(&hashes[..4]).is_err());
        let mut more = hashes.clone();
        more.push(hashes[0]);
        assert!(b.check_body_roots_hashed(&more).is_err());
        let mut other = hashes.clone();
        other[4] = Hash([9; 32]);
        assert!(b.check_body_roots_hashed(&other).is_err());
        let c = CompactBlock::of(&b);
        assert_eq!(c.assemble_known(b.txs.clone()).unwrap(), b);
        assert!(c.assemble_known(b.txs[..4].to_vec()).is_none());
    }
}
