//! The contract flow as a user runs it: the real `agora` wallet binary
//! against a real `agorad` (a one-validator testnet with funded dev keys).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Wallet, agora_bin};
use testnet::{Spec, Testnet};

/// A one-validator testnet with two funded dev keys (`dev0`, `dev1`) and a
/// wallet on it.
fn start(dir: &std::path::Path, chain_id: &str) -> (testnet::OwnedTestnet, Wallet, String, String) {
    if !agora_bin().exists() {
        panic!("{} is missing: run the tests with `cargo test --workspace`", agora_bin().display());
    }
    let mut spec = Spec::new(dir.join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.agora = Some(agora_bin());
    spec.validators = 1;
    spec.stakes = vec![100];
    spec.dev_accounts = 2;
    spec.load_accounts = 0;
    spec.chain_id = chain_id.into();
    spec.block_interval = Duration::from_millis(100);
    let mut net = Testnet::create(&spec).expect("create").owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().expect("start");
    net.wait_for_height(0, 1, Duration::from_secs(30)).expect("first block");
    let w = Wallet { keyring: net.keyring_dir(), node: net.rpc_url(0) };
    let devs = net.dev_accounts().to_vec();
    let (dev0, dev1) = (devs[0].address.to_string(), devs[1].address.to_string());
    (net, w, dev0, dev1)
}

#[test]
fn token_flow_through_the_wallet_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (_net, w, dev0, dev1) = start(dir.path(), "agora-wallet-e2e");
    let wasm = dir.path().join("token.wasm");
    std::fs::write(&wasm, contract_artifacts::TOKEN).unwrap();

    let stored = w.json(&["contract", "store", wasm.to_str().unwrap(), "--from", "dev0"]);
    let code_hash = stored["code_hash"].as_str().expect("code hash").to_owned();
    assert_eq!(code_hash, ledger::Hash::digest(contract_artifacts::TOKEN).to_string());

    let init = format!(
        r#"{{"name":"Wallet Token","symbol":"WLT","decimals":2,"initial_balances":[{{"address":"{dev0}","amount":"5000"}}]}}"#
    );
    let inst = w.json(&["contract", "instantiate", &code_hash, &init, "--label", "wlt", "--from", "dev0"]);
    let token = inst["contract_address"].as_str().expect("address").to_owned();

    let msg = format!(r#"{{"transfer":{{"recipient":"{dev1}","amount":"1234"}}}}"#);
    let exec = w.json(&["contract", "execute", &token, &msg, "--from", "dev0"]);
    assert_eq!(exec["receipt"]["status"], "success", "{exec}");

    // The message from a file, and the other direction.
    let back = dir.path().join("back.json");
    std::fs::write(&back, format!(r#"{{"transfer":{{"recipient":"{dev0}","amount":"34"}}}}"#)).unwrap();
    let exec = w.json(&["contract", "execute", &token, &format!("@{}", back.display()), "--from", "dev1"]);
    assert_eq!(exec["receipt"]["status"], "success", "{exec}");

    let q = |addr: &str| w.json(&["contract", "query", &token, &format!(r#"{{"balance":{{"address":"{addr}"}}}}"#)]);
    assert_eq!(q(&dev0)["data"]["balance"], "3800");
    assert_eq!(q(&dev1)["data"]["balance"], "1200");
    let info = w.json(&["contract", "info", &token]);
    assert_eq!(info["label"], "wlt");

    // A failing call is refused by the dry run: nothing is sent, exit non-zero.
    let too_much = format!(r#"{{"transfer":{{"recipient":"{dev0}","amount":"999999"}}}}"#);
    let out = w.run(&["contract", "execute", &token, &too_much, "--from", "dev1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("insufficient balance"), "{out:?}");
    assert_eq!(q(&dev1)["data"]["balance"], "1200");
}

#[test]
fn admin_and_migration_through_the_wallet_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (_net, w, dev0, dev1) = start(dir.path(), "agora-wallet-admin");
    let wasm = dir.path().join("probe.wasm");
    std::fs::write(&wasm, contract_artifacts::PROBE).unwrap();
    let stored = w.json(&["contract", "store", wasm.to_str().unwrap(), "--from", "dev0"]);
    let code_hash = stored["code_hash"].as_str().expect("code hash").to_owned();

    // Without --admin: no admin, as before; the contract can never be migrated.
    let plain = w.json(&["contract", "instantiate", &code_hash, "{}", "--label", "plain", "--from", "dev0"]);
    let plain = plain["contract_address"].as_str().expect("address").to_owned();
    assert_eq!(w.json(&["contract", "info", &plain])["admin"], serde_json::Value::Null);
    let out = w.run(&["contract", "migrate", &plain, "--code-hash", &code_hash, "--from", "dev0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no admin"), "{out:?}");

    let inst =
        w.json(&["contract", "instantiate", &code_hash, "{}", "--label", "p", "--admin", &dev1, "--from", "dev0"]);
    let probe = inst["contract_address"].as_str().expect("address").to_owned();
    assert_eq!(inst["admin"], dev1);
    assert_eq!(w.json(&["contract", "info", &probe])["admin"], dev1);

    // Only the admin migrates (the dry run refuses the creator).
    let out = w.run(&["contract", "migrate", &probe, "--code-hash", &code_hash, "--from", "dev0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not the admin"), "{out:?}");
    let m = w.json(&[
        "contract",
        "migrate",
        &probe,
        "--code-hash",
        &code_hash,
        "--msg",
        r#"{"note":"v2"}"#,
        "--from",
        "dev1",
    ]);
    assert_eq!(m["receipt"]["status"], "success", "{m}");
    assert_eq!(m["old_code_hash"], code_hash);
    let get = w.json(&["contract", "query", &probe, r#"{"get":{"key":"migrated"}}"#]);
    assert_eq!(get["data"]["value"], "v2");

    // Hand over, then clear for good.
    let s = w.json(&["contract", "set-admin", &probe, &dev0, "--from", "dev1"]);
    assert_eq!(s["receipt"]["status"], "success", "{s}");
    assert_eq!(w.json(&["contract", "info", &probe])["admin"], dev0);
    let s = w.json(&["contract", "set-admin", &probe, "--clear", "--from", "dev0"]);
    assert_eq!(s["receipt"]["status"], "success", "{s}");
    assert_eq!(w.json(&["contract", "info", &probe])["admin"], serde_json::Value::Null);
    let out = w.run(&["contract", "migrate", &probe, "--code-hash", &code_hash, "--from", "dev0"]);
    assert!(!out.status.success());
}
