//! `agora dao delegate | undelegate | delegations | register-identity |
//! revoke-identity | identity | lock`: the contracts next to a DAO's modules.
//!
//! The wallet finds them in the proposal module's config: `delegation` (a
//! `dao-delegation` contract) and `identity_registry` (a `dao-identity`
//! registry); locks live in the voting module (`dao-voting-token`).

use ledger::{Address, Amount};
use serde_json::{Value, json};

use crate::cli::TxArgs;
use crate::commands::dao::{address_in, compact, exec, exec_fields, proposal_module, query, send_exec};
use crate::commands::dao_config::{BPS_ONE, check_identity, share_bps};
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::output::{Fields, escape_control, format_time_relative, print_json};

/// The proposal module's config.
pub(crate) async fn rules(ctx: &Ctx, dao: &Address) -> Result<Value> {
    let module = proposal_module(ctx, dao).await?;
    query(ctx, &module, &json!({ "config": {} })).await
}

/// The contract the rules name under `key`, or why there is none.
pub fn named_contract(rules: &Value, dao: &Address, key: &str) -> Result<Address> {
    let (what, how) = match key {
        "delegation" => ("delegation contract", "--delegation-code"),
        _ => ("identity registry", "--identity-code"),
    };
    match &rules[key] {
        Value::Null => Err(WalletError::InvalidArgument(format!(
            "the DAO {dao} has no {what}: its proposal rules have no `{key}` (create the DAO with {how}, or set `{key}` by proposal)"
        ))),
        v => address_in(v, what),
    }
}

/// A share in basis points as a percentage: `50%`, `12.5%`, `0.01%`.
pub fn bps_percent(bps: u64) -> String {
    let (whole, frac) = (bps / 100, bps % 100);
    if frac == 0 { format!("{whole}%") } else { format!("{whole}.{}%", format!("{frac:02}").trim_end_matches('0')) }
}

pub async fn delegate(
    ctx: &Ctx,
    dao: &Address,
    to: &str,
    share: Option<&str>,
    bps: Option<u32>,
    tx: &TxArgs,
) -> Result<()> {
    let bps = share_bps(share, bps)?;
    let to = ctx.resolve_address(to)?;
    let contract = named_contract(&rules(ctx, dao).await?, dao, "delegation")?;
    let msg = json!({ "delegate": { "delegate": to.to_string(), "bps": bps } });
    exec(ctx, &contract, &msg, Amount::ZERO, tx, "delegation").await
}

pub async fn undelegate(ctx: &Ctx, dao: &Address, to: Option<&str>, tx: &TxArgs) -> Result<()> {
    let to = to.map(|t| ctx.resolve_address(t)).transpose()?;
    let contract = named_contract(&rules(ctx, dao).await?, dao, "delegation")?;
    let msg = match to {
        Some(t) => json!({ "undelegate": { "delegate": t.to_string() } }),
        None => json!({ "undelegate": {} }),
    };
    exec(ctx, &contract, &msg, Amount::ZERO, tx, "undelegation").await
}

pub async fn delegations(ctx: &Ctx, dao: &Address, address: Option<&str>) -> Result<()> {
    let address = address.map(|a| ctx.resolve_address(a)).transpose()?;
    let contract = named_contract(&rules(ctx, dao).await?, dao, "delegation")?;
    let Some(address) = address else {
        if ctx.json() {
            return print_json(&json!({ "dao": dao, "delegation": contract }));
        }
        let mut f = Fields::new();
        f.add("dao", dao).add("delegation", contract).add("", "(give --address to see an address's delegations)");
        return f.print();
    };
    let height = ctx.client(CALL_TIMEOUT)?.status().await?.value.latest_height;
    let out = query(ctx, &contract, &json!({ "delegations": { "delegator": address.to_string() } })).await?;
    let q = json!({ "delegated_power": { "delegate": address.to_string(), "height": height } });
    let power = match query(ctx, &contract, &q).await {
        Ok(p) => p,
        Err(e) => {
            // Powers need the voting module; the bare list does not.
            eprintln!("warning: no delegated power ({}); showing the delegators only", escape_control(&e.to_string()));
            let q = json!({ "delegators": { "delegate": address.to_string(), "height": height } });
            query(ctx, &contract, &q).await?
        }
    };
    let doc = json!({
        "dao": dao,
        "delegation": contract,
        "address": address,
        "height": height,
        "delegations": out["delegations"],
        "own_power": power.get("own_power"),
        "delegated_power": power.get("delegated_power"),
        "delegators": power["delegators"],
    });
    if ctx.json() {
        return print_json(&doc);
    }
    delegation_fields(&doc).print()
}

