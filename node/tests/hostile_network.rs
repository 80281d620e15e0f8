//! Hostile input against a real 4-validator network (separate `agorad`
//! processes on loopback): nothing a user or a byzantine validator sends
//! stops an honest node or bends chain time. Each test checks that the
//! honest validators keep committing within a bounded time, that no honest
//! process exits, and that every node has the same blocks and state roots.
//!
//! The byzantine validator runs the `agorad-byzantine` test binary (a
//! validator that proposes invalid transactions, or whose clock is a month
//! ahead); `agorad` itself has no such modes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

mod common;

use common::net::{
    BYZANTINE, HONEST, all_running, assert_same_chain, block, call, height, log, net_with_byzantine_node3, signed_hex,
    start_net, wait_all,
};
use contract_artifacts::hostile;
use ledger::{Amount, Hash, Payload, PublicKey, SigningKey, contract_address};
use serde_json::{Value, json};
use testnet::Testnet;

static SERIAL: Mutex<()> = Mutex::new(());
const CHAIN: &str = "agora-hostile-e2e";

/// Blocks proposed by node3 between heights `from` and `to` (inclusive).
fn proposed_by(net: &Testnet, i: usize, from: u64, to: u64) -> usize {
    let key = call(net, i, "agora_status", vec![]).unwrap()["validator"].as_str().map(str::to_owned);
    (from..=to).filter(|h| block(net, 0, *h)["header"]["proposer"].as_str().map(str::to_owned) == key).count()
}

#[test]
fn proposals_with_an_invalid_transaction_get_nil_votes_and_the_chain_goes_on() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut net = net_with_byzantine_node3(dir.path(), CHAIN, &["--propose-invalid-tx", "nonce-gap"]);
    wait_all(&net, &HONEST, 2, 60);
    let h0 = height(&net, 0);
    // Three of four validators: node3 proposes about every fourth height
    // and each of its proposals fails; the rest commit.
    wait_all(&net, &HONEST, h0 + 12, 90);
    all_running(&net);
    for i in HONEST {
        assert!(
            log(&net, i).contains("refusing a proposed block")
                && log(&net, i).contains("is ahead of the sender's next nonce"),
            "node{i} did not refuse the nonce-gap proposal:\n{}",
            net.log_tail(i, 40)
        );
    }
    assert!(log(&net, 3).contains("BYZANTINE TEST MODE: proposing a block with an invalid transaction"));
    let tip = height(&net, 0).min(height(&net, 1)).min(height(&net, 2));
    assert_eq!(proposed_by(&net, 3, 1, tip), 0, "a block with the invalid transaction was committed");

    // The same with a transaction whose gas is above the limit.
    net.stop(3).unwrap();
    net.start_with(3, Some(std::path::Path::new(BYZANTINE)), &["--propose-invalid-tx".into(), "over-gas".into()])
        .unwrap();
    let h1 = height(&net, 0);
    wait_all(&net, &HONEST, h1 + 12, 90);
    wait_all(&net, &[3], h1 + 8, 60);
    all_running(&net);
    assert!(log(&net, 0).contains("is above the per-transaction maximum"), "{}", net.log_tail(0, 40));
    let tip = height(&net, 0).min(height(&net, 1)).min(height(&net, 2)).min(height(&net, 3));
    assert_same_chain(&net, &[0, 1, 2, 3], tip);
}

#[test]
fn a_validator_a_month_ahead_cannot_move_chain_time() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let month_ms = 30u64 * 24 * 3_600_000;
    let net = net_with_byzantine_node3(dir.path(), CHAIN, &["--clock-offset-ms", &month_ms.to_string()]);
    wait_all(&net, &HONEST, 2, 60);
    let h0 = height(&net, 0);
    wait_all(&net, &HONEST, h0 + 12, 90);
    all_running(&net);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let tip = height(&net, 0).min(height(&net, 1)).min(height(&net, 2));
    for h in 1..=tip {
        let t = block(&net, 0, h)["header"]["time_ms"].as_u64().unwrap();
        assert!(
            t <= now + ledger::MAX_FUTURE_DRIFT_MS,
            "block {h} has time {t}, {} ms ahead of the clock",
            t.saturating_sub(now)
        );
    }
    assert_eq!(proposed_by(&net, 3, 1, tip), 0, "a block with a month-ahead time was committed");
    assert!(log(&net, 0).contains("ahead of this validator's clock"), "{}", net.log_tail(0, 40));
    assert_same_chain(&net, &HONEST, tip);
}

fn commit(net: &Testnet, node: usize, hex: String) -> Value {
    call(net, node, "agora_sendTxCommit", vec![json!(hex), json!(30_000)]).expect("commit")
}

