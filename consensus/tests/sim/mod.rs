//! Deterministic simulator shared by `tests/simulation.rs`,
//! `tests/broken_lock.rs` and `examples/finality.rs`.
//!
//! One seed → one `ChaCha8Rng` → one scenario and one trace. Seeds run in
//! parallel threads, but each seed is single-threaded and self-contained,
//! so `SIM_SEED=<n>` replays exactly the same trace.
#![allow(dead_code)]

pub mod byzantine;
pub mod checker;
pub mod net;
pub mod node;
pub mod scenario;
pub mod world;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use scenario::Scenario;
use world::{Counts, Sim};

/// Reads an integer environment variable.
pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[derive(Clone, Debug)]
pub struct Options {
    pub heights: u64,
    pub broken_lock: bool,
}

#[derive(Clone, Debug)]
pub struct SeedReport {
    pub seed: u64,
    pub validators: usize,
    pub byzantine: usize,
    pub counts: Counts,
    pub sim_time_ms: u64,
    pub violations: Vec<String>,
    pub agreement_violation: bool,
    /// Scenario and trace summary (filled when something was violated or
    /// when asked for).
    pub summary: String,
}

fn describe(sc: &Scenario) -> String {
    format!(
        "  scenario: powers {:?}, byzantine {:?}, GST {}ms, pre-GST drop {}‰ dup {}‰ delay ≤{}ms, \
         {} partition(s), {} planned crash(es), crash-at-sign {}‰, fork-attack {}, heights {}\n",
        sc.powers,
        sc.byzantine.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect::<Vec<_>>(),
        sc.gst,
        sc.pre.drop_permille,
        sc.pre.dup_permille,
        sc.pre.max_delay_ms,
        sc.partitions.len(),
        sc.crashes.len(),
        sc.crash_at_sign_permille,
        sc.byz.fork_attack && sc.byzantine.iter().any(|b| *b),
        sc.heights
    )
}

/// Runs one seed of the randomised sweep.
pub fn run_seed(seed: u64, opts: &Options, verbose: bool) -> SeedReport {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sc = Scenario::draw(&mut rng, opts.heights);
    run_scenario(seed, sc, rng, opts.broken_lock, verbose).0
}

/// Runs a given scenario; returns the report and the finished world.
pub fn run_scenario(
    seed: u64,
    sc: Scenario,
    rng: ChaCha8Rng,
    broken_lock: bool,
    verbose: bool,
) -> (SeedReport, Option<Sim>) {
    let desc = describe(&sc);
    let (n, byz) = (sc.n(), sc.byzantine_count());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut sim = Sim::new(sc, rng, broken_lock, verbose);
        sim.run();
        sim
    }));
    match result {
        Ok(sim) => {
            let violations = sim.checker.violations.clone();
            let summary = if verbose || !violations.is_empty() {
                format!(
                    "{desc}  counts: {:?}\n  nodes at the end:\n{}  last events:\n{}",
                    sim.counts,
                    sim.node_states(),
                    sim.checker.trace_summary()
                )
            } else {
                String::new()
            };
            let report = SeedReport {
                seed,
                validators: n,
                byzantine: byz,
                counts: sim.counts,
                sim_time_ms: sim.now,
                violations,
                agreement_violation: sim.checker.agreement_violation,
                summary,
            };
            (report, Some(sim))
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let report = SeedReport {
                seed,
                validators: n,
                byzantine: byz,
                counts: Counts::default(),
                sim_time_ms: 0,
                violations: vec![format!("PANIC: {msg}")],
                agreement_violation: false,
                summary: desc,
            };
            (report, None)
        }
    }
}

/// Runs `count` seeds from `start` on `threads` threads. With `stop_when`,
/// stops handing out seeds after the first report matching it (the reports
/// then hold every seed up to the smallest match, so the result is
/// deterministic whatever the thread timing).
pub fn sweep(
    start: u64,
    count: u64,
    threads: usize,
    opts: &Options,
    stop_when: Option<fn(&SeedReport) -> bool>,
) -> Vec<SeedReport> {
    let stop_at_first = stop_when.is_some();
    let next = AtomicU64::new(start);
    let first_bad = AtomicU64::new(u64::MAX);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= start + count || (stop_at_first && seed > first_bad.load(Ordering::SeqCst)) {
                        break;
                    }
                    let r = run_seed(seed, opts, false);
                    if stop_when.is_some_and(|f| f(&r)) {
                        first_bad.fetch_min(seed, Ordering::SeqCst);
                    }
                    if let Ok(mut v) = out.lock() {
                        v.push(r);
                    }
                }
            });
        }
    });
    let mut v = out.into_inner().unwrap_or_default();
    v.sort_by_key(|r| r.seed);
    if stop_at_first {
        let bad = first_bad.load(Ordering::SeqCst);
        v.retain(|r| r.seed <= bad);
    }
    v
}

/// One line summarising a sweep.
pub fn summary_line(reports: &[SeedReport], wall_ms: u128) -> String {
    let mut c = Counts::default();
    let mut sim_ms = 0u64;
    let mut byz_seeds = 0;
    let mut byz_total = 0;
    let (mut vmin, mut vmax) = (usize::MAX, 0);
    for r in reports {
        c.add(&r.counts);
        sim_ms += r.sim_time_ms;
        if r.byzantine > 0 {
            byz_seeds += 1;
        }
        byz_total += r.byzantine;
        vmin = vmin.min(r.validators);
        vmax = vmax.max(r.validators);
    }
    let violations: usize = reports.iter().map(|r| r.violations.len()).sum();
    format!(
        "seeds={} validators={}..{} byzantine={} (in {} seeds) | faults: drops={} dups={} partitions={} \
         crashes={} (at-sign {}) equivocations={} random-votes={} invalid-values={} | evidence={} syncs={} \
         refused-signatures={} prevotes-against-lock={} decision-precommits={} max-round={} delivered={} | simulated={:.1}h wall={:.1}s | violations={}",
        reports.len(),
        vmin,
        vmax,
        byz_total,
        byz_seeds,
        c.dropped,
        c.duplicated,
        c.partitions,
        c.crashes,
        c.crash_at_sign,
        c.equivocations,
        c.random_votes,
        c.invalid_built,
        c.evidence,
        c.syncs,
        c.refused_signatures,
        c.prevotes_against_lock,
        c.decision_precommits,
        c.max_round,
        c.delivered,
        sim_ms as f64 / 3_600_000.0,
        wall_ms as f64 / 1000.0,
        violations
    )
}
