//! Conviction-voting locks: `lock`, `lock_for`, `locks {address}` and the unstake check.

use super::*;

const NOW: u64 = 1_700_000_000_000;

/// Makes `t.dao` a contract answering `proposal_modules {}` with `modules`
/// (and nothing else: the query must be exactly `{"proposal_modules":{}}`).
fn dao_with_modules(t: &T, modules: &[Addr]) {
    let answer = serde_json::to_vec(&json!({ "proposal_modules": modules })).unwrap();
    t.host.register(
        t.dao,
        MockContract::new().query(move |msg| match msg {
            br#"{"proposal_modules":{}}"# => Ok(answer.clone()),
            other => Err(format!("unexpected query {}", String::from_utf8_lossy(other))),
        }),
    );
}

/// A module with `alice` staking `stake` at block time [`NOW`], and a DAO whose
/// proposal module is `mock_addr("proposals")`.
fn setup_locks(stake: u128) -> (T, Addr) {
    let t = setup(0);
    let proposals = mock_addr("proposals");
    dao_with_modules(&t, &[proposals]);
    t.host.set_block_height(3);
    t.host.set_block_time_ms(NOW);
    if stake > 0 {
        t.approve(t.alice, stake);
        t.stake(t.alice, stake).unwrap();
    }
    t.host.take_events();
    (t, proposals)
}

impl T {
    fn lock(&self, who: Addr, amount: u128, until_ms: u64) -> Result<Vec<u8>, String> {
        self.exec(who, json!({"lock": {"amount": amount.to_string(), "until_ms": until_ms}}))
    }
    fn lock_for(&self, by: Addr, voter: Addr, amount: u128, until_ms: u64) -> Result<Vec<u8>, String> {
        self.exec(by, json!({"lock_for": {"voter": voter, "amount": amount.to_string(), "until_ms": until_ms}}))
    }
    fn locks(&self, who: Addr) -> Value {
        self.q(json!({"locks": {"address": who}})).unwrap()
    }
    /// The active locks of `who` as `(amount, until_ms)`.
    fn lock_list(&self, who: Addr) -> Vec<(u128, u64)> {
        let v = self.locks(who);
        let list = v["locks"].as_array().unwrap();
        list.iter().map(|l| (T::num(l, "amount"), l["until_ms"].as_u64().unwrap())).collect()
    }
    fn locked(&self, who: Addr) -> u128 {
        T::num(&self.locks(who), "locked")
    }
    fn has_lock_storage(&self) -> bool {
        self.host.storage(self.me).keys().any(|k| k.starts_with(b"\x00\x05locks"))
    }
}

fn refused(t: &T, amount: u128, until: u64, locked: u128, have: u128) -> String {
    let free = have.saturating_sub(locked);
    format!(
        "cannot unstake {amount}: {}'s tokens are locked until {until} ({locked} of {have} staked are locked now: at most {free} can be unstaked)",
        t.alice
    )
}

