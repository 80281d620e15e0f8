//! Record keys and typed access to the staking namespace through a
//! [`LedgerHost`] (so reads see the block's uncommitted writes and a failed
//! transaction's writes are reverted with everything else).

use std::ops::Bound;

use borsh::{BorshDeserialize, BorshSerialize};

use super::STAKING;
use super::types::*;
use crate::contract::{Host, LedgerHost};
use crate::crypto::PublicKey;
use crate::error::LedgerError;
use crate::state::StateStore;
use crate::types::{Address, Amount};

// Key layout (fixed-width binary, so prefix scans are ordered and exact):
pub(crate) const VALIDATOR: u8 = b'v'; // v ‖ op → Validator
pub(crate) const CONS_KEY: u8 = b'k'; // k ‖ consensus key → op (never freed)
pub(crate) const DELEGATION: u8 = b'd'; // d ‖ delegator ‖ op → Delegation
pub(crate) const DELEGATOR_INDEX: u8 = b'i'; // i ‖ delegator → Vec<op> (sorted; for reads at a past height)
pub(crate) const VAL_DELEGATOR: u8 = b'D'; // D ‖ op ‖ delegator → ()
pub(crate) const UNBONDING: u8 = b'u'; // u ‖ delegator ‖ op → Vec<UnbondingEntry>
pub(crate) const VAL_UNBONDING: u8 = b'U'; // U ‖ op ‖ delegator → ()
pub(crate) const UNBONDING_QUEUE: u8 = b'q'; // q ‖ completion_ms ‖ delegator ‖ op → ()
pub(crate) const REDELEGATION: u8 = b'r'; // r ‖ delegator ‖ src ‖ dst → Vec<RedelegationEntry>
pub(crate) const SRC_REDELEGATION: u8 = b'R'; // R ‖ src ‖ delegator ‖ dst → ()
pub(crate) const REDELEGATION_QUEUE: u8 = b'Q'; // Q ‖ completion_ms ‖ delegator ‖ src ‖ dst → ()
pub(crate) const VALIDATOR_QUEUE: u8 = b'w'; // w ‖ completion_ms ‖ op → ()
pub(crate) const SIGNING_INFO: u8 = b's'; // s ‖ op → SigningInfo
pub(crate) const ACTIVE_SET: &[u8] = b"\x01set"; // → Vec<SetMember>, by consensus key
pub(crate) const TOTALS: &[u8] = b"\x01totals"; // → Totals

pub(crate) fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(tag);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// The smallest key after every key starting with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut e = prefix.to_vec();
    while let Some(last) = e.pop() {
        if last < u8::MAX {
            e.push(last + 1);
            return Some(e);
        }
    }
    None
}

pub(crate) fn addr_at(k: &[u8], at: usize) -> Result<Address, LedgerError> {
    k.get(at..at + 20)
        .and_then(|s| <[u8; 20]>::try_from(s).ok())
        .map(Address)
        .ok_or_else(|| LedgerError::Corrupt("short staking key".into()))
}

fn decode<T: BorshDeserialize>(what: &str, b: &[u8]) -> Result<T, LedgerError> {
    borsh::from_slice(b).map_err(|e| LedgerError::Corrupt(format!("staking {what}: {e}")))
}

fn encode<T: BorshSerialize>(v: &T) -> Vec<u8> {
    borsh::to_vec(v).expect("writing to a Vec cannot fail")
}

/// Typed staking storage over a host.
pub(crate) struct Records<'h, S> {
    pub host: &'h mut LedgerHost<S>,
}

impl<S: StateStore + Send + 'static> Records<'_, S> {
    pub fn get<T: BorshDeserialize>(&mut self, what: &str, k: &[u8]) -> Result<Option<T>, LedgerError> {
        self.host.storage_get(&STAKING, k)?.map(|b| decode(what, &b)).transpose()
    }

    pub fn put<T: BorshSerialize>(&mut self, k: &[u8], v: &T) -> Result<(), LedgerError> {
        self.host.storage_set(&STAKING, k, &encode(v))
    }

    pub fn del(&mut self, k: &[u8]) -> Result<(), LedgerError> {
        self.host.storage_remove(&STAKING, k)
    }

