//! Contract admins and migration at the ledger level, with a scripted VM
//! (the real wasm VM is exercised in `vm/tests/admin.rs`).
#![allow(clippy::unwrap_used)]

use ledger::contract::{CallError, CallOutcome, ContractCall, EntryPoint, Host, read_contract_info};
use ledger::state::genesis_diff;
use ledger::{
    Address, Amount, BlockEnv, BlockExecutor, ChainParams, Event, Hash, Height, MemStore, Payload, PublicKey, Receipt,
    SigningKey, TxBody, TxStatus, contract_address,
};

const CHAIN: &str = "agora-test";

/// Code is text: `v1`, `v2` (its `migrate` stores its msg under `m` and
/// returns `ok`), `fail` (its `migrate` writes, then fails), `none` (no
/// `migrate`). `instantiate` stores `init`; `execute` returns `m`.
struct ScriptVm;

impl ledger::ContractVm for ScriptVm {
    fn check_code(&self, _: &[u8], _: &ChainParams) -> Result<(), CallError> {
        Ok(())
    }
    fn run(&self, mut host: Box<dyn Host>, call: ContractCall, _: u64) -> (Box<dyn Host>, CallOutcome) {
        let code = host.code(&call.code_hash).unwrap().unwrap();
        let cp = host.checkpoint();
        let c = call.contract;
        let result = match (call.entry, code.as_slice()) {
            (EntryPoint::Instantiate, _) => {
                host.storage_set(&c, b"init", b"1").map(|_| Vec::new()).map_err(CallError::Node)
            }
            (EntryPoint::Execute | EntryPoint::Query, _) => Ok(host.storage_get(&c, b"m").unwrap().unwrap_or_default()),
            (EntryPoint::Migrate, b"none") => Err(CallError::Failed("contract has no `migrate` entry point".into())),
            (EntryPoint::Migrate, b"fail") => {
                host.storage_set(&c, b"m", b"half").unwrap();
                Err(CallError::Failed("migration refused".into()))
            }
            (EntryPoint::Migrate, _) => {
                host.storage_set(&c, b"m", &call.msg).unwrap();
                Ok(b"ok".to_vec())
            }
        };
        if result.is_err() {
            host.revert_to(cp);
        }
        (host, CallOutcome { gas_used: 1_000, result, events: Vec::new() })
    }
}

struct World {
    store: MemStore,
    params: ChainParams,
    height: u64,
    nonces: [u64; 3],
}

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[i as u8 + 1; 32])
}
fn addr(i: usize) -> Address {
    PublicKey::from_signing_key(&key(i)).address()
}

impl World {
    fn new() -> World {
        let mut store = MemStore::new();
        let b: Vec<_> = (0..3).map(|i| (addr(i), Amount::new(10u128.pow(15)))).collect();
        let d = genesis_diff(&store, &b).unwrap();
        store.commit(&d);
        World { store, params: ChainParams::default(), height: 0, nonces: [0; 3] }
    }

    fn tx(&mut self, who: usize, payload: Payload) -> Receipt {
        self.height += 1;
        let tx = TxBody {
            chain_id: CHAIN.into(),
            sender: PublicKey::from_signing_key(&key(who)),
            nonce: self.nonces[who],
            gas_limit: 10_000_000,
            gas_price: Amount::new(1),
            payload,
        }
        .sign(&key(who))
        .verify()
        .unwrap();
        let env = BlockEnv::new(CHAIN, Height(self.height), 1_000 * self.height);
        let mut exec = BlockExecutor::with_vm(&self.store, &self.params, env, &ScriptVm);
        let r = exec.execute(&tx).unwrap().clone();
        let out = exec.finish().unwrap();
        self.store.commit(&out.diff);
        self.nonces[who] += 1;
        r
    }

    fn store(&mut self, code: &[u8]) -> Hash {
        let r = self.tx(0, Payload::StoreCode { code: code.to_vec() });
        Hash(r.data.try_into().unwrap())
    }

    fn info(&self, c: &Address) -> ledger::state::ContractInfo {
        read_contract_info(&self.store, c).unwrap().unwrap()
    }

