//! The DAO attack suite on the real VM: each test is one attack, with named
//! actors, run through the real contracts (token, token voting with locks,
//! identity registry, delegation, proposals, core) in blocks, and its outcome
//! asserted. Tallies and gas are printed (`-- --nocapture`).
//!
//! Attacks: whale against many small holders under the token, quadratic and
//! conviction rules; a Sybil split with and without identities; a flash-loan
//! vote; delegation override; a late-quorum swing; a treasury drain above the
//! outflow cap; a guardian cancel; a target contract replaced after the vote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dao_harness;

use dao_harness::{Chain, Codes, M, addr, exec, failed, key, ok, upload_all};
use ledger::{Address, Amount, ChainParams, Payload, Receipt, SigningKey, contract_address};
use serde_json::{Value, json};

/// Voting rules every test starts from: 10 s of voting, no delay, quorum
/// 20 %, more than half of the decisive votes, no deposit, no timelock.
fn base_rules() -> Value {
    json!({
        "voting_delay_ms": 0, "min_voting_period_ms": 0, "max_voting_period_ms": 10_000,
        "quorum": "0.2", "threshold": "0.5", "veto_threshold": "0.334",
        "execution_grace_ms": 3 * 86_400_000u64,
    })
}

/// A DAO whose voting power is a token staked into its token voting module.
struct Dao {
    core: Address,
    props: Address,
    voting: Address,
    token: Address,
}

struct World {
    c: Chain,
    codes: Codes,
    deployer: SigningKey,
}

impl World {
    fn new(actors: &[&SigningKey]) -> World {
        let deployer = key("deployer");
        let v0 = key("v0");
        let mut funded: Vec<&SigningKey> = actors.to_vec();
        funded.push(&deployer);
        let mut c = Chain::new(&funded, &[(&v0, 40 * M)], ChainParams::default());
        let codes = upload_all(&mut c, &deployer);
        World { c, codes, deployer }
    }

    fn instantiate(&mut self, code: ledger::Hash, label: &str, msg: Value) -> Address {
        let payload = Payload::Instantiate {
            code_hash: code,
            label: label.into(),
            msg: serde_json::to_vec(&msg).unwrap(),
            funds: Amount::ZERO,
        };
        ok(&self.c.one(100, &self.deployer, payload));
        contract_address(&code, &addr(&self.deployer), label)
    }

    /// A token DAO named `label`: `holders` get and stake their tokens; the
    /// proposal module's rules are [`base_rules`] with `rules` merged in.
    fn token_dao(&mut self, label: &str, holders: &[(&SigningKey, u128)], rules: Value) -> Dao {
        let balances: Vec<Value> =
            holders.iter().map(|(k, n)| json!({"address": addr(k).to_string(), "amount": n.to_string()})).collect();
        let token = self.instantiate(
            self.codes.token,
            &format!("{label}-token"),
            json!({"name": label, "symbol": "VOTE", "decimals": 0, "initial_balances": balances}),
        );
        let mut cfg = base_rules();
        for (k, v) in rules.as_object().unwrap() {
            cfg[k] = v.clone();
        }
        let msg = json!({
            "name": label, "description": "",
            "voting": {"code_hash": self.codes.token_voting.to_string(), "label": "voting", "msg": {"token": token.to_string()}},
            "proposals": [{"code_hash": self.codes.proposals.to_string(), "label": "proposals", "msg": cfg}],
        });
        let core = self.instantiate(self.codes.core, label, msg);
        let q = |c: &Chain, m: Value, f: &str| -> Address {
            let v = c.query(core, m).unwrap();
            let a = if f == "address" { v["address"].clone() } else { v[f][0].clone() };
            a.as_str().unwrap().parse().unwrap()
        };
        let voting = q(&self.c, json!({"voting_module": {}}), "address");
        let props = q(&self.c, json!({"proposal_modules": {}}), "proposal_modules");
        let approve: Vec<_> = holders
            .iter()
            .map(|(k, n)| {
                (*k, exec(token, json!({"approve": {"spender": voting.to_string(), "amount": n.to_string()}}), 0))
            })
            .collect();
        self.c.block(100, approve).iter().for_each(ok);
        let stake: Vec<_> =
            holders.iter().map(|(k, n)| (*k, exec(voting, json!({"stake": {"amount": n.to_string()}}), 0))).collect();
        self.c.block(100, stake).iter().for_each(ok);
        Dao { core, props, voting, token }
    }

