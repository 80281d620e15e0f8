//! The chain's one ed25519 verification rule, in a single and a batch form
//! that accept exactly the same signatures.
//!
//! The rule (ADR 0013) is ZIP-215 with small-order public keys refused:
//!
//! - the public key `A` must decode to a curve point (non-canonical encodings
//!   of the field element are accepted, as ZIP-215 says) that is **not of
//!   small order** — a small-order key would verify any message under the
//!   cofactored equation, so an account behind one could be spent by anyone;
//!   refusing it keeps such accounts unspendable, as they were under
//!   `verify_strict`;
//! - `R` must decode to a curve point (any order, any encoding);
//! - `s` must be canonical (`s < L`);
//! - `k = SHA-512(R_bytes ‖ A_bytes ‖ msg)` over the bytes as given, and the
//!   cofactored equation `[8]([s]B − R − [k]A) = 0` must hold.
//!
//! The equation is checked by `ed25519-zebra`, whose single and batch forms
//! agree by specification; the key check is done once, when a [`Key`] is
//! built, so it is shared by both forms. Every signature `verify_strict`
//! accepts is accepted here (the rule is a superset; the ADR has the
//! argument and `tests/differential.rs` the evidence).
//!
//! Pure: no I/O, no clock, no global state. The batch coefficients come from a
//! ChaCha20 stream seeded with a hash of the whole batch (keys, signatures,
//! messages), so a batch verdict is reproducible and an attacker who does not
//! control the hash cannot choose inputs that cancel out.

use std::thread;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_zebra::{Signature, VerificationKey, VerificationKeyBytes, batch};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// Why a key or signature is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The public key bytes are not the encoding of a curve point.
    #[error("public key is not a curve point")]
    MalformedKey,
    /// The public key is a point of small order (a weak key).
    #[error("public key has small order")]
    WeakKey,
    /// The signature does not verify under the rule.
    #[error("invalid signature")]
    BadSignature,
}

/// A public key the rule accepts: a curve point that is not of small order.
/// Parsing it costs a point decompression, so callers that see the same key
/// often should keep it (it is `Copy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    bytes: [u8; 32],
    vk: VerificationKey,
}

impl Key {
    /// Parses and checks `bytes` (the key is hashed as given, so two
    /// encodings of one point are two different keys).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Key, SigError> {
        let point = CompressedEdwardsY(*bytes).decompress().ok_or(SigError::MalformedKey)?;
        if point.is_small_order() {
            return Err(SigError::WeakKey);
        }
        let vk = VerificationKey::try_from(*bytes).map_err(|_| SigError::MalformedKey)?;
        Ok(Key { bytes: *bytes, vk })
    }

    /// The key's bytes, exactly as parsed.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes
    }

    /// Verifies one signature over `msg` under the rule.
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> Result<(), SigError> {
        self.vk.verify(&Signature::from_bytes(sig), msg).map_err(|_| SigError::BadSignature)
    }
}

/// Parses `key` and verifies one signature: the single form of the rule.
pub fn verify(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> Result<(), SigError> {
    Key::from_bytes(key)?.verify(msg, sig)
}

/// One signature to check in a batch.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub key: &'a Key,
    pub msg: &'a [u8],
    pub sig: &'a [u8; 64],
}

impl Item<'_> {
    /// The single form of the rule on this item.
    pub fn verify(&self) -> Result<(), SigError> {
        self.key.verify(self.msg, self.sig)
    }
}

/// Domain tag of the hash that seeds the batch coefficients.
const BATCH_SEED_DOMAIN: &[u8] = b"agora/sigverify/batch-seed/v1";

/// The coefficient stream of a batch: ChaCha20 keyed by SHA-256 of everything
/// in it (lengths included, so no two batches share an encoding).
fn batch_rng(items: &[Item<'_>]) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(BATCH_SEED_DOMAIN);
    h.update((items.len() as u64).to_le_bytes());
    for it in items {
        h.update(it.key.bytes);
        h.update(it.sig);
        h.update((it.msg.len() as u64).to_le_bytes());
        h.update(it.msg);
    }
    ChaCha20Rng::from_seed(h.finalize().into())
}

/// The batch form of the rule: `Ok` iff every item verifies on its own
/// (ZIP-215 makes the two agree; an empty batch is valid). Says nothing about
/// which item is bad: [`verify_each`] does.
pub fn verify_batch(items: &[Item<'_>]) -> Result<(), SigError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut verifier = batch::Verifier::new();
    for it in items {
        verifier.queue((VerificationKeyBytes::from(it.key.bytes), Signature::from_bytes(it.sig), it.msg));
    }
    verifier.verify(batch_rng(items)).map_err(|_| SigError::BadSignature)
}

/// The verdict on every item, in order: one batch check, and only if it fails,
/// a single check of each item to say which are bad. The verdicts are those of
/// [`Item::verify`] item by item.
pub fn verify_each(items: &[Item<'_>]) -> Vec<Result<(), SigError>> {
    if verify_batch(items).is_ok() {
        return vec![Ok(()); items.len()];
    }
    items.iter().map(Item::verify).collect()
}

/// Most threads [`verify_each_parallel`] starts.
pub const MAX_THREADS: usize = 64;

/// [`verify_each`] with the items split into `threads` contiguous chunks
/// checked at once on scoped threads (clamped to `1..=MAX_THREADS` and to the
/// number of items). Same verdicts as [`verify_each`]: each chunk is a batch
/// under the same rule.
pub fn verify_each_parallel(items: &[Item<'_>], threads: usize) -> Vec<Result<(), SigError>> {
    let threads = threads.clamp(1, MAX_THREADS).min(items.len().max(1));
    if threads == 1 {
        return verify_each(items);
    }
    let chunk = items.len().div_ceil(threads);
    thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|c| s.spawn(move || verify_each(c))).collect();
        let mut out = Vec::with_capacity(items.len());
        for (h, c) in handles.into_iter().zip(items.chunks(chunk)) {
            // A verifier thread does not panic; if one did, its chunk is
            // re-checked here rather than taking the caller down.
            out.extend(h.join().unwrap_or_else(|_| verify_each(c)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_count_is_bounded() {
        let key = Key::from_bytes(&[
            0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1,
            0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
        ])
        .expect("RFC 8032 test key 1");
        let sig = [0u8; 64];
        let items = vec![Item { key: &key, msg: b"", sig: &sig }; 3];
        // More threads than items or than the bound: still one verdict per item.
        assert_eq!(verify_each_parallel(&items, usize::MAX).len(), 3);
        assert_eq!(verify_each_parallel(&items, 0).len(), 3);
        assert!(verify_each_parallel(&[], 8).is_empty());
        assert_eq!(verify_batch(&[]), Ok(()));
    }
}
