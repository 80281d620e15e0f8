//! Contract admins and migration on the real VM: migrations by users and by
//! admin contracts, admin reads and changes, and the hostile cases (unknown
//! code, code without `migrate`, a failing `migrate`, a contract migrating
//! itself while it runs, writes in queries, the depth limit).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, reason};
use ledger::contract::read_contract_info;
use ledger::{Address, Amount, ChainParams, Hash, Payload, Receipt, TxStatus, contract_address};

/// A contract whose `execute` runs one operation picked by the message's
/// first byte and answers `status byte ‖ register`:
/// `m target code msg…` migrate, `s code` migrate itself, `u target admin`
/// update_admin, `c target` clear the admin, `a target` contract_admin
/// (`status ‖ 20 bytes`), `i code admin` instantiate_with_admin (label `l`).
/// `instantiate` stores `VER` under `init`; `query` answers `VER` for an
/// empty message, `a target` like `execute`, `x` tries update_admin, and
/// otherwise the storage value under the message. `migrate` (unless
/// `with_migrate` is false) aborts on `fail`, else stores its message under
/// `mig` and returns `VER`.
fn module(ver: &str, with_migrate: bool) -> Vec<u8> {
    assert_eq!(ver.len(), 2);
    let migrate = if with_migrate {
        r#"(func (export "migrate") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.and (i32.eq (local.get $len) (i32.const 4)) (i32.eq (i32.load (local.get $ptr)) (i32.const 0x6c696166)))
      (then (call $abort (local.get $ptr) (local.get $len))))
    (call $storage_set (i32.const 130) (i32.const 3) (local.get $ptr) (local.get $len))
    (i64.or (i64.shl (i64.const 140) (i64.const 32)) (i64.const 2)))"#
    } else {
        ""
    };
    let wat = format!(
        r#"(module
  (import "agora" "abort" (func $abort (param i32 i32)))
  (import "agora" "read_register" (func $read_register (param i32)))
  (import "agora" "register_len" (func $register_len (result i64)))
  (import "agora" "storage_get" (func $storage_get (param i32 i32) (result i64)))
  (import "agora" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "agora" "self_address" (func $self_address (param i32)))
  (import "agora" "instantiate_with_admin" (func $inst_admin (param i32 i32 i32 i32 i32 i32 i64 i32) (result i32)))
  (import "agora" "migrate" (func $migrate (param i32 i32 i32 i32 i64) (result i32)))
  (import "agora" "update_admin" (func $update_admin (param i32 i32 i32) (result i32)))
  (import "agora" "contract_admin" (func $contract_admin (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 4096))
  (data (i32.const 100) "l")
  (data (i32.const 110) "{{}}")
  (data (i32.const 120) "init")
  (data (i32.const 130) "mig")
  (data (i32.const 140) "{ver}")
  (func (export "interface_version_1"))
  (func (export "agora_alloc") (param $n i32) (result i32) (local $p i32)
    global.get $bump local.set $p
    global.get $bump local.get $n i32.add global.set $bump
    local.get $p)
  (func $status_result (param $s i32) (result i64) (local $n i64)
    (i32.store8 (i32.const 2999) (local.get $s))
    (local.set $n (call $register_len))
    (if (i64.lt_s (local.get $n) (i64.const 0)) (then (local.set $n (i64.const 0))))
    (if (i64.gt_s (local.get $n) (i64.const 0)) (then (call $read_register (i32.const 3000))))
    (i64.or (i64.shl (i64.const 2999) (i64.const 32)) (i64.add (local.get $n) (i64.const 1))))
  (func $admin_of (param $a i32) (result i64)
    (i32.store8 (i32.const 3100) (call $contract_admin (local.get $a) (i32.const 3101)))
    (i64.or (i64.shl (i64.const 3100) (i64.const 32)) (i64.const 21)))
  (func (export "instantiate") (param i32 i32) (result i64)
    (call $storage_set (i32.const 120) (i32.const 4) (i32.const 140) (i32.const 2))
    (i64.const 0))
  (func (export "query") (param $ptr i32) (param $len i32) (result i64) (local $op i32)
    (if (i32.eqz (local.get $len)) (then (return (i64.or (i64.shl (i64.const 140) (i64.const 32)) (i64.const 2)))))
    (local.set $op (i32.load8_u (local.get $ptr)))
    (if (i32.eq (local.get $op) (i32.const 97)) (then (return (call $admin_of (i32.add (local.get $ptr) (i32.const 1))))))
    (if (i32.eq (local.get $op) (i32.const 120)) (then
      (return (call $status_result (call $update_admin (i32.const 0) (i32.const 0) (i32.const 1))))))
    (if (i64.lt_s (call $storage_get (local.get $ptr) (local.get $len)) (i64.const 0)) (then (return (i64.const 0))))
    (call $read_register (i32.const 3000))
    (i64.or (i64.shl (i64.const 3000) (i64.const 32)) (call $register_len)))
  (func (export "execute") (param $ptr i32) (param $len i32) (result i64) (local $op i32)
    (local.set $op (i32.load8_u (local.get $ptr)))
    (if (i32.eq (local.get $op) (i32.const 109)) (then
      (return (call $status_result (call $migrate (i32.add (local.get $ptr) (i32.const 1))
        (i32.add (local.get $ptr) (i32.const 21)) (i32.add (local.get $ptr) (i32.const 53))
        (i32.sub (local.get $len) (i32.const 53)) (i64.const 0))))))
    (if (i32.eq (local.get $op) (i32.const 115)) (then
      (call $self_address (i32.const 0))
      (return (call $status_result (call $migrate (i32.const 0) (i32.add (local.get $ptr) (i32.const 1))
        (i32.const 110) (i32.const 2) (i64.const 0))))))
    (if (i32.eq (local.get $op) (i32.const 117)) (then
      (return (call $status_result (call $update_admin (i32.add (local.get $ptr) (i32.const 1))
        (i32.add (local.get $ptr) (i32.const 21)) (i32.const 0))))))
    (if (i32.eq (local.get $op) (i32.const 99)) (then
      (return (call $status_result (call $update_admin (i32.add (local.get $ptr) (i32.const 1))
        (i32.const 0) (i32.const 1))))))
    (if (i32.eq (local.get $op) (i32.const 97)) (then (return (call $admin_of (i32.add (local.get $ptr) (i32.const 1))))))
    (if (i32.eq (local.get $op) (i32.const 105)) (then
      (return (call $status_result (call $inst_admin (i32.add (local.get $ptr) (i32.const 1)) (i32.const 100)
        (i32.const 1) (i32.const 110) (i32.const 2) (i32.const 200) (i64.const 0)
        (i32.add (local.get $ptr) (i32.const 33)))))))
    (unreachable))
  {migrate})"#
    );
    wat::parse_str(wat).expect("wat")
}

