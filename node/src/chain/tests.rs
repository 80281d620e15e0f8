//! A block with any single invalid element is refused with a reason and
//! changes nothing; the block-time rule at its edges.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::testing::{certificate, chain_on, transfer};
use ledger::{Amount, Payload, PublicKey, Signature, SigningKey, TxBody};

const ID: &str = "chain-test";

fn keys() -> (SigningKey, SigningKey) {
    (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]))
}

/// Two nodes of the same chain (a proposer and a validator) at height 1,
/// and the proposer's block 2 with three transfers.
/// A chain over `funded` accounts (genesis of `ID`) with a mempool of
/// `max_txs` and `max_nonce_gap`.
fn chain_with(
    dir: &std::path::Path,
    funded: &[&SigningKey],
    val: &SigningKey,
    max_txs: usize,
    max_nonce_gap: u64,
) -> Chain {
    let g = crate::testing::genesis(ID, funded, val);
    let store = crate::store::Store::open(&dir.join("db"), false).unwrap();
    let limits = MempoolLimits { max_txs, max_bytes: 1 << 20, max_nonce_gap };
    Chain::open(store, &g, limits, vm::Vm::new(&g.params, Default::default()).unwrap()).unwrap()
}

fn setup(dir: &std::path::Path) -> (Chain, Chain, Block, u64) {
    let (user, val) = keys();
    let (a, b) = (chain_on(&dir.join("a"), ID, &user, &val), chain_on(&dir.join("b"), ID, &user, &val));
    let me = PublicKey::from_signing_key(&val);
    let now = crate::engine::wall_clock_ms();
    let first = a.build_block(me, now - 10_000, None).unwrap();
    let cert = certificate(ID, &val, 1, first.block.hash());
    let copy = b.validate_block(first.block.clone(), Some(now)).unwrap().unwrap();
    a.commit(first, &cert).unwrap();
    b.commit(copy, &cert).unwrap();
    for n in 0..3 {
        a.submit_tx(&transfer(&user, n, ID)).unwrap();
    }
    let block = a.build_block(me, now - 5_000, Some(cert)).unwrap().block;
    assert_eq!(block.txs.len(), 3);
    (a, b, block, now)
}

fn signed(k: &SigningKey, nonce: u64, gas_limit: u64) -> SignedTx {
    TxBody {
        chain_id: ID.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit,
        gas_price: Amount::new(1),
        payload: Payload::Transfer { to: ledger::Address([5; 20]), amount: Amount::new(1) },
    }
    .sign(k)
}

/// Replaces the block's transactions and keeps the tx root consistent, so
/// only the transaction itself is wrong.
fn with_txs(mut b: Block, txs: Vec<SignedTx>) -> Block {
    b.header.tx_root = merkle_root(txs.iter().map(SignedTx::hash));
    b.txs = txs;
    b
}

