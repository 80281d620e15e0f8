//! Types of the chain methods: status, parameters, blocks, transactions,
//! accounts, submission, network info.

use std::fmt;

use ledger::{Address, Amount, ChainParams, Commit, Event, Hash, Header, Height, PublicKey, Receipt, SignedTx};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where consensus is: the height being decided, its round and step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusProgress {
    pub height: u64,
    pub round: u32,
    pub step: String,
}

/// `agora_status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub chain_id: String,
    pub genesis_hash: Hash,
    pub node_version: String,
    /// The client software this node names in its headers.
    pub client: String,
    pub moniker: String,
    pub latest_height: Height,
    pub latest_block_hash: Hash,
    pub latest_state_root: Hash,
    pub latest_block_time_ms: u64,
    /// True while blocks are fetched from a peer that is ahead.
    pub syncing: bool,
    pub best_peer_height: u64,
    pub synced_blocks: u64,
    /// Double signs this node has detected since it started.
    pub equivocations_seen: u64,
    pub consensus: ConsensusProgress,
    /// This node's validator key while it is in the next height's set; null on a full node.
    pub validator: Option<PublicKey>,
    /// The libp2p peer id (null without networking).
    pub node_id: Option<String>,
    pub peers: u64,
    pub total_txs: u64,
    pub mempool_size: u64,
}

/// `agora_chainParams`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainParamsInfo {
    pub chain_id: String,
    /// The parameters in force for the next block.
    pub params: ChainParams,
    pub block_interval_ms: u64,
}

/// Which block `agora_getBlock` reads: a height (number), a block hash (hex
/// string) or `"latest"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockId {
    Latest,
    Height(u64),
    Hash(Hash),
}

impl Serialize for BlockId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BlockId::Latest => s.serialize_str("latest"),
            BlockId::Height(h) => s.serialize_u64(*h),
            BlockId::Hash(h) => h.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for BlockId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = BlockId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`block`: a height (whole number), a block hash (hex) or \"latest\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<BlockId, E> {
                Ok(BlockId::Height(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BlockId, E> {
                if v == "latest" {
                    return Ok(BlockId::Latest);
                }
                v.parse::<Hash>().map(BlockId::Hash).map_err(|e| E::custom(format!("`block`: {e}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A transaction with its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedTx {
    pub hash: Hash,
    pub tx: SignedTx,
}

/// A block's transactions: in full (`full_txs`, the default) or their hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockTxs {
    Full(Vec<HashedTx>),
    Hashes(Vec<Hash>),
}

impl BlockTxs {
    /// The hashes, whichever form.
    pub fn hashes(&self) -> Vec<Hash> {
        match self {
            BlockTxs::Full(v) => v.iter().map(|t| t.hash).collect(),
            BlockTxs::Hashes(v) => v.clone(),
        }
    }
}

/// An evidence item of a block: the decoded double sign, or `type: "unknown"`
/// with the raw bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceInfo {
    /// `duplicate_vote`, `duplicate_proposal` or `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// The evidence's bytes, hex.
    pub bytes: ledger::Evidence,
}

/// `agora_getBlock`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    pub hash: Hash,
    pub header: Header,
    pub num_txs: u64,
    pub txs: BlockTxs,
    pub last_commit: Option<Commit>,
    pub evidence: Vec<EvidenceInfo>,
    /// The block's own events outside any transaction (rewards, slash, jail, …).
    pub events: Vec<Event>,
}

/// `agora_getTx`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInfo {
    pub hash: Hash,
    pub height: Height,
    pub index: u64,
    pub block_hash: Hash,
    pub tx: SignedTx,
    pub receipt: Receipt,
}

/// `agora_getAccount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub address: Address,
    pub balance: Amount,
    /// The committed next nonce.
    pub nonce: u64,
    /// Also counts the account's contiguous pending mempool transactions
    /// (latest height without a proof only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_nonce: Option<u64>,
    pub height: Height,
    pub state_root: Hash,
    /// Whether the account exists (past heights and proofs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// Hex of the borsh `SparseMerkleProof` against `state_root` (with `prove`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// `agora_sendTx`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub hash: Hash,
}

/// One transaction's verdict in `agora_sendTxs`: its hash when the mempool
/// admitted it, otherwise the error `agora_sendTx` would have answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendVerdict {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<Hash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<VerdictError>,
}

/// A refusal in [`SendVerdict`]: a JSON-RPC error object (`docs/rpc.md`
/// lists the codes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictError {
    pub code: i32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// `agora_sendTxCommit` (and the committed status of a transaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub hash: Hash,
    pub height: Height,
    pub index: u64,
    pub block_hash: Hash,
    pub receipt: Receipt,
}

/// Whether a peer connection was dialled by this node or by the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerDirection {
    Inbound,
    Outbound,
}

/// One connected peer of `agora_networkInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub peer_id: String,
    /// The address of the connection; null unless the node sets `[rpc] expose_peer_addresses`.
    pub address: Option<String>,
    pub direction: PeerDirection,
    /// The peer's identify `agent_version` (null until identify completed).
    pub agent_version: Option<String>,
    /// The peer's identify `protocol_version` (null until identify completed).
    pub protocol_version: Option<String>,
    /// When the connection was established (unix ms).
    pub connected_ms: u64,
    /// Whether the peer is in this node's gossip mesh for transactions: the
    /// transactions this node relays go to its mesh peers (those it sends
    /// itself go to every peer). Refreshed every half second.
    #[serde(default)]
    pub gossip_mesh: bool,
}

/// `agora_networkInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// The libp2p peer id (null without networking).
    pub node_id: Option<String>,
    /// This node's listen addresses; empty unless the node sets `[rpc] expose_peer_addresses`.
    pub listen_addrs: Vec<String>,
    /// Connected peers (at most 1000 listed).
    pub peers: Vec<PeerInfo>,
    pub num_peers: u64,
}