    /// A counter contract `owner` creates and administers.
    fn own_counter(&mut self, owner: &SigningKey, label: &str) -> Address {
        let payload = Payload::InstantiateWithAdmin {
            code_hash: self.codes.counter,
            label: label.into(),
            msg: br#"{"count":0}"#.to_vec(),
            funds: Amount::ZERO,
            admin: Some(addr(owner)),
        };
        ok(&self.c.one(100, owner, payload));
        contract_address(&self.codes.counter, &addr(owner), label)
    }

    /// An identity registry whose issuer attests `members` (one block).
    fn registry(&mut self, label: &str, issuer: &SigningKey, members: &[&SigningKey]) -> Address {
        let reg = self.instantiate(self.codes.identity, label, json!({"issuers": [addr(issuer).to_string()]}));
        self.attest(reg, issuer, members);
        reg
    }

    fn attest(&mut self, reg: Address, issuer: &SigningKey, members: &[&SigningKey]) {
        let txs: Vec<_> = members
            .iter()
            .map(|m| {
                let a = addr(m).to_string();
                (issuer, exec(reg, json!({"attest": {"address": a, "identity": format!("person-{a}")}}), 0))
            })
            .collect();
        self.c.block(100, txs).iter().for_each(ok);
    }

    fn propose(&mut self, dao: &Dao, who: &SigningKey, msgs: Value) -> u64 {
        let r = self.c.one(
            100,
            who,
            exec(dao.props, json!({"propose": {"title": "t", "description": "", "msgs": msgs}}), 0),
        );
        ok(&r);
        self.c.query(dao.props, json!({"proposal_count": {}})).unwrap()["count"].as_u64().unwrap()
    }

    fn vote(&mut self, dao: &Dao, who: &SigningKey, id: u64, option: &str, extra: Value) -> Receipt {
        let mut v = json!({"proposal_id": id, "option": option});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        self.c.one(100, who, exec(dao.props, json!({"vote": v}), 0))
    }

    fn proposal(&self, dao: &Dao, id: u64) -> Value {
        self.c.query(dao.props, json!({"proposal": {"proposal_id": id}})).unwrap()
    }
}

fn n(v: &Value) -> u128 {
    v.as_str().unwrap().parse().unwrap()
}

fn keys(prefix: &str, count: usize) -> Vec<SigningKey> {
    (0..count).map(|i| key(&format!("{prefix}{i:02}"))).collect()
}

/// Wanda holds 10 000 tokens, 20 small holders 100 each. Wanda votes yes on
/// paying herself, the small holders vote no.
#[test]
fn whale_against_many_small_holders_under_each_rule() {
    let wanda = key("wanda");
    let issuer = key("issuer");
    let small = keys("small", 20);
    let mut actors: Vec<&SigningKey> = small.iter().collect();
    actors.extend([&wanda, &issuer]);
    let mut w = World::new(&actors);
    let mut holders: Vec<(&SigningKey, u128)> = small.iter().map(|k| (k, 100)).collect();
    holders.push((&wanda, 10_000));

    let registry = w.registry("people", &issuer, &actors[..21]);
    let rules = [
        ("token", json!({}), 0u8),
        ("quadratic", json!({"voting_rule": "quadratic", "identity_registry": registry.to_string()}), 0),
        ("conviction (wanda 1x)", json!({"voting_rule": "conviction", "conviction_period_ms": 60_000}), 1),
        ("conviction (wanda 6x)", json!({"voting_rule": "conviction", "conviction_period_ms": 60_000}), 6),
    ];
    let mut table = Vec::new();
    for (i, (name, rule, wanda_conviction)) in rules.iter().enumerate() {
        let conviction_rule = rule.get("voting_rule").is_some_and(|r| r == "conviction");
        let dao = w.token_dao(&format!("dao{i}"), &holders, rule.clone());
        let id = w.propose(&dao, &wanda, json!([]));
        let extra = |k: u8| if conviction_rule { json!({"conviction": k}) } else { json!({}) };
        let r = w.vote(&dao, &wanda, id, "yes", extra(*wanda_conviction));
        ok(&r);
        let gas = r.gas_used;
        for s in &small {
            ok(&w.vote(&dao, s, id, "no", extra(6)));
        }
        w.c.block(10_000, vec![]);
        let p = w.proposal(&dao, id);
        table.push((name.to_string(), n(&p["tally"]["yes"]), n(&p["tally"]["no"]), p["status"].clone(), gas));
        if conviction_rule && *wanda_conviction == 6 {
            // Her 10 000 stay locked 2^5 periods after the vote: no unstake.
            let why = failed(&w.c.one(100, &wanda, exec(dao.voting, json!({"unstake": {"amount": "1"}}), 0)));
            assert!(why.contains("locked"), "{why}");
            let locks = w.c.query(dao.voting, json!({"locks": {"address": addr(&wanda).to_string()}})).unwrap();
            assert_eq!(locks["locked"], "10000", "{locks}");
        }
    }
    println!("whale (10 000 yes) against 20 holders of 100 (no):");
    println!("{:<24} {:>8} {:>8}  {:<10} {:>10}", "rule", "yes", "no", "outcome", "gas/vote");
    for (name, yes, no, status, gas) in &table {
        println!("{name:<24} {yes:>8} {no:>8}  {:<10} {gas:>10}", status.as_str().unwrap());
    }
    let got: Vec<(u128, u128, &str)> = table.iter().map(|(_, y, n, s, _)| (*y, *n, s.as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            (10_000, 2_000, "passed"),    // token: the whale decides
            (100, 200, "rejected"),       // quadratic: √10000 = 100 < 20 × √100
            (10_000, 12_000, "rejected"), // conviction: small holders lock 6×
            (60_000, 12_000, "passed"),   // the whale can outbid, at the price of a 32-period lock
        ]
    );
}

