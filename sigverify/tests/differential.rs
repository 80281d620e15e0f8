//! Differential test of the rule: single against batch (alone and among valid
//! signatures, sequential and threaded) on the edge cases of "Taming the many
//! EdDSAs" (Chalkias, Garillot, Nikolaenko, SSR 2020), and the old rule
//! (`verify_strict`) against the new one: everything strict accepted must
//! still be accepted.

mod common;

use common::*;
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use rand::{Rng, SeedableRng};
use sigverify::SigError;

/// The paper's 12 vectors (message, public key, signature), as published in
/// github.com/novifinancial/ed25519-speccheck `cases.json` (Apache-2.0).
const SPECCHECK: [(&str, &str, &str); 12] = [
    (
        "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
    ),
    (
        "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
    ),
    (
        "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
        "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
    ),
    (
        "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
        "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
    ),
    (
        "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
        "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
    ),
    (
        "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
        "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
        "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
    ),
    (
        "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
        "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
        "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
    ),
    (
        "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
    ),
    (
        "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
        "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
    ),
    (
        "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
    ),
    (
        "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
    ),
];

fn arr<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).expect("hex").try_into().expect("length")
}

#[test]
fn speccheck_vectors() {
    use SigError::*;
    // The paper's results table: "Dalek strict" accepts only vector 3; ZIP-215
    // ("Zebra") accepts 0–5 and 9–11. The rule also refuses the small-order
    // keys of vectors 0, 1, 10 and 11.
    let strict_table = [false, false, false, true, false, false, false, false, false, false, false, false];
    let rule_table: [Result<(), SigError>; 12] = [
        Err(WeakKey),      // 0: small A, small R
        Err(WeakKey),      // 1: small A, mixed R
        Ok(()),            // 2: mixed A, small R
        Ok(()),            // 3: mixed A and R, cofactorless passes
        Ok(()),            // 4: mixed A and R, only cofactored passes
        Ok(()),            // 5: mixed A, passes unless 8·k is pre-reduced
        Err(BadSignature), // 6: S > L
        Err(BadSignature), // 7: S >> L
        Err(BadSignature), // 8: non-canonical R, hashed reduced
        Ok(()),            // 9: non-canonical R, hashed as given
        Err(WeakKey),      // 10: non-canonical small A, hashed reduced
        Err(WeakKey),      // 11: non-canonical small A, hashed as given
    ];
    for (i, (m, a, s)) in SPECCHECK.iter().enumerate() {
        let (msg, key, sig) = (hex::decode(m).expect("hex"), arr::<32>(a), arr::<64>(s));
        assert_eq!(strict(&key, &msg, &sig), strict_table[i], "verify_strict on vector {i}");
        assert_eq!(agree(&key, &msg, &sig), rule_table[i], "rule on vector {i}");
        // ZIP-215 without the key check: what ed25519-zebra says on its own.
        let zip215 = ed25519_zebra::VerificationKey::try_from(key)
            .and_then(|vk| vk.verify(&ed25519_zebra::Signature::from_bytes(&sig), &msg))
            .is_ok();
        assert_eq!(zip215, matches!(i, 0..=5 | 9..=11), "plain ZIP-215 on vector {i}");
    }
}

