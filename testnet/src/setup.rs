//! The pure parts of building a testnet: stakes, deterministic load and
//! operator keys, staking parameters, genesis, config patching, free ports,
//! node arguments. No processes here.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use bip39::{Language, Mnemonic};
use genesis::{ConsensusParams, GENESIS_VERSION, Genesis, GenesisAccount, GenesisValidator};
use hmac::{Hmac, Mac};
use ledger::staking::{CommissionRates, ValidatorMetadata};
use ledger::{Address, Amount, ChainParams, PublicKey, SigningKey, StakingParams};
use sha2::{Digest, Sha256, Sha512};

/// Balance of each dev account at genesis.
pub const DEV_ACCOUNT_BALANCE: u128 = 1_000_000_000_000_000;
/// Balance of each load account at genesis.
pub const LOAD_ACCOUNT_BALANCE: u128 = 1_000_000_000_000;
/// Liquid balance of each validator's operator account at genesis (fees,
/// extra self-delegation), besides its bonded self-stake.
pub const OPERATOR_BALANCE: u128 = 1_000_000_000_000_000;
/// Voting power per unit of `--stakes` ([`Spec::stakes`](crate::Spec::stakes)):
/// a stake of 1 is 10^6 voting power, i.e. a self-stake of 10^6 × power_reduction
/// (10^12 base units with the default power_reduction of 10^6).
pub const POWER_PER_STAKE: u64 = 1_000_000;
/// Stake of each validator when no stakes are given (in `--stakes` units).
pub const DEFAULT_STAKE: u64 = 100;
/// Voting power of each validator when no stakes are given (10^8; a self-stake of 10^14).
pub const DEFAULT_POWER: u64 = DEFAULT_STAKE * POWER_PER_STAKE;
/// The `agorad start` flag that makes a validator double-sign (two
/// conflicting prevotes) at a height.
pub const BYZANTINE_FLAG: &str = "--byzantine-double-sign-at";

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

/// The genesis voting power of each of `validators` validators: each stake
/// times [`POWER_PER_STAKE`], or [`DEFAULT_POWER`] each when `stakes` is empty.
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
    let mut total: u64 = 0;
    let mut out = Vec::with_capacity(stakes.len());
    for s in stakes {
        let p = s.checked_mul(POWER_PER_STAKE);
        total = p.and_then(|p| total.checked_add(p)).filter(|t| *t <= genesis::MAX_TOTAL_POWER).ok_or_else(|| {
            anyhow!(
                "the stakes add up to too much voting power (at most {} in total, in units of {POWER_PER_STAKE})",
                genesis::MAX_TOTAL_POWER / POWER_PER_STAKE
            )
        })?;
        out.push(s * POWER_PER_STAKE);
    }
    Ok(out)
}

/// The self-stake that gives `power` voting power: `power × power_reduction`.
pub fn self_stake(power: u64, power_reduction: Amount) -> Result<Amount> {
    power_reduction
        .checked_mul(u128::from(power))
        .ok_or_else(|| anyhow!("self-stake of voting power {power} overflows"))
}

// ---- operator keys -------------------------------------------------------

/// The wallet's derivation path `m/44'/7777'/0'/0'/0'` (SLIP-0010 ed25519, all hardened).
pub const WALLET_PATH: [u32; 5] = [44, 7777, 0, 0, 0];

/// Name of validator `i`'s operator key in the testnet keyring: `validator{i}`.
pub fn operator_key_name(i: usize) -> String {
    format!("validator{i}")
}

/// The 24-word BIP39 mnemonic of validator `i`'s operator on chain `chain_id`:
/// its entropy is `sha256("agora-testnet-operator/" ‖ chain_id ‖ "/" ‖ u64_le(i))`.
/// Anyone who knows the chain id can re-derive it (they are test keys).
pub fn operator_mnemonic(chain_id: &str, i: usize) -> String {
    let mut h = Sha256::new();
    h.update(b"agora-testnet-operator/");
    h.update(chain_id.as_bytes());
    h.update(b"/");
    h.update((i as u64).to_le_bytes());
    let entropy: [u8; 32] = h.finalize().into();
    Mnemonic::from_entropy_in(Language::English, &entropy).expect("32 bytes are valid BIP39 entropy").to_string()
}