/// Mallory turns 10 000 tokens into 25 accounts of 400 against five honest
/// members of 900 (15 000 quadratic... √900 = 30 each, 150 in all).
#[test]
fn sybil_split_gains_nothing_without_identities_and_sqrt_n_with_a_registered_ring() {
    let (mallory, issuer, corrupt) = (key("mallory"), key("issuer"), key("corrupt"));
    let honest = keys("honest", 5);
    let sybils = keys("sybil", 25);
    let mut actors: Vec<&SigningKey> = honest.iter().chain(sybils.iter()).collect();
    actors.extend([&mallory, &issuer, &corrupt]);
    let mut w = World::new(&actors);
    let honest_refs: Vec<&SigningKey> = honest.iter().collect();
    let sybil_refs: Vec<&SigningKey> = sybils.iter().collect();

    let mut rows = Vec::new();
    for case in ["one identity", "split, no identities", "split, identities after the snapshot", "registered ring"] {
        let split = case != "one identity";
        let label = format!("q{}", rows.len());
        let mut members = honest_refs.clone();
        if !split {
            members.push(&mallory);
        }
        let reg = w.registry(&format!("{label}-ids"), &issuer, &members);
        // The ring: a corrupt issuer the DAO trusted attests every Sybil.
        if case == "registered ring" {
            let owner_msg = json!({"update_issuers": {"add": [addr(&corrupt).to_string()]}});
            ok(&w.c.one(100, &w.deployer, exec(reg, owner_msg, 0)));
            w.attest(reg, &corrupt, &sybil_refs);
        }
        let mut holders: Vec<(&SigningKey, u128)> = honest.iter().map(|k| (k, 900)).collect();
        if split {
            holders.extend(sybils.iter().map(|k| (k, 400)));
        } else {
            holders.push((&mallory, 10_000));
        }
        let rule = json!({"voting_rule": "quadratic", "identity_registry": reg.to_string()});
        let dao = w.token_dao(&label, &holders, rule);
        let id = w.propose(&dao, &honest[0], json!([]));
        if case == "split, identities after the snapshot" {
            w.attest(reg, &issuer, &sybil_refs);
        }
        let voters: Vec<&SigningKey> = if split { sybil_refs.clone() } else { vec![&mallory] };
        let mut refused = 0;
        for v in voters {
            let r = w.vote(&dao, v, id, "yes", json!({}));
            if let ledger::TxStatus::Failed { reason } = &r.status {
                assert!(reason.contains("no identity at the snapshot"), "{reason}");
                refused += 1;
            }
        }
        for h in &honest {
            ok(&w.vote(&dao, h, id, "no", json!({})));
        }
        let p = w.proposal(&dao, id);
        rows.push((case, n(&p["tally"]["yes"]), n(&p["tally"]["no"]), refused));
    }
    println!("quadratic voting, mallory's 10 000 tokens against 5 × 900 (no = 5 × √900):");
    for (case, yes, no, refused) in &rows {
        println!("{case:<40} yes {yes:>5}  no {no:>4}  refused votes {refused:>2}");
    }
    assert_eq!(
        rows.iter().map(|(_, y, n, r)| (*y, *n, *r)).collect::<Vec<_>>(),
        [(100, 150, 0), (0, 150, 25), (0, 150, 25), (500, 150, 0)],
        "splitting gains nothing without identities; a ring of 25 identities gains √25 = 5×"
    );
}

