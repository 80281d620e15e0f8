//! Ledger throughput figures (run: `cargo bench -p ledger`): signature
//! verification, and executing + sealing a block of signed transfers over the
//! in-memory store (the pure part of the node's per-block cost).

use std::time::Instant;

use ledger::state::genesis_diff;
use ledger::{
    Address, Amount, BlockEnv, ChainParams, Height, MemStore, Payload, PublicKey, SigningKey, TxBody, apply_block,
};

fn main() {
    let n_senders = 2_000usize;
    let per_sender = 5u64;
    let keys: Vec<SigningKey> = (0..n_senders)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            SigningKey::from_bytes(&s)
        })
        .collect();
    let mut store = MemStore::new();
    let balances: Vec<_> =
        keys.iter().map(|k| (PublicKey::from_signing_key(k).address(), Amount::new(1 << 60))).collect();
    let d = genesis_diff(&store, &balances).expect("genesis");
    store.commit(&d);

    let signed: Vec<_> = (0..per_sender)
        .flat_map(|n| {
            keys.iter().enumerate().map(move |(i, k)| {
                TxBody {
                    chain_id: "bench".into(),
                    sender: PublicKey::from_signing_key(k),
                    nonce: n,
                    gas_limit: 10_000,
                    gas_price: Amount::new(1),
                    payload: Payload::Transfer { to: Address([(i % 251) as u8; 20]), amount: Amount::new(1) },
                }
                .sign(k)
            })
        })
        .collect();
    let total = signed.len();

    let t = Instant::now();
    let verified: Vec<_> = signed.into_iter().map(|s| s.verify().expect("valid")).collect();
    let dt = t.elapsed();
    println!(
        "signature verification: {total} txs in {dt:.2?} = {:.0} tx/s (one core)",
        total as f64 / dt.as_secs_f64()
    );

    let params = ChainParams::default();
    let t = Instant::now();
    let mut executed = 0usize;
    for (h, chunk) in verified.chunks(n_senders).enumerate() {
        let env = BlockEnv::new("bench", Height(h as u64 + 1), h as u64 + 1);
        let out = apply_block(&store, &params, env, &ledger::NoContracts, chunk).expect("valid block");
        executed += out.receipts.len();
        store.commit(&out.diff);
    }
    let dt = t.elapsed();
    println!(
        "execute + Merkle-seal {executed} transfers in blocks of {n_senders}: {dt:.2?} = {:.0} tx/s (one core, in-memory store)",
        executed as f64 / dt.as_secs_f64()
    );
}