#[test]
fn lock_refuses_unstake_until_it_ends() {
    let (t, _) = setup_locks(100);
    let end = NOW + 1_000;
    t.lock(t.alice, 60, end).unwrap();
    let ev = t.host.take_events();
    assert_eq!(ev.len(), 1);
    let attrs: Vec<(&str, &str)> = ev[0].attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (who, until) = (t.alice.to_string(), end.to_string());
    assert_eq!((ev[0].contract, ev[0].kind.as_str()), (t.me, "lock"));
    assert_eq!(
        attrs,
        [("address", who.as_str()), ("amount", "60"), ("until_ms", until.as_str()), ("by", who.as_str())]
    );
    let want = json!({"locks": [{"amount": "60", "until_ms": end}], "locked": "60", "unlocks_at_ms": end});
    assert_eq!(t.locks(t.alice), want);
    // Locking writes no checkpoint and changes no power.
    assert_eq!((t.checkpoints(t.alice), t.total_checkpoints(), t.staked(t.alice)), (1, 1, 100));

    // The unlocked part may go; the locked part may not, nothing is written when refused.
    assert_eq!(t.unstake(t.alice, 41).unwrap_err(), refused(&t, 41, end, 60, 100));
    assert_eq!(t.unstake(t.alice, 100).unwrap_err(), refused(&t, 100, end, 60, 100));
    assert!(t.host.events().is_empty());
    t.unstake(t.alice, 40).unwrap();
    assert_eq!((t.staked(t.alice), t.balance(t.alice)), (60, SUPPLY_EACH - 60));
    assert_eq!(t.unstake(t.alice, 1).unwrap_err(), refused(&t, 1, end, 60, 60));
    // Staking more is not affected, and the new tokens are free.
    t.approve(t.alice, 5);
    t.stake(t.alice, 5).unwrap();
    t.unstake(t.alice, 5).unwrap();

    t.host.set_block_time_ms(end - 1);
    assert_eq!(t.unstake(t.alice, 1).unwrap_err(), refused(&t, 1, end, 60, 60));
    assert_eq!(t.locked(t.alice), 60);
    // At `until_ms` the lock has ended: the query no longer shows it, and the
    // next write drops it from storage.
    t.host.set_block_time_ms(end);
    assert_eq!(t.locks(t.alice), json!({"locks": [], "locked": "0", "unlocks_at_ms": null}));
    assert!(t.has_lock_storage());
    t.unstake(t.alice, 60).unwrap();
    assert!(!t.has_lock_storage());
    assert_eq!((t.staked(t.alice), t.balance(t.alice), t.total_staked()), (0, SUPPLY_EACH, 0));
}

#[test]
fn locked_tokens_stay_locked_with_unstaking_blocks() {
    let t = setup(5);
    t.host.set_block_time_ms(NOW);
    t.approve(t.alice, 100);
    t.stake(t.alice, 100).unwrap();
    t.lock(t.alice, 100, NOW + 10).unwrap();
    assert_eq!(t.unstake(t.alice, 1).unwrap_err(), refused(&t, 1, NOW + 10, 100, 100));
    assert_eq!(t.q(json!({"claims": {"address": t.alice}})).unwrap(), json!({"claims": []}));
    t.host.set_block_time_ms(NOW + 10);
    t.unstake(t.alice, 100).unwrap();
    assert_eq!(t.q(json!({"claims": {"address": t.alice}})).unwrap()["claims"].as_array().unwrap().len(), 1);
}

#[test]
fn lock_for_is_only_for_current_proposal_modules() {
    let (t, proposals) = setup_locks(100);
    let end = NOW + 5_000;
    for stranger in [t.bob, t.alice, t.dao, t.me] {
        let err = t.lock_for(stranger, t.alice, 10, end).unwrap_err();
        assert_eq!(
            err,
            format!("only a proposal module of the DAO {} may lock for a voter: {stranger} is not one", t.dao)
        );
    }
    assert!(!t.has_lock_storage());
    assert!(t.host.events().is_empty());

    t.lock_for(proposals, t.alice, 70, end).unwrap();
    let ev = t.host.take_events();
    assert_eq!((ev.len(), ev[0].kind.as_str()), (1, "lock"));
    let by = proposals.to_string();
    assert_eq!((ev[0].attr("address"), ev[0].attr("by")), (Some(t.alice.to_string().as_str()), Some(by.as_str())));
    assert_eq!(t.lock_list(t.alice), [(70, end)]);
    assert_eq!(t.unstake(t.alice, 31).unwrap_err(), refused(&t, 31, end, 70, 100));

    // Removed from the DAO: refused; the new module may.
    let newer = mock_addr("proposals-v2");
    dao_with_modules(&t, &[mock_addr("other"), newer]);
    let err = t.lock_for(proposals, t.alice, 80, end).unwrap_err();
    assert_eq!(
        err,
        format!("only a proposal module of the DAO {} may lock for a voter: {proposals} is not one", t.dao)
    );
    t.lock_for(newer, t.alice, 80, end).unwrap();
    assert_eq!(t.lock_list(t.alice), [(80, end)]); // (70, end) is covered: dropped.

    // A DAO that does not answer: refused, with the reason.
    t.host.register(t.dao, MockContract::new());
    let err = t.lock_for(newer, t.alice, 90, end).unwrap_err();
    assert!(err.starts_with(&format!("the DAO {} does not answer proposal_modules: ", t.dao)), "{err}");
    assert_eq!(t.locked(t.alice), 80);
}

