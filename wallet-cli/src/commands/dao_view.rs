//! The text of `agora dao info` and `agora dao show`, from the contracts'
//! JSON answers (pure, so tests can render them).

use ledger::Address;
use serde_json::Value;

use crate::commands::dao::{compact, time_left};
use crate::output::{Fields, format_time_ms};

/// The voting rule of a config (`token` when absent, as the contract reads it).
pub fn rule_of(config: &Value) -> &str {
    config["voting_rule"].as_str().unwrap_or("token")
}

fn amount(v: &Value) -> Option<u128> {
    v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_u64().map(u128::from))
}

/// `part / whole` as a percentage with two decimals, rounded down.
pub fn percent(part: u128, whole: u128) -> String {
    if whole == 0 {
        return "-".into();
    }
    let bp = match part.checked_mul(10_000) {
        Some(p) => p / whole,
        None => part / (whole / 10_000).max(1),
    };
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// `1d 2h`, `5m 3s`, `250ms`: a duration in ms, for reading.
pub fn human_ms(ms: u64) -> String {
    let units = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)];
    let mut parts = Vec::new();
    let mut left = ms;
    for (u, size) in units {
        if left >= size {
            parts.push(format!("{}{u}", left / size));
            left %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() { format!("{ms}ms") } else { parts.join(" ") }
}

fn outflow_cap(cap: &Value) -> String {
    let period = cap["period_ms"].as_u64().map_or_else(|| compact(&cap["period_ms"]), human_ms);
    format!("{} per {period} (more needs yes ≥ {})", compact(&cap["amount"]), compact(&cap["threshold"]))
}

/// The new rules' fields of a proposal module config, for `info`.
fn rule_fields(f: &mut Fields, rules: &Value) {
    let rule = rule_of(rules);
    f.add("voting rule", rule);
    let period = rules["conviction_period_ms"].as_u64().unwrap_or(0);
    if rule == "conviction" || period > 0 {
        f.add("conviction period", format!("{period} ms ({}; conviction K locks 2^(K-1) periods)", human_ms(period)));
    }
    for (key, label) in
        [("identity_registry", "identity registry"), ("delegation", "delegation"), ("guardian", "guardian")]
    {
        if !rules[key].is_null() {
            f.add(label, compact(&rules[key]));
        }
    }
    if let Some(ms) = rules["late_quorum_extension_ms"].as_u64().filter(|ms| *ms > 0) {
        f.add("late quorum extension", format!("{ms} ms ({})", human_ms(ms)));
    }
    if !rules["outflow_cap"].is_null() {
        f.add("outflow cap", outflow_cap(&rules["outflow_cap"]));
    }
    if !rules["acquisition_window_blocks"].is_null() {
        f.add("acquisition window", format!("{} blocks", compact(&rules["acquisition_window_blocks"])));
    }
}

/// `agora dao info`.
pub fn info_fields(dao: &Address, config: &Value, treasury: &Value, module: &Address, rules: &Value) -> Fields {
    let mut f = Fields::new();
    f.add("dao", dao)
        .add("name", config["name"].as_str().unwrap_or(""))
        .add("voting module", config["voting_module"].as_str().unwrap_or(""))
        .add("proposal module", module)
        .add("treasury", treasury["native"].as_str().unwrap_or("0"));
    for k in ["quorum", "threshold", "veto_threshold", "timelock_ms", "max_voting_period_ms", "deposit", "vetoer"] {
        f.add(k, compact(&rules[k]));
    }
    rule_fields(&mut f, rules);
    f
}

/// `agora dao show`: `p` is the proposal (with `votes` under `--votes`),
/// `conc` the `concentration` answer (if the module has that query).
pub fn show_fields(p: &Value, conc: Option<&Value>) -> Fields {
    let cfg = &p["config"];
    let rule = rule_of(cfg);
    let mut f = Fields::new();
    f.add("proposal", format!("#{} {}", compact(&p["id"]), compact(&p["title"])))
        .add("status", compact(&p["status"]))
        .add("time left", time_left(&p["time_left_ms"]))
        .add("proposer", compact(&p["proposer"]))
        .add("snapshot height", compact(&p["snapshot_height"]))
        .add("voting rule", rule)
        .add("total power", compact(&p["total_power"]));
    if let (Some(t), Some(total)) = (amount(&p["turnout"]), amount(&p["total_power"])) {
        f.add("turnout", format!("{t} ({} of the total power; quorum {})", percent(t, total), compact(&cfg["quorum"])));
    }
    let suffix = if rule == "token" { "" } else { " weight" };
    for k in ["yes", "no", "abstain", "no_with_veto"] {
        f.add(&format!("{k}{suffix}"), compact(&p["tally"][k]));
    }
    f.add("quorum reached", compact(&p["quorum_reached"]));
    if let Some(at) = p["quorum_at_ms"].as_u64() {
        f.add("quorum at", format_time_ms(at));
    }
    if let Some(out) = amount(&p["outflow"]).filter(|o| *o > 0 || !cfg["outflow_cap"].is_null()) {
        let cap = if cfg["outflow_cap"].is_null() {
            String::new()
        } else {
            format!("; cap {}", outflow_cap(&cfg["outflow_cap"]))
        };
        f.add("treasury outflow", format!("{out}{cap}"));
    }
    if !cfg["guardian"].is_null() {
        f.add("guardian", compact(&cfg["guardian"]));
    }
    if !p["cancelled_by"].is_null() {
        f.add("cancelled by", format!("{} (guardian)", compact(&p["cancelled_by"])));
    }
    if !p["vetoed_by"].is_null() {
        f.add("vetoed by", compact(&p["vetoed_by"]));
    }
    if let Some(reason) = p["execution_failure"].as_str() {
        f.add("execution failure", reason);
    }
    let empty = Vec::new();
    for pin in p["pins"].as_array().unwrap_or(&empty) {
        let code = pin["code_hash"].as_str().map_or_else(|| "not a contract".to_owned(), |h| format!("code {h}"));
        f.add("pinned", format!("{} {code}, admin {}", compact(&pin["contract"]), compact(&pin["admin"])));
    }
    if let Some(c) = conc {
        concentration_fields(&mut f, c);
    }
    f.add_lines("messages", &serde_json::to_string_pretty(&p["msgs"]).unwrap_or_default());
    for v in p["votes"].as_array().unwrap_or(&empty) {
        f.add("vote", vote_line(v));
    }
    f
}

fn concentration_fields(f: &mut Fields, c: &Value) {
    let voters = compact(&c["voters"]);
    let truncated = if c["truncated"].as_bool() == Some(true) { " (more not read)" } else { "" };
    f.add("yes voters", format!("{voters}{truncated}, yes power {}", compact(&c["yes_power"])));
    f.add(
        "nakamoto",
        format!("{} (fewest yes voters holding more than half of the yes power)", compact(&c["nakamoto"])),
    );
    f.add("gini", format!("{} (0: equal yes power, 1: one voter holds it all)", compact(&c["gini"])));
    f.add(
        "recently acquired",
        format!(
            "{} of the yes power (share {}) gained in the {} blocks before the snapshot",
            compact(&c["recent_power"]),
            compact(&c["recent_share"]),
            compact(&c["acquisition_window_blocks"]),
        ),
    );
}

fn vote_line(v: &Value) -> String {
    let mut s = format!("{} {} power {}", compact(&v["voter"]), compact(&v["option"]), compact(&v["power"]));
    for k in ["delegated", "weight", "conviction"] {
        if !v[k].is_null() {
            s.push_str(&format!(" {k} {}", compact(&v[k])));
        }
    }
    if amount(&v["recent"]).is_some_and(|r| r > 0) {
        s.push_str(&format!(" recent {}", compact(&v["recent"])));
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    /// A conviction proposal as the module shows it, with its concentration report.
    pub fn sample() -> (Value, Value) {
        let (a, b, g, t) = (Address([1; 20]), Address([2; 20]), Address([3; 20]), Address([4; 20]));
        let p = json!({
            "id": 3, "title": "Pay the auditors", "proposer": a, "status": "open", "time_left_ms": 42_300,
            "snapshot_height": 120, "total_power": "1000000", "turnout": "600000",
            "tally": { "yes": "2705000", "no": "10000", "abstain": "0", "no_with_veto": "0" },
            "quorum_reached": true, "quorum_at_ms": 1_700_000_000_000u64, "outflow": "12345",
            "pins": [{ "contract": t, "code_hash": "ab".repeat(32), "admin": null }],
            "cancelled_by": null, "vetoed_by": null, "execution_failure": null,
            "config": { "quorum": "0.334", "voting_rule": "conviction", "conviction_period_ms": 604_800_000u64,
                        "guardian": g, "outflow_cap": { "amount": "100000", "period_ms": 2_592_000_000u64, "threshold": "0.67" } },
            "msgs": [{ "transfer": { "to": t, "amount": "12345" } }],
            "votes": [
                { "voter": a, "option": "yes", "power": "500000", "delegated": "50000", "weight": "2705000", "conviction": 6, "recent": "0" },
                { "voter": b, "option": "no", "power": "100000", "delegated": "0", "weight": "10000", "conviction": 0, "recent": "100000" },
            ],
        });
        let c = json!({ "proposal_id": 3, "snapshot_height": 120, "acquisition_window_blocks": 1000, "voters": 1,
                        "truncated": false, "yes_power": "500000", "nakamoto": 1, "gini": "0", "recent_power": "0", "recent_share": "0" });
        (p, c)
    }

    /// The text with runs of spaces as one (labels are padded to the longest).
    fn norm(text: &str) -> String {
        text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn show_labels_weights_and_concentration() {
        let (p, c) = sample();
        let rendered = show_fields(&p, Some(&c)).render();
        println!("{rendered}");
        let text = norm(&rendered);
        for want in [
            "voting rule: conviction",
            "turnout: 600000 (60.00% of the total power; quorum 0.334)",
            "yes weight: 2705000",
            "no_with_veto weight: 0",
            "treasury outflow: 12345; cap 100000 per 30d (more needs yes ≥ 0.67)",
            "nakamoto: 1 (fewest",
            "recently acquired: 0 of the yes power (share 0) gained in the 1000 blocks before the snapshot",
            "yes power 500000 delegated 50000 weight 2705000 conviction 6",
            "no power 100000 delegated 0 weight 10000 conviction 0 recent 100000",
        ] {
            assert!(text.contains(want), "missing `{want}` in\n{text}");
        }
        assert!(text.contains(&format!("guardian: {}", Address([3; 20]))), "{text}");
        assert!(text.contains(&format!("pinned: {} code abab", Address([4; 20]))), "{text}");
        // A token-rule proposal of an older module: plain labels, no new lines.
        let old = json!({ "id": 1, "title": "t", "status": "passed", "total_power": "10",
                          "tally": { "yes": "7", "no": "0", "abstain": "0", "no_with_veto": "0" }, "msgs": [] });
        let text = norm(&show_fields(&old, None).render());
        assert!(text.contains("yes: 7") && !text.contains("weight") && !text.contains("turnout"), "{text}");
        assert!(text.contains("voting rule: token"), "{text}");
    }

    #[test]
    fn info_shows_the_rules() {
        let (p, _) = sample();
        let mut rules = p["config"].clone();
        rules["late_quorum_extension_ms"] = json!(3_600_000);
        rules["acquisition_window_blocks"] = json!(1000);
        let text = info_fields(
            &Address([7; 20]),
            &json!({"name": "Club"}),
            &json!({"native": "5"}),
            &Address([8; 20]),
            &rules,
        )
        .render();
        for want in [
            "voting rule:",
            "conviction period:",
            "7d",
            "late quorum extension:",
            "1h",
            "outflow cap:",
            "acquisition window:",
        ] {
            assert!(text.contains(want), "missing `{want}` in\n{text}");
        }
        assert!(!text.contains("delegation:"), "{text}");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(percent(1, 3), "33.33%");
        assert_eq!(percent(0, 0), "-");
        assert_eq!(percent(u128::MAX, u128::MAX), "100.00%");
        assert_eq!(
            (human_ms(604_800_000), human_ms(90_500), human_ms(250)),
            ("7d".into(), "1m 30s".into(), "250ms".into())
        );
    }
}
