//! Random batches: valid signatures (ordinary ones from ed25519-dalek, and
//! mixed-order ones that only the cofactored equation accepts), one of them
//! spoiled at a random place in a random way. The batch must refuse, the
//! fallback must name exactly the spoiled one, and every verdict must be the
//! single verdict; unspoiled batches must pass. Over many seeds (proptest).

mod common;

use common::*;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::Signer as _;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sigverify::{Item, Key, SigError};

struct Case {
    key: [u8; 32],
    msg: Vec<u8>,
    sig: [u8; 64],
}

/// `n` valid signatures from `distinct_keys` keys (so batches also hold
/// several signatures per key); every fourth is a mixed-order signature.
fn valid_cases(rng: &mut ChaCha20Rng, n: usize, distinct_keys: usize) -> Vec<Case> {
    let keys: Vec<ed25519_dalek::SigningKey> =
        (0..distinct_keys).map(|_| ed25519_dalek::SigningKey::from_bytes(&rng.r#gen())).collect();
    (0..n)
        .map(|i| {
            let msg: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.r#gen()).collect();
            if i % 4 == 3 {
                let (ta, tr) = (rng.gen_range(0..8), rng.gen_range(0..8));
                let a = Scalar::from_bytes_mod_order(rng.r#gen());
                let r = Scalar::from_bytes_mod_order(rng.r#gen());
                let key = point(a, ta).compress().to_bytes();
                let sig = schnorr(a, &key, r, &point(r, tr).compress().to_bytes(), &msg);
                Case { key, msg, sig }
            } else {
                let sk = &keys[rng.gen_range(0..keys.len())];
                Case { key: sk.verifying_key().to_bytes(), sig: sk.sign(&msg).to_bytes(), msg }
            }
        })
        .collect()
}

/// Spoils `c` so that no rule accepts it; `other` is a different valid case.
fn spoil(rng: &mut ChaCha20Rng, c: &mut Case, other: &Case, how: u8) {
    match how {
        0 => {
            let i = rng.gen_range(0..=c.msg.len());
            if i == c.msg.len() {
                c.msg.push(rng.r#gen());
            } else {
                c.msg[i] ^= 1 << rng.gen_range(0..8);
            }
        }
        1 => c.sig[rng.gen_range(0..32)] ^= 1 << rng.gen_range(0..8),
        2 => c.sig[32 + rng.gen_range(0..31)] ^= 1 << rng.gen_range(0..8),
        3 => c.sig[63] |= 0x20, // s ≥ 2^253 > L
        4 => c.key = other.key,
        _ => c.sig = other.sig,
    }
}

fn check_batch(seed: u64, n: usize, distinct_keys: usize, spoiled: Option<(usize, u8)>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut cases = valid_cases(&mut rng, n, distinct_keys);
    if let Some((at, how)) = spoiled {
        // A different key and signature to swap in (never equal to the spoiled one's).
        let other = valid_cases(&mut rng, 1, 1).pop().expect("one");
        spoil(&mut rng, &mut cases[at], &other, how);
    }
    // Strict accepted every ordinary signature; the rule accepts them too.
    for c in &cases {
        if strict(&c.key, &c.msg, &c.sig) {
            assert_eq!(sigverify::verify(&c.key, &c.msg, &c.sig), Ok(()));
        }
    }
    let keys: Vec<Key> = cases.iter().map(|c| Key::from_bytes(&c.key).expect("spoiling keeps keys valid")).collect();
    let items: Vec<Item<'_>> =
        cases.iter().zip(&keys).map(|(c, k)| Item { key: k, msg: &c.msg, sig: &c.sig }).collect();
    let singles: Vec<_> = items.iter().map(Item::verify).collect();
    for (c, v) in cases.iter().zip(&singles) {
        assert_eq!(v.is_ok(), zebra_single(&c.key, &c.msg, &c.sig), "single = zebra's single");
    }
    assert_eq!(zebra_batch(&items), spoiled.is_none(), "zebra's batch");
    let each = sigverify::verify_each(&items);
    assert_eq!(each, singles, "fallback verdicts = single verdicts");
    assert_eq!(sigverify::verify_each_parallel(&items, 2), singles, "two threads");
    assert_eq!(sigverify::verify_each_parallel(&items, 3), singles, "three threads");
    match spoiled {
        None => {
            assert_eq!(sigverify::verify_batch(&items), Ok(()));
            assert!(singles.iter().all(Result::is_ok));
        }
        Some((at, _)) => {
            assert_eq!(sigverify::verify_batch(&items), Err(SigError::BadSignature));
            for (i, v) in singles.iter().enumerate() {
                assert_eq!(v.is_err(), i == at, "only {at} is bad, verdict {i} = {v:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn one_bad_signature_is_found(seed in any::<u64>(), n in 1usize..80, keys in 1usize..12, at in any::<prop::sample::Index>(), how in 0u8..6) {
        check_batch(seed, n, keys, Some((at.index(n), how)));
    }

    #[test]
    fn valid_batches_pass(seed in any::<u64>(), n in 1usize..80, keys in 1usize..12) {
        check_batch(seed, n, keys, None);
    }
}

/// The batch sizes the node uses, one bad signature at the first, a middle and
/// the last place.
#[test]
fn large_batches_with_one_bad() {
    for (seed, n) in [(1u64, 256usize), (2, 1024)] {
        check_batch(seed, n, n, None);
        for at in [0, n / 2 + 1, n - 1] {
            check_batch(seed, n, n, Some((at, (at % 6) as u8)));
        }
    }
}

/// The batch coefficients come from the batch's own contents: the same batch
/// always gets the same verdict, and reordering it changes nothing.
#[test]
fn verdict_does_not_depend_on_order() {
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    let cases = valid_cases(&mut rng, 40, 5);
    let keys: Vec<Key> = cases.iter().map(|c| Key::from_bytes(&c.key).expect("valid")).collect();
    let mut items: Vec<Item<'_>> =
        cases.iter().zip(&keys).map(|(c, k)| Item { key: k, msg: &c.msg, sig: &c.sig }).collect();
    assert_eq!(sigverify::verify_batch(&items), Ok(()));
    items.reverse();
    assert_eq!(sigverify::verify_batch(&items), Ok(()));
}
