//! Byzantine *peers* against a real 4-validator network (separate `agorad`
//! processes on loopback): `agora-rogue` processes (TESTING ONLY: libp2p
//! peers that hold no validator key) replay, tamper with and forge gossip,
//! flood block sync, or lie about their tip. Each test checks that the
//! honest validators keep committing within a bounded time while the attack
//! runs, that no honest process exits, that every node has the same blocks
//! and state roots, and that the attack was recognised or contained: the
//! nodes log the attacker's peer id as a sender of invalid gossip or as
//! penalised, its own counters show the answers it got ("busy",
//! disconnections), or a bystander peer shows nothing bad was relayed.
//!
//! Every process is killed when its handle drops (`OwnedTestnet`, `Rogue`),
//! every wait has a deadline, and the tests run one at a time (a lock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;

use common::net::{assert_same_chain, call, create_net, height, start_net, wait_all};
use serde_json::Value;
use testnet::Testnet;

static SERIAL: Mutex<()> = Mutex::new(());
const CHAIN: &str = "agora-byzantine-peers-e2e";
const ROGUE: &str = env!("CARGO_BIN_EXE_agora-rogue");
const ALL: [usize; 4] = [0, 1, 2, 3];

/// A running `agora-rogue`, killed when dropped. Its stdout (one JSON
/// summary per line) goes to `DIR/NAME.out`.
struct Rogue {
    name: String,
    child: Child,
    out: PathBuf,
    peer_id: String,
}

