//! Bonded stake read at past heights (the DAO's flash-loan-proof voting power).

use super::*;
use crate::contract::{HostEnv, LedgerHost};
use crate::governance::MAX_DELEGATIONS_PER_ACCOUNT;

/// The stake read a contract would get in block `at` (a transaction's view).
fn stake_at(net: &Net, who: Option<&Address>, height: u64, at: u64) -> Result<u128, String> {
    let env = HostEnv {
        chain_id: CHAIN.into(),
        height: Height(at),
        time_ms: net.time_ms,
        origin: Address([0; 20]),
        params: net.params.clone(),
        read_only: false,
    };
    let host = LedgerHost::new(net.store.clone(), BTreeMap::new(), BTreeMap::new(), env);
    let (r, reads) = host.stake_at(who, Height(height)).unwrap();
    assert!(reads >= 1 || r.is_err());
    r.map(|a| a.get())
}

#[test]
fn stake_at_a_past_height_ignores_everything_bonded_later() {
    let mut net = Net::new(params());
    let (v0, v1, v2) = (net.op(0), net.op(1), net.op(2));
    let d0 = net.dels[0].clone();
    let a = addr(&d0);
    let total0 = STAKES.iter().sum::<u128>();
    // Height 1: d0 bonds 10M to v0 and 5M to v1.
    assert_all_ok(&net.block(&[(&d0, delegate(v0, 10 * M)), (&d0, delegate(v1, 5 * M))]));
    // Height 2: +3M to v2, then 4M undelegated from v0, in the same block.
    assert_all_ok(&net.block(&[(&d0, delegate(v2, 3 * M)), (&d0, undelegate(v0, 4 * M))]));
    net.block(&[]);
    let next = net.height + 1;
    assert_eq!(stake_at(&net, Some(&a), 0, next), Ok(0));
    assert_eq!(stake_at(&net, Some(&a), 1, next), Ok(15 * M));
    assert_eq!(stake_at(&net, Some(&a), 2, next), Ok(14 * M));
    assert_eq!(stake_at(&net, None, 0, next), Ok(total0));
    assert_eq!(stake_at(&net, None, 1, next), Ok(total0 + 15 * M));
    assert_eq!(stake_at(&net, None, 2, next), Ok(total0 + 14 * M));
    // The executing block and later are not committed.
    let err = stake_at(&net, Some(&a), next, next).unwrap_err();
    assert!(err.contains("not a committed block"), "{err}");
    // Outside the history window.
    net.params.contracts.stake_history_blocks = 2;
    let err = stake_at(&net, Some(&a), 0, next).unwrap_err();
    assert!(err.contains("stake history"), "{err}");
    assert_eq!(stake_at(&net, Some(&a), 2, next), Ok(14 * M));
}

#[test]
fn a_slash_after_the_snapshot_does_not_change_the_past_but_shows_later() {
    let mut net = Net::new(params());
    let v1 = net.op(1);
    let d0 = net.dels[0].clone();
    let a = addr(&d0);
    assert_all_ok(&net.block(&[(&d0, delegate(v1, 10 * M))]));
    net.block(&[]);
    // v1 (40M = 30M + 10M) double-signed at height 2: 5% of power 40.
    let ev = Misbehaviour { validator: net.cons_pk(1), height: Height(2), power: 40 };
    net.run(&[], Spec { evidence: vec![ev], ..Spec::default() });
    let next = net.height + 1;
    assert_eq!(stake_at(&net, Some(&a), 2, next), Ok(10 * M));
    // 10M of 40M shares after losing 2M: 10 × 38 / 40 = 9.5M.
    assert_eq!(stake_at(&net, Some(&a), 3, next), Ok(9_500_000));
}

#[test]
fn delegations_per_account_are_bounded() {
    let mut p = params();
    p.staking.max_validators = 100;
    let mut net = Net::new(p);
    let d0 = net.dels[0].clone();
    // New validators, one block each batch, to reach the bound with d0's delegations.
    let extra: Vec<SigningKey> = (0..MAX_DELEGATIONS_PER_ACCOUNT as u8).map(|i| sk(100 + i)).collect();
    let cons: Vec<SigningKey> = (0..MAX_DELEGATIONS_PER_ACCOUNT as u8).map(|i| sk(180 + i)).collect();
    // Fund the operators from d1..d3 (100M each), then create the validators
    // (listed with the delegators so the supply invariant counts their balances).
    net.dels.extend(extra.iter().cloned());
    let funders = [net.dels[1].clone(), net.dels[2].clone(), net.dels[3].clone()];
    let funding: Vec<_> = extra
        .iter()
        .enumerate()
        .map(|(i, k)| (&funders[i % 3], Payload::Transfer { to: addr(k), amount: amt(2 * M) }))
        .collect();
    assert_all_ok(&net.block(&funding));
    let creations: Vec<_> = extra
        .iter()
        .zip(&cons)
        .map(|(k, c)| (k, create(pk(c), M, CommissionRates::default(), M, metadata("x"))))
        .collect();
    assert_all_ok(&net.block(&creations));
    // d0 delegates to the 4 genesis validators and 60 new ones: 64.
    let targets: Vec<Address> =
        (0..4).map(|i| net.op(i)).chain(extra.iter().map(addr)).take(MAX_DELEGATIONS_PER_ACCOUNT).collect();
    for chunk in targets.chunks(16) {
        let txs: Vec<_> = chunk.iter().map(|op| (&d0, delegate(*op, 10_000))).collect();
        assert_all_ok(&net.block(&txs));
    }
    let over = addr(extra.last().unwrap());
    assert!(!targets.contains(&over));
    let out = net.block(&[(&d0, delegate(over, 10_000))]);
    let reason = match &out.receipts[0].status {
        TxStatus::Failed { reason } => reason.clone(),
        s => panic!("expected a failure, got {s:?}"),
    };
    assert!(reason.contains("already delegates to 64 validators"), "{reason}");
    // The read of all 64 costs 1 + 2 × 64 records and is exact.
    let next = net.height + 1;
    assert_eq!(stake_at(&net, Some(&addr(&d0)), net.height, next), Ok(64 * 10_000));
}
