//! The worked example of design-notes.md ("Decentralization metrics"): shares [40, 30, 20, 10].

#![allow(clippy::unwrap_used)]

use decentralization::{
    Distribution, Ratio, Report, Threshold, concentration_ratio, entropy, gini, hhi, largest_share, nakamoto,
};

fn example() -> Distribution {
    Distribution::new([("a", 40u128), ("b", 30), ("c", 20), ("d", 10)]).unwrap()
}

fn close(x: Option<f64>, expected: f64) {
    let x = x.unwrap();
    assert!((x - expected).abs() < 5e-7, "{x} vs {expected}");
}

#[test]
fn exact_metrics() {
    let d = example();
    assert_eq!(gini(&d).unwrap().to_string(), "1/4");
    assert_eq!(hhi(&d).unwrap(), Ratio::from_integer(3000));
    assert_eq!(largest_share(&d).unwrap().to_string(), "2/5");
    assert_eq!(concentration_ratio(&d, 1).unwrap().to_string(), "2/5");
    assert_eq!(concentration_ratio(&d, 3).unwrap().to_string(), "9/10");
    assert_eq!(nakamoto(&d, Threshold::BFT_HALT), Some(1));
    assert_eq!(nakamoto(&d, Threshold::SAFETY), Some(1));
    assert_eq!(nakamoto(&d, Threshold::EDI_MAJORITY), Some(2));
    assert_eq!(nakamoto(&d, Threshold::MAJORITY), Some(2));
    assert_eq!(nakamoto(&d, Threshold::CONTROL), Some(2));
    assert_eq!(d.entities(), 4);
    assert_eq!(d.nonzero_entities(), 4);
}

#[test]
fn float_metrics() {
    let d = example();
    close(entropy::shannon_entropy(&d), 1.846439);
    close(entropy::renyi_entropy(&d, 1.0), 1.846439);
    close(entropy::normalised_entropy(&d), 0.923220);
    close(entropy::theil(&d), 0.106440);
    close(entropy::min_entropy(&d), -(0.4f64.log2()));
    close(entropy::renyi_entropy(&d, 0.0), 2.0);
    close(entropy::renyi_entropy(&d, 2.0), -(0.3f64.log2()));
}

#[test]
fn report_matches_and_round_trips() {
    let report = Report::of(&example()).unwrap();
    assert_eq!(report.gini.to_string(), "1/4");
    assert_eq!(report.hhi.to_string(), "3000/1");
    assert_eq!(report.concentration_ratio(3).unwrap().to_string(), "9/10");
    assert_eq!(report.concentration.iter().map(|c| c.k).collect::<Vec<_>>(), [1, 3]);
    let values: Vec<_> = report.nakamoto.iter().map(|v| (v.name.as_str(), v.value)).collect();
    assert_eq!(
        values,
        [
            ("bft_halt", Some(1)),
            ("safety", Some(1)),
            ("majority_edi", Some(2)),
            ("majority", Some(2)),
            ("control", Some(2))
        ]
    );
    let json = report.to_json_pretty().unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back.hhi, report.hhi);
    assert_eq!(back.nakamoto, report.nakamoto);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["hhi"]["exact"], "3000/1");
    assert_eq!(value["gini"]["value"], 0.25);
    assert_eq!(value["nakamoto"][0]["comparison"], ">=");
    assert_eq!(value["nakamoto"][1]["threshold"], "1/3");
    if std::env::var_os("PRINT_REPORT").is_some() {
        println!("{json}");
    }
}
