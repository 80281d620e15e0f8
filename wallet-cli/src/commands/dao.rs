//! `agora dao …`: create a DAO from the example contracts, propose, vote,
//! veto, cancel, execute and close proposals, and read them with live tallies
//! (see `contracts/README.md` for the contracts' messages).
//!
//! Every transaction goes through the same path as `agora contract execute`
//! (dry run, balance check, sign, wait for the commit); the reads are
//! contract queries. A DAO is named by its core contract's address; the
//! wallet finds its proposal module (the first one) and voting module by
//! asking the core.

use ledger::{Address, Amount, Payload};
use serde_json::{Value, json};

use crate::cli::{DaoCommand, TxArgs, VoteOption};
use crate::commands::dao_create::CreateMsg;
use crate::commands::query::event_fields;
use crate::commands::{CALL_TIMEOUT, Ctx, dao_create, dao_members, dao_view};
use crate::error::{Result, WalletError};
use crate::output::{Fields, escape_control, print_json, print_text};
use crate::parse::parse_msg;
use crate::send::{Sent, prepare, send, send_committed};

pub async fn run(ctx: &Ctx, cmd: DaoCommand) -> Result<()> {
    match cmd {
        DaoCommand::Create {
            name,
            description,
            label,
            core_code,
            proposals_code,
            voting_code,
            token,
            config,
            rules,
            tx,
        } => {
            let config = match config {
                Some(c) => serde_json::from_slice(&parse_msg(&c)?)
                    .map_err(|e| WalletError::InvalidArgument(format!("--config is not JSON: {e}")))?,
                None => default_config(),
            };
            let voting_msg = match token {
                Some(t) => json!({ "token": t.to_string() }),
                None => json!({}),
            };
            let msg = CreateMsg { name, description, voting_code, voting_msg, proposals_code, config };
            dao_create::create(ctx, &core_code, &label, msg, &rules, &tx).await
        }
        DaoCommand::Propose { dao, title, description, msgs, transfer, param, tx } => {
            let current = if param.is_empty() {
                Value::Null
            } else {
                let client = ctx.client(CALL_TIMEOUT)?;
                client.chain_params().await?.raw.get("params").cloned().unwrap_or_default()
            };
            let msgs = proposal_msgs(msgs.as_deref(), &transfer, &param, &current)?;
            let module = proposal_module(ctx, &dao).await?;
            let cfg = query(ctx, &module, &json!({ "config": {} })).await?;
            let deposit = cfg["deposit"]["amount"].as_str().and_then(|s| s.parse::<u128>().ok()).unwrap_or(0);
            let msg = json!({ "propose": { "title": title, "description": description, "msgs": msgs } });
            exec(ctx, &module, &msg, Amount::new(deposit), &tx, "proposal").await
        }
        DaoCommand::Vote { dao, id, option, rationale, power, conviction, tx } => {
            let module = proposal_module(ctx, &dao).await?;
            let vote = vote_msg(id, option, rationale, power, conviction);
            exec(ctx, &module, &json!({ "vote": vote }), Amount::ZERO, &tx, "vote").await
        }
        DaoCommand::Veto { dao, id, tx } => action(ctx, &dao, "veto", id, &tx).await,
        DaoCommand::Cancel { dao, id, tx } => action(ctx, &dao, "cancel", id, &tx).await,
        DaoCommand::Execute { dao, id, tx } => action(ctx, &dao, "execute", id, &tx).await,
        DaoCommand::Close { dao, id, tx } => action(ctx, &dao, "close", id, &tx).await,
        DaoCommand::Fund { dao, amount, tx } => exec(ctx, &dao, &json!({ "fund": {} }), amount, &tx, "funding").await,
        DaoCommand::StakeTokens { dao, amount, tx } => stake_tokens(ctx, &dao, amount, &tx).await,
        DaoCommand::UnstakeTokens { dao, amount, tx } => {
            let voting = voting_module(ctx, &dao).await?;
            let msg = json!({ "unstake": { "amount": amount.to_string() } });
            exec(ctx, &voting, &msg, Amount::ZERO, &tx, "unstaking").await
        }
        DaoCommand::Info { dao } => info(ctx, &dao).await,
        DaoCommand::List { dao, start_after, limit } => list(ctx, &dao, start_after, limit).await,
        DaoCommand::Show { dao, id, votes } => show(ctx, &dao, id, votes).await,
        DaoCommand::Delegate { dao, to, share, bps, tx } => {
            dao_members::delegate(ctx, &dao, &to, share.as_deref(), bps, &tx).await
        }
        DaoCommand::Undelegate { dao, to, tx } => dao_members::undelegate(ctx, &dao, to.as_deref(), &tx).await,
        DaoCommand::Delegations { dao, address } => dao_members::delegations(ctx, &dao, address.as_deref()).await,
        DaoCommand::RegisterIdentity { dao, address, identity, tx } => {
            dao_members::register_identity(ctx, &dao, &address, &identity, &tx).await
        }
        DaoCommand::RevokeIdentity { dao, address, tx } => dao_members::revoke_identity(ctx, &dao, &address, &tx).await,
        DaoCommand::Identity { dao, address } => dao_members::identity(ctx, &dao, address.as_deref()).await,
        DaoCommand::Lock { dao, amount, conviction, address, tx } => {
            dao_members::lock(ctx, &dao, amount, conviction, address.as_deref(), tx.tx().as_ref()).await
        }
    }
}

