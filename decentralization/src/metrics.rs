//! The exact metrics: integer arithmetic only, deterministic, usable in block execution.
//!
//! Every function returns `None` for an empty or all-zero distribution (as the EDI returns
//! "none").

use ethnum::U256;

use crate::{Distribution, Ratio, Threshold};

/// The HHI is computed exactly when the total weight is below `2^HHI_EXACT_TOTAL_BITS`
/// (always the case for `u64` weights and up to 2^32 entities). Beyond that, see [`hhi`].
pub const HHI_EXACT_TOTAL_BITS: u32 = 121;

/// Nakamoto coefficient / τ-index: the smallest `k` such that the `k` largest weights
/// together meet `threshold` (exact cross-multiplication, see [`Threshold::is_met`]).
///
/// `None` when the total is 0 or the threshold can never be met (a share above 1, or
/// "more than 1/1"). A threshold of "≥ 0" gives `Some(0)` (as the EDI's τ-index does).
/// Zero-weight entities never help reach a threshold, so the result is at most
/// [`Distribution::nonzero_entities`].
pub fn nakamoto(distribution: &Distribution, threshold: Threshold) -> Option<u32> {
    let total = distribution.total();
    if total == 0 || !threshold.is_reachable() {
        return None;
    }
    if threshold.is_met(0, total) {
        return Some(0);
    }
    let mut cumulative: u128 = 0;
    for (index, weight) in distribution.weights().enumerate() {
        if weight == 0 {
            break;
        }
        // Bounded by the total, which fits a u128.
        cumulative = cumulative.checked_add(weight)?;
        if threshold.is_met(cumulative, total) {
            // At most MAX_ENTITIES = u32::MAX entities.
            return u32::try_from(index + 1).ok();
        }
    }
    None
}

/// The τ-decentralization index: the same function as [`nakamoto`] with any threshold.
pub fn tau_index(distribution: &Distribution, threshold: Threshold) -> Option<u32> {
    nakamoto(distribution, threshold)
}

/// Herfindahl–Hirschman index `10000 · Σ w_i² / T²`, in `[10000/n_nonzero, 10000]`.
///
/// Exact (`U256`, note `Σ w_i² ≤ T²` so the sum itself never overflows) whenever
/// `T < 2^121` ([`HHI_EXACT_TOTAL_BITS`]). For larger totals the factor 10000 would not fit,
/// so every weight is first shifted right by the same `s = bits(T) − 121 ≤ 7` bits (a
/// deterministic rounding of the distribution, documented for consensus use; weights
/// below `2^s` then count as zero).
pub fn hhi(distribution: &Distribution) -> Option<Ratio> {
    let total = distribution.total();
    if total == 0 {
        return None;
    }
    let bits = u128::BITS - total.leading_zeros();
    let shift = bits.saturating_sub(HHI_EXACT_TOTAL_BITS);
    let mut sum_squares = U256::ZERO;
    let mut scaled_total = U256::ZERO;
    for weight in distribution.weights() {
        let w = U256::from(weight >> shift);
        // Σ w² ≤ (Σ w)² < 2^242: no overflow.
        sum_squares += w * w;
        scaled_total += w;
    }
    // With shift > 0 the largest weight is ≥ T/2^32 ≥ 2^88, so it survives the shift and
    // scaled_total > 0.
    if scaled_total == U256::ZERO {
        return None;
    }
    let numerator = sum_squares * U256::from(10_000u32);
    Some(Ratio::reduced(numerator, scaled_total * scaled_total))
}

