//! `agora dao create`'s rule options and how they merge into the proposal
//! module's config, and the parsers of the DAO commands' values (shares,
//! fractions, outflow caps, durations in ms).
//!
//! **Merging.** The options are written into the `--config` JSON (or the
//! default rules). A field set both by `--config` (to anything but `null`)
//! and by an option must have the same value there, else the command stops
//! before sending anything: one source of truth, no silent precedence.

use clap::{Args, ValueEnum};
use ledger::{Address, Hash};
use serde_json::{Value, json};

use crate::error::{Result, WalletError};
use crate::parse::{hash_arg, parse_duration};

/// Parts per million in 1 (the contracts' `Fraction`).
pub const PPM_ONE: u64 = 1_000_000;
/// 100 % in basis points (`dao-delegation`'s shares).
pub const BPS_ONE: u32 = 10_000;
/// Highest conviction of a vote or a lock.
pub const MAX_CONVICTION: u8 = 6;
/// Longest identity id of `dao-identity`.
pub const MAX_IDENTITY_BYTES: usize = 64;

/// How a ballot's power becomes weight (`voting_rule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VotingRule {
    /// Weight = power (one token, one vote).
    Token,
    /// Weight = ⌊√power⌋ per registered identity (needs an identity registry).
    Quadratic,
    /// Weight = power × conviction, the power then locked for 2^(k−1) periods.
    Conviction,
}

impl VotingRule {
    pub fn as_str(self) -> &'static str {
        match self {
            VotingRule::Token => "token",
            VotingRule::Quadratic => "quadratic",
            VotingRule::Conviction => "conviction",
        }
    }
}

/// The proposal rules' options of `agora dao create`.
#[derive(Clone, Debug, Default, Args)]
pub struct RuleArgs {
    /// Voting rule (`voting_rule`): quadratic needs --identity-code (or
    /// `identity_registry` in --config), conviction needs --conviction-period.
    #[arg(long, value_enum)]
    pub rule: Option<VotingRule>,
    /// Conviction rule: the lock period, in ms or with a unit (7d, 12h).
    #[arg(long, value_parser = ms_arg, value_name = "MS")]
    pub conviction_period: Option<u64>,
    /// Code hash of dao-delegation: the wallet creates one for the DAO (label
    /// `<label>-delegation`) and sets `delegation`.
    #[arg(long, value_parser = hash_arg, value_name = "CODE_HASH")]
    pub delegation_code: Option<Hash>,
    /// Code hash of dao-identity: the wallet creates a registry (label
    /// `<label>-identity`) with the --issuer addresses, sets
    /// `identity_registry`, then hands the registry's ownership to the DAO.
    #[arg(long, value_parser = hash_arg, value_name = "CODE_HASH")]
    pub identity_code: Option<Hash>,
    /// An issuer of the identity registry (repeatable; address or key name).
    #[arg(long, value_name = "ADDRESS", requires = "identity_code")]
    pub issuer: Vec<String>,
    /// May cancel any proposal not executed yet (address or key name).
    #[arg(long, value_name = "ADDRESS")]
    pub guardian: Option<String>,
    /// Quorum first reached less than this before the voting end extends the
    /// vote to this long after (ms or with a unit).
    #[arg(long, value_parser = ms_arg, value_name = "MS")]
    pub late_quorum_extension: Option<u64>,
    /// Treasury outflow cap: at most AMOUNT per PERIOD (ms or with a unit)
    /// unless yes reaches THRESHOLD (0.67 or 67%), e.g. 100000/30d/0.67.
    #[arg(long, value_parser = outflow_cap_arg, value_name = "AMOUNT/PERIOD/THRESHOLD")]
    pub outflow_cap: Option<OutflowCap>,
}

/// `outflow_cap` of the proposal rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutflowCap {
    pub amount: u128,
    pub period_ms: u64,
    /// Millionths, 1..=1 000 000.
    pub threshold_ppm: u64,
}

impl OutflowCap {
    pub fn to_json(&self) -> Value {
        json!({ "amount": self.amount.to_string(), "period_ms": self.period_ms, "threshold": fraction(self.threshold_ppm) })
    }
}

