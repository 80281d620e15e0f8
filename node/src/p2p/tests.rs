//! Unit tests of the network edge that need no sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::serve::admit_batch;
use super::*;
use crate::testing::transfer;
use ledger::{PublicKey, SigningKey};
use request_response::Codec;

fn chain(dir: &std::path::Path, funded: &SigningKey, validator: &SigningKey) -> crate::chain::Chain {
    crate::testing::chain_on(dir, "p2p-test", funded, validator)
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

/// A batch is verified as one signature batch, with the verdicts of one by
/// one: a tx after the first invalid one is not admitted, a tx twice in one
/// batch is admitted once, and each refusal is counted once.
#[test]
fn tx_batches_keep_one_by_one_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let c = chain(dir.path(), &user, &val);
    let mut forged = transfer(&user, 1, "p2p-test");
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let batch = [transfer(&user, 0, "p2p-test"), forged, transfer(&user, 1, "p2p-test")];
    let first = c.admit_txs(&batch);
    assert_eq!(first, [TxAdmission::Admitted, TxAdmission::Invalid]);
    assert_eq!(c.mempool_size(), 1, "the tx after the forged one is not admitted");
    let twice = [transfer(&user, 1, "p2p-test"), transfer(&user, 1, "p2p-test"), transfer(&user, 2, "p2p-test")];
    let second = c.admit_txs(&twice);
    assert_eq!(second, [TxAdmission::Admitted, TxAdmission::Skipped, TxAdmission::Admitted]);
    assert_eq!(c.mempool_size(), 3);
    // The same batches tx by tx on a fresh chain: the same verdicts.
    let dir2 = tempfile::tempdir().unwrap();
    let c2 = chain(dir2.path(), &user, &val);
    for (b, batched) in [(&batch[..], first), (&twice[..], second)] {
        let mut one_by_one = Vec::new();
        for t in b {
            let v = c2.admit_txs(std::slice::from_ref(t))[0];
            one_by_one.push(v);
            if v == TxAdmission::Invalid {
                break;
            }
        }
        assert_eq!(one_by_one, batched);
    }
}

#[test]
fn sync_serves_blocks_with_certificates_that_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let c = chain(dir.path(), &user, &val);
    let me = PublicKey::from_signing_key(&val);
    for h in 1..=3u64 {
        c.submit_tx(&transfer(&user, h - 1, "p2p-test")).unwrap();
        let executed = c.build_block(me, h * 1000, c.store().seen_commit().unwrap()).unwrap();
        let cert = crate::testing::certificate("p2p-test", &val, h, executed.block.hash());
        c.commit(executed, &cert).unwrap();
    }
    let blocks = c.synced_blocks(Height(2), 10).unwrap();
    assert_eq!(blocks.iter().map(|b| b.block.header.height.0).collect::<Vec<_>>(), vec![2, 3]);
    for b in &blocks {
        assert_eq!(b.commit.block_hash, b.block.hash());
        c.verify_commit(b.block.header.height, &b.commit).unwrap().unwrap();
    }
    // A certificate moved to another height does not verify.
    assert!(matches!(c.verify_commit(Height(3), &blocks[0].commit), Ok(Err(_))));
    assert!(c.synced_blocks(Height(9), 10).unwrap().is_empty());
    assert_eq!(c.synced_blocks(Height(1), 2).unwrap().len(), 2);
    assert_eq!(NetHost::tip_height(&c), Height(3));
    assert_eq!(c.certified_blocks(Height(1), 2).unwrap().len(), 2);
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

/// What a peer filling a compact proposal gets: the mempool's transactions
/// in the order asked, unknown hashes left out, cut at the byte bound.
#[test]
fn tx_requests_are_answered_from_the_mempool_within_the_byte_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let c = chain(dir.path(), &user, &val);
    let hashes: Vec<Hash> = (0..4).map(|n| c.submit_tx(&transfer(&user, n, "p2p-test")).unwrap()).collect();
    let unknown = Hash([9; 32]);
    let asked = [hashes[3], unknown, hashes[0], hashes[2]];
    let (got, bytes) = c.txs_by_hash(&asked, usize::MAX);
    assert_eq!(bytes, got.iter().map(|t| t.encode().len()).sum::<usize>());
    assert_eq!(got.iter().map(ledger::SignedTx::hash).collect::<Vec<_>>(), vec![hashes[3], hashes[0], hashes[2]]);
    let one = got[0].encode().len();
    assert_eq!(c.txs_by_hash(&asked, 2 * one).0.len(), 2);
    assert!(c.txs_by_hash(&asked, one - 1).0.is_empty());
    // The lookup that fills a compact proposal: one answer per hash.
    let found = c.mempool_lookup(&asked, usize::MAX).unwrap();
    assert_eq!(found.iter().map(Option::is_some).collect::<Vec<_>>(), vec![true, false, true, true]);
    // More than a block's worth of bytes found: no block that large is valid.
    assert!(c.mempool_lookup(&asked, 2 * one).is_none());
    // A hash asked twice is answered once.
    assert_eq!(c.txs_by_hash(&[hashes[1], hashes[1], hashes[1]], usize::MAX).0.len(), 1);
}

