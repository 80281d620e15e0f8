//! Pure block execution: `same state + same block → same receipts and root`.
//!
//! No clock, no randomness, no floats, no hash-map iteration: the only inputs
//! are the committed state, the chain parameters, the block environment and
//! the verified transactions.

use std::collections::BTreeMap;

use crate::block::{Event, Receipt, TxStatus};
use crate::contract::{CallError, Checkpoint, ContractCall, ContractVm, Host, HostEnv, LedgerHost, NoContracts};
use crate::error::{ApplyError, InvalidTx, LedgerError};
use crate::params::ChainParams;
use crate::staking::tx::Ctx;
use crate::staking::{BlockStaking, FEE_COLLECTOR, Misbehaviour, SetMember, VoteInfo};
use crate::state::{Account, CodeInfo, StateDiff, StateStore, compute_diff_with_kv};
use crate::tx::{Payload, TxBody, VerifiedTx};
use crate::types::{Address, Amount, Hash, Height};

mod contracts;

/// What a block's execution may depend on besides state and transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    pub chain_id: String,
    pub height: Height,
    pub time_ms: u64,
    /// The previous height's validators and whether each one's precommit is
    /// in this block's `last_commit` (rewards and liveness follow it).
    pub last_commit: Vec<VoteInfo>,
    /// Double-sign evidence carried by the block, verified by the node.
    pub misbehaviour: Vec<Misbehaviour>,
    /// The block's proposer (its consensus key) and the client software it
    /// names in the header: the decentralization index counts both.
    /// `None` outside real blocks (tests, tools).
    pub proposer: Option<(crate::crypto::PublicKey, String)>,
}

impl BlockEnv {
    /// A block environment without votes or evidence.
    pub fn new(chain_id: impl Into<String>, height: Height, time_ms: u64) -> BlockEnv {
        BlockEnv {
            chain_id: chain_id.into(),
            height,
            time_ms,
            last_commit: Vec::new(),
            misbehaviour: Vec::new(),
            proposer: None,
        }
    }
}

/// Checks that need no state: chain id, gas price and limits, payload sanity.
/// Returns the intrinsic gas (paid before the payload runs).
pub fn check_stateless(
    body: &TxBody,
    encoded_len: usize,
    chain_id: &str,
    params: &ChainParams,
) -> Result<u64, InvalidTx> {
    if encoded_len > params.max_tx_bytes as usize {
        return Err(InvalidTx::TooLarge { size: encoded_len, limit: params.max_tx_bytes as usize });
    }
    if body.chain_id != chain_id {
        return Err(InvalidTx::WrongChainId { expected: chain_id.to_owned(), got: body.chain_id.clone() });
    }
    if body.gas_price < params.min_gas_price {
        return Err(InvalidTx::GasPriceTooLow { min: params.min_gas_price, got: body.gas_price });
    }
    if body.gas_limit > params.max_tx_gas {
        return Err(InvalidTx::GasLimitTooHigh { max: params.max_tx_gas, got: body.gas_limit });
    }
    let intrinsic = intrinsic_gas(encoded_len, params);
    if body.gas_limit < intrinsic {
        return Err(InvalidTx::GasLimitTooLow { needed: intrinsic, got: body.gas_limit });
    }
    if body.max_fee().is_none() {
        return Err(InvalidTx::FeeOverflow);
    }
    let cp = &params.contracts;
    let msg_limit = |msg: &[u8]| {
        if msg.len() > cp.max_msg_bytes as usize {
            return Err(InvalidTx::Contract(format!(
                "message is {} bytes, the limit is {}",
                msg.len(),
                cp.max_msg_bytes
            )));
        }
        Ok(())
    };
    match &body.payload {
        Payload::Transfer { amount, .. } if amount.is_zero() => Err(InvalidTx::ZeroAmount),
        Payload::Transfer { .. } => Ok(intrinsic),
        Payload::StoreCode { code } if code.is_empty() => Err(InvalidTx::Contract("code is empty".into())),
        Payload::StoreCode { code } if code.len() > cp.max_code_bytes as usize => Err(InvalidTx::Contract(format!(
            "code is {} bytes, the limit is {} (max_code_bytes)",
            code.len(),
            cp.max_code_bytes
        ))),
        Payload::StoreCode { .. } => Ok(intrinsic),
        Payload::Instantiate { label, msg, .. } | Payload::InstantiateWithAdmin { label, msg, .. } => {
            if label.is_empty() || label.len() > cp.max_label_bytes as usize {
                return Err(InvalidTx::Contract(format!("label must be 1..={} bytes", cp.max_label_bytes)));
            }
            msg_limit(msg)?;
            Ok(intrinsic)
        }
        Payload::Execute { msg, .. } | Payload::Migrate { msg, .. } => {
            msg_limit(msg)?;
            Ok(intrinsic)
        }
        Payload::Delegate { amount, .. }
        | Payload::Undelegate { amount, .. }
        | Payload::Redelegate { amount, .. }
        | Payload::CreateValidator { self_stake: amount, .. }
            if amount.is_zero() =>
        {
            Err(InvalidTx::ZeroAmount)
        }
        Payload::CreateValidator { .. }
        | Payload::EditValidator { .. }
        | Payload::Delegate { .. }
        | Payload::Undelegate { .. }
        | Payload::Redelegate { .. }
        | Payload::WithdrawRewards { .. }
        | Payload::Unjail {}
        | Payload::UpdateAdmin { .. } => Ok(intrinsic),
    }
}

