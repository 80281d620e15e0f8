//! Command-line tests of `agora decentralization` and of the warning of
//! `agora stake delegate`, against the mock node with the index methods
//! registered by each test (the JSON shapes of `node/src/rpc_index.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::mock_node::{MockNode, State, rpc_err};
use common::{Env, stderr, stdout};
use decentralization::{Distribution, Report, Threshold};
use jsonrpsee::types::Params;
use ledger::{Address, Amount, Payload};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// One subsystem as `rpc_index::subsystem_json` renders it.
fn subsystem(name: &str, clustered: bool, weights: &[(&str, u128)]) -> Value {
    let d = Distribution::new(weights.iter().map(|(n, w)| (*n, *w))).unwrap();
    let total: u128 = weights.iter().map(|(_, w)| w).sum();
    json!({
        "name": name, "description": format!("{name} of the mock"), "weight": "voting_power",
        "clustered": clustered, "upper_bound": clustered, "entities": weights.len(),
        "listed_entities": weights.len(), "rest_weight": "0", "total": total.to_string(),
        "metrics_scope": "all entities", "metrics": Report::of(&d),
    })
}

/// The headline of `rpc_index::headline`: the minimum at each threshold.
fn headline(subsystems: &[Value]) -> Vec<Value> {
    Threshold::STANDARD
        .iter()
        .map(|t| {
            let values: Vec<(u64, &str)> = subsystems
                .iter()
                .filter_map(|s| {
                    let n = s["metrics"]["nakamoto"].as_array()?.iter().find(|n| n["name"] == t.name)?;
                    Some((n["value"].as_u64()?, s["name"].as_str()?))
                })
                .collect();
            let min = values.iter().map(|(v, _)| *v).min();
            let by: Vec<&str> = values.iter().filter(|(v, _)| Some(*v) == min).map(|(_, n)| *n).collect();
            json!({ "threshold": t.name, "fraction": t.fraction(), "comparison": t.cmp.symbol(), "rule": t.rule(),
                    "value": min, "subsystems": by })
        })
        .collect()
}

/// `agora_decentralization` for epoch `epoch`.
fn epoch_answer(epoch: u64) -> Value {
    let subsystems = vec![
        subsystem("validators", false, &[("agora1a", 40), ("agora1b", 30), ("agora1c", 20), ("agora1d", 10)]),
        subsystem("operators", true, &[("Big Co", 70), ("agora1c", 20), ("agora1d", 10)]),
        subsystem("countries", false, &[("DE", 50), ("FR", 25), ("US", 25)]),
    ];
    json!({
        "epoch": epoch, "start_height": epoch * 100 - 99, "end_height": epoch * 100,
        "end_time_ms": 1_700_000_000_000u64, "blocks": 100, "epoch_blocks": 100,
        "headline": headline(&subsystems), "subsystems": subsystems,
    })
}

