//! Slashing: double-sign evidence (entries made after the infraction,
//! tombstoning, age limit) and downtime (jail, slash, unjail).
#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn double_sign_slashes_entries_after_the_infraction_and_tombstones() {
    let mut net = Net::new(params());
    let (v0, v1, v2, v3) = (net.op(0), net.op(1), net.op(2), net.op(3));
    let (d0, d1, d2) = (net.dels[0].clone(), net.dels[1].clone(), net.dels[2].clone());
    // Height 1: delegations to v1 (30M → 49M) and one undelegation before the infraction.
    let out = net.block(&[
        (&d0, delegate(v1, 10 * M)),
        (&d1, delegate(v1, 6 * M)),
        (&d2, delegate(v1, 3 * M)),
        (&d2, undelegate(v1, M)),
    ]);
    assert_all_ok(&out);
    // Height 2: the infraction (v1 has 48M, power 48).
    net.block(&[]);
    assert_eq!(net.val(&v1).power(net.params.staking.power_reduction), 48);
    // Height 3: an undelegation and a redelegation away from v1, after the infraction.
    let out = net.block(&[(&d0, undelegate(v1, 2 * M)), (&d1, redelegate(v1, v2, 4 * M))]);
    assert_all_ok(&out);
    let ub_completion = net.time_ms + UNBONDING_MS;
    assert_eq!(net.val(&v1).tokens, amt(42 * M));
    assert_eq!(net.val(&v2).tokens, amt(24 * M));
    let before = net.view().supply().unwrap();

    // Height 4: evidence. 5% × 48 × 1M = 2.4M: 100k from d0's entry, 200k
    // from d1's redelegated stake at v2, 2.1M from v1's tokens.
    let ev = Misbehaviour { validator: net.cons_pk(1), height: Height(2), power: 48 };
    let out = net.run(&[], Spec { evidence: vec![ev], ..Spec::default() });
    let slash = &events(&out.events, "slash")[0];
    assert_eq!((attr(slash, "reason"), attr(slash, "amount")), ("double_sign", "2400000"));
    assert_eq!(attr(slash, "validator"), v1.to_string());
    let v = net.val(&v1);
    assert_eq!(v.tokens, amt(39_900_000));
    assert_eq!(v.shares, 42 * M, "delegators share the loss");
    assert!(v.jailed && v.tombstoned);
    assert_eq!(v.jailed_until_ms, u64::MAX);
    assert_eq!(v.status, ValidatorStatus::Unbonding { completion_ms: net.time_ms + UNBONDING_MS });
    assert_eq!(net.unbondings(&net.del(0), &v1)[0].balance, amt(1_900_000));
    assert_eq!(net.unbondings(&net.del(0), &v1)[0].initial, amt(2 * M));
    assert_eq!(net.unbondings(&net.del(2), &v1)[0].balance, amt(M), "entry before the infraction is not slashed");
    assert_eq!(net.val(&v2).tokens, amt(23_800_000));
    assert_eq!(net.delegation(&net.del(1), &v2).unwrap().amount, amt(3_800_000));
    // d0 holds 8M of v1's 42M shares: 8/42 of 39.9M.
    assert_eq!(net.delegation(&net.del(0), &v1).unwrap().amount, amt(7_600_000));
    let after = net.view().supply().unwrap();
    assert_eq!(after.totals.burned, amt(2_400_000));
    assert_eq!(after.totals.supply.get(), before.totals.supply.get() - 2_400_000);
    assert_eq!(after.bonded.get(), before.bonded.get() - 2_300_000);
    assert_eq!(after.unbonding.get(), before.unbonding.get() - 100_000);
    let want =
        sorted(vec![member(v0, net.cons_pk(0), 40), member(v2, net.cons_pk(2), 23), member(v3, net.cons_pk(3), 10)]);
    assert_eq!(out.validator_updates, Some(want));

    // A second evidence (another height) does nothing.
    let kv = net.staking_kv();
    let ev2 = Misbehaviour { validator: net.cons_pk(1), height: Height(3), power: 42 };
    let out = net.run(&[], Spec { evidence: vec![ev2, ev], ..Spec::default() });
    assert!(events(&out.events, "slash").is_empty());
    assert_eq!(out.validator_updates, None);
    assert_eq!(net.staking_kv(), kv);

    let op1 = net.ops[1].clone();
    net.expect_failures(&[
        (&op1, Payload::Unjail {}, "tombstoned"),
        (&d0, delegate(v1, M), "tombstoned"),
        (&d1, redelegate(v2, v1, M), "tombstoned"),
    ]);
    // The slashed entry pays its balance; undelegating from a tombstoned validator still works.
    assert_all_ok(&net.block(&[(&d0, undelegate(v1, M))]));
    let bal = net.balance(&net.del(0));
    net.advance_to(ub_completion);
    assert_eq!(net.balance(&net.del(0)), bal + 1_900_000);
    assert_eq!(net.unbondings(&net.del(2), &v1), vec![]);
}

