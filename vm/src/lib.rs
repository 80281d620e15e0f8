//! Agora's contract VM: WebAssembly contracts on wasmtime, deterministically.
//!
//! * **Determinism.** Gas is wasmtime *fuel* (one unit per instruction) plus
//!   explicit host-call costs from the chain parameters; NaNs are
//!   canonicalised; threads, SIMD, relaxed SIMD, multi-memory, memory64, tail
//!   calls, GC and exceptions are off; code is compiled for the *baseline* of
//!   the host architecture (no CPU features inferred from the machine), so the
//!   native frames, and with them the point where deep recursion exhausts the
//!   fixed wasm stack, are the same on every node running this build.
//!   Epoch interruption is only a wall-clock safety net: when it fires, the
//!   node refuses the block instead of committing a result.
//! * **Speed.** Modules are compiled once per code hash and kept as
//!   [`wasmtime::InstancePre`] in memory and as precompiled artifacts on disk;
//!   instances come from the pooling allocator with copy-on-write memory images.
//! * **Bounds.** Code size, memory pages, table elements, functions, locals,
//!   call depth, storage key/value sizes, event sizes, messages: see `ABI.md`.

mod cache;
mod host;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ledger::contract::{CallError, CallOutcome, ContractCall, ContractVm, Host};
use ledger::{Address, Amount, ChainParams, Event, Hash, LedgerError};
use wasmtime::wasmparser::WasmFeatures;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, OptLevel, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder, Trap,
};

pub use cache::CacheStats;

/// Fixed size of the wasm stack (native bytes). Part of the consensus rules
/// together with the wasmtime version: see the crate docs.
pub const MAX_WASM_STACK: usize = 512 * 1024;
/// Wall-clock safety net per top-level call. Gas is set so that no call
/// within `max_tx_gas` comes near it on the reference machine (see ABI.md,
/// "Wall clock"); if it fires anyway the call is `Unexecutable` on this node.
pub const WALL_CLOCK_LIMIT: Duration = Duration::from_secs(5);
/// Native stack every thread that runs contracts must have: each frame of the
/// deepest allowed call chain (`max_call_depth` + 1 frames) may use the whole
/// wasm stack, plus the host's own frames around each one (measured well
/// under 256 KiB a frame by `vm/tests/stack.rs`). The node's runtime,
/// its executor and admission threads, and every contract thread are built
/// with it.
pub const fn exec_thread_stack(max_call_depth: u32) -> usize {
    (max_call_depth as usize + 1) * (MAX_WASM_STACK + 256 * 1024) + 4 * 1024 * 1024
}
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Instances the pool holds at once: block execution needs at most
/// `max_call_depth + 1` (9), RPC queries at most 9 × `MAX_CONCURRENT_QUERIES`
/// of the node (8), so 256 is never reached with the default depth.
const POOL_INSTANCES: u32 = 256;
/// Compiled modules kept in memory.
const MEMORY_CACHE_MODULES: usize = 256;
/// Bytes of instance state (VM context: functions, globals, table and memory
/// descriptors) a pooled instance slot holds. A module at every validation
/// limit at once fits (`vm/tests/hostile.rs`).
const MAX_INSTANCE_STATE: usize = 4 * 1024 * 1024;

/// Errors of the VM's own set-up (not of contract execution).
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error("wasmtime configuration: {0}")]
    Engine(String),
    #[error("compilation cache directory {path}: {reason}")]
    CacheDir { path: PathBuf, reason: String },
}

/// How the node sets the VM up.
#[derive(Clone, Debug, Default)]
pub struct VmConfig {
    /// Directory for precompiled modules (`None`: memory cache only).
    pub cache_dir: Option<PathBuf>,
    /// Disable fuel metering. Only for measuring metering overhead in
    /// benchmarks: gas is then not charged for instructions.
    pub unmetered: bool,
}

