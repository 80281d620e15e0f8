//! Rewards: exact splits, commission, a model over many blocks, and
//! payouts when a delegation changes.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::math::ACC_SCALE;
use crate::params::StakingParams;

fn reward_params() -> ChainParams {
    let mut p = params();
    p.staking.inflation_rate = rate(100_000);
    p.staking.blocks_per_year = 1_000;
    p.staking.community_tax = rate(20_000);
    p
}

#[test]
fn rewards_split_by_power_with_commission_exact() {
    let mut net = Net::new(reward_params());
    let supply0 = net.totals().supply.get();
    assert_eq!(supply0, 100 * M + 40 * M + 400 * M);
    // Block 1 has no last commit: its provision (540M × 10% / 1000) all goes to the pool.
    let out = net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    let ev = &events(&out.events, "rewards")[0];
    assert_eq!((attr(ev, "minted"), attr(ev, "to_validators"), attr(ev, "community_pool")), ("54000", "0", "54000"));
    // Block 2: everyone signed height 1. Provision floor(540_054_000 / 10 / 1000) = 54_005;
    // tax floor(54_005 × 2%) = 1_080; 52_925 to split by power 40/30/20/10.
    let out = net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    let ev = &events(&out.events, "rewards")[0];
    // 21_170 + 15_877 + 10_585 + 5_292 = 52_924 (1 of rounding dust to the pool).
    assert_eq!(
        (attr(ev, "fees"), attr(ev, "minted"), attr(ev, "to_validators"), attr(ev, "community_pool")),
        ("0", "54005", "52924", "1081")
    );
    let t = net.totals();
    assert_eq!((t.minted, t.community_pool), (amt(108_005), amt(55_081)));
    let want_commission = [2_117u128, 1_587, 1_058, 529];
    let want_rest = [19_053u128, 14_290, 9_527, 4_763];
    for i in 0..4 {
        let v = net.val(&net.op(i));
        assert_eq!(v.commission_outstanding, amt(want_commission[i]), "commission of v{i}");
        let acc = crate::math::Acc::default().add_reward(want_rest[i], STAKES[i]);
        assert_eq!(v.reward_acc, acc);
        let d = net.delegation(&net.op(i), &net.op(i)).unwrap();
        assert_eq!(d.pending_rewards, amt(want_rest[i] * ACC_SCALE / STAKES[i] * STAKES[i] / ACC_SCALE));
    }
    // 19_053 / 40M per share is exact: v0's operator gets all of it.
    assert_eq!(net.delegation(&net.op(0), &net.op(0)).unwrap().pending_rewards, amt(19_053));
    // No votes in the next block: nothing more for validators, so the
    // withdrawal pays exactly the above.
    let op0 = net.ops[0].clone();
    let before = net.balance(&net.op(0));
    let out = net.run(&[(&op0, Payload::WithdrawRewards { validator: None })], Spec::default());
    assert_all_ok(&out);
    let r = &out.receipts[0];
    assert_eq!(attr(events(&r.events, "withdraw_rewards")[0], "amount"), "19053");
    assert_eq!(attr(events(&r.events, "withdraw_commission")[0], "amount"), "2117");
    assert_eq!(net.balance(&net.op(0)), before + 19_053 + 2_117 - r.fee.get());
    assert_eq!(net.val(&net.op(0)).commission_outstanding, Amount::ZERO);
    assert_eq!(net.delegation(&net.op(0), &net.op(0)).unwrap().pending_rewards, Amount::ZERO);
    // Withdrawing again pays nothing.
    let out = net.block(&[(&op0, Payload::WithdrawRewards { validator: Some(net.op(0)) })]);
    assert_all_ok(&out);
    assert_eq!(attr(events(&out.receipts[0].events, "withdraw_rewards")[0], "amount"), "0");
}

/// An independent model of the distribution rules.
#[derive(Default, Debug)]
struct RewardModel {
    supply: u128,
    /// Σ of the per-share increments (× ACC_SCALE) since the model started.
    acc: BTreeMap<Address, u128>,
    commission: BTreeMap<Address, u128>,
    to_pool: u128,
    distributed: u128,
}

