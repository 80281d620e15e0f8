//! The testnet's process management and CLI, end to end, against a stand-in
//! for `agorad` (`examples/fake_agorad.rs`, built by `cargo test`): creation,
//! start/stop/kill/pause/resume/restart/wipe, full nodes, the state file shared
//! between handles and invocations, the RAII handle, `up`/`down`/`load`/`report`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testnet::{NodeKind, Spec, Testnet};

/// The fake agorad: `target/<profile>/examples/fake_agorad`, next to this test's `deps/`.
fn fake_agorad() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let p = profile_dir.join("examples").join("fake_agorad");
    assert!(
        p.is_file(),
        "{} is missing: run the tests with `cargo test -p testnet` (which builds the examples)",
        p.display()
    );
    p
}

/// A directory holding `agorad` and `agora`, both the fake.
fn bin_dir(root: &Path) -> PathBuf {
    let d = root.join("bin");
    std::fs::create_dir_all(&d).unwrap();
    for name in ["agorad", "agora"] {
        let link = d.join(name);
        if !link.exists() {
            std::os::unix::fs::symlink(fake_agorad(), link).unwrap();
        }
    }
    d
}

fn spec(dir: &Path, validators: usize) -> Spec {
    Spec {
        validators,
        load_accounts: 8,
        dev_accounts: 0,
        block_interval: Duration::from_millis(100),
        ..Spec::new(dir, fake_agorad())
    }
}

fn pid_gone(pid: u32) -> bool {
    // Reaped children leave no /proc entry (a zombie would).
    let gone = !Path::new("/proc").join(pid.to_string()).exists();
    if !gone {
        eprintln!(
            "pid {pid} still there: stat {:?} status {:?} cmdline {:?}",
            std::fs::read_to_string(format!("/proc/{pid}/stat")),
            std::fs::read_to_string(format!("/proc/{pid}/status")).map(|s| s
                .lines()
                .take(9)
                .collect::<Vec<_>>()
                .join(" | ")),
            std::fs::read(format!("/proc/{pid}/cmdline")).map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        );
    }
    gone
}

const T: Duration = Duration::from_secs(20);