/// The contract VM. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct Vm {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm").field("cache", &self.inner.cache.stats()).finish()
    }
}

pub(crate) struct Inner {
    engine: Engine,
    linker: Linker<Data>,
    cache: cache::ModuleCache,
    metered: bool,
    stop_ticker: Arc<AtomicBool>,
    /// Frames run and gas used by top-level frames, for the node's metrics
    /// (relaxed atomic adds, one per frame).
    frames: std::sync::atomic::AtomicU64,
    gas_used: std::sync::atomic::AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// The wasmtime configuration every node must share (see the crate docs).
fn engine_config(params: &ChainParams, metered: bool) -> Result<Config, VmError> {
    let mut c = Config::new();
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        // An explicit target disables host CPU feature inference: every node
        // compiles the same machine code, whatever its CPU.
        c.target("x86_64-unknown-linux-gnu").map_err(|e| VmError::Engine(e.to_string()))?;
    }
    c.consume_fuel(metered)
        .epoch_interruption(true)
        .cranelift_nan_canonicalization(true)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(MAX_WASM_STACK)
        .wasm_simd(false)
        .wasm_relaxed_simd(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_tail_call(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .wasm_extended_const(false)
        .wasm_bulk_memory(true)
        .wasm_multi_value(true);
    // Proposals whose `Config` switches only exist with optional crate features.
    c.wasm_features(WasmFeatures::REFERENCE_TYPES, true);
    for f in [WasmFeatures::FUNCTION_REFERENCES, WasmFeatures::GC, WasmFeatures::EXCEPTIONS, WasmFeatures::THREADS] {
        c.wasm_features(f, false);
    }
    let max_bytes = u64::from(params.contracts.max_memory_pages) * 65_536;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_INSTANCES)
        .total_memories(POOL_INSTANCES)
        .total_tables(POOL_INSTANCES)
        .max_core_instance_size(MAX_INSTANCE_STATE)
        .max_memories_per_module(1)
        .max_tables_per_module(validate::MAX_TABLES)
        .table_elements(validate::MAX_TABLE_ELEMENTS as usize)
        .max_memory_size(max_bytes as usize);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(c)
}

impl Vm {
    /// Builds the engine, host functions and caches, and starts the epoch
    /// ticker thread (stopped when the last handle is dropped).
    pub fn new(params: &ChainParams, config: VmConfig) -> Result<Vm, VmError> {
        let engine =
            Engine::new(&engine_config(params, !config.unmetered)?).map_err(|e| VmError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        host::define(&mut linker).map_err(|e| VmError::Engine(e.to_string()))?;
        let cache = cache::ModuleCache::new(config.cache_dir, MEMORY_CACHE_MODULES)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (e2, s2) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while !s2.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    e2.increment_epoch();
                }
            })
            .map_err(|e| VmError::Engine(format!("epoch thread: {e}")))?;
        Ok(Vm {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache,
                metered: !config.unmetered,
                stop_ticker: stop,
                frames: Default::default(),
                gas_used: Default::default(),
            }),
        })
    }

    /// Compiles code (or finds it in the caches) without running it: lets a
    /// node warm its cache, and benchmarks measure compile time.
    pub fn prepare(&self, code_hash: &Hash, code: &[u8]) -> Result<(), String> {
        self.inner
            .cache
            .get_or_compile(&self.inner.engine, &self.inner.linker, code_hash, || Ok(Some(code.to_vec())))
            .map(|_| ())
            .map_err(|e| match e {
                CallError::Failed(m) | CallError::Unexecutable(m) => m,
                CallError::Node(e) => e.to_string(),
            })
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// (call frames run, gas used by top-level calls) since the VM started:
    /// blocks, queries and dry runs alike.
    pub fn call_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.inner.frames.load(Relaxed), self.inner.gas_used.load(Relaxed))
    }
}

