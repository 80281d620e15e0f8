//! VM figures for the example token contract (run:
//! `cargo bench --workspace --bench vm`; `VM_TRANSFERS=N` sets the workload):
//! compile time, instantiate + call cold and warm, token transfers per
//! second on one core through the real block executor, and the cost of fuel
//! metering (the same transfers on an engine without fuel, best of 3
//! alternating runs each), and how fast worst-case loops burn gas.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ledger::contract::{ContractVm, HostEnv, query_contract};
use ledger::state::genesis_diff;
use ledger::{
    Address, Amount, BlockEnv, BlockExecutor, ChainParams, Hash, Height, MemStore, Payload, PublicKey, SigningKey,
    TxBody, TxStatus, VerifiedTx,
};
use serde_json::json;
use vm::{Vm, VmConfig};

const CHAIN: &str = "bench";

fn signed(key: &SigningKey, nonce: u64, payload: Payload, gas: u64) -> VerifiedTx {
    TxBody {
        chain_id: CHAIN.into(),
        sender: PublicKey::from_signing_key(key),
        nonce,
        gas_limit: gas,
        gas_price: Amount::new(1),
        payload,
    }
    .sign(key)
    .verify()
    .unwrap()
}

fn env(h: u64) -> BlockEnv {
    BlockEnv::new(CHAIN, Height(h), h)
}

/// Deploys the token; returns (store, token address, next height).
fn setup(vm: &Vm, params: &ChainParams, alice: &SigningKey) -> (MemStore, Address) {
    let me = PublicKey::from_signing_key(alice).address();
    let mut store = MemStore::new();
    let d = genesis_diff(&store, &[(me, Amount::new(10u128.pow(24)))]).unwrap();
    store.commit(&d);
    let code = contract_artifacts::TOKEN;
    let code_hash = Hash::digest(code);
    let init = json!({ "name": "T", "symbol": "TTT", "decimals": 0,
        "initial_balances": [{ "address": me.to_string(), "amount": "1000000000000" }] });
    let txs = [
        signed(alice, 0, Payload::StoreCode { code: code.to_vec() }, 90_000_000),
        signed(
            alice,
            1,
            Payload::Instantiate {
                code_hash,
                label: "t".into(),
                msg: serde_json::to_vec(&init).unwrap(),
                funds: Amount::ZERO,
            },
            10_000_000,
        ),
    ];
    for (i, tx) in txs.iter().enumerate() {
        let mut exec = BlockExecutor::with_vm(&store, params, env(i as u64 + 1), vm);
        assert_eq!(exec.execute(tx).unwrap().status, TxStatus::Success);
        let out = exec.finish().unwrap();
        store.commit(&out.diff);
    }
    (store, ledger::contract_address(&code_hash, &me, "t"))
}

fn transfers(vm: &Vm, params: &ChainParams, n: u64) -> (Duration, u64) {
    let alice = SigningKey::from_bytes(&[1; 32]);
    let (mut store, token) = setup(vm, params, &alice);
    let per_block = 1000;
    let txs: Vec<VerifiedTx> = (0..n)
        .map(|i| {
            let to = Address([(i % 200) as u8 + 10; 20]);
            let msg = json!({ "transfer": { "recipient": to.to_string(), "amount": "1" } });
            let p = Payload::Execute { contract: token, msg: serde_json::to_vec(&msg).unwrap(), funds: Amount::ZERO };
            signed(&alice, i + 2, p, 2_000_000)
        })
        .collect();
    let mut gas = 0;
    let t = Instant::now();
    for (b, chunk) in txs.chunks(per_block).enumerate() {
        let mut exec = BlockExecutor::with_vm(&store, params, env(b as u64 + 3), vm);
        for tx in chunk {
            let r = exec.execute(tx).unwrap();
            assert_eq!(r.status, TxStatus::Success, "{r:?}");
            gas = r.gas_used;
        }
        let out = exec.finish().unwrap();
        store.commit(&out.diff);
    }
    (t.elapsed(), gas)
}

