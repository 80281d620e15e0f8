#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::*;
use agora_sdk::testing::{MockContract, MockHost, mock_addr};
use serde_json::{Value, json};

/// `(address, height)` → voting power from that height on (the mock voting module's checkpoints).
type Powers = Rc<RefCell<BTreeMap<(Addr, u64), u128>>>;

struct T {
    host: MockHost,
    me: Addr,
    dao: Addr,
    voting: Addr,
    powers: Powers,
    /// A contract whose `execute` forwards its message as a query to this
    /// module: a proposal module reading delegations during a transaction.
    prober: Addr,
}

#[derive(Deserialize)]
struct VotingPowerAtHeight {
    voting_power_at_height: PowerAsk,
}

#[derive(Deserialize)]
struct PowerAsk {
    address: Addr,
    height: u64,
}

fn setup() -> T {
    let host = MockHost::new();
    let (me, dao, voting, prober) =
        (mock_addr("delegation"), mock_addr("dao"), mock_addr("voting"), mock_addr("prober"));
    let powers: Powers = Rc::default();
    let p = powers.clone();
    host.register(
        voting,
        MockContract::new().query(move |msg| {
            let ask: VotingPowerAtHeight = serde_json::from_slice(msg).map_err(|e| e.to_string())?;
            let PowerAsk { address, height } = ask.voting_power_at_height;
            let p = p.borrow();
            let power = p.range((address, 0)..=(address, height)).next_back().map_or(0, |(_, v)| *v);
            Ok(format!(r#"{{"power":"{power}","height":{height}}}"#).into_bytes())
        }),
    );
    host.register(
        dao,
        MockContract::new().query(move |msg| {
            assert_eq!(msg, br#"{"voting_module":{}}"#);
            Ok(format!(r#"{{"address":"{voting}"}}"#).into_bytes())
        }),
    );
    host.register(prober, MockContract::new().execute(move |msg| agora_sdk::query_contract(&me, msg)));
    host.instantiate(mock_contract(), me, dao, 0, b"{}").unwrap();
    host.set_block_height(10);
    T { host, me, dao, voting, powers, prober }
}

/// `n` addresses sorted by their bytes.
fn addrs(prefix: &str, n: usize) -> Vec<Addr> {
    let mut v: Vec<Addr> = (0..n).map(|i| mock_addr(&format!("{prefix}{i}"))).collect();
    v.sort();
    v
}

impl T {
    fn delegate(&self, from: Addr, to: Addr, bps: u64) -> Result<Vec<u8>, String> {
        self.host.execute_json(self.me, from, 0, &json!({"delegate": {"delegate": to, "bps": bps}}))
    }
    fn undelegate(&self, from: Addr, to: Option<Addr>) -> Result<Vec<u8>, String> {
        let msg = match to {
            Some(to) => json!({"undelegate": {"delegate": to}}),
            None => json!({"undelegate": {}}),
        };
        self.host.execute_json(self.me, from, 0, &msg)
    }
    fn q(&self, msg: Value) -> Result<Value, String> {
        self.host.query_json(self.me, &msg)
    }
    /// The same query made by a contract during a transaction.
    fn q_in_tx(&self, msg: Value) -> Result<Value, String> {
        let data = self.host.execute_json(self.prober, mock_addr("anyone"), 0, &msg)?;
        Ok(serde_json::from_slice(&data).unwrap())
    }
    fn delegations(&self, who: Addr, height: Option<u64>) -> Vec<(Addr, u16)> {
        let r: DelegationsResponse =
            self.host.query_json(self.me, &json!({"delegations": {"delegator": who, "height": height}})).unwrap();
        r.delegations.into_iter().map(|d| (d.delegate, d.bps)).collect()
    }
    fn delegators(&self, who: Addr, height: Option<u64>) -> Vec<(Addr, u16)> {
        let r: DelegatorsResponse =
            self.host.query_json(self.me, &json!({"delegators": {"delegate": who, "height": height}})).unwrap();
        r.delegators.into_iter().map(|d| (d.delegator, d.bps)).collect()
    }
    fn power(&self, who: Addr, height: u64) -> Result<DelegatedPowerResponse, String> {
        self.host.query_json(self.me, &json!({"delegated_power": {"delegate": who, "height": height}}))
    }
    fn set_power(&self, who: Addr, height: u64, power: u128) {
        self.powers.borrow_mut().insert((who, height), power);
    }
    /// Number of checkpoints stored under `tag` for `who`.
    fn checkpoints(&self, tag: u8, who: Addr) -> usize {
        let mut prefix = vec![tag];
        prefix.extend_from_slice(who.as_bytes());
        self.host.storage(self.me).keys().filter(|k| k.starts_with(&prefix)).count()
    }
}

#[test]
fn instantiate_stores_the_dao() {
    let t = setup();
    assert_eq!(t.q(json!({"dao": {}})).unwrap(), json!({"dao": t.dao.to_string()}));
    assert_eq!(t.q(json!({"info": {}})).unwrap(), json!({"kind": "dao-delegation", "version": "1"}));
    // An explicit DAO, instantiated by anyone.
    let other = mock_addr("other");
    t.host.instantiate_json(mock_contract(), other, mock_addr("alice"), 0, &json!({"dao": t.voting})).unwrap();
    assert_eq!(t.host.query_json::<_, Value>(other, &json!({"dao": {}})).unwrap(), json!({"dao": t.voting}));
    let (bad, alice) = (mock_addr("bad"), mock_addr("alice"));
    for (sender, msg, want) in [
        (alice, json!({}), format!("dao {alice} is not a contract")),
        (t.dao, json!({"dao": alice}), format!("dao {alice} is not a contract")),
        (t.dao, json!({"dao": "agora1nope"}), "invalid message: invalid address".to_owned()),
        (t.dao, json!({"owner": alice}), "invalid message: unknown field `owner`".to_owned()),
    ] {
        let err = t.host.instantiate_json(mock_contract(), bad, sender, 0, &msg).unwrap_err();
        assert!(err.starts_with(&want), "{msg}: {err}");
        assert!(t.host.storage(bad).is_empty());
    }
}

#[test]
fn delegations_are_listed_sorted_with_events() {
    let t = setup();
    let alice = mock_addr("alice");
    let ds = addrs("d", 3);
    t.host.take_events();
    t.delegate(alice, ds[2], 3000).unwrap();
    t.delegate(alice, ds[0], 1000).unwrap();
    t.delegate(alice, ds[1], 2000).unwrap();
    assert_eq!(t.delegations(alice, None), [(ds[0], 1000), (ds[1], 2000), (ds[2], 3000)]);
    let want = json!({"delegations": [{"delegate": ds[0], "bps": 1000}, {"delegate": ds[1], "bps": 2000},
        {"delegate": ds[2], "bps": 3000}]});
    assert_eq!(t.q(json!({"delegations": {"delegator": alice}})).unwrap(), want);
    let bs = addrs("b", 3);
    for (i, b) in bs.iter().enumerate().rev() {
        t.delegate(*b, ds[0], 100 * (i as u64 + 1)).unwrap();
    }
    let mut want: Vec<(Addr, u16)> = bs.iter().enumerate().map(|(i, b)| (*b, 100 * (i as u16 + 1))).collect();
    want.push((alice, 1000));
    want.sort();
    assert_eq!(t.delegators(ds[0], None), want);
    let j = t.q(json!({"delegators": {"delegate": ds[1]}})).unwrap();
    assert_eq!(j, json!({"delegators": [{"delegator": alice, "bps": 2000}]}));
    assert_eq!(t.delegations(ds[0], None), []);
    assert_eq!(t.delegators(alice, None), []);

    let ev = t.host.take_events();
    assert_eq!(ev.len(), 6);
    assert!(ev.iter().all(|e| e.contract == t.me && e.kind == "delegated"));
    let attrs: Vec<(&str, &str)> = ev[1].attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (a, d) = (alice.to_string(), ds[0].to_string());
    assert_eq!(
        attrs,
        [("delegator", a.as_str()), ("delegate", d.as_str()), ("bps", "1000"), ("total_bps", "4000"), ("height", "10")]
    );
    t.undelegate(alice, Some(ds[1])).unwrap();
    let ev = t.host.take_events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, "undelegated");
    assert_eq!((ev[0].attr("delegator"), ev[0].attr("delegate")), (Some(a.as_str()), Some(ds[1].to_string().as_str())));
}

#[test]
fn redelegation_replaces_the_share() {
    let t = setup();
    let (alice, d1, d2) = (mock_addr("alice"), mock_addr("d1"), mock_addr("d2"));
    t.delegate(alice, d1, 6000).unwrap();
    t.delegate(alice, d2, 4000).unwrap();
    // Replacing d1's 6000 by 7000 would make 11000.
    let err = t.delegate(alice, d1, 7000).unwrap_err();
    assert_eq!(err, "shares would sum to 11000 bps, more than 10000");
    t.delegate(alice, d1, 5000).unwrap();
    t.delegate(alice, d2, 5000).unwrap();
    let mut want = vec![(d1, 5000), (d2, 5000)];
    want.sort();
    assert_eq!(t.delegations(alice, None), want);
    assert_eq!(t.delegators(d1, None), [(alice, 5000)]);
    assert_eq!(t.delegators(d2, None), [(alice, 5000)]);
    // The same share again is accepted (a no-op but for the event).
    t.delegate(alice, d1, 5000).unwrap();
    assert_eq!(t.delegators(d1, None), [(alice, 5000)]);
}

#[test]
fn hostile_delegations_are_refused() {
    let t = setup();
    let (alice, d) = (mock_addr("alice"), mock_addr("d"));
    assert_eq!(t.delegate(alice, alice, 100).unwrap_err(), "cannot delegate to oneself");
    for bps in [0, 10_001, 65_536, u64::MAX] {
        let err = t.delegate(alice, d, bps).unwrap_err();
        assert_eq!(err, format!("bps must be 1 to 10000 (basis points of the delegator's power), got {bps}"));
    }
    for (msg, want) in [
        (json!({"delegate": {"delegate": d, "bps": -1}}), "invalid value"),
        (json!({"delegate": {"delegate": d, "bps": "100"}}), "invalid type"),
        (json!({"delegate": {"delegate": d}}), "missing field `bps`"),
        (json!({"delegate": {"delegate": "agora1xyz", "bps": 1}}), "invalid address"),
        (json!({"delegate": {"delegate": d, "bps": 1, "memo": "x"}}), "unknown field `memo`"),
        (json!({"undelegate": {"delegate": d, "all": true}}), "unknown field `all`"),
        (json!({"transfer": {}}), "unknown variant `transfer`"),
    ] {
        let err = t.host.execute_json(t.me, alice, 0, &msg).unwrap_err();
        assert!(err.starts_with("invalid message:") && err.contains(want), "{msg}: {err}");
    }
    // The whole power to one delegate is fine; anything more is not.
    t.delegate(alice, d, 10_000).unwrap();
    let err = t.delegate(alice, mock_addr("e"), 1).unwrap_err();
    assert_eq!(err, "shares would sum to 10001 bps, more than 10000");
    assert_eq!(t.delegations(alice, None), [(d, 10_000)]);
    assert_eq!(t.delegators(mock_addr("e"), None), []);
    // Nothing was written by the refused calls but the one accepted delegation.
    assert_eq!(t.host.storage(t.me).len(), 3);
}

#[test]
fn at_most_eight_delegates_per_delegator() {
    let t = setup();
    let alice = mock_addr("alice");
    let ds = addrs("d", MAX_DELEGATES + 1);
    for d in &ds[..MAX_DELEGATES] {
        t.delegate(alice, *d, 100).unwrap();
    }
    let err = t.delegate(alice, ds[MAX_DELEGATES], 100).unwrap_err();
    assert_eq!(err, format!("{alice} already delegates to 8 delegates (the maximum): undelegate one first"));
    assert_eq!(t.delegators(ds[MAX_DELEGATES], None), []);
    // Changing an existing share is still allowed at the maximum; freeing one makes room.
    t.delegate(alice, ds[0], 200).unwrap();
    t.undelegate(alice, Some(ds[1])).unwrap();
    t.delegate(alice, ds[MAX_DELEGATES], 100).unwrap();
    assert_eq!(t.delegations(alice, None).len(), MAX_DELEGATES);
}

#[test]
fn at_most_128_delegators_per_delegate() {
    let t = setup();
    let d = mock_addr("popular");
    let bs = addrs("b", MAX_DELEGATORS + 1);
    for b in &bs[..MAX_DELEGATORS] {
        t.delegate(*b, d, 1).unwrap();
    }
    let late = bs[MAX_DELEGATORS];
    assert_eq!(t.delegate(late, d, 1).unwrap_err(), format!("{d} already has 128 delegators (the maximum)"));
    assert_eq!(t.delegations(late, None), []);
    // An existing delegator may change its share; after one leaves, the late one fits.
    t.delegate(bs[5], d, 500).unwrap();
    t.undelegate(bs[0], None).unwrap();
    t.delegate(late, d, 1).unwrap();
    let list = t.delegators(d, None);
    assert_eq!(list.len(), MAX_DELEGATORS);
    assert!(list.contains(&(late, 1)) && list.contains(&(bs[5], 500)) && !list.iter().any(|s| s.0 == bs[0]));
}

#[test]
fn undelegate_one_or_all() {
    let t = setup();
    let (alice, d1, d2, d3) = (mock_addr("alice"), mock_addr("d1"), mock_addr("d2"), mock_addr("d3"));
    assert_eq!(t.undelegate(alice, None).unwrap_err(), format!("{alice} has no delegations to remove"));
    assert_eq!(t.undelegate(alice, Some(d1)).unwrap_err(), format!("{alice} does not delegate to {d1}"));
    t.delegate(alice, d1, 1000).unwrap();
    t.delegate(alice, d2, 2000).unwrap();
    t.delegate(alice, d3, 3000).unwrap();
    t.delegate(mock_addr("bob"), d2, 500).unwrap();
    assert_eq!(t.undelegate(alice, Some(alice)).unwrap_err(), format!("{alice} does not delegate to {alice}"));
    t.undelegate(alice, Some(d1)).unwrap();
    assert_eq!(t.undelegate(alice, Some(d1)).unwrap_err(), format!("{alice} does not delegate to {d1}"));
    assert_eq!(t.delegators(d1, None), []);
    t.host.take_events();
    t.undelegate(alice, None).unwrap();
    assert_eq!(t.host.take_events().iter().filter(|e| e.kind == "undelegated").count(), 2);
    assert_eq!(t.delegations(alice, None), []);
    assert_eq!(t.delegators(d2, None), [(mock_addr("bob"), 500)]);
    assert_eq!(t.delegators(d3, None), []);
    assert_eq!(t.undelegate(alice, None).unwrap_err(), format!("{alice} has no delegations to remove"));
}

#[test]
fn a_change_after_a_height_does_not_change_the_answer_at_that_height() {
    let t = setup();
    let (alice, d1, d2) = (mock_addr("alice"), mock_addr("d1"), mock_addr("d2"));
    t.host.set_block_height(5);
    t.delegate(alice, d1, 4000).unwrap();
    t.host.set_block_height(8);
    t.delegate(alice, d2, 1000).unwrap();
    t.delegate(alice, d1, 2500).unwrap();
    t.host.set_block_height(12);
    t.undelegate(alice, Some(d1)).unwrap();
    t.host.set_block_height(15);
    t.undelegate(alice, None).unwrap();
    t.host.set_block_height(20);
    let mut both = vec![(d1, 2500), (d2, 1000)];
    both.sort();
    let hist: Vec<Vec<(Addr, u16)>> = (3..=16).map(|h| t.delegations(alice, Some(h))).collect();
    let want: Vec<Vec<(Addr, u16)>> = (3..=16u64)
        .map(|h| match h {
            0..=4 => vec![],
            5..=7 => vec![(d1, 4000)],
            8..=11 => both.clone(),
            12..=14 => vec![(d2, 1000)],
            _ => vec![],
        })
        .collect();
    assert_eq!(hist, want);
    let d1_hist: Vec<Vec<(Addr, u16)>> = [4, 5, 8, 11, 12, 20].iter().map(|h| t.delegators(d1, Some(*h))).collect();
    assert_eq!(d1_hist, [vec![], vec![(alice, 4000)], vec![(alice, 2500)], vec![(alice, 2500)], vec![], vec![]]);
    assert_eq!(t.delegators(d2, Some(14)), [(alice, 1000)]);
    assert_eq!(t.delegators(d2, Some(15)), []);
    // One checkpoint per block that changed the list.
    assert_eq!((t.checkpoints(OUT, alice), t.checkpoints(IN, d1), t.checkpoints(IN, d2)), (4, 3, 2));

    // A proposal created at block 30 reads height 29; a delegation in block 30 is not there.
    t.host.set_block_height(30);
    t.delegate(alice, d1, 9000).unwrap();
    let ask = json!({"delegators": {"delegate": d1, "height": 29}});
    assert_eq!(t.q_in_tx(ask.clone()).unwrap(), json!({"delegators": []}));
    t.host.set_block_height(40);
    t.delegate(alice, d1, 100).unwrap();
    assert_eq!(t.q_in_tx(ask).unwrap(), json!({"delegators": []}));
    assert_eq!(t.delegators(d1, Some(30)), [(alice, 9000)]);
    assert_eq!(t.delegators(d1, None), [(alice, 100)]);
}

#[test]
fn two_changes_in_one_block_overwrite_its_checkpoint() {
    let t = setup();
    let (alice, d) = (mock_addr("alice"), mock_addr("d"));
    t.host.set_block_height(7);
    t.delegate(alice, d, 3000).unwrap();
    t.host.set_block_height(9);
    t.delegate(alice, d, 5000).unwrap();
    t.delegate(alice, d, 6000).unwrap();
    t.undelegate(alice, None).unwrap();
    t.delegate(alice, d, 7000).unwrap();
    assert_eq!((t.checkpoints(OUT, alice), t.checkpoints(IN, d)), (2, 2));
    assert_eq!(t.delegations(alice, Some(8)), [(d, 3000)]);
    assert_eq!(t.delegations(alice, Some(9)), [(d, 7000)]);
    // Removed within the block: the block's checkpoint is the empty list.
    t.host.set_block_height(11);
    t.delegate(alice, mock_addr("e"), 10).unwrap();
    t.undelegate(alice, None).unwrap();
    assert_eq!(t.delegations(alice, Some(10)), [(d, 7000)]);
    assert_eq!(t.delegations(alice, Some(11)), []);
    assert_eq!(t.delegators(d, Some(11)), []);
    assert_eq!(t.delegators(mock_addr("e"), Some(11)), []);
}

#[test]
fn checkpoint_keys_and_values_are_binary() {
    let t = setup();
    let (alice, d) = (mock_addr("alice"), mock_addr("d"));
    t.delegate(alice, d, 258).unwrap();
    let mut k = vec![OUT];
    k.extend_from_slice(alice.as_bytes());
    k.extend_from_slice(&(u64::MAX - 10).to_be_bytes());
    let mut v = vec![1];
    v.extend_from_slice(d.as_bytes());
    v.extend_from_slice(&[1, 2]);
    assert_eq!(t.host.storage_get(t.me, &k), Some(v));
    // A corrupt value is reported, not misread.
    t.host.storage_set(t.me, &k, &[1, 2, 3]);
    assert_eq!(t.q(json!({"delegations": {"delegator": alice}})).unwrap_err(), "corrupt delegation checkpoint");
    t.host.storage_set(t.me, &k, &[2]);
    assert_eq!(t.delegate(alice, d, 1).unwrap_err(), "corrupt delegation checkpoint");
}

#[test]
fn delegated_power_counts_shares_at_the_height() {
    let t = setup();
    let (alice, bob, carol, d) = (mock_addr("alice"), mock_addr("bob"), mock_addr("carol"), mock_addr("d"));
    t.set_power(alice, 1, 1000);
    t.set_power(bob, 1, 333);
    t.set_power(carol, 1, 7);
    t.set_power(d, 1, 10_001);
    t.host.set_block_height(5);
    t.delegate(alice, d, 2500).unwrap();
    t.delegate(bob, d, 5000).unwrap();
    t.delegate(carol, d, 1).unwrap();
    t.delegate(d, mock_addr("other"), 3333).unwrap();
    t.host.set_block_height(6);
    t.set_power(alice, 6, 2000);
    t.delegate(alice, d, 10_000).unwrap();
    t.host.set_block_height(9);

    let r = t.power(d, 5).unwrap();
    assert_eq!((r.delegate, r.height), (d, 5));
    // d keeps 6667 bps of 10001: floor(66_676_667 / 10000).
    assert_eq!(r.own_power, Uint128(6667));
    let mut want = vec![
        DelegatorPower { delegator: alice, bps: 2500, power: Uint128(250) },
        DelegatorPower { delegator: bob, bps: 5000, power: Uint128(166) },
        DelegatorPower { delegator: carol, bps: 1, power: Uint128(0) },
    ];
    want.sort_by_key(|p| p.delegator);
    assert_eq!(r.delegators, want);
    assert_eq!(r.delegated_power, Uint128(416));
    // At height 6, alice gives all of her (new) power.
    let r = t.power(d, 6).unwrap();
    assert_eq!(r.delegated_power, Uint128(2000 + 166));
    // Before any delegation: only d's own power.
    let r = t.power(d, 4).unwrap();
    assert_eq!((r.own_power, r.delegated_power, r.delegators), (Uint128(10_001), Uint128(0), vec![]));
    let j = t.q(json!({"delegated_power": {"delegate": carol, "height": 4}})).unwrap();
    assert_eq!(j, json!({"delegate": carol, "height": 4, "own_power": "7", "delegated_power": "0", "delegators": []}));
    // Everything given away: no own power.
    t.host.set_block_height(10);
    t.delegate(d, mock_addr("other"), 10_000).unwrap();
    t.host.set_block_height(11);
    assert_eq!(t.power(d, 10).unwrap().own_power, Uint128(0));
    assert_eq!(t.power(d, 9).unwrap().own_power, Uint128(6667));
}

#[test]
fn delegated_power_is_exact_for_huge_powers_and_refuses_overflow() {
    let t = setup();
    let (alice, bob, d) = (mock_addr("alice"), mock_addr("bob"), mock_addr("d"));
    t.set_power(alice, 1, u128::MAX);
    t.set_power(d, 1, u128::MAX);
    t.delegate(alice, d, 9999).unwrap();
    t.host.set_block_height(11);
    let r = t.power(d, 10).unwrap();
    assert_eq!(r.own_power, Uint128(u128::MAX));
    assert_eq!(r.delegated_power, Uint128(share_of(u128::MAX, 9999)));
    t.set_power(bob, 1, u128::MAX);
    t.delegate(bob, d, 10_000).unwrap();
    t.host.set_block_height(12);
    assert_eq!(t.power(d, 11).unwrap_err(), "delegated power overflow");
}

#[test]
fn share_of_rounds_down_exactly() {
    assert_eq!(share_of(0, 10_000), 0);
    assert_eq!(share_of(9_999, 1), 0);
    assert_eq!(share_of(10_000, 1), 1);
    assert_eq!(share_of(19_999, 5000), 9_999);
    assert_eq!(share_of(u128::MAX, 10_000), u128::MAX);
    assert_eq!(share_of(u128::MAX, 0), 0);
    for (p, b) in [(123_456_789u128, 3333u16), (1, 9999), (10_001, 6667), (u128::from(u64::MAX), 7)] {
        assert_eq!(share_of(p, b), p * u128::from(b) / 10_000, "{p} {b}");
    }
}

#[test]
fn heights_not_committed_yet_are_refused() {
    let t = setup();
    let (alice, d) = (mock_addr("alice"), mock_addr("d"));
    t.delegate(alice, d, 100).unwrap();
    // RPC query: block 10 is the last committed block.
    assert_eq!(t.delegations(alice, Some(10)), [(d, 100)]);
    assert!(t.power(d, 10).is_ok());
    let msg = |h: u64, last: u64| {
        format!(
            "height {h} is not a committed block yet (the last one is {last}): voting power is only read at past heights"
        )
    };
    for q in [
        json!({"delegations": {"delegator": alice, "height": 11}}),
        json!({"delegators": {"delegate": d, "height": 11}}),
        json!({"delegated_power": {"delegate": d, "height": 11}}),
    ] {
        assert_eq!(t.q(q).unwrap_err(), msg(11, 10));
    }
    // In a transaction of block 10, 9 is the last readable block.
    for q in [
        json!({"delegations": {"delegator": alice, "height": 10}}),
        json!({"delegators": {"delegate": d, "height": 10}}),
        json!({"delegated_power": {"delegate": d, "height": 10}}),
    ] {
        assert_eq!(t.q_in_tx(q).unwrap_err(), msg(10, 9));
    }
    assert_eq!(t.q_in_tx(json!({"delegators": {"delegate": d, "height": 9}})).unwrap(), json!({"delegators": []}));
    let r = t.q_in_tx(json!({"delegated_power": {"delegate": d, "height": 9}})).unwrap();
    assert_eq!(r["delegators"], json!([]));
    // Without a height: now, including this block's changes.
    let r = t.q_in_tx(json!({"delegators": {"delegate": d}})).unwrap();
    assert_eq!(r, json!({"delegators": [{"delegator": alice, "bps": 100}]}));
}

#[test]
fn delegated_power_reports_dao_and_voting_module_failures() {
    let t = setup();
    let (alice, d) = (mock_addr("alice"), mock_addr("d"));
    t.delegate(alice, d, 100).unwrap();
    t.host.set_block_height(11);
    t.host.register(t.voting, MockContract::new().query(|_| Err("module is broken".to_owned())));
    assert_eq!(t.power(d, 10).unwrap_err(), "voting module: module is broken");
    t.host.register(t.voting, MockContract::new().query(|_| Ok(br#"{"votes":"1"}"#.to_vec())));
    assert!(t.power(d, 10).unwrap_err().starts_with("voting module: invalid JSON: missing field `power`"));
    t.host.register(t.dao, MockContract::new().query(|_| Ok(b"{}".to_vec())));
    let err = t.power(d, 10).unwrap_err();
    assert!(err.starts_with(&format!("dao {}: invalid JSON: missing field `address`", t.dao)), "{err}");
    t.host.register(t.dao, MockContract::new());
    assert_eq!(t.power(d, 10).unwrap_err(), format!("dao {0}: contract {0} has no `query` entry point", t.dao));
    for (msg, want) in [
        (json!({"delegated_power": {"delegate": d}}), "missing field `height`"),
        (json!({"delegations": {"delegator": alice, "height": -1}}), "invalid value"),
        (json!({"delegators": {"delegate": "agora1xyz"}}), "invalid address"),
        (json!({"dao": {}, "info": {}}), "invalid message"),
        (json!({"voting_power_at_height": {"address": alice, "height": 1}}), "unknown variant"),
    ] {
        let err = t.q(msg.clone()).unwrap_err();
        assert!(err.starts_with("invalid message:") && err.contains(want), "{msg}: {err}");
    }
}

#[test]
fn a_delegate_removes_unwanted_delegators() {
    let t = setup();
    let (dan, spam, alice) = (mock_addr("dan"), mock_addr("spam"), mock_addr("alice"));
    let remove =
        |by: Addr, who: Addr| t.host.execute_json(t.me, by, 0, &json!({"remove_delegator": {"delegator": who}}));
    t.delegate(spam, dan, 10_000).unwrap();
    t.delegate(alice, dan, 5_000).unwrap();
    assert_eq!(remove(alice, spam).unwrap_err(), format!("{spam} does not delegate to {alice}"));
    remove(dan, spam).unwrap();
    assert_eq!(t.delegators(dan, None), [(alice, 5_000)]);
    assert_eq!(t.delegations(spam, None), []);
    assert_eq!(remove(dan, spam).unwrap_err(), format!("{spam} does not delegate to {dan}"));
}