impl ContractVm for Vm {
    fn check_code(&self, code: &[u8], params: &ChainParams) -> Result<(), CallError> {
        // What passes here is guaranteed to instantiate: the module rules
        // (a pure function of the bytes), then a compile with this engine
        // (which checks the module against the pool's limits) and one trial
        // instantiation in a pooled slot. All of it is the same on every node
        // of this build. The compiled module stays in the caches, so the first
        // call does not compile on the critical path.
        validate::check_code(code, params).map_err(CallError::Failed)?;
        let code_hash = Hash::digest(code);
        let inner = &self.inner;
        let pre = inner.cache.get_or_compile(&inner.engine, &inner.linker, &code_hash, || Ok(Some(code.to_vec())))?;
        let data = Data::new(inner.clone(), None, Frame::upload(code_hash), Vec::new(), params.contracts);
        let mut store = Store::new(&inner.engine, data);
        store.limiter(|d| &mut d.limits);
        if inner.metered {
            store.set_fuel(0).map_err(|e| CallError::Unexecutable(e.to_string()))?;
        }
        store.set_epoch_deadline(epoch_ticks());
        store.epoch_deadline_trap();
        match pre.instantiate(&mut store) {
            Ok(_) => Ok(()),
            Err(e) if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() => {
                Err(CallError::Unexecutable(format!("instance pool exhausted on this node: {e}")))
            }
            Err(e) => Err(CallError::Failed(format!("the module does not instantiate: {e:#}"))),
        }
    }

    fn run(&self, host: Box<dyn Host>, call: ContractCall, gas_limit: u64) -> (Box<dyn Host>, CallOutcome) {
        let frame = Frame {
            contract: call.contract,
            code_hash: call.code_hash,
            caller: call.caller,
            funds: call.funds,
            read_only: call.entry == ledger::contract::EntryPoint::Query,
            depth: 1,
        };
        run_frame(&self.inner, host, frame, vec![call.contract], call.entry.export_name(), call.msg, gas_limit)
    }
}

/// The store's resource limits, plus pay-as-you-grow accounting of linear
/// memory: every 64 KiB page a frame's memory has (its initial pages
/// included) costs `gas_memory_page`, because the first touch of each of
/// its 4 KiB OS pages is a page fault (about a microsecond here) whether or
/// not the contract runs any instruction in between. Growth is refused once
/// the frame's gas could not pay for it; pages are charged at the next host
/// call and when the frame ends.
pub(crate) struct Limits {
    inner: StoreLimits,
    /// Pages the frame may still add (what its gas limit pays for).
    pub page_budget: u64,
    /// Pages added and not charged yet.
    pub uncharged_pages: u64,
    /// A growth was refused for want of gas.
    pub budget_exhausted: bool,
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if !self.inner.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        let pages = (desired.saturating_sub(current)).div_ceil(65_536) as u64;
        if pages > self.page_budget {
            self.budget_exhausted = true;
            return Ok(false);
        }
        self.page_budget -= pages;
        self.uncharged_pages = self.uncharged_pages.saturating_add(pages);
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// One executing contract.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub contract: Address,
    pub code_hash: Hash,
    pub caller: Address,
    pub funds: Amount,
    pub read_only: bool,
    pub depth: u32,
}

impl Frame {
    /// The frame of an upload's trial instantiation (no entry point runs).
    fn upload(code_hash: Hash) -> Frame {
        let zero = Address([0; 20]);
        Frame { contract: zero, code_hash, caller: zero, funds: Amount::ZERO, read_only: true, depth: 1 }
    }
}

fn epoch_ticks() -> u64 {
    (WALL_CLOCK_LIMIT.as_millis() / EPOCH_TICK.as_millis()) as u64
}

/// Why a call stopped early (recorded by host functions before they trap).
#[derive(Debug)]
pub(crate) enum Stop {
    Abort(String),
    OutOfGas,
    Fault(String),
    /// A sub-call hit this node's local bounds.
    Unexecutable(String),
    Node(LedgerError),
}

