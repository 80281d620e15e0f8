//! Signature verification figures, µs per signature (run: `cargo bench -p
//! sigverify --bench sigverify`), over 4,096 transfer-sized signatures from
//! distinct keys, with keys parsed beforehand (callers keep parsed keys in a
//! cache, so a parse is not part of a verification). The measurements run
//! round-robin for `SIGVERIFY_ROUNDS` rounds (default 7) and each prints its
//! best round, so all of them see the same machine load.
//!
//! The threaded figures split a batch in two halves verified at once on
//! `std::thread::scope` threads: no new dependency, and on 2 cores two chunks
//! are the whole pool; spawning two threads costs tens of µs against the
//! milliseconds a 1,024-signature batch takes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::Signer as _;
use sigverify::{Item, Key};

const N: usize = 4096;

type Signed = Vec<([u8; 32], Vec<u8>, [u8; 64])>;

/// A named measurement: returns how many signatures it checked.
type Case<'a> = (&'static str, Box<dyn FnMut() -> usize + 'a>);

fn sign_all(n: usize, secret: impl Fn(usize) -> [u8; 32]) -> Signed {
    (0..n)
        .map(|i| {
            let sk = ed25519_dalek::SigningKey::from_bytes(&secret(i));
            // About the size of a transfer's sign-bytes.
            let msg: Vec<u8> = (0..120).map(|j| (i * 7 + j) as u8).collect();
            (sk.verifying_key().to_bytes(), msg.clone(), sk.sign(&msg).to_bytes())
        })
        .collect()
}

fn items<'a>(signed: &'a Signed, keys: &'a [Key]) -> Vec<Item<'a>> {
    signed.iter().zip(keys).map(|((_, m, s), k)| Item { key: k, msg: m, sig: s }).collect()
}

fn main() {
    let rounds: usize = std::env::var("SIGVERIFY_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(7).clamp(1, 100);
    let signed = sign_all(N, |i| {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        s
    });
    let dalek_keys: Vec<ed25519_dalek::VerifyingKey> =
        signed.iter().map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(k).expect("valid")).collect();
    let keys: Vec<Key> = signed.iter().map(|(k, _, _)| Key::from_bytes(k).expect("valid")).collect();
    let all = items(&signed, &keys);
    // 1,024 signatures from 16 keys (senders sign many transactions): the
    // batch sums each key's terms.
    let few = sign_all(1024, |i| [(i % 16) as u8 + 1; 32]);
    let few_keys: Vec<Key> = few.iter().map(|(k, _, _)| Key::from_bytes(k).expect("valid")).collect();
    let few_items = items(&few, &few_keys);
    // One bad signature in 256: the batch fails, then each item is verified
    // on its own to name it (the fallback's worst case).
    let mut spoiled = all[..256].to_vec();
    let bad_sig = [0u8; 64];
    spoiled[100].sig = &bad_sig;

    let batches = |size: usize| {
        let all = &all;
        move || {
            for chunk in all.chunks(size) {
                assert!(sigverify::verify_batch(chunk).is_ok());
            }
            N
        }
    };
    let threaded = |size: usize| {
        let all = &all;
        move || {
            for chunk in all.chunks(size) {
                assert!(sigverify::verify_each_parallel(chunk, 2).iter().all(Result::is_ok));
            }
            N
        }
    };
    let mut cases: Vec<Case<'_>> = vec![
        (
            "single, verify_strict (today)",
            Box::new(|| {
                for ((_, m, s), k) in signed.iter().zip(&dalek_keys) {
                    assert!(k.verify_strict(m, &ed25519_dalek::Signature::from_bytes(s)).is_ok());
                }
                N
            }),
        ),
        (
            "single, new rule",
            Box::new(|| {
                for it in &all {
                    assert!(it.verify().is_ok());
                }
                N
            }),
        ),
        (
            "key parse + check (callers cache it)",
            Box::new(|| {
                for (k, _, _) in &signed {
                    assert!(Key::from_bytes(k).is_ok());
                }
                N
            }),
        ),
        ("batch of 64, new rule", Box::new(batches(64))),
        ("batch of 256, new rule", Box::new(batches(256))),
        ("batch of 1024, new rule", Box::new(batches(1024))),
        (
            // Same equation, but it decompresses every key from its bytes.
            "batch of 1024, ed25519-zebra's batch",
            Box::new(|| {
                for chunk in signed.chunks(1024) {
                    let mut v = ed25519_zebra::batch::Verifier::new();
                    for (k, m, s) in chunk {
                        v.queue((
                            ed25519_zebra::VerificationKeyBytes::from(*k),
                            ed25519_zebra::Signature::from_bytes(s),
                            m,
                        ));
                    }
                    assert!(v.verify(rand::thread_rng()).is_ok());
                }
                N
            }),
        ),
        ("batch of 256 on 2 threads (wall)", Box::new(threaded(256))),
        ("batch of 1024 on 2 threads (wall)", Box::new(threaded(1024))),
        (
            "batch of 1024 from 16 keys",
            Box::new(|| {
                assert!(sigverify::verify_batch(&few_items).is_ok());
                few_items.len()
            }),
        ),
        (
            "batch of 256, one bad, + fallback",
            Box::new(|| {
                let v = sigverify::verify_each(&spoiled);
                assert_eq!(v.iter().filter(|r| r.is_err()).count(), 1);
                spoiled.len()
            }),
        ),
    ];
    let mut best = vec![f64::MAX; cases.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in cases.iter_mut().enumerate() {
            let t = Instant::now();
            let n = black_box(f());
            let us = t.elapsed().max(Duration::from_nanos(1)).as_secs_f64() * 1e6 / n as f64;
            best[i] = best[i].min(us);
        }
    }
    println!("ed25519 verification, µs per signature (best of {rounds} round-robin rounds):");
    let strict = best[0];
    for ((name, _), us) in cases.iter().zip(&best) {
        println!("  {name:<38} {us:8.2}   ({:.2}× verify_strict)", strict / us);
    }
}
