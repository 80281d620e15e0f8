//! Pure block execution: `same state + same block → same receipts and root`.
//!
//! No clock, no randomness, no floats, no hash-map iteration: the only inputs
//! are the committed state, the chain parameters, the block environment and
//! the verified transactions.

use std::collections::BTreeMap;

use jmt::KeyHash;

use crate::block::{Event, Receipt, TxStatus};
use crate::error::{InvalidTx, LedgerError};
use crate::params::ChainParams;
use crate::state::{Account, StateDiff, StateStore, account_key, compute_diff};
use crate::tx::{Payload, TxBody, VerifiedTx};
use crate::types::{Address, Amount, Hash, Height};

/// What a block's execution may depend on besides state and transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    pub chain_id: String,
    pub height: Height,
    pub time_ms: u64,
    /// Account that collects the block's fees (the proposer's address).
    pub fee_collector: Address,
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
    match &body.payload {
        Payload::Transfer { amount, .. } if amount.is_zero() => Err(InvalidTx::ZeroAmount),
        Payload::Transfer { .. } => Ok(intrinsic),
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

/// Uncommitted writes layered over committed state.
struct Overlay<'a, S> {
    store: &'a S,
    writes: BTreeMap<KeyHash, Option<Vec<u8>>>,
}

impl<S: StateStore> Overlay<'_, S> {
    fn account(&self, addr: &Address) -> Result<Account, LedgerError> {
        let key = account_key(addr);
        let raw = match self.writes.get(&key) {
            Some(v) => v.clone(),
            None => self.store.get_latest(&key)?,
        };
        raw.as_deref().map_or(Ok(Account::default()), Account::decode)
    }

    fn put_account(&mut self, addr: &Address, acct: &Account) {
        self.writes.insert(account_key(addr), Some(acct.encode()));
    }
}

/// Executes a block's transactions one at a time, then seals the state.
///
/// A proposer feeds it candidates and keeps those that are accepted; a
/// validator feeds it a received block and rejects the block on the first
/// invalid transaction. Either way the state is the same function of the
/// accepted list.
pub struct BlockExecutor<'a, S> {
    overlay: Overlay<'a, S>,
    params: &'a ChainParams,
    env: BlockEnv,
    receipts: Vec<Receipt>,
    gas_used: u64,
    bytes: usize,
    simulate: bool,
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
}

impl BlockOutcome {
    pub fn state_root(&self) -> Hash {
        self.diff.root
    }
}

impl<'a, S: StateStore> BlockExecutor<'a, S> {
    pub fn new(store: &'a S, params: &'a ChainParams, env: BlockEnv) -> Self {
        BlockExecutor {
            overlay: Overlay { store, writes: BTreeMap::new() },
            params,
            env,
            receipts: Vec::new(),
            gas_used: 0,
            bytes: 0,
            simulate: false,
        }
    }

    /// A dry-run executor: the signature and fee-affordability checks are the
    /// caller's business and no fee is charged, so a wallet can learn the gas a
    /// transaction will use before it signs or funds it.
    pub fn simulation(store: &'a S, params: &'a ChainParams, env: BlockEnv) -> Self {
        let mut e = Self::new(store, params, env);
        e.simulate = true;
        e
    }

