//! The chain the DAO tests run on: the ledger's block executor with the real
//! VM over an in-memory store, blocks of signed transactions, queries, and the
//! DAO suite's code uploaded. Shared by `dao.rs` and `dao_attacks.rs`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use ledger::staking::{CommissionRates, GenesisValidatorSpec, ValidatorMetadata, genesis_state};
use ledger::{
    Address, Amount, BlockEnv, BlockExecutor, ChainParams, Hash, Height, MemStore, Payload, PublicKey, Receipt,
    SigningKey, TxBody, TxStatus,
};
use serde_json::Value;
use vm::{Vm, VmConfig};

pub const CHAIN: &str = "dao-vm";
pub const T0: u64 = 1_700_000_000_000;
pub const M: u128 = 1_000_000;

pub fn key(name: &str) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..name.len()].copy_from_slice(name.as_bytes());
    SigningKey::from_bytes(&seed)
}

pub fn addr(k: &SigningKey) -> Address {
    PublicKey::from_signing_key(k).address()
}

pub struct Chain {
    pub store: MemStore,
    pub params: ChainParams,
    pub vm: Vm,
    pub height: u64,
    pub time_ms: u64,
    pub nonces: BTreeMap<Address, u64>,
}

impl Chain {
    pub fn new(funded: &[&SigningKey], validators: &[(&SigningKey, u128)], params: ChainParams) -> Chain {
        let mut store = MemStore::new();
        let balances: Vec<_> = funded.iter().map(|k| (addr(k), Amount::new(10u128.pow(15)))).collect();
        let specs: Vec<_> = validators
            .iter()
            .enumerate()
            .map(|(i, (k, stake))| GenesisValidatorSpec {
                operator: addr(k),
                consensus_key: PublicKey::from_signing_key(&SigningKey::from_bytes(&[100 + i as u8; 32])),
                self_stake: Amount::new(*stake),
                commission: CommissionRates::default(),
                min_self_delegation: Amount::new(M),
                metadata: ValidatorMetadata { moniker: format!("v{i}"), ..Default::default() },
            })
            .collect();
        let (diff, _) = genesis_state(&store, &params, CHAIN, T0, &balances, &specs).unwrap();
        store.commit(&diff);
        let vm = Vm::new(&params, VmConfig::default()).unwrap();
        Chain { store, params, vm, height: 0, time_ms: T0, nonces: BTreeMap::new() }
    }

    /// One block of `txs` (each with up to 500M gas), `dt_ms` after the last.
    pub fn block(&mut self, dt_ms: u64, txs: Vec<(&SigningKey, Payload)>) -> Vec<Receipt> {
        self.height += 1;
        self.time_ms += dt_ms;
        let env = BlockEnv::new(CHAIN, Height(self.height), self.time_ms);
        let mut exec = BlockExecutor::with_vm(&self.store, &self.params, env, &self.vm);
        let mut out = Vec::new();
        for (k, payload) in txs {
            let nonce = self.nonces.entry(addr(k)).or_default();
            let body = TxBody {
                chain_id: CHAIN.into(),
                sender: PublicKey::from_signing_key(k),
                nonce: *nonce,
                gas_limit: self.params.max_tx_gas,
                gas_price: self.params.min_gas_price,
                payload,
            };
            *nonce += 1;
            out.push(exec.execute(&body.sign(k).verify().unwrap()).unwrap().clone());
        }
        let outcome = exec.finish().unwrap();
        self.store.commit(&outcome.diff);
        if let Some(p) = ledger::governance::read_params(&self.store).unwrap() {
            self.params = p;
        }
        out
    }

    pub fn one(&mut self, dt_ms: u64, k: &SigningKey, payload: Payload) -> Receipt {
        self.block(dt_ms, vec![(k, payload)]).remove(0)
    }

    pub fn store_code(&mut self, k: &SigningKey, code: &[u8]) -> Hash {
        let r = self.one(100, k, Payload::StoreCode { code: code.to_vec() });
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        Hash::digest(code)
    }

    pub fn query(&self, contract: Address, msg: Value) -> Result<Value, String> {
        let env = ledger::contract::HostEnv {
            chain_id: CHAIN.into(),
            height: Height(self.height),
            time_ms: self.time_ms,
            origin: Address([0; 20]),
            params: self.params.clone(),
            read_only: true,
        };
        let msg = serde_json::to_vec(&msg).unwrap();
        ledger::contract::query_contract(self.store.clone(), &self.vm, env, contract, msg, 100_000_000)
            .map(|(d, _)| serde_json::from_slice(&d).unwrap())
            .map_err(|e| e.to_string())
    }

    pub fn balance(&self, a: &Address) -> u128 {
        ledger::state::read_account(&self.store, a).unwrap().balance.get()
    }
}

pub fn exec(contract: Address, msg: Value, funds: u128) -> Payload {
    Payload::Execute { contract, msg: serde_json::to_vec(&msg).unwrap(), funds: Amount::new(funds) }
}

pub fn ok(r: &Receipt) {
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
}

pub fn failed(r: &Receipt) -> String {
    match &r.status {
        TxStatus::Failed { reason } => reason.clone(),
        TxStatus::Success => panic!("expected a failure: {r:?}"),
    }
}

pub struct Codes {
    pub core: Hash,
    pub proposals: Hash,
    pub stake: Hash,
    pub token_voting: Hash,
    pub token: Hash,
    pub probe: Hash,
    pub identity: Hash,
    pub delegation: Hash,
    pub counter: Hash,
}

pub fn upload_all(c: &mut Chain, k: &SigningKey) -> Codes {
    Codes {
        core: c.store_code(k, contract_artifacts::DAO_CORE),
        proposals: c.store_code(k, contract_artifacts::DAO_PROPOSALS),
        stake: c.store_code(k, contract_artifacts::DAO_VOTING_STAKE),
        token_voting: c.store_code(k, contract_artifacts::DAO_VOTING_TOKEN),
        token: c.store_code(k, contract_artifacts::TOKEN),
        probe: c.store_code(k, contract_artifacts::PROBE),
        identity: c.store_code(k, contract_artifacts::DAO_IDENTITY),
        delegation: c.store_code(k, contract_artifacts::DAO_DELEGATION),
        counter: c.store_code(k, contract_artifacts::COUNTER),
    }
}
