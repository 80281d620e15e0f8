//! The host functions of module `agora` (see `ABI.md`). Each charges its gas
//! before doing anything, reads contract memory with explicit bounds checks,
//! and records why it stops (abort, out of gas, fault, node error) before
//! returning a trap.

use std::ops::Bound;

use ledger::contract::CallError;
use ledger::{Address, Amount, Event};
use sha2::{Digest, Sha256};
use wasmtime::{AsContextMut, Caller, Linker};

use crate::{Data, Frame, Stop, run_frame};

mod admin;
mod text;

type HResult<T> = Result<T, wasmtime::Error>;

/// Largest abort message kept (longer ones are cut).
const MAX_ABORT_BYTES: usize = 4096;
const MAX_EVENT_ATTRS: usize = 32;
const MAX_EVENT_BYTES: usize = 4096;
const MAX_EVENT_KIND: usize = 64;

fn stop(ctx: &mut impl AsContextMut<Data = Data>, why: Stop) -> wasmtime::Error {
    let msg = match &why {
        Stop::Abort(m) | Stop::Fault(m) | Stop::Unexecutable(m) => m.clone(),
        Stop::OutOfGas => "out of gas".into(),
        Stop::Node(e) => e.to_string(),
    };
    ctx.as_context_mut().data_mut().stop = Some(why);
    wasmtime::Error::msg(msg)
}

/// Records a contract fault (misuse of the ABI) and returns the trap.
pub(crate) fn fault(ctx: &mut impl AsContextMut<Data = Data>, msg: String) -> wasmtime::Error {
    stop(ctx, Stop::Fault(msg))
}

/// Burns `gas` from the store's fuel, plus the memory pages added since the
/// last charge (see `Limits`), or stops with "out of gas".
pub(crate) fn charge(ctx: &mut impl AsContextMut<Data = Data>, gas: u64) -> HResult<()> {
    let mut c = ctx.as_context_mut();
    if !c.data().vm.metered {
        return Ok(());
    }
    let pages = std::mem::take(&mut c.data_mut().limits.uncharged_pages);
    let gas = gas.saturating_add(pages.saturating_mul(c.data().params.gas_memory_page));
    let fuel = c.get_fuel()?;
    if fuel < gas {
        c.set_fuel(0)?;
        return Err(stop(ctx, Stop::OutOfGas));
    }
    c.set_fuel(fuel - gas)?;
    Ok(())
}

/// Charges the memory pages added since the last charge, as much as the fuel
/// left allows. Returns whether it could pay them all.
pub(crate) fn settle_memory(ctx: &mut impl AsContextMut<Data = Data>) -> bool {
    let mut c = ctx.as_context_mut();
    if !c.data().vm.metered {
        return true;
    }
    let pages = std::mem::take(&mut c.data_mut().limits.uncharged_pages);
    let cost = pages.saturating_mul(c.data().params.gas_memory_page);
    let fuel = c.get_fuel().unwrap_or(0);
    let _ = c.set_fuel(fuel.saturating_sub(cost));
    fuel >= cost
}

fn node(ctx: &mut impl AsContextMut<Data = Data>, e: ledger::LedgerError) -> wasmtime::Error {
    stop(ctx, Stop::Node(e))
}

/// The frame's contract parameters (copied into the store once per frame).
fn params(c: &Caller<'_, Data>) -> ledger::params::ContractParams {
    c.data().params
}

fn read(c: &mut Caller<'_, Data>, ptr: i32, len: i32) -> HResult<Vec<u8>> {
    let mem = c.data().memory.ok_or_else(|| wasmtime::Error::msg("no memory"))?;
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    let data = mem.data(&*c);
    match start.checked_add(len).and_then(|end| data.get(start..end)) {
        Some(b) => Ok(b.to_vec()),
        None => Err(fault(c, format!("host call read out of bounds: {len} bytes at {start}"))),
    }
}

fn write(c: &mut Caller<'_, Data>, ptr: i32, bytes: &[u8]) -> HResult<()> {
    let mem = c.data().memory.ok_or_else(|| wasmtime::Error::msg("no memory"))?;
    let start = ptr as u32 as usize;
    if mem.write(&mut *c, start, bytes).is_err() {
        return Err(fault(c, format!("host call write out of bounds: {} bytes at {start}", bytes.len())));
    }
    Ok(())
}

