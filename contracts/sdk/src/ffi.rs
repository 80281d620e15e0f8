//! The wasm32 backend: the raw imports of module `agora` (ABI v1, see
//! `vm/ABI.md`) and the runtime behind the generated exports. The only module
//! of the SDK allowed to use `unsafe`.
//!
//! Pointers and lengths are `i32` in the wasm signatures; on wasm32 Rust's
//! pointers and `usize` are exactly that, so the declarations below use them.
#![allow(unsafe_code)]

use crate::Addr;

/// Abort messages longer than this are cut (at a character boundary).
const MAX_ABORT_MESSAGE: usize = 4096;

/// The raw host functions, exactly as listed in ABI.md.
pub mod sys {
    #[link(wasm_import_module = "agora")]
    unsafe extern "C" {
        // The register.
        pub fn register_len() -> i64;
        pub fn read_register(dst: *mut u8);

        // Storage.
        pub fn storage_get(key_ptr: *const u8, key_len: usize) -> i64;
        pub fn storage_set(key_ptr: *const u8, key_len: usize, val_ptr: *const u8, val_len: usize);
        pub fn storage_remove(key_ptr: *const u8, key_len: usize);
        pub fn storage_next(
            start_ptr: *const u8,
            start_len: usize,
            end_ptr: *const u8,
            end_len: usize,
            flags: i32,
        ) -> i64;

        // Environment.
        pub fn caller(dst: *mut u8);
        pub fn origin(dst: *mut u8);
        pub fn self_address(dst: *mut u8);
        pub fn funds(dst: *mut u8);
        pub fn block_height() -> i64;
        pub fn block_time_ms() -> i64;
        pub fn chain_id() -> i64;

        // Events, native tokens, other contracts.
        pub fn emit_event(kind_ptr: *const u8, kind_len: usize, attrs_ptr: *const u8, attrs_len: usize);
        pub fn balance(addr_ptr: *const u8, dst: *mut u8);
        pub fn transfer(to_ptr: *const u8, amount_ptr: *const u8) -> i32;
        pub fn call(
            addr_ptr: *const u8,
            msg_ptr: *const u8,
            msg_len: usize,
            funds_ptr: *const u8,
            gas_limit: i64,
        ) -> i32;
        pub fn query_contract(addr_ptr: *const u8, msg_ptr: *const u8, msg_len: usize) -> i32;
        pub fn abort(msg_ptr: *const u8, msg_len: usize) -> !;
        pub fn instantiate(
            code_hash_ptr: *const u8,
            label_ptr: *const u8,
            label_len: usize,
            msg_ptr: *const u8,
            msg_len: usize,
            funds_ptr: *const u8,
            gas_limit: i64,
        ) -> i32;
        pub fn contract_code_hash(addr_ptr: *const u8, dst: *mut u8) -> i32;
        pub fn burn(amount_ptr: *const u8) -> i32;

        // Chain state at past heights, chain governance.
        pub fn bonded_stake_at(addr_ptr: *const u8, height: i64, dst: *mut u8) -> i32;
        pub fn total_bonded_at(height: i64, dst: *mut u8) -> i32;
        pub fn update_chain_params(patch_ptr: *const u8, patch_len: usize) -> i32;

        // Contract admins and migration.
        pub fn instantiate_with_admin(
            code_hash_ptr: *const u8,
            label_ptr: *const u8,
            label_len: usize,
            msg_ptr: *const u8,
            msg_len: usize,
            funds_ptr: *const u8,
            gas_limit: i64,
            admin_ptr: *const u8,
        ) -> i32;
        pub fn migrate(
            addr_ptr: *const u8,
            code_hash_ptr: *const u8,
            msg_ptr: *const u8,
            msg_len: usize,
            gas_limit: i64,
        ) -> i32;
        pub fn update_admin(addr_ptr: *const u8, admin_ptr: *const u8, flags: i32) -> i32;
        pub fn contract_admin(addr_ptr: *const u8, dst: *mut u8) -> i32;

        // Crypto.
        pub fn sha256(data_ptr: *const u8, data_len: usize, dst: *mut u8);
        pub fn ed25519_verify(pk_ptr: *const u8, msg_ptr: *const u8, msg_len: usize, sig_ptr: *const u8) -> i32;

        // Address text.
        pub fn addr_parse(text_ptr: *const u8, text_len: usize, dst: *mut u8) -> i32;
        pub fn addr_format(addr_ptr: *const u8) -> i64;
    }
}

