//! The VM through the ledger's block executor: uploads, calls, gas, reverts,
//! and every abuse the ABI bounds (loops, memory, recursion, code, floats,
//! re-entrancy), with hand-written WAT contracts.

mod common;

use common::{World, contract, contract_with, reason};
use ledger::{Address, Amount, ChainParams, ExecError, Hash, Payload, TxStatus, contract_address};
use vm::{Vm, VmConfig};

#[test]
fn storage_roundtrip_and_failed_call_reverts() {
    let mut w = World::new();
    let ok = w.deploy(
        &contract("(call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 5)) (i64.const 0)"),
        "ok",
    );
    let r = w.exec(ok, b"{}", 1_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(w.query(ok, b"{}").expect("query").0, b"value");

    let bad = w.deploy(
        &contract(
            "(call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 5))
             (call $abort (i32.const 32) (i32.const 7)) (i64.const 0)",
        ),
        "bad",
    );
    let r = w.exec(bad, b"{}", 1_000_000);
    assert_eq!(reason(&r), "counter");
    assert!(r.fee > Amount::ZERO && r.gas_used > 0, "a failed call still pays");
    assert_eq!(w.query(bad, b"{}").expect("query").0, b"", "the write was reverted");
}

#[test]
fn infinite_loop_runs_out_of_gas_and_the_chain_goes_on() {
    let mut w = World::new();
    let c = w.deploy(&contract("(loop $l (br $l)) (i64.const 0)"), "loop");
    let r = w.exec(c, b"{}", 5_000_000);
    assert!(reason(&r).contains("out of gas"), "{r:?}");
    assert_eq!(r.gas_used, 5_000_000);
    let again = w.exec(c, b"{}", 3_000_000);
    assert_eq!(again.gas_used, 3_000_000);
    let ok = w.deploy(&contract("(i64.const 0)"), "after");
    assert_eq!(w.exec(ok, b"{}", 1_000_000).status, TxStatus::Success);
}

#[test]
fn memory_growth_beyond_the_limit_fails_cleanly() {
    let mut w = World::new();
    // 256 pages is the limit; the module starts with 2.
    let c = w.deploy(
        &contract(
            "(if (i32.eq (memory.grow (i32.const 300)) (i32.const -1))
               (then (call $abort (i32.const 32) (i32.const 7))))
             (i64.const 0)",
        ),
        "grow",
    );
    assert_eq!(reason(&w.exec(c, b"{}", 1_000_000)), "counter");
    let ok = w.deploy(&contract("(drop (memory.grow (i32.const 200))) (i64.const 0)"), "grow-ok");
    assert_eq!(w.exec(ok, b"{}", 1_000_000).status, TxStatus::Success);
    // A module that starts above the limit is refused at upload.
    let big = wat::parse_str(
        contract("(i64.const 0)").replace("(memory (export \"memory\") 2)", "(memory (export \"memory\") 300)"),
    )
    .expect("wat");
    let r = w.tx(Payload::StoreCode { code: big }, 500_000_000).expect("valid tx");
    assert!(reason(&r).contains("limit is 256"), "{r:?}");
}

#[test]
fn deep_recursion_is_stopped_deterministically() {
    let extra = "(func $rec (param $n i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n)) (then (i64.const 0))
          (else (i64.add (i64.const 1) (call $rec (i64.sub (local.get $n) (i64.const 1)))))))";
    let mut results = Vec::new();
    for _ in 0..2 {
        let mut w = World::new();
        let c = w.deploy(&contract_with("(drop (call $rec (i64.const 100000000))) (i64.const 0)", extra), "rec");
        let r = w.exec(c, b"{}", 500_000_000);
        assert!(reason(&r).contains("call stack exhausted"), "{r:?}");
        results.push((r.gas_used, r.status.clone()));
        // Shallow recursion is fine.
        let ok = w.deploy(&contract_with("(drop (call $rec (i64.const 1000))) (i64.const 0)", extra), "ok");
        assert_eq!(w.exec(ok, b"{}", 500_000_000).status, TxStatus::Success);
    }
    assert_eq!(results[0], results[1], "same gas and outcome on every run");
}

