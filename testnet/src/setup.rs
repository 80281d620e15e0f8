//! The pure parts of building a testnet: stakes, deterministic load keys,
//! genesis, config patching, free ports, node arguments. No processes here.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use genesis::{ConsensusParams, GENESIS_VERSION, Genesis, GenesisAccount, GenesisValidator};
use ledger::{Address, Amount, ChainParams, PublicKey, SigningKey};
use sha2::{Digest, Sha256};

/// Balance of each dev account at genesis.
pub const DEV_ACCOUNT_BALANCE: u128 = 1_000_000_000_000_000;
/// Balance of each load account at genesis.
pub const LOAD_ACCOUNT_BALANCE: u128 = 1_000_000_000_000;
/// Voting power of each validator when no stakes are given.
pub const DEFAULT_POWER: u64 = 100;

/// The `i`-th load account's key of chain `chain_id`:
/// `SigningKey::from_bytes(sha256("agora-testnet-load/" ‖ chain_id ‖ "/" ‖ u64_le(i)))`.
/// Anyone who knows the chain id can re-derive them (they are test keys).
pub fn load_key(chain_id: &str, i: usize) -> SigningKey {
    let mut h = Sha256::new();
    h.update(b"agora-testnet-load/");
    h.update(chain_id.as_bytes());
    h.update(b"/");
    h.update((i as u64).to_le_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

/// The first `n` load keys of `chain_id`.
pub fn load_keys(chain_id: &str, n: usize) -> Vec<SigningKey> {
    (0..n).map(|i| load_key(chain_id, i)).collect()
}

/// The address of a signing key.
pub fn address_of(k: &SigningKey) -> Address {
    PublicKey::from_signing_key(k).address()
}

/// Parses a stake list such as `40,30,20,10` (positive whole numbers; spaces allowed).
pub fn parse_stakes(s: &str) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for (i, part) in s.split(',').enumerate() {
        let p = part.trim();
        let v: u64 = p.parse().map_err(|_| {
            anyhow::anyhow!("stake #{} `{p}` is not a whole number (expected a list like 40,30,20,10)", i + 1)
        })?;
        ensure!(v > 0, "stake #{} is 0: every validator needs positive voting power", i + 1);
        out.push(v);
    }
    Ok(out)
}

/// The voting power of each of `validators` validators: `stakes`, or
/// [`DEFAULT_POWER`] each when `stakes` is empty.
pub fn powers(validators: usize, stakes: &[u64]) -> Result<Vec<u64>> {
    ensure!(validators >= 1, "a testnet needs at least one validator");
    if stakes.is_empty() {
        return Ok(vec![DEFAULT_POWER; validators]);
    }
    ensure!(
        stakes.len() == validators,
        "{} stakes given for {validators} validators: give one stake per validator",
        stakes.len()
    );
    if let Some(i) = stakes.iter().position(|s| *s == 0) {
        bail!("stake of validator {i} is 0: every validator needs positive voting power");
    }
    Ok(stakes.to_vec())
}

/// `/ip4/127.0.0.1/tcp/{port}/p2p/{peer_id}`.
pub fn peer_multiaddr(port: u16, peer_id: &str) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}/p2p/{peer_id}")
}

/// Sets `p2p.persistent_peers` in a parsed `config.toml`, creating the `[p2p]`
/// table if needed and keeping every other setting.
pub fn set_persistent_peers(config: &mut toml::Table, peers: &[String]) -> Result<()> {
    let p2p = config.entry("p2p").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(p2p) = p2p else {
        bail!("config.toml: `p2p` is not a table");
    };
    p2p.insert(
        "persistent_peers".into(),
        toml::Value::Array(peers.iter().map(|p| toml::Value::String(p.clone())).collect()),
    );
    Ok(())
}

/// `config.toml` text with `p2p.persistent_peers` set to `peers` (everything else
/// kept; comments are not preserved, so a header says where the file came from).
pub fn patch_config(text: &str, peers: &[String]) -> Result<String> {
    let mut table: toml::Table = text.parse().context("config.toml is not valid TOML")?;
    set_persistent_peers(&mut table, peers)?;
    // Every signature goes to HOME/signatures.jsonl, so `testnet audit` can
    // check that no validator ever signed two different things for one step.
    let consensus = table.entry("consensus").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(consensus) = consensus else {
        bail!("config.toml: `consensus` is not a table");
    };
    consensus.insert("signature_log".into(), toml::Value::Boolean(true));
    let body = toml::to_string(&table).context("writing config.toml")?;
    Ok(format!(
        "# Written by `agorad init`, then by `testnet` (which set p2p.persistent_peers and\n\
         # consensus.signature_log, and dropped\n\
         # init's comments; `agorad init --help` and a fresh `agorad init` show the documented file).\n\n{body}"
    ))
}

/// A genesis validator for [`build_genesis`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorEntry {
    pub name: String,
    pub public_key: PublicKey,
    pub power: u64,
}

/// Builds and validates the testnet's genesis.
pub fn build_genesis(
    chain_id: &str,
    genesis_time: &str,
    block_interval: Duration,
    validators: &[ValidatorEntry],
    accounts: &[(Address, u128)],
) -> Result<Genesis> {
    let g = Genesis {
        version: GENESIS_VERSION,
        chain_id: chain_id.to_owned(),
        genesis_time: genesis_time.to_owned(),
        accounts: accounts.iter().map(|(a, b)| GenesisAccount { address: *a, balance: Amount::new(*b) }).collect(),
        validators: validators
            .iter()
            .map(|v| GenesisValidator { name: v.name.clone(), public_key: v.public_key, power: v.power })
            .collect(),
        params: ChainParams::default(),
        consensus: ConsensusParams { block_interval },
    };
    g.validate().context("the generated genesis is invalid")?;
    Ok(g)
}

/// `n` distinct free TCP ports on 127.0.0.1 (each bound to port 0 and released;
/// all are held until every one is picked, so they differ).
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(TcpListener::bind("127.0.0.1:0").context("finding a free port on 127.0.0.1")?);
    }
    held.iter().map(|l| Ok(l.local_addr().context("reading a bound port")?.port())).collect()
}

/// Parses a NODE argument: an index (`2`) or a name (`node2`), checked against
/// the number of nodes.
pub fn parse_node(s: &str, nodes: usize) -> Result<usize> {
    let t = s.trim();
    let digits = t.strip_prefix("node").unwrap_or(t);
    let i: usize = digits
        .parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a node: give an index like 2 or a name like node2"))?;
    if i >= nodes {
        match nodes {
            0 => bail!("node {i} does not exist: the testnet has no nodes"),
            1 => bail!("node {i} does not exist: the testnet has 1 node (node0)"),
            _ => bail!("node {i} does not exist: the testnet has {nodes} nodes (node0 to node{})", nodes - 1),
        }
    }
    Ok(i)
}

/// Parses a node selection: `all` or a comma list of indices/names (`0,2`, `node1`).
/// Returns `None` for `all`.
pub fn parse_node_list(s: &str, nodes: usize) -> Result<Option<Vec<usize>>> {
    if s.trim() == "all" {
        return Ok(None);
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let i = parse_node(part, nodes)?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(Some(out))
}

/// Formats a duration as one number and unit that `agorad` (humantime) parses:
/// `1s`, `200ms`, `1500ms`, `250us`.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_nanos().is_multiple_of(1_000) {
        format!("{}us", d.as_micros())
    } else {
        format!("{}ns", d.as_nanos())
    }
}
