//! Test contract for the VM's abuse and determinism tests. Not useful on a
//! real chain.
//!
//! Instantiate with `{}` (stores the creator under key `creator`).
//! Execute messages: see [`ExecuteMsg`]; queries: [`QueryMsg`]; migrate:
//! [`MigrateMsg`].

use std::hint::black_box;

use agora_sdk::{
    Addr, ContractError, Json, Response, abort, call, caller, contract_admin, emit, entry_points, self_address,
    storage, to_json_vec,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Never returns: burns gas until it runs out.
    Loop {},
    /// `memory.grow` by `pages`; aborts with `memory.grow failed` if refused.
    /// Stores the new size (decimal) under key `pages`; returns [`GrowResponse`].
    GrowMemory { pages: u32 },
    /// Real, non-tail recursion `depth` deep (64+ bytes of stack per level);
    /// returns [`RecurseResponse`].
    Recurse { depth: u32 },
    /// NaN-heavy f32/f64 arithmetic; returns and stores (key `floats`) the raw
    /// bits as hex, see [`FloatsResponse`].
    Floats { iterations: u32 },
    /// `call`s its own address with `{"noop":{}}`; aborts with
    /// `call_self failed: <error>` if that fails, else returns its data.
    CallSelf {},
    /// Calls `via` with `{"call_back":{"target":<own address>}}`; aborts with
    /// `reenter failed: <error>` if that fails, else returns its data.
    Reenter { via: Addr },
    /// Calls `target` with `{"noop":{}}`; aborts with `call_back failed:
    /// <error>` if that fails, else returns its data.
    CallBack { target: Addr },
    /// Does nothing, returns no data.
    Noop {},
    /// Writes `value` under the raw key `key` (UTF-8 bytes of both).
    Set { key: String, value: String },
    /// Emits `n` events `probe` with attribute `i` = 0..n.
    Emit { n: u32 },
    /// Writes key `fail_after_write`, emits an event, then aborts with
    /// `fail_after_write: aborting after a write`.
    FailAfterWrite {},
    /// Executes each `(contract, JSON message text)` in order as this
    /// contract, all in one transaction; aborts with `calls[i] failed: <error>`
    /// at the first failure (an attacker's "borrow, vote, repay" in one go).
    Calls { calls: Vec<(Addr, String)> },
    /// Migrate `contract` (this contract must be its admin) to `code_hash`
    /// (64 hex digits) with `msg`; aborts with the host's reason.
    Migrate { contract: Addr, code_hash: String, msg: String },
    /// Set or clear the admin of `contract`; aborts with the host's reason.
    UpdateAdmin { contract: Addr, admin: Option<Addr> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// `{"value": "<UTF-8 (lossy) value>" | null}` for the raw key `key`.
    Get { key: String },
    /// `{"value": "<admin address>" | null}` of `contract`.
    Admin { contract: Addr },
    /// Never returns (query gas limits).
    Loop {},
}

/// `migrate`: stores `note` (default `migrated`) under key `migrated`;
/// fails if `fail`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {
    #[serde(default)]
    pub fail: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowResponse {
    pub previous_pages: u64,
    pub pages: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurseResponse {
    pub depth: u32,
    pub result: u64,
}

/// Raw bits (lowercase hex, f32 as 8 digits, f64 as 16) of float results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloatsResponse {
    /// `0.0 / 0.0`.
    pub nan_f32: String,
    /// `sqrt(-1.0)`.
    pub sqrt_neg_f32: String,
    pub nan_f64: String,
    pub sqrt_neg_f64: String,
    /// The loop's running values after the last iteration.
    pub a_f32: String,
    pub b_f32: String,
    pub a_f64: String,
    pub b_f64: String,
    /// A hash of the bits of every intermediate value of every iteration.
    pub checksum: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetResponse {
    pub value: Option<String>,
}

pub fn instantiate(_msg: InstantiateMsg) -> Result<Response, ContractError> {
    storage::set(b"creator", caller().to_string().as_bytes());
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Loop {} => spin(),
        ExecuteMsg::GrowMemory { pages } => {
            let previous = memory_grow(pages as usize);
            if previous == usize::MAX {
                abort("memory.grow failed");
            }
            let now = previous as u64 + u64::from(pages);
            storage::set(b"pages", now.to_string().as_bytes());
            Response::new().with_json(&GrowResponse { previous_pages: previous as u64, pages: now })
        }
        ExecuteMsg::Recurse { depth } => {
            let result = recurse(black_box(depth));
            Response::new().with_json(&RecurseResponse { depth, result })
        }
        ExecuteMsg::Floats { iterations } => {
            let data = to_json_vec(&floats(iterations))?;
            storage::set(b"floats", &data);
            Ok(Response::new().with_data(data))
        }
        ExecuteMsg::CallSelf {} => match call(&self_address(), br#"{"noop":{}}"#, 0, 0) {
            Ok(data) => Ok(Response::new().with_data(data)),
            Err(e) => abort(&format!("call_self failed: {e}")),
        },
        ExecuteMsg::Reenter { via } => {
            let msg = to_json_vec(&ExecuteMsg::CallBack { target: self_address() })?;
            match call(&via, &msg, 0, 0) {
                Ok(data) => Ok(Response::new().with_data(data)),
                Err(e) => abort(&format!("reenter failed: {e}")),
            }
        }
        ExecuteMsg::CallBack { target } => match call(&target, br#"{"noop":{}}"#, 0, 0) {
            Ok(data) => Ok(Response::new().with_data(data)),
            Err(e) => abort(&format!("call_back failed: {e}")),
        },
        ExecuteMsg::Noop {} => Ok(Response::new()),
        ExecuteMsg::Calls { calls } => {
            for (i, (contract, msg)) in calls.iter().enumerate() {
                if let Err(e) = call(contract, msg.as_bytes(), 0, 0) {
                    abort(&format!("calls[{i}] failed: {e}"));
                }
            }
            Ok(Response::new())
        }
        ExecuteMsg::Migrate { contract, code_hash, msg } => {
            let hash = parse_hash(&code_hash)?;
            match agora_sdk::migrate(&contract, &hash, msg.as_bytes(), 0) {
                Ok(data) => Ok(Response::new().with_data(data)),
                Err(e) => abort(&format!("migrate failed: {e}")),
            }
        }
        ExecuteMsg::UpdateAdmin { contract, admin } => match agora_sdk::update_admin(&contract, admin.as_ref()) {
            Ok(()) => Ok(Response::new()),
            Err(e) => abort(&format!("update_admin failed: {e}")),
        },
        ExecuteMsg::Set { key, value } => {
            storage::set(key.as_bytes(), value.as_bytes());
            Ok(Response::new())
        }
        ExecuteMsg::Emit { n } => {
            for i in 0..n {
                emit("probe", &[("i", &i.to_string())]);
            }
            Ok(Response::new())
        }
        ExecuteMsg::FailAfterWrite {} => {
            storage::set(b"fail_after_write", b"written");
            emit("probe", &[("step", "before_abort")]);
            abort("fail_after_write: aborting after a write")
        }
    }
}

pub fn query(msg: QueryMsg) -> Result<Json<GetResponse>, ContractError> {
    match msg {
        QueryMsg::Get { key } => {
            let value = storage::get(key.as_bytes()).map(|v| String::from_utf8_lossy(&v).into_owned());
            Ok(Json(GetResponse { value }))
        }
        QueryMsg::Admin { contract } => {
            Ok(Json(GetResponse { value: contract_admin(&contract).map(|a| a.to_string()) }))
        }
        QueryMsg::Loop {} => spin(),
    }
}

pub fn migrate(msg: MigrateMsg) -> Result<Response, ContractError> {
    if msg.fail {
        return Err(ContractError::new("migration refused"));
    }
    storage::set(b"migrated", msg.note.as_deref().unwrap_or("migrated").as_bytes());
    Ok(Response::new().with_data(b"migrated".to_vec()))
}

entry_points!(instantiate, execute, query, migrate);

fn parse_hash(hex: &str) -> Result<[u8; 32], ContractError> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err(ContractError::new("code_hash must be 64 hex digits"));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(ContractError::new("code_hash must be 64 hex digits")),
    };
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Ok(out)
}

