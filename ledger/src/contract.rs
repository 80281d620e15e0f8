//! The ledger's side of WebAssembly contracts.
//!
//! The ledger owns contract *state* (code, metadata, namespaced storage, native
//! balances) and its semantics (addresses, journaled reverts); the `vm` crate
//! owns wasm execution. They meet at two traits defined here:
//!
//! * [`ContractVm`]: what the ledger asks of a VM (check uploaded code, run an
//!   entry point). The node plugs in `vm::Vm`; the ledger never links wasmtime.
//! * [`Host`]: what a running contract may do to the chain, implemented by
//!   [`LedgerHost`] over the block's uncommitted writes. wasmtime needs the
//!   data of a store to be `'static`, so the host *owns* those writes while a
//!   contract runs and hands them back afterwards.

use std::any::Any;
use std::collections::BTreeMap;
use std::ops::Bound;

use jmt::KeyHash;
use sha2::{Digest, Sha256};

use crate::block::Event;
use crate::error::LedgerError;
use crate::params::ChainParams;
use crate::state::{
    Account, CodeInfo, ContractInfo, ContractKvWrites, StateStore, account_key, code_info_key, code_key,
    contract_info_key, contract_storage_key, decode_record,
};
use crate::types::{Address, Amount, Hash, Height};

/// Which exported entry point a call runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryPoint {
    Instantiate,
    Execute,
    Query,
    /// Runs once when the contract is switched to this code (`Migrate`).
    Migrate,
}

impl EntryPoint {
    pub fn export_name(self) -> &'static str {
        match self {
            EntryPoint::Instantiate => "instantiate",
            EntryPoint::Execute => "execute",
            EntryPoint::Query => "query",
            EntryPoint::Migrate => "migrate",
        }
    }
}

/// One contract call as the VM sees it.
#[derive(Clone, Debug)]
pub struct ContractCall {
    pub entry: EntryPoint,
    pub contract: Address,
    pub code_hash: Hash,
    /// The account (user or contract) calling.
    pub caller: Address,
    /// Native tokens the caller attached; already credited to `contract`.
    pub funds: Amount,
    pub msg: Vec<u8>,
}

/// How a call ended, as far as the chain is concerned.
#[derive(Debug)]
pub enum CallError {
    /// The contract failed (abort, trap, out of gas, bad message…): included
    /// in the receipt; its state changes are reverted.
    Failed(String),
    /// This node could not finish the call within its local resource bounds
    /// (the wall-clock guard, the instance pool). Not a consensus outcome and
    /// not a node fault: the block is not voted for (nil prevote), a proposer
    /// drops the transaction, and the node keeps running.
    Unexecutable(String),
    /// The node itself failed (storage): a node fault that stops the node.
    Node(LedgerError),
}

/// The result of running an entry point.
#[derive(Debug)]
pub struct CallOutcome {
    /// Gas the call used (all of its limit when it ran out).
    pub gas_used: u64,
    pub result: Result<Vec<u8>, CallError>,
    /// Events of the call and its successful sub-calls, in order.
    pub events: Vec<Event>,
}

/// What a contract VM must provide. Implementations must be deterministic:
/// the same code, call, gas limit and host state give the same outcome,
/// gas and host effects on every machine.
pub trait ContractVm: Send + Sync {
    /// Checks code at upload: size, wasm features, imports, exports, limits,
    /// and that it compiles and instantiates within the VM's pooled
    /// resources, so stored code is guaranteed to instantiate.
    /// `Failed(reason)` explains the problem to the uploader (a failed
    /// receipt); `Unexecutable`/`Node` are as for [`ContractVm::run`].
    fn check_code(&self, code: &[u8], params: &ChainParams) -> Result<(), CallError>;

    /// Runs `call` with `gas_limit` gas against `host`, which is handed back.
    /// The VM reverts a failed call's effects on the host.
    fn run(&self, host: Box<dyn Host>, call: ContractCall, gas_limit: u64) -> (Box<dyn Host>, CallOutcome);
}

/// A VM for chains (and tests) without contracts: refuses all code.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoContracts;