impl RewardModel {
    /// One block's begin: `fees` of the previous block, the block's provision,
    /// the votes of its last commit, each validator's shares and commission rate.
    fn step(
        &mut self,
        p: &StakingParams,
        fees: u128,
        votes: &[VoteInfo],
        ops: &BTreeMap<PublicKey, (Address, u128, u32)>,
    ) {
        let provision = self.supply * u128::from(p.inflation_rate.ppm()) / 1_000_000 / u128::from(p.blocks_per_year);
        self.supply += provision;
        let total = fees + provision;
        self.distributed += total;
        let tax = total * u128::from(p.community_tax.ppm()) / 1_000_000;
        let remaining = total - tax;
        let signed: Vec<_> = votes.iter().filter(|v| v.signed && v.power > 0).collect();
        let power: u128 = signed.iter().map(|v| u128::from(v.power)).sum();
        let mut paid = 0;
        for v in signed {
            let (op, shares, ppm) = ops[&v.validator];
            let reward = remaining * u128::from(v.power) / power;
            let commission = reward * u128::from(ppm) / 1_000_000;
            *self.commission.entry(op).or_default() += commission;
            *self.acc.entry(op).or_default() += (reward - commission) * ACC_SCALE / shares;
            paid += reward;
        }
        self.to_pool += total - paid;
    }

    fn earned(&self, op: &Address, shares: u128) -> u128 {
        shares * self.acc.get(op).copied().unwrap_or(0) / ACC_SCALE
    }
}

