//! Property tests of the exact metrics, the report and the power cap.

#![allow(clippy::unwrap_used)]

use decentralization::{
    Distribution, PowerCap, Report, Threshold, U256, cap_shares, gini, hhi, nakamoto, split_capped,
};
use proptest::prelude::*;

fn dist(weights: &[u128]) -> Distribution {
    Distribution::from_weights(weights).unwrap()
}

fn small_weights() -> impl Strategy<Value = Vec<u128>> {
    // Zeros are likely (about 1 in 5) so they are exercised.
    prop::collection::vec(prop_oneof![1 => Just(0u128), 4 => 1u128..1_000_000], 0..40)
}

fn huge_weights() -> impl Strategy<Value = Vec<u128>> {
    // Up to 31 weights below 2^123: the total always fits a u128.
    prop::collection::vec(prop_oneof![Just(0u128), any::<u128>().prop_map(|w| w >> 5)], 0..32)
}

fn u(x: u128) -> U256 {
    U256::from(x)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn hhi_is_between_10000_over_n_and_10000(weights in small_weights()) {
        let d = dist(&weights);
        match hhi(&d) {
            None => prop_assert_eq!(d.total(), 0),
            Some(h) => {
                let n = d.nonzero_entities() as u128;
                prop_assert!(h.num() * u(n) >= u(10_000) * h.den());
                prop_assert!(h.num() <= u(10_000) * h.den());
            }
        }
    }

    #[test]
    fn gini_is_in_zero_one(weights in small_weights()) {
        let d = dist(&weights);
        match gini(&d) {
            None => prop_assert_eq!(d.total(), 0),
            Some(g) => prop_assert!(g.num() < g.den()),
        }
    }

    #[test]
    fn nakamoto_never_falls_when_an_entity_splits(
        weights in prop::collection::vec(0u128..1_000_000, 1..30),
        pick in any::<prop::sample::Index>(),
        part in any::<prop::sample::Index>(),
    ) {
        let i = pick.index(weights.len());
        let piece = part.index(weights[i] as usize + 1) as u128;
        let mut split = weights.clone();
        split[i] -= piece;
        split.push(piece);
        let (before, after) = (dist(&weights), dist(&split));
        for t in Threshold::STANDARD {
            match (nakamoto(&before, t), nakamoto(&after, t)) {
                (Some(b), Some(a)) => prop_assert!(a >= b, "{} {} -> {}", t, b, a),
                (None, None) => prop_assert_eq!(before.total(), 0),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }

    #[test]
    fn nakamoto_is_the_smallest_prefix_meeting_the_threshold(
        weights in huge_weights(), num in 0u64..12, den in 1u64..12, strict in any::<bool>(),
    ) {
        let d = dist(&weights);
        let t = if strict { Threshold::more_than(num, den) } else { Threshold::at_least(num, den) }
            .unwrap();
        let total = u(d.total());
        let meets = |s: U256| {
            let (l, r) = (s * u(den.into()), u(num.into()) * total);
            if strict { l > r } else { l >= r }
        };
        let sorted: Vec<u128> = d.weights().collect();
        let prefix = |k: usize| sorted[..k].iter().fold(U256::ZERO, |a, w| a + u(*w));
        match nakamoto(&d, t) {
            Some(k) => {
                let k = k as usize;
                prop_assert!(meets(prefix(k)));
                prop_assert!(k == 0 || !meets(prefix(k - 1)));
                prop_assert!(k <= d.nonzero_entities());
            }
            None => prop_assert!(total == U256::ZERO || !meets(total)),
        }
    }

    #[test]
    fn report_never_panics_and_has_no_nan(weights in huge_weights()) {
        let d = dist(&weights);
        match Report::of(&d) {
            None => prop_assert_eq!(d.total(), 0),
            Some(r) => {
                let floats = [r.shannon_entropy_bits, r.normalised_entropy, r.min_entropy_bits, r.theil];
                for x in floats.into_iter().chain(r.renyi_entropy_bits.iter().map(|v| v.bits)) {
                    prop_assert!(x.is_some_and(f64::is_finite));
                }
                let json = r.to_json_pretty().unwrap();
                let back: Report = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(back.hhi, r.hhi);
                prop_assert_eq!(back.gini, r.gini);
                prop_assert!(r.gini.num() < r.gini.den());
                prop_assert!(r.hhi.num() <= u(10_000) * r.hhi.den());
            }
        }
    }

    #[test]
    fn arbitrary_u128_weights_never_panic(weights in prop::collection::vec(any::<u128>(), 0..6)) {
        match Distribution::from_weights(&weights) {
            Err(e) => prop_assert_eq!(e, decentralization::Error::TotalOverflow),
            Ok(d) => {
                let report = Report::of(&d);
                prop_assert_eq!(report.is_some(), d.total() > 0);
                let capped = cap_shares(&weights, PowerCap::new(1, 3).unwrap());
                prop_assert!(capped.iter().zip(&weights).all(|(c, w)| c <= w));
            }
        }
    }

    #[test]
    fn cap_shares_properties(
        weights in prop_oneof![small_weights(), huge_weights()],
        num in 0u64..12, den in 1u64..12,
    ) {
        let cap = PowerCap::new(num, den).unwrap();
        let out = cap_shares(&weights, cap);
        prop_assert_eq!(out.len(), weights.len());
        let nonzero = weights.iter().filter(|w| **w > 0).count();
        let sum = out.iter().fold(U256::ZERO, |a, w| a + u(*w));
        let changed: Vec<usize> = (0..out.len()).filter(|i| out[*i] != weights[*i]).collect();
        for i in 0..out.len() {
            prop_assert!(out[i] <= weights[i]);
            prop_assert_eq!(out[i] == 0, weights[i] == 0);
            if cap.is_reachable(nonzero) {
                // Every share ≤ cap.
                prop_assert!(u(out[i]) * u(den.into()) <= u(num.into()) * sum);
            }
        }
        if let Some(&first) = changed.first() {
            // All capped operators sit at one level, above every uncapped one.
            let level = out[first];
            for &i in &changed {
                prop_assert_eq!(out[i], level);
                prop_assert!(weights[i] > level);
            }
            prop_assert!(out.iter().all(|w| *w <= level));
            if cap.is_reachable(nonzero) {
                // The level is the largest admissible: level + 1 would break the cap.
                let k = u(changed.len() as u128);
                let rest = sum - k * u(level);
                prop_assert!(
                    (u(level) + U256::ONE) * u(den.into()) > u(num.into()) * (k * (u(level) + U256::ONE) + rest)
                );
            }
        }
        prop_assert_eq!(cap_shares(&out, cap), out);
    }

    #[test]
    fn split_capped_properties(
        powers in prop::collection::vec(prop_oneof![Just(0u128), 1u128..1000], 0..20),
        new_total in 0u128..5000,
    ) {
        let out = split_capped(&powers, new_total);
        let total: u128 = powers.iter().sum();
        prop_assert_eq!(out.len(), powers.len());
        if total == 0 {
            prop_assert!(out.iter().all(|p| *p == 0));
        } else {
            prop_assert_eq!(out.iter().sum::<u128>(), new_total);
            let nonzero = powers.iter().filter(|p| **p > 0).count() as u128;
            for (p, o) in powers.iter().zip(&out) {
                if *p == 0 { prop_assert_eq!(*o, 0); }
                if *p > 0 && new_total >= nonzero { prop_assert!(*o >= 1); }
            }
            prop_assert_eq!(split_capped(&powers, total), powers.clone());
        }
    }
}

#[test]
fn threshold_edges_are_exact() {
    let t = |w: &[u128], th: Threshold| nakamoto(&dist(w), th);
    assert_eq!(t(&[1, 1, 1], Threshold::BFT_HALT), Some(1));
    assert_eq!(t(&[1, 1, 1], Threshold::SAFETY), Some(2));
    assert_eq!(t(&[1, 1], Threshold::EDI_MAJORITY), Some(1));
    assert_eq!(t(&[1, 1], Threshold::MAJORITY), Some(2));
    assert_eq!(t(&[2, 1], Threshold::CONTROL), Some(2));
    assert_eq!(t(&[2, 1], Threshold::at_least(2, 3).unwrap()), Some(1));
    assert_eq!(t(&[1, 1, 1, 0, 0], Threshold::CONTROL), Some(3));
    assert_eq!(t(&[5, 0], Threshold::more_than(1, 1).unwrap()), None);
    // Near u128::MAX: three equal thirds, and a total of exactly u128::MAX.
    let third = u128::MAX / 3; // u128::MAX is divisible by 3
    assert_eq!(third * 3, u128::MAX);
    assert_eq!(t(&[third, third, third], Threshold::BFT_HALT), Some(1));
    assert_eq!(t(&[third, third, third], Threshold::SAFETY), Some(2));
    assert_eq!(t(&[third, third, third], Threshold::CONTROL), Some(3));
    assert_eq!(t(&[third + 1, third, third - 1], Threshold::SAFETY), Some(1));
    let half = u128::MAX / 2;
    assert_eq!(t(&[half + 1, half], Threshold::MAJORITY), Some(1));
    assert_eq!(t(&[half, half], Threshold::MAJORITY), Some(2));
    assert_eq!(t(&[half, half], Threshold::EDI_MAJORITY), Some(1));
    assert!(Report::of(&dist(&[third, third, third])).is_some());
}
