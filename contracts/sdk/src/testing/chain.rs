//! The mock's chain-level features: code stored by hash and contracts
//! instantiating contracts, bonded stake at past heights, chain-parameter
//! governance and burning.

use std::collections::BTreeMap;

use super::{Entry, MockContract, MockHost, check_writable, invoke, stack, with};
use crate::Addr;

/// Chain-level mock state (not reverted by failed calls unless noted).
#[derive(Default)]
pub(super) struct ChainExt {
    pub codes: BTreeMap<[u8; 32], MockContract>,
    /// address → height → bonded tokens from that height on.
    pub stake: BTreeMap<Addr, BTreeMap<u64, u128>>,
    pub total_stake: BTreeMap<u64, u128>,
    pub governance: Option<Addr>,
    /// 0: no limit on how far back stake reads go.
    pub stake_history_blocks: u64,
}

impl MockHost {
    /// Stores code under `code_hash`, so contracts (and
    /// [`MockHost::instantiate_code`]) can instantiate it by hash.
    pub fn store_code(&self, code_hash: [u8; 32], contract: MockContract) {
        with(|s| s.ext.codes.insert(code_hash, contract));
    }

    /// A transaction instantiating stored code like the chain: the address is
    /// [`contract_address`](crate::contract_address)`(code_hash, sender, label)`.
    pub fn instantiate_code(
        &self,
        code_hash: [u8; 32],
        sender: Addr,
        label: &str,
        funds: u128,
        msg: &[u8],
    ) -> Result<Addr, String> {
        let saved_origin = with(|s| std::mem::replace(&mut s.origin, sender));
        let result = instantiate_as(sender, &code_hash, label, msg, funds);
        with(|s| s.origin = saved_origin);
        result
    }

    /// Records that `addr` has `amount` bonded from the end of block `height` on.
    pub fn set_bonded_stake(&self, addr: Addr, height: u64, amount: u128) {
        with(|s| s.ext.stake.entry(addr).or_default().insert(height, amount));
    }

    /// Records the total bonded from the end of block `height` on.
    pub fn set_total_bonded(&self, height: u64, amount: u128) {
        with(|s| s.ext.total_stake.insert(height, amount));
    }

    /// Limits stake reads to the last `blocks` blocks (0: no limit).
    pub fn set_stake_history_blocks(&self, blocks: u64) {
        with(|s| s.ext.stake_history_blocks = blocks);
    }

    /// Names the contract allowed to change chain parameters.
    pub fn set_governance(&self, addr: Option<Addr>) {
        with(|s| s.ext.governance = addr);
    }

    /// Parameter patches accepted so far (reverted with failed calls).
    pub fn param_updates(&self) -> Vec<serde_json::Value> {
        with(|s| s.chain.param_patches.clone())
    }

    /// Native tokens burned so far (reverted with failed calls).
    pub fn burned(&self) -> u128 {
        with(|s| s.chain.burned)
    }
}

pub(super) fn instantiate_as(
    me: Addr,
    code_hash: &[u8; 32],
    label: &str,
    msg: &[u8],
    funds: u128,
) -> Result<Addr, String> {
    let addr = crate::contract_address(code_hash, &me, label);
    let code = with(|s| s.ext.codes.get(code_hash).cloned());
    let Some(code) = code else { return Err(format!("no code with hash {}", hex(code_hash))) };
    if with(|s| s.contracts.contains_key(&addr)) {
        return Err(format!("contract address {addr} already exists; choose another label"));
    }
    with(|s| s.contracts.insert(addr, code));
    match invoke(addr, me, Some(me), funds, msg, Entry::Instantiate) {
        Ok(_) => Ok(addr),
        Err(e) => {
            with(|s| s.contracts.remove(&addr));
            Err(e)
        }
    }
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check_past(height: u64) -> Result<(), String> {
    with(|s| {
        let current = s.block_height;
        // Like the chain: only a top-level query (an RPC call) reads the last
        // block; any call inside a transaction reads at most the one before.
        let rpc_query = s.frames.first().unwrap_or(&s.base).read_only;
        let last = if rpc_query { current } else { current.saturating_sub(1) };
        if height > last {
            return Err(format!("height {height} is not a committed block (last is {last})"));
        }
        let window = s.ext.stake_history_blocks;
        if window > 0 && height.saturating_add(window) < current {
            return Err(format!("height {height} is older than the chain's {window}-block stake history"));
        }
        Ok(())
    })
}

fn at(history: Option<&BTreeMap<u64, u128>>, height: u64) -> u128 {
    history.and_then(|h| h.range(..=height).next_back()).map_or(0, |(_, v)| *v)
}

pub(super) mod host {
    use super::*;

    pub fn instantiate(
        code_hash: &[u8; 32],
        label: &str,
        msg: &[u8],
        funds: u128,
        _gas_limit: u64,
    ) -> Result<Addr, String> {
        check_writable("instantiate");
        let stack = stack();
        if stack.len() > super::super::MAX_CALL_DEPTH {
            return Err(format!("call depth limit of {} exceeded", super::super::MAX_CALL_DEPTH));
        }
        let me = stack.last().map_or(Addr::ZERO, |f| f.contract);
        instantiate_as(me, code_hash, label, msg, funds)
    }

    pub fn contract_code_hash(addr: &Addr) -> Option<[u8; 32]> {
        with(|s| {
            let c = crate::testing::admin::code_of(s, addr)?;
            // Stored code keeps its hash; registered contracts get one from their address.
            let found = s.ext.codes.iter().find(|(_, code)| code.same(&c)).map(|(h, _)| *h);
            Some(found.unwrap_or_else(|| crate::sha256(addr.as_bytes())))
        })
    }

    pub fn burn(amount: u128) -> Result<(), String> {
        check_writable("burn");
        with(|s| {
            let me = s.frame().contract;
            let have = s.chain.balances.get(&me).copied().unwrap_or(0);
            if have < amount {
                return Err(format!("insufficient funds: {me} has {have}, needs {amount}"));
            }
            s.chain.balances.insert(me, have - amount);
            s.chain.burned = s.chain.burned.saturating_add(amount);
            Ok(())
        })
    }

    pub fn bonded_stake_at(addr: &Addr, height: u64) -> Result<u128, String> {
        check_past(height)?;
        Ok(with(|s| at(s.ext.stake.get(addr), height)))
    }

    pub fn total_bonded_at(height: u64) -> Result<u128, String> {
        check_past(height)?;
        Ok(with(|s| at(Some(&s.ext.total_stake), height)))
    }

    pub fn update_chain_params(patch: &[u8]) -> Result<(), String> {
        check_writable("update_chain_params");
        let value: serde_json::Value =
            serde_json::from_slice(patch).map_err(|e| format!("parameter change is not JSON: {e}"))?;
        if !value.is_object() {
            return Err("parameter change must be a JSON object".into());
        }
        with(|s| {
            let me = s.frame().contract;
            if s.ext.governance != Some(me) {
                return Err(format!("{me} is not the chain's governance contract"));
            }
            s.chain.param_patches.push(value);
            Ok(())
        })
    }
}
