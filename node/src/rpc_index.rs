//! Decentralization-index RPC: the index of an epoch (latest, at a height or
//! by number, with an optional Merkle proof), a page of history, the raw
//! distribution of one subsystem, and a subscription to new epochs. The
//! records come from the state (`ledger::index`); the metrics that need
//! logarithms are computed here, at query time, from the stored distributions.

use std::sync::Arc;

use decentralization::{Distribution, Ratio, Report, Threshold, U256};
use jsonrpsee::core::{RpcResult, SubscriptionResult, async_trait};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use ledger::Height;
use ledger::index::{self, EpochRecord, SubsystemRecord};
use rpc_api::api::IndexApiServer;
use rpc_api::types::{
    Alternative, DelegationCheck, DistributionInfo, EntityWeight, EpochHistory, EpochIndex, EpochProof, EpochSummary,
    HeadlineEntry, SubsystemInfo, SubsystemSummary, ThresholdInfo,
};
use tokio::sync::broadcast::error::RecvError;

use crate::rpc::{Api, RpcContext, codes, err, internal};

/// Most epochs in one page of history.
pub const MAX_HISTORY_PAGE: u64 = 100;
/// Most entities in one distribution answer (the record lists at most
/// `ledger::index::MAX_LISTED_ENTITIES`).
pub const MAX_DISTRIBUTION_PAGE: usize = 1_000;

/// What each subsystem measures, for people reading the answer.
pub fn describe(name: &str) -> &'static str {
    match name {
        "validators" => "voting power of each validator in the consensus set",
        "validator_stake" => "bonded stake of each validator, candidates outside the set included",
        "operators" => {
            "voting power clustered by operator: the operator_entity validators declare (declared data: the true coefficient may be lower; compare the unclustered `validators`)"
        }
        "countries" => "voting power by declared country (ISO 3166-1 alpha-2; `unknown` if undisclosed)",
        "hosting" => "voting power by declared hosting provider or AS (`unknown` if undisclosed)",
        "clients" => "blocks of the epoch by the client software their proposer's header names",
        "block_production" => "blocks of the epoch proposed by each operator (clustered)",
        "vote_participation" => "precommits in the epoch's commit certificates, by operator (clustered)",
        _ => "",
    }
}

fn ratio(r: &Option<([u8; 32], [u8; 32])>) -> Option<Ratio> {
    let (n, d) = r.as_ref()?;
    Ratio::new(U256::from_be_bytes(*n), U256::from_be_bytes(*d)).ok()
}

/// A subsystem's report: the full report over the listed entities, with the
/// stored exact values (over every entity) in place of the recomputed ones.
pub fn report(s: &SubsystemRecord) -> Option<Report> {
    let d = Distribution::new(s.entities.iter().map(|(n, w)| (n.clone(), *w))).unwrap_or_default();
    let mut report = Report::of(&d);
    if let Some(r) = &mut report {
        // The stored values cover entities beyond the list too.
        for (v, stored) in r.nakamoto.iter_mut().zip(&s.nakamoto) {
            v.value = *stored;
        }
        if let Some(h) = ratio(&s.hhi) {
            r.hhi = h;
        }
        r.entities = s.entities.len() as u64 + s.rest_entities;
        r.nonzero_entities = r.entities;
        r.total = s.total.to_string();
    }
    report
}

/// One subsystem: its description and [`report`].
pub fn subsystem_info(s: &SubsystemRecord) -> SubsystemInfo {
    SubsystemInfo {
        name: s.name.clone(),
        description: describe(&s.name).to_owned(),
        weight: s.weight.clone(),
        clustered: s.clustered,
        upper_bound: s.clustered,
        entities: s.entities.len() as u64 + s.rest_entities,
        listed_entities: s.entities.len() as u64,
        rest_weight: s.rest_weight.to_string(),
        total: s.total.to_string(),
        metrics_scope: if s.rest_entities == 0 {
            "all entities"
        } else {
            "nakamoto and hhi: all entities; the others: the listed entities"
        }
        .to_owned(),
        metrics: report(s),
    }
}