impl Rogue {
    /// Starts `agora-rogue` against `peers` with `args`; returns once it
    /// printed its first line (its peer id).
    fn start(dir: &Path, name: &str, net: &Testnet, peers: &[String], args: &[&str]) -> Rogue {
        let genesis = call(net, 0, "agora_status", vec![]).unwrap()["genesis_hash"].as_str().unwrap().to_owned();
        let out = dir.join(format!("{name}.out"));
        let mut cmd = Command::new(ROGUE);
        cmd.args(["--chain-id", CHAIN, "--genesis-hash", &genesis, "--report-ms", "300"]);
        for p in peers {
            cmd.args(["--peer", p]);
        }
        cmd.args(args);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).unwrap())
            .spawn()
            .expect("start agora-rogue");
        let mut r = Rogue { name: name.into(), child, out, peer_id: String::new() };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = r.try_summary() {
                r.peer_id = s["peer_id"].as_str().unwrap().to_owned();
                return r;
            }
            assert!(Instant::now() < deadline && r.is_running(), "{name} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The latest summary line, if any.
    fn try_summary(&self) -> Option<Value> {
        let text = std::fs::read_to_string(&self.out).ok()?;
        text.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok())
    }

    fn summary(&self) -> Value {
        self.try_summary().unwrap_or_else(|| panic!("{} printed no summary", self.name))
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until the rogue is connected to `n` peers.
    fn wait_connected(&mut self, n: u64, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.summary()["connected"].as_u64().unwrap() < n {
            assert!(self.is_running(), "{} exited", self.name);
            assert!(Instant::now() < deadline, "{} did not connect to {n} peers: {}", self.name, self.summary());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its counters for one peer (`net.node(i).node_id`).
    fn peer(&self, id: &str) -> Value {
        self.summary()["peers"][id].clone()
    }
}

impl Drop for Rogue {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn all_running(net: &Testnet) {
    for i in 0..net.nodes() {
        assert!(net.is_running(i), "node{i} exited: {}", net.exited_message(i));
    }
}

fn log(net: &Testnet, i: usize) -> String {
    std::fs::read_to_string(net.log_path(i)).unwrap_or_default()
}

/// Does node `i`'s log have a line with `what` that names `peer`?
fn logged_for(net: &Testnet, i: usize, what: &str, peer: &str) -> bool {
    log(net, i).lines().any(|l| l.contains(what) && l.contains(peer))
}

fn addrs(net: &Testnet, nodes: &[usize]) -> Vec<String> {
    nodes.iter().map(|i| net.node(*i).multiaddr()).collect()
}

fn min_height(net: &Testnet, nodes: &[usize]) -> u64 {
    nodes.iter().map(|i| height(net, *i)).min().unwrap()
}

fn counter(s: &Value, key: &str) -> u64 {
    s[key].as_u64().unwrap_or_else(|| panic!("no `{key}` in {s}"))
}

#[test]
fn replayed_tampered_and_junk_gossip_from_rogue_peers_neither_stalls_nor_splits_the_chain() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let net = start_net(dir.path(), CHAIN, 200);
    wait_all(&net, &ALL, 3, 60);
    let peers = addrs(&net, &ALL);
    // One rogue per behaviour, so each verdict can be told apart by peer id.
    let mut replay = Rogue::start(dir.path(), "replay", &net, &peers, &["--replay", "5"]);
    let mut tamper = Rogue::start(dir.path(), "tamper", &net, &peers, &["--tamper", "--tamper-copies", "4"]);
    let mut junk = Rogue::start(dir.path(), "junk", &net, &peers, &["--junk"]);
    for r in [&mut replay, &mut tamper, &mut junk] {
        r.wait_connected(4, 20);
    }
    let attack = Instant::now();
    let before = [replay.summary(), tamper.summary(), junk.summary()];
    let h0 = min_height(&net, &ALL);
    wait_all(&net, &ALL, h0 + 40, 90);
    let gained_in = attack.elapsed();
    // The rogues attacked throughout: alive, and every counter moved.
    for (r, (key, b)) in [&mut replay, &mut tamper, &mut junk].into_iter().zip([
        ("replayed", &before[0]),
        ("tampered", &before[1]),
        ("junk", &before[2]),
    ]) {
        assert!(r.is_running(), "{} exited", r.name);
        let now = r.summary();
        assert!(counter(&now, key) > counter(b, key), "{} sent nothing more during the window: {now}", r.name);
    }
    let rs = replay.summary();
    assert!(counter(&rs, "replayed") >= 200, "replay rogue sent too little: {rs}");
    assert!(counter(&rs, "replayed_late") > 0, "no copy was re-sent after the duplicate cache expired: {rs}");
    assert!(counter(&tamper.summary(), "tampered") >= 20, "{}", tamper.summary());
    assert!(counter(&junk.summary(), "junk") >= 100, "{}", junk.summary());

    all_running(&net);
    let tip = min_height(&net, &ALL);
    assert_same_chain(&net, &ALL, tip);
    for i in ALL {
        // Forged votes and undecodable bytes are invalid gossip: every
        // validator rejected them and blames that sender.
        assert!(
            logged_for(&net, i, "peer sent invalid gossip", &junk.peer_id),
            "node{i} never rejected the junk rogue's messages:\n{}",
            net.log_tail(i, 40)
        );
        // Copies of valid messages are duplicates, not offences.
        assert!(
            !logged_for(&net, i, "peer sent invalid gossip", &replay.peer_id)
                && !logged_for(&net, i, "peer penalised", &replay.peer_id),
            "node{i} blamed the replaying peer for copies of valid messages"
        );
        // Tampered copies never stood in for the real bodies.
        assert!(!log(&net, i).contains("refusing a proposed block"), "node{i} refused a real block");
    }
    // No validator relayed a tampered body: the replaying rogue (never
    // blamed, so in every validator's mesh, and relayed to) got the real
    // proposals and never a bad body. (A tampered copy of a proposal the
    // node already holds is dropped unchecked, so the tamperer is blamed
    // only for copies that beat the real one: not asserted.)
    let rs = replay.summary();
    assert!(counter(&rs, "proposals") >= 20, "the replay rogue got too few proposals to tell: {rs}");
    assert!(counter(&rs, "relayed") > 0, "no validator relays to the replay rogue: {rs}");
    assert_eq!(counter(&rs, "bad_bodies"), 0, "a validator relayed a tampered body: {rs}");
    // The replaying peer was never dropped and is still fed by everyone.
    let rs = replay.summary();
    assert_eq!(counter(&rs, "connected"), 4, "{rs}");
    assert_eq!(counter(&rs, "disconnects"), 0, "{rs}");
    let blamed = ALL.iter().filter(|i| logged_for(&net, **i, "peer sent invalid gossip", &tamper.peer_id)).count();
    eprintln!("gossip attack: +40 heights in {gained_in:.1?} (test {:.1?})", started.elapsed());
    eprintln!("tamper rogue blamed by {blamed} of 4 (only a copy that beats the real proposal can be)");
    eprintln!("replay {rs}\ntamper {}\njunk {}", tamper.summary(), junk.summary());
}

/// Heights node0 gains in `secs`.
fn pace(net: &Testnet, secs: u64) -> u64 {
    let h = height(net, 0);
    std::thread::sleep(Duration::from_secs(secs));
    height(net, 0) - h
}

#[test]
fn a_rogue_flooding_block_requests_gets_busy_answers_and_validators_keep_their_pace() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let net = start_net(dir.path(), CHAIN, 200);
    wait_all(&net, &ALL, 3, 60);
    let base = pace(&net, 10);
    assert!(base >= 5, "the network is too slow to measure: {base} heights in 10 s");

    let mut rogue =
        Rogue::start(dir.path(), "flood", &net, &addrs(&net, &ALL), &["--flood-sync", "--flood-concurrency", "64"]);
    rogue.wait_connected(4, 20);
    let during = pace(&net, 15);
    assert!(rogue.is_running(), "the rogue exited");
    let s = rogue.summary();
    assert!(counter(&s, "requests") >= 1000, "the rogue did not flood: {s}");
    for i in ALL {
        let p = rogue.peer(&net.node(i).node_id);
        // "busy" comes only from the serving bound; answers show that the
        // node still served within it.
        assert!(p["busy"].as_u64().unwrap() > 0, "node{i} never answered busy: {p}");
        assert!(p["answers"].as_u64().unwrap() > 0, "node{i} served nothing: {p}");
        assert_eq!(p["connected"], true, "node{i} dropped the flooder: {p}");
    }
    // Normal pace: at least half the heights per second of the 10 s before.
    assert!(during * 10 >= base * 15 / 2, "validators slowed down under the flood: {during} in 15 s vs {base} in 10 s");
    all_running(&net);
    let tip = min_height(&net, &ALL);
    assert_same_chain(&net, &ALL, tip);
    eprintln!(
        "sync flood: {base} heights/10 s before, {during} heights/15 s during (test {:.1?}); {s}",
        started.elapsed()
    );
}

/// Sets node `i`'s persistent peers to `peers` and clears its bootstrap peers.
fn set_peers(net: &Testnet, i: usize, peers: &[String]) {
    let path = net.home(i).join("config.toml");
    let mut cfg: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let p2p = cfg.get_mut("p2p").and_then(|v| v.as_table_mut()).unwrap();
    let list = peers.iter().map(|p| toml::Value::String(p.clone())).collect();
    p2p.insert("persistent_peers".into(), toml::Value::Array(list));
    p2p.insert("bootstrap_peers".into(), toml::Value::Array(vec![]));
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
}

#[test]
fn a_rogue_lying_about_its_tip_is_penalised_and_a_new_full_node_still_syncs() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut net = create_net(dir.path(), CHAIN, 100);
    net.start_all().expect("start");
    // More than one batch of blocks (64) behind: the full node's requests
    // go to its peers in turn, so the rogue is asked during the catch-up.
    wait_all(&net, &ALL, 2 * u64::from(node::p2p::MAX_SYNC_BLOCKS) + 10, 90);

    // The rogue listens (the full node dials it) and also dials node1.
    let port = common::free_port();
    let lie: u64 = 1_000_000_000;
    let mut rogue = Rogue::start(
        dir.path(),
        "liar",
        &net,
        &addrs(&net, &[1]),
        &["--listen", &format!("/ip4/127.0.0.1/tcp/{port}"), "--lie-tip", &lie.to_string()],
    );
    let rogue_addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", rogue.peer_id);
    // A fresh full node that knows one honest validator and the rogue.
    let full = net.add_full_node().unwrap();
    set_peers(&net, full, &[net.node(0).multiaddr(), rogue_addr]);
    let target = min_height(&net, &ALL);
    let sync_started = Instant::now();
    net.start(full).unwrap();
    wait_all(&net, &[full], target, 60);
    let synced_in = sync_started.elapsed();

    // Both the full node and node1 asked the rogue, got nothing, and
    // penalised it after two strikes.
    for i in [full, 1] {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !logged_for(&net, i, "peer penalised", &rogue.peer_id) {
            assert!(Instant::now() < deadline, "node{i} never penalised the lying rogue:\n{}", net.log_tail(i, 40));
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            log(&net, i).lines().any(|l| l.contains(&rogue.peer_id) && l.contains("claimed a tip it does not serve")),
            "node{i} penalised the rogue for another reason:\n{}",
            net.log_tail(i, 40)
        );
    }
    // The rogue saw it: asked for blocks (it answered none), then dropped
    // by both; it keeps redialling and is refused while banned.
    std::thread::sleep(Duration::from_secs(2));
    assert!(rogue.is_running(), "the rogue exited");
    let asked: Vec<u64> =
        [full, 1].iter().map(|i| rogue.peer(&net.node(*i).node_id)["served"].as_u64().unwrap()).collect();
    for (i, n) in [full, 1].into_iter().zip(&asked) {
        let p = rogue.peer(&net.node(i).node_id);
        assert!(*n >= u64::from(node::sync::MAX_STRIKES), "node{i} penalised the rogue before asking it twice: {p}");
        assert!(p["disconnects"].as_u64().unwrap() >= 1, "node{i} never dropped the rogue: {p}");
    }
    // Banned: its claim is forgotten and the full node follows the chain.
    let st = net.status(full).unwrap();
    assert!(st.best_peer_height < lie, "the lie is still believed: {st:?}");
    assert!(st.validator.is_none(), "the full node must not validate");
    assert!(st.synced_blocks > 0, "{st:?}");
    let h = height(&net, 0);
    wait_all(&net, &[full], h + 5, 30);
    // The rogue redials node1 every second: refused each time.
    let deadline = Instant::now() + Duration::from_secs(15);
    while rogue.peer(&net.node(1).node_id)["disconnects"].as_u64().unwrap() < 3 {
        assert!(Instant::now() < deadline, "node1 let the banned rogue back in: {}", rogue.summary());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Banned nodes never asked it again.
    let s = rogue.summary();
    for (i, n) in [full, 1].into_iter().zip(&asked) {
        let p = &s["peers"][&net.node(i).node_id];
        assert_eq!(p["served"].as_u64(), Some(*n), "node{i} asked the banned rogue again: {p}");
    }
    all_running(&net);
    let tip = min_height(&net, &[0, 1, 2, 3, full]);
    assert_same_chain(&net, &[0, 1, 2, 3, full], tip);
    eprintln!("lying tip: full node reached {target} in {synced_in:.1?} (test {:.1?}); {s}", started.elapsed());
}