/// The body of a `vote` message; `power` and `conviction` only when given
/// (older proposal modules refuse unknown fields).
pub fn vote_msg(
    id: u64,
    option: VoteOption,
    rationale: Option<String>,
    power: Option<Amount>,
    conviction: Option<u8>,
) -> Value {
    let mut vote = json!({ "proposal_id": id, "option": option.as_str() });
    if let Some(r) = rationale {
        vote["rationale"] = json!(r);
    }
    if let Some(p) = power {
        vote["power"] = json!(p.to_string());
    }
    if let Some(k) = conviction {
        vote["conviction"] = json!(k);
    }
    vote
}

/// The proposal rules `agora dao create` uses without `--config`: x/gov's
/// quorum, threshold and veto, short periods for a testnet.
pub fn default_config() -> Value {
    json!({
        "voting_delay_ms": 0,
        "min_voting_period_ms": 5_000,
        "max_voting_period_ms": 60_000,
        "quorum": "0.334",
        "threshold": "0.5",
        "veto_threshold": "0.334",
        "allow_early_close": false,
        "allow_revoting": false,
        "deposit": { "amount": "1000", "refund": "only_passed" },
        "timelock_ms": 10_000,
        "vetoer": null,
        "execution_grace_ms": 600_000,
    })
}

/// A `--param` value in the JSON type of the parameter it changes, as the
/// node's `agora_chainParams` shows it (`current`): amounts and rates are
/// strings there (`"2"`, `"0.05"`), counts are numbers, `governance` is an
/// address or null. An unknown name is refused here, before anything is sent.
fn param_value(current: &Value, path: &str, value: &str) -> Result<Value> {
    let mut slot = current;
    for part in path.split('.') {
        slot = slot.get(part).ok_or_else(|| {
            WalletError::InvalidArgument(format!(
                "--param {path}: the chain has no parameter `{path}` (see agora chain-params)"
            ))
        })?;
    }
    let bad = |what: &str| WalletError::InvalidArgument(format!("--param {path}={value}: expected {what}"));
    Ok(match slot {
        Value::Number(_) => Value::Number(value.parse::<u64>().map_err(|_| bad("a whole number"))?.into()),
        Value::Bool(_) => Value::Bool(value.parse().map_err(|_| bad("true or false"))?),
        Value::Object(_) => return Err(bad("one parameter of the group, e.g. staking.max_validators=50")),
        _ if value == "null" => Value::Null,
        _ => json!(value),
    })
}

