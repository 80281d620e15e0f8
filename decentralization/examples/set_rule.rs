//! The decentralization-aware set rule, simulated: the operator power cap
//! (`staking.max_operator_power`) at several levels, on the testnet's skewed
//! distribution and on a Zipf-like distribution of 100 validators run by 60
//! operators. For each cap: the operators' Nakamoto coefficients, HHI, Gini
//! and largest share of *voting power*, how much stake lost its voting power,
//! and the trade-off: the smallest share of *stake* that still buys 1/3 of
//! the voting power (an attacker's cost, found greedily by buying the
//! operators with the most power per stake first).
//!
//! Run: `cargo run --release -p decentralization --example set_rule`.

use decentralization::{
    Distribution, PowerCap, Threshold, cap_shares_bounded, gini, hhi, largest_share, nakamoto, split_capped,
};

/// Operators as (name, validator stakes).
type Operators = Vec<(String, Vec<u128>)>;

/// The e2e testnet: stakes 30/30/20/20, node3 declared as run by node2's operator.
fn testnet() -> Operators {
    vec![("op-0".into(), vec![30]), ("op-1".into(), vec![30]), ("op-2".into(), vec![20, 20])]
}

/// 100 validators, 60 operators: operator k holds stake ∝ 1/(k+1) (Zipf),
/// the 10 largest run 5 validators each (integer arithmetic only).
fn zipf() -> Operators {
    (0..60u128)
        .map(|k| {
            let stake = 1_000_000_000 / (k + 1);
            let n = if k < 10 { 5 } else { 1 };
            let per = stake / n;
            (format!("op-{k}"), vec![per; n as usize])
        })
        .collect()
}

fn row(label: &str, ops: &Operators, cap_ppm: u64, max_removed_ppm: u64) {
    let stakes: Vec<u128> = ops.iter().map(|(_, v)| v.iter().sum()).collect();
    let capped = if cap_ppm >= 1_000_000 {
        stakes.clone()
    } else {
        // The chain's rule: at most 10 % of the power removed (`CAP_MAX_REMOVED`).
        let budget = PowerCap::new(max_removed_ppm, 1_000_000).expect("positive denominator");
        cap_shares_bounded(&stakes, PowerCap::new(cap_ppm, 1_000_000).expect("positive denominator"), budget)
    };
    // Validators keep the split of their operator's capped power.
    let validators: Vec<u128> =
        ops.iter().zip(&capped).flat_map(|((_, vals), total)| split_capped(vals, *total)).collect();
    let d = Distribution::new(ops.iter().zip(&capped).map(|((n, _), p)| (n.clone(), *p))).expect("fits");
    let dv = Distribution::from_weights(&validators).expect("fits");
    let n = |d: &Distribution, t: Threshold| nakamoto(d, t).map_or("-".into(), |v| v.to_string());
    let total_stake: u128 = stakes.iter().sum();
    let total_power: u128 = capped.iter().sum();
    let lost: u128 = stakes.iter().zip(&capped).map(|(s, c)| s - c).sum();
    // Cheapest stake for ≥ 1/3 of the power: most power per stake first.
    let mut by_ratio: Vec<(u128, u128)> = stakes.iter().copied().zip(capped.iter().copied()).collect();
    by_ratio.sort_by(|a, b| (b.1 * a.0).cmp(&(a.1 * b.0)).then(a.0.cmp(&b.0)));
    let (mut s, mut p) = (0u128, 0u128);
    for (stake, power) in by_ratio {
        if Threshold::BFT_HALT.is_met(p, total_power) {
            break;
        }
        s += stake;
        p += power;
    }
    let cap = if cap_ppm >= 1_000_000 {
        "off".to_owned()
    } else {
        format!("{:.0} % (≤ {:.0} % removed)", cap_ppm as f64 / 10_000.0, max_removed_ppm as f64 / 10_000.0)
    };
    println!(
        "| {label} | {cap} | {} | {} | {} | {} | {:.0} | {:.3} | {:.1} % | {:.1} % | {:.1} % |",
        n(&d, Threshold::BFT_HALT),
        n(&d, Threshold::MAJORITY),
        n(&d, Threshold::CONTROL),
        n(&dv, Threshold::BFT_HALT),
        hhi(&d).map_or(0.0, |r| r.to_f64()),
        gini(&d).map_or(0.0, |r| r.to_f64()),
        largest_share(&d).map_or(0.0, |r| r.to_f64() * 100.0),
        lost as f64 * 100.0 / total_stake as f64,
        s as f64 * 100.0 / total_stake as f64,
    );
}

fn main() {
    println!(
        "| distribution | cap | operators ≥1/3 | operators >1/2 | operators >2/3 | validators ≥1/3 | HHI | Gini | largest share | stake without power | stake that buys ≥1/3 power |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    // The chain's bound (10 %), then an unbounded cap (100 %) to show why the bound exists.
    for (cap, removed) in [(1_000_000, 100_000), (330_000, 100_000), (250_000, 100_000), (250_000, 1_000_000)] {
        row("testnet 30/30/(20+20)", &testnet(), cap, removed);
    }
    for cap in [1_000_000, 330_000, 250_000, 200_000, 150_000, 100_000, 50_000] {
        row("Zipf, 60 operators", &zipf(), cap, 100_000);
    }
    for cap in [100_000, 50_000] {
        row("Zipf, 60 operators", &zipf(), cap, 1_000_000);
    }
    // The attack the bound stops: one honest operator, three 1-power validators.
    let attack: Operators =
        vec![("honest".into(), vec![1_000]), ("a".into(), vec![1]), ("b".into(), vec![1]), ("c".into(), vec![1])];
    for (cap, removed) in [(350_000, 1_000_000), (350_000, 100_000)] {
        row("1 honest + 3 tiny", &attack, cap, removed);
    }
}
