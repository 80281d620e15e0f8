//! The safe host API. On wasm32 every function is one host call (see
//! `vm/ABI.md`); on other targets it goes to the thread's
//! [`MockHost`](crate::testing::MockHost).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Addr, ContractError, host};

/// The address that called this contract: the transaction's signer, or the
/// contract that made the sub-call.
pub fn caller() -> Addr {
    host::caller()
}

/// The address that signed the transaction (in a query: whatever the RPC caller
/// chose, or [`Addr::ZERO`]).
pub fn origin() -> Addr {
    host::origin()
}

/// This contract's own address.
pub fn self_address() -> Addr {
    host::self_address()
}

/// The native tokens attached to this call (already credited to this contract).
pub fn funds() -> u128 {
    host::funds()
}

/// Height of the block being executed (of the last block, in a query).
pub fn block_height() -> u64 {
    host::block_height()
}

/// That block's time, in milliseconds since the Unix epoch.
pub fn block_time_ms() -> u64 {
    host::block_time_ms()
}

/// The chain id.
pub fn chain_id() -> String {
    host::chain_id()
}

/// Appends an event, shown in receipts as `wasm-<kind>` (with a first attribute
/// `_contract = <address>` added by the chain).
///
/// `kind`: 1..=64 bytes of `[a-z0-9_.-]`; at most 32 attributes and 4 KiB of
/// encoded attributes. Breaking these rules, or emitting in a query, traps.
pub fn emit(kind: &str, attributes: &[(&str, &str)]) {
    host::emit_event(kind, attributes)
}

/// Native token balance of any address.
pub fn balance(addr: &Addr) -> u128 {
    host::balance(addr)
}

/// Sends native tokens from this contract. `Err` carries the host's message
/// (insufficient funds). Traps in a query.
pub fn transfer(to: &Addr, amount: u128) -> Result<(), String> {
    host::transfer(to, amount)
}

/// Executes another contract with raw message bytes, moving `funds` from this
/// contract to it first. `gas_limit = 0` means all remaining gas.
///
/// `Ok` carries the callee's result data; `Err` its error text (its state
/// changes, transfers and events are then reverted, and this contract goes
/// on). Calling a contract that is already executing on the call stack
/// (including this one) fails with `reentrant call to <address> refused`.
/// Traps in a query.
pub fn call(contract: &Addr, msg: &[u8], funds: u128, gas_limit: u64) -> Result<Vec<u8>, String> {
    host::call(contract, msg, funds, gas_limit)
}

/// Read-only query of another contract with raw message bytes.
pub fn query_contract(contract: &Addr, msg: &[u8]) -> Result<Vec<u8>, String> {
    host::query_contract(contract, msg)
}

/// [`call`] with a message serialised to JSON; returns the raw result data.
pub fn call_json<M: Serialize + ?Sized>(
    contract: &Addr,
    msg: &M,
    funds: u128,
    gas_limit: u64,
) -> Result<Vec<u8>, ContractError> {
    let msg = crate::to_json_vec(msg)?;
    call(contract, &msg, funds, gas_limit).map_err(ContractError::new)
}

/// [`query_contract`] with a JSON message and a JSON answer.
pub fn query_json<M: Serialize + ?Sized, R: DeserializeOwned>(contract: &Addr, msg: &M) -> Result<R, ContractError> {
    let msg = crate::to_json_vec(msg)?;
    let data = query_contract(contract, &msg).map_err(ContractError::new)?;
    crate::from_json(&data)
}

/// Fails this call with a message (cut to 4 KiB). Never returns.
///
/// Natively (unit tests) this panics with the message; the mock host turns
/// that into a failed call.
pub fn abort(msg: &str) -> ! {
    host::abort(msg)
}

/// SHA-256 digest.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    host::sha256(data)
}

/// Strict ed25519 verification of a 64-byte signature over `msg` by a 32-byte key.
pub fn ed25519_verify(public_key: &[u8; 32], msg: &[u8], signature: &[u8; 64]) -> bool {
    host::ed25519_verify(public_key, msg, signature)
}