#[test]
fn create_writes_a_consistent_net() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut s = spec(&dir, 3);
    s.stakes = vec![30, 20, 10];
    s.agora = Some(bin_dir(tmp.path()).join("agora"));
    s.dev_accounts = 2;
    let net = Testnet::create(&s).unwrap().owned();
    assert_eq!(net.nodes(), 3);
    assert_eq!(net.validators(), 3);

    let g = genesis::Genesis::load(&net.genesis_path()).unwrap();
    assert_eq!(g.chain_id, "agora-testnet");
    // Stakes are millions of voting power: self-stakes of stake × 10^12.
    let stakes: Vec<u128> = g.validators.iter().map(|v| v.self_stake.get()).collect();
    assert_eq!(stakes, vec![30_000_000_000_000, 20_000_000_000_000, 10_000_000_000_000]);
    assert_eq!(net.state().nodes.iter().map(|n| n.power).collect::<Vec<_>>(), vec![30_000_000, 20_000_000, 10_000_000]);
    assert_eq!(g.consensus.block_interval, Duration::from_millis(100));
    assert_eq!(g.params.staking.unbonding_time_ms, 60_000);
    assert_eq!(g.params.staking.blocks_per_year, 315_360_000);
    // 2 dev + 3 operator + 8 load accounts + the DAO's deployer, funded as documented.
    assert_eq!(g.accounts.len(), 14);
    let deployer = testnet::dao::deployer("agora-testnet");
    assert!(g.accounts.iter().any(|a| a.address == deployer && a.balance.get() == testnet::dao::DEPLOYER_BALANCE));
    // The genesis names the DAO `testnet up` creates as the chain's governance.
    assert_eq!(g.params.governance, Some(testnet::dao::dao_address("agora-testnet")));
    assert_eq!(g.accounts[0].address, net.dev_accounts()[0].address);
    assert_eq!(g.accounts[0].balance.get(), testnet::setup::DEV_ACCOUNT_BALANCE);
    let load0 = testnet::setup::address_of(&net.load_keys()[0]);
    assert!(g.accounts.iter().any(|a| a.address == load0 && a.balance.get() == testnet::setup::LOAD_ACCOUNT_BALANCE));
    assert_eq!(net.dev_accounts()[1].name, "dev1");
    assert!(!net.dev_accounts()[1].mnemonic.is_empty());
    // Operators: deterministic keys, funded, in the keyring as validator{i}.
    for i in 0..3 {
        let op = testnet::setup::address_of(&testnet::operator_key("agora-testnet", i));
        assert_eq!(g.validators[i].operator, op);
        assert_eq!(net.operator(i), Some(op));
        assert_eq!(
            net.operator_key(i).map(|k| k.to_bytes()),
            Some(testnet::operator_key("agora-testnet", i).to_bytes())
        );
        assert_eq!(net.node(i).operator_key.as_deref(), Some(format!("validator{i}").as_str()));
        assert!(net.keyring_dir().join(format!("validator{i}.json")).is_file());
        assert!(g.accounts.iter().any(|a| a.address == op && a.balance.get() == testnet::setup::OPERATOR_BALANCE));
        assert_eq!(g.validators[i].metadata.moniker, format!("node{i}"));
    }

    let ports: std::collections::BTreeSet<u16> =
        net.state().nodes.iter().flat_map(|n| [n.rpc_port, n.p2p_port]).collect();
    assert_eq!(ports.len(), 6, "every port differs");
    for i in 0..3 {
        let home = net.home(i);
        assert_eq!(std::fs::read_to_string(home.join("genesis.json")).unwrap(), g.to_json_pretty());
        assert_eq!(g.validators[i].public_key.to_string(), net.node(i).validator_key);
        let cfg: toml::Table = std::fs::read_to_string(home.join("config.toml")).unwrap().parse().unwrap();
        let peers: Vec<&str> =
            cfg["p2p"]["persistent_peers"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let others: Vec<String> = (0..3).filter(|&j| j != i).map(|j| net.node(j).multiaddr()).collect();
        assert_eq!(peers, others, "node{i} peers with every other validator");
        assert!(peers.iter().all(|p| p.starts_with("/ip4/127.0.0.1/tcp/") && p.contains("/p2p/12D3KooW")));
        assert_eq!(cfg["rpc"]["listen"].as_str().unwrap(), format!("127.0.0.1:{}", net.node(i).rpc_port));
        assert_eq!(cfg["p2p"]["listen"].as_str().unwrap(), format!("/ip4/127.0.0.1/tcp/{}", net.node(i).p2p_port));
    }
    // A second handle reads the same state.
    let again = Testnet::open(&dir).unwrap();
    assert_eq!(again.state(), net.state());
    // The directory is refused for another testnet.
    let err = Testnet::create(&s).unwrap_err();
    assert!(format!("{err:#}").contains("already holds a testnet"), "{err:#}");
}

#[test]
fn create_refuses_bad_input_and_cleans_up_after_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut s = spec(&dir, 2);
    s.stakes = vec![1, 2, 3];
    assert!(Testnet::create(&s).unwrap_err().to_string().contains("3 stakes given for 2 validators"));
    s.stakes.clear();
    s.chain_id = "Bad Chain".into();
    assert!(Testnet::create(&s).unwrap_err().to_string().contains("chain id"));
    s.chain_id = "agora-testnet".into();
    s.agorad = tmp.path().join("nowhere/agorad");
    assert!(Testnet::create(&s).unwrap_err().to_string().contains("does not exist"));
    assert!(!dir.exists());

    // An agorad that fails: the error names the command, and nothing is left behind.
    s.agorad = PathBuf::from("/bin/false");
    let err = format!("{:#}", Testnet::create(&s).unwrap_err());
    assert!(err.contains("initialising node0") && err.contains("false init --home"), "{err}");
    assert!(!dir.exists(), "a failed create removes the directory it made");

    // A non-empty directory that is not a testnet is refused.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let err = Testnet::create(&spec(&dir, 1)).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
    assert!(dir.join("precious.txt").exists());
}

