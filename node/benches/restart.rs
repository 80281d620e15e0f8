//! Restart cost against chain height (run:
//! `cargo bench -p node --bench restart`). In-process, on a real RocksDB.
//!
//! 1. Builds (or reuses) a one-validator chain of `RESTART_HEIGHT` empty
//!    blocks (default 100 000) in `RESTART_DIR` (default
//!    `$TMPDIR/agora-restart-bench-<height>`), committed with certificates of
//!    that validator, writes not synced (building is not what is measured).
//!    A directory left by an earlier run is reused at the same height,
//!    extended when lower, rebuilt when higher.
//! 2. Measures a restart, `RESTART_RUNS` times (default 5), each on a fresh
//!    `Chain` (the previous one dropped, the validator-set cache empty):
//!    - open: `Store::open` + `Chain::open` (common to both; the `Vm` is made
//!      before the clock starts);
//!    - after: `Chain::proposer_selection()`, the priorities stored with the
//!      tip block;
//!    - before: `Chain::replay_proposer_selection()`, every height replayed
//!      from genesis (how start-up worked before they were stored);
//!
//!    and checks both give the same priorities. Reports median and minimum.
//!    The OS page cache is warm after the first run (a restart right after a
//!    stop is warm too).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use genesis::Genesis;
use ledger::{PublicKey, SigningKey};
use node::chain::Chain;
use node::mempool::MempoolLimits;
use node::store::Store;

const CHAIN_ID: &str = "restart-bench";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A `Chain` on `db` (writes not synced), and how long `Store::open` +
/// `Chain::open` took.
fn open(db: &Path, genesis: &Genesis) -> (Chain, Duration) {
    let vm = vm::Vm::new(&genesis.params, Default::default()).expect("vm");
    let limits = MempoolLimits { max_txs: 1000, max_bytes: 1 << 24, max_nonce_gap: 100 };
    let t = Instant::now();
    let store = Store::open(db, false).expect("store");
    let chain = Chain::open(store, genesis, limits, vm).expect("chain");
    (chain, t.elapsed())
}

fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Brings the chain in `db` to `target` empty blocks; returns the time spent
/// building and the number of blocks built.
fn build(db: &Path, genesis: &Genesis, validator: &SigningKey, target: u64) -> (Duration, u64) {
    let (mut chain, _) = open(db, genesis);
    if chain.tip().height.0 > target {
        println!("{}: height {} is above {target}: rebuilding", db.display(), chain.tip().height);
        drop(chain);
        std::fs::remove_dir_all(db).expect("remove the old chain");
        chain = open(db, genesis).0;
    }
    let from = chain.tip().height.0;
    if from == target {
        println!("reusing the chain of height {target} in {}", db.display());
        return (Duration::ZERO, 0);
    }
    if from > 0 {
        println!("extending the chain in {} from height {from} to {target}", db.display());
    } else {
        println!("building a chain of {target} empty blocks in {}", db.display());
    }
    let me = PublicKey::from_signing_key(validator);
    let t0 = genesis.genesis_time_ms().expect("genesis time");
    let start = Instant::now();
    let mut lap = Instant::now();
    for h in from + 1..=target {
        let last_commit = chain.store().seen_commit().expect("seen commit");
        let executed = chain.build_block(me, t0 + h * 1000, last_commit).expect("build");
        let cert = node::testing::certificate(CHAIN_ID, validator, h, executed.block.hash());
        chain.commit(executed, &cert).expect("commit");
        if h.is_multiple_of(10_000) {
            let per = lap.elapsed().as_secs_f64() * 1000.0 / 10_000.0;
            lap = Instant::now();
            println!("  height {h}: {:.1?} so far, last 10k at {per:.3} ms/block", start.elapsed());
        }
    }
    let dt = start.elapsed();
    let built = target - from;
    println!(
        "built {built} blocks in {dt:.2?}: {:.3} ms/block, {:.0} blocks/s",
        ms(dt) / built as f64,
        built as f64 / dt.as_secs_f64()
    );
    (dt, built)
}

/// Median and minimum, in ms.
fn stats(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 };
    (median, xs[0])
}

fn main() {
    let height = env_or("RESTART_HEIGHT", 100_000).max(1);
    let runs = env_or("RESTART_RUNS", 5).max(1) as usize;
    let dir = std::env::var_os("RESTART_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("agora-restart-bench-{height}")));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let db = dir.join("db");
    let (user, validator) = (SigningKey::from_bytes(&[0x01; 32]), SigningKey::from_bytes(&[0xaa; 32]));
    let genesis = node::testing::genesis(CHAIN_ID, &[&user], &validator);

    build(&db, &genesis, &validator, height);
    println!("chain: height {height}, {:.1} MiB on disk", dir_bytes(&db) as f64 / (1024.0 * 1024.0));

    let (mut open_ms, mut after_ms, mut before_ms) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        // After: a fresh chain reads the priorities stored with the tip.
        let (chain, dt) = open(&db, &genesis);
        assert_eq!(chain.tip().height.0, height);
        let stored = chain.store().proposer_priorities().expect("read").map(|(h, _)| h.0);
        assert_eq!(stored, Some(height + 1), "priorities of the next height are stored");
        open_ms.push(ms(dt));
        let t = Instant::now();
        let after = chain.proposer_selection().expect("stored priorities");
        after_ms.push(ms(t.elapsed()));
        drop(chain);

        // Before: a fresh chain replays every height since genesis.
        let (chain, dt) = open(&db, &genesis);
        open_ms.push(ms(dt));
        let t = Instant::now();
        let before = chain.replay_proposer_selection().expect("replay");
        before_ms.push(ms(t.elapsed()));
        drop(chain);

        assert_eq!(after, before, "stored and replayed priorities differ");
    }
    let (open_med, open_min) = stats(open_ms);
    let (after_med, after_min) = stats(after_ms);
    let (before_med, before_min) = stats(before_ms);
    println!();
    println!("restart, {runs} runs each, median (min), ms; stored and replayed priorities equal");
    println!(
        "{:>8}  {:>18}  {:>18}  {:>20}  {:>10}  {:>14}",
        "height", "open", "after (stored)", "before (replay)", "before/after", "restart b/a"
    );
    println!(
        "{height:>8}  {:>18}  {:>18}  {:>20}  {:>10}  {:>14}",
        format!("{open_med:.2} ({open_min:.2})"),
        format!("{after_med:.4} ({after_min:.4})"),
        format!("{before_med:.1} ({before_min:.1})"),
        format!("{:.0}x", before_med / after_med),
        format!("{:.1}x", (open_med + before_med) / (open_med + after_med)),
    );
}