fn main() {
    let n: u64 = std::env::var("VM_TRANSFERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let params = ChainParams::default();
    let code = contract_artifacts::TOKEN;
    let code_hash = Hash::digest(code);
    println!("token contract: {} bytes of wasm", code.len());

    // Compile (validation + cranelift), fresh engine each time, no caches.
    let mut compile = Vec::new();
    for _ in 0..5 {
        let vm = Vm::new(&params, VmConfig::default()).unwrap();
        let t = Instant::now();
        vm.check_code(code, &params).unwrap();
        vm.prepare(&code_hash, code).unwrap();
        compile.push(t.elapsed());
    }
    compile.sort();
    println!("compile (upload check + cranelift): median {:.1} ms", compile[2].as_secs_f64() * 1e3);

    // Instantiate + a small query: cold (module from the disk cache) and warm.
    let dir = std::env::temp_dir().join(format!("agora-vm-bench-{}", std::process::id()));
    let vm = Vm::new(&params, VmConfig { cache_dir: Some(dir.clone()), unmetered: false }).unwrap();
    let alice = SigningKey::from_bytes(&[1; 32]);
    let (store, token) = setup(&vm, &params, &alice);
    let qenv = HostEnv {
        chain_id: CHAIN.into(),
        height: Height(2),
        time_ms: 0,
        origin: Address([0; 20]),
        params: params.clone(),
        read_only: true,
    };
    let msg = serde_json::to_vec(&json!({ "token_info": {} })).unwrap();
    let q = |vm: &Vm| query_contract(store.clone(), vm, qenv.clone(), token, msg.clone(), 10_000_000).unwrap();
    let mut cold = Vec::new();
    for _ in 0..5 {
        let vm2 = Vm::new(&params, VmConfig { cache_dir: Some(dir.clone()), unmetered: false }).unwrap();
        let t = Instant::now();
        q(&vm2);
        cold.push(t.elapsed());
        assert_eq!(vm2.cache_stats().disk_hits, 1);
    }
    cold.sort();
    q(&vm);
    let iters = 2000;
    let t = Instant::now();
    for _ in 0..iters {
        q(&vm);
    }
    let warm = t.elapsed() / iters;
    println!(
        "instantiate + token_info query: cold (module from disk cache) median {:.2} ms, warm {:.1} µs",
        cold[2].as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);

    // Worst cases for wall time per gas: a tight arithmetic loop, and a loop
    // of dependent loads scattered over 12 MiB (memory latency bound). They
    // bound how long a block of `max_block_gas` can take.
    let me = PublicKey::from_signing_key(&alice).address();
    for (name, body) in [
        ("arithmetic loop", "(loop $l (local.set $x (i32.add (local.get $x) (i32.const 1))) (br $l))"),
        (
            "scattered-load loop",
            "(drop (memory.grow (i32.const 200)))
             (loop $l
               (local.set $x (i32.load (i32.and (i32.mul (i32.add (local.get $x) (local.get $i))
                 (i32.const 0x9E3779B1)) (i32.const 0x00BFFFFC))))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br $l))",
        ),
    ] {
        let wat = format!(
            r#"(module (memory (export "memory") 2)
                 (func (export "interface_version_1"))
                 (func (export "agora_alloc") (param i32) (result i32) (i32.const 1024))
                 (func (export "instantiate") (param i32 i32) (result i64) (i64.const 0))
                 (func (export "execute") (param i32 i32) (result i64) (local $i i32) (local $x i32)
                   {body} (i64.const 0)))"#
        );
        let code = wat::parse_str(&wat).unwrap();
        let h = Hash::digest(&code);
        let mut st = store.clone();
        let label = name.to_string();
        let deploy = [
            signed(&alice, 2, Payload::StoreCode { code: code.clone() }, 90_000_000),
            signed(
                &alice,
                3,
                Payload::Instantiate { code_hash: h, label: label.clone(), msg: b"{}".to_vec(), funds: Amount::ZERO },
                10_000_000,
            ),
        ];
        for (i, tx) in deploy.iter().enumerate() {
            let mut exec = BlockExecutor::with_vm(&st, &params, env(i as u64 + 10), &vm);
            assert_eq!(exec.execute(tx).unwrap().status, TxStatus::Success);
            let out = exec.finish().unwrap();
            st.commit(&out.diff);
        }
        let c = ledger::contract_address(&h, &me, &label);
        let tx = signed(
            &alice,
            4,
            Payload::Execute { contract: c, msg: b"{}".to_vec(), funds: Amount::ZERO },
            params.max_tx_gas,
        );
        let mut exec = BlockExecutor::with_vm(&st, &params, env(20), &vm);
        let t = Instant::now();
        let r = exec.execute(&tx).unwrap().clone();
        let dt = t.elapsed();
        let rate = r.gas_used as f64 / dt.as_secs_f64();
        println!(
            "{name}: {} gas in {:.0} ms = {:.0} M gas/s; a block of max_block_gas ({}) of it: ~{:.2} s",
            r.gas_used,
            dt.as_secs_f64() * 1e3,
            rate / 1e6,
            params.max_block_gas,
            params.max_block_gas as f64 / rate
        );
    }

    // Token transfers through the block executor on one thread.
    // Alternate the two engines and keep each one's best run, so warm-up and
    // machine noise do not land on one side only.
    let unmetered_vm = Vm::new(&params, VmConfig { cache_dir: None, unmetered: true }).unwrap();
    let (mut metered, mut unmetered, mut gas) = (Duration::MAX, Duration::MAX, 0);
    for _ in 0..3 {
        let (m, g) = transfers(&vm, &params, n);
        let (u, _) = transfers(&unmetered_vm, &params, n);
        metered = metered.min(m);
        unmetered = unmetered.min(u);
        gas = g;
    }
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "token transfer (execute tx, incl. state writes, 1 core): {:.0} calls/s metered, {:.0} calls/s without fuel; {} gas each",
        rate(metered),
        rate(unmetered),
        gas
    );
    println!(
        "fuel metering overhead: {:+.1}% time per call",
        (metered.as_secs_f64() / unmetered.as_secs_f64() - 1.0) * 100.0
    );
}