fn invalid(msg: impl Into<String>) -> WalletError {
    WalletError::InvalidArgument(msg.into())
}

/// A duration in ms: a whole number (ms), or a number with a unit (`30s`, `7d`).
pub fn parse_ms(s: &str) -> Result<u64> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| invalid(format!("`{t}` ms is too large")));
    }
    let d =
        parse_duration(t).map_err(|_| invalid(format!("`{t}` is not a duration: use ms (5000) or a unit (5s, 7d)")))?;
    u64::try_from(d.as_millis()).map_err(|_| invalid(format!("`{t}` is too long")))
}

pub fn ms_arg(s: &str) -> std::result::Result<u64, String> {
    parse_ms(s).map_err(|e| e.to_string())
}

/// Digits `int.frac` scaled by 10^`decimals` (at most `decimals` decimals).
fn scaled(s: &str, decimals: u32) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > decimals as usize || s.ends_with('.') {
        return None;
    }
    let mut v = int.parse::<u64>().ok()?.checked_mul(10u64.pow(decimals))?;
    for (i, d) in frac.bytes().enumerate() {
        v = v.checked_add(u64::from(d - b'0') * 10u64.pow(decimals - 1 - i as u32))?;
    }
    Some(v)
}

/// A fraction of 1 in millionths: `0.67` (at most 6 decimals) or `67%` (at
/// most 4 decimals); 0 to 1.
pub fn parse_ppm(s: &str) -> Result<u64> {
    let t = s.trim();
    let bad = || invalid(format!("`{t}` is not a fraction: use 0.67 or 67% (0 to 1, at most millionths)"));
    let ppm = match t.strip_suffix('%') {
        Some(p) => scaled(p.trim(), 4).ok_or_else(bad)?,
        None => scaled(t, 6).ok_or_else(bad)?,
    };
    if ppm > PPM_ONE {
        let hint = if t.ends_with('%') { "" } else { " (a percentage needs `%`)" };
        return Err(invalid(format!("`{t}` is more than 100%{hint}")));
    }
    Ok(ppm)
}

/// Millionths as the contracts' decimal string (`"0.67"`, `"1"`).
pub fn fraction(ppm: u64) -> String {
    let (int, frac) = (ppm / PPM_ONE, ppm % PPM_ONE);
    if frac == 0 {
        return int.to_string();
    }
    format!("{int}.{}", format!("{frac:06}").trim_end_matches('0'))
}

/// A delegation share in basis points, from `--share` (`50%`, `0.5`,
/// `12.5%`) or `--bps`; neither: 100 %. 1..=10000, whole basis points.
pub fn share_bps(share: Option<&str>, bps: Option<u32>) -> Result<u32> {
    let bps = match (share, bps) {
        (Some(_), Some(_)) => return Err(invalid("give --share or --bps, not both")),
        (Some(s), None) => {
            let ppm = parse_ppm(s)?;
            if ppm % 100 != 0 {
                return Err(invalid(format!("--share {s}: finer than a basis point (0.01%)")));
            }
            u32::try_from(ppm / 100).map_err(|_| invalid("share too large"))?
        }
        (None, Some(b)) => b,
        (None, None) => BPS_ONE,
    };
    if !(1..=BPS_ONE).contains(&bps) {
        return Err(invalid(format!("a delegation share must be 0.01% to 100% (1 to 10000 bps), got {bps} bps")));
    }
    Ok(bps)
}

