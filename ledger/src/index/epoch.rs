//! Counting an epoch and closing it (runs at the end of every block).

use std::collections::BTreeMap;

use decentralization::{Distribution, Threshold};

use super::cluster::cluster_of;
use super::{COUNTERS_KEY, EpochCounters, EpochRecord, INDEX, LATEST_KEY, SubsystemRecord, decode, encode, epoch_key};
use crate::contract::{Host, LedgerHost};
use crate::crypto::PublicKey;
use crate::error::LedgerError;
use crate::params::ChainParams;
use crate::staking::store::{ACTIVE_SET, Records, VALIDATOR};
use crate::staking::{SetMember, Validator, VoteInfo};
use crate::state::StateStore;
use crate::types::Height;

/// Entities listed per subsystem in a stored record (the metrics stored
/// beside it cover all of them).
pub const MAX_LISTED_ENTITIES: usize = 1_000;
/// Client names counted one by one per epoch; blocks naming further ones are
/// counted under `other`, so a proposer cycling names cannot grow the record.
pub const MAX_CLIENTS_PER_EPOCH: usize = 64;
/// New client names one proposer may add to an epoch (a node upgraded
/// mid-epoch adds one; more are counted under `other`).
pub const MAX_NEW_CLIENTS_PER_PROPOSER: u32 = 2;
/// Where entities without a declared country or hosting provider go.
const UNKNOWN: &str = "unknown";

fn get<S: StateStore + Send + 'static, T: borsh::BorshDeserialize>(
    host: &mut LedgerHost<S>,
    what: &str,
    key: &[u8],
) -> Result<Option<T>, LedgerError> {
    host.storage_get(&INDEX, key)?.map(|b| decode(what, &b)).transpose()
}

/// Adds block `height` to the epoch's counters and, if it is the epoch's
/// last block, stores the epoch's record. Returns the epoch it closed.
pub(crate) fn end_block<S: StateStore + Send + 'static>(
    host: &mut LedgerHost<S>,
    params: &ChainParams,
    height: Height,
    time_ms: u64,
    proposer: Option<&(PublicKey, String)>,
    votes: &[VoteInfo],
) -> Result<Option<u64>, LedgerError> {
    let mut c: EpochCounters = get(host, "index counters", COUNTERS_KEY)?.unwrap_or(EpochCounters {
        epoch: 1,
        start_height: height.0,
        ..EpochCounters::default()
    });
    if c.blocks == 0 {
        c.start_height = height.0;
    }
    c.blocks += 1;
    if let Some((pk, client)) = proposer {
        *c.proposed.entry(pk.0).or_default() += 1;
        let name = if crate::block::check_client(client).is_err() {
            "invalid".to_owned()
        } else if c.clients.contains_key(client) {
            client.clone()
        } else {
            // A new name: each proposer may add a few per epoch, so one
            // proposer cycling names cannot fill the slots before others.
            let added = c.names_added.entry(pk.0).or_default();
            if *added < MAX_NEW_CLIENTS_PER_PROPOSER && c.clients.len() < MAX_CLIENTS_PER_EPOCH {
                *added += 1;
                client.clone()
            } else {
                "other".to_owned()
            }
        };
        *c.clients.entry(name).or_default() += 1;
    }
    for v in votes.iter().filter(|v| v.signed) {
        *c.signed.entry(v.validator.0).or_default() += 1;
    }
    if c.blocks < params.index.epoch_blocks {
        host.storage_set(&INDEX, COUNTERS_KEY, &encode(&c))?;
        return Ok(None);
    }
    let record = close(host, &c, height, time_ms)?;
    host.storage_set(&INDEX, &epoch_key(c.epoch), &encode(&record))?;
    host.storage_set(&INDEX, LATEST_KEY, &encode(&c.epoch))?;
    let next = EpochCounters { epoch: c.epoch + 1, start_height: height.0 + 1, ..EpochCounters::default() };
    host.storage_set(&INDEX, COUNTERS_KEY, &encode(&next))?;
    Ok(Some(c.epoch))
}

/// Would block `height` close the epoch? (Staking recomputes the validator
/// set at every epoch end, so a changed set rule takes effect.)
pub(crate) fn closes_epoch<S: StateStore + Send + 'static>(
    host: &mut LedgerHost<S>,
    params: &ChainParams,
) -> Result<bool, LedgerError> {
    let c: Option<EpochCounters> = get(host, "index counters", COUNTERS_KEY)?;
    Ok(c.map_or(0, |c| c.blocks) + 1 >= params.index.epoch_blocks)
}

