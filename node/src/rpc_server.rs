//! The RPC server: one port for JSON-RPC over HTTP and WebSocket, on its own
//! tokio runtime (`[rpc] worker_threads`), so a flood of requests competes
//! for the RPC threads, never for those of consensus and the network.
//!
//! In front of jsonrpsee, per connection, in the accept loop before a byte
//! is read: the per-IP connection cap and the connection bound. Then per
//! request: who the client is (behind a trusted proxy, from
//! `X-Forwarded-For`; [`crate::rpc_limits::ClientResolver`]), CORS
//! (preflights answered here), the per-IP rate limit (HTTP: 429), `GET
//! /health` for load balancers, and the client's address and transport put
//! in the request's extensions for the JSON-RPC middleware
//! ([`crate::rpc_limits::RpcGuard`]: WebSocket calls pay the rate limit
//! there, error 1016). jsonrpsee itself bounds body sizes, batch length and
//! subscriptions per connection; every subscription method is wrapped with
//! the node-wide subscription cap ([`crate::rpc_limits::cap_subscriptions`]).
//!
//! A connection's places (in `max_connections` and in its client's
//! `max_connections_per_ip`) are held by one [`ConnLease`]: the connection's
//! task holds it, and a WebSocket upgrade carries it in its request's
//! extensions, which jsonrpsee keeps for the WebSocket's whole life. So the
//! places are given back whenever and however the connection ends.
//!
//! Also in front: the explorer at `/explorer/` (`crate::explorer`); around the
//! methods, the parameter conventions (`rpc_params`). The module is the typed
//! `rpc-api` traits the node implements (`rpc`, `rpc_staking`, `rpc_index`,
//! `rpc_contracts`, `rpc_history`, `rpc_events`) and `rpc.discover`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::core::{BoxError, RpcResult, async_trait};
use jsonrpsee::server::{
    BatchRequestConfig, HttpBody, HttpRequest, HttpResponse, RpcModule, Server, ServerConfig, ServerHandle,
    serve_with_graceful_shutdown, stop_channel,
};
use rpc_api::api::{DiscoverApiServer, EventsApiServer, HistoryApiServer};

use crate::config::RpcConfig;
use crate::metrics::{Metrics, RpcMetrics};
use crate::rpc::{RpcContext, typed_modules};
use crate::rpc_limits::{
    ClientResolver, Cors, CorsVerdict, IpConnections, IpSlot, MAX_TRACKED_IPS, RateLimiter, RpcGuardLayer,
};

/// `rpc.discover`: the OpenRPC document generated from the `rpc-api` traits.
#[derive(Debug)]
struct Discover;

#[async_trait]
impl DiscoverApiServer for Discover {
    async fn discover(&self) -> RpcResult<serde_json::Value> {
        Ok(rpc_api::openrpc::document())
    }
}

/// Every method the node serves, the subscriptions capped at
/// `cfg.max_subscriptions_total` together.
pub fn api(ctx: Arc<RpcContext>, cfg: &RpcConfig) -> anyhow::Result<RpcModule<()>> {
    let mut m = RpcModule::new(());
    m.merge(typed_modules(ctx.clone())?)?;
    m.merge(Discover.into_rpc())?;
    m.merge(crate::rpc_history::HistoryRpc::new(ctx.clone()).into_rpc())?;
    m.merge(crate::rpc_events::EventsRpc::new(ctx, cfg.slow_subscriber, cfg.subscription_buffer).into_rpc())?;
    crate::rpc_limits::cap_subscriptions(&mut m, cfg.max_subscriptions_total)?;
    Ok(m)
}

