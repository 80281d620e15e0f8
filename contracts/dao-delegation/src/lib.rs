//! DAO vote delegation, snapshot-safe (OpenZeppelin-style overridable
//! delegation, partial and to several delegates).
//!
//! A member delegates a share of its voting power, in basis points
//! (1 bps = 0.01 %), to each of up to [`MAX_DELEGATES`] delegates; the shares
//! of one delegator sum to at most [`BPS_ONE`] (100 %). Power itself comes from
//! the DAO's voting module; this contract only stores **who delegates how much
//! to whom, with history**, and answers queries. Counting — including the
//! override rule "a delegator who votes itself takes its share back from its
//! delegate" — is the proposal module's job: it reads the delegations at the
//! proposal's snapshot height, so changes after the snapshot never change that
//! proposal. Delegation is one level deep: power delegated to a delegate is not
//! delegated further by the delegate's own delegations (those only lower the
//! delegate's `own_power`).
//!
//! # History
//! Two lists are kept as checkpoints: per delegator its `(delegate, bps)` list,
//! per delegate its `(delegator, bps)` list, each sorted by address. A change
//! in block `h` writes (or, for a second change in the same block, overwrites)
//! the checkpoint of height `h`, so a checkpoint is the end-of-block value and
//! the value at the end of block `h` is the latest checkpoint at or below `h`.
//! Keys are `tag ‖ address ‖ BE(u64::MAX − h)` (tag 1: a delegator's list, 2:
//! a delegate's list), so that checkpoint is the first key at or after
//! `tag ‖ address ‖ BE(u64::MAX − h)`: **one `storage_next` per read**, whatever
//! the length of the history. Values are binary (no JSON, no bech32 parsing):
//! a format byte `1`, then 22 bytes per entry (20-byte address, `u16` BE bps).
//!
//! # Bounds
//! * `bps` is 1..=10 000; a delegator's shares sum to ≤ 10 000; no self-delegation.
//! * At most [`MAX_DELEGATES`] (8) delegates per delegator.
//! * At most [`MAX_DELEGATORS`] (128) delegators per delegate: when a delegate
//!   votes, a proposal module iterates the delegate's delegators (one voting
//!   power query each, as `delegated_power` does), so this bounds the gas of a
//!   vote, and the size of the stored list (128 × 22 bytes).
//!
//! A height given to a query must be a committed block
//! ([`dao_types::check_past_height`]: below the current block in a transaction,
//! at most the last block in an RPC query), since the current block's
//! checkpoint may still change.
//!
//! # Messages
//! * instantiate `{"dao": "agora1…"?}` — the DAO whose voting module gives the
//!   power (default: `caller()`, the DAO core instantiating this module); it
//!   must be a contract.
//! * execute `{"delegate": {"delegate": addr, "bps": n}}` — sets the caller's
//!   share to `delegate` (replacing a previous one); event `delegated`
//!   (`delegator`, `delegate`, `bps`, `total_bps`, `height`).
//! * execute `{"undelegate": {"delegate": addr?}}` — removes the share to
//!   `delegate`, or all shares when omitted; one event `undelegated`
//!   (`delegator`, `delegate`, `height`) per removed share.
//! * query `{"delegations": {"delegator", "height"?}}` →
//!   `{"delegations": [{"delegate", "bps"}…]}` (sorted by delegate address
//!   bytes; no height: now).
//! * query `{"delegators": {"delegate", "height"?}}` →
//!   `{"delegators": [{"delegator", "bps"}…]}` (sorted by delegator address bytes).
//! * query `{"delegated_power": {"delegate", "height"}}` →
//!   `{"delegate", "height", "own_power", "delegated_power", "delegators":
//!   [{"delegator", "bps", "power"}…]}`: asks the DAO (`voting_module {}` →
//!   `{"address"}`) for its **current** voting module, then that module's
//!   `voting_power_at_height` for the delegate and each of its delegators at
//!   `height`. A delegator's `power` is its contribution, `floor(power × bps /
//!   10000)`; `delegated_power` is their sum; `own_power` is `floor(delegate's
//!   power × (10000 − Σ the delegate's own outgoing bps) / 10000)`. Rounding is
//!   down, per delegator, so the parts never exceed the whole (at most
//!   1 unit per delegation is lost). Amounts are decimal strings.
//! * query `{"dao": {}}` → `{"dao"}`; `{"info": {}}` →
//!   `{"kind": "dao-delegation", "version": "1"}`.

