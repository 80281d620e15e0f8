//! Conviction-voting locks (Polkadot OpenGov): staked tokens a voter may not
//! unstake before a block time.
//!
//! An address has at most [`MAX_LOCKS`] locks `(amount, until_ms)`; a lock is
//! active while `until_ms > now` (block time). Locks overlap: the locked amount
//! at a time is the **largest** active lock, not their sum. Expired locks are
//! dropped on every write, and so are locks that another one covers (as large
//! and as long: they change no locked amount). When the list is still full, the
//! new lock is merged into the one ending last (`amount = max`, `until_ms = max`),
//! so no lock is ever shortened or shrunk. The list is kept sorted by `until_ms`
//! (amounts then decrease).

use agora_sdk::{Addr, ContractError, Map, Uint128, bail, ensure, storage};
use serde::{Deserialize, Serialize};

/// Most locks of one address.
pub const MAX_LOCKS: usize = 16;
/// Longest lock: two years (of 365 days) of block time.
pub const MAX_LOCK_MS: u64 = 2 * 365 * 24 * 60 * 60 * 1000;

/// `amount` staked tokens locked until block time `until_ms` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub amount: Uint128,
    pub until_ms: u64,
}

/// Answer of `locks {address}`: the active locks at the block time, the
/// amount locked now and when the last of them ends (`null`: nothing locked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocksResponse {
    pub locks: Vec<Lock>,
    pub locked: Uint128,
    pub unlocks_at_ms: Option<u64>,
}

/// Locks of an address (possibly with expired ones), sorted by `until_ms`, stored
/// raw, not as JSON: 24 bytes a lock, `amount` u128 BE ‖ `until_ms` u64 BE.
const LOCKS: Map<Addr, ()> = Map::new("locks");
const LOCK_BYTES: usize = 24;

/// The active locks of `addr` at `now`, and whether expired ones were dropped.
fn active(addr: &Addr, now: u64) -> Result<(Vec<Lock>, bool), ContractError> {
    let raw = storage::get(&LOCKS.storage_key(addr)).unwrap_or_default();
    ensure!(raw.len().is_multiple_of(LOCK_BYTES), "corrupt locks of {addr}");
    let mut locks = Vec::with_capacity(raw.len() / LOCK_BYTES);
    for r in raw.chunks_exact(LOCK_BYTES) {
        let (amount, until) = r.split_at(16);
        let amount = Uint128(u128::from_be_bytes(amount.try_into().map_err(|_| "corrupt lock")?));
        let until_ms = u64::from_be_bytes(until.try_into().map_err(|_| "corrupt lock")?);
        if until_ms > now {
            locks.push(Lock { amount, until_ms });
        }
    }
    let pruned = locks.len() != raw.len() / LOCK_BYTES;
    Ok((locks, pruned))
}

fn store(addr: &Addr, locks: Vec<Lock>) {
    let key = LOCKS.storage_key(addr);
    if locks.is_empty() {
        storage::remove(&key);
    } else {
        let mut raw = Vec::with_capacity(locks.len() * LOCK_BYTES);
        for l in &locks {
            raw.extend_from_slice(&l.amount.u128().to_be_bytes());
            raw.extend_from_slice(&l.until_ms.to_be_bytes());
        }
        storage::set(&key, &raw);
    }
}

/// The locked amount: the largest lock (they overlap).
fn locked(locks: &[Lock]) -> u128 {
    locks.iter().map(|l| l.amount.u128()).max().unwrap_or(0)
}

/// Whether `a` is as large and as long as `b` (then `b` changes no locked amount).
fn covers(a: &Lock, b: &Lock) -> bool {
    a.amount >= b.amount && a.until_ms >= b.until_ms
}

/// Adds a lock of `amount` until `until_ms` (both checked by the caller) to `addr`.
/// The stored list is sorted by `until_ms` and no lock in it covers another.
pub fn add(addr: &Addr, amount: u128, until_ms: u64, now: u64) -> Result<(), ContractError> {
    let (mut locks, _) = active(addr, now)?;
    let mut new = Lock { amount: Uint128(amount), until_ms };
    if !locks.iter().any(|l| covers(l, &new)) {
        locks.retain(|l| !covers(&new, l));
        if locks.len() >= MAX_LOCKS {
            // Full: merge the new lock into the one ending last (the list's last).
            if let Some(last) = locks.pop() {
                new = Lock { amount: last.amount.max(new.amount), until_ms: last.until_ms.max(until_ms) };
                locks.retain(|l| !covers(&new, l));
            }
        }
        let at = locks.iter().take_while(|l| l.until_ms < new.until_ms).count();
        locks.insert(at, new);
    }
    store(addr, locks);
    Ok(())
}

/// Refuses to let `addr` go from `have` to `left` staked tokens while more than
/// `left` is locked; drops expired locks.
pub fn check_unstake(addr: &Addr, amount: u128, have: u128, left: u128, now: u64) -> Result<(), ContractError> {
    let (locks, pruned) = active(addr, now)?;
    let locked = locked(&locks);
    if left < locked {
        // The unstake is possible once every lock larger than `left` has ended.
        let until = locks.iter().filter(|l| l.amount.u128() > left).map(|l| l.until_ms).max().unwrap_or(now);
        let free = have.saturating_sub(locked);
        bail!(
            "cannot unstake {amount}: {addr}'s tokens are locked until {until} \
             ({locked} of {have} staked are locked now: at most {free} can be unstaked)"
        )
    }
    if pruned {
        store(addr, locks);
    }
    Ok(())
}

/// The `locks {address}` answer at `now`, as JSON ([`LocksResponse`]). Written
/// by hand (only numbers, nothing to escape): serde's code for it is larger.
pub fn query(addr: &Addr, now: u64) -> Result<Vec<u8>, ContractError> {
    use std::fmt::Write;
    let (locks, _) = active(addr, now)?;
    let mut out = String::from("{\"locks\":[");
    for (i, l) in locks.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(out, "{sep}{{\"amount\":\"{}\",\"until_ms\":{}}}", l.amount, l.until_ms);
    }
    let _ = write!(out, "],\"locked\":\"{}\",\"unlocks_at_ms\":", locked(&locks));
    let _ = match locks.iter().map(|l| l.until_ms).max() {
        Some(until_ms) => write!(out, "{until_ms}}}"),
        None => write!(out, "null}}"),
    };
    Ok(out.into_bytes())
}
