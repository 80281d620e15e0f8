//! The decentralization-index methods and the epoch subscription.

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)]
use jsonrpsee::core::{RpcResult, SubscriptionResult};
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;
use ledger::Address;

use crate::types::{DelegationCheck, DistributionInfo, EpochHistory, EpochIndex, EpochSummary};

/// The decentralization index.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
pub trait IndexApi {
    /// One notification (the epoch's summary) per epoch that ends from now on; a receiver that lags gets the missed epochs, at most a page.
    #[subscription(name = "subscribeDecentralization" => "decentralizationEpoch", unsubscribe = "unsubscribeDecentralization", item = EpochSummary)]
    async fn subscribe_decentralization(&self) -> SubscriptionResult;

    /// The index of an epoch: `epoch`, or the last one ended by `height`, default the latest; `prove` adds a Merkle proof. 1012 before the first epoch ends.
    #[method(name = "decentralization")]
    async fn decentralization(
        &self,
        epoch: Option<u64>,
        height: Option<u64>,
        prove: Option<bool>,
    ) -> RpcResult<EpochIndex>;

    /// A page of epoch summaries from epoch `from` (default the last `limit`); `limit` 1–100 (default 20).
    #[method(name = "decentralizationHistory")]
    async fn decentralization_history(&self, from: Option<u64>, limit: Option<u64>) -> RpcResult<EpochHistory>;

    /// The raw distribution of one subsystem at an epoch (largest first, at most 1000 listed).
    #[method(name = "decentralizationDistribution")]
    async fn decentralization_distribution(
        &self,
        subsystem: String,
        epoch: Option<u64>,
        height: Option<u64>,
    ) -> RpcResult<DistributionInfo>;

    /// Is the validator (or its operator) among the fewest that hold at least 1/3 of the voting power? Names alternatives.
    #[method(name = "delegationCheck")]
    async fn delegation_check(&self, validator: Address) -> RpcResult<DelegationCheck>;
}
