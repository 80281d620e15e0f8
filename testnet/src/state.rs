//! The state file `DIR/testnet.json`: everything a later invocation needs to act
//! on a testnet (its nodes' homes, ports, peer ids and process ids).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use ledger::Address;
use serde::{Deserialize, Serialize};

/// Name of the state file inside the testnet directory.
pub const STATE_FILE: &str = "testnet.json";
/// Marker written while `create` runs (a directory holding it is a half-created testnet).
pub const CREATING_MARKER: &str = ".testnet-creating";
/// Version of the state file format this code reads and writes.
pub const STATE_VERSION: u32 = 1;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Listed in genesis with voting power.
    Validator,
    /// Follows the chain without voting.
    Full,
}

/// One node of the testnet, as recorded in the state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// `node{i}`; also the name of its home directory and its moniker.
    pub name: String,
    pub kind: NodeKind,
    /// Home directory, relative to the testnet directory (so the directory can move).
    pub home: PathBuf,
    pub rpc_port: u16,
    pub p2p_port: u16,
    /// Port of the node's Prometheus metrics server (`http://127.0.0.1:PORT/metrics`);
    /// 0 in state files written before nodes had one.
    #[serde(default)]
    pub metrics_port: u16,
    /// libp2p peer id (`agorad show-node-id`).
    pub node_id: String,
    /// Validator public key, hex (`agorad show-validator`).
    pub validator_key: String,
    /// Voting power at genesis (0 for full nodes); the operator's self-stake
    /// is `power × power_reduction`.
    pub power: u64,
    /// Process id of the running `agorad start`, if one was started and not stopped since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// A validator's operator account (it self-delegated the stake; it signs
    /// unjail and edit transactions). `None` for full nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Address>,
    /// Name of the operator's key in the testnet keyring (`validator{i}`, password
    /// [`crate::DEV_PASSWORD`]), if the wallet was available at creation. The key
    /// is also [`crate::operator_key`]`(chain_id, i)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_key: Option<String>,
    /// `Some(h)`: the node is started byzantine, with `agorad start
    /// --byzantine-double-sign-at h` (it double-signs from height `h` on), until a
    /// plain restart (see [`crate::Testnet::restart_byzantine`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byzantine_at: Option<u64>,
}

impl NodeState {
    /// The node's libp2p address on loopback: `/ip4/127.0.0.1/tcp/PORT/p2p/PEER_ID`.
    pub fn multiaddr(&self) -> String {
        crate::setup::peer_multiaddr(self.p2p_port, &self.node_id)
    }
}

/// A funded account created with the wallet (`agora keys new`), for people to import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevAccount {
    /// Key name in the testnet's keyring (`DIR/keys`), e.g. `dev0`.
    pub name: String,
    pub address: Address,
    /// The key's BIP39 mnemonic (testnet only: it is printed and stored in clear).
    pub mnemonic: String,
}

/// The whole state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub chain_id: String,
    /// RFC 3339 time the testnet was created (also its genesis time).
    pub created: String,
    /// Target block interval in milliseconds.
    pub block_interval_ms: u64,
    /// The `agorad` binary nodes are started with.
    pub agorad: PathBuf,
    /// The `agora` wallet binary, if one was available at creation.
    #[serde(default)]
    pub agora: Option<PathBuf>,
    /// Number of deterministic load accounts funded at genesis (see [`crate::load_key`]).
    pub load_accounts: usize,
    pub dev_accounts: Vec<DevAccount>,
    pub nodes: Vec<NodeState>,
}

impl State {
    /// Path of the state file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Reads `dir/testnet.json`.
    pub fn load(dir: &Path) -> Result<State> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("{} holds no testnet (no {STATE_FILE}); create one with `testnet up`", dir.display())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Self::from_json(&text).with_context(|| format!("reading {}", path.display()))
    }

    /// Parses the state file's text and checks its version.
    pub fn from_json(text: &str) -> Result<State> {
        let s: State = serde_json::from_str(text).context("the state file is not valid testnet JSON")?;
        if s.version != STATE_VERSION {
            bail!("state file version {} is not supported (this tool reads version {STATE_VERSION})", s.version);
        }
        Ok(s)
    }

    /// The state file's text (fails only for a path that is not UTF-8).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).context("the testnet's paths must be valid UTF-8")
    }

    /// Writes `dir/testnet.json` atomically (temporary file, then rename), so a
    /// concurrent reader never sees half a file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = Self::path(dir);
        static SAVES: AtomicU64 = AtomicU64::new(0);
        let n = SAVES.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{STATE_FILE}.{}.{n}.tmp", std::process::id()));
        std::fs::write(&tmp, self.to_json()?).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}
