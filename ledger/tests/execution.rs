//! Execution rules, one test per rule, over the in-memory store.
#![allow(clippy::unwrap_used)]

use ledger::state::{genesis_diff, prove_account, read_account, verify_account_proof};
use ledger::{
    Account, Address, Amount, ApplyError, BlockEnv, BlockExecutor, ChainParams, ExecError, Height, InvalidTx,
    LedgerError, MemStore, Payload, PublicKey, SigningKey, TxBody, TxStatus, VerifiedTx, apply_block,
};

const CHAIN: &str = "agora-test";

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i; 32])
}
fn addr(k: &SigningKey) -> Address {
    PublicKey::from_signing_key(k).address()
}

fn setup(balances: &[(Address, u128)]) -> MemStore {
    let mut s = MemStore::new();
    let b: Vec<_> = balances.iter().map(|(a, v)| (*a, Amount::new(*v))).collect();
    let d = genesis_diff(&s, &b).unwrap();
    s.commit(&d);
    s
}

fn env(h: u64) -> BlockEnv {
    BlockEnv::new(CHAIN, Height(h), 1_000 + h)
}

fn fee_collector() -> Address {
    *ledger::staking::FEE_COLLECTOR
}

fn transfer(k: &SigningKey, nonce: u64, to: Address, amount: u128, gas_limit: u64) -> VerifiedTx {
    TxBody {
        chain_id: CHAIN.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit,
        gas_price: Amount::new(2),
        payload: Payload::Transfer { to, amount: Amount::new(amount) },
    }
    .sign(k)
    .verify()
    .unwrap()
}

#[test]
fn transfer_moves_funds_and_pays_fee_to_collector() {
    let (a, b) = (key(1), key(2));
    let mut s = setup(&[(addr(&a), 1_000_000)]);
    let tx = transfer(&a, 0, addr(&b), 500, 100_000);
    let out =
        apply_block(&s, &ChainParams::default(), env(1), &ledger::NoContracts, std::slice::from_ref(&tx)).unwrap();
    let r = &out.receipts[0];
    assert_eq!(r.status, TxStatus::Success);
    let p = ChainParams::default();
    let expected_gas = p.base_tx_gas + p.gas_per_tx_byte * tx.encoded_len() as u64 + p.transfer_gas;
    assert_eq!(r.gas_used, expected_gas);
    assert_eq!(r.fee, Amount::new(2 * u128::from(expected_gas)));
    s.commit(&out.diff);
    let sa = read_account(&s, &addr(&a)).unwrap();
    assert_eq!(sa, Account { balance: Amount::new(1_000_000 - 500 - r.fee.get()), nonce: 1 });
    assert_eq!(read_account(&s, &addr(&b)).unwrap().balance, Amount::new(500));
    // Fees are held by the fee collector module account until the next block...
    assert_eq!(read_account(&s, &fee_collector()).unwrap().balance, r.fee);
    let distribution = *ledger::staking::DISTRIBUTION;
    assert_eq!(read_account(&s, &distribution).unwrap().balance, Amount::ZERO);
    // ...whose begin-block hook distributes them (no validators here: all to the community pool).
    let out = apply_block(&s, &ChainParams::default(), env(2), &ledger::NoContracts, &[]).unwrap();
    assert!(out.events.iter().any(|e| e.kind == "rewards"));
    s.commit(&out.diff);
    assert_eq!(read_account(&s, &fee_collector()).unwrap().balance, Amount::ZERO);
    assert_eq!(read_account(&s, &distribution).unwrap().balance, r.fee);
    let mut view = ledger::staking::StakingView::new(s.clone(), &ChainParams::default());
    assert_eq!(view.supply().unwrap().totals.community_pool, r.fee);
}

#[test]
fn failed_transfer_still_pays_and_bumps_nonce() {
    let (a, b) = (key(1), key(2));
    let mut s = setup(&[(addr(&a), 100_000)]);
    let tx = transfer(&a, 0, addr(&b), 99_999, 10_000);
    let out = apply_block(&s, &ChainParams::default(), env(1), &ledger::NoContracts, &[tx]).unwrap();
    assert!(matches!(&out.receipts[0].status, TxStatus::Failed { reason } if reason.contains("insufficient funds")));
    let fee = out.receipts[0].fee;
    s.commit(&out.diff);
    assert_eq!(read_account(&s, &addr(&a)).unwrap(), Account { balance: Amount::new(100_000 - fee.get()), nonce: 1 });
    assert_eq!(read_account(&s, &addr(&b)).unwrap(), Account::default());
}

#[test]
fn out_of_gas_charges_the_whole_limit() {
    let (a, b) = (key(1), key(2));
    let s = setup(&[(addr(&a), 1_000_000)]);
    let probe = transfer(&a, 0, addr(&b), 1, 100_000);
    let intrinsic = ledger::exec::intrinsic_gas(probe.encoded_len(), &ChainParams::default());
    let tx = transfer(&a, 0, addr(&b), 1, intrinsic + 1);
    let out = apply_block(&s, &ChainParams::default(), env(1), &ledger::NoContracts, &[tx]).unwrap();
    assert!(matches!(&out.receipts[0].status, TxStatus::Failed { reason } if reason.contains("out of gas")));
    assert_eq!(out.receipts[0].gas_used, intrinsic + 1);
}

