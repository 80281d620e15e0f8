#![allow(clippy::unwrap_used)]

use super::*;
use ledger::{Payload, PublicKey, SigningKey, TxBody};

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i; 32])
}

fn tx(k: &SigningKey, nonce: u64, gas_price: u128) -> VerifiedTx {
    TxBody {
        chain_id: "c".into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit: 10_000,
        gas_price: Amount::new(gas_price),
        payload: Payload::Transfer { to: Address([9; 20]), amount: Amount::new(1) },
    }
    .sign(k)
    .verify()
    .unwrap()
}

fn pool(max_txs: usize) -> Mempool {
    Mempool::new(MempoolLimits { max_txs, max_bytes: 1 << 20, max_nonce_gap: 4 })
}

fn rich() -> Account {
    Account { balance: Amount::new(1_000_000_000), nonce: 0 }
}

#[test]
fn admission_rules() {
    let p = ChainParams::default();
    let mut m = pool(10);
    let k = key(1);
    let t0 = tx(&k, 0, 1);
    m.insert(t0.clone(), &rich(), "c", &p).unwrap();
    assert!(matches!(m.insert(t0, &rich(), "c", &p), Err(MempoolError::Duplicate(_))));
    assert!(matches!(m.insert(tx(&k, 0, 2), &rich(), "c", &p), Err(MempoolError::NonceTaken { nonce: 0 })));
    assert!(matches!(m.insert(tx(&k, 9, 1), &rich(), "c", &p), Err(MempoolError::Invalid(InvalidTx::NonceGap { .. }))));
    let stale = Account { nonce: 5, ..rich() };
    assert!(matches!(
        m.insert(tx(&key(2), 1, 1), &stale, "c", &p),
        Err(MempoolError::Invalid(InvalidTx::NonceTooLow { expected: 5, got: 1 }))
    ));
    assert!(matches!(
        m.insert(tx(&key(2), 0, 1), &rich(), "other", &p),
        Err(MempoolError::Invalid(InvalidTx::WrongChainId { .. }))
    ));
    let poor = Account { balance: Amount::new(5), nonce: 0 };
    assert!(matches!(
        m.insert(tx(&key(3), 0, 1), &poor, "c", &p),
        Err(MempoolError::Invalid(InvalidTx::CannotPayFee { .. }))
    ));
    // Two pending txs whose max fees together exceed the balance.
    let just = Account { balance: Amount::new(15_000), nonce: 0 };
    m.insert(tx(&key(4), 0, 1), &just, "c", &p).unwrap();
    assert!(matches!(m.insert(tx(&key(4), 1, 1), &just, "c", &p), Err(MempoolError::PendingFees { .. })));
}

#[test]
fn bound_and_eviction() {
    let p = ChainParams::default();
    let mut m = pool(3);
    let k = key(1);
    for n in 0..3 {
        m.insert(tx(&k, n, 1), &rich(), "c", &p).unwrap();
    }
    assert!(matches!(m.insert(tx(&key(2), 0, 1), &rich(), "c", &p), Err(MempoolError::Full(3))));
    let c = m.candidates(10, |_| None);
    assert_eq!(c.iter().map(|t| t.body().nonce).collect::<Vec<_>>(), vec![0, 1, 2]);
    // A block included nonce 0; the sender's nonce is now 2 (another node's tx)
    // and its balance only covers one more max fee.
    let addr = k.verifying_key().to_bytes();
    let sender = PublicKey(addr).address();
    let mut touched = BTreeMap::new();
    touched.insert(sender, Account { balance: Amount::new(10_000), nonce: 2 });
    let evicted = m.update(&[c[0].hash()], &touched);
    assert_eq!(evicted, 1, "nonce 1 is now used");
    assert_eq!(m.len(), 1);
    assert_eq!(m.candidates(10, |_| None)[0].body().nonce, 2);
}

#[test]
fn dropped_transactions_are_not_admitted_again_and_the_memory_is_bounded() {
    let p = ChainParams::default();
    let mut m = pool(10);
    let k = key(3);
    let t0 = tx(&k, 0, 1);
    m.insert(t0.clone(), &rich(), "c", &p).unwrap();
    assert!(m.remove(&t0.hash()));
    assert!(m.is_empty());
    assert!(matches!(m.insert(t0.clone(), &rich(), "c", &p), Err(MempoolError::Dropped(_))));
    // Older drops are forgotten after DROPPED_MEMORY newer ones.
    for i in 0..DROPPED_MEMORY as u64 {
        let mut h = [0u8; 32];
        h[..8].copy_from_slice(&i.to_le_bytes());
        assert!(!m.remove(&Hash(h)));
    }
    assert!(m.dropped.len() <= DROPPED_MEMORY && m.dropped_set.len() == m.dropped.len());
    m.insert(t0, &rich(), "c", &p).unwrap();
}

