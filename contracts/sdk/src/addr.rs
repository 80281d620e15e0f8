//! [`Addr`]: a 20-byte account or contract address, bech32 `agora1…` as text.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::ContractError;

/// The bech32 human-readable prefix of every Agora address.
pub const ADDRESS_HRP: &str = "agora";

/// Longest text `Addr::parse` reads (BIP-173's limit for a bech32 string;
/// an address is 44 characters). The chain's `addr_parse` has the same limit.
pub const MAX_ADDRESS_TEXT: usize = 90;

/// The text form in a contract: host calls (`vm/ABI.md`).
#[cfg(target_arch = "wasm32")]
mod text {
    use super::Addr;

    pub(super) fn parse(s: &str) -> Result<Addr, String> {
        crate::ffi::addr_parse(s)
    }

    pub(super) fn format(a: &Addr) -> String {
        crate::ffi::addr_format(a)
    }
}

/// The text form natively (unit tests against the mock host): the chain's
/// rules (`ledger::Address::parse_text`: bech32 or bech32m checksum, prefix
/// `agora`, 20 bytes), with the same reasons word for word.
#[cfg(not(target_arch = "wasm32"))]
mod text {
    use bech32::{Bech32, Hrp};

    use super::{ADDRESS_HRP, Addr, MAX_ADDRESS_TEXT};

    const HRP: Hrp = Hrp::parse_unchecked(ADDRESS_HRP);

    pub(super) fn parse(s: &str) -> Result<Addr, String> {
        if s.len() > MAX_ADDRESS_TEXT {
            return Err(format!("address text must be at most {MAX_ADDRESS_TEXT} bytes, got {}", s.len()));
        }
        // The chain's fixed reason (`ledger::types::ADDRESS_NOT_BECH32`).
        let (hrp, data) = bech32::decode(s).map_err(|_| "not a bech32 string with a valid checksum".to_owned())?;
        if hrp != HRP {
            return Err(format!("prefix must be `{ADDRESS_HRP}`, got `{hrp}`"));
        }
        <[u8; 20]>::try_from(data.as_slice()).map(Addr).map_err(|_| format!("expected 20 bytes, got {}", data.len()))
    }

    pub(super) fn format(a: &Addr) -> String {
        // Cannot fail: the prefix is valid and 20 bytes are far below bech32's length limit.
        bech32::encode::<Bech32>(HRP, &a.0).unwrap_or_default()
    }
}

/// An address: 20 raw bytes (what the host functions exchange), shown and
/// serialised as bech32 with prefix `agora` — exactly like the chain's
/// `ledger::Address`.
///
/// Ordering is the byte order, so a [`Map`](crate::Map) keyed by `Addr`
/// iterates in the order of the raw bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Addr([u8; 20]);

impl Addr {
    /// Length of an address in bytes.
    pub const LEN: usize = 20;

    /// The all-zero address (the `origin` of a query with no signer).
    pub const ZERO: Addr = Addr([0; 20]);

    /// An address from its 20 raw bytes.
    pub const fn new(bytes: [u8; 20]) -> Addr {
        Addr(bytes)
    }

    /// An address from a slice, which must be exactly 20 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Addr, ContractError> {
        <[u8; 20]>::try_from(bytes)
            .map(Addr)
            .map_err(|_| ContractError::new(format!("an address is 20 bytes, got {}", bytes.len())))
    }

    /// Parses the bech32 text form (`agora1…`; the all-uppercase form is
    /// accepted too). In a contract the host does it (`addr_parse`, one host
    /// call) with the chain's own parser; the native mock uses the same rules.
    pub fn parse(s: &str) -> Result<Addr, ContractError> {
        text::parse(s).map_err(|e| ContractError::new(format!("invalid address `{s}`: {e}")))
    }

    /// The 20 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The 20 raw bytes, by value.
    pub const fn to_bytes(self) -> [u8; 20] {
        self.0
    }
}

impl From<[u8; 20]> for Addr {
    fn from(bytes: [u8; 20]) -> Addr {
        Addr(bytes)
    }
}

impl From<Addr> for [u8; 20] {
    fn from(a: Addr) -> [u8; 20] {
        a.0
    }
}

impl AsRef<[u8]> for Addr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::format(self))
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({self})")
    }
}

impl FromStr for Addr {
    type Err = ContractError;
    fn from_str(s: &str) -> Result<Addr, ContractError> {
        Addr::parse(s)
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Addr, D::Error> {
        struct AddrVisitor;
        impl Visitor<'_> for AddrVisitor {
            type Value = Addr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bech32 address `agora1…`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Addr, E> {
                Addr::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(AddrVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bech32::{Bech32, Hrp};

    use super::*;

    const HRP: Hrp = Hrp::parse_unchecked(ADDRESS_HRP);

    #[test]
    fn bech32_round_trip_and_json() {
        let a = Addr::new([7; 20]);
        let s = a.to_string();
        assert!(s.starts_with("agora1"), "{s}");
        assert_eq!(Addr::parse(&s), Ok(a));
        assert_eq!(Addr::parse(&s.to_uppercase()), Ok(a));
        let json = serde_json::to_string(&a).expect("serialise");
        assert_eq!(json, format!("\"{s}\""));
        assert_eq!(serde_json::from_str::<Addr>(&json).expect("parse"), a);
    }

    #[test]
    fn too_long_text_is_refused_before_decoding() {
        let long = format!("agora1{}", "q".repeat(MAX_ADDRESS_TEXT));
        assert!(Addr::parse(&long).unwrap_err().to_string().contains("must be at most 90 bytes, got 96"));
    }

    #[test]
    fn rejects_bad_addresses() {
        let other = bech32::encode::<Bech32>(Hrp::parse_unchecked("cosmos"), &[1; 20]).expect("encode");
        assert!(Addr::parse(&other).unwrap_err().to_string().contains("prefix must be `agora`"));
        let short = bech32::encode::<Bech32>(HRP, &[1; 19]).expect("encode");
        assert!(Addr::parse(&short).unwrap_err().to_string().contains("expected 20 bytes, got 19"));
        assert!(Addr::parse("agora1xyz").is_err());
        assert!(serde_json::from_str::<Addr>("12").is_err());
        assert!(Addr::from_slice(&[0; 3]).is_err());
    }
}
