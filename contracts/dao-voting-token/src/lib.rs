//! DAO voting module: voting power is **tokens staked** into this module.
//!
//! Holders of a token contract (the `token` example's interface: `transfer`,
//! `transfer_from`, `token_info`) approve this module and `stake`; their power
//! at height `h` is what they had staked at the **end of block `h`**.
//!
//! Snapshots: every change writes a checkpoint of the staker's staked balance
//! and of the total, keyed by the block height (OpenZeppelin `Votes`, DAO DAO
//! `SnapshotMap`). Several changes in one block overwrite that block's
//! checkpoint, so a checkpoint is the end-of-block value; power at `h` is the
//! latest checkpoint at or below `h` (0 if none). Heights are stored inverted
//! (`u64::MAX - h`, big-endian) after the staker's address, so the latest
//! checkpoint at or below `h` is the first key at or after `(addr, MAX - h)`:
//! **one `storage_next` per read, O(1) whatever the length of the history**.
//! A proposal module reads the block before the proposal was created, so
//! tokens staked in the creation block or later — including tokens borrowed,
//! staked, unstaked and returned within one block — count nothing, and a
//! height whose end state is not committed yet is refused (see
//! [`check_height`]).
//!
//! Unstaking lowers power at once. With `unstaking_blocks = 0` the tokens go
//! back in the same call; otherwise they become a claim released at
//! `height + unstaking_blocks` and paid by `claim {}` (at most
//! [`MAX_CLAIMS`] open claims per address). Arithmetic is checked everywhere.
//!
//! Messages (amounts are decimal strings):
//! * instantiate `{"token": addr, "unstaking_blocks": n?}` — by the DAO core
//!   (`caller()` is stored as the DAO); `token` must be a contract answering
//!   `token_info {}`; `unstaking_blocks` defaults to 0, at most [`MAX_UNSTAKING_BLOCKS`].
//! * execute `stake {amount}` (after the token's `approve {spender: module, amount}`;
//!   event `stake`), `unstake {amount}` (event `unstake`), `claim {}` (event `claim`).
//!   Events carry `address`, `amount`, `staked`, `total_staked`, `height`
//!   (`unstake` also `release_at`; `claim`: `address`, `amount`, `claims`, `height`).
//! * execute `lock {amount, until_ms}` (the caller's own stake) and
//!   `lock_for {voter, amount, until_ms}` (only a current proposal module of the
//!   DAO, asked with `proposal_modules {}`): conviction-voting locks, see
//!   [`locks`]. `0 < amount ≤` the voter's staked tokens, `now < until_ms ≤ now +`
//!   [`locks::MAX_LOCK_MS`] (block time). Event `lock` (`address`, `amount`,
//!   `until_ms`, `by`). `unstake` is refused while it would leave less staked than
//!   is locked. Staking, checkpoints and claims ignore locks.
//! * query the [`dao_types::VotingQuery`] set (`voting_power_at_height {address, height}`,
//!   `total_power_at_height {height}` → `{"power","height"}`, `dao {}`, `info {}` →
//!   `{"kind":"dao-voting-token","version":"1","locks":true}`), and `staked {address}` →
//!   `{"staked"}`, `total_staked {}` → `{"total_staked"}`, `token {}` → `{"token"}`,
//!   `claims {address}` → `{"claims":[{"amount","release_at"}]}`, `config {}` →
//!   `{"dao","token","unstaking_blocks"}`, `locks {address}` →
//!   `{"locks":[{"amount","until_ms"}],"locked","unlocks_at_ms"}` (active locks at
//!   the block time; `unlocks_at_ms` is `null` when nothing is locked).

use std::ops::Bound;

use agora_sdk::{
    Addr, ContractError, Item, Map, Response, Uint128, bail, block_height, block_time_ms, call_json, caller,
    contract_code_hash, emit, ensure, entry_points, query_contract, query_json, self_address,
};
use dao_types::{DaoResponse, PowerResponse};
use serde::{Deserialize, Serialize};

pub mod locks;
pub use locks::{Lock, LocksResponse, MAX_LOCK_MS, MAX_LOCKS};

