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

/// The rogue-peer half of the table: `agora-rogue` (a libp2p peer with no
/// key) against 4 honest validators. The rogue binary is `AGORA_ROGUE` or
/// this build's. Prints, checks nothing.
#[test]
#[ignore = "prints the before/after table; run on purpose"]
fn print_rogue_table() {
    let rogue = std::env::var("AGORA_ROGUE")
        .ok()
        .or_else(|| option_env!("CARGO_BIN_EXE_agora-rogue").map(str::to_owned))
        .expect("set AGORA_ROGUE to an agora-rogue binary");
    let secs: u64 = std::env::var("ATTACK_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    println!("| rogue attack | node0 heights in {secs} s (none / under attack) | other figure |");
    println!("|---|---|---|");
    let attacks: [(&str, &[&str]); 2] = [
        ("gossip: replay x5 + tamper + junk", &["--replay", "5", "--tamper", "--junk"]),
        ("sync flood (64 requests in flight per peer)", &["--flood-sync", "--flood-concurrency", "64"]),
    ];
    for (name, args) in attacks {
        let dir = tempfile::tempdir().unwrap();
        let net = common::net::start_net(dir.path(), CHAIN, 200);
        wait_all(&net, &[0, 1, 2, 3], 3, 60);
        let pace = |n: &testnet::Testnet| {
            let h = height(n, 0);
            std::thread::sleep(Duration::from_secs(secs));
            height(n, 0) - h
        };
        let base = pace(&net);
        let mut child = spawn_rogue(&rogue, dir.path(), &net, &[0, 1, 2, 3], args);
        std::thread::sleep(Duration::from_secs(2));
        let during = pace(&net);
        let exited = (0..4).filter(|i| !net.is_running(*i)).count();
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(dir.path().join("rogue.out")).unwrap_or_default();
        let last = text.lines().rev().find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        let (answers, busy) =
            last.map_or((0, 0), |v| (v["answers"].as_u64().unwrap_or(0), v["busy"].as_u64().unwrap_or(0)));
        println!(
            "| {name} | {base} / {during} | honest exited: {exited}; sync answers with blocks {answers}, busy {busy} |"
        );
    }
    // A lying tip: a new full node that knows node0 and the rogue.
    let dir = tempfile::tempdir().unwrap();
    let mut net = create_net(dir.path(), CHAIN, 100);
    net.start_all().unwrap();
    wait_all(&net, &[0, 1, 2, 3], 140, 120);
    let port = common::free_port();
    let mut child = spawn_rogue(
        &rogue,
        dir.path(),
        &net,
        &[1],
        &["--listen", &format!("/ip4/127.0.0.1/tcp/{port}"), "--lie-tip", "1000000000"],
    );
    let id = rogue_peer_id(dir.path());
    let full = net.add_full_node().unwrap();
    let path = net.home(full).join("config.toml");
    let mut cfg: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let p2p = cfg.get_mut("p2p").and_then(|v| v.as_table_mut()).unwrap();
    let peers = vec![
        toml::Value::String(net.node(0).multiaddr()),
        toml::Value::String(format!("/ip4/127.0.0.1/tcp/{port}/p2p/{id}")),
    ];
    p2p.insert("persistent_peers".into(), toml::Value::Array(peers));
    p2p.insert("bootstrap_peers".into(), toml::Value::Array(vec![]));
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    let target = height(&net, 0);
    let started = Instant::now();
    net.start(full).unwrap();
    let reached = net.wait_for_height(full, target, Duration::from_secs(60)).is_ok();
    let outcome = if reached {
        format!("reached the tip ({target}) in {:.1} s", started.elapsed().as_secs_f64())
    } else {
        format!("stuck at {} of {target} after 60 s", height(&net, full))
    };
    let _ = child.kill();
    let _ = child.wait();
    println!("| lying tip (10⁹, empty answers) | - | new full node: {outcome} |");
}

fn spawn_rogue(
    bin: &str,
    dir: &std::path::Path,
    net: &testnet::Testnet,
    peers: &[usize],
    args: &[&str],
) -> std::process::Child {
    let genesis =
        common::net::call(net, 0, "agora_status", vec![]).unwrap()["genesis_hash"].as_str().unwrap().to_owned();
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["--chain-id", CHAIN, "--genesis-hash", &genesis]);
    for i in peers {
        cmd.args(["--peer", &net.node(*i).multiaddr()]);
    }
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(dir.join("rogue.out")).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start agora-rogue")
}

/// The rogue's peer id, from its first summary line.
fn rogue_peer_id(dir: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(dir.join("rogue.out")).unwrap_or_default();
        if let Some(v) = text.lines().find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
            return v["peer_id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "the rogue printed nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
}
