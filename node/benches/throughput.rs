//! Node throughput figures (run: `cargo bench -p node`), in-process on a real
//! RocksDB with synced writes:
//! - mempool admission (decode + signature check + state checks), tx/s;
//! - block production + commit of those transfers in blocks of 500 (execute, Merkle-seal, one
//!   synced batch per block), committed tx/s, and the build and commit-write
//!   phases in µs a transfer (the executor's own timers, `node::phases`);
//! - the cost of an empty height (build + commit), ms.

use std::time::Instant;

use ledger::{Address, Amount, Payload, PublicKey, SigningKey, TxBody};
use node::chain::Chain;
use node::mempool::MempoolLimits;
use node::store::Store;

/// Transactions a block: about what 4 validators put in one at 5k transfers/s.
const BLOCK_TXS: usize = 500;

/// Recipients spread over 20,000 addresses, so each block touches ~1,000
/// accounts of a state tree of ~22,000, as a busy chain's blocks do.
fn recipient(n: u64) -> Address {
    let mut a = [0u8; 20];
    a[..8].copy_from_slice(&(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 20_000).to_be_bytes());
    a[19] = 0x42;
    Address(a)
}

fn main() {
    let senders = 2_000usize;
    let per_sender = 10u64;
    let dir = tempfile::tempdir().expect("tempdir");
    let keys: Vec<SigningKey> = (0..senders)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            SigningKey::from_bytes(&s)
        })
        .collect();
    let validator = SigningKey::from_bytes(&[0xaa; 32]);
    let funded: Vec<&SigningKey> = keys.iter().collect();
    let genesis = node::testing::genesis("bench", &funded, &validator);
    let store = Store::open(&dir.path().join("db"), true).expect("open");
    let limits = MempoolLimits { max_txs: 1_000_000, max_bytes: 1 << 30, max_nonce_gap: 1_000 };
    let chain = Chain::open(store, &genesis, limits, vm::Vm::new(&genesis.params, Default::default()).expect("vm"))
        .expect("chain");
    let me = PublicKey::from_signing_key(&validator);
    // The chain side of one height: build (execute + seal), then commit in one
    // synced batch. The certificate is a stand-in; consensus cost is measured
    // by the consensus crate's `finality` example.
    let produce_one = |chain: &Chain| {
        let executed = chain.build_block(me, 0, None).expect("build");
        let commit = ledger::Commit {
            height: executed.block.header.height,
            round: 0,
            block_hash: executed.block.hash(),
            signatures: vec![],
        };
        chain.commit(executed, &commit).expect("commit");
    };

    let txs: Vec<Vec<u8>> = (0..per_sender)
        .flat_map(|n| {
            keys.iter().enumerate().map(move |(i, k)| {
                TxBody {
                    chain_id: "bench".into(),
                    sender: PublicKey::from_signing_key(k),
                    nonce: n,
                    gas_limit: 10_000,
                    gas_price: Amount::new(1),
                    payload: Payload::Transfer { to: recipient(i as u64 * per_sender + n), amount: Amount::new(1) },
                }
                .sign(k)
                .encode()
            })
        })
        .collect();
    let total = txs.len();

    let t = Instant::now();
    for b in &txs {
        chain.submit_tx(b).expect("admitted");
    }
    let dt = t.elapsed();
    println!("mempool admission: {total} txs in {dt:.2?} = {:.0} tx/s (one thread)", total as f64 / dt.as_secs_f64());

    // Blocks the size the 4-validator network makes at 5k transfers/s.
    chain.set_proposer_max_txs(BLOCK_TXS);
    let t = Instant::now();
    let mut blocks = 0;
    while chain.mempool_size() > 0 {
        produce_one(&chain);
        blocks += 1;
    }
    let dt = t.elapsed();
    println!(
        "produce + commit: {total} transfers in {blocks} blocks, {dt:.2?} = {:.0} committed tx/s",
        total as f64 / dt.as_secs_f64()
    );

    for phase in [node::phases::Phase::Build, node::phases::Phase::Write] {
        let (runs, us) = chain.phases().get(phase);
        println!("  {}: {runs} runs, {:.2} µs per transfer", phase.name(), us as f64 / total as f64);
    }

    let n = 50;
    let t = Instant::now();
    for _ in 0..n {
        produce_one(&chain);
    }
    println!("empty height (build + synced commit): {:.2} ms", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n));
}