#[test]
fn rewards_over_many_blocks_match_the_model_and_withdraw_pays_exactly() {
    let mut net = Net::new(reward_params());
    let (v0, v1, v3) = (net.op(0), net.op(1), net.op(3));
    let (d0, d1) = (net.dels[0].clone(), net.dels[1].clone());
    let p = net.params.staking.clone();
    // Block 1: delegations (10M to v0, 5M to v1 and 7M to v3 from d1).
    let out = net.run(
        &[(&d0, delegate(v0, 10 * M)), (&d1, delegate(v1, 5 * M)), (&d1, delegate(v3, 7 * M))],
        Spec { votes: Votes::All, ..Spec::default() },
    );
    assert_all_ok(&out);
    let mut fees: u128 = out.receipts.iter().map(|r| r.fee.get()).sum();
    // The model starts after block 1 (every acc mark is now, pending is zero).
    let t = net.totals();
    let pool0 = t.community_pool.get();
    let mut model = RewardModel { supply: t.supply.get(), ..RewardModel::default() };
    let ops: BTreeMap<PublicKey, (Address, u128, u32)> = (0..4)
        .map(|i| {
            let v = net.val(&net.op(i));
            (v.consensus_key, (v.operator, v.shares, v.commission.rate.ppm()))
        })
        .collect();
    assert_eq!(ops[&net.cons_pk(0)].1, 50 * M);
    // Block 1 had no last commit: nothing was paid to validators yet.
    for i in 0..4 {
        let v = net.val(&net.op(i));
        assert_eq!((v.reward_acc, v.commission_outstanding), (crate::math::Acc::default(), Amount::ZERO));
    }
    // 12 blocks: v3 misses every other one, v2 signs only the first few.
    for b in 0..12u64 {
        let mut missing = Vec::new();
        if b % 2 == 1 {
            missing.push(net.cons_pk(3));
        }
        if (4..9).contains(&b) {
            missing.push(net.cons_pk(2));
        }
        let out = net.run(&[], Spec { votes: Votes::Missing(missing), ..Spec::default() });
        model.step(&p, fees, &net.last_votes, &ops);
        fees = 0;
        assert!(out.events.iter().any(|e| e.kind == "rewards"));
        assert!(out.validator_updates.is_none(), "5 misses of 10 are allowed: nobody is jailed");
    }
    // The powers of the last commits changed when the delegations took effect (height 3).
    for i in 0..4 {
        let v = net.val(&net.op(i));
        assert_eq!(v.commission_outstanding.get(), model.commission[&net.op(i)], "v{i}");
    }
    let pending = |net: &Net, d: &Address, op: &Address| net.delegation(d, op).unwrap().pending_rewards.get();
    assert_eq!(pending(&net, &addr(&d0), &v0), model.earned(&v0, 10 * M));
    assert_eq!(pending(&net, &addr(&d1), &v1), model.earned(&v1, 5 * M));
    assert_eq!(pending(&net, &addr(&d1), &v3), model.earned(&v3, 7 * M));
    assert!(model.earned(&v0, 10 * M) > 0 && model.earned(&v3, 7 * M) > 0);
    assert_eq!(net.totals().community_pool.get() - pool0, model.to_pool);
    assert_eq!(net.totals().supply.get(), model.supply);
    for i in 0..4 {
        // The acc each validator holds is its start plus the model's increments.
        let op = net.op(i);
        assert_eq!(net.val(&op).reward_acc.0, ethnum::U256::from(model.acc.get(&op).copied().unwrap_or(0)));
    }

    // Withdraw in a block without votes (nothing new accrues to validators).
    let op0 = net.ops[0].clone();
    let bal: Vec<u128> = [addr(&d0), addr(&d1), v0].iter().map(|a| net.balance(a)).collect();
    let out = net.run(
        &[
            (&d0, Payload::WithdrawRewards { validator: Some(v0) }),
            (&d1, Payload::WithdrawRewards { validator: None }),
            (&op0, Payload::WithdrawRewards { validator: None }),
        ],
        Spec::default(),
    );
    assert_all_ok(&out);
    let f: Vec<u128> = out.receipts.iter().map(|r| r.fee.get()).collect();
    let got_d0 = model.earned(&v0, 10 * M);
    let got_d1 = model.earned(&v1, 5 * M) + model.earned(&v3, 7 * M);
    let got_op0 = model.earned(&v0, 40 * M) + model.commission[&v0];
    assert_eq!(net.balance(&addr(&d0)), bal[0] + got_d0 - f[0]);
    assert_eq!(net.balance(&addr(&d1)), bal[1] + got_d1 - f[1]);
    assert_eq!(net.balance(&v0), bal[2] + got_op0 - f[2]);
    // d1 withdrew from both its validators: two events, and the extra gas.
    assert_eq!(events(&out.receipts[1].events, "withdraw_rewards").len(), 2);
    assert!(out.receipts[1].gas_used >= p.staking_gas + 2 * p.delegation_gas);

    // What was paid out and what is still owed never exceeds what was distributed.
    let owed_now: u128 = (0..4)
        .map(|i| {
            let op = net.op(i);
            let v = net.val(&op);
            let pending: u128 =
                net.view().delegations_to(&op, None, usize::MAX).unwrap().iter().map(|d| d.pending_rewards.get()).sum();
            v.commission_outstanding.get() + pending
        })
        .sum();
    let paid_out = got_d0 + got_d1 + got_op0;
    let validators_got = model.distributed - model.to_pool;
    assert!(paid_out + owed_now <= validators_got, "{paid_out} + {owed_now} > {validators_got}");
    // Each of the 7 delegations loses less than one token to rounding down.
    assert!(validators_got - (paid_out + owed_now) < 7, "more than rounding dust is missing");
}

#[test]
fn changing_a_delegation_pays_its_pending_rewards() {
    let mut net = Net::new(reward_params());
    net.run(&[], Spec::default());
    net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    // As in `rewards_split_by_power_with_commission_exact`: 19_053 pending for v0's operator.
    let (op0, v0) = (net.ops[0].clone(), net.op(0));
    assert_eq!(net.delegation(&v0, &v0).unwrap().pending_rewards, amt(19_053));
    let before = net.balance(&v0);
    let out = net.block(&[(&op0, delegate(v0, M))]);
    assert_all_ok(&out);
    let r = &out.receipts[0];
    let paid = events(&r.events, "withdraw_rewards");
    assert_eq!(paid.len(), 1);
    assert_eq!((attr(paid[0], "delegator"), attr(paid[0], "amount")), (v0.to_string().as_str(), "19053"));
    assert_eq!(net.balance(&v0), before + 19_053 - M - r.fee.get());
    assert_eq!(net.delegation(&v0, &v0).unwrap().pending_rewards, Amount::ZERO);
    // The commission is not part of it.
    assert_eq!(net.val(&v0).commission_outstanding, amt(2_117));
}