fn read_address(c: &mut Caller<'_, Data>, ptr: i32) -> HResult<Address> {
    let b = read(c, ptr, 20)?;
    let mut a = [0u8; 20];
    a.copy_from_slice(&b);
    Ok(Address(a))
}

fn read_amount(c: &mut Caller<'_, Data>, ptr: i32) -> HResult<Amount> {
    let b = read(c, ptr, 16)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(&b);
    Ok(Amount::new(u128::from_le_bytes(a)))
}

fn set_register(c: &mut Caller<'_, Data>, v: Option<Vec<u8>>) -> i64 {
    let len = v.as_ref().map_or(-1, |v| v.len() as i64);
    c.data_mut().register = v;
    len
}

fn deny_in_query(c: &mut Caller<'_, Data>, what: &str) -> HResult<()> {
    if c.data().frame.read_only {
        return Err(fault(c, format!("{what} is not allowed in a query (read-only call)")));
    }
    Ok(())
}

fn key(c: &mut Caller<'_, Data>, ptr: i32, len: i32, p: &ledger::params::ContractParams) -> HResult<Vec<u8>> {
    if len <= 0 || len as u32 > p.max_storage_key_bytes {
        return Err(fault(c, format!("storage key must be 1..={} bytes, got {len}", p.max_storage_key_bytes)));
    }
    read(c, ptr, len)
}

