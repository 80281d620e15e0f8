//! Staking RPC: validators, delegations, unbonding, rewards, parameters, the
//! validator set at a height, supply. Reads the latest committed state.

use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::types::ErrorObjectOwned;
use ledger::staking::{DelegationView, StakingView, Validator, ValidatorStatus};
use ledger::{Address, Amount, Height, StakingParams};
use rpc_api::api::StakingApiServer;
use rpc_api::types::{
    BondStatus, DelegationInfo, DelegationsInfo, EvidenceInfo, RedelegationInfo, SetMemberInfo, SupplyInfo,
    UnbondingInfo, ValidatorDelegationsPage, ValidatorFilter, ValidatorInfo, ValidatorSetInfo, ValidatorsInfo,
};

use crate::rpc::{Api, RpcContext, codes, err, internal};
use crate::store::Store;

fn view(ctx: &RpcContext) -> StakingView<Store> {
    StakingView::new(ctx.chain.store().clone(), &ctx.chain.params())
}

/// A validator as RPC shows it. `power` is its power in the set of the
/// next height (0 when it is not in that set).
fn validator_info(
    ctx: &RpcContext,
    sv: &mut StakingView<Store>,
    v: &Validator,
) -> Result<ValidatorInfo, ErrorObjectOwned> {
    let next = ctx.chain.tip().height.next();
    let set = ctx.chain.validators_at(next).map_err(internal)?;
    let power = set.get(&consensus::ValidatorId(v.consensus_key.0)).map_or(0, |m| m.power.0);
    let p = &ctx.chain.params().staking;
    let si = sv.signing_info(&v.operator).map_err(internal)?;
    let window_start = next.0.saturating_sub(p.signed_blocks_window);
    let missed = si.as_ref().map_or(0, |s| s.missed.iter().filter(|h| **h >= window_start).count());
    let (status, completion) = match v.status {
        ValidatorStatus::Bonded => (BondStatus::Bonded, None),
        ValidatorStatus::Unbonding { completion_ms } => (BondStatus::Unbonding, Some(completion_ms)),
        ValidatorStatus::Unbonded => (BondStatus::Unbonded, None),
    };
    Ok(ValidatorInfo {
        operator: v.operator,
        consensus_key: v.consensus_key,
        metadata: v.metadata.clone(),
        tokens: v.tokens,
        delegator_shares: v.shares.to_string(),
        self_delegation: sv.self_delegation(v).map_err(internal)?,
        min_self_delegation: v.min_self_delegation,
        power,
        in_active_set: power > 0,
        status,
        unbonding_completion_ms: completion,
        jailed: v.jailed,
        jailed_until_ms: if v.tombstoned { None } else { Some(v.jailed_until_ms) },
        tombstoned: v.tombstoned,
        commission: v.commission,
        commission_changed_ms: v.commission_changed_ms,
        commission_outstanding: v.commission_outstanding,
        missed_blocks: missed as u64,
        signed_blocks_window: p.signed_blocks_window,
        signing_start_height: si.map(|s| s.start_height),
        created_height: v.created_height,
    })
}

fn no_validator(op: &Address) -> ErrorObjectOwned {
    err(codes::NO_VALIDATOR, format!("no validator with operator address {op}"))
}

fn delegation_info(d: &DelegationView, moniker: Option<String>) -> DelegationInfo {
    DelegationInfo {
        delegator: d.delegator,
        validator: d.validator,
        moniker,
        shares: d.shares.to_string(),
        amount: d.amount,
        pending_rewards: d.pending_rewards,
    }
}

/// Most delegations in one page of `agora_validatorDelegations`.
pub const MAX_DELEGATIONS_PAGE: u64 = 1_000;

#[async_trait]
impl StakingApiServer for Api {
    async fn staking_params(&self) -> RpcResult<StakingParams> {
        Ok(self.chain.params().staking.clone())
    }

