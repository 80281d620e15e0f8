//! Shared helpers of the VM tests: a one-account chain over `MemStore` with
//! the real VM, and a WAT contract skeleton.
#![allow(dead_code, unused_imports)]

use ledger::contract::{HostEnv, query_contract};
use ledger::state::genesis_diff;
use ledger::{
    Address, Amount, BlockEnv, BlockExecutor, ChainParams, ExecError, Hash, Height, MemStore, Payload, Receipt,
    SigningKey, TxBody, TxStatus, contract_address,
};
use vm::{Vm, VmConfig};

pub use contract_artifacts::hostile::{contract, contract_with};

pub const CHAIN: &str = "vm-test";

pub struct World {
    pub store: MemStore,
    pub params: ChainParams,
    pub vm: Vm,
    pub key: SigningKey,
    pub nonce: u64,
    pub height: u64,
}

impl World {
    pub fn new() -> World {
        Self::with_params(ChainParams::default())
    }

    pub fn with_params(params: ChainParams) -> World {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut store = MemStore::new();
        let me = ledger::PublicKey::from_signing_key(&key).address();
        let diff = genesis_diff(&store, &[(me, Amount::new(10u128.pow(18)))]).expect("genesis");
        store.commit(&diff);
        let vm = Vm::new(&params, VmConfig::default()).expect("vm");
        World { store, params, vm, key, nonce: 0, height: 0 }
    }

    pub fn me(&self) -> Address {
        ledger::PublicKey::from_signing_key(&self.key).address()
    }

    /// Executes one transaction in its own block and commits it.
    pub fn tx(&mut self, payload: Payload, gas_limit: u64) -> Result<Receipt, ExecError> {
        self.height += 1;
        let env = BlockEnv::new(CHAIN, Height(self.height), 1_000 * self.height);
        let body = TxBody {
            chain_id: CHAIN.into(),
            sender: ledger::PublicKey::from_signing_key(&self.key),
            nonce: self.nonce,
            gas_limit,
            gas_price: Amount::new(1),
            payload,
        };
        let tx = body.sign(&self.key).verify().expect("signature");
        let mut exec = BlockExecutor::with_vm(&self.store, &self.params, env, &self.vm);
        let r = exec.execute(&tx)?.clone();
        let out = exec.finish().expect("finish");
        self.store.commit(&out.diff);
        self.nonce += 1;
        Ok(r)
    }

    pub fn store_code(&mut self, code: &[u8]) -> Hash {
        // The largest upload fits `max_tx_gas` (a governance rule).
        let r = self.tx(Payload::StoreCode { code: code.to_vec() }, self.params.max_tx_gas).expect("valid tx");
        assert_eq!(r.status, TxStatus::Success, "store failed: {r:?}");
        Hash(r.data.try_into().expect("32-byte code hash"))
    }

    pub fn deploy(&mut self, wat: &str, label: &str) -> Address {
        let code = wat::parse_str(wat).expect("wat");
        let code_hash = self.store_code(&code);
        let r = self
            .tx(
                Payload::Instantiate { code_hash, label: label.into(), msg: b"{}".to_vec(), funds: Amount::ZERO },
                10_000_000,
            )
            .expect("valid tx");
        assert_eq!(r.status, TxStatus::Success, "instantiate failed: {r:?}");
        let addr = contract_address(&code_hash, &self.me(), label);
        assert_eq!(r.data, addr.0.to_vec());
        addr
    }

    /// Deploys the example token (label `t`) with 1 000 units for `me()`.
    pub fn token(&mut self) -> Address {
        let code_hash = self.store_code(contract_artifacts::TOKEN);
        let me = self.me();
        let init = serde_json::json!({
            "name": "T", "symbol": "TT", "decimals": 0,
            "initial_balances": [{"address": me.to_string(), "amount": "1000"}],
        });
        let msg = serde_json::to_vec(&init).expect("json");
        let payload = Payload::Instantiate { code_hash, label: "t".into(), msg, funds: Amount::ZERO };
        let r = self.tx(payload, 10_000_000).expect("valid tx");
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        contract_address(&code_hash, &me, "t")
    }

    pub fn exec(&mut self, contract: Address, msg: &[u8], gas: u64) -> Receipt {
        self.tx(Payload::Execute { contract, msg: msg.to_vec(), funds: Amount::ZERO }, gas).expect("valid tx")
    }

    pub fn query(&self, contract: Address, msg: &[u8]) -> Result<(Vec<u8>, u64), ledger::contract::QueryError> {
        let env = HostEnv {
            chain_id: CHAIN.into(),
            height: Height(self.height),
            time_ms: 0,
            origin: Address([0; 20]),
            params: self.params.clone(),
            read_only: true,
        };
        query_contract(self.store.clone(), &self.vm, env, contract, msg.to_vec(), 10_000_000)
    }
}

pub fn reason(r: &Receipt) -> &str {
    match &r.status {
        TxStatus::Failed { reason } => reason,
        TxStatus::Success => panic!("expected a failure, got success: {r:?}"),
    }
}
