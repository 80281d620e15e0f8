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
        signed(alice, 0, Payload::StoreCode { code: code.to_vec() }, 700_000_000),
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

    // Worst cases for wall time per gas: the slowest code per unit of gas we
    // could construct. `max_tx_gas` of the slowest must stay far below the
    // wall-clock guard (vm::WALL_CLOCK_LIMIT), which must never fire for a
    // transaction that fits the gas limits.
    let mut worst = WorstCase::new(&vm, &params, &alice, store.clone());
    for (name, callee, body, extra) in WORST_CASES {
        worst.run(name, callee, body, extra);
    }
    let (name, ns) = worst.slowest.clone();
    println!(
        "slowest per gas: {name} at {ns:.2} ns/gas: max_tx_gas ({}) takes ~{:.2} s, wall-clock guard {} s ({:.1}x margin); max_block_gas ({}) ~{:.2} s",
        params.max_tx_gas,
        params.max_tx_gas as f64 * ns / 1e9,
        vm::WALL_CLOCK_LIMIT.as_secs(),
        vm::WALL_CLOCK_LIMIT.as_secs_f64() / (params.max_tx_gas as f64 * ns / 1e9),
        params.max_block_gas,
        params.max_block_gas as f64 * ns / 1e9,
    );

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

/// (name, callee body or "" for none, caller body, extra functions). The
/// caller's message is the callee's address when there is one.
const WORST_CASES: &[(&str, &str, &str, &str)] = &[
    ("arithmetic loop", "", "(local $x i32) (loop $l (local.set $x (i32.add (local.get $x) (i32.const 1))) (br $l)) (i64.const 0)", ""),
    (
        "dependent division loop",
        "",
        "(local $x i64) (local.set $x (i64.const 7))
         (loop $l (local.set $x (i64.rem_u (i64.div_u (i64.const -1) (i64.or (local.get $x) (i64.const 3))) (i64.const 1000003))) (br $l))
         (i64.const 0)",
        "",
    ),
    (
        "scattered dependent loads over 16 MiB",
        "",
        "(local $i i32) (local $x i32)
         (drop (memory.grow (i32.const 254)))
         (loop $l
           (local.set $x (i32.load (i32.and (i32.mul (i32.add (local.get $x) (local.get $i))
             (i32.const 0x9E3779B1)) (i32.const 0x00FFFFFC))))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br $l))
         (i64.const 0)",
        "",
    ),
    (
        "indirect call loop",
        "",
        "(local $x i32) (loop $l (local.set $x (call_indirect (type $t) (local.get $x) (i32.const 0))) (br $l)) (i64.const 0)",
        "(type $t (func (param i32) (result i32))) (table 1 funcref) (elem (i32.const 0) $inc)
         (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))",
    ),
    (
        "host call loop (block_height)",
        "",
        "(loop $l (drop (call $block_height)) (br $l)) (i64.const 0)",
        "",
    ),
    (
        "address text loop (addr_parse)",
        "",
        "(drop (call $addr_format (i32.const 1000))) (call $read_register (i32.const 2000))
         (loop $l (drop (call $addr_parse (i32.const 2000) (i32.const 44) (i32.const 3000))) (br $l)) (i64.const 0)",
        "",
    ),
    (
        "address text loop (addr_format)",
        "",
        "(loop $l (drop (call $addr_format (i32.const 1000))) (br $l)) (i64.const 0)",
        "",
    ),
    (
        "storage miss loop",
        "",
        "(local $i i32) (loop $l (i32.store (i32.const 300) (local.get $i)) (drop (call $storage_get (i32.const 300) (i32.const 4)))
           (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)) (i64.const 0)",
        "",
    ),
    (
        "sub-call loop (empty callee)",
        "(i64.const 0)",
        "(loop $l (drop (call $call (local.get $ptr) (i32.const 0) (i32.const 0) (i32.const 64) (i64.const 0))) (br $l)) (i64.const 0)",
        "",
    ),
    (
        "sub-call loop (callee grows to 16 MiB and touches every 4 KiB page)",
        "(local $p i32) (drop (memory.grow (i32.const 254)))
         (loop $l (i32.store (local.get $p) (i32.const 1)) (local.set $p (i32.add (local.get $p) (i32.const 4096)))
           (br_if $l (i32.lt_u (local.get $p) (i32.const 16777216))))
         (i64.const 0)",
        "(loop $l (drop (call $call (local.get $ptr) (i32.const 0) (i32.const 0) (i32.const 64) (i64.const 0))) (br $l)) (i64.const 0)",
        "",
    ),
];