#[test]
fn only_reasons_that_cannot_change_are_permanent() {
    assert!(permanently_invalid(&InvalidTx::NonceTooLow { expected: 2, got: 1 }));
    assert!(permanently_invalid(&InvalidTx::GasLimitTooHigh { max: 1, got: 2 }));
    assert!(permanently_invalid(&InvalidTx::WrongChainId { expected: "a".into(), got: "b".into() }));
    assert!(!permanently_invalid(&InvalidTx::NonceGap { expected: 1, got: 2 }));
    assert!(!permanently_invalid(&InvalidTx::CannotPayFee { balance: Amount::ZERO, fee: Amount::new(1) }));
    assert!(!permanently_invalid(&InvalidTx::BlockGasExhausted));
}

/// Every queue's fee sum equals the sum of its transactions' maximum fees.
fn assert_fee_sums(m: &Mempool) {
    for (a, q) in &m.by_sender {
        let sum = q.values().fold(Amount::ZERO, |s, e| s.checked_add(max_fee(e)).unwrap());
        assert_eq!(q.fees, sum, "fee sum of {a}");
    }
}

/// What `update` keeps of one sender's queue, by the rule walked in full:
/// nonces from the account's, in order, while their fees add up within the
/// balance (one that does not fit is evicted and the walk goes on).
fn kept_by_walk(queue: &[(u64, Amount)], acct: &Account) -> Vec<u64> {
    let mut fees = Amount::ZERO;
    let mut kept = Vec::new();
    for (n, f) in queue.iter().filter(|(n, _)| *n >= acct.nonce) {
        if let Some(s) = fees.checked_add(*f).filter(|s| *s <= acct.balance) {
            fees = s;
            kept.push(*n);
        }
    }
    kept
}

#[derive(Clone, Debug)]
enum Op {
    Insert { sender: u8, nonce: u64, gas_price: u128, balance: u128 },
    Remove { sender: u8, nonce: u64 },
    Block { sender: u8, included: u64, balance: u128, nonce: u64 },
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0u8..3, 0u64..6, 1u128..4, 10_000u128..200_000)
            .prop_map(|(sender, nonce, gas_price, balance)| Op::Insert { sender, nonce, gas_price, balance }),
        1 => (0u8..3, 0u64..6).prop_map(|(sender, nonce)| Op::Remove { sender, nonce }),
        2 => (0u8..3, 0u64..6, 0u128..120_000, 0u64..6)
            .prop_map(|(sender, included, balance, nonce)| Op::Block { sender, included, balance, nonce }),
    ]
}

