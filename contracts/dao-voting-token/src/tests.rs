#![allow(clippy::unwrap_used)]

use super::*;
use agora_sdk::testing::{MockContract, MockHost, mock_addr};
use agora_sdk::{call_json, query_contract};
use dao_types::VotingQuery;
use serde_json::{Value, json};

struct T {
    host: MockHost,
    token: Addr,
    me: Addr,
    dao: Addr,
    alice: Addr,
    bob: Addr,
}

const SUPPLY_EACH: u128 = 10_000;

mod locks;

fn setup(unstaking_blocks: u64) -> T {
    let host = MockHost::new();
    let (token, me, dao) = (mock_addr("token"), mock_addr("voting"), mock_addr("dao"));
    let (alice, bob) = (mock_addr("alice"), mock_addr("bob"));
    let holders: Vec<Value> = ["alice", "bob", "carol", "dave", "lender"]
        .iter()
        .map(|n| json!({"address": mock_addr(n), "amount": SUPPLY_EACH.to_string()}))
        .collect();
    let init = json!({"name": "Gov", "symbol": "GOV", "decimals": 6, "initial_balances": holders});
    host.instantiate_json(token::mock_contract(), token, mock_addr("owner"), 0, &init).unwrap();
    let init = json!({"token": token, "unstaking_blocks": unstaking_blocks});
    host.instantiate_json(mock_contract(), me, dao, 0, &init).unwrap();
    host.take_events();
    T { host, token, me, dao, alice, bob }
}

impl T {
    fn exec(&self, who: Addr, msg: Value) -> Result<Vec<u8>, String> {
        self.host.execute_json(self.me, who, 0, &msg)
    }
    fn approve(&self, who: Addr, amount: u128) {
        let msg = json!({"approve": {"spender": self.me, "amount": amount.to_string()}});
        self.host.execute_json(self.token, who, 0, &msg).unwrap();
    }
    fn stake(&self, who: Addr, amount: u128) -> Result<Vec<u8>, String> {
        self.exec(who, json!({"stake": {"amount": amount.to_string()}}))
    }
    fn unstake(&self, who: Addr, amount: u128) -> Result<Vec<u8>, String> {
        self.exec(who, json!({"unstake": {"amount": amount.to_string()}}))
    }
    fn q(&self, msg: Value) -> Result<Value, String> {
        self.host.query_json(self.me, &msg)
    }
    fn num(v: &Value, field: &str) -> u128 {
        v[field].as_str().unwrap().parse().unwrap()
    }
    /// Voting power at `height`, by an RPC query.
    fn power(&self, who: Addr, height: u64) -> u128 {
        let v = self.q(json!({"voting_power_at_height": {"address": who, "height": height}})).unwrap();
        assert_eq!(v["height"], json!(height));
        T::num(&v, "power")
    }
    fn total(&self, height: u64) -> u128 {
        let v = self.q(json!({"total_power_at_height": {"height": height}})).unwrap();
        assert_eq!(v["height"], json!(height));
        T::num(&v, "power")
    }
    fn staked(&self, who: Addr) -> u128 {
        T::num(&self.q(json!({"staked": {"address": who}})).unwrap(), "staked")
    }
    fn total_staked(&self) -> u128 {
        T::num(&self.q(json!({"total_staked": {}})).unwrap(), "total_staked")
    }
    fn balance(&self, who: Addr) -> u128 {
        let v: Value = self.host.query_json(self.token, &json!({"balance": {"address": who}})).unwrap();
        T::num(&v, "balance")
    }
    /// Number of checkpoints stored for `who`.
    fn checkpoints(&self, who: Addr) -> usize {
        let mut prefix = b"\x00\x06staked\x00\x14".to_vec();
        prefix.extend_from_slice(who.as_bytes());
        self.host.storage(self.me).keys().filter(|k| k.starts_with(&prefix)).count()
    }
    fn total_checkpoints(&self) -> usize {
        self.host.storage(self.me).keys().filter(|k| k.starts_with(b"\x00\x05total")).count()
    }
}

