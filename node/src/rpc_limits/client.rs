//! Who is calling: the client's address (behind a trusted reverse proxy, the
//! one `X-Forwarded-For` names), whether the loopback exemption applies, and
//! the per-IP connection cap.
//!
//! `X-Forwarded-For` is believed only when the TCP peer is one of
//! `rpc.trusted_proxies`: the client is then the right-most address of the
//! header that is not itself a trusted proxy (each proxy appends the address
//! it saw; what a client wrote itself is on the left and ignored). From any
//! other peer the header is never used to pick the client, but its presence
//! (or `Forwarded` / `X-Real-IP`) says the request went through a proxy, so
//! it is not exempt as a loopback client: a reverse proxy on the same host
//! does not make the whole internet "loopback".

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use http::HeaderMap;

use super::{ClientInfo, client_key};

/// Most `X-Forwarded-For` entries read, from the right (a chain of proxies is
/// never that long; what lies further left is the client's own claim).
pub const MAX_FORWARDED_HOPS: usize = 16;
/// Most `trusted_proxies` entries.
pub const MAX_TRUSTED_PROXIES: usize = 256;

/// An IP network: `10.0.0.0/8`, `fd00::/8`, or one address (`10.0.0.1`, a /32
/// or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            IpAddr::V4((u32::from(v4) & m).into())
        }
        IpAddr::V6(v6) => {
            let m = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

impl IpNet {
    /// `ADDR` or `ADDR/PREFIX`, without host bits below the prefix (a
    /// `10.0.0.1/8` is a typo for one address or for `10.0.0.0/8`).
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let bad = || format!("`{s}` is not an IP address or network like 10.0.0.1, 10.0.0.0/8 or fd00::/8");
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        if mask(addr, prefix) != addr {
            return Err(format!("`{s}` has bits set past its prefix: the network is {}/{prefix}", mask(addr, prefix)));
        }
        // An IPv4-mapped IPv6 network would never match: peers are compared
        // in their canonical form.
        if let IpAddr::V6(v6) = addr
            && v6.to_ipv4_mapped().is_some()
            && prefix >= 96
        {
            return Err(format!("`{s}` is an IPv4-mapped address: write it as IPv4"));
        }
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port
/// (`203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`).
fn forwarded_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let ip = if let Some(rest) = s.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok());
        if !port_ok {
            return None;
        }
        IpAddr::V6(inner.parse().ok()?)
    } else if let Ok(ip) = s.parse::<IpAddr>() {
        ip
    } else {
        let (host, port) = s.split_once(':')?;
        port.parse::<u16>().ok()?;
        IpAddr::V4(host.parse().ok()?)
    };
    Some(ip.to_canonical())
}

/// The request's `X-Forwarded-For` was unreadable (sent by a trusted proxy:
/// a misconfigured one).
#[derive(Debug, PartialEq, Eq)]
pub struct MalformedForwardedFor;

/// Decides who a request comes from.
#[derive(Clone, Debug, Default)]
pub struct ClientResolver {
    trusted: Vec<IpNet>,
    exempt_loopback: bool,
}

