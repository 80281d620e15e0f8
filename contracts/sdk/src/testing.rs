//! The native mock host: contract unit tests run with plain `cargo test`.
//!
//! On non-wasm targets every SDK host function works on a **thread-local**
//! mock chain (each test thread has its own). Create a [`MockHost`] at the
//! start of a test: it resets that state. Then either
//!
//! * call the contract's handler functions directly, after setting the
//!   environment (`set_caller`, `set_funds`, `set_self_address`…); or
//! * go through [`MockHost::instantiate`] / [`MockHost::execute`] /
//!   [`MockHost::query`] with JSON messages, which behave like the chain:
//!   attached funds move from the sender first, a failed call (an `Err`, an
//!   `abort` or a panic — the mock's "trap") reverts its storage writes,
//!   transfers and events, and sub-calls between registered contracts follow
//!   the ABI's rules (no re-entrancy, depth limit, read-only queries).
//!
//! Things the chain traps on (a write, event, transfer or call in a query; a
//! key of 0 or more than 256 bytes; a value over 128 KiB; a bad event kind…)
//! panic here with a message saying so. Gas is not metered.
//!
//! ```
//! use agora_sdk::testing::{mock_addr, MockContract, MockHost};
//! let host = MockHost::new();
//! let echo = mock_addr("echo");
//! host.register(echo, MockContract::new().execute(|msg| Ok(msg.to_vec())));
//! assert_eq!(host.execute(echo, mock_addr("alice"), 0, b"hi"), Ok(b"hi".to_vec()));
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::Addr;

mod admin;
mod chain;

pub use admin::Migration;

/// Maximum nesting of sub-calls/queries below the top-level call (`max_call_depth`).
pub const MAX_CALL_DEPTH: usize = 8;
/// Largest storage key, in bytes (`max_storage_key_bytes`).
pub const MAX_KEY_BYTES: usize = 256;
/// Largest storage value, in bytes (`max_storage_value_bytes`).
pub const MAX_VALUE_BYTES: usize = 128 * 1024;
/// Most attributes of one event.
pub const MAX_EVENT_ATTRIBUTES: usize = 32;
/// Largest encoded attribute list of one event, in bytes.
pub const MAX_EVENT_ATTRIBUTE_BYTES: usize = 4096;

/// A deterministic test address: the first 20 bytes of SHA-256(`name`).
pub fn mock_addr(name: &str) -> Addr {
    let d = Sha256::digest(name.as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[..20]);
    Addr::new(a)
}

/// One entry point of a mock contract: message bytes in, result data or error text out.
pub type EntryFn = Rc<dyn Fn(&[u8]) -> Result<Vec<u8>, String>>;

/// A contract the mock host can run: up to four entry points. Contracts
/// using [`entry_points!`](crate::entry_points) get one from their generated
/// `mock_contract()`; tests can also build one from closures.
#[derive(Clone, Default)]
pub struct MockContract {
    instantiate: Option<EntryFn>,
    execute: Option<EntryFn>,
    query: Option<EntryFn>,
    migrate: Option<EntryFn>,
}

impl MockContract {
    /// A contract with no entry points.
    pub fn new() -> MockContract {
        MockContract::default()
    }
    /// Sets the `instantiate` entry point.
    pub fn instantiate(mut self, f: impl Fn(&[u8]) -> Result<Vec<u8>, String> + 'static) -> MockContract {
        self.instantiate = Some(Rc::new(f));
        self
    }
    /// Sets the `execute` entry point.
    pub fn execute(mut self, f: impl Fn(&[u8]) -> Result<Vec<u8>, String> + 'static) -> MockContract {
        self.execute = Some(Rc::new(f));
        self
    }
    /// Sets the `query` entry point.
    pub fn query(mut self, f: impl Fn(&[u8]) -> Result<Vec<u8>, String> + 'static) -> MockContract {
        self.query = Some(Rc::new(f));
        self
    }
    /// Sets the `migrate` entry point.
    pub fn migrate(mut self, f: impl Fn(&[u8]) -> Result<Vec<u8>, String> + 'static) -> MockContract {
        self.migrate = Some(Rc::new(f));
        self
    }
}

