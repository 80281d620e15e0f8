//! The block explorer in a real browser: a 4-validator testnet of real
//! `agorad` processes (skewed stakes, short index epochs) with transfers, a
//! contract whose label is an XSS attempt, the testnet's DAO with a proposal
//! whose title is another, a fake DAO (a contract that announces itself as a
//! DAO named like the real one and points at the real DAO's modules, which
//! the explorer must show as an unverified contract, never as a DAO), driven through Debian's headless `chromium` over the
//! Chrome DevTools Protocol. Each page is loaded and what it shows is compared
//! with the node's JSON-RPC answers; the home page must receive new blocks and
//! transactions live (no reload); the search box finds heights, hashes and
//! addresses and says "not found" otherwise; hostile strings are shown as text
//! and never run; no page throws or violates its Content-Security-Policy.
//! Screenshots go to `$CARGO_TARGET_DIR/explorer-screenshots/`.
//!
//! Chromium is required: without it the test fails and says to run
//! `scripts/setup.sh` (through `scripts/env.sh`), which installs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "explorer_browser/fake_dao.rs"]
mod fake_dao;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use fake_dao::{FAKE_DAO_NAME, fake_dao_wasm};
use ledger::{Address, Amount, Hash, Payload, PublicKey, SigningKey};
use serde_json::{Value, json};
use testnet::{OwnedTestnet, Spec, Testnet};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

const CHAIN: &str = "explorer-e2e";
/// An XSS attempt in a contract label (shown on the contract page and in the
/// `instantiate` event's attributes).
const XSS_LABEL: &str = "<img src=x onerror=\"window.__xss=1\">";
/// An XSS attempt in a DAO proposal title.
const XSS_TITLE: &str = "<script>window.__xss=2</script><img src=x onerror=\"window.__xss=3\"> Fund <b>docs</b>";
/// The whole test must finish within this (it usually takes about a minute).
const BUDGET: Duration = Duration::from_secs(420);

// ------------------------------------------------------------ chain side --

fn rpc(net: &Testnet, method: &str, args: Vec<Value>) -> Value {
    testnet::rpc::call_blocking(&net.rpc_url(0), method, args, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{method}: {e:#}"))
}

fn rpc_code(net: &Testnet, method: &str, args: Vec<Value>) -> Result<Value, String> {
    testnet::rpc::call_blocking(&net.rpc_url(0), method, args, Duration::from_secs(20)).map_err(|e| format!("{e:#}"))
}

fn addr(k: &SigningKey) -> Address {
    PublicKey::from_signing_key(k).address()
}

/// Signs `payload` with `key`'s next nonce and waits for the commit; panics unless it succeeded.
fn send(net: &Testnet, key: &SigningKey, payload: Payload, funds_note: &str) -> Value {
    let acct = rpc(net, "agora_getAccount", vec![json!(addr(key).to_string())]);
    let nonce = acct["pending_nonce"].as_u64().or(acct["nonce"].as_u64()).unwrap();
    let gas = ledger::ChainParams::default().max_tx_gas;
    let tx = common::net::signed_hex(CHAIN, key, nonce, payload, gas);
    let out = rpc(net, "agora_sendTxCommit", vec![json!(tx), json!(60_000)]);
    assert_eq!(out["receipt"]["status"], "success", "{funds_note}: {out}");
    out
}

fn execute(net: &Testnet, key: &SigningKey, contract: &str, msg: Value, funds: u128) -> Value {
    let payload = Payload::Execute {
        contract: contract.parse().unwrap(),
        msg: msg.to_string().into_bytes(),
        funds: Amount::new(funds),
    };
    send(net, key, payload, &format!("execute {msg}"))
}

fn query(net: &Testnet, contract: &str, msg: Value) -> Value {
    rpc(net, "agora_contractQuery", vec![json!({ "address": contract, "msg": msg })])["data"].clone()
}

// ---------------------------------------------------------- browser side --

/// `chromium` (or `$AGORA_CHROMIUM`); fails with the set-up instruction if absent.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("AGORA_CHROMIUM") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("chromium")).find(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed: the explorer's browser test needs Debian's `chromium` package. \
             Run scripts/setup.sh (`source scripts/env.sh` runs it, as scripts/test.sh does first), \
             or `apt-get install -y chromium`"
        )
    })
}

