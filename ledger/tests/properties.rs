//! Property tests: codecs round-trip; `apply_block` never panics on arbitrary
//! transaction lists and conserves total supply.
#![allow(clippy::unwrap_used)]

use borsh::BorshDeserialize;
use ledger::state::{genesis_diff, read_account};
use ledger::{
    Address, Amount, Block, BlockEnv, BlockExecutor, ChainParams, Commit, CommitSig, Event, Hash, Header, Height,
    MemStore, Payload, PublicKey, Receipt, Signature, SignedTx, SigningKey, TxBody, TxStatus, apply_block,
};
use proptest::prelude::*;

fn keys() -> Vec<SigningKey> {
    (1..=4u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect()
}

fn arb_amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        any::<u128>().prop_map(Amount::new),
        (0u128..10_000).prop_map(Amount::new),
        Just(Amount::new(u128::MAX))
    ]
}

fn arb_body() -> impl Strategy<Value = TxBody> {
    (any::<[u8; 32]>(), any::<u64>(), any::<u64>(), arb_amount(), any::<[u8; 20]>(), arb_amount(), "[a-z0-9-]{0,12}")
        .prop_map(|(pk, nonce, gas_limit, gas_price, to, amount, chain_id)| TxBody {
            chain_id,
            sender: PublicKey(pk),
            nonce,
            gas_limit,
            gas_price,
            payload: Payload::Transfer { to: Address(to), amount },
        })
}

fn arb_signed() -> impl Strategy<Value = SignedTx> {
    (arb_body(), prop::collection::vec(any::<u8>(), 64)).prop_map(|(body, s)| {
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&s);
        SignedTx { body, signature: Signature(sig) }
    })
}

fn arb_header() -> impl Strategy<Value = Header> {
    (any::<u64>(), any::<u64>(), any::<[[u8; 32]; 6]>(), any::<[u8; 32]>(), "[a-z-]{1,10}").prop_map(
        |(h, t, hs, pk, chain_id)| Header {
            version: ledger::block::HEADER_VERSION,
            chain_id,
            height: Height(h),
            time_ms: t,
            parent_hash: Hash(hs[0]),
            tx_root: Hash(hs[1]),
            state_root: Hash(hs[2]),
            receipts_root: Hash(hs[3]),
            proposer: PublicKey(pk),
            client: format!("agorad/{}", hs[0][0]),
            validator_set_hash: Hash(hs[4]),
            last_commit_hash: Hash(hs[5]),
            evidence_hash: Hash(hs[0]),
        },
    )
}

fn roundtrip<T: borsh::BorshSerialize + BorshDeserialize + PartialEq + std::fmt::Debug>(v: &T) {
    let bytes = borsh::to_vec(v).unwrap();
    let back = T::try_from_slice(&bytes).unwrap();
    assert_eq!(&back, v);
    assert_eq!(borsh::to_vec(&back).unwrap(), bytes, "encoding is canonical");
}