/// Validator `i`'s operator key: the key the wallet derives from
/// [`operator_mnemonic`] (so `agora keys recover` of it holds this key).
pub fn operator_key(chain_id: &str, i: usize) -> SigningKey {
    wallet_key(&operator_mnemonic(chain_id, i)).expect("a generated mnemonic parses")
}

/// The key the Agora wallet derives from an English BIP39 mnemonic: the BIP39
/// seed with an empty passphrase, then SLIP-0010 ed25519 along [`WALLET_PATH`].
pub fn wallet_key(mnemonic: &str) -> Result<SigningKey> {
    let m = Mnemonic::parse_in_normalized(Language::English, mnemonic)
        .map_err(|e| anyhow!("not a BIP39 English mnemonic: {e}"))?;
    let seed = m.to_seed_normalized("");
    Ok(SigningKey::from_bytes(&slip10_ed25519(&seed, &WALLET_PATH)))
}

/// SLIP-0010 ed25519: the secret key at `path` (indexes without the hardened
/// bit; every level is hardened) of `seed`.
pub fn slip10_ed25519(seed: &[u8], path: &[u32]) -> [u8; 32] {
    fn hmac512(key: &[u8], parts: &[&[u8]]) -> ([u8; 32], [u8; 32]) {
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
        for p in parts {
            mac.update(p);
        }
        let out = mac.finalize().into_bytes();
        let (mut secret, mut chain_code) = ([0u8; 32], [0u8; 32]);
        secret.copy_from_slice(&out[..32]);
        chain_code.copy_from_slice(&out[32..]);
        (secret, chain_code)
    }
    let (mut secret, mut chain_code) = hmac512(b"ed25519 seed", &[seed]);
    for &i in path {
        let index = (i | 0x8000_0000).to_be_bytes();
        (secret, chain_code) = hmac512(&chain_code, &[&[0u8], &secret, &index]);
    }
    secret
}

/// Countries, hosting providers (autonomous systems) and clients the
/// validators claim, in turn, so a decentralization index has something to show.
const COUNTRIES: [&str; 4] = ["DE", "US", "SG", "BR"];
/// Hetzner, Amazon, DigitalOcean, OVH, Akamai (Linode).
const HOSTING: [&str; 5] = ["AS24940", "AS16509", "AS14061", "AS16276", "AS63949"];

/// Validator `i`'s genesis metadata: moniker `moniker` (`node{i}`), entity
/// `testnet-operator-{i}`, a country, a hosting AS and a client version that vary with `i`.
pub fn validator_metadata(i: usize, moniker: &str) -> ValidatorMetadata {
    let version = env!("CARGO_PKG_VERSION");
    ValidatorMetadata {
        moniker: moniker.to_owned(),
        website: String::new(),
        operator_entity: format!("testnet-operator-{i}"),
        country: COUNTRIES[i % COUNTRIES.len()].to_owned(),
        hosting: HOSTING[i % HOSTING.len()].to_owned(),
        // Every third runs a locally patched build.
        client_version: if i % 3 == 2 { format!("agorad/{version}+patched") } else { format!("agorad/{version}") },
        details: format!("validator {i} of a local testnet"),
    }
}

// ---- staking parameters --------------------------------------------------

/// The staking periods of a testnet: short, so unbonding, jailing and
/// commission changes can be watched in minutes. The other staking
/// parameters keep their defaults (`ledger::StakingParams`), except
/// `blocks_per_year`, computed from the block interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakingSettings {
    /// How long undelegated stake stays slashable before it is paid out (default 1 min).
    pub unbonding_time: Duration,
    /// How long a validator jailed for downtime waits before it may unjail (default 20 s).
    pub jail_time: Duration,
    /// Blocks over which missed signatures are counted (default 100).
    pub signed_blocks_window: u64,
    /// Shortest time between two commission changes (default 1 min).
    pub commission_change_period: Duration,
    /// Blocks per decentralization-index epoch (not a staking period, but a
    /// chain period like them); `None`: about 30 s of blocks, at least 10.
    pub epoch_blocks: Option<u64>,
}

