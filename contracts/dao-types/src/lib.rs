//! The interface shared by Agora's DAO contracts (`dao-core`,
//! `dao-proposals`, `dao-voting-stake`, `dao-voting-token`), in one place so
//! the contracts cannot drift apart: the messages a DAO executes when a
//! proposal passes, the queries every voting module answers, and
//! [`Fraction`], an exact share written as a decimal string.

use std::fmt;
use std::str::FromStr;

use agora_sdk::{Addr, Uint128};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// One action of a proposal, executed by the DAO core (as the DAO) when the
/// proposal is executed. A proposal's messages run in order, all or nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DaoMsg {
    /// Sends native tokens from the treasury.
    Transfer { to: Addr, amount: Uint128 },
    /// Executes a contract as the DAO (e.g. a token's `transfer` to pay from
    /// the DAO's token balance), attaching `funds` from the treasury.
    Execute {
        contract: Addr,
        msg: serde_json::Value,
        #[serde(default)]
        funds: Uint128,
    },
    /// Instantiates stored code as the DAO (address: `contract_address(code_hash, dao, label)`).
    Instantiate {
        code_hash: String,
        label: String,
        msg: serde_json::Value,
        #[serde(default)]
        funds: Uint128,
    },
    /// Changes the DAO's name or description.
    UpdateConfig {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        description: Option<String>,
    },
    /// Replaces the voting module by a new one instantiated from `code_hash`
    /// (proposals already created keep counting with the module they started with).
    UpdateVotingModule { code_hash: String, label: String, msg: serde_json::Value },
    /// Adds or removes proposal modules (addresses allowed to make the DAO execute).
    UpdateProposalModules {
        #[serde(default)]
        add: Vec<Addr>,
        #[serde(default)]
        remove: Vec<Addr>,
    },
    /// Changes chain parameters (the DAO must be the chain's governance
    /// contract): `changes` is a JSON object shaped like `agora_chainParams`
    /// holding only the fields to change.
    UpdateChainParams { changes: serde_json::Value },
    /// Migrates a contract the DAO is the admin of to stored code `code_hash`
    /// (the new code's `migrate` entry point runs with `msg`). The DAO is the
    /// admin of the modules it instantiated, so this is how it upgrades them.
    Migrate { contract: Addr, code_hash: String, msg: serde_json::Value },
    /// Hands a contract's admin role over (`admin: null` clears it: the
    /// contract can never be migrated again).
    UpdateAdmin {
        contract: Addr,
        #[serde(default)]
        admin: Option<Addr>,
    },
}

/// [`DaoMsg`] with its JSON payloads (`msg`, `changes`) kept as raw JSON
/// text: the same wire format and the same checks, but parsing it builds no
/// `serde_json::Value` (which costs contracts tens of KiB of wasm). The DAO
/// core and the proposal module use it; clients can keep using [`DaoMsg`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawDaoMsg {
    Transfer {
        to: Addr,
        amount: Uint128,
    },
    Execute {
        contract: Addr,
        msg: Box<RawValue>,
        #[serde(default)]
        funds: Uint128,
    },
    Instantiate {
        code_hash: String,
        label: String,
        msg: Box<RawValue>,
        #[serde(default)]
        funds: Uint128,
    },
    UpdateConfig {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        description: Option<String>,
    },
    UpdateVotingModule {
        code_hash: String,
        label: String,
        msg: Box<RawValue>,
    },
    UpdateProposalModules {
        #[serde(default)]
        add: Vec<Addr>,
        #[serde(default)]
        remove: Vec<Addr>,
    },
    UpdateChainParams {
        changes: Box<RawValue>,
    },
    Migrate {
        contract: Addr,
        code_hash: String,
        msg: Box<RawValue>,
    },
    UpdateAdmin {
        contract: Addr,
        #[serde(default)]
        admin: Option<Addr>,
    },
}

/// Queries every voting module answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum VotingQuery {
    /// An address's voting power at the end of block `height`.
    VotingPowerAtHeight { address: Addr, height: u64 },
    /// All voting power at the end of block `height`.
    TotalPowerAtHeight { height: u64 },
    /// An address's voting power at several heights (at most
    /// [`MAX_POWER_HEIGHTS`]) in one call: `null` where the module cannot
    /// read that far back. A proposal module reads the snapshot and the
    /// concentration report's look-back at once.
    VotingPowersAtHeights { address: Addr, heights: Vec<u64> },
    /// The DAO the module belongs to.
    Dao {},
    /// What kind of module this is.
    Info {},
}

/// Answer of `voting_power_at_height` and `total_power_at_height`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerResponse {
    pub power: Uint128,
    pub height: u64,
}

/// Most heights in one `voting_powers_at_heights`.
pub const MAX_POWER_HEIGHTS: usize = 4;

/// Answer of `voting_powers_at_heights`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowersResponse {
    pub powers: Vec<Option<Uint128>>,
}

