//! Signature verification figures, µs per signature (run: `cargo bench -p
//! sigverify --bench sigverify`). Each figure is the best of 5 runs over the
//! same 4,096 transfer-sized signatures from distinct keys, with keys parsed
//! beforehand (the ledger keeps parsed keys in a cache, so a parse is not
//! part of a verification).
//!
//! The threaded figure splits a batch in two halves verified at once on
//! `std::thread::scope` threads: no new dependency, and on 2 cores two chunks
//! are the whole pool; spawning two threads costs tens of µs against the
//! milliseconds a 1,024-signature batch takes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::Signer as _;
use sigverify::{Item, Key};

const N: usize = 4096;
const RUNS: usize = 5;

fn best(mut f: impl FnMut() -> usize) -> f64 {
    let mut best = Duration::MAX;
    let mut per = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        per = black_box(f());
        best = best.min(t.elapsed());
    }
    best.as_secs_f64() * 1e6 / per as f64
}

fn main() {
    let signed: Vec<([u8; 32], Vec<u8>, [u8; 64])> = (0..N)
        .map(|i| {
            let mut secret = [0u8; 32];
            secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            let sk = ed25519_dalek::SigningKey::from_bytes(&secret);
            // About the size of a transfer's sign-bytes.
            let msg: Vec<u8> = (0..120).map(|j| (i * 7 + j) as u8).collect();
            (sk.verifying_key().to_bytes(), msg.clone(), sk.sign(&msg).to_bytes())
        })
        .collect();
    let dalek_keys: Vec<ed25519_dalek::VerifyingKey> =
        signed.iter().map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(k).expect("valid")).collect();
    let keys: Vec<Key> = signed.iter().map(|(k, _, _)| Key::from_bytes(k).expect("valid")).collect();
    let items: Vec<Item<'_>> =
        signed.iter().zip(&keys).map(|((_, m, s), k)| Item { key: k, msg: m, sig: s }).collect();

    println!("ed25519 verification, µs per signature (best of {RUNS}, {N} signatures, distinct keys):");
    let strict = best(|| {
        for ((_, m, s), k) in signed.iter().zip(&dalek_keys) {
            assert!(k.verify_strict(m, &ed25519_dalek::Signature::from_bytes(s)).is_ok());
        }
        N
    });
    println!("  single, verify_strict (today)         {strict:8.2}");
    let single = best(|| {
        for it in &items {
            assert!(it.verify().is_ok());
        }
        N
    });
    println!("  single, new rule                      {single:8.2}");
    let parse = best(|| {
        for (k, _, _) in &signed {
            assert!(Key::from_bytes(k).is_ok());
        }
        N
    });
    println!("  key parse + check (cached by callers) {parse:8.2}");
    for size in [64, 256, 1024] {
        let us = best(|| {
            for chunk in items.chunks(size) {
                assert!(sigverify::verify_batch(chunk).is_ok());
            }
            N
        });
        println!("  batch of {size:4}, new rule              {us:8.2}   ({:.2}× single strict)", strict / us);
    }
    for size in [256, 1024] {
        let us = best(|| {
            for chunk in items.chunks(size) {
                assert!(sigverify::verify_each_parallel(chunk, 2).iter().all(Result::is_ok));
            }
            N
        });
        println!("  batch of {size:4} on 2 threads           {us:8.2}   ({:.2}× single strict, wall clock)", strict / us);
    }
    // Same 1,024 signatures from 16 keys (senders sign many transactions):
    // the batch coalesces the key terms.
    let few: Vec<([u8; 32], Vec<u8>, [u8; 64])> = (0..1024)
        .map(|i| {
            let sk = ed25519_dalek::SigningKey::from_bytes(&[(i % 16) as u8 + 1; 32]);
            let msg: Vec<u8> = (0..120).map(|j| (i * 7 + j) as u8).collect();
            (sk.verifying_key().to_bytes(), msg.clone(), sk.sign(&msg).to_bytes())
        })
        .collect();
    let few_keys: Vec<Key> = few.iter().map(|(k, _, _)| Key::from_bytes(k).expect("valid")).collect();
    let few_items: Vec<Item<'_>> =
        few.iter().zip(&few_keys).map(|((_, m, s), k)| Item { key: k, msg: m, sig: s }).collect();
    let us = best(|| {
        assert!(sigverify::verify_batch(&few_items).is_ok());
        few_items.len()
    });
    println!("  batch of 1024 from 16 keys            {us:8.2}   ({:.2}× single strict)", strict / us);
    // One bad signature in a batch of 256: the batch fails, then every item
    // is verified on its own to name it (the worst case of the fallback).
    let mut spoiled = items[..256].to_vec();
    let bad_sig = [0u8; 64];
    spoiled[100].sig = &bad_sig;
    let us = best(|| {
        let v = sigverify::verify_each(&spoiled);
        assert_eq!(v.iter().filter(|r| r.is_err()).count(), 1);
        spoiled.len()
    });
    println!("  batch of 256 with one bad + fallback  {us:8.2}");
}
