//! Helpers shared by the differential tests: the old rule (`verify_strict`),
//! hand-made Schnorr signatures over arbitrary (also mixed-order) points, and
//! the agreement check of single against batch.

#![allow(dead_code)]

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use sigverify::{Item, Key, SigError};

/// The chain's previous rule: ed25519-dalek's `verify_strict`.
pub fn strict(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    match ed25519_dalek::VerifyingKey::from_bytes(key) {
        Ok(vk) => vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig)).is_ok(),
        Err(_) => false,
    }
}

/// ed25519-zebra's ZIP-215 single verification (no key check): the oracle.
pub fn zebra_single(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    ed25519_zebra::VerificationKey::try_from(*key)
        .and_then(|vk| vk.verify(&ed25519_zebra::Signature::from_bytes(sig), msg))
        .is_ok()
}

/// ed25519-zebra's own batch verification, with fresh random coefficients:
/// the second oracle.
pub fn zebra_batch(items: &[Item<'_>]) -> bool {
    let mut v = ed25519_zebra::batch::Verifier::new();
    for it in items {
        v.queue((
            ed25519_zebra::VerificationKeyBytes::from(it.key.to_bytes()),
            ed25519_zebra::Signature::from_bytes(it.sig),
            it.msg,
        ));
    }
    v.verify(rand::thread_rng()).is_ok()
}

/// k = SHA-512(R ‖ A ‖ M) mod L over the bytes as given.
pub fn challenge(r_bytes: &[u8; 32], a_bytes: &[u8; 32], msg: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(a_bytes);
    h.update(msg);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// A signature (R_bytes, s) with s = r + k·a, where R_bytes/A_bytes are given
/// encodings (possibly non-canonical) of r·B + T_R and a·B + T_A.
pub fn schnorr(a: Scalar, a_bytes: &[u8; 32], r: Scalar, r_bytes: &[u8; 32], msg: &[u8]) -> [u8; 64] {
    let s = r + challenge(r_bytes, a_bytes, msg) * a;
    sig_bytes(r_bytes, &s.to_bytes())
}

pub fn sig_bytes(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(r);
    out[32..].copy_from_slice(s);
    out
}

/// a·B + T.
pub fn point(a: Scalar, torsion: usize) -> EdwardsPoint {
    a * B + EIGHT_TORSION[torsion]
}

/// Every 32-byte string that decodes to a point but is not that point's
/// canonical encoding: y ≥ p (only y + p for y < 19 fits in 255 bits), or the
/// sign bit set on a point with x = 0. Found by trying them all, not listed.
pub fn non_canonical_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    // p + v, little-endian: p = 2^255 − 19 = ed ff … ff 7f.
    for v in 0u8..19 {
        for sign in [0u8, 0x80] {
            let mut b = [0xffu8; 32];
            b[0] = 0xed + v;
            b[31] = 0x7f | sign;
            if let Some(p) = CompressedEdwardsY(b).decompress() {
                assert_ne!(p.compress().to_bytes(), b);
                out.push(b);
            }
        }
    }
    for t in EIGHT_TORSION.iter() {
        let mut b = t.compress().to_bytes();
        b[31] |= 0x80;
        if let Some(p) = CompressedEdwardsY(b).decompress()
            && p.compress().to_bytes() != b
            && !out.contains(&b)
        {
            out.push(b);
        }
    }
    out
}

/// A y-coordinate that is not on the curve (decoding fails).
pub fn off_curve_encoding() -> [u8; 32] {
    (2u8..)
        .map(|v| {
            let mut b = [0u8; 32];
            b[0] = v;
            b
        })
        .find(|b| CompressedEdwardsY(*b).decompress().is_none())
        .expect("half of all y are off the curve")
}

/// Valid ordinary signatures from `keys` over distinct messages, used to
/// surround a case under test in a batch.
pub fn filler(n: usize, seed: u8) -> Vec<([u8; 32], Vec<u8>, [u8; 64])> {
    use ed25519_dalek::Signer as _;
    (0..n)
        .map(|i| {
            let sk = ed25519_dalek::SigningKey::from_bytes(&[seed.wrapping_add(i as u8 % 5); 32]);
            let msg = format!("filler {seed} {i}").into_bytes();
            (sk.verifying_key().to_bytes(), msg.clone(), sk.sign(&msg).to_bytes())
        })
        .collect()
}

/// Checks that single and batch agree on one case, alone and at every
/// position among `filler` valid signatures, and returns the single verdict.
pub fn agree(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> Result<(), SigError> {
    let single = sigverify::verify(key, msg, sig);
    // The rule is zebra's ZIP-215 plus the key check.
    assert_eq!(single.is_ok(), zebra_single(key, msg, sig) && Key::from_bytes(key).is_ok(), "rule = ZIP-215 + key");
    let parsed = match Key::from_bytes(key) {
        Ok(k) => k,
        Err(e) => {
            // A key the rule refuses never reaches a batch; single says the same.
            assert_eq!(single, Err(e));
            return single;
        }
    };
    assert_eq!(parsed.verify(msg, sig), single);
    let one = [Item { key: &parsed, msg, sig }];
    assert_eq!(sigverify::verify_batch(&one).is_ok(), single.is_ok(), "batch of one");
    assert_eq!(zebra_batch(&one), single.is_ok(), "zebra's batch of one");
    let others = filler(5, 9);
    let other_keys: Vec<Key> = others.iter().map(|(k, _, _)| Key::from_bytes(k).expect("valid key")).collect();
    // First, middle and last place (every place is exercised by tests/batches.rs).
    for pos in [0, others.len() / 2, others.len()] {
        let mut items: Vec<Item<'_>> =
            others.iter().zip(&other_keys).map(|((_, m, s), k)| Item { key: k, msg: m.as_slice(), sig: s }).collect();
        items.insert(pos, Item { key: &parsed, msg, sig });
        assert_eq!(sigverify::verify_batch(&items).is_ok(), single.is_ok(), "batch with the case at {pos}");
        assert_eq!(zebra_batch(&items), single.is_ok(), "zebra's batch with the case at {pos}");
        let each = sigverify::verify_each(&items);
        for (i, v) in each.iter().enumerate() {
            let want = if i == pos { single } else { Ok(()) };
            assert_eq!(*v, want, "verdict {i} with the case at {pos}");
        }
        assert_eq!(sigverify::verify_each_parallel(&items, 2), each, "two threads");
    }
    single
}