/// `AMOUNT/PERIOD/THRESHOLD`: a positive amount in base units, a positive
/// period (ms or with a unit) and a positive threshold (0.67 or 67%).
pub fn parse_outflow_cap(s: &str) -> Result<OutflowCap> {
    let parts: Vec<&str> = s.split('/').map(str::trim).collect();
    let [amount, period, threshold] = parts.as_slice() else {
        return Err(invalid("expected AMOUNT/PERIOD/THRESHOLD, e.g. 100000/30d/0.67"));
    };
    let ctx = |e: WalletError| invalid(format!("`{s}`: {e}"));
    let amount: u128 = amount
        .parse()
        .ok()
        .filter(|a| *a > 0)
        .ok_or_else(|| ctx(invalid("the amount must be a positive whole number")))?;
    let period_ms = parse_ms(period).map_err(ctx)?;
    if period_ms == 0 {
        return Err(ctx(invalid("the period must be positive")));
    }
    let threshold_ppm = parse_ppm(threshold).map_err(ctx)?;
    if threshold_ppm == 0 {
        return Err(ctx(invalid("the threshold must be positive")));
    }
    Ok(OutflowCap { amount, period_ms, threshold_ppm })
}

pub fn outflow_cap_arg(s: &str) -> std::result::Result<OutflowCap, String> {
    parse_outflow_cap(s).map_err(|e| e.to_string())
}

/// Checks an identity id as `dao-identity` does: 1..=64 bytes of `[A-Za-z0-9._:-]`.
pub fn check_identity(id: &str) -> Result<()> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b".:_-".contains(&b);
    if id.is_empty() || id.len() > MAX_IDENTITY_BYTES || !id.bytes().all(ok) {
        return Err(invalid(format!(
            "identity `{id}`: must be 1 to {MAX_IDENTITY_BYTES} characters of A-Z a-z 0-9 . _ : -"
        )));
    }
    Ok(())
}

/// What the options set, resolved (addresses of key names, of the contracts
/// the wallet will create).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub rule: Option<VotingRule>,
    pub conviction_period_ms: Option<u64>,
    pub delegation: Option<Address>,
    pub identity_registry: Option<Address>,
    pub guardian: Option<Address>,
    pub late_quorum_extension_ms: Option<u64>,
    pub outflow_cap: Option<OutflowCap>,
}