/// A transaction request at its bound fits the request frame; one past it
/// does not (and the server refuses more than MAX_TX_FETCH hashes anyway).
#[test]
fn tx_request_frames_are_bounded() {
    futures::executor::block_on(async {
        let mut codec = SyncCodec { max_response: 1024 };
        let proto = StreamProtocol::new("/agora/sync/1");
        let at_bound = SyncRequest::Txs { hashes: vec![Hash([1; 32]); MAX_TX_FETCH] };
        let mut buf = Vec::new();
        codec.write_request(&proto, &mut futures::io::Cursor::new(&mut buf), at_bound).await.unwrap();
        match codec.read_request(&proto, &mut futures::io::Cursor::new(&buf)).await.unwrap() {
            SyncRequest::Txs { hashes } => assert_eq!(hashes.len(), MAX_TX_FETCH),
            other => panic!("unexpected {other:?}"),
        }
        let over = SyncRequest::Txs { hashes: vec![Hash([1; 32]); 2 * MAX_TX_FETCH] };
        let mut buf = Vec::new();
        codec.write_request(&proto, &mut futures::io::Cursor::new(&mut buf), over).await.unwrap();
        let err = codec.read_request(&proto, &mut futures::io::Cursor::new(&buf)).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    });
}

/// Transactions of the current height's proposals are served too (a
/// proposer's own block, transactions fetched from others), until a higher
/// height's proposal replaces them.
#[test]
fn tx_requests_are_answered_from_the_current_proposals() {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let c = chain(dir.path(), &user, &val);
    let me = PublicKey::from_signing_key(&val);
    c.submit_tx(&transfer(&user, 0, "p2p-test")).unwrap();
    let block = c.build_block(me, 1000, None).unwrap().block;
    let hash = block.txs[0].hash();
    c.remember_proposal(&block, &block.tx_hashes());
    // Never submitted: only a proposal can hold it.
    let other = ledger::SignedTx::decode(&transfer(&user, 5, "p2p-test")).unwrap();
    let mut lower = block.clone();
    lower.header.height = Height(0);
    lower.txs = vec![other.clone()];
    c.remember_proposal(&lower, &lower.tx_hashes());
    assert_eq!(c.txs_by_hash(&[hash], usize::MAX).0.len(), 1);
    assert!(c.txs_by_hash(&[other.hash()], usize::MAX).0.is_empty(), "a lower height is not kept");
    let mut higher = lower;
    higher.header.height = Height(2);
    c.remember_proposal(&higher, &higher.tx_hashes());
    assert_eq!(c.txs_by_hash(&[other.hash()], usize::MAX).0.len(), 1);
}

/// Anonymous gossip: two publications of one payload are two messages
/// (their own ids, so a rebroadcast is never refused as a duplicate) with
/// one payload; ids depend on the topic; a message too short to hold a
/// nonce has no payload (the task rejects it).
#[test]
fn each_publication_of_a_payload_is_its_own_message() {
    let payload = b"a vote".to_vec();
    let topic = IdentTopic::new("/agora/t/consensus/2").hash();
    let msg = |data: Vec<u8>, topic: &TopicHash| gossipsub::Message {
        source: None,
        data,
        sequence_number: None,
        topic: topic.clone(),
    };
    let (a, b) = (gossip_frame(&payload), gossip_frame(&payload));
    assert_ne!(a, b, "a fresh nonce each time");
    assert_eq!(gossip_payload(&a), Some(payload.as_slice()));
    assert_eq!(gossip_payload(&b), Some(payload.as_slice()));
    assert_ne!(message_id(&msg(a.clone(), &topic)), message_id(&msg(b, &topic)));
    assert_eq!(
        message_id(&msg(a.clone(), &topic)),
        message_id(&msg(a.clone(), &topic)),
        "an exact copy is a duplicate"
    );
    let other = IdentTopic::new("/agora/t/txs/2").hash();
    assert_ne!(message_id(&msg(a.clone(), &topic)), message_id(&msg(a, &other)));
    assert_eq!(gossip_payload(&[0; GOSSIP_NONCE_LEN]), Some(&[][..]));
    assert_eq!(gossip_payload(&[0; GOSSIP_NONCE_LEN - 1]), None);
    assert_eq!(gossip_payload(&[]), None);
}