/// Gas every transaction pays before its payload runs.
pub fn intrinsic_gas(encoded_len: usize, params: &ChainParams) -> u64 {
    let len = u64::try_from(encoded_len).unwrap_or(u64::MAX);
    params.base_tx_gas.saturating_add(params.gas_per_tx_byte.saturating_mul(len))
}

/// Can this sender pay the transaction's maximum fee?
pub fn check_fee_payable(body: &TxBody, account: &Account) -> Result<Amount, InvalidTx> {
    let fee = body.max_fee().ok_or(InvalidTx::FeeOverflow)?;
    if account.balance < fee {
        return Err(InvalidTx::CannotPayFee { balance: account.balance, fee });
    }
    Ok(fee)
}

/// Executes a block's transactions one at a time, then seals the state.
///
/// A proposer feeds it candidates and keeps those that are accepted; a
/// validator feeds it a received block and rejects the block on the first
/// invalid transaction. Either way the state is the same function of the
/// accepted list.
///
/// The block's uncommitted writes live in a [`LedgerHost`], which is lent to
/// the contract VM (by value: wasmtime stores need `'static` data) while a
/// contract runs.
pub struct BlockExecutor<'a, S> {
    store: &'a S,
    host: Option<Box<LedgerHost<S>>>,
    vm: &'a dyn ContractVm,
    params: &'a ChainParams,
    env: BlockEnv,
    receipts: Vec<Receipt>,
    gas_used: u64,
    bytes: usize,
    simulate: bool,
    /// Staking's begin-block hook has run.
    begun: bool,
    /// Something changed stake or eligibility: recompute the set at the end.
    staking_dirty: bool,
    /// Block-level events (rewards, slashes, jails, set changes).
    block_events: Vec<Event>,
}

impl<S> std::fmt::Debug for BlockExecutor<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockExecutor")
            .field("env", &self.env)
            .field("txs", &self.receipts.len())
            .field("gas_used", &self.gas_used)
            .finish()
    }
}

/// Result of executing a block.
#[derive(Debug)]
pub struct BlockOutcome {
    pub receipts: Vec<Receipt>,
    pub gas_used: u64,
    pub diff: StateDiff,
    /// Events of the block itself, outside any transaction: rewards,
    /// slashes, jailings, matured unbondings, validator-set changes.
    pub events: Vec<Event>,
    /// The new validator set if this block changed it; it takes effect at
    /// `height + 2`.
    pub validator_updates: Option<Vec<SetMember>>,
}

impl BlockOutcome {
    pub fn state_root(&self) -> Hash {
        self.diff.root
    }
}

static NO_CONTRACTS: NoContracts = NoContracts;