fn invalid(s: &MemStore, tx: VerifiedTx) -> InvalidTx {
    match apply_block(s, &ChainParams::default(), env(1), &ledger::NoContracts, &[tx]) {
        Err(ApplyError::InvalidTx { index: 0, reason }) => reason,
        other => panic!("expected an invalid tx, got {other:?}"),
    }
}

#[test]
fn invalid_transactions_never_enter_a_block() {
    let (a, b) = (key(1), key(2));
    let s = setup(&[(addr(&a), 1_000_000), (addr(&b), 10)]);
    assert!(matches!(invalid(&s, transfer(&a, 1, addr(&b), 1, 10_000)), InvalidTx::NonceGap { expected: 0, got: 1 }));
    assert!(matches!(invalid(&s, transfer(&b, 0, addr(&a), 1, 10_000)), InvalidTx::CannotPayFee { .. }));
    assert!(matches!(invalid(&s, transfer(&a, 0, addr(&b), 0, 10_000)), InvalidTx::ZeroAmount));
    assert!(matches!(invalid(&s, transfer(&a, 0, addr(&b), 1, 10)), InvalidTx::GasLimitTooLow { .. }));
    assert!(matches!(invalid(&s, transfer(&a, 0, addr(&b), 1, u64::MAX)), InvalidTx::GasLimitTooHigh { .. }));
    let mut body = transfer(&a, 0, addr(&b), 1, 10_000).body().clone();
    body.chain_id = "other-chain".into();
    assert!(matches!(invalid(&s, body.sign(&a).verify().unwrap()), InvalidTx::WrongChainId { .. }));
    let mut body = transfer(&a, 0, addr(&b), 1, 10_000).body().clone();
    body.gas_price = Amount::ZERO;
    assert!(matches!(invalid(&s, body.sign(&a).verify().unwrap()), InvalidTx::GasPriceTooLow { .. }));
    // Replay: the same tx twice in one block.
    let tx = transfer(&a, 0, addr(&b), 1, 10_000);
    match apply_block(&s, &ChainParams::default(), env(1), &ledger::NoContracts, &[tx.clone(), tx]) {
        Err(ApplyError::InvalidTx { index: 1, reason: InvalidTx::NonceTooLow { expected: 1, got: 0 } }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn tampered_signature_is_rejected() {
    let (a, b) = (key(1), key(2));
    let mut signed = transfer(&a, 0, addr(&b), 1, 10_000).tx().clone();
    signed.body.payload = Payload::Transfer { to: addr(&b), amount: Amount::new(2) };
    assert_eq!(signed.verify().unwrap_err(), InvalidTx::BadSignature);
}

#[test]
fn builder_skips_invalid_and_blocks_respect_gas_limit() {
    let (a, b) = (key(1), key(2));
    let s = setup(&[(addr(&a), 1_000_000_000)]);
    let params = ChainParams { max_block_gas: 15_000, ..ChainParams::default() };
    let mut exec = BlockExecutor::new(&s, &params, env(1));
    assert!(exec.execute(&transfer(&a, 5, addr(&b), 1, 10_000)).is_err());
    exec.execute(&transfer(&a, 0, addr(&b), 1, 10_000)).unwrap();
    exec.execute(&transfer(&a, 1, addr(&b), 1, 10_000)).unwrap();
    assert!(matches!(
        exec.execute(&transfer(&a, 2, addr(&b), 1, 10_000)),
        Err(ExecError::Invalid(InvalidTx::BlockGasExhausted))
    ));
    assert_eq!(exec.finish().unwrap().receipts.len(), 2);
}

#[test]
fn account_proofs_verify_against_the_root() {
    let (a, b) = (key(1), key(2));
    let mut s = setup(&[(addr(&a), 1_000_000)]);
    let out =
        apply_block(&s, &ChainParams::default(), env(1), &ledger::NoContracts, &[transfer(&a, 0, addr(&b), 7, 10_000)])
            .unwrap();
    let root = out.state_root();
    s.commit(&out.diff);
    let (acct, proof) = prove_account(&s, &addr(&b), Height(1)).unwrap();
    let acct = acct.unwrap();
    assert_eq!(acct.balance, Amount::new(7));
    verify_account_proof(root, &addr(&b), Some(&acct), &proof).unwrap();
    let forged = Account { balance: Amount::new(8), ..acct };
    assert!(verify_account_proof(root, &addr(&b), Some(&forged), &proof).is_err());
    // Exclusion proof for an unknown account; and the old state at height 0.
    let (none, proof) = prove_account(&s, &Address([3; 20]), Height(1)).unwrap();
    assert!(none.is_none());
    verify_account_proof(root, &Address([3; 20]), None, &proof).unwrap();
    let (old, _) = prove_account(&s, &addr(&b), Height(0)).unwrap();
    assert!(old.is_none());
}

#[test]
fn empty_blocks_only_advance_the_index_counters_and_state_is_deterministic() {
    let a = key(1);
    let run = || {
        let mut s = setup(&[(addr(&a), 1_000_000), (Address([5; 20]), 3)]);
        let mut roots = vec![];
        let mut writes = vec![];
        for h in 1..=5u64 {
            let txs = if h == 2 { vec![transfer(&a, 0, Address([5; 20]), h.into(), 10_000)] } else { vec![] };
            let out = apply_block(&s, &ChainParams::default(), env(h), &ledger::NoContracts, &txs).unwrap();
            roots.push(out.state_root());
            writes.push(out.diff.writes.keys().copied().collect::<Vec<_>>());
            s.commit(&out.diff);
        }
        (roots, writes)
    };
    let (r1, writes) = run();
    assert_eq!((r1.clone(), writes.clone()), run());
    // Block 1 (empty, nothing to distribute) only starts the index's counters.
    let counters = ledger::state::contract_storage_key(&ledger::index::INDEX, b"counters");
    assert_eq!(writes[0], vec![counters]);
    assert_ne!(r1[1], r1[0]);
    // Block 3 is empty but distributes block 2's fees (fee collector → distribution).
    assert_ne!(r1[2], r1[1]);
    // Without fees, inflation (no staking supply here) or transactions, only
    // the decentralization index's block counters change.
    assert_eq!(writes[3], vec![counters]);
    assert_eq!(writes[4], vec![counters]);
}

/// A VM that cannot finish anything on this node (as when the wall-clock
/// guard fires or the instance pool is exhausted), or that fails the node.
struct BrokenVm(fn() -> ledger::contract::CallError);

impl ledger::ContractVm for BrokenVm {
    fn check_code(&self, _: &[u8], _: &ChainParams) -> Result<(), ledger::contract::CallError> {
        Err((self.0)())
    }
    fn run(
        &self,
        host: Box<dyn ledger::contract::Host>,
        _: ledger::contract::ContractCall,
        _: u64,
    ) -> (Box<dyn ledger::contract::Host>, ledger::contract::CallOutcome) {
        (host, ledger::contract::CallOutcome { gas_used: 7, result: Err((self.0)()), events: Vec::new() })
    }
}

fn store_code(k: &SigningKey, nonce: u64) -> VerifiedTx {
    TxBody {
        chain_id: CHAIN.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit: 50_000_000,
        gas_price: Amount::new(2),
        payload: Payload::StoreCode { code: b"\0asm\x01\0\0\0".to_vec() },
    }
    .sign(k)
    .verify()
    .unwrap()
}

#[test]
fn a_transaction_this_node_cannot_execute_leaves_no_trace_and_the_block_goes_on() {
    let (a, b) = (key(1), key(2));
    let s = setup(&[(addr(&a), 1_000_000_000)]);
    let params = ChainParams::default();
    let vm = BrokenVm(|| ledger::contract::CallError::Unexecutable("wall clock".into()));
    let mut exec = BlockExecutor::with_vm(&s, &params, env(1), &vm);
    let before = exec.account(&addr(&a)).unwrap();
    match exec.execute(&store_code(&a, 0)) {
        Err(ExecError::Unexecutable(reason)) => assert_eq!(reason, "wall clock"),
        other => panic!("{other:?}"),
    }
    // No fee reserved, no nonce used: the next transaction takes nonce 0.
    assert_eq!(exec.account(&addr(&a)).unwrap(), before);
    assert_eq!(exec.execute(&transfer(&a, 0, addr(&b), 5, 100_000)).unwrap().status, TxStatus::Success);
    let out = exec.finish().unwrap();
    assert_eq!(out.receipts.len(), 1);
    // A block that carries it is refused as unexecutable here, not as a fault.
    match apply_block(&s, &params, env(1), &vm, &[store_code(&a, 0)]) {
        Err(ApplyError::Unexecutable { index: 0, reason }) => assert_eq!(reason, "wall clock"),
        other => panic!("{other:?}"),
    }
    // A failing upload is a failed receipt that pays.
    let vm = BrokenVm(|| ledger::contract::CallError::Failed("does not compile".into()));
    let out = apply_block(&s, &params, env(1), &vm, &[store_code(&a, 0)]).unwrap();
    assert!(matches!(&out.receipts[0].status, TxStatus::Failed { reason } if reason.contains("does not compile")));
    assert!(out.receipts[0].fee > Amount::ZERO);
    // Only the node's own failure is a fault.
    let vm = BrokenVm(|| ledger::contract::CallError::Node(LedgerError::Storage("disk".into())));
    assert!(matches!(apply_block(&s, &params, env(1), &vm, &[store_code(&a, 0)]), Err(ApplyError::Fault(_))));
}