/// The messages of a proposal: `--msgs` JSON (a list) plus simple flags;
/// `current` is `agora_chainParams`' `params` (for the types of `--param`).
pub fn proposal_msgs(
    msgs: Option<&str>,
    transfers: &[String],
    params: &[String],
    current: &Value,
) -> Result<Vec<Value>> {
    let mut out: Vec<Value> = match msgs {
        Some(m) => {
            let v: Value = serde_json::from_slice(&parse_msg(m)?)
                .map_err(|e| WalletError::InvalidArgument(format!("--msgs is not JSON: {e}")))?;
            match v {
                Value::Array(a) => a,
                other => vec![other],
            }
        }
        None => Vec::new(),
    };
    for t in transfers {
        let (to, amount) = t.split_once(':').ok_or_else(|| {
            WalletError::InvalidArgument(format!("--transfer `{t}`: expected ADDRESS:AMOUNT (base units)"))
        })?;
        let to: Address = to.parse().map_err(|e| WalletError::InvalidArgument(format!("--transfer `{t}`: {e}")))?;
        let amount: u128 = amount
            .parse()
            .map_err(|_| WalletError::InvalidArgument(format!("--transfer `{t}`: the amount is not a whole number")))?;
        out.push(json!({ "transfer": { "to": to.to_string(), "amount": amount.to_string() } }));
    }
    if !params.is_empty() {
        let mut changes = json!({});
        for p in params {
            let (path, value) = p.split_once('=').ok_or_else(|| {
                WalletError::InvalidArgument(format!("--param `{p}`: expected NAME=VALUE (e.g. min_gas_price=2)"))
            })?;
            // Numbers stay numbers, anything else is a string ("2" amounts are strings on the chain).
            let v = param_value(current, path, value)?;
            let mut slot = &mut changes;
            let parts: Vec<&str> = path.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                if i + 1 == parts.len() {
                    slot[*part] = v.clone();
                } else {
                    if slot.get(*part).is_none() {
                        slot[*part] = json!({});
                    }
                    slot = &mut slot[*part];
                }
            }
        }
        out.push(json!({ "update_chain_params": { "changes": changes } }));
    }
    if out.is_empty() {
        return Err(WalletError::InvalidArgument(
            "a proposal needs at least one message: --transfer, --param or --msgs".into(),
        ));
    }
    Ok(out)
}

pub(crate) async fn query(ctx: &Ctx, contract: &Address, msg: &Value) -> Result<Value> {
    let client = ctx.client(CALL_TIMEOUT)?;
    let bytes = serde_json::to_vec(msg).map_err(|e| WalletError::InvalidArgument(e.to_string()))?;
    Ok(client.contract_query(contract, &bytes, None).await?.value.data)
}

pub(crate) fn address_in(v: &Value, what: &str) -> Result<Address> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| WalletError::InvalidArgument(format!("the DAO's answer has no {what} address")))
}

pub(crate) async fn proposal_module(ctx: &Ctx, dao: &Address) -> Result<Address> {
    let v = query(ctx, dao, &json!({ "proposal_modules": {} })).await?;
    address_in(&v["proposal_modules"][0], "proposal module")
}

pub(crate) async fn voting_module(ctx: &Ctx, dao: &Address) -> Result<Address> {
    let v = query(ctx, dao, &json!({ "voting_module": {} })).await?;
    address_in(&v["address"], "voting module")
}

/// Executes `msg` on `contract`; `None` when sent with `--no-wait` (done).
pub(crate) async fn send_exec(
    ctx: &Ctx,
    contract: &Address,
    msg: &Value,
    funds: Amount,
    tx: &TxArgs,
    what: &'static str,
) -> Result<Option<Sent>> {
    let msg = serde_json::to_vec(msg).map_err(|e| WalletError::InvalidArgument(e.to_string()))?;
    let p = prepare(ctx, tx).await?;
    let payload = Payload::Execute { contract: *contract, msg, funds };
    send(ctx, &p, tx, payload, ("funds", funds), what).await
}

