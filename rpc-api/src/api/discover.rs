//! `rpc.discover`: the OpenRPC service-discovery method (no namespace).

#[cfg(any(feature = "server", feature = "client"))]
#[allow(unused_imports)] // used by the server half only
use jsonrpsee::core::RpcResult;
#[cfg(any(feature = "server", feature = "client"))]
use jsonrpsee::proc_macros::rpc;

/// OpenRPC service discovery.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client))]
pub trait DiscoverApi {
    /// The OpenRPC document of this API: every method, its parameters and result schema.
    #[method(name = "rpc.discover")]
    async fn discover(&self) -> RpcResult<serde_json::Value>;
}