#[test]
fn node_lifecycle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut net = Testnet::create(&spec(&dir, 3)).unwrap().owned();
    net.set_stop_timeout(Duration::from_secs(5));
    net.start_all().unwrap();
    net.wait_for_height_all(3, T).unwrap();
    for i in 0..3 {
        assert!(net.is_running(i));
        let s = net.status(i).unwrap();
        assert_eq!(s.peers, 2);
        assert!(std::fs::read_to_string(net.log_path(i)).unwrap().contains("==== testnet: starting"));
    }
    // Starting a running node is a no-op.
    let pid0 = net.pid(0).unwrap();
    net.start(0).unwrap();
    assert_eq!(net.pid(0), Some(pid0));

    // Pause: alive but not advancing; resume: advancing again.
    net.pause(1).unwrap();
    assert!(net.is_paused(1) && net.is_running(1));
    assert!(net.status(1).is_err(), "a paused node does not answer");
    net.resume(1).unwrap();
    assert!(!net.is_paused(1));
    let h = net.height(1).unwrap();
    net.wait_for_height(1, h + 2, T).unwrap();

    // Kill: gone at once and reaped; the state file forgets the pid.
    let pid2 = net.pid(2).unwrap();
    net.kill(2).unwrap();
    assert!(!net.is_running(2));
    assert_eq!(net.pid(2), None);
    assert!(pid_gone(pid2));
    assert_eq!(Testnet::open(&dir).unwrap().pid(2), None);
    assert!(net.pause(2).unwrap_err().to_string().contains("node2 is not running"));
    let err = net.wait_for_height(2, 1, T).unwrap_err().to_string();
    assert!(err.contains("node2 is not running"), "{err}");

    // Wipe needs a stopped node; afterwards the node starts from scratch.
    assert!(net.wipe_data(0).unwrap_err().to_string().contains("stop it"));
    let before = std::fs::read_to_string(net.home(2).join("data/height")).unwrap();
    assert!(before.trim().parse::<u64>().unwrap() >= 3);
    net.wipe_data(2).unwrap();
    assert!(!net.home(2).join("data").exists());
    assert!(net.home(2).join("config.toml").exists() && net.home(2).join("validator_key.json").exists());
    net.start(2).unwrap();
    net.wait_for_height(2, 1, T).unwrap();
    assert!(net.height(2).unwrap() < net.height(0).unwrap());

    // Restart keeps the data (the fake persists its height).
    let h0 = net.height(0).unwrap();
    net.restart(0).unwrap();
    assert_ne!(net.pid(0), Some(pid0));
    assert!(pid_gone(pid0));
    net.wait_for_height(0, h0 + 1, T).unwrap();

    // A full node peers with every validator.
    let f = net.add_full_node().unwrap();
    assert_eq!(f, 3);
    assert_eq!(net.node(f).kind, NodeKind::Full);
    assert_eq!(net.node(f).power, 0);
    assert_eq!(net.validators(), 3);
    assert!(!net.is_running(f));
    net.start(f).unwrap();
    net.wait_for_height(f, 1, T).unwrap();
    assert_eq!(net.status(f).unwrap().peers, 3);
    let g = std::fs::read_to_string(net.genesis_path()).unwrap();
    assert_eq!(std::fs::read_to_string(net.home(f).join("genesis.json")).unwrap(), g);

    // Another handle (as another invocation would) sees the processes and stops one.
    let mut other = Testnet::open(&dir).unwrap();
    assert!((0..4).all(|i| other.is_running(i)));
    let pid1 = other.pid(1).unwrap();
    other.stop(1).unwrap();
    assert!(pid_gone(pid1), "stopped by pid, and reaped: no zombie");
    assert!(!net.is_running(1));

    let pids: Vec<u32> = (0..4).filter_map(|i| net.pid(i)).collect();
    net.stop_all().unwrap();
    assert!((0..4).all(|i| !net.is_running(i)));
    assert!(pids.iter().all(|p| pid_gone(*p)));
}