/// Registers every host function on the linker.
pub(crate) fn define(l: &mut Linker<Data>) -> wasmtime::Result<()> {
    l.func_wrap("agora", "register_len", |mut c: Caller<'_, Data>| -> HResult<i64> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call)?;
        Ok(c.data().register.as_ref().map_or(-1, |r| r.len() as i64))
    })?;
    l.func_wrap("agora", "read_register", |mut c: Caller<'_, Data>, dst: i32| -> HResult<()> {
        let p = params(&c);
        let r = c.data_mut().register.take().unwrap_or_default();
        charge(&mut c, p.gas_host_call.saturating_add(p.gas_copy_byte.saturating_mul(r.len() as u64)))?;
        write(&mut c, dst, &r)?;
        c.data_mut().register = Some(r);
        Ok(())
    })?;
    l.func_wrap("agora", "storage_get", |mut c: Caller<'_, Data>, kp: i32, kl: i32| -> HResult<i64> {
        let p = params(&c);
        let k = key(&mut c, kp, kl, &p)?;
        charge(&mut c, p.gas_host_call + p.gas_storage_read + p.gas_storage_read_byte * k.len() as u64)?;
        let contract = c.data().frame.contract;
        let v = c.data_mut().host().storage_get(&contract, &k).map_err(|e| node(&mut c, e))?;
        if let Some(v) = &v {
            charge(&mut c, p.gas_storage_read_byte.saturating_mul(v.len() as u64))?;
        }
        Ok(set_register(&mut c, v))
    })?;
    l.func_wrap(
        "agora",
        "storage_set",
        |mut c: Caller<'_, Data>, kp: i32, kl: i32, vp: i32, vl: i32| -> HResult<()> {
            let p = params(&c);
            deny_in_query(&mut c, "storage_set")?;
            let k = key(&mut c, kp, kl, &p)?;
            if vl < 0 || vl as u32 > p.max_storage_value_bytes {
                return Err(fault(
                    &mut c,
                    format!("storage value must be at most {} bytes", p.max_storage_value_bytes),
                ));
            }
            let bytes = (k.len() + vl as usize) as u64;
            charge(&mut c, p.gas_host_call + p.gas_storage_write + p.gas_storage_write_byte.saturating_mul(bytes))?;
            let v = read(&mut c, vp, vl)?;
            let contract = c.data().frame.contract;
            c.data_mut().host().storage_set(&contract, &k, &v).map_err(|e| node(&mut c, e))
        },
    )?;
    l.func_wrap("agora", "storage_remove", |mut c: Caller<'_, Data>, kp: i32, kl: i32| -> HResult<()> {
        let p = params(&c);
        deny_in_query(&mut c, "storage_remove")?;
        let k = key(&mut c, kp, kl, &p)?;
        charge(&mut c, p.gas_host_call + p.gas_storage_write + p.gas_storage_write_byte * k.len() as u64)?;
        let contract = c.data().frame.contract;
        c.data_mut().host().storage_remove(&contract, &k).map_err(|e| node(&mut c, e))
    })?;
    l.func_wrap(
        "agora",
        "storage_next",
        |mut c: Caller<'_, Data>, sp: i32, sl: i32, ep: i32, el: i32, flags: i32| -> HResult<i64> {
            let p = params(&c);
            // One byte more than a key: `key ‖ 0x00` is how an inclusive end is written.
            let max = p.max_storage_key_bytes as i32 + 1;
            if !(0..=max).contains(&sl) || (flags & 2 == 0 && !(0..=max).contains(&el)) {
                return Err(fault(&mut c, format!("storage_next bounds must be at most {max} bytes")));
            }
            let start = read(&mut c, sp, sl)?;
            let end = if flags & 2 == 0 { Some(read(&mut c, ep, el)?) } else { None };
            let bytes = (start.len() + end.as_ref().map_or(0, Vec::len)) as u64;
            charge(&mut c, p.gas_host_call + p.gas_storage_read + p.gas_storage_read_byte * bytes)?;
            let lo = if flags & 1 != 0 { Bound::Excluded(start.as_slice()) } else { Bound::Included(start.as_slice()) };
            let contract = c.data().frame.contract;
            // Every key deleted earlier in the block that the search steps over
            // costs a storage read: at most as many as the gas left can pay.
            let per_skip = p.gas_storage_read.max(1);
            let budget = if c.data().vm.metered { c.get_fuel()? / per_skip } else { u64::MAX };
            let next =
                c.data_mut().host().storage_next(&contract, lo, end.as_deref(), budget).map_err(|e| node(&mut c, e))?;
            charge(&mut c, per_skip.saturating_mul(next.skipped))?;
            if next.exhausted {
                return Err(stop(&mut c, Stop::OutOfGas));
            }
            let reg = match next.entry {
                Some((k, v)) => {
                    charge(&mut c, p.gas_storage_read_byte.saturating_mul((k.len() + v.len()) as u64))?;
                    let mut r = Vec::with_capacity(4 + k.len() + v.len());
                    r.extend_from_slice(&(k.len() as u32).to_le_bytes());
                    r.extend_from_slice(&k);
                    r.extend_from_slice(&v);
                    Some(r)
                }
                None => None,
            };
            Ok(set_register(&mut c, reg))
        },
    )?;
    for (name, pick) in [
        ("caller", (|f: &Frame, _: &Address| f.caller) as fn(&Frame, &Address) -> Address),
        ("origin", |_: &Frame, o: &Address| *o),
        ("self_address", |f: &Frame, _: &Address| f.contract),
    ] {
        l.func_wrap("agora", name, move |mut c: Caller<'_, Data>, dst: i32| -> HResult<()> {
            let p = params(&c);
            charge(&mut c, p.gas_host_call)?;
            let origin = c.data().host.as_ref().map(|h| h.env().origin).unwrap_or(Address([0; 20]));
            let a = pick(&c.data().frame, &origin);
            write(&mut c, dst, &a.0)
        })?;
    }
    l.func_wrap("agora", "funds", |mut c: Caller<'_, Data>, dst: i32| -> HResult<()> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call)?;
        let f = c.data().frame.funds.get();
        write(&mut c, dst, &f.to_le_bytes())
    })?;
    l.func_wrap("agora", "block_height", |mut c: Caller<'_, Data>| -> HResult<i64> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call)?;
        Ok(c.data().host.as_ref().map_or(0, |h| h.env().height.0 as i64))
    })?;
    l.func_wrap("agora", "block_time_ms", |mut c: Caller<'_, Data>| -> HResult<i64> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call)?;
        Ok(c.data().host.as_ref().map_or(0, |h| h.env().time_ms as i64))
    })?;
    l.func_wrap("agora", "chain_id", |mut c: Caller<'_, Data>| -> HResult<i64> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call)?;
        let id = c.data().host.as_ref().map(|h| h.env().chain_id.clone().into_bytes()).unwrap_or_default();
        Ok(set_register(&mut c, Some(id)))
    })?;
    l.func_wrap("agora", "emit_event", |mut c: Caller<'_, Data>, kp: i32, kl: i32, ap: i32, al: i32| -> HResult<()> {
        let p = params(&c);
        deny_in_query(&mut c, "emit_event")?;
        if kl <= 0 || kl as usize > MAX_EVENT_KIND || al < 0 || al as usize > MAX_EVENT_BYTES {
            return Err(fault(
                &mut c,
                format!("event kind must be 1..={MAX_EVENT_KIND} bytes and attributes at most {MAX_EVENT_BYTES}"),
            ));
        }
        charge(&mut c, p.gas_host_call + p.gas_event + p.gas_event_byte * (kl + al) as u64)?;
        let kind = read(&mut c, kp, kl)?;
        if !kind.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(b)) {
            return Err(fault(&mut c, "event kind may only contain [a-z0-9_.-]".into()));
        }
        let raw = read(&mut c, ap, al)?;
        let attrs = parse_attrs(&raw).map_err(|e| fault(&mut c, format!("malformed event attributes: {e}")))?;
        let contract = c.data().frame.contract;
        let mut attributes = vec![("_contract".to_owned(), contract.to_string())];
        attributes.extend(attrs);
        let kind = format!("wasm-{}", String::from_utf8_lossy(&kind));
        c.data_mut().events.push(Event { kind, attributes });
        Ok(())
    })?;
    l.func_wrap("agora", "balance", |mut c: Caller<'_, Data>, ap: i32, dst: i32| -> HResult<()> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call + p.gas_storage_read)?;
        let a = read_address(&mut c, ap)?;
        let b = c.data_mut().host().balance(&a).map_err(|e| node(&mut c, e))?;
        write(&mut c, dst, &b.get().to_le_bytes())
    })?;
    l.func_wrap("agora", "transfer", |mut c: Caller<'_, Data>, tp: i32, amp: i32| -> HResult<i32> {
        let p = params(&c);
        deny_in_query(&mut c, "transfer")?;
        charge(&mut c, p.gas_host_call + p.gas_contract_transfer)?;
        let to = read_address(&mut c, tp)?;
        let amount = read_amount(&mut c, amp)?;
        let me = c.data().frame.contract;
        match c.data_mut().host().transfer(&me, &to, amount).map_err(|e| node(&mut c, e))? {
            Ok(()) => {
                set_register(&mut c, None);
                Ok(0)
            }
            Err(msg) => {
                set_register(&mut c, Some(msg.into_bytes()));
                Ok(1)
            }
        }
    })?;
    l.func_wrap(
        "agora",
        "call",
        |mut c: Caller<'_, Data>, ap: i32, mp: i32, ml: i32, fp: i32, gas: i64| -> HResult<i32> {
            deny_in_query(&mut c, "call")?;
            let target = read_address(&mut c, ap)?;
            let funds = read_amount(&mut c, fp)?;
            sub_call(&mut c, target, mp, ml, funds, gas as u64, false)
        },
    )?;
    l.func_wrap("agora", "query_contract", |mut c: Caller<'_, Data>, ap: i32, mp: i32, ml: i32| -> HResult<i32> {
        let target = read_address(&mut c, ap)?;
        sub_call(&mut c, target, mp, ml, Amount::ZERO, 0, true)
    })?;
    l.func_wrap(
        "agora",
        "instantiate",
        |mut c: Caller<'_, Data>, hp: i32, lp: i32, ll: i32, mp: i32, ml: i32, fp: i32, gas: i64| -> HResult<i32> {
            sub_instantiate(&mut c, hp, lp, ll, mp, ml, fp, gas.max(0) as u64, None)
        },
    )?;
    admin::define(l)?;
    l.func_wrap("agora", "contract_code_hash", |mut c: Caller<'_, Data>, ap: i32, dst: i32| -> HResult<i32> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call + p.gas_storage_read)?;
        let a = read_address(&mut c, ap)?;
        match c.data_mut().host().contract_code_hash(&a).map_err(|e| node(&mut c, e))? {
            Some(h) => write(&mut c, dst, &h.0).map(|()| 0),
            None => Ok(1),
        }
    })?;
    l.func_wrap("agora", "burn", |mut c: Caller<'_, Data>, amp: i32| -> HResult<i32> {
        let p = params(&c);
        deny_in_query(&mut c, "burn")?;
        charge(&mut c, p.gas_host_call + p.gas_contract_transfer)?;
        let amount = read_amount(&mut c, amp)?;
        let me = c.data().frame.contract;
        let out = c.data_mut().host().burn(&me, amount).map_err(|e| node(&mut c, e))?;
        status(&mut c, out)
    })?;
    l.func_wrap("agora", "bonded_stake_at", |mut c: Caller<'_, Data>, ap: i32, h: i64, dst: i32| -> HResult<i32> {
        let a = read_address(&mut c, ap)?;
        stake_read(&mut c, Some(a), h, dst)
    })?;
    l.func_wrap("agora", "total_bonded_at", |mut c: Caller<'_, Data>, h: i64, dst: i32| -> HResult<i32> {
        stake_read(&mut c, None, h, dst)
    })?;
    l.func_wrap("agora", "update_chain_params", |mut c: Caller<'_, Data>, pp: i32, pl: i32| -> HResult<i32> {
        let p = params(&c);
        deny_in_query(&mut c, "update_chain_params")?;
        if pl < 0 || pl as usize > ledger::governance::MAX_PARAMS_PATCH_BYTES {
            let max = ledger::governance::MAX_PARAMS_PATCH_BYTES;
            return Err(fault(&mut c, format!("a parameter change is at most {max} bytes")));
        }
        let cost = p.gas_storage_write + p.gas_storage_write_byte.saturating_mul(pl as u64);
        charge(&mut c, p.gas_host_call + cost)?;
        let patch = read(&mut c, pp, pl)?;
        let me = c.data().frame.contract;
        let out = c.data_mut().host().update_chain_params(&me, &patch).map_err(|e| node(&mut c, e))?;
        status(&mut c, out)
    })?;
    l.func_wrap("agora", "abort", |mut c: Caller<'_, Data>, mp: i32, ml: i32| -> HResult<()> {
        let p = params(&c);
        let len = (ml.max(0) as usize).min(MAX_ABORT_BYTES);
        charge(&mut c, p.gas_host_call + p.gas_copy_byte * len as u64)?;
        let m = read(&mut c, mp, len as i32)?;
        Err(stop(&mut c, Stop::Abort(String::from_utf8_lossy(&m).into_owned())))
    })?;
    l.func_wrap("agora", "sha256", |mut c: Caller<'_, Data>, dp: i32, dl: i32, dst: i32| -> HResult<()> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call + p.gas_sha256_byte.saturating_mul(dl.max(0) as u64))?;
        let d = read(&mut c, dp, dl)?;
        write(&mut c, dst, &Sha256::digest(&d))
    })?;
    l.func_wrap(
        "agora",
        "ed25519_verify",
        |mut c: Caller<'_, Data>, kp: i32, mp: i32, ml: i32, sp: i32| -> HResult<i32> {
            let p = params(&c);
            charge(&mut c, p.gas_host_call + p.gas_ed25519_verify + p.gas_copy_byte.saturating_mul(ml.max(0) as u64))?;
            let pk = read(&mut c, kp, 32)?;
            let msg = read(&mut c, mp, ml)?;
            let sig = read(&mut c, sp, 64)?;
            Ok(i32::from(verify(&pk, &msg, &sig)))
        },
    )?;
    text::define(l)?;
    Ok(())
}