/// An infinite loop that the optimiser cannot remove or shorten.
fn spin() -> ! {
    let mut i = 0u64;
    loop {
        i = black_box(i.wrapping_add(1));
    }
}

#[cfg(target_arch = "wasm32")]
fn memory_grow(pages: usize) -> usize {
    core::arch::wasm32::memory_grow::<0>(pages)
}

/// Native stand-in for unit tests: a memory of 17 pages growing up to 256.
#[cfg(not(target_arch = "wasm32"))]
fn memory_grow(pages: usize) -> usize {
    use std::cell::Cell;
    thread_local!(static PAGES: Cell<usize> = const { Cell::new(17) });
    PAGES.with(|p| {
        let old = p.get();
        match old.checked_add(pages) {
            Some(new) if new <= 256 => {
                p.set(new);
                old
            }
            _ => usize::MAX,
        }
    })
}

/// Non-tail recursion: each level keeps a 64-byte array on the stack (its
/// address escapes through `black_box`) and uses it after the recursive call.
#[inline(never)]
fn recurse(depth: u32) -> u64 {
    let frame = [depth; 16];
    let frame = black_box(&frame);
    if depth == 0 {
        return 1;
    }
    let below = recurse(black_box(depth - 1));
    below.wrapping_mul(31).wrapping_add(u64::from(frame[15]))
}