/// The module kind reported by `info`.
pub const KIND: &str = "dao-voting-token";
/// The module version reported by `info`.
pub const VERSION: &str = "1";
/// Most open (unpaid) claims of one address.
pub const MAX_CLAIMS: usize = 32;
/// Largest `unstaking_blocks`.
pub const MAX_UNSTAKING_BLOCKS: u64 = 100_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub dao: Addr,
    pub token: Addr,
    pub unstaking_blocks: u64,
}

/// Tokens unstaked, paid by `claim {}` from height `release_at` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub amount: Uint128,
    pub release_at: u64,
}

const CONFIG: Item<Config> = Item::new("config");
/// `(staker, u64::MAX - height)` → the staker's staked tokens at the end of that block.
const STAKED: Map<(Addr, u64), u128> = Map::new("staked");
/// `u64::MAX - height` → all staked tokens at the end of that block.
const TOTAL: Map<u64, u128> = Map::new("total");
/// Open claims of an address, oldest first.
const CLAIMS: Map<Addr, Vec<Claim>> = Map::new("claims");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub token: Addr,
    #[serde(default)]
    pub unstaking_blocks: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    Stake { amount: Uint128 },
    Unstake { amount: Uint128 },
    Claim {},
    Lock { amount: Uint128, until_ms: u64 },
    LockFor { voter: Addr, amount: Uint128, until_ms: u64 },
}

/// [`dao_types::VotingQuery`]'s variants (same JSON) and this module's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    VotingPowerAtHeight { address: Addr, height: u64 },
    VotingPowersAtHeights { address: Addr, heights: Vec<u64> },
    TotalPowerAtHeight { height: u64 },
    Dao {},
    Info {},
    Staked { address: Addr },
    TotalStaked {},
    Token {},
    Claims { address: Addr },
    Config {},
    Locks { address: Addr },
}

