//! Seeded simulation of many validators (see `tests/sim/`).
//!
//! - default: 1,000 seeds (`SIM_SEEDS` to change, `SIM_SEED_START` to shift);
//! - `SIM_SEED=1234`: replay exactly one seed and print its trace summary;
//! - `SIM_HEIGHTS` (default 5) heights per seed, `SIM_THREADS` (default 2);
//! - `SIM_BROKEN_LOCK=1`: run with the test-only broken rule (to replay a
//!   seed reported by `tests/broken_lock.rs`; violations are then expected).
//!
//! Run with `--release -- --nocapture` to see the summary line.

#[allow(clippy::unwrap_used)]
mod sim;

use sim::{Options, env_u64, run_seed, summary_line, sweep};

#[test]
#[allow(clippy::disallowed_methods)] // wall time of the test run, not of the core
fn simulate_seeds() {
    let heights = env_u64("SIM_HEIGHTS").unwrap_or(5);
    let opts = Options { heights, broken_lock: env_u64("SIM_BROKEN_LOCK").unwrap_or(0) == 1 };
    if let Some(seed) = env_u64("SIM_SEED") {
        let r = run_seed(seed, &opts, true);
        println!(
            "seed {seed}: {} validators, {} byzantine, simulated {}ms, violations {}\n{}",
            r.validators,
            r.byzantine,
            r.sim_time_ms,
            r.violations.len(),
            r.summary
        );
        for v in &r.violations {
            println!("  VIOLATION {v}");
        }
        assert!(r.violations.is_empty(), "seed {seed} violated invariants");
        return;
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(1_000);
    let start = env_u64("SIM_SEED_START").unwrap_or(0);
    let threads = env_u64("SIM_THREADS").unwrap_or(2) as usize;
    let t0 = std::time::Instant::now();
    let reports = sweep(start, count, threads, &opts, None);
    let wall = t0.elapsed().as_millis();
    println!("simulation: heights/seed={heights} {}", summary_line(&reports, wall));
    let bad: Vec<_> = reports.iter().filter(|r| !r.violations.is_empty()).collect();
    for r in bad.iter().take(5) {
        println!(
            "FAILED seed {} — replay with: SIM_SEED={} cargo test --release -p consensus --test simulation -- --nocapture",
            r.seed, r.seed
        );
        for v in &r.violations {
            println!("  {v}");
        }
        println!("{}", r.summary);
    }
    assert!(bad.is_empty(), "{} seed(s) violated invariants", bad.len());
    // Validators that decide from others' precommits still sign and send
    // their own precommit of the deciding round (it happens in a few
    // heights of most sweeps; 200 seeds give about 300).
    let decision_precommits: u64 = reports.iter().map(|r| r.counts.decision_precommits).sum();
    assert!(
        reports.len() < 100 || decision_precommits > 0,
        "no decider ever sent its own precommit after the decision"
    );
}
