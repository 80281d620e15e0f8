//! The operator power cap: the chain's decentralization-aware validator-set rule.
//!
//! Pure integer arithmetic (`U256` intermediates), deterministic, `O(n log n)`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ethnum::U256;

use crate::Error;

/// A cap on any single operator's share of the total capped power, `num/den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PowerCap {
    num: u64,
    den: u64,
}

impl PowerCap {
    /// The cap `num/den`; [`Error::ZeroDenominator`] if `den == 0`. A cap `≥ 1` never
    /// changes anything; a cap of 0 is always unreachable (see [`cap_shares`]).
    pub fn new(num: u64, den: u64) -> Result<Self, Error> {
        if den == 0 {
            return Err(Error::ZeroDenominator);
        }
        Ok(Self { num, den })
    }

    /// Numerator.
    pub fn num(&self) -> u64 {
        self.num
    }

    /// Denominator (> 0).
    pub fn den(&self) -> u64 {
        self.den
    }

    /// Whether `nonzero_operators` operators can all have a share `≤ cap` without equal
    /// powers being forced: `n · cap > 1` (or `cap ≥ 1`).
    pub fn is_reachable(&self, nonzero_operators: usize) -> bool {
        self.num >= self.den || U256::from(nonzero_operators as u128) * U256::from(self.num) > U256::from(self.den)
    }
}

fn to_u128(x: U256) -> u128 {
    let (hi, lo) = x.into_words();
    if hi == 0 { lo } else { u128::MAX }
}

/// Caps each operator's power: `p'_i = min(p_i, X)` with `X` the largest integer such that
/// `X ≤ cap · Σ p'` (water-filling).
///
/// With the nonzero powers sorted descending `w_1 ≥ … ≥ w_m`, for `k = 0, 1, …` (the number
/// of capped operators) let `R_k = w_{k+1} + … + w_m` and
/// `X_k = floor(num·R_k / (den − k·num))`; the first `k` with `w_{k+1} ≤ X_k` gives the
/// level `X = X_k` (`k = 0` means nothing exceeds the cap: the input is returned). Equal
/// powers are always capped together, so the result does not depend on tie order.
///
/// Unreachable cap: if `m · cap ≤ 1` (fewer nonzero operators than `1/cap`, or a cap of
/// 0), no assignment keeps every share `≤ cap` except an equal split (possible only when
/// `m · cap = 1`), so every nonzero operator gets the **smallest nonzero power** among
/// them: the most even split reachable without inventing power.
///
/// Guarantees: output order = input order; zero stays zero; no power increases; every
/// nonzero power stays `≥ 1`; all changed powers equal the same level `X`, which is below
/// each of their originals and at least every unchanged power; every share `≤ cap` when
/// `m · cap ≥ 1`; idempotent (`cap_shares(cap_shares(w)) == cap_shares(w)`).
pub fn cap_shares(weights: &[u128], cap: PowerCap) -> Vec<u128> {
    let mut out = weights.to_vec();
    if cap.num >= cap.den {
        return out;
    }
    let mut order: Vec<usize> = (0..weights.len()).filter(|i| weights[*i] > 0).collect();
    order.sort_by(|x, y| weights[*y].cmp(&weights[*x]).then(x.cmp(y)));
    let Some(&smallest_index) = order.last() else {
        return out;
    };
    let equalise = |out: &mut Vec<u128>| {
        let smallest = weights[smallest_index];
        for &i in &order {
            out[i] = smallest;
        }
    };
    if !cap.is_reachable(order.len()) {
        equalise(&mut out);
        return out;
    }
    let (a, b) = (U256::from(cap.num), U256::from(cap.den));
    let total: U256 = order.iter().map(|i| U256::from(weights[*i])).sum();
    let mut capped_sum = U256::ZERO;
    for (k, &next) in order.iter().enumerate() {
        let k_a = U256::from(k as u128) * a;
        if k_a >= b {
            // Cannot happen when m·cap > 1 (the loop stops earlier); be safe anyway.
            break;
        }
        // a < 2^64 and the rest < 2^160: no overflow.
        let level = a * (total - capped_sum) / (b - k_a);
        if U256::from(weights[next]) <= level {
            let level = to_u128(level);
            for &i in &order[..k] {
                out[i] = level;
            }
            return out;
        }
        capped_sum += U256::from(weights[next]);
    }
    equalise(&mut out);
    out
}

