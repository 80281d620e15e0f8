#![allow(clippy::unwrap_used)]

use super::*;

fn patch(p: &ChainParams, json: &str) -> Result<ChainParams, String> {
    apply_params_patch(p, json.as_bytes())
}

#[test]
fn a_patch_changes_only_the_named_fields() {
    let p = ChainParams::default();
    let q = patch(&p, r#"{"min_gas_price":"7","staking":{"max_validators":5},"contracts":{"gas_event":9}}"#).unwrap();
    assert_eq!(q.min_gas_price, Amount::new(7));
    assert_eq!(q.staking.max_validators, 5);
    assert_eq!(q.contracts.gas_event, 9);
    let mut expected = p.clone();
    expected.min_gas_price = Amount::new(7);
    expected.staking.max_validators = 5;
    expected.contracts.gas_event = 9;
    assert_eq!(q, expected);
    // Governance can hand itself over, or renounce.
    let to = Address([7; 20]);
    let q = patch(&p, &format!(r#"{{"governance":"{to}"}}"#)).unwrap();
    assert_eq!(q.governance, Some(to));
    assert_eq!(patch(&q, r#"{"governance":null}"#).unwrap().governance, None);
}

#[test]
fn the_index_epoch_and_the_operator_cap_are_governable() {
    let p = ChainParams::default();
    let q = patch(&p, r#"{"index":{"epoch_blocks":100},"staking":{"max_operator_power":"0.25"}}"#).unwrap();
    assert_eq!(q.index.epoch_blocks, 100);
    assert_eq!(q.staking.max_operator_power, crate::types::Rate::from_ppm(250_000).unwrap());
}

#[test]
fn bad_patches_are_refused_with_a_reason() {
    let p = ChainParams::default();
    let cases = [
        (r#"{"min_gas_price":"0"}"#, "min_gas_price"),
        (r#"{"max_tx_gas":2000000000}"#, "max_block_gas"),
        (r#"{"no_such":1}"#, "unknown parameter no_such"),
        (r#"{"staking":{"nope":1}}"#, "unknown parameter staking.nope"),
        (r#"{"staking":5}"#, "invalid parameters"),
        (r#"{"min_gas_price":{"a":1}}"#, "not a group"),
        (r#"{"min_gas_price":-1}"#, "invalid parameters"),
        (r#"{"contracts":{"max_call_depth":17}}"#, "max_call_depth"),
        (r#"{"index":{"epoch_blocks":1}}"#, "index.epoch_blocks"),
        (r#"{"index":{"epoch_blocks":1000001}}"#, "index.epoch_blocks"),
        (r#"{"staking":{"max_operator_power":"0.01"}}"#, "staking.max_operator_power"),
        (r#"{"contracts":{"max_memory_pages":512}}"#, "cannot change"),
        (r#"{"contracts":{"stake_history_blocks":0}}"#, "stake_history_blocks"),
        (r#"{"staking":{"max_validators":0}}"#, "max_validators"),
        (r#"{}"#, "non-empty"),
        (r#"[1]"#, "non-empty"),
        (r#"not json"#, "not JSON"),
    ];
    for (json, want) in cases {
        let err = patch(&p, json).unwrap_err();
        assert!(err.contains(want), "{json}: {err}");
    }
    let huge = format!(r#"{{"min_gas_price":"{}"}}"#, "1".repeat(MAX_PARAMS_PATCH_BYTES));
    assert!(patch(&p, &huge).unwrap_err().contains("at most"));
}

#[test]
fn a_patch_cannot_freeze_the_chain_or_change_what_nodes_size_at_start() {
    let p = ChainParams::default();
    let cases = [
        (r#"{"max_block_bytes":9000000}"#, "max_block_bytes sizes every node"),
        (r#"{"max_tx_bytes":1024}"#, "max_tx_bytes"),
        (r#"{"max_tx_gas":1,"max_block_gas":1}"#, "max_tx_gas"),
        (r#"{"min_gas_price":"1000001"}"#, "min_gas_price"),
        (r#"{"contracts":{"gas_storage_write":10000001}}"#, "gas table"),
        (r#"{"contracts":{"gas_copy_byte":10001}}"#, "per-byte"),
        (r#"{"contracts":{"gas_code_byte":5000}}"#, "largest upload"),
        (r#"{"staking":{"max_evidence_per_block":20000}}"#, "max_evidence_per_block"),
        (r#"{"contracts":{"stake_history_blocks":1}}"#, "cannot shrink"),
        (r#"{"staking":{"signed_blocks_window":1000001}}"#, "signed_blocks_window"),
        (r#"{"staking":{"max_entries":101}}"#, "max_entries"),
    ];
    for (json, want) in cases {
        let err = patch(&p, json).unwrap_err();
        assert!(err.contains(want), "{json}: {err}");
    }
    // At the bounds, accepted.
    let q =
        patch(&p, r#"{"max_tx_bytes":65536,"min_gas_price":"1000000","contracts":{"stake_history_blocks":30000000}}"#)
            .unwrap();
    assert_eq!((q.max_tx_bytes, q.min_gas_price.get()), (65536, 1_000_000));
    // Raising the call depth is governable (the node's stacks are sized for 16).
    assert_eq!(patch(&p, r#"{"contracts":{"max_call_depth":16}}"#).unwrap().contracts.max_call_depth, 16);
}

#[test]
fn the_params_record_is_versioned() {
    let p = ChainParams::default();
    let rec = encode_params(&p);
    assert_eq!(rec[0], PARAMS_RECORD_VERSION);
    assert_eq!(decode_params(&rec).unwrap(), p);
    let mut other = rec.clone();
    other[0] = 9;
    assert!(decode_params(&other).unwrap_err().to_string().contains("version 9"));
    assert!(decode_params(&[]).is_err());
}

#[test]
fn genesis_writes_the_params_record_that_read_params_reads() {
    let p = ChainParams { min_gas_price: Amount::new(3), ..ChainParams::default() };
    let mut store = crate::MemStore::new();
    let (diff, _) = crate::staking::genesis_state(&store, &p, "gov-test", 0, &[], &[]).unwrap();
    store.commit(&diff);
    assert_eq!(read_params(&store).unwrap(), Some(p));
}

#[test]
fn the_default_largest_upload_fits_a_transaction_and_governance_keeps_it_so() {
    let p = ChainParams::default();
    let c = &p.contracts;
    assert_eq!((c.max_code_bytes, p.max_tx_gas), (256 * 1024, 700_000_000));
    assert_eq!(c.gas_code_byte * u64::from(c.max_code_bytes), 655_360_000);
    assert!(c.gas_code_byte * u64::from(c.max_code_bytes) <= p.max_tx_gas);
    assert!(u64::from(p.max_tx_bytes) > u64::from(c.max_code_bytes) + 1024, "the upload's bytes fit max_tx_bytes");
    // The defaults pass the governance rules (a patch to the same value), and
    // lowering max_tx_gas below the largest upload is refused.
    assert_eq!(patch(&p, r#"{"min_gas_price":"1"}"#).unwrap(), p);
    let err = patch(&p, r#"{"max_tx_gas":600000000}"#).unwrap_err();
    assert!(err.contains("contracts.gas_code_byte"), "{err}");
}
