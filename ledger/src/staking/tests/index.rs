//! The decentralization index kept in the state: epochs close on time, every
//! subsystem's distribution and exact metrics are what the blocks and the
//! staking records say, hostile headers cannot grow the records, and the
//! operator power cap shapes the set while stake keeps earning.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::index::{self, EpochRecord, MAX_CLIENTS_PER_EPOCH, MAX_NEW_CLIENTS_PER_PROPOSER, SubsystemRecord};

fn index_params(epoch_blocks: u64) -> ChainParams {
    let mut p = params();
    p.index.epoch_blocks = epoch_blocks;
    p
}

fn sub<'a>(r: &'a EpochRecord, name: &str) -> &'a SubsystemRecord {
    r.subsystems.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no subsystem {name}"))
}

fn weights(s: &SubsystemRecord) -> Vec<(&str, u128)> {
    s.entities.iter().map(|(n, w)| (n.as_str(), *w)).collect()
}

fn edit(entity: &str, country: &str, hosting: &str, website: &str) -> Payload {
    Payload::EditValidator {
        commission_rate: None,
        min_self_delegation: None,
        metadata: MetadataUpdate {
            operator_entity: Some(entity.into()),
            country: Some(country.into()),
            hosting: Some(hosting.into()),
            website: Some(website.into()),
            ..MetadataUpdate::default()
        },
    }
}

fn proposed(net: &Net, i: usize, client: &str) -> Spec {
    Spec { votes: Votes::All, proposer: Some((net.cons_pk(i), client.into())), ..Spec::default() }
}

#[test]
fn epochs_close_on_time_with_every_subsystem() {
    let mut net = Net::new(index_params(4));
    let ops = net.ops.clone();
    // v0 and v1 declare one operator (in different spellings); v2 shares v1's
    // website (websites do not cluster), v3 declares nothing.
    let txs = [
        (&ops[0], edit("Acme  Staking", "DE", "AS24940", "")),
        (&ops[1], edit("ACME staking", "US", "AS16509", "https://www.example.org/a")),
        (&ops[2], edit("", "DE", "AS24940", "https://example.org")),
        (&ops[3], edit("", "", "", "")),
    ];
    let spec = proposed(&net, 0, "agorad/0.1.0");
    net.run(&txs.iter().map(|(k, p)| (*k, p.clone())).collect::<Vec<_>>(), spec);
    assert_eq!(index::current_counters(&net.store).unwrap().unwrap().blocks, 1);
    assert_eq!(index::latest_epoch(&net.store).unwrap(), None);
    for h in 2..=8u64 {
        let client = if h % 4 == 0 { "agorad/0.1.0+patched" } else { "agorad/0.1.0" };
        let spec = proposed(&net, (h % 4) as usize, client);
        let out = net.run(&[], spec);
        let closed = out.events.iter().any(|e| e.kind == "decentralization_epoch");
        assert_eq!(closed, h % 4 == 0, "height {h}");
    }
    assert_eq!(index::latest_epoch(&net.store).unwrap(), Some(2));
    let e1 = index::epoch_record(&net.store, 1).unwrap().unwrap();
    let e2 = index::epoch_record(&net.store, 2).unwrap().unwrap();
    assert_eq!((e1.start_height, e1.end_height, e1.blocks), (1, 4, 4));
    assert_eq!((e2.start_height, e2.end_height, e2.blocks), (5, 8, 4));
    assert_eq!(index::epoch_at_height(&net.store, 3).unwrap(), None);
    assert_eq!(index::epoch_at_height(&net.store, 4).unwrap(), Some(1));
    assert_eq!(index::epoch_at_height(&net.store, 7).unwrap(), Some(1));
    assert_eq!(index::epoch_at_height(&net.store, 8).unwrap(), Some(2));
    assert_eq!(index::epoch_at_height(&net.store, u64::MAX).unwrap(), Some(2));

    let (a, b, c, d) = (net.op(0).to_string(), net.op(1).to_string(), net.op(2).to_string(), net.op(3).to_string());
    let v = sub(&e2, "validators");
    assert_eq!(weights(v), vec![(a.as_str(), 40), (b.as_str(), 30), (c.as_str(), 20), (d.as_str(), 10)]);
    // ≥1/3: 40 alone; >1/3: 40; ≥1/2: 40+30; >1/2: 70; >2/3: 40+30 = 70 > 66.6.
    assert_eq!(v.nakamoto, vec![Some(1), Some(1), Some(2), Some(2), Some(2)]);
    assert!(!v.clustered);
    // 10000 × (1600+900+400+100)/100² = 3000.
    let (num, den) = v.hhi.unwrap();
    assert_eq!(decentralization::U256::from_be_bytes(num), decentralization::U256::from(3000u32));
    assert_eq!(decentralization::U256::from_be_bytes(den), decentralization::U256::ONE);
    // One cluster of v0 and v1 (the entity): 70 of 100.
    let o = sub(&e2, "operators");
    assert!(o.clustered);
    assert_eq!(weights(o), vec![("acme staking", 70), (c.as_str(), 20), (d.as_str(), 10)]);
    assert_eq!(o.nakamoto, vec![Some(1), Some(1), Some(1), Some(1), Some(1)]);
    assert_eq!(weights(sub(&e2, "countries")), vec![("DE", 60), ("US", 30), ("unknown", 10)]);
    assert_eq!(weights(sub(&e2, "hosting")), vec![("AS24940", 60), ("AS16509", 30), ("unknown", 10)]);
    let stake = sub(&e2, "validator_stake");
    assert_eq!(stake.total, 100 * M);
    assert_eq!(weights(sub(&e2, "clients")), vec![("agorad/0.1.0", 3), ("agorad/0.1.0+patched", 1)]);
    // Heights 5..8 were proposed by validators 1, 2, 3, 0.
    let map = |s: &SubsystemRecord| -> BTreeMap<String, u128> { s.entities.iter().cloned().collect() };
    let want =
        |v: [(&str, u128); 3]| -> BTreeMap<String, u128> { v.iter().map(|(n, w)| ((*n).to_owned(), *w)).collect() };
    assert_eq!(map(sub(&e2, "block_production")), want([("acme staking", 2), (&c, 1), (&d, 1)]));
    // Every validator signed each of the 4 commits.
    assert_eq!(map(sub(&e2, "vote_participation")), want([("acme staking", 8), (&c, 4), (&d, 4)]));
    // Epoch 1: height 1 had no commit to count.
    assert_eq!(sub(&e1, "vote_participation").total, 12);
}