#[test]
fn every_single_invalid_element_is_refused_with_a_reason_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, good, now) = setup(dir.path());
    let (user, val) = keys();
    let tip = b.tip();
    let stranger = SigningKey::from_bytes(&[9; 32]);
    type Mutation = (&'static str, Box<dyn Fn(Block) -> Block>);
    let cases: Vec<Mutation> = vec![
        (
            "version",
            Box::new(|mut b: Block| {
                b.header.version += 1;
                b
            }),
        ),
        (
            "chain id",
            Box::new(|mut b: Block| {
                b.header.chain_id = "other".into();
                b
            }),
        ),
        (
            "height",
            Box::new(|mut b: Block| {
                b.header.height = Height(3);
                b
            }),
        ),
        (
            "parent",
            Box::new(|mut b: Block| {
                b.header.parent_hash = Hash([7; 32]);
                b
            }),
        ),
        (
            "not after its parent",
            Box::new(move |mut b: Block| {
                b.header.time_ms = tip.time_ms;
                b
            }),
        ),
        (
            "ahead of this validator's clock",
            Box::new(move |mut b: Block| {
                b.header.time_ms = now + ledger::MAX_FUTURE_DRIFT_MS + 1;
                b
            }),
        ),
        (
            "ahead of this validator's clock",
            Box::new(|mut b: Block| {
                b.header.time_ms = u64::MAX;
                b
            }),
        ),
        (
            "client name must be printable ASCII",
            Box::new(|mut b: Block| {
                b.header.client = "agorad 0.1".into();
                b
            }),
        ),
        (
            "client name must have 1 to 64 bytes",
            Box::new(|mut b: Block| {
                b.header.client = "a".repeat(1_000_000);
                b
            }),
        ),
        (
            "client name must have 1 to 64 bytes",
            Box::new(|mut b: Block| {
                b.header.client = String::new();
                b
            }),
        ),
        (
            // Another client name changes what the proposer signed for: the
            // index counts it, so the state root no longer matches.
            "state root",
            Box::new(|mut b: Block| {
                b.header.client = "other/9.9".into();
                b
            }),
        ),
        (
            "validator set hash",
            Box::new(|mut b: Block| {
                b.header.validator_set_hash = Hash([3; 32]);
                b
            }),
        ),
        (
            "not in the validator set",
            Box::new(move |mut b: Block| {
                b.header.proposer = PublicKey::from_signing_key(&stranger);
                b
            }),
        ),
        (
            "tx root",
            Box::new(|mut b: Block| {
                b.header.tx_root = Hash([4; 32]);
                b
            }),
        ),
        (
            "tx root",
            Box::new(|mut b: Block| {
                b.txs.pop();
                b
            }),
        ),
        (
            "last commit does not match",
            Box::new(|mut b: Block| {
                b.last_commit = None;
                b
            }),
        ),
        (
            "missing the previous block's commit",
            Box::new(|mut b: Block| {
                b.last_commit = None;
                b.header.last_commit_hash = Hash::ZERO;
                b
            }),
        ),
        (
            "commit certificate",
            Box::new(|mut b: Block| {
                let c = b.last_commit.as_mut().unwrap();
                c.signatures[0].signature = Signature([0; 64]);
                b.header.last_commit_hash = c.hash();
                b
            }),
        ),
        (
            "last commit is for",
            Box::new(|mut b: Block| {
                let c = b.last_commit.as_mut().unwrap();
                c.block_hash = Hash([6; 32]);
                b.header.last_commit_hash = c.hash();
                b
            }),
        ),
        (
            "evidence 0: malformed",
            Box::new(|mut b: Block| {
                b.evidence = vec![ledger::Evidence(vec![1, 2, 3])];
                b.header.evidence_hash = ledger::block::evidence_hash(&b.evidence);
                b
            }),
        ),
        (
            "state root",
            Box::new(|mut b: Block| {
                b.header.state_root = Hash([8; 32]);
                b
            }),
        ),
        (
            "receipts root",
            Box::new(|mut b: Block| {
                b.header.receipts_root = Hash([8; 32]);
                b
            }),
        ),
        (
            "ahead of the sender's next nonce",
            Box::new(move |b: Block| {
                let mut txs = b.txs.clone();
                txs.push(signed(&user, 7, 10_000));
                with_txs(b, txs)
            }),
        ),
        (
            "already used",
            Box::new(move |b: Block| {
                let mut txs = b.txs.clone();
                txs.push(txs[0].clone());
                with_txs(b, txs)
            }),
        ),
        (
            "per-transaction maximum",
            Box::new(move |b: Block| {
                let k = SigningKey::from_bytes(&[1; 32]);
                let mut txs = b.txs.clone();
                txs.push(signed(&k, 3, ChainParams::default().max_tx_gas + 1));
                with_txs(b, txs)
            }),
        ),
        (
            "cannot pay fee",
            Box::new(move |b: Block| {
                let poor = SigningKey::from_bytes(&[11; 32]);
                let mut txs = b.txs.clone();
                txs.push(signed(&poor, 0, 10_000));
                with_txs(b, txs)
            }),
        ),
        (
            "tx 3",
            Box::new(move |b: Block| {
                let mut bad = signed(&val, 0, 10_000);
                bad.signature = Signature([1; 64]);
                let mut txs = b.txs.clone();
                txs.push(bad);
                with_txs(b, txs)
            }),
        ),
    ];
    let root_before = ledger::state::root_at(b.store(), tip.height).unwrap();
    for (want, mutate) in &cases {
        let bad = mutate(good.clone());
        match b.validate_block(bad, Some(now)) {
            Ok(Err(BlockRejected::Invalid(reason))) => {
                assert!(reason.contains(want), "expected a reason with `{want}`, got `{reason}`");
            }
            Ok(Err(other)) => panic!("{want}: {other}"),
            Ok(Ok(_)) => panic!("{want}: an invalid block was accepted"),
            Err(fault) => panic!("{want}: an invalid block became a node fault: {fault}"),
        }
        let now_tip = b.tip();
        assert_eq!((now_tip.height, now_tip.hash), (tip.height, tip.hash), "{want}: the tip moved");
        assert_eq!(ledger::state::root_at(b.store(), tip.height).unwrap(), root_before, "{want}");
        assert_eq!(b.mempool_size(), 0, "{want}: the mempool changed");
    }
    // And the untouched block is valid.
    assert!(b.validate_block(good, Some(now)).unwrap().is_ok());
}

