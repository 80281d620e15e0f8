#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn rpc_method_labels_are_bounded() {
    let m = Metrics::new(["agora_status", "agora_getBlock"]);
    for i in 0..10_000 {
        m.rpc.method(&format!("made_up_{i}")).count(true);
    }
    m.rpc.method("agora_status").observe(Duration::from_millis(3), true);
    assert_eq!(m.rpc.labels(), 3);
    let mut out = String::new();
    encode(&mut out, &m.registry).unwrap();
    assert!(out.contains("agora_rpc_requests_total{method=\"unknown\"} 10000"), "{out}");
    assert!(out.contains("agora_rpc_requests_total{method=\"agora_status\"} 1"), "{out}");
    assert!(!out.contains("made_up"));
    let series = out.lines().filter(|l| l.starts_with("agora_rpc_requests_total{")).count();
    assert_eq!(series, 3, "{out}");
}

#[test]
fn every_mempool_error_has_a_listed_reason() {
    let h = ledger::Hash::ZERO;
    let errors = [
        MempoolError::Duplicate(h),
        MempoolError::Full(1),
        MempoolError::NonceTaken { nonce: 1 },
        MempoolError::Invalid(ledger::InvalidTx::BadSignature),
        MempoolError::Invalid(ledger::InvalidTx::FeeOverflow),
        MempoolError::State(ledger::LedgerError::Storage("x".into())),
    ];
    let r = Rejections::default();
    for e in &errors {
        assert!(REJECTION_REASONS.contains(&rejection_reason(e)));
        r.record(e);
    }
    assert_eq!(r.get("duplicate"), 1);
    assert_eq!(r.get("fee"), 1);
    assert_eq!(r.get("internal"), 1);
}

#[test]
fn classic_text_names_counters_with_total() {
    let m = Metrics::new(["agora_status"]);
    m.rpc.method("agora_status").observe(Duration::from_millis(1), true);
    let mut om = String::new();
    encode(&mut om, &m.registry).unwrap();
    assert!(om.contains("# TYPE agora_rpc_requests counter"), "{om}");
    assert!(om.ends_with("# EOF\n"));
    let text = to_prometheus_text(&om);
    assert!(text.contains("# TYPE agora_rpc_requests_total counter\n"), "{text}");
    assert!(text.contains("# HELP agora_rpc_requests_total JSON-RPC calls"), "{text}");
    assert!(text.contains("agora_rpc_requests_total{method=\"agora_status\"} 1\n"));
    assert!(text.contains("# TYPE agora_consensus_height gauge\n"));
    assert!(text.contains("# TYPE agora_rpc_request_duration_seconds histogram\n"));
    assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    assert_eq!(
        om.lines().filter(|l| !l.starts_with('#')).count(),
        text.lines().filter(|l| !l.starts_with('#')).count()
    );
}

#[test]
fn followed_counters_advance_by_the_delta() {
    let c = Counter::default();
    follow(&c, 5);
    follow(&c, 5);
    follow(&c, 9);
    follow(&c, 3);
    assert_eq!(c.get(), 9);
}