#[test]
fn evidence_older_than_max_age_is_ignored() {
    let mut p = params();
    p.staking.max_evidence_age_blocks = 3;
    let mut net = Net::new(p);
    for _ in 0..4 {
        net.block(&[]);
    }
    // Height 5: 5 − 1 = 4 > 3.
    let ev = Misbehaviour { validator: net.cons_pk(0), height: Height(1), power: 40 };
    let out = net.run(&[], Spec { evidence: vec![ev], ..Spec::default() });
    assert!(events(&out.events, "slash").is_empty());
    assert!(!net.val(&net.op(0)).tombstoned);
    // Height 6: 6 − 3 = 3 is still in time.
    let ev = Misbehaviour { validator: net.cons_pk(0), height: Height(3), power: 40 };
    let out = net.run(&[], Spec { evidence: vec![ev], ..Spec::default() });
    assert_eq!(attr(events(&out.events, "slash")[0], "amount"), "2000000");
    // Unknown keys are ignored.
    let ev = Misbehaviour { validator: pk(&sk(99)), height: Height(5), power: 40 };
    let out = net.run(&[], Spec { evidence: vec![ev], ..Spec::default() });
    assert!(events(&out.events, "slash").is_empty());
}

// ---- downtime -----------------------------------------------------------------

#[test]
fn downtime_jails_slashes_and_unjail_waits() {
    let mut net = Net::new(params());
    let v3 = net.op(3);
    let miss3 = || Spec { votes: Votes::Missing(vec![pk(&sk(23))]), ..Spec::default() };
    // Heights 1..=4 signed, then v3 misses heights 5, 6, ...
    net.run(&[], Spec { votes: Votes::All, ..Spec::default() }); // block 1: no last commit
    for _ in 2..=5 {
        net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    }
    // Blocks 6..=10 carry misses of heights 5..=9: 5 of 10 is still allowed.
    for _ in 6..=10 {
        let out = net.run(&[], miss3());
        assert!(events(&out.events, "slash").is_empty());
    }
    assert_eq!(net.view().signing_info(&v3).unwrap().unwrap().missed, vec![5, 6, 7, 8, 9]);
    assert!(!net.val(&v3).jailed);
    // Block 11 carries the 6th miss (height 10): jailed and slashed 1% of 10M.
    let out = net.run(&[], miss3());
    let jailed_at = net.time_ms;
    let slash = &events(&out.events, "slash")[0];
    assert_eq!(
        (attr(slash, "reason"), attr(slash, "missed_blocks"), attr(slash, "amount")),
        ("downtime", "6", "100000")
    );
    let v = net.val(&v3);
    assert!(v.jailed && !v.tombstoned);
    assert_eq!(v.jailed_until_ms, jailed_at + JAIL_MS);
    assert_eq!(v.tokens, amt(9_900_000));
    assert_eq!(net.totals().burned, amt(100_000));
    let want = sorted((0..3).map(|i| member(net.op(i), net.cons_pk(i), [40, 30, 20][i])).collect());
    assert_eq!(out.validator_updates, Some(want));
    assert_eq!(net.view().signing_info(&v3).unwrap().unwrap().missed, Vec::<u64>::new());
    // Still in the last commits of the next two blocks: ignored while jailed.
    for _ in 0..2 {
        let out = net.run(&[], miss3());
        assert!(events(&out.events, "slash").is_empty());
    }
    assert_eq!(net.val(&v3).tokens, amt(9_900_000));

    let op3 = net.ops[3].clone();
    net.expect_failures(&[(&op3, Payload::Unjail {}, "is jailed for")]);
    let (d, op0) = (net.dels[0].clone(), net.ops[0].clone());
    net.expect_failures(&[
        (&d, Payload::Unjail {}, "does not operate a validator"),
        (&op0, Payload::Unjail {}, "is not jailed"),
    ]);
    // `expect_failures` runs two blocks 1 s apart: the failing one is 1 ms early.
    net.advance_to(jailed_at + JAIL_MS - 2_001);
    net.expect_failures(&[(&op3, Payload::Unjail {}, "is jailed for 1 s more")]);
    assert_eq!(net.time_ms, jailed_at + JAIL_MS - 1);
    let out = net.run(&[(&op3, Payload::Unjail {})], Spec { dt_ms: 1, ..Spec::default() });
    assert_all_ok(&out);
    let h = net.height;
    let v = net.val(&v3);
    assert!(!v.jailed);
    assert_eq!(v.status, ValidatorStatus::Bonded);
    let vu = out.validator_updates.unwrap();
    assert_eq!(vu.iter().find(|m| m.operator == v3).unwrap().power, 9);
    assert_eq!(vu.len(), 4);
    assert_eq!(net.view().signing_info(&v3).unwrap().unwrap(), SigningInfo { start_height: Height(h), missed: vec![] });
    // Back in the commits two heights later; signing keeps it free.
    for _ in 0..12 {
        net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    }
    assert!(!net.val(&v3).jailed);
    assert!(net.last_votes.iter().any(|v| v.validator == net.cons_pk(3)));
}
