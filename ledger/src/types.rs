//! Newtypes for the values the chain counts and names: heights, amounts, hashes, addresses.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::ParseError;

/// A block height. Height 0 is the genesis state; the first block is height 1.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    pub const GENESIS: Height = Height(0);

    /// The next height. A u64 height cannot overflow in practice; if it ever did
    /// that is a broken invariant, not an input error.
    #[must_use]
    pub fn next(self) -> Height {
        Height(self.0.checked_add(1).expect("height overflow"))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An amount of the native token, in its smallest unit. All arithmetic is checked.
///
/// JSON form: a decimal string (u128 does not fit a JSON number safely).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Amount(u128);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub const fn new(v: u128) -> Self {
        Amount(v)
    }
    pub const fn get(self) -> u128 {
        self.0
    }
    pub fn checked_add(self, o: Amount) -> Option<Amount> {
        self.0.checked_add(o.0).map(Amount)
    }
    pub fn checked_sub(self, o: Amount) -> Option<Amount> {
        self.0.checked_sub(o.0).map(Amount)
    }
    pub fn checked_mul(self, k: u128) -> Option<Amount> {
        self.0.checked_mul(k).map(Amount)
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Amount {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::Amount(format!("`{s}` is not a whole non-negative number")));
        }
        t.parse::<u128>()
            .map(Amount)
            .map_err(|_| ParseError::Amount(format!("`{s}` is larger than the maximum amount {}", u128::MAX)))
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            S(String),
            N(u64),
        }
        match Repr::deserialize(d)? {
            Repr::S(s) => s.parse().map_err(serde::de::Error::custom),
            Repr::N(n) => Ok(Amount(u128::from(n))),
        }
    }
}

/// A SHA-256 digest. JSON form: lowercase hex.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const ZERO: Hash = Hash([0; 32]);

    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    /// Hash of several parts, without concatenating them first.
    pub fn digest_parts(parts: &[&[u8]]) -> Hash {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        Hash(h.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", hex::encode(self.0))
    }
}

impl FromStr for Hash {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex_array::<32>(s).map(Hash)
    }
}

pub(crate) fn parse_hex_array<const N: usize>(s: &str) -> Result<[u8; N], ParseError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let v = hex::decode(s).map_err(|e| ParseError::Hex(format!("`{s}`: {e}")))?;
    <[u8; N]>::try_from(v.as_slice())
        .map_err(|_| ParseError::Hex(format!("expected {N} bytes ({} hex digits), got {}", 2 * N, v.len())))
}

macro_rules! serde_via_str {
    ($t:ty) => {
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_str;

serde_via_str!(Hash);

/// The bech32 human-readable prefix of account addresses.
pub const ADDRESS_HRP: &str = "agora";

/// An account address: the first 20 bytes of SHA-256 of the ed25519 public key.
/// Text form: bech32 with prefix `agora` (e.g. `agora1…`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub fn from_public_key(pk: &crate::crypto::PublicKey) -> Address {
        let d = Sha256::digest(pk.0);
        let mut a = [0u8; 20];
        a.copy_from_slice(&d[..20]);
        Address(a)
    }
}

fn hrp() -> bech32::Hrp {
    bech32::Hrp::parse(ADDRESS_HRP).expect("static hrp is valid")
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = bech32::encode::<bech32::Bech32>(hrp(), &self.0).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

/// Longest address text the contract host function `addr_parse` reads
/// (BIP-173's limit for a bech32 string; an Agora address is 44 characters).
pub const MAX_ADDRESS_TEXT: usize = 90;

impl Address {
    /// Parses the bech32 text form for the contract host function
    /// `addr_parse`. The error is one of a fixed set of reasons owned by the
    /// chain, never the bech32 crate's wording: it ends up in receipts, which
    /// every node must compute byte for byte alike, whatever version of the
    /// crate it was built with.
    pub fn parse_text(s: &str) -> Result<Address, String> {
        Address::parse_with(s, |_| ADDRESS_NOT_BECH32.to_owned())
    }

    fn parse_with(s: &str, bech32_error: impl Fn(bech32::DecodeError) -> String) -> Result<Address, String> {
        let (h, data) = bech32::decode(s).map_err(bech32_error)?;
        if h != hrp() {
            return Err(format!("prefix must be `{ADDRESS_HRP}`, got `{h}`"));
        }
        let a = <[u8; 20]>::try_from(data.as_slice()).map_err(|_| format!("expected 20 bytes, got {}", data.len()))?;
        Ok(Address(a))
    }
}

/// `Address::parse_text`'s reason for text that is not bech32 at all (bad
/// characters, mixed case, no separator, a wrong checksum, bad length).
pub const ADDRESS_NOT_BECH32: &str = "not a bech32 string with a valid checksum";

impl FromStr for Address {
    type Err = ParseError;
    /// For people (RPC, wallet): the bech32 crate's detailed reason.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse_with(s, |e| e.to_string()).map_err(|e| ParseError::Address(format!("`{s}`: {e}")))
    }
}

serde_via_str!(Address);

/// Serde helper: bytes as a lowercase hex string (JSON forms only; canonical
/// encoding is borsh).
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let s = s.strip_prefix("0x").unwrap_or(&s);
        hex::decode(s).map_err(|e| serde::de::Error::custom(format!("invalid hex: {e}")))
    }
}

/// A fraction in [0, 1] with six decimals, stored as parts per million:
/// commission rates, slashing fractions, inflation, thresholds.
///
/// JSON form: a decimal string such as `"0.05"` (at most 6 decimals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Rate(u32);

impl Rate {
    /// Denominator of the parts-per-million representation.
    pub const SCALE: u32 = 1_000_000;
    pub const ZERO: Rate = Rate(0);
    pub const ONE: Rate = Rate(Self::SCALE);

    /// `ppm` parts per million; `None` above one.
    pub const fn from_ppm(ppm: u32) -> Option<Rate> {
        if ppm > Self::SCALE { None } else { Some(Rate(ppm)) }
    }

    pub const fn ppm(self) -> u32 {
        self.0
    }

    /// `floor(amount × self)`, exact (no intermediate overflow).
    pub fn mul_floor(self, amount: Amount) -> Amount {
        Amount(crate::math::mul_div_floor(amount.0, u128::from(self.0), u128::from(Self::SCALE)))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::SCALE;
        let frac = self.0 % Self::SCALE;
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl FromStr for Rate {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Amount(format!("`{s}` is not a rate between 0 and 1 with at most 6 decimals"));
        let t = s.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) || (t.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let w: u64 = whole.parse().map_err(|_| bad())?;
        let f: u64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().map_err(|_| bad())? };
        let ppm = w.checked_mul(u64::from(Self::SCALE)).and_then(|x| x.checked_add(f)).ok_or_else(bad)?;
        u32::try_from(ppm).ok().and_then(Rate::from_ppm).ok_or_else(bad)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
