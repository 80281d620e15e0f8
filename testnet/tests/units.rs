//! The testnet tool's pure parts: stakes, node arguments, load keys, config
//! patching, genesis, the state file and the block report.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use ledger::PublicKey;
use sha2::{Digest, Sha256};
use testnet::report::{BlockInfo, summarise};
use testnet::setup::{
    StakingSettings, ValidatorEntry, build_genesis, format_duration, free_ports, parse_node_list, patch_config,
    peer_multiaddr, powers, set_persistent_peers,
};
use testnet::{DevAccount, NodeKind, NodeState, State, load_key, load_keys, parse_node, parse_stakes};

#[test]
fn stakes_parse_and_match_the_validator_count() {
    assert_eq!(parse_stakes("40,30,20,10").unwrap(), vec![40, 30, 20, 10]);
    assert_eq!(parse_stakes(" 5, 7 ").unwrap(), vec![5, 7]);
    let err = parse_stakes("40,x").unwrap_err().to_string();
    assert!(err.contains("stake #2") && err.contains("`x`"), "{err}");
    assert!(parse_stakes("1,0").unwrap_err().to_string().contains("is 0"));
    assert!(parse_stakes("").is_err());
    assert!(parse_stakes("-3").is_err());

    // A stake is 10^6 voting power.
    assert_eq!(powers(3, &[]).unwrap(), vec![100_000_000; 3]);
    assert_eq!(powers(2, &[7, 3]).unwrap(), vec![7_000_000, 3_000_000]);
    assert!(powers(3, &[7, 3]).unwrap_err().to_string().contains("2 stakes given for 3 validators"));
    assert!(powers(0, &[]).is_err());
    assert!(powers(2, &[1, 0]).is_err());
}

#[test]
fn node_arguments_are_indices_or_names_in_range() {
    assert_eq!(parse_node("2", 4).unwrap(), 2);
    assert_eq!(parse_node("node3", 4).unwrap(), 3);
    assert_eq!(parse_node(" node0 ", 4).unwrap(), 0);
    let err = parse_node("4", 4).unwrap_err().to_string();
    assert!(err.contains("node 4 does not exist") && err.contains("node0 to node3"), "{err}");
    assert!(parse_node("node9", 1).unwrap_err().to_string().contains("1 node (node0)"));
    assert!(parse_node("validator1", 4).unwrap_err().to_string().contains("not a node"));
    assert!(parse_node("-1", 4).is_err());

    assert_eq!(parse_node_list("all", 3).unwrap(), None);
    assert_eq!(parse_node_list("0,2", 3).unwrap(), Some(vec![0, 2]));
    assert_eq!(parse_node_list("node1,1,0", 3).unwrap(), Some(vec![1, 0]));
    assert!(parse_node_list("0,3", 3).is_err());
}

#[test]
fn load_keys_are_deterministic_and_documented() {
    let a = load_keys("agora-testnet", 4);
    let b = load_keys("agora-testnet", 4);
    assert_eq!(a.iter().map(|k| k.to_bytes()).collect::<Vec<_>>(), b.iter().map(|k| k.to_bytes()).collect::<Vec<_>>());
    // Distinct per index and per chain.
    let pks: std::collections::BTreeSet<_> = a.iter().map(PublicKey::from_signing_key).collect();
    assert_eq!(pks.len(), 4);
    assert_ne!(load_key("other-chain", 0).to_bytes(), a[0].to_bytes());
    // The documented derivation, spelled out.
    let mut seed = Sha256::new();
    seed.update(b"agora-testnet-load/agora-testnet/");
    seed.update(3u64.to_le_bytes());
    let expected: [u8; 32] = seed.finalize().into();
    assert_eq!(load_key("agora-testnet", 3).to_bytes(), expected);
}