#[test]
fn a_proposal_at_the_drift_limit_is_accepted_one_millisecond_more_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, good, now) = setup(dir.path());
    let (_, val) = keys();
    let me = PublicKey::from_signing_key(&val);
    let cert = good.last_commit.clone();
    for (offset, ok) in [(ledger::MAX_FUTURE_DRIFT_MS, true), (ledger::MAX_FUTURE_DRIFT_MS + 1, false)] {
        let block = a.build_block(me, now + offset, cert.clone()).unwrap().block;
        assert_eq!(block.header.time_ms, now + offset);
        assert_eq!(b.validate_block(block.clone(), Some(now)).unwrap().is_ok(), ok, "offset {offset}");
        // A certified block (block sync) is not held to the local clock.
        assert!(b.validate_block(block, None).unwrap().is_ok());
    }
}

/// The proposer priorities stored with each block equal a replay from
/// genesis, also after the chain is reopened (start-up reads them), for a
/// set of unequal powers where the proposer changes every height.
#[test]
fn stored_proposer_priorities_equal_a_replay_from_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let vals: Vec<SigningKey> = (10..13u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
    let mut g = crate::testing::genesis(ID, &[&keys().0], &vals[0]);
    for (i, k) in vals.iter().enumerate().skip(1) {
        let mut v = g.validators[0].clone();
        v.operator = PublicKey::from_signing_key(k).address();
        v.public_key = PublicKey::from_signing_key(k);
        v.self_stake = Amount::new(1_000_000 * (i as u128 + 1));
        g.validators.push(v);
    }
    let open = || {
        let store = crate::store::Store::open(&dir.path().join("db"), false).unwrap();
        let limits = MempoolLimits { max_txs: 10, max_bytes: 1 << 20, max_nonce_gap: 10 };
        Chain::open(store, &g, limits, vm::Vm::new(&g.params, Default::default()).unwrap()).unwrap()
    };
    let chain = open();
    let chain_id = consensus::ChainId::new(ID).unwrap();
    let mut proposers = std::collections::BTreeSet::new();
    let mut last = None;
    for h in 1..=12u64 {
        proposers.insert(chain.proposer_selection().unwrap().proposer(consensus::Round(0)));
        let executed = chain.build_block(PublicKey::from_signing_key(&vals[0]), 1_000 * h, last.clone()).unwrap();
        let hash = executed.block.hash();
        let mut signatures: Vec<consensus::CommitSignature> = vals
            .iter()
            .map(|k| {
                let id = consensus::ValidatorId(PublicKey::from_signing_key(k).0);
                let vote = consensus::Vote::precommit(
                    consensus::Height(h),
                    consensus::Round(0),
                    Some(consensus::ValueId(hash.0)),
                    id,
                );
                let signature = consensus::signing::sign_vote_unguarded(k, &chain_id, vote).signature;
                consensus::CommitSignature { validator: id, signature }
            })
            .collect();
        signatures.sort_by_key(|s| s.validator);
        let cert = consensus::CommitCertificate {
            height: consensus::Height(h),
            round: consensus::Round(0),
            value_id: consensus::ValueId(hash.0),
            signatures,
        };
        let commit = crate::convert::to_ledger_commit(&cert);
        chain.commit(executed, &commit).unwrap();
        last = Some(commit);
        assert_eq!(chain.proposer_selection().unwrap(), chain.replay_proposer_selection().unwrap(), "height {h}");
    }
    assert!(proposers.len() >= 2, "priorities never moved the proposer: {proposers:?}");
    let stored = chain.proposer_selection().unwrap();
    drop(chain);
    let reopened = open();
    assert_eq!(reopened.proposer_selection().unwrap(), stored);
    assert_eq!(reopened.replay_proposer_selection().unwrap(), stored);
}

