//! Command-line tests of `agora contract …` against the mock node, whose
//! contracts behave like a counter (see `tests/common/mock_node.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use common::mock_node::{self, MockNode, State};
use common::{Env, stderr, stdout};
use ledger::{Address, Amount, Hash, Payload};
use serde_json::{Value, json};
use wallet_cli::parse::GasAdjustment;

fn node(balance: u128) -> MockNode {
    MockNode::start(State { balance, ..State::default() })
}

/// Writes a fake wasm module of `size` bytes (the magic, then filler).
fn wasm(env: &Env, name: &str, size: usize) -> String {
    let mut code = b"\0asm\x01\0\0\0".to_vec();
    code.extend((0..size.saturating_sub(8)).map(|i| (i % 251) as u8));
    let path = env.dir.path().join(name);
    std::fs::write(&path, &code).unwrap();
    path.display().to_string()
}

/// Stores code and instantiates it with `{"count": 5}`; returns (code hash, address).
fn deploy(env: &Env, node: &MockNode, label: &str) -> (String, String) {
    let file = wasm(env, &format!("{label}.wasm"), 300);
    let stored = env.json(&["contract", "store", &file, "--from", "alice", "--node", &node.url, "-o", "json"]);
    let code_hash = stored["code_hash"].as_str().unwrap().to_owned();
    let inst = env.json(&[
        "contract",
        "instantiate",
        &code_hash,
        r#"{"count": 5}"#,
        "--label",
        label,
        "--from",
        "alice",
        "--node",
        &node.url,
        "-o",
        "json",
    ]);
    (code_hash, inst["contract_address"].as_str().unwrap().to_owned())
}

/// The gas limit `--gas auto` must have chosen for the last committed transaction.
fn expected_auto_gas(node: &MockNode) -> (u64, u64) {
    let st = node.state();
    let (tx, _) = st.committed.last().unwrap();
    let mut copy = st.contracts.clone();
    // Re-run against the state before the transaction: gas of the mock does not
    // depend on it, only on the payload and the size.
    let used = mock_node::run_payload(&mut copy, false, tx, 0).gas;
    (tx.body.gas_limit, GasAdjustment::DEFAULT.apply(used, mock_node::MAX_TX_GAS))
}