/// [`cap_shares`] with a bound on what the cap may take away: at most
/// `max_removed` of the total power is removed. If the cap alone would remove
/// more, the common level is raised to the smallest integer `X'` at which
/// `Σ max(0, p_i − X') ≤ ⌊max_removed · Σp⌋` (a binary search: the removed
/// power falls as the level rises), and shares may then stay above the cap.
///
/// Why: capping the largest operators raises everyone else's share, an
/// attacker's included. Without a bound, validators with almost no stake
/// could hold most of the voting power once the honest side is capped; with
/// it, a coalition's share of the power is at most its share of the stake
/// divided by `1 − max_removed`.
pub fn cap_shares_bounded(weights: &[u128], cap: PowerCap, max_removed: PowerCap) -> Vec<u128> {
    let capped = cap_shares(weights, cap);
    let total: U256 = weights.iter().map(|w| U256::from(*w)).sum();
    let budget = total * U256::from(max_removed.num.min(max_removed.den)) / U256::from(max_removed.den);
    let removed_at = |level: u128| -> U256 { weights.iter().map(|w| U256::from(w.saturating_sub(level))).sum() };
    let removed: U256 = weights.iter().zip(&capped).map(|(w, c)| U256::from(w - c)).sum();
    if removed <= budget {
        return capped;
    }
    // Every changed weight sits at one level; search upwards from it.
    let mut lo = weights.iter().zip(&capped).filter(|(w, c)| w != c).map(|(_, c)| *c).min().unwrap_or(0);
    let mut hi = weights.iter().copied().max().unwrap_or(0);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if removed_at(mid) <= budget { hi = mid } else { lo = mid + 1 }
    }
    weights.iter().map(|w| (*w).min(lo)).collect()
}