    fn storage(&self, c: &Address, k: &[u8]) -> Option<Vec<u8>> {
        ledger::contract::read_contract_storage(&self.store, c, k).unwrap()
    }
}

fn instantiate(code_hash: Hash, label: &str, admin: Option<Address>) -> Payload {
    Payload::InstantiateWithAdmin { code_hash, label: label.into(), msg: b"{}".to_vec(), funds: Amount::ZERO, admin }
}

fn migrate(contract: Address, code_hash: Hash, msg: &[u8]) -> Payload {
    Payload::Migrate { contract, code_hash, msg: msg.to_vec() }
}

fn failed(r: &Receipt) -> &str {
    match &r.status {
        TxStatus::Failed { reason } => reason,
        TxStatus::Success => panic!("expected a failure: {r:?}"),
    }
}

fn event<'a>(r: &'a Receipt, kind: &str) -> &'a Event {
    r.events.iter().find(|e| e.kind == kind).unwrap_or_else(|| panic!("no {kind} event in {r:?}"))
}

fn attr<'a>(e: &'a Event, k: &str) -> &'a str {
    e.attributes.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap()
}

#[test]
fn only_the_admin_migrates_and_migration_keeps_state_and_switches_code() {
    let mut w = World::new();
    let (v1, v2) = (w.store(b"v1"), w.store(b"v2"));
    let r = w.tx(0, instantiate(v1, "c", Some(addr(1))));
    assert_eq!(r.status, TxStatus::Success);
    let c = contract_address(&v1, &addr(0), "c");
    assert_eq!(attr(event(&r, "instantiate"), "admin"), addr(1).to_string());
    assert_eq!(w.info(&c).admin, Some(addr(1)));

    // The creator is not the admin: refused, fee paid, nothing changed.
    let r = w.tx(0, migrate(c, v2, b"x"));
    assert!(failed(&r).contains("is not the admin"), "{r:?}");
    assert!(r.fee > Amount::ZERO);
    assert_eq!(w.info(&c).code_hash, v1);

    let r = w.tx(1, migrate(c, v2, b"hello"));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.data, b"ok");
    let e = event(&r, "migrate");
    assert_eq!(attr(e, "contract_address"), c.to_string());
    assert_eq!((attr(e, "old_code_hash"), attr(e, "code_hash")), (v1.to_string().as_str(), v2.to_string().as_str()));
    assert_eq!(attr(e, "sender"), addr(1).to_string());
    let info = w.info(&c);
    assert_eq!((info.code_hash, info.admin, info.creator, info.label.as_str()), (v2, Some(addr(1)), addr(0), "c"));
    // State kept (instantiate's write) and the new code's migrate ran.
    assert_eq!(w.storage(&c, b"init"), Some(b"1".to_vec()));
    assert_eq!(w.storage(&c, b"m"), Some(b"hello".to_vec()));
}

#[test]
fn a_failing_or_missing_migrate_or_unknown_code_reverts_everything() {
    let mut w = World::new();
    let (v1, fail, none) = (w.store(b"v1"), w.store(b"fail"), w.store(b"none"));
    w.tx(0, instantiate(v1, "c", Some(addr(0))));
    let c = contract_address(&v1, &addr(0), "c");

    let r = w.tx(0, migrate(c, fail, b"x"));
    assert!(failed(&r).contains("migration refused"), "{r:?}");
    assert!(r.events.iter().all(|e| e.kind == "fee"), "{r:?}");
    assert_eq!(w.info(&c).code_hash, v1);
    assert_eq!(w.storage(&c, b"m"), None);

    let r = w.tx(0, migrate(c, none, b"x"));
    assert!(failed(&r).contains("no `migrate` entry point"), "{r:?}");
    assert_eq!(w.info(&c).code_hash, v1);

    let r = w.tx(0, migrate(c, Hash([9; 32]), b"x"));
    assert!(failed(&r).contains("no code with hash"), "{r:?}");
    assert_eq!(w.info(&c).code_hash, v1);

    let r = w.tx(0, migrate(Address([5; 20]), v1, b"x"));
    assert!(failed(&r).contains("no contract at"), "{r:?}");
}