/// Answers `voting_powers_at_heights` with `read` (each height must be a
/// committed block; a failed read is `null`).
pub fn powers_at(
    heights: &[u64],
    read: impl Fn(u64) -> Result<u128, agora_sdk::ContractError>,
) -> Result<Vec<u8>, agora_sdk::ContractError> {
    if heights.is_empty() || heights.len() > MAX_POWER_HEIGHTS {
        return Err(agora_sdk::ContractError::new("voting_powers_at_heights takes 1 to 4 heights"));
    }
    let mut powers = Vec::with_capacity(heights.len());
    for h in heights {
        check_past_height(*h)?;
        powers.push(read(*h).ok().map(Uint128));
    }
    agora_sdk::to_json_vec(&PowersResponse { powers })
}

/// Answer of `dao`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaoResponse {
    pub dao: Addr,
}

/// Answer of `info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    pub kind: String,
    pub version: String,
}

/// The DAO core's answer to `voting_module {}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VotingModuleResponse {
    pub address: Addr,
}

/// The DAO core's execute message a proposal module sends to run a passed
/// proposal's messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CoreExecute {
    ExecuteProposal { proposal_id: u64, msgs: Vec<DaoMsg> },
}

/// Parts per million in a [`Fraction`].
pub const FRACTION_ONE: u64 = 1_000_000;

/// An exact fraction in [0, 1], in millionths: written in JSON as a decimal
/// string with at most six decimals (`"0.334"`, `"0.5"`, `"1"`). Comparisons
/// are done in integers (`part * 1_000_000` against `fraction * whole`), so
/// `"0.5"` of 3 is exactly 1.5 and "more than half" means more than 1.5.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fraction(u64);

impl Fraction {
    pub const ZERO: Fraction = Fraction(0);
    pub const ONE: Fraction = Fraction(FRACTION_ONE);

    /// A fraction from millionths (at most 1 000 000).
    pub fn from_millionths(ppm: u64) -> Option<Fraction> {
        (ppm <= FRACTION_ONE).then_some(Fraction(ppm))
    }

    pub fn millionths(self) -> u64 {
        self.0
    }

    /// `part / whole >= self`, exactly (`whole = 0` counts as not reached
    /// unless the fraction is zero).
    pub fn reached_by(self, part: u128, whole: u128) -> bool {
        if whole == 0 {
            return self.0 == 0;
        }
        widening_mul(part, FRACTION_ONE) >= widening_mul(whole, self.0)
    }

    /// `part / whole > self`, exactly (`whole = 0`: never).
    pub fn exceeded_by(self, part: u128, whole: u128) -> bool {
        whole != 0 && widening_mul(part, FRACTION_ONE) > widening_mul(whole, self.0)
    }
}

/// `a * b` as a (high, low) pair, so comparisons never overflow.
fn widening_mul(a: u128, b: u64) -> (u128, u128) {
    let (a_hi, a_lo) = (a >> 64, a & u128::from(u64::MAX));
    let b = u128::from(b);
    let lo = a_lo * b;
    let mid = a_hi * b + (lo >> 64);
    (mid >> 64, (mid << 64) | (lo & u128::from(u64::MAX)))
}

impl FromStr for Fraction {
    type Err = String;
    fn from_str(s: &str) -> Result<Fraction, String> {
        let bad = || format!("`{s}` is not a fraction between 0 and 1 with at most 6 decimals");
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || int.len() > 1 || frac.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(bad());
        }
        if s.ends_with('.') {
            return Err(bad());
        }
        let int: u64 = int.parse().map_err(|_| bad())?;
        let mut ppm = 0u64;
        for (i, d) in frac.bytes().enumerate() {
            ppm += u64::from(d - b'0') * 10u64.pow(5 - i as u32);
        }
        let v = int.checked_mul(FRACTION_ONE).and_then(|v| v.checked_add(ppm)).ok_or_else(bad)?;
        Fraction::from_millionths(v).ok_or_else(bad)
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / FRACTION_ONE, self.0 % FRACTION_ONE);
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fraction, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// Refuses a voting-power read at a height that is not a committed block.
///
/// In a transaction — and in the queries contracts make from one —
/// `block_height()` is the block being executed, so the last readable block
/// is the one before it (the chain's rule for `bonded_stake_at`); in an RPC
/// query it is the last committed block itself. RPC queries are told apart by
/// their zero `origin()` (no one can sign a transaction as the zero address);
/// an RPC query naming an origin gets the stricter rule, which is never less safe.
pub fn check_past_height(height: u64) -> Result<(), agora_sdk::ContractError> {
    let now = agora_sdk::block_height();
    let last = if agora_sdk::origin() == Addr::ZERO { now } else { now.saturating_sub(1) };
    if height > last {
        return Err(agora_sdk::ContractError::new(format!(
            "height {height} is not a committed block yet (the last one is {last}): voting power is only read at past heights"
        )));
    }
    Ok(())
}

