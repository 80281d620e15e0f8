//! # agora-sdk: write Agora WebAssembly contracts in Rust
//!
//! A contract is a `cdylib` built for `wasm32-unknown-unknown` (with the
//! workspace's `wasm` profile). It defines three handlers taking a typed,
//! JSON-deserialised message and registers them with [`entry_points!`], which
//! generates the exports of ABI version 1 (`vm/ABI.md`): `interface_version_1`,
//! `agora_alloc`, `instantiate`, `execute`, `query` and, optionally,
//! `migrate`.
//!
//! ```
//! use agora_sdk::{caller, emit, entry_points, ContractError, Item, Json, Response};
//! use serde::{Deserialize, Serialize};
//!
//! const COUNT: Item<i64> = Item::new("count");
//!
//! #[derive(Deserialize)]
//! pub struct InstantiateMsg { pub count: i64 }
//! #[derive(Deserialize)]
//! #[serde(rename_all = "snake_case")]
//! pub enum ExecuteMsg { Increment {} }
//! #[derive(Deserialize)]
//! #[serde(rename_all = "snake_case")]
//! pub enum QueryMsg { GetCount {} }
//! #[derive(Serialize)]
//! pub struct CountResponse { pub count: i64 }
//!
//! pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
//!     COUNT.save(&msg.count)?;
//!     Ok(Response::new())
//! }
//! pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
//!     match msg {
//!         ExecuteMsg::Increment {} => {
//!             let n = COUNT.load()?.checked_add(1).ok_or("overflow")?;
//!             COUNT.save(&n)?;
//!             emit("counter", &[("count", &n.to_string()), ("by", &caller().to_string())]);
//!             Ok(Response::new())
//!         }
//!     }
//! }
//! pub fn query(msg: QueryMsg) -> Result<Json<CountResponse>, ContractError> {
//!     match msg {
//!         QueryMsg::GetCount {} => Ok(Json(CountResponse { count: COUNT.load()? })),
//!     }
//! }
//! entry_points!(instantiate, execute, query);
//!
//! // Natively, the same code runs against a mock host:
//! let host = agora_sdk::testing::MockHost::new();
//! let me = agora_sdk::testing::mock_addr("counter");
//! let alice = agora_sdk::testing::mock_addr("alice");
//! host.instantiate(mock_contract(), me, alice, 0, br#"{"count":1}"#).unwrap();
//! host.execute(me, alice, 0, br#"{"increment":{}}"#).unwrap();
//! assert_eq!(host.query(me, br#"{"get_count":{}}"#).unwrap(), br#"{"count":2}"#);
//! ```
//!
//! On wasm32 every host function is one import of module `agora`. On other
//! targets they work on a thread-local mock chain ([`testing`]), so contracts
//! are unit-tested with plain `cargo test`.
//!
//! Panics: a panic inside an entry point ends the call with
//! `abort("panic: <message> at <file>:<line>")`. Build contracts with
//! `panic = "abort"` (the `wasm` profile does).
//!
//! Memory: link with `--max-memory=16777216` (see the example contracts'
//! `build.rs`) so the module declares the chain's 256-page maximum.

mod addr;
mod api;
mod error;
mod response;
pub mod storage;
mod uint;

#[cfg(target_arch = "wasm32")]
mod ffi;
#[cfg(target_arch = "wasm32")]
use ffi as host;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
#[cfg(not(target_arch = "wasm32"))]
use testing::host;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use addr::{ADDRESS_HRP, Addr};
pub use api::{
    abort, balance, block_height, block_time_ms, bonded_stake_at, burn, call, call_json, caller, chain_id,
    contract_address, contract_admin, contract_code_hash, ed25519_verify, emit, funds, instantiate, instantiate_json,
    instantiate_with_admin, migrate, origin, query_contract, query_json, self_address, sha256, total_bonded_at,
    transfer, update_admin, update_chain_params,
};
pub use error::ContractError;
pub use response::{IntoData, Json, Response, from_json, to_json_vec};
pub use storage::{Item, Map, MapKey};
pub use uint::Uint128;

/// Generates the contract's wasm exports (on wasm32 only) and, on other
/// targets, a `pub fn mock_contract() -> agora_sdk::testing::MockContract`
/// for the mock host.
///
/// ```ignore
/// entry_points!(instantiate, execute, query);
/// // with a `migrate` entry point (run when the contract's admin migrates it
/// // to this code; see `agora_sdk::migrate`):
/// entry_points!(instantiate, execute, query, migrate);
/// // or name them, leaving out any the contract does not have:
/// entry_points!(instantiate: init, execute: exec, migrate: upgrade);
/// ```
///
/// Each handler is `fn(Msg) -> Result<R, ContractError>` where `Msg:
/// DeserializeOwned` and `R` is [`Response`], `Vec<u8>`, `()` or [`Json<T>`].
/// The generated export parses the message as JSON (a parse error aborts with
/// `invalid message: …`), runs the handler, returns the result data as the
/// packed `(ptr << 32) | len`, and on `Err(e)` calls `abort(e)`.
///
/// The exports carry `#[allow(unsafe_code)]` (`#[unsafe(no_mangle)]` is an
/// unsafe attribute), so the contract crate can `deny(unsafe_code)` but not
/// `forbid` it.
#[macro_export]
macro_rules! entry_points {
    ($($entry:ident : $handler:path),+ $(,)?) => {
        $crate::__agora_common_exports!();
        $( $crate::__agora_entry_export!($entry, $handler); )+

        /// The contract's entry points, for the native mock host
        /// (`agora_sdk::testing::MockHost`). Generated by `entry_points!`.
        #[cfg(not(target_arch = "wasm32"))]
        pub fn mock_contract() -> $crate::testing::MockContract {
            $crate::testing::MockContract::new()
                $( .$entry(|msg: &[u8]| $crate::__private::handle_native(msg, $handler)) )+
        }
    };
    ($instantiate:path, $execute:path, $query:path $(,)?) => {
        $crate::entry_points!(instantiate: $instantiate, execute: $execute, query: $query);
    };
    ($instantiate:path, $execute:path, $query:path, $migrate:path $(,)?) => {
        $crate::entry_points!(instantiate: $instantiate, execute: $execute, query: $query, migrate: $migrate);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __agora_common_exports {
    () => {
        /// ABI version marker (never called).
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn interface_version_1() {}

        /// Reserves `len` bytes for the chain to write the message into.
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn agora_alloc(len: i32) -> i32 {
            $crate::__private::alloc(len)
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __agora_entry_export {
    (instantiate, $handler:path) => {
        $crate::__agora_entry_export!(@export "instantiate", __agora_export_instantiate, $handler);
    };
    (execute, $handler:path) => {
        $crate::__agora_entry_export!(@export "execute", __agora_export_execute, $handler);
    };
    (query, $handler:path) => {
        $crate::__agora_entry_export!(@export "query", __agora_export_query, $handler);
    };
    (migrate, $handler:path) => {
        $crate::__agora_entry_export!(@export "migrate", __agora_export_migrate, $handler);
    };
    (@export $name:literal, $export:ident, $handler:path) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        #[unsafe(export_name = $name)]
        pub extern "C" fn $export(msg_ptr: i32, msg_len: i32) -> i64 {
            $crate::__private::run_entry(msg_ptr, msg_len, $handler)
        }
    };
    ($other:ident, $handler:path) => {
        ::core::compile_error!(::core::concat!(
            "unknown entry point `",
            ::core::stringify!($other),
            "`: expected `instantiate`, `execute`, `query` or `migrate`"
        ));
    };
}
