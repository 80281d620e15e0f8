//! The client configuration file, `client.toml` in the keyring directory
//! (`~/.agora/keys/client.toml` by default), managed by `agora config`:
//!
//! ```toml
//! chain-id = "agora-mainnet"       # the only chain the wallet signs for
//! node = "https://rpc.example:443" # the default --node
//! output = "json"                  # the default -o
//! max-fee = "10000000000"          # the most a transaction may pay (base units)
//! ```
//!
//! Each setting is resolved in this order: the command-line flag, then the
//! environment variable (`AGORA_CHAIN_ID`, `AGORA_NODE`, `AGORA_MAX_FEE`; the
//! output format has none), then the file, then the built-in default (no chain
//! id, the local node, text, a maximum fee of [`DEFAULT_MAX_FEE`]). With no chain id pinned anywhere the wallet signs for the chain
//! the node reports and says so on stderr (see `send.rs`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, WalletError};
use crate::output::OutputFormat;
use crate::parse::parse_node_url;

/// The file's name, in the keyring directory.
pub const FILE_NAME: &str = "client.toml";
/// Environment variable pinning the chain id.
pub const CHAIN_ID_ENV: &str = "AGORA_CHAIN_ID";
/// Environment variable naming the node.
pub const NODE_ENV: &str = "AGORA_NODE";
/// Environment variable setting the maximum fee.
pub const MAX_FEE_ENV: &str = "AGORA_MAX_FEE";
/// The most a transaction may pay in fees (gas limit × gas price, base units)
/// unless the user says otherwise: 10^10, about 14 times the largest fee at
/// the default chain parameters (max_tx_gas 700 000 000 × min_gas_price 1).
/// It bounds what a hostile or compromised node can make the wallet sign
/// through its `min_gas_price` and gas estimate (see `send.rs`).
pub const DEFAULT_MAX_FEE: ledger::Amount = ledger::Amount::new(10_000_000_000);
/// The default node URL.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:26657";
/// Longest chain id accepted.
pub const MAX_CHAIN_ID_LEN: usize = 64;
/// Largest client.toml read (it holds three short settings).
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// The settings of `client.toml`; absent ones are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClientConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputFormat>,
    /// A whole number of base units, as a string (TOML integers stop at 2^63).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee: Option<String>,
}

/// A setting `agora config` can read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigKey {
    /// The chain id the wallet signs for.
    ChainId,
    /// The node's JSON-RPC URL.
    Node,
    /// The output format: text or json.
    Output,
    /// The most a transaction may pay in fees, in base units.
    MaxFee,
}

impl ConfigKey {
    pub const ALL: [ConfigKey; 4] = [ConfigKey::ChainId, ConfigKey::Node, ConfigKey::Output, ConfigKey::MaxFee];

    pub fn name(self) -> &'static str {
        match self {
            ConfigKey::ChainId => "chain-id",
            ConfigKey::Node => "node",
            ConfigKey::Output => "output",
            ConfigKey::MaxFee => "max-fee",
        }
    }
}

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    /// How the source is named in messages (`--chain-id`, `AGORA_CHAIN_ID`, …).
    pub fn describe(self, key: ConfigKey) -> String {
        match (self, key) {
            (Source::Flag, k) => format!("--{}", k.name()),
            (Source::Env, ConfigKey::ChainId) => CHAIN_ID_ENV.to_owned(),
            (Source::Env, ConfigKey::Node) => NODE_ENV.to_owned(),
            (Source::Env, ConfigKey::MaxFee) => MAX_FEE_ENV.to_owned(),
            (Source::Env, ConfigKey::Output) => "env".to_owned(),
            (Source::File, k) => format!("{} in {FILE_NAME}", k.name()),
            (Source::Default, _) => "default".to_owned(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// Checks a chain id: 1 to 64 printable ASCII characters without spaces.
pub fn validate_chain_id(s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.len() > MAX_CHAIN_ID_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WalletError::InvalidArgument(format!(
            "invalid chain id `{t}`: use 1 to {MAX_CHAIN_ID_LEN} printable ASCII characters without spaces (e.g. agora-local)"
        )));
    }
    Ok(t.to_owned())
}

/// [`validate_chain_id`] for clap.
pub fn chain_id_arg(s: &str) -> std::result::Result<String, String> {
    validate_chain_id(s).map_err(|e| e.to_string())
}

impl ClientConfig {
    /// The file in keyring directory `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Reads the file; a missing file is an empty configuration. Values are
    /// checked like the flags they stand for.
    pub fn load(path: &Path) -> Result<ClientConfig> {
        let bad = |reason: String| WalletError::Config { path: path.to_owned(), reason };
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ClientConfig::default()),
            Err(e) => return Err(WalletError::io("cannot read the client config", path, e)),
        };
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_FILE_BYTES + 1), &mut text)
            .map_err(|e| WalletError::io("cannot read the client config", path, e))?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(bad(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        let c: ClientConfig = toml::from_str(&text).map_err(|e| bad(e.to_string().trim_end().to_owned()))?;
        if let Some(id) = &c.chain_id {
            validate_chain_id(id).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(n) = &c.node {
            parse_node_url(n).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(f) = &c.max_fee {
            crate::parse::parse_amount(f).map_err(|e| bad(format!("max-fee: {e}")))?;
        }
        Ok(c)
    }

    /// Writes the file atomically (a temporary file renamed over it), mode 0600
    /// in a 0700 directory; an empty configuration removes it.
    pub fn save(&self, path: &Path) -> Result<()> {
        if *self == ClientConfig::default() {
            return match fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(WalletError::io("cannot remove the client config", path, e))
                }
                _ => Ok(()),
            };
        }
        let text = toml::to_string(self).map_err(|e| WalletError::Output(e.to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir).map_err(|e| WalletError::io("cannot create the keyring directory", dir, e))?;
        let tmp = dir.join(format!(".{FILE_NAME}.tmp-{}", std::process::id()));
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let err = |e| WalletError::io("cannot write the client config", path, e);
        let written = opts.open(&tmp).and_then(|mut f| {
            f.write_all(b"# agora client configuration (`agora config` edits it)\n")?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
            let _ = fs::remove_file(&tmp);
            return Err(err(e));
        }
        Ok(())
    }

    /// The value of `key` as text.
    pub fn get(&self, key: ConfigKey) -> Option<String> {
        match key {
            ConfigKey::ChainId => self.chain_id.clone(),
            ConfigKey::Node => self.node.clone(),
            ConfigKey::Output => self.output.map(|o| o.as_str().to_owned()),
            ConfigKey::MaxFee => self.max_fee.clone(),
        }
    }

    /// Sets `key` to `value` (checked), or removes it with `None`.
    pub fn set(&mut self, key: ConfigKey, value: Option<&str>) -> Result<()> {
        match key {
            ConfigKey::ChainId => self.chain_id = value.map(validate_chain_id).transpose()?,
            ConfigKey::Node => {
                self.node = value
                    .map(|v| {
                        parse_node_url(v)?;
                        Ok::<_, WalletError>(v.trim().to_owned())
                    })
                    .transpose()?;
            }
            ConfigKey::Output => {
                self.output = value
                    .map(|v| {
                        <OutputFormat as clap::ValueEnum>::from_str(v.trim(), true).map_err(|_| {
                            WalletError::InvalidArgument(format!("invalid output format `{v}`: use text or json"))
                        })
                    })
                    .transpose()?;
            }
            ConfigKey::MaxFee => {
                self.max_fee = value.map(|v| crate::parse::parse_amount(v).map(|a| a.to_string())).transpose()?;
            }
        }
        Ok(())
    }
}

/// A non-empty environment variable, or `None`.
pub fn env_var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(WalletError::InvalidArgument(format!("{name} is not valid UTF-8")))
        }
    }
}

