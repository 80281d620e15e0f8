//! [`ContractError`] and the `ensure!`/`bail!` helpers.

use std::fmt;

/// The error of a contract entry point: a message. Returning `Err` from a
/// handler makes the generated entry point call `abort` with this message, so
/// the call fails and its state changes are reverted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ContractError(String);

impl ContractError {
    pub fn new(msg: impl Into<String>) -> ContractError {
        ContractError(msg.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }

    /// The message, by value.
    pub fn into_message(self) -> String {
        self.0
    }
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContractError({:?})", self.0)
    }
}

impl std::error::Error for ContractError {}

impl From<&str> for ContractError {
    fn from(msg: &str) -> ContractError {
        ContractError(msg.to_owned())
    }
}

impl From<String> for ContractError {
    fn from(msg: String) -> ContractError {
        ContractError(msg)
    }
}

impl From<serde_json::Error> for ContractError {
    fn from(e: serde_json::Error) -> ContractError {
        ContractError(format!("JSON error: {e}"))
    }
}

/// Returns `Err(ContractError)` from the enclosing function with a formatted
/// message.
///
/// ```
/// # use agora_sdk::{bail, ContractError};
/// fn f(x: u32) -> Result<(), ContractError> {
///     if x > 3 {
///         bail!("x is too large: {x}");
///     }
///     Ok(())
/// }
/// assert_eq!(f(4).unwrap_err().message(), "x is too large: 4");
/// ```
#[macro_export]
macro_rules! bail {
    ($($fmt:tt)+) => {
        return ::core::result::Result::Err($crate::ContractError::new(::std::format!($($fmt)+)))
    };
}

/// Returns `Err(ContractError)` with a formatted message unless the condition holds.
///
/// ```
/// # use agora_sdk::{ensure, ContractError};
/// fn f(x: u32) -> Result<(), ContractError> {
///     ensure!(x != 0, "x must not be zero");
///     Ok(())
/// }
/// assert!(f(0).is_err());
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            $crate::bail!($($fmt)+);
        }
    };
}
