//! The RPC server: one port for JSON-RPC over HTTP and WebSocket, with the
//! HTTP layers in front of it (`/metrics`, the explorer at `/explorer/`), and the whole API module (the
//! methods of `rpc`, `rpc_staking`, `rpc_index`, … and `rpc.discover`).

use std::sync::Arc;

use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use rpc_api::api::DiscoverApiServer;

use crate::rpc::{RpcContext, module};

/// `rpc.discover`: the OpenRPC document generated from the `rpc-api` traits.
#[derive(Debug)]
struct Discover;

#[async_trait]
impl DiscoverApiServer for Discover {
    async fn discover(&self) -> RpcResult<serde_json::Value> {
        Ok(rpc_api::openrpc::document())
    }
}

/// Every method the node serves.
pub fn api(ctx: Arc<RpcContext>) -> anyhow::Result<RpcModule<()>> {
    let mut m = RpcModule::new(());
    m.merge(module(ctx)?)?;
    m.merge(Discover.into_rpc())?;
    Ok(m)
}

/// Starts the server on `addr`; returns its handle and the bound address.
pub async fn serve(
    addr: std::net::SocketAddr,
    ctx: Arc<RpcContext>,
    cfg: &crate::config::RpcConfig,
) -> anyhow::Result<(ServerHandle, std::net::SocketAddr)> {
    let config = ServerConfig::builder()
        .max_connections(cfg.max_connections)
        .max_request_body_size(cfg.max_request_bytes)
        .max_response_body_size(cfg.max_response_bytes)
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(crate::metrics::MetricsLayer::new(ctx.clone()))
                .layer(crate::explorer::ExplorerLayer),
        )
        .build(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for RPC on {addr}: {e}"))?;
    let local = server.local_addr()?;
    let handle = server.start(api(ctx)?);
    Ok((handle, local))
}
