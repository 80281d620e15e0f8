#![allow(clippy::unwrap_used)]

use super::*;

fn sample() -> Genesis {
    let pk = PublicKey(ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes());
    Genesis {
        version: GENESIS_VERSION,
        chain_id: "agora-test".into(),
        genesis_time: "2026-11-21T00:00:00Z".into(),
        accounts: vec![GenesisAccount { address: pk.address(), balance: Amount::new(1_000_000) }],
        validators: vec![GenesisValidator { name: "v0".into(), public_key: pk, power: 10 }],
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
    g.validators[0].power = 0;
    assert_eq!(field_of(&g), "validators[0].power");

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