struct User {
    key: SigningKey,
    nonce: u64,
}

impl User {
    fn tx(&mut self, payload: Payload, gas: u64) -> String {
        let hex = signed_hex(CHAIN, &self.key, self.nonce, payload, gas);
        self.nonce += 1;
        hex
    }
    fn store(&mut self, net: &Testnet, node: usize, wat: &str) -> Hash {
        let code = wat::parse_str(wat).unwrap();
        let r = commit(net, node, self.tx(Payload::StoreCode { code: code.clone() }, 700_000_000));
        assert_eq!(r["receipt"]["status"], "success", "{r}");
        Hash::digest(&code)
    }
    fn instantiate(&mut self, net: &Testnet, node: usize, code_hash: Hash, label: &str) -> ledger::Address {
        let payload = Payload::Instantiate { code_hash, label: label.into(), msg: b"{}".to_vec(), funds: Amount::ZERO };
        let r = commit(net, node, self.tx(payload, 10_000_000));
        assert_eq!(r["receipt"]["status"], "success", "{r}");
        contract_address(&code_hash, &PublicKey::from_signing_key(&self.key).address(), label)
    }
}

fn execute(contract: ledger::Address, msg: Vec<u8>) -> Payload {
    Payload::Execute { contract, msg, funds: Amount::ZERO }
}

#[test]
fn hostile_contracts_neither_stop_nor_split_the_network() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let net = start_net(dir.path(), CHAIN, 200);
    wait_all(&net, &[0, 1, 2, 3], 2, 60);
    let mut u = User { key: testnet::load_key(CHAIN, 0), nonce: 0 };

    // 1. Modules the instance pool cannot hold, sent with a hand-set gas
    // limit (no dry run to stop them): refused with a reason, nothing halts.
    for (wat, want) in [(hostile::two_tables(), "at most 1 table"), (hostile::many_globals(1_001), "globals")] {
        let code = wat::parse_str(&wat).unwrap();
        let hex = signed_hex(CHAIN, &u.key, u.nonce, Payload::StoreCode { code }, 700_000_000);
        let e = call(&net, 1, "agora_sendTxCommit", vec![json!(hex), json!(30_000)]).expect_err("refused");
        assert!(format!("{e:#}").contains(want), "{e:#}");
    }

    // 2. storage_next over keys deleted earlier in the transaction: paid
    // per skipped key, identical on every node.
    let churn = u.store(&net, 0, &hostile::storage_churn(2_000));
    let churn = u.instantiate(&net, 1, churn, "churn");
    let all =
        commit(&net, 2, u.tx(execute(churn, vec![hostile::WRITE | hostile::REMOVE | hostile::NEXT]), 500_000_000));
    assert_eq!(all["receipt"]["status"], "success", "{all}");
    let no_next = commit(&net, 3, u.tx(execute(churn, vec![hostile::WRITE | hostile::REMOVE]), 500_000_000));
    let skip_gas = all["receipt"]["gas_used"].as_u64().unwrap() - no_next["receipt"]["gas_used"].as_u64().unwrap();
    assert!(skip_gas >= 2_000 * ledger::ChainParams::default().contracts.gas_storage_read, "{skip_gas}");

    // 3. The deepest allowed call chain, every frame at maximum recursion,
    // through consensus: executed by the proposer and every validator on
    // their contract threads (a native stack overflow would kill them).
    let frames = ledger::ChainParams::default().contracts.max_call_depth as usize + 1;
    let deep = u.store(&net, 0, &hostile::deep_forward());
    let chain: Vec<_> = (0..frames).map(|i| u.instantiate(&net, i % 4, deep, &format!("deep{i}"))).collect();
    // Find the most recursion one frame takes with dry runs (RPC threads).
    let (mut lo, mut hi) = (1u32, 1u32 << 20);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        let hex =
            signed_hex(CHAIN, &u.key, u.nonce, execute(chain[0], hostile::deep_forward_msg(mid, [])), 500_000_000);
        let r = call(&net, 0, "agora_estimateGas", vec![json!(hex)]).expect("dry run");
        if r["status"] == "success" {
            lo = mid;
        } else {
            assert!(r["reason"].as_str().unwrap().contains("call stack exhausted"), "{r}");
            hi = mid;
        }
    }
    let msg = hostile::deep_forward_msg(lo - 64, chain[1..].iter().map(|a| a.0));
    let r = commit(&net, 1, u.tx(execute(chain[0], msg), 500_000_000));
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let h = r["height"].as_u64().unwrap();

    wait_all(&net, &[0, 1, 2, 3], h + 3, 60);
    all_running(&net);
    assert_same_chain(&net, &[0, 1, 2, 3], h + 3);
}