#[test]
fn rfc8032_vector_1() {
    let key = arr::<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig = arr::<64>(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    assert!(strict(&key, b"", &sig));
    assert_eq!(agree(&key, b"", &sig), Ok(()));
    assert_eq!(agree(&key, b"x", &sig), Err(SigError::BadSignature));
}

/// Every combination of torsion components on A and R (8 × 8), for a few
/// secrets, including R of small order (r = 0) and A of small order (a = 0):
/// the new rule accepts iff A is not small order; strict accepts iff neither
/// is small order and the torsion cancels without the cofactor.
#[test]
fn mixed_order_matrix() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(215);
    let (mut strict_yes, mut rule_yes, mut total) = (0, 0, 0);
    for round in 0..4 {
        let msg: Vec<u8> = (0..rng.gen_range(0..100)).map(|_| rng.r#gen()).collect();
        let a = if round == 0 { Scalar::ZERO } else { Scalar::from_bytes_mod_order(rng.r#gen()) };
        for r_zero in [true, false] {
            let r = if r_zero { Scalar::ZERO } else { Scalar::from_bytes_mod_order(rng.r#gen()) };
            for (ta, torsion_a) in EIGHT_TORSION.iter().enumerate() {
                for (tr, torsion_r) in EIGHT_TORSION.iter().enumerate() {
                    let (pa, pr) = (point(a, ta), point(r, tr));
                    let (a_bytes, r_bytes) = (pa.compress().to_bytes(), pr.compress().to_bytes());
                    let sig = schnorr(a, &a_bytes, r, &r_bytes, &msg);
                    let k = challenge(&r_bytes, &a_bytes, &msg);
                    let torsion_cancels = (k * torsion_a + torsion_r).is_identity();
                    let want_strict = !pa.is_small_order() && !pr.is_small_order() && torsion_cancels;
                    let want_rule = if pa.is_small_order() { Err(SigError::WeakKey) } else { Ok(()) };
                    assert_eq!(strict(&a_bytes, &msg, &sig), want_strict, "strict a={round} r0={r_zero} {ta} {tr}");
                    assert_eq!(agree(&a_bytes, &msg, &sig), want_rule, "rule a={round} r0={r_zero} {ta} {tr}");
                    // s + L is the same s, non-canonically: both rules refuse it.
                    let s_plus_l = add_l(&sig[32..].try_into().expect("32"));
                    if let Some(s2) = s_plus_l {
                        let bad = sig_bytes(&r_bytes, &s2);
                        assert!(!strict(&a_bytes, &msg, &bad));
                        assert!(agree(&a_bytes, &msg, &bad).is_err());
                    }
                    // Another message: refused by both (unless the key is weak,
                    // which is refused anyway).
                    let other = [msg.as_slice(), b"!"].concat();
                    assert!(!strict(&a_bytes, &other, &sig));
                    assert!(agree(&a_bytes, &other, &sig).is_err());
                    strict_yes += usize::from(want_strict);
                    rule_yes += usize::from(want_rule.is_ok());
                    total += 1;
                }
            }
        }
    }
    // Both outcomes occur for both rules, and strict ⊂ rule (checked case by case
    // above through the two expectations).
    assert!(0 < strict_yes && strict_yes < rule_yes && rule_yes < total, "{strict_yes} {rule_yes} {total}");
}

/// s + L as 32 little-endian bytes, if it fits.
fn add_l(s: &[u8; 32]) -> Option<[u8; 32]> {
    let l = Scalar::ZERO - Scalar::ONE; // L − 1
    let l = l.to_bytes();
    let mut out = [0u8; 32];
    let mut carry = 1u16; // + 1 turns L − 1 into L
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(l[i]) + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    (carry == 0).then_some(out)
}

/// Non-canonical encodings of A and R, found by trying all candidates: as A,
/// each is refused (they all decode to small-order points); as R, the
/// signature verifies iff R was hashed exactly as sent — strict refuses all.
#[test]
fn non_canonical_encodings_of_a_and_r() {
    let encodings = non_canonical_encodings();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8032);
    let mut small = 0;
    for enc in &encodings {
        let p = curve25519_dalek::edwards::CompressedEdwardsY(*enc).decompress().expect("decodes");
        if !p.is_small_order() {
            // Nobody knows its discrete log, so nothing can be signed with it;
            // as a key it is accepted (hashed as sent) and junk is refused.
            let junk = sig_bytes(&EIGHT_TORSION[2].compress().to_bytes(), &[1; 32]);
            assert!(sigverify::Key::from_bytes(enc).is_ok());
            assert!(!strict(enc, b"m", &junk));
            assert_eq!(agree(enc, b"m", &junk), Err(SigError::BadSignature));
            continue;
        }
        small += 1;
        // As a public key, with a signature that the cofactored equation accepts.
        let sig = sig_bytes(&EIGHT_TORSION[0].compress().to_bytes(), &[0; 32]);
        assert!(!strict(enc, b"m", &sig));
        assert_eq!(agree(enc, b"m", &sig), Err(SigError::WeakKey));
        // As R with an ordinary key a·B + T (T any torsion point).
        for ta in [0, 3] {
            let a = Scalar::from_bytes_mod_order(rng.r#gen());
            let a_bytes = point(a, ta).compress().to_bytes();
            let msg: Vec<u8> = (0..rng.gen_range(0..64)).map(|_| rng.r#gen()).collect();
            let as_sent = schnorr(a, &a_bytes, Scalar::ZERO, enc, &msg);
            assert!(!strict(&a_bytes, &msg, &as_sent));
            assert_eq!(agree(&a_bytes, &msg, &as_sent), Ok(()));
            // Hashing the canonical re-encoding instead: refused.
            let canonical = p.compress().to_bytes();
            let s = challenge(&canonical, &a_bytes, &msg) * a;
            let reduced = sig_bytes(enc, &s.to_bytes());
            assert!(!strict(&a_bytes, &msg, &reduced));
            assert_eq!(agree(&a_bytes, &msg, &reduced), Err(SigError::BadSignature));
        }
    }
    // y = 0 and y = 1 with y + p, and −0 on the x = 0 points, at least.
    assert!(small >= 6, "{small} of {}", encodings.len());
}

#[test]
fn off_curve_key_and_r_and_large_s() {
    let off = off_curve_encoding();
    let sk = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let key = sk.verifying_key().to_bytes();
    let good = ed25519_dalek::Signer::sign(&sk, b"m").to_bytes();
    assert_eq!(agree(&off, b"m", &good), Err(SigError::MalformedKey));
    assert!(!strict(&off, b"m", &good));
    let bad_r = sig_bytes(&off, &good[32..].try_into().expect("32"));
    assert_eq!(agree(&key, b"m", &bad_r), Err(SigError::BadSignature));
    assert!(!strict(&key, b"m", &bad_r));
    let mut high_s = good;
    high_s[63] |= 0xe0;
    assert_eq!(agree(&key, b"m", &high_s), Err(SigError::BadSignature));
    assert!(!strict(&key, b"m", &high_s));
    // A mixed-order R (r·B + T) on an ordinary signature changes R: refused.
    let r = curve25519_dalek::edwards::CompressedEdwardsY(good[..32].try_into().expect("32"))
        .decompress()
        .expect("R decodes");
    let tweaked = sig_bytes(&(r + EIGHT_TORSION[1]).compress().to_bytes(), &good[32..].try_into().expect("32"));
    assert_eq!(agree(&key, b"m", &tweaked), Err(SigError::BadSignature));
    assert_eq!(agree(&key, b"m", &good), Ok(()));
}
