//! Which validators one operator runs, as far as the chain can see: the
//! declared `operator_entity` and the website's host. Validators sharing
//! either are one cluster (transitively). Only ASCII is case-folded, so the
//! rule cannot change with a Unicode table.

use std::collections::BTreeMap;

use crate::staking::Validator;
use crate::types::Address;

/// A declared entity, normalised: trimmed, ASCII lower case, inner runs of
/// whitespace collapsed to one space. `None` when empty.
pub fn entity_key(entity: &str) -> Option<String> {
    let words: Vec<String> = entity.split_whitespace().map(str::to_ascii_lowercase).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A website's host, normalised (`https://www.Example.org/x` → `example.org`).
pub fn website_host(website: &str) -> Option<String> {
    let rest = website.strip_prefix("https://").or_else(|| website.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#', ':', '@']).next()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    (!host.is_empty()).then_some(host)
}

/// The operator cluster of every validator given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clusters {
    names: BTreeMap<Address, String>,
}

impl Clusters {
    /// Clusters `validators` (any order; the result does not depend on it).
    pub fn of<'a>(validators: impl IntoIterator<Item = &'a Validator>) -> Clusters {
        let mut vs: Vec<&Validator> = validators.into_iter().collect();
        vs.sort_by_key(|v| v.operator);
        vs.dedup_by_key(|v| v.operator);
        let mut parent: Vec<usize> = (0..vs.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        let mut first: BTreeMap<String, usize> = BTreeMap::new();
        for (i, v) in vs.iter().enumerate() {
            let keys = [
                entity_key(&v.metadata.operator_entity).map(|e| format!("e:{e}")),
                website_host(&v.metadata.website).map(|h| format!("w:{h}")),
            ];
            for k in keys.into_iter().flatten() {
                match first.get(&k) {
                    Some(&j) => {
                        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                        // The smaller index becomes the root: the result is order-free.
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        first.insert(k, i);
                    }
                }
            }
        }
        // A cluster's name: its smallest declared entity, else `site:` and its
        // smallest website host, else its (only) validator's address.
        let mut best: BTreeMap<usize, (u8, String)> = BTreeMap::new();
        for (i, v) in vs.iter().enumerate() {
            let r = root(&mut parent, i);
            let name = match (entity_key(&v.metadata.operator_entity), website_host(&v.metadata.website)) {
                (Some(e), _) => (0, e),
                (None, Some(h)) => (1, format!("site:{h}")),
                (None, None) => (2, v.operator.to_string()),
            };
            let slot = best.entry(r).or_insert_with(|| name.clone());
            if name < *slot {
                *slot = name;
            }
        }
        let mut names = BTreeMap::new();
        for (i, v) in vs.iter().enumerate() {
            let r = root(&mut parent, i);
            names.insert(v.operator, best.get(&r).map(|(_, n)| n.clone()).unwrap_or_default());
        }
        Clusters { names }
    }

    /// The cluster of validator `op` (its address if it was not given).
    pub fn name(&self, op: &Address) -> String {
        self.names.get(op).cloned().unwrap_or_else(|| op.to_string())
    }
}

/// The cluster name of a validator seen alone (its declared entity, else its
/// website host, else its address); [`Clusters::of`] also merges through
/// shared hosts.
pub fn cluster_of(v: &Validator) -> String {
    Clusters::of([v]).name(&v.operator)
}
