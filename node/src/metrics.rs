//! `GET /metrics` on the RPC port: Prometheus gauges of the node and of the
//! decentralization index (labelled by subsystem, metric and threshold),
//! rendered from the latest committed state on each scrape.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};

use decentralization::Threshold;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tower::{Layer, Service};

use crate::rpc::RpcContext;

/// The path Prometheus scrapes.
pub const PATH: &str = "/metrics";

type Labels = Vec<(String, String)>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn gauge(reg: &mut Registry, name: &str, help: &str) -> Gauges {
    let g = Gauges::default();
    reg.register(name, help, g.clone());
    g
}

/// The metrics text (Prometheus exposition format).
pub fn render(ctx: &RpcContext) -> Result<String, String> {
    let mut reg = Registry::default();
    let height = gauge(&mut reg, "agora_height", "Height of the latest committed block");
    height.get_or_create(&Vec::new()).set(crate::rpc_index::tip_height(ctx).0 as f64);
    let epoch = gauge(&mut reg, "agora_decentralization_epoch", "Latest epoch whose decentralization index is stored");
    let nakamoto = gauge(
        &mut reg,
        "agora_decentralization_nakamoto",
        "Nakamoto coefficient: smallest number of entities whose weight meets the threshold (rule in the labels)",
    );
    let headline = gauge(
        &mut reg,
        "agora_decentralization_headline_nakamoto",
        "Smallest Nakamoto coefficient over all subsystems at the threshold",
    );
    let metric = gauge(
        &mut reg,
        "agora_decentralization_metric",
        "Concentration metric of a subsystem (hhi 0..10000, gini, largest_share, shannon_entropy_bits, normalised_entropy, theil, entities)",
    );
    if let Some(r) = crate::rpc_index::latest_record(ctx).map_err(|e| e.to_string())? {
        epoch.get_or_create(&Vec::new()).set(r.epoch as f64);
        for h in crate::rpc_index::headline(&r) {
            if let Some(v) = h.value {
                let l =
                    labels(&[("threshold", &h.threshold), ("fraction", &h.fraction), ("comparison", &h.comparison)]);
                headline.get_or_create(&l).set(f64::from(v));
            }
        }
        for s in &r.subsystems {
            for (t, v) in Threshold::STANDARD.iter().zip(&s.nakamoto) {
                if let Some(v) = v {
                    let fraction = t.fraction();
                    let l = labels(&[
                        ("subsystem", &s.name),
                        ("threshold", t.name),
                        ("fraction", &fraction),
                        ("comparison", t.cmp.symbol()),
                    ]);
                    nakamoto.get_or_create(&l).set(f64::from(*v));
                }
            }
            let Some(m) = crate::rpc_index::report(s) else { continue };
            let values = [
                ("hhi", Some(m.hhi.to_f64())),
                ("gini", Some(m.gini.to_f64())),
                ("largest_share", Some(m.largest_share.to_f64())),
                ("shannon_entropy_bits", m.shannon_entropy_bits),
                ("normalised_entropy", m.normalised_entropy),
                ("theil", m.theil),
                ("entities", Some(m.entities as f64)),
            ];
            for (name, value) in values {
                if let Some(x) = value {
                    metric.get_or_create(&labels(&[("subsystem", &s.name), ("metric", name)])).set(x);
                }
            }
        }
    }
    let mut out = String::new();
    encode(&mut out, &reg).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The last rendered text and the height it was rendered at: scrapes within
/// one block share it, so a flood of requests costs one rendering a block.
type Cache = Arc<std::sync::Mutex<Option<(u64, Arc<String>)>>>;

fn render_cached(ctx: &RpcContext, cache: &Cache) -> Result<Arc<String>, String> {
    let height = crate::rpc_index::tip_height(ctx).0;
    if let Ok(c) = cache.lock()
        && let Some((h, text)) = c.as_ref()
        && *h == height
    {
        return Ok(text.clone());
    }
    let text = Arc::new(render(ctx)?);
    if let Ok(mut c) = cache.lock() {
        *c = Some((height, text.clone()));
    }
    Ok(text)
}

/// Serves [`PATH`] in front of the JSON-RPC service.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    ctx: Arc<RpcContext>,
    cache: Cache,
}

impl MetricsLayer {
    pub fn new(ctx: Arc<RpcContext>) -> Self {
        MetricsLayer { ctx, cache: Cache::default() }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { inner, ctx: self.ctx.clone(), cache: self.cache.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
    ctx: Arc<RpcContext>,
    cache: Cache,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

impl<S> Service<HttpRequest> for MetricsService<S>
where
    S: Service<HttpRequest, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        if req.uri().path() != PATH {
            let fut = self.inner.call(req);
            return Box::pin(async move { fut.await.map_err(Into::into) });
        }
        let (ctx, cache) = (self.ctx.clone(), self.cache.clone());
        let get = req.method().as_str() == "GET";
        Box::pin(async move {
            let (status, content_type, body) = if !get {
                (405, "text/plain", "only GET is served at /metrics\n".to_owned())
            } else {
                match tokio::task::spawn_blocking(move || render_cached(&ctx, &cache)).await {
                    Ok(Ok(text)) => (200, "text/plain; version=0.0.4; charset=utf-8", text.as_str().to_owned()),
                    Ok(Err(e)) => (500, "text/plain", format!("cannot render metrics: {e}\n")),
                    Err(e) => (500, "text/plain", format!("cannot render metrics: {e}\n")),
                }
            };
            let resp = HttpResponse::builder()
                .status(status)
                .header("content-type", content_type)
                .body(HttpBody::from(body))
                .map_err(|e| -> BoxError { Box::new(e) })?;
            Ok(resp)
        })
    }
}