/// The text of `agora dao delegations --address`.
pub fn delegation_fields(d: &Value) -> Fields {
    let mut f = Fields::new();
    f.add("delegation", compact(&d["delegation"]))
        .add("address", compact(&d["address"]))
        .add("height", compact(&d["height"]));
    let empty = Vec::new();
    let outs = d["delegations"].as_array().unwrap_or(&empty);
    if outs.is_empty() {
        f.add("delegates to", "nobody");
    }
    let mut total = 0;
    for o in outs {
        let bps = o["bps"].as_u64().unwrap_or(0);
        total += bps;
        f.add("delegates to", format!("{} {}", compact(&o["delegate"]), bps_percent(bps)));
    }
    if total > 0 {
        f.add("kept", bps_percent(u64::from(BPS_ONE).saturating_sub(total)));
    }
    let ins = d["delegators"].as_array().unwrap_or(&empty);
    if !d["own_power"].is_null() {
        f.add("own power", compact(&d["own_power"]));
        let who = if ins.len() == 1 { "delegator" } else { "delegators" };
        f.add("delegated power", format!("{} from {} {who}", compact(&d["delegated_power"]), ins.len()));
    }
    for i in ins {
        let power = if i["power"].is_null() { String::new() } else { format!(" → {}", compact(&i["power"])) };
        f.add(
            "delegator",
            format!("{} {}{power}", compact(&i["delegator"]), bps_percent(i["bps"].as_u64().unwrap_or(0))),
        );
    }
    f
}

pub async fn register_identity(ctx: &Ctx, dao: &Address, address: &str, identity: &str, tx: &TxArgs) -> Result<()> {
    check_identity(identity)?;
    let address = ctx.resolve_address(address)?;
    let registry = named_contract(&rules(ctx, dao).await?, dao, "identity_registry")?;
    let msg = json!({ "attest": { "address": address.to_string(), "identity": identity } });
    exec(ctx, &registry, &msg, Amount::ZERO, tx, "attestation").await
}

pub async fn revoke_identity(ctx: &Ctx, dao: &Address, address: &str, tx: &TxArgs) -> Result<()> {
    let address = ctx.resolve_address(address)?;
    let registry = named_contract(&rules(ctx, dao).await?, dao, "identity_registry")?;
    let msg = json!({ "revoke": { "address": address.to_string() } });
    exec(ctx, &registry, &msg, Amount::ZERO, tx, "revocation").await
}

pub async fn identity(ctx: &Ctx, dao: &Address, address: Option<&str>) -> Result<()> {
    let address = address.map(|a| ctx.resolve_address(a)).transpose()?;
    let registry = named_contract(&rules(ctx, dao).await?, dao, "identity_registry")?;
    if let Some(a) = address {
        let v = query(ctx, &registry, &json!({ "identity": { "address": a.to_string() } })).await?;
        if ctx.json() {
            return print_json(&json!({ "registry": registry, "address": a, "identity": v }));
        }
        let mut f = Fields::new();
        f.add("registry", registry).add("address", a);
        match v["identity"].as_str() {
            Some(id) => f
                .add("identity", id)
                .add("issuer", compact(&v["issuer"]))
                .add("since height", compact(&v["since_height"])),
            None => f.add("identity", "none"),
        };
        return f.print();
    }
    let owner = query(ctx, &registry, &json!({ "owner": {} })).await?;
    let issuers = query(ctx, &registry, &json!({ "issuers": {} })).await?;
    let list = query(ctx, &registry, &json!({ "list": { "limit": 100 } })).await?;
    if ctx.json() {
        return print_json(&json!({
            "registry": registry,
            "owner": owner["owner"],
            "issuers": issuers["issuers"],
            "identities": list["identities"],
        }));
    }
    let mut f = Fields::new();
    f.add("registry", registry).add("owner", compact(&owner["owner"]));
    let empty = Vec::new();
    for i in issuers["issuers"].as_array().unwrap_or(&empty) {
        f.add("issuer", compact(i));
    }
    let ids = list["identities"].as_array().unwrap_or(&empty);
    if ids.is_empty() {
        f.add("identities", "none");
    }
    for i in ids {
        f.add(
            "identity",
            format!(
                "{} {} (issuer {}, since height {})",
                compact(&i["address"]),
                compact(&i["identity"]),
                compact(&i["issuer"]),
                compact(&i["since_height"])
            ),
        );
    }
    f.print()
}

/// Until when a conviction-`k` lock made at `now_ms` lasts: `now + 2^(k−1) × period`.
pub fn lock_until(now_ms: u64, conviction: u8, period_ms: u64) -> Result<u64> {
    if !(1..=6).contains(&conviction) {
        return Err(WalletError::InvalidArgument(format!("conviction must be 1 to 6 for a lock, got {conviction}")));
    }
    if period_ms == 0 {
        return Err(WalletError::InvalidArgument(
            "the DAO's rules have no conviction period (conviction_period_ms is 0): it does not use the conviction rule"
                .into(),
        ));
    }
    period_ms
        .checked_mul(1 << (conviction - 1))
        .and_then(|d| d.checked_add(now_ms))
        .ok_or_else(|| WalletError::InvalidArgument("the lock's end overflows".into()))
}

async fn block_time(ctx: &Ctx) -> Result<u64> {
    Ok(ctx.client(CALL_TIMEOUT)?.status().await?.value.latest_block_time_ms)
}