impl ContractVm for NoContracts {
    fn check_code(&self, _: &[u8], _: &ChainParams) -> Result<(), CallError> {
        Err(CallError::Failed("this chain runs without a contract VM".into()))
    }

    fn run(&self, host: Box<dyn Host>, _: ContractCall, _: u64) -> (Box<dyn Host>, CallOutcome) {
        let result = Err(CallError::Failed("this chain runs without a contract VM".into()));
        (host, CallOutcome { gas_used: 0, result, events: Vec::new() })
    }
}

/// Block and transaction context visible to contracts.
#[derive(Clone, Debug)]
pub struct HostEnv {
    pub chain_id: String,
    pub height: Height,
    pub time_ms: u64,
    /// Signer of the transaction (zero address in an RPC query).
    pub origin: Address,
    pub params: ChainParams,
    /// True for queries: no writes of any kind are allowed.
    pub read_only: bool,
}

/// One storage entry: (key, value).
pub type KvPair = (Vec<u8>, Vec<u8>);

/// The answer of [`Host::storage_next`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageNext {
    /// The entry found (`None`: none in range, or the skip budget ran out).
    pub entry: Option<KvPair>,
    /// Deleted keys stepped over.
    pub skipped: u64,
    /// The search stopped because `max_skips` deleted keys were stepped over.
    pub exhausted: bool,
}

/// A position in the host's journal, to revert to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint(usize);

impl Checkpoint {
    /// The start of the journal: the start of the current transaction.
    pub(crate) const START: Checkpoint = Checkpoint(0);
}

