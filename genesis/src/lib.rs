//! The genesis file: the chain's starting state and parameters.
//!
//! Format: versioned JSON (for people), validated with errors that name the bad
//! field, and hashed over its canonical borsh form (so formatting changes do not
//! change the chain's identity). The node records the genesis hash at first start
//! and refuses to start on a different one.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use borsh::BorshSerialize;
use ledger::staking::{CommissionRates, GenesisValidatorSpec, SetMember, ValidatorMetadata};
use ledger::{Address, Amount, ChainParams, Hash, PublicKey, StateDiff, StateStore};
use serde::{Deserialize, Serialize};

/// The only genesis format version this code reads.
pub const GENESIS_VERSION: u32 = 1;

/// Errors of the genesis crate. `field` is a path such as `accounts[2].balance`.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("cannot read genesis file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("genesis JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("genesis field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> GenesisError {
    GenesisError::Invalid { field: field.into(), reason: reason.into() }
}

/// A funded account at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    pub address: Address,
    pub balance: Amount,
}

/// A validator at genesis: its operator's self-delegation is created bonded
/// (it counts towards the total supply), so a testnet can give its
/// validators unequal stakes. Voting power is `self_stake / power_reduction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// The operator account (edits, unjails, earns commission).
    pub operator: Address,
    /// ed25519 consensus key, hex.
    pub public_key: PublicKey,
    /// Tokens the operator bonds to it at genesis.
    pub self_stake: Amount,
    #[serde(default)]
    pub commission: CommissionRates,
    /// Defaults to the chain's `staking.min_self_delegation`.
    #[serde(default)]
    pub min_self_delegation: Option<Amount>,
    /// Moniker (required), website, operator entity, country, hosting, client.
    pub metadata: ValidatorMetadata,
}

/// Consensus timing (not part of execution, but every validator must agree).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusParams {
    /// Target time between blocks, e.g. "1s" or "200ms".
    #[serde(with = "humantime_serde")]
    pub block_interval: Duration,
}

impl Default for ConsensusParams {
    fn default() -> Self {
        ConsensusParams { block_interval: Duration::from_secs(1) }
    }
}

/// The genesis document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub version: u32,
    pub chain_id: String,
    /// RFC 3339 time, e.g. "2026-11-21T00:00:00Z"; the first block's time is after it.
    pub genesis_time: String,
    pub accounts: Vec<GenesisAccount>,
    pub validators: Vec<GenesisValidator>,
    #[serde(default)]
    pub params: ChainParams,
    #[serde(default)]
    pub consensus: ConsensusParams,
}

/// Most total voting power allowed (CometBFT's bound keeps priority arithmetic in range).
pub const MAX_TOTAL_POWER: u64 = (i64::MAX / 8) as u64;

impl Genesis {
    pub fn from_json(text: &str) -> Result<Genesis, GenesisError> {
        let g: Genesis = serde_json::from_str(text)?;
        g.validate()?;
        Ok(g)
    }

