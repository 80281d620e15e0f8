//! Support code for the `entry_points!` macro. Not a public API.

use serde::de::DeserializeOwned;

use crate::{ContractError, IntoData};

#[cfg(target_arch = "wasm32")]
pub use crate::ffi::{alloc, run_entry};

/// Parses the JSON message, runs the handler and serialises its result.
pub fn handle<M, R, F>(msg: &[u8], handler: F) -> Result<Vec<u8>, ContractError>
where
    M: DeserializeOwned,
    R: IntoData,
    F: FnOnce(M) -> Result<R, ContractError>,
{
    let msg: M = serde_json::from_slice(msg).map_err(|e| ContractError::new(format!("invalid message: {e}")))?;
    handler(msg)?.into_data()
}

/// [`handle`] for the native mock host: errors as text.
#[cfg(not(target_arch = "wasm32"))]
pub fn handle_native<M, R, F>(msg: &[u8], handler: F) -> Result<Vec<u8>, String>
where
    M: DeserializeOwned,
    R: IntoData,
    F: FnOnce(M) -> Result<R, ContractError>,
{
    handle(msg, handler).map_err(ContractError::into_message)
}