/// Gini coefficient as the EDI computes it: with `x` sorted ascending, `i` from 1 and `n`
/// counting **every** listed entity (zero weights included),
/// `G = Σ_i (2i − n − 1)·x_(i) / (n · Σx)`, in `[0, (n−1)/n]`. Exact.
pub fn gini(distribution: &Distribution) -> Option<Ratio> {
    let total = distribution.total();
    if total == 0 {
        return None;
    }
    let n = distribution.entities() as u128;
    let mut positive = U256::ZERO;
    let mut negative = U256::ZERO;
    // Ascending order = the canonical (descending) order reversed.
    for (index, weight) in distribution.weights().rev().enumerate() {
        let twice_i = 2 * (index as u128 + 1);
        let w = U256::from(weight);
        // |2i − n − 1| ≤ n < 2^33 and w < 2^128: each term < 2^161, the sums < 2^193.
        if twice_i > n + 1 {
            positive += U256::from(twice_i - n - 1) * w;
        } else {
            negative += U256::from(n + 1 - twice_i) * w;
        }
    }
    // Ascending order makes the sum non-negative.
    let numerator = positive.checked_sub(negative)?;
    Some(Ratio::reduced(numerator, U256::from(n) * U256::from(total)))
}

/// Concentration ratio `CR_k`: the share of the `k` largest entities (`k = 0` gives 0,
/// `k ≥ n` gives 1).
pub fn concentration_ratio(distribution: &Distribution, k: usize) -> Option<Ratio> {
    let total = distribution.total();
    if total == 0 {
        return None;
    }
    // Bounded by the total.
    let top: u128 = distribution.weights().take(k).sum();
    Some(Ratio::reduced(U256::from(top), U256::from(total)))
}

/// The largest share, `CR_1` (the EDI's "max power ratio").
pub fn largest_share(distribution: &Distribution) -> Option<Ratio> {
    concentration_ratio(distribution, 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(w: &[u128]) -> Distribution {
        Distribution::from_weights(w).unwrap()
    }

    #[test]
    fn degenerate_distributions_have_no_metrics() {
        for dist in [d(&[]), d(&[0, 0])] {
            assert_eq!(hhi(&dist), None);
            assert_eq!(gini(&dist), None);
            assert_eq!(largest_share(&dist), None);
            assert_eq!(concentration_ratio(&dist, 3), None);
            for t in Threshold::STANDARD {
                assert_eq!(nakamoto(&dist, t), None);
            }
        }
    }

    #[test]
    fn edi_unit_examples() {
        // From the EDI's tests/test_metrics.py.
        assert_eq!(gini(&d(&[5, 4, 3, 2, 1])).unwrap().to_string(), "4/15"); // 0.26667
        assert!((gini(&d(&[1, 1, 3, 0, 0])).unwrap().to_f64() - 0.56).abs() < 1e-12);
        assert!((gini(&d(&[368, 156, 20, 7, 10, 49, 22, 1])).unwrap().to_f64() - 0.67792).abs() < 5e-6);
        assert_eq!(gini(&d(&[1])).unwrap(), Ratio::ZERO);
        let tau = |w: &[u128], num, den| nakamoto(&d(w), Threshold::at_least(num, den).unwrap());
        assert_eq!(tau(&[3, 2, 1], 33, 100), Some(1));
        assert_eq!(tau(&[3, 2, 1, 1, 1, 1], 33, 100), Some(1));
        assert_eq!(tau(&[3, 2, 1], 66, 100), Some(2));
        assert_eq!(tau(&[3, 2, 1, 1, 1, 1], 66, 100), Some(3));
        assert_eq!(tau(&[1], 66, 100), Some(1));
        assert_eq!(tau(&[3, 2, 1], 0, 1), Some(0));
        assert_eq!(tau(&[3, 2, 1], 101, 100), None);
        assert_eq!(nakamoto(&d(&[3, 2, 1]), Threshold::more_than(1, 1).unwrap()), None);
        assert_eq!(tau(&[3, 2, 1, 0], 1, 1), Some(3));
    }

    #[test]
    fn hhi_huge_totals_are_scaled_not_overflowed() {
        let h = hhi(&d(&[u128::MAX / 2, u128::MAX / 2])).unwrap();
        assert_eq!(h, Ratio::from_integer(5000));
        let h = hhi(&d(&[u128::MAX])).unwrap();
        assert_eq!(h, Ratio::from_integer(10000));
        let h = hhi(&d(&[1u128 << 120, 1u128 << 119])).unwrap();
        assert_eq!(h.to_string(), "50000/9");
    }
}