/// The browser process; killed (with its profile directory removed) on drop,
/// also when the test panics.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// Processes whose command line contains `marker` (chromium's helpers carry
/// the profile directory in theirs).
fn processes_with(marker: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(marker)
        {
            out.push(pid);
        }
    }
    out
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|st| st.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

impl Browser {
    /// A string only this browser's processes have on their command line.
    fn marker(&self) -> String {
        self._profile.path().display().to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The helpers (zygote, renderer, GPU) exit with the browser; give them
        // a moment, then end those still there (they are ours: same profile).
        let marker = self.marker();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<u32> = processes_with(&marker).into_iter().filter(|p| alive(*p)).collect();
            if left.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                for pid in left {
                    let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Browser {
    /// Starts headless chromium and returns it with its DevTools WebSocket URL.
    fn launch() -> (Browser, String) {
        let exe = chromium();
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--mute-audio",
                "--window-size=1280,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; run scripts/setup.sh", exe.display()));
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let keep = lines.clone();
        // Reads the DevTools URL, then keeps draining stderr (a full pipe would block chromium).
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                let mut k = keep.lock().unwrap();
                if k.len() < 200 {
                    k.push(line);
                }
            }
        });
        let browser = Browser { child, _profile: profile, stderr: lines };
        let url = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            panic!(
                "chromium printed no DevTools URL within 60 s; stderr:\n{}",
                browser.stderr.lock().unwrap().join("\n")
            )
        });
        (browser, url)
    }
}

type Ws = Compat<TcpStream>;

/// A Chrome DevTools Protocol session on one page (flat session mode).
struct Cdp {
    tx: soketto::Sender<Ws>,
    rx: soketto::Receiver<Ws>,
    id: u64,
    session: Option<String>,
    /// Exceptions, console errors and CSP violations reported by the page.
    problems: Vec<String>,
    shots: PathBuf,
}