#[test]
fn lock_for_needs_the_voters_stake() {
    let (t, proposals) = setup_locks(50);
    let end = NOW + 1;
    let err = t.lock_for(proposals, t.alice, 51, end).unwrap_err();
    assert_eq!(err, format!("{} has 50 tokens staked: stake at least 51 to vote with conviction", t.alice));
    let err = t.lock_for(proposals, t.bob, 1, end).unwrap_err();
    assert_eq!(err, format!("{} has 0 tokens staked: stake at least 1 to vote with conviction", t.bob));
    let err = t.lock(t.alice, 51, end).unwrap_err();
    assert_eq!(err, format!("{} has 50 tokens staked: stake at least 51 to vote with conviction", t.alice));
    assert!(!t.has_lock_storage());
    assert!(t.host.events().is_empty());
    // Locks overlap: each may use the whole stake.
    t.lock_for(proposals, t.alice, 50, end).unwrap();
    t.lock(t.alice, 50, end + 1).unwrap();
    // The second covers the first, which is dropped.
    assert_eq!((t.lock_list(t.alice), t.locked(t.alice)), (vec![(50, end + 1)], 50));
    // Tokens already unstaked (claims) do not count.
    t.host.set_block_time_ms(end + 1);
    t.unstake(t.alice, 50).unwrap();
    assert!(t.lock_for(proposals, t.alice, 1, end + 5).unwrap_err().contains("stake at least 1 to vote"));
}

#[test]
fn overlapping_locks_take_the_largest_not_the_sum() {
    let (t, _) = setup_locks(1000);
    for (amount, until) in [(100, NOW + 300), (500, NOW + 100), (200, NOW + 200)] {
        t.lock(t.alice, amount, until).unwrap();
    }
    let want = json!({
        "locks": [
            {"amount": "500", "until_ms": NOW + 100},
            {"amount": "200", "until_ms": NOW + 200},
            {"amount": "100", "until_ms": NOW + 300},
        ],
        "locked": "500",
        "unlocks_at_ms": NOW + 300,
    });
    assert_eq!(t.locks(t.alice), want);
    let typed: LocksResponse = t.host.query_json(t.me, &json!({"locks": {"address": t.alice}})).unwrap();
    let lock = |amount: u128, until_ms: u64| Lock { amount: Uint128(amount), until_ms };
    let locks = vec![lock(500, NOW + 100), lock(200, NOW + 200), lock(100, NOW + 300)];
    assert_eq!(typed, LocksResponse { locks, locked: Uint128(500), unlocks_at_ms: Some(NOW + 300) });
    // 800 would be locked if they added up: 500 may go.
    assert_eq!(t.unstake(t.alice, 501).unwrap_err(), refused(&t, 501, NOW + 100, 500, 1000));
    t.unstake(t.alice, 500).unwrap();
    // The error names when this unstake becomes possible: after every lock larger than what stays.
    assert_eq!(t.unstake(t.alice, 401).unwrap_err(), refused(&t, 401, NOW + 300, 500, 500));
    assert_eq!(t.unstake(t.alice, 301).unwrap_err(), refused(&t, 301, NOW + 200, 500, 500));
    assert_eq!(t.unstake(t.alice, 1).unwrap_err(), refused(&t, 1, NOW + 100, 500, 500));

    t.host.set_block_time_ms(NOW + 150);
    assert_eq!((t.locked(t.alice), t.lock_list(t.alice).len()), (200, 2));
    assert_eq!(t.unstake(t.alice, 301).unwrap_err(), refused(&t, 301, NOW + 200, 200, 500));
    t.unstake(t.alice, 300).unwrap();
    t.host.set_block_time_ms(NOW + 250);
    assert_eq!(t.locks(t.alice)["unlocks_at_ms"], json!(NOW + 300));
    assert_eq!(t.unstake(t.alice, 101).unwrap_err(), refused(&t, 101, NOW + 300, 100, 200));
    t.unstake(t.alice, 100).unwrap();
    t.host.set_block_time_ms(NOW + 300);
    t.unstake(t.alice, 100).unwrap();
    assert_eq!((t.staked(t.alice), t.locked(t.alice), t.has_lock_storage()), (0, 0, false));
}

