//! [`Uint128`]: a `u128` amount that travels through JSON as a decimal string.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::ContractError;

/// A `u128` amount whose JSON form is a decimal string (`"1000"`), like the
/// chain's native `Amount`: JSON numbers above 2^53 are not safe in most
/// clients. Parsing also accepts a JSON integer up to `u64::MAX`.
///
/// Arithmetic is explicit and checked (`checked_add`…); there are no operator
/// impls that could overflow silently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uint128(pub u128);

impl Uint128 {
    pub const ZERO: Uint128 = Uint128(0);
    pub const MAX: Uint128 = Uint128(u128::MAX);

    pub const fn new(v: u128) -> Uint128 {
        Uint128(v)
    }
    pub const fn u128(self) -> u128 {
        self.0
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub fn checked_add(self, o: impl Into<Uint128>) -> Option<Uint128> {
        self.0.checked_add(o.into().0).map(Uint128)
    }
    pub fn checked_sub(self, o: impl Into<Uint128>) -> Option<Uint128> {
        self.0.checked_sub(o.into().0).map(Uint128)
    }
    pub fn checked_mul(self, o: impl Into<Uint128>) -> Option<Uint128> {
        self.0.checked_mul(o.into().0).map(Uint128)
    }
}

impl From<u128> for Uint128 {
    fn from(v: u128) -> Uint128 {
        Uint128(v)
    }
}

impl From<u64> for Uint128 {
    fn from(v: u64) -> Uint128 {
        Uint128(u128::from(v))
    }
}

impl From<Uint128> for u128 {
    fn from(v: Uint128) -> u128 {
        v.0
    }
}

impl fmt::Display for Uint128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Uint128 {
    type Err = ContractError;
    fn from_str(s: &str) -> Result<Uint128, ContractError> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ContractError::new(format!("`{s}` is not a whole non-negative number")));
        }
        t.parse::<u128>()
            .map(Uint128)
            .map_err(|_| ContractError::new(format!("`{s}` is larger than the maximum amount {}", u128::MAX)))
    }
}

impl Serialize for Uint128 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uint128 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Uint128, D::Error> {
        struct UintVisitor;
        impl Visitor<'_> for UintVisitor {
            type Value = Uint128;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a decimal string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Uint128, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Uint128, E> {
                Ok(Uint128(u128::from(v)))
            }
        }
        d.deserialize_any(UintVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn json_forms() {
        assert_eq!(serde_json::to_string(&Uint128(u128::MAX)).expect("ser"), format!("\"{}\"", u128::MAX));
        assert_eq!(serde_json::from_str::<Uint128>("\"42\"").expect("de"), Uint128(42));
        assert_eq!(serde_json::from_str::<Uint128>("42").expect("de"), Uint128(42));
        for bad in ["\"-1\"", "-1", "1.5", "\"\"", "\"1e3\"", "\"340282366920938463463374607431768211456\"", "null"] {
            assert!(serde_json::from_str::<Uint128>(bad).is_err(), "{bad}");
        }
        assert_eq!(Uint128(5).checked_sub(6u128), None);
        assert_eq!(Uint128::MAX.checked_add(1u128), None);
    }
}