impl ClientResolver {
    /// `trusted` must have been checked by [`IpNet::parse`] (config
    /// validation): an unparsable entry is skipped here.
    pub fn new(trusted: &[String], exempt_loopback: bool) -> Self {
        ClientResolver { trusted: trusted.iter().filter_map(|t| IpNet::parse(t).ok()).collect(), exempt_loopback }
    }

    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    /// Does a connection from `peer` count against `peer`'s own per-IP
    /// connection cap when accepted? Not for a trusted proxy (it carries many
    /// clients; a WebSocket it forwards counts against the client it names)
    /// and not for an exempt loopback client.
    pub fn counts_at_accept(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        let exempt = self.exempt_loopback && peer.is_loopback();
        !(self.is_trusted_proxy(peer) || exempt)
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn resolve(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        websocket: bool,
    ) -> Result<(ClientInfo, bool), MalformedForwardedFor> {
        let peer = peer.to_canonical();
        if self.is_trusted_proxy(peer) {
            // Right to left over every X-Forwarded-For line (several lines
            // are one comma-separated list, in order).
            let mut hops = headers
                .get_all("x-forwarded-for")
                .iter()
                .rev()
                .flat_map(|v| v.as_bytes().rsplit(|b| *b == b','))
                .take(MAX_FORWARDED_HOPS)
                .peekable();
            if hops.peek().is_none() {
                // The proxy's own request (a health check): its address,
                // never exempt.
                return Ok((ClientInfo { ip: peer, websocket, exempt: false }, false));
            }
            let mut last = peer;
            for h in hops {
                let ip = std::str::from_utf8(h).ok().and_then(forwarded_entry).ok_or(MalformedForwardedFor)?;
                last = ip;
                if !self.is_trusted_proxy(ip) {
                    break;
                }
            }
            return Ok((ClientInfo { ip: last, websocket, exempt: false }, true));
        }
        let via_proxy = ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
        let exempt = self.exempt_loopback && peer.is_loopback() && !via_proxy;
        Ok((ClientInfo { ip: peer, websocket, exempt }, false))
    }
}

/// Open connections per client (IPv4 address or IPv6 /64): at most `cap`
/// each. An entry exists only while a connection holds a slot, so the map
/// never holds more entries than there are open connections.
#[derive(Debug)]
pub struct IpConnections {
    cap: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One open connection's place in [`IpConnections`]; dropping it (however
/// the connection ended) gives the place back.
#[derive(Debug)]
pub struct IpSlot {
    table: Arc<IpConnections>,
    key: IpAddr,
}

impl IpConnections {
    pub fn new(cap: u32) -> Arc<Self> {
        Arc::new(IpConnections { cap: cap.max(1), open: Mutex::new(HashMap::new()) })
    }

    /// A slot for one more connection from `ip`, if it has fewer than the cap.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let key = client_key(ip.to_canonical());
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(IpSlot { table: self.clone(), key })
    }

    /// Connections `ip`'s client holds now.
    pub fn open(&self, ip: IpAddr) -> u32 {
        let key = client_key(ip.to_canonical());
        self.open.lock().unwrap_or_else(PoisonError::into_inner).get(&key).copied().unwrap_or(0)
    }

