//! Staking RPC: validators, delegations, unbonding, rewards, parameters, the
//! validator set at a height, supply. Reads the latest committed state.

use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use ledger::staking::{DelegationView, StakingView, Validator, ValidatorStatus};
use ledger::{Address, Amount, Height};
use serde_json::{Value, json};

use crate::rpc::{Args, RpcContext, codes, err, internal};
use crate::store::Store;

type RpcResult = Result<Value, ErrorObjectOwned>;

fn view(ctx: &RpcContext) -> StakingView<Store> {
    StakingView::new(ctx.chain.store().clone(), &ctx.chain.params())
}

/// A validator as RPC shows it. `power` is its power in the set of the
/// next height (0 when it is not in that set).
fn validator_json(ctx: &RpcContext, sv: &mut StakingView<Store>, v: &Validator) -> RpcResult {
    let next = ctx.chain.tip().height.next();
    let set = ctx.chain.validators_at(next).map_err(internal)?;
    let power = set.get(&consensus::ValidatorId(v.consensus_key.0)).map_or(0, |m| m.power.0);
    let p = &ctx.chain.params().staking;
    let si = sv.signing_info(&v.operator).map_err(internal)?;
    let window_start = next.0.saturating_sub(p.signed_blocks_window);
    let missed = si.as_ref().map_or(0, |s| s.missed.iter().filter(|h| **h >= window_start).count());
    let (status, completion) = match v.status {
        ValidatorStatus::Bonded => ("bonded", None),
        ValidatorStatus::Unbonding { completion_ms } => ("unbonding", Some(completion_ms)),
        ValidatorStatus::Unbonded => ("unbonded", None),
    };
    Ok(json!({
        "operator": v.operator,
        "consensus_key": v.consensus_key,
        "metadata": v.metadata,
        "tokens": v.tokens,
        "delegator_shares": v.shares.to_string(),
        "self_delegation": sv.self_delegation(v).map_err(internal)?,
        "min_self_delegation": v.min_self_delegation,
        "power": power,
        "in_active_set": power > 0,
        "status": status,
        "unbonding_completion_ms": completion,
        "jailed": v.jailed,
        "jailed_until_ms": if v.tombstoned { Value::Null } else { json!(v.jailed_until_ms) },
        "tombstoned": v.tombstoned,
        "commission": v.commission,
        "commission_changed_ms": v.commission_changed_ms,
        "commission_outstanding": v.commission_outstanding,
        "missed_blocks": missed,
        "signed_blocks_window": p.signed_blocks_window,
        "signing_start_height": si.map(|s| s.start_height),
        "created_height": v.created_height,
    }))
}

fn validators(ctx: &RpcContext, args: &Args) -> RpcResult {
    let filter: String = args.opt(0, "status")?.unwrap_or_else(|| "all".into());
    if !["all", "bonded", "unbonding", "unbonded", "jailed", "active"].contains(&filter.as_str()) {
        return Err(err(
            codes::INVALID_PARAMS,
            format!("parameter `status`: `{filter}` is not one of all, bonded, unbonding, unbonded, jailed, active"),
        ));
    }
    let mut sv = view(ctx);
    let mut list = sv.validators().map_err(internal)?;
    list.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.operator.cmp(&b.operator)));
    let mut out = Vec::new();
    for v in &list {
        let j = validator_json(ctx, &mut sv, v)?;
        let keep = match filter.as_str() {
            "bonded" => j["status"] == "bonded",
            "unbonding" => j["status"] == "unbonding",
            "unbonded" => j["status"] == "unbonded",
            "jailed" => v.jailed,
            "active" => j["in_active_set"] == true,
            _ => true,
        };
        if keep {
            out.push(j);
        }
    }
    let next = ctx.chain.tip().height.next();
    let total = ctx.chain.validators_at(next).map_err(internal)?.total_power().0;
    Ok(json!({ "height": ctx.chain.tip().height, "total_power": total, "validators": out }))
}

fn one_validator(ctx: &RpcContext, args: &Args) -> RpcResult {
    let op: Address = args.req(0, "validator")?;
    let mut sv = view(ctx);
    let v = sv
        .validator(&op)
        .map_err(internal)?
        .ok_or_else(|| err(codes::NO_VALIDATOR, format!("no validator with operator address {op}")))?;
    validator_json(ctx, &mut sv, &v)
}

fn delegation_json(d: &DelegationView, moniker: Option<&str>) -> Value {
    let mut j = json!({
        "delegator": d.delegator,
        "validator": d.validator,
        "shares": d.shares.to_string(),
        "amount": d.amount,
        "pending_rewards": d.pending_rewards,
    });
    if let Some(m) = moniker {
        j["moniker"] = json!(m);
    }
    j
}

fn validator_delegations(ctx: &RpcContext, args: &Args) -> RpcResult {
    let op: Address = args.req(0, "validator")?;
    let after: Option<Address> = args.opt(1, "after")?;
    let limit: usize = args.opt(2, "limit")?.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(err(codes::INVALID_PARAMS, "parameter `limit`: 1 to 1000"));
    }
    let mut sv = view(ctx);
    if sv.validator(&op).map_err(internal)?.is_none() {
        return Err(err(codes::NO_VALIDATOR, format!("no validator with operator address {op}")));
    }
    let list = sv.delegations_to(&op, after.as_ref(), limit).map_err(internal)?;
    let next = if list.len() == limit { list.last().map(|d| d.delegator) } else { None };
    Ok(json!({
        "delegations": list.iter().map(|d| delegation_json(d, None)).collect::<Vec<_>>(),
        "next": next,
    }))
}

