//! JSON-RPC over HTTP to the nodes (jsonrpsee), async for the CLI's loops and
//! blocking for the library's synchronous API.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::Value;

/// An HTTP JSON-RPC client for `url` whose requests time out after `timeout`.
pub fn client(url: &str, timeout: Duration) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(timeout)
        .max_response_size(256 * 1024 * 1024)
        .build(url)
        .with_context(|| format!("building a JSON-RPC client for {url}"))
}

/// Positional parameters.
pub fn params(values: Vec<Value>) -> ArrayParams {
    let mut p = ArrayParams::new();
    for v in values {
        // Inserting an already-built JSON value cannot fail to serialise.
        let _ = p.insert(v);
    }
    p
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

/// Calls `method` with positional `args` on `client`.
pub async fn call(client: &HttpClient, method: &str, args: Vec<Value>) -> Result<Value> {
    client.request::<Value, _>(method, params(args)).await.map_err(|e| anyhow!("{method}: {}", describe(&e)))
}

/// Calls `method` on the node at `url` and waits for the answer, from any
/// context: the request runs on a short-lived thread with its own runtime, so
/// this works in a plain `#[test]` and inside a tokio runtime alike (where it
/// blocks the calling thread for at most `timeout`).
pub fn call_blocking(url: &str, method: &str, args: Vec<Value>, timeout: Duration) -> Result<Value> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting a tokio runtime for an RPC call")?;
            rt.block_on(async {
                let c = client(url, timeout)?;
                tokio::time::timeout(timeout + Duration::from_millis(500), call(&c, method, args))
                    .await
                    .map_err(|_| anyhow!("{method}: request timed out"))?
            })
        })
        .join()
        .map_err(|_| anyhow!("the RPC thread panicked"))?
    })
    .with_context(|| format!("RPC to {url}"))
}

/// Reads a `u64` field at a JSON pointer such as `/consensus/round`.
pub fn u64_at(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer).and_then(Value::as_u64)
}