/// `storage_next` flag: `key > start` instead of `key >= start`.
const NEXT_EXCLUSIVE_START: i32 = 1;
/// `storage_next` flag: no upper bound (`end` is ignored).
const NEXT_NO_END: i32 = 2;

/// Copies the register out, given the length a host function returned (`-1` = none).
fn take_register(len: i64) -> Option<Vec<u8>> {
    let len = usize::try_from(len).ok()?;
    let mut buf = Vec::<u8>::with_capacity(len);
    if len > 0 {
        // SAFETY: `buf` has room for `len` bytes, which the host writes (the
        // register is exactly `len` bytes long) before `set_len`.
        unsafe {
            sys::read_register(buf.as_mut_ptr());
            buf.set_len(len);
        }
    }
    Some(buf)
}

/// The register after a host function that returned a status, as text.
fn register_text() -> String {
    // SAFETY: no arguments.
    let len = unsafe { sys::register_len() };
    take_register(len).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

pub fn addr_parse(text: &str) -> Result<Addr, String> {
    let mut buf = [0u8; 20];
    // SAFETY: `text` is a valid slice; on success the host writes exactly 20
    // bytes to `buf`.
    let status = unsafe { sys::addr_parse(text.as_ptr(), text.len(), buf.as_mut_ptr()) };
    if status == 0 { Ok(Addr::new(buf)) } else { Err(register_text()) }
}

pub fn addr_format(a: &Addr) -> String {
    // SAFETY: the host reads exactly 20 bytes.
    let len = unsafe { sys::addr_format(a.as_bytes().as_ptr()) };
    take_register(len).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

pub fn caller() -> Addr {
    let mut buf = [0u8; 20];
    // SAFETY: the host writes exactly 20 bytes to `buf`.
    unsafe { sys::caller(buf.as_mut_ptr()) };
    Addr::new(buf)
}

pub fn origin() -> Addr {
    let mut buf = [0u8; 20];
    // SAFETY: the host writes exactly 20 bytes to `buf`.
    unsafe { sys::origin(buf.as_mut_ptr()) };
    Addr::new(buf)
}

pub fn self_address() -> Addr {
    let mut buf = [0u8; 20];
    // SAFETY: the host writes exactly 20 bytes to `buf`.
    unsafe { sys::self_address(buf.as_mut_ptr()) };
    Addr::new(buf)
}

pub fn funds() -> u128 {
    let mut buf = [0u8; 16];
    // SAFETY: the host writes exactly 16 bytes to `buf`.
    unsafe { sys::funds(buf.as_mut_ptr()) };
    u128::from_le_bytes(buf)
}

pub fn block_height() -> u64 {
    // SAFETY: no arguments.
    let h = unsafe { sys::block_height() };
    u64::try_from(h).unwrap_or(0)
}

pub fn block_time_ms() -> u64 {
    // SAFETY: no arguments.
    let t = unsafe { sys::block_time_ms() };
    u64::try_from(t).unwrap_or(0)
}

pub fn chain_id() -> String {
    // SAFETY: no arguments.
    let len = unsafe { sys::chain_id() };
    take_register(len).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    // SAFETY: `key` is a valid slice.
    let len = unsafe { sys::storage_get(key.as_ptr(), key.len()) };
    take_register(len)
}

pub fn storage_set(key: &[u8], value: &[u8]) {
    // SAFETY: valid slices.
    unsafe { sys::storage_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) }
}

pub fn storage_remove(key: &[u8]) {
    // SAFETY: valid slice.
    unsafe { sys::storage_remove(key.as_ptr(), key.len()) }
}

pub fn storage_next(start: &[u8], end: Option<&[u8]>, exclusive_start: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut flags = 0;
    if exclusive_start {
        flags |= NEXT_EXCLUSIVE_START;
    }
    let end = match end {
        Some(e) => e,
        None => {
            flags |= NEXT_NO_END;
            &[]
        }
    };
    // SAFETY: valid slices.
    let len = unsafe { sys::storage_next(start.as_ptr(), start.len(), end.as_ptr(), end.len(), flags) };
    let reg = take_register(len)?;
    // Register = key_len: u32 LE ‖ key ‖ value.
    let (len_bytes, rest) = reg.split_first_chunk::<4>()?;
    let key_len = usize::try_from(u32::from_le_bytes(*len_bytes)).ok()?;
    if key_len > rest.len() {
        abort("storage_next: malformed register");
    }
    let (key, value) = rest.split_at(key_len);
    Some((key.to_vec(), value.to_vec()))
}

pub fn emit_event(kind: &str, attrs: &[(&str, &str)]) {
    let mut buf = Vec::with_capacity(attrs.iter().map(|(k, v)| 8 + k.len() + v.len()).sum());
    for (k, v) in attrs {
        push_len(&mut buf, k.len());
        buf.extend_from_slice(k.as_bytes());
        push_len(&mut buf, v.len());
        buf.extend_from_slice(v.as_bytes());
    }
    // SAFETY: valid slices.
    unsafe { sys::emit_event(kind.as_ptr(), kind.len(), buf.as_ptr(), buf.len()) }
}

fn push_len(buf: &mut Vec<u8>, len: usize) {
    // Longer than u32 is impossible on wasm32 (usize is 32 bits).
    buf.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

pub fn balance(addr: &Addr) -> u128 {
    let mut buf = [0u8; 16];
    // SAFETY: 20-byte address in, 16 bytes written to `buf`.
    unsafe { sys::balance(addr.as_bytes().as_ptr(), buf.as_mut_ptr()) };
    u128::from_le_bytes(buf)
}

pub fn transfer(to: &Addr, amount: u128) -> Result<(), String> {
    let amount = amount.to_le_bytes();
    // SAFETY: 20-byte address and 16-byte amount.
    match unsafe { sys::transfer(to.as_bytes().as_ptr(), amount.as_ptr()) } {
        0 => Ok(()),
        _ => Err(register_text()),
    }
}

pub fn call(contract: &Addr, msg: &[u8], funds: u128, gas_limit: u64) -> Result<Vec<u8>, String> {
    let funds = funds.to_le_bytes();
    let gas = i64::try_from(gas_limit).unwrap_or(i64::MAX);
    // SAFETY: valid address, message and amount buffers.
    let status = unsafe { sys::call(contract.as_bytes().as_ptr(), msg.as_ptr(), msg.len(), funds.as_ptr(), gas) };
    call_outcome(status)
}

pub fn query_contract(contract: &Addr, msg: &[u8]) -> Result<Vec<u8>, String> {
    // SAFETY: valid address and message buffers.
    let status = unsafe { sys::query_contract(contract.as_bytes().as_ptr(), msg.as_ptr(), msg.len()) };
    call_outcome(status)
}

pub fn instantiate(code_hash: &[u8; 32], label: &str, msg: &[u8], funds: u128, gas_limit: u64) -> Result<Addr, String> {
    let funds = funds.to_le_bytes();
    let gas = i64::try_from(gas_limit).unwrap_or(i64::MAX);
    // SAFETY: valid code hash, label, message and amount buffers.
    let status = unsafe {
        sys::instantiate(code_hash.as_ptr(), label.as_ptr(), label.len(), msg.as_ptr(), msg.len(), funds.as_ptr(), gas)
    };
    let data = call_outcome(status)?;
    <[u8; 20]>::try_from(data.as_slice()).map(Addr::new).map_err(|_| "instantiate: no address returned".to_owned())
}

pub fn contract_code_hash(addr: &Addr) -> Option<[u8; 32]> {
    let mut buf = [0u8; 32];
    // SAFETY: 20-byte address in, 32 bytes written to `buf` when found.
    match unsafe { sys::contract_code_hash(addr.as_bytes().as_ptr(), buf.as_mut_ptr()) } {
        0 => Some(buf),
        _ => None,
    }
}

pub fn burn(amount: u128) -> Result<(), String> {
    let amount = amount.to_le_bytes();
    // SAFETY: 16-byte amount.
    match unsafe { sys::burn(amount.as_ptr()) } {
        0 => Ok(()),
        _ => Err(register_text()),
    }
}

pub fn bonded_stake_at(addr: &Addr, height: u64) -> Result<u128, String> {
    let mut buf = [0u8; 16];
    let h = i64::try_from(height).unwrap_or(i64::MAX);
    // SAFETY: 20-byte address in, 16 bytes written to `buf` on success.
    match unsafe { sys::bonded_stake_at(addr.as_bytes().as_ptr(), h, buf.as_mut_ptr()) } {
        0 => Ok(u128::from_le_bytes(buf)),
        _ => Err(register_text()),
    }
}

pub fn total_bonded_at(height: u64) -> Result<u128, String> {
    let mut buf = [0u8; 16];
    let h = i64::try_from(height).unwrap_or(i64::MAX);
    // SAFETY: 16 bytes written to `buf` on success.
    match unsafe { sys::total_bonded_at(h, buf.as_mut_ptr()) } {
        0 => Ok(u128::from_le_bytes(buf)),
        _ => Err(register_text()),
    }
}

pub fn update_chain_params(patch: &[u8]) -> Result<(), String> {
    // SAFETY: valid slice.
    match unsafe { sys::update_chain_params(patch.as_ptr(), patch.len()) } {
        0 => Ok(()),
        _ => Err(register_text()),
    }
}

pub fn instantiate_with_admin(
    code_hash: &[u8; 32],
    label: &str,
    msg: &[u8],
    funds: u128,
    gas_limit: u64,
    admin: &Addr,
) -> Result<Addr, String> {
    let funds = funds.to_le_bytes();
    let gas = i64::try_from(gas_limit).unwrap_or(i64::MAX);
    // SAFETY: valid code hash, label, message, amount and address buffers.
    let status = unsafe {
        sys::instantiate_with_admin(
            code_hash.as_ptr(),
            label.as_ptr(),
            label.len(),
            msg.as_ptr(),
            msg.len(),
            funds.as_ptr(),
            gas,
            admin.as_bytes().as_ptr(),
        )
    };
    let data = call_outcome(status)?;
    <[u8; 20]>::try_from(data.as_slice()).map(Addr::new).map_err(|_| "instantiate: no address returned".to_owned())
}

pub fn migrate(contract: &Addr, code_hash: &[u8; 32], msg: &[u8], gas_limit: u64) -> Result<Vec<u8>, String> {
    let gas = i64::try_from(gas_limit).unwrap_or(i64::MAX);
    // SAFETY: valid address, code hash and message buffers.
    let status =
        unsafe { sys::migrate(contract.as_bytes().as_ptr(), code_hash.as_ptr(), msg.as_ptr(), msg.len(), gas) };
    call_outcome(status)
}

/// `update_admin` flag: clear the admin.
const CLEAR_ADMIN: i32 = 1;

pub fn update_admin(contract: &Addr, admin: Option<&Addr>) -> Result<(), String> {
    let (ptr, flags) = match admin {
        Some(a) => (a.as_bytes().as_ptr(), 0),
        None => (contract.as_bytes().as_ptr(), CLEAR_ADMIN),
    };
    // SAFETY: valid 20-byte addresses (the second is ignored when clearing).
    match unsafe { sys::update_admin(contract.as_bytes().as_ptr(), ptr, flags) } {
        0 => Ok(()),
        _ => Err(register_text()),
    }
}

pub fn contract_admin(addr: &Addr) -> Option<Addr> {
    let mut buf = [0u8; 20];
    // SAFETY: 20-byte address in, 20 bytes written to `buf` when there is an admin.
    match unsafe { sys::contract_admin(addr.as_bytes().as_ptr(), buf.as_mut_ptr()) } {
        0 => Some(Addr::new(buf)),
        _ => None,
    }
}

fn call_outcome(status: i32) -> Result<Vec<u8>, String> {
    // SAFETY: no arguments.
    let len = unsafe { sys::register_len() };
    match status {
        0 => Ok(take_register(len).unwrap_or_default()),
        _ => Err(take_register(len).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()),
    }
}

pub fn abort(msg: &str) -> ! {
    let mut end = msg.len().min(MAX_ABORT_MESSAGE);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    // SAFETY: valid UTF-8 slice of at most 4 KiB.
    unsafe { sys::abort(msg.as_ptr(), end) }
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: valid slice; the host writes 32 bytes to `out`.
    unsafe { sys::sha256(data.as_ptr(), data.len(), out.as_mut_ptr()) };
    out
}

pub fn ed25519_verify(public_key: &[u8; 32], msg: &[u8], signature: &[u8; 64]) -> bool {
    // SAFETY: 32-byte key, valid message slice, 64-byte signature.
    unsafe { sys::ed25519_verify(public_key.as_ptr(), msg.as_ptr(), msg.len(), signature.as_ptr()) == 1 }
}

// ---------------------------------------------------------------------------
// Runtime of the exports generated by `entry_points!`.

/// `agora_alloc(len) -> ptr`: a buffer of `len` bytes the host writes the
/// message into. Never freed: an instance lives for one call.
pub fn alloc(len: i32) -> i32 {
    let Ok(len) = usize::try_from(len) else { abort("agora_alloc: negative length") };
    let mut buf = std::mem::ManuallyDrop::new(Vec::<u8>::with_capacity(len));
    buf.as_mut_ptr() as usize as i32
}

/// The message the host wrote at `ptr..ptr+len`.
fn message(ptr: i32, len: i32) -> &'static [u8] {
    let Ok(len) = usize::try_from(len) else { abort("negative message length") };
    if len == 0 {
        return &[];
    }
    // SAFETY: the host wrote `len` bytes at `ptr` (a buffer from `agora_alloc`)
    // and nothing frees or mutates it during the call; an out-of-bounds range
    // traps on access, as the ABI specifies.
    unsafe { std::slice::from_raw_parts(ptr as u32 as usize as *const u8, len) }
}

/// Packs result data as `(ptr << 32) | len`, `0` when empty. The buffer is leaked.
fn pack(data: Vec<u8>) -> i64 {
    if data.is_empty() {
        return 0;
    }
    let data: &'static [u8] = Vec::leak(data);
    let ptr = data.as_ptr() as usize as u64;
    let len = data.len() as u64;
    ((ptr << 32) | len) as i64
}

/// Makes a panic (overflow check, index out of bounds, `expect`…) end the call
/// with `abort("panic: <message> at <file>:<line>")` instead of a bare
/// `unreachable` trap.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let msg = match info.location() {
            Some(l) => format!("panic: {payload} at {}:{}", l.file(), l.line()),
            None => format!("panic: {payload}"),
        };
        abort(&msg)
    }));
}

/// The body of a generated entry point.
pub fn run_entry<M, R, F>(msg_ptr: i32, msg_len: i32, handler: F) -> i64
where
    M: serde::de::DeserializeOwned,
    R: crate::IntoData,
    F: FnOnce(M) -> Result<R, crate::ContractError>,
{
    install_panic_hook();
    match crate::__private::handle(message(msg_ptr, msg_len), handler) {
        Ok(data) => pack(data),
        Err(e) => abort(e.message()),
    }
}