/// Power bought after the snapshot counts nothing: Mallory borrows tokens in
/// the block that creates the proposal, stakes them, and votes.
#[test]
fn flash_loan_vote_counts_nothing() {
    let (alice, mallory, lender) = (key("alice"), key("mallory"), key("lender"));
    let mut w = World::new(&[&alice, &mallory, &lender]);
    let dao = w.token_dao("flash", &[(&alice, 1_000), (&lender, 1_000_000)], json!({}));
    // The lender unstakes? No: it lends unstaked tokens it just received.
    ok(&w.c.one(
        100,
        &w.deployer,
        exec(dao.token, json!({"mint": {"recipient": addr(&lender).to_string(), "amount": "5000000"}}), 0),
    ));
    let propose = exec(dao.props, json!({"propose": {"title": "grab", "description": "", "msgs": []}}), 0);
    let loan = exec(dao.token, json!({"transfer": {"recipient": addr(&mallory).to_string(), "amount": "5000000"}}), 0);
    let approve = exec(dao.token, json!({"approve": {"spender": dao.voting.to_string(), "amount": "5000000"}}), 0);
    let stake = exec(dao.voting, json!({"stake": {"amount": "5000000"}}), 0);
    let rs = w.c.block(100, vec![(&alice, propose), (&lender, loan), (&mallory, approve), (&mallory, stake)]);
    rs.iter().for_each(ok);
    let why = failed(&w.vote(&dao, &mallory, 1, "yes", json!({})));
    assert!(why.contains("no voting power"), "{why}");
    let p = w.proposal(&dao, 1);
    assert_eq!(p["total_power"], "1001000", "power at the snapshot, before the loan: {p}");
}

/// Alice (400) delegates everything and Bob (300) half to Dan (100). Dan
/// votes yes with 650; Alice overrides with no. The order of the votes does
/// not matter, and delegations changed after the snapshot change nothing.
#[test]
fn delegation_override_is_order_independent_and_snapshot_bound() {
    let (alice, bob, carol, dan) = (key("alice"), key("bob"), key("carol"), key("dan"));
    let mut w = World::new(&[&alice, &bob, &carol, &dan]);
    let holders = [(&alice, 400), (&bob, 300), (&carol, 200), (&dan, 100)];
    let mut results = Vec::new();
    for (i, dan_first) in [true, false].into_iter().enumerate() {
        // The DAO names its delegation contract, created right after it.
        let label = format!("deleg{i}");
        let delegation = contract_address(&w.codes.delegation, &addr(&w.deployer), &label);
        let dao = w.token_dao(&format!("d{i}"), &holders, json!({"delegation": delegation.to_string()}));
        w.instantiate(w.codes.delegation, &label, json!({"dao": dao.core.to_string()}));
        let d = |to: &SigningKey, bps: u32| {
            exec(delegation, json!({"delegate": {"delegate": addr(to).to_string(), "bps": bps}}), 0)
        };
        ok(&w.c.one(100, &alice, d(&dan, 10_000)));
        ok(&w.c.one(100, &bob, d(&dan, 5_000)));
        let id = w.propose(&dao, &carol, json!([]));
        // After the snapshot: Carol delegates to Dan, Bob takes his back.
        ok(&w.c.one(100, &carol, d(&dan, 10_000)));
        ok(&w.c.one(100, &bob, exec(delegation, json!({"undelegate": {}}), 0)));
        let r = if dan_first {
            let r = w.vote(&dao, &dan, id, "yes", json!({}));
            ok(&r);
            assert_eq!(n(&w.proposal(&dao, id)["tally"]["yes"]), 650, "100 + 400 + 150");
            ok(&w.vote(&dao, &alice, id, "no", json!({})));
            r
        } else {
            ok(&w.vote(&dao, &alice, id, "no", json!({})));
            let r = w.vote(&dao, &dan, id, "yes", json!({}));
            ok(&r);
            r
        };
        let p = w.proposal(&dao, id);
        let dan_vote = w.c.query(dao.props, json!({"vote": {"proposal_id": id, "voter": addr(&dan).to_string()}}));
        results.push((n(&p["tally"]["yes"]), n(&p["tally"]["no"]), n(&p["turnout"]), r.gas_used));
        assert_eq!(dan_vote.unwrap()["vote"]["delegated"], "150", "Bob's half stays with Dan");
        // Bob did not vote: his half still counts for Dan (at the snapshot).
        let info = w.c.query(
            delegation,
            json!({"delegated_power": {"delegate": addr(&dan).to_string(), "height": p["snapshot_height"]}}),
        );
        assert_eq!(info.unwrap()["delegated_power"], "550", "Alice 400 + Bob 150 at the snapshot");
    }
    println!("delegation override (yes, no, turnout, gas of Dan's vote): {results:?}");
    assert_eq!((results[0].0, results[0].1, results[0].2), (250, 400, 650));
    assert_eq!((results[1].0, results[1].1, results[1].2), (250, 400, 650));
}

