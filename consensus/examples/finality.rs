//! Simulated-time finality report and core CPU cost.
//!
//! 1. 100 validators (equal power), no faults, every link 50 ms ± 10 ms
//!    (uniform): median and p99 simulated time from a proposal's release by
//!    the proposer to each validator's decision, over many heights.
//! 2. CPU cost of the core for an empty height with 4 validators: real
//!    wall time spent inside `Consensus::handle` (signing excluded — it is
//!    the edge's job), messages delivered instantly in memory.
//!
//! `cargo run --release -p consensus --example finality`
//! Env: `FIN_VALIDATORS` (100), `FIN_HEIGHTS` (10), `FIN_DELAY_MS` (50),
//! `FIN_JITTER_MS` (10), `FIN_SEED` (1), `BENCH_HEIGHTS` (2000).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // wall-clock timing of the example itself

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use consensus::{
    ChainId, Config, Consensus, Effect, Height, Input, ProposerSelection, SignedMessage, Signer, SignerState,
    StartHeight, Validator, ValidatorId, ValidatorSet, ValueId, VotingPower,
};
use ed25519_dalek::SigningKey;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sim::env_u64;
use sim::scenario::Scenario;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

fn finality() {
    let n = env_u64("FIN_VALIDATORS").unwrap_or(100) as usize;
    let heights = env_u64("FIN_HEIGHTS").unwrap_or(10);
    let delay = env_u64("FIN_DELAY_MS").unwrap_or(50);
    let jitter = env_u64("FIN_JITTER_MS").unwrap_or(10);
    let seed = env_u64("FIN_SEED").unwrap_or(1);
    let sc = Scenario::steady(n, delay, jitter, heights);
    let t0 = Instant::now();
    let (report, world) = sim::run_scenario(seed, sc, ChaCha8Rng::seed_from_u64(seed), false, false);
    let wall = t0.elapsed();
    let world = world.expect("simulation panicked");
    assert!(report.violations.is_empty(), "violations: {:?}", report.violations);
    let mut lat: Vec<u64> =
        world.decisions.iter().filter_map(|(_, h, r, t)| world.proposal_time.get(&(*h, *r)).map(|p| t - p)).collect();
    lat.sort_unstable();
    let rounds: Vec<u32> = world.decisions.iter().map(|d| d.2.0).collect();
    println!(
        "finality: {n} validators, link {delay}±{jitter} ms, {heights} heights, {} decisions (round > 0: {})",
        lat.len(),
        rounds.iter().filter(|r| **r > 0).count()
    );
    println!(
        "  proposal -> decision: min {} ms, median {} ms, p99 {} ms, max {} ms",
        lat.first().copied().unwrap_or(0),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0)
    );
    println!(
        "  simulated {} ms, {} messages delivered, wall {:.1} s",
        report.sim_time_ms,
        report.counts.delivered,
        wall.as_secs_f64()
    );
}

/// Happy-path driver for the CPU measurement: instant delivery, guarded
/// signing, the app accepts everything.
fn bench_core() {
    let heights = env_u64("BENCH_HEIGHTS").unwrap_or(2000);
    let chain = ChainId::new("bench").unwrap();
    let mut keys: Vec<SigningKey> = (1..=4u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
    keys.sort_by_key(|k| k.verifying_key().to_bytes());
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator { public_key: ValidatorId(k.verifying_key().to_bytes()), power: VotingPower(1) })
            .collect(),
    )
    .unwrap();
    let mut cores: Vec<Consensus> = keys
        .iter()
        .map(|k| Consensus::new(Config::new(chain.clone(), Some(ValidatorId(k.verifying_key().to_bytes())))).unwrap())
        .collect();
    let mut signers: Vec<Signer> =
        keys.iter().map(|k| Signer::new(k.clone(), chain.clone(), SignerState::default())).collect();
    let mut sel = ProposerSelection::genesis(&set);
    let mut sels = vec![sel.clone()];
    for _ in 0..heights {
        sel = sel.next_height(&set);
        sels.push(sel.clone());
    }
    let start = |h: u64| {
        Input::StartHeight(Box::new(StartHeight {
            height: Height(h),
            validators: set.clone(),
            proposer_selection: sels[(h - 1) as usize].clone(),
            wal: Vec::new(),
        }))
    };
    let mut queue: VecDeque<(usize, Input)> = (0..4).map(|i| (i, start(1))).collect();
    let mut in_core = Duration::ZERO;
    let mut calls = 0u64;
    let mut decided = 0u64;
    let t0 = Instant::now();
    while let Some((i, input)) = queue.pop_front() {
        let t = Instant::now();
        let effects = cores[i].handle(input);
        in_core += t.elapsed();
        calls += 1;
        let Ok(effects) = effects else { continue };
        for e in effects {
            match e {
                Effect::Broadcast(m) => {
                    for j in (0..4).filter(|j| *j != i) {
                        let input = match m.clone() {
                            SignedMessage::Proposal(p) => Input::ProposalReceived(p),
                            SignedMessage::Vote(v) => Input::VoteReceived(v),
                        };
                        queue.push_back((j, input));
                    }
                }
                Effect::SignVote(v) => {
                    queue.push_back((i, Input::VoteSigned(signers[i].sign_vote(&v).unwrap().release())))
                }
                Effect::SignProposal(p) => {
                    queue.push_back((i, Input::ProposalSigned(signers[i].sign_proposal(&p).unwrap().release())))
                }
                Effect::RequestValue { height, round } => {
                    let mut v = [0u8; 32];
                    v[..8].copy_from_slice(&height.0.to_le_bytes());
                    v[8..12].copy_from_slice(&round.0.to_le_bytes());
                    queue.push_back((i, Input::ValueBuilt { height, round, value_id: ValueId(v) }));
                }
                Effect::ValidateValue { height, value_id, .. } => {
                    queue.push_back((i, Input::ValueValidated { height, value_id, valid: true }))
                }
                Effect::Decide { height, .. } => {
                    decided += 1;
                    if height.0 < heights {
                        queue.push_back((i, start(height.0 + 1)));
                    }
                }
                _ => {}
            }
        }
    }
    let total = t0.elapsed();
    assert_eq!(decided, 4 * heights, "every node decides every height");
    // What one strict signature check costs on this machine, for scale.
    let vote =
        consensus::Vote::prevote(Height(1), consensus::Round(0), None, ValidatorId(keys[0].verifying_key().to_bytes()));
    let sv = consensus::signing::sign_vote_unguarded(&keys[0], &chain, vote);
    let vk = keys[0].verifying_key();
    let reps = 2000u32;
    let tv = Instant::now();
    for _ in 0..reps {
        assert!(sv.verify(&chain, &vk).is_ok());
    }
    let verify_us = tv.elapsed().as_nanos() as f64 / f64::from(reps) / 1000.0;
    let per = in_core.as_nanos() as f64 / (4 * heights) as f64 / 1000.0;
    println!(
        "core cost: 4 validators, {heights} empty heights: {per:.1} µs inside `handle` per validator per height \
         ({:.1} inputs each); it verifies 6.75 signatures per validator-height on average (each message once), \
         and one verify_strict (with its sign-bytes) costs {verify_us:.1} µs here, i.e. {:.1} µs of the total; \
         whole run {:.2} s incl. signing",
        calls as f64 / (4 * heights) as f64,
        6.75 * verify_us,
        total.as_secs_f64()
    );
}

fn main() {
    finality();
    bench_core();
}
