//! CORS for browser dApps, and the WebSocket `Origin` check.

use std::collections::HashSet;

/// Is `o` a valid `cors_allowed_origins` entry: `*` or `scheme://host[:port]`?
pub fn check_origin(o: &str) -> Result<(), String> {
    if o == "*" {
        return Ok(());
    }
    let bad = || format!("`{o}` is not an origin like https://explorer.example or http://localhost:8080 (or \"*\")");
    let (scheme, rest) = o.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || o.len() > 253 {
        return Err(bad());
    }
    let ok = rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !ok {
        return Err(bad());
    }
    Ok(())
}

/// The allowed browser origins.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    any: bool,
    origins: HashSet<String>,
}

/// What to do with a request, as far as CORS is concerned.
#[derive(Debug, PartialEq, Eq)]
pub enum CorsVerdict {
    /// Not a preflight: serve it; `Some(v)`: send `Access-Control-Allow-Origin: v`.
    Serve(Option<String>),
    /// A preflight from an allowed origin: answer 204 with these headers.
    Preflight(Vec<(&'static str, String)>),
    /// A preflight from an origin that is not allowed: answer 403.
    Forbidden,
}

impl Cors {
    pub fn new(origins: &[String]) -> Self {
        Cors {
            any: origins.iter().any(|o| o == "*"),
            origins: origins.iter().filter(|o| *o != "*").map(|o| o.to_ascii_lowercase()).collect(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.any || !self.origins.is_empty()
    }

    pub(crate) fn allow(&self, origin: Option<&str>) -> Option<String> {
        let origin = origin?;
        if self.any {
            Some("*".into())
        } else if self.origins.contains(&origin.to_ascii_lowercase()) {
            Some(origin.to_owned())
        } else {
            None
        }
    }

    /// The verdict for a request with `method`, `Origin` header `origin` and,
    /// for preflights, `Access-Control-Request-Method` `req_method`.
    pub fn verdict(&self, method: &str, origin: Option<&str>, req_method: Option<&str>) -> CorsVerdict {
        let preflight = method == "OPTIONS" && origin.is_some() && req_method.is_some();
        if !preflight {
            return CorsVerdict::Serve(self.allow(origin));
        }
        match (self.allow(origin), req_method) {
            (Some(allow), Some("POST" | "GET")) => CorsVerdict::Preflight(vec![
                ("access-control-allow-origin", allow),
                ("access-control-allow-methods", "POST, GET, OPTIONS".into()),
                ("access-control-allow-headers", "content-type".into()),
                ("access-control-max-age", "600".into()),
                ("vary", "Origin".into()),
            ]),
            _ => CorsVerdict::Forbidden,
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as
/// the request's `Host` header: the explorer's own page, served from this port.
pub fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    origin
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn same_origin_is_the_host_and_port_of_the_request() {
        assert!(same_origin("http://127.0.0.1:26657", Some("127.0.0.1:26657")));
        assert!(same_origin("https://Node.Example", Some("node.example")));
        assert!(!same_origin("http://127.0.0.1:26658", Some("127.0.0.1:26657")));
        assert!(!same_origin("https://evil.example", Some("127.0.0.1:26657")));
        assert!(!same_origin("null", Some("127.0.0.1:26657")));
        assert!(!same_origin("file://127.0.0.1:26657", Some("127.0.0.1:26657")));
        assert!(!same_origin("http://127.0.0.1:26657", None));
    }

    #[test]
    fn cors_preflight_and_headers() {
        let off = Cors::new(&[]);
        assert!(!off.enabled());
        assert_eq!(off.verdict("POST", Some("https://a.example"), None), CorsVerdict::Serve(None));
        assert_eq!(off.verdict("OPTIONS", Some("https://a.example"), Some("POST")), CorsVerdict::Forbidden);
        // Not a preflight (no Access-Control-Request-Method): served as usual.
        assert_eq!(off.verdict("OPTIONS", Some("https://a.example"), None), CorsVerdict::Serve(None));

        let some = Cors::new(&["https://explorer.example".into()]);
        assert_eq!(
            some.verdict("POST", Some("https://Explorer.example"), None),
            CorsVerdict::Serve(Some("https://Explorer.example".into()))
        );
        assert_eq!(some.verdict("POST", Some("https://evil.example"), None), CorsVerdict::Serve(None));
        assert_eq!(some.verdict("POST", None, None), CorsVerdict::Serve(None));
        match some.verdict("OPTIONS", Some("https://explorer.example"), Some("POST")) {
            CorsVerdict::Preflight(h) => {
                assert!(h.contains(&("access-control-allow-origin", "https://explorer.example".into())));
                assert!(h.iter().any(|(k, v)| *k == "access-control-allow-methods" && v.contains("POST")));
                assert!(h.iter().any(|(k, v)| *k == "access-control-allow-headers" && v == "content-type"));
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(some.verdict("OPTIONS", Some("https://evil.example"), Some("POST")), CorsVerdict::Forbidden);
        assert_eq!(some.verdict("OPTIONS", Some("https://explorer.example"), Some("DELETE")), CorsVerdict::Forbidden);

        let any = Cors::new(&["*".into()]);
        assert_eq!(any.verdict("POST", Some("https://x.example"), None), CorsVerdict::Serve(Some("*".into())));
        assert!(matches!(any.verdict("OPTIONS", Some("null"), Some("POST")), CorsVerdict::Preflight(_)));
    }

    #[test]
    fn origins_are_checked() {
        for ok in ["*", "https://a.example", "http://localhost:8080", "http://[::1]:80"] {
            check_origin(ok).unwrap();
        }
        for bad in ["", "a.example", "ftp://a.example", "https://", "https://a.example/", "https://a b", "https://*.x"]
        {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