proptest! {
    #[test]
    fn signed_tx_round_trips(tx in arb_signed()) {
        roundtrip(&tx);
        roundtrip(&tx.body);
        prop_assert_eq!(SignedTx::decode(&tx.encode()).unwrap(), tx.clone());
        let json = serde_json::to_string(&tx).unwrap();
        prop_assert_eq!(serde_json::from_str::<SignedTx>(&json).unwrap(), tx.clone());
        // Trailing bytes are refused: one encoding per transaction.
        let mut longer = tx.encode();
        longer.push(0);
        prop_assert!(SignedTx::decode(&longer).is_err());
    }

    #[test]
    fn block_types_round_trip(header in arb_header(), txs in prop::collection::vec(arb_signed(), 0..4), round in any::<u32>(),
                              gas in any::<u64>(), fee in arb_amount(), ok in any::<bool>()) {
        let commit = Commit { height: header.height, round, block_hash: header.hash(),
            signatures: vec![CommitSig { validator: header.proposer, signature: Signature([7; 64]) }] };
        let block = Block { header: header.clone(), txs, last_commit: Some(commit.clone()), evidence: Vec::new() };
        roundtrip(&header);
        roundtrip(&commit);
        roundtrip(&block);
        let receipt = Receipt { tx_hash: header.tx_root, sender: Address([1; 20]),
            status: if ok { TxStatus::Success } else { TxStatus::Failed { reason: "x".into() } },
            gas_used: gas, fee, events: vec![Event::new("transfer", &[("amount", fee.to_string())])], data: vec![1, 2, 3] };
        roundtrip(&receipt);
        let json = serde_json::to_string(&block).unwrap();
        prop_assert_eq!(serde_json::from_str::<Block>(&json).unwrap(), block);
        let json = serde_json::to_string(&receipt).unwrap();
        prop_assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), receipt);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = SignedTx::decode(&bytes);
        let _ = ledger::VerifiedTx::from_bytes(&bytes, 32 * 1024);
        let _ = Block::try_from_slice(&bytes);
    }

    #[test]
    fn address_and_amount_text_round_trip(a in any::<[u8; 20]>(), v in any::<u128>()) {
        let addr = Address(a);
        prop_assert_eq!(addr.to_string().parse::<Address>().unwrap(), addr);
        prop_assert!(addr.to_string().starts_with("agora1"));
        prop_assert_eq!(v.to_string().parse::<Amount>().unwrap(), Amount::new(v));
    }

    /// Arbitrary transactions from a few funded keys, including huge amounts,
    /// wrong nonces and chain ids and unaffordable fees: execution never panics,
    /// and the supply over every account involved stays exactly the same.
    #[test]
    fn apply_block_never_panics_and_conserves_supply(
        balances in prop::collection::vec(0u128..=u128::MAX / 8, 4),
        txs in prop::collection::vec((0usize..4, 0u64..4, 0u64..200_000, 1u128..4, 0usize..6, arb_amount(), any::<bool>()), 0..40),
    ) {
        let ks = keys();
        let fee_collector = *ledger::staking::FEE_COLLECTOR;
        let mut all: Vec<Address> = ks.iter().map(|k| PublicKey::from_signing_key(k).address()).collect();
        all.push(Address([0xaa; 20]));
        all.push(fee_collector);
        let mut store = MemStore::new();
        let initial: Vec<_> = all[..4].iter().zip(&balances).map(|(a, b)| (*a, Amount::new(*b))).collect();
        let d = genesis_diff(&store, &initial).unwrap();
        store.commit(&d);
        let supply = |s: &MemStore| all.iter().map(|a| read_account(s, a).unwrap().balance.get()).sum::<u128>();
        let before = supply(&store);

        let verified: Vec<_> = txs.iter().map(|(from, nonce, gas_limit, price, to, amount, right_chain)| {
            TxBody {
                chain_id: if *right_chain { "c".into() } else { "x".into() },
                sender: PublicKey::from_signing_key(&ks[*from]),
                nonce: *nonce, gas_limit: *gas_limit, gas_price: Amount::new(*price),
                payload: Payload::Transfer { to: all[*to], amount: *amount },
            }.sign(&ks[*from]).verify().unwrap()
        }).collect();
        let params = ChainParams::default();
        let env = BlockEnv::new("c", Height(1), 1);

        // As a validator would: the whole list, possibly rejected.
        if let Ok(out) = apply_block(&store, &params, env.clone(), &ledger::NoContracts, &verified) {
            let mut s2 = store.clone();
            s2.commit(&out.diff);
            prop_assert_eq!(supply(&s2), before);
        }
        // As a proposer would: keep what is valid.
        let mut exec = BlockExecutor::new(&store, &params, env);
        for t in &verified {
            let _ = exec.execute(t);
        }
        let out = exec.finish().unwrap();
        store.commit(&out.diff);
        prop_assert_eq!(supply(&store), before);
    }
}
