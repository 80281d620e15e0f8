//! The parameter conventions of docs/rpc.md on top of jsonrpsee's typed
//! methods, applied as an RPC middleware with the OpenRPC document (generated
//! from the `rpc-api` traits) as the list of each method's parameters:
//!
//! - a missing required parameter is `-32602` with a message that names it
//!   (jsonrpsee alone says "Invalid params" / "No more params");
//! - `[{"name": …}]`, one object of named parameters inside an array, is the
//!   same as `{"name": …}` (no method takes an object as its first parameter);
//! - other invalid parameters keep jsonrpsee's `-32602`, with serde's reason
//!   moved into the message.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use futures::StreamExt;
use jsonrpsee::MethodResponse;
use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::core::server::BatchResponseBuilder;
use jsonrpsee::types::{ErrorObjectOwned, Request};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::rpc::codes;

/// A method's parameters: name and whether it is required, in order.
type Params = Vec<(String, bool)>;

static METHODS: LazyLock<BTreeMap<String, Params>> = LazyLock::new(|| {
    let doc = rpc_api::openrpc::document();
    let mut out = BTreeMap::new();
    for m in doc["methods"].as_array().into_iter().flatten() {
        let Some(name) = m["name"].as_str() else { continue };
        let params = m["params"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["name"].as_str()?.to_owned(), p["required"].as_bool().unwrap_or(false))))
            .collect();
        out.insert(name.to_owned(), params);
    }
    out
});

/// The parameters as the typed method should see them, or the error for a
/// missing required one. `None`: leave them as they are.
pub fn check(method: &str, params: Option<&RawValue>) -> Result<Option<Box<RawValue>>, ErrorObjectOwned> {
    let Some(spec) = METHODS.get(method) else { return Ok(None) };
    let value: Value = match params {
        None => Value::Null,
        Some(p) => match serde_json::from_str(p.get()) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        },
    };
    let mut rewritten = None;
    let named = match &value {
        Value::Array(a) if a.len() == 1 && a[0].is_object() => {
            rewritten = Some(a[0].clone());
            a[0].as_object()
        }
        Value::Object(o) => Some(o),
        _ => None,
    };
    for (i, (name, required)) in spec.iter().enumerate() {
        if !required {
            continue;
        }
        let given = match (&value, named) {
            (_, Some(o)) => o.get(name),
            (Value::Array(a), None) => a.get(i),
            _ => None,
        };
        if given.is_none_or(Value::is_null) {
            return Err(ErrorObjectOwned::owned(
                codes::INVALID_PARAMS,
                format!("missing parameter `{name}`"),
                None::<()>,
            ));
        }
    }
    Ok(rewritten.and_then(|v| serde_json::value::to_raw_value(&v).ok()))
}

/// Puts jsonrpsee's detail ("invalid type: …") into the message of a -32602.
fn clarify(r: MethodResponse) -> MethodResponse {
    if r.as_error_code() != Some(codes::INVALID_PARAMS) {
        return r;
    }
    let Ok(v) = serde_json::from_str::<Value>(r.as_json().get()) else { return r };
    let (Some(msg), Some(data)) = (v["error"]["message"].as_str(), v["error"]["data"].as_str()) else { return r };
    if msg != "Invalid params" {
        return r;
    }
    let id = match &v["id"] {
        Value::Number(n) => n.as_u64().map_or(jsonrpsee::types::Id::Null, jsonrpsee::types::Id::Number),
        Value::String(s) => jsonrpsee::types::Id::Str(s.clone().into()),
        _ => jsonrpsee::types::Id::Null,
    };
    let e = ErrorObjectOwned::owned(codes::INVALID_PARAMS, format!("invalid parameters: {data}"), None::<()>);
    MethodResponse::error(id, e).with_extensions(r.extensions().clone())
}

/// Calls of one batch running at once (each answer can be up to the response
/// limit, so this also bounds a batch's memory).
pub const BATCH_CONCURRENCY: usize = 16;

