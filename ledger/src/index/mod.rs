//! The decentralization index, kept in the authenticated state.
//!
//! Every block adds to the current epoch's counters (who proposed it, with
//! which client software, whose precommits its certificate carries). The last
//! block of an epoch (`index.epoch_blocks` blocks) turns the counters and the
//! staking records into one [`EpochRecord`]: a distribution over entities for
//! every subsystem, with the exact metrics (Nakamoto coefficients at the
//! standard thresholds, HHI as a fraction) computed by the
//! `decentralization` crate in integer arithmetic. Every node computes the
//! same record from the same blocks, so the history is under the state root
//! and provable; metrics that need logarithms (entropy, Theil) are computed
//! from the stored distributions at query time, outside consensus.
//!
//! Operators are clustered by what the chain can see: the `operator_entity`
//! validators declare (see `cluster.rs`). Declarations are voluntary, so a
//! clustered coefficient is an upper bound on the true one; the unclustered
//! one (`validators`) is always reported beside it. The power subsystems
//! describe the set the chain decided at the epoch's end (the set of the
//! next heights).

mod cluster;
mod epoch;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::LedgerError;
use crate::staking::module_address;
use crate::state::{StateStore, contract_storage_key, decode_record};
use crate::types::Address;

pub use cluster::{cluster_of, entity_key};
pub use epoch::{MAX_CLIENTS_PER_EPOCH, MAX_LISTED_ENTITIES, MAX_NEW_CLIENTS_PER_PROPOSER};
pub(crate) use epoch::{closes_epoch, end_block};

/// Namespace of the index records.
pub static INDEX: LazyLock<Address> = LazyLock::new(|| module_address("decentralization_index"));

pub(crate) const COUNTERS_KEY: &[u8] = b"counters";
pub(crate) const LATEST_KEY: &[u8] = b"latest";

pub(crate) fn epoch_key(epoch: u64) -> Vec<u8> {
    [b"e".as_slice(), &epoch.to_be_bytes()].concat()
}

/// What the current epoch has seen so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EpochCounters {
    /// The epoch being counted (the first is 1).
    pub epoch: u64,
    /// Its first height.
    pub start_height: u64,
    /// Blocks counted so far.
    pub blocks: u64,
    /// Blocks proposed, by the proposer's consensus key.
    pub proposed: BTreeMap<[u8; 32], u64>,
    /// Blocks by the client software their header names; at most
    /// [`MAX_CLIENTS_PER_EPOCH`] names, the rest counted under `other`.
    pub clients: BTreeMap<String, u64>,
    /// Client names each proposer (consensus key) added this epoch, at most
    /// [`epoch::MAX_NEW_CLIENTS_PER_PROPOSER`].
    pub names_added: BTreeMap<[u8; 32], u32>,
    /// Precommits carried by the epoch's commit certificates, by consensus key.
    pub signed: BTreeMap<[u8; 32], u64>,
}

/// One subsystem of one epoch: a distribution and its exact metrics.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SubsystemRecord {
    /// `validators`, `validator_stake`, `operators`, `countries`, `hosting`,
    /// `clients`, `block_production` or `vote_participation`.
    pub name: String,
    /// What the weights count: `voting_power`, `stake`, `blocks` or `precommits`.
    pub weight: String,
    /// Entities are clusters of validators (declared data: an upper bound).
    pub clustered: bool,
    /// The largest [`MAX_LISTED_ENTITIES`] entities, by weight (descending,
    /// ties by name); zero weights are not listed.
    pub entities: Vec<(String, u128)>,
    /// Entities beyond the list and their total weight.
    pub rest_entities: u64,
    pub rest_weight: u128,
    /// Sum of all weights.
    pub total: u128,
    /// Nakamoto coefficients at `decentralization::Threshold::STANDARD`, in
    /// that order, over the whole distribution (`None`: no weight at all).
    pub nakamoto: Vec<Option<u32>>,
    /// HHI = 10000·Σw²/T², as a reduced fraction (big-endian 256-bit
    /// numerator and denominator); `None` when there is no weight.
    pub hhi: Option<([u8; 32], [u8; 32])>,
}

