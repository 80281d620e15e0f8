//! JSON-RPC over HTTP to the nodes: the typed client of the `rpc-api` crate
//! (`ChainApiClient` and the other `…Client` traits are implemented for the
//! jsonrpsee [`HttpClient`]), async for the CLI's loops and blocking for the
//! library's synchronous API.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
pub use rpc_api::api::{ChainApiClient, ContractsApiClient, IndexApiClient, StakingApiClient};
pub use rpc_api::batch;
pub use rpc_api::types;
use serde_json::Value;

/// An HTTP JSON-RPC client for `url` whose requests time out after `timeout`.
pub fn client(url: &str, timeout: Duration) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(timeout)
        .max_response_size(256 * 1024 * 1024)
        .build(url)
        .with_context(|| format!("building a JSON-RPC client for {url}"))
}

/// A short description of a client error: `code 1005: nonce too low`, `timed out`…
pub fn describe(e: &ClientError) -> String {
    match e {
        ClientError::Call(o) => format!("code {}: {}", o.code(), o.message()),
        ClientError::RequestTimeout => "request timed out".into(),
        ClientError::Transport(t) => format!("cannot reach the node: {t}"),
        other => other.to_string(),
    }
}

/// A typed call's result, its error described with the method's name.
pub fn named<T>(method: &str, r: Result<T, ClientError>) -> Result<T> {
    r.map_err(|e| anyhow!("{method}: {}", describe(&e)))
}

/// Runs `call` (typed calls on a client of `url`) and waits for the answer,
/// from any context: the request runs on a short-lived thread with its own
/// runtime, so this works in a plain `#[test]` and inside a tokio runtime
/// alike (where it blocks the calling thread for at most `timeout`).
pub fn blocking<T, F, Fut>(url: &str, timeout: Duration, call: F) -> Result<T>
where
    T: Send,
    F: FnOnce(HttpClient) -> Fut + Send,
    Fut: Future<Output = Result<T>>,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting a tokio runtime for an RPC call")?;
            rt.block_on(async {
                let c = client(url, timeout)?;
                tokio::time::timeout(timeout + Duration::from_millis(500), call(c))
                    .await
                    .map_err(|_| anyhow!("request timed out"))?
            })
        })
        .join()
        .map_err(|_| anyhow!("the RPC thread panicked"))?
    })
    .with_context(|| format!("RPC to {url}"))
}

/// Calls `method` by name with positional `args`: for tests and ad-hoc
/// probes of methods that have no typed client (the typed calls are the
/// `…Client` traits).
pub async fn call(client: &HttpClient, method: &str, args: Vec<Value>) -> Result<Value> {
    let mut p = ArrayParams::new();
    for v in args {
        // Inserting an already-built JSON value cannot fail to serialise.
        let _ = p.insert(v);
    }
    client.request::<Value, _>(method, p).await.map_err(|e| anyhow!("{method}: {}", describe(&e)))
}

/// [`call`], blocking (see [`blocking`]).
pub fn call_blocking(url: &str, method: &str, args: Vec<Value>, timeout: Duration) -> Result<Value> {
    blocking(url, timeout, |c| async move { call(&c, method, args).await })
}