    async fn validators(&self, status: Option<ValidatorFilter>) -> RpcResult<ValidatorsInfo> {
        let filter = status.unwrap_or_default();
        let mut sv = view(self);
        let mut list = sv.validators().map_err(internal)?;
        list.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.operator.cmp(&b.operator)));
        let mut out = Vec::new();
        for v in &list {
            let info = validator_info(self, &mut sv, v)?;
            let keep = match filter {
                ValidatorFilter::Bonded => info.status == BondStatus::Bonded,
                ValidatorFilter::Unbonding => info.status == BondStatus::Unbonding,
                ValidatorFilter::Unbonded => info.status == BondStatus::Unbonded,
                ValidatorFilter::Jailed => v.jailed,
                ValidatorFilter::Active => info.in_active_set,
                ValidatorFilter::All => true,
            };
            if keep {
                out.push(info);
            }
        }
        let next = self.chain.tip().height.next();
        let total = self.chain.validators_at(next).map_err(internal)?.total_power().0;
        Ok(ValidatorsInfo { height: self.chain.tip().height, total_power: total, validators: out })
    }

    async fn validator(&self, validator: Address) -> RpcResult<ValidatorInfo> {
        let mut sv = view(self);
        let v = sv.validator(&validator).map_err(internal)?.ok_or_else(|| no_validator(&validator))?;
        validator_info(self, &mut sv, &v)
    }

    async fn validator_delegations(
        &self,
        validator: Address,
        after: Option<Address>,
        limit: Option<u64>,
    ) -> RpcResult<ValidatorDelegationsPage> {
        let limit = limit.unwrap_or(100);
        if limit == 0 || limit > MAX_DELEGATIONS_PAGE {
            return Err(err(codes::INVALID_PARAMS, format!("parameter `limit`: 1 to {MAX_DELEGATIONS_PAGE}")));
        }
        let limit = limit as usize;
        let mut sv = view(self);
        if sv.validator(&validator).map_err(internal)?.is_none() {
            return Err(no_validator(&validator));
        }
        let list = sv.delegations_to(&validator, after.as_ref(), limit).map_err(internal)?;
        let next = if list.len() == limit { list.last().map(|d| d.delegator) } else { None };
        Ok(ValidatorDelegationsPage { delegations: list.iter().map(|d| delegation_info(d, None)).collect(), next })
    }

    async fn delegations(&self, delegator: Address) -> RpcResult<DelegationsInfo> {
        let d = delegator;
        let mut sv = view(self);
        let list = sv.delegations_of(&d).map_err(internal)?;
        let mut dels = Vec::with_capacity(list.len());
        let (mut total, mut pending) = (0u128, 0u128);
        for x in &list {
            let moniker = sv.validator(&x.validator).map_err(internal)?.map(|v| v.metadata.moniker);
            total += x.amount.get();
            pending += x.pending_rewards.get();
            dels.push(delegation_info(x, moniker));
        }
        let mut unbonding = Vec::new();
        let mut total_unbonding = 0u128;
        for (op, entries) in sv.unbondings_of(&d).map_err(internal)? {
            for e in entries {
                total_unbonding += e.balance.get();
                unbonding.push(UnbondingInfo {
                    validator: op,
                    creation_height: e.creation_height,
                    completion_time_ms: e.completion_ms,
                    initial: e.initial,
                    balance: e.balance,
                });
            }
        }
        let mut redelegations = Vec::new();
        for (src, dst, entries) in sv.redelegations_of(&d).map_err(internal)? {
            for e in entries {
                redelegations.push(RedelegationInfo {
                    src_validator: src,
                    dst_validator: dst,
                    creation_height: e.creation_height,
                    completion_time_ms: e.completion_ms,
                    initial: e.initial,
                    shares: e.shares_dst.to_string(),
                });
            }
        }
        let commission = sv.validator(&d).map_err(internal)?.map(|v| v.commission_outstanding);
        Ok(DelegationsInfo {
            delegator: d,
            height: self.chain.tip().height,
            delegations: dels,
            unbonding,
            redelegations,
            total_delegated: Amount::new(total),
            total_unbonding: Amount::new(total_unbonding),
            total_pending_rewards: Amount::new(pending),
            commission_outstanding: commission,
        })
    }

    async fn validator_set(&self, height: Option<u64>) -> RpcResult<ValidatorSetInfo> {
        let next = self.chain.tip().height.next();
        let height = height.map_or(next, Height);
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
        let set = self.chain.validators_at(height).map_err(internal)?;
        let members = self.chain.set_members_at(height).map_err(internal)?;
        let mut sv = view(self);
        let mut out = Vec::with_capacity(members.len());
        for m in &members {
            let moniker = sv.validator(&m.operator).map_err(internal)?.map(|v| v.metadata.moniker);
            out.push(SetMemberInfo { consensus_key: m.consensus_key, operator: m.operator, moniker, power: m.power });
        }
        Ok(ValidatorSetInfo {
            height,
            total_power: set.total_power().0,
            hash: ledger::Hash(set.hash()),
            validators: out,
        })
    }

    async fn supply(&self) -> RpcResult<SupplyInfo> {
        let s = view(self).supply().map_err(internal)?;
        Ok(SupplyInfo {
            height: self.chain.tip().height,
            supply: s.totals.supply,
            bonded: s.bonded,
            unbonding: s.unbonding,
            community_pool: s.totals.community_pool,
            fee_collector: s.fee_collector,
            distribution: s.distribution,
            minted: s.totals.minted,
            burned: s.totals.burned,
        })
    }
}

/// A block's evidence item: the decoded double sign, or the raw bytes if it
/// does not decode (cannot happen in a valid block).
pub fn evidence_info(e: &ledger::Evidence) -> EvidenceInfo {
    match borsh::from_slice::<consensus::Evidence>(&e.0) {
        Ok(ev) => {
            let (h, offender) = crate::chain::evidence_height(&ev);
            let kind = match ev {
                consensus::Evidence::DuplicateVote { .. } => "duplicate_vote",
                consensus::Evidence::DuplicateProposal { .. } => "duplicate_proposal",
            };
            EvidenceInfo {
                kind: kind.to_owned(),
                validator: Some(ledger::PublicKey(offender.0)),
                height: Some(h.0),
                bytes: e.clone(),
            }
        }
        Err(_) => EvidenceInfo { kind: "unknown".to_owned(), validator: None, height: None, bytes: e.clone() },
    }
}