#[test]
fn config_patch_sets_peers_and_keeps_everything_else() {
    let text = r#"# a comment
moniker = "node1"

[rpc]
listen = "127.0.0.1:1234"
max_connections = 1000

[p2p]
listen = "/ip4/127.0.0.1/tcp/5678"
persistent_peers = ["old"]

[storage]
sync_writes = true
"#;
    let peers = vec![peer_multiaddr(1111, "12D3KooWA"), peer_multiaddr(2222, "12D3KooWB")];
    assert_eq!(peers[0], "/ip4/127.0.0.1/tcp/1111/p2p/12D3KooWA");
    let out = patch_config(text, &peers).unwrap();
    let t: toml::Table = out.parse().unwrap();
    assert_eq!(t["moniker"].as_str(), Some("node1"));
    assert_eq!(t["rpc"]["listen"].as_str(), Some("127.0.0.1:1234"));
    assert_eq!(t["rpc"]["max_connections"].as_integer(), Some(1000));
    assert_eq!(t["p2p"]["listen"].as_str(), Some("/ip4/127.0.0.1/tcp/5678"));
    assert_eq!(t["storage"]["sync_writes"].as_bool(), Some(true));
    let got: Vec<&str> = t["p2p"]["persistent_peers"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(got, peers);

    // No [p2p] table yet: it is created.
    let mut t: toml::Table = "moniker = \"x\"\n".parse().unwrap();
    set_persistent_peers(&mut t, &peers[..1]).unwrap();
    assert_eq!(t["p2p"]["persistent_peers"].as_array().unwrap().len(), 1);
    // `p2p` that is not a table is an error, as is text that is not TOML.
    let mut t: toml::Table = "p2p = 3\n".parse().unwrap();
    assert!(set_persistent_peers(&mut t, &peers).is_err());
    assert!(patch_config("[rpc", &peers).is_err());
}

#[test]
fn genesis_holds_validators_with_their_power_and_funded_accounts() {
    let keys = load_keys("agora-testnet", 3);
    let validators: Vec<ValidatorEntry> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ValidatorEntry {
            name: format!("node{i}"),
            public_key: PublicKey::from_signing_key(k),
            operator: testnet::setup::address_of(&testnet::operator_key("agora-testnet", i)),
            power: 10 * (i as u64 + 1),
        })
        .collect();
    let accounts = vec![(testnet::setup::address_of(&keys[0]), 5u128)];
    let st = StakingSettings::default();
    let g =
        build_genesis("agora-testnet", "2026-01-01T00:00:00Z", Duration::from_millis(250), &st, &validators, &accounts)
            .unwrap();
    let set = g.validator_set().unwrap();
    assert_eq!(set.iter().map(|(_, p)| *p).sum::<u64>(), 60);
    assert!(validators.iter().all(|v| set.contains(&(v.public_key, v.power))), "{set:?}");
    assert_eq!(g.consensus.block_interval, Duration::from_millis(250));
    let round_trip = genesis::Genesis::from_json(&g.to_json_pretty()).unwrap();
    assert_eq!(round_trip, g);
    // Invalid input is refused with the genesis crate's message.
    let dup = vec![validators[0].clone(), validators[0].clone()];
    let err =
        build_genesis("agora-testnet", "2026-01-01T00:00:00Z", Duration::from_secs(1), &st, &dup, &[]).unwrap_err();
    assert!(format!("{err:#}").contains("validators[1].public_key"), "{err:#}");
}

#[test]
fn durations_format_as_agorad_parses_them() {
    for (d, s) in [
        (Duration::from_secs(1), "1s"),
        (Duration::from_millis(200), "200ms"),
        (Duration::from_millis(1500), "1500ms"),
        (Duration::from_micros(250), "250us"),
    ] {
        assert_eq!(format_duration(d), s);
        assert_eq!(humantime::parse_duration(s).unwrap(), d);
    }
}

#[test]
fn free_ports_are_distinct_and_bindable() {
    let ports = free_ports(8).unwrap();
    let set: std::collections::BTreeSet<_> = ports.iter().collect();
    assert_eq!(set.len(), 8);
    for p in ports {
        assert!(p > 0);
        std::net::TcpListener::bind(("127.0.0.1", p)).unwrap();
    }
}

fn sample_state() -> State {
    State {
        version: testnet::state::STATE_VERSION,
        chain_id: "agora-testnet".into(),
        created: "2026-01-01T00:00:00Z".into(),
        block_interval_ms: 1000,
        agorad: PathBuf::from("/bin/agorad"),
        agora: Some(PathBuf::from("/bin/agora")),
        load_accounts: 256,
        dev_accounts: vec![DevAccount {
            name: "dev0".into(),
            address: testnet::setup::address_of(&load_key("x", 0)),
            mnemonic: "abandon ability".into(),
        }],
        nodes: (0..2)
            .map(|i| NodeState {
                name: format!("node{i}"),
                kind: if i == 0 { NodeKind::Validator } else { NodeKind::Full },
                home: PathBuf::from(format!("node{i}")),
                rpc_port: 26000 + i,
                p2p_port: 27000 + i,
                metrics_port: 28000 + i,
                node_id: format!("12D3KooW{i}"),
                validator_key: PublicKey::from_signing_key(&load_key("x", i.into())).to_string(),
                power: if i == 0 { 100 } else { 0 },
                pid: if i == 0 { Some(4242) } else { None },
                operator: (i == 0).then(|| testnet::setup::address_of(&testnet::operator_key("agora-testnet", 0))),
                operator_key: (i == 0).then(|| "validator0".into()),
                byzantine_at: (i == 0).then_some(40),
            })
            .collect(),
    }
}