#[test]
fn instantiate_checks_the_token_and_stores_the_dao() {
    let t = setup(7);
    assert_eq!(t.q(json!({"dao": {}})).unwrap(), json!({"dao": t.dao.to_string()}));
    assert_eq!(t.q(json!({"info": {}})).unwrap(), json!({"kind": "dao-voting-token", "version": "1", "locks": true}));
    assert_eq!(t.q(json!({"token": {}})).unwrap(), json!({"token": t.token.to_string()}));
    let cfg = json!({"dao": t.dao.to_string(), "token": t.token.to_string(), "unstaking_blocks": 7});
    assert_eq!(t.q(json!({"config": {}})).unwrap(), cfg);
    assert_eq!((t.total_staked(), t.staked(t.alice), t.total(1), t.power(t.alice, 1)), (0, 0, 0, 0));

    // Default unstaking_blocks is 0.
    let other = mock_addr("other");
    t.host.instantiate_json(mock_contract(), other, t.dao, 0, &json!({"token": t.token})).unwrap();
    let cfg: Config = t.host.query_json(other, &json!({"config": {}})).unwrap();
    assert_eq!(cfg, Config { dao: t.dao, token: t.token, unstaking_blocks: 0 });

    // A contract that does not answer token_info (this very module) and a plain account.
    let (bad, garbage) = (mock_addr("bad"), mock_addr("garbage"));
    t.host.register(garbage, MockContract::new().query(|_| Ok(b"{\"balance\":\"1\"}".to_vec())));
    let nobody = mock_addr("nobody");
    let huge = MAX_UNSTAKING_BLOCKS + 1;
    for (msg, want) in [
        (json!({"token": nobody}), format!("token {nobody} is not a contract")),
        (json!({"token": t.me}), format!("token {} does not answer token_info: ", t.me)),
        (json!({"token": garbage}), format!("token {garbage} does not answer token_info: invalid JSON: missing field")),
        (
            json!({"token": t.token, "unstaking_blocks": huge}),
            format!("unstaking_blocks must be at most 100000000, got {huge}"),
        ),
        (json!({"token": t.token, "owner": t.dao}), "invalid message: unknown field `owner`".to_owned()),
        (json!({"token": "agora1nope"}), "invalid message: invalid address".to_owned()),
        (json!({"unstaking_blocks": 1}), "invalid message: missing field `token`".to_owned()),
        (json!({"token": t.token, "unstaking_blocks": -1}), "invalid message: invalid value".to_owned()),
    ] {
        let err = t.host.instantiate_json(mock_contract(), bad, t.dao, 0, &msg).unwrap_err();
        assert!(err.starts_with(&want), "{msg}: {err}");
        assert!(t.host.storage(bad).is_empty());
    }
}

#[test]
fn stake_requires_approve() {
    let t = setup(0);
    t.host.set_block_height(5);
    let err = t.stake(t.alice, 100).unwrap_err();
    assert_eq!(
        err,
        format!(
            "token transfer_from failed: allowance exceeded: {} may spend 0 of {}'s tokens, needs 100",
            t.me, t.alice
        )
    );
    assert_eq!((t.staked(t.alice), t.total_staked(), t.checkpoints(t.alice), t.total_checkpoints()), (0, 0, 0, 0));
    t.approve(t.alice, 60);
    let err = t.stake(t.alice, 100).unwrap_err();
    assert!(err.starts_with("token transfer_from failed: allowance exceeded"), "{err}");
    t.approve(t.alice, 100);
    t.stake(t.alice, 100).unwrap();
    assert_eq!((t.staked(t.alice), t.total_staked()), (100, 100));
    assert_eq!((t.balance(t.alice), t.balance(t.me)), (SUPPLY_EACH - 100, 100));
    let ev: Vec<_> = t.host.take_events().into_iter().filter(|e| e.contract == t.me).collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, "stake");
    let attrs: Vec<(&str, &str)> = ev[0].attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let who = t.alice.to_string();
    assert_eq!(
        attrs,
        [("address", who.as_str()), ("amount", "100"), ("staked", "100"), ("total_staked", "100"), ("height", "5")]
    );
    // The allowance is used up; staking more needs a new approve. Not enough tokens: the token's reason.
    assert!(t.stake(t.alice, 1).unwrap_err().starts_with("token transfer_from failed: allowance exceeded"));
    t.approve(t.alice, SUPPLY_EACH);
    let err = t.stake(t.alice, SUPPLY_EACH).unwrap_err();
    assert_eq!(
        err,
        format!("token transfer_from failed: insufficient balance: have {}, need 10000", SUPPLY_EACH - 100)
    );
    assert_eq!(t.staked(t.alice), 100);
}

