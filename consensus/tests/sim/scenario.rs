//! What one seed simulates: validators and powers, who is byzantine, the
//! link model before and after GST, partitions, crashes, the app's delays.
//! Everything is drawn from the seed's single RNG, first thing, so a seed
//! fully determines its scenario.

use consensus::TimeoutConfig;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Link behaviour in one period (probabilities in per-mille).
#[derive(Clone, Copy, Debug)]
pub struct LinkModel {
    pub drop_permille: u32,
    pub dup_permille: u32,
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
}

/// A network split: nodes with `side[i] == true` cannot talk to the others
/// between `start` and `end` (messages sent meanwhile are lost).
#[derive(Clone, Debug)]
pub struct Partition {
    pub start: u64,
    pub end: u64,
    pub side: Vec<bool>,
}

/// A planned crash (and restart) of an honest node.
#[derive(Clone, Copy, Debug)]
pub struct Crash {
    pub node: usize,
    pub at: u64,
    pub restart_at: u64,
}

/// Byzantine behaviour (per-mille per own message).
#[derive(Clone, Copy, Debug)]
pub struct ByzModel {
    pub equivocate_permille: u32,
    pub random_vote_permille: u32,
    pub double_proposal_permille: u32,
    pub silent_permille: u32,
    /// As proposer, ignore validValue and propose a fresh value (the
    /// amnesia attack that locks exist to stop).
    pub fresh_proposal_permille: u32,
    /// Send a non-nil precommit to only a few peers (so that some decide
    /// and others cannot).
    pub withhold_precommit_permille: u32,
    /// Coordinated fork attempt (see `byzantine.rs`).
    pub fork_attack: bool,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub powers: Vec<u64>,
    pub byzantine: Vec<bool>,
    pub gst: u64,
    pub pre: LinkModel,
    pub post: LinkModel,
    pub partitions: Vec<Partition>,
    pub crashes: Vec<Crash>,
    /// Chance (per-mille, before GST) that a node crashes right after its
    /// guard persisted a signature and before the WAL write.
    pub crash_at_sign_permille: u32,
    /// Chance (per-mille, before GST) that a node crashes right after
    /// committing a block — it cannot tell anyone, the others must finish
    /// the height on their own (this is what makes a broken lock visible).
    pub crash_after_decide_permille: u32,
    pub byz: ByzModel,
    pub build_max_ms: u64,
    pub validate_max_ms: u64,
    /// Per-mille of app-built values the app itself later judges invalid.
    pub invalid_permille: u32,
    pub heights: u64,
    /// The cores' timeouts (varied per seed: short timeouts and slow
    /// rebroadcasts make races between rounds, and bugs, more likely).
    pub timeouts: TimeoutConfig,
    /// Liveness bound: after max(GST, previous height), every honest node
    /// decides the next height within this much simulated time.
    pub liveness_bound_ms: u64,
}

impl Scenario {
    pub fn n(&self) -> usize {
        self.powers.len()
    }

    pub fn byzantine_count(&self) -> usize {
        self.byzantine.iter().filter(|b| **b).count()
    }