/// Distributes an operator's (capped) power `new_total` over its validators in proportion
/// to their current `validator_powers`: each gets `floor(p_i · new_total / Σp)`, and the
/// remainder goes one unit each to the largest fractional parts (ties: lower index first).
///
/// Then, if `new_total ≥` the number of nonzero validators, every nonzero validator left
/// at 0 takes one unit from the validator currently holding the most (ties: lower index),
/// so each keeps `≥ 1`. Zero powers stay zero. The result sums to `new_total` (or is all
/// zeros when `Σp = 0`); `new_total = Σp` returns the input unchanged.
pub fn split_capped(validator_powers: &[u128], new_total: u128) -> Vec<u128> {
    let total: U256 = validator_powers.iter().map(|p| U256::from(*p)).sum();
    let mut out = vec![0u128; validator_powers.len()];
    if total == U256::ZERO {
        return out;
    }
    let target = U256::from(new_total);
    let mut fractions: Vec<(U256, usize)> = Vec::new();
    let mut assigned: u128 = 0;
    for (i, p) in validator_powers.iter().enumerate() {
        // p < 2^128, target < 2^128: the product fits.
        let scaled = U256::from(*p) * target;
        let share = to_u128(scaled / total); // ≤ new_total
        out[i] = share;
        assigned = assigned.saturating_add(share);
        let fraction = scaled % total;
        if fraction > U256::ZERO {
            fractions.push((fraction, i));
        }
    }
    // Σ floor ≤ new_total, and the remainder is below the number of nonzero fractions.
    let remainder = new_total.saturating_sub(assigned);
    fractions.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    for (_, i) in fractions.iter().take(usize::try_from(remainder).unwrap_or(usize::MAX)) {
        out[*i] += 1;
    }
    let nonzero = validator_powers.iter().filter(|p| **p > 0).count();
    if new_total >= nonzero as u128 {
        let starved: Vec<usize> = (0..out.len()).filter(|i| validator_powers[*i] > 0 && out[*i] == 0).collect();
        if !starved.is_empty() {
            let mut donors: BinaryHeap<(u128, Reverse<usize>)> =
                (0..out.len()).filter(|i| out[*i] >= 2).map(|i| (out[i], Reverse(i))).collect();
            for s in starved {
                // Pigeonhole: Σ out ≥ nonzero with one at 0 means a donor holds ≥ 2.
                let Some((held, Reverse(d))) = donors.pop() else { break };
                out[d] = held - 1;
                out[s] = 1;
                if held > 2 {
                    donors.push((held - 1, Reverse(d)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cap(n: u64, d: u64) -> PowerCap {
        PowerCap::new(n, d).unwrap()
    }

    #[test]
    fn water_filling_examples() {
        // Nothing above 1/2 of the total: unchanged.
        assert_eq!(cap_shares(&[30, 30, 40], cap(1, 2)), vec![30, 30, 40]);
        // 70 of 100 with cap 1/2: X = floor(30/1) = 30.
        assert_eq!(cap_shares(&[10, 70, 0, 20], cap(1, 2)), vec![10, 30, 0, 20]);
        // [50, 40, 5, 5] cap 1/3: k=0: X=33 < 50; k=1: X=floor(50/2)=25 < 40; k=2: X=10 ≥ 5.
        assert_eq!(cap_shares(&[50, 40, 5, 5], cap(1, 3)), vec![10, 10, 5, 5]);
        // Unreachable (2 operators, cap 1/3): equal to the smallest.
        assert_eq!(cap_shares(&[9, 4, 0], cap(1, 3)), vec![4, 4, 0]);
        // Cap 0 is unreachable too; cap ≥ 1 changes nothing.
        assert_eq!(cap_shares(&[9, 4], cap(0, 3)), vec![4, 4]);
        assert_eq!(cap_shares(&[9, 4], cap(3, 3)), vec![9, 4]);
        assert_eq!(cap_shares(&[], cap(1, 3)), Vec::<u128>::new());
        assert_eq!(PowerCap::new(1, 0), Err(Error::ZeroDenominator));
        // Huge powers do not overflow.
        let big = cap_shares(&[u128::MAX, 1, 1, 1], cap(1, 3));
        assert_eq!(big, vec![1, 1, 1, 1]);
    }

    #[test]
    fn split_examples() {
        assert_eq!(split_capped(&[3, 1], 4), vec![3, 1]);
        // [1.5, 0.5] → floors [1, 0], remainder to index 0 → [2, 0], then the minimum-one rule.
        assert_eq!(split_capped(&[3, 1], 2), vec![1, 1]);
        assert_eq!(split_capped(&[1, 1, 1], 2), vec![1, 1, 0]);
        assert_eq!(split_capped(&[100, 1, 1, 0], 3), vec![1, 1, 1, 0]);
        assert_eq!(split_capped(&[100, 1, 1, 0], 2), vec![2, 0, 0, 0]);
        assert_eq!(split_capped(&[0, 0], 5), vec![0, 0]);
        assert_eq!(split_capped(&[u128::MAX, u128::MAX], u128::MAX), vec![u128::MAX / 2 + 1, u128::MAX / 2]);
    }

    #[test]
    fn the_removal_bound_keeps_tiny_validators_from_taking_the_power() {
        // One honest operator and three attacker validators of power 1, cap 35 %:
        // the cap alone cuts the honest operator to 1 (3 of 4 for the attacker).
        assert_eq!(cap_shares(&[1_000, 1, 1, 1], cap(35, 100)), vec![1, 1, 1, 1]);
        // At most 10 % of the power removed: the attacker keeps ~0.3 %.
        let b = cap_shares_bounded(&[1_000, 1, 1, 1], cap(35, 100), cap(1, 10));
        assert_eq!(b, vec![900, 1, 1, 1]);
        // The unreachable fallback is bounded the same way.
        let b = cap_shares_bounded(&[100, 1], cap(35, 100), cap(1, 10));
        assert_eq!(b, vec![90, 1], "⌊101/10⌋ = 10 removed");
        // Within the budget, the cap applies in full.
        assert_eq!(cap_shares_bounded(&[40, 30, 20, 10], cap(35, 100), cap(1, 10)), vec![32, 30, 20, 10]);
        // A budget of zero removes nothing; off stays off.
        assert_eq!(cap_shares_bounded(&[40, 30, 20, 10], cap(35, 100), cap(0, 10)), vec![40, 30, 20, 10]);
        assert_eq!(cap_shares_bounded(&[40, 30], cap(1, 1), cap(1, 10)), vec![40, 30]);
    }

    #[test]
    fn a_coalition_never_gains_more_than_the_bound_allows() {
        // For any honest split and attacker stake a, the attacker's power share is
        // at most a / ((1 - 1/10) · total).
        for honest in [vec![1_000u128], vec![500, 500], vec![700, 200, 100], vec![300; 5]] {
            for a in [1u128, 10, 50, 100, 300] {
                let mut w = honest.clone();
                w.extend(std::iter::repeat_n(1, a as usize));
                let out = cap_shares_bounded(&w, cap(5, 100), cap(1, 10));
                let total: u128 = w.iter().sum();
                let power: u128 = out.iter().sum();
                let attacker: u128 = out[honest.len()..].iter().sum();
                assert!(attacker * 9 * total <= a * 10 * power, "{honest:?} + {a}: {attacker} of {power}");
                assert!(total - power <= total / 10, "removed at most 10 %");
            }
        }
    }
}