impl Default for StakingSettings {
    fn default() -> Self {
        StakingSettings {
            unbonding_time: Duration::from_secs(60),
            jail_time: Duration::from_secs(20),
            signed_blocks_window: 100,
            commission_change_period: Duration::from_secs(60),
            epoch_blocks: None,
        }
    }
}

impl StakingSettings {
    /// The chain's staking parameters with these settings, for blocks every `block_interval`.
    pub fn params(&self, block_interval: Duration) -> Result<StakingParams> {
        let ms = |what: &str, d: Duration| -> Result<u64> {
            let v = u64::try_from(d.as_millis()).map_err(|_| anyhow!("{what} is too long"))?;
            ensure!(v >= 1, "{what} must be at least 1ms");
            Ok(v)
        };
        ensure!(self.signed_blocks_window >= 1, "the signed blocks window must be at least 1 block");
        Ok(StakingParams {
            unbonding_time_ms: ms("the unbonding time", self.unbonding_time)?,
            downtime_jail_ms: ms("the jail time", self.jail_time)?,
            signed_blocks_window: self.signed_blocks_window,
            commission_change_period_ms: ms("the commission change period", self.commission_change_period)?,
            blocks_per_year: blocks_per_year(block_interval),
            ..StakingParams::default()
        })
    }
}

/// Blocks per index epoch: `epoch_blocks`, or about 30 s of blocks (at least 10).
pub fn epoch_blocks(settings: &StakingSettings, block_interval: Duration) -> Result<u64> {
    if let Some(n) = settings.epoch_blocks {
        ensure!(
            (ledger::params::MIN_EPOCH_BLOCKS..=ledger::params::MAX_EPOCH_BLOCKS).contains(&n),
            "epoch blocks must be between {} and {}",
            ledger::params::MIN_EPOCH_BLOCKS,
            ledger::params::MAX_EPOCH_BLOCKS
        );
        return Ok(n);
    }
    let ms = u64::try_from(block_interval.as_millis()).unwrap_or(u64::MAX).max(1);
    Ok((30_000 / ms).clamp(10, 1_000))
}

/// Blocks in a 365-day year at one block every `block_interval` (at least 1).
pub fn blocks_per_year(block_interval: Duration) -> u64 {
    const YEAR_MS: u64 = 365 * 24 * 3600 * 1000;
    let ms = u64::try_from(block_interval.as_millis()).unwrap_or(u64::MAX).max(1);
    (YEAR_MS / ms).max(1)
}

// ---- byzantine validators ------------------------------------------------

/// A validator that double-signs: started with `agorad start
/// --byzantine-double-sign-at HEIGHT`, from that height on it signs and broadcasts
/// two conflicting prevotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Byzantine {
    /// Node index (a validator).
    pub node: usize,
    pub height: u64,
}

impl std::fmt::Display for Byzantine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node{}@{}", self.node, self.height)
    }
}

/// Parses `NODE@HEIGHT`: `2@40` or `node2@40` (the node is checked against
/// the testnet when it is used).
pub fn parse_byzantine(s: &str) -> Result<Byzantine> {
    let (node, height) = s
        .split_once('@')
        .ok_or_else(|| anyhow!("`{s}` is not NODE@HEIGHT (e.g. 2@40: node2 double-signs from height 40)"))?;
    let node = parse_node(node, usize::MAX).with_context(|| format!("in `{s}`"))?;
    let height: u64 =
        height.trim().parse().map_err(|_| anyhow!("`{s}`: the height `{}` is not a whole number", height.trim()))?;
    ensure!(height >= 1, "`{s}`: the height must be at least 1");
    Ok(Byzantine { node, height })
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
    /// Moniker (`node{i}`).
    pub name: String,
    /// Consensus key (`agorad show-validator`).
    pub public_key: PublicKey,
    /// Operator account (see [`operator_key`]).
    pub operator: Address,
    /// Voting power: the operator self-delegates `power × power_reduction`.
    pub power: u64,
}

