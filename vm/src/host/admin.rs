//! Host functions for contract admins and migration (see `ledger::admin` and
//! `ABI.md`): `instantiate_with_admin`, `migrate`, `update_admin`,
//! `contract_admin`.

use ledger::{Amount, Hash};
use wasmtime::{Caller, Linker};

use super::{
    HResult, charge, deny_in_query, fault, node, params, read, read_address, run_nested, set_register, status,
    sub_instantiate, write,
};
use crate::{Data, Frame};

/// `update_admin` flag: clear the admin (the address argument is ignored).
const CLEAR_ADMIN: i32 = 1;

pub(super) fn define(l: &mut Linker<Data>) -> wasmtime::Result<()> {
    l.func_wrap(
        "agora",
        "instantiate_with_admin",
        |mut c: Caller<'_, Data>,
         hp: i32,
         lp: i32,
         ll: i32,
         mp: i32,
         ml: i32,
         fp: i32,
         gas: i64,
         ap: i32|
         -> HResult<i32> { sub_instantiate(&mut c, hp, lp, ll, mp, ml, fp, gas.max(0) as u64, Some(ap)) },
    )?;
    l.func_wrap(
        "agora",
        "migrate",
        |mut c: Caller<'_, Data>, ap: i32, hp: i32, mp: i32, ml: i32, gas: i64| -> HResult<i32> {
            sub_migrate(&mut c, ap, hp, mp, ml, gas.max(0) as u64)
        },
    )?;
    l.func_wrap("agora", "update_admin", |mut c: Caller<'_, Data>, ap: i32, np: i32, flags: i32| -> HResult<i32> {
        let p = params(&c);
        deny_in_query(&mut c, "update_admin")?;
        if flags & !CLEAR_ADMIN != 0 {
            return Err(fault(&mut c, format!("update_admin: unknown flags {flags:#x}")));
        }
        charge(&mut c, p.gas_host_call + p.gas_storage_read + p.gas_storage_write)?;
        let target = read_address(&mut c, ap)?;
        let admin = if flags & CLEAR_ADMIN != 0 { None } else { Some(read_address(&mut c, np)?) };
        let me = c.data().frame.contract;
        let out = c.data_mut().host().update_admin(&me, &target, admin).map_err(|e| node(&mut c, e))?;
        if out.is_ok() {
            let event = ledger::admin::update_admin_event(&target, admin.as_ref(), &me);
            c.data_mut().events.push(event);
        }
        status(&mut c, out)
    })?;
    l.func_wrap("agora", "contract_admin", |mut c: Caller<'_, Data>, ap: i32, dst: i32| -> HResult<i32> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call + p.gas_storage_read)?;
        let a = read_address(&mut c, ap)?;
        match c.data_mut().host().contract_admin(&a).map_err(|e| node(&mut c, e))? {
            Some(Some(admin)) => write(&mut c, dst, &admin.0).map(|()| 0),
            Some(None) => Ok(1),
            None => Ok(2),
        }
    })?;
    Ok(())
}

/// `migrate`: switches another contract, of which the calling contract is
/// the admin, to stored code and runs the new code's `migrate` in a nested
/// frame. A contract executing on the call stack (the caller itself
/// included) cannot be migrated: its frame runs the old code (the
/// re-entrancy rule).
fn sub_migrate(c: &mut Caller<'_, Data>, ap: i32, hp: i32, mp: i32, ml: i32, gas: u64) -> HResult<i32> {
    let p = params(c);
    deny_in_query(c, "migrate")?;
    if ml < 0 || ml as u32 > p.max_msg_bytes {
        return Err(fault(c, format!("migrate message must be at most {} bytes", p.max_msg_bytes)));
    }
    let cost = p.gas_contract_call + p.gas_storage_write + p.gas_copy_byte.saturating_mul(ml as u64);
    charge(c, p.gas_host_call + cost)?;
    let target = read_address(c, ap)?;
    let mut code_hash = Hash::ZERO;
    code_hash.0.copy_from_slice(&read(c, hp, 32)?);
    let msg = read(c, mp, ml)?;
    let fail = |c: &mut Caller<'_, Data>, m: String| -> HResult<i32> {
        set_register(c, Some(m.into_bytes()));
        Ok(1)
    };
    let frame = c.data().frame.clone();
    if frame.depth > p.max_call_depth {
        return fail(c, format!("call depth limit {} exceeded", p.max_call_depth));
    }
    if c.data().stack.contains(&target) {
        return fail(c, format!("migrate of {target} refused: it is executing on the call stack"));
    }
    let cp = c.data_mut().host().checkpoint();
    let switched =
        c.data_mut().host().migrate_contract(&frame.contract, &target, &code_hash).map_err(|e| node(c, e))?;
    let old = match switched {
        Ok(h) => h,
        Err(m) => return fail(c, m),
    };
    let event = ledger::admin::migrate_event(&target, &old, &code_hash, &frame.contract);
    let sub = Frame {
        contract: target,
        code_hash,
        caller: frame.contract,
        funds: Amount::ZERO,
        read_only: false,
        depth: frame.depth + 1,
    };
    let at = c.data().events.len();
    match run_nested(c, sub, "migrate", msg, gas, cp)? {
        Ok(data) => {
            c.data_mut().events.insert(at, event);
            set_register(c, Some(data));
            Ok(0)
        }
        Err(m) => fail(c, format!("migrate failed: {m}")),
    }
}
