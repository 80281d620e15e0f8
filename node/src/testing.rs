//! Test and fuzz support: a one-validator chain in a directory, signed
//! transfers, and certificates signed by that validator. Not used by the
//! node itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use genesis::{ConsensusParams, Genesis, GenesisAccount, GenesisValidator};
use ledger::{Amount, ChainParams, Commit, Payload, PublicKey, SigningKey, TxBody};

use crate::chain::Chain;
use crate::mempool::MempoolLimits;
use crate::store::Store;

/// A genesis for `chain_id` that gives each of `funded` 2⁴⁰ units and has
/// `validator` as its only validator.
pub fn genesis(chain_id: &str, funded: &[&SigningKey], validator: &SigningKey) -> Genesis {
    Genesis {
        version: genesis::GENESIS_VERSION,
        chain_id: chain_id.into(),
        genesis_time: "2026-01-01T00:00:00Z".into(),
        accounts: funded
            .iter()
            .map(|k| GenesisAccount {
                address: PublicKey::from_signing_key(k).address(),
                balance: Amount::new(1 << 40),
            })
            .collect(),
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
    }
}

/// A chain `chain_id` whose genesis funds `funded` and has `validator` as
/// its only validator, stored under `dir`.
pub fn chain_on(dir: &std::path::Path, chain_id: &str, funded: &SigningKey, validator: &SigningKey) -> Chain {
    let genesis = genesis(chain_id, &[funded], validator);
    let store = Store::open(&dir.join("db"), false).unwrap();
    let limits = MempoolLimits { max_txs: 1000, max_bytes: 1 << 24, max_nonce_gap: 100 };
    Chain::open(store, &genesis, limits, vm::Vm::new(&genesis.params, Default::default()).expect("vm")).unwrap()
}

/// A signed transfer of 1 unit from `k` to itself, encoded.
pub fn transfer(k: &SigningKey, nonce: u64, chain_id: &str) -> Vec<u8> {
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

/// The commit certificate of the single `validator` for block `hash` at `height`.
pub fn certificate(chain_id: &str, validator: &SigningKey, height: u64, hash: ledger::Hash) -> Commit {
    let chain_id = consensus::ChainId::new(chain_id).unwrap();
    let me = PublicKey::from_signing_key(validator);
    let vote = consensus::Vote::precommit(
        consensus::Height(height),
        consensus::Round(0),
        Some(consensus::ValueId(hash.0)),
        consensus::ValidatorId(me.0),
    );
    let signed = consensus::signing::sign_vote_unguarded(validator, &chain_id, vote);
    let cert = consensus::CommitCertificate {
        height: consensus::Height(height),
        round: consensus::Round(0),
        value_id: consensus::ValueId(hash.0),
        signatures: vec![consensus::CommitSignature {
            validator: consensus::ValidatorId(me.0),
            signature: signed.signature,
        }],
    };
    crate::convert::to_ledger_commit(&cert)
}

/// Submits a transfer from `user` with `nonce` and commits the next block,
/// proposed and certified by the chain's single `validator`.
pub fn commit_transfer(chain: &Chain, user: &SigningKey, validator: &SigningKey, nonce: u64, chain_id: &str) {
    let me = PublicKey::from_signing_key(validator);
    chain.submit_tx(&transfer(user, nonce, chain_id)).unwrap();
    let h = chain.tip().height.0 + 1;
    let executed = chain.build_block(me, h * 1000, chain.store().seen_commit().unwrap()).unwrap();
    let cert = certificate(chain_id, validator, h, executed.block.hash());
    chain.commit(executed, &cert).unwrap();
}
