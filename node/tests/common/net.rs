//! Helpers for multi-process network tests: a 4-validator testnet of real
//! `agorad` processes (killed on drop) and JSON-RPC calls with deadlines.

use std::time::Duration;

use ledger::{PublicKey, SigningKey};
use serde_json::{Value, json};
use testnet::{OwnedTestnet, Spec, Testnet};

const RPC: Duration = Duration::from_secs(5);

/// Creates and starts a 4-validator testnet on `chain` under `dir`.
pub fn start_net(dir: &std::path::Path, chain: &str, block_interval_ms: u64) -> OwnedTestnet {
    let mut net = create_net(dir, chain, block_interval_ms);
    net.start_all().expect("start");
    net
}

/// Creates (but does not start) a 4-validator testnet on `chain` under `dir`.
pub fn create_net(dir: &std::path::Path, chain: &str, block_interval_ms: u64) -> OwnedTestnet {
    let mut spec = Spec::new(dir.join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.dev_accounts = 0;
    spec.load_accounts = 16;
    spec.chain_id = chain.into();
    spec.block_interval = Duration::from_millis(block_interval_ms);
    let mut net = Testnet::create(&spec).expect("create testnet").owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net
}

pub fn call(net: &Testnet, i: usize, method: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    testnet::rpc::call_blocking(&net.rpc_url(i), method, args, RPC)
}

pub fn height(net: &Testnet, i: usize) -> u64 {
    net.height(i).unwrap_or(0)
}

pub fn wait_all(net: &Testnet, nodes: &[usize], h: u64, secs: u64) {
    for &i in nodes {
        net.wait_for_height(i, h, Duration::from_secs(secs))
            .unwrap_or_else(|e| panic!("node{i} did not reach height {h}: {e:#}\n{}", net.log_tail(i, 30)));
    }
}

pub fn block(net: &Testnet, i: usize, h: u64) -> Value {
    call(net, i, "agora_getBlock", vec![json!(h)]).unwrap_or_else(|e| panic!("node{i} block {h}: {e:#}"))
}

/// The (hash, state root) of block `h` as node `i` serves it.
pub fn block_id(net: &Testnet, i: usize, h: u64) -> (String, String) {
    let b = block(net, i, h);
    (b["hash"].as_str().unwrap().to_string(), b["header"]["state_root"].as_str().unwrap().to_string())
}

/// Every node in `nodes` has the same block (hash and state root) at each
/// height from 1 to `h`.
pub fn assert_same_chain(net: &Testnet, nodes: &[usize], h: u64) {
    for hh in 1..=h {
        let reference = block_id(net, nodes[0], hh);
        for &i in &nodes[1..] {
            assert_eq!(block_id(net, i, hh), reference, "node{i} has another block or state root at {hh}");
        }
    }
}

pub fn assert_no_double_signs(net: &Testnet) {
    let audit = net.audit_signatures().unwrap();
    assert!(audit.signatures > 0, "no signature logs were written");
    assert!(audit.conflicts.is_empty(), "double signs: {:?}", audit.conflicts);
    for i in 0..net.nodes() {
        if net.is_running(i) {
            let st = net.status(i).unwrap();
            assert_eq!(st.equivocations_seen, 0, "node{i} saw an equivocation");
        }
    }
}

/// A signed transaction on `chain`, hex-encoded for `agora_sendTx*`.
pub fn signed_hex(chain: &str, k: &SigningKey, nonce: u64, payload: ledger::Payload, gas_limit: u64) -> String {
    let body = ledger::TxBody {
        chain_id: chain.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit,
        gas_price: ledger::Amount::new(1),
        payload,
    };
    hex::encode(body.sign(k).encode())
}

/// The test-only byzantine build of the node.
pub const BYZANTINE: &str = env!("CARGO_BIN_EXE_agorad-byzantine");
/// The honest validators of a network whose node3 is byzantine.
pub const HONEST: [usize; 3] = [0, 1, 2];

/// No node of `net` has exited.
pub fn all_running(net: &Testnet) {
    for i in 0..net.nodes() {
        assert!(net.is_running(i), "node{i} exited: {}\n{}", net.exited_message(i), net.log_tail(i, 40));
    }
}

/// Node `i`'s whole log.
pub fn log(net: &Testnet, i: usize) -> String {
    std::fs::read_to_string(net.log_path(i)).unwrap_or_default()
}

/// A 4-validator network of `chain` whose node3 runs `agorad-byzantine` with `args`.
pub fn net_with_byzantine_node3(dir: &std::path::Path, chain: &str, args: &[&str]) -> OwnedTestnet {
    let mut net = create_net(dir, chain, 200);
    for i in HONEST {
        net.start(i).expect("start");
    }
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    net.start_with(3, Some(std::path::Path::new(BYZANTINE)), &args).expect("start byzantine node3");
    net
}