/// The data of a wasmtime store: one per executing frame.
pub(crate) struct Data {
    pub host: Option<Box<dyn Host>>,
    pub vm: Arc<Inner>,
    pub frame: Frame,
    /// Contracts executing on the current call stack (re-entrancy guard).
    pub stack: Vec<Address>,
    pub register: Option<Vec<u8>>,
    pub events: Vec<Event>,
    pub stop: Option<Stop>,
    pub memory: Option<wasmtime::Memory>,
    pub limits: Limits,
    /// Limits and gas table, read by every host call.
    pub params: ledger::params::ContractParams,
}

impl Data {
    fn new(
        vm: Arc<Inner>,
        host: Option<Box<dyn Host>>,
        frame: Frame,
        stack: Vec<Address>,
        params: ledger::params::ContractParams,
    ) -> Data {
        let inner = StoreLimitsBuilder::new()
            .memory_size(params.max_memory_pages as usize * 65_536)
            .table_elements(validate::MAX_TABLE_ELEMENTS as usize)
            .instances(1)
            .memories(1)
            .tables(validate::MAX_TABLES as usize)
            .trap_on_grow_failure(false)
            .build();
        let limits = Limits { inner, page_budget: u64::MAX, uncharged_pages: 0, budget_exhausted: false };
        Data { host, vm, frame, stack, register: None, events: Vec::new(), stop: None, memory: None, limits, params }
    }

    pub fn host(&mut self) -> &mut dyn Host {
        self.host.as_deref_mut().expect("the host is in the store except during a sub-call")
    }
}

/// Runs one frame: instantiates the contract, passes the message, calls the
/// entry point and collects result, gas and events. A failure reverts the
/// frame's changes on the host.
pub(crate) fn run_frame(
    vm: &Arc<Inner>,
    mut host: Box<dyn Host>,
    frame: Frame,
    stack: Vec<Address>,
    entry: &str,
    msg: Vec<u8>,
    gas_limit: u64,
) -> (Box<dyn Host>, CallOutcome) {
    let checkpoint = host.checkpoint();
    let top_level = stack.len() <= 1;
    let pre = {
        let code_hash = frame.code_hash;
        let h = &mut host;
        vm.cache.get_or_compile(&vm.engine, &vm.linker, &code_hash, || h.code(&code_hash))
    };
    let pre = match pre {
        Ok(p) => p,
        Err(e) => return (host, CallOutcome { gas_used: 0, result: Err(e), events: Vec::new() }),
    };
    let params = host.env().params.contracts;
    let mut data = Data::new(vm.clone(), Some(host), frame, stack, params);
    if vm.metered {
        data.limits.page_budget = gas_limit / params.gas_memory_page.max(1);
    }
    let mut store = Store::new(&vm.engine, data);
    store.limiter(|d| &mut d.limits);
    if vm.metered {
        store.set_fuel(gas_limit).expect("fuel is enabled");
    }
    store.set_epoch_deadline(epoch_ticks());
    store.epoch_deadline_trap();

    let mut result = invoke(&mut store, &pre, entry, &msg, &params);
    // Memory added since the last host call is paid for now, whether the
    // call succeeded or not; what the gas left cannot pay ends it out of gas.
    if !host::settle_memory(&mut store) || (store.data().limits.budget_exhausted && result.is_err()) {
        store.data_mut().stop = Some(Stop::OutOfGas);
        if result.is_ok() {
            result = Err(wasmtime::Error::msg("out of gas"));
        }
    }
    let remaining = if vm.metered { store.get_fuel().unwrap_or(0) } else { gas_limit };
    let mut data = store.into_data();
    let mut host = data.host.take().expect("the host is back in the store after every sub-call");
    let mut gas_used = gas_limit.saturating_sub(remaining);
    let outcome = match result {
        Ok(out) => CallOutcome { gas_used, result: Ok(out), events: std::mem::take(&mut data.events) },
        Err(err) => {
            let res = match data.stop.take() {
                Some(Stop::Abort(m)) => CallError::Failed(m),
                Some(Stop::Fault(m)) => CallError::Failed(m),
                Some(Stop::Unexecutable(m)) => CallError::Unexecutable(m),
                Some(Stop::Node(e)) => CallError::Node(e),
                Some(Stop::OutOfGas) => {
                    gas_used = gas_limit;
                    CallError::Failed(format!("out of gas (limit {gas_limit})"))
                }
                None => classify(err, gas_limit, &mut gas_used),
            };
            host.revert_to(checkpoint);
            CallOutcome { gas_used, result: Err(res), events: Vec::new() }
        }
    };
    vm.frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if top_level {
        vm.gas_used.fetch_add(outcome.gas_used, std::sync::atomic::Ordering::Relaxed);
    }
    (host, outcome)
}