/// The summary of `rpc_index::summary`.
fn summary(epoch: u64) -> Value {
    let e = epoch_answer(epoch);
    let subs: serde_json::Map<String, Value> = e["subsystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n: serde_json::Map<String, Value> = s["metrics"]["nakamoto"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| (n["name"].as_str().unwrap().to_owned(), n["value"].clone()))
                .collect();
            let v = json!({ "nakamoto": n, "hhi": s["metrics"]["hhi"], "entities": s["entities"] });
            (s["name"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    json!({ "epoch": epoch, "start_height": e["start_height"], "end_height": e["end_height"],
            "end_time_ms": e["end_time_ms"], "headline": e["headline"], "subsystems": subs })
}

fn named(method: &str, p: &Params<'_>) -> Value {
    Value::Object(common::mock_node::named(method, p).unwrap())
}

/// A mock node with the index methods; `latest` epochs have ended (none: error 1012).
fn index_node(latest: u64) -> (MockNode, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let node = MockNode::start_with(State::default(), move |m| {
        let s1 = s.clone();
        m.register_method("agora_decentralization", move |p, _, _| {
            let args = named("agora_decentralization", &p);
            s1.lock().unwrap().push(("agora_decentralization".into(), args.clone()));
            if latest == 0 {
                return Err(rpc_err(
                    1012,
                    "no epoch has ended yet (an epoch is 100 blocks; the chain is at height 5)",
                    None,
                ));
            }
            match args["epoch"].as_u64() {
                Some(e) if e == 0 || e > latest => {
                    Err(rpc_err(1012, format!("epoch {e} has not ended: epochs 1 to {latest} have"), None))
                }
                Some(e) => Ok(epoch_answer(e)),
                None => Ok(epoch_answer(latest)),
            }
        })
        .unwrap();
        let s2 = s.clone();
        m.register_method("agora_decentralizationHistory", move |p, _, _| {
            let args = named("agora_decentralizationHistory", &p);
            s2.lock().unwrap().push(("agora_decentralizationHistory".into(), args.clone()));
            let limit = args["limit"].as_u64().unwrap_or(20);
            if limit == 0 || limit > 100 {
                return Err(rpc_err(-32602, "`limit` must be between 1 and 100", None));
            }
            let from = args["from"].as_u64().unwrap_or(latest.saturating_sub(limit - 1).max(1));
            let to = (from + limit - 1).min(latest);
            let epochs: Vec<Value> = (from..=to).map(summary).collect();
            let next = (to < latest).then_some(to + 1);
            Ok::<_, jsonrpsee::types::ErrorObjectOwned>(json!({ "epochs": epochs, "latest": latest, "next": next }))
        })
        .unwrap();
        m.register_method("agora_decentralizationDistribution", move |p, _, _| {
            let args = named("agora_decentralizationDistribution", &p);
            if args["subsystem"] != "operators" {
                return Err(rpc_err(-32602, "unknown subsystem `x`; the subsystems are validators, operators", None));
            }
            Ok(json!({
                "epoch": latest, "end_height": latest * 100, "subsystem": "operators",
                "description": "voting power clustered by operator", "weight": "voting_power", "clustered": true,
                "total": "1000", "entities": [
                    {"entity": "Big Co", "weight": "700", "share": 0.7},
                    {"entity": "agora1c", "weight": "200", "share": 0.2}],
                "rest_entities": 2, "rest_weight": "100",
            }))
        })
        .unwrap();
    });
    (node, seen)
}

fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(out.status.success(), "agora {args:?}: {}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

#[test]
fn the_index_renders_as_a_table() {
    let env = Env::new();
    let (node, seen) = index_node(12);
    let text = ok(&env, &["decentralization", "--node", &node.url]);
    assert!(text.starts_with("epoch 12: heights 1101–1200 (100 blocks), ended 2023-11-14T22:13:20.000Z ("), "{text}");
    assert!(
        text.contains("minimum Nakamoto coefficient over subsystems (≥ 1/3, BFT halt): 1, set by validators, operators, countries\n"),
        "{text}"
    );
    assert!(
        text.contains("minimum Nakamoto coefficient over subsystems (> 2/3, control): 1, set by operators\n"),
        "{text}"
    );
    assert!(text.contains("minimum Nakamoto coefficient over subsystems (≥ 1/2, EDI): 1, set by operators, countries"));
    let row = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap().split_whitespace().collect::<Vec<_>>();
    assert!(text.contains("SUBSYSTEM   ENTITIES  N≥1/3  N>1/3  N≥1/2  N>1/2  N>2/3"), "{text}");
    // 40/30/20/10: N = 1, 1, 2, 2, 2; HHI 3000; Gini 0.25; largest share 40%.
    assert_eq!(
        row("validators"),
        ["validators", "4", "1", "1", "2", "2", "2", "3000", "0.250", "1.85", "0.923", "40.00%"]
    );
    assert_eq!(row("operators*")[..7], ["operators*", "3", "1", "1", "1", "1", "1"]);
    assert!(
        text.contains("N≥1/3  bft_halt      at least 1/3 of the total (BFT halt: enough to halt the chain)"),
        "{text}"
    );
    assert!(text.contains("N>1/3  safety        more than 1/3 of the total"), "{text}");
    assert!(text.contains(&format!("{}\n", wallet_cli::commands::decentralization::CLUSTER_NOTE)), "{text}");

    // --epoch is passed by name; -o json passes the node's answer through.
    let out = ok(&env, &["decentralization", "--epoch", "7", "--node", &node.url, "-o", "json"]);
    // Exactly the node's text, pretty-printed (floats are not parsed and rewritten).
    assert_eq!(out, serde_json::to_string_pretty(&epoch_answer(7)).unwrap() + "\n");
    assert_eq!(seen.lock().unwrap().last().unwrap().1, json!({"epoch": 7}));
    env.json(&["decentralization", "--height", "950", "--node", &node.url, "-o", "json"]);
    assert_eq!(seen.lock().unwrap().last().unwrap().1, json!({"height": 950}));

    let out = env.run(&["decentralization", "--epoch", "1", "--height", "5", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(2), "--epoch and --height exclude each other");
    let out = env.run(&["decentralization", "--epoch", "13", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("epoch 13 has not ended: epochs 1 to 12 have"), "{}", stderr(&out));
}

#[test]
fn node_errors_are_clear() {
    let env = Env::new();
    let (node, _) = index_node(0);
    let out = env.run(&["decentralization", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: cannot read the decentralization index (1012): no epoch has ended yet (an epoch is 100 blocks; the chain is at height 5)\n"
    );
    assert!(stdout(&out).is_empty());
    // A node without the index.
    let old = MockNode::start(State::default());
    let out = env.run(&["decentralization", "--node", &old.url, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    // Under -o json the error is the one document on stdout.
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("does not serve the decentralization index (an older version?) (-32601)"), "{e}");
    assert_eq!((e["error"]["kind"].as_str(), e["error"]["data"]["rpc_code"].as_i64()), (Some("rpc"), Some(-32601)));
    let port = common::closed_port();
    let out = env.run(&["decentralization", "--node", &format!("http://127.0.0.1:{port}")]);
    assert!(stderr(&out).starts_with("error: cannot reach node"), "{}", stderr(&out));
}

#[test]
fn history_pages() {
    let env = Env::new();
    let (node, seen) = index_node(130);
    let text = ok(&env, &["decentralization", "--history", "--limit", "3", "--node", &node.url]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("EPOCH") && lines[0].contains("OPERATORS*") && lines[0].contains("MIN N≥1/3"), "{text}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>()[..5],
        ["128", "12800", "2023-11-14T22:13:20.000Z", "1", "validators,operators,countries"]
    );
    assert_eq!(lines.iter().filter(|l| l.contains("2023-11-14")).count(), 3);
    let j =
        env.json(&["decentralization", "--history", "--from", "2", "--limit", "2", "--node", &node.url, "-o", "json"]);
    assert_eq!((j["epochs"].as_array().unwrap().len(), j["next"].as_u64()), (2, Some(4)));
    assert_eq!(j["epochs"][0], summary(2));
    assert_eq!(seen.lock().unwrap().last().unwrap().1, json!({"from": 2, "limit": 2}));

    // --all follows `next` from epoch 1 in pages of 100.
    seen.lock().unwrap().clear();
    let j = env.json(&["decentralization", "--history", "--all", "--node", &node.url, "-o", "json"]);
    let epochs: Vec<u64> = j["epochs"].as_array().unwrap().iter().map(|e| e["epoch"].as_u64().unwrap()).collect();
    assert_eq!(epochs, (1..=130).collect::<Vec<_>>());
    assert_eq!((j["latest"].as_u64(), &j["next"]), (Some(130), &Value::Null));
    assert_eq!(seen.lock().unwrap().len(), 2);
    let out = env.run(&["decentralization", "--history", "--limit", "101", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&["decentralization", "--all", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(2), "--all needs --history");
}

#[test]
fn distribution_of_a_subsystem() {
    let env = Env::new();
    let (node, _) = index_node(4);
    let text = ok(&env, &["decentralization", "--distribution", "operators", "--node", &node.url]);
    assert!(text.starts_with("epoch 4 (end height 400), operators*: voting power clustered by operator\n"), "{text}");
    assert!(text.contains("total weight 1000 over 4 entities"), "{text}");
    assert!(text.contains("Big Co      700  70.00%\n") && text.contains("agora1c     200  20.00%\n"), "{text}");
    assert!(text.contains("… and 2 more entities with weight 100 (10.00%)"), "{text}");
    let out = env.run(&["decentralization", "--distribution", "x", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown subsystem `x`"), "{}", stderr(&out));
}

#[test]
fn csv_files_offline() {
    let env = Env::new();
    let file = env.dir.path().join("pools.csv");
    std::fs::write(&file, "Organizations,2026-08-06\nA,40\n\"B, Inc.\",30\nC,20\nD,10\n").unwrap();
    let f = file.to_str().unwrap();
    // No node: a closed port would fail any RPC.
    let nowhere = format!("http://127.0.0.1:{}", common::closed_port());
    let text = ok(&env, &["decentralization", "--csv", f, "--node", &nowhere]);
    assert!(text.starts_with(&format!("{f} (2026-08-06)\n")), "{text}");
    let row: Vec<&str> =
        text.lines().filter(|l| l.starts_with(f)).nth(1).unwrap()[f.len()..].split_whitespace().collect();
    assert_eq!(row, ["4", "1", "1", "2", "2", "2", "3000", "0.250", "1.85", "0.923", "40.00%"]);
    assert!(text.contains("(the EDI's rule)") && text.contains("CR_3") && text.contains("Theil index"), "{text}");
    let j = env.json(&["decentralization", "--csv", f, "--node", &nowhere, "-o", "json"]);
    assert_eq!((j["date"].as_str(), j["entities"].as_u64()), (Some("2026-08-06"), Some(4)));
    assert_eq!((j["hhi"]["exact"].as_str(), j["gini"]["exact"].as_str()), (Some("3000/1"), Some("1/4")));
    assert_eq!(j["nakamoto"][0]["name"], "bft_halt");
    assert_eq!(j["nakamoto"][0]["value"], 1);

    // From stdin.
    let mut c = env.cmd(&["decentralization", "--csv", "-", "-o", "json"]);
    c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"entity,weight\nx,1\ny,1\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((j["date"].as_str(), j["hhi"]["exact"].as_str()), (Some("weight"), Some("5000/1")));

    std::fs::write(&file, "entity,weight\nA,40\nB,thirty\n").unwrap();
    let out = env.run(&["decentralization", "--csv", f]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 3: weight \"thirty\" is not a non-negative integer"), "{}", stderr(&out));
    let out = env.run(&["decentralization", "--csv", "/nonexistent.csv"]);
    assert!(stderr(&out).contains("cannot read the CSV file: /nonexistent.csv"), "{}", stderr(&out));
    let out = env.run(&["decentralization", "--csv", f, "--epoch", "3"]);
    assert_eq!(out.status.code(), Some(2), "--csv is offline: no --epoch");
}

/// The answer of `agora_delegationCheck` for `a` (`rpc_index::delegation_check`).
fn check(a: Address, c: Address, warn: bool) -> Value {
    json!({
        "validator": a, "moniker": "alpha", "operator": a.to_string(), "power": 5, "total_power": "8",
        "threshold": {"name": "bft_halt", "fraction": "1/3", "comparison": ">=", "rule": Threshold::BFT_HALT.rule()},
        "halting_validators": [a], "halting_operators": [a.to_string()],
        "in_halting_validators": warn, "in_halting_operators": warn, "warn": warn,
        "alternatives": [{"validator": c, "moniker": "gamma", "operator": c.to_string(), "power": "1",
                          "commission": "0.1", "operator_holds_one_third": false}],
    })
}

fn staking_node(env: &Env, answer: Option<Value>) -> (MockNode, Address) {
    env.new_key("del");
    let state = State { balance: 1_000_000_000, ..State::default() };
    let node = match answer {
        Some(v) => MockNode::start_with(state, move |m| {
            m.register_method("agora_delegationCheck", move |_, _, _| v.clone()).unwrap();
        }),
        None => MockNode::start(state),
    };
    let (a, b, c) = (Address([1; 20]), Address([2; 20]), Address([3; 20]));
    {
        let mut st = node.state();
        st.contracts.staking.add_validator(a, "alpha", 5_000_000);
        st.contracts.staking.add_validator(b, "beta", 2_000_000);
        st.contracts.staking.add_validator(c, "gamma", 1_000_000);
    }
    (node, a)
}

#[test]
fn delegating_to_the_largest_warns_but_goes_through() {
    let env = Env::new();
    let (a, c) = (Address([1; 20]), Address([3; 20]));
    let (node, _) = staking_node(&env, Some(check(a, c, true)));
    let sa = a.to_string();
    let out = env.run(&["stake", "delegate", &sa, "1000", "--from", "del", "--node", &node.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains(&format!(
            "warning: alpha ({a}) alone holds at least 1/3 of the voting power, and its operator `{a}` alone holds at least 1/3 of the voting power: enough to halt the chain. Delegating to it concentrates power further. Smaller validators: gamma {c} (power 1, commission 10%)."
        )),
        "{e}"
    );
    assert!(!stdout(&out).contains("warning"), "the warning goes to stderr");
    assert_eq!(
        node.state().committed.last().unwrap().0.body.payload,
        Payload::Delegate { validator: a, amount: Amount::new(1000) }
    );

    // -o json: the check is in the document, not on stderr.
    let out = env.run(&["stake", "delegate", &sa, "10", "--from", "del", "--node", &node.url, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("halt the chain"), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["decentralization_warning"], check(a, c, true));
    assert_eq!(node.state().committed.len(), 2);
}

#[test]
fn no_warning_when_the_check_says_no_or_is_unknown() {
    let env = Env::new();
    let (a, c) = (Address([1; 20]), Address([3; 20]));
    let (node, _) = staking_node(&env, Some(check(a, c, false)));
    let out = env.run(&["stake", "delegate", &a.to_string(), "1000", "--from", "del", "--node", &node.url]);
    assert!(out.status.success() && !stderr(&out).contains("halt"), "{}", stderr(&out));

    // An older node without agora_delegationCheck: nothing said, the delegation goes through.
    let env = Env::new();
    let (node, a) = staking_node(&env, None);
    let out = env.run(&["stake", "delegate", &a.to_string(), "1000", "--from", "del", "--node", &node.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("halt") && !stderr(&out).contains("debug"), "{}", stderr(&out));
    let j = env.json(&["stake", "delegate", &a.to_string(), "5", "--from", "del", "--node", &node.url, "-o", "json"]);
    assert_eq!(j["decentralization_warning"], Value::Null);
    assert_eq!(node.state().committed.len(), 2);
    let out = env
        .cmd(&["stake", "delegate", &a.to_string(), "5", "--from", "del", "--node", &node.url])
        .env("AGORA_DEBUG", "1")
        .output()
        .unwrap();
    assert!(stderr(&out).contains("debug: decentralization check skipped"), "{}", stderr(&out));
}
