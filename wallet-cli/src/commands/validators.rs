//! Staking queries: `agora validators`, `agora validator ADDRESS`,
//! `agora delegations [ADDRESS_OR_KEYNAME]`.
//!
//! With `-o json` these print the node's result unchanged (`agora_validators`,
//! `agora_validator`, `agora_delegations`).

use std::collections::BTreeMap;

use ledger::Address;

use crate::cli::ValidatorStatusFilter;
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::output::{
    Fields, Table, format_share, format_time_ms, format_time_relative, now_ms, print_json, print_text, truncate,
};
use crate::rpc::{DelegationsInfo, ValidatorInfo, ValidatorsInfo};

/// Monikers longer than this are cut in tables.
const MONIKER_WIDTH: usize = 24;

pub async fn validators(ctx: &Ctx, status: ValidatorStatusFilter) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    let r = client.validators(status.as_str()).await?;
    if ctx.json() {
        return print_json(&r.raw);
    }
    let v = &r.value;
    if v.validators.is_empty() {
        let which = if status == ValidatorStatusFilter::All { String::new() } else { format!("{} ", status.as_str()) };
        eprintln!("(no {which}validators at height {})", v.height);
        return Ok(());
    }
    print_text(&validators_table(v).render())?;
    print_text(&validators_summary(v))
}

/// `jailed`, `tombstoned`, both, or `-`.
fn flags(v: &ValidatorInfo) -> String {
    let mut f = Vec::new();
    if v.jailed {
        f.push("jailed");
    }
    if v.tombstoned {
        f.push("tombstoned");
    }
    if f.is_empty() { "-".into() } else { f.join(",") }
}

/// `missed/window`.
fn missed(v: &ValidatorInfo) -> String {
    format!("{}/{}", v.missed_blocks, v.signed_blocks_window)
}

/// The validators, the active set first, by decreasing power then tokens.
pub fn validators_table(v: &ValidatorsInfo) -> Table {
    let mut list: Vec<&ValidatorInfo> = v.validators.iter().collect();
    list.sort_by(|a, b| {
        (b.in_active_set, b.power, b.tokens)
            .cmp(&(a.in_active_set, a.power, a.tokens))
            .then(a.operator.cmp(&b.operator))
    });
    let mut t = Table::new(&[
        "MONIKER",
        "OPERATOR",
        ">POWER",
        ">SHARE",
        ">TOKENS",
        ">COMMISSION",
        "STATUS",
        "FLAGS",
        ">MISSED",
    ]);
    for x in list {
        let moniker =
            if x.metadata.moniker.is_empty() { "-".into() } else { truncate(&x.metadata.moniker, MONIKER_WIDTH) };
        let share = if x.in_active_set { format_share(x.power, v.total_power) } else { "-".into() };
        t.row(vec![
            moniker,
            x.operator.to_string(),
            x.power.to_string(),
            share,
            x.tokens.to_string(),
            crate::output::format_percent(x.commission.rate),
            x.status.as_str().to_owned(),
            flags(x),
            missed(x),
        ]);
    }
    t
}

/// The line under the table.
pub fn validators_summary(v: &ValidatorsInfo) -> String {
    let active = v.validators.iter().filter(|x| x.in_active_set).count();
    let n = v.validators.len();
    format!(
        "{n} validator{}, {active} in the active set; total voting power {} at height {}\n",
        if n == 1 { "" } else { "s" },
        v.total_power,
        v.height
    )
}

pub async fn validator(ctx: &Ctx, target: &str) -> Result<()> {
    let address = ctx.resolve_address(target)?;
    let client = ctx.client(CALL_TIMEOUT)?;
    let r = client.validator(&address).await?;
    if ctx.json() {
        return print_json(&r.raw);
    }
    validator_fields(&r.value, now_ms()).print()
}

