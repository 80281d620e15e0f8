//! Tests on the mock host with the real DAO core and a mock voting module.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use agora_sdk::Addr;
use agora_sdk::testing::{Event, MockContract, MockHost, mock_addr};
use dao_types::VotingQuery;
use serde_json::{Value, json};

mod governance;
mod hostile;
mod lifecycle;

const CORE: [u8; 32] = [1; 32];
const VOTING: [u8; 32] = [2; 32];
const PROPS: [u8; 32] = [3; 32];

pub const T0: u64 = 1_700_000_000_000;
pub const H0: u64 = 10;
pub const DEPOSIT: u128 = 100;

type Powers = Rc<RefCell<BTreeMap<(Addr, u64), u128>>>;

fn hex(h: [u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// A voting module answering from `powers` with "latest at or below height"
/// semantics (the zero address holds the totals).
fn mock_voting(powers: Powers) -> MockContract {
    MockContract::new().instantiate(|_| Ok(vec![])).query(move |msg| {
        let q: VotingQuery = serde_json::from_slice(msg).map_err(|e| e.to_string())?;
        let at = |a: Addr, h: u64| powers.borrow().range((a, 0)..=(a, h)).next_back().map_or(0, |(_, p)| *p);
        let out = match q {
            VotingQuery::VotingPowerAtHeight { address, height } => {
                json!({"power": at(address, height).to_string(), "height": height})
            }
            VotingQuery::TotalPowerAtHeight { height } => {
                json!({"power": at(Addr::ZERO, height).to_string(), "height": height})
            }
            _ => return Err("unsupported".into()),
        };
        Ok(serde_json::to_vec(&out).unwrap())
    })
}

pub fn config() -> Value {
    json!({
        "voting_delay_ms": 1000,
        "min_voting_period_ms": 0,
        "max_voting_period_ms": 10_000,
        "quorum": "0.3",
        "threshold": "0.5",
        "veto_threshold": "0.334",
        "allow_early_close": false,
        "allow_revoting": false,
        "deposit": {"amount": DEPOSIT.to_string(), "refund": "only_passed"},
        "timelock_ms": 5000,
        "vetoer": mock_addr("vetoer"),
        "execution_grace_ms": 20_000,
    })
}

pub struct T {
    pub host: MockHost,
    pub powers: Powers,
    pub dao: Addr,
    pub module: Addr,
    pub alice: Addr,
    pub bob: Addr,
    pub carol: Addr,
    pub dave: Addr,
    pub vetoer: Addr,
}

/// A DAO with 1000 in its treasury; powers at height 1: alice 50, bob 30,
/// carol 15, dave 5 (total 100); everyone has 1000 native tokens; the chain
/// is at height 10.
pub fn setup_with(edit: impl FnOnce(&mut Value)) -> T {
    let host = MockHost::new();
    let powers: Powers = Rc::default();
    host.store_code(CORE, dao_core::mock_contract());
    host.store_code(VOTING, mock_voting(powers.clone()));
    host.store_code(PROPS, crate::mock_contract());
    let (alice, bob, carol, dave, vetoer) =
        (mock_addr("alice"), mock_addr("bob"), mock_addr("carol"), mock_addr("dave"), mock_addr("vetoer"));
    for (a, p) in [(alice, 50), (bob, 30), (carol, 15), (dave, 5), (Addr::ZERO, 100)] {
        powers.borrow_mut().insert((a, 1), p);
        host.set_balance(a, 1000);
    }
    let mut cfg = config();
    edit(&mut cfg);
    let msg = json!({
        "name": "DAO",
        "voting": {"code_hash": hex(VOTING), "label": "voting", "msg": {}},
        "proposals": [{"code_hash": hex(PROPS), "label": "single", "msg": cfg}],
    });
    host.set_block_height(H0);
    host.set_block_time_ms(T0);
    let dao = host.instantiate_code(CORE, alice, "dao", 0, &serde_json::to_vec(&msg).unwrap()).unwrap();
    let module = agora_sdk::contract_address(&PROPS, &dao, "single");
    host.set_balance(dao, 1000);
    host.take_events();
    T { host, powers, dao, module, alice, bob, carol, dave, vetoer }
}

pub fn setup() -> T {
    setup_with(|_| {})
}

impl T {
    /// Moves to `T0 + ms`, one block later.
    pub fn at(&self, ms: u64) {
        self.host.set_block_time_ms(T0 + ms);
        self.host.set_block_height(self.host.block_height() + 1);
    }
    pub fn exec(&self, sender: Addr, funds: u128, msg: Value) -> Result<Vec<u8>, String> {
        self.host.execute_json(self.module, sender, funds, &msg)
    }
    pub fn propose_with(&self, sender: Addr, funds: u128, msgs: Value) -> Result<u64, String> {
        let out = self.exec(sender, funds, json!({"propose": {"title": "t", "description": "d", "msgs": msgs}}))?;
        Ok(String::from_utf8(out).unwrap().parse().unwrap())
    }
    pub fn propose(&self, msgs: Value) -> u64 {
        self.propose_with(self.alice, DEPOSIT, msgs).unwrap()
    }
    pub fn vote(&self, voter: Addr, id: u64, option: &str) -> Result<Vec<u8>, String> {
        self.exec(voter, 0, json!({"vote": {"proposal_id": id, "option": option}}))
    }
    pub fn act(&self, sender: Addr, action: &str, id: u64) -> Result<Vec<u8>, String> {
        self.exec(sender, 0, json!({action: {"proposal_id": id}}))
    }
    pub fn proposal(&self, id: u64) -> Value {
        self.host.query_json(self.module, &json!({"proposal": {"proposal_id": id}})).unwrap()
    }
    pub fn status(&self, id: u64) -> String {
        self.proposal(id)["status"].as_str().unwrap().to_owned()
    }
    pub fn q(&self, msg: Value) -> Result<Value, String> {
        self.host.query_json(self.module, &msg)
    }
    /// Events of this module since the last call, by kind.
    pub fn events(&self) -> Vec<Event> {
        self.host.take_events().into_iter().filter(|e| e.contract == self.module).collect()
    }
    pub fn transfer(&self, to: Addr, amount: u128) -> Value {
        json!([{"transfer": {"to": to, "amount": amount.to_string()}}])
    }
    /// Gives `addr` `power` from `height` on.
    pub fn set_power(&self, addr: Addr, height: u64, power: u128) {
        self.powers.borrow_mut().insert((addr, height), power);
    }
}
