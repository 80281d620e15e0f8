//! The staking methods: parameters, validators, delegations, the validator
//! set, supply.

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)]
use jsonrpsee::core::RpcResult;
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;
use ledger::{Address, StakingParams};

use crate::types::{
    DelegationsInfo, SupplyInfo, ValidatorDelegationsPage, ValidatorFilter, ValidatorInfo, ValidatorSetInfo,
    ValidatorsInfo,
};

/// Staking, distribution and supply.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
pub trait StakingApi {
    /// The staking, distribution and slashing parameters.
    #[method(name = "stakingParams")]
    async fn staking_params(&self) -> RpcResult<StakingParams>;

    /// Validators sorted by tokens, filtered by `status` (default all).
    #[method(name = "validators")]
    async fn validators(&self, status: Option<ValidatorFilter>) -> RpcResult<ValidatorsInfo>;

    /// One validator by operator address; error 1020 if there is none.
    #[method(name = "validator")]
    async fn validator(&self, validator: Address) -> RpcResult<ValidatorInfo>;

    /// A page of a validator's delegations after delegator `after`; `limit` 1–1000 (default 100).
    #[method(name = "validatorDelegations")]
    async fn validator_delegations(
        &self,
        validator: Address,
        after: Option<Address>,
        limit: Option<u64>,
    ) -> RpcResult<ValidatorDelegationsPage>;

    /// A delegator's delegations, unbonding and redelegation entries and totals.
    #[method(name = "delegations")]
    async fn delegations(&self, delegator: Address) -> RpcResult<DelegationsInfo>;

    /// The validator set that decides `height` (default the next height; at most one more).
    #[method(name = "validatorSet")]
    async fn validator_set(&self, height: Option<u64>) -> RpcResult<ValidatorSetInfo>;

    /// Where every token is: supply, bonded, unbonding, pools, minted, burned.
    #[method(name = "supply")]
    async fn supply(&self) -> RpcResult<SupplyInfo>;
}
