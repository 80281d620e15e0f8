//! `agora stake …`: the staking transactions (create and edit a validator,
//! delegate, undelegate, redelegate, withdraw rewards, unjail).
//!
//! They are sent like the contract transactions (see `contract.rs`): local
//! checks first, then `agora_chainParams` and `agora_getAccount`, `--gas auto`
//! (the default) runs a dry run (`agora_estimateGas`) whose failure stops
//! everything before signing, with the chain's reason; the balance must cover
//! the tokens the transaction bonds plus `gas_limit × gas_price`; then the
//! password, the signature, `agora_sendTxCommit`, and the result. A transaction
//! included but failed exits with code 3.
//!
//! Checks made here: amounts are positive, rates are between 0 and 1 (the
//! argument parser), the commission rate is at most the maximum rate and the
//! maximum change at most the maximum rate, metadata follows the chain's
//! rules (`ledger::staking::metadata::validate`), addresses are valid, the
//! consensus key is a valid ed25519 key; those are usage errors (exit 2).
//! Checks against chain state (exit 1): the minimum self-delegation against
//! `agora_stakingParams`; a validator edit against the validator's record
//! (`agora_validator`: max rate, max change, minimum self-delegation only up);
//! delegating or redelegating to a tombstoned validator; unjailing a validator
//! that is not jailed. Everything else is left to the dry run.

use std::path::Path;

use ledger::staking::{CommissionRates, MetadataUpdate, ValidatorMetadata};
use ledger::{Address, Amount, Payload, PublicKey, Rate};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{CreateValidatorArgs, EditValidatorArgs, MetadataArgs, StakeCommand, TxArgs};
use crate::commands::query::event_fields;
use crate::commands::{Ctx, decentralization};
use crate::error::{Result, WalletError};
use crate::output::{
    Fields, eprint_text, escape_control, format_percent, format_time_ms, format_time_relative, now_ms,
};
use crate::rpc::ValidatorInfo;
use crate::send::{Prepared, Sent, prepare, send};

pub async fn run(ctx: &Ctx, cmd: StakeCommand) -> Result<()> {
    match cmd {
        StakeCommand::CreateValidator(a) => create_validator(ctx, &a).await,
        StakeCommand::EditValidator(a) => edit_validator(ctx, &a).await,
        StakeCommand::Delegate { validator, amount, tx } => {
            delegate(ctx, &ctx.resolve_address(&validator)?, amount, &tx).await
        }
        StakeCommand::Undelegate { validator, amount, tx } => {
            undelegate(ctx, &ctx.resolve_address(&validator)?, amount, &tx).await
        }
        StakeCommand::Redelegate { src, dst, amount, tx } => {
            let (src, dst) = (ctx.resolve_address(&src)?, ctx.resolve_address(&dst)?);
            redelegate(ctx, &src, &dst, amount, &tx).await
        }
        StakeCommand::WithdrawRewards { validator, tx } => {
            let v = validator.map(|v| ctx.resolve_address(&v)).transpose()?;
            withdraw_rewards(ctx, v.as_ref(), &tx).await
        }
        StakeCommand::Unjail { tx } => unjail(ctx, &tx).await,
    }
}

// ---- pure helpers -------------------------------------------------------

/// Commission rates that the chain would refuse (usage errors).
pub fn check_commission(c: &CommissionRates) -> Result<()> {
    if c.rate > c.max_rate {
        return Err(WalletError::Usage(format!(
            "the commission rate {} is above the maximum commission rate {} (--max-commission-rate)",
            c.rate, c.max_rate
        )));
    }
    if c.max_change_rate > c.max_rate {
        return Err(WalletError::Usage(format!(
            "the maximum commission change {} is above the maximum commission rate {}",
            c.max_change_rate, c.max_rate
        )));
    }
    Ok(())
}

/// The metadata of `create-validator` (each field was checked by the
/// argument parser; the whole is checked again).
pub fn metadata_of(moniker: &str, m: &MetadataArgs) -> Result<ValidatorMetadata> {
    let field = |v: &Option<String>| v.clone().unwrap_or_default();
    let md = ValidatorMetadata {
        moniker: moniker.to_owned(),
        website: field(&m.website),
        operator_entity: field(&m.entity),
        country: field(&m.country),
        hosting: field(&m.hosting),
        client_version: field(&m.client_version),
        details: field(&m.details),
    };
    ledger::staking::metadata::validate(&md).map_err(|e| WalletError::Usage(format!("invalid metadata: {e}")))?;
    Ok(md)
}

