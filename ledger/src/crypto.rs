//! ed25519 keys and signatures, with one verification rule for the whole chain.
//!
//! Every node must accept exactly the same set of signatures, so transactions
//! are checked with one rule, `sigverify`'s (ZIP-215 with small-order keys
//! refused, ADR 0013), whose single and batch forms accept exactly the same
//! signatures; every signature the former rule (`verify_strict`) accepted is
//! still accepted. Keys and signing stay with ed25519-dalek.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::Signer;
pub use ed25519_dalek::SigningKey;

use crate::error::ParseError;
use crate::types::{Address, parse_hex_array, serde_via_str};

/// An ed25519 public key (32 bytes). JSON form: hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    pub fn from_signing_key(k: &SigningKey) -> PublicKey {
        PublicKey(k.verifying_key().to_bytes())
    }

    pub fn address(&self) -> Address {
        Address::from_public_key(self)
    }

    /// Verifies `sig` over `msg` with the chain's one rule (single form).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> bool {
        self.parsed().is_some_and(|k| k.verify(msg, &sig.0).is_ok())
    }

    /// The key parsed and checked for the rule (`None`: not a point, or of
    /// small order, so nothing verifies under it). Memoised.
    pub(crate) fn parsed(&self) -> Option<sigverify::Key> {
        key_cache::decompress(&self.0)
    }
}

/// Decompressing a public key is a square root, about a fifth of a
/// verification. Senders sign many transactions, so parsed keys are
/// memoised. The cache changes no result (a key parses to the same point
/// every time, and refused encodings are not cached); it is bounded and
/// simply emptied when full.
mod key_cache {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use sigverify::Key;

    const MAX_KEYS: usize = 1 << 16;
    static CACHE: Mutex<BTreeMap<[u8; 32], Key>> = Mutex::new(BTreeMap::new());

    pub(super) fn decompress(bytes: &[u8; 32]) -> Option<Key> {
        if let Ok(cache) = CACHE.lock()
            && let Some(vk) = cache.get(bytes)
        {
            return Some(*vk);
        }
        let vk = Key::from_bytes(bytes).ok()?;
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= MAX_KEYS {
                cache.clear();
            }
            cache.insert(*bytes, vk);
        }
        Some(vk)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}
impl FromStr for PublicKey {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex_array::<32>(s).map(PublicKey)
    }
}
serde_via_str!(PublicKey);

/// An ed25519 signature (64 bytes). JSON form: hex.
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    pub fn sign(key: &SigningKey, msg: &[u8]) -> Signature {
        Signature(key.sign(msg).to_bytes())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}
impl FromStr for Signature {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex_array::<64>(s).map(Signature)
    }
}
serde_via_str!(Signature);