/// Answer of `info`: [`dao_types::InfoResponse`] and whether `lock_for` is supported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    pub kind: String,
    pub version: String,
    pub locks: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakedResponse {
    pub staked: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalStakedResponse {
    pub total_staked: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token: Addr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsResponse {
    pub claims: Vec<Claim>,
}

/// The token messages this module sends.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum TokenMsg {
    Transfer { recipient: Addr, amount: Uint128 },
    TransferFrom { owner: Addr, recipient: Addr, amount: Uint128 },
    TokenInfo {},
}

/// The part of a `token_info` answer that must be there.
#[derive(Deserialize)]
struct TokenInfo {
    symbol: String,
    decimals: u8,
}

pub use dao_types::check_past_height as check_height;

/// A staker's staked tokens at the end of block `height` (`u64::MAX`: now).
/// One `storage_next`: the first key at or after `(addr, MAX - height)` is the
/// latest checkpoint at or below `height`.
fn staked_at(addr: &Addr, height: u64) -> Result<u128, ContractError> {
    let first = STAKED.prefix(addr).range(Bound::Included(&(u64::MAX - height)), Bound::Unbounded).next();
    Ok(first.transpose()?.map_or(0, |(_, v)| v))
}

/// All staked tokens at the end of block `height` (`u64::MAX`: now); one `storage_next`.
fn total_at(height: u64) -> Result<u128, ContractError> {
    let first = TOTAL.range(Bound::Included(&(u64::MAX - height)), Bound::Unbounded).next();
    Ok(first.transpose()?.map_or(0, |(_, v)| v))
}

/// Writes (or overwrites) this block's checkpoints.
fn checkpoint(addr: &Addr, staked: u128, total: u128, height: u64) -> Result<(), ContractError> {
    STAKED.save(&(*addr, u64::MAX - height), &staked)?;
    TOTAL.save(&(u64::MAX - height), &total)
}

fn nonzero(amount: Uint128) -> Result<u128, ContractError> {
    ensure!(!amount.is_zero(), "amount must be greater than zero");
    Ok(amount.u128())
}

fn token_call(token: &Addr, what: &str, msg: &TokenMsg) -> Result<(), ContractError> {
    call_json(token, msg, 0, 0).map_err(|e| ContractError::new(format!("token {what} failed: {e}")))?;
    Ok(())
}

/// Locks `amount` of `voter`'s staked tokens until `until_ms`, for `by`.
fn lock(voter: Addr, by: &str, amount: Uint128, until_ms: u64) -> Result<(), ContractError> {
    let amount = nonzero(amount)?;
    let now = block_time_ms();
    ensure!(until_ms > now, "until_ms {until_ms} is not after the block time {now}");
    let max = now.saturating_add(MAX_LOCK_MS);
    ensure!(until_ms <= max, "until_ms {until_ms} is more than 2 years after the block time {now} (at most {max})");
    let have = staked_at(&voter, u64::MAX)?;
    ensure!(have >= amount, "{voter} has {have} tokens staked: stake at least {amount} to vote with conviction");
    locks::add(&voter, amount, until_ms, now)?;
    let (address, amount, until_ms) = (voter.to_string(), amount.to_string(), until_ms.to_string());
    emit("lock", &[("address", &address), ("amount", &amount), ("until_ms", &until_ms), ("by", by)]);
    Ok(())
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    let InstantiateMsg { token, unstaking_blocks } = msg;
    ensure!(
        unstaking_blocks <= MAX_UNSTAKING_BLOCKS,
        "unstaking_blocks must be at most {MAX_UNSTAKING_BLOCKS}, got {unstaking_blocks}"
    );
    ensure!(contract_code_hash(&token).is_some(), "token {token} is not a contract");
    let info: TokenInfo = query_json(&token, &TokenMsg::TokenInfo {})
        .map_err(|e| ContractError::new(format!("token {token} does not answer token_info: {e}")))?;
    CONFIG.save(&Config { dao: caller(), token, unstaking_blocks })?;
    emit(
        "instantiate",
        &[
            ("token", &token.to_string()),
            ("symbol", &info.symbol),
            ("decimals", &info.decimals.to_string()),
            ("unstaking_blocks", &unstaking_blocks.to_string()),
        ],
    );
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let sender = caller();
    let cfg = CONFIG.load()?;
    let height = block_height();
    let (who, h) = (sender.to_string(), height.to_string());
    match msg {
        ExecuteMsg::Stake { amount } => {
            let amount = nonzero(amount)?;
            let staked = staked_at(&sender, u64::MAX)?.checked_add(amount).ok_or("staked balance overflow")?;
            let total = total_at(u64::MAX)?.checked_add(amount).ok_or("total staked overflow")?;
            let pull = TokenMsg::TransferFrom { owner: sender, recipient: self_address(), amount: Uint128(amount) };
            token_call(&cfg.token, "transfer_from", &pull)?;
            checkpoint(&sender, staked, total, height)?;
            emit(
                "stake",
                &[
                    ("address", &who),
                    ("amount", &amount.to_string()),
                    ("staked", &staked.to_string()),
                    ("total_staked", &total.to_string()),
                    ("height", &h),
                ],
            );
        }
        ExecuteMsg::Unstake { amount } => {
            let amount = nonzero(amount)?;
            let have = staked_at(&sender, u64::MAX)?;
            let Some(staked) = have.checked_sub(amount) else {
                bail!("cannot unstake {amount}: {sender} has {have} staked")
            };
            locks::check_unstake(&sender, amount, have, staked, block_time_ms())?;
            let total = total_at(u64::MAX)?.checked_sub(amount).ok_or("total staked underflow")?;
            checkpoint(&sender, staked, total, height)?;
            let release_at = if cfg.unstaking_blocks == 0 {
                token_call(&cfg.token, "transfer", &TokenMsg::Transfer { recipient: sender, amount: Uint128(amount) })?;
                height
            } else {
                let release_at = height.checked_add(cfg.unstaking_blocks).ok_or("release height overflow")?;
                let mut claims = CLAIMS.may_load(&sender)?.unwrap_or_default();
                ensure!(
                    claims.len() < MAX_CLAIMS,
                    "{sender} already has {MAX_CLAIMS} open claims: claim the matured ones first"
                );
                claims.push(Claim { amount: Uint128(amount), release_at });
                CLAIMS.save(&sender, &claims)?;
                release_at
            };
            emit(
                "unstake",
                &[
                    ("address", &who),
                    ("amount", &amount.to_string()),
                    ("staked", &staked.to_string()),
                    ("total_staked", &total.to_string()),
                    ("height", &h),
                    ("release_at", &release_at.to_string()),
                ],
            );
        }
        ExecuteMsg::Claim {} => {
            let claims = CLAIMS.may_load(&sender)?.unwrap_or_default();
            let (ready, waiting): (Vec<Claim>, Vec<Claim>) = claims.into_iter().partition(|c| c.release_at <= height);
            if ready.is_empty() {
                match waiting.iter().map(|c| c.release_at).min() {
                    Some(next) => bail!("nothing to claim yet: the next claim is released at height {next}"),
                    None => bail!("nothing to claim: {sender} has no claims"),
                }
            }
            let amount =
                ready.iter().try_fold(0u128, |sum, c| sum.checked_add(c.amount.u128())).ok_or("claim overflow")?;
            if waiting.is_empty() {
                CLAIMS.remove(&sender);
            } else {
                CLAIMS.save(&sender, &waiting)?;
            }
            token_call(&cfg.token, "transfer", &TokenMsg::Transfer { recipient: sender, amount: Uint128(amount) })?;
            emit(
                "claim",
                &[
                    ("address", &who),
                    ("amount", &amount.to_string()),
                    ("claims", &ready.len().to_string()),
                    ("height", &h),
                ],
            );
        }
        ExecuteMsg::Lock { amount, until_ms } => lock(sender, &who, amount, until_ms)?,
        ExecuteMsg::LockFor { voter, amount, until_ms } => {
            // The answer of the DAO (trusted: it is the module's root) is
            // `{"proposal_modules":["agora1…",…]}`: look for `"<caller>"` in it,
            // without parsing (less code, no bech32 decoding).
            let modules = query_contract(&cfg.dao, br#"{"proposal_modules":{}}"#).map_err(|e| {
                ContractError::new(format!("the DAO {} does not answer proposal_modules: {e}", cfg.dao))
            })?;
            let quoted = format!("\"{who}\"");
            ensure!(
                modules.windows(quoted.len()).any(|w| w == quoted.as_bytes()),
                "only a proposal module of the DAO {} may lock for a voter: {who} is not one",
                cfg.dao
            );
            lock(voter, &who, amount, until_ms)?;
        }
    }
    Ok(Response::new())
}