/// `0` and an empty register for `Ok`, `1` and the reason for `Err`.
fn status(c: &mut Caller<'_, Data>, out: Result<(), String>) -> HResult<i32> {
    match out {
        Ok(()) => {
            set_register(c, None);
            Ok(0)
        }
        Err(m) => {
            set_register(c, Some(m.into_bytes()));
            Ok(1)
        }
    }
}

/// `bonded_stake_at` / `total_bonded_at`: a read of the state at a past
/// height, charged per record read.
fn stake_read(c: &mut Caller<'_, Data>, addr: Option<Address>, h: i64, dst: i32) -> HResult<i32> {
    let p = params(c);
    charge(c, p.gas_host_call + p.gas_storage_read)?;
    let Ok(height) = u64::try_from(h) else {
        set_register(c, Some(b"height must not be negative".to_vec()));
        return Ok(1);
    };
    let (out, reads) =
        c.data_mut().host().bonded_stake_at(addr.as_ref(), ledger::Height(height)).map_err(|e| node(c, e))?;
    charge(c, p.gas_storage_read.saturating_mul(reads.saturating_sub(1)))?;
    match out {
        Ok(amount) => {
            write(c, dst, &amount.get().to_le_bytes())?;
            set_register(c, None);
            Ok(0)
        }
        Err(m) => {
            set_register(c, Some(m.into_bytes()));
            Ok(1)
        }
    }
}