/// The kept counts of transactions behind a missing nonce, recomputed: per
/// queue, entries above the first nonce missing from the account's on.
fn assert_waiting(m: &Mempool, account_nonce: &dyn Fn(&Address) -> u64) {
    let mut total = 0;
    for (a, q) in &m.by_sender {
        let mut run_end = account_nonce(a);
        while q.contains_key(&run_end) {
            run_end += 1;
        }
        let waiting = q.keys().filter(|n| **n > run_end).count();
        assert_eq!((q.run_end, q.waiting), (run_end, waiting), "queue of {a}");
        total += waiting;
    }
    assert_eq!(m.waiting(), total);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// The kept fee sums and waiting counts never drift, `update` with its
    /// fast path keeps exactly what the full walk keeps, and the waiting share
    /// is never exceeded.
    #[test]
    fn fee_sums_stay_exact_and_updates_match_the_full_walk(ops in proptest::collection::vec(op(), 1..40)) {
        let p = ChainParams::default();
        let mut m = Mempool::new(MempoolLimits { max_txs: 16, max_bytes: 1 << 20, max_nonce_gap: 8 });
        let keys: Vec<SigningKey> = (1..=3).map(key).collect();
        let addr = |i: u8| PublicKey::from_signing_key(&keys[i as usize]).address();
        // The accounts' committed nonces: they only grow.
        let mut nonces = [0u64; 3];
        for op in ops {
            match op {
                Op::Insert { sender, nonce, gas_price, balance } => {
                    let acct = Account { balance: Amount::new(balance), nonce: nonces[sender as usize] };
                    let _ = m.insert(tx(&keys[sender as usize], nonce, gas_price), &acct, "c", &p);
                }
                Op::Remove { sender, nonce } => {
                    let h = m.by_sender.get(&addr(sender)).and_then(|q| q.get(&nonce)).map(|e| e.tx.hash());
                    if let Some(h) = h {
                        m.remove(&h);
                    }
                }
                Op::Block { sender, included, balance, nonce } => {
                    let a = addr(sender);
                    let nonce = nonce.max(nonces[sender as usize]);
                    nonces[sender as usize] = nonce;
                    let acct = Account { balance: Amount::new(balance), nonce };
                    let inc: Vec<Hash> =
                        m.by_sender.get(&a).and_then(|q| q.get(&included)).map(|e| e.tx.hash()).into_iter().collect();
                    let before: Vec<(u64, Amount)> = m
                        .by_sender
                        .get(&a)
                        .map(|q| q.iter().filter(|(n, _)| **n != included || inc.is_empty()).map(|(n, e)| (*n, max_fee(e))).collect())
                        .unwrap_or_default();
                    let expected = kept_by_walk(&before, &acct);
                    m.update(&inc, &BTreeMap::from([(a, acct)]));
                    let kept: Vec<u64> = m.by_sender.get(&a).map(|q| q.keys().copied().collect()).unwrap_or_default();
                    // What the walk keeps, less the highest waiting ones if a
                    // hole it opened took the pool past its waiting share.
                    proptest::prop_assert!(expected.starts_with(&kept), "kept {:?}, walk {:?}", kept, expected);
                    if kept != expected {
                        proptest::prop_assert_eq!(m.waiting(), m.max_waiting());
                    }
                }
            }
            assert_fee_sums(&m);
            let n = |a: &Address| (0..3u8).find(|i| addr(*i) == *a).map_or(0, |i| nonces[i as usize]);
            assert_waiting(&m, &n);
            proptest::prop_assert!(m.waiting() <= m.max_waiting());
            proptest::prop_assert_eq!(m.len(), m.by_sender.values().map(|q| q.len()).sum::<usize>());
        }
    }
}

/// Transactions behind a missing nonce take at most a quarter of the pool:
/// past that they are refused (the sender is told to send its next nonce),
/// and transactions that can run are still admitted.
#[test]
fn transactions_behind_a_missing_nonce_take_at_most_their_share() {
    let p = ChainParams::default();
    let mut m = pool(8);
    assert_eq!(m.max_waiting(), 2);
    let (a, b) = (key(1), key(2));
    for n in [2, 3] {
        m.insert(tx(&a, n, 1), &rich(), "c", &p).unwrap();
    }
    assert_eq!(m.waiting(), 2);
    assert!(matches!(m.insert(tx(&a, 4, 1), &rich(), "c", &p), Err(MempoolError::WaitingFull(2))));
    assert!(matches!(m.insert(tx(&b, 1, 1), &rich(), "c", &p), Err(MempoolError::WaitingFull(2))));
    // Runnable transactions still come in; filling the hole frees the share.
    m.insert(tx(&b, 0, 1), &rich(), "c", &p).unwrap();
    m.insert(tx(&a, 0, 1), &rich(), "c", &p).unwrap();
    assert_eq!(m.waiting(), 2, "3 and 4 of `a` still wait for 1");
    m.insert(tx(&a, 1, 1), &rich(), "c", &p).unwrap();
    assert_eq!(m.waiting(), 0);
    m.insert(tx(&b, 2, 1), &rich(), "c", &p).unwrap();
    m.insert(tx(&b, 4, 1), &rich(), "c", &p).unwrap();
    assert_eq!(m.waiting(), 2, "b's 2 and 4 wait behind 1");
    // A block that moves `b` to nonce 3 takes 0 and 2; 4 waits behind 3.
    let (sa, sb) = (PublicKey::from_signing_key(&a).address(), PublicKey::from_signing_key(&b).address());
    m.update(&[], &BTreeMap::from([(sb, Account { nonce: 3, ..rich() })]));
    assert_eq!(m.waiting(), 1);
    // Dropping a transaction in the middle of a run makes the rest wait (a's
    // 2 and 3 behind 1): past the share, a's highest waiting one goes.
    let a1 = m.by_sender[&sa][&1].tx.hash();
    assert!(m.remove(&a1));
    assert_eq!(m.waiting(), 2);
    assert_eq!(m.by_sender[&sa].keys().copied().collect::<Vec<_>>(), vec![0, 2]);
}

