//! The DAO suite end to end on the real VM: the four DAO contracts and the
//! token run in blocks of several transactions over the ledger's staking
//! state. Flash-loan attempts (stake or tokens acquired after a proposal's
//! snapshot, in the creation block itself, and a borrow-stake-vote-repay
//! inside one contract call) get no voting power; governance changes the
//! chain parameters; gas of create / propose / vote / execute is printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dao_harness;

use dao_harness::{Chain, Codes, M, addr, exec, failed, key, ok, upload_all};
use ledger::{Address, Amount, ChainParams, Hash, Payload, Receipt, SigningKey, contract_address};
use serde_json::{Value, json};

fn rules() -> Value {
    json!({
        "voting_delay_ms": 0, "min_voting_period_ms": 1_000, "max_voting_period_ms": 10_000,
        "quorum": "0.334", "threshold": "0.5", "veto_threshold": "0.334",
        "allow_early_close": false, "allow_revoting": false,
        "deposit": { "amount": "1000", "refund": "only_passed" },
        "timelock_ms": 2_000, "vetoer": null, "execution_grace_ms": 60_000,
    })
}

fn create_dao(c: &mut Chain, k: &SigningKey, codes: &Codes, label: &str, voting: (Hash, Value)) -> (Address, Receipt) {
    let msg = json!({
        "name": label, "description": "",
        "voting": { "code_hash": voting.0.to_string(), "label": "voting", "msg": voting.1 },
        "proposals": [{ "code_hash": codes.proposals.to_string(), "label": "proposals", "msg": rules() }],
    });
    let payload = Payload::Instantiate {
        code_hash: codes.core,
        label: label.into(),
        msg: serde_json::to_vec(&msg).unwrap(),
        funds: Amount::ZERO,
    };
    let r = c.one(100, k, payload);
    ok(&r);
    (contract_address(&codes.core, &addr(k), label), r)
}

fn module(c: &Chain, dao: Address, which: &str) -> Address {
    let v = if which == "voting" {
        c.query(dao, json!({"voting_module": {}})).unwrap()["address"].clone()
    } else {
        c.query(dao, json!({"proposal_modules": {}})).unwrap()["proposal_modules"][0].clone()
    };
    v.as_str().unwrap().parse().unwrap()
}

fn propose(dao_props: Address, title: &str, msgs: Value) -> Payload {
    exec(dao_props, json!({"propose": {"title": title, "description": "", "msgs": msgs}}), 1000)
}

fn vote(dao_props: Address, id: u64, option: &str) -> Payload {
    exec(dao_props, json!({"vote": {"proposal_id": id, "option": option}}), 0)
}

#[test]
fn stake_dao_pays_from_its_treasury_and_ignores_stake_bonded_after_the_snapshot() {
    let (deployer, alice, mallory, recipient) = (key("deployer"), key("alice"), key("mallory"), key("recipient"));
    let (v0, v1) = (key("v0"), key("v1"));
    let mut c =
        Chain::new(&[&deployer, &alice, &mallory, &v0, &v1], &[(&v0, 40 * M), (&v1, 30 * M)], ChainParams::default());
    let codes = upload_all(&mut c, &deployer);
    let (dao, created) = create_dao(&mut c, &deployer, &codes, "club", (codes.stake, json!({})));
    let props = module(&c, dao, "proposals");
    ok(&c.one(100, &deployer, exec(dao, json!({"fund": {}}), 5 * M)));
    ok(&c.one(100, &alice, Payload::Delegate { validator: addr(&v0), amount: Amount::new(10 * M) }));

    // The proposal and, in the same block, mallory's (flash) delegation.
    let to = addr(&recipient);
    let msgs = json!([{"transfer": {"to": to.to_string(), "amount": "12345"}}]);
    let rs = c.block(
        100,
        vec![
            (&alice, propose(props, "pay", msgs)),
            (&mallory, Payload::Delegate { validator: addr(&v1), amount: Amount::new(500 * M) }),
        ],
    );
    let proposed = rs[0].clone();
    ok(&proposed);
    ok(&rs[1]);
    let p = c.query(props, json!({"proposal": {"proposal_id": 1}})).unwrap();
    assert_eq!(p["total_power"], (80 * M).to_string(), "stake at the snapshot (40 + 30 + 10): {p}");
    // Mallory's 500M, bonded in the creation block, counts nothing.
    let why = failed(&c.one(100, &mallory, vote(props, 1, "yes")));
    assert!(why.contains("no voting power"), "{why}");
    let voting = module(&c, dao, "voting");
    let snap = p["snapshot_height"].as_u64().unwrap();
    let power =
        c.query(voting, json!({"voting_power_at_height": {"address": addr(&mallory).to_string(), "height": snap}}));
    assert_eq!(power.unwrap()["power"], "0");

    let voted = c.one(100, &v0, vote(props, 1, "yes"));
    ok(&voted);
    ok(&c.one(100, &alice, vote(props, 1, "yes")));
    let p = c.query(props, json!({"proposal": {"proposal_id": 1}})).unwrap();
    assert_eq!(p["tally"]["yes"], (50 * M).to_string(), "{p}");
    // Too early: still open, then timelocked.
    assert!(failed(&c.one(100, &alice, exec(props, json!({"execute": {"proposal_id": 1}}), 0))).contains("open"));
    c.block(10_000, vec![]);
    assert_eq!(c.query(props, json!({"proposal": {"proposal_id": 1}})).unwrap()["status"], "timelocked");
    c.block(2_000, vec![]);
    let before = c.balance(&to);
    let executed = c.one(100, &mallory, exec(props, json!({"execute": {"proposal_id": 1}}), 0));
    ok(&executed);
    assert_eq!(c.balance(&to), before + 12345);
    assert_eq!(c.query(props, json!({"proposal": {"proposal_id": 1}})).unwrap()["status"], "executed");
    println!(
        "gas: create DAO {} | propose {} | vote {} | execute (1 transfer) {}",
        created.gas_used, proposed.gas_used, voted.gas_used, executed.gas_used
    );
}