/// The metadata changes of `edit-validator`.
pub fn metadata_update(moniker: Option<&String>, m: &MetadataArgs) -> MetadataUpdate {
    MetadataUpdate {
        moniker: moniker.cloned(),
        website: m.website.clone(),
        operator_entity: m.entity.clone(),
        country: m.country.clone(),
        hosting: m.hosting.clone(),
        client_version: m.client_version.clone(),
        details: m.details.clone(),
    }
}

/// agorad's `validator_key.json` (see `node/src/keys.rs`); only the public key is read.
#[derive(Deserialize)]
struct ValidatorKeyFile {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    public_key: String,
}

/// The consensus public key in the text of a `validator_key.json`.
pub fn parse_validator_key(text: &str, path: &Path) -> Result<PublicKey> {
    let bad = |reason: String| {
        WalletError::InvalidArgument(format!("{}: not an agorad validator key file: {reason}", path.display()))
    };
    let file: ValidatorKeyFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if let Some(kind) = file.kind.as_deref()
        && kind != "ed25519"
    {
        return Err(bad(format!("key type `{kind}`, expected `ed25519`")));
    }
    crate::parse::parse_consensus_key(&file.public_key).map_err(|e| bad(e.to_string()))
}

/// Reads the consensus key of `--validator-key`: a `validator_key.json`, or a
/// node home directory that holds one.
pub fn read_validator_key(path: &Path) -> Result<PublicKey> {
    let file = if path.is_dir() { path.join("validator_key.json") } else { path.to_owned() };
    let text =
        std::fs::read_to_string(&file).map_err(|e| WalletError::io("cannot read the validator key file", &file, e))?;
    parse_validator_key(&text, &file)
}

/// Checks an edit against the validator's record: what the chain would refuse.
pub fn check_edit(
    v: &ValidatorInfo,
    rate: Option<Rate>,
    min_self_delegation: Option<Amount>,
    update: &MetadataUpdate,
) -> Result<()> {
    let err = |m: String| Err(WalletError::InvalidArgument(m));
    if let Some(rate) = rate {
        let c = &v.commission;
        if rate > c.max_rate {
            return err(format!("the commission rate {rate} is above this validator's maximum rate {}", c.max_rate));
        }
        let change = rate.ppm().abs_diff(c.rate.ppm());
        if change > c.max_change_rate.ppm() {
            return err(format!(
                "the commission rate may change by at most {} at a time: from {} to at least {} and at most {}",
                c.max_change_rate,
                c.rate,
                Rate::from_ppm(c.rate.ppm().saturating_sub(c.max_change_rate.ppm())).unwrap_or(Rate::ZERO),
                Rate::from_ppm((c.rate.ppm() + c.max_change_rate.ppm()).min(c.max_rate.ppm())).unwrap_or(c.max_rate),
            ));
        }
    }
    if let Some(min) = min_self_delegation {
        if let Some(cur) = Some(v.min_self_delegation)
            && min < cur
        {
            return err(format!("the minimum self-delegation can only increase (it is {cur})"));
        }
        if let Some(own) = Some(v.self_delegation)
            && min > own
        {
            return err(format!(
                "the minimum self-delegation {min} is above the operator's own delegation {own}: delegate more first"
            ));
        }
    }
    if !update.is_empty() {
        let m = update.apply(&v.metadata);
        ledger::staking::metadata::validate(&m).map_err(|e| WalletError::Usage(format!("invalid metadata: {e}")))?;
    }
    Ok(())
}

/// The value of attribute `key` of the first event of kind `kind`.
pub fn event_attr(events: &[Value], kind: &str, key: &str) -> Option<String> {
    events.iter().filter(|e| e.get("kind").and_then(Value::as_str) == Some(kind)).find_map(|e| {
        e.get("attributes")?.as_array()?.iter().find_map(|kv| match kv.as_array().map(Vec::as_slice) {
            Some([k, v]) if k.as_str() == Some(key) => v.as_str().map(str::to_owned),
            _ => None,
        })
    })
}

