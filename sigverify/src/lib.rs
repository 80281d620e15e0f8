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
//! The single form is `ed25519-zebra`'s ZIP-215 verification. The batch form
//! is the same cofactored equation in a random linear combination,
//! `[8]( −(Σ zᵢsᵢ)B + Σ zᵢRᵢ + Σ_A (Σ_{i: Aᵢ=A} zᵢkᵢ)A ) = 0`, written here on
//! curve25519-dalek (as ed25519-zebra's own batch is) so that it can use the
//! decompressed key points a [`Key`] keeps: zebra's batch takes key bytes and
//! decompresses every key again, about a quarter of a batch's cost. ZIP-215
//! makes single and batch agree (the cofactor clears every torsion term, and
//! the prime-order part vanishes for random 128-bit zᵢ only if every term
//! does, except with probability 2⁻¹²⁸); the tests check this implementation
//! against zebra's single and batch forms. The key check is done once, when a
//! [`Key`] is built, so it is shared by both forms. Every signature `verify_strict`
//! accepts is accepted here (the rule is a superset; the ADR has the
//! argument and `tests/differential.rs` the evidence).
//!
//! Pure: no I/O, no clock, no global state. The batch coefficients come from a
//! ChaCha20 stream seeded with a hash of the whole batch (keys, signatures,
//! messages), so a batch verdict is reproducible and an attacker who does not
//! control the hash cannot choose inputs that cancel out.

use std::collections::BTreeMap;
use std::iter;
use std::thread;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_zebra::{Signature, VerificationKey};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256, Sha512};

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
    point: EdwardsPoint,
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
        Ok(Key { bytes: *bytes, point, vk })
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
    let mut rng = batch_rng(items);
    let mut b_coeff = Scalar::ZERO;
    let mut r_coeffs = Vec::with_capacity(items.len());
    let mut r_points = Vec::with_capacity(items.len());
    // Terms of one key are summed into one coefficient (senders sign many
    // transactions). Keyed by the bytes as sent, like the hash.
    let mut a_terms: BTreeMap<[u8; 32], (EdwardsPoint, Scalar)> = BTreeMap::new();
    for it in items {
        let (r_bytes, s_bytes) = split(it.sig);
        // The same three checks as the single form: s canonical, R a point
        // (any encoding), k over the bytes as sent.
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or(SigError::BadSignature)?;
        let r = CompressedEdwardsY(r_bytes).decompress().ok_or(SigError::BadSignature)?;
        let k = challenge(&r_bytes, &it.key.bytes, it.msg);
        let mut z = [0u8; 16];
        rng.fill_bytes(&mut z);
        let z = Scalar::from(u128::from_le_bytes(z));
        b_coeff -= z * s;
        r_coeffs.push(z);
        r_points.push(r);
        a_terms.entry(it.key.bytes).or_insert((it.key.point, Scalar::ZERO)).1 += z * k;
    }
    let check = EdwardsPoint::vartime_multiscalar_mul(
        iter::once(b_coeff).chain(a_terms.values().map(|(_, c)| *c)).chain(r_coeffs),
        iter::once(ED25519_BASEPOINT_POINT).chain(a_terms.values().map(|(p, _)| *p)).chain(r_points),
    );
    if check.mul_by_cofactor().is_identity() { Ok(()) } else { Err(SigError::BadSignature) }
}

fn split(sig: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    s.copy_from_slice(&sig[32..]);
    (r, s)
}

/// k = SHA-512(R ‖ A ‖ msg) mod L.
fn challenge(r_bytes: &[u8; 32], a_bytes: &[u8; 32], msg: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(a_bytes);
    h.update(msg);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
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
