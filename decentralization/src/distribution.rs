//! The canonical distribution of integer weights over named entities.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Most entities a [`Distribution`] may hold (so that every count fits a `u32`).
pub const MAX_ENTITIES: usize = u32::MAX as usize;

/// One entity and its (merged) weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity's name (an organisation, a country, an operator address, ...).
    pub name: String,
    /// Its weight (blocks, nodes, voting power, ...).
    pub weight: u128,
}

/// A distribution of `u128` weights over named entities, in canonical form.
///
/// * Duplicate names are merged by summing their weights (checked).
/// * Entities are sorted by weight **descending**, ties broken by name **ascending**
///   (byte order), so every metric is a function of the multiset of weights and the
///   order is reproducible.
/// * Zero-weight entities are kept: they count in `n` for the Gini coefficient and the
///   Theil index (as in the EDI when they are part of the population) and in
///   [`Distribution::entities`], but never in [`Distribution::nonzero_entities`] and they
///   never help reach a threshold.
/// * The total always fits a `u128` and there are at most [`MAX_ENTITIES`] entities.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Distribution {
    entities: Vec<Entity>,
    total: u128,
    nonzero: usize,
}

impl Distribution {
    /// Builds a distribution from `(name, weight)` pairs, merging duplicate names.
    ///
    /// Errors: [`Error::TotalOverflow`] if the (merged) weights sum beyond `u128::MAX`,
    /// [`Error::TooManyEntities`] beyond [`MAX_ENTITIES`] distinct names.
    pub fn new<I, S>(pairs: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (S, u128)>,
        S: Into<String>,
    {
        let mut merged: BTreeMap<String, u128> = BTreeMap::new();
        let mut total: u128 = 0;
        for (name, weight) in pairs {
            total = total.checked_add(weight).ok_or(Error::TotalOverflow)?;
            let slot = merged.entry(name.into()).or_insert(0);
            // Cannot overflow: the slot is bounded by the (checked) total.
            *slot = slot.checked_add(weight).ok_or(Error::TotalOverflow)?;
        }
        if merged.len() > MAX_ENTITIES {
            return Err(Error::TooManyEntities { count: merged.len(), max: MAX_ENTITIES });
        }
        let mut entities: Vec<Entity> = merged.into_iter().map(|(name, weight)| Entity { name, weight }).collect();
        entities.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.name.cmp(&b.name)));
        let nonzero = entities.iter().take_while(|e| e.weight > 0).count();
        Ok(Self { entities, total, nonzero })
    }

    /// Builds a distribution from bare weights; entity `i` is named by its decimal index
    /// (`"0"`, `"1"`, ...), so no two are merged.
    pub fn from_weights(weights: &[u128]) -> Result<Self, Error> {
        Self::new(weights.iter().enumerate().map(|(i, w)| (i.to_string(), *w)))
    }

    /// The entities, weight descending then name ascending.
    pub fn entities_sorted(&self) -> &[Entity] {
        &self.entities
    }

    /// The weights, descending.
    pub fn weights(&self) -> impl DoubleEndedIterator<Item = u128> + ExactSizeIterator + '_ {
        self.entities.iter().map(|e| e.weight)
    }

    /// Sum of all weights.
    pub fn total(&self) -> u128 {
        self.total
    }

    /// Number of entities listed, zero weights included.
    pub fn entities(&self) -> usize {
        self.entities.len()
    }

    /// Number of entities with a nonzero weight (the EDI's `total_entities`).
    pub fn nonzero_entities(&self) -> usize {
        self.nonzero
    }

    /// True when no entity is listed.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// True when the total weight is zero (empty or all-zero): every metric is `None`.
    pub fn is_degenerate(&self) -> bool {
        self.total == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn merges_sorts_and_counts() {
        let d = Distribution::new([("b", 5u128), ("a", 5), ("c", 0), ("b", 1), ("d", 9)]).unwrap();
        let names: Vec<&str> = d.entities_sorted().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["d", "b", "a", "c"]);
        assert_eq!(d.weights().collect::<Vec<_>>(), [9, 6, 5, 0]);
        assert_eq!(d.total(), 20);
        assert_eq!(d.entities(), 4);
        assert_eq!(d.nonzero_entities(), 3);
    }

    #[test]
    fn total_overflow_is_an_error() {
        assert_eq!(Distribution::new([("a", u128::MAX), ("b", 1)]), Err(Error::TotalOverflow));
        assert_eq!(Distribution::new([("a", u128::MAX), ("a", 1)]), Err(Error::TotalOverflow));
        assert!(Distribution::new([("a", u128::MAX - 1), ("b", 1)]).is_ok());
    }
}