impl MockContract {
    /// Whether both are the same contract (clones of one another).
    fn same(&self, other: &MockContract) -> bool {
        let eq = |a: &Option<EntryFn>, b: &Option<EntryFn>| match (a, b) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        eq(&self.instantiate, &other.instantiate)
            && eq(&self.execute, &other.execute)
            && eq(&self.query, &other.query)
            && eq(&self.migrate, &other.migrate)
    }
}

impl fmt::Debug for MockContract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockContract")
            .field("instantiate", &self.instantiate.is_some())
            .field("execute", &self.execute.is_some())
            .field("query", &self.query.is_some())
            .field("migrate", &self.migrate.is_some())
            .finish()
    }
}

/// An event recorded by the mock host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The contract that emitted it.
    pub contract: Addr,
    /// The kind as emitted (receipts show it as `wasm-<kind>`).
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl Event {
    /// The value of the first attribute named `key`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    Instantiate,
    Execute,
    Query,
    Migrate,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Instantiate => "instantiate",
            Entry::Execute => "execute",
            Entry::Query => "query",
            Entry::Migrate => "migrate",
        }
    }
}

/// The state a failed call reverts.
#[derive(Clone, Default)]
struct Chain {
    storage: BTreeMap<Addr, BTreeMap<Vec<u8>, Vec<u8>>>,
    balances: BTreeMap<Addr, u128>,
    events: Vec<Event>,
    param_patches: Vec<serde_json::Value>,
    burned: u128,
    admin: admin::Admins,
}

#[derive(Clone, Copy)]
struct Frame {
    contract: Addr,
    caller: Addr,
    funds: u128,
    read_only: bool,
}

struct State {
    chain: Chain,
    contracts: BTreeMap<Addr, MockContract>,
    /// The environment of direct handler calls (set with the `set_*` methods).
    base: Frame,
    /// Calls in progress through `MockHost::{instantiate, execute, query}` or sub-calls.
    frames: Vec<Frame>,
    origin: Addr,
    block_height: u64,
    block_time_ms: u64,
    chain_id: String,
    ext: chain::ChainExt,
}

impl Default for State {
    fn default() -> State {
        State {
            chain: Chain::default(),
            contracts: BTreeMap::new(),
            base: Frame { contract: mock_addr("contract"), caller: mock_addr("sender"), funds: 0, read_only: false },
            frames: Vec::new(),
            origin: mock_addr("sender"),
            block_height: 1,
            block_time_ms: 1_700_000_000_000,
            chain_id: "agora-mock".to_owned(),
            ext: chain::ChainExt::default(),
        }
    }
}