/// Quorum 40 %. Wanda (400 of 1 000) waits for the last second to vote yes
/// on a proposal nobody watched: without protection it passes at the close;
/// with a 5 s late-quorum extension the five holders of 120 see it and vote no.
#[test]
fn late_quorum_swing_is_answered_in_the_extension() {
    let wanda = key("wanda");
    let others = keys("holder", 5);
    let mut actors: Vec<&SigningKey> = others.iter().collect();
    actors.push(&wanda);
    let mut w = World::new(&actors);
    let mut holders: Vec<(&SigningKey, u128)> = others.iter().map(|k| (k, 120)).collect();
    holders.push((&wanda, 400));
    let mut outcomes = Vec::new();
    for (i, ext) in [0u64, 5_000].into_iter().enumerate() {
        let rules = json!({"quorum": "0.4", "late_quorum_extension_ms": ext});
        let dao = w.token_dao(&format!("late{i}"), &holders, rules);
        let id = w.propose(&dao, &wanda, json!([]));
        let end = w.proposal(&dao, id)["voting_end_ms"].as_u64().unwrap();
        // Jump to one second before the end, then vote.
        let dt = end - w.c.time_ms - 1_000;
        w.c.block(dt, vec![]);
        ok(&w.vote(&dao, &wanda, id, "yes", json!({})));
        let p = w.proposal(&dao, id);
        let extended = p["voting_end_ms"].as_u64().unwrap();
        w.c.block(1_500, vec![]);
        let mut late = 0;
        for o in &others {
            if w.vote(&dao, o, id, "no", json!({})).status == ledger::TxStatus::Success {
                late += 1;
            }
        }
        w.c.block(6_000, vec![]);
        let p = w.proposal(&dao, id);
        outcomes.push((ext, extended - end, late, p["status"].as_str().unwrap().to_owned()));
    }
    println!("late-quorum swing (extension, end moved by, late no votes, outcome): {outcomes:?}");
    assert_eq!(outcomes[0], (0, 0, 0, "passed".to_owned()));
    assert_eq!(outcomes[1].2, 5);
    assert_eq!(outcomes[1].3, "rejected");
    assert!(outcomes[1].1 >= 4_000, "{outcomes:?}");
}

/// A coalition with 70 % votes a treasury grab. The cap is 10 000 a day,
/// above which a proposal needs 90 %.
#[test]
fn treasury_drain_above_the_cap_needs_the_cap_threshold() {
    let (whale1, whale2, minnow) = (key("whale1"), key("whale2"), key("minnow"));
    let mut w = World::new(&[&whale1, &whale2, &minnow]);
    let cap = json!({"outflow_cap": {"amount": "10000", "period_ms": 86_400_000u64, "threshold": "0.9"}});
    let dao = w.token_dao("capped", &[(&whale1, 400), (&whale2, 300), (&minnow, 300)], cap);
    ok(&w.c.one(100, &w.deployer, exec(dao.core, json!({"fund": {}}), 100_000)));
    let pay = |to: &SigningKey, amount: u128| json!([{"transfer": {"to": addr(to).to_string(), "amount": amount.to_string()}}]);
    let grab = w.propose(&dao, &whale1, pay(&whale1, 50_000));
    let small1 = w.propose(&dao, &whale1, pay(&whale2, 8_000));
    let small2 = w.propose(&dao, &whale1, pay(&whale1, 8_000));
    for id in [grab, small1, small2] {
        ok(&w.vote(&dao, &whale1, id, "yes", json!({})));
        ok(&w.vote(&dao, &whale2, id, "yes", json!({})));
        ok(&w.vote(&dao, &minnow, id, "no", json!({})));
    }
    w.c.block(10_000, vec![]);
    assert_eq!(w.proposal(&dao, grab)["status"], "rejected", "70 % yes is not above 90 %");
    let ex = |id: u64| exec(dao.props, json!({"execute": {"proposal_id": id}}), 0);
    ok(&w.c.one(100, &minnow, ex(small1)));
    let why = failed(&w.c.one(100, &minnow, ex(small2)));
    assert!(why.contains("treasury outflow cap"), "{why}");
    assert_eq!(w.c.balance(&dao.core), 92_000);
    // The next day the period's budget is back.
    w.c.block(86_400_000, vec![]);
    ok(&w.c.one(100, &minnow, ex(small2)));
    assert_eq!(w.c.balance(&dao.core), 84_000);
    assert_eq!(w.proposal(&dao, small2)["status"], "executed");
}

