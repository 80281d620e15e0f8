//! The staking methods of the node's JSON-RPC API (`StakingApi` of the
//! `rpc-api` crate) and their results, the API's own types.

use ledger::Address;
use rpc_api::api::StakingApiClient;
use rpc_api::types::ValidatorFilter;

use super::{NodeClient, WithRaw, codes, not_found};
use crate::error::{Result, WalletError};

/// `agora_stakingParams`.
pub type StakingParamsInfo = ledger::StakingParams;
/// A validator's descriptive fields.
pub type MetadataInfo = ledger::staking::ValidatorMetadata;
/// A validator's commission rates.
pub type CommissionInfo = ledger::staking::CommissionRates;
/// One validator (`agora_validator`, and each of `agora_validators`).
pub type ValidatorInfo = rpc_api::types::ValidatorInfo;
/// `agora_validators`.
pub type ValidatorsInfo = rpc_api::types::ValidatorsInfo;
/// A delegation (`agora_delegations`, `agora_validatorDelegations`).
pub type DelegationInfo = rpc_api::types::DelegationInfo;
/// Tokens on their way back to a delegator.
pub type UnbondingInfo = rpc_api::types::UnbondingInfo;
/// Stake moved between validators.
pub type RedelegationInfo = rpc_api::types::RedelegationInfo;
/// `agora_delegations`.
pub type DelegationsInfo = rpc_api::types::DelegationsInfo;
/// `agora_validatorDelegations`.
pub type ValidatorDelegationsPage = rpc_api::types::ValidatorDelegationsPage;
/// One member of `agora_validatorSet`.
pub type SetMemberInfo = rpc_api::types::SetMemberInfo;
/// `agora_validatorSet`.
pub type ValidatorSetInfo = rpc_api::types::ValidatorSetInfo;
/// `agora_supply`.
pub type SupplyInfo = rpc_api::types::SupplyInfo;

/// Turns "no such validator" (1020, or the generic 1012) into [`WalletError::NotFound`].
fn no_validator<T>(r: Result<T>, validator: &Address) -> Result<T> {
    match r {
        Err(WalletError::Rpc { code: codes::NO_VALIDATOR, .. }) => {
            Err(WalletError::NotFound(format!("validator {validator}")))
        }
        r => not_found(r, || format!("validator {validator}")),
    }
}

impl NodeClient {
    pub async fn staking_params(&self) -> Result<WithRaw<StakingParamsInfo>> {
        self.typed(self.http.staking_params().await, "stakingParams", "node error")
    }

    /// `status`: `all`, `bonded`, `unbonding`, `unbonded`, `jailed` or `active`.
    pub async fn validators(&self, status: &str) -> Result<WithRaw<ValidatorsInfo>> {
        let filter: ValidatorFilter = status.parse().map_err(WalletError::InvalidArgument)?;
        self.typed(self.http.validators(Some(filter)).await, "validators", "node error")
    }

    /// A validator by operator address; [`WalletError::NotFound`] if there is none.
    pub async fn validator(&self, operator: &Address) -> Result<WithRaw<ValidatorInfo>> {
        no_validator(self.typed(self.http.validator(*operator).await, "validator", "node error"), operator)
    }

    /// A page of a validator's delegations, in delegator order after `after`.
    pub async fn validator_delegations(
        &self,
        operator: &Address,
        after: Option<&Address>,
        limit: Option<u32>,
    ) -> Result<WithRaw<ValidatorDelegationsPage>> {
        let r = self.http.validator_delegations(*operator, after.copied(), limit.map(u64::from)).await;
        no_validator(self.typed(r, "validatorDelegations", "node error"), operator)
    }

    /// An account's delegations, unbondings and redelegations.
    pub async fn delegations(&self, delegator: &Address) -> Result<WithRaw<DelegationsInfo>> {
        self.typed(self.http.delegations(*delegator).await, "delegations", "node error")
    }

    /// The active set at `height` [default: the latest].
    pub async fn validator_set(&self, height: Option<u64>) -> Result<WithRaw<ValidatorSetInfo>> {
        self.typed(self.http.validator_set(height).await, "validatorSet", "node error")
    }

    pub async fn supply(&self) -> Result<WithRaw<SupplyInfo>> {
        self.typed(self.http.supply().await, "supply", "node error")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_validator_is_not_found() {
        let op = Address([4; 20]);
        let rpc = |code| WalletError::Rpc { context: "node error", code, message: "no".into(), data: None };
        let e = no_validator::<()>(Err(rpc(1020)), &op).unwrap_err();
        assert_eq!(e.to_string(), format!("validator {op} not found"));
        assert!(matches!(no_validator::<()>(Err(rpc(1012)), &op), Err(WalletError::NotFound(_))));
        assert!(matches!(no_validator::<()>(Err(rpc(-32601)), &op), Err(WalletError::Rpc { .. })));
    }
}