/// Writes `s` into `config` (see the module documentation), then checks what
/// the proposal module would refuse, so that nothing is created for nothing.
pub fn merge_config(mut config: Value, s: &Settings) -> Result<Value> {
    let Value::Object(map) = &mut config else {
        return Err(invalid("--config must be a JSON object"));
    };
    let addr = |a: &Option<Address>| a.map(|a| json!(a.to_string()));
    let sets: [(&str, &str, Option<Value>); 7] = [
        ("voting_rule", "--rule", s.rule.map(|r| json!(r.as_str()))),
        ("conviction_period_ms", "--conviction-period", s.conviction_period_ms.map(|v| json!(v))),
        ("delegation", "--delegation-code", addr(&s.delegation)),
        ("identity_registry", "--identity-code", addr(&s.identity_registry)),
        ("guardian", "--guardian", addr(&s.guardian)),
        ("late_quorum_extension_ms", "--late-quorum-extension", s.late_quorum_extension_ms.map(|v| json!(v))),
        ("outflow_cap", "--outflow-cap", s.outflow_cap.as_ref().map(OutflowCap::to_json)),
    ];
    for (key, flag, value) in sets {
        let Some(value) = value else { continue };
        match map.get(key) {
            Some(old) if !old.is_null() && *old != value => {
                return Err(invalid(format!(
                    "--config sets `{key}` to {old} but {flag} sets it to {value}: set it in one place only"
                )));
            }
            _ => {
                map.insert(key.to_owned(), value);
            }
        }
    }
    let rule = match map.get("voting_rule") {
        None | Some(Value::Null) => "token",
        Some(Value::String(r)) if ["token", "quadratic", "conviction"].contains(&r.as_str()) => r.as_str(),
        Some(other) => return Err(invalid(format!("voting_rule {other}: expected token, quadratic or conviction"))),
    };
    let set = |k: &str| map.get(k).is_some_and(|v| !v.is_null());
    if rule == "quadratic" && !set("identity_registry") {
        return Err(invalid(
            "the quadratic rule needs an identity registry: --identity-code CODE_HASH --issuer ADDRESS",
        ));
    }
    let period = map.get("conviction_period_ms").and_then(Value::as_u64).unwrap_or(0);
    if rule == "conviction" && period == 0 {
        return Err(invalid("the conviction rule needs a positive --conviction-period (e.g. 7d)"));
    }
    if rule != "conviction" && s.conviction_period_ms.is_some() {
        return Err(invalid(format!("--conviction-period applies to the conviction rule only (the rule is {rule})")));
    }
    if map.get("allow_early_close") == Some(&Value::Bool(true)) && (rule != "token" || set("delegation")) {
        return Err(invalid(
            "allow_early_close needs the token rule without delegation: weights and delegation overrides can move cast power",
        ));
    }
    let millionths = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|f| parse_ppm(f).ok());
    let cap = millionths(map.get("outflow_cap").and_then(|c| c.get("threshold")));
    if let (Some(cap), Some(threshold)) = (cap, millionths(map.get("threshold")))
        && cap < threshold
    {
        return Err(invalid(
            "the outflow cap's threshold must be at least the proposal threshold (large payouts need more yes, not less)",
        ));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::commands::dao::default_config;

    fn err(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn shares_are_basis_points() {
        assert_eq!(share_bps(None, None).unwrap(), 10_000);
        assert_eq!(share_bps(Some("50%"), None).unwrap(), 5_000);
        assert_eq!(share_bps(Some("0.5"), None).unwrap(), 5_000);
        assert_eq!(share_bps(Some("12.5%"), None).unwrap(), 1_250);
        assert_eq!(share_bps(Some("0.01%"), None).unwrap(), 1);
        assert_eq!(share_bps(Some("100%"), None).unwrap(), 10_000);
        assert_eq!(share_bps(Some("1"), None).unwrap(), 10_000);
        assert_eq!(share_bps(None, Some(5_000)).unwrap(), 5_000);
        // Hostile: nothing, too much, finer than a bps, negative, garbage, both.
        for bad in ["0%", "0", "101%", "100.01%", "50", "0.005%", "-5%", "%", "abc", "1e2%", "", "5.%", ".5"] {
            assert!(share_bps(Some(bad), None).is_err(), "{bad}");
        }
        assert!(err(share_bps(Some("50"), None)).contains("needs `%`"));
        assert!(share_bps(None, Some(0)).is_err());
        assert!(share_bps(None, Some(10_001)).is_err());
        assert!(share_bps(Some("50%"), Some(5_000)).is_err());
    }

    #[test]
    fn outflow_caps_parse() {
        let c = parse_outflow_cap("100000/30d/0.67").unwrap();
        assert_eq!(c, OutflowCap { amount: 100_000, period_ms: 2_592_000_000, threshold_ppm: 670_000 });
        assert_eq!(c.to_json(), json!({"amount": "100000", "period_ms": 2_592_000_000u64, "threshold": "0.67"}));
        assert_eq!(parse_outflow_cap("5/1000/100%").unwrap().to_json()["threshold"], "1");
        for bad in [
            "",
            "100000",
            "100000/30d",
            "100000/30d/0.67/1",
            "0/30d/0.5",
            "-1/30d/0.5",
            "x/30d/0.5",
            "100/0/0.5",
            "100/soon/0.5",
            "100/30d/0",
            "100/30d/1.5",
            "100/30d/67",
            "100/30d/0.1234567",
        ] {
            assert!(parse_outflow_cap(bad).is_err(), "{bad}");
        }
        assert!(err(parse_outflow_cap("1/2")).contains("AMOUNT/PERIOD/THRESHOLD"));
    }

    #[test]
    fn durations_and_identities() {
        assert_eq!(parse_ms("5000").unwrap(), 5_000);
        assert_eq!(parse_ms("7d").unwrap(), 604_800_000);
        assert_eq!(parse_ms("1.5s").unwrap(), 1_500);
        assert!(parse_ms("-5").is_err());
        assert!(parse_ms("99999999999999999999999").is_err());
        assert!(check_identity("github:alice-01").is_ok());
        for bad in ["", "has space", "ü", &"x".repeat(65)] {
            assert!(check_identity(bad).is_err(), "{bad}");
        }
        assert_eq!(
            (fraction(334_000), fraction(1_000_000), fraction(1)),
            ("0.334".into(), "1".into(), "0.000001".into())
        );
    }

    #[test]
    fn options_merge_into_the_config() {
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let s = Settings {
            rule: Some(VotingRule::Conviction),
            conviction_period_ms: Some(86_400_000),
            delegation: Some(a),
            guardian: Some(b),
            late_quorum_extension_ms: Some(60_000),
            outflow_cap: Some(parse_outflow_cap("1000/1h/0.75").unwrap()),
            ..Settings::default()
        };
        let c = merge_config(default_config(), &s).unwrap();
        assert_eq!(c["voting_rule"], "conviction");
        assert_eq!(c["conviction_period_ms"], 86_400_000);
        assert_eq!(c["delegation"], a.to_string());
        assert_eq!(c["guardian"], b.to_string());
        assert_eq!(c["late_quorum_extension_ms"], 60_000);
        assert_eq!(c["outflow_cap"], json!({"amount": "1000", "period_ms": 3_600_000, "threshold": "0.75"}));
        assert_eq!(c["quorum"], "0.334", "the rest is kept");
        assert!(c.get("identity_registry").is_none());
        // No options: the config as given.
        assert_eq!(merge_config(default_config(), &Settings::default()).unwrap(), default_config());
    }

    #[test]
    fn config_and_options_must_agree() {
        let a = Address([1; 20]);
        let mut cfg = default_config();
        cfg["voting_rule"] = json!("token");
        cfg["guardian"] = json!(a.to_string());
        // The same value in both places is fine; null in --config counts as unset.
        let same = Settings { rule: Some(VotingRule::Token), guardian: Some(a), ..Settings::default() };
        assert!(merge_config(cfg.clone(), &same).is_ok());
        let quad = Settings { rule: Some(VotingRule::Quadratic), identity_registry: Some(a), ..Settings::default() };
        let e = err(merge_config(cfg.clone(), &quad));
        assert!(e.contains("`voting_rule`") && e.contains("--rule"), "{e}");
        let other = Settings { guardian: Some(Address([9; 20])), ..Settings::default() };
        assert!(err(merge_config(cfg.clone(), &other)).contains("--guardian"));
        cfg["guardian"] = Value::Null;
        assert_eq!(merge_config(cfg, &other).unwrap()["guardian"], Address([9; 20]).to_string());
        assert!(merge_config(json!([1]), &Settings::default()).is_err());
    }

    #[test]
    fn rules_are_checked_before_anything_is_sent() {
        let quad = Settings { rule: Some(VotingRule::Quadratic), ..Settings::default() };
        assert!(err(merge_config(default_config(), &quad)).contains("identity registry"));
        let conv = Settings { rule: Some(VotingRule::Conviction), ..Settings::default() };
        assert!(err(merge_config(default_config(), &conv)).contains("--conviction-period"));
        let zero = Settings { conviction_period_ms: Some(0), ..conv.clone() };
        assert!(merge_config(default_config(), &zero).is_err());
        let stray = Settings { conviction_period_ms: Some(5), ..Settings::default() };
        assert!(err(merge_config(default_config(), &stray)).contains("conviction rule only"));
        let mut early = default_config();
        early["allow_early_close"] = json!(true);
        let deleg = Settings { delegation: Some(Address([1; 20])), ..Settings::default() };
        assert!(err(merge_config(early.clone(), &deleg)).contains("allow_early_close"));
        assert!(merge_config(early, &Settings::default()).is_ok());
        let mut bad = default_config();
        bad["voting_rule"] = json!("plutocracy");
        assert!(merge_config(bad, &Settings::default()).is_err());
        // A cap threshold under the proposal threshold (0.5 by default) is refused before sending.
        let mut low = default_config();
        low["outflow_cap"] = json!({"amount": "1000", "period_ms": 1000, "threshold": "0.4"});
        assert!(err(merge_config(low.clone(), &Settings::default())).contains("at least the proposal threshold"));
        low["outflow_cap"]["threshold"] = json!("0.9");
        assert!(merge_config(low, &Settings::default()).is_ok());
    }
}