/// The sum of the `amount` attributes of every event of kind `kind`.
pub fn sum_amounts(events: &[Value], kind: &str) -> Amount {
    events
        .iter()
        .filter(|e| e.get("kind").and_then(Value::as_str) == Some(kind))
        .filter_map(|e| {
            e.get("attributes")?.as_array()?.iter().find_map(|kv| match kv.as_array().map(Vec::as_slice) {
                Some([k, v]) if k.as_str() == Some("amount") => v.as_str()?.parse::<Amount>().ok(),
                _ => None,
            })
        })
        .fold(Amount::ZERO, |a, b| a.checked_add(b).unwrap_or(Amount::new(u128::MAX)))
}

/// `rate (max …, max change …)`.
pub fn commission_text(c: &CommissionRates) -> String {
    format!(
        "{} (max {}, max change {})",
        format_percent(c.rate),
        format_percent(c.max_rate),
        format_percent(c.max_change_rate)
    )
}

/// A validator as `moniker (agora1…)`.
fn named(v: &ValidatorInfo) -> String {
    if v.metadata.moniker.is_empty() {
        v.operator.to_string()
    } else {
        format!("{} ({})", escape_control(&v.metadata.moniker), v.operator)
    }
}

// ---- commands -----------------------------------------------------------

/// The receipt's events (only the `fee` event when the transaction failed).
fn events(sent: &Sent) -> Vec<Value> {
    sent.committed.value.receipt.events.iter().filter_map(|e| serde_json::to_value(e).ok()).collect()
}

/// Warns about a `jail` event (a self-delegation fell below the minimum).
fn warn_jailed(sent: &Sent) {
    if let Some(reason) = event_attr(&events(sent), "jail", "reason") {
        eprintln!("warning: the validator was jailed: {}", escape_control(&reason.to_string()));
    }
}

async fn create_validator(ctx: &Ctx, a: &CreateValidatorArgs) -> Result<()> {
    let consensus_key = match (&a.consensus_key, &a.validator_key) {
        (Some(k), _) => *k,
        (None, Some(path)) => read_validator_key(path)?,
        (None, None) => return Err(WalletError::Usage("give --consensus-key HEX or --validator-key FILE".into())),
    };
    let commission = CommissionRates {
        rate: a.commission_rate,
        max_rate: a.max_commission_rate,
        max_change_rate: a.max_commission_change,
    };
    check_commission(&commission)?;
    let metadata = metadata_of(&a.moniker, &a.metadata)?;
    if let Some(min) = a.min_self_delegation
        && a.self_stake < min
    {
        return Err(WalletError::Usage(format!(
            "the self-stake {} is below the minimum self-delegation {min} (--min-self-delegation)",
            a.self_stake
        )));
    }

    let p = prepare(ctx, &a.tx).await?;
    if consensus_key == p.from.public_key {
        eprintln!(
            "warning: the consensus key is the public key of `{}`; a validator should sign blocks with its node's key (agorad show-validator)",
            p.from.name
        );
    }
    let params = p.client.staking_params().await?.value;
    let min_self_delegation = a.min_self_delegation.unwrap_or(params.min_self_delegation);
    if min_self_delegation < params.min_self_delegation {
        return Err(WalletError::InvalidArgument(format!(
            "the minimum self-delegation {min_self_delegation} is below the chain's minimum {} (min_self_delegation)",
            params.min_self_delegation
        )));
    }
    if a.self_stake < min_self_delegation {
        return Err(WalletError::InvalidArgument(format!(
            "the self-stake {} is below the minimum self-delegation {min_self_delegation} (the chain's min_self_delegation)",
            a.self_stake
        )));
    }
    if a.self_stake < params.power_reduction {
        eprintln!(
            "warning: a stake below {} (power_reduction) gives no voting power: the validator cannot join the active set until it has more",
            params.power_reduction
        );
    }
    let payload = Payload::CreateValidator {
        consensus_key,
        self_stake: a.self_stake,
        commission,
        min_self_delegation,
        metadata: metadata.clone(),
    };
    let Some(sent) = send(ctx, &p, &a.tx, payload, ("self-stake", a.self_stake), "validator creation").await? else {
        return Ok(());
    };

    let mut out = sent.json();
    out["operator"] = json!(p.from.address);
    out["consensus_key"] = json!(consensus_key);
    out["self_stake"] = json!(a.self_stake);
    out["min_self_delegation"] = json!(min_self_delegation);
    out["commission"] = json!(commission);
    out["metadata"] = json!(metadata);
    let mut f = Fields::new();
    f.add("operator", p.from.address)
        .add("moniker", &metadata.moniker)
        .add("consensus key", consensus_key)
        .add("self-stake", a.self_stake)
        .add("min self-delegation", min_self_delegation)
        .add("commission", commission_text(&commission));
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    sent.finish(ctx, out, &f)?;
    if !ctx.json() {
        eprintln!("Check it with `agora validator {}`.", p.from.address);
    }
    Ok(())
}

