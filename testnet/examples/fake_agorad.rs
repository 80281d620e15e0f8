//! A stand-in for `agorad` (and `agora keys new`) used by the testnet crate's
//! process tests, so they run without building the real node. It speaks just
//! enough of both command lines and of the JSON-RPC API:
//!
//! - `init --home H --chain-id C --moniker M --block-interval D --rpc-listen A --p2p-listen P`
//! - `show-validator --home H`, `show-node-id --home H`
//! - `start --home H`: serves `agora_status`, `agora_chainParams`,
//!   `agora_getAccount`, `agora_getBlock`, `agora_sendTx`, `agora_sendTxCommit`
//!   over HTTP (batches too), each answered with the `rpc-api` result type in
//!   full (made-up values, so the typed clients read them), "produces" a
//!   block every genesis block interval, keeps its height in `H/data/height`.
//!   A file `H/fake-fail` makes it exit with an error at once; `H/fake-ignore-term`
//!   makes it ignore SIGTERM (blocked, so only SIGKILL ends it).
//! - `--keyring-dir K -o json keys new NAME` (as `agora`): prints `{address, mnemonic}`.
//! - `--keyring-dir K -o json keys recover NAME` with `AGORA_MNEMONIC` (as `agora`):
//!   prints `{address}`, derived as the real wallet derives it.
//! - `start --byzantine-double-sign-at H` is accepted (and ignored beyond the
//!   `byzantine_at` field of `agora_status`).
//!
//! Not a node: nothing is validated or executed.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ledger::{
    Address, Amount, Commit, Hash, Header, Height, Payload, PublicKey, Receipt, SignedTx, SigningKey, TxBody, TxStatus,
};
use rpc_api::types;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn die(msg: &str) -> ! {
    eprintln!("fake-agorad: error: {msg}");
    std::process::exit(1)
}

