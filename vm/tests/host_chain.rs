//! Hostile use of the chain-level host calls: contracts that instantiate
//! themselves without end, oversized labels and patches, stake reads of
//! heights that are not committed, parameter changes by a contract that is
//! not governance, burns beyond the balance, and all of them in queries.
//! Each ends as a failed call or a trap with a reason; nothing is left behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, reason};
use ledger::{Address, Amount, ChainParams, Payload, TxStatus, contract_address};

/// A module importing the chain-level calls. `execute` runs `BODY`; on a
/// status `1` the helper `$check` aborts with the register's text, so a
/// receipt shows the host's reason. Memory: 0..20 self address, 32..64 a code
/// hash, 64..80 an amount, 100.. the label "l", 200.. the message "{}",
/// 300.. the patch `{"min_gas_price":"5"}`, 4096.. the bump allocator.
fn module(execute: &str, instantiate: &str) -> String {
    format!(
        r#"(module
  (import "agora" "abort" (func $abort (param i32 i32)))
  (import "agora" "read_register" (func $read_register (param i32)))
  (import "agora" "register_len" (func $register_len (result i64)))
  (import "agora" "self_address" (func $self_address (param i32)))
  (import "agora" "instantiate" (func $instantiate (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
  (import "agora" "contract_code_hash" (func $code_hash (param i32 i32) (result i32)))
  (import "agora" "burn" (func $burn (param i32) (result i32)))
  (import "agora" "bonded_stake_at" (func $stake_at (param i32 i64 i32) (result i32)))
  (import "agora" "total_bonded_at" (func $total_at (param i64 i32) (result i32)))
  (import "agora" "update_chain_params" (func $params (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 4096))
  (data (i32.const 100) "l")
  (data (i32.const 200) "{{}}")
  (data (i32.const 300) "{{\22min_gas_price\22:\225\22}}")
  (func (export "interface_version_1"))
  (func (export "agora_alloc") (param $n i32) (result i32) (local $p i32)
    global.get $bump local.set $p
    global.get $bump local.get $n i32.add global.set $bump
    local.get $p)
  (func $check (param $status i32)
    (if (i32.eqz (local.get $status)) (then (return)))
    (call $read_register (i32.const 2048))
    (call $abort (i32.const 2048) (i32.wrap_i64 (call $register_len))))
  ;; Instantiates this contract's own code with label "l" (the creator
  ;; differs at every level, so every address is new).
  (func $replicate
    (call $self_address (i32.const 0))
    (drop (call $code_hash (i32.const 0) (i32.const 32)))
    (call $check (call $instantiate (i32.const 32) (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 2)
      (i32.const 64) (i64.const 0))))
  (func (export "instantiate") (param i32 i32) (result i64) {instantiate} (i64.const 0))
  (func (export "execute") (param $ptr i32) (param $len i32) (result i64) {execute} (i64.const 0))
  (func (export "query") (param $ptr i32) (param $len i32) (result i64) {execute} (i64.const 0)))"#
    )
}

/// Deploys with message `{ }` (3 bytes: a contract's own `$replicate` sends
/// `{}`, so `instantiate` bodies can tell the two apart by length).
fn deploy(w: &mut World, execute: &str, instantiate: &str, label: &str) -> Address {
    let code = wat::parse_str(module(execute, instantiate)).expect("wat");
    let code_hash = w.store_code(&code);
    let r = w
        .tx(
            Payload::Instantiate { code_hash, label: label.into(), msg: b"{ }".to_vec(), funds: Amount::ZERO },
            50_000_000,
        )
        .expect("valid tx");
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    contract_address(&code_hash, &w.me(), label)
}

#[test]
fn self_replicating_contracts_stop_at_the_depth_limit_and_leave_nothing() {
    let mut w = World::new();
    let c = deploy(
        &mut w,
        "(call $replicate)",
        "(if (i32.eq (local.get 1) (i32.const 2)) (then (call $replicate)))",
        "root",
    );
    let r = w.exec(c, b"{}", 400_000_000);
    assert!(reason(&r).contains("call depth limit 8 exceeded"), "{r:?}");
    let code_hash = ledger::contract::read_contract_info(&w.store, &c).unwrap().unwrap().code_hash;
    let child = contract_address(&code_hash, &c, "l");
    assert!(ledger::contract::read_contract_info(&w.store, &child).unwrap().is_none(), "reverted");
    // A single level works and creates exactly the predicted address.
    let one = deploy(&mut w, "(call $replicate)", "", "one");
    let r = w.exec(one, b"{}", 400_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let child = contract_address(&code_hash_of(&w, one), &one, "l");
    let info = ledger::contract::read_contract_info(&w.store, &child).unwrap().expect("created");
    assert_eq!(info.creator, one);
    assert!(r.events.iter().any(|e| e.kind == "instantiate"), "{:?}", r.events);
    // The same label from the same creator again: refused.
    let r = w.exec(one, b"{}", 400_000_000);
    assert!(reason(&r).contains("already exists"), "{r:?}");
}

fn code_hash_of(w: &World, c: Address) -> ledger::Hash {
    ledger::contract::read_contract_info(&w.store, &c).unwrap().unwrap().code_hash
}

#[test]
fn bad_arguments_are_refused_with_reasons() {
    let mut w = World::new();
    let cases: [(&str, &str); 8] = [
        // A label over max_label_bytes (128) is a fault of the caller.
        (
            "(drop (call $instantiate (i32.const 32) (i32.const 100) (i32.const 129) (i32.const 200) (i32.const 2) (i32.const 64) (i64.const 0)))",
            "label must be at most 128 bytes",
        ),
        // Code that does not exist (zero hash).
        (
            "(call $check (call $instantiate (i32.const 32) (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 2) (i32.const 64) (i64.const 0)))",
            "no code with hash",
        ),
        ("(call $check (call $stake_at (i32.const 0) (i64.const -1) (i32.const 500)))", "must not be negative"),
        ("(call $check (call $total_at (i64.const 1000000) (i32.const 500)))", "not a committed block"),
        ("(call $check (call $params (i32.const 300) (i32.const 21)))", "not the chain's governance contract"),
        ("(drop (call $params (i32.const 300) (i32.const 20000)))", "a parameter change is at most 16384 bytes"),
        ("(i64.store (i32.const 64) (i64.const 1)) (call $check (call $burn (i32.const 64)))", "insufficient funds"),
        ("(call $check (call $stake_at (i32.const 0) (i64.const 0) (i32.const 70000000)))", "out of bounds"),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let c = deploy(&mut w, body, "", &format!("case{i}"));
        let r = w.exec(c, b"{}", 50_000_000);
        assert!(reason(&r).contains(want), "case {i}: {r:?}");
    }
    // Reads that are allowed: genesis height, answers 0 for an account with no stake.
    let c = deploy(&mut w, "(call $check (call $stake_at (i32.const 0) (i64.const 0) (i32.const 500)))", "", "ok");
    assert_eq!(w.exec(c, b"{}", 50_000_000).status, TxStatus::Success);
}

#[test]
fn writes_are_refused_in_queries_and_governance_is_only_the_named_contract() {
    let mut w = World::new();
    for (i, body) in [
        "(call $replicate)",
        "(drop (call $burn (i32.const 64)))",
        "(drop (call $params (i32.const 300) (i32.const 21)))",
    ]
    .iter()
    .enumerate()
    {
        let c = deploy(&mut w, body, "", &format!("q{i}"));
        let err = w.query(c, b"{}").unwrap_err().to_string();
        assert!(err.contains("not allowed in a query"), "{i}: {err}");
    }
    // A stake read in a query may read the last block.
    let c = deploy(&mut w, "(call $check (call $total_at (i64.const 0) (i32.const 500)))", "", "read");
    assert!(w.query(c, b"{}").is_ok());

    // The governance contract's change takes effect; the executor of the block
    // keeps the old parameters (the next block reads the new ones).
    let mut params = ChainParams::default();
    let code = wat::parse_str(module("(call $check (call $params (i32.const 300) (i32.const 21)))", "")).expect("wat");
    let me = ledger::PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[7; 32])).address();
    params.governance = Some(contract_address(&ledger::Hash::digest(&code), &me, "gov"));
    let mut w = World::with_params(params);
    let code_hash = w.store_code(&code);
    let r = w
        .tx(
            Payload::Instantiate { code_hash, label: "gov".into(), msg: b"{}".to_vec(), funds: Amount::ZERO },
            50_000_000,
        )
        .expect("valid tx");
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let gov = contract_address(&code_hash, &w.me(), "gov");
    // World's genesis has no params record: the first change starts from the
    // executor's parameters.
    let r = w.exec(gov, b"{}", 50_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let p = ledger::governance::read_params(&w.store).unwrap().expect("written");
    assert_eq!(p.min_gas_price, Amount::new(5));
}