/// Everything about one validator, for people.
pub fn validator_fields(v: &ValidatorInfo, now: u64) -> Fields {
    let mut f = Fields::new();
    let m = &v.metadata;
    f.add("moniker", &m.moniker).add("operator", v.operator).add("consensus key", v.consensus_key);
    let status = match (v.status.as_str(), v.unbonding_completion_ms) {
        ("bonded", _) if v.in_active_set => "bonded (in the active set)".to_owned(),
        ("unbonding", Some(ms)) => format!("unbonding, stake slashable until {}", format_time_relative(ms, now)),
        (s, _) if v.in_active_set => format!("{s} (in the active set)"),
        (s, _) => s.to_owned(),
    };
    f.add("status", status);
    if v.tombstoned {
        f.add("jailed", "tombstoned: it double-signed and can never validate again");
    } else if v.jailed {
        let until = v.jailed_until_ms.unwrap_or(0);
        let when = if until > now {
            format!("yes, can unjail after {}", format_time_relative(until, now))
        } else {
            "yes, can unjail now (agora stake unjail)".to_owned()
        };
        f.add("jailed", when);
    } else {
        f.add("jailed", "no");
    }
    f.add("voting power", v.power).add("tokens", v.tokens);
    if !v.delegator_shares.is_empty() {
        f.add("delegator shares", &v.delegator_shares);
    }
    f.add("self-delegation", format!("{} (minimum {})", v.self_delegation, v.min_self_delegation));
    let c = &v.commission;
    f.add(
        "commission",
        format!(
            "{} (max {}, max change {})",
            crate::output::format_percent(c.rate),
            crate::output::format_percent(c.max_rate),
            crate::output::format_percent(c.max_change_rate)
        ),
    )
    .add_opt("commission changed", Some(v.commission_changed_ms).filter(|ms| *ms > 0).map(format_time_ms))
    .add("unpaid commission", v.commission_outstanding);
    match (Some(v.missed_blocks), Some(v.signed_blocks_window)) {
        (Some(missed), Some(window)) if window > 0 => {
            f.add(
                "signing",
                format!(
                    "missed {missed} of the last {window} blocks (signed {})",
                    format_share(window.saturating_sub(missed), window)
                ),
            );
        }
        (Some(missed), _) => {
            f.add("signing", format!("missed {missed} blocks"));
        }
        _ => {}
    }
    f.add("created at height", v.created_height);
    for (label, value) in [
        ("website", &m.website),
        ("entity", &m.operator_entity),
        ("country", &m.country),
        ("hosting", &m.hosting),
        ("client version", &m.client_version),
        ("details", &m.details),
    ] {
        if !value.is_empty() {
            f.add(label, value);
        }
    }
    f
}

/// The keyring's only key, for `agora delegations` without an argument.
fn only_key(ctx: &Ctx) -> Result<Address> {
    let (keys, _) = ctx.keyring.list()?;
    match keys.as_slice() {
        [k] => Ok(k.address),
        [] => {
            Err(WalletError::Usage(format!("give an address: the keyring {} has no keys", ctx.keyring.dir().display())))
        }
        _ => Err(WalletError::Usage(format!(
            "give an address or a key name: the keyring has {} keys (agora keys list)",
            keys.len()
        ))),
    }
}

pub async fn delegations(ctx: &Ctx, target: Option<&str>) -> Result<()> {
    let address = match target {
        Some(t) => ctx.resolve_address(t)?,
        None => only_key(ctx)?,
    };
    let client = ctx.client(CALL_TIMEOUT)?;
    let r = client.delegations(&address).await?;
    if ctx.json() {
        return print_json(&r.raw);
    }
    let d = &r.value;
    let mut names: BTreeMap<Address, String> = d
        .delegations
        .iter()
        .filter_map(|x| x.moniker.as_ref().filter(|m| !m.is_empty()).map(|m| (x.validator, m.clone())))
        .collect();
    let wanted = d.unbonding.iter().map(|u| u.validator).chain(d.redelegations.iter().map(|x| x.src_validator));
    let wanted = wanted.chain(d.redelegations.iter().map(|x| x.dst_validator));
    if wanted.clone().any(|a| !names.contains_key(&a)) {
        // Only for the monikers: the table is complete without them.
        if let Ok(all) = client.validators("all").await {
            for v in all.value.validators {
                if !v.metadata.moniker.is_empty() {
                    names.entry(v.operator).or_insert(v.metadata.moniker);
                }
            }
        }
    }
    print_text(&delegations_text(d, &names, now_ms()))
}

