#![allow(clippy::unwrap_used)]

use super::*;
use ledger::Rate;
use ledger::staking::{StakingView, ValidatorStatus};

fn sample() -> Genesis {
    let pk = PublicKey(ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes());
    Genesis {
        version: GENESIS_VERSION,
        chain_id: "agora-test".into(),
        genesis_time: "2026-11-21T00:00:00Z".into(),
        accounts: vec![GenesisAccount { address: pk.address(), balance: Amount::new(1_000_000) }],
        validators: vec![GenesisValidator {
            operator: pk.address(),
            public_key: pk,
            self_stake: Amount::new(10_000_000),
            commission: CommissionRates::default(),
            min_self_delegation: None,
            metadata: ValidatorMetadata { moniker: "v0".into(), ..Default::default() },
        }],
        params: ChainParams::default(),
        consensus: ConsensusParams::default(),
    }
}

#[test]
fn round_trips_and_hash_ignores_formatting() {
    let g = sample();
    let pretty = g.to_json_pretty();
    let compact = serde_json::to_string(&g).unwrap();
    let a = Genesis::from_json(&pretty).unwrap();
    let b = Genesis::from_json(&compact).unwrap();
    assert_eq!(a, g);
    assert_eq!(a.hash(), b.hash());
    let mut c = g.clone();
    c.accounts[0].balance = Amount::new(1_000_001);
    assert_ne!(c.hash(), g.hash());
}

fn field_of(g: &Genesis) -> String {
    match g.validate() {
        Err(GenesisError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn errors_name_the_bad_field() {
    let mut g = sample();
    g.version = 2;
    assert_eq!(field_of(&g), "version");

    let mut g = sample();
    g.chain_id = "Bad Id".into();
    assert_eq!(field_of(&g), "chain_id");

    let mut g = sample();
    g.genesis_time = "yesterday".into();
    assert_eq!(field_of(&g), "genesis_time");

    let mut g = sample();
    g.accounts.push(g.accounts[0].clone());
    assert_eq!(field_of(&g), "accounts[1].address");

    let mut g = sample();
    g.accounts[0].balance = Amount::new(u128::MAX);
    g.accounts.push(GenesisAccount { address: Address([1; 20]), balance: Amount::new(1) });
    assert_eq!(field_of(&g), "accounts[1].balance");

    let mut g = sample();
    g.validators[0].self_stake = Amount::ZERO;
    assert_eq!(field_of(&g), "validators[0].self_stake");

    let mut g = sample();
    g.validators[0].metadata.country = "Germany".into();
    assert_eq!(field_of(&g), "validators[0].metadata");

    let mut g = sample();
    g.validators[0].commission.rate = Rate::from_ppm(300_000).unwrap();
    assert_eq!(field_of(&g), "validators[0].commission");

    let mut g = sample();
    g.validators[0].min_self_delegation = Some(Amount::new(1));
    assert_eq!(field_of(&g), "validators[0].min_self_delegation");

    let mut g = sample();
    g.validators.push(g.validators[0].clone());
    g.validators[1].operator = Address([9; 20]);
    assert_eq!(field_of(&g), "validators[1].public_key");

    let mut g = sample();
    g.params.staking.power_reduction = Amount::ZERO;
    assert_eq!(field_of(&g), "params.staking.power_reduction");

    let mut g = sample();
    g.validators.clear();
    assert_eq!(field_of(&g), "validators");

    let mut g = sample();
    g.params.min_gas_price = Amount::ZERO;
    assert_eq!(field_of(&g), "params.min_gas_price");
}

#[test]
fn unknown_and_malformed_fields_are_refused() {
    let mut v: serde_json::Value = serde_json::from_str(&sample().to_json_pretty()).unwrap();
    v["surprise"] = serde_json::json!(1);
    assert!(matches!(Genesis::from_json(&v.to_string()), Err(GenesisError::Json(_))));
    let mut v: serde_json::Value = serde_json::from_str(&sample().to_json_pretty()).unwrap();
    v["accounts"][0]["address"] = serde_json::json!("cosmos1xyz");
    let err = Genesis::from_json(&v.to_string()).unwrap_err().to_string();
    assert!(err.contains("address") || err.contains("cosmos1xyz"), "{err}");
}

fn validator(seed: u8, self_stake: u128, moniker: &str) -> GenesisValidator {
    let pk = PublicKey(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes());
    GenesisValidator {
        operator: pk.address(),
        public_key: pk,
        self_stake: Amount::new(self_stake),
        commission: CommissionRates::default(),
        min_self_delegation: None,
        metadata: ValidatorMetadata { moniker: moniker.into(), country: "DE".into(), ..Default::default() },
    }
}

#[test]
fn initial_state_bonds_self_stakes_and_builds_the_set() {
    let mut g = sample();
    g.validators.push(validator(8, 25_500_000, "v1"));
    g.validators[1].min_self_delegation = Some(Amount::new(2_000_000));
    g.validate().unwrap();
    let mut store = ledger::MemStore::new();
    let (diff, set) = g.initial_state(&store).unwrap();
    store.commit(&diff);

    // The set is sorted by consensus key; power = self_stake / power_reduction (rounded down).
    let mut expected = vec![(g.validators[0].public_key, 10u64), (g.validators[1].public_key, 25u64)];
    expected.sort();
    assert_eq!(set.iter().map(|m| (m.consensus_key, m.power)).collect::<Vec<_>>(), expected);
    assert_eq!(g.validator_set().unwrap(), expected);
    assert!(set.iter().all(|m| m.operator == m.consensus_key.address()));

    let mut view = StakingView::new(store.clone(), &g.params);
    assert_eq!(view.active_set().unwrap(), set);
    let supply = view.supply().unwrap();
    assert_eq!(supply.totals.supply, Amount::new(1_000_000 + 10_000_000 + 25_500_000));
    assert_eq!(supply.bonded, Amount::new(35_500_000));
    assert_eq!(supply.totals.minted, Amount::ZERO);
    // The operator of v0 is also the funded account: its balance is untouched.
    let liquid = ledger::state::read_account(&store, &g.accounts[0].address).unwrap().balance;
    assert_eq!(liquid, Amount::new(1_000_000));
    assert_eq!(ledger::state::read_account(&store, &g.validators[1].operator).unwrap().balance, Amount::ZERO);
    assert!(view.check_invariants(liquid).unwrap().is_empty());

    for gv in &g.validators {
        let v = view.validator(&gv.operator).unwrap().unwrap();
        assert_eq!(v.status, ValidatorStatus::Bonded);
        assert_eq!(v.tokens, gv.self_stake);
        assert_eq!(v.shares, gv.self_stake.get());
        assert_eq!(view.self_delegation(&v).unwrap(), gv.self_stake);
        assert_eq!(v.min_self_delegation, gv.min_self_delegation.unwrap_or(g.params.staking.min_self_delegation));
        assert_eq!(v.metadata, gv.metadata);
        assert!(!v.jailed && !v.tombstoned);
    }
    // The same genesis always yields the same root.
    let (again, _) = g.initial_state(&ledger::MemStore::new()).unwrap();
    assert_eq!(again.root, diff.root);
}

#[test]
fn validator_stake_below_power_reduction_is_refused() {
    let mut g = sample();
    g.params.staking.min_self_delegation = Amount::new(1);
    g.validators[0].self_stake = Amount::new(999_999);
    assert_eq!(field_of(&g), "validators[0].self_stake");
    g.validators[0].self_stake = Amount::new(1_000_000);
    g.validate().unwrap();
    assert_eq!(g.validator_set().unwrap(), vec![(g.validators[0].public_key, 1)]);
}
