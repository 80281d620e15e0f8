//! Address text on the host (`addr_parse`, `addr_format`): the chain's parser
//! and the SDK's native one give the same answers and reasons, hostile
//! lengths and pointers end as failed calls, and a token transfer no longer
//! pays for bech32 in wasm.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, reason};
use ledger::{Address, TxStatus};

/// `execute` parses its message as address text into 0..20 (status 1: abort
/// with the register's reason), formats it back and returns that text.
/// `BODY` replaces the parse call when a case needs other arguments.
fn module(parse: &str) -> String {
    format!(
        r#"(module
  (import "agora" "abort" (func $abort (param i32 i32)))
  (import "agora" "read_register" (func $read_register (param i32)))
  (import "agora" "register_len" (func $register_len (result i64)))
  (import "agora" "addr_parse" (func $addr_parse (param i32 i32 i32) (result i32)))
  (import "agora" "addr_format" (func $addr_format (param i32) (result i64)))
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 8192))
  (func (export "interface_version_1"))
  (func (export "agora_alloc") (param $n i32) (result i32) (local $p i32)
    global.get $bump local.set $p
    global.get $bump local.get $n i32.add global.set $bump
    local.get $p)
  (func (export "instantiate") (param i32 i32) (result i64) (i64.const 0))
  (func (export "execute") (param $ptr i32) (param $len i32) (result i64) (local $n i64)
    (if (i32.ne {parse} (i32.const 0))
      (then
        (call $read_register (i32.const 2048))
        (call $abort (i32.const 2048) (i32.wrap_i64 (call $register_len)))))
    (local.set $n (call $addr_format (i32.const 0)))
    (call $read_register (i32.const 4096))
    (i64.or (i64.shl (i64.const 4096) (i64.const 32)) (local.get $n))))"#
    )
}

const PARSE_MSG: &str = "(call $addr_parse (local.get $ptr) (local.get $len) (i32.const 0))";

fn inputs() -> Vec<String> {
    let a = Address([7; 20]).to_string();
    let mut v = vec![
        a.clone(),
        a.to_uppercase(),
        format!("{}{}", &a[..10], a[10..].to_uppercase()),
        Address([0; 20]).to_string(),
        Address([0xff; 20]).to_string(),
        String::new(),
        "agora1".into(),
        "1qqqq".into(),
        "agora1qqqqqq".into(),
        "agora1xyz".into(),
        "agora1bbbbbb".into(),
        "agorä1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq".into(),
        format!("{a} "),
        format!(" {a}"),
        a.replace("agora", "cosmos"),
        format!("agora1{}", "q".repeat(84)),
        format!("agora1{}", "q".repeat(85)),
    ];
    // A one-character change, a bech32m checksum, other lengths and prefixes.
    for i in 0..24u8 {
        let bytes: Vec<u8> = (0..20).map(|j| i.wrapping_mul(37).wrapping_add(j * 11)).collect();
        let hrp = bech32::Hrp::parse("agora").unwrap();
        let b = bech32::encode::<bech32::Bech32>(hrp, &bytes).unwrap();
        let mut flipped = b.clone().into_bytes();
        let k = 6 + usize::from(i) % 30;
        flipped[k] = if flipped[k] == b'q' { b'p' } else { b'q' };
        v.push(String::from_utf8(flipped).unwrap());
        v.push(bech32::encode::<bech32::Bech32m>(hrp, &bytes).unwrap());
        v.push(bech32::encode::<bech32::Bech32>(hrp, &bytes[..usize::from(i) % 21]).unwrap());
        let other = bech32::Hrp::parse(["agor", "agoraa", "a", "AGORA"][usize::from(i) % 4]).unwrap();
        v.push(bech32::encode::<bech32::Bech32>(other, &bytes).unwrap());
    }
    v
}