/// The index of one epoch, as stored.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EpochRecord {
    pub epoch: u64,
    pub start_height: u64,
    /// The block that closed the epoch (its state holds this record).
    pub end_height: u64,
    pub end_time_ms: u64,
    pub blocks: u64,
    pub subsystems: Vec<SubsystemRecord>,
}

/// Version byte in front of every record, so a later node can read old ones.
const RECORD_VERSION: u8 = 1;

pub(crate) fn encode<T: BorshSerialize>(v: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    out.extend(borsh::to_vec(v).expect("writing to a Vec cannot fail"));
    out
}

pub(crate) fn decode<T: BorshDeserialize>(what: &str, b: &[u8]) -> Result<T, LedgerError> {
    match b.split_first() {
        Some((&RECORD_VERSION, rest)) => decode_record(what, rest),
        _ => Err(LedgerError::Corrupt(format!("{what}: unknown record version"))),
    }
}

fn read<S: StateStore, T: BorshDeserialize>(store: &S, what: &str, key: &[u8]) -> Result<Option<T>, LedgerError> {
    store.get_latest(&contract_storage_key(&INDEX, key))?.map(|b| decode(what, &b)).transpose()
}

/// The last completed epoch in the latest committed state.
pub fn latest_epoch<S: StateStore>(store: &S) -> Result<Option<u64>, LedgerError> {
    read(store, "index latest", LATEST_KEY)
}

/// The stored index of `epoch`, if that epoch has ended.
pub fn epoch_record<S: StateStore>(store: &S, epoch: u64) -> Result<Option<EpochRecord>, LedgerError> {
    read(store, "index epoch", &epoch_key(epoch))
}

/// The counters of the epoch in progress.
pub fn current_counters<S: StateStore>(store: &S) -> Result<Option<EpochCounters>, LedgerError> {
    read(store, "index counters", COUNTERS_KEY)
}

/// The latest epoch that had ended by `height` (epochs end at increasing
/// heights, so a binary search over the stored records finds it).
pub fn epoch_at_height<S: StateStore>(store: &S, height: u64) -> Result<Option<u64>, LedgerError> {
    let Some(latest) = latest_epoch(store)? else { return Ok(None) };
    let (mut lo, mut hi) = (1u64, latest);
    let mut found = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        let Some(r) = epoch_record(store, mid)? else {
            return Err(LedgerError::Corrupt(format!("index epoch {mid} is missing")));
        };
        if r.end_height <= height {
            found = Some(mid);
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    Ok(found)
}

/// The storage key of an epoch's record (for state proofs).
pub fn epoch_state_key(epoch: u64) -> jmt::KeyHash {
    contract_storage_key(&INDEX, &epoch_key(epoch))
}

/// An epoch's record as stored (its encoded bytes) with a Merkle proof
/// against the state root of `height` (an exclusion proof if the epoch had
/// not ended by then): anyone holding that root can check the index.
pub fn prove_epoch<S: StateStore>(
    store: &S,
    epoch: u64,
    height: crate::types::Height,
) -> Result<(Option<Vec<u8>>, crate::state::StateProof), LedgerError> {
    let tree = jmt::JellyfishMerkleTree::<_, sha2::Sha256>::new(store);
    Ok(tree.get_with_proof(epoch_state_key(epoch), height.0)?)
}

/// Checks a proof from [`prove_epoch`] and decodes the record it proves.
pub fn verify_epoch_proof(
    root: crate::types::Hash,
    epoch: u64,
    value: Option<&[u8]>,
    proof: &crate::state::StateProof,
) -> Result<Option<EpochRecord>, LedgerError> {
    proof
        .verify(jmt::RootHash(root.0), epoch_state_key(epoch), value)
        .map_err(|e| LedgerError::Proof(format!("{e:#}")))?;
    value.map(|b| decode("index epoch", b)).transpose()
}