pub fn query(msg: QueryMsg) -> Result<Vec<u8>, ContractError> {
    use agora_sdk::to_json_vec as json;
    match msg {
        QueryMsg::VotingPowerAtHeight { address, height } => {
            check_height(height)?;
            json(&PowerResponse { power: Uint128(staked_at(&address, height)?), height })
        }
        QueryMsg::VotingPowersAtHeights { address, heights } => {
            dao_types::powers_at(&heights, |h| staked_at(&address, h))
        }
        QueryMsg::TotalPowerAtHeight { height } => {
            check_height(height)?;
            json(&PowerResponse { power: Uint128(total_at(height)?), height })
        }
        QueryMsg::Dao {} => json(&DaoResponse { dao: CONFIG.load()?.dao }),
        QueryMsg::Info {} => json(&InfoResponse { kind: KIND.to_owned(), version: VERSION.to_owned(), locks: true }),
        QueryMsg::Staked { address } => json(&StakedResponse { staked: Uint128(staked_at(&address, u64::MAX)?) }),
        QueryMsg::TotalStaked {} => json(&TotalStakedResponse { total_staked: Uint128(total_at(u64::MAX)?) }),
        QueryMsg::Token {} => json(&TokenResponse { token: CONFIG.load()?.token }),
        QueryMsg::Claims { address } => {
            json(&ClaimsResponse { claims: CLAIMS.may_load(&address)?.unwrap_or_default() })
        }
        QueryMsg::Config {} => json(&CONFIG.load()?),
        QueryMsg::Locks { address } => locks::query(&address, block_time_ms()),
    }
}

entry_points!(instantiate, execute, query, dao_types::migrate);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
