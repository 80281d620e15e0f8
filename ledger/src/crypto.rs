//! ed25519 keys and signatures, with one verification rule for the whole chain.
//!
//! Every node must accept exactly the same set of signatures, so the chain uses
//! `verify_strict` semantics everywhere (rejects weak public keys and
//! non-canonical/small-order components). Batch verification in ed25519-dalek
//! skips those checks, so it is not used on consensus paths.

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

    /// Verifies `sig` over `msg` with the chain's single rule (strict verification).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> bool {
        let Some(vk) = key_cache::decompress(&self.0) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(msg, &sig).is_ok()
    }
}

/// Decompressing a public key is a square root, about a fifth of a strict
/// verification. Senders sign many transactions, so decompressed keys are
/// memoised. The cache changes no result (a key decompresses to the same
/// point every time, and invalid encodings are not cached); it is bounded and
/// simply emptied when full.
mod key_cache {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use ed25519_dalek::VerifyingKey;

    const MAX_KEYS: usize = 1 << 16;
    static CACHE: Mutex<BTreeMap<[u8; 32], VerifyingKey>> = Mutex::new(BTreeMap::new());

    pub(super) fn decompress(bytes: &[u8; 32]) -> Option<VerifyingKey> {
        if let Ok(cache) = CACHE.lock()
            && let Some(vk) = cache.get(bytes)
        {
            return Some(*vk);
        }
        let vk = VerifyingKey::from_bytes(bytes).ok()?;
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
