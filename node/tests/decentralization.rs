//! The decentralization index as users meet it, on a real 4-validator
//! testnet with skewed stakes and declared countries, hosting providers,
//! operators and clients: `agora decentralization` before and after a
//! delegation that moves the BFT-halt coefficient, the delegation warning,
//! the history across epochs, the same numbers from every node's RPC and
//! `/metrics`, and a Merkle proof of an epoch's record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Wallet, agora_bin};
use serde_json::{Value, json};
use testnet::{Spec, Testnet};

const EPOCH_BLOCKS: u64 = 10;

fn call(net: &Testnet, i: usize, method: &str, args: Value) -> Value {
    testnet::rpc::call_blocking(&net.rpc_url(i), method, vec![args], Duration::from_secs(10)).unwrap()
}

fn latest_epoch(net: &Testnet) -> Option<u64> {
    let h = testnet::rpc::call_blocking(
        &net.rpc_url(0),
        "agora_decentralizationHistory",
        vec![json!({"limit": 1})],
        Duration::from_secs(10),
    )
    .ok()?;
    h["latest"].as_u64()
}

/// Waits until epoch `e` has ended on node 0.
fn wait_epoch(net: &Testnet, e: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while latest_epoch(net).unwrap_or(0) < e {
        assert!(Instant::now() < deadline, "epoch {e} never ended");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn sub<'a>(index: &'a Value, name: &str) -> &'a Value {
    index["subsystems"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

fn nakamoto(index: &Value, subsystem: &str, threshold: &str) -> Option<u64> {
    let m = &sub(index, subsystem)["metrics"]["nakamoto"];
    m.as_array().unwrap().iter().find(|v| v["name"] == threshold).unwrap()["value"].as_u64()
}

fn http_get(url: &str, path: &str) -> String {
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The value of the one sample of `name` whose labels include every pair of `labels`.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().filter(|l| l.starts_with(&format!("{name}{{"))).find_map(|l| {
        let all = labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")));
        all.then(|| l.rsplit(' ').next().unwrap().parse().unwrap())
    })
}

#[test]
fn decentralization_index_through_the_wallet_rpc_and_metrics() {
    assert!(agora_bin().exists(), "{} is missing: run the tests with `cargo test --workspace`", agora_bin().display());
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::new(dir.path().join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.agora = Some(agora_bin());
    spec.dev_accounts = 1;
    spec.load_accounts = 0;
    spec.chain_id = "decentral".into();
    spec.block_interval = Duration::from_millis(150);
    // 30/30/20/20: no validator alone holds 1/3, two do.
    spec.stakes = vec![30, 30, 20, 20];
    spec.staking.epoch_blocks = Some(EPOCH_BLOCKS);
    let mut net = Testnet::create(&spec).unwrap().owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().unwrap();
    net.wait_for_height(0, 2, Duration::from_secs(60)).unwrap();
    let w = Wallet { keyring: net.keyring_dir(), node: net.rpc_url(0) };

    // Node 3 declares that node 2's operator runs it too (edit-validator).
    let r = w.json(&["stake", "edit-validator", "--from", "validator3", "--entity", "testnet-operator-2"]);
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    let after_edit = r["height"].as_u64().unwrap();
    let first = after_edit / EPOCH_BLOCKS + 2;
    wait_epoch(&net, first);

    // --- Before: two validators halt the chain; clustered operators too. ----
    let before = w.json(&["decentralization", "--epoch", &first.to_string()]);
    assert_eq!(before["epoch"], first);
    assert_eq!(nakamoto(&before, "validators", "bft_halt"), Some(2), "{before:#}");
    assert_eq!(nakamoto(&before, "validators", "control"), Some(3));
    // 30/30/40 after clustering node2+node3: the cluster alone holds ≥ 1/3.
    assert_eq!(nakamoto(&before, "operators", "bft_halt"), Some(1));
    assert_eq!(sub(&before, "operators")["clustered"], true);
    assert_eq!(sub(&before, "operators")["upper_bound"], true);
    assert_eq!(sub(&before, "operators")["entities"], 3);
    assert_eq!(sub(&before, "validators")["entities"], 4);
    let countries =
        call(&net, 0, "agora_decentralizationDistribution", json!({"subsystem": "countries", "epoch": first}));
    let names: Vec<&str> =
        countries["entities"].as_array().unwrap().iter().map(|e| e["entity"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["DE", "US", "BR", "SG"], "{countries}");
    // The clients the headers named: node 2 runs a patched build.
    let clients = call(&net, 0, "agora_decentralizationDistribution", json!({"subsystem": "clients", "epoch": first}));
    let total: u64 = clients["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["weight"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, EPOCH_BLOCKS, "{clients}");
    assert!(
        clients["entities"].as_array().unwrap().iter().all(|e| e["entity"].as_str().unwrap().starts_with("agorad/"))
    );
    // The headline: the smallest coefficient over subsystems names its subsystems.
    let halt = before["headline"].as_array().unwrap().iter().find(|h| h["threshold"] == "bft_halt").unwrap();
    assert_eq!(halt["value"], 1);
    assert!(halt["subsystems"].as_array().unwrap().contains(&json!("operators")), "{halt}");
    let table = w.run(&["decentralization"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success(), "{text}{}", String::from_utf8_lossy(&table.stderr));
    for word in ["validators", "operators", "countries", "hosting", "clients", "block_production", "vote_participation"]
    {
        assert!(text.contains(word), "table lacks {word}:\n{text}");
    }

    // --- The warning: validator0 is among the two that hold 1/3. ------------
    let stake_unit = 1_000_000_000_000u128; // one testnet stake unit (10^6 power)
    let amount = (5 * stake_unit).to_string();
    let out = w.run(&["stake", "delegate", "validator0", &amount, "--from", "dev0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1/3"), "no warning on stderr: {stderr}");
    assert!(stderr.contains("node2") || stderr.contains("node3"), "the warning names smaller validators: {stderr}");
    let delegated_at = call(&net, 0, "agora_status", json!({}))["latest_height"].as_u64().unwrap();
    let check = call(&net, 0, "agora_delegationCheck", json!({"validator": net.operator(2).unwrap().to_string()}));
    assert_eq!(check["in_halting_validators"], false, "{check}");

    // --- After: 35 of 105 is ≥ 1/3: one validator can halt the chain. -------
    let later = delegated_at / EPOCH_BLOCKS + 2;
    wait_epoch(&net, later);
    let after = w.json(&["decentralization"]);
    assert!(after["epoch"].as_u64().unwrap() >= later);
    let dist = call(&net, 0, "agora_decentralizationDistribution", json!({"subsystem": "validators"}));
    assert_eq!(nakamoto(&after, "validators", "bft_halt"), Some(1), "{dist:#}");
    // Exactly 1/3 is not more than 1/3: breaking safety still takes two.
    assert_eq!(nakamoto(&after, "validators", "safety"), Some(2));

    // --- History across epochs. ---------------------------------------------
    let hist = w.json(&["decentralization", "--history", "--from", &first.to_string(), "--limit", "100"]);
    let epochs = hist["epochs"].as_array().unwrap();
    assert!(epochs.len() as u64 > later - first, "{hist}");
    let halt_of = |e: &Value| e["subsystems"]["validators"]["nakamoto"]["bft_halt"].as_u64();
    assert_eq!(halt_of(&epochs[0]), Some(2));
    assert_eq!(halt_of(epochs.last().unwrap()), Some(1));
    for pair in epochs.windows(2) {
        assert_eq!(pair[1]["epoch"].as_u64().unwrap(), pair[0]["epoch"].as_u64().unwrap() + 1);
        assert_eq!(pair[1]["start_height"].as_u64().unwrap(), pair[0]["end_height"].as_u64().unwrap() + 1);
    }

    // --- Every node: the same record, the same metrics. ---------------------
    let e = after["epoch"].as_u64().unwrap();
    let mine = call(&net, 0, "agora_decentralization", json!({"epoch": e}));
    for i in 1..4 {
        net.wait_for_height(i, after["end_height"].as_u64().unwrap(), Duration::from_secs(30)).unwrap();
        let theirs = call(&net, i, "agora_decentralization", json!({"epoch": e}));
        assert_eq!(theirs["subsystems"], mine["subsystems"], "node{i} disagrees");
        assert_eq!(theirs["headline"], mine["headline"]);
        // Metrics are on the node's own metrics port, no longer on the RPC port.
        assert!(!http_get(&net.rpc_url(i), "/metrics").starts_with("HTTP/1.1 200"));
        let m = testnet::prom::fetch(&net.metrics_url(i).unwrap(), Duration::from_secs(10)).unwrap();
        testnet::prom::parse(&m).unwrap();
        let v = sample(
            &m,
            "agora_decentralization_nakamoto",
            &[("subsystem", "validators"), ("threshold", "bft_halt"), ("comparison", ">=")],
        );
        assert_eq!(v, Some(1.0), "node{i} /metrics:\n{m}");
        let hhi =
            sample(&m, "agora_decentralization_metric", &[("subsystem", "validators"), ("metric", "hhi")]).unwrap();
        let want = sub(&mine, "validators")["metrics"]["hhi"]["value"].as_f64().unwrap();
        assert!((hhi - want).abs() < 1e-9, "{hhi} vs {want}");
    }

    // --- A proof of the record against the state root. ----------------------
    let p = call(&net, 0, "agora_decentralization", json!({"epoch": e, "prove": true}));
    let proof: ledger::state::StateProof =
        borsh::from_slice(&hex::decode(p["proof"]["proof"].as_str().unwrap()).unwrap()).unwrap();
    let root: ledger::Hash = serde_json::from_value(p["proof"]["state_root"].clone()).unwrap();
    let record = hex::decode(p["proof"]["record"].as_str().unwrap()).unwrap();
    let r = ledger::index::verify_epoch_proof(root, e, Some(&record), &proof).unwrap().unwrap();
    assert_eq!(r.epoch, e);
    let mut forged = record.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert!(ledger::index::verify_epoch_proof(root, e, Some(&forged), &proof).is_err());

    // --- The subscription: one notification per new epoch. ------------------
    let ws_url = net.rpc_url(1).replace("http://", "ws://");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got: Vec<Value> = rt.block_on(async {
        use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
        let ws = jsonrpsee::ws_client::WsClientBuilder::default().build(&ws_url).await.unwrap();
        let mut sub: Subscription<Value> = ws
            .subscribe("agora_subscribeDecentralization", jsonrpsee::rpc_params![], "agora_unsubscribeDecentralization")
            .await
            .unwrap();
        let mut got = Vec::new();
        for _ in 0..2 {
            let n = tokio::time::timeout(Duration::from_secs(20), sub.next()).await.expect("an epoch within 20 s");
            got.push(n.unwrap().unwrap());
        }
        got
    });
    assert_eq!(got[1]["epoch"].as_u64().unwrap(), got[0]["epoch"].as_u64().unwrap() + 1, "{got:?}");
    assert!(got[0]["subsystems"]["validators"]["nakamoto"]["bft_halt"].is_u64());

    // --- Hostile queries are verdicts. --------------------------------------
    for bad in [json!({"epoch": 0}), json!({"epoch": u64::MAX}), json!({"height": 0})] {
        let r = testnet::rpc::call_blocking(
            &net.rpc_url(0),
            "agora_decentralization",
            vec![bad.clone()],
            Duration::from_secs(10),
        );
        assert!(r.is_err(), "{bad} answered {r:?}");
    }
    let r = testnet::rpc::call_blocking(
        &net.rpc_url(0),
        "agora_decentralizationHistory",
        vec![json!({"limit": 1000})],
        Duration::from_secs(10),
    );
    assert!(r.is_err());
    let r = testnet::rpc::call_blocking(
        &net.rpc_url(0),
        "agora_decentralizationDistribution",
        vec![json!({"subsystem": "nope"})],
        Duration::from_secs(10),
    );
    assert!(format!("{r:?}").contains("validators"), "the error lists the subsystems: {r:?}");
    net.stop_all().unwrap();
}