fn verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else { return false };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else { return false };
    key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
}

/// Parses `k_len ‖ k ‖ v_len ‖ v …` attribute pairs.
fn parse_attrs(mut raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let take = |raw: &mut &[u8]| -> Result<String, String> {
        if raw.len() < 4 {
            return Err("truncated length".into());
        }
        let n = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        let rest = &raw[4..];
        if rest.len() < n {
            return Err("truncated string".into());
        }
        let s = std::str::from_utf8(&rest[..n]).map_err(|_| "attribute is not UTF-8".to_owned())?.to_owned();
        *raw = &rest[n..];
        Ok(s)
    };
    while !raw.is_empty() {
        let k = take(&mut raw)?;
        let v = take(&mut raw)?;
        if k.is_empty() || k.starts_with('_') {
            return Err(format!("attribute key `{k}` must be non-empty and not start with `_`"));
        }
        out.push((k, v));
        if out.len() > MAX_EVENT_ATTRS {
            return Err(format!("more than {MAX_EVENT_ATTRS} attributes"));
        }
    }
    Ok(out)
}

/// `call` and `query_contract`: runs another contract in a nested frame.
fn sub_call(
    c: &mut Caller<'_, Data>,
    target: Address,
    mp: i32,
    ml: i32,
    funds: Amount,
    gas: u64,
    read_only: bool,
) -> HResult<i32> {
    let p = params(c);
    if ml < 0 || ml as u32 > p.max_msg_bytes {
        return Err(fault(c, format!("sub-call message must be at most {} bytes", p.max_msg_bytes)));
    }
    charge(c, p.gas_host_call + p.gas_contract_call)?;
    let msg = read(c, mp, ml)?;
    let frame = c.data().frame.clone();
    let fail = |c: &mut Caller<'_, Data>, m: String| -> HResult<i32> {
        set_register(c, Some(m.into_bytes()));
        Ok(1)
    };
    // `depth` counts frames: the top-level call is 1, so this allows
    // `max_call_depth` nested calls below it.
    if frame.depth > p.max_call_depth {
        return fail(c, format!("call depth limit {} exceeded", p.max_call_depth));
    }
    if !read_only && c.data().stack.contains(&target) {
        return fail(c, format!("reentrant call to {target} refused"));
    }
    let code_hash = match c.data_mut().host().contract_code_hash(&target).map_err(|e| node(c, e))? {
        Some(h) => h,
        None => return fail(c, format!("no contract at {target}")),
    };
    let cp = c.data_mut().host().checkpoint();
    if !read_only
        && let Err(m) = c.data_mut().host().transfer(&frame.contract, &target, funds).map_err(|e| node(c, e))?
    {
        return fail(c, format!("cannot attach funds: {m}"));
    }
    let sub = Frame {
        contract: target,
        code_hash,
        caller: frame.contract,
        funds: if read_only { Amount::ZERO } else { funds },
        read_only: read_only || frame.read_only,
        depth: frame.depth + 1,
    };
    let entry = if read_only { "query" } else { "execute" };
    match run_nested(c, sub, entry, msg, gas, cp)? {
        Ok(data) => {
            set_register(c, Some(data));
            Ok(0)
        }
        Err(m) => fail(c, m),
    }
}