#[test]
fn seventeen_locks_merge_into_the_last_and_never_shorten() {
    let (t, proposals) = setup_locks(SUPPLY_EACH);
    // 16 locks, none covering another: longer ones are smaller.
    let mut want: Vec<(u128, u64)> = (1..=16u64).map(|i| (u128::from(17 - i) * 10, NOW + i * 1000)).collect();
    for &(amount, until) in &want {
        t.lock_for(proposals, t.alice, amount, until).unwrap();
    }
    assert_eq!(t.lock_list(t.alice), want);
    // A lock that an existing one covers changes nothing (and takes no room).
    t.lock(t.alice, 150, NOW + 2000).unwrap();
    t.lock(t.alice, 1, NOW + 1).unwrap();
    assert_eq!(t.lock_list(t.alice), want);
    // The 17th, longer and smaller than all: merged into the last (amount = max, until = max).
    t.lock(t.alice, 5, NOW + 20_000).unwrap();
    want[15] = (10, NOW + 20_000);
    assert_eq!(t.lock_list(t.alice), want);
    assert_eq!((t.locked(t.alice), t.locks(t.alice)["unlocks_at_ms"].as_u64()), (160, Some(NOW + 20_000)));
    // Ended locks make room again.
    t.host.set_block_time_ms(NOW + 3000);
    t.lock(t.alice, 2000, NOW + 3001).unwrap();
    let list = t.lock_list(t.alice);
    assert_eq!((list.len(), list[0]), (14, (2000, NOW + 3001)));
    assert_eq!(&list[1..], &want[3..]);
    t.lock(t.alice, 9, NOW + 21_000).unwrap();
    t.lock(t.alice, 8, NOW + 22_000).unwrap();
    assert_eq!(t.lock_list(t.alice).len(), MAX_LOCKS);
    // A 17th in between: merged into the last, (135, +22 000) then covers all
    // but the first. Nothing ends earlier or locks less than asked.
    t.lock(t.alice, 135, NOW + 3500).unwrap();
    assert_eq!(t.lock_list(t.alice), [(2000, NOW + 3001), (135, NOW + 22_000)]);
    for (at, locked) in [(NOW + 3000, 2000), (NOW + 3001, 135), (NOW + 21_999, 135), (NOW + 22_000, 0)] {
        t.host.set_block_time_ms(at);
        assert_eq!(t.locked(t.alice), locked, "at {at}");
    }
}