/// The chain as seen by running contracts. Storage is addressed per contract;
/// the VM enforces that a contract only touches its own.
pub trait Host: Send + Any {
    fn env(&self) -> &HostEnv;
    /// Code hash of the contract at `addr`, if there is one.
    fn contract_code_hash(&mut self, addr: &Address) -> Result<Option<Hash>, LedgerError>;
    /// Wasm bytes of stored code (the VM compiles on a cache miss).
    fn code(&mut self, code_hash: &Hash) -> Result<Option<Vec<u8>>, LedgerError>;
    fn storage_get(&mut self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError>;
    fn storage_set(&mut self, contract: &Address, key: &[u8], value: &[u8]) -> Result<(), LedgerError>;
    fn storage_remove(&mut self, contract: &Address, key: &[u8]) -> Result<(), LedgerError>;
    /// First entry in key order in `(start, end)`; sees uncommitted writes.
    /// Keys deleted earlier in the block are skipped, each one a seek of its
    /// own: at most `max_skips` are, and [`StorageNext::skipped`] reports how
    /// many so the caller can charge for them.
    fn storage_next(
        &mut self,
        contract: &Address,
        start: Bound<&[u8]>,
        end: Option<&[u8]>,
        max_skips: u64,
    ) -> Result<StorageNext, LedgerError>;
    fn balance(&mut self, addr: &Address) -> Result<Amount, LedgerError>;
    /// Moves native tokens; the inner error is the contract's problem
    /// (insufficient funds), the outer one the node's.
    fn transfer(&mut self, from: &Address, to: &Address, amount: Amount) -> Result<Result<(), String>, LedgerError>;
    /// Registers a new contract `creator` instantiates from `code_hash` with
    /// `label` and `admin` (the VM then runs its `instantiate`). The inner
    /// error is the contract's problem (no such code, address taken, bad label).
    fn create_contract(
        &mut self,
        code_hash: &Hash,
        creator: &Address,
        label: &str,
        admin: Option<Address>,
    ) -> Result<Result<Address, String>, LedgerError>;
    /// The admin of the contract at `addr`: `None` if there is no contract,
    /// `Some(None)` if it has no admin.
    fn contract_admin(&mut self, addr: &Address) -> Result<Option<Option<Address>>, LedgerError>;
    /// Sets (`Some`) or clears (`None`) the admin of `contract`, asked by
    /// `sender`, who must be its admin. The inner error is the sender's
    /// problem (no contract, not the admin).
    fn update_admin(
        &mut self,
        sender: &Address,
        contract: &Address,
        admin: Option<Address>,
    ) -> Result<Result<(), String>, LedgerError>;
    /// Switches `contract` to stored code `code_hash`, asked by `sender`,
    /// who must be its admin; returns the previous code hash. The VM then
    /// runs the new code's `migrate` and reverts this if it fails.
    fn migrate_contract(
        &mut self,
        sender: &Address,
        contract: &Address,
        code_hash: &Hash,
    ) -> Result<Result<Hash, String>, LedgerError>;
    /// Destroys `amount` of `from`'s tokens (the supply falls).
    fn burn(&mut self, from: &Address, amount: Amount) -> Result<Result<(), String>, LedgerError>;
    /// Bonded stake of `addr` (`None`: of everyone) at the end of block
    /// `height`, and how many state records the read took (for gas). The
    /// inner error: `height` is not a committed block within the history.
    fn bonded_stake_at(
        &mut self,
        addr: Option<&Address>,
        height: Height,
    ) -> Result<(Result<Amount, String>, u64), LedgerError>;
    /// A chain-parameter change requested by contract `caller` (only the
    /// governance contract may); see `crate::governance`.
    fn update_chain_params(&mut self, caller: &Address, patch: &[u8]) -> Result<Result<(), String>, LedgerError>;
    fn checkpoint(&mut self) -> Checkpoint;
    /// Undoes every change made since `cp`.
    fn revert_to(&mut self, cp: Checkpoint);
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// Derives a contract's address from its code, creator and label (see
/// `vm/ABI.md`): predictable before the transaction is sent.
pub fn contract_address(code_hash: &Hash, creator: &Address, label: &str) -> Address {
    let mut h = Sha256::new();
    h.update(b"agora/contract/v1");
    h.update(code_hash.0);
    h.update(creator.0);
    h.update(u32::try_from(label.len()).unwrap_or(u32::MAX).to_le_bytes());
    h.update(label.as_bytes());
    let d = h.finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[..20]);
    Address(a)
}

enum Undo {
    Value(KeyHash, Option<Option<Vec<u8>>>),
    Kv((Address, Vec<u8>), Option<Option<Vec<u8>>>),
}

/// The ledger's [`Host`]: committed state `S` plus the uncommitted writes of
/// the block so far (moved in by the executor and moved back out after the
/// call), with an undo journal for checkpoints.
pub struct LedgerHost<S> {
    pub(crate) base: S,
    pub(crate) writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
    pub(crate) kv: ContractKvWrites,
    undo: Vec<Undo>,
    pub(crate) env: HostEnv,
}

impl<S> std::fmt::Debug for LedgerHost<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerHost").field("writes", &self.writes.len()).field("env", &self.env).finish()
    }
}

