//! The RPC server's limits beyond what jsonrpsee enforces itself: a per-IP
//! rate limit (token buckets in a bounded map, here), who the client is
//! behind a trusted proxy and the per-IP connection cap ([`client`]), the
//! node-wide subscription cap ([`subs`]), CORS ([`cors`]), and the JSON-RPC
//! middleware that rate-limits WebSocket calls and records per-method
//! metrics with a bounded label set.

pub mod client;
pub mod cors;
#[cfg(test)]
mod server_tests;
pub mod subs;

pub use client::{ClientResolver, IpConnections, IpNet, IpSlot, MAX_FORWARDED_HOPS};
pub use cors::{Cors, CorsVerdict, check_origin, same_origin};
pub use subs::cap_subscriptions;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonrpsee::core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification, RpcServiceT};
use jsonrpsee::server::MethodResponse;
use jsonrpsee::types::{ErrorObject, Request};

use crate::config::RateLimitConfig;
use crate::metrics::RpcMetrics;

/// Most client addresses whose buckets are remembered at once.
pub const MAX_TRACKED_IPS: usize = 65_536;

/// A token bucket counted in thousandths of a token (integer arithmetic, no
/// drift: the time that did not yet make a whole milli-token is kept).
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    milli: u64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(cfg: &RateLimitConfig, now: Instant) -> Self {
        TokenBucket { milli: u64::from(cfg.burst) * 1000, last: now }
    }

    fn refill(&mut self, cfg: &RateLimitConfig, now: Instant) {
        let cap = u64::from(cfg.burst) * 1000;
        let rate = u128::from(cfg.per_second.max(1));
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        // milli-tokens = ns · per_second · 1000 / 1e9
        let add = elapsed * rate / 1_000_000;
        if add == 0 {
            return;
        }
        let add_u64 = u64::try_from(add).unwrap_or(u64::MAX);
        if self.milli.saturating_add(add_u64) >= cap {
            self.milli = cap;
            self.last = now;
        } else {
            self.milli += add_u64;
            // Advance only by the time those milli-tokens took.
            let used_ns = add * 1_000_000 / rate;
            self.last += Duration::from_nanos(u64::try_from(used_ns).unwrap_or(u64::MAX));
        }
    }

    /// Takes `cost` tokens if there are that many.
    pub fn try_take(&mut self, cfg: &RateLimitConfig, cost: u32, now: Instant) -> bool {
        self.refill(cfg, now);
        let need = u64::from(cost) * 1000;
        if self.milli >= need {
            self.milli -= need;
            true
        } else {
            false
        }
    }

    /// Full again (the client has been idle long enough): safe to forget.
    pub fn is_full(&self, cfg: &RateLimitConfig, now: Instant) -> bool {
        let mut b = *self;
        b.refill(cfg, now);
        b.milli >= u64::from(cfg.burst) * 1000
    }
}

/// The key a client is limited by: its IPv4 address, or its IPv6 /64 (one
/// host usually has a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[derive(Debug)]
struct Buckets {
    map: HashMap<IpAddr, TokenBucket>,
    /// No full sweep before this (a sweep that freed nothing is not repeated
    /// for every new client).
    next_sweep: Instant,
}

/// Per-IP token buckets, at most `cap` of them.
#[derive(Debug)]
pub struct RateLimiter {
    cfg: RateLimitConfig,
    cap: usize,
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    pub fn new(cfg: RateLimitConfig, cap: usize) -> Self {
        let buckets = Buckets { map: HashMap::new(), next_sweep: Instant::now() };
        RateLimiter { cfg, cap: cap.max(1), buckets: Mutex::new(buckets) }
    }

    /// May `ip` spend `cost` requests now? (Whether a client is exempt is
    /// decided per request, by [`ClientResolver`]: the caller does not ask.)
    pub fn check(&self, ip: IpAddr, cost: u32) -> bool {
        self.check_at(ip, cost, Instant::now())
    }

    pub fn check_at(&self, ip: IpAddr, cost: u32, now: Instant) -> bool {
        let key = client_key(ip);
        let Ok(mut b) = self.buckets.lock() else { return false };
        if !b.map.contains_key(&key) && b.map.len() >= self.cap {
            self.make_room(&mut b, now);
        }
        let cfg = self.cfg;
        b.map.entry(key).or_insert_with(|| TokenBucket::new(&cfg, now)).try_take(&cfg, cost, now)
    }

    /// Frees a slot: forgets every full bucket (idle clients) if a sweep is
    /// due, else (or if none is full) one arbitrary client, who then starts
    /// again with a full bucket.
    fn make_room(&self, b: &mut Buckets, now: Instant) {
        if now >= b.next_sweep {
            let cfg = self.cfg;
            b.map.retain(|_, t| !t.is_full(&cfg, now));
            b.next_sweep = now + Duration::from_secs(1);
        }
        if b.map.len() >= self.cap
            && let Some(k) = b.map.keys().next().copied()
        {
            b.map.remove(&k);
        }
    }

    /// Clients tracked now (at most the cap).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|b| b.map.len()).unwrap_or(0)
    }
}