#[test]
fn byzantine_validators_start_with_the_flag_until_a_plain_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut s = spec(&dir, 3);
    s.byzantine = Some(testnet::parse_byzantine("node2@40").unwrap());
    s.staking.unbonding_time = Duration::from_secs(5);
    s.staking.signed_blocks_window = 20;
    let mut net = Testnet::create(&s).unwrap().owned();
    let g = genesis::Genesis::load(&net.genesis_path()).unwrap();
    assert_eq!((g.params.staking.unbonding_time_ms, g.params.staking.signed_blocks_window), (5_000, 20));
    assert_eq!(net.operator_key(0).map(|_| ()), Some(()), "derivable without the wallet");
    assert_eq!(net.node(0).operator_key, None, "no keyring without the wallet");
    assert_eq!((net.byzantine_at(1), net.byzantine_at(2)), (None, Some(40)));
    net.start_all().unwrap();
    net.wait_for_height_all(1, T).unwrap();
    assert_eq!(byzantine_at(&net, 2), 40);
    assert_eq!(byzantine_at(&net, 1), serde_json::Value::Null);
    assert!(std::fs::read_to_string(net.log_path(2)).unwrap().contains("BYZANTINE (double-signs from height 40)"));

    // Byzantine across kill + start; honest after a plain restart.
    net.kill(2).unwrap();
    net.start(2).unwrap();
    net.wait_for_height(2, 1, T).unwrap();
    assert_eq!(byzantine_at(&net, 2), 40);
    net.restart(2).unwrap();
    net.wait_for_height(2, 1, T).unwrap();
    assert_eq!(byzantine_at(&net, 2), serde_json::Value::Null);
    assert_eq!(Testnet::open(&dir).unwrap().byzantine_at(2), None);

    let h = net.chain_height().unwrap();
    net.restart_byzantine(0, h + 5).unwrap();
    net.wait_for_height(0, 1, T).unwrap();
    assert_eq!(byzantine_at(&net, 0), h + 5);
    assert_eq!(Testnet::open(&dir).unwrap().byzantine_at(0), Some(h + 5));

    // Full nodes do not sign; bad specs are refused before anything is written.
    let f = net.add_full_node().unwrap();
    assert!(net.restart_byzantine(f, 9).unwrap_err().to_string().contains("full node"));
    let mut bad = spec(&tmp.path().join("bad"), 2);
    bad.byzantine = Some(testnet::Byzantine { node: 2, height: 5 });
    assert!(Testnet::create(&bad).unwrap_err().to_string().contains("2 validators"));
    bad.byzantine = None;
    bad.staking.signed_blocks_window = 0;
    assert!(format!("{:#}", Testnet::create(&bad).unwrap_err()).contains("signed blocks window"));
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn stop_falls_back_to_sigkill_and_drop_kills_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut net = Testnet::create(&spec(&dir, 2)).unwrap().owned();
    std::fs::write(net.home(1).join("fake-ignore-term"), "").unwrap();
    net.set_stop_timeout(Duration::from_millis(500));
    net.start_all().unwrap();
    net.wait_for_height_all(1, T).unwrap();
    let t = Instant::now();
    let pid1 = net.pid(1).unwrap();
    net.stop(1).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(500), "waited for SIGTERM first");
    assert!(pid_gone(pid1));

    net.start(1).unwrap();
    Testnet::open(&dir).unwrap().wait_for_height(1, 1, T).unwrap();
    let pids: Vec<u32> = (0..2).map(|i| net.pid(i).unwrap()).collect();
    drop(net);
    for p in &pids {
        assert!(
            pid_gone(*p),
            "OwnedTestnet's drop kills and reaps every node: {p} {:?}",
            std::fs::read_to_string(format!("/proc/{p}/stat"))
        );
    }
    assert!(Testnet::open(&dir).unwrap().state().nodes.iter().all(|n| n.pid.is_none()));
}

