//! Hostile contracts against the VM's guarantees: what passes upload always
//! instantiates (every pooled resource is counted at upload), deleted keys
//! that `storage_next` steps over are paid for, and the deepest allowed call
//! chain at maximum recursion fits the native stack every contract thread has.

mod common;

use common::{World, contract, contract_with, reason};
use contract_artifacts::hostile;
use ledger::{Address, Payload, TxStatus};

fn upload(w: &mut World, code: Vec<u8>) -> ledger::Receipt {
    w.tx(Payload::StoreCode { code }, 700_000_000).expect("valid tx")
}

#[test]
fn modules_the_instance_pool_cannot_hold_are_refused_at_upload() {
    let mut w = World::new();
    // Two tables (reference types allow several): the pool holds one per instance.
    let r = upload(&mut w, wat::parse_str(hostile::two_tables()).expect("wat"));
    assert!(reason(&r).contains("at most 1 table"), "{r:?}");
    // Globals live in the pooled instance state.
    let r = upload(&mut w, wat::parse_str(hostile::many_globals(1_001)).expect("wat"));
    assert!(reason(&r).contains("globals, the limit is 1000"), "{r:?}");
    // The chain goes on: a normal contract still deploys and runs.
    let ok = w.deploy(&contract("(i64.const 0)"), "after");
    assert_eq!(w.exec(ok, b"{}", 1_000_000).status, TxStatus::Success);
}

#[test]
fn a_module_at_the_limits_uploads_instantiates_and_runs() {
    let mut w = World::new();
    let cp = w.params.contracts;
    // As many functions as fit in `max_code_bytes` beside the rest (each
    // escaping function costs instance state, so more is the harder case).
    let funcs = 8_000usize;
    let extra: String = (0..funcs).map(|i| format!("(func $f{i} (result i32) (i32.const {i}))")).collect::<String>()
        + &(0..vm::validate::MAX_GLOBALS - 1).map(|i| format!("(global (mut i64) (i64.const {i}))")).collect::<String>()
        + &format!("(table {} funcref)", vm::validate::MAX_TABLE_ELEMENTS)
        // Every function escapes (a table element or declared), so each needs
        // a function reference in the instance state.
        + &format!(
            "(elem (i32.const 0) func {})",
            (0..vm::validate::MAX_TABLE_ELEMENTS as usize).map(|i| format!("$f{} ", i % funcs)).collect::<String>()
        )
        + &format!("(elem declare func {})", (0..funcs).map(|i| format!("$f{i} ")).collect::<String>())
        + &(0..500).map(|i| format!("(data (i32.const {}) \"x\")", 70_000 + 8 * i)).collect::<String>();
    let wat = contract_with("(i64.const 0)", &extra)
        .replace("(memory (export \"memory\") 2)", &format!("(memory (export \"memory\") {})", cp.max_memory_pages));
    let code = wat::parse_str(wat).expect("wat");
    assert!(code.len() <= cp.max_code_bytes as usize, "{} bytes", code.len());
    let r = upload(&mut w, code);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let code_hash = ledger::Hash(r.data.try_into().expect("hash"));
    let inst = w
        .tx(
            Payload::Instantiate { code_hash, label: "max".into(), msg: b"{}".to_vec(), funds: ledger::Amount::ZERO },
            10_000_000,
        )
        .expect("valid tx");
    assert_eq!(inst.status, TxStatus::Success, "{inst:?}");
}

#[test]
fn the_deepest_call_chain_at_maximum_recursion_fits_the_contract_thread_stack() {
    let depth = ledger::ChainParams::default().contracts.max_call_depth;
    let stack = vm::exec_thread_stack(depth);
    // Runs on a thread with exactly the stack the node gives its contract
    // threads: a native stack overflow here would kill the test process.
    let t = std::thread::Builder::new().stack_size(stack).spawn(move || {
        let mut w = World::new();
        let frames = depth as usize + 1;
        let chain: Vec<Address> = (0..frames).map(|i| w.deploy(&hostile::deep_forward(), &format!("d{i}"))).collect();
        let msg = |n: u32, hops: usize| hostile::deep_forward_msg(n, chain[1..=hops].iter().map(|a| a.0));
        // The most recursion one frame takes before its wasm stack is exhausted.
        let (mut lo, mut hi) = (1u32, 1u32 << 20);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            let r = w.exec(chain[0], &msg(mid, 0), 500_000_000);
            match &r.status {
                TxStatus::Success => lo = mid,
                TxStatus::Failed { reason } if reason.contains("call stack exhausted") => hi = mid,
                other => panic!("recursion {mid}: {other:?}"),
            }
        }
        assert!(lo > 1_000, "only {lo} frames fit in the wasm stack");
        // Every frame of the deepest chain recurses that far (less a few
        // frames for the call into the next contract), then calls the next.
        let r = w.exec(chain[0], &msg(lo - 64, frames - 1), 500_000_000);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        (lo, r.gas_used)
    });
    let (max_recursion, gas) = t.expect("spawn").join().expect("the contract thread survived");
    eprintln!("{} frames × {max_recursion} recursion on a {stack}-byte thread: ok ({gas} gas)", depth + 1);
}

#[test]
fn storage_next_pays_for_every_key_deleted_in_the_block_it_steps_over() {
    let mut w = World::new();
    let n = 2_000u32;
    let c = w.deploy(&hostile::storage_churn(n), "next");
    let without = w.exec(c, &[hostile::WRITE | hostile::REMOVE], 500_000_000);
    assert_eq!(without.status, TxStatus::Success, "{without:?}");
    let with = w.exec(c, &[hostile::WRITE | hostile::REMOVE | hostile::NEXT], 500_000_000);
    assert_eq!(with.status, TxStatus::Success, "{with:?}");
    let per_skip = w.params.contracts.gas_storage_read;
    assert!(
        with.gas_used - without.gas_used >= u64::from(n) * per_skip,
        "stepping over {n} deleted keys cost {} gas, at least {} expected",
        with.gas_used - without.gas_used,
        u64::from(n) * per_skip
    );
    // With too little gas left for the skips the call runs out of gas
    // instead of stepping over them for free.
    let short =
        w.exec(c, &[hostile::WRITE | hostile::REMOVE | hostile::NEXT], without.gas_used + u64::from(n) * per_skip / 2);
    assert!(reason(&short).contains("out of gas"), "{short:?}");
}

#[test]
fn storage_next_pays_for_committed_keys_deleted_in_the_block() {
    let mut w = World::new();
    let n = 1_000u32;
    let c = w.deploy(&hostile::storage_churn(n), "next");
    // Each transaction is its own block here: the keys are committed first.
    assert_eq!(w.exec(c, &[hostile::WRITE], 500_000_000).status, TxStatus::Success);
    let without = w.exec(c, &[hostile::REMOVE], 500_000_000);
    assert_eq!(without.status, TxStatus::Success, "{without:?}");
    assert_eq!(w.exec(c, &[hostile::WRITE], 500_000_000).status, TxStatus::Success);
    let with = w.exec(c, &[hostile::REMOVE | hostile::NEXT], 500_000_000);
    assert_eq!(with.status, TxStatus::Success, "{with:?}");
    assert!(with.gas_used - without.gas_used >= u64::from(n) * w.params.contracts.gas_storage_read);
}