/// Runs `sub` in a nested frame with at most `gas` (0: all that is left) and
/// charges what it used. On failure its effects since `cp` are reverted and
/// `Err` carries its reason; on success its events join this frame's.
fn run_nested(
    c: &mut Caller<'_, Data>,
    sub: Frame,
    entry: &str,
    msg: Vec<u8>,
    gas: u64,
    cp: ledger::contract::Checkpoint,
) -> HResult<Result<Vec<u8>, String>> {
    let metered = c.data().vm.metered;
    let remaining = if metered { c.get_fuel()? } else { u64::MAX / 2 };
    let sub_gas = if gas == 0 || gas > remaining { remaining } else { gas };
    let mut stack = c.data().stack.clone();
    stack.push(sub.contract);
    let vm = c.data().vm.clone();
    let host = c.data_mut().host.take().expect("the host is in the store except during a sub-call");
    let (mut host, out) = run_frame(&vm, host, sub, stack, entry, msg, sub_gas);
    if out.result.is_err() {
        host.revert_to(cp);
    }
    c.data_mut().host = Some(host);
    if metered {
        c.set_fuel(remaining.saturating_sub(out.gas_used))?;
    }
    match out.result {
        Ok(data) => {
            c.data_mut().events.extend(out.events);
            Ok(Ok(data))
        }
        Err(CallError::Failed(m)) => Ok(Err(m)),
        Err(CallError::Unexecutable(m)) => Err(stop(c, Stop::Unexecutable(m))),
        Err(CallError::Node(e)) => Err(node(c, e)),
    }
}