struct Codes {
    v1: Hash,
    v2: Hash,
    no_migrate: Hash,
}

fn setup() -> (World, Codes) {
    let mut w = World::new();
    let codes = Codes {
        v1: w.store_code(&module("v1", true)),
        v2: w.store_code(&module("v2", true)),
        no_migrate: w.store_code(&module("v3", false)),
    };
    (w, codes)
}

fn create(w: &mut World, code_hash: Hash, label: &str, admin: Option<Address>) -> Address {
    let payload = Payload::InstantiateWithAdmin {
        code_hash,
        label: label.into(),
        msg: b"{}".to_vec(),
        funds: Amount::ZERO,
        admin,
    };
    let r = w.tx(payload, 10_000_000).expect("valid tx");
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    contract_address(&code_hash, &w.me(), label)
}

fn op(code: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut m = vec![code];
    for p in parts {
        m.extend_from_slice(p);
    }
    m
}

/// Executes `msg` on `c`; the transaction must succeed. Returns the
/// operation's status byte and data.
fn run(w: &mut World, c: Address, msg: &[u8]) -> (u8, Vec<u8>, Receipt) {
    let r = w.exec(c, msg, 50_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    (r.data[0], r.data[1..].to_vec(), r)
}

fn code_of(w: &World, c: &Address) -> Hash {
    read_contract_info(&w.store, c).unwrap().unwrap().code_hash
}

fn attr<'a>(r: &'a Receipt, kind: &str, key: &str) -> &'a str {
    let e = r.events.iter().find(|e| e.kind == kind).unwrap_or_else(|| panic!("no {kind} event: {r:?}"));
    e.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap()
}

