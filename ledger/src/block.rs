//! Blocks, headers, commit certificates and receipts.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, Signature};
use crate::merkle::merkle_root;
use crate::tx::SignedTx;
use crate::types::{Address, Hash, Height};

pub const HEADER_VERSION: u32 = 1;

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