impl State {
    fn frame(&self) -> &Frame {
        self.frames.last().unwrap_or(&self.base)
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

/// A handle on this thread's mock chain. Not `Send`: the state is thread-local.
#[derive(Debug)]
pub struct MockHost {
    _thread_local: PhantomData<*const ()>,
}

impl Default for MockHost {
    fn default() -> MockHost {
        MockHost::new()
    }
}

impl MockHost {
    /// Resets this thread's mock chain and returns a handle on it.
    ///
    /// Defaults: self address `mock_addr("contract")`, caller and origin
    /// `mock_addr("sender")`, no funds, height 1, time 1 700 000 000 000 ms,
    /// chain id `agora-mock`, no balances, no contracts.
    pub fn new() -> MockHost {
        with(|s| *s = State::default());
        MockHost { _thread_local: PhantomData }
    }

    // ---- Environment of direct handler calls -----------------------------

    pub fn set_caller(&self, addr: Addr) {
        with(|s| s.base.caller = addr)
    }
    pub fn set_self_address(&self, addr: Addr) {
        with(|s| s.base.contract = addr)
    }
    /// What `funds()` returns in direct calls (balances are not touched).
    pub fn set_funds(&self, amount: u128) {
        with(|s| s.base.funds = amount)
    }
    /// Makes direct calls read-only, like a query: writes, events, transfers and calls panic.
    pub fn set_query_mode(&self, read_only: bool) {
        with(|s| s.base.read_only = read_only)
    }
    pub fn set_origin(&self, addr: Addr) {
        with(|s| s.origin = addr)
    }
    pub fn set_block_height(&self, height: u64) {
        with(|s| s.block_height = height)
    }
    pub fn set_block_time_ms(&self, ms: u64) {
        with(|s| s.block_time_ms = ms)
    }
    pub fn set_chain_id(&self, chain_id: &str) {
        with(|s| s.chain_id = chain_id.to_owned())
    }

    pub fn caller(&self) -> Addr {
        with(|s| s.frame().caller)
    }
    pub fn self_address(&self) -> Addr {
        with(|s| s.frame().contract)
    }
    pub fn block_height(&self) -> u64 {
        with(|s| s.block_height)
    }

    // ---- Chain state -----------------------------------------------------

    pub fn set_balance(&self, addr: Addr, amount: u128) {
        with(|s| {
            if amount == 0 {
                s.chain.balances.remove(&addr);
            } else {
                s.chain.balances.insert(addr, amount);
            }
        })
    }
    pub fn balance(&self, addr: Addr) -> u128 {
        with(|s| s.chain.balances.get(&addr).copied().unwrap_or(0))
    }

    /// A copy of one contract's storage.
    pub fn storage(&self, contract: Addr) -> BTreeMap<Vec<u8>, Vec<u8>> {
        with(|s| s.chain.storage.get(&contract).cloned().unwrap_or_default())
    }
    /// One raw storage value of a contract.
    pub fn storage_get(&self, contract: Addr, key: &[u8]) -> Option<Vec<u8>> {
        with(|s| s.chain.storage.get(&contract).and_then(|m| m.get(key)).cloned())
    }
    /// Writes a raw storage value of a contract (no checks).
    pub fn storage_set(&self, contract: Addr, key: &[u8], value: &[u8]) {
        with(|s| s.chain.storage.entry(contract).or_default().insert(key.to_vec(), value.to_vec()));
    }

    /// All events recorded so far (failed calls' events are dropped).
    pub fn events(&self) -> Vec<Event> {
        with(|s| s.chain.events.clone())
    }
    /// The recorded events, clearing the record.
    pub fn take_events(&self) -> Vec<Event> {
        with(|s| std::mem::take(&mut s.chain.events))
    }

    // ---- Contracts -------------------------------------------------------

    /// Makes `contract` callable at `addr` (by `call`/`query_contract` and the
    /// methods below), replacing any contract there. No instantiate is run.
    pub fn register(&self, addr: Addr, contract: MockContract) {
        with(|s| {
            s.chain.admin.forget_code(&addr);
            s.contracts.insert(addr, contract)
        });
    }

    /// Registers `contract` at `addr` and runs its `instantiate` like the chain:
    /// `funds` move from `sender` to `addr`, and on failure everything is
    /// reverted and the contract is unregistered.
    pub fn instantiate(
        &self,
        contract: MockContract,
        addr: Addr,
        sender: Addr,
        funds: u128,
        msg: &[u8],
    ) -> Result<Vec<u8>, String> {
        let previous = with(|s| s.contracts.insert(addr, contract));
        let result = self.top_level(addr, sender, funds, msg, Entry::Instantiate);
        if result.is_err() {
            with(|s| match previous {
                Some(p) => s.contracts.insert(addr, p),
                None => s.contracts.remove(&addr),
            });
        }
        result
    }

    /// A transaction executing `addr` signed by `sender`, with `funds` attached
    /// (moved from `sender` first; refused if `sender` cannot pay).
    pub fn execute(&self, addr: Addr, sender: Addr, funds: u128, msg: &[u8]) -> Result<Vec<u8>, String> {
        self.top_level(addr, sender, funds, msg, Entry::Execute)
    }

    /// A read-only query of `addr` (origin: the zero address).
    pub fn query(&self, addr: Addr, msg: &[u8]) -> Result<Vec<u8>, String> {
        let saved_origin = with(|s| std::mem::replace(&mut s.origin, Addr::ZERO));
        let result = invoke(addr, Addr::ZERO, None, 0, msg, Entry::Query);
        with(|s| s.origin = saved_origin);
        result
    }

    /// [`instantiate`](Self::instantiate) with a JSON message.
    pub fn instantiate_json<M: Serialize + ?Sized>(
        &self,
        contract: MockContract,
        addr: Addr,
        sender: Addr,
        funds: u128,
        msg: &M,
    ) -> Result<Vec<u8>, String> {
        self.instantiate(contract, addr, sender, funds, &to_json(msg))
    }

    /// [`execute`](Self::execute) with a JSON message.
    pub fn execute_json<M: Serialize + ?Sized>(
        &self,
        addr: Addr,
        sender: Addr,
        funds: u128,
        msg: &M,
    ) -> Result<Vec<u8>, String> {
        self.execute(addr, sender, funds, &to_json(msg))
    }

    /// [`query`](Self::query) with a JSON message and a JSON answer.
    pub fn query_json<M: Serialize + ?Sized, R: DeserializeOwned>(&self, addr: Addr, msg: &M) -> Result<R, String> {
        let data = self.query(addr, &to_json(msg))?;
        serde_json::from_slice(&data).map_err(|e| format!("query answer is not the expected JSON: {e}"))
    }

    fn top_level(&self, addr: Addr, sender: Addr, funds: u128, msg: &[u8], entry: Entry) -> Result<Vec<u8>, String> {
        let saved_origin = with(|s| std::mem::replace(&mut s.origin, sender));
        let result = invoke(addr, sender, Some(sender), funds, msg, entry);
        with(|s| s.origin = saved_origin);
        result
    }
}

fn to_json<M: Serialize + ?Sized>(msg: &M) -> Vec<u8> {
    serde_json::to_vec(msg).unwrap_or_else(|e| panic!("test message is not serialisable: {e}"))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".to_owned())
}

/// Runs one entry point of the contract at `addr` in a new frame. `payer`
/// pays `funds` (moved before the call); on failure the chain state is
/// restored as it was before the funds moved.
fn invoke(
    addr: Addr,
    caller: Addr,
    payer: Option<Addr>,
    funds: u128,
    msg: &[u8],
    entry: Entry,
) -> Result<Vec<u8>, String> {
    let read_only = entry == Entry::Query;
    let prepared = with(|s| -> Result<(EntryFn, Chain), String> {
        let contract = admin::code_of(s, &addr).ok_or_else(|| format!("no contract at {addr}"))?;
        let handler = match entry {
            Entry::Instantiate => contract.instantiate.clone(),
            Entry::Execute => contract.execute.clone(),
            Entry::Query => contract.query.clone(),
            Entry::Migrate => contract.migrate.clone(),
        }
        .ok_or_else(|| format!("contract {addr} has no `{}` entry point", entry.name()))?;
        let snapshot = s.chain.clone();
        if let Some(payer) = payer
            && funds > 0
        {
            let have = s.chain.balances.get(&payer).copied().unwrap_or(0);
            if have < funds {
                return Err(format!("insufficient funds: {payer} has {have}, needs {funds}"));
            }
            let to = s.chain.balances.get(&addr).copied().unwrap_or(0);
            let to = to.checked_add(funds).ok_or("balance overflow")?;
            s.chain.balances.insert(payer, have - funds);
            s.chain.balances.insert(addr, to);
        }
        s.frames.push(Frame { contract: addr, caller, funds, read_only });
        Ok((handler, snapshot))
    });
    let (handler, snapshot) = prepared?;
    let result = match catch_unwind(AssertUnwindSafe(|| handler(msg))) {
        Ok(r) => r,
        Err(payload) => Err(panic_message(&*payload)),
    };
    with(|s| {
        s.frames.pop();
        if result.is_err() {
            s.chain = snapshot;
        }
    });
    result
}

/// The contracts on the current call stack (the base frame when no call is in
/// progress: the contract whose handlers the test calls directly).
fn stack() -> Vec<Frame> {
    with(|s| if s.frames.is_empty() { vec![s.base] } else { s.frames.clone() })
}

fn trap(what: &str) -> ! {
    panic!("trap: {what}")
}

fn check_writable(op: &str) {
    if with(|s| s.frame().read_only) {
        trap(&format!("{op} is not allowed in a query"));
    }
}

fn check_key(op: &str, key: &[u8]) {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        trap(&format!("{op}: storage keys are 1..={MAX_KEY_BYTES} bytes, got {}", key.len()));
    }
}

// ---------------------------------------------------------------------------
// The backend of the SDK's host functions on non-wasm targets.

pub(crate) mod host {
    use super::*;