/// Gina the guardian cancels a passed grab before anyone executes it;
/// nobody else can, and she cannot change the rules herself.
#[test]
fn guardian_cancels_a_passed_proposal_before_execution() {
    let (gina, mallory, alice) = (key("gina"), key("mallory"), key("alice"));
    let mut w = World::new(&[&gina, &mallory, &alice]);
    let rules = json!({"guardian": addr(&gina).to_string(), "timelock_ms": 5_000});
    let dao = w.token_dao("guarded", &[(&mallory, 600), (&alice, 400)], rules);
    ok(&w.c.one(100, &w.deployer, exec(dao.core, json!({"fund": {}}), 10_000)));
    let grab = json!([{"transfer": {"to": addr(&mallory).to_string(), "amount": "10000"}}]);
    let id = w.propose(&dao, &mallory, grab);
    ok(&w.vote(&dao, &mallory, id, "yes", json!({})));
    w.c.block(10_000, vec![]);
    assert_eq!(w.proposal(&dao, id)["status"], "timelocked");
    let cancel = exec(dao.props, json!({"cancel": {"proposal_id": id}}), 0);
    assert!(failed(&w.c.one(100, &alice, cancel.clone())).contains("only the proposer or the guardian"));
    ok(&w.c.one(100, &gina, cancel.clone()));
    let p = w.proposal(&dao, id);
    assert_eq!(
        (p["status"].as_str(), p["cancelled_by"].as_str()),
        (Some("cancelled"), Some(&*addr(&gina).to_string()))
    );
    w.c.block(5_000, vec![]);
    let why = failed(&w.c.one(100, &mallory, exec(dao.props, json!({"execute": {"proposal_id": id}}), 0)));
    assert!(why.contains("cancelled"), "{why}");
    assert_eq!(w.c.balance(&dao.core), 10_000);
    // The guardian is replaced only by a proposal: she cannot edit the config.
    let cfg = w.c.query(dao.props, json!({"config": {}})).unwrap();
    let why = failed(&w.c.one(100, &gina, exec(dao.props, json!({"update_config": {"config": cfg}}), 0)));
    assert!(why.contains("only the DAO"), "{why}");
}