/// The smallest Nakamoto coefficient over the subsystems at each standard
/// threshold, with the subsystems that set it (Srinivasan and Lee's minimum).
pub fn headline(r: &EpochRecord) -> Vec<HeadlineEntry> {
    Threshold::STANDARD
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let values: Vec<(u32, &str)> = r
                .subsystems
                .iter()
                .filter_map(|s| s.nakamoto.get(i).copied().flatten().map(|v| (v, s.name.as_str())))
                .collect();
            let min = values.iter().map(|(v, _)| *v).min();
            let by = values.iter().filter(|(v, _)| Some(*v) == min).map(|(_, n)| (*n).to_owned()).collect();
            HeadlineEntry {
                threshold: t.name.to_owned(),
                fraction: t.fraction(),
                comparison: t.cmp.symbol().to_owned(),
                rule: t.rule(),
                value: min,
                subsystems: by,
            }
        })
        .collect()
}

fn epoch_index(ctx: &RpcContext, r: &EpochRecord) -> EpochIndex {
    EpochIndex {
        epoch: r.epoch,
        start_height: r.start_height,
        end_height: r.end_height,
        end_time_ms: r.end_time_ms,
        blocks: r.blocks,
        epoch_blocks: ctx.chain.params().index.epoch_blocks,
        headline: headline(r),
        subsystems: r.subsystems.iter().map(subsystem_info).collect(),
        proof: None,
    }
}

/// The epoch an RPC call names: `epoch`, or the last one ended by `height`,
/// or the latest.
fn pick_epoch(ctx: &RpcContext, epoch: Option<u64>, height: Option<u64>) -> Result<u64, ErrorObjectOwned> {
    let store = ctx.chain.store();
    let latest = index::latest_epoch(store).map_err(internal)?;
    let none = || {
        err(
            codes::NOT_FOUND,
            format!(
                "no epoch has ended yet (an epoch is {} blocks; the chain is at height {})",
                ctx.chain.params().index.epoch_blocks,
                ctx.chain.tip().height
            ),
        )
    };
    let latest = latest.ok_or_else(none)?;
    if let Some(e) = epoch {
        if e == 0 || e > latest {
            return Err(err(codes::NOT_FOUND, format!("epoch {e} has not ended: epochs 1 to {latest} have")));
        }
        return Ok(e);
    }
    if let Some(h) = height {
        return index::epoch_at_height(store, h)
            .map_err(internal)?
            .ok_or_else(|| err(codes::NOT_FOUND, format!("no epoch had ended by height {h}")));
    }
    Ok(latest)
}

fn record(ctx: &RpcContext, epoch: u64) -> Result<EpochRecord, ErrorObjectOwned> {
    index::epoch_record(ctx.chain.store(), epoch)
        .map_err(internal)?
        .ok_or_else(|| err(codes::NOT_FOUND, format!("epoch {epoch} is not in the state")))
}

/// A compact line of history: the headline and each subsystem's coefficients.
pub fn summary(r: &EpochRecord) -> EpochSummary {
    let subsystems = r
        .subsystems
        .iter()
        .map(|s| {
            let nakamoto = Threshold::STANDARD.iter().zip(&s.nakamoto).map(|(t, v)| (t.name.to_owned(), *v)).collect();
            (
                s.name.clone(),
                SubsystemSummary { nakamoto, hhi: ratio(&s.hhi), entities: s.entities.len() as u64 + s.rest_entities },
            )
        })
        .collect();
    EpochSummary {
        epoch: r.epoch,
        start_height: r.start_height,
        end_height: r.end_height,
        end_time_ms: r.end_time_ms,
        headline: headline(r),
        subsystems,
    }
}

fn to_msg(v: &impl serde::Serialize) -> Result<SubscriptionMessage, serde_json::Error> {
    serde_json::value::to_raw_value(v).map(SubscriptionMessage::from)
}

/// Notifies the summary of every epoch that ends from now on.
async fn subscribe(pending: PendingSubscriptionSink, ctx: Arc<RpcContext>) -> Result<(), String> {
    let mut rx = ctx.chain.subscribe_blocks();
    let mut seen = index::latest_epoch(ctx.chain.store()).map_err(|e| e.to_string())?;
    let sink = pending.accept().await.map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            r = rx.recv() => match r {
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    let Some(latest) = index::latest_epoch(ctx.chain.store()).map_err(|e| e.to_string())? else {
                        continue;
                    };
                    // Every epoch since the last one sent (a lagging receiver
                    // may wake after several), at most a page at a time.
                    let first = seen.map_or(latest, |s| s + 1).max(latest.saturating_sub(MAX_HISTORY_PAGE - 1));
                    for e in first..=latest {
                        let Some(r) = index::epoch_record(ctx.chain.store(), e).map_err(|e| e.to_string())? else {
                            continue;
                        };
                        if sink.send(to_msg(&summary(&r)).map_err(|e| e.to_string())?).await.is_err() {
                            return Ok(());
                        }
                    }
                    seen = Some(latest);
                }
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}