    /// Clients with at least one connection.
    pub fn tracked(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(ip("10.1.2.3")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped peers are compared as IPv4");
        assert!(!n.contains(ip("::1")));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNet::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        for bad in [
            "",
            "10.0.0.1/8",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "fe80::/129",
            "host",
            "::ffff:10.0.0.1",
        ] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_entries_with_and_without_ports() {
        assert_eq!(forwarded_entry(" 203.0.113.7 "), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_entry("203.0.113.7:4711"), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_entry("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(forwarded_entry("[2001:db8::1]:4711"), Some(ip("2001:db8::1")));
        assert_eq!(forwarded_entry("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(forwarded_entry("::ffff:1.2.3.4"), Some(ip("1.2.3.4")));
        for bad in ["", "unknown", "_hidden", "1.2.3.4:99999", "[::1]x", "[::1", "a.b.c.d", "1.2.3.4:80:1"] {
            assert_eq!(forwarded_entry(bad), None, "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let r = ClientResolver::new(&["10.0.0.0/8".into(), "127.0.0.1".into()], true);
        let proxy = ip("10.0.0.5");
        let stranger = ip("198.51.100.9");
        // A stranger's header is ignored: the client is the stranger.
        let (c, fwd) = r.resolve(stranger, &headers(&["1.1.1.1"]), false).unwrap();
        assert_eq!((c.ip, c.exempt, fwd), (stranger, false, false));
        // From the proxy: the right-most address that is not a proxy; what
        // the client wrote on the left is ignored.
        let (c, fwd) = r.resolve(proxy, &headers(&["6.6.6.6, 203.0.113.7"]), false).unwrap();
        assert_eq!((c.ip, fwd), (ip("203.0.113.7"), true));
        let (c, _) = r.resolve(proxy, &headers(&["6.6.6.6, 203.0.113.7, 10.0.0.9"]), false).unwrap();
        assert_eq!(c.ip, ip("203.0.113.7"), "an inner trusted proxy is skipped");
        // Several header lines are one list, in order.
        let (c, _) = r.resolve(proxy, &headers(&["6.6.6.6", "203.0.113.8", "10.0.0.9"]), false).unwrap();
        assert_eq!(c.ip, ip("203.0.113.8"));
        // Only proxies: the left-most one read. No header: the proxy itself.
        let (c, _) = r.resolve(proxy, &headers(&["10.1.1.1, 10.0.0.9"]), false).unwrap();
        assert_eq!(c.ip, ip("10.1.1.1"));
        let (c, fwd) = r.resolve(proxy, &HeaderMap::new(), false).unwrap();
        assert_eq!((c.ip, fwd), (proxy, false));
        // Garbage where the proxy should have written the client: refused.
        assert_eq!(r.resolve(proxy, &headers(&["1.2.3.4, nonsense"]), false), Err(MalformedForwardedFor));
        // Garbage further left than the client is never read.
        let (c, _) = r.resolve(proxy, &headers(&["nonsense, 203.0.113.7"]), false).unwrap();
        assert_eq!(c.ip, ip("203.0.113.7"));
        // At most MAX_FORWARDED_HOPS entries are read.
        let long = vec!["10.0.0.1"; 1000].join(",");
        let (c, _) = r.resolve(proxy, &headers(&[&format!("1.2.3.4,{long}")]), false).unwrap();
        assert_eq!(c.ip, ip("10.0.0.1"));
    }

    #[test]
    fn loopback_is_exempt_only_when_configured_and_not_proxied() {
        let lo = ip("127.0.0.1");
        let on = ClientResolver::new(&[], true);
        assert!(on.resolve(lo, &HeaderMap::new(), false).unwrap().0.exempt);
        assert!(on.resolve(ip("::1"), &HeaderMap::new(), true).unwrap().0.exempt);
        assert!(on.resolve(ip("::ffff:127.0.0.1"), &HeaderMap::new(), false).unwrap().0.exempt);
        assert!(!on.resolve(ip("192.0.2.1"), &HeaderMap::new(), false).unwrap().0.exempt);
        // A same-host proxy that is not listed as trusted: the header is not
        // believed, but the request is not exempt either.
        for h in ["x-forwarded-for", "forwarded", "x-real-ip"] {
            let mut m = HeaderMap::new();
            m.insert(h, "203.0.113.7".parse().unwrap());
            let (c, fwd) = on.resolve(lo, &m, false).unwrap();
            assert_eq!((c.ip, c.exempt, fwd), (lo, false, false), "{h}");
        }
        // Listed as trusted: the client it names is limited, and the proxy's
        // own requests are not exempt either.
        let proxied = ClientResolver::new(&["127.0.0.1".into()], true);
        let (c, _) = proxied.resolve(lo, &headers(&["203.0.113.7"]), false).unwrap();
        assert_eq!((c.ip, c.exempt), (ip("203.0.113.7"), false));
        assert!(!proxied.resolve(lo, &HeaderMap::new(), false).unwrap().0.exempt);
        assert!(!proxied.resolve(lo, &headers(&["127.0.0.1"]), false).unwrap().0.exempt);
        // Off: nobody is exempt.
        assert!(!ClientResolver::new(&[], false).resolve(lo, &HeaderMap::new(), false).unwrap().0.exempt);
        // At accept: proxies and exempt loopback peers are not counted.
        assert!(!on.counts_at_accept(lo) && on.counts_at_accept(ip("192.0.2.1")));
        assert!(!proxied.counts_at_accept(lo));
        assert!(ClientResolver::new(&[], false).counts_at_accept(lo));
    }

    #[test]
    fn connection_slots_are_capped_per_client_and_given_back_on_drop() {
        let t = IpConnections::new(3);
        let a = ip("192.0.2.1");
        let mut slots: Vec<IpSlot> = (0..3).map(|_| t.try_acquire(a).unwrap()).collect();
        assert!(t.try_acquire(a).is_none(), "a fourth connection from the same address");
        assert!(t.try_acquire(ip("::ffff:192.0.2.1")).is_none(), "the same address, IPv4-mapped");
        // IPv6: one /64 is one client.
        let v6: Vec<IpSlot> = (1..=3).map(|i| t.try_acquire(ip(&format!("2001:db8::{i}"))).unwrap()).collect();
        assert!(t.try_acquire(ip("2001:db8::ffff:1")).is_none());
        assert!(t.try_acquire(ip("2001:db8:0:1::1")).is_some(), "another /64");
        assert_eq!(t.open(a), 3);
        slots.pop();
        assert_eq!(t.open(a), 2);
        let again = t.try_acquire(a).unwrap();
        assert!(t.try_acquire(a).is_none());
        drop(again);
        drop(v6);
        // Entries go away with their last connection: the map is bounded by
        // the open connections.
        assert_eq!(t.tracked(), 1);
        assert_eq!(t.open(ip("2001:db8::1")), 0);
    }
}