fn delegations(ctx: &RpcContext, args: &Args) -> RpcResult {
    let d: Address = args.req(0, "delegator")?;
    let mut sv = view(ctx);
    let list = sv.delegations_of(&d).map_err(internal)?;
    let mut dels = Vec::with_capacity(list.len());
    let (mut total, mut pending) = (0u128, 0u128);
    for x in &list {
        let moniker = sv.validator(&x.validator).map_err(internal)?.map(|v| v.metadata.moniker);
        total += x.amount.get();
        pending += x.pending_rewards.get();
        dels.push(delegation_json(x, moniker.as_deref()));
    }
    let mut unbonding = Vec::new();
    let mut total_unbonding = 0u128;
    for (op, entries) in sv.unbondings_of(&d).map_err(internal)? {
        for e in entries {
            total_unbonding += e.balance.get();
            unbonding.push(json!({
                "validator": op,
                "creation_height": e.creation_height,
                "completion_time_ms": e.completion_ms,
                "initial": e.initial,
                "balance": e.balance,
            }));
        }
    }
    let mut redelegations = Vec::new();
    for (src, dst, entries) in sv.redelegations_of(&d).map_err(internal)? {
        for e in entries {
            redelegations.push(json!({
                "src_validator": src,
                "dst_validator": dst,
                "creation_height": e.creation_height,
                "completion_time_ms": e.completion_ms,
                "initial": e.initial,
                "shares": e.shares_dst.to_string(),
            }));
        }
    }
    let commission = sv.validator(&d).map_err(internal)?.map(|v| v.commission_outstanding);
    Ok(json!({
        "delegator": d,
        "height": ctx.chain.tip().height,
        "delegations": dels,
        "unbonding": unbonding,
        "redelegations": redelegations,
        "total_delegated": Amount::new(total),
        "total_unbonding": Amount::new(total_unbonding),
        "total_pending_rewards": Amount::new(pending),
        "commission_outstanding": commission,
    }))
}

fn validator_set(ctx: &RpcContext, args: &Args) -> RpcResult {
    let next = ctx.chain.tip().height.next();
    let height = args.opt::<u64>(0, "height")?.map_or(next, Height);
    if height == Height::GENESIS {
        return Err(err(codes::INVALID_PARAMS, "parameter `height`: the first block is height 1"));
    }
    let known = next.0 + 1;
    if height.0 > known {
        return Err(err(
            codes::NOT_FOUND,
            format!("the validator set of height {height} is not decided yet (known up to {known})"),
        ));
    }
    let set = ctx.chain.validators_at(height).map_err(internal)?;
    let members = ctx.chain.set_members_at(height).map_err(internal)?;
    let mut sv = view(ctx);
    let mut out = Vec::with_capacity(members.len());
    for m in &members {
        let moniker = sv.validator(&m.operator).map_err(internal)?.map(|v| v.metadata.moniker);
        out.push(json!({
            "consensus_key": m.consensus_key,
            "operator": m.operator,
            "moniker": moniker,
            "power": m.power,
        }));
    }
    Ok(json!({
        "height": height,
        "total_power": set.total_power().0,
        "hash": ledger::Hash(set.hash()),
        "validators": out,
    }))
}

fn supply(ctx: &RpcContext) -> RpcResult {
    let s = view(ctx).supply().map_err(internal)?;
    Ok(json!({
        "height": ctx.chain.tip().height,
        "supply": s.totals.supply,
        "bonded": s.bonded,
        "unbonding": s.unbonding,
        "community_pool": s.totals.community_pool,
        "fee_collector": s.fee_collector,
        "distribution": s.distribution,
        "minted": s.totals.minted,
        "burned": s.totals.burned,
    }))
}

/// A block's evidence item as JSON: the decoded double sign, or the raw
/// bytes if it does not decode (cannot happen in a valid block).
pub fn evidence_json(e: &ledger::Evidence) -> Value {
    match borsh::from_slice::<consensus::Evidence>(&e.0) {
        Ok(ev) => {
            let (h, offender) = crate::chain::evidence_height(&ev);
            let kind = match ev {
                consensus::Evidence::DuplicateVote { .. } => "duplicate_vote",
                consensus::Evidence::DuplicateProposal { .. } => "duplicate_proposal",
            };
            json!({ "type": kind, "validator": ledger::PublicKey(offender.0), "height": h, "bytes": e })
        }
        Err(_) => json!({ "type": "unknown", "bytes": e }),
    }
}

pub(crate) fn register(m: &mut RpcModule<RpcContext>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("agora_stakingParams", |_, c, _| {
        serde_json::to_value(&c.chain.params().staking).map_err(internal)
    })?;
    m.register_method("agora_validators", |p, c, _| validators(c, &Args::of(&p)?))?;
    m.register_method("agora_validator", |p, c, _| one_validator(c, &Args::of(&p)?))?;
    m.register_method("agora_validatorDelegations", |p, c, _| validator_delegations(c, &Args::of(&p)?))?;
    m.register_method("agora_delegations", |p, c, _| delegations(c, &Args::of(&p)?))?;
    m.register_method("agora_validatorSet", |p, c, _| validator_set(c, &Args::of(&p)?))?;
    m.register_method("agora_supply", |_, c, _| supply(c))?;
    Ok(())
}