#[test]
fn update_admin_hands_over_and_clearing_makes_the_code_final() {
    let mut w = World::new();
    let (v1, v2) = (w.store(b"v1"), w.store(b"v2"));
    // Plain `Instantiate`: no admin, never migratable.
    w.tx(0, Payload::Instantiate { code_hash: v1, label: "plain".into(), msg: vec![], funds: Amount::ZERO });
    let plain = contract_address(&v1, &addr(0), "plain");
    assert_eq!(w.info(&plain).admin, None);
    assert!(failed(&w.tx(0, migrate(plain, v2, b""))).contains("has no admin"));
    assert!(failed(&w.tx(0, Payload::UpdateAdmin { contract: plain, admin: Some(addr(0)) })).contains("has no admin"));

    w.tx(0, instantiate(v1, "c", Some(addr(0))));
    let c = contract_address(&v1, &addr(0), "c");
    // A stranger cannot take it over.
    let r = w.tx(2, Payload::UpdateAdmin { contract: c, admin: Some(addr(2)) });
    assert!(failed(&r).contains("is not the admin"));
    let r = w.tx(0, Payload::UpdateAdmin { contract: c, admin: Some(addr(1)) });
    assert_eq!(r.status, TxStatus::Success);
    let e = event(&r, "update_admin");
    assert_eq!((attr(e, "admin"), attr(e, "sender")), (addr(1).to_string().as_str(), addr(0).to_string().as_str()));
    assert_eq!(w.info(&c).admin, Some(addr(1)));
    // The old admin lost its rights.
    assert!(failed(&w.tx(0, migrate(c, v2, b""))).contains("is not the admin"));
    // Clear it: nobody can migrate or set an admin again.
    let r = w.tx(1, Payload::UpdateAdmin { contract: c, admin: None });
    assert_eq!(attr(event(&r, "update_admin"), "admin"), "");
    assert_eq!(w.info(&c).admin, None);
    assert!(failed(&w.tx(1, migrate(c, v2, b""))).contains("has no admin"));
    assert!(failed(&w.tx(1, Payload::UpdateAdmin { contract: c, admin: Some(addr(1)) })).contains("has no admin"));
    assert_eq!(w.info(&c).code_hash, v1);
}

#[test]
fn the_admin_is_part_of_the_state_root_and_of_the_transaction_bytes() {
    let roots: Vec<Hash> = [None, Some(addr(1)), Some(addr(2))]
        .into_iter()
        .map(|admin| {
            let mut w = World::new();
            let v1 = w.store(b"v1");
            let tx = TxBody {
                chain_id: CHAIN.into(),
                sender: PublicKey::from_signing_key(&key(0)),
                nonce: 1,
                gas_limit: 10_000_000,
                gas_price: Amount::new(1),
                payload: instantiate(v1, "c", admin),
            };
            let tx = tx.sign(&key(0)).verify().unwrap();
            let env = BlockEnv::new(CHAIN, Height(2), 2_000);
            let mut exec = BlockExecutor::with_vm(&w.store, &w.params, env, &ScriptVm);
            exec.execute(&tx).unwrap();
            exec.finish().unwrap().state_root()
        })
        .collect();
    assert_ne!(roots[0], roots[1]);
    assert_ne!(roots[1], roots[2]);
    // `Instantiate` keeps its encoding: the new payloads are new variants.
    let p = Payload::Instantiate { code_hash: Hash([1; 32]), label: "l".into(), msg: vec![], funds: Amount::ZERO };
    assert_eq!(borsh::to_vec(&p).unwrap()[0], 2);
    let json = serde_json::to_value(Payload::UpdateAdmin { contract: addr(1), admin: None }).unwrap();
    assert_eq!(json, serde_json::json!({"type": "update_admin", "contract": addr(1).to_string(), "admin": null}));
    let back: Payload =
        serde_json::from_value(serde_json::json!({"type": "update_admin", "contract": addr(1).to_string()})).unwrap();
    assert_eq!(back, Payload::UpdateAdmin { contract: addr(1), admin: None });
}