/// The validator the --from account operates.
async fn own_validator(p: &Prepared) -> Result<ValidatorInfo> {
    match p.client.validator(&p.from.address).await {
        Ok(v) => Ok(v.value),
        Err(WalletError::NotFound(_)) => Err(WalletError::InvalidArgument(format!(
            "`{}` ({}) does not operate a validator (create one with `agora stake create-validator`)",
            p.from.name, p.from.address
        ))),
        Err(e) => Err(e),
    }
}

async fn edit_validator(ctx: &Ctx, a: &EditValidatorArgs) -> Result<()> {
    let update = metadata_update(a.moniker.as_ref(), &a.metadata);
    if a.commission_rate.is_none() && a.min_self_delegation.is_none() && update.is_empty() {
        return Err(WalletError::Usage("nothing to change: give at least one option".into()));
    }
    let p = prepare(ctx, &a.tx).await?;
    let v = own_validator(&p).await?;
    check_edit(&v, a.commission_rate, a.min_self_delegation, &update)?;
    if a.commission_rate == Some(v.commission.rate) {
        eprintln!(
            "warning: the commission rate is already {}; setting it again restarts the commission change period",
            v.commission.rate
        );
    }
    let payload = Payload::EditValidator {
        commission_rate: a.commission_rate,
        min_self_delegation: a.min_self_delegation,
        metadata: update.clone(),
    };
    let Some(sent) = send(ctx, &p, &a.tx, payload, ("amount", Amount::ZERO), "validator edit").await? else {
        return Ok(());
    };

    let mut out = sent.json();
    out["operator"] = json!(p.from.address);
    out["commission_rate"] = json!(a.commission_rate);
    out["min_self_delegation"] = json!(a.min_self_delegation);
    out["metadata"] = json!(update);
    let mut f = Fields::new();
    f.add("validator", named(&v));
    if let Some(r) = a.commission_rate {
        f.add("commission rate", format!("{} → {}", format_percent(v.commission.rate), format_percent(r)));
    }
    if let Some(m) = a.min_self_delegation {
        let cur = v.min_self_delegation;
        f.add("min self-delegation", format!("{cur} → {m}"));
    }
    let old = v.metadata.clone();
    let new = update.apply(&old);
    for (label, o, n) in [
        ("moniker", &old.moniker, &new.moniker),
        ("website", &old.website, &new.website),
        ("entity", &old.operator_entity, &new.operator_entity),
        ("country", &old.country, &new.country),
        ("hosting", &old.hosting, &new.hosting),
        ("client version", &old.client_version, &new.client_version),
        ("details", &old.details, &new.details),
    ] {
        if o != n {
            f.add(label, format!("{o:?} → {n:?}"));
        }
    }
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    sent.finish(ctx, out, &f)
}

/// A validator that can take stake: known and not tombstoned (warns when it
/// earns nothing for now).
async fn stake_target(p: &Prepared, validator: &Address) -> Result<ValidatorInfo> {
    let v = p.client.validator(validator).await?.value;
    if v.tombstoned {
        return Err(WalletError::InvalidArgument(format!(
            "validator {} is tombstoned (it double-signed) and can never validate again",
            named(&v)
        )));
    }
    if v.jailed {
        eprintln!("warning: validator {} is jailed: its stake earns no rewards until it is unjailed", named(&v));
    } else if !v.in_active_set {
        eprintln!(
            "warning: validator {} is not in the active set: its stake earns no rewards until it joins",
            named(&v)
        );
    }
    Ok(v)
}