#[test]
fn an_admin_contract_migrates_another_which_keeps_its_state() {
    let (mut w, k) = setup();
    let p = create(&mut w, k.v1, "parent", None);
    let c = create(&mut w, k.v1, "child", Some(p));
    let stranger = create(&mut w, k.v1, "stranger", None);

    // contract_admin, in a transaction and in a query.
    let (status, admin, _) = run(&mut w, p, &op(b'a', &[&c.0]));
    assert_eq!((status, admin), (0, p.0.to_vec()));
    assert_eq!(w.query(c, &op(b'a', &[&c.0])).unwrap().0, [&[0u8][..], &p.0].concat());
    assert_eq!(w.query(p, &op(b'a', &[&p.0])).unwrap().0[0], 1, "no admin");
    assert_eq!(w.query(p, &op(b'a', &[&[4; 20]])).unwrap().0[0], 2, "no contract");

    // A contract that is not the admin is refused.
    let (status, why, _) = run(&mut w, stranger, &op(b'm', &[&c.0, &k.v2.0, b"hi"]));
    assert_eq!(status, 1);
    assert!(String::from_utf8_lossy(&why).contains("is not the admin"), "{why:?}");
    assert_eq!(code_of(&w, &c), k.v1);

    let (status, data, r) = run(&mut w, p, &op(b'm', &[&c.0, &k.v2.0, b"hello"]));
    assert_eq!((status, data.as_slice()), (0, &b"v2"[..]), "the new code's migrate answered");
    assert_eq!(attr(&r, "migrate", "contract_address"), c.to_string());
    assert_eq!(attr(&r, "migrate", "old_code_hash"), k.v1.to_string());
    assert_eq!(attr(&r, "migrate", "code_hash"), k.v2.to_string());
    assert_eq!(attr(&r, "migrate", "sender"), p.to_string());
    assert_eq!(code_of(&w, &c), k.v2);
    assert_eq!(w.query(c, b"").unwrap().0, b"v2");
    assert_eq!(w.query(c, b"init").unwrap().0, b"v1", "state written by the old code is kept");
    assert_eq!(w.query(c, b"mig").unwrap().0, b"hello");
}

#[test]
fn failed_migrations_leave_the_contract_as_it_was() {
    let (mut w, k) = setup();
    let p = create(&mut w, k.v1, "parent", None);
    let c = create(&mut w, k.v1, "child", Some(p));
    let cases: [(&[u8], &[u8], &str); 3] = [
        (&k.v2.0, b"fail", "migrate failed: fail"),
        (&k.no_migrate.0, b"x", "no `migrate` entry point"),
        (&[9; 32], b"x", "no code with hash"),
    ];
    for (code, msg, want) in cases {
        let (status, why, r) = run(&mut w, p, &op(b'm', &[&c.0, code, msg]));
        let why = String::from_utf8_lossy(&why).into_owned();
        assert_eq!(status, 1, "{why}");
        assert!(why.contains(want), "{why}");
        assert!(r.events.iter().all(|e| e.kind != "migrate"), "{r:?}");
        assert_eq!(code_of(&w, &c), k.v1);
        assert_eq!(w.query(c, b"mig").unwrap().0, b"", "the failed migrate's write is reverted");
        assert_eq!(w.query(c, b"").unwrap().0, b"v1");
    }
    // The same through a user's Migrate transaction (the user is not the admin: first make it so).
    let me = w.me();
    let (status, _, r) = run(&mut w, p, &op(b'u', &[&c.0, &me.0]));
    assert_eq!(status, 0);
    assert_eq!(attr(&r, "update_admin", "admin"), w.me().to_string());
    for (code, msg, want) in [(k.no_migrate, &b"x"[..], "no `migrate` entry point"), (k.v2, &b"fail"[..], "fail")] {
        let r = w.tx(Payload::Migrate { contract: c, code_hash: code, msg: msg.to_vec() }, 10_000_000).unwrap();
        assert!(reason(&r).contains(want), "{r:?}");
        assert!(r.gas_used > 0 && r.fee > Amount::ZERO);
        assert_eq!(code_of(&w, &c), k.v1);
    }
    let r = w.tx(Payload::Migrate { contract: c, code_hash: k.v2, msg: b"u".to_vec() }, 10_000_000).unwrap();
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.data, b"v2");
    eprintln!("gas of a user Migrate to a 2-byte-message migrate: {}", r.gas_used);
    assert_eq!(w.query(c, b"mig").unwrap().0, b"u");
}

#[test]
fn a_contract_cannot_migrate_itself_while_it_runs() {
    let (mut w, k) = setup();
    // Its own admin (the address is known before it exists).
    let me = contract_address(&k.v1, &w.me(), "self");
    let c = create(&mut w, k.v1, "self", Some(me));
    let (status, why, _) = run(&mut w, c, &op(b's', &[&k.v2.0]));
    assert_eq!(status, 1);
    assert!(String::from_utf8_lossy(&why).contains("is executing on the call stack"), "{why:?}");
    assert_eq!(code_of(&w, &c), k.v1);
    // It may still hand its admin role to someone else, who then can.
    let user = w.me();
    let (status, _, _) = run(&mut w, c, &op(b'u', &[&c.0, &user.0]));
    assert_eq!(status, 0);
    let r = w.tx(Payload::Migrate { contract: c, code_hash: k.v2, msg: vec![] }, 10_000_000).unwrap();
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
}