/// The middleware; see the module docs. The second field is the largest
/// response body (a batch's answers together).
#[derive(Clone, Debug)]
pub struct ParamConventions<S>(pub S, pub usize);

impl<S> RpcServiceT for ParamConventions<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse, BatchResponse = MethodResponse> + Send + Sync + Clone + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, mut req: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let service = self.0.clone();
        async move {
            match check(&req.method, req.params.as_deref()) {
                Err(e) => MethodResponse::error(req.id, e).with_extensions(req.extensions),
                Ok(p) => {
                    if let Some(p) = p {
                        req.params = Some(std::borrow::Cow::Owned(p));
                    }
                    clarify(service.call(req).await)
                }
            }
        }
    }

    /// A batch's calls run concurrently, at most [`BATCH_CONCURRENCY`] at
    /// once, each under the same conventions as a single call; the answers
    /// are added in the batch's order as they finish and the batch stops at
    /// the response size limit. (Run one after another, a batch of 100
    /// `agora_sendTx` would reach the admission thread one at a time and
    /// never be verified as a signature batch.) As JSON-RPC 2.0 allows, the
    /// calls of one batch are not ordered against each other: a client that
    /// needs one call's effect before another sends them separately.
    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let mut got_notification = false;
            let mut calls = Vec::with_capacity(batch.len());
            for entry in batch.into_iter() {
                match entry {
                    Ok(BatchEntry::Call(req)) => calls.push(futures::future::Either::Left(this.call(req))),
                    Ok(BatchEntry::Notification(n)) => {
                        got_notification = true;
                        let _ = this.0.notification(n).await;
                    }
                    Err(e) => {
                        let (e, id) = e.into_parts();
                        calls.push(futures::future::Either::Right(std::future::ready(MethodResponse::error(id, e))));
                    }
                }
            }
            let mut out = BatchResponseBuilder::new_with_limit(this.1);
            let mut answers = futures::stream::iter(calls).buffered(BATCH_CONCURRENCY);
            while let Some(rp) = answers.next().await {
                if let Err(too_big) = out.append(rp) {
                    return too_big;
                }
            }
            if out.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(out.finish())
            }
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = S::NotificationResponse> + Send + 'a {
        self.0.notification(n)
    }
}

/// The layer for `Server::builder().set_rpc_middleware`, with the server's
/// largest response body.
#[derive(Clone, Copy, Debug)]
pub struct ParamConventionsLayer(pub usize);

impl<S> tower::Layer<S> for ParamConventionsLayer {
    type Service = ParamConventions<S>;
    fn layer(&self, inner: S) -> ParamConventions<S> {
        ParamConventions(inner, self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn a_missing_required_parameter_is_named() {
        let e = check("agora_getAccount", Some(&raw("[]"))).unwrap_err();
        assert_eq!((e.code(), e.message()), (codes::INVALID_PARAMS, "missing parameter `address`"));
        let e = check("agora_getAccount", None).unwrap_err();
        assert_eq!(e.message(), "missing parameter `address`");
        let e = check("agora_getAccount", Some(&raw(r#"{"prove":true}"#))).unwrap_err();
        assert_eq!(e.message(), "missing parameter `address`");
        let e = check("agora_validatorDelegations", Some(&raw("[null]"))).unwrap_err();
        assert_eq!(e.message(), "missing parameter `validator`");
        assert!(check("agora_getAccount", Some(&raw(r#"["agora1x"]"#))).unwrap().is_none());
        assert!(check("agora_status", None).unwrap().is_none());
        assert!(check("agora_unknownMethod", None).unwrap().is_none(), "unknown methods are jsonrpsee's to refuse");
    }

    #[test]
    fn a_lone_object_in_an_array_is_named_parameters() {
        let p = check("agora_getAccount", Some(&raw(r#"[{"address":"agora1x","height":5}]"#))).unwrap().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(p.get()).unwrap(),
            serde_json::json!({"address":"agora1x","height":5})
        );
        let e = check("agora_getAccount", Some(&raw(r#"[{"height":5}]"#))).unwrap_err();
        assert_eq!(e.message(), "missing parameter `address`");
    }
}