/// Builds and validates the testnet's genesis: validator `i` of `validators`
/// is its operator's self-delegation with [`validator_metadata`]`(i, name)`
/// and default commission; the staking periods come from `staking`.
pub fn build_genesis(
    chain_id: &str,
    genesis_time: &str,
    block_interval: Duration,
    staking: &StakingSettings,
    validators: &[ValidatorEntry],
    accounts: &[(Address, u128)],
) -> Result<Genesis> {
    let params = ChainParams {
        staking: staking.params(block_interval)?,
        index: ledger::params::IndexParams { epoch_blocks: epoch_blocks(staking, block_interval)? },
        ..ChainParams::default()
    };
    let reduction = params.staking.power_reduction;
    let validators = validators
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Ok(GenesisValidator {
                operator: v.operator,
                public_key: v.public_key,
                self_stake: self_stake(v.power, reduction)?,
                commission: CommissionRates::default(),
                min_self_delegation: None,
                metadata: validator_metadata(i, &v.name),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let g = Genesis {
        version: GENESIS_VERSION,
        chain_id: chain_id.to_owned(),
        genesis_time: genesis_time.to_owned(),
        accounts: accounts.iter().map(|(a, b)| GenesisAccount { address: *a, balance: Amount::new(*b) }).collect(),
        validators,
        params,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entries(chain_id: &str, powers: &[u64]) -> Vec<ValidatorEntry> {
        powers
            .iter()
            .enumerate()
            .map(|(i, p)| ValidatorEntry {
                name: format!("node{i}"),
                // Any distinct valid ed25519 keys do for consensus keys here.
                public_key: PublicKey::from_signing_key(&load_key("consensus", i)),
                operator: address_of(&operator_key(chain_id, i)),
                power: *p,
            })
            .collect()
    }

    #[test]
    fn stakes_are_millions_of_voting_power() {
        assert_eq!(DEFAULT_POWER, 100_000_000);
        assert_eq!(powers(4, &[]).unwrap(), vec![100_000_000; 4]);
        assert_eq!(powers(4, &[40, 30, 20, 10]).unwrap(), vec![40_000_000, 30_000_000, 20_000_000, 10_000_000]);
        let reduction = StakingParams::default().power_reduction;
        // The default 100 each: a self-stake of 10^14 per validator.
        assert_eq!(self_stake(DEFAULT_POWER, reduction).unwrap(), Amount::new(100_000_000_000_000));
        assert_eq!(self_stake(1, reduction).unwrap(), reduction);
        let err = powers(2, &[u64::MAX / 2, 1]).unwrap_err().to_string();
        assert!(err.contains("too much voting power"), "{err}");
        let max = genesis::MAX_TOTAL_POWER / POWER_PER_STAKE;
        assert!(powers(1, &[max]).is_ok());
        assert!(powers(2, &[max, 1]).is_err());
    }

    #[test]
    fn genesis_validators_are_self_delegations_with_their_stakes() {
        let chain = "agora-testnet";
        let vals = entries(chain, &powers(4, &[40, 30, 20, 10]).unwrap());
        let accounts = vec![(vals[0].operator, OPERATOR_BALANCE)];
        let st = StakingSettings::default();
        let g = build_genesis(chain, "2026-01-01T00:00:00Z", Duration::from_secs(1), &st, &vals, &accounts).unwrap();
        let stakes: Vec<u128> = g.validators.iter().map(|v| v.self_stake.get()).collect();
        assert_eq!(stakes, vec![40_000_000_000_000, 30_000_000_000_000, 20_000_000_000_000, 10_000_000_000_000]);
        // The ledger's own rules give each its power.
        let set = g.validator_set().unwrap();
        for (i, v) in vals.iter().enumerate() {
            assert!(set.contains(&(v.public_key, v.power)), "validator {i} with power {}: {set:?}", v.power);
        }
        for (i, v) in g.validators.iter().enumerate() {
            assert_eq!(v.operator, address_of(&operator_key(chain, i)));
            assert_eq!(v.commission, CommissionRates::default());
            assert_eq!(v.min_self_delegation, None);
            assert_eq!(v.metadata.moniker, format!("node{i}"));
            assert_eq!(v.metadata.operator_entity, format!("testnet-operator-{i}"));
            assert!(v.metadata.client_version.starts_with("agorad/"));
            ledger::staking::metadata::validate(&v.metadata).unwrap();
        }
        let countries: Vec<&str> = g.validators.iter().map(|v| v.metadata.country.as_str()).collect();
        assert_eq!(countries, ["DE", "US", "SG", "BR"]);
        let hosting: std::collections::BTreeSet<&str> =
            g.validators.iter().map(|v| v.metadata.hosting.as_str()).collect();
        assert_eq!(hosting.len(), 4, "hosting varies");
        assert_ne!(g.validators[2].metadata.client_version, g.validators[0].metadata.client_version);
        // Testnet staking periods.
        let s = &g.params.staking;
        assert_eq!(
            (s.unbonding_time_ms, s.downtime_jail_ms, s.signed_blocks_window, s.commission_change_period_ms),
            (60_000, 20_000, 100, 60_000)
        );
        assert_eq!(s.blocks_per_year, 31_536_000);
        assert_eq!(s.power_reduction, StakingParams::default().power_reduction);
        assert_eq!(genesis::Genesis::from_json(&g.to_json_pretty()).unwrap(), g);

        // Two validators with one operator are refused with genesis's message.
        let mut dup = vals.clone();
        dup[1].operator = dup[0].operator;
        let err = build_genesis(chain, "2026-01-01T00:00:00Z", Duration::from_secs(1), &st, &dup, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("validators[1].operator"), "{err:#}");
    }

    #[test]
    fn staking_settings_override_the_testnet_defaults() {
        let d = StakingSettings::default();
        assert_eq!(d.unbonding_time, Duration::from_secs(60));
        assert_eq!(d.jail_time, Duration::from_secs(20));
        assert_eq!(d.signed_blocks_window, 100);
        assert_eq!(d.commission_change_period, Duration::from_secs(60));
        let st = StakingSettings {
            unbonding_time: Duration::from_secs(300),
            jail_time: Duration::from_millis(1500),
            signed_blocks_window: 10,
            commission_change_period: Duration::from_secs(5),
            epoch_blocks: Some(12),
        };
        assert_eq!(epoch_blocks(&st, Duration::from_millis(250)).unwrap(), 12);
        assert!(epoch_blocks(&StakingSettings { epoch_blocks: Some(9), ..d.clone() }, Duration::from_secs(1)).is_err());
        assert_eq!(epoch_blocks(&d, Duration::from_millis(250)).unwrap(), 120, "30 s of blocks");
        assert_eq!(epoch_blocks(&d, Duration::from_secs(10)).unwrap(), 10, "at least 10");
        assert!(epoch_blocks(&StakingSettings { epoch_blocks: Some(0), ..d.clone() }, Duration::from_secs(1)).is_err());
        let p = st.params(Duration::from_millis(250)).unwrap();
        assert_eq!(p.unbonding_time_ms, 300_000);
        assert_eq!(p.downtime_jail_ms, 1_500);
        assert_eq!(p.signed_blocks_window, 10);
        assert_eq!(p.commission_change_period_ms, 5_000);
        assert_eq!(p.blocks_per_year, 126_144_000);
        // Everything else keeps the chain's defaults.
        let defaults = StakingParams::default();
        assert_eq!(
            StakingParams {
                unbonding_time_ms: defaults.unbonding_time_ms,
                downtime_jail_ms: defaults.downtime_jail_ms,
                signed_blocks_window: defaults.signed_blocks_window,
                commission_change_period_ms: defaults.commission_change_period_ms,
                blocks_per_year: defaults.blocks_per_year,
                ..p
            },
            defaults
        );
        let vals = entries("agora-testnet", &[DEFAULT_POWER]);
        let g = build_genesis("agora-testnet", "2026-01-01T00:00:00Z", Duration::from_millis(250), &st, &vals, &[])
            .unwrap();
        assert_eq!(g.params.staking, p);

        assert!(StakingSettings { signed_blocks_window: 0, ..d.clone() }.params(Duration::from_secs(1)).is_err());
        let zero = StakingSettings { unbonding_time: Duration::ZERO, ..d.clone() };
        assert!(zero.params(Duration::from_secs(1)).unwrap_err().to_string().contains("unbonding time"));
        assert_eq!(blocks_per_year(Duration::from_secs(5)), 6_307_200);
        assert_eq!(blocks_per_year(Duration::from_secs(u64::MAX)), 1);
    }

    #[test]
    fn operator_keys_are_deterministic_wallet_keys() {
        let chain = "agora-testnet";
        assert_eq!(operator_key(chain, 2).to_bytes(), operator_key(chain, 2).to_bytes());
        let keys: std::collections::BTreeSet<[u8; 32]> = (0..8).map(|i| operator_key(chain, i).to_bytes()).collect();
        assert_eq!(keys.len(), 8, "one key per validator");
        assert_ne!(operator_key("other-chain", 0).to_bytes(), operator_key(chain, 0).to_bytes());
        assert_ne!(operator_key(chain, 0).to_bytes(), load_key(chain, 0).to_bytes());
        assert_eq!(operator_key_name(3), "validator3");
        // The documented derivation, spelled out.
        let mut h = Sha256::new();
        h.update(b"agora-testnet-operator/agora-testnet/");
        h.update(1u64.to_le_bytes());
        let entropy: [u8; 32] = h.finalize().into();
        let m = Mnemonic::from_entropy_in(Language::English, &entropy).unwrap();
        assert_eq!(operator_mnemonic(chain, 1), m.to_string());
        assert_eq!(operator_mnemonic(chain, 1).split(' ').count(), 24);
        assert_eq!(operator_key(chain, 1).to_bytes(), wallet_key(&m.to_string()).unwrap().to_bytes());
        assert!(wallet_key("abandon about").is_err());
    }

    /// The wallet's derivation, pinned by the wallet's own test vector
    /// (`agora_path_is_stable` in wallet-cli): `agora keys recover` of an
    /// operator mnemonic yields the genesis operator.
    #[test]
    fn wallet_key_matches_the_wallet() {
        let words = format!("{} art", ["abandon"; 23].join(" "));
        let key = wallet_key(&words).unwrap();
        assert_eq!(hex::encode(key.to_bytes()), "fbfea6415ae864ea115851f0bb26862faa8572c644cad50c543e2e905a36f501");
        assert_eq!(
            PublicKey::from_signing_key(&key).to_string(),
            "0c91955146a34901a03ae738778f3ea13cb9d272643622f4d8343ac463cac33a"
        );
    }

    /// SLIP-0010 "Test vector 1 for ed25519".
    #[test]
    fn slip10_matches_the_reference_vector() {
        let seed = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        for (path, private) in [
            (&[][..], "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"),
            (&[0][..], "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"),
            (&[0, 1, 2, 2, 1_000_000_000][..], "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793"),
        ] {
            assert_eq!(hex::encode(slip10_ed25519(&seed, path)), private, "path {path:?}");
        }
    }

    #[test]
    fn byzantine_specs_parse() {
        assert_eq!(parse_byzantine("2@40").unwrap(), Byzantine { node: 2, height: 40 });
        assert_eq!(parse_byzantine("node3@7").unwrap(), Byzantine { node: 3, height: 7 });
        assert_eq!(parse_byzantine(" 1 @ 9 ").unwrap(), Byzantine { node: 1, height: 9 });
        assert_eq!(Byzantine { node: 2, height: 40 }.to_string(), "node2@40");
        assert!(parse_byzantine("2").unwrap_err().to_string().contains("NODE@HEIGHT"));
        assert!(parse_byzantine("2@").unwrap_err().to_string().contains("not a whole number"));
        assert!(parse_byzantine("2@x").is_err());
        assert!(parse_byzantine("2@0").unwrap_err().to_string().contains("at least 1"));
        assert!(format!("{:#}", parse_byzantine("alice@3").unwrap_err()).contains("not a node"));
        assert!(parse_byzantine("-1@3").is_err());
    }
}
