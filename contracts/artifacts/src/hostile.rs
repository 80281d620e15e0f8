//! WebAssembly text of hand-written contracts for the VM's and the node's
//! hostile-input tests (compile with the `wat` crate): a contract skeleton
//! and the cases that once stopped or slowed nodes.

/// A contract skeleton: `BODY` is the body of `execute(ptr, len) -> i64`;
/// `$ptr`/`$len` are the message. Helper `$fail` aborts with the register.
pub fn contract(body: &str) -> String {
    contract_with(body, "")
}

pub fn contract_with(body: &str, extra: &str) -> String {
    format!(
        r#"(module
  (import "agora" "abort" (func $abort (param i32 i32)))
  (import "agora" "storage_get" (func $storage_get (param i32 i32) (result i64)))
  (import "agora" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "agora" "read_register" (func $read_register (param i32)))
  (import "agora" "register_len" (func $register_len (result i64)))
  (import "agora" "self_address" (func $self_address (param i32)))
  (import "agora" "call" (func $call (param i32 i32 i32 i32 i64) (result i32)))
  (import "agora" "emit_event" (func $emit_event (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 4096))
  (data (i32.const 0) "key")
  (data (i32.const 16) "value")
  (data (i32.const 32) "counter")
  (func (export "interface_version_1"))
  (func (export "agora_alloc") (param $n i32) (result i32) (local $p i32)
    global.get $bump local.set $p
    global.get $bump local.get $n i32.add global.set $bump
    local.get $p)
  (func $fail (drop (call $register_len)) (call $read_register (i32.const 2048))
    (call $abort (i32.const 2048) (i32.wrap_i64 (call $register_len))))
  (func (export "instantiate") (param i32 i32) (result i64) (i64.const 0))
  (func (export "query") (param $ptr i32) (param $len i32) (result i64)
    (if (i64.lt_s (call $storage_get (i32.const 0) (i32.const 3)) (i64.const 0)) (then (return (i64.const 0))))
    (call $read_register (i32.const 3000))
    (i64.or (i64.shl (i64.const 3000) (i64.const 32)) (call $register_len)))
  {extra}
  (func (export "execute") (param $ptr i32) (param $len i32) (result i64)
    {body}))"#
    )
}

/// `execute`: with message `depth:u32 ‖ next addresses`, recurses `depth`
/// frames, then forwards `depth ‖ rest` to the first address (if any).
const DEEP_FORWARD: &str =
    "(drop (call $rec (i32.load (local.get $ptr)) (local.get $ptr) (local.get $len))) (i64.const 0)";
const DEEP_FORWARD_FNS: &str = "(func $rec (param $n i32) (param $ptr i32) (param $len i32) (result i64)
    (local $a i64) (local $b i64) (local $c i64) (local $d i64)
    (if (i32.eqz (local.get $n)) (then (return (call $forward (local.get $ptr) (local.get $len)))))
    (local.set $a (i64.extend_i32_u (local.get $n)))
    (local.set $b (i64.mul (local.get $a) (i64.const 3)))
    (local.set $c (i64.add (local.get $b) (local.get $a)))
    (local.set $d (call $rec (i32.sub (local.get $n) (i32.const 1)) (local.get $ptr) (local.get $len)))
    (i64.add (local.get $d) (i64.sub (local.get $c) (local.get $b))))
  (func $forward (param $ptr i32) (param $len i32) (result i64)
    (if (i32.le_u (local.get $len) (i32.const 4)) (then (return (i64.const 0))))
    ;; target address to scratch, then `depth` over the last 4 bytes of it: the new message
    (memory.copy (i32.const 200) (i32.add (local.get $ptr) (i32.const 4)) (i32.const 20))
    (i32.store (i32.add (local.get $ptr) (i32.const 20)) (i32.load (local.get $ptr)))
    (if (call $call (i32.const 200) (i32.add (local.get $ptr) (i32.const 20)) (i32.sub (local.get $len) (i32.const 20))
          (i32.const 64) (i64.const 0))
      (then (call $fail)))
    (i64.const 0))";

/// A contract that recurses `depth` frames in `execute` and then calls the
/// next contract of its message: see [`deep_forward_msg`].
pub fn deep_forward() -> String {
    contract_with(DEEP_FORWARD, DEEP_FORWARD_FNS)
}

/// The message for [`deep_forward`]: recurse `depth` in every frame, then
/// call each of `next` in turn (each calls the following one).
pub fn deep_forward_msg(depth: u32, next: impl IntoIterator<Item = [u8; 20]>) -> Vec<u8> {
    let mut m = depth.to_le_bytes().to_vec();
    m.extend(next.into_iter().flatten());
    m
}

/// `execute` with a one-byte message of mode bits: 1 writes keys 0..N
/// (4 bytes each), 2 removes them all, 4 then looks for the first key.
fn churn_body(n: u32) -> String {
    format!(
        "(local $i i32) (local $mode i32)
        (local.set $mode (i32.load8_u (local.get $ptr)))
        (if (i32.and (local.get $mode) (i32.const 1)) (then
          (local.set $i (i32.const 0))
          (block $done (loop $l
            (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
            (i32.store (i32.const 300) (local.get $i))
            (call $storage_set (i32.const 300) (i32.const 4) (i32.const 16) (i32.const 5))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))))
        (if (i32.and (local.get $mode) (i32.const 2)) (then
          (local.set $i (i32.const 0))
          (block $done (loop $l
            (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
            (i32.store (i32.const 300) (local.get $i))
            (call $storage_remove (i32.const 300) (i32.const 4))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))))
        (if (i32.and (local.get $mode) (i32.const 4)) (then
          (if (i64.ge_s (call $storage_next (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2)) (i64.const 0))
            (then (call $abort (i32.const 32) (i32.const 7))))))
        (i64.const 0)"
    )
}

const NEXT_IMPORTS: &str = "(import \"agora\" \"storage_remove\" (func $storage_remove (param i32 i32)))
  (import \"agora\" \"storage_next\" (func $storage_next (param i32 i32 i32 i32 i32) (result i64)))";

/// Mode bit: write keys `0..n`.
pub const WRITE: u8 = 1;
/// Mode bit: remove keys `0..n`.
pub const REMOVE: u8 = 2;
/// Mode bit: then look up the first key with `storage_next`.
pub const NEXT: u8 = 4;

/// A contract whose `execute` takes a one-byte message of [`WRITE`],
/// [`REMOVE`] and [`NEXT`] bits over `n` keys: the `storage_next` cost case.
pub fn storage_churn(n: u32) -> String {
    contract(&churn_body(n)).replacen("(module", &format!("(module\n  {NEXT_IMPORTS}"), 1)
}

/// Passes the wasm validator but defines two tables (reference types allow
/// several), more than a pooled instance holds.
pub fn two_tables() -> String {
    contract("(i64.const 0)")
        .replace("(memory (export \"memory\") 2)", "(memory (export \"memory\") 2) (table 1 funcref) (table 1 funcref)")
}

/// A contract with `n` globals (each lives in the pooled instance state).
pub fn many_globals(n: u32) -> String {
    let globals: String = (0..n).map(|i| format!("(global $g{i} (mut i64) (i64.const {i}))")).collect();
    contract("(i64.const 0)")
        .replace("(memory (export \"memory\") 2)", &format!("(memory (export \"memory\") 2) {globals}"))
}