/// `instantiate` (and `instantiate_with_admin`, whose admin address is at
/// `admin_ptr`): creates a contract from stored code as the calling contract
/// and runs its `instantiate` in a nested frame.
#[allow(clippy::too_many_arguments)]
fn sub_instantiate(
    c: &mut Caller<'_, Data>,
    hp: i32,
    lp: i32,
    ll: i32,
    mp: i32,
    ml: i32,
    fp: i32,
    gas: u64,
    admin_ptr: Option<i32>,
) -> HResult<i32> {
    let p = params(c);
    deny_in_query(c, if admin_ptr.is_some() { "instantiate_with_admin" } else { "instantiate" })?;
    if ml < 0 || ml as u32 > p.max_msg_bytes {
        return Err(fault(c, format!("instantiate message must be at most {} bytes", p.max_msg_bytes)));
    }
    if ll < 0 || ll as u32 > p.max_label_bytes {
        return Err(fault(c, format!("label must be at most {} bytes", p.max_label_bytes)));
    }
    let bytes = (ml as u64).saturating_add(ll as u64);
    charge(c, p.gas_host_call + p.gas_contract_call + p.gas_instantiate + p.gas_copy_byte.saturating_mul(bytes))?;
    let hash = read(c, hp, 32)?;
    let label = read(c, lp, ll)?;
    let msg = read(c, mp, ml)?;
    let funds = read_amount(c, fp)?;
    let admin = match admin_ptr {
        Some(ap) => Some(read_address(c, ap)?),
        None => None,
    };
    let fail = |c: &mut Caller<'_, Data>, m: String| -> HResult<i32> {
        set_register(c, Some(m.into_bytes()));
        Ok(1)
    };
    let Ok(label) = String::from_utf8(label) else { return fail(c, "label is not UTF-8".into()) };
    let mut code_hash = ledger::Hash::ZERO;
    code_hash.0.copy_from_slice(&hash);
    let frame = c.data().frame.clone();
    if frame.depth > p.max_call_depth {
        return fail(c, format!("call depth limit {} exceeded", p.max_call_depth));
    }
    let cp = c.data_mut().host().checkpoint();
    let created =
        c.data_mut().host().create_contract(&code_hash, &frame.contract, &label, admin).map_err(|e| node(c, e))?;
    let address = match created {
        Ok(a) => a,
        Err(m) => return fail(c, m),
    };
    if let Err(m) = c.data_mut().host().transfer(&frame.contract, &address, funds).map_err(|e| node(c, e))? {
        c.data_mut().host().revert_to(cp);
        return fail(c, format!("cannot attach funds: {m}"));
    }
    let event = ledger::admin::instantiate_event(&address, &code_hash, &frame.contract, &label, admin.as_ref());
    let sub =
        Frame { contract: address, code_hash, caller: frame.contract, funds, read_only: false, depth: frame.depth + 1 };
    let at = c.data().events.len();
    match run_nested(c, sub, "instantiate", msg, gas, cp)? {
        Ok(_) => {
            c.data_mut().events.insert(at, event);
            set_register(c, Some(address.0.to_vec()));
            Ok(0)
        }
        Err(m) => fail(c, m),
    }
}
