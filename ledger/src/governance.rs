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
/// Bounds a governance change must respect (see [`apply_params_patch`]).
pub const MIN_GOVERNED_TX_BYTES: u32 = 64 * 1024;
pub const MIN_GOVERNED_TX_GAS: u64 = 100_000_000;
pub const MAX_GOVERNED_GAS_PRICE: u128 = 1_000_000;
pub const MAX_GOVERNED_OP_GAS: u64 = 10_000_000;
pub const MAX_GOVERNED_BYTE_GAS: u64 = 10_000;
/// Version byte in front of the borsh parameters record, so a later version
/// of `ChainParams` can still read records written by this one.
pub const PARAMS_RECORD_VERSION: u8 = 1;

/// The parameters record: version byte ‖ borsh.
pub fn encode_params(p: &ChainParams) -> Vec<u8> {
    let mut out = vec![PARAMS_RECORD_VERSION];
    out.extend(borsh::to_vec(p).expect("writing to a Vec cannot fail"));
    out
}

/// Reads a parameters record written by [`encode_params`].
pub fn decode_params(b: &[u8]) -> Result<ChainParams, LedgerError> {
    match b.split_first() {
        Some((&PARAMS_RECORD_VERSION, rest)) => decode_record("chain params", rest),
        Some((v, _)) => Err(LedgerError::Corrupt(format!("chain params record version {v} is unknown to this node"))),
        None => Err(LedgerError::Corrupt("empty chain params record".into())),
    }
}

/// The parameters in force for the block after the latest committed one.
/// `None` only for a store without genesis.
pub fn read_params<S: StateStore>(store: &S) -> Result<Option<ChainParams>, LedgerError> {
    store.get_latest(&contract_storage_key(&PARAMS, PARAMS_KEY))?.map(|b| decode_params(&b)).transpose()
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
    check_governable(current, &next)?;
    Ok(next)
}

/// What a governance change must keep beyond the genesis rules: the values
/// nodes size at start-up, and a chain that can still include the votes
/// that would undo the change (generous bounds, far from the defaults).
fn check_governable(current: &ChainParams, next: &ChainParams) -> Result<(), String> {
    let frozen = [
        ("contracts.max_memory_pages", current.contracts.max_memory_pages == next.contracts.max_memory_pages),
        ("max_block_bytes", current.max_block_bytes == next.max_block_bytes),
    ];
    for (field, same) in frozen {
        if !same {
            return Err(format!(
                "{field} sizes every node at start-up (VM pool, gossip and sync limits) and cannot change"
            ));
        }
    }
    let c = &next.contracts;
    let s = &next.staking;
    let gas_table = [
        c.gas_instantiate,
        c.gas_contract_entry,
        c.gas_host_call,
        c.gas_storage_read,
        c.gas_storage_write,
        c.gas_event,
        c.gas_contract_transfer,
        c.gas_contract_call,
        c.gas_ed25519_verify,
        c.gas_address_text,
        c.gas_memory_page,
        s.staking_gas,
        s.delegation_gas,
        next.base_tx_gas,
        next.transfer_gas,
    ];
    let per_byte = [
        c.gas_copy_byte,
        c.gas_storage_read_byte,
        c.gas_storage_write_byte,
        c.gas_event_byte,
        c.gas_sha256_byte,
        next.gas_per_tx_byte,
    ];
    let rules: [(&str, bool, &str); 10] = [
        ("max_tx_bytes", next.max_tx_bytes >= MIN_GOVERNED_TX_BYTES, "must stay at least 64 KiB"),
        ("max_tx_gas", next.max_tx_gas >= MIN_GOVERNED_TX_GAS, "must stay at least 100 000 000"),
        ("min_gas_price", next.min_gas_price.get() <= MAX_GOVERNED_GAS_PRICE, "must stay at most 1 000 000"),
        ("gas table", gas_table.iter().all(|g| *g <= MAX_GOVERNED_OP_GAS), "entries must stay at most 10 000 000"),
        (
            "gas table",
            per_byte.iter().all(|g| *g <= MAX_GOVERNED_BYTE_GAS),
            "per-byte entries must stay at most 10 000",
        ),
        (
            "contracts.gas_code_byte",
            c.gas_code_byte.saturating_mul(u64::from(c.max_code_bytes)) <= next.max_tx_gas,
            "times max_code_bytes must fit max_tx_gas (the largest upload must fit a transaction)",
        ),
        (
            "staking.max_evidence_per_block",
            u64::from(s.max_evidence_per_block) * 400 <= u64::from(next.max_block_bytes) / 2,
            "must leave at least half of max_block_bytes to transactions",
        ),
        (
            "contracts.stake_history_blocks",
            c.stake_history_blocks >= current.contracts.stake_history_blocks,
            "cannot shrink (open proposals read stake that far back)",
        ),
        ("staking.signed_blocks_window", s.signed_blocks_window <= 1_000_000, "must stay at most 1 000 000"),
        ("staking.max_entries", s.max_entries <= 100, "must stay at most 100"),
    ];
    for (field, ok, reason) in rules {
        if !ok {
            return Err(format!("invalid parameter {field}: {reason}"));
        }
    }
    Ok(())
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
        admin: Option<Address>,
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
            admin,
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
            Some(b) => decode_params(&b)?,
            None => self.env.params.clone(),
        };
        if current.governance != Some(*caller) {
            return Ok(Err(format!("{caller} is not the chain's governance contract")));
        }
        let next = match apply_params_patch(&current, patch) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        self.storage_set(&PARAMS, PARAMS_KEY, &encode_params(&next))?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests;
