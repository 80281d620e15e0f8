//! [`Addr`]: a 20-byte account or contract address, bech32 `agora1…` as text.

use std::fmt;
use std::str::FromStr;

use bech32::primitives::decode::UncheckedHrpstring;
use bech32::{Bech32, Hrp};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::ContractError;

/// The bech32 human-readable prefix of every Agora address.
pub const ADDRESS_HRP: &str = "agora";

const HRP: Hrp = Hrp::parse_unchecked(ADDRESS_HRP);

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

    /// Parses the bech32 text form (`agora1…`; the all-uppercase form is accepted too).
    pub fn parse(s: &str) -> Result<Addr, ContractError> {
        let (hrp, data) = decode(s).map_err(|e| ContractError::new(format!("invalid address `{s}`: {e}")))?;
        if hrp != HRP {
            return Err(ContractError::new(format!(
                "invalid address `{s}`: prefix must be `{ADDRESS_HRP}`, got `{hrp}`"
            )));
        }
        <[u8; 20]>::try_from(data.as_slice())
            .map(Addr)
            .map_err(|_| ContractError::new(format!("invalid address `{s}`: expected 20 bytes, got {}", data.len())))
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

/// `bech32::decode` (the chain's parser: bech32 or bech32m checksum), with
/// the bech32 checksum — the one addresses use — checked first: in wasm the
/// checksum is the costly part (~12k instructions each), and
/// `bech32::decode` tries bech32m first. Same results; the fallback is
/// `bech32::decode` itself.
fn decode(s: &str) -> Result<(Hrp, Vec<u8>), bech32::DecodeError> {
    if let Ok(unchecked) = UncheckedHrpstring::new(s)
        && unchecked.has_valid_checksum::<Bech32>()
    {
        let checked = unchecked.remove_checksum::<Bech32>();
        return Ok((checked.hrp(), checked.byte_iter().collect()));
    }
    bech32::decode(s)
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
        // Cannot fail: the prefix is valid and 20 bytes are far below bech32's length limit.
        let s = bech32::encode::<Bech32>(HRP, &self.0).map_err(|_| fmt::Error)?;
        f.write_str(&s)
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

    use super::*;

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
    fn decode_matches_bech32_decode() {
        let mut inputs = Vec::new();
        for i in 0..50u8 {
            let bytes: Vec<u8> = (0..20).map(|j| i.wrapping_mul(37).wrapping_add(j * 11)).collect();
            let b = bech32::encode::<Bech32>(HRP, &bytes).unwrap();
            let m = bech32::encode::<bech32::Bech32m>(HRP, &bytes).unwrap();
            let mut flipped = b.clone().into_bytes();
            let k = 6 + usize::from(i) % 30;
            flipped[k] = if flipped[k] == b'q' { b'p' } else { b'q' };
            inputs.extend([b.clone(), b.to_uppercase(), m, String::from_utf8(flipped).unwrap()]);
            inputs.push(format!("{}{}", &b[..10], b[10..].to_uppercase()));
            inputs.push(bech32::encode::<Bech32>(HRP, &bytes[..usize::from(i) % 21]).unwrap());
        }
        inputs.extend(["".into(), "agora1".into(), "1qqqq".into(), "agora1qqqqqq".into(), "agora1bbbbbb".into()]);
        for s in &inputs {
            assert_eq!(decode(s).map_err(|e| e.to_string()), bech32::decode(s).map_err(|e| e.to_string()), "{s}");
        }
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