use agora_sdk::{
    Addr, ContractError, Item, Response, Uint128, bail, block_height, caller, contract_code_hash, emit, ensure,
    entry_points, from_json, query_contract, storage, to_json_vec,
};
use dao_types::{DaoResponse, InfoResponse, VotingModuleResponse, check_past_height};
use serde::{Deserialize, Serialize};

/// The kind reported by `info`.
pub const KIND: &str = "dao-delegation";
/// The version reported by `info`.
pub const VERSION: &str = "1";
/// 100 % in basis points.
pub const BPS_ONE: u16 = 10_000;
/// Most delegates of one delegator.
pub const MAX_DELEGATES: usize = 8;
/// Most delegators of one delegate (bounds the gas of a delegate's vote).
pub const MAX_DELEGATORS: usize = 128;

const DAO: Item<Addr> = Item::new("dao");
/// Key tag of a delegator's `(delegate, bps)` checkpoints.
const OUT: u8 = 1;
/// Key tag of a delegate's `(delegator, bps)` checkpoints.
const IN: u8 = 2;
/// First byte of every stored list.
const FORMAT: u8 = 1;
/// Bytes of one stored entry: address and `u16` BE bps.
const ENTRY: usize = 22;

/// The other party of a delegation and its share in basis points.
type Share = (Addr, u16);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    #[serde(default)]
    pub dao: Option<Addr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    Delegate {
        delegate: Addr,
        bps: u64,
    },
    Undelegate {
        #[serde(default)]
        delegate: Option<Addr>,
    },
    /// The delegate drops a delegator (anyone can delegate to anyone, so a
    /// delegate must be able to free its bounded list from unwanted entries).
    RemoveDelegator {
        delegator: Addr,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    Delegations {
        delegator: Addr,
        #[serde(default)]
        height: Option<u64>,
    },
    Delegators {
        delegate: Addr,
        #[serde(default)]
        height: Option<u64>,
    },
    DelegatedPower {
        delegate: Addr,
        height: u64,
    },
    Dao {},
    Info {},
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub delegate: Addr,
    pub bps: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationsResponse {
    pub delegations: Vec<Delegation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegator {
    pub delegator: Addr,
    pub bps: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatorsResponse {
    pub delegators: Vec<Delegator>,
}

/// One delegator's contribution to a delegate: `floor(power × bps / 10000)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatorPower {
    pub delegator: Addr,
    pub bps: u16,
    pub power: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedPowerResponse {
    pub delegate: Addr,
    pub height: u64,
    pub own_power: Uint128,
    pub delegated_power: Uint128,
    pub delegators: Vec<DelegatorPower>,
}

/// The part of a voting module's `voting_power_at_height` answer used here.
#[derive(Deserialize)]
struct Power {
    power: Uint128,
}

fn key(tag: u8, who: &Addr, height: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(29);
    k.push(tag);
    k.extend_from_slice(who.as_bytes());
    k.extend_from_slice(&(u64::MAX - height).to_be_bytes());
    k
}

fn encode(shares: &[Share]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + ENTRY * shares.len());
    v.push(FORMAT);
    for (a, bps) in shares {
        v.extend_from_slice(a.as_bytes());
        v.extend_from_slice(&bps.to_be_bytes());
    }
    v
}

fn decode(v: &[u8]) -> Result<Vec<Share>, ContractError> {
    let Some((&FORMAT, rest)) = v.split_first() else { bail!("corrupt delegation checkpoint") };
    ensure!(rest.len() % ENTRY == 0, "corrupt delegation checkpoint");
    rest.chunks_exact(ENTRY).map(|c| Ok((Addr::from_slice(&c[..20])?, u16::from_be_bytes([c[20], c[21]])))).collect()
}

/// The list `tag` of `who` at the end of block `height` (`u64::MAX`: now):
/// the latest checkpoint at or below `height`, one `storage_next`.
fn shares_at(tag: u8, who: &Addr, height: u64) -> Result<Vec<Share>, ContractError> {
    let mut end = key(tag, who, 0);
    end.push(0);
    match storage::next(&key(tag, who, height), Some(&end), false) {
        Some((_, v)) => decode(&v),
        None => Ok(Vec::new()),
    }
}

/// Writes (or overwrites) the checkpoint of block `height`.
fn save(tag: u8, who: &Addr, height: u64, shares: &[Share]) {
    storage::set(&key(tag, who, height), &encode(shares));
}

/// Sets `who`'s share in a sorted list; returns the previous one.
fn upsert(list: &mut Vec<Share>, who: Addr, bps: u16) -> Option<u16> {
    match list.binary_search_by_key(&who, |s| s.0) {
        Ok(i) => Some(std::mem::replace(&mut list[i].1, bps)),
        Err(i) => {
            list.insert(i, (who, bps));
            None
        }
    }
}

/// Removes `who`'s share from a sorted list; returns it.
fn take(list: &mut Vec<Share>, who: &Addr) -> Option<u16> {
    list.binary_search_by_key(who, |s| s.0).ok().map(|i| list.remove(i).1)
}

fn total_bps(list: &[Share]) -> u32 {
    list.iter().map(|s| u32::from(s.1)).sum()
}

/// `floor(power × bps / 10000)`, exact and without overflow (`bps` ≤ 10000).
pub fn share_of(power: u128, bps: u16) -> u128 {
    let (one, bps) = (u128::from(BPS_ONE), u128::from(bps));
    power / one * bps + power % one * bps / one
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    let dao = msg.dao.unwrap_or_else(caller);
    ensure!(contract_code_hash(&dao).is_some(), "dao {dao} is not a contract");
    DAO.save(&dao)?;
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let me = caller();
    let height = block_height();
    let (who, h) = (me.to_string(), height.to_string());
    match msg {
        ExecuteMsg::Delegate { delegate, bps } => {
            ensure!(delegate != me, "cannot delegate to oneself");
            let Some(bps) = u16::try_from(bps).ok().filter(|b| (1..=BPS_ONE).contains(b)) else {
                bail!("bps must be 1 to 10000 (basis points of the delegator's power), got {bps}")
            };
            let mut out = shares_at(OUT, &me, u64::MAX)?;
            if upsert(&mut out, delegate, bps).is_none() {
                ensure!(
                    out.len() <= MAX_DELEGATES,
                    "{me} already delegates to {MAX_DELEGATES} delegates (the maximum): undelegate one first"
                );
            }
            let total = total_bps(&out);
            ensure!(total <= u32::from(BPS_ONE), "shares would sum to {total} bps, more than 10000");
            let mut inn = shares_at(IN, &delegate, u64::MAX)?;
            if upsert(&mut inn, me, bps).is_none() {
                ensure!(
                    inn.len() <= MAX_DELEGATORS,
                    "{delegate} already has {MAX_DELEGATORS} delegators (the maximum)"
                );
            }
            save(OUT, &me, height, &out);
            save(IN, &delegate, height, &inn);
            emit(
                "delegated",
                &[
                    ("delegator", &who),
                    ("delegate", &delegate.to_string()),
                    ("bps", &bps.to_string()),
                    ("total_bps", &total.to_string()),
                    ("height", &h),
                ],
            );
        }
        ExecuteMsg::Undelegate { delegate } => {
            let mut out = shares_at(OUT, &me, u64::MAX)?;
            let removed: Vec<Addr> = match delegate {
                Some(d) => {
                    ensure!(take(&mut out, &d).is_some(), "{me} does not delegate to {d}");
                    vec![d]
                }
                None => {
                    ensure!(!out.is_empty(), "{me} has no delegations to remove");
                    std::mem::take(&mut out).into_iter().map(|s| s.0).collect()
                }
            };
            save(OUT, &me, height, &out);
            for d in removed {
                let mut inn = shares_at(IN, &d, u64::MAX)?;
                take(&mut inn, &me);
                save(IN, &d, height, &inn);
                emit("undelegated", &[("delegator", &who), ("delegate", &d.to_string()), ("height", &h)]);
            }
        }
        ExecuteMsg::RemoveDelegator { delegator } => {
            let mut inn = shares_at(IN, &me, u64::MAX)?;
            ensure!(take(&mut inn, &delegator).is_some(), "{delegator} does not delegate to {me}");
            let mut out = shares_at(OUT, &delegator, u64::MAX)?;
            take(&mut out, &me);
            save(IN, &me, height, &inn);
            save(OUT, &delegator, height, &out);
            emit(
                "undelegated",
                &[("delegator", &delegator.to_string()), ("delegate", &who), ("height", &h), ("by", &who)],
            );
        }
    }
    Ok(Response::new())
}

/// A query's height: a committed block, or `u64::MAX` (now) when omitted.
fn at(height: Option<u64>) -> Result<u64, ContractError> {
    match height {
        Some(h) => check_past_height(h).map(|()| h),
        None => Ok(u64::MAX),
    }
}

fn delegated_power(delegate: Addr, height: u64) -> Result<DelegatedPowerResponse, ContractError> {
    check_past_height(height)?;
    let dao = DAO.load()?;
    let data = query_contract(&dao, br#"{"voting_module":{}}"#).map_err(|e| format!("dao {dao}: {e}"))?;
    let module = from_json::<VotingModuleResponse>(&data).map_err(|e| format!("dao {dao}: {e}"))?.address;
    let power_of = |a: &Addr| -> Result<u128, ContractError> {
        let q = format!(r#"{{"voting_power_at_height":{{"address":"{a}","height":{height}}}}}"#);
        let data = query_contract(&module, q.as_bytes()).map_err(|e| format!("voting module: {e}"))?;
        Ok(from_json::<Power>(&data).map_err(|e| format!("voting module: {e}"))?.power.u128())
    };
    let kept = u32::from(BPS_ONE).saturating_sub(total_bps(&shares_at(OUT, &delegate, height)?));
    let kept = u16::try_from(kept).map_err(|_| "corrupt delegation checkpoint")?;
    let own_power = if kept == 0 { 0 } else { share_of(power_of(&delegate)?, kept) };
    let mut sum = 0u128;
    let mut delegators = Vec::new();
    for (delegator, bps) in shares_at(IN, &delegate, height)? {
        let power = share_of(power_of(&delegator)?, bps);
        sum = sum.checked_add(power).ok_or("delegated power overflow")?;
        delegators.push(DelegatorPower { delegator, bps, power: Uint128(power) });
    }
    Ok(DelegatedPowerResponse {
        delegate,
        height,
        own_power: Uint128(own_power),
        delegated_power: Uint128(sum),
        delegators,
    })
}

pub fn query(msg: QueryMsg) -> Result<Vec<u8>, ContractError> {
    match msg {
        QueryMsg::Delegations { delegator, height } => {
            let list = shares_at(OUT, &delegator, at(height)?)?;
            let delegations = list.into_iter().map(|(delegate, bps)| Delegation { delegate, bps }).collect();
            to_json_vec(&DelegationsResponse { delegations })
        }
        QueryMsg::Delegators { delegate, height } => {
            let list = shares_at(IN, &delegate, at(height)?)?;
            let delegators = list.into_iter().map(|(delegator, bps)| Delegator { delegator, bps }).collect();
            to_json_vec(&DelegatorsResponse { delegators })
        }
        QueryMsg::DelegatedPower { delegate, height } => to_json_vec(&delegated_power(delegate, height)?),
        QueryMsg::Dao {} => to_json_vec(&DaoResponse { dao: DAO.load()? }),
        QueryMsg::Info {} => to_json_vec(&InfoResponse { kind: KIND.to_owned(), version: VERSION.to_owned() }),
    }
}

entry_points!(instantiate, execute, query);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