fn close<S: StateStore + Send + 'static>(
    host: &mut LedgerHost<S>,
    c: &EpochCounters,
    height: Height,
    time_ms: u64,
) -> Result<EpochRecord, LedgerError> {
    let mut r = Records { host };
    let set: Vec<SetMember> = r.get("active set", ACTIVE_SET)?.unwrap_or_default();
    let mut validators: Vec<Validator> = Vec::new();
    for (_, b) in r.scan(&[VALIDATOR], None, usize::MAX)? {
        validators.push(borsh::from_slice(&b).map_err(|e| LedgerError::Corrupt(format!("validator: {e}")))?);
    }
    let by_key: BTreeMap<[u8; 32], &Validator> = validators.iter().map(|v| (v.consensus_key.0, v)).collect();
    let cluster_of_key = |k: &[u8; 32]| match by_key.get(k) {
        Some(v) => cluster_of(v),
        None => hex::encode(k),
    };
    let mut power = Weights::default();
    for m in &set {
        let p = u128::from(m.power);
        power.add("validators", m.operator.to_string(), p);
        power.add("operators", cluster_of_key(&m.consensus_key.0), p);
        let meta = by_key.get(&m.consensus_key.0).map(|v| &v.metadata);
        let or_unknown = |s: Option<&String>| s.filter(|s| !s.is_empty()).cloned().unwrap_or_else(|| UNKNOWN.into());
        power.add("countries", or_unknown(meta.map(|m| &m.country)), p);
        power.add("hosting", or_unknown(meta.map(|m| &m.hosting)), p);
    }
    let mut stake = Weights::default();
    for v in validators.iter().filter(|v| !v.tombstoned) {
        stake.add("validator_stake", v.operator.to_string(), v.tokens.get());
    }
    let mut activity = Weights::default();
    for (name, n) in &c.clients {
        activity.add("clients", name.clone(), u128::from(*n));
    }
    for (k, n) in &c.proposed {
        activity.add("block_production", cluster_of_key(k), u128::from(*n));
    }
    for (k, n) in &c.signed {
        activity.add("vote_participation", cluster_of_key(k), u128::from(*n));
    }
    let subsystems = vec![
        subsystem("validators", "voting_power", false, power.take("validators"))?,
        subsystem("validator_stake", "stake", false, stake.take("validator_stake"))?,
        subsystem("operators", "voting_power", true, power.take("operators"))?,
        subsystem("countries", "voting_power", false, power.take("countries"))?,
        subsystem("hosting", "voting_power", false, power.take("hosting"))?,
        subsystem("clients", "blocks", false, activity.take("clients"))?,
        subsystem("block_production", "blocks", true, activity.take("block_production"))?,
        subsystem("vote_participation", "precommits", true, activity.take("vote_participation"))?,
    ];
    Ok(EpochRecord {
        epoch: c.epoch,
        start_height: c.start_height,
        end_height: height.0,
        end_time_ms: time_ms,
        blocks: c.blocks,
        subsystems,
    })
}

/// Weights by subsystem, then entity (checked sums).
#[derive(Default)]
struct Weights(BTreeMap<&'static str, BTreeMap<String, u128>>);

impl Weights {
    fn add(&mut self, subsystem: &'static str, entity: String, w: u128) {
        let e = self.0.entry(subsystem).or_default().entry(entity).or_default();
        // Weights are parts of the supply or block counts: they cannot overflow.
        *e = e.saturating_add(w);
    }

    fn take(&mut self, subsystem: &str) -> BTreeMap<String, u128> {
        self.0.remove(subsystem).unwrap_or_default()
    }
}

/// A subsystem's record: the distribution (listed up to
/// [`MAX_LISTED_ENTITIES`]) and its exact metrics over all of it.
pub(crate) fn subsystem(
    name: &str,
    weight: &str,
    clustered: bool,
    weights: BTreeMap<String, u128>,
) -> Result<SubsystemRecord, LedgerError> {
    let d = Distribution::new(weights.into_iter().filter(|(_, w)| *w > 0))
        .map_err(|e| LedgerError::Corrupt(format!("index {name}: {e}")))?;
    let nakamoto = Threshold::STANDARD.iter().map(|t| decentralization::nakamoto(&d, *t)).collect();
    let hhi = decentralization::hhi(&d).map(|r| (r.num().to_be_bytes(), r.den().to_be_bytes()));
    let all = d.entities_sorted();
    let listed: Vec<(String, u128)> =
        all.iter().take(MAX_LISTED_ENTITIES).map(|e| (e.name.clone(), e.weight)).collect();
    let rest = all.get(MAX_LISTED_ENTITIES..).unwrap_or_default();
    Ok(SubsystemRecord {
        name: name.to_owned(),
        weight: weight.to_owned(),
        clustered,
        entities: listed,
        rest_entities: rest.len() as u64,
        rest_weight: rest.iter().map(|e| e.weight).sum(),
        total: d.total(),
        nakamoto,
        hhi,
    })
}