/// Most alternatives `agora_delegationCheck` names.
const MAX_ALTERNATIVES: usize = 5;

/// The smallest prefix of `weights` (sorted descending) whose sum is at
/// least 1/3 of `total`: the entities that could halt the chain together.
fn halting_prefix<T: Clone>(sorted: &[(T, u128)], total: u128) -> Vec<T> {
    let mut sum = 0u128;
    let mut out = Vec::new();
    for (id, w) in sorted {
        if Threshold::BFT_HALT.is_met(sum, total) {
            break;
        }
        sum = sum.saturating_add(*w);
        out.push(id.clone());
    }
    out
}

/// `agora_delegationCheck validator`: would delegating to `validator` add
/// stake to the smallest group of validators, or of operators, that holds
/// 1/3 of the voting power (enough to halt the chain)? If so, names the
/// smallest validators of the set outside those groups. Reads the latest
/// set the chain decided, clustered as the index clusters operators.
fn delegation_check(ctx: &RpcContext, target: ledger::Address) -> Result<DelegationCheck, ErrorObjectOwned> {
    let mut view = ledger::staking::StakingView::new(ctx.chain.store().clone(), &ctx.chain.params());
    let set = view.active_set().map_err(internal)?;
    let validators = view.validators().map_err(internal)?;
    let Some(tv) = validators.iter().find(|v| v.operator == target) else {
        return Err(err(codes::NOT_FOUND, format!("{target} is not a validator")));
    };
    let by_op: std::collections::BTreeMap<ledger::Address, &ledger::staking::Validator> =
        validators.iter().map(|v| (v.operator, v)).collect();
    let cluster = |op: &ledger::Address| by_op.get(op).map_or_else(|| op.to_string(), |v| index::cluster_of(v));
    let total: u128 = set.iter().map(|m| u128::from(m.power)).sum();
    let mut by_val: Vec<(ledger::Address, u128)> = set.iter().map(|m| (m.operator, u128::from(m.power))).collect();
    by_val.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut ops: std::collections::BTreeMap<String, u128> = std::collections::BTreeMap::new();
    for m in &set {
        *ops.entry(cluster(&m.operator)).or_default() += u128::from(m.power);
    }
    let mut by_cluster: Vec<(String, u128)> = ops.into_iter().collect();
    by_cluster.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let halting_validators = halting_prefix(&by_val, total);
    let halting_operators = halting_prefix(&by_cluster, total);
    let operator = cluster(&target);
    let in_vals = halting_validators.contains(&target);
    let in_ops = halting_operators.contains(&operator);
    // The smallest validators outside the halting validators: first those
    // whose operator is outside the halting operators too, then the others
    // (flagged), so there is a suggestion even when every operator is in one.
    let mut outside: Vec<(bool, u128, &ledger::staking::Validator)> = Vec::new();
    for (op, power) in by_val.iter().rev() {
        let Some(v) = by_op.get(op).copied() else { continue };
        if halting_validators.contains(op) || v.jailed || *op == target {
            continue;
        }
        outside.push((halting_operators.contains(&cluster(op)), *power, v));
    }
    outside.sort_by_key(|(flagged, power, _)| (*flagged, *power));
    let alternatives = outside
        .iter()
        .take(MAX_ALTERNATIVES)
        .map(|(flagged, power, v)| Alternative {
            validator: v.operator,
            moniker: v.metadata.moniker.clone(),
            operator: cluster(&v.operator),
            power: power.to_string(),
            commission: v.commission.rate,
            operator_holds_one_third: *flagged,
        })
        .collect();
    Ok(DelegationCheck {
        validator: target,
        moniker: tv.metadata.moniker.clone(),
        operator,
        power: set.iter().find(|m| m.operator == target).map_or(0, |m| m.power),
        total_power: total.to_string(),
        threshold: ThresholdInfo {
            name: Threshold::BFT_HALT.name.to_owned(),
            fraction: Threshold::BFT_HALT.fraction(),
            comparison: Threshold::BFT_HALT.cmp.symbol().to_owned(),
            rule: Threshold::BFT_HALT.rule(),
        },
        halting_validators,
        halting_operators,
        in_halting_validators: in_vals,
        in_halting_operators: in_ops,
        warn: in_vals || in_ops,
        alternatives,
    })
}