#[test]
fn the_largest_upload_fits_one_transaction() {
    let mut w = World::new();
    let (max, gas) = (w.params.contracts.max_code_bytes as usize, w.params.max_tx_gas);
    // The skeleton with a data segment padding it to exactly `max_code_bytes`.
    let module = |pad: usize| {
        let wat = contract_with("(i64.const 0)", &format!("(data (i32.const 65536) \"{}\")", "a".repeat(pad)))
            .replace("(memory (export \"memory\") 2)", "(memory (export \"memory\") 8)");
        wat::parse_str(wat).expect("wat")
    };
    let base = module(0).len();
    let mut code = module(max - base);
    let over = code.len() - max; // the segment's length prefix grew
    code = module(max - base - over);
    assert_eq!(code.len(), max);
    let r = w.tx(Payload::StoreCode { code }, gas).expect("valid tx");
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert!(r.gas_used > w.params.contracts.gas_code_byte * max as u64 && r.gas_used <= gas, "{}", r.gas_used);
}

#[test]
fn oversized_and_malformed_code_is_refused_with_a_reason() {
    let mut w = World::new();
    let huge = vec![0u8; w.params.contracts.max_code_bytes as usize + 1];
    match w.tx(Payload::StoreCode { code: huge }, 500_000_000) {
        Err(ExecError::Invalid(e)) => assert!(e.to_string().contains("limit"), "{e}"),
        other => panic!("expected an invalid tx, got {other:?}"),
    }
    w.nonce = 0;
    for (code, want) in [
        (b"not wasm at all".to_vec(), "not a WebAssembly module"),
        (b"\0asm\x01\0\0\0\x05garbage".to_vec(), "invalid WebAssembly"),
        (
            wat::parse_str(contract("(i64.const 0)").replace("\"abort\" (func", "\"exit\" (func")).expect("wat"),
            "unknown host function `agora.exit`",
        ),
        (
            wat::parse_str(contract("(i64.const 0)").replace(
                "(func (export \"interface_version_1\"))",
                "(func $s) (start $s) (func (export \"interface_version_1\"))",
            ))
            .expect("wat"),
            "start functions are not allowed",
        ),
        (
            wat::parse_str(contract("(drop (f32x4.splat (f32.const 1))) (i64.const 0)")).expect("wat"),
            "invalid WebAssembly",
        ),
        (wat::parse_str("(module (memory (export \"memory\") 1))").expect("wat"), "missing export"),
    ] {
        let r = w.tx(Payload::StoreCode { code }, 500_000_000).expect("valid tx");
        assert!(reason(&r).contains(want), "want `{want}`, got {r:?}");
    }
}

#[test]
fn nan_heavy_floats_give_the_same_bits_and_gas_everywhere() {
    // 0/0, sqrt(-1), NaN arithmetic and min/max of NaNs; the raw bits of the
    // results are stored, so different NaN payloads would show.
    let body = "(local $i i32) (local $x f64) (local $y f32)
      (local.set $x (f64.div (f64.const 0) (f64.const 0)))
      (local.set $y (f32.sqrt (f32.const -1)))
      (loop $l
        (local.set $x (f64.add (f64.mul (local.get $x) (f64.const -1.5)) (f64.promote_f32 (local.get $y))))
        (local.set $y (f32.min (local.get $y) (f32.demote_f64 (f64.max (local.get $x) (f64.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 10000))))
      (i64.store (i32.const 16) (i64.reinterpret_f64 (local.get $x)))
      (i32.store (i32.const 24) (i32.reinterpret_f32 (local.get $y)))
      (call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 12))
      (i64.const 0)";
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut w = World::new();
        let c = w.deploy(&contract(body), "nan");
        let r = w.exec(c, b"{}", 10_000_000);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        let bits = w.query(c, b"{}").expect("query").0;
        seen.push((bits, r.gas_used));
    }
    assert!(seen.windows(2).all(|p| p[0] == p[1]), "{seen:?}");
    // Canonical NaNs: f64 0x7ff8000000000000, f32 0x7fc00000.
    assert_eq!(&seen[0].0[..8], &0x7ff8_0000_0000_0000u64.to_le_bytes());
    assert_eq!(&seen[0].0[8..], &0x7fc0_0000u32.to_le_bytes());
}