#[test]
fn store_uploads_code_and_refuses_bad_files_locally() {
    let env = Env::new();
    let alice = env.new_key("alice");
    let node = node(1_000_000_000);
    let file = wasm(&env, "counter.wasm", 1000);
    let code = std::fs::read(&file).unwrap();

    let out = env.json(&["contract", "store", &file, "--from", "alice", "--node", &node.url, "-o", "json"]);
    let hash = Hash::digest(&code).to_string();
    assert_eq!(out["code_hash"], hash.as_str());
    assert_eq!(out["code_size"], 1000);
    assert_eq!(out["receipt"]["status"], "success");
    assert_eq!(out["receipt"]["data"], hash.as_str(), "the receipt's data is the code hash");
    assert_eq!(out["from"], alice["address"]);
    {
        let st = node.state();
        assert_eq!(st.estimates, 1, "--gas auto is the default: one dry run");
        let (tx, height) = &st.committed[0];
        let Payload::StoreCode { code: sent } = &tx.body.payload else { panic!("not a store: {:?}", tx.body.payload) };
        assert_eq!(sent, &code);
        assert_eq!(out["height"], *height);
        assert_eq!(out["hash"], tx.hash().to_string());
        let used = mock_node::intrinsic_gas(tx) + mock_node::STORE_GAS_PER_BYTE * 1000;
        assert_eq!(out["gas_estimate"], used);
        assert_eq!(out["receipt"]["gas_used"], used);
        assert_eq!(tx.body.gas_limit, GasAdjustment::DEFAULT.apply(used, mock_node::MAX_TX_GAS));
        assert_eq!(tx.body.gas_limit, (used * 13).div_ceil(10), "used × 1.3, rounded up");
    }

    // Text output.
    let out = env.run(&["contract", "store", &file, "--from", "alice", "--node", &node.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [format!("code hash: {hash}"), "code size: 1000 bytes".into(), "tx hash:".into()] {
        assert!(text.contains(&want), "{want:?} in\n{text}");
    }
    for want in ["height:", "status:    success", "gas used:", "fee:", "gas limit:", "(auto: the dry run used"] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }

    // `agora tx` shows the upload.
    let tx_hash = node.state().committed[1].0.hash().to_string();
    let text = stdout(&env.run(&["tx", &tx_hash, "--node", &node.url]));
    assert!(text.contains("store code") && text.contains("1000 bytes") && text.contains(&hash), "{text}");

    // code-info, and the code saved back.
    let text = stdout(&env.run(&["contract", "code-info", &hash, "--node", &node.url]));
    assert!(text.contains("size:") && text.contains("1000 bytes") && text.contains("uploaded at: height 6"), "{text}");
    let saved = env.dir.path().join("saved.wasm");
    let info = env.json(&[
        "contract",
        "code-info",
        &hash,
        "--save",
        saved.to_str().unwrap(),
        "--node",
        &node.url,
        "-o",
        "json",
    ]);
    assert_eq!(info["size"], 1000);
    assert_eq!(std::fs::read(&saved).unwrap(), code);
    let out = env.run(&["contract", "code-info", &"ab".repeat(32), "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("code {} not found", "ab".repeat(32))), "{}", stderr(&out));

    // Local refusals: nothing reaches the node.
    let estimates = node.state().estimates;
    let missing = env.dir.path().join("missing.wasm");
    let out = env.run(&["contract", "store", missing.to_str().unwrap(), "--from", "alice", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read the contract code:") && stderr(&out).contains("missing.wasm"));
    let text_file = env.dir.path().join("counter.wat");
    std::fs::write(&text_file, "(module)").unwrap();
    let out = env.run(&["contract", "store", text_file.to_str().unwrap(), "--from", "alice", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a WebAssembly module: it does not start with the `\\0asm` magic bytes"));
    assert_eq!(node.state().estimates, estimates);
    assert_eq!(node.state().committed.len(), 2);

    // Above the chain's max_code_bytes.
    let small = MockNode::start(State { balance: 1_000_000_000, max_code_bytes: Some(999), ..State::default() });
    let out = env.run(&["contract", "store", &file, "--from", "alice", "--node", &small.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is 1000 bytes, above the chain's limit of 999 bytes (max_code_bytes)"),
        "{}",
        stderr(&out)
    );
    let st = small.state();
    assert_eq!((st.estimates, st.committed.len()), (0, 0));
    drop(st);
}

#[test]
fn instantiate_prints_the_address() {
    let env = Env::new();
    let alice = env.new_key("alice");
    let node = node(1_000_000_000);
    let file = wasm(&env, "counter.wasm", 300);
    let stored = env.json(&["contract", "store", &file, "--from", "alice", "--node", &node.url, "-o", "json"]);
    let code_hash = stored["code_hash"].as_str().unwrap().to_owned();
    let creator: Address = alice["address"].as_str().unwrap().parse().unwrap();

    let out = env.json(&[
        "contract",
        "instantiate",
        &code_hash,
        r#"{ "count": 5 }"#,
        "--label",
        "my counter",
        "--funds",
        "100",
        "--from",
        "alice",
        "--node",
        &node.url,
        "-o",
        "json",
    ]);
    let expected = ledger::contract_address(&code_hash.parse().unwrap(), &creator, "my counter");
    assert_eq!(out["contract_address"], expected.to_string());
    assert_eq!(out["receipt"]["data"], hex::encode(expected.0));
    assert_eq!((out["label"].as_str(), out["funds"].as_str()), (Some("my counter"), Some("100")));
    let kinds: Vec<&str> =
        out["receipt"]["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["fee", "instantiate", "wasm-init"]);
    {
        let st = node.state();
        let (tx, _) = st.committed.last().unwrap();
        let Payload::Instantiate { msg, funds, label, .. } = &tx.body.payload else { panic!("not an instantiate") };
        assert_eq!(msg, br#"{"count":5}"#, "the message is sent compact");
        assert_eq!((*funds, label.as_str()), (Amount::new(100), "my counter"));
        assert_eq!(st.contracts.instances[&expected].balance, 100);
    }
    let (limit, want) = expected_auto_gas(&node);
    assert_eq!(limit, want);

    // Text output.
    let out = env.run(&[
        "contract",
        "instantiate",
        &code_hash,
        "{}",
        "--label",
        "second",
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let second = ledger::contract_address(&code_hash.parse().unwrap(), &creator, "second");
    for want in [
        format!("contract:  {second}"),
        format!("code hash: {code_hash}"),
        "label:     second".into(),
        "status:    success".into(),
        format!("wasm-init [{second}] count=0"),
        format!("instantiate contract_address={second}"),
    ] {
        assert!(text.contains(&want), "{want:?} in\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with("events:    fee payer=")), "{text}");

    // The same label again: the dry run fails, nothing is sent.
    let committed = node.state().committed.len();
    let out = env.run(&[
        "contract",
        "instantiate",
        &code_hash,
        "{}",
        "--label",
        "second",
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the dry run of this instantiation failed: contract address")
            && stderr(&out).contains("already exists; choose another label; nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(node.state().committed.len(), committed);

    // info.
    let info = env.json(&["contract", "info", &expected.to_string(), "--node", &node.url, "-o", "json"]);
    assert_eq!((info["label"].as_str(), info["balance"].as_str()), (Some("my counter"), Some("100")));
    let text = stdout(&env.run(&["contract", "info", &expected.to_string(), "--node", &node.url]));
    for want in [format!("creator:    {creator}"), "created at: height 7".into(), "balance:    100".into()] {
        assert!(text.contains(&want), "{want:?} in\n{text}");
    }
    let nobody = Address([1; 20]).to_string();
    let out = env.run(&["contract", "info", &nobody, "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("contract {nobody} not found")), "{}", stderr(&out));

    // `agora tx` shows the message as JSON, the label and the new address.
    let tx_hash = node.state().committed[1].0.hash().to_string();
    let text = stdout(&env.run(&["tx", &tx_hash, "--node", &node.url]));
    for want in
        [r#"msg:        {"count":5}"#.to_owned(), "label:      my counter".into(), format!("contract:   {expected}")]
    {
        assert!(text.contains(&want), "{want:?} in\n{text}");
    }
}

#[test]
fn execute_shows_events_and_data() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000_000);
    let (_, addr) = deploy(&env, &node, "counter");

    let out =
        env.run(&["contract", "execute", &addr, r#"{"increment": {"by": 2}}"#, "--from", "alice", "--node", &node.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        format!("contract:  {addr}"),
        "status:    success".into(),
        format!(r#"wasm-increment [{addr}] by=2 count=7 note="counted by the mock""#),
        "data:      {".into(),
        "             \"count\": 7".into(),
        "gas used:".into(),
        "fee:".into(),
    ] {
        assert!(text.contains(&want), "{want:?} in\n{text}");
    }
    let (limit, want) = expected_auto_gas(&node);
    assert_eq!(limit, want);

    // JSON, with funds.
    let out = env.json(&[
        "contract",
        "execute",
        &addr,
        r#"{"increment":{"by":2}}"#,
        "--funds",
        "7",
        "--from",
        "alice",
        "--node",
        &node.url,
        "-o",
        "json",
    ]);
    assert_eq!(out["data"], json!({"count": 9}));
    assert_eq!(out["data_hex"], hex::encode(br#"{"count":9}"#));
    assert_eq!(out["contract"], addr.as_str());
    assert_eq!(out["funds"], "7");
    assert_eq!(out["receipt"]["events"][1]["attributes"][0], json!(["_contract", addr]));

    // Data that is not JSON is shown as hex; no data as (none).
    let text =
        stdout(&env.run(&["contract", "execute", &addr, r#"{"raw":{}}"#, "--from", "alice", "--node", &node.url]));
    assert!(text.contains("data:      0xdeadbeef"), "{text}");
    let out = env.json(&[
        "contract",
        "execute",
        &addr,
        r#"{"raw":{}}"#,
        "--from",
        "alice",
        "--node",
        &node.url,
        "-o",
        "json",
    ]);
    assert_eq!((out["data"].clone(), out["data_hex"].as_str()), (Value::Null, Some("deadbeef")));
    let text =
        stdout(&env.run(&["contract", "execute", &addr, r#"{"reset":{}}"#, "--from", "alice", "--node", &node.url]));
    assert!(text.contains("data:      (none)") && text.contains(&format!("wasm-reset [{addr}]")), "{text}");

    // An explicit gas limit is used as is, without a dry run.
    let estimates = node.state().estimates;
    let out = env.run(&[
        "contract",
        "execute",
        &addr,
        r#"{"increment":{}}"#,
        "--gas",
        "123456",
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("gas limit: 123456\n"), "{}", stdout(&out));
    let st = node.state();
    assert_eq!(st.estimates, estimates);
    assert_eq!(st.committed.last().unwrap().0.body.gas_limit, 123_456);

    // `agora tx` of an execution.
    let hash = st.committed.last().unwrap().0.hash().to_string();
    drop(st);
    let text = stdout(&env.run(&["tx", &hash, "--node", &node.url]));
    assert!(text.contains(r#"msg:        {"increment":{}}"#) && text.contains(r#"result:     {"count":1}"#), "{text}");
}

#[test]
fn gas_auto_failure_sends_nothing_and_failed_receipts_exit_non_zero() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000_000);
    let (_, addr) = deploy(&env, &node, "counter");
    let committed = node.state().committed.len();

    let fail = r#"{"fail":{"reason":"not today"}}"#;
    let out = env.run(&["contract", "execute", &addr, fail, "--from", "alice", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the dry run of this execution failed: contract aborted: not today; nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(node.state().committed.len(), committed, "nothing was sent");
    let out = env.run(&["contract", "execute", &addr, r#"{"nope":{}}"#, "--from", "alice", "--node", &node.url]);
    assert!(stderr(&out).contains("unknown variant `nope`, expected one of"), "{}", stderr(&out));

    // With an explicit gas limit the transaction is sent, and fails on chain.
    let out = env.run(&[
        "contract", "execute", &addr, fail, "--gas", "200000", "--from", "alice", "--node", &node.url, "-o", "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "committed but failed: {}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &doc["error"]["data"];
    assert_eq!(result["receipt"]["status"], "failed");
    assert_eq!(result["receipt"]["reason"], "contract aborted: not today");
    assert_eq!(result["data"], Value::Null);
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("was included at height") && message.contains("but failed: contract aborted: not today"),
        "{doc}"
    );
    let out = env.run(&[
        "contract",
        "execute",
        &addr,
        r#"{"increment":{}}"#,
        "--gas",
        "10000",
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("status:    failed (out of gas: needs"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("data:"), "{}", stdout(&out));
    assert_eq!(node.state().contracts.instances.values().next().unwrap().count, 5, "failures change nothing");

    // A failed instantiation prints no address.
    let code_hash = Hash([9; 32]).to_string();
    let out = env.run(&[
        "contract",
        "instantiate",
        &code_hash,
        "{}",
        "--label",
        "x",
        "--gas",
        "200000",
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout(&out).contains("contract:") && stdout(&out).contains("no code with hash"), "{}", stdout(&out));

    // Funds and fee beyond the balance are refused before signing.
    let out = env.run(&[
        "contract",
        "execute",
        &addr,
        r#"{"increment":{}}"#,
        "--funds",
        "999999999",
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("insufficient balance") && stderr(&out).contains("funds 999999999 + maximum fee"));
    let out =
        env.run(&["contract", "execute", &addr, "{}", "--gas", "100000001", "--from", "alice", "--node", &node.url]);
    assert!(stderr(&out).contains("above the chain's per-transaction maximum 100000000"), "{}", stderr(&out));
}

#[test]
fn query_info_and_storage() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000_000);
    let (_, addr) = deploy(&env, &node, "counter");

    let out = env.run(&["contract", "query", &addr, r#"{"get_count": {}}"#, "--node", &node.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\n  \"count\": 5\n}\n", "pretty JSON only");
    let q = node.state().queries.last().cloned().unwrap();
    assert_eq!(q["msg_hex"], hex::encode(br#"{"get_count":{}}"#), "the exact compact bytes");
    assert_eq!(q["address"], addr.as_str());
    let doc = env.json(&["contract", "query", &addr, r#"{"get_count":{}}"#, "--node", &node.url, "-o", "json"]);
    assert_eq!(doc["data"], json!({"count": 5}));
    assert_eq!(doc["gas_used"], mock_node::QUERY_GAS);
    assert_eq!(stdout(&env.run(&["contract", "query", &addr, r#"{"raw":{}}"#, "--node", &node.url])), "0xdead\n");
    let env_file = env.dir.path().join("q.json");
    std::fs::write(&env_file, "{\n  \"get_count\": {}\n}\n").unwrap();
    let out = env.run(&["contract", "query", &addr, &format!("@{}", env_file.display()), "--node", &node.url]);
    assert_eq!(stdout(&out), "{\n  \"count\": 5\n}\n", "{}", stderr(&out));

    // The contract's error, with the node's code.
    let out = env.run(&["contract", "query", &addr, r#"{"nope":{}}"#, "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the contract refused the query (1014): query failed: unknown variant `nope`"),
        "{}",
        stderr(&out)
    );
    let nobody = Address([1; 20]).to_string();
    let out = env.run(&["contract", "query", &nobody, "{}", "--node", &node.url]);
    assert!(stderr(&out).contains(&format!("error: contract {nobody} not found")), "{}", stderr(&out));

    // Storage: everything, one key, pages.
    let out = env.run(&["contract", "storage", &addr, "--node", &node.url]);
    let text = stdout(&out);
    assert_eq!(
        text,
        format!(
            "0x00016d: 0xff0010\ncount:    5\nlabel:    counter\nowner:    \"{}\"\n",
            node.state().contracts.instances.values().next().unwrap().creator
        )
    );
    let text = stdout(&env.run(&["contract", "storage", &addr, "--key", "count", "--node", &node.url]));
    assert_eq!(text, "key:   count\nvalue: 5\n");
    let text = stdout(&env.run(&["contract", "storage", &addr, "--key", "0x00016d", "--node", &node.url]));
    assert_eq!(text, "key:   0x00016d\nvalue: 0xff0010\n");
    let text = stdout(&env.run(&["contract", "storage", &addr, "--key", "missing", "--node", &node.url]));
    assert_eq!(text, "key:   missing\nvalue: (not set)\n");
    let out = env.run(&["contract", "storage", &addr, "--limit", "2", "--node", &node.url]);
    assert_eq!(stdout(&out), "0x00016d: 0xff0010\ncount:    5\n");
    let next = format!("--start-after 0x{}", hex::encode("count"));
    assert!(stderr(&out).contains(&next), "{}", stderr(&out));
    let out = env.run(&["contract", "storage", &addr, "--start-after", "count", "--node", &node.url]);
    assert!(stdout(&out).starts_with("label: counter\nowner: \""), "{}", stdout(&out));
    let doc = env.json(&["contract", "storage", &addr, "--limit", "1", "--node", &node.url, "-o", "json"]);
    assert_eq!(doc["entries"][0], json!({"key_hex": "00016d", "value_hex": "ff0010"}));
    assert_eq!(doc["next_start_after_hex"], "00016d");
}

#[test]
fn bad_json_messages_are_refused_locally() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000_000);
    let addr = Address([1; 20]).to_string();

    let out = env.run(&["contract", "execute", &addr, "{increment:{}}", "--from", "alice", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("invalid JSON message: key must be a string at line 1 column 2"), "{err}");
    assert!(err.contains("single quotes"), "{err}");
    let out = env.run(&["contract", "query", &addr, r#"{"get_count": }"#, "--node", &node.url]);
    assert!(stderr(&out).contains("invalid JSON message: expected value at line 1 column 15"), "{}", stderr(&out));
    let code = Hash([2; 32]).to_string();
    let out =
        env.run(&["contract", "instantiate", &code, "{} {}", "--label", "l", "--from", "alice", "--node", &node.url]);
    assert!(stderr(&out).contains("invalid JSON message: trailing characters at line 1 column 4"), "{}", stderr(&out));
    let bad = env.dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"a\": [1, 2,]\n}").unwrap();
    let out = env.run(&[
        "contract",
        "execute",
        &addr,
        &format!("@{}", bad.display()),
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert!(
        stderr(&out).contains("invalid JSON message in ")
            && stderr(&out).contains("bad.json: trailing comma at line 2 column 14"),
        "{}",
        stderr(&out)
    );
    let out =
        env.run(&["contract", "execute", &addr, "@/nonexistent/msg.json", "--from", "alice", "--node", &node.url]);
    assert!(stderr(&out).contains("cannot read the message file: /nonexistent/msg.json"), "{}", stderr(&out));

    // Usage errors from the argument parser (exit 2).
    let out = env.run(&["contract", "execute", "agora1nope", "{}", "--from", "alice", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&["contract", "execute", &addr, "{}", "--gas", "plenty", "--from", "alice", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(2));

    let st = node.state();
    assert_eq!((st.estimates, st.queries.len(), st.committed.len()), (0, 0, 0), "nothing reached the node");
}
