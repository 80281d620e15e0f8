//! Floating-point metrics (`f64`): Rényi / Shannon / min-entropy, normalised entropy and the
//! Theil index.
//!
//! **Never used in consensus**: floating point results may differ across platforms and
//! library versions. These are for query-time reports (node JSON-RPC, wallet CLI, offline
//! CSV analysis) only. Block execution must use the exact metrics of the crate root.
//!
//! Conventions (the EDI's, from `consensus-decentralization/metrics/entropy.py` and
//! `theil_index.py`): `p_i = w_i / T`; entropies are in bits; every function returns
//! `None` for an empty or all-zero distribution; a result that is not finite is `None`.

use crate::Distribution;

/// The shares `p_i` of the nonzero entities, in canonical (descending) order.
fn shares(distribution: &Distribution) -> Option<impl Iterator<Item = f64> + '_> {
    let total = distribution.total();
    if total == 0 {
        return None;
    }
    let t = total as f64;
    Some(distribution.weights().take_while(|w| *w > 0).map(move |w| w as f64 / t))
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Rényi entropy of order `alpha`, in bits, with the EDI's conventions:
///
/// * `alpha == 1`: Shannon entropy `−Σ p_i log2 p_i`;
/// * `alpha == -1`: **min-entropy** `−log2 max p_i` (the EDI uses −1 as the code for
///   α = ∞, not the Rényi entropy of order −1);
/// * `alpha == 0`: Hartley entropy `log2(n_nonzero)`;
/// * otherwise `log2(Σ p_i^α) / (1 − α)` over the nonzero shares.
///
/// Zero-weight entities are outside the support and never contribute (the EDI's Python
/// would count a listed zero in `Σ p^0` because `0**0 == 1`; its distributions only list
/// entities that produced something, so the two agree on its data).
pub fn renyi_entropy(distribution: &Distribution, alpha: f64) -> Option<f64> {
    if alpha == 1.0 {
        return shannon_entropy(distribution);
    }
    if alpha == -1.0 {
        return min_entropy(distribution);
    }
    if alpha == 0.0 {
        return hartley_entropy(distribution);
    }
    let sum: f64 = shares(distribution)?.map(|p| p.powf(alpha)).sum();
    finite(sum.log2() / (1.0 - alpha))
}

/// Shannon entropy `−Σ p_i log2 p_i` in bits (`alpha = 1`).
pub fn shannon_entropy(distribution: &Distribution) -> Option<f64> {
    let h: f64 = shares(distribution)?.map(|p| -p * p.log2()).sum();
    finite(h.max(0.0))
}

/// Min-entropy `−log2 max p_i` in bits (the EDI's `alpha = -1`).
pub fn min_entropy(distribution: &Distribution) -> Option<f64> {
    let max = shares(distribution)?.next()?;
    finite((-max.log2()).max(0.0))
}

/// Hartley entropy `log2(n_nonzero)` in bits (`alpha = 0`).
pub fn hartley_entropy(distribution: &Distribution) -> Option<f64> {
    if distribution.total() == 0 {
        return None;
    }
    finite((distribution.nonzero_entities() as f64).log2())
}

/// Shannon entropy divided by its maximum `log2(n_nonzero)` (the EDI's "entropy
/// percentage", which divides by the maximum entropy over its `total_entities`, the
/// nonzero count). In `[0, 1]`. With a single nonzero entity the maximum is 0 and the
/// result is `Some(0.0)`, as the EDI returns 0 on that division by zero.
pub fn normalised_entropy(distribution: &Distribution) -> Option<f64> {
    let h = shannon_entropy(distribution)?;
    let n = distribution.nonzero_entities();
    if n <= 1 {
        return Some(0.0);
    }
    finite((h / (n as f64).log2()).clamp(0.0, 1.0))
}

/// Theil (T) index `ln n − H` with `H` the Shannon entropy in nats and `n` counting
/// **every** listed entity, zero weights included (the EDI's
/// `(1/n) Σ (x_i/μ) ln(x_i/μ)` with `μ = T/n` over the whole list). `0` for a perfectly
/// even distribution, `ln n` when one entity holds everything; clamped at 0 against
/// rounding.
pub fn theil(distribution: &Distribution) -> Option<f64> {
    let n = distribution.entities() as f64;
    let sum: f64 = shares(distribution)?.map(|p| p * (n * p).ln()).sum();
    finite(sum.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(w: &[u128]) -> Distribution {
        Distribution::from_weights(w).unwrap_or_default()
    }

    fn close(a: Option<f64>, b: f64, eps: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < eps)
    }

    #[test]
    fn edi_unit_examples() {
        // From the EDI's tests/test_metrics.py (3 decimals).
        assert!(close(shannon_entropy(&d(&[3, 2, 1])), 1.459, 5e-4));
        assert!(close(renyi_entropy(&d(&[3, 2, 1]), -1.0), 1.0, 5e-4));
        assert!(close(renyi_entropy(&d(&[432, 288, 216, 64]), 0.0), 2.0, 5e-4));
        assert!(close(renyi_entropy(&d(&[432, 288, 216, 64]), 2.0), 1.642, 5e-4));
        assert!(close(normalised_entropy(&d(&[3, 2, 1])), 0.921, 5e-4));
        assert!(close(theil(&d(&[3, 2, 1])), 0.087, 5e-4));
        assert!(close(theil(&d(&[3, 2, 1, 1, 1, 1])), 0.115, 5e-4));
        assert!(close(theil(&d(&[432, 0, 0, 0])), 1.386, 5e-4));
        assert!(close(theil(&d(&[432])), 0.0, 1e-12));
        assert!(close(normalised_entropy(&d(&[7, 0])), 0.0, 1e-12));
        for empty in [d(&[]), d(&[0, 0])] {
            assert_eq!(shannon_entropy(&empty), None);
            assert_eq!(normalised_entropy(&empty), None);
            assert_eq!(theil(&empty), None);
            assert_eq!(renyi_entropy(&empty, 2.0), None);
            assert_eq!(min_entropy(&empty), None);
        }
    }
}