    /// Keys (with values) under `prefix`, in order, at most `limit`, after `after`.
    pub fn scan(
        &mut self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<crate::contract::KvPair>, LedgerError> {
        let end = prefix_end(prefix);
        let mut out = Vec::new();
        let mut cur: Vec<u8> = after.map_or_else(|| prefix.to_vec(), <[u8]>::to_vec);
        let mut inclusive = after.is_none();
        while out.len() < limit {
            let start = if inclusive { Bound::Included(cur.as_slice()) } else { Bound::Excluded(cur.as_slice()) };
            let Some((k, v)) = self.host.storage_next(&STAKING, start, end.as_deref(), u64::MAX)?.entry else { break };
            if !k.starts_with(prefix) {
                break;
            }
            cur = k.clone();
            inclusive = false;
            out.push((k, v));
        }
        Ok(out)
    }

    /// Keys under `prefix` up to (and including) `upto` (an inclusive bound
    /// on the whole key), at most `limit`.
    pub fn scan_upto(
        &mut self,
        prefix: &[u8],
        upto_exclusive: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, LedgerError> {
        let mut out = Vec::new();
        let mut cur = prefix.to_vec();
        let mut inclusive = true;
        while out.len() < limit {
            let start = if inclusive { Bound::Included(cur.as_slice()) } else { Bound::Excluded(cur.as_slice()) };
            let Some((k, _)) = self.host.storage_next(&STAKING, start, Some(upto_exclusive), u64::MAX)?.entry else {
                break;
            };
            if !k.starts_with(prefix) {
                break;
            }
            cur = k.clone();
            inclusive = false;
            out.push(k);
        }
        Ok(out)
    }

    pub fn validator(&mut self, op: &Address) -> Result<Option<Validator>, LedgerError> {
        self.get("validator", &key(VALIDATOR, &[&op.0]))
    }

    pub fn put_validator(&mut self, v: &Validator) -> Result<(), LedgerError> {
        self.put(&key(VALIDATOR, &[&v.operator.0]), v)
    }

    pub fn operator_of(&mut self, pk: &PublicKey) -> Result<Option<Address>, LedgerError> {
        Ok(self.get::<[u8; 20]>("consensus key index", &key(CONS_KEY, &[&pk.0]))?.map(Address))
    }

    pub fn delegation(&mut self, d: &Address, op: &Address) -> Result<Option<Delegation>, LedgerError> {
        self.get("delegation", &key(DELEGATION, &[&d.0, &op.0]))
    }

    pub fn put_delegation(&mut self, d: &Address, op: &Address, del: &Delegation) -> Result<(), LedgerError> {
        let mut index = self.delegator_index(d)?;
        let pos = index.binary_search(&op.0);
        if del.shares == 0 {
            if let Ok(i) = pos {
                index.remove(i);
                self.put_delegator_index(d, &index)?;
            }
            self.del(&key(DELEGATION, &[&d.0, &op.0]))?;
            return self.del(&key(VAL_DELEGATOR, &[&op.0, &d.0]));
        }
        if let Err(i) = pos {
            index.insert(i, op.0);
            self.put_delegator_index(d, &index)?;
        }
        self.put(&key(DELEGATION, &[&d.0, &op.0]), del)?;
        self.put(&key(VAL_DELEGATOR, &[&op.0, &d.0]), &())
    }

    /// The validators `d` delegates to, in address order.
    pub fn delegator_index(&mut self, d: &Address) -> Result<Vec<[u8; 20]>, LedgerError> {
        Ok(self.get("delegator index", &key(DELEGATOR_INDEX, &[&d.0]))?.unwrap_or_default())
    }

    fn put_delegator_index(&mut self, d: &Address, index: &Vec<[u8; 20]>) -> Result<(), LedgerError> {
        if index.is_empty() {
            return self.del(&key(DELEGATOR_INDEX, &[&d.0]));
        }
        self.put(&key(DELEGATOR_INDEX, &[&d.0]), index)
    }

    pub fn unbonding(&mut self, d: &Address, op: &Address) -> Result<Vec<UnbondingEntry>, LedgerError> {
        Ok(self.get("unbonding", &key(UNBONDING, &[&d.0, &op.0]))?.unwrap_or_default())
    }

    pub fn put_unbonding(&mut self, d: &Address, op: &Address, e: &[UnbondingEntry]) -> Result<(), LedgerError> {
        if e.is_empty() {
            self.del(&key(UNBONDING, &[&d.0, &op.0]))?;
            return self.del(&key(VAL_UNBONDING, &[&op.0, &d.0]));
        }
        self.put(&key(UNBONDING, &[&d.0, &op.0]), &e.to_vec())?;
        self.put(&key(VAL_UNBONDING, &[&op.0, &d.0]), &())
    }

    pub fn redelegation(
        &mut self,
        d: &Address,
        src: &Address,
        dst: &Address,
    ) -> Result<Vec<RedelegationEntry>, LedgerError> {
        Ok(self.get("redelegation", &key(REDELEGATION, &[&d.0, &src.0, &dst.0]))?.unwrap_or_default())
    }

    pub fn put_redelegation(
        &mut self,
        d: &Address,
        src: &Address,
        dst: &Address,
        e: &[RedelegationEntry],
    ) -> Result<(), LedgerError> {
        if e.is_empty() {
            self.del(&key(REDELEGATION, &[&d.0, &src.0, &dst.0]))?;
            return self.del(&key(SRC_REDELEGATION, &[&src.0, &d.0, &dst.0]));
        }
        self.put(&key(REDELEGATION, &[&d.0, &src.0, &dst.0]), &e.to_vec())?;
        self.put(&key(SRC_REDELEGATION, &[&src.0, &d.0, &dst.0]), &())
    }

    pub fn signing_info(&mut self, op: &Address) -> Result<Option<SigningInfo>, LedgerError> {
        self.get("signing info", &key(SIGNING_INFO, &[&op.0]))
    }

    pub fn put_signing_info(&mut self, op: &Address, si: &SigningInfo) -> Result<(), LedgerError> {
        self.put(&key(SIGNING_INFO, &[&op.0]), si)
    }

    pub fn active_set(&mut self) -> Result<Vec<SetMember>, LedgerError> {
        Ok(self.get("active set", ACTIVE_SET)?.unwrap_or_default())
    }

    pub fn totals(&mut self) -> Result<Totals, LedgerError> {
        Ok(self.get("totals", TOTALS)?.unwrap_or_default())
    }

    pub fn put_totals(&mut self, t: &Totals) -> Result<(), LedgerError> {
        self.put(TOTALS, t)
    }

    // Token movements between accounts (module accounts included).

    pub fn move_tokens(&mut self, from: &Address, to: &Address, amount: Amount) -> Result<(), LedgerError> {
        if amount.is_zero() {
            return Ok(());
        }
        self.host.move_balance(from, to, amount)?.map_err(|e| LedgerError::Corrupt(format!("module transfer: {e}")))
    }

    /// Creates `amount` new tokens in `to` (inflation).
    pub fn mint(&mut self, to: &Address, amount: Amount) -> Result<(), LedgerError> {
        if amount.is_zero() {
            return Ok(());
        }
        let mut a = self.host.account(to)?;
        a.balance = a.balance.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("mint overflow".into()))?;
        self.host.put_account(to, &a);
        let mut t = self.totals()?;
        t.supply = t.supply.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("supply overflow".into()))?;
        t.minted = t.minted.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("minted overflow".into()))?;
        self.put_totals(&t)
    }

    /// Destroys `amount` held by `from` (slashing).
    pub fn burn(&mut self, from: &Address, amount: Amount) -> Result<(), LedgerError> {
        if amount.is_zero() {
            return Ok(());
        }
        let mut a = self.host.account(from)?;
        a.balance = a.balance.checked_sub(amount).ok_or_else(|| LedgerError::Corrupt("burn exceeds pool".into()))?;
        self.host.put_account(from, &a);
        let mut t = self.totals()?;
        t.supply = t.supply.checked_sub(amount).ok_or_else(|| LedgerError::Corrupt("supply underflow".into()))?;
        t.burned = t.burned.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("burned overflow".into()))?;
        self.put_totals(&t)
    }
}
