//! What contracts may ask of the chain beyond their own storage: chain
//! parameters changed by the governance contract, bonded stake at a past
//! height (flash-loan-proof voting power), contracts creating contracts, and
//! burning tokens.
//!
//! **Parameters in the state.** The chain parameters live in the
//! authenticated state (record `params` of the reserved [`PARAMS`] module
//! namespace, borsh), written at genesis. Only the contract named by
//! `params.governance` may change them, through [`Host::update_chain_params`]:
//! a JSON object holding the fields to change is merged into the current
//! parameters, the result must pass [`ChainParams::validate`] plus the rules
//! below, and the record is written like any other state — reverted if the
//! call fails, covered by the state root. The executor keeps using the
//! parameters it started the block with; the node reads the record after
//! each commit, so a change is in force from the next block on every node.
//!
//! **Stake at a past height.** The node keeps every version of every state
//! key (the Jellyfish tree's value history), so the ledger can read the
//! state at the end of any committed block. An account's bonded stake at
//! height `h` is the sum over its delegations at `h` of `shares × tokens /
//! total shares` of each validator at `h` (rounded down per delegation):
//! slashing that happened later does not change a past answer, and stake
//! bonded after `h` is not there. Finding an account's delegations at `h`
//! uses a per-delegator index (`i ‖ delegator → validators`, at most
//! [`MAX_DELEGATIONS_PER_ACCOUNT`] entries) kept by the staking rules, so a
//! read is `1 + 2n` versioned point reads for `n` delegations. The total is
//! the bonded pool's balance at `h`. Reads are allowed for committed heights
//! within `contracts.stake_history_blocks` of the current one.
//!
//! [`Host::update_chain_params`]: crate::contract::Host::update_chain_params

use std::sync::LazyLock;

use crate::contract::{Host, LedgerHost, contract_address};
use crate::error::LedgerError;
use crate::params::ChainParams;
use crate::staking::store::{DELEGATION, DELEGATOR_INDEX, VALIDATOR, key};
use crate::staking::types::{Delegation, Totals, Validator};
use crate::staking::{BONDED_POOL, STAKING, module_address};
use crate::state::{Account, ContractInfo, StateStore, account_key, contract_storage_key, decode_record};
use crate::types::{Address, Amount, Hash, Height};

/// Namespace of the chain-parameter record.
pub static PARAMS: LazyLock<Address> = LazyLock::new(|| module_address("params"));
/// The record's key in [`PARAMS`].
pub const PARAMS_KEY: &[u8] = b"params";
/// Most validators one account may delegate to (bounds the stake index and
/// every read of it).
pub const MAX_DELEGATIONS_PER_ACCOUNT: usize = 64;
/// Largest parameter change accepted, in bytes of JSON.
pub const MAX_PARAMS_PATCH_BYTES: usize = 16 * 1024;

/// The parameters in force for the block after the latest committed one.
/// `None` only for a store without genesis.
pub fn read_params<S: StateStore>(store: &S) -> Result<Option<ChainParams>, LedgerError> {
    store.get_latest(&contract_storage_key(&PARAMS, PARAMS_KEY))?.map(|b| decode_record("chain params", &b)).transpose()
}

/// Applies a governance change: `patch` (a JSON object in the shape of the
/// parameters' JSON, only the fields to change; nested objects merge) over
/// `current`. The result must be valid parameters; fields that size the
/// node's VM at start-up cannot change.
pub fn apply_params_patch(current: &ChainParams, patch: &[u8]) -> Result<ChainParams, String> {
    if patch.len() > MAX_PARAMS_PATCH_BYTES {
        return Err(format!("a parameter change is at most {MAX_PARAMS_PATCH_BYTES} bytes"));
    }
    let patch: serde_json::Value =
        serde_json::from_slice(patch).map_err(|e| format!("parameter change is not JSON: {e}"))?;
    if patch.as_object().is_none_or(|o| o.is_empty()) {
        return Err("a parameter change must be a non-empty JSON object".into());
    }
    let mut value = serde_json::to_value(current).map_err(|e| format!("parameters as JSON: {e}"))?;
    merge(&mut value, &patch, "")?;
    let next: ChainParams = serde_json::from_value(value).map_err(|e| format!("invalid parameters: {e}"))?;
    next.validate().map_err(|(field, reason)| format!("invalid parameter {field}: {reason}"))?;
    if next.contracts.max_memory_pages != current.contracts.max_memory_pages {
        return Err("contracts.max_memory_pages sizes every node's VM at start-up and cannot change".into());
    }
    Ok(next)
}

/// Merges `patch` into `target`: objects field by field (every field must
/// exist already), anything else replaces the old value.
fn merge(target: &mut serde_json::Value, patch: &serde_json::Value, path: &str) -> Result<(), String> {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                let slot = t.get_mut(k).ok_or_else(|| format!("unknown parameter {here}"))?;
                merge(slot, v, &here)?;
            }
            Ok(())
        }
        (t, p) if p.is_object() && !t.is_null() => Err(format!("parameter {path} is not a group of parameters")),
        (t, p) => {
            *t = p.clone();
            Ok(())
        }
    }
}

/// Reads one staking record as it was at the end of block `height`.
fn staking_at<S: StateStore, T: borsh::BorshDeserialize>(
    store: &S,
    what: &str,
    k: &[u8],
    height: Height,
) -> Result<Option<T>, LedgerError> {
    let v = store
        .get_value_option(height.0, contract_storage_key(&STAKING, k))
        .map_err(|e| LedgerError::Storage(e.to_string()))?;
    v.map(|b| decode_record(what, &b)).transpose()
}