pub async fn lock(
    ctx: &Ctx,
    dao: &Address,
    amount: Option<Amount>,
    conviction: Option<u8>,
    address: Option<&str>,
    tx: Option<&TxArgs>,
) -> Result<()> {
    let voting = crate::commands::dao::voting_module(ctx, dao).await?;
    if let Some(amount) = amount {
        let tx = tx.ok_or_else(|| WalletError::InvalidArgument("a lock needs --from KEY".into()))?;
        let k =
            conviction.ok_or_else(|| WalletError::InvalidArgument("a lock needs --conviction K (1 to 6)".into()))?;
        let period = rules(ctx, dao).await?["conviction_period_ms"].as_u64().unwrap_or(0);
        let now = block_time(ctx).await?;
        let until = lock_until(now, k, period)?;
        let msg = json!({ "lock": { "amount": amount.to_string(), "until_ms": until } });
        let Some(sent) = send_exec(ctx, &voting, &msg, Amount::ZERO, tx, "lock").await? else { return Ok(()) };
        let mut out = sent.json();
        out["contract"] = json!(voting);
        out["until_ms"] = json!(until);
        let mut f = exec_fields(&sent, &voting);
        f.add("locked", format!("{amount} until {}", format_time_relative(until, now)));
        return sent.finish(ctx, out, &f);
    }
    let who = match (address, tx) {
        (Some(a), _) => ctx.resolve_address(a)?,
        (None, Some(t)) => ctx.resolve_address(&t.from)?,
        (None, None) => {
            return Err(WalletError::InvalidArgument("give --address ADDRESS (whose locks to list)".into()));
        }
    };
    let v = query(ctx, &voting, &json!({ "locks": { "address": who.to_string() } }))
        .await
        .map_err(|e| WalletError::InvalidArgument(format!("the DAO's voting module {voting} has no locks ({e})")))?;
    let now = block_time(ctx).await?;
    if ctx.json() {
        return print_json(&json!({ "address": who, "voting_module": voting, "now_ms": now, "locks": v }));
    }
    lock_fields(&who, &v, now).print()
}

/// The text of `agora dao lock` without `--amount`.
pub fn lock_fields(who: &Address, v: &Value, now: u64) -> Fields {
    let mut f = Fields::new();
    f.add("address", who).add("locked now", compact(&v["locked"]));
    if let Some(end) = v["unlocks_at_ms"].as_u64() {
        f.add("all unlocked", format_time_relative(end, now));
    }
    let empty = Vec::new();
    for l in v["locks"].as_array().unwrap_or(&empty) {
        let until = l["until_ms"].as_u64().unwrap_or(0);
        f.add("lock", format!("{} until {}", compact(&l["amount"]), format_time_relative(until, now)));
    }
    f
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn locks_last_powers_of_two_periods() {
        assert_eq!(lock_until(1_000, 1, 100).unwrap(), 1_100);
        assert_eq!(lock_until(1_000, 6, 100).unwrap(), 4_200);
        assert!(lock_until(0, 0, 100).is_err());
        assert!(lock_until(0, 7, 100).is_err());
        assert!(lock_until(0, 3, 0).unwrap_err().to_string().contains("conviction period"));
        assert!(lock_until(u64::MAX - 5, 2, 100).is_err());
        assert!(lock_until(0, 6, u64::MAX / 2).is_err());
    }

    #[test]
    fn contracts_come_from_the_rules() {
        let dao = Address([7; 20]);
        let d = Address([1; 20]);
        let rules = json!({ "delegation": d.to_string(), "identity_registry": null });
        assert_eq!(named_contract(&rules, &dao, "delegation").unwrap(), d);
        let e = named_contract(&rules, &dao, "identity_registry").unwrap_err().to_string();
        assert!(e.contains("no identity registry") && e.contains("--identity-code"), "{e}");
        assert!(named_contract(&json!({}), &dao, "delegation").unwrap_err().to_string().contains("--delegation-code"));
        assert!(named_contract(&json!({ "delegation": "junk" }), &dao, "delegation").is_err());
    }

    #[test]
    fn delegations_render() {
        assert_eq!(
            (bps_percent(5_000), bps_percent(1_250), bps_percent(1)),
            ("50%".into(), "12.5%".into(), "0.01%".into())
        );
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let d = json!({
            "delegation": Address([9; 20]), "address": a, "height": 42,
            "delegations": [{ "delegate": b, "bps": 2_500 }],
            "own_power": "750", "delegated_power": "300",
            "delegators": [{ "delegator": b, "bps": 10_000, "power": "300" }],
        });
        let text = delegation_fields(&d).render();
        assert!(text.contains(&format!("delegates to:    {b} 25%")), "{text}");
        assert!(text.contains("kept:            75%"), "{text}");
        assert!(text.contains("delegated power: 300 from 1 delegator"), "{text}");
        assert!(text.contains(&format!("delegator:       {b} 100% → 300")), "{text}");
        let locks =
            json!({ "locks": [{ "amount": "5", "until_ms": 120_000 }], "locked": "5", "unlocks_at_ms": 120_000 });
        let text = lock_fields(&a, &locks, 60_000).render();
        assert!(text.contains("lock:         5 until 1970-01-01T00:02:00.000Z (in 1 min)"), "{text}");
    }
}
