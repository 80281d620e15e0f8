//! The double-sign audit: every validator appends each signature it releases
//! to `HOME/signatures.jsonl` (`consensus.signature_log`, which the testnet
//! turns on). Two different signed values for one (validator, height, round,
//! step) is a double sign; this module finds any.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Line {
    validator: String,
    height: u64,
    round: u32,
    step: String,
    value: Option<String>,
}

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureAudit {
    /// Signature records read.
    pub signatures: usize,
    /// Distinct validators that signed.
    pub validators: usize,
    /// Highest height signed at.
    pub max_height: u64,
    /// One line per conflicting (validator, height, round, step).
    pub conflicts: Vec<String>,
}

/// Reads the given logs (missing files are skipped; a torn last line from a
/// killed process is ignored) and reports conflicting signatures.
pub fn audit_logs<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<SignatureAudit> {
    let mut seen: BTreeMap<(String, u64, u32, String), BTreeSet<Option<String>>> = BTreeMap::new();
    let mut audit = SignatureAudit::default();
    let mut signers = BTreeSet::new();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        for line in text.lines() {
            let Ok(l) = serde_json::from_str::<Line>(line) else { continue };
            audit.signatures += 1;
            audit.max_height = audit.max_height.max(l.height);
            signers.insert(l.validator.clone());
            seen.entry((l.validator, l.height, l.round, l.step)).or_default().insert(l.value);
        }
    }
    audit.validators = signers.len();
    for ((v, h, r, step), values) in seen {
        if values.len() > 1 {
            let vals: Vec<String> = values.into_iter().map(|v| v.unwrap_or_else(|| "nil".into())).collect();
            audit.conflicts.push(format!("{v} signed {step} at height {h} round {r} for {}", vals.join(" and ")));
        }
    }
    Ok(audit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn conflicting_values_are_reported_and_repeats_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        std::fs::write(
            &a,
            concat!(
                r#"{"validator":"v1","height":5,"round":0,"step":"prevote","value":"aa","time_ms":1}"#,
                "\n",
                r#"{"validator":"v1","height":5,"round":0,"step":"prevote","value":"aa","time_ms":2}"#,
                "\n",
                r#"{"validator":"v2","height":5,"round":0,"step":"precommit","value":null,"time_ms":1}"#,
                "\n",
                r#"{"validator":"v2","height":6,"round":0,"step":"prec"#,
            ),
        )
        .unwrap();
        std::fs::write(
            &b,
            concat!(r#"{"validator":"v2","height":5,"round":0,"step":"precommit","value":"bb","time_ms":3}"#, "\n"),
        )
        .unwrap();
        let audit = audit_logs([a.as_path(), b.as_path(), dir.path().join("missing").as_path()]).unwrap();
        assert_eq!(audit.signatures, 4);
        assert_eq!(audit.validators, 2);
        assert_eq!(audit.max_height, 5);
        assert_eq!(audit.conflicts.len(), 1);
        assert!(audit.conflicts[0].contains("v2 signed precommit at height 5 round 0 for nil and bb"));
    }
}