#[test]
fn random_locks_are_never_shortened_or_shrunk() {
    let (t, proposals) = setup_locks(SUPPLY_EACH);
    let mut seed: u64 = 0x10c_4ed0_0c0f_fee5;
    let mut rand = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut asked: Vec<(u128, u64)> = Vec::new();
    let mut now = NOW;
    let (mut merges, mut before): (u32, Vec<(u128, u64)>) = (0, Vec::new());
    for round in 0..600 {
        now += if round % 25 == 0 { rand(500) } else { rand(3) };
        t.host.set_block_time_ms(now);
        // Mostly longer locks of less (so the list fills up), sometimes anything.
        let until = now + 1 + rand(2000);
        let amount =
            if rand(20) == 0 { 1 + rand(SUPPLY_EACH as u64) } else { 1 + (NOW + 19_000 - until) / 2 + rand(3) };
        let amount = u128::from(amount);
        if round % 2 == 0 { t.lock(t.alice, amount, until) } else { t.lock_for(proposals, t.alice, amount, until) }
            .unwrap();
        asked.push((amount, until));
        let list = t.lock_list(t.alice);
        assert!(list.len() <= MAX_LOCKS, "{list:?}");
        // Full with active locks, none covered by the new one, which none covers: merged.
        let active = before.iter().filter(|&&(a, u)| u > now && !(a <= amount && u <= until)).count();
        if active == MAX_LOCKS && !before.iter().any(|&(a, u)| a >= amount && u >= until) {
            merges += 1;
            let (a, u) = before[MAX_LOCKS - 1];
            assert!(list.contains(&(a.max(amount), u.max(until))), "({amount}, {until}) not merged: {list:?}");
        }
        // Every lock asked for that has not ended is covered by one kept.
        for &(a, u) in asked.iter().filter(|&&(_, u)| u > now) {
            assert!(list.iter().any(|&(b, v)| b >= a && v >= u), "({a}, {u}) lost at {now}: {list:?}");
        }
        // The locked amount is the largest of the asked locks' that are active, or more (merged).
        let want = asked.iter().filter(|&&(_, u)| u > now).map(|&(a, _)| a).max().unwrap_or(0);
        let locked = t.locked(t.alice);
        assert!(locked >= want && locked == list.iter().map(|l| l.0).max().unwrap_or(0));
        // No lock covers another: sorted by end, amounts decrease.
        assert!(list.windows(2).all(|w| w[0].1 < w[1].1 && w[0].0 > w[1].0), "{list:?}");
        before = list;
    }
    assert!(merges >= 5, "{merges} merges");
}

#[test]
fn lock_inputs_are_checked() {
    let (t, proposals) = setup_locks(100);
    for until in [0, NOW - 1, NOW] {
        let want = format!("until_ms {until} is not after the block time {NOW}");
        assert_eq!(t.lock(t.alice, 10, until).unwrap_err(), want);
        assert_eq!(t.lock_for(proposals, t.alice, 10, until).unwrap_err(), want);
    }
    let max = NOW + MAX_LOCK_MS;
    for until in [max + 1, u64::MAX] {
        let want = format!("until_ms {until} is more than 2 years after the block time {NOW} (at most {max})");
        assert_eq!(t.lock(t.alice, 10, until).unwrap_err(), want);
    }
    assert_eq!(t.lock(t.alice, 0, NOW + 1).unwrap_err(), "amount must be greater than zero");
    assert_eq!(t.lock_for(proposals, t.alice, 0, NOW + 1).unwrap_err(), "amount must be greater than zero");
    let alice = t.alice;
    for (msg, want) in [
        (json!({"lock": {"amount": "1"}}), "invalid message: missing field `until_ms`"),
        (json!({"lock": {"until_ms": NOW + 1}}), "invalid message: missing field `amount`"),
        (json!({"lock": {"amount": "1", "until_ms": -1}}), "invalid message: invalid value"),
        (
            json!({"lock": {"amount": "1", "until_ms": NOW + 1, "voter": alice}}),
            "invalid message: unknown field `voter`",
        ),
        (json!({"lock_for": {"amount": "1", "until_ms": NOW + 1}}), "invalid message: missing field `voter`"),
        (
            json!({"lock_for": {"voter": "agora1nope", "amount": "1", "until_ms": NOW + 1}}),
            "invalid message: invalid address",
        ),
    ] {
        let err = t.exec(proposals, msg.clone()).unwrap_err();
        assert!(err.starts_with(want), "{msg}: {err}");
    }
    assert!(!t.has_lock_storage());
    assert!(t.host.events().is_empty());
    t.lock(t.alice, 100, max).unwrap();
    assert_eq!(t.lock_list(t.alice), [(100, max)]);
    let err = t.q(json!({"locks": {}})).unwrap_err();
    assert!(err.starts_with("invalid message: missing field `address`"), "{err}");
    let nobody = mock_addr("nobody");
    assert_eq!(t.locks(nobody), json!({"locks": [], "locked": "0", "unlocks_at_ms": null}));
}