impl<'a, S: StateStore + Clone + Send + 'static> BlockExecutor<'a, S> {
    /// An executor without a contract VM (contract payloads fail with a node
    /// error): for tests and tools that only move native tokens.
    pub fn new(store: &'a S, params: &'a ChainParams, env: BlockEnv) -> Self {
        Self::with_vm(store, params, env, &NO_CONTRACTS)
    }

    pub fn with_vm(store: &'a S, params: &'a ChainParams, env: BlockEnv, vm: &'a dyn ContractVm) -> Self {
        let host_env = HostEnv {
            chain_id: env.chain_id.clone(),
            height: env.height,
            time_ms: env.time_ms,
            origin: Address([0; 20]),
            params: params.clone(),
            read_only: false,
        };
        BlockExecutor {
            store,
            host: Some(Box::new(LedgerHost::new(store.clone(), BTreeMap::new(), BTreeMap::new(), host_env))),
            vm,
            params,
            env,
            receipts: Vec::new(),
            gas_used: 0,
            bytes: 0,
            simulate: false,
            begun: false,
            staking_dirty: false,
            block_events: Vec::new(),
        }
    }

    /// Runs staking's begin-block hook once, before the first transaction
    /// (rewards for the previous block, liveness, evidence).
    fn begin(&mut self) -> Result<(), LedgerError> {
        if self.begun || self.simulate {
            return Ok(());
        }
        self.begun = true;
        let (params, height, time_ms) = (self.params, self.env.height, self.env.time_ms);
        let votes = std::mem::take(&mut self.env.last_commit);
        let evidence = std::mem::take(&mut self.env.misbehaviour);
        let mut dirty = false;
        let host = self.host.as_mut().expect("the host is only lent out during a contract call");
        let events = BlockStaking::begin(host, &params.staking, height, time_ms, &votes, &evidence, &mut dirty)?;
        host.clear_journal();
        // The decentralization index counts the same precommits at the block's end.
        self.env.last_commit = votes;
        self.staking_dirty |= dirty;
        self.block_events.extend(events);
        Ok(())
    }

    fn host(&mut self) -> &mut LedgerHost<S> {
        self.host.as_mut().expect("the host is only lent out during a contract call")
    }

    fn host_ref(&self) -> &LedgerHost<S> {
        self.host.as_ref().expect("the host is only lent out during a contract call")
    }

    /// A dry-run executor: the signature and fee-affordability checks are the
    /// caller's business and no fee is charged, so a wallet can learn the gas a
    /// transaction will use before it signs or funds it.
    pub fn simulation(store: &'a S, params: &'a ChainParams, env: BlockEnv, vm: &'a dyn ContractVm) -> Self {
        let mut e = Self::with_vm(store, params, env, vm);
        e.simulate = true;
        e
    }

    /// Reads an account as the block has left it so far.
    pub fn account(&self, addr: &Address) -> Result<Account, LedgerError> {
        self.host_ref().account(addr)
    }

    /// Executes one verified transaction. `Err(Invalid)` leaves the state untouched;
    /// `Ok` returns the receipt (which may be a failure that still paid its fee).
    pub fn execute(&mut self, tx: &VerifiedTx) -> Result<&Receipt, ExecError> {
        let receipt = self.execute_body(tx.body(), tx.hash(), tx.sender(), tx.encoded_len())?;
        self.receipts.push(receipt);
        Ok(self.receipts.last().expect("just pushed"))
    }

    /// Dry-runs an unverified body (see [`BlockExecutor::simulation`]).
    pub fn simulate_body(&mut self, body: &TxBody, encoded_len: usize) -> Result<Receipt, ExecError> {
        assert!(self.simulate, "simulate_body needs a simulation executor");
        self.execute_body(body, Hash::ZERO, body.sender_address(), encoded_len)
    }

    fn execute_body(
        &mut self,
        body: &TxBody,
        tx_hash: Hash,
        sender: Address,
        len: usize,
    ) -> Result<Receipt, ExecError> {
        self.begin()?;
        let intrinsic = check_stateless(body, len, &self.env.chain_id, self.params)?;
        let mut acct = self.host_ref().account(&sender)?;
        if body.nonce < acct.nonce {
            return Err(InvalidTx::NonceTooLow { expected: acct.nonce, got: body.nonce }.into());
        }
        if body.nonce > acct.nonce {
            return Err(InvalidTx::NonceGap { expected: acct.nonce, got: body.nonce }.into());
        }
        if !self.simulate {
            check_fee_payable(body, &acct)?;
        }
        let block_gas = self.gas_used.checked_add(body.gas_limit);
        if block_gas.is_none_or(|g| g > self.params.max_block_gas) {
            return Err(InvalidTx::BlockGasExhausted.into());
        }
        if self.bytes.saturating_add(len) > self.params.max_block_bytes as usize {
            return Err(InvalidTx::BlockGasExhausted.into());
        }

        // From here on the transaction is valid: it is included, pays for the gas
        // it used and bumps the sender's nonce, whatever its payload does.
        let cp = &self.params.contracts;
        let payload_gas = match &body.payload {
            Payload::Transfer { .. } => self.params.transfer_gas,
            Payload::StoreCode { code } => cp.gas_code_byte.saturating_mul(code.len() as u64),
            Payload::Instantiate { .. } | Payload::InstantiateWithAdmin { .. } => {
                cp.gas_instantiate.saturating_add(cp.gas_contract_entry)
            }
            Payload::Execute { .. } => cp.gas_contract_entry,
            // Rewriting the contract's record, then a fresh instance of the new code.
            Payload::Migrate { .. } => cp.gas_contract_entry.saturating_add(cp.gas_storage_write),
            Payload::UpdateAdmin { .. } => cp.gas_storage_read.saturating_add(cp.gas_storage_write),
            _ => self.params.staking.staking_gas,
        };
        let needed = intrinsic.saturating_add(payload_gas);
        let price = if self.simulate { Amount::ZERO } else { body.gas_price };
        // The sender pays the most the transaction can cost up front and gets
        // the unused part back at the end, so a payload cannot spend the fee.
        // A transfer's gas is known before it runs: it reserves exactly that,
        // so "send everything but the fee" works.
        let reserved_gas = match body.payload {
            Payload::Transfer { .. } => needed.min(body.gas_limit),
            _ => body.gas_limit,
        };
        let max_fee = price.checked_mul(u128::from(reserved_gas)).ok_or(InvalidTx::FeeOverflow)?;
        acct.balance =
            acct.balance.checked_sub(max_fee).ok_or(InvalidTx::CannotPayFee { balance: acct.balance, fee: max_fee })?;
        acct.nonce = acct.nonce.checked_add(1).ok_or(InvalidTx::NonceTooLow { expected: u64::MAX, got: body.nonce })?;
        let host = self.host();
        host.clear_journal();
        host.put_account(&sender, &acct);

        let mut events = Vec::new();
        let mut data = Vec::new();
        // The sender's bech32 form, encoded once for the fee and transfer events.
        let payer = sender.to_string();
        let (status, gas_used) = if needed > body.gas_limit {
            let reason = format!("out of gas: needs {needed}, limit {}", body.gas_limit);
            (TxStatus::Failed { reason }, body.gas_limit)
        } else {
            let vm_gas = body.gas_limit - needed;
            let run = self.run_payload(body, sender, &payer, vm_gas, &mut events, &mut data);
            if run.is_err()
                && let Some(h) = self.host.as_mut()
            {
                // Not executed after all: undo the fee reservation and nonce too
                // (the journal holds exactly this transaction's changes).
                h.revert_to(Checkpoint::START);
            }
            match run? {
                (Ok(()), used) => (TxStatus::Success, needed.saturating_add(used)),
                (Err(reason), used) => {
                    events.clear();
                    data.clear();
                    (TxStatus::Failed { reason }, needed.saturating_add(used))
                }
            }
        };
        let gas_used = gas_used.min(body.gas_limit);
        let fee = price.checked_mul(u128::from(gas_used)).ok_or(InvalidTx::FeeOverflow)?;
        let refund = max_fee.checked_sub(fee).expect("gas_used <= reserved gas");
        let collector_addr = *FEE_COLLECTOR;
        let host = self.host();
        if !refund.is_zero() {
            let mut a = host.account(&sender)?;
            a.balance = a.balance.checked_add(refund).ok_or_else(|| LedgerError::Corrupt("refund overflow".into()))?;
            host.put_account(&sender, &a);
        }
        if !fee.is_zero() {
            let mut collector = host.account(&collector_addr)?;
            collector.balance = collector
                .balance
                .checked_add(fee)
                .ok_or_else(|| LedgerError::Corrupt("fee collector balance overflow: supply exceeds u128".into()))?;
            host.put_account(&collector_addr, &collector);
        }
        events.insert(0, Event::owned("fee", [("payer", payer), ("amount", fee.to_string())]));
        self.gas_used = self.gas_used.saturating_add(gas_used);
        self.bytes = self.bytes.saturating_add(len);
        Ok(Receipt { tx_hash, sender, status, gas_used, fee, events, data })
    }

    /// Runs a valid transaction's payload. `Ok((Err(reason), gas))` is a
    /// failure reported in the receipt (its state changes are reverted); the
    /// outer `Err` is either this node's local limit (`Unexecutable`) or a
    /// node fault. The gas is what the payload used beyond its fixed cost.
    fn run_payload(
        &mut self,
        body: &TxBody,
        sender: Address,
        payer: &str,
        vm_gas: u64,
        events: &mut Vec<Event>,
        data: &mut Vec<u8>,
    ) -> Result<(Result<(), String>, u64), ExecError> {
        let cp = self.host().checkpoint();
        let out = match &body.payload {
            Payload::Transfer { to, amount } => match self.host().transfer(&sender, to, *amount)? {
                Ok(()) => {
                    events.push(Event::owned(
                        "transfer",
                        [("from", payer.to_owned()), ("to", to.to_string()), ("amount", amount.to_string())],
                    ));
                    (Ok(()), 0)
                }
                Err(e) => (Err(e), 0),
            },
            Payload::StoreCode { code } => {
                let code_hash = Hash::digest(code);
                let exists = self.host_ref().code_info(&code_hash)?.is_some();
                let res = if exists {
                    Ok(())
                } else {
                    match self.vm.check_code(code, self.params) {
                        Ok(()) => {
                            let size = u32::try_from(code.len()).unwrap_or(u32::MAX);
                            let info = CodeInfo { code_hash, creator: sender, size, height: self.env.height };
                            self.host().put_code(&info, code);
                            Ok(())
                        }
                        Err(CallError::Failed(e)) => Err(format!("invalid contract code: {e}")),
                        Err(CallError::Unexecutable(e)) => return Err(ExecError::Unexecutable(e)),
                        Err(CallError::Node(e)) => return Err(ExecError::Fault(e)),
                    }
                };
                if res.is_ok() {
                    events.push(Event::new(
                        "store_code",
                        &[("code_hash", code_hash.to_string()), ("size", code.len().to_string())],
                    ));
                    *data = code_hash.0.to_vec();
                }
                (res, 0)
            }
            Payload::Instantiate { .. }
            | Payload::InstantiateWithAdmin { .. }
            | Payload::Execute { .. }
            | Payload::Migrate { .. }
            | Payload::UpdateAdmin { .. } => {
                self.run_contract_payload(&body.payload, sender, vm_gas, events, data)?.expect("a contract payload")
            }
            staking => {
                let (params, height, time_ms) = (self.params, self.env.height, self.env.time_ms);
                let host = self.host.as_mut().expect("the host is only lent out during a contract call");
                let mut ctx = Ctx {
                    r: crate::staking::store::Records { host },
                    p: &params.staking,
                    height,
                    time_ms,
                    settled: Vec::new(),
                };
                let res = match staking {
                    Payload::CreateValidator {
                        consensus_key,
                        self_stake,
                        commission,
                        min_self_delegation,
                        metadata,
                    } => ctx.create_validator(
                        sender,
                        *consensus_key,
                        *self_stake,
                        *commission,
                        *min_self_delegation,
                        metadata,
                    )?,
                    Payload::EditValidator { commission_rate, min_self_delegation, metadata } => {
                        ctx.edit_validator(sender, *commission_rate, *min_self_delegation, metadata)?
                    }
                    Payload::Delegate { validator, amount } => ctx.delegate(sender, *validator, *amount)?,
                    Payload::Undelegate { validator, amount } => ctx.undelegate(sender, *validator, *amount)?,
                    Payload::Redelegate { src_validator, dst_validator, amount } => {
                        ctx.redelegate(sender, *src_validator, *dst_validator, *amount)?
                    }
                    Payload::WithdrawRewards { validator } => ctx.withdraw_rewards(sender, *validator)?,
                    Payload::Unjail {} => ctx.unjail(sender)?,
                    Payload::Transfer { .. }
                    | Payload::StoreCode { .. }
                    | Payload::Instantiate { .. }
                    | Payload::InstantiateWithAdmin { .. }
                    | Payload::Execute { .. }
                    | Payload::Migrate { .. }
                    | Payload::UpdateAdmin { .. } => unreachable!("handled above"),
                };
                match res {
                    Ok((_, extra)) if extra > vm_gas => {
                        (Err(format!("out of gas: needs {extra} more, {vm_gas} left")), vm_gas)
                    }
                    Ok((evs, extra)) => {
                        events.extend(evs);
                        events.append(&mut ctx.settled);
                        self.staking_dirty = true;
                        (Ok(()), extra)
                    }
                    Err(e) => (Err(e), 0),
                }
            }
        };
        if out.0.is_err() {
            self.host().revert_to(cp);
        }
        Ok(out)
    }

    /// Moves the attached funds and runs a contract entry point.
    #[allow(clippy::type_complexity)]
    fn call_contract(
        &mut self,
        sender: Address,
        call: ContractCall,
        gas: u64,
    ) -> Result<(Result<Vec<u8>, String>, u64, Vec<Event>), ExecError> {
        if let Err(e) = self.host().transfer(&sender, &call.contract, call.funds)? {
            return Ok((Err(format!("cannot attach funds: {e}")), 0, Vec::new()));
        }
        let mut host = self.host.take().expect("the host is only lent out during a contract call");
        host.env.origin = sender;
        let (back, outcome) = self.vm.run(host, call, gas);
        let back = back
            .into_any()
            .downcast::<LedgerHost<S>>()
            .map_err(|_| LedgerError::Vm("the contract VM returned a different host than it was given".into()))?;
        self.host = Some(back);
        match outcome.result {
            Ok(out) => Ok((Ok(out), outcome.gas_used, outcome.events)),
            Err(CallError::Failed(e)) => Ok((Err(e), outcome.gas_used, Vec::new())),
            Err(CallError::Unexecutable(e)) => Err(ExecError::Unexecutable(e)),
            Err(CallError::Node(e)) => Err(ExecError::Fault(e)),
        }
    }

    /// Seals the block: computes the new state root at version `height`.
    pub fn finish(mut self) -> Result<BlockOutcome, LedgerError> {
        self.begin()?;
        let mut events = std::mem::take(&mut self.block_events);
        let mut validator_updates = None;
        let host = self.host.as_mut().expect("the host is only lent out during a contract call");
        if !self.simulate {
            // The set is recomputed at every epoch's end too, so a change of
            // the set rule (a governance parameter) takes effect.
            let epoch_ends = crate::index::closes_epoch(host, self.params)?;
            validator_updates = BlockStaking::end(
                host,
                &self.params.staking,
                self.env.height,
                self.env.time_ms,
                self.staking_dirty || epoch_ends,
                &mut events,
            )?;
            let (height, time_ms) = (self.env.height, self.env.time_ms);
            let closed = crate::index::end_block(
                host,
                self.params,
                height,
                time_ms,
                self.env.proposer.as_ref(),
                &self.env.last_commit,
            )?;
            if let Some(epoch) = closed {
                events.push(Event::new(
                    "decentralization_epoch",
                    &[("epoch", epoch.to_string()), ("end_height", height.0.to_string())],
                ));
            }
        }
        let host = self.host.take().expect("the host is only lent out during a contract call");
        let (writes, kv) = host.into_writes();
        let diff = compute_diff_with_kv(self.store, self.env.height.0, writes, kv)?;
        Ok(BlockOutcome { receipts: self.receipts, gas_used: self.gas_used, diff, events, validator_updates })
    }
}