fn mix(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(29)
}

// `0/0`, `inf - inf`: producing NaNs is the point.
#[allow(clippy::eq_op)]
fn floats(iterations: u32) -> FloatsResponse {
    let zero32: f32 = black_box(0.0);
    let zero64: f64 = black_box(0.0);
    let one32: f32 = black_box(1.0);
    let one64: f64 = black_box(1.0);
    let nan32 = zero32 / zero32;
    let sqrt_neg32 = (-one32).sqrt();
    let nan64 = zero64 / zero64;
    let sqrt_neg64 = (-one64).sqrt();
    let inf32 = one32 / zero32;
    let inf64 = one64 / zero64;

    let (mut a32, mut b32, mut a64, mut b64) = (nan32, sqrt_neg32, nan64, sqrt_neg64);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for i in 0..iterations {
        let x32 = black_box(i as f32);
        let x64 = black_box(f64::from(i));
        // NaN arithmetic mixing NaNs of different origins.
        a32 = a32 * x32 + b32;
        b32 = (b32 - inf32) / (x32 + one32);
        let c32 = inf32 - inf32; // inf - inf
        let m32 = a32.min(x32).max(c32); // min/max with NaN operands
        let n32 = c32.max(b32).min(nan32); // both NaN
        // Conversions: promote, demote, float -> int (saturating), int -> float.
        a64 = a64 * x64 - b64 + f64::from(a32);
        b64 = (b64 * inf64).sqrt() + f64::from(m32);
        let d32 = a64 as f32;
        let e64 = inf64 * zero64 + a64; // inf * 0
        let f64v = (x64 / zero64 - inf64) * f64::from(n32);
        let sat = (a64 as i64)
            ^ (i64::from(inf32 as i32) << 1)
            ^ (((x64 + one64) / zero64) as u64 as i64)
            ^ i64::from(nan32 as u8);
        let back = (sat as f64) / (f64::from(i) - x64); // x / 0 or NaN
        // Sign operations on NaNs.
        let neg = -a32;
        let abs = b64.abs();
        let cs = x64.copysign(a64);
        for bits in [
            u64::from(a32.to_bits()),
            u64::from(b32.to_bits()),
            u64::from(c32.to_bits()),
            u64::from(m32.to_bits()),
            u64::from(n32.to_bits()),
            u64::from(d32.to_bits()),
            a64.to_bits(),
            b64.to_bits(),
            e64.to_bits(),
            f64v.to_bits(),
            sat as u64,
            back.to_bits(),
            u64::from(neg.to_bits()),
            abs.to_bits(),
            cs.to_bits(),
        ] {
            h = mix(h, bits);
        }
    }
    FloatsResponse {
        nan_f32: format!("{:08x}", nan32.to_bits()),
        sqrt_neg_f32: format!("{:08x}", sqrt_neg32.to_bits()),
        nan_f64: format!("{:016x}", nan64.to_bits()),
        sqrt_neg_f64: format!("{:016x}", sqrt_neg64.to_bits()),
        a_f32: format!("{:08x}", a32.to_bits()),
        b_f32: format!("{:08x}", b32.to_bits()),
        a_f64: format!("{:016x}", a64.to_bits()),
        b_f64: format!("{:016x}", b64.to_bits()),
        checksum: format!("{h:016x}"),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agora_sdk::testing::{MockHost, mock_addr};
    use serde_json::json;

    fn setup() -> (MockHost, Addr) {
        let host = MockHost::new();
        let me = mock_addr("probe");
        host.instantiate(mock_contract(), me, mock_addr("creator"), 0, b"{}").unwrap();
        (host, me)
    }

    fn get(host: &MockHost, me: Addr, key: &str) -> Option<String> {
        host.query_json::<_, GetResponse>(me, &json!({"get": {"key": key}})).unwrap().value
    }

    #[test]
    fn an_admin_probe_migrates_another_through_the_sdk() {
        let (host, me) = setup();
        let other = mock_addr("other");
        host.instantiate(mock_contract(), other, mock_addr("creator"), 0, b"{}").unwrap();
        host.store_code([7; 32], mock_contract());
        let hash = "07".repeat(32);
        let admin_of = |c: Addr| host.query_json::<_, GetResponse>(me, &json!({"admin": {"contract": c}})).unwrap();
        assert_eq!(admin_of(other).value, None);
        let migrate = |msg: &str| json!({"migrate": {"contract": other, "code_hash": hash, "msg": msg}});
        let err = host.execute_json(me, mock_addr("u"), 0, &migrate("{}")).unwrap_err();
        assert!(err.contains("has no admin"), "{err}");
        host.set_contract_admin(other, Some(me));
        assert_eq!(admin_of(other).value, Some(me.to_string()));
        let err = host.execute_json(me, mock_addr("u"), 0, &migrate(r#"{"fail":true}"#)).unwrap_err();
        assert!(err.contains("migration refused"), "{err}");
        assert_eq!(get(&host, other, "migrated"), None);
        host.execute_json(me, mock_addr("u"), 0, &migrate(r#"{"note":"v2"}"#)).unwrap();
        assert_eq!(get(&host, other, "migrated"), Some("v2".into()));
        assert_eq!(get(&host, other, "creator"), Some(mock_addr("creator").to_string()), "state kept");
        host.execute_json(me, mock_addr("u"), 0, &json!({"update_admin": {"contract": other, "admin": null}})).unwrap();
        assert_eq!(host.contract_admin(other), None);
    }

    #[test]
    fn set_get_noop_emit() {
        let (host, me) = setup();
        assert_eq!(get(&host, me, "creator"), Some(mock_addr("creator").to_string()));
        assert_eq!(host.execute(me, mock_addr("u"), 0, br#"{"noop":{}}"#), Ok(vec![]));
        host.execute_json(me, mock_addr("u"), 0, &json!({"set": {"key": "k", "value": "v"}})).unwrap();
        assert_eq!(get(&host, me, "k"), Some("v".into()));
        assert_eq!(get(&host, me, "missing"), None);
        host.execute_json(me, mock_addr("u"), 0, &json!({"emit": {"n": 3}})).unwrap();
        let ev = host.events();
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[2].attr("i"), Some("2"));
        // Keys the host refuses trap.
        let err = host.execute_json(me, mock_addr("u"), 0, &json!({"set": {"key": "", "value": "v"}})).unwrap_err();
        assert!(err.contains("storage keys are 1..=256 bytes"), "{err}");
        // Many events in one call: only gas limits them.
        host.execute_json(me, mock_addr("u"), 0, &json!({"emit": {"n": 100}})).unwrap();
    }

    #[test]
    fn fail_after_write_reverts() {
        let (host, me) = setup();
        let n_events = host.events().len();
        let err = host.execute(me, mock_addr("u"), 0, br#"{"fail_after_write":{}}"#).unwrap_err();
        assert_eq!(err, "fail_after_write: aborting after a write");
        assert_eq!(get(&host, me, "fail_after_write"), None);
        assert_eq!(host.events().len(), n_events);
    }

    #[test]
    fn reentrancy_is_refused() {
        let (host, me) = setup();
        let other = mock_addr("probe2");
        host.instantiate(mock_contract(), other, mock_addr("creator"), 0, b"{}").unwrap();

        let err = host.execute(me, mock_addr("u"), 0, br#"{"call_self":{}}"#).unwrap_err();
        assert_eq!(err, format!("call_self failed: reentrant call to {me} refused"));

        let err = host.execute_json(me, mock_addr("u"), 0, &json!({"reenter": {"via": other}})).unwrap_err();
        assert_eq!(err, format!("reenter failed: call_back failed: reentrant call to {me} refused"));

        // A call back to a contract not on the stack is fine.
        let third = mock_addr("probe3");
        host.instantiate(mock_contract(), third, mock_addr("creator"), 0, b"{}").unwrap();
        assert_eq!(host.execute_json(me, mock_addr("u"), 0, &json!({"call_back": {"target": third}})), Ok(vec![]));
        let err = host.execute_json(me, mock_addr("u"), 0, &json!({"call_back": {"target": mock_addr("none")}}));
        assert!(err.unwrap_err().starts_with("call_back failed: no contract at"));
    }

    #[test]
    fn recursion_and_memory() {
        let (host, me) = setup();
        let out = host.execute_json(me, mock_addr("u"), 0, &json!({"recurse": {"depth": 200}})).unwrap();
        let r: RecurseResponse = serde_json::from_slice(&out).unwrap();
        assert_eq!(r.depth, 200);
        assert_eq!(r.result, recurse(200));
        assert_ne!(recurse(3), recurse(4));

        let out = host.execute_json(me, mock_addr("u"), 0, &json!({"grow_memory": {"pages": 3}})).unwrap();
        let g: GrowResponse = serde_json::from_slice(&out).unwrap();
        assert_eq!(g.pages, g.previous_pages + 3);
        assert_eq!(get(&host, me, "pages"), Some(g.pages.to_string()));
        let err = host.execute_json(me, mock_addr("u"), 0, &json!({"grow_memory": {"pages": 1000}})).unwrap_err();
        assert_eq!(err, "memory.grow failed");
    }

    #[test]
    fn floats_are_reported_bit_exactly() {
        let (host, me) = setup();
        let out = host.execute_json(me, mock_addr("u"), 0, &json!({"floats": {"iterations": 100}})).unwrap();
        let f: FloatsResponse = serde_json::from_slice(&out).unwrap();
        // Native x86/ARM NaN bits vary by platform; only check they are NaNs in hex form.
        for hex in [&f.nan_f32, &f.sqrt_neg_f32, &f.a_f32, &f.b_f32] {
            let bits = u32::from_str_radix(hex, 16).unwrap();
            assert!(f32::from_bits(bits).is_nan(), "{hex}");
            assert_eq!(hex.len(), 8);
        }
        for hex in [&f.nan_f64, &f.sqrt_neg_f64, &f.a_f64] {
            assert!(f64::from_bits(u64::from_str_radix(hex, 16).unwrap()).is_nan(), "{hex}");
        }
        assert_eq!(get(&host, me, "floats").unwrap().as_bytes(), &out[..]);
        // Deterministic on one machine.
        assert_eq!(floats(100), floats(100));
        assert_ne!(floats(1).checksum, floats(2).checksum);
    }

    #[test]
    fn unknown_message() {
        let (host, me) = setup();
        let err = host.execute(me, mock_addr("u"), 0, br#"{"explode":{}}"#).unwrap_err();
        assert!(err.starts_with("invalid message: unknown variant `explode`, expected one of `loop`"), "{err}");
    }
}