#[test]
fn state_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample_state();
    s.save(dir.path()).unwrap();
    assert!(testnet::Testnet::exists(dir.path()));
    let back = State::load(dir.path()).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.nodes[1].multiaddr(), "/ip4/127.0.0.1/tcp/27001/p2p/12D3KooW1");
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("testnet.json")]);
    // A missing pid is omitted; an unknown version or garbage is refused clearly.
    let v: serde_json::Value = serde_json::from_str(&s.to_json().unwrap()).unwrap();
    assert!(v["nodes"][1].get("pid").is_none());
    assert!(v["nodes"][1].get("operator").is_none() && v["nodes"][1].get("byzantine_at").is_none());
    assert_eq!(v["nodes"][0]["byzantine_at"], 40);
    // A state file written before operators and byzantine starts still loads.
    let mut old = v.clone();
    for k in ["operator", "operator_key", "byzantine_at"] {
        old["nodes"][0].as_object_mut().unwrap().remove(k);
    }
    let old = State::from_json(&old.to_string()).unwrap();
    assert_eq!((old.nodes[0].operator, old.nodes[0].byzantine_at), (None, None));
    let mut v2 = v.clone();
    v2["version"] = serde_json::json!(99);
    assert!(State::from_json(&v2.to_string()).unwrap_err().to_string().contains("version 99"));
    assert!(State::from_json("{").is_err());
    let empty = tempfile::tempdir().unwrap();
    assert!(State::load(empty.path()).unwrap_err().to_string().contains("holds no testnet"));
}

#[test]
fn block_report_reads_rounds_from_the_next_block() {
    let block = |h: u64, t: u64, txs: usize, round: Option<u64>| BlockInfo {
        height: h,
        time_ms: t,
        txs,
        last_commit_round: round,
    };
    // Block 3 was decided in round 2 (block 4's last_commit), block 5 in round 1
    // (block 6, beyond the range, still counts for it).
    let blocks = vec![
        block(2, 1_000, 5, Some(0)),
        block(3, 2_000, 0, Some(0)),
        block(4, 4_500, 7, Some(2)),
        block(5, 5_500, 1, Some(0)),
        block(6, 6_500, 0, Some(1)),
    ];
    let r = summarise(2, 5, &blocks);
    assert_eq!(r.blocks, 4);
    assert_eq!(r.txs, 13);
    assert_eq!(r.max_txs_in_block, 7);
    assert_eq!(r.avg_block_time_ms, Some(1_500.0));
    assert_eq!(r.max_block_time_ms, Some(2_500));
    assert_eq!(r.rounds_known, 4);
    assert_eq!(r.late_rounds, 2);
    assert_eq!(r.max_round, 2);
    let text = r.to_string();
    assert!(text.contains("2 of 4 blocks decided in a round > 0"), "{text}");

    // At the tip the last block's round is not known yet.
    let r = summarise(2, 6, &blocks);
    assert_eq!(r.rounds_known, 4);
    let one = summarise(2, 2, &blocks[..1]);
    assert_eq!(one.avg_block_time_ms, None);

    let typed = |h: u64, time_ms: u64, round: Option<u32>| {
        let key = ledger::SigningKey::from_bytes(&[3; 32]);
        let b = serde_json::json!({
            "hash": "ab".repeat(32),
            "header": { "version": 1, "chain_id": "t", "height": h, "time_ms": time_ms, "parent_hash": "00".repeat(32),
                        "tx_root": "00".repeat(32), "state_root": "00".repeat(32), "receipts_root": "00".repeat(32),
                        "proposer": ledger::PublicKey::from_signing_key(&key), "client": "c",
                        "validator_set_hash": "00".repeat(32), "last_commit_hash": "00".repeat(32),
                        "evidence_hash": "00".repeat(32) },
            "num_txs": 2, "txs": ["11".repeat(32), "22".repeat(32)],
            "last_commit": round.map(|r| serde_json::json!({ "height": h - 1, "round": r, "block_hash": "00".repeat(32), "signatures": [] })),
            "evidence": [], "events": [],
        });
        serde_json::from_value::<testnet::rpc::types::BlockInfo>(b).unwrap()
    };
    assert_eq!(BlockInfo::from_block(&typed(9, 77, Some(3))), block(9, 77, 2, Some(3)));
    assert_eq!(BlockInfo::from_block(&typed(1, 5, None)).last_commit_round, None);
}

#[test]
fn percentiles_use_nearest_rank() {
    let v: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(testnet::load::percentile(&v, 50), Some(50.0));
    assert_eq!(testnet::load::percentile(&v, 99), Some(99.0));
    assert_eq!(testnet::load::percentile(&v, 100), Some(100.0));
    assert_eq!(testnet::load::percentile(&[], 50), None);
}