#[test]
fn token_dao_is_flash_loan_proof_even_inside_one_contract_call() {
    let (deployer, alice, lender) = (key("deployer"), key("alice"), key("lender"));
    let v0 = key("v0");
    let mut c = Chain::new(&[&deployer, &alice, &lender], &[(&v0, 40 * M)], ChainParams::default());
    let codes = upload_all(&mut c, &deployer);
    // A token: alice 1000, the lender a million.
    let token_msg = json!({"name": "Vote", "symbol": "VOTE", "decimals": 0, "initial_balances": [
        {"address": addr(&alice).to_string(), "amount": "1000"},
        {"address": addr(&lender).to_string(), "amount": "1000000"},
    ]});
    let r = c.one(
        100,
        &deployer,
        Payload::Instantiate {
            code_hash: codes.token,
            label: "vote".into(),
            msg: serde_json::to_vec(&token_msg).unwrap(),
            funds: Amount::ZERO,
        },
    );
    ok(&r);
    let token = contract_address(&codes.token, &addr(&deployer), "vote");
    let (dao, _) =
        create_dao(&mut c, &deployer, &codes, "tokens", (codes.token_voting, json!({"token": token.to_string()})));
    let props = module(&c, dao, "proposals");
    let voting = module(&c, dao, "voting");
    ok(&c.one(100, &alice, exec(token, json!({"approve": {"spender": voting.to_string(), "amount": "1000"}}), 0)));
    ok(&c.one(100, &alice, exec(voting, json!({"stake": {"amount": "1000"}}), 0)));
    // The attacker contract (probe) gets the lender's approval to borrow.
    let r = c.one(
        100,
        &deployer,
        Payload::Instantiate {
            code_hash: codes.probe,
            label: "attacker".into(),
            msg: b"{}".to_vec(),
            funds: Amount::ZERO,
        },
    );
    ok(&r);
    let attacker = contract_address(&codes.probe, &addr(&deployer), "attacker");
    ok(&c.one(
        100,
        &lender,
        exec(token, json!({"approve": {"spender": attacker.to_string(), "amount": "1000000"}}), 0),
    ));

    ok(&c.one(100, &alice, propose(props, "mint", json!([{"update_config": {"name": "taken"}}]))));
    // Borrow, stake, vote, unstake, repay — one contract call, after the snapshot.
    let s = |m: Value| m.to_string();
    let calls = json!([
        [
            token.to_string(),
            s(
                json!({"transfer_from": {"owner": addr(&lender).to_string(), "recipient": attacker.to_string(), "amount": "1000000"}})
            )
        ],
        [token.to_string(), s(json!({"approve": {"spender": voting.to_string(), "amount": "1000000"}}))],
        [voting.to_string(), s(json!({"stake": {"amount": "1000000"}}))],
        [props.to_string(), s(json!({"vote": {"proposal_id": 1, "option": "yes"}}))],
        [voting.to_string(), s(json!({"unstake": {"amount": "1000000"}}))],
        [token.to_string(), s(json!({"transfer": {"recipient": addr(&lender).to_string(), "amount": "1000000"}}))],
    ]);
    let why = failed(&c.one(100, &alice, exec(attacker, json!({"calls": {"calls": calls}}), 0)));
    assert!(why.contains("calls[3] failed") && why.contains("no voting power"), "{why}");
    // Without the vote the loan goes through, and still counts nothing at the snapshot.
    let mut no_vote = calls.as_array().unwrap().clone();
    no_vote.remove(3);
    ok(&c.one(100, &alice, exec(attacker, json!({"calls": {"calls": no_vote}}), 0)));
    let p = c.query(props, json!({"proposal": {"proposal_id": 1}})).unwrap();
    let snap = p["snapshot_height"].as_u64().unwrap();
    assert_eq!(p["total_power"], "1000", "{p}");
    let q = |who: Address, h: u64| {
        c.query(voting, json!({"voting_power_at_height": {"address": who.to_string(), "height": h}})).unwrap()["power"]
            .clone()
    };
    assert_eq!(q(attacker, snap), "0");
    assert_eq!(q(attacker, c.height), "0", "returned within the block: nothing at its end either");
    assert_eq!(q(addr(&alice), snap), "1000");
    ok(&c.one(100, &alice, vote(props, 1, "yes")));
    let votes = c.query(props, json!({"list_votes": {"proposal_id": 1}})).unwrap();
    assert_eq!(votes["votes"].as_array().unwrap().len(), 1, "only alice voted: {votes}");
}