/// An account's stake, for people: tables of delegations, unbonding entries and
/// redelegations, then the totals.
pub fn delegations_text(d: &DelegationsInfo, names: &BTreeMap<Address, String>, now: u64) -> String {
    let name = |a: &Address| names.get(a).map_or_else(|| "-".to_owned(), |m| truncate(m, MONIKER_WIDTH));
    let mut out = format!("delegator: {}\n", d.delegator);
    if d.delegations.is_empty() && d.unbonding.is_empty() && d.redelegations.is_empty() {
        out.push_str("(no delegations, unbondings or redelegations)\n");
    }
    if !d.delegations.is_empty() {
        let mut t = Table::new(&["VALIDATOR", "OPERATOR", ">AMOUNT", ">PENDING REWARDS"]);
        for x in &d.delegations {
            t.row(vec![
                name(&x.validator),
                x.validator.to_string(),
                x.amount.to_string(),
                x.pending_rewards.to_string(),
            ]);
        }
        out.push_str("\nDelegations\n");
        out.push_str(&t.render());
    }
    if !d.unbonding.is_empty() {
        let mut t = Table::new(&["VALIDATOR", "OPERATOR", ">AMOUNT", "COMPLETES"]);
        let mut list: Vec<_> = d.unbonding.iter().collect();
        list.sort_by_key(|u| u.completion_time_ms);
        for u in list {
            let amount = if u.balance == u.initial {
                u.balance.to_string()
            } else {
                format!("{} (of {}, slashed)", u.balance, u.initial)
            };
            t.row(vec![
                name(&u.validator),
                u.validator.to_string(),
                amount,
                format_time_relative(u.completion_time_ms, now),
            ]);
        }
        out.push_str("\nUnbonding\n");
        out.push_str(&t.render());
    }
    if !d.redelegations.is_empty() {
        let mut t = Table::new(&["FROM", "TO", ">AMOUNT", "SLASHABLE AT SOURCE UNTIL"]);
        let mut list: Vec<_> = d.redelegations.iter().collect();
        list.sort_by_key(|r| r.completion_time_ms);
        for r in list {
            let end = |a: &Address| match names.get(a) {
                Some(m) => format!("{} ({a})", truncate(m, MONIKER_WIDTH)),
                None => a.to_string(),
            };
            t.row(vec![
                end(&r.src_validator),
                end(&r.dst_validator),
                r.initial.to_string(),
                format_time_relative(r.completion_time_ms, now),
            ]);
        }
        out.push_str("\nRedelegations\n");
        out.push_str(&t.render());
    }
    let mut f = Fields::new();
    f.add("delegated", d.total_delegated)
        .add("unbonding", d.total_unbonding)
        .add("pending rewards", d.total_pending_rewards)
        .add_opt("unpaid commission", d.commission_outstanding);
    out.push('\n');
    out.push_str(&f.render());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn v(op: Address, moniker: &str, power: u64, tokens: &str, extra: Value) -> Value {
        let mut j = json!({
            "operator": op, "consensus_key": "ab".repeat(32),
            "metadata": {"moniker": moniker, "website": "", "operator_entity": "", "country": "DE",
                         "hosting": "", "client_version": "", "details": ""},
            "tokens": tokens, "delegator_shares": tokens, "self_delegation": "1000000",
            "min_self_delegation": "1000000", "power": power, "in_active_set": power > 0,
            "status": if power > 0 { "bonded" } else { "unbonded" }, "unbonding_completion_ms": null,
            "jailed": false, "jailed_until_ms": 0, "tombstoned": false,
            "commission": {"rate": "0.05", "max_rate": "0.2", "max_change_rate": "0.01"},
            "commission_changed_ms": 0, "commission_outstanding": "0",
            "missed_blocks": 0, "signed_blocks_window": 100, "created_height": 0
        });
        for (k, x) in extra.as_object().unwrap() {
            j[k] = x.clone();
        }
        j
    }

    /// Text with runs of spaces as one space (alignment aside).
    fn squeeze(s: &str) -> String {
        s.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") + "\n").collect()
    }

    fn set() -> ValidatorsInfo {
        serde_json::from_value(json!({"height": 42, "total_power": 3, "validators": [
            v(Address([1; 20]), "small", 1, "1000000", json!({"missed_blocks": 7})),
            v(Address([2; 20]), "jailed-one", 0, "5000000",
              json!({"jailed": true, "status": "unbonding", "unbonding_completion_ms": 1_700_000_600_000u64})),
            v(Address([3; 20]), "big", 2, "2000000", json!({"commission": {"rate": "0.125", "max_rate": "0.2",
                                                                        "max_change_rate": "0.01"}})),
        ]}))
        .unwrap()
    }

    #[test]
    fn validators_are_tabulated() {
        let text = validators_table(&set()).render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("MONIKER") && lines[0].ends_with("MISSED"), "{text}");
        assert!(lines[1].starts_with("big ") && lines[1].contains("66.66%") && lines[1].contains("12.5%"), "{text}");
        assert!(lines[2].starts_with("small ") && lines[2].contains("33.33%") && lines[2].ends_with("7/100"), "{text}");
        assert!(lines[3].starts_with("jailed-one") && lines[3].contains("unbonding  jailed"), "{text}");
        assert!(lines[3].contains(&Address([2; 20]).to_string()), "{text}");
        assert_eq!(
            validators_summary(&set()),
            "3 validators, 2 in the active set; total voting power 3 at height 42\n"
        );
    }

    #[test]
    fn one_validator_is_detailed() {
        let now = 1_700_000_000_000;
        let x: ValidatorInfo = serde_json::from_value(v(
            Address([2; 20]),
            "alpha",
            0,
            "5000000",
            json!({"jailed": true, "jailed_until_ms": now + 300_000, "status": "unbonding",
                   "unbonding_completion_ms": now + 21 * 86_400_000, "missed_blocks": 60,
                   "commission_outstanding": "12", "metadata": {"moniker": "alpha", "website": "https://a.example"}}),
        ))
        .unwrap();
        let text = squeeze(&validator_fields(&x, now).render());
        let expect = [
            "status: unbonding, stake slashable until 2023-12-05T22:13:20.000Z (in 30240 min (~21 days))",
            "jailed: yes, can unjail after 2023-11-14T22:18:20.000Z (in 5 min)",
            "self-delegation: 1000000 (minimum 1000000)",
            "commission: 5% (max 20%, max change 1%)",
            "signing: missed 60 of the last 100 blocks (signed 40.00%)",
            "unpaid commission: 12",
            "website: https://a.example",
        ];
        for e in expect {
            assert!(text.contains(e), "{e}: {text}");
        }
        assert!(!text.contains("country"), "empty metadata is not shown: {text}");

        let x: ValidatorInfo = serde_json::from_value(v(Address([1; 20]), "b", 3, "3000000", json!({}))).unwrap();
        let text = squeeze(&validator_fields(&x, now).render());
        assert!(text.contains("bonded (in the active set)") && text.contains("jailed: no"), "{text}");
        let x: ValidatorInfo =
            serde_json::from_value(v(Address([1; 20]), "b", 0, "3", json!({"jailed": true, "tombstoned": true})))
                .unwrap();
        assert!(validator_fields(&x, now).render().contains("tombstoned: it double-signed"));
    }

    #[test]
    fn delegations_are_listed_with_totals() {
        let now = 1_700_000_000_000u64;
        let (a, b, c) = (Address([1; 20]), Address([2; 20]), Address([3; 20]));
        let d: DelegationsInfo = serde_json::from_value(json!({
            "delegator": c, "height": 9,
            "delegations": [{"delegator": c, "validator": a, "moniker": "alpha", "shares": "10", "amount": "1000",
                             "pending_rewards": "17"}],
            "unbonding": [{"validator": b, "creation_height": 4, "completion_time_ms": now + 120_000,
                           "initial": "500", "balance": "450"}],
            "redelegations": [{"src_validator": b, "dst_validator": a, "creation_height": 5,
                               "completion_time_ms": now + 60_000, "initial": "300", "shares": "300"}],
            "total_delegated": "1000", "total_unbonding": "450", "total_pending_rewards": "17",
            "commission_outstanding": null
        }))
        .unwrap();
        let names = BTreeMap::from([(a, "alpha".to_owned())]);
        let text = delegations_text(&d, &names, now);
        assert!(text.starts_with(&format!("delegator: {c}\n\nDelegations\nVALIDATOR")), "{text}");
        assert!(text.contains(&format!("alpha      {a}    1000               17")), "{text}");
        assert!(text.contains("450 (of 500, slashed)  2023-11-14T22:15:20.000Z (in 2 min)"), "{text}");
        assert!(text.contains(&format!("{b}  alpha ({a})")) && text.contains("(in 1 min)"), "{text}");
        assert!(text.ends_with("delegated:       1000\nunbonding:       450\npending rewards: 17\n"), "{text}");

        // Commission shows for operators.
        let d: DelegationsInfo = serde_json::from_value(json!({
            "delegator": a, "height": 9,
            "delegations": [{"delegator": a, "validator": a, "shares": "5", "amount": "5", "pending_rewards": "1"},
                            {"delegator": a, "validator": b, "shares": "7", "amount": "7", "pending_rewards": "2"}],
            "unbonding": [], "redelegations": [],
            "total_delegated": "12", "total_unbonding": "0", "total_pending_rewards": "3",
            "commission_outstanding": "9"
        }))
        .unwrap();
        let text = delegations_text(&d, &BTreeMap::new(), now);
        assert!(text.contains("delegated:         12\n") && text.contains("pending rewards:   3\n"), "{text}");
        assert!(text.contains("unpaid commission: 9"), "{text}");
        assert!(!text.contains("Unbonding"), "{text}");

        let d: DelegationsInfo = serde_json::from_value(json!({"delegator": a, "height": 9, "delegations": [],
            "unbonding": [], "redelegations": [], "total_delegated": "0", "total_unbonding": "0",
            "total_pending_rewards": "0", "commission_outstanding": null}))
        .unwrap();
        assert!(delegations_text(&d, &BTreeMap::new(), now).contains("(no delegations, unbondings or redelegations)"));
    }
}