    /// The randomised scenario of the default sweep.
    pub fn draw(rng: &mut ChaCha8Rng, heights: u64) -> Scenario {
        let n = rng.gen_range(4..=7usize);
        let powers: Vec<u64> = (0..n).map(|_| rng.gen_range(1..=10u64)).collect();
        let total: u64 = powers.iter().sum();
        // Byzantine validators: add random ones while their power stays
        // strictly below 1/3 of the total (f < n/3 by power).
        let mut byzantine = vec![false; n];
        if rng.gen_range(0..100) < 60 {
            let want = rng.gen_range(1..=n / 2);
            let mut byz_power = 0;
            for _ in 0..want {
                let i = rng.gen_range(0..n);
                if !byzantine[i] && 3 * (byz_power + powers[i]) < total {
                    byzantine[i] = true;
                    byz_power += powers[i];
                }
            }
        }
        let gst = if rng.gen_range(0..10) == 0 { 0 } else { rng.gen_range(1_000..=15_000u64) };
        let pre = LinkModel {
            drop_permille: rng.gen_range(0..=350),
            dup_permille: rng.gen_range(0..=150),
            min_delay_ms: 1,
            max_delay_ms: rng.gen_range(20..=3_000),
        };
        let post = LinkModel { drop_permille: 0, dup_permille: 50, min_delay_ms: 1, max_delay_ms: 200 };
        let mut partitions = Vec::new();
        if gst > 0 {
            for _ in 0..rng.gen_range(0..=2) {
                let start = rng.gen_range(0..gst);
                let end = rng.gen_range(start..=gst);
                let side = (0..n).map(|_| rng.gen_bool(0.5)).collect();
                partitions.push(Partition { start, end, side });
            }
        }
        let mut crashes = Vec::new();
        if gst > 0 {
            for (node, byz) in byzantine.iter().enumerate() {
                if !byz && rng.gen_range(0..100) < 25 {
                    let at = rng.gen_range(0..gst);
                    let restart_at = (at + rng.gen_range(200..=8_000)).min(gst).max(at + 1);
                    crashes.push(Crash { node, at, restart_at });
                }
            }
        }
        Scenario {
            powers,
            byzantine,
            gst,
            pre,
            post,
            partitions,
            crashes,
            crash_at_sign_permille: if gst > 0 { rng.gen_range(0..=20) } else { 0 },
            crash_after_decide_permille: if gst > 0 { rng.gen_range(0..=1000) } else { 0 },
            byz: ByzModel {
                equivocate_permille: rng.gen_range(100..=600),
                random_vote_permille: rng.gen_range(0..=200),
                double_proposal_permille: rng.gen_range(100..=700),
                silent_permille: rng.gen_range(0..=200),
                fresh_proposal_permille: rng.gen_range(0..=1000),
                withhold_precommit_permille: rng.gen_range(0..=1000),
                fork_attack: rng.gen_bool(0.5),
            },
            build_max_ms: 100,
            validate_max_ms: 50,
            invalid_permille: 100,
            heights,
            timeouts: if rng.gen_bool(0.5) {
                TimeoutConfig::default()
            } else {
                TimeoutConfig {
                    propose_base_ms: rng.gen_range(300..=3_000),
                    propose_delta_ms: rng.gen_range(100..=500),
                    prevote_base_ms: rng.gen_range(100..=1_000),
                    prevote_delta_ms: rng.gen_range(100..=500),
                    precommit_base_ms: rng.gen_range(100..=1_000),
                    precommit_delta_ms: rng.gen_range(100..=500),
                    rebroadcast_ms: rng.gen_range(500..=8_000),
                }
            },
            liveness_bound_ms: 60_000,
        }
    }

    /// A fault-free network of `n` equal validators with `delay ± jitter`
    /// links (the finality measurement).
    pub fn steady(n: usize, delay_ms: u64, jitter_ms: u64, heights: u64) -> Scenario {
        let link = LinkModel {
            drop_permille: 0,
            dup_permille: 0,
            min_delay_ms: delay_ms - jitter_ms,
            max_delay_ms: delay_ms + jitter_ms,
        };
        Scenario {
            powers: vec![1; n],
            byzantine: vec![false; n],
            gst: 0,
            pre: link,
            post: link,
            partitions: Vec::new(),
            crashes: Vec::new(),
            crash_at_sign_permille: 0,
            crash_after_decide_permille: 0,
            byz: ByzModel {
                equivocate_permille: 0,
                random_vote_permille: 0,
                double_proposal_permille: 0,
                silent_permille: 0,
                fresh_proposal_permille: 0,
                withhold_precommit_permille: 0,
                fork_attack: false,
            },
            build_max_ms: 0,
            validate_max_ms: 0,
            invalid_permille: 0,
            heights,
            timeouts: TimeoutConfig::default(),
            liveness_bound_ms: 60_000,
        }
    }
}
