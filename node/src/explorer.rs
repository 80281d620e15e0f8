//! The block explorer: a static page compiled into the binary (`node/explorer/`)
//! and served on the RPC port at [`PATH`] by an HTTP layer in front of
//! jsonrpsee. The page talks to the node's own JSON-RPC (HTTP POST `/`) and
//! WebSocket (subscriptions on `/`). `GET /` from a browser (not a WebSocket
//! upgrade) is redirected to it.
//!
//! Strict headers: a Content-Security-Policy that only allows the page's own
//! script and style (no inline script, no eval, no third-party origin) and
//! connections to this origin; `nosniff`; no framing; strong ETags with
//! revalidation (`If-None-Match` → 304), so a browser re-downloads the files
//! only after the binary changed.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use tower::{Layer, Service};

/// Where the explorer is served.
pub const PATH: &str = "/explorer/";

/// One embedded file.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
        let digest = Sha256::digest(body);
        Asset { name, content_type, body, etag: format!("\"{}\"", hex::encode(&digest[..16])) }
    }
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the page. The script is split into ES modules (`app.js`
/// imports the others by relative path, so from this origin only): each one
/// must be listed here.
static ASSETS: LazyLock<[Asset; 10]> = LazyLock::new(|| {
    [
        Asset::new("index.html", "text/html; charset=utf-8", include_bytes!("../explorer/index.html")),
        Asset::new("style.css", "text/css; charset=utf-8", include_bytes!("../explorer/style.css")),
        Asset::new("app.js", JS, include_bytes!("../explorer/app.js")),
        Asset::new("rpc.js", JS, include_bytes!("../explorer/rpc.js")),
        Asset::new("ui.js", JS, include_bytes!("../explorer/ui.js")),
        Asset::new("blocks.js", JS, include_bytes!("../explorer/blocks.js")),
        Asset::new("accounts.js", JS, include_bytes!("../explorer/accounts.js")),
        Asset::new("validators.js", JS, include_bytes!("../explorer/validators.js")),
        Asset::new("dao.js", JS, include_bytes!("../explorer/dao.js")),
        Asset::new("decentralization.js", JS, include_bytes!("../explorer/decentralization.js")),
    ]
});

/// The asset a path names: `/explorer/` is `index.html`.
fn asset(path: &str) -> Option<&'static Asset> {
    let name = path.strip_prefix(PATH)?;
    let name = if name.is_empty() { "index.html" } else { name };
    ASSETS.iter().find(|a| a.name == name)
}

/// A `Host` header value safe to repeat in the CSP: a host name or IP
/// literal and an optional port, nothing else (the header is the client's).
fn safe_host(host: &str) -> Option<&str> {
    let ok = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(host)
}

