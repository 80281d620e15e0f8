//! The wallet against hostile chain data and a hostile node: strings from the
//! chain (contract labels, event attributes, the node's error messages) are
//! shown with their control and bidirectional characters escaped, so they
//! cannot rewrite the terminal; a node naming an enormous `min_gas_price`
//! cannot make the wallet sign an enormous fee (`--max-fee`, `AGORA_MAX_FEE`,
//! `max-fee` in client.toml, and a default cap; exit 4).
#![allow(clippy::unwrap_used)]

mod common;

use common::mock_node::{MockNode, State};
use common::{Env, stderr, stdout};
use serde_json::Value;

/// A label that, printed raw, erases the line, returns the cursor, prints a
/// fake recipient on a line of its own, colours, and reverses text (escape
/// sequences, CR, LF, the C1 CSI, a right-to-left override).
const HOSTILE: &str = "ok\u{1b}[2K\r\nto: agora1evil\u{9b}31m\u{202e}lave\u{7f}";

/// Characters that must never reach a terminal raw.
fn unsafe_chars(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

fn deploy(env: &Env, node: &MockNode, label: &str) -> (String, String) {
    let mut code = b"\0asm\x01\0\0\0".to_vec();
    code.extend([7u8; 100]);
    let path = env.dir.path().join("c.wasm");
    std::fs::write(&path, &code).unwrap();
    let stored =
        env.json(&["contract", "store", path.to_str().unwrap(), "--from", "alice", "--node", &node.url, "-o", "json"]);
    let code_hash = stored["code_hash"].as_str().unwrap().to_owned();
    let out = env.run(&[
        "contract",
        "instantiate",
        &code_hash,
        "{}",
        "--label",
        label,
        "--from",
        "alice",
        "--node",
        &node.url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(unsafe_chars(&text), Vec::<char>::new(), "raw control characters in\n{text}");
    assert!(!text.lines().any(|l| l.starts_with("to: ")), "a faked line:\n{text}");
    let addr = text.lines().find_map(|l| l.strip_prefix("contract:")).unwrap().trim().to_owned();
    (code_hash, addr)
}

#[test]
fn chain_strings_are_escaped_in_text_and_json() {
    let env = Env::new();
    env.new_key("alice");
    let node = MockNode::start(State { balance: 1_000_000_000, ..State::default() });
    let (_, contract) = deploy(&env, &node, HOSTILE);

    // Text: the label (a field, and an event attribute) is escaped, visibly.
    let out = env.run(&["contract", "info", &contract, "--node", &node.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(unsafe_chars(&text), Vec::<char>::new(), "raw control characters in\n{text}");
    let shown = r"ok\u{1b}[2K\r\nto: agora1evil\u{9b}31m\u{202e}lave\u{7f}";
    assert!(text.lines().any(|l| l.starts_with("label:") && l.ends_with(shown)), "{text}");
    assert_eq!(text.lines().count(), text.lines().filter(|l| l.contains(':')).count(), "one line per field:\n{text}");

    // JSON: the same string back, and no raw C1 or bidi character on stdout.
    let out = env.run(&["contract", "info", &contract, "--node", &node.url, "-o", "json"]);
    let raw = stdout(&out);
    assert_eq!(unsafe_chars(&raw), Vec::<char>::new(), "raw control characters in\n{raw}");
    assert!(raw.contains(r"\u009b") && raw.contains(r"\u202e") && raw.contains(r"\u001b"), "{raw}");
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["label"], HOSTILE, "JSON keeps the exact string");

    // The node's error message, which quotes what it was sent, is escaped on stderr.
    let mut m = serde_json::Map::new();
    m.insert(HOSTILE.to_owned(), Value::Object(serde_json::Map::new()));
    let msg = Value::Object(m).to_string();
    let out = env.run(&["contract", "query", &contract, &msg, "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown variant") && err.contains(r"\u{1b}[2K\r\nto: agora1evil"), "{err}");
    assert_eq!(unsafe_chars(&err), Vec::<char>::new(), "raw control characters in\n{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line:\n{err}");
}

/// A transfer to self of 5, with `extra` flags.
fn transfer<'a>(node: &'a MockNode, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["transfer", "--node", &node.url, "--from", "alice", "--to", "alice", "--amount", "5"];
    a.extend_from_slice(extra);
    a
}

#[test]
fn a_hostile_gas_price_is_refused_before_signing() {
    let env = Env::new();
    env.new_key("alice");
    // The node asks 10^9 per gas: a transfer (~2 700 gas × 1.3) would pay
    // ~3.5 × 10^12, far above the default cap of 10^10.
    let node =
        MockNode::start(State { balance: u128::MAX / 2, min_gas_price: Some(1_000_000_000), ..State::default() });

    let out = env.run(&transfer(&node, &[]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("refusing to sign: the transaction could pay up to")
            && err.contains("the node's min_gas_price is 1000000000")
            && err.contains("above the maximum fee 10000000000 (the default cap)")
            && err.contains("nothing was signed or sent"),
        "{err}"
    );
    assert!(node.state().committed.is_empty(), "nothing sent");

    // -o json: the error document, with the fee and the cap.
    let out = env.run(&transfer(&node, &["-o", "json"]));
    assert_eq!(out.status.code(), Some(4));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((e["error"]["code"].as_u64(), e["error"]["kind"].as_str()), (Some(4), Some("fee_above_cap")), "{e}");
    assert_eq!(e["error"]["data"]["max_fee"], "10000000000");
    assert_eq!(e["error"]["data"]["min_gas_price"], "1000000000");
    let fee: u128 = e["error"]["data"]["fee"].as_str().unwrap().parse().unwrap();
    let gas: u128 = e["error"]["data"]["gas_limit"].as_u64().unwrap().into();
    assert_eq!(fee, gas * 1_000_000_000);

    // A user who trusts the node raises the cap explicitly.
    let max = (fee + 1).to_string();
    let out = env.run(&transfer(&node, &["--max-fee", &max]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(node.state().committed.len(), 1);
    let max = (fee - 1).to_string();
    let out = env.run(&transfer(&node, &["--max-fee", &max]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("above the maximum fee {max} (--max-fee)")), "{}", stderr(&out));

    // --fees is the user's own bound: respected without the default cap…
    let fees = (gas * 1_000_000_000).to_string();
    let out = env.run(&transfer(&node, &["--gas", &gas.to_string(), "--fees", &fees]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(node.state().committed.len(), 2);
    // …but still checked against a cap the user set.
    let out = env.run(&transfer(&node, &["--gas", &gas.to_string(), "--fees", &fees, "--max-fee", "10000"]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(node.state().committed.len(), 2);
}

#[test]
fn the_fee_cap_comes_from_flag_env_or_client_toml() {
    let env = Env::new();
    env.new_key("alice");
    let node = MockNode::start(State { balance: 1_000_000_000, ..State::default() });
    // An honest node (price 1): a transfer pays a few thousand at most.
    assert!(env.run(&transfer(&node, &[])).status.success());

    assert!(env.run(&["config", "max-fee", "100"]).status.success());
    let c = env.json(&["config", "-o", "json"]);
    assert_eq!((c["max-fee"]["value"].as_str(), c["max-fee"]["source"].as_str()), (Some("100"), Some("file")));
    let out = env.run(&transfer(&node, &[]));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("above the maximum fee 100 (max-fee in client.toml)"), "{}", stderr(&out));
    // The environment beats the file, the flag beats both.
    let out = env.cmd(&transfer(&node, &[])).env("AGORA_MAX_FEE", "200").output().unwrap();
    assert!(stderr(&out).contains("above the maximum fee 200 (AGORA_MAX_FEE)"), "{}", stderr(&out));
    let out = env.cmd(&transfer(&node, &["--max-fee", "1000000"])).env("AGORA_MAX_FEE", "200").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.cmd(&transfer(&node, &[])).env("AGORA_MAX_FEE", "lots").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("AGORA_MAX_FEE"), "{}", stderr(&out));
    let out = env.run(&["config", "max-fee", "1.5"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("fraction"), "{}", stderr(&out));
    assert!(env.run(&["config", "max-fee", "--unset"]).status.success());
    let c = env.json(&["config", "-o", "json"]);
    assert_eq!(
        (c["max-fee"]["value"].as_str(), c["max-fee"]["source"].as_str()),
        (Some("10000000000"), Some("default"))
    );
    assert!(env.run(&transfer(&node, &[])).status.success());
}
