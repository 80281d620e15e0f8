//! A short, seeded run of every fuzz target (see `src/lib.rs`): valid seed
//! inputs and deterministic mutations of them. Coverage-guided long runs are
//! `bash scripts/fuzz.sh TARGET SECONDS`. A failure prints the input as hex;
//! replay it with `agora_fuzz::run(target, &bytes)`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agora_fuzz::mutate::Mutator;
use borsh::BorshSerialize;
use ledger::{Amount, Block, Payload, PublicKey, SigningKey, TxBody};

fn enc<T: BorshSerialize>(v: &T) -> Vec<u8> {
    borsh::to_vec(v).unwrap()
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[3; 32])
}

fn signed_tx(payload: Payload) -> ledger::SignedTx {
    TxBody {
        chain_id: "fuzz".into(),
        sender: PublicKey::from_signing_key(&key()),
        nonce: 0,
        gas_limit: 100_000,
        gas_price: Amount::new(1),
        payload,
    }
    .sign(&key())
}

fn txs() -> Vec<Vec<u8>> {
    vec![
        signed_tx(Payload::Transfer { to: ledger::Address([1; 20]), amount: Amount::new(5) }).encode(),
        signed_tx(Payload::Execute {
            contract: ledger::Address([2; 20]),
            msg: b"{\"x\":1}".to_vec(),
            funds: Amount::ZERO,
        })
        .encode(),
        signed_tx(Payload::StoreCode { code: contract_artifacts::COUNTER[..64].to_vec() }).encode(),
    ]
}

fn a_block() -> Block {
    let dir = tempfile::tempdir().unwrap();
    let (user, val) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
    let chain = node::testing::chain_on(dir.path(), "fuzz", &user, &val);
    chain.submit_tx(&node::testing::transfer(&user, 0, "fuzz")).unwrap();
    chain.build_block(PublicKey::from_signing_key(&val), 1_800_000_000_000, None).unwrap().block
}

fn votes() -> Vec<Vec<u8>> {
    let chain = consensus::ChainId::new("fuzz").unwrap();
    let me = consensus::ValidatorId(PublicKey::from_signing_key(&key()).0);
    let vote =
        consensus::Vote::precommit(consensus::Height(4), consensus::Round(1), Some(consensus::ValueId([9; 32])), me);
    let signed = consensus::signing::sign_vote_unguarded(&key(), &chain, vote);
    vec![enc(&node::p2p::ConsensusMsg::Vote(signed))]
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "tx" => txs(),
        "block" => vec![enc(&a_block())],
        "consensus_msg" => {
            let mut v = votes();
            let b = a_block();
            let proposal = consensus::Proposal {
                height: consensus::Height(1),
                round: consensus::Round(0),
                value_id: consensus::ValueId(b.hash().0),
                pol_round: None,
                proposer: consensus::ValidatorId(PublicKey::from_signing_key(&key()).0),
            };
            let chain = consensus::ChainId::new("fuzz").unwrap();
            let sp = consensus::signing::sign_proposal_unguarded(&key(), &chain, proposal);
            let compact = Box::new(ledger::CompactBlock::of(&b));
            v.push(enc(&node::p2p::ConsensusMsg::CompactProposal { proposal: sp.clone(), block: compact }));
            v.push(enc(&node::p2p::ConsensusMsg::Proposal { proposal: sp, block: Box::new(b) }));
            v
        }
        "tx_batch" => vec![enc(&txs())],
        "sync_msg" => {
            let frame = |b: Vec<u8>| [(b.len() as u32).to_be_bytes().to_vec(), b].concat();
            vec![
                frame(enc(&node::p2p::SyncRequest::Blocks { from: ledger::Height(3), max: 8 })),
                frame(enc(&node::p2p::SyncRequest::Status)),
                frame(enc(&node::p2p::SyncRequest::Txs { hashes: vec![ledger::Hash([2; 32]); 3] })),
                frame(enc(&node::p2p::SyncResponse::Txs(a_block().txs))),
                frame(enc(&node::p2p::SyncResponse::Status { genesis: ledger::Hash([1; 32]), tip: ledger::Height(9) })),
                enc(&node::p2p::SyncResponse::Error("no".into())),
            ]
        }
        "upload" => {
            let mut v: Vec<Vec<u8>> = contract_artifacts::all().iter().map(|(_, c)| c.to_vec()).collect();
            v.push(wat::parse_str(contract_artifacts::hostile::contract("(i64.const 0)")).unwrap());
            v.push(wat::parse_str(contract_artifacts::hostile::two_tables()).unwrap());
            v
        }
        "rpc" => {
            let tx = hex_of(&txs()[0]);
            vec![
                [&[6u8][..], format!("[\"{tx}\"]").as_bytes()].concat(),
                [&[8u8][..], b"[1]"].concat(),
                [&[8u8][..], b"[\"latest\", true]"].concat(),
                [&[7u8][..], b"[\"agora1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v\"]"].concat(),
                [&[3u8][..], b"{\"address\":\"x\",\"msg\":{}}"].concat(),
                [&[10u8][..], b"{\"from_height\":0,\"to_height\":18446744073709551615}"].concat(),
                [&[12u8][..], format!("[\"{tx}\"]").as_bytes()].concat(),
                [&[13u8][..], format!("[\"{tx}\", 1]").as_bytes()].concat(),
            ]
        }
        other => panic!("no seeds for {other}"),
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn short_run(target: &str, iterations: usize) {
    let seeds = seeds(target);
    for s in &seeds {
        agora_fuzz::run(target, s);
    }
    let mut m = Mutator::new(0x000a_607a, seeds);
    for i in 0..iterations {
        let input = m.next_input();
        let res = std::panic::catch_unwind(|| agora_fuzz::run(target, &input));
        if res.is_err() {
            panic!("fuzz target `{target}` failed on input {i}: {}", hex_of(&input));
        }
    }
}

#[test]
fn every_target_has_a_short_run() {
    let mut names: Vec<&str> = agora_fuzz::TARGETS.to_vec();
    names.sort_unstable();
    let mut covered = vec!["block", "consensus_msg", "rpc", "sync_msg", "tx", "tx_batch", "upload"];
    covered.sort_unstable();
    assert_eq!(names, covered);
}

#[test]
fn tx() {
    short_run("tx", 20_000);
}

#[test]
fn block() {
    short_run("block", 5_000);
}

#[test]
fn consensus_msg() {
    short_run("consensus_msg", 5_000);
}

#[test]
fn tx_batch() {
    short_run("tx_batch", 5_000);
}

#[test]
fn sync_msg() {
    short_run("sync_msg", 10_000);
}

#[test]
fn upload() {
    short_run("upload", 300);
}

#[test]
fn rpc() {
    short_run("rpc", 3_000);
}