/// Tornado Cash 2023: the DAO votes to call Mallory's contract, then Mallory
/// (its admin) replaces the code before execution. The proposal pinned the
/// code hash and admin at creation, so execution fails and nothing runs. The
/// DAO itself upgrades a module it administers by proposal.
#[test]
fn target_contract_replaced_after_the_vote_fails_execution() {
    let (mallory, alice) = (key("mallory"), key("alice"));
    let mut w = World::new(&[&mallory, &alice]);
    let dao = w.token_dao("pinned", &[(&alice, 600), (&mallory, 400)], json!({}));
    // Mallory's "helper" contract: a counter she administers.
    let helper = w.own_counter(&mallory, "helper");
    let call = json!([{"execute": {"contract": helper.to_string(), "msg": {"increment": {}}}}]);
    let id = w.propose(&dao, &mallory, call.clone());
    let p = w.proposal(&dao, id);
    assert_eq!(p["pins"][0]["code_hash"], w.codes.counter.to_string(), "{p}");
    assert_eq!(p["pins"][0]["admin"], addr(&mallory).to_string(), "{p}");
    ok(&w.vote(&dao, &alice, id, "yes", json!({})));
    w.c.block(10_000, vec![]);
    // After the vote: the code is replaced (probe has a `migrate` entry point).
    let migrate = Payload::Migrate { contract: helper, code_hash: w.codes.probe, msg: b"{}".to_vec() };
    ok(&w.c.one(100, &mallory, migrate));
    ok(&w.c.one(100, &alice, exec(dao.props, json!({"execute": {"proposal_id": id}}), 0)));
    let p = w.proposal(&dao, id);
    assert_eq!(p["status"], "execution_failed", "{p}");
    let reason = p["execution_failure"].as_str().unwrap();
    assert!(reason.contains("changed since the proposal was created") && reason.contains("code"), "{reason}");

    // A changed admin (code unchanged) fails the same way.
    let id =
        w.propose(&dao, &mallory, json!([{"execute": {"contract": helper.to_string(), "msg": {"add": {"value": 1}}}}]));
    ok(&w.vote(&dao, &alice, id, "yes", json!({})));
    w.c.block(10_000, vec![]);
    ok(&w.c.one(100, &mallory, Payload::UpdateAdmin { contract: helper, admin: Some(addr(&alice)) }));
    ok(&w.c.one(100, &alice, exec(dao.props, json!({"execute": {"proposal_id": id}}), 0)));
    let p = w.proposal(&dao, id);
    assert!(p["execution_failure"].as_str().unwrap().contains("admin"), "{p}");

    // The DAO is the admin of its modules and migrates its voting module by proposal.
    let info = w.c.query(dao.voting, json!({"info": {}})).unwrap();
    assert_eq!(info["kind"], "dao-voting-token");
    let upgrade = json!([{"migrate": {"contract": dao.voting.to_string(), "code_hash": w.codes.token_voting.to_string(), "msg": {}}}]);
    let id = w.propose(&dao, &alice, upgrade);
    ok(&w.vote(&dao, &alice, id, "yes", json!({})));
    w.c.block(10_000, vec![]);
    ok(&w.c.one(100, &alice, exec(dao.props, json!({"execute": {"proposal_id": id}}), 0)));
    assert_eq!(w.proposal(&dao, id)["status"], "executed", "{}", w.proposal(&dao, id));
    // Nobody else can migrate it.
    let r = w.c.one(
        100,
        &mallory,
        Payload::Migrate { contract: dao.voting, code_hash: w.codes.probe, msg: b"{}".to_vec() },
    );
    assert!(failed(&r).contains("admin"), "{r:?}");
}

/// The most a delegate's vote can cost: 128 delegators (the delegation
/// contract's bound), each read at the snapshot. Griefing a delegate by
/// delegating to it cannot make its vote exceed a transaction's gas.
#[test]
fn a_delegate_with_the_most_delegators_still_votes() {
    let dan = key("dan");
    let fans = keys("fan", 128);
    let extra = key("extra");
    let mut actors: Vec<&SigningKey> = fans.iter().collect();
    actors.extend([&dan, &extra]);
    let mut w = World::new(&actors);
    let label = "deleg-max";
    let delegation = contract_address(&w.codes.delegation, &addr(&w.deployer), label);
    let mut holders: Vec<(&SigningKey, u128)> = fans.iter().map(|k| (k, 10)).collect();
    holders.push((&dan, 10));
    let dao = w.token_dao("crowded", &holders, json!({"delegation": delegation.to_string()}));
    w.instantiate(w.codes.delegation, label, json!({"dao": dao.core.to_string()}));
    let to = addr(&dan).to_string();
    let txs: Vec<_> =
        fans.iter().map(|k| (k, exec(delegation, json!({"delegate": {"delegate": to, "bps": 10_000}}), 0))).collect();
    w.c.block(100, txs).iter().for_each(ok);
    let why = failed(&w.c.one(100, &extra, exec(delegation, json!({"delegate": {"delegate": to, "bps": 1}}), 0)));
    assert!(why.contains("128 delegators"), "{why}");
    let id = w.propose(&dao, &dan, json!([]));
    let r = w.vote(&dao, &dan, id, "yes", json!({}));
    ok(&r);
    assert_eq!(w.proposal(&dao, id)["tally"]["yes"], "1290");
    println!("a delegate's vote with 128 delegators: {} gas (max_tx_gas {})", r.gas_used, w.c.params.max_tx_gas);
    assert!(r.gas_used < w.c.params.max_tx_gas / 2, "{}", r.gas_used);
}