#[test]
fn power_follows_checkpoints_at_past_heights() {
    let t = setup(0);
    t.approve(t.alice, 1000);
    t.approve(t.bob, 1000);
    t.host.set_block_height(5);
    t.stake(t.alice, 100).unwrap();
    // The checkpoint's key: map prefix ‖ u16 20 ‖ address ‖ (u64::MAX - 5) big-endian; value JSON.
    let mut key = b"\x00\x06staked\x00\x14".to_vec();
    key.extend_from_slice(t.alice.as_bytes());
    key.extend_from_slice(&(u64::MAX - 5).to_be_bytes());
    assert_eq!(t.host.storage_get(t.me, &key), Some(b"100".to_vec()));
    let mut key = b"\x00\x05total".to_vec();
    key.extend_from_slice(&(u64::MAX - 5).to_be_bytes());
    assert_eq!(t.host.storage_get(t.me, &key), Some(b"100".to_vec()));

    t.host.set_block_height(8);
    t.stake(t.alice, 50).unwrap();
    t.stake(t.bob, 30).unwrap();
    t.host.set_block_height(12);
    t.unstake(t.alice, 120).unwrap();
    t.host.set_block_height(20);
    let alice: Vec<u128> = (0..=14).map(|h| t.power(t.alice, h)).collect();
    assert_eq!(alice, [0, 0, 0, 0, 0, 100, 100, 100, 150, 150, 150, 150, 30, 30, 30]);
    let bob: Vec<u128> = (6..=10).map(|h| t.power(t.bob, h)).collect();
    assert_eq!(bob, [0, 0, 30, 30, 30]);
    let total: Vec<u128> = (3..=13).map(|h| t.total(h)).collect();
    assert_eq!(total, [0, 0, 100, 100, 100, 180, 180, 180, 180, 60, 60]);
    assert_eq!((t.power(t.alice, 20), t.total(20), t.staked(t.alice), t.total_staked()), (30, 60, 30, 60));
    assert_eq!((t.checkpoints(t.alice), t.checkpoints(t.bob), t.total_checkpoints()), (3, 1, 3));
    assert_eq!(t.power(mock_addr("nobody"), 20), 0);
}

#[test]
fn several_changes_in_one_block_overwrite_one_checkpoint() {
    let t = setup(0);
    t.approve(t.alice, 1000);
    t.host.set_block_height(3);
    t.stake(t.alice, 10).unwrap();
    t.host.set_block_height(9);
    for amount in [1, 2, 3, 4] {
        t.stake(t.alice, amount).unwrap();
    }
    t.unstake(t.alice, 5).unwrap();
    assert_eq!((t.checkpoints(t.alice), t.total_checkpoints()), (2, 2));
    assert_eq!((t.power(t.alice, 8), t.power(t.alice, 9), t.total(8), t.total(9)), (10, 15, 10, 15));
    t.host.set_block_height(10);
    assert_eq!((t.power(t.alice, 9), t.power(t.alice, 10), t.staked(t.alice)), (15, 15, 15));
}