    pub use super::admin::host::{contract_admin, instantiate_with_admin, migrate, update_admin};
    pub use super::chain::host::{
        bonded_stake_at, burn, contract_code_hash, instantiate, total_bonded_at, update_chain_params,
    };

    pub fn caller() -> Addr {
        with(|s| s.frame().caller)
    }

    pub fn origin() -> Addr {
        with(|s| s.origin)
    }

    pub fn self_address() -> Addr {
        with(|s| s.frame().contract)
    }

    pub fn funds() -> u128 {
        with(|s| s.frame().funds)
    }

    pub fn block_height() -> u64 {
        with(|s| s.block_height)
    }

    pub fn block_time_ms() -> u64 {
        with(|s| s.block_time_ms)
    }

    pub fn chain_id() -> String {
        with(|s| s.chain_id.clone())
    }

    pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        check_key("storage_get", key);
        with(|s| s.chain.storage.get(&s.frame().contract).and_then(|m| m.get(key)).cloned())
    }

    pub fn storage_set(key: &[u8], value: &[u8]) {
        check_writable("storage_set");
        check_key("storage_set", key);
        if value.len() > MAX_VALUE_BYTES {
            trap(&format!("storage_set: values are at most {MAX_VALUE_BYTES} bytes, got {}", value.len()));
        }
        with(|s| {
            let contract = s.frame().contract;
            s.chain.storage.entry(contract).or_default().insert(key.to_vec(), value.to_vec());
        })
    }

