//! Helpers for multi-process tests: a real `agorad` on a free loopback port,
//! killed when the handle drops.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use serde_json::Value;

pub mod net;

pub const CHAIN: &str = "agora-e2e";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i; 32])
}
pub fn addr(k: &SigningKey) -> Address {
    PublicKey::from_signing_key(k).address()
}

/// A node process. Dropping it kills the process.
pub struct Node {
    pub home: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl Node {
    /// `agorad init` a home funding `funds`, with a fast block interval.
    pub fn init(home: &Path, funds: &[(Address, u128)], interval: &str) -> PathBuf {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agorad"));
        cmd.args(["init", "--home"]).arg(home).args(["--chain-id", CHAIN, "--block-interval", interval]);
        cmd.args(["--p2p-listen", "/ip4/127.0.0.1/tcp/0"]);
        for (a, v) in funds {
            cmd.arg("--fund").arg(format!("{a}={v}"));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
        home.to_path_buf()
    }

    /// Starts `agorad` on a free RPC port and waits until it answers JSON-RPC.
    /// A port taken by another process between picking and binding (tests run
    /// in parallel) makes the node exit: it is retried on a new port.
    pub fn start(home: &Path) -> Node {
        for _ in 0..5 {
            let port = free_port();
            let log = std::fs::OpenOptions::new().create(true).append(true).open(home.join("node.log")).unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_agorad"))
                .args(["start", "--home"])
                .arg(home)
                .args(["--rpc-listen", &format!("127.0.0.1:{port}")])
                .args(["--metrics-listen", "127.0.0.1:0"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap();
            let mut n = Node { home: home.to_path_buf(), port, child: Some(child) };
            if n.wait_ready() {
                return n;
            }
        }
        panic!(
            "node did not start on any of 5 ports; log:\n{}",
            std::fs::read_to_string(home.join("node.log")).unwrap_or_default()
        );
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> HttpClient {
        HttpClientBuilder::default().request_timeout(Duration::from_secs(60)).build(self.url()).unwrap()
    }

    /// True once the node answers `agora_status` on its port; false if the
    /// process exited first (e.g. the port was taken).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"agora_status","params":[]}"#;
        while Instant::now() < deadline {
            if !self.is_running() {
                self.child = None;
                return false;
            }
            if let Some(r) = try_post(self.port, body)
                && r.contains("\"chain_id\"")
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node did not answer RPC within 30 s; log:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("node.log")).unwrap_or_default()
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("node did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub async fn call(
    c: &HttpClient,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
) -> Result<Value, (i32, String)> {
    c.request::<Value, _>(method, params).await.map_err(|e| match e {
        jsonrpsee::core::ClientError::Call(o) => (o.code(), o.message().to_owned()),
        other => (0, other.to_string()),
    })
}

pub async fn height(c: &HttpClient) -> u64 {
    call(c, "agora_status", rpc_params![]).await.unwrap()["latest_height"].as_u64().unwrap()
}

pub async fn account(c: &HttpClient, a: &Address) -> (u128, u64) {
    let v = call(c, "agora_getAccount", rpc_params![a.to_string()]).await.unwrap();
    (v["balance"].as_str().unwrap().parse().unwrap(), v["nonce"].as_u64().unwrap())
}

pub fn transfer_hex(k: &SigningKey, nonce: u64, to: Address, amount: u128) -> String {
    transfer_hex_on(CHAIN, k, nonce, to, amount)
}

/// A signed transfer on `chain`, hex-encoded for `agora_sendTx`.
pub fn transfer_hex_on(chain: &str, k: &SigningKey, nonce: u64, to: Address, amount: u128) -> String {
    let body = TxBody {
        chain_id: chain.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit: 10_000,
        gas_price: Amount::new(1),
        payload: Payload::Transfer { to, amount: Amount::new(amount) },
    };
    hex::encode(body.sign(k).encode())
}

/// An HTTP POST that reports failure instead of panicking.
fn try_post(port: u16, body: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Sends raw bytes as an HTTP POST and returns the response body.
pub fn raw_post(port: u16, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The `agora` wallet binary (built next to `agorad` by `cargo test --workspace`).
pub fn agora_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agorad")).with_file_name("agora")
}

/// Runs the real `agora` binary against a node with a keyring.
pub struct Wallet {
    pub keyring: PathBuf,
    pub node: String,
}

impl Wallet {
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(agora_bin())
            .arg("--keyring-dir")
            .arg(&self.keyring)
            .args(["--node", &self.node])
            .args(args)
            .env("AGORA_PASSWORD", testnet::DEV_PASSWORD)
            .output()
            .expect("run agora")
    }

    /// Runs with `-o json`, asserts success and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.run(&a);
        assert!(
            out.status.success(),
            "agora {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("agora {args:?}: {e}"))
    }
}