#[test]
fn update_admin_clear_and_instantiate_with_admin_from_a_contract() {
    let (mut w, k) = setup();
    let p = create(&mut w, k.v1, "parent", None);
    // instantiate_with_admin: the new contract's admin is the user.
    let me = w.me();
    let (status, addr, r) = run(&mut w, p, &op(b'i', &[&k.v1.0, &me.0]));
    assert_eq!(status, 0);
    let child = contract_address(&k.v1, &p, "l");
    assert_eq!(addr, child.0.to_vec());
    assert_eq!(attr(&r, "instantiate", "admin"), w.me().to_string());
    assert_eq!(attr(&r, "instantiate", "creator"), p.to_string());
    assert_eq!(read_contract_info(&w.store, &child).unwrap().unwrap().admin, Some(w.me()));
    // The parent (creator, not admin) cannot change it; the user hands it to the parent, which clears it.
    let (status, why, _) = run(&mut w, p, &op(b'c', &[&child.0]));
    assert_eq!(status, 1, "{}", String::from_utf8_lossy(&why));
    let r = w.tx(Payload::UpdateAdmin { contract: child, admin: Some(p) }, 1_000_000).unwrap();
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let (status, _, r) = run(&mut w, p, &op(b'c', &[&child.0]));
    assert_eq!(status, 0);
    assert_eq!((attr(&r, "update_admin", "admin"), attr(&r, "update_admin", "sender")), ("", p.to_string().as_str()));
    assert_eq!(read_contract_info(&w.store, &child).unwrap().unwrap().admin, None);
    let (status, why, _) = run(&mut w, p, &op(b'm', &[&child.0, &k.v2.0]));
    assert_eq!(status, 1);
    assert!(String::from_utf8_lossy(&why).contains("has no admin"));
    // Writes are refused in queries: the query traps.
    let e = w.query(p, b"x").unwrap_err().to_string();
    assert!(e.contains("update_admin is not allowed in a query"), "{e}");
}

#[test]
fn migrate_respects_the_call_depth_limit_and_uploads_check_the_export() {
    let params = ChainParams {
        contracts: ledger::params::ContractParams { max_call_depth: 0, ..Default::default() },
        ..Default::default()
    };
    let mut w = World::with_params(params);
    let (v1, v2) = (w.store_code(&module("v1", true)), w.store_code(&module("v2", true)));
    let p = create(&mut w, v1, "parent", None);
    let c = create(&mut w, v1, "child", Some(p));
    let (status, why, _) = run(&mut w, p, &op(b'm', &[&c.0, &v2.0]));
    assert_eq!(status, 1);
    assert!(String::from_utf8_lossy(&why).contains("call depth limit 0 exceeded"));
    // A `migrate` export with another signature is refused at upload.
    let wat = r#"(module (memory (export "memory") 1) (func (export "interface_version_1"))
      (func (export "agora_alloc") (param i32) (result i32) (i32.const 0))
      (func (export "migrate") (param i32) (result i64) (i64.const 0)))"#;
    let r = w.tx(Payload::StoreCode { code: wat::parse_str(wat).unwrap() }, 10_000_000).unwrap();
    assert!(reason(&r).contains("export `migrate` must have signature"), "{r:?}");
}

#[test]
fn sdk_contracts_migrate_and_read_admins_through_the_wasm_imports() {
    let mut w = World::new();
    let probe = w.store_code(contract_artifacts::PROBE);
    let admin = create(&mut w, probe, "admin", None);
    let module = create(&mut w, probe, "module", Some(admin));
    let q = |w: &World, msg: serde_json::Value| {
        let (data, _) = w.query(admin, &serde_json::to_vec(&msg).unwrap()).unwrap();
        serde_json::from_slice::<serde_json::Value>(&data).unwrap()["value"].clone()
    };
    assert_eq!(q(&w, serde_json::json!({"admin": {"contract": module}})), admin.to_string());
    assert_eq!(q(&w, serde_json::json!({"admin": {"contract": admin}})), serde_json::Value::Null);
    let msg = |note: &str| {
        let m = serde_json::json!({"migrate": {"contract": module, "code_hash": probe.to_string(), "msg": note}});
        serde_json::to_vec(&m).unwrap()
    };
    let r = w.exec(admin, &msg(r#"{"fail":true}"#), 50_000_000);
    assert!(reason(&r).contains("migration refused"), "{r:?}");
    let r = w.exec(admin, &msg(r#"{"note":"v2"}"#), 50_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.data, b"migrated");
    assert_eq!(attr(&r, "migrate", "sender"), admin.to_string());
    eprintln!("gas of an execute whose SDK contract migrates another (probe → probe): {}", r.gas_used);
    let get = serde_json::to_vec(&serde_json::json!({"get": {"key": "migrated"}})).unwrap();
    assert_eq!(w.query(module, &get).unwrap().0, br#"{"value":"v2"}"#);
    let clear = serde_json::json!({"update_admin": {"contract": module, "admin": null}});
    let r = w.exec(admin, &serde_json::to_vec(&clear).unwrap(), 50_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(q(&w, serde_json::json!({"admin": {"contract": module}})), serde_json::Value::Null);
}