impl Cdp {
    async fn connect(ws_url: &str, shots: PathBuf) -> Cdp {
        let rest = ws_url.strip_prefix("ws://").expect("ws:// DevTools URL");
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let stream = TcpStream::connect(host).await.unwrap();
        let mut client = soketto::handshake::Client::new(stream.compat(), host, path);
        match client.handshake().await.unwrap() {
            soketto::handshake::ServerResponse::Accepted { .. } => {}
            other => panic!("DevTools refused the WebSocket: {other:?}"),
        }
        let mut b = client.into_builder();
        b.set_max_message_size(64 << 20);
        b.set_max_frame_size(64 << 20);
        let (tx, rx) = b.finish();
        let mut cdp = Cdp { tx, rx, id: 0, session: None, problems: Vec::new(), shots };
        let target = cdp.call("Target.createTarget", json!({ "url": "about:blank" })).await;
        let session =
            cdp.call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true })).await;
        cdp.session = Some(session["sessionId"].as_str().unwrap().to_owned());
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            cdp.call(domain, json!({})).await;
        }
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
        cdp
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = self.id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.tx.send_text(msg.to_string()).await.unwrap();
        self.tx.flush().await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let mut buf = Vec::new();
            tokio::time::timeout_at(deadline, self.rx.receive_data(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("DevTools did not answer {method} within 30 s"))
                .unwrap_or_else(|e| panic!("DevTools connection lost during {method}: {e}"));
            let v: Value = serde_json::from_slice(&buf).unwrap();
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
            self.note_event(&v);
        }
    }

    fn note_event(&mut self, v: &Value) {
        let p = &v["params"];
        match v["method"].as_str() {
            Some("Runtime.exceptionThrown") => self.problems.push(format!("exception: {}", p["exceptionDetails"])),
            Some("Runtime.consoleAPICalled") if p["type"] == "error" => {
                self.problems.push(format!("console.error: {}", p["args"]))
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                self.problems.push(format!("log: {}", p["entry"]["text"]))
            }
            _ => {}
        }
    }

    /// Evaluates `expr` in the page and returns its (JSON) value.
    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call("Runtime.evaluate", json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }))
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("evaluating {expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is neither null nor false; returns its value.
    async fn wait(&mut self, what: &str, expr: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let v = self.eval(expr).await;
            if !v.is_null() && v != json!(false) {
                return v;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body.innerText.slice(0, 2000)").await;
                panic!("timed out waiting for {what}; the page shows:\n{}", body.as_str().unwrap_or(""));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the explorer finished rendering page `page`; returns its
    /// state (`done`, `not-found` or `error`).
    async fn rendered(&mut self, page: &str) -> String {
        let expr = format!(
            "(() => {{ const m = document.getElementById('main'); \
             return m && m.dataset.page === {page} && ['done', 'not-found', 'error'].includes(m.dataset.ready) ? m.dataset.ready : null }})()",
            page = json!(page)
        );
        self.wait(&format!("page {page}"), &expr, Duration::from_secs(30)).await.as_str().unwrap().to_owned()
    }

    /// Goes to `#/…` (in the loaded page, as a click on a link does) and
    /// waits for it; returns its state.
    async fn goto(&mut self, hash: &str, page: &str) -> String {
        self.eval(&format!(
            "document.getElementById('main').dataset.ready = 'stale'; location.hash = {}; true",
            json!(hash)
        ))
        .await;
        self.rendered(page).await
    }

    /// [`Cdp::goto`] a page that must render.
    async fn open(&mut self, hash: &str, page: &str) {
        let state = self.goto(hash, page).await;
        assert_eq!(state, "done", "{hash}: {}", self.text_of("main").await);
    }

    /// The text of the first element matching `selector` (null if none).
    async fn text_of(&mut self, selector: &str) -> String {
        let v = self.eval(&format!("document.querySelector({})?.textContent ?? null", json!(selector))).await;
        v.as_str().map(str::to_owned).unwrap_or_else(|| panic!("no element {selector}"))
    }

    async fn field(&mut self, name: &str) -> String {
        self.text_of(&format!("[data-field=\"{name}\"]")).await
    }

    /// Types `q` into the search box and submits it, as a user does.
    async fn search(&mut self, q: &str, page: &str) -> String {
        self.eval(&format!(
            "document.getElementById('main').dataset.ready = 'stale'; \
             document.getElementById('q').value = {}; document.getElementById('search').requestSubmit(); true",
            json!(q)
        ))
        .await;
        self.rendered(page).await
    }

    /// A screenshot of the whole page (up to 3000 px high) to `name`.png.
    async fn screenshot(&mut self, name: &str) -> PathBuf {
        // Let the fade-in of fresh rows end and fonts settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let height =
            self.eval("document.documentElement.scrollHeight").await.as_f64().unwrap_or(900.0).clamp(600.0, 3000.0);
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": 1280, "height": height, "scale": 1 } }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// What the home page must show as the Nakamoto coefficient: the fewest
/// validators (largest first) holding at least 1/3 of the power.
fn nakamoto_third(vals: &Value) -> usize {
    let total = vals["total_power"].as_u64().unwrap();
    let mut powers: Vec<u64> =
        vals["validators"].as_array().unwrap().iter().map(|v| v["power"].as_u64().unwrap()).collect();
    powers.sort_unstable_by(|a, b| b.cmp(a));
    let mut cum = 0;
    powers
        .iter()
        .take_while(|p| {
            let take = cum * 3 < total;
            cum += **p;
            take
        })
        .count()
}

// ------------------------------------------------------------------ test --

struct Chain {
    net: OwnedTestnet,
    transfers: Vec<(String, u64)>,
    recipient: Address,
    contract: String,
    instantiate_tx: String,
    proposals: String,
    /// The fake DAO contract and its code hash.
    fake_dao: String,
    fake_dao_code: Hash,
    /// The last transaction before the browser starts (a DAO vote).
    last_tx: String,
}

fn build_chain(dir: &std::path::Path) -> Chain {
    let mut spec = Spec::new(dir.join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.dev_accounts = 0;
    spec.load_accounts = 8;
    spec.chain_id = CHAIN.into();
    spec.block_interval = Duration::from_millis(300);
    spec.stakes = vec![40, 30, 20, 10];
    spec.staking.epoch_blocks = Some(10);
    let mut net = Testnet::create(&spec).expect("create testnet").owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().expect("start testnet");
    net.wait_for_height(0, 2, Duration::from_secs(60)).unwrap();
    let keys = net.load_keys();
    let recipient = addr(&keys[1]);

    // Transfers.
    let mut transfers = Vec::new();
    for amount in [1_000u128, 2_345, 67_890] {
        let out = send(&net, &keys[0], Payload::Transfer { to: recipient, amount: Amount::new(amount) }, "transfer");
        transfers.push((out["hash"].as_str().unwrap().to_owned(), out["height"].as_u64().unwrap()));
    }

    // A contract whose label is an XSS attempt.
    let code = contract_artifacts::COUNTER.to_vec();
    let code_hash = Hash::digest(&code);
    send(&net, &keys[2], Payload::StoreCode { code }, "store counter");
    let out = send(
        &net,
        &keys[2],
        Payload::Instantiate {
            code_hash,
            label: XSS_LABEL.into(),
            msg: br#"{"count": 7}"#.to_vec(),
            funds: Amount::ZERO,
        },
        "instantiate counter",
    );
    let instantiate_tx = out["hash"].as_str().unwrap().to_owned();
    let data = hex::decode(out["receipt"]["data"].as_str().unwrap()).unwrap();
    let contract =
        Address(<[u8; 20]>::try_from(data.as_slice()).expect("instantiate returns the contract address")).to_string();

    // The testnet's DAO, a proposal whose title is an XSS attempt, and a vote.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deployed = rt.block_on(testnet::dao::deploy(&net.rpc_url(0), CHAIN, net.dir(), None)).expect("deploy the DAO");
    assert!(deployed.governs_chain);
    let dao = deployed.dao.to_string();
    let modules = query(&net, &dao, json!({ "proposal_modules": {} }));
    let proposals = modules["proposal_modules"][0].as_str().unwrap().to_owned();
    let vals = rpc(&net, "agora_validators", vec![]);
    let validator: Address = vals["validators"][0]["operator"].as_str().unwrap().parse().unwrap();
    send(&net, &keys[3], Payload::Delegate { validator, amount: Amount::new(100_000_000_000) }, "delegate");
    // The proposal's snapshot is the block before it: the delegation must be in an earlier block.
    let h = rpc(&net, "agora_status", vec![])["latest_height"].as_u64().unwrap();
    net.wait_for_height(0, h + 2, Duration::from_secs(30)).unwrap();
    execute(
        &net,
        &keys[3],
        &proposals,
        json!({ "propose": { "title": XSS_TITLE, "description": "Pays for the documentation sprint.", "msgs": [] } }),
        1000,
    );

    // The fake DAO, pointing at the real DAO's modules.
    let voting = query(&net, &dao, json!({ "config": {} }))["voting_module"].as_str().unwrap().to_owned();
    let code = fake_dao_wasm(&voting, &proposals);
    let fake_dao_code = Hash::digest(&code);
    send(&net, &keys[5], Payload::StoreCode { code }, "store the fake DAO");
    let out = send(
        &net,
        &keys[5],
        Payload::Instantiate {
            code_hash: fake_dao_code,
            label: "dao".into(),
            msg: b"{}".to_vec(),
            funds: Amount::ZERO,
        },
        "instantiate the fake DAO",
    );
    let data = hex::decode(out["receipt"]["data"].as_str().unwrap()).unwrap();
    let fake_dao = Address(<[u8; 20]>::try_from(data.as_slice()).expect("the fake DAO's address")).to_string();
    assert_eq!(query(&net, &fake_dao, json!({ "config": {} }))["name"], FAKE_DAO_NAME, "the fake answers like a DAO");

    let vote = execute(&net, &keys[3], &proposals, json!({ "vote": { "proposal_id": 1, "option": "yes" } }), 0);
    let last_tx = vote["hash"].as_str().unwrap().to_owned();
    Chain { net, transfers, recipient, contract, instantiate_tx, proposals, fake_dao, fake_dao_code, last_tx }
}

#[test]
fn explorer_pages_show_the_chain_live_in_a_real_browser() {
    let exe = chromium(); // fails first, with the set-up instruction, if chromium is missing
    assert!(exe.exists(), "{} does not exist: run scripts/setup.sh", exe.display());
    let started = Instant::now();
    let shots = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from)
        .join("explorer-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let chain = build_chain(dir.path());
    let net = &chain.net;
    let base = format!("{}/explorer/", net.rpc_url(0));
    let (browser, ws) = Browser::launch();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let saved = rt.block_on(async {
        let mut b = Cdp::connect(&ws, shots.clone()).await;
        let mut saved = Vec::new();

        // --- Home: the latest blocks and transactions, live. ---------------
        b.call("Page.navigate", json!({ "url": base })).await;
        assert_eq!(b.rendered("home").await, "done");
        let st = rpc(net, "agora_status", vec![]);
        assert_eq!(b.field("chain-id").await, st["chain_id"].as_str().unwrap());
        let shown: u64 = b.eval("Number(document.querySelector('[data-field=height]').dataset.height)").await.as_u64().unwrap();
        assert!(shown + 3 >= st["latest_height"].as_u64().unwrap() && shown <= st["latest_height"].as_u64().unwrap() + 3);
        // Each listed block's hash is the node's.
        let rows = b.eval("[...document.querySelectorAll('#live-blocks tr')].slice(0, 5).map(r => [Number(r.dataset.height), r.querySelector('a.mono').title])").await;
        assert_eq!(rows.as_array().unwrap().len(), 5, "{rows}");
        for r in rows.as_array().unwrap() {
            let blk = rpc(net, "agora_getBlock", vec![r[0].clone(), json!(false)]);
            assert_eq!(r[1], blk["hash"], "block {}", r[0]);
        }
        // The latest transactions: the last one sent is there, and each
        // listed one is in the block the node says.
        let last = &chain.last_tx;
        b.wait("the last transaction on the home page", &format!("document.querySelector('#live-txs tr[data-tx=\"{last}\"]') !== null"), Duration::from_secs(5)).await;
        let rows = b.eval("[...document.querySelectorAll('#live-txs tr')].slice(0, 8).map(r => [r.dataset.tx, Number(r.querySelector('td:nth-child(2)').textContent.replace(/,/g, ''))])").await;
        assert!(!rows.as_array().unwrap().is_empty());
        for r in rows.as_array().unwrap() {
            let tx = rpc(net, "agora_getTx", vec![r[0].clone()]);
            assert_eq!(tx["height"], r[1], "transaction {}", r[0]);
        }
        // Live: new blocks and a new transaction arrive without a reload.
        b.eval("window.__sameDocument = 42; true").await;
        let top = b.eval("Number(document.querySelector('#live-blocks tr').dataset.height)").await.as_u64().unwrap();
        b.wait(
            "a new block on the home page",
            &format!("Number(document.querySelector('#live-blocks tr').dataset.height) >= {} && document.querySelectorAll('#live-blocks tr').length <= 15", top + 2),
            Duration::from_secs(20),
        )
        .await;
        let keys = net.load_keys();
        let live_tx = send(net, &keys[4], Payload::Transfer { to: chain.recipient, amount: Amount::new(4_242) }, "live transfer");
        let live_hash = live_tx["hash"].as_str().unwrap();
        b.wait("the new transaction on the home page", &format!("document.querySelector('#live-txs tr[data-tx=\"{live_hash}\"]') !== null"), Duration::from_secs(20)).await;
        assert_eq!(b.eval("window.__sameDocument").await, json!(42), "the page was reloaded");
        assert_eq!(b.text_of("#live").await, "live");
        saved.push(b.screenshot("home").await);

        // --- Block page. -------------------------------------------------------
        let (hash, height) = &chain.transfers[0];
        b.open(&format!("#/block/{height}"), "block").await;
        let blk = rpc(net, "agora_getBlock", vec![json!(height)]);
        assert_eq!(b.field("height").await, height.to_string());
        assert_eq!(b.field("hash").await, blk["hash"].as_str().unwrap());
        assert_eq!(b.field("state-root").await, blk["header"]["state_root"].as_str().unwrap());
        assert_eq!(b.field("num-txs").await, blk["num_txs"].to_string());
        assert!(b.eval(&format!("document.querySelector('tr[data-tx=\"{hash}\"]') !== null")).await == json!(true));
        saved.push(b.screenshot("block").await);

        // --- Transaction page. -------------------------------------------------
        b.open(&format!("#/tx/{hash}"), "tx").await;
        let tx = rpc(net, "agora_getTx", vec![json!(hash)]);
        assert_eq!(b.field("hash").await, *hash);
        assert!(b.field("status").await.starts_with("success"));
        assert!(b.field("height").await.starts_with(&height.to_string()));
        assert_eq!(b.field("sender").await, tx["receipt"]["sender"].as_str().unwrap());
        assert_eq!(digits(&b.field("fee").await), tx["receipt"]["fee"].as_str().unwrap());
        assert_eq!(b.field("payload-to").await, chain.recipient.to_string());
        assert_eq!(digits(&b.field("payload-amount").await), "1000");
        let kinds = b.eval("[...document.querySelectorAll('[data-field=event-kind]')].map(e => e.textContent)").await;
        let want: Vec<Value> = tx["receipt"]["events"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
        assert_eq!(kinds, json!(want));
        saved.push(b.screenshot("tx").await);

        // --- Account page (balance, nonce, staking, history). ------------------
        let who = addr(&keys[3]).to_string();
        b.open(&format!("#/account/{who}"), "account").await;
        let acct = rpc(net, "agora_getAccount", vec![json!(who)]);
        assert_eq!(b.field("address").await, who);
        assert_eq!(digits(&b.field("balance").await), acct["balance"].as_str().unwrap());
        assert_eq!(b.field("nonce").await, acct["nonce"].to_string());
        let dels = rpc(net, "agora_delegations", vec![json!(who)]);
        assert_eq!(digits(&b.field("delegated").await), dels["total_delegated"].as_str().unwrap());
        // The history, as the page asks for it (named parameters): its first
        // transaction, type, roles and status, as the RPC answers them.
        let history = rpc(net, "agora_txsByAddress", vec![json!(who)]);
        let first = &history["txs"][0];
        let first_hash = first["hash"].as_str().expect("the account has history");
        b.wait("the account history", "document.querySelectorAll('table.history tr').length > 1", Duration::from_secs(5)).await;
        let row = b.eval("document.querySelectorAll('table.history tr')[1].textContent").await;
        let row = row.as_str().unwrap_or_default().to_owned();
        assert!(row.contains(&first_hash[..10]), "first history row {row:?} shows {first_hash}");
        assert!(row.contains(first["type"].as_str().unwrap()), "{row:?}: type of {first}");
        assert!(row.contains(if first["success"] == true { "ok" } else { "failed" }), "{row:?}: status of {first}");
        for r in first["roles"].as_array().unwrap() {
            assert!(row.contains(r.as_str().unwrap()), "{row:?}: role {r}");
        }
        saved.push(b.screenshot("account").await);

        // --- Contract page: a hostile label is text. ---------------------------
        b.open(&format!("#/contract/{}", chain.contract), "contract").await;
        let info = rpc(net, "agora_contractInfo", vec![json!(chain.contract)]);
        assert_eq!(b.field("label").await, XSS_LABEL);
        assert_eq!(info["label"], XSS_LABEL);
        assert_eq!(b.field("code-hash").await, info["code_hash"].as_str().unwrap());
        assert_eq!(b.field("creator").await, info["creator"].as_str().unwrap());
        assert_eq!(b.eval("document.querySelectorAll('main img, main script').length").await, json!(0));
        saved.push(b.screenshot("contract").await);
        // ... and in the instantiate event's attributes.
        b.open(&format!("#/tx/{}", chain.instantiate_tx), "tx").await;
        let attrs = b.eval("[...document.querySelectorAll('.attr .v')].map(e => e.textContent)").await;
        assert!(attrs.as_array().unwrap().contains(&json!(XSS_LABEL)), "{attrs}");
        assert_eq!(b.eval("document.querySelectorAll('main img, main script').length").await, json!(0));
        saved.push(b.screenshot("tx-contract-event").await);

        // --- Validators, with voting-power shares. -----------------------------
        b.open("#/validators", "validators").await;
        let vals = rpc(net, "agora_validators", vec![]);
        let list = vals["validators"].as_array().unwrap();
        assert_eq!(b.eval("document.querySelectorAll('tr.validator').length").await, json!(list.len()));
        for v in list {
            let op = v["operator"].as_str().unwrap();
            let power = b.text_of(&format!("tr[data-operator=\"{op}\"] [data-field=power]")).await;
            assert_eq!(digits(&power), v["power"].to_string(), "{op}");
            let share = b.text_of(&format!("tr[data-operator=\"{op}\"] [data-field=share]")).await;
            let want = v["power"].as_f64().unwrap() / vals["total_power"].as_f64().unwrap() * 100.0;
            assert_eq!(share, format!("{want:.2} %"), "{op}");
        }
        let n = nakamoto_third(&vals);
        assert!(b.field("nakamoto").await.starts_with(&format!("{n} validator")));
        assert_eq!(b.eval("document.querySelectorAll('tr.halting').length").await, json!(n));
        saved.push(b.screenshot("validators").await);
        let first = list.iter().max_by_key(|v| v["power"].as_u64().unwrap()).unwrap();
        let op = first["operator"].as_str().unwrap();
        b.open(&format!("#/validator/{op}"), "validator").await;
        assert_eq!(b.field("moniker").await, first["metadata"]["moniker"].as_str().unwrap());
        assert_eq!(b.field("consensus-key").await, first["consensus_key"].as_str().unwrap());
        assert_eq!(digits(b.field("power").await.split('(').next().unwrap()), first["power"].to_string());
        saved.push(b.screenshot("validator").await);

        // --- DAO proposals with tallies. --------------------------------------
        b.open("#/dao", "dao").await;
        let p = query(net, &chain.proposals, json!({ "proposal": { "proposal_id": 1 } }));
        b.wait("the proposal", "document.querySelector('[data-proposal=\"1\"]') !== null", Duration::from_secs(5)).await;
        assert_eq!(b.text_of("[data-proposal=\"1\"] [data-field=proposal-title]").await, XSS_TITLE);
        let yes = b.text_of("[data-proposal=\"1\"] [data-option=yes]").await;
        let want_yes = p["tally"]["yes"].as_str().unwrap();
        assert!(want_yes != "0" && digits(yes.split('(').next().unwrap()) == want_yes, "{yes} vs {p}");
        assert_eq!(b.field("dao-name").await, "Agora DAO");
        // Only the real DAO is verified; the fake is listed as an unverified
        // contract with its code hash, its claims quoted, and no proposals.
        let fake = &chain.fake_dao;
        let gov = rpc(net, "agora_chainParams", vec![])["params"]["governance"].as_str().unwrap().to_owned();
        b.wait("the fake DAO", &format!("document.querySelector('[data-dao=\"{fake}\"]') !== null"), Duration::from_secs(5)).await;
        assert_eq!(b.eval("[...document.querySelectorAll('[data-verified=true]')].map(e => e.dataset.dao)").await, json!([gov]));
        assert_eq!(b.eval(&format!("document.querySelector('[data-dao=\"{fake}\"]').dataset.verified")).await, json!("false"));
        let in_fake = |sel: &str| format!("document.querySelector('[data-dao=\"{fake}\"] {sel}')");
        assert_eq!(b.eval(&format!("{} === null", in_fake("[data-field=dao-name]"))).await, json!(true), "no DAO name");
        assert_eq!(b.eval(&format!("{} === null", in_fake("[data-proposal]"))).await, json!(true), "no proposals");
        assert_eq!(b.eval(&format!("{}.textContent", in_fake("[data-field=dao-code-hash]"))).await, json!(chain.fake_dao_code.to_string()));
        assert_eq!(b.eval(&format!("{}.textContent", in_fake("[data-field=dao-claim]"))).await, json!(FAKE_DAO_NAME));
        assert!(b.eval(&format!("{}.textContent", in_fake(".badge"))).await.as_str().unwrap().contains("unverified"));
        let real_hash = rpc(net, "agora_contractInfo", vec![json!(gov)])["code_hash"].clone();
        assert_eq!(b.eval(&format!("document.querySelector('[data-dao=\"{gov}\"] [data-field=dao-code-hash]').textContent")).await, real_hash);
        assert_eq!(b.eval("document.querySelectorAll('main img, main script, main b').length").await, json!(0));
        saved.push(b.screenshot("dao").await);
        // The fake's own contract page does not call it a DAO; the real one's does.
        b.open(&format!("#/contract/{fake}"), "contract").await;
        assert_eq!(b.eval("document.querySelector('[data-field=dao-notice]') === null").await, json!(true));
        b.open(&format!("#/contract/{gov}"), "contract").await;
        assert_eq!(b.eval("document.querySelector('[data-field=dao-notice]') !== null").await, json!(true));

        // --- Decentralization charts. -----------------------------------------
        let deadline = Instant::now() + Duration::from_secs(60);
        let idx = loop {
            if let Ok(v) = rpc_code(net, "agora_decentralization", vec![]) {
                break v;
            }
            assert!(Instant::now() < deadline, "no decentralization epoch ended");
            std::thread::sleep(Duration::from_millis(300));
        };
        b.open("#/decentralization", "decentralization").await;
        b.wait("the Lorenz curve", "document.querySelector('svg[data-chart=lorenz] path.lorenz')?.getAttribute('d')?.length > 10", Duration::from_secs(10)).await;
        b.wait("the Nakamoto chart", "document.querySelectorAll('svg[data-chart=nakamoto] circle').length > 0", Duration::from_secs(10)).await;
        let shown_epoch: u64 = digits(&b.field("epoch").await).parse().unwrap();
        assert!(shown_epoch >= idx["epoch"].as_u64().unwrap());
        let idx = rpc(net, "agora_decentralization", vec![json!({ "epoch": shown_epoch })]);
        let headline = idx["headline"].as_array().unwrap().iter().find(|x| x["threshold"] == "bft_halt").unwrap();
        assert_eq!(b.field("nakamoto").await, headline["value"].to_string());
        saved.push(b.screenshot("decentralization").await);

        // --- Search. ------------------------------------------------------------
        assert_eq!(b.search(&height.to_string(), "block").await, "done");
        assert_eq!(b.field("height").await, height.to_string());
        assert_eq!(b.search(&hash.to_uppercase(), "tx").await, "done");
        assert_eq!(b.field("hash").await, *hash);
        assert_eq!(b.search(blk["hash"].as_str().unwrap(), "block").await, "done");
        assert_eq!(b.field("hash").await, blk["hash"].as_str().unwrap());
        assert_eq!(b.search(&who, "account").await, "done");
        assert_eq!(b.field("address").await, who);
        assert_eq!(b.search(&chain.contract, "contract").await, "done");
        assert_eq!(b.field("address").await, chain.contract);
        let moniker = first["metadata"]["moniker"].as_str().unwrap();
        assert_eq!(b.search(moniker, "validator").await, "done");
        assert_eq!(b.field("operator").await, op);
        let junk = "no such thing <img src=x onerror=\"window.__xss=4\">";
        assert_eq!(b.search(junk, "search").await, "not-found");
        assert!(b.field("not-found").await.contains(junk));
        assert_eq!(b.eval("document.querySelectorAll('main img').length").await, json!(0));
        saved.push(b.screenshot("search-not-found").await);
        assert_eq!(b.search("99999999", "search").await, "not-found");
        assert_eq!(b.search(&"ab".repeat(32), "search").await, "not-found");
        assert_eq!(b.goto("#/block/99999999", "block").await, "not-found");
        assert_eq!(b.goto("#/tx/zz", "tx").await, "not-found");
        assert_eq!(b.goto(&format!("#/contract/{who}"), "contract").await, "not-found");
        assert_eq!(b.goto("#/account/agora1nope", "account").await, "not-found");

        // Nothing hostile ran, nothing threw, nothing broke the policy.
        assert_eq!(b.eval("typeof window.__xss").await, json!("undefined"), "an XSS payload ran");
        assert!(b.problems.is_empty(), "the page reported problems: {:#?}", b.problems);
        saved
    });
    let marker = browser.marker();
    drop(browser);
    assert!(!processes_with(&marker).into_iter().any(alive), "chromium processes outlived the test");
    let pids: Vec<u32> = (0..chain.net.nodes()).filter_map(|i| chain.net.pid(i)).collect();
    assert_eq!(pids.len(), 4);
    drop(chain);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) {
        assert!(Instant::now() < deadline, "agorad processes outlived the test: {pids:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(started.elapsed() < BUDGET, "the browser test took {:?}", started.elapsed());
    for p in &saved {
        println!("screenshot: {}", p.display());
    }
}