/// The `migrate` entry point of the DAO suite's contracts: a DAO upgrades a
/// module it is the admin of to new code of the same suite; the stored state
/// is kept as is (the formats are unchanged between versions that do this).
/// The message must be `{}` (boxed: what the entry point deserializes).
#[allow(clippy::boxed_local)]
pub fn migrate(msg: Box<RawValue>) -> Result<agora_sdk::Response, agora_sdk::ContractError> {
    if msg.get().split_whitespace().collect::<String>() != "{}" {
        return Err(agora_sdk::ContractError::new("migrate takes {}: the state is kept as it is"));
    }
    agora_sdk::emit("migrated", &[("by", &agora_sdk::caller().to_string())]);
    Ok(agora_sdk::Response::new())
}

/// Parses a 32-byte code hash written as 64 hex digits.
pub fn parse_code_hash(s: &str) -> Result<[u8; 32], String> {
    let bad = || format!("`{s}` is not a code hash (64 hex digits)");
    if s.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fractions_parse_print_and_compare_exactly() {
        for (s, ppm) in [("0", 0), ("1", 1_000_000), ("0.5", 500_000), ("0.334", 334_000), ("0.000001", 1)] {
            let f: Fraction = s.parse().unwrap();
            assert_eq!(f.millionths(), ppm);
            assert_eq!(f.to_string(), s);
        }
        for bad in ["", ".5", "5.", "1.1", "2", "0.1234567", "-0.1", "0,5", "01", "1e-3"] {
            assert!(bad.parse::<Fraction>().is_err(), "{bad}");
        }
        let half: Fraction = "0.5".parse().unwrap();
        assert!(half.reached_by(1, 2) && !half.exceeded_by(1, 2));
        assert!(half.exceeded_by(2, 3) && !half.reached_by(1, 3));
        // No overflow at the top of the range.
        assert!(half.exceeded_by(u128::MAX, u128::MAX));
        assert!(!half.reached_by(u128::MAX / 2 - 1, u128::MAX));
        assert!(!half.exceeded_by(0, 0) && !half.reached_by(0, 0) && Fraction::ZERO.reached_by(0, 0));
    }

    #[test]
    fn raw_messages_read_like_dao_messages() {
        let a = agora_sdk::Addr::new([7; 20]);
        let good = [
            format!(r#"{{"transfer":{{"to":"{a}","amount":"5"}}}}"#),
            format!(r#"{{"execute":{{"contract":"{a}","msg":{{"x":[1,2.5,null]}}}}}}"#),
            format!(r#"{{"execute":{{"contract":"{a}","msg":{{}},"funds":"3"}}}}"#),
            r#"{"instantiate":{"code_hash":"ab","label":"l","msg":{"a":"b"},"funds":"1"}}"#.to_owned(),
            r#"{"update_config":{"name":"n"}}"#.to_owned(),
            r#"{"update_voting_module":{"code_hash":"ab","label":"l","msg":[]}}"#.to_owned(),
            format!(r#"{{"update_proposal_modules":{{"add":["{a}"]}}}}"#),
            r#"{"update_chain_params":{"changes":{"staking":{"x":1}}}}"#.to_owned(),
            format!(r#"{{"migrate":{{"contract":"{a}","code_hash":"ab","msg":{{"v":2}}}}}}"#),
            format!(r#"{{"update_admin":{{"contract":"{a}","admin":"{a}"}}}}"#),
            format!(r#"{{"update_admin":{{"contract":"{a}","admin":null}}}}"#),
        ];
        for s in &good {
            let typed: DaoMsg = serde_json::from_str(s).unwrap();
            let raw: RawDaoMsg = serde_json::from_str(s).unwrap();
            let again: DaoMsg = serde_json::from_slice(&serde_json::to_vec(&raw).unwrap()).unwrap();
            assert_eq!(typed, again, "{s}");
        }
        let bad = [
            r#"{"transfer":{"to":"x","amount":"5"}}"#.to_owned(),
            format!(r#"{{"transfer":{{"to":"{a}","amount":"-5"}}}}"#),
            format!(r#"{{"transfer":{{"to":"{a}","amount":"5","memo":1}}}}"#),
            format!(r#"{{"execute":{{"contract":"{a}"}}}}"#),
            r#"{"update_chain_params":{}}"#.to_owned(),
            r#"{"burn":{}}"#.to_owned(),
            r#"{"update_config":{"name":"n"},"transfer":{}}"#.to_owned(),
        ];
        for s in &bad {
            assert!(serde_json::from_str::<DaoMsg>(s).is_err(), "{s}");
            assert!(serde_json::from_str::<RawDaoMsg>(s).is_err(), "{s}");
        }
    }

    #[test]
    fn code_hashes_are_64_hex_digits() {
        assert_eq!(parse_code_hash(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        assert!(parse_code_hash("ab").is_err() && parse_code_hash(&"zz".repeat(32)).is_err());
    }
}
