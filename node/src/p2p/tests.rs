//! Unit tests of the network edge that need no sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::mempool::MempoolLimits;
use crate::store::Store;
use genesis::{ConsensusParams, Genesis, GenesisAccount, GenesisValidator};
use ledger::{Amount, ChainParams, Payload, PublicKey, SigningKey, TxBody};
use request_response::Codec;

fn chain(dir: &std::path::Path, funded: &SigningKey, validator: &SigningKey) -> Chain {
    let genesis = Genesis {
        version: genesis::GENESIS_VERSION,
        chain_id: "p2p-test".into(),
        genesis_time: "2026-01-01T00:00:00Z".into(),
        accounts: vec![GenesisAccount {
            address: PublicKey::from_signing_key(funded).address(),
            balance: Amount::new(1 << 40),
        }],
        validators: vec![GenesisValidator {
            operator: PublicKey::from_signing_key(validator).address(),
            public_key: PublicKey::from_signing_key(validator),
            self_stake: Amount::new(1_000_000),
            commission: Default::default(),
            min_self_delegation: None,
            metadata: ledger::staking::ValidatorMetadata { moniker: "v".into(), ..Default::default() },
        }],
        params: ChainParams::default(),
        consensus: ConsensusParams::default(),
    };
    let store = Store::open(&dir.join("db"), false).unwrap();
    let limits = MempoolLimits { max_txs: 1000, max_bytes: 1 << 24, max_nonce_gap: 100 };
    Chain::open(store, &genesis, limits, vm::Vm::new(&genesis.params, Default::default()).expect("vm")).unwrap()
}

fn transfer(k: &SigningKey, nonce: u64, chain_id: &str) -> Vec<u8> {
    TxBody {
        chain_id: chain_id.into(),
        sender: PublicKey::from_signing_key(k),
        nonce,
        gas_limit: 10_000,
        gas_price: Amount::new(1),
        payload: Payload::Transfer { to: PublicKey::from_signing_key(k).address(), amount: Amount::new(1) },
    }
    .sign(k)
    .encode()
}

#[test]
fn tx_batches_are_judged_like_client_submissions() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let c = chain(dir.path(), &user, &val);
    let good = vec![transfer(&user, 0, "p2p-test"), transfer(&user, 1, "p2p-test")];
    assert_eq!(admit_batch(&c, &good), MessageAcceptance::Accept);
    // The same batch again: nothing new, dropped without blame.
    assert_eq!(admit_batch(&c, &good), MessageAcceptance::Ignore);
    // One forged signature poisons the batch: the sender is penalised.
    let mut forged = transfer(&user, 2, "p2p-test");
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(admit_batch(&c, &[transfer(&user, 3, "p2p-test"), forged]), MessageAcceptance::Reject);
    assert_eq!(admit_batch(&c, &[b"junk".to_vec()]), MessageAcceptance::Reject);
    assert_eq!(admit_batch(&c, &[transfer(&user, 4, "other-chain")]), MessageAcceptance::Reject);
    assert_eq!(admit_batch(&c, &[]), MessageAcceptance::Reject);
    // A nonce the sender already used is a race, not an attack.
    assert_eq!(admit_batch(&c, &[transfer(&user, 0, "p2p-test")]), MessageAcceptance::Ignore);
}

#[test]
fn sync_serves_blocks_with_certificates_that_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let c = chain(dir.path(), &user, &val);
    let chain_id = consensus::ChainId::new("p2p-test").unwrap();
    let me = PublicKey::from_signing_key(&val);
    for h in 1..=3u64 {
        c.submit_tx(&transfer(&user, h - 1, "p2p-test")).unwrap();
        let executed = c.build_block(me, h * 1000, c.store().seen_commit().unwrap()).unwrap();
        let vote = consensus::Vote::precommit(
            consensus::Height(h),
            consensus::Round(0),
            Some(consensus::ValueId(executed.block.hash().0)),
            consensus::ValidatorId(me.0),
        );
        let signed = consensus::signing::sign_vote_unguarded(&val, &chain_id, vote);
        let cert = consensus::CommitCertificate {
            height: consensus::Height(h),
            round: consensus::Round(0),
            value_id: consensus::ValueId(executed.block.hash().0),
            signatures: vec![consensus::CommitSignature {
                validator: consensus::ValidatorId(me.0),
                signature: signed.signature,
            }],
        };
        c.commit(executed, &crate::engine::to_ledger_commit(&cert)).unwrap();
    }
    let blocks = c.synced_blocks(Height(2), 10).unwrap();
    assert_eq!(blocks.iter().map(|b| b.block.header.height.0).collect::<Vec<_>>(), vec![2, 3]);
    for b in &blocks {
        assert_eq!(b.commit.block_hash, b.block.hash());
        c.verify_commit(b.block.header.height, &b.commit).unwrap();
    }
    // A certificate moved to another height does not verify.
    assert!(c.verify_commit(Height(3), &blocks[0].commit).is_err());
    assert!(c.synced_blocks(Height(9), 10).unwrap().is_empty());
    assert_eq!(c.synced_blocks(Height(1), 2).unwrap().len(), 2);
    match serve(&c, c.genesis_hash(), SyncRequest::Status) {
        SyncResponse::Status { tip, .. } => assert_eq!(tip, Height(3)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn sync_frames_over_the_limit_are_refused() {
    futures::executor::block_on(async {
        let mut codec = SyncCodec { max_response: 64 };
        let proto = StreamProtocol::new("/agora/sync/1");
        let mut buf = Vec::new();
        let big = SyncResponse::Error("x".repeat(100));
        codec.write_response(&proto, &mut futures::io::Cursor::new(&mut buf), big).await.unwrap();
        let err = codec.read_response(&proto, &mut futures::io::Cursor::new(&buf)).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        let mut buf = Vec::new();
        let small = SyncRequest::Blocks { from: Height(5), max: 3 };
        codec.write_request(&proto, &mut futures::io::Cursor::new(&mut buf), small).await.unwrap();
        match codec.read_request(&proto, &mut futures::io::Cursor::new(&buf)).await.unwrap() {
            SyncRequest::Blocks { from, max } => assert_eq!((from, max), (Height(5), 3)),
            other => panic!("unexpected {other:?}"),
        }
        // A huge length prefix is refused before anything is allocated.
        let mut huge = u32::MAX.to_be_bytes().to_vec();
        huge.extend_from_slice(&[0; 8]);
        assert!(codec.read_request(&proto, &mut futures::io::Cursor::new(&huge)).await.is_err());
    });
}