async fn delegate(ctx: &Ctx, validator: &Address, amount: Amount, opts: &TxArgs) -> Result<()> {
    let p = prepare(ctx, opts).await?;
    let v = stake_target(&p, validator).await?;
    // Before signing: would this stake go to the few that can halt the chain?
    let warning = decentralization::delegation_check(ctx, validator).await.filter(decentralization::is_warning);
    if !ctx.json()
        && let Some(w) = warning.as_ref().and_then(decentralization::delegation_warning)
    {
        eprint_text(&w);
    }
    let payload = Payload::Delegate { validator: *validator, amount };
    let Some(sent) = send(ctx, &p, opts, payload, ("amount", amount), "delegation").await? else { return Ok(()) };

    let shares = event_attr(&events(&sent), "delegate", "shares");
    let mut out = sent.json();
    out["delegator"] = json!(p.from.address);
    out["validator"] = json!(validator);
    out["amount"] = json!(amount);
    out["shares"] = json!(shares);
    out["decentralization_warning"] = warning.unwrap_or(Value::Null);
    let mut f = Fields::new();
    f.add("delegator", p.from.address).add("validator", named(&v)).add("amount", amount).add_opt("shares", shares);
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    sent.finish(ctx, out, &f)
}

/// Adds the completion time in `completion_time_ms` of event `kind` to `f` and `out`.
fn completion(sent: &Sent, kind: &str, label: &str, f: &mut Fields, out: &mut Value) {
    let Some(ms) = event_attr(&events(sent), kind, "completion_time_ms").and_then(|s| s.parse::<u64>().ok()) else {
        return;
    };
    out["completion_time_ms"] = json!(ms);
    out["completion_time"] = json!(format_time_ms(ms));
    f.add(label, format_time_relative(ms, now_ms()));
}

async fn undelegate(ctx: &Ctx, validator: &Address, amount: Amount, opts: &TxArgs) -> Result<()> {
    let p = prepare(ctx, opts).await?;
    let payload = Payload::Undelegate { validator: *validator, amount };
    let Some(sent) = send(ctx, &p, opts, payload, ("amount", Amount::ZERO), "undelegation").await? else {
        return Ok(());
    };

    // What is unbonded can be a little less than asked (share rounding).
    let unbonded = event_attr(&events(&sent), "undelegate", "amount");
    let mut out = sent.json();
    out["delegator"] = json!(p.from.address);
    out["validator"] = json!(validator);
    out["amount"] = json!(amount);
    out["unbonded"] = json!(unbonded);
    let mut f = Fields::new();
    f.add("delegator", p.from.address).add("validator", validator).add("amount", amount);
    if let Some(u) = &unbonded
        && *u != amount.to_string()
    {
        f.add("unbonded", u);
    }
    completion(&sent, "undelegate", "completes", &mut f, &mut out);
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    warn_jailed(&sent);
    sent.finish(ctx, out, &f)
}

async fn redelegate(ctx: &Ctx, src: &Address, dst: &Address, amount: Amount, opts: &TxArgs) -> Result<()> {
    if src == dst {
        return Err(WalletError::Usage("the source and destination validators are the same".into()));
    }
    let p = prepare(ctx, opts).await?;
    let v = stake_target(&p, dst).await?;
    let payload = Payload::Redelegate { src_validator: *src, dst_validator: *dst, amount };
    let Some(sent) = send(ctx, &p, opts, payload, ("amount", Amount::ZERO), "redelegation").await? else {
        return Ok(());
    };

    let moved = event_attr(&events(&sent), "redelegate", "amount");
    let mut out = sent.json();
    out["delegator"] = json!(p.from.address);
    out["src_validator"] = json!(src);
    out["dst_validator"] = json!(dst);
    out["amount"] = json!(amount);
    out["moved"] = json!(moved);
    let mut f = Fields::new();
    f.add("delegator", p.from.address).add("from", src).add("to", named(&v)).add("amount", amount);
    if let Some(m) = &moved
        && *m != amount.to_string()
    {
        f.add("moved", m);
    }
    completion(&sent, "redelegate", "slashable at source until", &mut f, &mut out);
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    warn_jailed(&sent);
    sent.finish(ctx, out, &f)
}

async fn withdraw_rewards(ctx: &Ctx, validator: Option<&Address>, opts: &TxArgs) -> Result<()> {
    let p = prepare(ctx, opts).await?;
    let payload = Payload::WithdrawRewards { validator: validator.copied() };
    let Some(sent) = send(ctx, &p, opts, payload, ("amount", Amount::ZERO), "reward withdrawal").await? else {
        return Ok(());
    };

    let rewards = sum_amounts(&events(&sent), "withdraw_rewards");
    let commission = sum_amounts(&events(&sent), "withdraw_commission");
    let total = rewards.checked_add(commission).unwrap_or(Amount::new(u128::MAX));
    let has_commission = event_attr(&events(&sent), "withdraw_commission", "amount").is_some();
    let mut out = sent.json();
    out["delegator"] = json!(p.from.address);
    out["validator"] = json!(validator);
    let ok = sent.succeeded();
    out["withdrawn"] = json!(ok.then_some(total));
    out["rewards"] = json!(ok.then_some(rewards));
    out["commission"] = json!((ok && has_commission).then_some(commission));
    let mut f = Fields::new();
    f.add("delegator", p.from.address)
        .add("from", validator.map_or_else(|| "all delegations".into(), Address::to_string));
    if ok {
        f.add("withdrawn", total);
        if has_commission {
            f.add("", format!("rewards {rewards} + commission {commission}"));
        }
    }
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    sent.finish(ctx, out, &f)
}