pub(crate) fn exec_fields(sent: &Sent, contract: &Address) -> Fields {
    let mut f = Fields::new();
    f.add("contract", contract);
    sent.fields(&mut f);
    event_fields(&mut f, &sent.committed.value.receipt.events);
    f
}

pub(crate) async fn exec(
    ctx: &Ctx,
    contract: &Address,
    msg: &Value,
    funds: Amount,
    tx: &TxArgs,
    what: &'static str,
) -> Result<()> {
    let Some(sent) = send_exec(ctx, contract, msg, funds, tx, what).await? else { return Ok(()) };
    let mut out = sent.json();
    out["contract"] = json!(contract);
    sent.finish(ctx, out, &exec_fields(&sent, contract))
}

async fn action(ctx: &Ctx, dao: &Address, verb: &str, id: u64, tx: &TxArgs) -> Result<()> {
    let module = proposal_module(ctx, dao).await?;
    let what = match verb {
        "veto" => "veto",
        "cancel" => "cancellation",
        "execute" => "execution",
        _ => "closing",
    };
    exec(ctx, &module, &json!({ verb: { "proposal_id": id } }), Amount::ZERO, tx, what).await
}

/// Approves the voting module on the token, then stakes: two transactions,
/// one result (the staking's, with the approval under `approval`).
async fn stake_tokens(ctx: &Ctx, dao: &Address, amount: Amount, tx: &TxArgs) -> Result<()> {
    let voting = voting_module(ctx, dao).await?;
    let token = query(ctx, &voting, &json!({ "token": {} })).await?;
    let token = address_in(token.get("token").unwrap_or(&token), "token")?;
    let approve = json!({ "approve": { "spender": voting.to_string(), "amount": amount.to_string() } });
    // The staking's dry run needs the approval committed: it is always waited for.
    let approve = serde_json::to_vec(&approve).map_err(|e| WalletError::InvalidArgument(e.to_string()))?;
    let p = prepare(ctx, tx).await?;
    let payload = Payload::Execute { contract: token, msg: approve, funds: Amount::ZERO };
    let approval = send_committed(ctx, &p, tx, payload, ("funds", Amount::ZERO), "approval").await?;
    if !approval.succeeded() {
        return approval.finish(ctx, approval.json(), &exec_fields(&approval, &token));
    }
    let stake = json!({ "stake": { "amount": amount.to_string() } });
    let Some(staked) = send_exec(ctx, &voting, &stake, Amount::ZERO, tx, "staking").await? else { return Ok(()) };
    let mut out = staked.json();
    out["contract"] = json!(voting);
    out["approval"] = approval.json();
    let mut f = exec_fields(&staked, &voting);
    f.add("approval tx", approval.committed.value.hash);
    staked.finish(ctx, out, &f)
}

async fn info(ctx: &Ctx, dao: &Address) -> Result<()> {
    let config = query(ctx, dao, &json!({ "config": {} })).await?;
    let treasury = query(ctx, dao, &json!({ "treasury": {} })).await?;
    let module = proposal_module(ctx, dao).await?;
    let rules = query(ctx, &module, &json!({ "config": {} })).await?;
    if ctx.json() {
        return print_json(&json!({ "dao": dao, "config": config, "treasury": treasury, "proposal_rules": rules }));
    }
    dao_view::info_fields(dao, &config, &treasury, &module, &rules).print()
}

pub(crate) fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