/// Why a transaction was not executed. In every case the executor's state
/// is as it was before the transaction.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The transaction can never be part of a block in this state.
    #[error(transparent)]
    Invalid(#[from] InvalidTx),
    /// This node could not finish it within its local resource bounds (see
    /// [`ApplyError::Unexecutable`]).
    #[error("cannot be executed on this node: {0}")]
    Unexecutable(String),
    /// A node fault.
    #[error(transparent)]
    Fault(#[from] LedgerError),
}

/// Executes a received block's transactions; any invalid (or, on this node,
/// unexecutable) transaction makes the whole block invalid.
pub fn apply_block<S: StateStore + Clone + Send + 'static>(
    store: &S,
    params: &ChainParams,
    env: BlockEnv,
    vm: &dyn ContractVm,
    txs: &[VerifiedTx],
) -> Result<BlockOutcome, ApplyError> {
    let mut exec = BlockExecutor::with_vm(store, params, env, vm);
    for (index, tx) in txs.iter().enumerate() {
        match exec.execute(tx) {
            Ok(_) => {}
            Err(ExecError::Invalid(reason)) => return Err(ApplyError::InvalidTx { index, reason }),
            Err(ExecError::Unexecutable(reason)) => return Err(ApplyError::Unexecutable { index, reason }),
            Err(ExecError::Fault(e)) => return Err(ApplyError::Fault(e)),
        }
    }
    Ok(exec.finish()?)
}