/// At most `MAX_WATCHERS_PER_TX` callers wait for one transaction (the
/// commit clones its receipt for each); closed ones make room again.
#[test]
fn watchers_of_one_transaction_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let c = chain_on(dir.path(), ID, &user, &val);
    let h = Hash([5; 32]);
    let mut rxs: Vec<_> = (0..crate::chain::MAX_WATCHERS_PER_TX).map(|_| c.watch_tx(h).unwrap()).collect();
    assert!(matches!(c.watch_tx(h), Err(ChainError::Unavailable(_))));
    // Another transaction is not affected.
    assert!(c.watch_tx(Hash([6; 32])).is_ok());
    // A caller that gave up frees its place.
    rxs.pop();
    assert!(c.watch_tx(h).is_ok());
}

/// A full pool refuses before the signature check: under overload a node
/// spends a decode, not a verification, per refused transaction; and the
/// verdict is the one `insert` would give (a full pool evicts nothing).
#[test]
fn a_full_mempool_refuses_before_checking_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let chain = chain_with(dir.path(), &[&user], &val, 2, 10);
    chain.submit_tx(&transfer(&user, 0, ID)).unwrap();
    chain.submit_tx(&transfer(&user, 1, ID)).unwrap();
    let mut forged = signed(&user, 2, 10_000);
    forged.signature = Signature([7; 64]);
    let forged = forged.encode();
    assert!(matches!(chain.submit_tx(&forged), Err(MempoolError::Full(2))), "full is decided first");
    assert!(matches!(chain.submit_tx(&transfer(&user, 2, ID)), Err(MempoolError::Full(2))));
    // With room again (a commit took the two), the forged one is refused for its signature.
    let me = PublicKey::from_signing_key(&val);
    let now = crate::engine::wall_clock_ms();
    let b = chain.build_block(me, now - 10_000, None).unwrap();
    assert_eq!(b.block.txs.len(), 2);
    let cert = certificate(ID, &val, 1, b.block.hash());
    chain.commit(b, &cert).unwrap();
    assert_eq!(chain.mempool_size(), 0);
    let verdict = chain.submit_tx(&forged);
    assert!(matches!(verdict, Err(MempoolError::Invalid(ledger::InvalidTx::BadSignature))), "{verdict:?}");
}