/// The first of flag, environment, file that has a value, with its source.
pub fn pick(flag: Option<String>, env: Option<String>, file: Option<String>) -> Option<(String, Source)> {
    flag.map(|v| (v, Source::Flag))
        .or_else(|| env.map(|v| (v, Source::Env)))
        .or_else(|| file.map(|v| (v, Source::File)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_flag_env_file() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(pick(s("a"), s("b"), s("c")), Some(("a".into(), Source::Flag)));
        assert_eq!(pick(None, s("b"), s("c")), Some(("b".into(), Source::Env)));
        assert_eq!(pick(None, None, s("c")), Some(("c".into(), Source::File)));
        assert_eq!(pick(None, None, None), None);
        assert_eq!(Source::Env.describe(ConfigKey::ChainId), "AGORA_CHAIN_ID");
        assert_eq!(Source::File.describe(ConfigKey::ChainId), "chain-id in client.toml");
    }

    #[test]
    fn file_round_trip_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = ClientConfig::path_in(&dir.path().join("keys"));
        assert_eq!(ClientConfig::load(&path).unwrap(), ClientConfig::default(), "no file: empty");
        let mut c = ClientConfig::default();
        c.set(ConfigKey::ChainId, Some(" agora-1 ")).unwrap();
        c.set(ConfigKey::Node, Some("http://127.0.0.1:1")).unwrap();
        c.set(ConfigKey::Output, Some("JSON")).unwrap();
        c.set(ConfigKey::MaxFee, Some(" 340282366920938463463374607431768211455 ")).unwrap();
        c.save(&path).unwrap();
        let back = ClientConfig::load(&path).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.get(ConfigKey::ChainId).as_deref(), Some("agora-1"));
        assert_eq!(back.get(ConfigKey::Output).as_deref(), Some("json"));
        assert_eq!(
            back.get(ConfigKey::MaxFee).as_deref(),
            Some("340282366920938463463374607431768211455"),
            "u128::MAX"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }

        for (k, v) in [
            (ConfigKey::ChainId, ""),
            (ConfigKey::ChainId, "two words"),
            (ConfigKey::ChainId, &"x".repeat(65)),
            (ConfigKey::Node, "ftp://x"),
            (ConfigKey::Output, "yaml"),
            (ConfigKey::MaxFee, "-1"),
            (ConfigKey::MaxFee, "1.5"),
            (ConfigKey::MaxFee, "lots"),
        ] {
            assert!(c.clone().set(k, Some(v)).is_err(), "{k:?} = {v:?}");
        }

        // Unknown keys and bad values in the file are refused, naming the file.
        fs::write(&path, "chain-id = \"a\"\ncolour = \"red\"\n").unwrap();
        let e = ClientConfig::load(&path).unwrap_err().to_string();
        assert!(e.contains("client.toml") && e.contains("colour"), "{e}");
        fs::write(&path, "chain-id = \"a b\"\n").unwrap();
        assert!(ClientConfig::load(&path).unwrap_err().to_string().contains("invalid chain id"));
        fs::write(&path, "max-fee = \"1e9\"\n").unwrap();
        assert!(ClientConfig::load(&path).unwrap_err().to_string().contains("max-fee"));
        fs::write(&path, "x".repeat(MAX_FILE_BYTES as usize + 1)).unwrap();
        assert!(ClientConfig::load(&path).unwrap_err().to_string().contains("larger than"));

        // Unsetting everything removes the file.
        let mut c = back;
        for k in ConfigKey::ALL {
            c.set(k, None).unwrap();
        }
        c.save(&path).unwrap();
        assert!(!path.exists());
    }
}