async fn list(ctx: &Ctx, dao: &Address, start_after: Option<u64>, limit: Option<u32>) -> Result<()> {
    let module = proposal_module(ctx, dao).await?;
    let v = query(ctx, &module, &json!({ "list_proposals": { "start_after": start_after, "limit": limit } })).await?;
    if ctx.json() {
        return print_json(&v);
    }
    let empty = Vec::new();
    let props = v["proposals"].as_array().unwrap_or(&empty);
    if props.is_empty() {
        eprintln!("(no proposals)");
    }
    // Every value comes from the contract: escaped, so that a title cannot
    // break its line or rewrite the terminal.
    let c = |v: &Value| escape_control(&compact(v)).into_owned();
    let mut out = String::new();
    for p in props {
        out.push_str(&format!(
            "#{:<4} {:<16} yes {} no {} abstain {} veto {}  {}  {}\n",
            c(&p["id"]),
            c(&p["status"]),
            c(&p["tally"]["yes"]),
            c(&p["tally"]["no"]),
            c(&p["tally"]["abstain"]),
            c(&p["tally"]["no_with_veto"]),
            escape_control(&time_left(&p["time_left_ms"])),
            c(&p["title"]),
        ));
    }
    print_text(&out)
}

pub(crate) fn time_left(v: &Value) -> String {
    match v.as_u64() {
        Some(ms) => format!("{}.{}s left", ms / 1000, (ms % 1000) / 100),
        None => "-".into(),
    }
}

async fn show(ctx: &Ctx, dao: &Address, id: u64, votes: bool) -> Result<()> {
    let module = proposal_module(ctx, dao).await?;
    let mut p = query(ctx, &module, &json!({ "proposal": { "proposal_id": id } })).await?;
    if votes {
        let v = query(ctx, &module, &json!({ "list_votes": { "proposal_id": id, "limit": 100 } })).await?;
        p["votes"] = v["votes"].clone();
    }
    // Older proposal modules have no concentration report: show the rest.
    let conc = query(ctx, &module, &json!({ "concentration": { "proposal_id": id } })).await.ok();
    if ctx.json() {
        p["concentration"] = conc.unwrap_or(Value::Null);
        return print_json(&p);
    }
    dao_view::show_fields(&p, conc.as_ref()).print()
}

impl VoteOption {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteOption::Yes => "yes",
            VoteOption::No => "no",
            VoteOption::Abstain => "abstain",
            VoteOption::NoWithVeto => "no_with_veto",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn simple_flags_become_dao_messages() {
        let to = Address([1; 20]);
        let chain = json!({"min_gas_price": "1", "staking": {"max_validators": 100, "inflation_rate": "0.07"}, "governance": null});
        let params =
            ["min_gas_price=2".into(), "staking.max_validators=7".into(), "staking.inflation_rate=0.05".into()];
        let m = proposal_msgs(None, &[format!("{to}:500")], &params, &chain).unwrap();
        assert_eq!(m[0], json!({ "transfer": { "to": to.to_string(), "amount": "500" } }));
        assert_eq!(
            m[1],
            json!({ "update_chain_params": { "changes": {
                "min_gas_price": "2", "staking": { "max_validators": 7, "inflation_rate": "0.05" } } } })
        );
        let gov = proposal_msgs(None, &[], &[format!("governance={to}")], &chain).unwrap();
        assert_eq!(gov[0]["update_chain_params"]["changes"]["governance"], json!(to.to_string()));
        let none = Value::Null;
        assert!(proposal_msgs(None, &[], &[], &none).is_err());
        assert!(proposal_msgs(None, &["nocolon".into()], &[], &none).is_err());
        assert!(proposal_msgs(None, &[format!("{to}:-1")], &[], &none).is_err());
        assert!(proposal_msgs(None, &[], &["novalue".into()], &chain).is_err());
        assert!(proposal_msgs(None, &[], &["no_such=1".into()], &chain).is_err());
        assert!(proposal_msgs(None, &[], &["staking.max_validators=x".into()], &chain).is_err());
        assert!(proposal_msgs(None, &[], &["staking=1".into()], &chain).is_err());
        let raw = proposal_msgs(Some(r#"[{"update_config":{"name":"x"}}]"#), &[], &[], &none).unwrap();
        assert_eq!(raw, vec![json!({"update_config":{"name":"x"}})]);
    }
}