/// Put in each HTTP request's extensions by the server's front service, and
/// so in every JSON-RPC call's: who is calling, over which transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address: the TCP peer's, or behind a trusted proxy the
    /// one `X-Forwarded-For` names.
    pub ip: IpAddr,
    pub websocket: bool,
    /// Not rate limited (a loopback client not behind a proxy, when
    /// `rate_limit_exempt_loopback` is on).
    pub exempt: bool,
}

/// The JSON-RPC middleware: WebSocket calls pay the caller's rate limit (an
/// HTTP request already paid in the front service), every call is counted
/// and timed under its method's label.
#[derive(Clone, Debug)]
pub struct RpcGuardLayer {
    pub limiter: Arc<RateLimiter>,
    pub metrics: Arc<RpcMetrics>,
}

impl<S> tower::Layer<S> for RpcGuardLayer {
    type Service = RpcGuard<S>;
    fn layer(&self, inner: S) -> RpcGuard<S> {
        RpcGuard { inner, limiter: self.limiter.clone(), metrics: self.metrics.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct RpcGuard<S> {
    inner: S,
    limiter: Arc<RateLimiter>,
    metrics: Arc<RpcMetrics>,
}

/// What a call costs in rate-limit tokens: one, except `agora_sendTxs`,
/// which costs one per transaction it carries (at least one), so sending
/// many in one call is not a way around the limit. Parameters that do not
/// parse cost one (the method refuses them).
fn call_cost(req: &Request<'_>) -> u32 {
    if req.method_name() != "agora_sendTxs" {
        return 1;
    }
    let n = req.params.as_deref().and_then(|p| send_txs_count(p.get())).unwrap_or(1);
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

/// How many transactions `agora_sendTxs` parameters carry, in any of the
/// forms of docs/rpc.md (`[[…]]`, `{"txs_hex": […]}`, `[{"txs_hex": […]}]`),
/// counted without building them: the count is taken before the rate limit
/// says no, so it must cost no more than reading the bytes.
fn send_txs_count(params: &str) -> Option<usize> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    /// An array: its length. Whether `Named` may stand for it (the first
    /// positional parameter may be the object of named ones).
    struct Count {
        named_ok: bool,
    }
    impl<'de> DeserializeSeed<'de> for Count {
        type Value = Option<usize>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Count {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of transactions")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<usize>, A::Error> {
            let mut n = 0usize;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n = n.saturating_add(1);
            }
            Ok(Some(n))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<usize>, A::Error> {
            if self.named_ok { Named.visit_map(map) } else { Ok(None) }
        }
    }
    /// `{"txs_hex": […], …}`.
    struct Named;
    impl<'de> Visitor<'de> for Named {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("named parameters")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<usize>, A::Error> {
            let mut n = None;
            while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if k == "txs_hex" {
                    n = map.next_value_seed(Count { named_ok: false })?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(n)
        }
    }
    /// The whole parameters: positional (the first is the list, or the
    /// object of named ones) or named.
    struct Params;
    impl<'de> Visitor<'de> for Params {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("parameters")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<usize>, A::Error> {
            let n = seq.next_element_seed(Count { named_ok: true })?.flatten();
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(n)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<usize>, A::Error> {
            Named.visit_map(map)
        }
    }
    let mut d = serde_json::Deserializer::from_str(params);
    d.deserialize_any(Params).ok().flatten()
}

fn rate_limited() -> ErrorObject<'static> {
    ErrorObject::owned(rpc_api::codes::RATE_LIMITED, "too many requests from this address; retry later", None::<()>)
}

impl<S> RpcGuard<S> {
    /// Charges the caller `cost` calls. An HTTP request already paid one
    /// token in the front service, so over HTTP a batch pays the rest of its
    /// calls here (a batch of 100 costs 100, as over WebSocket).
    fn admit(&self, info: Option<&ClientInfo>, cost: u32) -> bool {
        let Some(c) = info else { return true };
        if c.exempt {
            return true;
        }
        let cost = if c.websocket { cost } else { cost.saturating_sub(1) };
        if cost == 0 {
            return true;
        }
        let ok = self.limiter.check(c.ip, cost);
        if !ok {
            self.metrics.rate_limited(if c.websocket { "ws" } else { "http" }, u64::from(cost));
        }
        ok
    }
}

impl<S> RpcServiceT for RpcGuard<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, req: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let admitted = self.admit(req.extensions().get::<ClientInfo>(), call_cost(&req));
        let inner = self.inner.clone();
        let metrics = self.metrics.clone();
        async move {
            let m = metrics.method(req.method_name());
            if !admitted {
                m.count(false);
                return MethodResponse::error(req.id, rate_limited());
            }
            let start = Instant::now();
            let resp = inner.call(req).await;
            m.observe(start.elapsed(), resp.is_success());
            resp
        }
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let cost = batch
            .iter()
            .map(|e| match e {
                Ok(BatchEntry::Call(r)) => call_cost(r),
                _ => 1,
            })
            .fold(0u32, u32::saturating_add);
        let admitted = self.admit(batch.extensions().get::<ClientInfo>(), cost);
        for entry in batch.iter_mut() {
            let refuse = match entry {
                Ok(e) => {
                    self.metrics.method(e.method_name()).count(admitted);
                    match e {
                        BatchEntry::Call(r) if !admitted => Some(r.id.clone()),
                        _ => None,
                    }
                }
                Err(_) => {
                    self.metrics.method("").count(false);
                    None
                }
            };
            if let Some(id) = refuse {
                *entry = Err(BatchEntryErr::new(id, rate_limited()));
            }
        }
        let inner = self.inner.clone();
        let metrics = self.metrics.clone();
        async move {
            let start = Instant::now();
            let resp = inner.batch(batch).await;
            metrics.batch(start.elapsed());
            resp
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let admitted = self.admit(n.extensions().get::<ClientInfo>(), 1);
        let inner = self.inner.clone();
        async move { if admitted { inner.notification(n).await } else { MethodResponse::notification() } }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `agora_sendTxs` costs what it carries in every parameter form, and
    /// parameters that are not a list of transactions cost one.
    #[test]
    fn send_txs_count_reads_every_parameter_form() {
        assert_eq!(send_txs_count(r#"[["aa","bb","cc"]]"#), Some(3));
        assert_eq!(send_txs_count(r#"{"txs_hex":["aa","bb"]}"#), Some(2));
        assert_eq!(send_txs_count(r#"[{"other":[1,2,3],"txs_hex":["aa"]}]"#), Some(1));
        assert_eq!(send_txs_count(r#"[[]]"#), Some(0));
        assert_eq!(send_txs_count(r#"[[{"x":[1,2]},[3],null,"a"]]"#), Some(4));
        let many = format!("[[{}]]", vec!["\"\""; 50_000].join(","));
        assert_eq!(send_txs_count(&many), Some(50_000));
        for junk in ["[]", "{}", "[\"aa\"]", "7", "[[1,2", r#"{"txs_hex":"aa"}"#, r#"[[{"txs_hex":["a"]}]]"#] {
            assert!(send_txs_count(junk).is_none_or(|n| n <= 1), "{junk}: {:?}", send_txs_count(junk));
        }
        assert_eq!(send_txs_count(r#"[{"txs_hex":{"txs_hex":["a","b"]}}]"#), None, "no nesting");
    }

    fn cfg(per_second: u32, burst: u32) -> RateLimitConfig {
        RateLimitConfig { per_second, burst }
    }

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let c = cfg(10, 5);
        let t0 = Instant::now();
        let mut b = TokenBucket::new(&c, t0);
        for _ in 0..5 {
            assert!(b.try_take(&c, 1, t0));
        }
        assert!(!b.try_take(&c, 1, t0), "burst spent");
        // 10/s: one token every 100 ms.
        assert!(!b.try_take(&c, 1, t0 + Duration::from_millis(99)));
        assert!(b.try_take(&c, 1, t0 + Duration::from_millis(100)));
        assert!(!b.try_take(&c, 1, t0 + Duration::from_millis(150)));
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(3600);
        assert!(b.is_full(&c, later));
        assert!(b.try_take(&c, 5, later));
        assert!(!b.try_take(&c, 1, later));
        // A cost above the burst is never admitted.
        assert!(!TokenBucket::new(&c, t0).try_take(&c, 6, t0));
    }

    #[test]
    fn frequent_small_refills_are_not_lost() {
        // At 1 token/s, polling every 10 µs must still refill one token a second.
        let c = cfg(1, 1);
        let t0 = Instant::now();
        let mut b = TokenBucket::new(&c, t0);
        assert!(b.try_take(&c, 1, t0));
        let mut t = t0;
        let mut got = 0;
        while t < t0 + Duration::from_millis(3_000) {
            t += Duration::from_micros(10);
            if b.try_take(&c, 1, t) {
                got += 1;
            }
        }
        assert_eq!(got, 3);
    }

    #[test]
    fn ip_map_is_bounded_and_evicts_idle_clients_first() {
        let l = RateLimiter::new(cfg(1, 2), 100);
        let t0 = Instant::now();
        let ip = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        for i in 0..1000 {
            assert!(l.check_at(ip(i), 1, t0));
            assert!(l.tracked() <= 100);
        }
        assert_eq!(l.tracked(), 100);
        // A busy client (empty bucket) is remembered while idle ones come and go.
        let busy = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
        let t1 = t0 + Duration::from_secs(10);
        assert!(l.check_at(busy, 2, t1));
        assert!(!l.check_at(busy, 1, t1));
        for i in 1000..1050 {
            assert!(l.check_at(ip(i), 1, t1 + Duration::from_millis(1)));
        }
        assert!(!l.check_at(busy, 1, t1 + Duration::from_millis(2)), "busy client was forgotten");
        assert!(l.tracked() <= 100);
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let l = RateLimiter::new(cfg(1, 1), 10);
        let t0 = Instant::now();
        assert!(l.check_at("2001:db8::1".parse().unwrap(), 1, t0));
        assert!(!l.check_at("2001:db8::ffff:2".parse().unwrap(), 1, t0));
        assert!(l.check_at("2001:db8:0:1::1".parse().unwrap(), 1, t0));
        assert_eq!(client_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
