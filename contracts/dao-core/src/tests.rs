#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use agora_sdk::testing::{MockContract, MockHost, mock_addr};
use agora_sdk::{Addr, storage};
use serde_json::{Value, json};

use dao_types::VotingQuery;

use super::*;

const CORE: [u8; 32] = [1; 32];
const VOTING: [u8; 32] = [2; 32];
const PROPS: [u8; 32] = [3; 32];
const TOKEN: [u8; 32] = [4; 32];

type Powers = Rc<RefCell<BTreeMap<(Addr, u64), u128>>>;

fn hex(h: [u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// A voting module answering from `powers` ("latest at or below height"; the
/// zero address holds the totals) and remembering its DAO.
fn mock_voting(powers: Powers) -> MockContract {
    MockContract::new()
        .instantiate(|_| {
            storage::set(b"dao", agora_sdk::caller().as_bytes());
            Ok(vec![])
        })
        .query(move |msg| {
            let q: VotingQuery = serde_json::from_slice(msg).map_err(|e| e.to_string())?;
            let at = |a: Addr, h: u64| powers.borrow().range((a, 0)..=(a, h)).next_back().map_or(0, |(_, p)| *p);
            let out = match q {
                VotingQuery::VotingPowerAtHeight { address, height } => {
                    json!({"power": at(address, height).to_string(), "height": height})
                }
                VotingQuery::TotalPowerAtHeight { height } => {
                    json!({"power": at(Addr::ZERO, height).to_string(), "height": height})
                }
                VotingQuery::Dao {} => {
                    json!({"dao": Addr::from_slice(&storage::get(b"dao").unwrap()).unwrap()})
                }
                VotingQuery::Info {} => json!({"kind": "mock", "version": "0"}),
                VotingQuery::VotingPowersAtHeights { address, heights } => {
                    json!({"powers": heights.iter().map(|h| at(address, *h).to_string()).collect::<Vec<_>>()})
                }
            };
            Ok(serde_json::to_vec(&out).unwrap())
        })
}

/// A "proposal module" that forwards any execute message to its DAO.
fn mock_forwarder() -> MockContract {
    MockContract::new()
        .instantiate(|_| {
            storage::set(b"dao", agora_sdk::caller().as_bytes());
            Ok(vec![])
        })
        .execute(|msg| {
            let dao = Addr::from_slice(&storage::get(b"dao").unwrap()).unwrap();
            agora_sdk::call(&dao, msg, 0, 0)
        })
}

/// A token answering `balance` with a fixed amount per address, and
/// accepting `echo` executes (recording the caller).
fn mock_token() -> MockContract {
    MockContract::new()
        .instantiate(|_| Ok(vec![]))
        .execute(|msg| {
            storage::set(b"last", msg);
            storage::set(b"caller", agora_sdk::caller().as_bytes());
            if msg == br#"{"fail":{}}"# { Err("token refused".into()) } else { Ok(vec![]) }
        })
        .query(|msg| {
            let v: Value = serde_json::from_slice(msg).unwrap();
            let a: Addr = serde_json::from_value(v["balance"]["address"].clone()).unwrap();
            let amount = u128::from(a.as_bytes()[0]) * 1000;
            Ok(serde_json::to_vec(&json!({"balance": amount.to_string()})).unwrap())
        })
}

struct T {
    host: MockHost,
    dao: Addr,
    voting: Addr,
    module: Addr,
    alice: Addr,
}

fn setup() -> T {
    let host = MockHost::new();
    let powers: Powers = Rc::default();
    host.store_code(CORE, mock_contract());
    host.store_code(VOTING, mock_voting(powers.clone()));
    host.store_code(PROPS, mock_forwarder());
    host.store_code(TOKEN, mock_token());
    let alice = mock_addr("alice");
    powers.borrow_mut().insert((alice, 5), 7);
    powers.borrow_mut().insert((Addr::ZERO, 5), 100);
    let msg = json!({
        "name": "Test DAO",
        "description": "d",
        "voting": {"code_hash": hex(VOTING), "label": "voting", "msg": {}},
        "proposals": [{"code_hash": hex(PROPS), "label": "props", "msg": {}}],
    });
    let dao = host.instantiate_code(CORE, alice, "dao", 0, &serde_json::to_vec(&msg).unwrap()).unwrap();
    let voting = agora_sdk::contract_address(&VOTING, &dao, "voting");
    let module = agora_sdk::contract_address(&PROPS, &dao, "props");
    T { host, dao, voting, module, alice }
}

impl T {
    /// Makes the registered module run `msgs` on the DAO.
    fn run(&self, msgs: Value) -> Result<Vec<u8>, String> {
        let msg = json!({"execute_proposal": {"proposal_id": 9, "msgs": msgs}});
        self.host.execute_json(self.module, self.alice, 0, &msg)
    }
    fn config(&self) -> ConfigResponse {
        self.host.query_json(self.dao, &json!({"config": {}})).unwrap()
    }
    fn kinds(&self) -> Vec<String> {
        self.host.take_events().into_iter().filter(|e| e.contract == self.dao).map(|e| e.kind).collect()
    }
}

#[test]
fn instantiate_creates_modules_that_know_their_dao() {
    let t = setup();
    assert_eq!(
        t.config(),
        ConfigResponse {
            name: "Test DAO".into(),
            description: "d".into(),
            voting_module: t.voting,
            proposal_modules: vec![t.module],
        }
    );
    let vm: VotingModuleResponse = t.host.query_json(t.dao, &json!({"voting_module": {}})).unwrap();
    assert_eq!(vm.address, t.voting);
    let d: Value = t.host.query_json(t.voting, &json!({"dao": {}})).unwrap();
    assert_eq!(d["dao"], json!(t.dao));
    let ev = t.host.events().into_iter().find(|e| e.kind == "dao_created").unwrap();
    assert_eq!(ev.attr("proposal_modules"), Some(t.module.to_string().as_str()));
    // Forwarded power queries, "latest at or below".
    let p: Value =
        t.host.query_json(t.dao, &json!({"voting_power_at_height": {"address": t.alice, "height": 9}})).unwrap();
    assert_eq!(p, json!({"power": "7", "height": 9}));
    let p: Value = t.host.query_json(t.dao, &json!({"total_power_at_height": {"height": 4}})).unwrap();
    assert_eq!(p, json!({"power": "0", "height": 4}));
}

#[test]
fn instantiate_validates() {
    let host = MockHost::new();
    host.store_code(CORE, mock_contract());
    host.store_code(VOTING, mock_voting(Rc::default()));
    host.store_code(PROPS, mock_forwarder());
    let m = |h| json!({"code_hash": hex(h), "label": "x", "msg": {}});
    let cases = [
        (json!({"name": "", "voting": m(VOTING), "proposals": [m(PROPS)]}), "name must be 1 to 64 bytes"),
        (json!({"name": "n".repeat(65), "voting": m(VOTING), "proposals": [m(PROPS)]}), "name must be"),
        (
            json!({"name": "n", "description": "d".repeat(1025), "voting": m(VOTING), "proposals": [m(PROPS)]}),
            "description",
        ),
        (json!({"name": "n", "voting": m(VOTING), "proposals": []}), "1 to 16 proposal modules"),
        (
            json!({"name": "n", "voting": {"code_hash": "zz", "label": "v", "msg": {}}, "proposals": [m(PROPS)]}),
            "voting module: `zz` is not a code hash",
        ),
        (json!({"name": "n", "voting": m([9; 32]), "proposals": [m(PROPS)]}), "voting module: no code with hash"),
        (
            json!({"name": "n", "voting": m(VOTING), "proposals": [m(PROPS), m(PROPS)]}),
            "proposal module: contract address",
        ),
    ];
    for (i, (msg, want)) in cases.into_iter().enumerate() {
        let err = host.instantiate_code(CORE, mock_addr("a"), &format!("d{i}"), 0, &serde_json::to_vec(&msg).unwrap());
        let err = err.unwrap_err();
        assert!(err.contains(want), "{i}: {err}");
    }
}

#[test]
fn only_proposal_modules_execute_and_nothing_else_changes_the_dao() {
    let t = setup();
    t.host.set_balance(t.dao, 50);
    let msg = json!({"execute_proposal": {"proposal_id": 1, "msgs": [{"transfer": {"to": t.alice, "amount": "10"}}]}});
    let err = t.host.execute_json(t.dao, t.alice, 0, &msg).unwrap_err();
    assert!(err.starts_with("unauthorized"), "{err}");
    let err = t.host.execute_json(t.dao, t.alice, 0, &json!({"update_config": {"name": "x"}})).unwrap_err();
    assert!(err.contains("invalid message"), "{err}");
    assert_eq!((t.host.balance(t.dao), t.config().name.as_str()), (50, "Test DAO"));
    // The module can.
    t.host.take_events();
    t.run(json!([{"transfer": {"to": t.alice, "amount": "10"}}, {"update_config": {"name": "New"}}])).unwrap();
    assert_eq!((t.host.balance(t.dao), t.host.balance(t.alice)), (40, 10));
    assert_eq!(t.config().name, "New");
    assert_eq!(t.config().description, "d");
    assert_eq!(t.kinds(), ["treasury_transfer", "config_updated", "proposal_executed"]);
}

#[test]
fn fund_requires_tokens() {
    let t = setup();
    t.host.set_balance(t.alice, 100);
    let err = t.host.execute_json(t.dao, t.alice, 0, &json!({"fund": {}})).unwrap_err();
    assert_eq!(err, "fund: attach native tokens");
    t.host.take_events();
    t.host.execute_json(t.dao, t.alice, 30, &json!({"fund": {}})).unwrap();
    assert_eq!((t.host.balance(t.dao), t.host.balance(t.alice)), (30, 70));
    let ev = t.host.take_events().pop().unwrap();
    assert_eq!((ev.kind.as_str(), ev.attr("amount")), ("treasury_funded", Some("30")));
}

#[test]
fn messages_run_all_or_nothing() {
    let t = setup();
    t.host.set_balance(t.dao, 50);
    let err = t
        .run(json!([
            {"transfer": {"to": t.alice, "amount": "10"}},
            {"update_config": {"description": "changed"}},
            {"transfer": {"to": t.alice, "amount": "41"}},
        ]))
        .unwrap_err();
    assert!(err.starts_with("message 2: insufficient funds"), "{err}");
    assert_eq!((t.host.balance(t.dao), t.config().description.as_str()), (50, "d"));
    let err = t.run(json!([{"update_config": {"name": ""}}])).unwrap_err();
    assert_eq!(err, "message 0: name must be 1 to 64 bytes");
}

#[test]
fn execute_and_instantiate_contracts_as_the_dao() {
    let t = setup();
    t.host.set_balance(t.dao, 50);
    let token = t.host.instantiate_code(TOKEN, t.alice, "tok", 0, b"{}").unwrap();
    t.run(json!([{"execute": {"contract": token, "msg": {"ping": {}}, "funds": "5"}}])).unwrap();
    assert_eq!(t.host.storage_get(token, b"last").unwrap(), br#"{"ping":{}}"#);
    assert_eq!(t.host.storage_get(token, b"caller").unwrap(), t.dao.as_bytes());
    assert_eq!(t.host.balance(token), 5);
    let err = t.run(json!([{"execute": {"contract": token, "msg": {"fail": {}}}}])).unwrap_err();
    assert_eq!(err, "message 0: token refused");
    t.host.take_events();
    t.run(json!([{"instantiate": {"code_hash": hex(TOKEN), "label": "t2", "msg": {}, "funds": "3"}}])).unwrap();
    let t2 = agora_sdk::contract_address(&TOKEN, &t.dao, "t2");
    assert_eq!(t.host.balance(t2), 3);
    let ev = t.host.take_events().into_iter().find(|e| e.kind == "contract_instantiated").unwrap();
    assert_eq!(ev.attr("address"), Some(t2.to_string().as_str()));
    // Treasury view with token balances.
    let tr: TreasuryResponse = t.host.query_json(t.dao, &json!({"treasury": {"tokens": [token]}})).unwrap();
    let want = u128::from(t.dao.as_bytes()[0]) * 1000;
    assert_eq!(
        tr,
        TreasuryResponse { native: Uint128(42), tokens: vec![TokenBalance { token, balance: Uint128(want) }] }
    );
    let tr: TreasuryResponse = t.host.query_json(t.dao, &json!({"treasury": {}})).unwrap();
    assert_eq!((tr.native, tr.tokens.len()), (Uint128(42), 0));
    let err = t.host.query_json::<_, Value>(t.dao, &json!({"treasury": {"tokens": vec![token; 21]}})).unwrap_err();
    assert!(err.contains("at most 20 tokens"), "{err}");
    let err = t.host.query_json::<_, Value>(t.dao, &json!({"treasury": {"tokens": [t.alice]}})).unwrap_err();
    assert!(err.contains("no contract at"), "{err}");
}

#[test]
fn modules_can_be_replaced() {
    let t = setup();
    // A new voting module.
    t.run(json!([{"update_voting_module": {"code_hash": hex(VOTING), "label": "voting2", "msg": {}}}])).unwrap();
    let v2 = agora_sdk::contract_address(&VOTING, &t.dao, "voting2");
    assert_eq!(t.config().voting_module, v2);
    let d: Value = t.host.query_json(v2, &json!({"dao": {}})).unwrap();
    assert_eq!(d["dao"], json!(t.dao));
    // Proposal modules: add a contract, refuse non-contracts, duplicates, unknown removals, emptiness.
    let other = t.host.instantiate_code(PROPS, t.alice, "other", 0, b"{}").unwrap();
    let err = t.run(json!([{"update_proposal_modules": {"add": [t.alice]}}])).unwrap_err();
    assert_eq!(err, format!("message 0: {} is not a contract", t.alice));
    let err = t.run(json!([{"update_proposal_modules": {"add": [t.module]}}])).unwrap_err();
    assert!(err.ends_with("is already a proposal module"), "{err}");
    let err = t.run(json!([{"update_proposal_modules": {"remove": [other]}}])).unwrap_err();
    assert!(err.ends_with("is not a proposal module"), "{err}");
    let err = t.run(json!([{"update_proposal_modules": {"remove": [t.module]}}])).unwrap_err();
    assert_eq!(err, "message 0: a DAO needs at least one proposal module");
    t.run(json!([{"update_proposal_modules": {"add": [other], "remove": [t.module]}}])).unwrap();
    assert_eq!(t.config().proposal_modules, vec![other]);
    let r: ProposalModulesResponse = t.host.query_json(t.dao, &json!({"proposal_modules": {}})).unwrap();
    assert_eq!(r.proposal_modules, vec![other]);
    // The removed module can no longer execute.
    let err = t.run(json!([])).unwrap_err();
    assert!(err.starts_with("unauthorized"), "{err}");
}

#[test]
fn chain_params_need_governance() {
    let t = setup();
    let msgs = json!([{"update_chain_params": {"changes": {"contracts": {"max_code_bytes": 1}}}}]);
    let err = t.run(msgs.clone()).unwrap_err();
    assert!(err.contains("is not the chain's governance contract"), "{err}");
    assert!(t.host.param_updates().is_empty());
    t.host.set_governance(Some(t.dao));
    t.run(msgs).unwrap();
    assert_eq!(t.host.param_updates(), vec![json!({"contracts": {"max_code_bytes": 1}})]);
    assert!(t.kinds().contains(&"chain_params_updated".to_owned()));
}

#[test]
fn check_msgs_validates_without_running() {
    let t = setup();
    let ok: Value = t
        .host
        .query_json(t.dao, &json!({"check_msgs": {"msgs": [{"transfer": {"to": t.alice, "amount": "99999"}}]}}))
        .unwrap();
    assert_eq!(ok, json!({}));
    for (msgs, want) in [
        (json!([{"instantiate": {"code_hash": "ab", "label": "l", "msg": {}}}]), "message 0: `ab` is not a code hash"),
        (
            json!([{"transfer": {"to": t.alice, "amount": "1"}}, {"update_chain_params": {"changes": 5}}]),
            "message 1: chain parameter changes must be an object",
        ),
        (json!([{"transfer": {"to": t.alice}}]), "missing field `amount`"),
        (json!([{"nuke": {}}]), "unknown variant `nuke`"),
    ] {
        let err = t.host.query_json::<_, Value>(t.dao, &json!({"check_msgs": {"msgs": msgs}})).unwrap_err();
        assert!(err.contains(want), "{err}");
    }
}
