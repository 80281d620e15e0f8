//! The wallet conventions against the mock node: the pinned chain id (flag,
//! environment, client.toml, and their precedence), `agora config`, the one
//! gas flag shape (`--gas`, `--gas-adjustment`, `--fees`, `--no-wait`) on
//! every transaction command, the exit codes (0 committed, 1 failed, 2 usage,
//! 3 not committed yet, 4 refused) and errors as JSON under `-o json`.
#![allow(clippy::unwrap_used)]

mod common;

use common::mock_node::{self, MockNode, State};
use common::{Env, stderr, stdout};
use ledger::Amount;
use serde_json::Value;

fn node(balance: u128) -> MockNode {
    MockNode::start(State { balance, ..State::default() })
}

fn transfer<'a>(node: &'a MockNode, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "5"];
    a.extend_from_slice(extra);
    a
}

/// The one JSON document on stdout.
fn doc(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}{}", stdout(out), stderr(out)))
}

#[test]
fn the_pinned_chain_id_is_enforced_with_flag_env_file_precedence() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(1_000_000);

    // Nothing pinned: the node's chain, and a note on stderr, once.
    let out = env.run(&transfer(&node, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let note = "no chain id pinned; signing for the node's chain `agora-test`";
    assert_eq!(stderr(&out).matches(note).count(), 1, "{}", stderr(&out));

    // --chain-id: another chain is refused with exit 4, before anything is signed or sent.
    let seen = |node: &MockNode| {
        let st = node.state();
        (st.estimates, st.committed.len())
    };
    let before = seen(&node);
    let out = env.run(&transfer(&node, &["--chain-id", "agora-other"]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("on chain `agora-test`, but the wallet is pinned to chain `agora-other` (--chain-id)")
            && err.contains("nothing was signed or sent"),
        "{err}"
    );
    assert_eq!(seen(&node), before, "no dry run, nothing sent");
    let out = env.run(&transfer(&node, &["--chain-id", mock_node::CHAIN_ID]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("no chain id pinned"), "{}", stderr(&out));

    // The environment, under -o json: the error on stdout.
    let out = env.cmd(&transfer(&node, &["-o", "json"])).env("AGORA_CHAIN_ID", "agora-other").output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let e = doc(&out);
    assert_eq!((e["error"]["code"].as_u64(), e["error"]["kind"].as_str()), (Some(4), Some("wrong_chain")), "{e}");
    assert_eq!(e["error"]["data"]["pinned_by"], "AGORA_CHAIN_ID");
    assert_eq!(e["error"]["data"]["node_chain_id"], mock_node::CHAIN_ID);
    // The flag beats the environment.
    let out = env
        .cmd(&transfer(&node, &["--chain-id", mock_node::CHAIN_ID]))
        .env("AGORA_CHAIN_ID", "agora-other")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // client.toml, written by `agora config`.
    let out = env.run(&["config", "chain-id", "agora-other"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::read_to_string(env.keyring().join("client.toml")).unwrap();
    assert!(file.contains("chain-id = \"agora-other\""), "{file}");
    let out = env.run(&transfer(&node, &[]));
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("(chain-id in client.toml)"), "{}", stderr(&out));
    // The environment beats the file, the flag beats both.
    let out = env.cmd(&transfer(&node, &[])).env("AGORA_CHAIN_ID", mock_node::CHAIN_ID).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&transfer(&node, &["--chain-id", mock_node::CHAIN_ID]));
    assert!(out.status.success(), "{}", stderr(&out));
    // Every transaction command goes through the same check.
    let a = ledger::Address([3; 20]).to_string();
    for cmd in [
        vec!["contract", "execute", &a, "{}", "--from", "alice", "--node", &node.url],
        vec!["stake", "delegate", &a, "5", "--from", "alice", "--node", &node.url],
    ] {
        let out = env.run(&cmd);
        assert_eq!(out.status.code(), Some(4), "{cmd:?}: {}", stderr(&out));
    }

    // Pinned to the node's chain: no note.
    env.run(&["config", "chain-id", mock_node::CHAIN_ID]);
    let out = env.run(&transfer(&node, &[]));
    assert!(out.status.success() && !stderr(&out).contains("note:"), "{}", stderr(&out));

    // A bad value is a usage error from the flag, and refused in the file or environment.
    let out = env.run(&transfer(&node, &["--chain-id", "two words"]));
    assert_eq!(out.status.code(), Some(2));
    let out = env.cmd(&transfer(&node, &[])).env("AGORA_CHAIN_ID", "a b").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid chain id"), "{}", stderr(&out));
}

#[test]
fn config_shows_sets_and_unsets() {
    let env = Env::new();
    let node = node(1_000_000);
    // Nothing set: the defaults.
    let c = env.json(&["config", "-o", "json"]);
    assert_eq!(c["chain-id"]["value"], Value::Null);
    assert_eq!(
        (c["node"]["value"].as_str(), c["node"]["source"].as_str()),
        (Some("http://127.0.0.1:26657"), Some("default"))
    );
    assert_eq!((c["output"]["value"].as_str(), c["output"]["source"].as_str()), (Some("json"), Some("flag")));

    // node and output in the file are used.
    assert!(env.run(&["config", "node", &node.url]).status.success());
    assert!(env.run(&["config", "output", "json"]).status.success());
    let s = env.json(&["status"]);
    assert_eq!(s["chain_id"], mock_node::CHAIN_ID, "the node from client.toml, JSON from client.toml");
    let c = env.json(&["config"]);
    assert_eq!((c["node"]["value"].as_str(), c["node"]["source"].as_str()), (Some(node.url.as_str()), Some("file")));
    // The flag and the environment win over the file.
    let out = env.run(&["status", "-o", "text"]);
    assert!(stdout(&out).contains("latest height:"), "{}", stdout(&out));
    let out = env.cmd(&["config", "node"]).env("AGORA_NODE", "http://127.0.0.1:9").output().unwrap();
    assert_eq!(doc(&out)["source"], "env");
    let c = env.json(&["config", "node", "--node", "http://127.0.0.1:8"]);
    assert_eq!((c["value"].as_str(), c["source"].as_str()), (Some("http://127.0.0.1:8"), Some("flag")));

    // Bad values are refused and the file is unchanged.
    let before = std::fs::read_to_string(env.keyring().join("client.toml")).unwrap();
    for (k, v) in [("node", "ftp://x"), ("output", "yaml"), ("chain-id", "a b")] {
        let out = env.run(&["config", k, v]);
        assert_eq!(out.status.code(), Some(1), "{k} {v}");
    }
    assert_eq!(std::fs::read_to_string(env.keyring().join("client.toml")).unwrap(), before);
    assert_eq!(env.run(&["config", "colour", "red"]).status.code(), Some(2), "unknown key: usage");

    // --unset removes a setting; with none left, the file goes.
    assert!(env.run(&["config", "node", "--unset"]).status.success());
    assert!(env.run(&["config", "output", "--unset", "-o", "text"]).status.success());
    assert!(!env.keyring().join("client.toml").exists());
    let out = env.run(&["config", "node"]);
    assert_eq!(stdout(&out).trim(), "http://127.0.0.1:26657");

    // A broken file is reported with its path.
    std::fs::write(env.keyring().join("client.toml"), "node = 5\n").unwrap();
    let out = env.run(&["config"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("client.toml"), "{}", stderr(&out));
}

#[test]
fn exit_codes_are_distinct() {
    let env = Env::new();
    env.new_key("alice");

    // 0: committed and succeeded.
    let node = node(1_000_000);
    assert_eq!(env.run(&transfer(&node, &[])).status.code(), Some(0));

    // 1: committed but failed (and any other error).
    let failing = MockNode::start(State { balance: 1_000_000, fail_receipts: true, ..State::default() });
    assert_eq!(env.run(&transfer(&failing, &[])).status.code(), Some(1));

    // 2: usage error, as JSON under -o json.
    let out = env.run(&transfer(&node, &["--gas-adjustment", "0.5", "-o", "json"]));
    assert_eq!(out.status.code(), Some(2));
    let e = doc(&out);
    assert_eq!((e["error"]["code"].as_u64(), e["error"]["kind"].as_str()), (Some(2), Some("usage")), "{e}");
    assert!(e["error"]["data"]["detail"].as_str().unwrap().contains("gas adjustment"), "{e}");
    let out = env.run(&transfer(&node, &["--gas-adjustment", "0.5"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty() && stderr(&out).contains("below 1"), "{}", stderr(&out));
    let out = env.run(&transfer(&node, &["--timeout", "0s"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // 3: accepted but not committed in time; the error names the hash to follow.
    let slow = MockNode::start(State { balance: 1_000_000, commit_timeout: true, ..State::default() });
    let out = env.run(&transfer(&slow, &["-o", "json"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let e = doc(&out);
    assert_eq!(e["error"]["kind"], "not_committed", "{e}");
    assert_eq!(e["error"]["data"]["hash"].as_str().unwrap().len(), 64);
    let out = env.run(&transfer(&slow, &[]));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("was not committed within 30s; it may still commit later"), "{}", stderr(&out));
    // `agora tx --wait` that times out is "not committed yet" too.
    let hash = "ab".repeat(32);
    let out = env.run(&["tx", &hash, "--wait", "--timeout", "300ms", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    // 4: refused by the node (here a used nonce), with the node's code and data.
    let out = env.run(&transfer(&node, &["--nonce", "0", "-o", "json"]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let e = doc(&out);
    assert_eq!((e["error"]["code"].as_u64(), e["error"]["kind"].as_str()), (Some(4), Some("refused")), "{e}");
    assert_eq!(e["error"]["data"]["rpc_code"], 1005);
    assert_eq!(e["error"]["data"]["rpc_data"]["expected"], 1);
    assert!(e["error"]["message"].as_str().unwrap().contains("node rejected the transaction (1005)"), "{e}");

    // Errors before any node call are JSON too, and never print anything else.
    let out = env.run(&["balance", "nobody", "--node", &node.url, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(doc(&out)["error"]["kind"], "invalid_argument");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // The help lists the exit codes.
    let help = stdout(&env.run(&["--help"]));
    assert!(
        help.contains("Exit codes:") && help.contains("3  not committed yet") && help.contains("4  refused"),
        "{help}"
    );
}

#[test]
fn gas_fees_and_no_wait_on_every_transaction_command() {
    let env = Env::new();
    env.new_key("alice");
    let node = node(10_000_000_000);

    // --gas-adjustment: ceil(estimate × factor).
    let out = env.json(&transfer(&node, &["--gas-adjustment", "2.5", "-o", "json"]));
    let est = out["gas_estimate"].as_u64().unwrap();
    assert_eq!(out["gas_limit"], (est * 25).div_ceil(10));
    assert_eq!(node.state().committed.last().unwrap().0.body.gas_limit, (est * 25).div_ceil(10));

    // --fees: the gas price is fees ÷ gas limit, rounded down.
    let out = env.json(&transfer(&node, &["--gas", "10000", "--fees", "35000", "-o", "json"]));
    assert_eq!((out["gas_limit"].as_u64(), out["gas_price"].as_str()), (Some(10_000), Some("3")));
    assert_eq!(node.state().committed.last().unwrap().0.body.gas_price, Amount::new(3));
    let out = env.run(&transfer(&node, &["--gas", "10000", "--fees", "9999"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("give at least 10000"), "{}", stderr(&out));
    let out = env.run(&transfer(&node, &["--fees", "5", "--gas-price", "5"]));
    assert_eq!(out.status.code(), Some(2), "--fees and --gas-price exclude each other");

    // --no-wait: exit 0 with the hash once the mempool accepted it, on a
    // transfer and on a contract upload alike.
    let out = env.json(&transfer(&node, &["--no-wait", "-o", "json"]));
    assert_eq!((out["status"].as_str(), out["what"].as_str()), (Some("pending"), Some("transfer")));
    assert_eq!(out["hash"], node.state().committed.last().unwrap().0.hash().to_string());
    let wasm = env.dir.path().join("c.wasm");
    let mut code = b"\0asm\x01\0\0\0".to_vec();
    code.resize(100, 7);
    std::fs::write(&wasm, code).unwrap();
    let committed = node.state().committed.len();
    let out =
        env.run(&["contract", "store", wasm.to_str().unwrap(), "--from", "alice", "--no-wait", "--node", &node.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("pending (accepted by the mempool)"), "{}", stdout(&out));
    assert!(stderr(&out).contains("agora tx ") && stderr(&out).contains("--wait"), "{}", stderr(&out));
    assert_eq!(node.state().committed.len(), committed + 1);
    // A refusal with --no-wait is still 4.
    let out = env.run(&transfer(&node, &["--no-wait", "--nonce", "0"]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
}
