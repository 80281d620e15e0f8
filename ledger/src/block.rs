//! Blocks, headers, commit certificates and receipts.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, Signature};
use crate::merkle::merkle_root;
use crate::tx::SignedTx;
use crate::types::{Address, Hash, Height};

/// 2: headers name the proposer's client software (`client`).
pub const HEADER_VERSION: u32 = 2;

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
        let tx_root = merkle_root(self.txs.iter().map(SignedTx::hash));
        if tx_root != self.header.tx_root {
            return Err(format!("tx root {} does not match header {}", tx_root, self.header.tx_root));
        }
        let lc = self.last_commit.as_ref().map_or(Hash::ZERO, Commit::hash);
        if lc != self.header.last_commit_hash {
            return Err("last commit does not match its hash in the header".into());
        }
        if evidence_hash(&self.evidence) != self.header.evidence_hash {
            return Err("evidence does not match its hash in the header".into());
        }
        Ok(())
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
