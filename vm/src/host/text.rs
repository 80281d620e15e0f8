//! Address text on the host: `addr_parse` and `addr_format`. In wasm the
//! bech32 checksum alone costs ~16 000 gas per address; here it is one host
//! call at `gas_address_text`.

use ledger::Address;
use ledger::types::MAX_ADDRESS_TEXT;
use wasmtime::{Caller, Linker};

use super::{HResult, charge, params, read, read_address, set_register, status, write};
use crate::Data;

pub(super) fn define(l: &mut Linker<Data>) -> wasmtime::Result<()> {
    l.func_wrap("agora", "addr_parse", |mut c: Caller<'_, Data>, tp: i32, tl: i32, dst: i32| -> HResult<i32> {
        let p = params(&c);
        // Text longer than any address is refused without being read, so a
        // call's cost is bounded whatever length it claims.
        let len = (tl.max(0) as u64).min(MAX_ADDRESS_TEXT as u64 + 1);
        charge(&mut c, p.gas_host_call + p.gas_address_text + p.gas_copy_byte * len)?;
        if tl < 0 || tl as usize > MAX_ADDRESS_TEXT {
            let why = format!("address text must be at most {MAX_ADDRESS_TEXT} bytes, got {tl}");
            set_register(&mut c, Some(why.into_bytes()));
            return Ok(1);
        }
        let text = read(&mut c, tp, tl)?;
        let parsed = std::str::from_utf8(&text).map_err(|_| "not UTF-8".to_owned()).and_then(Address::parse_text);
        if let Ok(a) = &parsed {
            write(&mut c, dst, &a.0)?;
        }
        status(&mut c, parsed.map(|_| ()))
    })?;
    l.func_wrap("agora", "addr_format", |mut c: Caller<'_, Data>, ap: i32| -> HResult<i64> {
        let p = params(&c);
        charge(&mut c, p.gas_host_call + p.gas_address_text)?;
        let a = read_address(&mut c, ap)?;
        Ok(set_register(&mut c, Some(a.to_string().into_bytes())))
    })?;
    Ok(())
}
