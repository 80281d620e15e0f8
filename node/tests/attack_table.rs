//! The before/after table of the byzantine-peers issue: for each attack by
//! a byzantine validator (node3 runs `agorad-byzantine`), what the three
//! honest validators commit in a fixed window. It prints figures and checks
//! nothing about them (the pass/fail checks are in `byzantine_validators`);
//! run it on purpose:
//!
//! `cargo test -p node --release --test attack_table -- --ignored --nocapture`
//!
//! `ATTACK_SECS` sets the window (20 s).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

mod common;

use common::net::{block, create_net, height, wait_all};

const CHAIN: &str = "agora-attack-table";
const BYZANTINE: &str = env!("CARGO_BIN_EXE_agorad-byzantine");
const HONEST: [usize; 3] = [0, 1, 2];

fn count(net: &testnet::Testnet, i: usize, needle: &str) -> usize {
    std::fs::read_to_string(net.log_path(i)).unwrap_or_default().matches(needle).count()
}

#[test]
#[ignore = "prints the before/after table; run on purpose"]
fn print_attack_table() {
    let secs: u64 = std::env::var("ATTACK_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let attacks: [(&str, &[&str]); 4] = [
        ("none (4 honest)", &[]),
        ("proposal flood", &["--flood-proposals"]),
        ("tampered relays", &["--tamper-relay"]),
        ("vote flood", &["--flood-votes"]),
    ];
    println!(
        "| attack | honest heights in {secs} s | blocks decided after round 0 | blocks refused (nil prevotes) | honest exited |"
    );
    println!("|---|---|---|---|---|");
    for (name, args) in attacks {
        let dir = tempfile::tempdir().unwrap();
        let mut net = create_net(dir.path(), CHAIN, 200);
        for i in HONEST {
            net.start(i).unwrap();
        }
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        net.start_with(3, Some(std::path::Path::new(BYZANTINE)), &args).unwrap();
        wait_all(&net, &HONEST, 2, 60);
        let h0 = HONEST.iter().map(|i| height(&net, *i)).min().unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(secs) {
            std::thread::sleep(Duration::from_millis(250));
        }
        let h1 = HONEST.iter().map(|i| height(&net, *i)).min().unwrap();
        // Block h+1 carries the round in which block h was decided.
        let late =
            (h0 + 1..=h1).filter(|h| block(&net, 0, *h)["last_commit"]["round"].as_u64().unwrap_or(0) > 0).count();
        let refused: usize = HONEST.iter().map(|i| count(&net, *i, "refusing a proposed block")).sum();
        let exited = HONEST.iter().filter(|i| !net.is_running(**i)).count();
        println!("| {name} | {} | {late} | {refused} | {exited} |", h1 - h0);
    }
}