#[test]
fn candidates_stop_at_each_senders_first_missing_nonce() {
    let p = ChainParams::default();
    let mut m = pool(20);
    let (a, b) = (key(1), key(2));
    for n in [0, 1, 3, 4] {
        m.insert(tx(&a, n, 1), &rich(), "c", &p).unwrap();
    }
    for n in [1, 2] {
        m.insert(tx(&b, n, 1), &rich(), "c", &p).unwrap();
    }
    let nonces = |c: Vec<VerifiedTx>| c.iter().map(|t| (t.sender(), t.body().nonce)).collect::<Vec<_>>();
    let (sa, sb) = (PublicKey::from_signing_key(&a).address(), PublicKey::from_signing_key(&b).address());
    // `a` stops before its hole at 2; `b`'s run starts at its lowest queued
    // nonce when the account's nonce is unknown, and is left out when the
    // account's next nonce (0) is missing.
    assert_eq!(nonces(m.candidates(10, |_| None)), vec![(sa, 0), (sa, 1), (sb, 1), (sb, 2)]);
    assert_eq!(nonces(m.candidates(10, |_| Some(0))), vec![(sa, 0), (sa, 1)]);
    assert_eq!(nonces(m.candidates(10, |s| Some(u64::from(*s == sb)))), vec![(sa, 0), (sa, 1), (sb, 1), (sb, 2)]);
    assert_eq!(nonces(m.candidates(3, |_| None)).len(), 3, "the bound holds");
    // The hole filled: the whole run is offered.
    m.insert(tx(&a, 2, 1), &rich(), "c", &p).unwrap();
    assert_eq!(nonces(m.candidates(10, |_| None)).iter().filter(|(s, _)| *s == sa).count(), 5);
}

/// Taking a block's transactions makes the rest of their senders' runs wait
/// for a moment; that must not count against the share, or a sender with a
/// real waiting transaction loses it to a block of others' transactions.
#[test]
fn a_block_does_not_trim_what_really_waits() {
    let p = ChainParams::default();
    let mut m = pool(8);
    let (k1, k2) = (key(1), key(2));
    let addr = |k: &SigningKey| PublicKey::from_signing_key(k).address();
    // `a` sorts first, so it is re-checked before `b`.
    let (a, b) = if addr(&k1) < addr(&k2) { (k1, k2) } else { (k2, k1) };
    for n in [0, 2] {
        m.insert(tx(&a, n, 1), &rich(), "c", &p).unwrap();
    }
    for n in 0..4 {
        m.insert(tx(&b, n, 1), &rich(), "c", &p).unwrap();
    }
    assert_eq!(m.waiting(), 1, "a's 2 waits for 1");
    let b0 = m.by_sender[&addr(&b)][&0].tx.hash();
    let touched = BTreeMap::from([(addr(&a), rich()), (addr(&b), Account { nonce: 1, ..rich() })]);
    assert_eq!(m.update(&[b0], &touched), 0);
    assert_eq!(m.waiting(), 1);
    assert!(m.by_sender[&addr(&a)].contains_key(&2));
    assert_eq!(m.len(), 5);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// What the checks before the signature refuse in a batch (each checked
    /// on the state before the batch, the passes recorded in a
    /// [`BatchRuns`]) is refused when the batch is inserted one by one:
    /// those checks are never stricter, whatever the pool's runs, holes and
    /// waiting share.
    #[test]
    fn checks_before_the_signature_are_never_stricter_than_inserting_in_order(
        pool_txs in proptest::collection::vec((0u8..4, 0u64..10), 0..24),
        batch in proptest::collection::vec((0u8..4, 0u64..10), 1..12),
    ) {
        let p = ChainParams::default();
        let keys: Vec<SigningKey> = (1..=4).map(key).collect();
        let acct = rich();
        let mut m = Mempool::new(MempoolLimits { max_txs: 16, max_bytes: 1 << 20, max_nonce_gap: 12 });
        for (s, n) in pool_txs {
            let _ = m.insert(tx(&keys[s as usize], n, 1), &acct, "c", &p);
        }
        let txs: Vec<VerifiedTx> = batch.iter().map(|(s, n)| tx(&keys[*s as usize], *n, 1)).collect();
        let mut runs = BatchRuns::default();
        let before: Vec<bool> = txs
            .iter()
            .map(|t| {
                let ok = m.check(&t.hash(), &t.sender(), t.body(), t.encoded_len(), &acct, "c", &p, &runs).is_ok();
                if ok {
                    m.passed(&mut runs, &t.sender(), t.body().nonce, &acct);
                }
                ok
            })
            .collect();
        for (t, passed) in txs.into_iter().zip(before) {
            let nonce = t.body().nonce;
            let inserted = m.insert(t, &acct, "c", &p);
            proptest::prop_assert!(passed || inserted.is_err(), "refused before the signature, admitted in order: nonce {}", nonce);
        }
    }
}