    pub fn load(path: &Path) -> Result<Genesis, GenesisError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| GenesisError::Io { path: path.display().to_string(), error })?;
        Self::from_json(&text)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("genesis always serialises")
    }

    /// Genesis time in milliseconds since the Unix epoch.
    pub fn genesis_time_ms(&self) -> Result<u64, GenesisError> {
        let t = humantime::parse_rfc3339(&self.genesis_time)
            .map_err(|e| invalid("genesis_time", format!("`{}` is not an RFC 3339 time: {e}", self.genesis_time)))?;
        let d =
            t.duration_since(std::time::UNIX_EPOCH).map_err(|_| invalid("genesis_time", "must be after 1970-01-01"))?;
        u64::try_from(d.as_millis()).map_err(|_| invalid("genesis_time", "too far in the future"))
    }

    /// Checks every rule; the error names the first bad field.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.version != GENESIS_VERSION {
            return Err(invalid(
                "version",
                format!("unsupported version {}, expected {GENESIS_VERSION}", self.version),
            ));
        }
        validate_chain_id(&self.chain_id)?;
        self.genesis_time_ms()?;

        let mut seen = BTreeSet::new();
        let mut supply = Amount::ZERO;
        for (i, a) in self.accounts.iter().enumerate() {
            if !seen.insert(a.address) {
                return Err(invalid(format!("accounts[{i}].address"), format!("{} is listed twice", a.address)));
            }
            supply = supply
                .checked_add(a.balance)
                .ok_or_else(|| invalid(format!("accounts[{i}].balance"), "total supply overflows"))?;
        }

        if self.validators.is_empty() {
            return Err(invalid("validators", "at least one validator is required"));
        }
        validate_params(&self.params)?;
        let sp = &self.params.staking;
        if self.validators.len() > sp.max_validators as usize {
            return Err(invalid(
                "validators",
                format!(
                    "{} validators, more than params.staking.max_validators {}",
                    self.validators.len(),
                    sp.max_validators
                ),
            ));
        }
        let mut keys = BTreeSet::new();
        let mut operators = BTreeSet::new();
        let mut total: u64 = 0;
        for (i, v) in self.validators.iter().enumerate() {
            let f = |name: &str| format!("validators[{i}].{name}");
            if let Err(e) = ledger::staking::metadata::validate(&v.metadata) {
                return Err(invalid(f("metadata"), e));
            }
            match ed25519_dalek::VerifyingKey::from_bytes(&v.public_key.0) {
                Ok(k) if !k.is_weak() => {}
                _ => return Err(invalid(f("public_key"), "not a valid ed25519 public key")),
            }
            if !keys.insert(v.public_key) {
                return Err(invalid(f("public_key"), "listed twice"));
            }
            if !operators.insert(v.operator) {
                return Err(invalid(f("operator"), "operates another genesis validator already"));
            }
            let c = &v.commission;
            if c.rate > c.max_rate || c.max_change_rate > c.max_rate {
                return Err(invalid(f("commission"), "need rate <= max_rate and max_change_rate <= max_rate"));
            }
            let min = v.min_self_delegation.unwrap_or(sp.min_self_delegation);
            if min < sp.min_self_delegation {
                return Err(invalid(f("min_self_delegation"), "below params.staking.min_self_delegation"));
            }
            if v.self_stake < min || v.self_stake < sp.power_reduction {
                return Err(invalid(
                    f("self_stake"),
                    format!(
                        "must be at least min_self_delegation ({min}) and power_reduction ({}), the stake of one unit of voting power",
                        sp.power_reduction
                    ),
                ));
            }
            let power = u64::try_from(v.self_stake.get() / sp.power_reduction.get()).unwrap_or(u64::MAX);
            total = total
                .checked_add(power)
                .filter(|t| *t <= MAX_TOTAL_POWER)
                .ok_or_else(|| invalid(f("self_stake"), format!("total voting power exceeds {MAX_TOTAL_POWER}")))?;
            supply =
                supply.checked_add(v.self_stake).ok_or_else(|| invalid(f("self_stake"), "total supply overflows"))?;
        }
        // Every token could end up bonded: the power of the whole supply must fit.
        if supply.get() / sp.power_reduction.get() > u128::from(MAX_TOTAL_POWER) {
            return Err(invalid(
                "params.staking.power_reduction",
                format!("too small for a supply of {supply}: total power could exceed {MAX_TOTAL_POWER}"),
            ));
        }
        if self.consensus.block_interval < Duration::from_millis(10)
            || self.consensus.block_interval > Duration::from_secs(600)
        {
            return Err(invalid("consensus.block_interval", "must be between 10ms and 10m"));
        }
        Ok(())
    }

    /// The chain's identity: SHA-256 of the canonical encoding of every field.
    pub fn hash(&self) -> Hash {
        #[derive(BorshSerialize)]
        struct Canonical<'a> {
            version: u32,
            chain_id: &'a str,
            genesis_time: &'a str,
            accounts: &'a [GenesisAccount],
            validators: &'a [GenesisValidator],
            params: &'a ChainParams,
            block_interval_ms: u64,
        }
        let c = Canonical {
            version: self.version,
            chain_id: &self.chain_id,
            genesis_time: &self.genesis_time,
            accounts: &self.accounts,
            validators: &self.validators,
            params: &self.params,
            block_interval_ms: u64::try_from(self.consensus.block_interval.as_millis()).unwrap_or(u64::MAX),
        };
        Hash::digest_parts(&[b"agora/genesis/v1\0", &borsh::to_vec(&c).expect("writing to a Vec cannot fail")])
    }

    pub fn balances(&self) -> Vec<(Address, Amount)> {
        self.accounts.iter().map(|a| (a.address, a.balance)).collect()
    }

    /// The genesis validators as the ledger creates them.
    pub fn validator_specs(&self) -> Vec<GenesisValidatorSpec> {
        self.validators
            .iter()
            .map(|v| GenesisValidatorSpec {
                operator: v.operator,
                consensus_key: v.public_key,
                self_stake: v.self_stake,
                commission: v.commission,
                min_self_delegation: v.min_self_delegation.unwrap_or(self.params.staking.min_self_delegation),
                metadata: v.metadata.clone(),
            })
            .collect()
    }

    /// The genesis state (version 0) and the initial validator set (of
    /// heights 1 and 2), computed by the ledger's staking rules.
    pub fn initial_state<S: StateStore + Clone + Send + 'static>(
        &self,
        store: &S,
    ) -> Result<(StateDiff, Vec<SetMember>), GenesisError> {
        let time_ms = self.genesis_time_ms()?;
        ledger::staking::genesis_state(
            store,
            &self.params,
            &self.chain_id,
            time_ms,
            &self.balances(),
            &self.validator_specs(),
        )
        .map_err(|e| invalid("validators", e.to_string()))
    }

    /// The initial validator set: (consensus key, voting power), as
    /// [`Genesis::initial_state`] computes it.
    pub fn validator_set(&self) -> Result<Vec<(PublicKey, u64)>, GenesisError> {
        let (_, set) = self.initial_state(&ledger::MemStore::new())?;
        Ok(set.iter().map(|m| (m.consensus_key, m.power)).collect())
    }
}

fn validate_chain_id(id: &str) -> Result<(), GenesisError> {
    if id.is_empty() || id.len() > 48 {
        return Err(invalid("chain_id", "must be 1 to 48 characters"));
    }
    if !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
        return Err(invalid("chain_id", format!("`{id}` may only contain a-z, 0-9, '-' and '_'")));
    }
    Ok(())
}

/// Checks a chain id the way genesis does (for `agorad init`).
pub fn check_chain_id(id: &str) -> Result<(), GenesisError> {
    validate_chain_id(id)
}

fn validate_params(p: &ChainParams) -> Result<(), GenesisError> {
    p.validate().map_err(|(field, reason)| invalid(format!("params.{field}"), reason))
}

pub use ledger::params::MAX_CALL_DEPTH;

#[cfg(test)]
mod tests;