    pub fn storage_remove(key: &[u8]) {
        check_writable("storage_remove");
        check_key("storage_remove", key);
        with(|s| {
            let contract = s.frame().contract;
            if let Some(m) = s.chain.storage.get_mut(&contract) {
                m.remove(key);
            }
        })
    }

    pub fn storage_next(start: &[u8], end: Option<&[u8]>, exclusive_start: bool) -> Option<(Vec<u8>, Vec<u8>)> {
        if let Some(end) = end
            && start >= end
        {
            return None;
        }
        let lower = if exclusive_start { Bound::Excluded(start) } else { Bound::Included(start) };
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        with(|s| {
            let m = s.chain.storage.get(&s.frame().contract)?;
            m.range::<[u8], _>((lower, upper)).next().map(|(k, v)| (k.clone(), v.clone()))
        })
    }

    pub fn emit_event(kind: &str, attrs: &[(&str, &str)]) {
        check_writable("emit_event");
        let kind_ok = (1..=64).contains(&kind.len())
            && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if !kind_ok {
            trap(&format!("emit_event: invalid event kind `{kind}` (1..=64 bytes of [a-z0-9_.-])"));
        }
        let bytes: usize = attrs.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
        if attrs.len() > MAX_EVENT_ATTRIBUTES || bytes > MAX_EVENT_ATTRIBUTE_BYTES {
            trap(&format!(
                "emit_event: at most {MAX_EVENT_ATTRIBUTES} attributes and {MAX_EVENT_ATTRIBUTE_BYTES} bytes, got {} and {bytes}",
                attrs.len()
            ));
        }
        with(|s| {
            let contract = s.frame().contract;
            s.chain.events.push(Event {
                contract,
                kind: kind.to_owned(),
                attributes: attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            })
        })
    }