impl<S: StateStore + Send + 'static> LedgerHost<S> {
    /// The last committed height: the block before the one executing, or the
    /// last block in a query.
    fn committed_height(&self) -> Height {
        if self.env.read_only { self.env.height } else { Height(self.env.height.0.saturating_sub(1)) }
    }

    fn check_past_height(&self, height: Height) -> Result<(), String> {
        let last = self.committed_height();
        if height > last {
            return Err(format!("height {height} is not a committed block (the last is {last})"));
        }
        let window = self.env.params.contracts.stake_history_blocks;
        if height.0.saturating_add(window) < self.env.height.0 {
            return Err(format!("height {height} is older than the chain's {window}-block stake history"));
        }
        Ok(())
    }

    /// Bonded stake of `addr` (or of everyone) at the end of block `height`,
    /// and the number of records read (the caller charges gas for them).
    pub(crate) fn stake_at(
        &self,
        addr: Option<&Address>,
        height: Height,
    ) -> Result<(Result<Amount, String>, u64), LedgerError> {
        if let Err(e) = self.check_past_height(height) {
            return Ok((Err(e), 0));
        }
        let store = &self.base;
        let Some(addr) = addr else {
            let pool = store
                .get_value_option(height.0, account_key(&BONDED_POOL))
                .map_err(|e| LedgerError::Storage(e.to_string()))?;
            let balance = pool.as_deref().map(Account::decode).transpose()?.map_or(Amount::ZERO, |a| a.balance);
            return Ok((Ok(balance), 1));
        };
        let index: Vec<[u8; 20]> =
            staking_at(store, "delegator index", &key(DELEGATOR_INDEX, &[&addr.0]), height)?.unwrap_or_default();
        let mut total = Amount::ZERO;
        for op in &index {
            let del: Option<Delegation> = staking_at(store, "delegation", &key(DELEGATION, &[&addr.0, op]), height)?;
            let val: Option<Validator> = staking_at(store, "validator", &key(VALIDATOR, &[op]), height)?;
            let (Some(del), Some(val)) = (del, val) else {
                return Err(LedgerError::Corrupt(format!("delegator index of {addr} names a missing delegation")));
            };
            total = total
                .checked_add(val.tokens_for(del.shares))
                .ok_or_else(|| LedgerError::Corrupt("bonded stake overflows".into()))?;
        }
        Ok((Ok(total), 1 + 2 * index.len() as u64))
    }

    /// Registers a contract `creator` instantiates from `code_hash` (the
    /// caller then runs its `instantiate`); journaled like every write.
    pub(crate) fn register_contract(
        &mut self,
        code_hash: &Hash,
        creator: &Address,
        label: &str,
    ) -> Result<Result<Address, String>, LedgerError> {
        let max = self.env.params.contracts.max_label_bytes as usize;
        if label.is_empty() || label.len() > max {
            return Ok(Err(format!("label must be 1..={max} bytes")));
        }
        let address = contract_address(code_hash, creator, label);
        if self.code_info(code_hash)?.is_none() {
            return Ok(Err(format!("no code with hash {code_hash}")));
        }
        if self.contract_info(&address)?.is_some() {
            return Ok(Err(format!("contract address {address} already exists; choose another label")));
        }
        let info = ContractInfo {
            address,
            code_hash: *code_hash,
            creator: *creator,
            label: label.to_owned(),
            created_height: self.env.height,
        };
        self.put_contract_info(&info);
        Ok(Ok(address))
    }

    /// Destroys `amount` held by `from`: the supply falls, `burned` grows.
    pub(crate) fn burn_tokens(&mut self, from: &Address, amount: Amount) -> Result<Result<(), String>, LedgerError> {
        let mut acct = self.account(from)?;
        let Some(left) = acct.balance.checked_sub(amount) else {
            return Ok(Err(format!("insufficient funds: {from} has {}, needs {amount}", acct.balance)));
        };
        if amount.is_zero() {
            return Ok(Ok(()));
        }
        acct.balance = left;
        self.put_account(from, &acct);
        let tk = crate::staking::store::TOTALS;
        let mut t: Totals = match self.storage_get(&STAKING, tk)? {
            Some(b) => decode_record("staking totals", &b)?,
            None => Totals::default(),
        };
        t.supply = t.supply.checked_sub(amount).ok_or_else(|| LedgerError::Corrupt("supply underflow".into()))?;
        t.burned = t.burned.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("burned overflow".into()))?;
        self.storage_set(&STAKING, tk, &borsh::to_vec(&t).expect("writing to a Vec cannot fail"))?;
        Ok(Ok(()))
    }

    /// A governance change of the chain parameters by `caller`.
    pub(crate) fn change_params(&mut self, caller: &Address, patch: &[u8]) -> Result<Result<(), String>, LedgerError> {
        let current = match self.storage_get(&PARAMS, PARAMS_KEY)? {
            Some(b) => decode_record::<ChainParams>("chain params", &b)?,
            None => self.env.params.clone(),
        };
        if current.governance != Some(*caller) {
            return Ok(Err(format!("{caller} is not the chain's governance contract")));
        }
        let next = match apply_params_patch(&current, patch) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        self.storage_set(&PARAMS, PARAMS_KEY, &borsh::to_vec(&next).expect("writing to a Vec cannot fail"))?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests;