/// The message is a list of 20-byte addresses: call the first with the rest
/// (until the list is empty), aborting with the callee's error on failure.
const FORWARD: &str = "(if (i32.eqz (local.get $len)) (then (return (i64.const 0))))
    (if (call $call (local.get $ptr) (i32.add (local.get $ptr) (i32.const 20)) (i32.sub (local.get $len) (i32.const 20))
          (i32.const 64) (i64.const 0))
      (then (call $fail)))
    (i64.const 0)";

#[test]
fn call_depth_is_limited() {
    let mut w = World::new();
    let chain: Vec<Address> = (0..10).map(|i| w.deploy(&contract(FORWARD), &format!("f{i}"))).collect();
    let msg = |n: usize| chain[1..=n].iter().flat_map(|a| a.0).collect::<Vec<u8>>();
    // The top-level call plus 8 nested calls is the limit.
    let ok = w.exec(chain[0], &msg(8), 20_000_000);
    assert_eq!(ok.status, TxStatus::Success, "{ok:?}");
    let r = w.exec(chain[0], &msg(9), 20_000_000);
    assert!(reason(&r).contains("call depth limit 8 exceeded"), "{r:?}");
}

#[test]
fn a_contract_calling_itself_is_refused() {
    let mut w = World::new();
    let body = "(call $self_address (i32.const 100))
      (if (call $call (i32.const 100) (i32.const 16) (i32.const 5) (i32.const 64) (i64.const 0))
        (then (call $fail)))
      (i64.const 0)";
    let c = w.deploy(&contract(body), "self");
    let r = w.exec(c, b"{}", 10_000_000);
    assert!(reason(&r).contains("reentrant call") && reason(&r).contains(&c.to_string()), "{r:?}");
}

#[test]
fn reentrancy_through_another_contract_is_refused_and_reverted() {
    let mut w = World::new();
    // B writes, then calls back the address it is given (A) with "{}".
    let b_body = "(call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 5))
      (if (call $call (local.get $ptr) (i32.const 16) (i32.const 5) (i32.const 64) (i64.const 0))
        (then (call $fail)))
      (i64.const 0)";
    let b = w.deploy(&contract(b_body), "b");
    // A calls B with its own address as the message.
    let a_body = "(call $self_address (i32.const 200))
         (memory.copy (i32.const 300) (i32.const 200) (i32.const 20))
         (call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 5))
         (if (call $call (i32.const 400) (i32.const 300) (i32.const 20) (i32.const 64) (i64.const 0))
           (then (call $fail)))
         (i64.const 0)";
    let a = w.deploy(&contract_with(a_body, &format!("(data (i32.const 400) \"{}\")", escape(&b.0))), "a");
    let r = w.exec(a, b"{}", 10_000_000);
    assert!(reason(&r).contains(&format!("reentrant call to {a} refused")), "{r:?}");
    assert_eq!(w.query(b, b"{}").expect("query").0, b"", "B's write was reverted");
    assert_eq!(w.query(a, b"{}").expect("query").0, b"", "A's write was reverted");
}