/// The Content-Security-Policy of every explorer response. `connect-src`
/// names the WebSocket origin explicitly: `'self'` covers `ws:` only in
/// browsers that implement CSP level 3.
fn csp(host: Option<&str>) -> String {
    let ws = host.map(|h| format!(" ws://{h} wss://{h}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

fn is_websocket_upgrade<B>(req: &HttpRequest<B>) -> bool {
    req.headers().get("upgrade").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the layer answers this request (else it goes to JSON-RPC).
fn is_ours<B>(req: &HttpRequest<B>) -> bool {
    let path = req.uri().path();
    if path == "/" {
        // JSON-RPC is POST; WebSocket is a GET with `Upgrade`.
        return matches!(req.method().as_str(), "GET" | "HEAD") && !is_websocket_upgrade(req);
    }
    path == "/explorer" || path.starts_with(PATH)
}

fn respond<B>(req: &HttpRequest<B>) -> Result<HttpResponse, BoxError> {
    let host = req.headers().get("host").and_then(|v| v.to_str().ok()).and_then(safe_host);
    let base = |status: u16| {
        HttpResponse::builder()
            .status(status)
            .header("content-security-policy", csp(host))
            .header("x-content-type-options", "nosniff")
            .header("x-frame-options", "DENY")
            .header("referrer-policy", "no-referrer")
            .header("cross-origin-opener-policy", "same-origin")
            .header("cross-origin-resource-policy", "same-origin")
    };
    let text = |status: u16, msg: &str| {
        base(status)
            .header("content-type", "text/plain; charset=utf-8")
            .header("cache-control", "no-store")
            .body(HttpBody::from(msg.to_owned()))
    };
    let method = req.method().as_str();
    let head = method == "HEAD";
    let path = req.uri().path();
    let resp = if method != "GET" && !head {
        base(405)
            .header("allow", "GET, HEAD")
            .header("content-type", "text/plain; charset=utf-8")
            .body(HttpBody::from("the explorer serves GET and HEAD only\n".to_owned()))
    } else if path == "/" || path == "/explorer" {
        base(302).header("location", PATH).header("cache-control", "no-store").body(HttpBody::from(String::new()))
    } else if let Some(a) = asset(path) {
        let fresh = req
            .headers()
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag || t.trim() == "*"));
        let b = base(if fresh { 304 } else { 200 })
            .header("etag", a.etag.as_str())
            .header("cache-control", "no-cache")
            .header("content-type", a.content_type);
        if fresh || head {
            b.header("content-length", a.body.len()).body(HttpBody::from(String::new()))
        } else {
            b.body(HttpBody::from(a.body.to_vec()))
        }
    } else {
        text(404, "not found\n")
    };
    resp.map_err(|e| -> BoxError { Box::new(e) })
}

/// Serves the explorer in front of the JSON-RPC service.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplorerLayer;

impl<S> Layer<S> for ExplorerLayer {
    type Service = ExplorerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ExplorerService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct ExplorerService<S> {
    inner: S,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

impl<S, B> Service<HttpRequest<B>> for ExplorerService<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: HttpRequest<B>) -> Self::Future {
        if !is_ours(&req) {
            let fut = self.inner.call(req);
            return Box::pin(async move { fut.await.map_err(Into::into) });
        }
        let resp = respond(&req);
        Box::pin(async move { resp })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    /// A server with the explorer layer and one RPC method.
    async fn server() -> (jsonrpsee::server::ServerHandle, std::net::SocketAddr) {
        let server = jsonrpsee::server::Server::builder()
            .set_http_middleware(tower::ServiceBuilder::new().layer(ExplorerLayer))
            .build("127.0.0.1:0")
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let mut m = jsonrpsee::server::RpcModule::new(());
        m.register_method("ping", |_, _, _| "pong").unwrap();
        (server.start(m), addr)
    }

    /// Sends `req` (the request line and headers, without the blank line) and
    /// returns (status, lower-cased headers, body).
    fn http(addr: std::net::SocketAddr, req: &str, body: &str) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        write!(s, "{req}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&out[..split]).to_lowercase();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head, out[split + 4..].to_vec())
    }

    fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn serves_the_page_with_strict_headers_and_leaves_json_rpc_alone() {
        let (handle, addr) = server().await;
        let res = tokio::task::spawn_blocking(move || {
            // The page and its files, each with its type, CSP, nosniff and ETag.
            for (path, ty, needle) in [
                ("/explorer/", "text/html", "<script type=\"module\" src=\"app.js\"></script>"),
                ("/explorer/index.html", "text/html", "<main id=\"main\""),
                ("/explorer/style.css", "text/css", "body"),
                ("/explorer/app.js", "text/javascript", "agora_subscribeNewBlocks"),
                ("/explorer/rpc.js", "text/javascript", "export async function batch("),
                ("/explorer/ui.js", "text/javascript", "export function h("),
                ("/explorer/blocks.js", "text/javascript", "export async function homePage("),
                ("/explorer/accounts.js", "text/javascript", "export async function accountPage("),
                ("/explorer/validators.js", "text/javascript", "export async function validatorsPage("),
                ("/explorer/dao.js", "text/javascript", "export async function verifyDao("),
                ("/explorer/decentralization.js", "text/javascript", "export async function decentralizationPage("),
            ] {
                let (status, head, body) = http(addr, &format!("GET {path} HTTP/1.1"), "");
                assert_eq!(status, 200, "{path}: {head}");
                assert!(header(&head, "content-type").unwrap().starts_with(ty), "{path}: {head}");
                assert!(String::from_utf8_lossy(&body).contains(needle), "{path}");
                assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
                let csp = header(&head, "content-security-policy").unwrap();
                assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe"), "{csp}");
                assert!(csp.contains(&format!("connect-src 'self' ws://{addr} wss://{addr};")), "{csp}");
                // Revalidation: the same ETag gives 304 without a body; another gives 200.
                let etag = header(&head, "etag").unwrap().to_owned();
                let (status, _, body) = http(addr, &format!("GET {path} HTTP/1.1\r\nIf-None-Match: {etag}"), "");
                assert_eq!((status, body.len()), (304, 0), "{path}");
                let (status, _, _) = http(addr, &format!("GET {path} HTTP/1.1\r\nIf-None-Match: \"other\""), "");
                assert_eq!(status, 200, "{path}");
                let (status, _, body) = http(addr, &format!("HEAD {path} HTTP/1.1"), "");
                assert_eq!((status, body.len()), (200, 0), "{path}");
            }
            // Unknown files, other methods, redirects.
            assert_eq!(http(addr, "GET /explorer/secret.txt HTTP/1.1", "").0, 404);
            assert_eq!(http(addr, "GET /explorer/../Cargo.toml HTTP/1.1", "").0, 404);
            let (status, head, _) = http(addr, "POST /explorer/ HTTP/1.1", "{}");
            assert_eq!((status, header(&head, "allow")), (405, Some("get, head")));
            for path in ["/", "/explorer"] {
                let (status, head, _) = http(addr, &format!("GET {path} HTTP/1.1"), "");
                assert_eq!((status, header(&head, "location")), (302, Some("/explorer/")), "{path}");
            }
            // A hostile Host header is not repeated in the policy.
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET /explorer/ HTTP/1.1\r\nHost: x; script-src *\r\nConnection: close\r\n\r\n").unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            assert!(out.contains("connect-src 'self'; "), "{out}");
            assert!(!out.contains("script-src *"), "{out}");
            // JSON-RPC on POST / still works.
            let (status, _, body) = http(
                addr,
                "POST / HTTP/1.1\r\nContent-Type: application/json",
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            );
            assert_eq!(status, 200);
            assert!(String::from_utf8_lossy(&body).contains("pong"));
        })
        .await;
        handle.stop().unwrap();
        res.unwrap();
    }

    /// Every file in `node/explorer/` is in the asset table, and every module
    /// a script imports is a served `.js` file named by a same-directory
    /// relative path (the CSP allows this origin only).
    #[test]
    fn every_file_and_imported_module_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("explorer");
        let mut files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
        served.sort();
        assert_eq!(files, served);
        let mut imported = std::collections::BTreeSet::new();
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            assert!(a.content_type.starts_with("text/javascript"), "{}", a.name);
            let text = std::str::from_utf8(a.body).unwrap();
            assert!(!text.contains(".innerHTML") && !text.contains("insertAdjacentHTML"), "{}", a.name);
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let spec = line.split(" from '").nth(1).and_then(|r| r.strip_suffix("';")).unwrap_or(line);
                let name = spec.strip_prefix("./").unwrap_or_else(|| panic!("{}: {line}", a.name));
                assert!(!name.contains('/') && name.ends_with(".js"), "{}: {line}", a.name);
                assert!(asset(&format!("{PATH}{name}")).is_some(), "{} imports {name}, which is not served", a.name);
                imported.insert(name.to_owned());
            }
        }
        // Every module but the entry point is imported by some module.
        let modules: std::collections::BTreeSet<String> =
            ASSETS.iter().map(|a| a.name).filter(|n| n.ends_with(".js") && *n != "app.js").map(str::to_owned).collect();
        assert_eq!(imported, modules);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn websocket_upgrades_on_root_still_reach_json_rpc() {
        use jsonrpsee::core::client::ClientT;
        let (handle, addr) = server().await;
        let client = jsonrpsee::ws_client::WsClientBuilder::default().build(format!("ws://{addr}/")).await.unwrap();
        let pong: String = client.request("ping", jsonrpsee::rpc_params![]).await.unwrap();
        assert_eq!(pong, "pong");
        handle.stop().unwrap();
    }
}