#[async_trait]
impl IndexApiServer for Api {
    async fn subscribe_decentralization(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        Ok(subscribe(pending, self.0.clone()).await?)
    }

    async fn decentralization(
        &self,
        epoch: Option<u64>,
        height: Option<u64>,
        prove: Option<bool>,
    ) -> RpcResult<EpochIndex> {
        let epoch = pick_epoch(self, epoch, height)?;
        let r = record(self, epoch)?;
        let mut v = epoch_index(self, &r);
        if prove.unwrap_or(false) {
            let tip = self.chain.tip();
            let (value, proof) = index::prove_epoch(self.chain.store(), epoch, tip.height).map_err(internal)?;
            v.proof = Some(EpochProof {
                height: tip.height,
                state_root: tip.state_root,
                key: hex::encode(index::epoch_state_key(epoch).0),
                record: value.map(hex::encode),
                proof: hex::encode(borsh::to_vec(&proof).map_err(internal)?),
            });
        }
        Ok(v)
    }

    /// Epochs `from..` in ascending order (default: the last `limit`), at
    /// most [`MAX_HISTORY_PAGE`].
    async fn decentralization_history(&self, from: Option<u64>, limit: Option<u64>) -> RpcResult<EpochHistory> {
        let limit = limit.unwrap_or(20);
        if limit == 0 || limit > MAX_HISTORY_PAGE {
            return Err(err(codes::INVALID_PARAMS, format!("`limit` must be between 1 and {MAX_HISTORY_PAGE}")));
        }
        let Some(latest) = index::latest_epoch(self.chain.store()).map_err(internal)? else {
            return Ok(EpochHistory { epochs: Vec::new(), latest: None, next: None });
        };
        let from = match from {
            Some(0) => return Err(err(codes::INVALID_PARAMS, "epochs are numbered from 1")),
            Some(f) => f,
            None => latest.saturating_sub(limit - 1).max(1),
        };
        let to = from.saturating_add(limit - 1).min(latest);
        let mut epochs = Vec::new();
        for e in from..=to {
            epochs.push(summary(&record(self, e)?));
        }
        let next = (to < latest && from <= latest).then_some(to + 1);
        Ok(EpochHistory { epochs, latest: Some(latest), next })
    }

    async fn decentralization_distribution(
        &self,
        subsystem: String,
        epoch: Option<u64>,
        height: Option<u64>,
    ) -> RpcResult<DistributionInfo> {
        let epoch = pick_epoch(self, epoch, height)?;
        let r = record(self, epoch)?;
        let names: Vec<&str> = r.subsystems.iter().map(|s| s.name.as_str()).collect();
        let s = r.subsystems.iter().find(|s| s.name == subsystem).ok_or_else(|| {
            err(
                codes::INVALID_PARAMS,
                format!("unknown subsystem `{subsystem}`; the subsystems are {}", names.join(", ")),
            )
        })?;
        let total = s.total.max(1);
        let entities = s
            .entities
            .iter()
            .take(MAX_DISTRIBUTION_PAGE)
            .map(|(n, w)| EntityWeight {
                entity: n.clone(),
                weight: w.to_string(),
                share: Ratio::new(U256::from(*w), U256::from(total)).map(|r| r.to_f64()).ok(),
            })
            .collect();
        Ok(DistributionInfo {
            epoch: r.epoch,
            end_height: r.end_height,
            subsystem: s.name.clone(),
            description: describe(&s.name).to_owned(),
            weight: s.weight.clone(),
            clustered: s.clustered,
            total: s.total.to_string(),
            entities,
            rest_entities: s.rest_entities,
            rest_weight: s.rest_weight.to_string(),
        })
    }

    async fn delegation_check(&self, validator: ledger::Address) -> RpcResult<DelegationCheck> {
        delegation_check(self, validator)
    }
}

/// The latest epoch's record (for the metrics endpoint).
pub fn latest_record(ctx: &RpcContext) -> Result<Option<EpochRecord>, ledger::LedgerError> {
    match index::latest_epoch(ctx.chain.store())? {
        Some(e) => index::epoch_record(ctx.chain.store(), e),
        None => Ok(None),
    }
}

/// Height of the tip, for the metrics endpoint.
pub fn tip_height(ctx: &RpcContext) -> Height {
    ctx.chain.tip().height
}