/// Turns an error with no recorded [`Stop`] (a wasm trap) into a failure.
fn classify(err: wasmtime::Error, gas_limit: u64, gas_used: &mut u64) -> CallError {
    // Running out of pooled instances is this node's resource limit, never a
    // consensus outcome: the node votes nil on the block instead.
    if err.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() {
        return CallError::Unexecutable(format!("instance pool exhausted on this node: {err}"));
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            *gas_used = gas_limit;
            CallError::Failed(format!("out of gas (limit {gas_limit})"))
        }
        Some(Trap::Interrupt) => CallError::Unexecutable(format!(
            "contract ran longer than the {}s wall-clock safety limit on this node",
            WALL_CLOCK_LIMIT.as_secs()
        )),
        Some(Trap::StackOverflow) => {
            CallError::Failed("call stack exhausted: recursion too deep for the contract stack".into())
        }
        Some(t) => CallError::Failed(format!("contract trapped: {t}")),
        None => CallError::Failed(format!("contract error: {err}")),
    }
}

/// Instantiates and calls `entry` with `msg`; returns the result data.
fn invoke(
    store: &mut Store<Data>,
    pre: &wasmtime::InstancePre<Data>,
    entry: &str,
    msg: &[u8],
    params: &ledger::params::ContractParams,
) -> Result<Vec<u8>, wasmtime::Error> {
    host::charge(store, params.gas_copy_byte.saturating_mul(msg.len() as u64))?;
    let instance = pre.instantiate(&mut *store)?;
    // The initial memory pages are paid before any instruction runs.
    host::charge(store, 0)?;
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| host::fault(store, "contract has no memory export".into()))?;
    store.data_mut().memory = Some(memory);
    let Ok(func) = instance.get_typed_func::<(i32, i32), i64>(&mut *store, entry) else {
        return Err(host::fault(store, format!("contract has no `{entry}` entry point")));
    };
    let alloc = instance
        .get_typed_func::<i32, i32>(&mut *store, "agora_alloc")
        .map_err(|_| host::fault(store, "contract has no `agora_alloc` export".into()))?;
    let len = i32::try_from(msg.len()).map_err(|_| host::fault(store, "message too large".into()))?;
    let ptr = alloc.call(&mut *store, len)?;
    if memory.write(&mut *store, ptr as u32 as usize, msg).is_err() {
        return Err(host::fault(store, "agora_alloc returned an out-of-bounds buffer".into()));
    }
    let packed = func.call(&mut *store, (ptr, len))?;
    let (rptr, rlen) = ((packed as u64 >> 32) as usize, (packed as u64 & 0xffff_ffff) as usize);
    if rlen == 0 {
        return Ok(Vec::new());
    }
    host::charge(store, params.gas_copy_byte.saturating_mul(rlen as u64))?;
    let mut out = vec![0u8; rlen];
    if memory.read(&*store, rptr, &mut out).is_err() {
        return Err(host::fault(store, "entry point returned an out-of-bounds result".into()));
    }
    Ok(out)
}
