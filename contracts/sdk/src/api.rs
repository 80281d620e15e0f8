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

/// Creates a contract from code already stored on the chain, as this
/// contract: runs the new contract's `instantiate` with `msg`, after moving
/// `funds` from this contract to it (`gas_limit = 0`: all remaining gas).
///
/// The address is [`contract_address`]`(code_hash, self_address(), label)`,
/// so the same label cannot be used twice. The new contract's `caller()` in
/// `instantiate` is this contract, which is how modules learn their parent.
/// `Err` carries the reason (no such code, address taken, the callee failed;
/// everything it did is then reverted). Traps in a query.
pub fn instantiate(code_hash: &[u8; 32], label: &str, msg: &[u8], funds: u128, gas_limit: u64) -> Result<Addr, String> {
    host::instantiate(code_hash, label, msg, funds, gas_limit)
}

/// [`instantiate`], naming the new contract's admin: the account (user or
/// contract) allowed to [`migrate`] it to other code and to change or clear
/// the admin ([`update_admin`]). `None` is plain [`instantiate`]: no admin,
/// the code can never change. The `instantiate` event then carries an
/// `admin` attribute. Traps in a query.
pub fn instantiate_with_admin(
    code_hash: &[u8; 32],
    label: &str,
    msg: &[u8],
    funds: u128,
    gas_limit: u64,
    admin: Option<&Addr>,
) -> Result<Addr, String> {
    match admin {
        Some(a) => host::instantiate_with_admin(code_hash, label, msg, funds, gas_limit, a),
        None => host::instantiate(code_hash, label, msg, funds, gas_limit),
    }
}

/// Migrates `contract`, of which this contract must be the admin, to stored
/// code `code_hash`: its code hash switches and the new code's `migrate`
/// entry point runs with `msg` (its `caller()` is this contract); address,
/// storage and balance are kept (`gas_limit = 0`: all remaining gas).
///
/// `Ok` carries what `migrate` returned. `Err` carries the reason (not the
/// admin, no such contract or code, the new code has no `migrate` or it
/// failed: then nothing changed). A contract executing on the call stack,
/// this one included, cannot be migrated. Traps in a query.
pub fn migrate(contract: &Addr, code_hash: &[u8; 32], msg: &[u8], gas_limit: u64) -> Result<Vec<u8>, String> {
    host::migrate(contract, code_hash, msg, gas_limit)
}

/// Sets (`Some`) or clears (`None`: for good, the code becomes final) the
/// admin of `contract`, of which this contract must be the admin. Traps in a
/// query.
pub fn update_admin(contract: &Addr, admin: Option<&Addr>) -> Result<(), String> {
    host::update_admin(contract, admin)
}

/// The admin of the contract at `addr` (`None`: no admin, or no contract).
pub fn contract_admin(addr: &Addr) -> Option<Addr> {
    host::contract_admin(addr)
}

/// [`instantiate`] with a message serialised to JSON.
pub fn instantiate_json<M: Serialize + ?Sized>(
    code_hash: &[u8; 32],
    label: &str,
    msg: &M,
    funds: u128,
    gas_limit: u64,
) -> Result<Addr, ContractError> {
    let msg = crate::to_json_vec(msg)?;
    instantiate(code_hash, label, &msg, funds, gas_limit).map_err(ContractError::new)
}

/// The address a contract instantiated from `code_hash` by `creator` with
/// `label` gets (the chain's `contract_address`).
pub fn contract_address(code_hash: &[u8; 32], creator: &Addr, label: &str) -> Addr {
    let mut pre = Vec::with_capacity(17 + 32 + 20 + 4 + label.len());
    pre.extend_from_slice(b"agora/contract/v1");
    pre.extend_from_slice(code_hash);
    pre.extend_from_slice(creator.as_bytes());
    pre.extend_from_slice(&u32::try_from(label.len()).unwrap_or(u32::MAX).to_le_bytes());
    pre.extend_from_slice(label.as_bytes());
    let d = sha256(&pre);
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[..20]);
    Addr::new(a)
}

/// The code hash of the contract at `addr` (`None`: no contract there).
pub fn contract_code_hash(addr: &Addr) -> Option<[u8; 32]> {
    host::contract_code_hash(addr)
}

/// Destroys `amount` of this contract's native tokens (the chain's supply
/// falls by as much). `Err`: insufficient funds. Traps in a query.
pub fn burn(amount: u128) -> Result<(), String> {
    host::burn(amount)
}

/// The native tokens `addr` had bonded (the sum of its delegations, valued
/// at each validator's exchange rate) at the **end of block `height`**.
///
/// `height` must be a committed block: below the current block in a
/// transaction (at most the last block in a query) and within
/// `contracts.stake_history_blocks` of it. Reading the past this way is
/// what makes voting power flash-loan proof: stake bonded after the
/// snapshot, even in the same block, is not there.
pub fn bonded_stake_at(addr: &Addr, height: u64) -> Result<u128, String> {
    host::bonded_stake_at(addr, height)
}

/// All native tokens bonded to validators at the end of block `height`
/// (same rules as [`bonded_stake_at`]).
pub fn total_bonded_at(height: u64) -> Result<u128, String> {
    host::total_bonded_at(height)
}

/// Changes chain parameters. Only the chain's governance contract (the
/// `governance` chain parameter) may call it. `patch` is a JSON object in the
/// shape of `agora_chainParams`, holding only the fields to change (nested
/// objects merge); the result must pass the same checks as genesis
/// parameters. The change takes effect from the next block. `Err` carries
/// the reason (not governance, unknown field, invalid value) and nothing
/// changes. Traps in a query.
pub fn update_chain_params(patch: &[u8]) -> Result<(), String> {
    host::update_chain_params(patch)
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