    pub fn balance(addr: &Addr) -> u128 {
        with(|s| s.chain.balances.get(addr).copied().unwrap_or(0))
    }

    pub fn transfer(to: &Addr, amount: u128) -> Result<(), String> {
        check_writable("transfer");
        with(|s| {
            let from = s.frame().contract;
            let have = s.chain.balances.get(&from).copied().unwrap_or(0);
            if have < amount {
                return Err(format!("insufficient funds: {from} has {have}, needs {amount}"));
            }
            s.chain.balances.insert(from, have - amount);
            let to_balance = s.chain.balances.get(to).copied().unwrap_or(0);
            s.chain.balances.insert(*to, to_balance.saturating_add(amount));
            Ok(())
        })
    }

    pub fn call(contract: &Addr, msg: &[u8], funds: u128, _gas_limit: u64) -> Result<Vec<u8>, String> {
        check_writable("call");
        let stack = stack();
        if stack.iter().any(|f| f.contract == *contract) {
            return Err(format!("reentrant call to {contract} refused"));
        }
        if stack.len() > MAX_CALL_DEPTH {
            return Err(format!("call depth limit of {MAX_CALL_DEPTH} exceeded"));
        }
        let me = stack.last().map_or(Addr::ZERO, |f| f.contract);
        invoke(*contract, me, Some(me), funds, msg, Entry::Execute)
    }

    pub fn query_contract(contract: &Addr, msg: &[u8]) -> Result<Vec<u8>, String> {
        let stack = stack();
        if stack.len() > MAX_CALL_DEPTH {
            return Err(format!("call depth limit of {MAX_CALL_DEPTH} exceeded"));
        }
        let me = stack.last().map_or(Addr::ZERO, |f| f.contract);
        invoke(*contract, me, None, 0, msg, Entry::Query)
    }

    pub fn abort(msg: &str) -> ! {
        let mut end = msg.len().min(4096);
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        std::panic::panic_any(msg[..end].to_owned())
    }