#[test]
fn governance_dao_changes_chain_parameters_from_the_next_block() {
    let (deployer, v0) = (key("deployer"), key("v0"));
    let mut params = ChainParams::default();
    // The DAO's address is known before it exists.
    let core = Hash::digest(contract_artifacts::DAO_CORE);
    params.governance = Some(contract_address(&core, &addr(&deployer), "gov"));
    let mut c = Chain::new(&[&deployer, &v0], &[(&v0, 40 * M)], params);
    let codes = upload_all(&mut c, &deployer);
    let (dao, _) = create_dao(&mut c, &deployer, &codes, "gov", (codes.stake, json!({})));
    let props = module(&c, dao, "proposals");
    let good = json!([{"update_chain_params": {"changes": {"min_gas_price": "3", "staking": {"max_validators": 7}}}}]);
    let bad = json!([{"update_chain_params": {"changes": {"max_tx_gas": 0}}}]);
    ok(&c.one(100, &v0, propose(props, "gas", good)));
    ok(&c.one(100, &v0, propose(props, "bad", bad)));
    ok(&c.one(100, &v0, vote(props, 1, "yes")));
    ok(&c.one(100, &v0, vote(props, 2, "yes")));
    c.block(12_000, vec![]);
    let r = c.one(100, &v0, exec(props, json!({"execute": {"proposal_id": 1}}), 0));
    ok(&r);
    assert_eq!(c.params.min_gas_price, Amount::new(3));
    assert_eq!(c.params.staking.max_validators, 7);
    // Bad value: the execution fails with the reason, nothing changes.
    let before = c.params.clone();
    ok(&c.one(100, &v0, exec(props, json!({"execute": {"proposal_id": 2}}), 0)));
    let p = c.query(props, json!({"proposal": {"proposal_id": 2}})).unwrap();
    assert_eq!(p["status"], "execution_failed", "{p}");
    assert!(p.to_string().contains("max_block_gas"), "{p}");
    assert_eq!(c.params, before);
    // Only the governance contract may call update_chain_params: another DAO cannot.
    let (other, _) = create_dao(&mut c, &deployer, &codes, "other", (codes.stake, json!({})));
    let oprops = module(&c, other, "proposals");
    ok(&c.one(100, &v0, propose(oprops, "gas", json!([{"update_chain_params": {"changes": {"min_gas_price": "9"}}}]))));
    ok(&c.one(100, &v0, vote(oprops, 1, "yes")));
    c.block(12_000, vec![]);
    ok(&c.one(100, &v0, exec(oprops, json!({"execute": {"proposal_id": 1}}), 0)));
    let p = c.query(oprops, json!({"proposal": {"proposal_id": 1}})).unwrap();
    assert!(p.to_string().contains("not the chain's governance contract"), "{p}");
    assert_eq!(c.params.min_gas_price, Amount::new(3));
}