#[test]
fn host_sdk_and_chain_parse_alike() {
    let mut w = World::new();
    let c = w.deploy(&module(PARSE_MSG), "text");
    for s in inputs() {
        let chain = Address::parse_text(&s);
        let chain = if s.len() > ledger::types::MAX_ADDRESS_TEXT {
            Err(format!("address text must be at most 90 bytes, got {}", s.len()))
        } else {
            chain
        };
        let sdk = agora_sdk::Addr::parse(&s).map(|a| Address(a.to_bytes())).map_err(|e| e.to_string());
        assert_eq!(sdk, chain.clone().map_err(|e| format!("invalid address `{s}`: {e}")), "sdk vs chain: {s:?}");
        let r = w.exec(c, s.as_bytes(), 1_000_000);
        match chain {
            Ok(a) => {
                assert_eq!(r.status, TxStatus::Success, "{s:?}: {r:?}");
                assert_eq!(r.data, a.to_string().into_bytes(), "{s:?}");
                assert_eq!(agora_sdk::Addr::new(a.0).to_string(), a.to_string());
            }
            Err(e) => {
                assert_eq!(reason(&r), e, "{s:?}");
                // Only the chain's own wording: receipts carry it, and every
                // node must produce it byte for byte (not the bech32 crate's).
                assert!(
                    e == ledger::types::ADDRESS_NOT_BECH32
                        || e.starts_with("prefix must be `agora`, got `")
                        || e.starts_with("expected 20 bytes, got ")
                        || e.starts_with("address text must be at most 90 bytes, got "),
                    "{s:?}: {e}"
                );
            }
        }
    }
    // The exact reasons, pinned.
    let pinned = [
        ("agora1xyz", "not a bech32 string with a valid checksum"),
        ("", "not a bech32 string with a valid checksum"),
        ("agora1qqqqqq", "not a bech32 string with a valid checksum"),
    ];
    for (text, want) in pinned {
        assert_eq!(Address::parse_text(text), Err(want.to_owned()), "{text:?}");
    }
    let cosmos = bech32::encode::<bech32::Bech32>(bech32::Hrp::parse("cosmos").unwrap(), &[1; 20]).unwrap();
    assert_eq!(Address::parse_text(&cosmos), Err("prefix must be `agora`, got `cosmos`".to_owned()));
    let short = bech32::encode::<bech32::Bech32>(bech32::Hrp::parse("agora").unwrap(), &[1; 19]).unwrap();
    assert_eq!(Address::parse_text(&short), Err("expected 20 bytes, got 19".to_owned()));
}

#[test]
fn hostile_lengths_and_pointers_fail_the_call() {
    let mut w = World::new();
    let cases = [
        // Claimed lengths far beyond any address: refused unread, cheaply.
        ("(call $addr_parse (i32.const 0) (i32.const 2147483647) (i32.const 0))", "at most 90 bytes, got 2147483647"),
        ("(call $addr_parse (i32.const 0) (i32.const -1) (i32.const 0))", "at most 90 bytes, got -1"),
        ("(call $addr_parse (i32.const 131070) (i32.const 44) (i32.const 0))", "out of bounds"),
        // Text that is not UTF-8 (memory at 0 is zero bytes then 0xff…).
        (
            "(i32.store (i32.const 100) (i32.const -1)) (call $addr_parse (i32.const 100) (i32.const 4) (i32.const 0))",
            "not UTF-8",
        ),
        // A valid address written to a destination out of bounds.
        (
            "(call $addr_format (i32.const 0)) (drop) (call $read_register (i32.const 200)) (call $addr_parse (i32.const 200) (i32.const 44) (i32.const 131070))",
            "out of bounds",
        ),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let c = w.deploy(&module(body), &format!("case{i}"));
        let r = w.exec(c, b"", 1_000_000);
        assert!(reason(&r).contains(want), "case {i}: {r:?}");
        assert!(r.gas_used < 200_000, "case {i}: {} gas", r.gas_used);
    }
    // Formatting reads 20 bytes: a pointer at the end of memory traps.
    let c = w.deploy(&module("(drop (call $addr_format (i32.const 131065))) (i32.const 0)"), "format_oob");
    assert!(reason(&w.exec(c, b"", 1_000_000)).contains("out of bounds"));
}

#[test]
fn a_token_transfer_costs_a_fraction_of_what_it_did() {
    let mut w = World::new();
    let me = w.me();
    let token = w.token();
    let to = Address([9; 20]);
    let msg = serde_json::json!({"transfer": {"recipient": to.to_string(), "amount": "1"}});
    let r = w.exec(token, &serde_json::to_vec(&msg).unwrap(), 2_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    // 513 487 gas before (a 1 MiB stack: 17 memory pages; bech32 in wasm).
    assert!(r.gas_used < 200_000, "a transfer used {} gas", r.gas_used);
    println!("a token transfer: {} gas", r.gas_used);
    let ev = r.events.iter().find(|e| e.kind == "wasm-transfer").expect("transfer event");
    assert!(ev.attributes.contains(&("from".into(), me.to_string())), "{ev:?}");
    assert!(ev.attributes.contains(&("to".into(), to.to_string())), "{ev:?}");
    let cosmos = bech32::encode::<bech32::Bech32>(bech32::Hrp::parse("cosmos").unwrap(), &to.0).unwrap();
    let bad = serde_json::json!({"transfer": {"recipient": cosmos, "amount": "1"}});
    let r = w.exec(token, &serde_json::to_vec(&bad).unwrap(), 2_000_000);
    assert!(reason(&r).contains("prefix must be `agora`, got `cosmos`"), "{r:?}");
}