    pub fn sha256(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    pub fn ed25519_verify(public_key: &[u8; 32], msg: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public_key) else { return false };
        key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(signature)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{balance, call, emit, query_contract, storage, transfer};

    #[test]
    fn failed_calls_revert_and_reentrancy_is_refused() {
        let host = MockHost::new();
        let (a, b, alice) = (mock_addr("a"), mock_addr("b"), mock_addr("alice"));
        host.set_balance(alice, 100);
        // `b` writes, emits, then fails if the message says so.
        host.register(
            b,
            MockContract::new()
                .execute(|msg| {
                    storage::set(b"k", msg);
                    emit("wrote", &[("len", &msg.len().to_string())]);
                    if msg == b"fail" { Err("b failed".into()) } else { Ok(b"done".to_vec()) }
                })
                .query(|_| Ok(storage::get(b"k").unwrap_or_default())),
        );
        // `a` forwards its message and funds to `b`, ignoring failures; a message `self` calls itself.
        host.register(
            a,
            MockContract::new().execute(move |msg| {
                if msg == b"self" {
                    return call(&mock_addr("a"), b"x", 0, 0);
                }
                let r = call(&b, msg, crate::funds(), 0);
                Ok(format!("{r:?}").into_bytes())
            }),
        );
        let out = host.execute(a, alice, 10, b"ok").expect("a runs");
        assert_eq!(String::from_utf8(out).expect("utf8"), "Ok([100, 111, 110, 101])");
        assert_eq!((host.balance(alice), host.balance(a), host.balance(b)), (90, 0, 10));
        assert_eq!(host.query(b, b"").expect("query"), b"ok");
        assert_eq!(host.take_events().len(), 1);

        let out = host.execute(a, alice, 5, b"fail").expect("a survives b's failure");
        assert_eq!(String::from_utf8(out).expect("utf8"), "Err(\"b failed\")");
        assert_eq!((host.balance(alice), host.balance(a), host.balance(b)), (85, 5, 10));
        assert_eq!(host.query(b, b"").expect("query"), b"ok");
        assert!(host.events().is_empty());

        let err = host.execute(a, alice, 0, b"self").unwrap_err();
        assert_eq!(err, format!("reentrant call to {a} refused"));
        assert!(host.execute(a, alice, 1000, b"ok").unwrap_err().contains("insufficient funds"));
        assert!(host.execute(mock_addr("nobody"), alice, 0, b"").unwrap_err().contains("no contract at"));
        assert!(host.query(a, b"").unwrap_err().contains("has no `query` entry point"));
    }

    #[test]
    fn queries_are_read_only_and_direct_mode_uses_the_setters() {
        let host = MockHost::new();
        let q = mock_addr("q");
        host.register(q, MockContract::new().query(|_| Ok(storage::get(b"nope").unwrap_or_default())));
        host.register(mock_addr("w"), MockContract::new().query(|_| transfer(&mock_addr("x"), 1).map(|_| vec![])));
        assert_eq!(host.query(q, b""), Ok(vec![]));
        let err = host.query(mock_addr("w"), b"").unwrap_err();
        assert_eq!(err, "trap: transfer is not allowed in a query");

        host.set_self_address(mock_addr("me"));
        host.set_caller(mock_addr("you"));
        host.set_funds(7);
        host.set_balance(mock_addr("me"), 7);
        assert_eq!((crate::self_address(), crate::caller(), crate::funds()), (mock_addr("me"), mock_addr("you"), 7));
        assert_eq!(query_contract(&q, b""), Ok(vec![]));
        transfer(&mock_addr("you"), 3).expect("transfer");
        assert_eq!(balance(&mock_addr("you")), 3);
        assert!(transfer(&mock_addr("you"), 30).unwrap_err().contains("insufficient funds"));
        assert_eq!(
            call(&mock_addr("me"), b"", 0, 0).unwrap_err(),
            format!("reentrant call to {} refused", mock_addr("me"))
        );
        host.set_query_mode(true);
        let r = catch_unwind(|| storage::set(b"k", b"v"));
        assert!(r.is_err());
    }

    #[test]
    fn crypto_helpers() {
        let _host = MockHost::new();
        assert_eq!(crate::sha256(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
        let sk = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let pk = sk.verifying_key().to_bytes();
        let sig = ed25519_dalek::Signer::sign(&sk, b"msg").to_bytes();
        assert!(crate::ed25519_verify(&pk, b"msg", &sig));
        assert!(!crate::ed25519_verify(&pk, b"msh", &sig));
        assert!(!crate::ed25519_verify(&[0; 32], b"msg", &sig));
    }

    #[test]
    fn depth_limit() {
        let host = MockHost::new();
        // A chain of contracts c0 -> c1 -> ... each calling the next.
        for i in 0..12u32 {
            host.register(
                mock_addr(&format!("c{i}")),
                MockContract::new().execute(move |_| {
                    if i == 11 {
                        return Ok(b"bottom".to_vec());
                    }
                    call(&mock_addr(&format!("c{}", i + 1)), b"", 0, 0)
                }),
            );
        }
        let err = host.execute(mock_addr("c0"), mock_addr("alice"), 0, b"").unwrap_err();
        assert_eq!(err, "call depth limit of 8 exceeded");
        // c3 -> ... -> c11 is 8 nested calls: allowed.
        assert_eq!(host.execute(mock_addr("c3"), mock_addr("alice"), 0, b""), Ok(b"bottom".to_vec()));
    }
}