/// Every refusal that no signature can change comes before the signature
/// check (`Mempool::check` on the body as sent): a forged transaction with a
/// used, taken or far-off nonce, from an unfunded sender or past the waiting
/// share costs a decode and an account read, and gets the reason a signed
/// one would get. A forged one the pool would take is refused for its
/// signature, and a body no relay would accept (wrong chain) still is
/// invalid, so a peer that gossips it is penalised as before.
#[test]
fn refusals_no_signature_can_change_come_before_the_signature_check() {
    use ledger::InvalidTx;
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    // A waiting share of one transaction.
    let chain = chain_with(dir.path(), &[&user], &val, 4, 10);
    let forge = |k: &SigningKey, nonce: u64, chain_id: &str| {
        let mut t = signed(k, nonce, 10_000);
        t.body.chain_id = chain_id.into();
        t.signature = Signature([7; 64]);
        t.encode()
    };
    chain.submit_tx(&transfer(&user, 0, ID)).unwrap();
    let me = PublicKey::from_signing_key(&val);
    let b = chain.build_block(me, crate::engine::wall_clock_ms() - 10_000, None).unwrap();
    let cert = certificate(ID, &val, 1, b.block.hash());
    chain.commit(b, &cert).unwrap();
    chain.submit_tx(&transfer(&user, 1, ID)).unwrap();
    chain.submit_tx(&transfer(&user, 3, ID)).unwrap(); // waits behind 2: the share is full
    let unfunded = SigningKey::from_bytes(&[0x55; 32]);
    type Expect = fn(&MempoolError) -> bool;
    let cases: Vec<(Vec<u8>, Expect)> = vec![
        (forge(&user, 0, ID), |e| matches!(e, MempoolError::Invalid(InvalidTx::NonceTooLow { .. }))),
        // The committed transaction itself, sent again: named as committed
        // (the index is read once the nonce refuses it).
        (transfer(&user, 0, ID), |e| matches!(e, MempoolError::AlreadyCommitted(_))),
        (forge(&user, 1, ID), |e| matches!(e, MempoolError::NonceTaken { nonce: 1 })),
        (forge(&user, 50, ID), |e| matches!(e, MempoolError::Invalid(InvalidTx::NonceGap { .. }))),
        (forge(&user, 4, ID), |e| matches!(e, MempoolError::WaitingFull(1))),
        (forge(&unfunded, 0, ID), |e| matches!(e, MempoolError::Invalid(InvalidTx::CannotPayFee { .. }))),
        (forge(&user, 2, "other-chain"), |e| matches!(e, MempoolError::Invalid(InvalidTx::WrongChainId { .. }))),
        (forge(&user, 2, ID), |e| matches!(e, MempoolError::Invalid(InvalidTx::BadSignature))),
    ];
    for (i, (bytes, expected)) in cases.iter().enumerate() {
        let one = chain.submit_tx(bytes);
        assert!(one.as_ref().is_err_and(expected), "case {i}: {one:?}");
        // The batch path (RPC admission, gossip) gives the same verdict.
        let batch = chain.submit_txs(std::slice::from_ref(bytes), |_| false);
        assert!(batch[0].as_ref().is_err_and(expected), "case {i} in a batch: {:?}", batch[0]);
    }
    assert_eq!(chain.rejections().get("bad_signature"), 2, "only the admissible forgery was verified");
    assert_eq!(chain.mempool_size(), 2);
    // The signed transaction that fills the hole still comes in.
    chain.submit_tx(&transfer(&user, 2, ID)).unwrap();
}

/// The checks before the signature see a batch as inserting it in order
/// would: with the waiting share full, a batch that continues a run (its
/// second and third transactions are not waiting once the first is in), and
/// one whose first transaction fills a hole (its sender's waiting ones then
/// follow the run, which makes room for another sender's), get the verdicts
/// of one-by-one submission. The share still refuses what really waits.
#[test]
fn a_batch_is_checked_before_its_signatures_as_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, val) = keys();
    let b = SigningKey::from_bytes(&[0x66; 32]);
    // A waiting share of 3.
    let chain = chain_with(dir.path(), &[&a, &b], &val, 12, 20);
    let ok = |v: &[Result<Hash, MempoolError>]| v.iter().all(Result::is_ok);
    let none = |_: &MempoolError| false;
    let v = chain.submit_txs(&[transfer(&b, 1, ID), transfer(&b, 2, ID), transfer(&b, 3, ID)], none);
    assert!(ok(&v), "{v:?}");
    let v = chain.submit_txs(&[transfer(&a, 0, ID), transfer(&a, 1, ID), transfer(&a, 2, ID)], none);
    assert!(ok(&v), "a run in one batch, with the share full: {v:?}");
    // b's 0 brings its 1..=3 into the run: a's 5 then fits in the share.
    let v = chain.submit_txs(&[transfer(&b, 0, ID), transfer(&a, 5, ID)], none);
    assert!(ok(&v), "a hole filled earlier in the batch: {v:?}");
    let v = chain.submit_txs(&[transfer(&a, 7, ID), transfer(&a, 9, ID)], none);
    assert!(ok(&v), "{v:?}");
    let mut forged = signed(&a, 11, 10_000);
    forged.signature = Signature([7; 64]);
    let v = chain.submit_txs(&[forged.encode()], none);
    assert!(matches!(v[0], Err(MempoolError::WaitingFull(3))), "{:?}", v[0]);
    assert_eq!(chain.mempool_size(), 10);
}