impl<S: StateStore + Send + 'static> LedgerHost<S> {
    pub fn new(base: S, writes: BTreeMap<KeyHash, Option<Vec<u8>>>, kv: ContractKvWrites, env: HostEnv) -> Self {
        LedgerHost { base, writes, kv, undo: Vec::new(), env }
    }

    /// A read-only host over committed state, for queries.
    pub fn read_only(base: S, env: HostEnv) -> Self {
        Self::new(base, BTreeMap::new(), BTreeMap::new(), HostEnv { read_only: true, ..env })
    }

    /// Forgets the undo journal (checkpoints only live within a transaction).
    pub(crate) fn clear_journal(&mut self) {
        self.undo.clear();
    }

    /// Gives back the writes (the executor's overlay).
    pub fn into_writes(self) -> (BTreeMap<KeyHash, Option<Vec<u8>>>, ContractKvWrites) {
        (self.writes, self.kv)
    }

    pub(crate) fn get(&self, key: &KeyHash) -> Result<Option<Vec<u8>>, LedgerError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.base.get_latest(key)?),
        }
    }

    pub(crate) fn put(&mut self, key: KeyHash, value: Option<Vec<u8>>) {
        let prev = self.writes.insert(key, value);
        self.undo.push(Undo::Value(key, prev));
    }

    fn put_kv(&mut self, contract: &Address, key: &[u8], value: Option<Vec<u8>>) {
        let k = (*contract, key.to_vec());
        let prev = self.kv.insert(k.clone(), value);
        self.undo.push(Undo::Kv(k, prev));
    }

    pub(crate) fn account(&self, addr: &Address) -> Result<Account, LedgerError> {
        self.get(&account_key(addr))?.as_deref().map_or(Ok(Account::default()), Account::decode)
    }

    pub(crate) fn put_account(&mut self, addr: &Address, acct: &Account) {
        self.put(account_key(addr), Some(acct.encode()));
    }

    pub(crate) fn contract_info(&self, addr: &Address) -> Result<Option<ContractInfo>, LedgerError> {
        self.get(&contract_info_key(addr))?.map(|b| decode_record("contract info", &b)).transpose()
    }

    pub(crate) fn code_info(&self, code_hash: &Hash) -> Result<Option<CodeInfo>, LedgerError> {
        self.get(&code_info_key(code_hash))?.map(|b| decode_record("code info", &b)).transpose()
    }

    pub(crate) fn put_contract_info(&mut self, info: &ContractInfo) {
        self.put(contract_info_key(&info.address), Some(borsh::to_vec(info).expect("writing to a Vec cannot fail")));
    }

    pub(crate) fn put_code(&mut self, info: &CodeInfo, code: &[u8]) {
        self.put(code_info_key(&info.code_hash), Some(borsh::to_vec(info).expect("writing to a Vec cannot fail")));
        self.put(code_key(&info.code_hash), Some(code.to_vec()));
    }

    /// Moves tokens between any two accounts, module accounts included (the
    /// staking rules use it; `Host::transfer` refuses module recipients).
    pub(crate) fn move_balance(
        &mut self,
        from: &Address,
        to: &Address,
        amount: Amount,
    ) -> Result<Result<(), String>, LedgerError> {
        self.read_only_err()?;
        if amount.is_zero() || from == to {
            return Ok(Ok(()));
        }
        let mut src = self.account(from)?;
        let Some(left) = src.balance.checked_sub(amount) else {
            return Ok(Err(format!("insufficient funds: {from} has {}, needs {amount}", src.balance)));
        };
        let mut dst = self.account(to)?;
        let Some(new_bal) = dst.balance.checked_add(amount) else {
            return Ok(Err(format!("balance of {to} would overflow")));
        };
        src.balance = left;
        dst.balance = new_bal;
        self.put_account(from, &src);
        self.put_account(to, &dst);
        Ok(Ok(()))
    }

    pub(crate) fn read_only_err(&self) -> Result<(), LedgerError> {
        if self.env.read_only {
            // The VM refuses writes in queries before they reach the host;
            // reaching this is a VM bug, reported rather than obeyed.
            return Err(LedgerError::Storage("state write attempted in a read-only call".into()));
        }
        Ok(())
    }
}