#[test]
fn a_node_that_exits_is_reported_with_its_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut net = Testnet::create(&spec(&dir, 2)).unwrap().owned();
    std::fs::write(net.home(1).join("fake-fail"), "").unwrap();
    net.start_all().unwrap();
    let err = net.wait_for_height(1, 1, T).unwrap_err().to_string();
    assert!(err.contains("node1 is not running") && err.contains("configured to fail"), "{err}");
}

fn testnet_cmd(root: &Path, dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_testnet"));
    c.arg("--dir").arg(dir).arg("--bin-dir").arg(bin_dir(root)).stdin(Stdio::null());
    c
}

fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn cli_up_detach_status_load_report_down_reset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let run = |args: &[&str]| testnet_cmd(tmp.path(), &dir).args(args).output().unwrap();
    // Nodes are killed even if an assertion fails.
    struct Guard(PathBuf);
    impl Drop for Guard {
        fn drop(&mut self) {
            if let Ok(n) = Testnet::open(&self.0) {
                drop(n.owned());
            }
        }
    }
    let _guard = Guard(dir.clone());

    let out =
        ok(run(&["up", "--detach", "-n", "2", "--stakes", "3,1", "--block-interval", "100ms", "--load-accounts", "4"]));
    assert!(out.contains("2 validators (voting power 3M/1M)"), "{out}");
    assert!(out.contains("Staking: unbonding 1m, downtime jail 20s"), "{out}");
    assert!(out.contains("stake unjail --from validator0"), "{out}");
    assert!(out.contains("TESTNET ONLY") && out.contains("dev0") && out.contains("agora keys recover dev0"), "{out}");
    let net = Testnet::open(&dir).unwrap();
    assert!(out.contains(&net.rpc_url(1)), "{out}");
    assert!(net.is_running(0) && net.is_running(1));

    let out = ok(run(&["status"]));
    assert_eq!(out.lines().filter(|l| l.contains("running")).count(), 2, "{out}");
    assert!(out.contains("peers=1"), "{out}");
    assert!(out.contains(&format!("operator {}", net.operator(1).unwrap())), "{out}");

    let out = ok(run(&["load", "--tps", "200", "--duration", "1s", "--batch", "10", "--nodes", "0,node1"]));
    assert!(out.contains("sent:      200") && out.contains("admitted:  200") && out.contains("rejected:  0"), "{out}");
    // The fake nodes do not share a chain: node0's blocks hold what node0 got
    // (every other batch, plus the latency samples).
    let committed: u64 = out.split("committed: ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((100..=110).contains(&committed), "{out}");
    assert!(out.contains("latency:   submit->commit over"), "{out}");

    let out = ok(run(&["report"]));
    assert!(out.contains("blocks 1..=") && out.contains("txs") && out.contains("decided in a round > 0"), "{out}");

    // Byzantine: restarted with the flag (default height: the chain's + 5), honest after a restart.
    let out = ok(run(&["byzantine", "1"]));
    assert!(out.contains("node1 restarted byzantine (pid") && out.contains("double-signs"), "{out}");
    let at = Testnet::open(&dir).unwrap().byzantine_at(1).unwrap();
    Testnet::open(&dir).unwrap().wait_for_height(1, 1, T).unwrap();
    assert!(out.contains(&format!("from height {at} (the chain is at height {})", at - 5)), "{out}");
    assert_eq!(byzantine_at(&net, 1), at);
    assert!(ok(run(&["status"])).contains(&format!("BYZANTINE@{at}")));
    let out = ok(run(&["byzantine", "node1", "--at", "99"]));
    assert!(out.contains("from height 99"), "{out}");
    Testnet::open(&dir).unwrap().wait_for_height(1, 1, T).unwrap();
    assert_eq!(byzantine_at(&net, 1), 99);
    ok(run(&["restart", "1"]));
    Testnet::open(&dir).unwrap().wait_for_height(1, 1, T).unwrap();
    assert_eq!(byzantine_at(&net, 1), serde_json::Value::Null);
    assert!(!ok(run(&["status"])).contains("BYZANTINE"));

    let out = ok(run(&["report", "--from", "2", "--to", "8"]));
    // The fake decides every 7th block in round 1.
    assert!(out.contains("blocks 2..=8: 7 blocks") && out.contains("1 of 7 blocks decided in a round > 0"), "{out}");

    let out = ok(run(&["kill", "node1"]));
    assert!(out.contains("node1 killed"), "{out}");
    let out = ok(run(&["status"]));
    assert!(out.lines().any(|l| l.starts_with("node1") && l.contains("stopped")), "{out}");
    ok(run(&["wipe", "1"]));
    let out = ok(run(&["start", "1"]));
    assert!(out.contains("node1 started (pid"), "{out}");
    let err = run(&["start", "1"]);
    assert!(!err.status.success() && String::from_utf8_lossy(&err.stderr).contains("already running"));
    let out = ok(run(&["logs", "1", "--no-follow"]));
    assert!(out.contains("fake-agorad: chain agora-testnet"), "{out}");

    let err = run(&["kill", "7"]);
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("node 7 does not exist: the testnet has 2 nodes"));

    let out = ok(run(&["add-full-node"]));
    assert!(out.contains("added node2 (full node)"), "{out}");

    // `up` on the existing net resumes it (every node already runs).
    let out = ok(run(&["up", "--detach", "-n", "5"]));
    assert!(out.contains("2 validators"), "{out}");

    let pids: Vec<u32> = {
        let n = Testnet::open(&dir).unwrap();
        (0..n.nodes()).filter_map(|i| n.pid(i)).collect()
    };
    assert_eq!(pids.len(), 3);
    let out = ok(run(&["down"]));
    assert!(out.contains("stopped 3 node(s)"), "{out}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(pids.iter().all(|p| !Path::new("/proc").join(p.to_string()).exists() || !is_alive(*p)));
    let out = ok(run(&["reset"]));
    assert!(out.contains("deleted"), "{out}");
    assert!(!dir.exists());
    let err = run(&["status"]);
    assert!(!err.status.success() && String::from_utf8_lossy(&err.stderr).contains("holds no testnet"));
}

fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().chars().next()))
        .is_some_and(|c| c != Some('Z'))
}

#[test]
fn cli_up_in_the_foreground_stops_every_node_on_sigint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let mut up = testnet_cmd(tmp.path(), &dir)
        .args(["up", "-n", "3", "--block-interval", "100ms", "--load-accounts", "2", "--dev-accounts", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + T;
    let pids = loop {
        assert!(Instant::now() < deadline, "up did not start the nodes");
        assert!(up.try_wait().unwrap().is_none(), "up exited early");
        if let Ok(n) = Testnet::open(&dir)
            && (0..3).all(|i| n.is_running(i) && n.height(i).is_ok_and(|h| h >= 2))
        {
            break (0..3).map(|i| n.pid(i).unwrap()).collect::<Vec<_>>();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Give `up` time to reach its live loop and print its first line (its
    // first poll of every node can take over a second on a loaded machine),
    // then Ctrl-C it.
    std::thread::sleep(Duration::from_millis(4000));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(up.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let out = up.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("h=") && stdout.contains("up=3/3"), "live line: {stdout}");
    assert!(pids.iter().all(|p| !is_alive(*p)), "every node stopped");
    let n = Testnet::open(&dir).unwrap();
    assert!((0..3).all(|i| !n.is_running(i) && n.pid(i).is_none()));
}

/// The fake node's own `byzantine_at` status field (beyond the typed `Status`):
/// which double-sign height the process was started with.
fn byzantine_at(net: &Testnet, i: usize) -> serde_json::Value {
    testnet::rpc::call_blocking(&net.rpc_url(i), "agora_status", vec![], Duration::from_secs(2)).unwrap()["byzantine_at"]
        .clone()
}
