//! The RPC server: one port for JSON-RPC over HTTP and WebSocket, with the
//! HTTP layers in front of it (`/metrics`, the explorer at `/explorer/`), the
//! parameter conventions (`rpc_params`) around the methods, and the whole API
//! module: the typed `rpc-api` traits the node implements (`rpc`,
//! `rpc_staking`, `rpc_index`, `rpc_contracts`, `rpc_history`, `rpc_events`)
//! and `rpc.discover`.

use std::sync::Arc;

use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use rpc_api::api::{DiscoverApiServer, EventsApiServer, HistoryApiServer};

use crate::rpc::{RpcContext, module, typed_modules};

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
pub fn api(ctx: Arc<RpcContext>, cfg: &crate::config::RpcConfig) -> anyhow::Result<RpcModule<()>> {
    let mut m = RpcModule::new(());
    m.merge(typed_modules(ctx.clone())?)?;
    m.merge(module(ctx.clone())?)?;
    m.merge(Discover.into_rpc())?;
    m.merge(crate::rpc_history::HistoryRpc::new(ctx.clone()).into_rpc())?;
    m.merge(crate::rpc_events::EventsRpc::new(ctx, cfg.slow_subscriber, cfg.subscription_buffer).into_rpc())?;
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
        .set_rpc_middleware(RpcServiceBuilder::new().layer(crate::rpc_params::ParamConventionsLayer))
        .build(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for RPC on {addr}: {e}"))?;
    let local = server.local_addr()?;
    let handle = server.start(api(ctx, cfg)?);
    Ok((handle, local))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Registered by hand, not in the typed traits: the decentralization
    /// subscription (`rpc_index`).
    const HAND_REGISTERED: &[&str] = &["agora_subscribeDecentralization", "agora_unsubscribeDecentralization"];

    #[tokio::test]
    async fn discover_lists_exactly_the_served_methods_and_their_params() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::rpc::tests::ctx(dir.path(), 1);
        let m = api(ctx, &crate::config::RpcConfig::default()).unwrap();
        let mut served: Vec<String> =
            m.method_names().filter(|n| !HAND_REGISTERED.contains(n)).map(str::to_owned).collect();
        served.sort();
        let mut listed = rpc_api::openrpc::method_names();
        listed.retain(|n| !HAND_REGISTERED.contains(&n.as_str()));
        assert_eq!(served, listed, "rpc.discover must list exactly the methods the node serves");
        // Each listed parameter is one the method reads, under that name: an
        // ill-typed value under the name is refused for that value (a name the
        // method did not know would be ignored, and the call would succeed or
        // miss a required parameter instead).
        let doc = rpc_api::openrpc::document();
        for method in doc["methods"].as_array().unwrap() {
            let name = method["name"].as_str().unwrap();
            if HAND_REGISTERED.contains(&name) {
                continue;
            }
            for p in method["params"].as_array().unwrap() {
                let pname = p["name"].as_str().unwrap();
                let accepts_any = p["schema"]["description"] == "any JSON value"
                    || p["schema"]["oneOf"][0]["description"] == "any JSON value";
                if accepts_any {
                    continue;
                }
                let req = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{name}","params":{{"{pname}":[]}}}}"#);
                let (resp, _) = m.raw_json_request(&req, 1).await.unwrap();
                let v: serde_json::Value = serde_json::from_str(resp.get()).unwrap();
                assert_eq!(v["error"]["code"], crate::rpc::codes::INVALID_PARAMS, "{name}({pname} = []): {v}");
                // Refused for its value, not for a missing required parameter
                // (which is what an unknown name would leave).
                let data = v["error"]["data"].as_str().unwrap_or("");
                assert!(!data.is_empty() && !data.contains("missing field"), "{name} does not read `{pname}`: {v}");
            }
        }
        // And `rpc.discover` serves the document itself.
        let (resp, _) =
            m.raw_json_request(r#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":[]}"#, 1).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(resp.get()).unwrap();
        assert_eq!(v["result"], doc);
    }
}