/// The same coalition tries to get around the cap: raise the cap first (or
/// add a proposal module of its own) at the ordinary threshold, then drain.
/// Anything that could move funds around the cap later needs the cap's
/// threshold too; a module someone else administers cannot be added at all.
#[test]
fn the_cap_cannot_be_loosened_or_bypassed_at_the_ordinary_threshold() {
    let (whale1, whale2, minnow) = (key("whale1"), key("whale2"), key("minnow"));
    let mut w = World::new(&[&whale1, &whale2, &minnow]);
    let cap = json!({"outflow_cap": {"amount": "10000", "period_ms": 86_400_000u64, "threshold": "0.9"}});
    let dao = w.token_dao("capped2", &[(&whale1, 400), (&whale2, 300), (&minnow, 300)], cap);
    let mut cfg = w.c.query(dao.props, json!({"config": {}})).unwrap();
    cfg["outflow_cap"]["amount"] = json!("1000000000");
    let raise = json!([{"execute": {"contract": dao.props.to_string(), "msg": {"update_config": {"config": cfg}}}}]);
    // A proposal module administered by whale1 (a drainer once migrated).
    let rogue = w.own_counter(&whale1, "rogue");
    let add = json!([{"update_proposal_modules": {"add": [rogue.to_string()]}}]);
    let (id_raise, id_add) = (w.propose(&dao, &whale1, raise), w.propose(&dao, &whale1, add));
    assert_eq!(w.proposal(&dao, id_add)["pins"][0]["contract"], rogue.to_string());
    for id in [id_raise, id_add] {
        ok(&w.vote(&dao, &whale1, id, "yes", json!({})));
        ok(&w.vote(&dao, &whale2, id, "yes", json!({})));
        ok(&w.vote(&dao, &minnow, id, "no", json!({})));
    }
    w.c.block(10_000, vec![]);
    for id in [id_raise, id_add] {
        let p = w.proposal(&dao, id);
        assert_eq!((p["status"].as_str(), p["cap_threshold"].as_bool()), (Some("rejected"), Some(true)), "{p}");
    }
    // With everyone's yes it passes, and the core still refuses the rogue module.
    let id = w.propose(&dao, &whale1, json!([{"update_proposal_modules": {"add": [rogue.to_string()]}}]));
    for k in [&whale1, &whale2, &minnow] {
        ok(&w.vote(&dao, k, id, "yes", json!({})));
    }
    w.c.block(10_000, vec![]);
    ok(&w.c.one(100, &minnow, exec(dao.props, json!({"execute": {"proposal_id": id}}), 0)));
    let p = w.proposal(&dao, id);
    assert_eq!(p["status"], "execution_failed", "{p}");
    assert!(p["execution_failure"].as_str().unwrap().contains("admin other than the DAO"), "{p}");
}

/// The guardian cannot keep itself in place by cancelling its replacement,
/// but cannot be dodged by bundling a grab with that replacement either.
#[test]
fn the_guardian_is_replaced_by_proposal_and_cannot_block_it() {
    let (gina, alice, bob) = (key("gina"), key("alice"), key("bob"));
    let mut w = World::new(&[&gina, &alice, &bob]);
    let dao = w.token_dao("guarded2", &[(&alice, 600), (&bob, 400)], json!({"guardian": addr(&gina).to_string()}));
    ok(&w.c.one(100, &w.deployer, exec(dao.core, json!({"fund": {}}), 1_000)));
    let mut cfg = w.c.query(dao.props, json!({"config": {}})).unwrap();
    cfg["guardian"] = json!(addr(&bob).to_string());
    let replace = json!({"execute": {"contract": dao.props.to_string(), "msg": {"update_config": {"config": cfg}}}});
    let grab = json!({"transfer": {"to": addr(&alice).to_string(), "amount": "1000"}});
    let only = w.propose(&dao, &alice, json!([replace.clone()]));
    let bundled = w.propose(&dao, &alice, json!([replace, grab]));
    let cancel = |id: u64| exec(dao.props, json!({"cancel": {"proposal_id": id}}), 0);
    assert!(failed(&w.c.one(100, &gina, cancel(only))).contains("cannot cancel a proposal that replaces the guardian"));
    ok(&w.c.one(100, &gina, cancel(bundled)));
    ok(&w.vote(&dao, &alice, only, "yes", json!({})));
    w.c.block(10_000, vec![]);
    ok(&w.c.one(100, &alice, exec(dao.props, json!({"execute": {"proposal_id": only}}), 0)));
    assert_eq!(w.c.query(dao.props, json!({"config": {}})).unwrap()["guardian"], addr(&bob).to_string());
    // Gina lost the power at once.
    let id = w.propose(&dao, &alice, json!([]));
    assert!(failed(&w.c.one(100, &gina, cancel(id))).contains("only the proposer or the guardian"));
    ok(&w.c.one(100, &bob, cancel(id)));
}