#[test]
fn hostile_client_names_cannot_grow_the_counters() {
    let mut net = Net::new(index_params(500));
    // Three proposers cycle through fresh names: each adds two, the rest is `other`.
    for h in 0..(MAX_CLIENTS_PER_EPOCH + 10) {
        net.run(&[], proposed(&net, h % 3, &format!("evil/{h}")));
    }
    net.run(&[], proposed(&net, 0, "bad client with spaces"));
    net.run(&[], proposed(&net, 0, "other"));
    net.run(&[], proposed(&net, 0, &"x".repeat(10_000)));
    // The honest proposer's name still gets its own entry.
    net.run(&[], proposed(&net, 3, "agorad/0.1.0"));
    let c = index::current_counters(&net.store).unwrap().unwrap();
    let added = 3 * MAX_NEW_CLIENTS_PER_PROPOSER as usize;
    assert_eq!(c.clients.len(), added + 3, "{:?}", c.clients.keys());
    assert_eq!(c.clients.get("other"), Some(&((MAX_CLIENTS_PER_EPOCH + 10 - added) as u64)));
    assert_eq!(c.clients.get("invalid"), Some(&3), "a malformed or reserved name counts as invalid");
    assert_eq!(c.clients.get("agorad/0.1.0"), Some(&1));
    assert!(c.names_added.values().all(|n| *n <= MAX_NEW_CLIENTS_PER_PROPOSER));
}

#[test]
fn epoch_length_follows_the_parameter_in_force() {
    let mut net = Net::new(index_params(3));
    for _ in 0..3 {
        net.block(&[]);
    }
    assert_eq!(index::latest_epoch(&net.store).unwrap(), Some(1));
    // Governance shortens epochs mid-way: the running epoch closes as soon as
    // it has enough blocks.
    net.block(&[]);
    net.block(&[]);
    net.params.index.epoch_blocks = 1;
    net.block(&[]);
    let e2 = index::epoch_record(&net.store, 2).unwrap().unwrap();
    assert_eq!((e2.start_height, e2.end_height, e2.blocks), (4, 6, 3));
    net.block(&[]);
    let e3 = index::epoch_record(&net.store, 3).unwrap().unwrap();
    assert_eq!((e3.start_height, e3.end_height), (7, 7));
}

#[test]
fn the_operator_cap_limits_voting_power_but_not_rewards() {
    let mut p = index_params(1);
    p.staking.max_operator_power = rate(350_000);
    p.staking.inflation_rate = rate(100_000);
    p.staking.blocks_per_year = 1_000;
    let mut net = Net::new(p);
    // 40/30/20/10 with a 35 % cap: the largest gets X = ⌊0.35·60/0.65⌋ = 32.
    let powers: Vec<u64> = {
        let mut s = net.current_set();
        s.sort_by_key(|m| std::cmp::Reverse(m.power));
        s.iter().map(|m| m.power).collect()
    };
    assert_eq!(powers, vec![32, 30, 20, 10]);
    net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    net.run(&[], Spec { votes: Votes::All, ..Spec::default() });
    // Rewards follow stake (40:10), not the capped power (32:10).
    let r0 = net.val(&net.op(0)).reward_acc.0.as_u128();
    let r3 = net.val(&net.op(3)).reward_acc.0.as_u128();
    // Equal reward per share (up to rounding): proportional to stake. By
    // capped power, v0's would be 32/40 of v3's.
    assert!(r0 > 0 && r0.abs_diff(r3) * 1000 < r3, "per-share rewards {r0} vs {r3}");
    // Declaring v0 and v1 one operator caps them together: 70 of 100 → 35 %.
    let ops = net.ops.clone();
    net.run(
        &[(&ops[0], edit("whale", "DE", "", "")), (&ops[1], edit("whale", "DE", "", ""))],
        Spec { votes: Votes::All, ..Spec::default() },
    );
    let set = net.set_at(net.height + 2);
    let by_op = |i: usize| set.iter().find(|m| m.operator == net.op(i)).unwrap().power;
    let whale = by_op(0) + by_op(1);
    let total: u64 = set.iter().map(|m| m.power).sum();
    assert_eq!(total, 90, "10 % of the power removed, no more");
    assert!(by_op(0) > by_op(1), "split in proportion to stake");
    // Water-filling alone would cut the whale and v2 to 11 (removing 68 of
    // 100); at most 10 % may go, so the level rises to 60: the whale keeps 60.
    assert_eq!((whale, by_op(2), by_op(3)), (60, 20, 10));
    let e = index::epoch_record(&net.store, index::latest_epoch(&net.store).unwrap().unwrap()).unwrap().unwrap();
    assert!(sub(&e, "operators").entities.contains(&("whale".to_owned(), 60)));
}