fn key_of(home: &Path) -> SigningKey {
    let text = std::fs::read_to_string(home.join("validator_key.json")).unwrap_or_else(|_| die("no key"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let seed: [u8; 32] = hex::decode(v["seed"].as_str().unwrap()).unwrap().try_into().unwrap();
    SigningKey::from_bytes(&seed)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "recover") {
        return keys_recover(&args);
    }
    if args.iter().any(|a| a == "keys") {
        return keys_new(&args);
    }
    let home = PathBuf::from(arg(&args, "--home").unwrap_or_else(|| die("--home is required")));
    match args.first().map(String::as_str) {
        Some("init") => init(&args, &home),
        Some("show-validator") => println!("{}", PublicKey::from_signing_key(&key_of(&home))),
        Some("show-node-id") => {
            let pk = PublicKey::from_signing_key(&key_of(&home));
            println!("12D3KooWFake{}", hex::encode(&pk.0[..8]));
        }
        Some("start") => start(&home, arg(&args, "--byzantine-double-sign-at").map(|h| h.parse().unwrap())),
        _ => die("unknown command"),
    }
}

fn keys_new(args: &[String]) {
    let name = args.last().unwrap();
    let dir = PathBuf::from(arg(args, "--keyring-dir").unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let seed: [u8; 32] = Sha256::digest(format!("fake-wallet/{}/{name}", dir.display())).into();
    let pk = PublicKey::from_signing_key(&SigningKey::from_bytes(&seed));
    std::fs::write(dir.join(format!("{name}.json")), "{}").unwrap();
    println!(
        "{}",
        json!({ "name": name, "address": pk.address().to_string(), "mnemonic": format!("fake words for {name}") })
    );
}

fn keys_recover(args: &[String]) {
    let name = args.last().unwrap();
    let dir = PathBuf::from(arg(args, "--keyring-dir").unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    if path.exists() {
        die(&format!("a key named `{name}` already exists"));
    }
    let mnemonic = std::env::var("AGORA_MNEMONIC").unwrap_or_else(|_| die("no AGORA_MNEMONIC"));
    let key = testnet::setup::wallet_key(&mnemonic).unwrap_or_else(|e| die(&e.to_string()));
    std::fs::write(path, "{}").unwrap();
    println!("{}", json!({ "name": name, "address": PublicKey::from_signing_key(&key).address().to_string() }));
}

fn init(args: &[String], home: &Path) {
    for required in ["--chain-id", "--moniker", "--block-interval", "--rpc-listen", "--p2p-listen"] {
        if arg(args, required).is_none() {
            die(&format!("{required} is required"));
        }
    }
    if home.join("config.toml").exists() {
        die("home already holds a node");
    }
    std::fs::create_dir_all(home).unwrap();
    let seed: [u8; 32] = Sha256::digest(format!("fake-agorad/{}", home.display())).into();
    std::fs::write(home.join("validator_key.json"), json!({ "seed": hex::encode(seed) }).to_string()).unwrap();
    std::fs::write(home.join("node_key.json"), "{}").unwrap();
    std::fs::write(home.join("genesis.json"), "{}").unwrap();
    let config = format!(
        "# fake agorad config\nmoniker = \"{}\"\n\n[rpc]\nlisten = \"{}\"\n\n[p2p]\nlisten = \"{}\"\npersistent_peers = []\n\n[log]\nlevel = \"info\"\n",
        arg(args, "--moniker").unwrap(),
        arg(args, "--rpc-listen").unwrap(),
        arg(args, "--p2p-listen").unwrap()
    );
    std::fs::write(home.join("config.toml"), config).unwrap();
    println!("initialised {}", home.display());
}

struct Chain {
    chain_id: String,
    moniker: String,
    peers: usize,
    interval: Duration,
    height: u64,
    /// (height, time_ms, txs) of the blocks made by this process.
    blocks: Vec<(u64, u64, usize)>,
    pending: usize,
    total_txs: u64,
    byzantine_at: Option<u64>,
    params: ledger::ChainParams,
    genesis_hash: Hash,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn start(home: &Path, byzantine_at: Option<u64>) {
    if home.join("fake-ignore-term").exists() {
        let mut set = nix::sys::signal::SigSet::empty();
        set.add(nix::sys::signal::Signal::SIGTERM);
        set.thread_block().unwrap();
    }
    if home.join("fake-fail").exists() {
        die("configured to fail (fake-fail)");
    }
    let config: toml::Table = std::fs::read_to_string(home.join("config.toml")).unwrap().parse().unwrap();
    let genesis = genesis::Genesis::load(&home.join("genesis.json")).unwrap_or_else(|e| die(&e.to_string()));
    let listen = config["rpc"]["listen"].as_str().unwrap().to_owned();
    let peers = config["p2p"]["persistent_peers"].as_array().map_or(0, Vec::len);
    let data = home.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let height = std::fs::read_to_string(data.join("height")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let chain = Arc::new(Mutex::new(Chain {
        chain_id: genesis.chain_id.clone(),
        moniker: config["moniker"].as_str().unwrap_or("fake").to_owned(),
        peers,
        interval: genesis.consensus.block_interval,
        height,
        blocks: Vec::new(),
        pending: 0,
        total_txs: 0,
        byzantine_at,
        params: genesis.params.clone(),
        genesis_hash: Hash::digest(genesis.chain_id.as_bytes()),
    }));
    let listener = TcpListener::bind(&listen).unwrap_or_else(|e| die(&format!("cannot listen on {listen}: {e}")));
    println!("fake-agorad: chain {} at height {height}, RPC on http://{listen}", genesis.chain_id);
    {
        let chain = chain.clone();
        std::thread::spawn(move || {
            loop {
                let interval = chain.lock().unwrap().interval;
                std::thread::sleep(interval);
                let mut c = chain.lock().unwrap();
                c.height += 1;
                let (h, n) = (c.height, c.pending);
                c.blocks.push((h, now_ms(), n));
                c.total_txs += n as u64;
                c.pending = 0;
                // Atomically (write + rename), so a SIGKILL never leaves an empty file.
                std::fs::write(data.join("height.tmp"), h.to_string()).unwrap();
                std::fs::rename(data.join("height.tmp"), data.join("height")).unwrap();
            }
        });
    }
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let chain = chain.clone();
        std::thread::spawn(move || serve(conn, &chain));
    }
}

fn serve(conn: TcpStream, chain: &Mutex<Chain>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if first && line.trim().is_empty() {
                continue;
            }
            first = false;
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let resp = match req {
            Value::Array(calls) => Value::Array(calls.iter().map(|c| answer(c, chain)).collect()),
            call => answer(&call, chain),
        };
        let text = resp.to_string();
        let mut w = &conn;
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", text.len());
        if w.write_all(head.as_bytes()).and_then(|()| w.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

fn answer(call: &Value, chain: &Mutex<Chain>) -> Value {
    let id = call["id"].clone();
    match result(call["method"].as_str().unwrap_or(""), &call["params"], chain) {
        Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
        Err((code, message)) => json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }),
    }
}

fn block_hash(h: u64) -> Hash {
    Hash::digest(&h.to_be_bytes())
}

/// The fake's one "sender": a fixed key signing the transfers its blocks show.
fn fake_tx(chain_id: &str, nonce: u64) -> SignedTx {
    let key = SigningKey::from_bytes(&[7; 32]);
    let me = PublicKey::from_signing_key(&key);
    TxBody {
        chain_id: chain_id.to_owned(),
        sender: me,
        nonce,
        gas_limit: 10_000,
        gas_price: Amount::new(1),
        payload: Payload::Transfer { to: me.address(), amount: Amount::new(1) },
    }
    .sign(&key)
}

fn header(c: &Chain, h: u64, time_ms: u64) -> Header {
    let me = PublicKey::from_signing_key(&SigningKey::from_bytes(&[7; 32]));
    Header {
        version: 1,
        chain_id: c.chain_id.clone(),
        height: Height(h),
        time_ms,
        parent_hash: block_hash(h - 1),
        tx_root: Hash([0; 32]),
        state_root: Hash([0; 32]),
        receipts_root: Hash([0; 32]),
        proposer: me,
        client: "fake-agorad".into(),
        validator_set_hash: Hash([0; 32]),
        last_commit_hash: Hash([0; 32]),
        evidence_hash: Hash([0; 32]),
    }
}

fn receipt(hash: Hash) -> Receipt {
    Receipt {
        tx_hash: hash,
        sender: Address([0; 20]),
        status: TxStatus::Success,
        gas_used: 0,
        fee: Amount::ZERO,
        events: Vec::new(),
        data: Vec::new(),
    }
}

fn to_json<T: serde::Serialize>(v: T) -> Result<Value, (i32, String)> {
    serde_json::to_value(v).map_err(|e| (-32603, e.to_string()))
}

/// Answers with the typed results of the `rpc-api` crate, fully shaped (the
/// values are made up: nothing is validated or executed).
fn result(method: &str, params: &Value, chain: &Mutex<Chain>) -> Result<Value, (i32, String)> {
    let mut c = chain.lock().unwrap();
    let tip_time = c.blocks.last().map_or(0, |b| b.1);
    match method {
        "agora_status" => {
            let status = types::Status {
                chain_id: c.chain_id.clone(),
                genesis_hash: c.genesis_hash,
                node_version: "0.0.0-fake".into(),
                client: "fake-agorad".into(),
                moniker: c.moniker.clone(),
                latest_height: Height(c.height),
                latest_block_hash: block_hash(c.height),
                latest_state_root: Hash([0; 32]),
                latest_block_time_ms: tip_time,
                syncing: false,
                best_peer_height: c.height,
                synced_blocks: 0,
                equivocations_seen: 0,
                consensus: types::ConsensusProgress { height: c.height + 1, round: 0, step: "propose".into() },
                validator: None,
                node_id: Some("fake".into()),
                peers: c.peers as u64,
                total_txs: c.total_txs,
                mempool_size: c.pending as u64,
            };
            // The fake's own extra field, for the process tests.
            let mut v = to_json(status)?;
            v["byzantine_at"] = serde_json::json!(c.byzantine_at);
            Ok(v)
        }
        "agora_chainParams" => to_json(types::ChainParamsInfo {
            chain_id: c.chain_id.clone(),
            params: c.params.clone(),
            block_interval_ms: c.interval.as_millis() as u64,
        }),
        "agora_getAccount" => {
            let address: Address = params[0]
                .as_str()
                .and_then(|a| a.parse().ok())
                .ok_or((-32602, "missing parameter `address`".to_owned()))?;
            to_json(types::AccountInfo {
                address,
                balance: Amount::ZERO,
                nonce: 0,
                pending_nonce: Some(0),
                height: Height(c.height),
                state_root: Hash([0; 32]),
                exists: None,
                proof: None,
            })
        }
        "agora_getBlock" => {
            let h = params[0].as_u64().unwrap_or(c.height);
            if h == 0 || h > c.height {
                return Err((1012, format!("no block at height {h}")));
            }
            let (time_ms, n) = c.blocks.iter().find(|b| b.0 == h).map_or((0, 0), |b| (b.1, b.2));
            let txs: Vec<SignedTx> = (0..n as u64).map(|i| fake_tx(&c.chain_id, h * 100_000 + i)).collect();
            let txs = if params[1].as_bool().unwrap_or(true) {
                types::BlockTxs::Full(txs.into_iter().map(|tx| types::HashedTx { hash: tx.hash(), tx }).collect())
            } else {
                types::BlockTxs::Hashes(txs.iter().map(SignedTx::hash).collect())
            };
            let last_commit = (h > 1).then(|| Commit {
                height: Height(h - 1),
                round: u32::from(h.is_multiple_of(7)),
                block_hash: block_hash(h - 1),
                signatures: Vec::new(),
            });
            to_json(types::BlockInfo {
                hash: block_hash(h),
                header: header(&c, h, time_ms),
                num_txs: n as u64,
                txs,
                last_commit,
                evidence: Vec::new(),
                events: Vec::new(),
            })
        }
        "agora_sendTx" => {
            c.pending += 1;
            let tx = params[0].as_str().unwrap_or_default();
            to_json(types::Submitted { hash: Hash::digest(tx.as_bytes()) })
        }
        "agora_sendTxCommit" => {
            c.pending += 1;
            let target = c.height + 1;
            let hash = Hash::digest(params[0].as_str().unwrap_or_default().as_bytes());
            drop(c);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if chain.lock().unwrap().height >= target {
                    return to_json(types::Committed {
                        hash,
                        height: Height(target),
                        index: 0,
                        block_hash: block_hash(target),
                        receipt: receipt(hash),
                    });
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((1011, "timed out".into()))
        }
        _ => Err((-32601, format!("unknown method {method}"))),
    }
}