impl<S: StateStore + Send + 'static> Host for LedgerHost<S> {
    fn env(&self) -> &HostEnv {
        &self.env
    }

    fn contract_code_hash(&mut self, addr: &Address) -> Result<Option<Hash>, LedgerError> {
        Ok(self.contract_info(addr)?.map(|i| i.code_hash))
    }

    fn code(&mut self, code_hash: &Hash) -> Result<Option<Vec<u8>>, LedgerError> {
        self.get(&code_key(code_hash))
    }

    fn storage_get(&mut self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        self.get(&contract_storage_key(contract, key))
    }

    fn storage_set(&mut self, contract: &Address, key: &[u8], value: &[u8]) -> Result<(), LedgerError> {
        self.read_only_err()?;
        self.put(contract_storage_key(contract, key), Some(value.to_vec()));
        self.put_kv(contract, key, Some(value.to_vec()));
        Ok(())
    }

    fn storage_remove(&mut self, contract: &Address, key: &[u8]) -> Result<(), LedgerError> {
        self.read_only_err()?;
        self.put(contract_storage_key(contract, key), None);
        self.put_kv(contract, key, None);
        Ok(())
    }

    fn storage_next(
        &mut self,
        contract: &Address,
        start: Bound<&[u8]>,
        end: Option<&[u8]>,
        max_skips: u64,
    ) -> Result<StorageNext, LedgerError> {
        // Merge the committed index with this block's writes: the smaller key
        // wins; on a tie the uncommitted write shadows the committed value; an
        // uncommitted delete skips the key and the search goes on after it.
        // The committed candidate is only looked up again when the skipped key
        // was that candidate, so stepping over deletes of new keys costs no seek.
        let mut cur: Bound<Vec<u8>> = match start {
            Bound::Included(k) => Bound::Included(k.to_vec()),
            Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut skipped = 0u64;
        let mut committed: Option<Option<KvPair>> = None;
        let found = |entry, skipped| Ok(StorageNext { entry, skipped, exhausted: false });
        loop {
            let as_ref = match &cur {
                Bound::Included(k) => Bound::Included(k.as_slice()),
                Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                Bound::Unbounded => Bound::Unbounded,
            };
            let c = match committed.take() {
                Some(c) => c,
                None => self.base.contract_next(contract, as_ref, end)?,
            };
            let lo = match &cur {
                Bound::Included(k) => Bound::Included((*contract, k.clone())),
                Bound::Excluded(k) => Bound::Excluded((*contract, k.clone())),
                Bound::Unbounded => Bound::Included((*contract, Vec::new())),
            };
            let pending = self
                .kv
                .range((lo, Bound::Unbounded))
                .next()
                .filter(|((a, k), _)| a == contract && end.is_none_or(|e| k.as_slice() < e))
                .map(|((_, k), v)| (k.clone(), v.clone()));
            match (c, pending) {
                (None, None) => return found(None, skipped),
                (Some(c), None) => return found(Some(c), skipped),
                (c, Some((pk, pv))) if c.as_ref().is_none_or(|(ck, _)| pk <= *ck) => match pv {
                    Some(v) => return found(Some((pk, v)), skipped),
                    None => {
                        if skipped >= max_skips {
                            return Ok(StorageNext { entry: None, skipped, exhausted: true });
                        }
                        skipped += 1;
                        // Still the next committed entry unless it was the deleted key.
                        if c.as_ref().is_none_or(|(ck, _)| *ck != pk) {
                            committed = Some(c);
                        }
                        cur = Bound::Excluded(pk);
                    }
                },
                (Some(c), Some(_)) => return found(Some(c), skipped),
                (None, Some(_)) => unreachable!("covered by the guard above"),
            }
        }
    }

    fn balance(&mut self, addr: &Address) -> Result<Amount, LedgerError> {
        Ok(self.account(addr)?.balance)
    }

    fn transfer(&mut self, from: &Address, to: &Address, amount: Amount) -> Result<Result<(), String>, LedgerError> {
        if let Some(name) = crate::staking::module_name(to) {
            return Ok(Err(format!(
                "{to} is the `{name}` module account: only the staking rules move tokens into it (delegate instead)"
            )));
        }
        self.move_balance(from, to, amount)
    }

    fn create_contract(
        &mut self,
        code_hash: &Hash,
        creator: &Address,
        label: &str,
        admin: Option<Address>,
    ) -> Result<Result<Address, String>, LedgerError> {
        self.read_only_err()?;
        self.register_contract(code_hash, creator, label, admin)
    }

    fn contract_admin(&mut self, addr: &Address) -> Result<Option<Option<Address>>, LedgerError> {
        Ok(self.contract_info(addr)?.map(|i| i.admin))
    }

    fn update_admin(
        &mut self,
        sender: &Address,
        contract: &Address,
        admin: Option<Address>,
    ) -> Result<Result<(), String>, LedgerError> {
        self.read_only_err()?;
        self.set_admin(sender, contract, admin)
    }

    fn migrate_contract(
        &mut self,
        sender: &Address,
        contract: &Address,
        code_hash: &Hash,
    ) -> Result<Result<Hash, String>, LedgerError> {
        self.read_only_err()?;
        self.switch_code(sender, contract, code_hash)
    }

    fn burn(&mut self, from: &Address, amount: Amount) -> Result<Result<(), String>, LedgerError> {
        self.read_only_err()?;
        self.burn_tokens(from, amount)
    }

    fn bonded_stake_at(
        &mut self,
        addr: Option<&Address>,
        height: Height,
    ) -> Result<(Result<Amount, String>, u64), LedgerError> {
        self.stake_at(addr, height)
    }

    fn update_chain_params(&mut self, caller: &Address, patch: &[u8]) -> Result<Result<(), String>, LedgerError> {
        self.read_only_err()?;
        self.change_params(caller, patch)
    }

    fn checkpoint(&mut self) -> Checkpoint {
        Checkpoint(self.undo.len())
    }

    fn revert_to(&mut self, cp: Checkpoint) {
        while self.undo.len() > cp.0 {
            match self.undo.pop() {
                Some(Undo::Value(k, prev)) => match prev {
                    Some(v) => {
                        self.writes.insert(k, v);
                    }
                    None => {
                        self.writes.remove(&k);
                    }
                },
                Some(Undo::Kv(k, prev)) => match prev {
                    Some(v) => {
                        self.kv.insert(k, v);
                    }
                    None => {
                        self.kv.remove(&k);
                    }
                },
                None => break,
            }
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// Why a read-only query returned no data.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("no contract at {0}")]
    NoContract(Address),
    #[error("query failed: {reason}")]
    Failed { reason: String, gas_used: u64 },
    /// The node's local bounds (wall clock, instance pool) stopped the query.
    #[error("query could not run on this node: {0}")]
    Unexecutable(String),
    #[error(transparent)]
    Node(#[from] LedgerError),
}

/// Runs a contract's `query` entry point against committed state, with at
/// most `gas_limit` gas. Returns the result data and the gas used.
pub fn query_contract<S: StateStore + Send + 'static>(
    store: S,
    vm: &dyn ContractVm,
    env: HostEnv,
    contract: Address,
    msg: Vec<u8>,
    gas_limit: u64,
) -> Result<(Vec<u8>, u64), QueryError> {
    let host = LedgerHost::read_only(store, env);
    let info = host.contract_info(&contract)?.ok_or(QueryError::NoContract(contract))?;
    let caller = host.env.origin;
    let call = ContractCall {
        entry: EntryPoint::Query,
        contract,
        code_hash: info.code_hash,
        caller,
        funds: Amount::ZERO,
        msg,
    };
    let (_, out) = vm.run(Box::new(host), call, gas_limit);
    match out.result {
        Ok(data) => Ok((data, out.gas_used)),
        Err(CallError::Failed(reason)) => Err(QueryError::Failed { reason, gas_used: out.gas_used }),
        Err(CallError::Unexecutable(reason)) => Err(QueryError::Unexecutable(reason)),
        Err(CallError::Node(e)) => Err(QueryError::Node(e)),
    }
}

/// Metadata of the contract at `addr` in committed state.
pub fn read_contract_info<S: StateStore>(store: &S, addr: &Address) -> Result<Option<ContractInfo>, LedgerError> {
    store.get_latest(&contract_info_key(addr))?.map(|b| decode_record("contract info", &b)).transpose()
}

/// Metadata of stored code in committed state.
pub fn read_code_info<S: StateStore>(store: &S, code_hash: &Hash) -> Result<Option<CodeInfo>, LedgerError> {
    store.get_latest(&code_info_key(code_hash))?.map(|b| decode_record("code info", &b)).transpose()
}

/// Stored wasm bytes in committed state.
pub fn read_code<S: StateStore>(store: &S, code_hash: &Hash) -> Result<Option<Vec<u8>>, LedgerError> {
    Ok(store.get_latest(&code_key(code_hash))?)
}

/// One committed value of a contract's storage.
pub fn read_contract_storage<S: StateStore>(
    store: &S,
    addr: &Address,
    key: &[u8],
) -> Result<Option<Vec<u8>>, LedgerError> {
    Ok(store.get_latest(&contract_storage_key(addr, key))?)
}

/// Up to `limit` committed entries of a contract's storage in key order,
/// starting after `start_after` (or at the first key).
pub fn list_contract_storage<S: StateStore>(
    store: &S,
    addr: &Address,
    start_after: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<KvPair>, LedgerError> {
    let mut out: Vec<KvPair> = Vec::new();
    let mut cur = start_after.map(<[u8]>::to_vec);
    while out.len() < limit {
        let start = cur.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let Some((k, v)) = store.contract_next(addr, start, None)? else { break };
        cur = Some(k.clone());
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{MemStore, compute_diff_with_kv};

    fn env() -> HostEnv {
        HostEnv {
            chain_id: "t".into(),
            height: Height(1),
            time_ms: 0,
            origin: Address([0; 20]),
            params: ChainParams::default(),
            read_only: false,
        }
    }

    #[test]
    fn storage_next_merges_committed_and_pending_in_key_order() {
        let c = Address([7; 20]);
        let other = Address([8; 20]);
        let mut h = LedgerHost::new(MemStore::new(), BTreeMap::new(), BTreeMap::new(), env());
        for k in [b"a".as_slice(), b"c", b"e"] {
            h.storage_set(&c, k, b"old").expect("set");
        }
        h.storage_set(&other, b"b", b"x").expect("set");
        let (writes, kv) = h.into_writes();
        let mut store = MemStore::new();
        let diff = compute_diff_with_kv(&store, 1, writes, kv).expect("diff");
        store.commit(&diff);

        let mut h = LedgerHost::new(store, BTreeMap::new(), BTreeMap::new(), env());
        h.storage_set(&c, b"b", b"new").expect("set");
        h.storage_remove(&c, b"c").expect("remove");
        h.storage_set(&c, b"e", b"new").expect("set");
        let mut seen = Vec::new();
        let mut start: Bound<Vec<u8>> = Bound::Unbounded;
        loop {
            let s = match &start {
                Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                _ => Bound::Unbounded,
            };
            let Some((k, v)) = h.storage_next(&c, s, None, u64::MAX).expect("next").entry else { break };
            seen.push((String::from_utf8(k.clone()).expect("utf8"), String::from_utf8(v).expect("utf8")));
            start = Bound::Excluded(k);
        }
        let want = [("a", "old"), ("b", "new"), ("e", "new")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(seen, want.to_vec());
        assert_eq!(
            h.storage_next(&c, Bound::Included(b"b"), Some(b"e"), u64::MAX).expect("next").entry.map(|x| x.0),
            Some(b"b".to_vec())
        );
        assert_eq!(h.storage_next(&c, Bound::Excluded(b"b"), Some(b"e"), u64::MAX).expect("next").entry, None);
    }

    #[test]
    fn revert_restores_previous_values() {
        let c = Address([7; 20]);
        let mut h = LedgerHost::new(MemStore::new(), BTreeMap::new(), BTreeMap::new(), env());
        h.storage_set(&c, b"k", b"1").expect("set");
        let cp = h.checkpoint();
        h.storage_set(&c, b"k", b"2").expect("set");
        h.storage_set(&c, b"j", b"3").expect("set");
        h.revert_to(cp);
        assert_eq!(h.storage_get(&c, b"k").expect("get"), Some(b"1".to_vec()));
        assert_eq!(h.storage_get(&c, b"j").expect("get"), None);
        assert_eq!(
            h.storage_next(&c, Bound::Unbounded, None, u64::MAX).expect("next").entry.map(|x| x.0),
            Some(b"k".to_vec())
        );
    }

    #[test]
    fn contract_addresses_depend_on_code_creator_and_label() {
        let code = Hash([1; 32]);
        let a = contract_address(&code, &Address([2; 20]), "x");
        assert_ne!(a, contract_address(&code, &Address([3; 20]), "x"));
        assert_ne!(a, contract_address(&code, &Address([2; 20]), "y"));
        assert_ne!(a, contract_address(&Hash([9; 32]), &Address([2; 20]), "x"));
        assert_eq!(a, contract_address(&code, &Address([2; 20]), "x"));
    }
}