/// The running RPC server (and the metrics server, on the same runtime).
/// [`RpcServer::stop`] stops both and the runtime; dropping it stops the
/// runtime without waiting.
#[derive(Debug)]
pub struct RpcServer {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    handle: ServerHandle,
    metrics_stop: tokio::sync::watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RpcServer {
    /// The bound RPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound metrics address, if metrics are enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Stops accepting, lets open calls finish (at most 5 s), then shuts the
    /// runtime down.
    pub async fn stop(mut self) {
        let _ = self.metrics_stop.send(true);
        let _ = self.handle.stop();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.handle.clone().stopped()).await;
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        let _ = self.metrics_stop.send(true);
        let _ = self.handle.stop();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// What the RPC server needs besides its configuration.
#[derive(Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// `Some(addr)`: also serve Prometheus metrics there.
    pub metrics: Option<SocketAddr>,
    /// Native stack of the runtime's threads (contract dry runs and queries
    /// run on its blocking threads).
    pub thread_stack: usize,
}

/// Starts the RPC server (and the metrics server) on a new runtime of
/// `cfg.worker_threads` threads.
pub async fn serve(ctx: Arc<RpcContext>, cfg: &RpcConfig, opts: ServeOptions) -> anyhow::Result<RpcServer> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.worker_threads as usize)
        .max_blocking_threads((cfg.max_concurrent_queries as usize).saturating_add(16))
        .thread_name("agora-rpc")
        .on_thread_start(crate::priority::lower_this_thread)
        .thread_stack_size(opts.thread_stack)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the RPC runtime: {e}"))?;
    let module = api(ctx.clone(), cfg)?;
    let metrics = Arc::new(Metrics::new(module.method_names()));
    let (metrics_stop, metrics_rx) = tokio::sync::watch::channel(false);
    let cfg = cfg.clone();
    let started = runtime.spawn(async move {
        let (handle, addr) = start(module, metrics.rpc.clone(), &cfg, opts.addr).await?;
        let metrics_addr = match opts.metrics {
            Some(a) => match crate::metrics::serve(a, metrics, ctx, metrics_rx).await {
                Ok(m) => Some(m),
                Err(e) => {
                    let _ = handle.stop();
                    return Err(e);
                }
            },
            None => None,
        };
        Ok::<_, anyhow::Error>((handle, addr, metrics_addr))
    });
    let result = started.await;
    match result {
        Ok(Ok((handle, addr, metrics_addr))) => {
            Ok(RpcServer { addr, metrics_addr, handle, metrics_stop, runtime: Some(runtime) })
        }
        Ok(Err(e)) => {
            runtime.shutdown_background();
            Err(e)
        }
        Err(e) => {
            runtime.shutdown_background();
            Err(anyhow::anyhow!("RPC start-up failed: {e}"))
        }
    }
}

fn plain(status: http::StatusCode, body: &str) -> HttpResponse {
    let mut r = HttpResponse::new(HttpBody::from(body.to_owned()));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    r
}

/// Where load balancers and orchestrators probe the node.
pub const HEALTH_PATH: &str = "/health";

/// `GET /health`: `agora_health`'s own answer (the method is called, not
/// re-implemented), with status 200 when its `status` is `ok` and 503 when
/// the node is catching up or stalled (or the check itself failed).
async fn health(methods: &jsonrpsee::server::Methods, head: bool) -> HttpResponse {
    let h =
        methods.call::<_, rpc_api::types::Health>("agora_health", jsonrpsee::core::params::ArrayParams::new()).await;
    let (status, body) = match &h {
        Ok(h) => (
            if h.status == rpc_api::types::HealthStatus::Ok {
                http::StatusCode::OK
            } else {
                http::StatusCode::SERVICE_UNAVAILABLE
            },
            serde_json::to_string(h).unwrap_or_default(),
        ),
        Err(e) => (http::StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "error": e.to_string() }).to_string()),
    };
    let mut r = HttpResponse::new(if head { HttpBody::empty() } else { HttpBody::from(body + "\n") });
    *r.status_mut() = status;
    let hs = r.headers_mut();
    hs.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    hs.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    r
}

/// A connection's places in `max_connections` and (unless exempt) in its
/// client's `max_connections_per_ip`, given back when the last holder drops
/// it: the connection's task, or the WebSocket it was upgraded to.
#[derive(Debug)]
struct ConnSlots {
    _conn: tokio::sync::OwnedSemaphorePermit,
    _ip: Option<IpSlot>,
}

