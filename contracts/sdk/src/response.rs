//! What an entry point returns: [`Response`], raw bytes, `()` or [`Json`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ContractError;

/// The result of an `instantiate`/`execute` handler: optional result data
/// (returned to the caller: the transaction receipt, or the contract that made
/// the sub-call). Events are emitted directly with [`emit`](crate::emit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    data: Option<Vec<u8>>,
}

impl Response {
    /// A response without data.
    pub fn new() -> Response {
        Response::default()
    }

    /// Sets the result data to raw bytes.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Response {
        self.data = Some(data.into());
        self
    }

    /// Sets the result data to the JSON form of `value`.
    pub fn with_json<T: Serialize + ?Sized>(self, value: &T) -> Result<Response, ContractError> {
        Ok(self.with_data(to_json_vec(value)?))
    }

    /// The result data, if any.
    pub fn data(&self) -> Option<&[u8]> {
        self.data.as_deref()
    }
}

/// A value to serialise as JSON result data: `Ok(Json(CountResponse { count }))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// What a handler may return in `Ok`: turned into the entry point's result data.
pub trait IntoData {
    fn into_data(self) -> Result<Vec<u8>, ContractError>;
}

impl IntoData for Response {
    fn into_data(self) -> Result<Vec<u8>, ContractError> {
        Ok(self.data.unwrap_or_default())
    }
}

impl IntoData for Vec<u8> {
    fn into_data(self) -> Result<Vec<u8>, ContractError> {
        Ok(self)
    }
}

impl IntoData for () {
    fn into_data(self) -> Result<Vec<u8>, ContractError> {
        Ok(Vec::new())
    }
}

impl<T: Serialize> IntoData for Json<T> {
    fn into_data(self) -> Result<Vec<u8>, ContractError> {
        to_json_vec(&self.0)
    }
}

/// Serialises `value` to JSON bytes.
pub fn to_json_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ContractError> {
    serde_json::to_vec(value).map_err(|e| ContractError::new(format!("cannot serialise to JSON: {e}")))
}

/// Parses JSON bytes.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ContractError> {
    serde_json::from_slice(bytes).map_err(|e| ContractError::new(format!("invalid JSON: {e}")))
}