    /// Reads an account as the block has left it so far.
    pub fn account(&self, addr: &Address) -> Result<Account, LedgerError> {
        self.overlay.account(addr)
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
        let intrinsic = check_stateless(body, len, &self.env.chain_id, self.params)?;
        let mut acct = self.overlay.account(&sender)?;
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
        if self.bytes + len > self.params.max_block_bytes as usize {
            return Err(InvalidTx::BlockGasExhausted.into());
        }

        // From here on the transaction is valid: it is included, pays for the gas
        // it used and bumps the sender's nonce, whatever its payload does.
        let payload_gas = match body.payload {
            Payload::Transfer { .. } => self.params.transfer_gas,
        };
        let needed = intrinsic.saturating_add(payload_gas);
        let (gas_used, out_of_gas) = if needed > body.gas_limit { (body.gas_limit, true) } else { (needed, false) };
        let fee = if self.simulate {
            Amount::ZERO
        } else {
            body.gas_price.checked_mul(u128::from(gas_used)).ok_or(InvalidTx::FeeOverflow)?
        };
        acct.balance = acct.balance.checked_sub(fee).ok_or(InvalidTx::CannotPayFee { balance: acct.balance, fee })?;
        acct.nonce += 1;
        self.overlay.put_account(&sender, &acct);
        if !fee.is_zero() {
            let mut collector = self.overlay.account(&self.env.fee_collector)?;
            collector.balance = collector
                .balance
                .checked_add(fee)
                .ok_or_else(|| LedgerError::Corrupt("fee collector balance overflow: supply exceeds u128".into()))?;
            self.overlay.put_account(&self.env.fee_collector, &collector);
        }
        let mut events = vec![Event::new("fee", &[("payer", sender.to_string()), ("amount", fee.to_string())])];

        let status = if out_of_gas {
            TxStatus::Failed { reason: format!("out of gas: needs {needed}, limit {}", body.gas_limit) }
        } else {
            match &body.payload {
                Payload::Transfer { to, amount } => match self.transfer(&sender, to, *amount)? {
                    Ok(()) => {
                        events.push(Event::new(
                            "transfer",
                            &[("from", sender.to_string()), ("to", to.to_string()), ("amount", amount.to_string())],
                        ));
                        TxStatus::Success
                    }
                    Err(reason) => TxStatus::Failed { reason },
                },
            }
        };
        self.gas_used += gas_used;
        self.bytes += len;
        Ok(Receipt { tx_hash, sender, status, gas_used, fee, events })
    }

    /// Moves native tokens. The inner `Err` is an execution failure (reported in
    /// the receipt); the outer one is a storage problem.
    fn transfer(&mut self, from: &Address, to: &Address, amount: Amount) -> Result<Result<(), String>, LedgerError> {
        let mut src = self.overlay.account(from)?;
        let Some(left) = src.balance.checked_sub(amount) else {
            return Ok(Err(format!("insufficient funds: balance {} after fee, transfer {amount}", src.balance)));
        };
        src.balance = left;
        self.overlay.put_account(from, &src);
        let mut dst = self.overlay.account(to)?;
        let Some(new_bal) = dst.balance.checked_add(amount) else {
            // Undo the debit: a failed payload leaves only the fee and nonce change.
            src.balance = src.balance.checked_add(amount).expect("restoring a debit cannot overflow");
            self.overlay.put_account(from, &src);
            return Ok(Err("recipient balance would overflow".into()));
        };
        dst.balance = new_bal;
        self.overlay.put_account(to, &dst);
        Ok(Ok(()))
    }

    /// Seals the block: computes the new state root at version `height`.
    pub fn finish(self) -> Result<BlockOutcome, LedgerError> {
        let diff = compute_diff(self.overlay.store, self.env.height.0, self.overlay.writes)?;
        Ok(BlockOutcome { receipts: self.receipts, gas_used: self.gas_used, diff })
    }
}

/// Why a transaction was not executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Invalid(#[from] InvalidTx),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Executes a received block's transactions; any invalid transaction makes the
/// whole block invalid.
pub fn apply_block<S: StateStore>(
    store: &S,
    params: &ChainParams,
    env: BlockEnv,
    txs: &[VerifiedTx],
) -> Result<BlockOutcome, LedgerError> {
    let mut exec = BlockExecutor::new(store, params, env);
    for (index, tx) in txs.iter().enumerate() {
        match exec.execute(tx) {
            Ok(_) => {}
            Err(ExecError::Invalid(reason)) => return Err(LedgerError::InvalidTxInBlock { index, reason }),
            Err(ExecError::Ledger(e)) => return Err(e),
        }
    }
    exec.finish()
}