const EXTRA_IMPORTS: &str = "(import \"agora\" \"block_height\" (func $block_height (result i64)))
  (import \"agora\" \"addr_parse\" (func $addr_parse (param i32 i32 i32) (result i32)))
  (import \"agora\" \"addr_format\" (func $addr_format (param i32) (result i64)))";

/// Deploys and times worst-case contracts.
struct WorstCase<'a> {
    vm: &'a Vm,
    params: &'a ChainParams,
    alice: &'a SigningKey,
    store: MemStore,
    nonce: u64,
    height: u64,
    slowest: (String, f64),
}

impl<'a> WorstCase<'a> {
    fn new(vm: &'a Vm, params: &'a ChainParams, alice: &'a SigningKey, store: MemStore) -> Self {
        WorstCase { vm, params, alice, store, nonce: 2, height: 100, slowest: (String::new(), 0.0) }
    }

    fn tx(&mut self, payload: Payload, gas: u64) -> (ledger::Receipt, Duration) {
        let tx = signed(self.alice, self.nonce, payload, gas);
        self.nonce += 1;
        self.height += 1;
        let mut exec = BlockExecutor::with_vm(&self.store, self.params, env(self.height), self.vm);
        let t = Instant::now();
        let r = exec.execute(&tx).unwrap().clone();
        let dt = t.elapsed();
        let out = exec.finish().unwrap();
        self.store.commit(&out.diff);
        (r, dt)
    }

    fn deploy(&mut self, body: &str, extra: &str, label: &str) -> Address {
        let wat = contract_artifacts::hostile::contract_with(body, extra).replacen(
            "(module",
            &format!("(module {EXTRA_IMPORTS}"),
            1,
        );
        let code = wat::parse_str(&wat).unwrap();
        let h = Hash::digest(&code);
        let (r, _) = self.tx(Payload::StoreCode { code }, 700_000_000);
        assert_eq!(r.status, TxStatus::Success, "{label}: {r:?}");
        let payload =
            Payload::Instantiate { code_hash: h, label: label.into(), msg: b"{}".to_vec(), funds: Amount::ZERO };
        let (r, _) = self.tx(payload, 10_000_000);
        assert_eq!(r.status, TxStatus::Success, "{label}: {r:?}");
        ledger::contract_address(&h, &PublicKey::from_signing_key(self.alice).address(), label)
    }

    fn run(&mut self, name: &str, callee: &str, body: &str, extra: &str) {
        let msg = if callee.is_empty() {
            b"{}".to_vec()
        } else {
            self.deploy(callee, "", &format!("{name}/callee")).0.to_vec()
        };
        let c = self.deploy(body, extra, name);
        let gas = self.params.max_tx_gas;
        // Best of three: the figure is a property of the code, not of noise.
        let mut best = Duration::MAX;
        let mut used = 0;
        for _ in 0..3 {
            let (r, dt) = self.tx(Payload::Execute { contract: c, msg: msg.clone(), funds: Amount::ZERO }, gas);
            used = r.gas_used;
            best = best.min(dt);
        }
        let ns = best.as_secs_f64() * 1e9 / used as f64;
        println!("worst case `{name}`: {used} gas in {:.0} ms = {ns:.2} ns/gas", best.as_secs_f64() * 1e3);
        if ns > self.slowest.1 {
            self.slowest = (name.to_owned(), ns);
        }
    }
}
