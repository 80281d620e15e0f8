//! DAO governance as users do it: the real `agora` wallet against a real
//! 4-validator testnet. The testnet's DAO (stake voting, named governance in
//! genesis) changes a chain parameter that every node then enforces; a DAO
//! created with `agora dao create` pays from its treasury, gets vetoed
//! (deposit burned) and lets a passed proposal expire; stake bonded after a
//! proposal's snapshot counts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Wallet, agora_bin};
use serde_json::{Value, json};
use testnet::{Spec, Testnet};

fn call(net: &Testnet, i: usize, method: &str, args: Vec<Value>) -> Value {
    testnet::rpc::call_blocking(&net.rpc_url(i), method, args, Duration::from_secs(10)).unwrap()
}

fn balance(net: &Testnet, i: usize, addr: &str) -> u128 {
    let a = call(net, i, "agora_getAccount", vec![json!(addr)]);
    a["balance"].as_str().unwrap().parse().unwrap()
}

/// Polls `agora dao show` until the proposal has `status` (or panics after `within`).
fn wait_status(w: &Wallet, dao: &str, id: u64, status: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let p = w.json(&["dao", "show", dao, &id.to_string()]);
        if p["status"] == status {
            return p;
        }
        assert!(Instant::now() < deadline, "proposal {id} never became {status}: {p}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn ok(r: &Value) {
    assert_eq!(r["receipt"]["status"], "success", "{r}");
}

fn failed_with(w: &Wallet, args: &[&str], want: &str) {
    let out = w.run(args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    assert!(!out.status.success(), "agora {args:?} should fail: {text}");
    assert!(text.contains(want), "agora {args:?}: expected `{want}` in: {text}");
}

#[test]
fn dao_governs_treasury_and_chain_through_the_wallet() {
    assert!(agora_bin().exists(), "{} is missing: run the tests with `cargo test --workspace`", agora_bin().display());
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::new(dir.path().join("net"), env!("CARGO_BIN_EXE_agorad"));
    spec.agora = Some(agora_bin());
    spec.dev_accounts = 2;
    spec.load_accounts = 0;
    spec.chain_id = "dao-wallet".into();
    spec.block_interval = Duration::from_millis(200);
    let mut net = Testnet::create(&spec).unwrap().owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().unwrap();
    net.wait_for_height(0, 2, Duration::from_secs(60)).unwrap();
    let dev0 = net.dev_accounts()[0].address.to_string();
    let dev1 = net.dev_accounts()[1].address.to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deployed = rt.block_on(testnet::dao::deploy(&net.rpc_url(0), "dao-wallet", net.dir(), None)).unwrap();
    assert!(deployed.governs_chain, "genesis names the DAO as governance");
    let gov = deployed.dao.to_string();
    let w = Wallet { keyring: net.keyring_dir(), node: net.rpc_url(0) };

    // --- A DAO created through the wallet, voting with bonded stake. -------
    let codes = &deployed.codes;
    let rules = json!({
        "voting_delay_ms": 0, "min_voting_period_ms": 1_000, "max_voting_period_ms": 6_000,
        "quorum": "0.334", "threshold": "0.5", "veto_threshold": "0.334",
        "allow_early_close": false, "allow_revoting": false,
        "deposit": { "amount": "1000", "refund": "only_passed" },
        "timelock_ms": 2_000, "vetoer": null, "execution_grace_ms": 4_000,
    });
    let r = w.json(&[
        "dao",
        "create",
        "--from",
        "dev0",
        "--name",
        "Club",
        "--label",
        "club",
        "--core-code",
        &codes.dao_core.to_string(),
        "--proposals-code",
        &codes.dao_proposals.to_string(),
        "--voting-code",
        &codes.dao_voting_stake.to_string(),
        "--config",
        &rules.to_string(),
    ]);
    ok(&r);
    let club = r["dao"].as_str().unwrap().to_owned();
    ok(&w.json(&["dao", "fund", &club, "1000000", "--from", "dev0"]));
    // dev0 bonds a little stake so it may propose; validators hold the rest.
    ok(&w.json(&["stake", "delegate", "validator0", "1000000", "--from", "dev0"]));
    std::thread::sleep(Duration::from_millis(600));

    let recipient = common::addr(&common::key(77)).to_string();
    let before: Vec<u128> = (0..4).map(|i| balance(&net, i, &recipient)).collect();
    let p1 = w.json(&[
        "dao",
        "propose",
        &club,
        "--title",
        "pay",
        "--transfer",
        &format!("{recipient}:12345"),
        "--from",
        "dev0",
    ]);
    ok(&p1);
    let p2 = w.json(&[
        "dao",
        "propose",
        &club,
        "--title",
        "grab",
        "--transfer",
        &format!("{dev0}:900000"),
        "--from",
        "dev0",
    ]);
    ok(&p2);
    let p3 = w.json(&[
        "dao",
        "propose",
        &club,
        "--title",
        "forgotten",
        "--transfer",
        &format!("{dev0}:1"),
        "--from",
        "dev0",
    ]);
    ok(&p3);

    // Flash-loan attempt: dev1 bonds stake after the snapshot and tries to vote.
    ok(&w.json(&["stake", "delegate", "validator1", "50000000000000", "--from", "dev1"]));
    std::thread::sleep(Duration::from_millis(600));
    failed_with(&w, &["dao", "vote", &club, "1", "yes", "--from", "dev1"], "no voting power");

    // A dApp follows the DAO's proposals by event subscription.
    let info = w.json(&["dao", "info", &club]);
    let club_props = info["config"]["proposal_modules"][0].as_str().unwrap().to_owned();
    let ws_url = net.rpc_url(1).replace("http://", "ws://");
    let mut events = rt.block_on(async {
        use jsonrpsee::core::client::SubscriptionClientT;
        let ws = jsonrpsee::ws_client::WsClientBuilder::default().build(&ws_url).await.unwrap();
        let sub: jsonrpsee::core::client::Subscription<Value> = ws
            .subscribe(
                "agora_subscribeEvents",
                jsonrpsee::rpc_params![Option::<String>::None, club_props.clone()],
                "agora_unsubscribeEvents",
            )
            .await
            .unwrap();
        (ws, sub)
    });
    for v in ["validator0", "validator1", "validator2"] {
        ok(&w.json(&["dao", "vote", &club, "1", "yes", "--from", v]));
        ok(&w.json(&["dao", "vote", &club, "2", "no_with_veto", "--from", v]));
        ok(&w.json(&["dao", "vote", &club, "3", "yes", "--from", v]));
    }
    let shown = w.json(&["dao", "show", &club, "1", "--votes"]);
    assert_eq!(shown["votes"].as_array().unwrap().len(), 3, "{shown}");
    assert_eq!(shown["tally"]["yes"], "300000000000000", "the snapshot power of three validators: {shown}");
    // Voting twice is refused (no revoting in these rules).
    failed_with(&w, &["dao", "vote", &club, "1", "no", "--from", "validator0"], "");

    let kinds: Vec<String> = rt.block_on(async {
        let mut kinds = Vec::new();
        while kinds.len() < 9 {
            let next = tokio::time::timeout(Duration::from_secs(10), events.1.next()).await;
            let ev = next.expect("vote events arrive").expect("open").unwrap();
            assert_eq!(ev["event"]["attributes"][0][1], club_props, "{ev}");
            kinds.push(ev["event"]["kind"].as_str().unwrap().to_owned());
        }
        kinds
    });
    assert!(kinds.iter().all(|k| k == "wasm-vote"), "{kinds:?}");
    drop(events);

    wait_status(&w, &club, 1, "passed", Duration::from_secs(20));
    ok(&w.json(&["dao", "execute", &club, "1", "--from", "dev0"]));
    wait_status(&w, &club, 1, "executed", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(600));
    for (i, b) in before.iter().enumerate() {
        assert_eq!(balance(&net, i, &recipient), b + 12345, "node {i} sees the treasury transfer");
    }
    // Vetoed: closing burns the deposit.
    wait_status(&w, &club, 2, "vetoed", Duration::from_secs(10));
    let burned =
        |net: &Testnet| -> u128 { call(net, 0, "agora_supply", vec![])["burned"].as_str().unwrap().parse().unwrap() };
    let burned_before = burned(&net);
    let closed = w.json(&["dao", "close", &club, "2", "--from", "dev1"]);
    ok(&closed);
    assert!(closed.to_string().contains("burned"), "the deposit is burned: {closed}");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(burned(&net), burned_before + 1000, "the supply lost the deposit");
    // Passed but never executed: expires after the grace period.
    wait_status(&w, &club, 3, "expired", Duration::from_secs(20));
    failed_with(&w, &["dao", "execute", &club, "3", "--from", "dev0"], "");
    ok(&w.json(&["dao", "close", &club, "3", "--from", "dev0"]));
    let list = w.json(&["dao", "list", &club]);
    let statuses: Vec<&str> =
        list["proposals"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["executed", "vetoed", "expired"], "{list}");

    // --- A DAO voting with staked tokens. -----------------------------------
    let contracts = testnet::write_example_contracts(net.dir()).unwrap();
    let token_wasm = contracts.join("token.wasm");
    let stored = w.json(&["contract", "store", token_wasm.to_str().unwrap(), "--from", "dev1"]);
    let token_code = stored["code_hash"].as_str().unwrap().to_owned();
    let init = json!({"name": "Vote", "symbol": "VOTE", "decimals": 0, "initial_balances": [
        {"address": dev1, "amount": "700"}, {"address": dev0, "amount": "300"}]});
    let t = w.json(&["contract", "instantiate", &token_code, &init.to_string(), "--label", "vote", "--from", "dev1"]);
    let token = t["contract_address"].as_str().unwrap().to_owned();
    let r = w.json(&[
        "dao",
        "create",
        "--from",
        "dev1",
        "--name",
        "Token club",
        "--label",
        "token-club",
        "--core-code",
        &codes.dao_core.to_string(),
        "--proposals-code",
        &codes.dao_proposals.to_string(),
        "--voting-code",
        &codes.dao_voting_token.to_string(),
        "--token",
        &token,
        "--config",
        &rules.to_string(),
    ]);
    let tclub = r["dao"].as_str().unwrap().to_owned();
    ok(&w.json(&["dao", "stake-tokens", &tclub, "700", "--from", "dev1"]));
    std::thread::sleep(Duration::from_millis(600));
    ok(&w.json(&["dao", "propose", &tclub, "--title", "t", "--transfer", &format!("{dev1}:1"), "--from", "dev1"]));
    // dev0's tokens, staked after the snapshot, give no power on this proposal.
    ok(&w.json(&["dao", "stake-tokens", &tclub, "300", "--from", "dev0"]));
    std::thread::sleep(Duration::from_millis(600));
    failed_with(&w, &["dao", "vote", &tclub, "1", "yes", "--from", "dev0"], "no voting power");
    ok(&w.json(&["dao", "vote", &tclub, "1", "yes", "--from", "dev1"]));
    let p = w.json(&["dao", "show", &tclub, "1"]);
    assert_eq!((p["tally"]["yes"].as_str(), p["total_power"].as_str()), (Some("700"), Some("700")), "{p}");

    // --- The chain's governance DAO changes the minimum gas price. ---------
    let gp = w.json(&["dao", "propose", &gov, "--title", "gas", "--param", "min_gas_price=2", "--from", "dev0"]);
    ok(&gp);
    let bad = w.json(&["dao", "propose", &gov, "--title", "free gas", "--param", "min_gas_price=0", "--from", "dev0"]);
    ok(&bad);
    for v in ["validator0", "validator1", "validator2", "validator3"] {
        ok(&w.json(&["dao", "vote", &gov, "1", "yes", "--from", v]));
        ok(&w.json(&["dao", "vote", &gov, "2", "yes", "--from", v]));
    }
    wait_status(&w, &gov, 1, "passed", Duration::from_secs(60));
    ok(&w.json(&["dao", "execute", &gov, "1", "--from", "dev0"]));
    std::thread::sleep(Duration::from_millis(800));
    for i in 0..4 {
        let p = call(&net, i, "agora_chainParams", vec![]);
        assert_eq!(p["params"]["min_gas_price"], "2", "node {i}: {p}");
    }
    failed_with(&w, &["transfer", "--from", "dev0", "--to", &dev1, "--amount", "1", "--gas-price", "1"], "gas price");
    ok(&w.json(&["transfer", "--from", "dev0", "--to", &dev1, "--amount", "1"]));
    // The invalid value: the proposal's execution fails, nothing changes.
    wait_status(&w, &gov, 2, "passed", Duration::from_secs(10));
    ok(&w.json(&["dao", "execute", &gov, "2", "--from", "dev0"]));
    let p = wait_status(&w, &gov, 2, "execution_failed", Duration::from_secs(5));
    assert!(p.to_string().contains("min_gas_price"), "the reason names the field: {p}");
    assert_eq!(call(&net, 0, "agora_chainParams", vec![])["params"]["min_gas_price"], "2");
    net.stop_all().unwrap();
}
