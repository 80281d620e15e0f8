//! The full report rendered by the node's JSON-RPC and the wallet CLI.
//!
//! Field names are snake_case and stable. Floating-point fields come from
//! [`crate::entropy`] (query-time only) and are `null` rather than NaN when undefined.

use serde::{Deserialize, Serialize};

use crate::{Distribution, Error, Ratio, Threshold, concentration_ratio, entropy, gini, hhi, largest_share, nakamoto};

/// How zero weights and ties are handled (copied into every [`Report`]).
pub const ZERO_WEIGHT_RULE: &str = "duplicate entity names are merged by summing their weights; \
entities are ordered by weight descending, ties broken by name ascending (the metrics do not \
depend on the tie order); zero-weight entities are kept: they count in `entities` and in n for \
the Gini coefficient and the Theil index, but not in `nonzero_entities` (the EDI's \
total_entities) nor in the entropies, and they never help reach a Nakamoto threshold; an empty \
or all-zero distribution has no report";

/// The concentration ratios listed in a report (only those with `k ≤ entities`).
const CONCENTRATION_KS: [u32; 3] = [1, 3, 5];
/// The Rényi orders listed in a report (besides Shannon and min-entropy).
const RENYI_ALPHAS: [f64; 2] = [0.0, 2.0];

/// One Nakamoto coefficient (τ-index) with its rule spelled out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NakamotoValue {
    /// Stable name of the threshold (`"bft_halt"`, `"safety"`, `"majority_edi"`,
    /// `"majority"`, `"control"`).
    pub name: String,
    /// The share, e.g. `"1/3"`.
    pub threshold: String,
    /// `">="` or `">"`.
    pub comparison: String,
    /// Human sentence stating the rule.
    pub rule: String,
    /// The smallest number of entities meeting it (`null` if unreachable).
    pub value: Option<u32>,
}

/// `CR_k`: the share of the `k` largest entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concentration {
    /// Number of largest entities.
    pub k: u32,
    /// Their combined share.
    pub share: Ratio,
}

/// A Rényi entropy of order `alpha`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenyiValue {
    /// The order.
    pub alpha: f64,
    /// The entropy in bits.
    pub bits: Option<f64>,
}

/// Every metric of a distribution. Exact values are [`Ratio`]s (`{"exact", "value"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Number of entities listed, zero weights included.
    pub entities: u64,
    /// Number of entities with a nonzero weight (the EDI's `total_entities`).
    pub nonzero_entities: u64,
    /// Total weight, decimal.
    pub total: String,
    /// Nakamoto coefficients for [`Threshold::STANDARD`], in that order.
    pub nakamoto: Vec<NakamotoValue>,
    /// Herfindahl–Hirschman index, 0..=10000.
    pub hhi: Ratio,
    /// Gini coefficient (EDI definition, zero weights in n).
    pub gini: Ratio,
    /// Largest share (`CR_1`, the EDI's max power ratio).
    pub largest_share: Ratio,
    /// `CR_k` for k = 1, 3, 5 (those with `k ≤ entities`).
    pub concentration: Vec<Concentration>,
    /// Shannon entropy in bits.
    pub shannon_entropy_bits: Option<f64>,
    /// Shannon entropy / log2(nonzero_entities) (0 for a single nonzero entity).
    pub normalised_entropy: Option<f64>,
    /// Min-entropy `−log2 max p` in bits (the EDI's α = −1).
    pub min_entropy_bits: Option<f64>,
    /// Rényi entropies for α = 0 (Hartley) and α = 2 (collision), in bits.
    pub renyi_entropy_bits: Vec<RenyiValue>,
    /// Theil index `ln n − H` (nats, zero weights in n).
    pub theil: Option<f64>,
    /// How zero weights and ties are handled ([`ZERO_WEIGHT_RULE`]).
    pub zero_weight_rule: String,
}

impl Report {
    /// The report of a distribution; `None` when it is empty or all-zero.
    pub fn of(distribution: &Distribution) -> Option<Report> {
        if distribution.total() == 0 {
            return None;
        }
        let nakamoto = Threshold::STANDARD
            .iter()
            .map(|t| NakamotoValue {
                name: t.name.to_string(),
                threshold: t.fraction(),
                comparison: t.cmp.symbol().to_string(),
                rule: t.rule(),
                value: nakamoto(distribution, *t),
            })
            .collect();
        let concentration = CONCENTRATION_KS
            .iter()
            .filter(|k| **k as usize <= distribution.entities())
            .filter_map(|k| concentration_ratio(distribution, *k as usize).map(|share| Concentration { k: *k, share }))
            .collect();
        let renyi_entropy_bits = RENYI_ALPHAS
            .iter()
            .map(|alpha| RenyiValue { alpha: *alpha, bits: entropy::renyi_entropy(distribution, *alpha) })
            .collect();
        Some(Report {
            entities: distribution.entities() as u64,
            nonzero_entities: distribution.nonzero_entities() as u64,
            total: distribution.total().to_string(),
            nakamoto,
            hhi: hhi(distribution)?,
            gini: gini(distribution)?,
            largest_share: largest_share(distribution)?,
            concentration,
            shannon_entropy_bits: entropy::shannon_entropy(distribution),
            normalised_entropy: entropy::normalised_entropy(distribution),
            min_entropy_bits: entropy::min_entropy(distribution),
            renyi_entropy_bits,
            theil: entropy::theil(distribution),
            zero_weight_rule: ZERO_WEIGHT_RULE.to_string(),
        })
    }

    /// The Nakamoto coefficient listed under a threshold name (e.g. `"majority_edi"`).
    pub fn nakamoto_value(&self, name: &str) -> Option<u32> {
        self.nakamoto.iter().find(|v| v.name == name).and_then(|v| v.value)
    }

    /// `CR_k` if listed.
    pub fn concentration_ratio(&self, k: u32) -> Option<Ratio> {
        self.concentration.iter().find(|c| c.k == k).map(|c| c.share)
    }

    /// Pretty-printed JSON.
    pub fn to_json_pretty(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json(e.to_string()))
    }
}