/// The store's in-memory caches (`store_cache.rs`) hold exactly what the
/// database holds after commits, including a proposer's and a validator's.
#[test]
fn cached_state_equals_the_database_after_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, block, now) = setup(dir.path());
    let (user, val) = keys();
    let me = PublicKey::from_signing_key(&val);
    let cert = certificate(ID, &val, 2, block.hash());
    let copy = b.validate_block(block, Some(now)).unwrap().unwrap();
    b.commit(copy, &cert).unwrap();
    let mut last = Some(cert);
    for h in 2..6u64 {
        for n in 0..4 {
            let _ = a.submit_tx(&transfer(&user, 3 + (h - 2) * 4 + n, ID));
        }
        let built = a.build_block(me, now - 4_000 + h * 100, last.clone()).unwrap();
        let cert = certificate(ID, &val, h, built.block.hash());
        a.commit(built, &cert).unwrap();
        last = Some(cert);
    }
    assert_eq!(a.tip().height, Height(5));
    assert!(a.store().check_caches() > 10);
    assert!(b.store().check_caches() > 10);
    // And reads through the cache agree with a fresh store on the same data.
    let account = ledger::state::read_account(a.store(), &PublicKey::from_signing_key(&user).address()).unwrap();
    assert!(account.nonce >= 3, "{account:?}");
}

/// Transactions queued behind a missing nonce cannot fill a block: senders
/// that queue many such transactions first (an attacker, or an overloaded
/// network's holes) used to take every candidate slot, and the block then
/// held none of the honest transactions behind them.
#[test]
fn transactions_behind_a_missing_nonce_do_not_crowd_out_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = keys();
    let (x, y) = (SigningKey::from_bytes(&[3; 32]), SigningKey::from_bytes(&[4; 32]));
    let chain = chain_with(dir.path(), &[&user, &x, &y], &val, 100, 16);
    // Each of x and y queues nonces 1..=10 and never sends 0: first in line.
    for k in [&x, &y] {
        for n in 1..=10 {
            chain.submit_tx(&transfer(k, n, ID)).unwrap();
        }
    }
    for n in 0..3 {
        chain.submit_tx(&transfer(&user, n, ID)).unwrap();
    }
    chain.set_proposer_max_txs(20);
    let me = PublicKey::from_signing_key(&val);
    let b = chain.build_block(me, crate::engine::wall_clock_ms() - 10_000, None).unwrap();
    let user_addr = PublicKey::from_signing_key(&user).address();
    assert_eq!(b.block.txs.len(), 3, "the three includable transfers");
    assert!(b.block.txs.iter().all(|t| t.body.sender.address() == user_addr));
    // The gapped ones wait, not dropped: a gap can still be filled.
    assert_eq!(chain.mempool_size(), 23);
    // But they take at most a quarter of the pool (25 of 100): past that the
    // sender is refused, and is told its next nonce is missing.
    let verdicts: Vec<_> = (11..=16).map(|n| chain.submit_tx(&transfer(&x, n, ID))).collect();
    assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 5);
    assert!(matches!(verdicts[5], Err(MempoolError::WaitingFull(25))), "{:?}", verdicts[5]);
    chain.submit_tx(&transfer(&user, 3, ID)).expect("a runnable transaction still comes in");
}