#[test]
fn failed_sub_call_reverts_only_the_callee() {
    let mut w = World::new();
    let bad = w.deploy(
        &contract(
            "(call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 5))
             (call $abort (i32.const 32) (i32.const 7)) (i64.const 0)",
        ),
        "callee",
    );
    // The caller ignores the failure and emits an event.
    let body = "(drop (call $call (i32.const 400) (i32.const 16) (i32.const 5) (i32.const 64) (i64.const 0)))
      (call $storage_set (i32.const 0) (i32.const 3) (i32.const 32) (i32.const 7))
      (call $emit_event (i32.const 32) (i32.const 7) (i32.const 0) (i32.const 0))
      (i64.const 0)";
    let caller = w.deploy(&contract_with(body, &format!("(data (i32.const 400) \"{}\")", escape(&bad.0))), "caller");
    let r = w.exec(caller, b"{}", 10_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(w.query(bad, b"{}").expect("query").0, b"");
    assert_eq!(w.query(caller, b"{}").expect("query").0, b"counter");
    let ev = r.events.iter().find(|e| e.kind == "wasm-counter").expect("event");
    assert_eq!(ev.attributes[0], ("_contract".to_owned(), caller.to_string()));
}

#[test]
fn queries_cannot_write() {
    let mut w = World::new();
    let c = w.deploy(&contract("(i64.const 0)"), "q");
    let q = contract("(i64.const 0)").replace(
        "(func (export \"query\") (param $ptr i32) (param $len i32) (result i64)",
        "(func (export \"query\") (param $ptr i32) (param $len i32) (result i64)
           (call $storage_set (i32.const 0) (i32.const 3) (i32.const 16) (i32.const 5))",
    );
    let c2 = w.deploy(&q, "q2");
    assert!(w.query(c, b"{}").is_ok());
    let e = w.query(c2, b"{}").expect_err("write in a query");
    assert!(e.to_string().contains("not allowed in a query"), "{e}");
}

#[test]
fn compiled_modules_are_cached_on_disk() {
    let dir = tempfile_dir();
    let params = ChainParams::default();
    let code = wat::parse_str(contract("(i64.const 0)")).expect("wat");
    let hash = Hash::digest(&code);
    let vm = Vm::new(&params, VmConfig { cache_dir: Some(dir.clone()), unmetered: false }).expect("vm");
    vm.prepare(&hash, &code).expect("compile");
    assert_eq!(vm.cache_stats().compiles, 1);
    vm.prepare(&hash, &code).expect("hit");
    assert_eq!(vm.cache_stats().memory_hits, 1);
    drop(vm);
    let vm = Vm::new(&params, VmConfig { cache_dir: Some(dir.clone()), unmetered: false }).expect("vm");
    vm.prepare(&hash, &code).expect("disk");
    assert_eq!(vm.cache_stats().disk_hits, 1);
    assert_eq!(vm.cache_stats().compiles, 0);
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("agora-vm-cache-{}-{}", std::process::id(), line!()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[test]
fn escrow_holds_attached_funds_and_pays_them_out() {
    let mut w = World::new();
    let code_hash = w.store_code(contract_artifacts::ESCROW);
    let recipient = Address([3; 20]);
    let me = w.me();
    let init = format!(r#"{{"arbiter":"{me}","recipient":"{recipient}","expires_at_height":1000}}"#);
    let before = ledger::state::read_account(&w.store, &me).expect("read").balance;
    let r = w
        .tx(
            Payload::Instantiate { code_hash, label: "e".into(), msg: init.into_bytes(), funds: Amount::new(5_000) },
            10_000_000,
        )
        .expect("valid tx");
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let escrow = contract_address(&code_hash, &me, "e");
    let bal = |w: &World, a: &Address| ledger::state::read_account(&w.store, a).expect("read").balance;
    assert_eq!(bal(&w, &escrow), Amount::new(5_000));
    let after = bal(&w, &me);
    assert_eq!(before.get() - after.get(), 5_000 + r.fee.get(), "funds and the exact fee left the sender");

    // Attaching more than the sender has fails cleanly and moves nothing.
    let r = w
        .tx(
            Payload::Execute { contract: escrow, msg: b"{\"approve\":{}}".to_vec(), funds: Amount::new(u128::MAX / 2) },
            10_000_000,
        )
        .expect("valid tx");
    assert!(reason(&r).contains("cannot attach funds"), "{r:?}");
    assert_eq!(bal(&w, &escrow), Amount::new(5_000));

    let r = w.exec(escrow, b"{\"approve\":{}}", 10_000_000);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(bal(&w, &recipient), Amount::new(5_000));
    assert_eq!(bal(&w, &escrow), Amount::ZERO);
    let r = w.exec(escrow, b"{\"approve\":{}}", 10_000_000);
    assert!(reason(&r).contains("empty"), "{r:?}");
}

#[test]
fn bulk_memory_is_charged_per_byte() {
    let mut w = World::new();
    let small = w.deploy(&contract("(memory.fill (i32.const 0) (i32.const 7) (i32.const 16)) (i64.const 0)"), "s");
    let big = w.deploy(&contract("(memory.fill (i32.const 0) (i32.const 7) (i32.const 100000)) (i64.const 0)"), "b");
    let gs = w.exec(small, b"{}", 10_000_000).gas_used;
    let gb = w.exec(big, b"{}", 10_000_000).gas_used;
    assert!(gb - gs >= 100_000 - 16, "memory.fill of 100 kB cost only {} more gas", gb - gs);
}