async fn unjail(ctx: &Ctx, opts: &TxArgs) -> Result<()> {
    let p = prepare(ctx, opts).await?;
    let v = own_validator(&p).await?;
    if v.tombstoned {
        return Err(WalletError::InvalidArgument(format!(
            "validator {} is tombstoned (it double-signed) and can never be unjailed",
            named(&v)
        )));
    }
    if !v.jailed {
        return Err(WalletError::InvalidArgument(format!("validator {} is not jailed", named(&v))));
    }
    let Some(sent) = send(ctx, &p, opts, Payload::Unjail {}, ("amount", Amount::ZERO), "unjail transaction").await?
    else {
        return Ok(());
    };

    let mut out = sent.json();
    out["validator"] = json!(p.from.address);
    let mut f = Fields::new();
    f.add("validator", named(&v));
    sent.fields(&mut f);
    event_fields(&mut f, &events(&sent));
    sent.finish(ctx, out, &f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rate(s: &str) -> Rate {
        s.parse().unwrap()
    }

    fn metadata_args() -> MetadataArgs {
        MetadataArgs {
            website: Some("https://v.example".into()),
            entity: None,
            country: Some("DE".into()),
            hosting: None,
            client_version: None,
            details: None,
        }
    }

    #[test]
    fn commission_is_checked() {
        let c = |r, m, x| CommissionRates { rate: rate(r), max_rate: rate(m), max_change_rate: rate(x) };
        assert!(check_commission(&c("0.1", "0.2", "0.01")).is_ok());
        assert!(check_commission(&c("0.2", "0.2", "0.2")).is_ok());
        let e = check_commission(&c("0.3", "0.2", "0.01")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("0.3 is above the maximum commission rate 0.2"), "{e}");
        let e = check_commission(&c("0.1", "0.2", "0.5")).unwrap_err();
        assert!(e.to_string().contains("maximum commission change 0.5"), "{e}");
        assert_eq!(commission_text(&c("0.1", "0.2", "0.01")), "10% (max 20%, max change 1%)");
    }

    #[test]
    fn metadata_is_assembled_and_checked() {
        let m = metadata_of("alpha", &metadata_args()).unwrap();
        assert_eq!((m.moniker.as_str(), m.country.as_str(), m.hosting.as_str()), ("alpha", "DE", ""));
        let e = metadata_of("", &metadata_args()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("moniker must not be empty"), "{e}");

        let u = metadata_update(None, &metadata_args());
        assert_eq!((u.moniker.as_deref(), u.website.as_deref()), (None, Some("https://v.example")));
        assert!(u.operator_entity.is_none());
        let empty = MetadataArgs {
            website: None,
            entity: None,
            country: None,
            hosting: None,
            client_version: None,
            details: None,
        };
        assert!(metadata_update(None, &empty).is_empty());
        assert_eq!(metadata_update(Some(&"b".into()), &empty).moniker.as_deref(), Some("b"));
    }

    #[test]
    fn validator_key_files() {
        let pk = PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[9; 32]));
        let path = Path::new("/home/v/validator_key.json");
        // The format agorad writes (node/src/keys.rs).
        let text = format!(r#"{{"type": "ed25519", "public_key": "{pk}", "secret_key": "{}"}}"#, "11".repeat(32));
        assert_eq!(parse_validator_key(&text, path).unwrap(), pk);
        let e = parse_validator_key(r#"{"type": "secp256k1", "public_key": "00"}"#, path).unwrap_err().to_string();
        assert!(e.contains("validator_key.json") && e.contains("secp256k1"), "{e}");
        let e = parse_validator_key(r#"{"secret_key": "00"}"#, path).unwrap_err().to_string();
        assert!(e.contains("missing field `public_key`"), "{e}");
        let e = parse_validator_key(r#"{"public_key": "abcd"}"#, path).unwrap_err().to_string();
        assert!(e.contains("invalid consensus key"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("validator_key.json"), &text).unwrap();
        assert_eq!(read_validator_key(dir.path()).unwrap(), pk, "a node home directory works");
        assert_eq!(read_validator_key(&dir.path().join("validator_key.json")).unwrap(), pk);
        let e = read_validator_key(&dir.path().join("nope.json")).unwrap_err().to_string();
        assert!(e.starts_with("cannot read the validator key file"), "{e}");
    }

    fn validator() -> ValidatorInfo {
        serde_json::from_value(json!({
            "operator": Address([4; 20]), "consensus_key": "ab".repeat(32),
            "metadata": {"moniker": "alpha", "country": "DE"},
            "tokens": "3000000", "delegator_shares": "3000000", "self_delegation": "2000000",
            "min_self_delegation": "1000000", "power": 3, "in_active_set": true, "status": "bonded",
            "unbonding_completion_ms": null, "jailed": false, "jailed_until_ms": 0, "tombstoned": false,
            "commission": {"rate": "0.1", "max_rate": "0.2", "max_change_rate": "0.01"},
            "commission_changed_ms": 0, "commission_outstanding": "0", "missed_blocks": 0,
            "signed_blocks_window": 100, "signing_start_height": null, "created_height": 1
        }))
        .unwrap()
    }

    #[test]
    fn edits_are_checked_against_the_record() {
        let v = validator();
        let none = MetadataUpdate::default();
        assert!(check_edit(&v, Some(rate("0.11")), None, &none).is_ok());
        assert!(check_edit(&v, Some(rate("0.09")), None, &none).is_ok());
        let e = check_edit(&v, Some(rate("0.25")), None, &none).unwrap_err().to_string();
        assert!(e.contains("above this validator's maximum rate 0.2"), "{e}");
        let e = check_edit(&v, Some(rate("0.12")), None, &none).unwrap_err().to_string();
        assert!(e.contains("at most 0.01 at a time: from 0.1 to at least 0.09 and at most 0.11"), "{e}");

        assert!(check_edit(&v, None, Some(Amount::new(1_500_000)), &none).is_ok());
        let e = check_edit(&v, None, Some(Amount::new(999_999)), &none).unwrap_err().to_string();
        assert!(e.contains("can only increase (it is 1000000)"), "{e}");
        let e = check_edit(&v, None, Some(Amount::new(2_000_001)), &none).unwrap_err().to_string();
        assert!(e.contains("above the operator's own delegation 2000000"), "{e}");

        let ok = MetadataUpdate { country: Some(String::new()), details: Some("hi".into()), ..Default::default() };
        assert!(check_edit(&v, None, None, &ok).is_ok());
        let bad = MetadataUpdate { moniker: Some(String::new()), ..Default::default() };
        assert!(check_edit(&v, None, None, &bad).unwrap_err().to_string().contains("moniker must not be empty"));
    }

    #[test]
    fn receipts_are_read() {
        let events = vec![
            json!({"kind": "fee", "attributes": [["payer", "x"], ["amount", "2500"]]}),
            json!({"kind": "withdraw_rewards", "attributes": [["delegator", "d"], ["validator", "a"], ["amount", "7"]]}),
            json!({"kind": "withdraw_rewards", "attributes": [["delegator", "d"], ["validator", "b"], ["amount", "5"]]}),
            json!({"kind": "withdraw_commission", "attributes": [["validator", "d"], ["amount", "30"]]}),
            json!({"kind": "undelegate", "attributes": [["amount", "99"], ["completion_time_ms", "1700000600000"]]}),
        ];
        assert_eq!(sum_amounts(&events, "withdraw_rewards"), Amount::new(12));
        assert_eq!(sum_amounts(&events, "withdraw_commission"), Amount::new(30));
        assert_eq!(sum_amounts(&events, "redelegate"), Amount::ZERO);
        assert_eq!(event_attr(&events, "undelegate", "completion_time_ms").as_deref(), Some("1700000600000"));
        assert_eq!(event_attr(&events, "withdraw_rewards", "validator").as_deref(), Some("a"), "the first one");
        assert_eq!(event_attr(&events, "undelegate", "shares"), None);
        assert_eq!(event_attr(&events, "jail", "reason"), None);
    }
}