/// Put in a WebSocket upgrade's extensions: jsonrpsee keeps those for the
/// WebSocket's life, and with them the connection's places.
#[derive(Clone, Debug)]
struct ConnLease(#[allow(dead_code)] Arc<ConnSlots>);

/// A WebSocket forwarded by a trusted proxy: its place in the forwarded
/// client's `max_connections_per_ip`, held like [`ConnLease`].
#[derive(Clone, Debug)]
struct ForwardedLease(#[allow(dead_code)] Arc<IpSlot>);

/// Binds and runs the accept loop (on the current runtime: the RPC one).
async fn start(
    module: RpcModule<()>,
    rpc_metrics: Arc<RpcMetrics>,
    cfg: &RpcConfig,
    addr: SocketAddr,
) -> anyhow::Result<(ServerHandle, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for RPC on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let config = ServerConfig::builder()
        .max_connections(cfg.max_connections)
        .max_request_body_size(cfg.max_request_bytes)
        .max_response_body_size(cfg.max_response_bytes)
        .max_subscriptions_per_connection(cfg.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(cfg.max_batch))
        .build();
    let limiter = Arc::new(RateLimiter::new(cfg.rate_limit_per_ip, MAX_TRACKED_IPS));
    let resolver = Arc::new(ClientResolver::new(&cfg.trusted_proxies, cfg.rate_limit_exempt_loopback));
    let per_ip = IpConnections::new(cfg.max_connections_per_ip);
    let guard = RpcGuardLayer { limiter: limiter.clone(), metrics: rpc_metrics.clone() };
    let builder = Server::builder()
        .set_config(config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(crate::explorer::ExplorerLayer))
        .set_rpc_middleware(
            RpcServiceBuilder::new()
                .layer(guard)
                .layer(crate::rpc_params::ParamConventionsLayer(cfg.max_response_bytes as usize)),
        )
        .to_service_builder();
    let cors = Arc::new(Cors::new(&cfg.cors_allowed_origins));
    let connections = Arc::new(tokio::sync::Semaphore::new(cfg.max_connections as usize));
    let methods: jsonrpsee::server::Methods = module.into();
    let (stop_handle, server_handle) = stop_channel();
    tokio::spawn(async move {
        loop {
            let (sock, remote) = tokio::select! {
                _ = stop_handle.clone().shutdown() => break,
                r = listener.accept() => match r {
                    Ok(s) => s,
                    Err(e) => {
                        // Out of file descriptors and the like: back off a little.
                        tracing::debug!(error = %e, "rpc: accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
            };
            // The per-IP cap first (a refused client must not take one of
            // the global places, even for a moment), then the global bound.
            let peer = remote.ip().to_canonical();
            let ip_slot = if resolver.counts_at_accept(peer) {
                let Some(s) = per_ip.try_acquire(peer) else {
                    rpc_metrics.connections_refused.inc();
                    drop(sock);
                    continue;
                };
                Some(s)
            } else {
                None
            };
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                rpc_metrics.connections_refused.inc();
                drop(sock);
                continue;
            };
            let slots = Arc::new(ConnSlots { _conn: permit, _ip: ip_slot });
            let _ = sock.set_nodelay(true);
            let svc = builder.clone().build(methods.clone(), stop_handle.clone());
            let front = Front {
                inner: svc,
                peer,
                slots: slots.clone(),
                resolver: resolver.clone(),
                per_ip: per_ip.clone(),
                limiter: limiter.clone(),
                cors: cors.clone(),
                metrics: rpc_metrics.clone(),
                methods: methods.clone(),
            };
            let stopped = stop_handle.clone().shutdown();
            tokio::spawn(async move {
                let _slots = slots;
                if let Err(e) = serve_with_graceful_shutdown(sock, front, stopped).await {
                    tracing::trace!(error = %e, "rpc connection ended");
                }
            });
        }
    });
    Ok((server_handle, local))
}

/// The per-connection service in front of jsonrpsee's: who the client is,
/// CORS, the per-IP rate limit for HTTP requests, `GET /health`, and the
/// client's address and transport in the request's extensions.
#[derive(Clone, Debug)]
struct Front<S> {
    inner: S,
    /// The TCP peer (canonical: IPv4-mapped addresses as IPv4).
    peer: std::net::IpAddr,
    slots: Arc<ConnSlots>,
    resolver: Arc<ClientResolver>,
    per_ip: Arc<IpConnections>,
    limiter: Arc<RateLimiter>,
    cors: Arc<Cors>,
    metrics: Arc<RpcMetrics>,
    methods: jsonrpsee::server::Methods,
}

type FrontFuture = std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

impl<S> tower::Service<HttpRequest<hyper::body::Incoming>> for Front<S>
where
    S: tower::Service<HttpRequest<hyper::body::Incoming>, Response = HttpResponse, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = FrontFuture;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: HttpRequest<hyper::body::Incoming>) -> FrontFuture {
        let header = |h: &str| req.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let origin = header("origin");
        let req_method = header("access-control-request-method");
        let verdict = self.cors.verdict(req.method().as_str(), origin.as_deref(), req_method.as_deref());
        let allow = match verdict {
            CorsVerdict::Preflight(headers) => {
                let mut r = HttpResponse::new(HttpBody::empty());
                *r.status_mut() = http::StatusCode::NO_CONTENT;
                for (k, v) in headers {
                    if let Ok(v) = http::HeaderValue::from_str(&v) {
                        r.headers_mut().insert(k, v);
                    }
                }
                return Box::pin(std::future::ready(Ok(r)));
            }
            CorsVerdict::Forbidden => {
                return Box::pin(std::future::ready(Ok(plain(http::StatusCode::FORBIDDEN, "origin not allowed\n"))));
            }
            CorsVerdict::Serve(allow) => allow.and_then(|a| http::HeaderValue::from_str(&a).ok()),
        };
        let with_cors = move |mut resp: HttpResponse| {
            if let Some(a) = allow {
                resp.headers_mut().insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, a);
                resp.headers_mut().insert(http::header::VARY, http::HeaderValue::from_static("Origin"));
            }
            resp
        };
        let websocket = jsonrpsee::server::ws::is_upgrade_request(&req);
        let Ok((client, forwarded)) = self.resolver.resolve(self.peer, req.headers(), websocket) else {
            let r = plain(http::StatusCode::BAD_REQUEST, "malformed X-Forwarded-For from a trusted proxy\n");
            return Box::pin(std::future::ready(Ok(with_cors(r))));
        };
        if !client.exempt && !self.limiter.check(client.ip, 1) {
            self.metrics.rate_limited("http", 1);
            let mut r = plain(http::StatusCode::TOO_MANY_REQUESTS, "too many requests from this address\n");
            r.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
            return Box::pin(std::future::ready(Ok(with_cors(r))));
        }
        if !websocket
            && req.uri().path() == HEALTH_PATH
            && (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
        {
            let methods = self.methods.clone();
            let head = req.method() == http::Method::HEAD;
            return Box::pin(async move { Ok(with_cors(health(&methods, head).await)) });
        }
        // Browsers send `Origin` on WebSocket handshakes but apply no CORS to
        // them: a page from another origin must not reach this node's RPC
        // through a visitor's browser (its loopback address is exempt from
        // the rate limit). Clients that are not browsers send no `Origin`.
        if websocket
            && let Some(o) = origin.as_deref()
            && self.cors.allow(Some(o)).is_none()
            && !crate::rpc_limits::same_origin(o, header("host").as_deref())
        {
            return Box::pin(std::future::ready(Ok(plain(http::StatusCode::FORBIDDEN, "origin not allowed\n"))));
        }
        if websocket {
            // A WebSocket through a trusted proxy is one client's connection:
            // it takes a place in that client's per-IP cap for its life.
            if forwarded {
                let Some(slot) = self.per_ip.try_acquire(client.ip) else {
                    self.metrics.connections_refused.inc();
                    let r = plain(http::StatusCode::TOO_MANY_REQUESTS, "too many connections from this address\n");
                    return Box::pin(std::future::ready(Ok(with_cors(r))));
                };
                req.extensions_mut().insert(ForwardedLease(Arc::new(slot)));
            }
            req.extensions_mut().insert(ConnLease(self.slots.clone()));
        }
        req.extensions_mut().insert(client);
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map(with_cors) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Registered by hand, not in the typed traits: the decentralization
    /// subscription (`rpc_index`).
    const HAND_REGISTERED: &[&str] = &[];

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
                let req = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{name}","params":{{"{pname}":[[[]]]}}}}"#);
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