#[test]
fn flash_loan_within_one_block_counts_nothing() {
    let t = setup(0);
    let lender = mock_addr("lender");
    t.approve(t.alice, 10);
    t.host.set_block_height(4);
    t.stake(t.alice, 10).unwrap();

    // Separate transactions in block 7: borrow 5000, stake, unstake, return.
    t.host.set_block_height(7);
    let send = |to: Addr| json!({"transfer": {"recipient": to, "amount": "5000"}});
    t.host.execute_json(t.token, lender, 0, &send(t.alice)).unwrap();
    t.approve(t.alice, 5000);
    t.stake(t.alice, 5000).unwrap();
    assert_eq!((t.staked(t.alice), t.power(t.alice, 6), t.total(6)), (5010, 10, 10));
    t.unstake(t.alice, 5000).unwrap();
    t.host.execute_json(t.token, t.alice, 0, &send(lender)).unwrap();
    assert_eq!((t.balance(t.alice), t.balance(lender)), (SUPPLY_EACH - 10, SUPPLY_EACH));
    assert_eq!((t.power(t.alice, 6), t.power(t.alice, 7), t.total(6), t.total(7)), (10, 10, 10, 10));
    assert_eq!(t.checkpoints(t.alice), 2);

    // One transaction in block 9: a contract borrows, stakes, asks for its power, unstakes, repays.
    let attacker = mock_addr("attacker");
    t.host.execute_json(t.token, lender, 0, &send(attacker)).unwrap();
    t.host.set_block_height(9);
    let (token, me) = (t.token, t.me);
    t.host.register(
        attacker,
        MockContract::new().execute(move |_| {
            let h = agora_sdk::block_height();
            let run = |to: &Addr, msg: Value| call_json(to, &msg, 0, 0).map_err(ContractError::into_message);
            let power = |height: u64| {
                let q = json!({"voting_power_at_height": {"address": attacker, "height": height}});
                query_contract(&me, &serde_json::to_vec(&q).unwrap()).map(|d| String::from_utf8(d).unwrap())
            };
            run(&token, json!({"approve": {"spender": me, "amount": "5000"}}))?;
            run(&me, json!({"stake": {"amount": "5000"}}))?;
            let (now, before) = (power(h), power(h - 1));
            let total = query_contract(&me, br#"{"total_power_at_height":{"height":8}}"#).unwrap();
            run(&me, json!({"unstake": {"amount": "5000"}}))?;
            run(&token, json!({"transfer": {"recipient": mock_addr("lender"), "amount": "5000"}}))?;
            let out = json!({"now": format!("{now:?}"), "before": format!("{before:?}"), "total": String::from_utf8(total).unwrap()});
            Ok(serde_json::to_vec(&out).unwrap())
        }),
    );
    let out: Value = serde_json::from_slice(&t.host.execute(attacker, t.bob, 0, b"go").unwrap()).unwrap();
    let refused =
        "height 9 is not a committed block yet (the last one is 8): voting power is only read at past heights";
    assert_eq!(out["now"], json!(format!("Err({refused:?})")));
    assert_eq!(out["before"], json!(format!("Ok({:?})", r#"{"power":"0","height":8}"#)));
    assert_eq!(out["total"], json!(r#"{"power":"10","height":8}"#));
    assert_eq!((t.power(attacker, 8), t.power(attacker, 9), t.total(8), t.total(9)), (0, 0, 10, 10));
    assert_eq!((t.balance(attacker), t.balance(lender), t.balance(t.me)), (0, SUPPLY_EACH, 10));
}

#[test]
fn unstake_is_checked_and_returns_tokens_at_once() {
    let t = setup(0);
    t.approve(t.alice, 100);
    t.host.set_block_height(2);
    t.stake(t.alice, 100).unwrap();
    t.host.take_events();
    let err = t.unstake(t.alice, 101).unwrap_err();
    assert_eq!(err, format!("cannot unstake 101: {} has 100 staked", t.alice));
    let err = t.unstake(t.bob, 1).unwrap_err();
    assert_eq!(err, format!("cannot unstake 1: {} has 0 staked", t.bob));
    assert_eq!(t.unstake(t.alice, 0).unwrap_err(), "amount must be greater than zero");
    assert_eq!(t.stake(t.alice, 0).unwrap_err(), "amount must be greater than zero");
    let err = t.unstake(t.alice, u128::MAX).unwrap_err();
    assert_eq!(err, format!("cannot unstake {}: {} has 100 staked", u128::MAX, t.alice));
    assert!(t.host.events().is_empty());
    t.host.set_block_height(3);
    t.unstake(t.alice, 40).unwrap();
    assert_eq!((t.staked(t.alice), t.balance(t.alice), t.balance(t.me)), (60, SUPPLY_EACH - 60, 60));
    let ev = t.host.take_events();
    let unstake = ev.iter().find(|e| e.contract == t.me).unwrap();
    assert_eq!(unstake.kind, "unstake");
    assert_eq!(
        (unstake.attr("amount"), unstake.attr("staked"), unstake.attr("release_at")),
        (Some("40"), Some("60"), Some("3"))
    );
    assert_eq!(t.q(json!({"claims": {"address": t.alice}})).unwrap(), json!({"claims": []}));
    let err = t.exec(t.alice, json!({"claim": {}})).unwrap_err();
    assert_eq!(err, format!("nothing to claim: {} has no claims", t.alice));
    t.unstake(t.alice, 60).unwrap();
    assert_eq!((t.staked(t.alice), t.total_staked(), t.balance(t.alice)), (0, 0, SUPPLY_EACH));
    assert_eq!((t.power(t.alice, 2), t.power(t.alice, 3)), (100, 0));
}

#[test]
fn claims_mature_at_the_right_height() {
    let t = setup(10);
    t.approve(t.alice, 1000);
    t.host.set_block_height(5);
    t.stake(t.alice, 1000).unwrap();
    t.host.set_block_height(6);
    t.unstake(t.alice, 300).unwrap();
    t.host.set_block_height(9);
    t.unstake(t.alice, 200).unwrap();
    // Power drops at once; the tokens stay in the module.
    assert_eq!((t.power(t.alice, 5), t.power(t.alice, 6), t.power(t.alice, 9)), (1000, 700, 500));
    assert_eq!((t.balance(t.alice), t.balance(t.me), t.total_staked()), (SUPPLY_EACH - 1000, 1000, 500));
    let claims = json!({"claims": [{"amount": "300", "release_at": 16}, {"amount": "200", "release_at": 19}]});
    assert_eq!(t.q(json!({"claims": {"address": t.alice}})).unwrap(), claims);
    let claim = || t.exec(t.alice, json!({"claim": {}}));
    for h in [9, 12, 15] {
        t.host.set_block_height(h);
        assert_eq!(claim().unwrap_err(), "nothing to claim yet: the next claim is released at height 16");
    }
    t.host.set_block_height(16);
    t.host.take_events();
    claim().unwrap();
    assert_eq!((t.balance(t.alice), t.balance(t.me)), (SUPPLY_EACH - 700, 700));
    let ev = t.host.take_events().into_iter().find(|e| e.contract == t.me).unwrap();
    assert_eq!((ev.kind.as_str(), ev.attr("amount"), ev.attr("claims")), ("claim", Some("300"), Some("1")));
    assert_eq!(claim().unwrap_err(), "nothing to claim yet: the next claim is released at height 19");
    t.host.set_block_height(18);
    assert!(claim().is_err());
    t.host.set_block_height(40);
    claim().unwrap();
    assert_eq!((t.balance(t.alice), t.balance(t.me)), (SUPPLY_EACH - 500, 500));
    assert_eq!(t.q(json!({"claims": {"address": t.alice}})).unwrap(), json!({"claims": []}));
    assert_eq!(claim().unwrap_err(), format!("nothing to claim: {} has no claims", t.alice));

    // At most MAX_CLAIMS open claims; matured ones are paid together.
    for i in 0..MAX_CLAIMS as u64 {
        t.host.set_block_height(41 + i);
        t.unstake(t.alice, 1).unwrap();
    }
    let err = t.unstake(t.alice, 1).unwrap_err();
    assert_eq!(err, format!("{} already has 32 open claims: claim the matured ones first", t.alice));
    // Released at 51..=82: at 75, 25 have matured.
    t.host.set_block_height(75);
    claim().unwrap();
    assert_eq!((t.balance(t.alice), t.staked(t.alice)), (SUPPLY_EACH - 500 + 25, 500 - 32));
    let open = t.q(json!({"claims": {"address": t.alice}})).unwrap();
    assert_eq!(open["claims"].as_array().unwrap().len(), 7);
    assert_eq!(open["claims"][0], json!({"amount": "1", "release_at": 76}));
    t.unstake(t.alice, 1).unwrap();
}

#[test]
fn future_heights_are_refused_in_execute_context() {
    let t = setup(0);
    let prober = mock_addr("prober");
    let me = t.me;
    t.host.register(prober, MockContract::new().execute(move |msg| query_contract(&me, msg)));
    t.approve(t.alice, 100);
    t.host.set_block_height(4);
    t.stake(t.alice, 100).unwrap();
    t.host.set_block_height(10);
    let ask = |h: u64| json!({"voting_power_at_height": {"address": t.alice, "height": h}});
    let out = t.host.execute_json(prober, t.bob, 0, &ask(9)).unwrap();
    assert_eq!(out, br#"{"power":"100","height":9}"#);
    for h in [10, 11, u64::MAX] {
        let err = t.host.execute_json(prober, t.bob, 0, &ask(h)).unwrap_err();
        let want = format!(
            "height {h} is not a committed block yet (the last one is 9): voting power is only read at past heights"
        );
        assert_eq!(err, want);
        let err = t.host.execute_json(prober, t.bob, 0, &json!({"total_power_at_height": {"height": h}})).unwrap_err();
        assert_eq!(err, want);
    }
    // An RPC query may read the last committed block, not beyond.
    assert_eq!((t.power(t.alice, 10), t.total(10)), (100, 100));
    let err = t.q(json!({"total_power_at_height": {"height": 11}})).unwrap_err();
    assert!(err.starts_with("height 11 is not a committed block yet (the last one is 10)"), "{err}");
}

#[test]
fn randomized_totals_agree_with_the_stakers_at_every_height() {
    let t = setup(0);
    let stakers: Vec<Addr> = ["alice", "bob", "carol", "dave"].iter().map(|n| mock_addr(n)).collect();
    for s in &stakers {
        t.approve(*s, u128::from(u64::MAX));
    }
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut rand = move |n: u128| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        u128::from(seed >> 33) % n
    };
    let mut staked = [0u128; 4];
    let mut history: Vec<[u128; 4]> = vec![[0; 4]; 2]; // End-of-block values, by height.
    let (mut stakes, mut unstakes) = (0, 0);
    for h in 2..=61u64 {
        t.host.set_block_height(h);
        for _ in 0..rand(4) {
            let i = rand(4) as usize;
            let free = SUPPLY_EACH - staked[i];
            if rand(2) == 0 && free > 0 {
                let amount = 1 + rand(free);
                t.stake(stakers[i], amount).unwrap();
                staked[i] += amount;
                stakes += 1;
            } else if staked[i] > 0 {
                let amount = 1 + rand(staked[i]);
                t.unstake(stakers[i], amount).unwrap();
                staked[i] -= amount;
                unstakes += 1;
            }
        }
        history.push(staked);
    }
    assert!(stakes > 20 && unstakes > 20, "{stakes} stakes, {unstakes} unstakes");
    t.host.set_block_height(70);
    for h in 0..=70u64 {
        let want = history[(h as usize).min(61)];
        let powers: Vec<u128> = stakers.iter().map(|s| t.power(*s, h)).collect();
        assert_eq!(powers, want, "height {h}");
        assert_eq!(t.total(h), want.iter().sum::<u128>(), "height {h}");
    }
    assert_eq!(t.total_staked(), staked.iter().sum::<u128>());
    assert_eq!(t.balance(t.me), t.total_staked());
    for (s, v) in stakers.iter().zip(staked) {
        assert_eq!((t.staked(*s), t.balance(*s) + v), (v, SUPPLY_EACH));
    }
}

#[test]
fn hostile_inputs() {
    let t = setup(0);
    t.approve(t.alice, u128::MAX);
    let err = t.stake(t.alice, u128::MAX).unwrap_err();
    assert_eq!(err, format!("token transfer_from failed: insufficient balance: have 10000, need {}", u128::MAX));
    for (msg, want) in [
        (json!({"stake": {"amount": "0"}}), "amount must be greater than zero"),
        (json!({"stake": {"amount": "-5"}}), "invalid message: `-5` is not a whole non-negative number"),
        (json!({"stake": {"amount": "1e3"}}), "invalid message: `1e3` is not a whole non-negative number"),
        (
            json!({"stake": {"amount": format!("{}0", u128::MAX)}}),
            "invalid message: `3402823669209384634633746074317682114550` is larger",
        ),
        (json!({"stake": {"amount": "1", "for": t.bob}}), "invalid message: unknown field `for`"),
        (json!({"stake": {}}), "invalid message: missing field `amount`"),
        (json!({"claim": {"all": true}}), "invalid message: unknown field `all`"),
        (json!({"transfer": {"recipient": t.bob, "amount": "1"}}), "invalid message: unknown variant `transfer`"),
    ] {
        let err = t.exec(t.alice, msg.clone()).unwrap_err();
        assert!(err.starts_with(want), "{msg}: {err}");
    }
    for (msg, want) in [
        (json!({"staked": {}}), "invalid message: missing field `address`"),
        (json!({"voting_power_at_height": {"address": t.alice, "height": "1"}}), "invalid message: invalid type"),
        (json!({"total_staked": {"x": 1}}), "invalid message: unknown field `x`"),
        (json!({"balance": {"address": t.alice}}), "invalid message: unknown variant `balance`"),
    ] {
        let err = t.q(msg.clone()).unwrap_err();
        assert!(err.starts_with(want), "{msg}: {err}");
    }
    // Tokens of another token contract sent to the module are not stake.
    let fake = mock_addr("fake");
    let init = json!({"name": "Fake", "symbol": "FAKE", "decimals": 0, "initial_balances": [{"address": t.alice, "amount": "99"}]});
    t.host.instantiate_json(token::mock_contract(), fake, t.alice, 0, &init).unwrap();
    t.host.execute_json(fake, t.alice, 0, &json!({"transfer": {"recipient": t.me, "amount": "99"}})).unwrap();
    assert_eq!((t.staked(t.alice), t.total_staked(), t.balance(t.me)), (0, 0, 0));
    assert_eq!((t.checkpoints(t.alice), t.total_checkpoints()), (0, 0));
}

#[test]
fn every_voting_query_is_understood() {
    let t = setup(0);
    t.approve(t.alice, 5);
    t.stake(t.alice, 5).unwrap();
    t.host.set_block_height(2);
    let answers: Vec<Value> = [
        VotingQuery::VotingPowerAtHeight { address: t.alice, height: 1 },
        VotingQuery::TotalPowerAtHeight { height: 1 },
        VotingQuery::Dao {},
        VotingQuery::Info {},
    ]
    .iter()
    .map(|q| t.host.query_json(t.me, q).unwrap())
    .collect();
    assert_eq!(answers[0], json!({"power": "5", "height": 1}));
    let p: PowerResponse = serde_json::from_value(answers[1].clone()).unwrap();
    assert_eq!(p, PowerResponse { power: Uint128(5), height: 1 });
    let d: DaoResponse = serde_json::from_value(answers[2].clone()).unwrap();
    assert_eq!(d.dao, t.dao);
    let i: InfoResponse = serde_json::from_value(answers[3].clone()).unwrap();
    assert_eq!((i.kind.as_str(), i.version.as_str()), (KIND, VERSION));
    assert!(i.locks);
    // The shared answer type still reads it.
    let i: dao_types::InfoResponse = serde_json::from_value(answers[3].clone()).unwrap();
    assert_eq!((i.kind.as_str(), i.version.as_str()), (KIND, VERSION));
}
