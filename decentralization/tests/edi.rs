//! Reproduces the Edinburgh Decentralisation Index's published outputs from its inputs
//! (data in /work/shared/testdata/edi, see its README.md). Fails if the data is missing.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use decentralization::{Report, Threshold, nakamoto, parse_csv};

/// (input, output) pairs; the date to compare is the input's header date.
const CASES: [(&str, &str); 4] = [
    ("network_clustered_organizations_consensus.csv", "network_output_organizations_consensus.csv"),
    ("geography_countries_consensus.csv", "geography_output_countries_consensus.csv"),
    ("network_clustered_organizations_cardano.csv", "network_output_organizations_cardano.csv"),
    ("geography_countries_cardano.csv", "geography_output_countries_cardano.csv"),
];

/// `../shared/testdata/edi` beside the repository. Found from the directory
/// the test runs in (cargo runs tests in the package's directory), so a test
/// binary reused from a build in another checkout still finds the data;
/// the build's own path is the fallback.
fn data_dir() -> PathBuf {
    let rel = "../../shared/testdata/edi";
    match std::env::current_dir() {
        Ok(cwd) if cwd.join(rel).is_dir() => cwd.join(rel),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata/edi")),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "EDI reference data missing: cannot read {} ({e}); expected the files listed in \
             /work/shared/testdata/edi/README.md",
            path.display()
        )
    })
}

fn assert_close(what: &str, ours: f64, theirs: f64) {
    let rel = ((ours - theirs) / theirs).abs();
    assert!(rel <= 1e-9, "{what}: ours {ours:.17} vs EDI {theirs:.17} (relative error {rel:e})");
}

#[test]
fn reproduces_published_edi_metrics() {
    let dir = data_dir();
    assert!(dir.is_dir(), "EDI reference data directory missing: {}", dir.display());
    let mut compared = 0;
    for (input, output) in CASES {
        let (date, distribution) = parse_csv(&read(&dir.join(input))).unwrap();
        let date = date.unwrap_or_else(|| panic!("{input}: header has no date"));
        let report = Report::of(&distribution).unwrap();

        let output_text = read(&dir.join(output));
        let mut lines = output_text.lines();
        let columns: Vec<&str> = lines.next().unwrap().trim().split(',').collect();
        let col = |name: &str| columns.iter().position(|c| *c == name);
        let date_col = col("date").unwrap();
        let rows: Vec<Vec<&str>> = lines
            .map(|l| l.trim().split(',').collect::<Vec<_>>())
            .filter(|r| r.get(date_col) == Some(&date.as_str()))
            .collect();
        assert_eq!(rows.len(), 1, "{output}: expected exactly one row dated {date}");
        let row = &rows[0];
        let value = |name: &str| -> Option<f64> { col(name).map(|i| row[i].parse().unwrap()) };
        let case = format!("{input} @ {date}");

        if let Some(entropy) = value("entropy=1") {
            assert_close(&format!("{case} entropy"), report.shannon_entropy_bits.unwrap(), entropy);
            compared += 1;
        }
        assert_close(&format!("{case} hhi"), report.hhi.to_f64(), value("hhi").unwrap());
        assert_close(
            &format!("{case} max_power_ratio"),
            report.largest_share.to_f64(),
            value("max_power_ratio").unwrap(),
        );
        let nc: u32 = row[col("nakamoto_coefficient").unwrap()].parse().unwrap();
        assert_eq!(report.nakamoto_value("majority_edi"), Some(nc), "{case} nakamoto");
        assert_eq!(nakamoto(&distribution, Threshold::EDI_MAJORITY), Some(nc), "{case} nakamoto");
        let total_entities: u64 = row[col("total_entities").unwrap()].parse().unwrap();
        assert_eq!(report.nonzero_entities, total_entities, "{case} total_entities");
        compared += 4;
    }
    // 4 files × 4 metrics + entropy in the 2 geography outputs.
    assert_eq!(compared, 18);
}
