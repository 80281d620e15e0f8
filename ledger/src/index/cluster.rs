//! Which validators one operator runs, as far as the chain can see: the
//! `operator_entity` each validator declares. Validators declaring the same
//! entity (ASCII case and inner spaces folded, so the rule cannot change with
//! a Unicode table) are one operator; a validator that declares none is its
//! own. No link is transitive: a validator speaks only for itself, so nobody
//! can bridge two other operators into one cluster (shared websites were
//! rejected for that reason, and because many point at one hosting platform).

use crate::staking::Validator;

/// A declared entity, normalised: trimmed, ASCII lower case, inner runs of
/// whitespace collapsed to one space. `None` when empty.
pub fn entity_key(entity: &str) -> Option<String> {
    let words: Vec<String> = entity.split_whitespace().map(str::to_ascii_lowercase).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The cluster name of one validator: its declared entity, or its address.
/// A declared entity that starts like an address (`agora1…`) is shown as
/// `entity:…`, so no declaration can take the name of another validator's
/// own cluster.
pub fn cluster_of(v: &Validator) -> String {
    match entity_key(&v.metadata.operator_entity) {
        Some(e) if e.starts_with(&format!("{}1", crate::types::ADDRESS_HRP)) => format!("entity:{e}"),
        Some(e) => e,
        None => v.operator.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_fold_ascii_case_and_spaces_only() {
        assert_eq!(entity_key("  Acme   Staking "), Some("acme staking".into()));
        assert_eq!(entity_key("ACME staking"), Some("acme staking".into()));
        assert_eq!(entity_key("   "), None);
        assert_ne!(entity_key("Ä"), entity_key("ä"), "no Unicode case folding in consensus");
    }
}
