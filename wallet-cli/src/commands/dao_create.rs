//! `agora dao create`: the DAO, and the contracts its rules name.
//!
//! Addresses are predictable (`ledger::contract_address(code, sender,
//! label)`), so the proposal rules name the identity registry and the
//! delegation contract before they exist. Up to four transactions, each
//! waited for (each builds on the one before), except that `--no-wait`
//! returns as soon as the mempool accepted the last one:
//!
//! 1. with `--identity-code`: a `dao-identity` registry (label
//!    `<label>-identity`, the `--issuer`s), owned by the sender for now;
//! 2. the DAO (`dao-core`, which creates its voting and proposal modules);
//! 3. with `--delegation-code`: a `dao-delegation` contract (label
//!    `<label>-delegation`, `{"dao": <core>}`: it must exist first);
//! 4. with `--identity-code`: `update_owner` of the registry to the DAO, so
//!    its issuers change only by proposal.
//!
//! A failure stops there and says what was created before it.

use ledger::{Address, Amount, Hash, Payload, contract_address};
use serde_json::{Value, json};

use crate::cli::TxArgs;
use crate::commands::Ctx;
use crate::commands::dao_config::{RuleArgs, Settings, merge_config};
use crate::commands::query::event_fields;
use crate::error::{Result, WalletError};
use crate::output::Fields;
use crate::send::{Prepared, Sent, prepare, send, send_committed};

/// The `dao-core` instantiate message.
#[derive(Debug)]
pub struct CreateMsg {
    pub name: String,
    pub description: String,
    pub voting_code: Hash,
    pub voting_msg: Value,
    pub proposals_code: Hash,
    pub config: Value,
}

/// The labels of the contracts created next to the DAO labelled `label`.
pub fn side_labels(label: &str) -> (String, String) {
    (format!("{label}-identity"), format!("{label}-delegation"))
}

fn instantiate_payload(code_hash: Hash, label: &str, msg: &Value) -> Result<Payload> {
    let msg = serde_json::to_vec(msg).map_err(|e| WalletError::InvalidArgument(e.to_string()))?;
    Ok(Payload::Instantiate { code_hash, label: label.to_owned(), msg, funds: Amount::ZERO })
}

/// What has been done so far, for the final output or a failure's.
struct Progress {
    out: Value,
    fields: Fields,
    done: Vec<String>,
}

impl Progress {
    /// Records a committed step; a failed one, or the last one sent with
    /// `--no-wait` (`None`: already printed), ends the command here.
    fn step(&mut self, ctx: &Ctx, key: &str, label: &str, sent: Option<Sent>) -> Result<Option<Sent>> {
        let Some(sent) = sent else { return Ok(None) };
        self.out["transactions"][key] = sent.json();
        if !sent.succeeded() {
            let mut f = Fields::new();
            f.add("failed step", label);
            for d in &self.done {
                f.add("already done", d);
            }
            sent.fields(&mut f);
            sent.finish(ctx, self.out.clone(), &f)?;
            return Ok(None);
        }
        if key != "dao" {
            self.fields.add(&format!("{label} tx"), sent.committed.value.hash);
        }
        self.done.push(format!("{label} (tx {})", sent.committed.value.hash));
        Ok(Some(sent))
    }

    /// A step that could not be sent (e.g. its dry run failed).
    fn not_sent(&self, label: &str, e: WalletError) -> WalletError {
        if !self.done.is_empty() {
            eprintln!("error in step `{label}`; already done: {}", self.done.join("; "));
        }
        e
    }
}

pub async fn create(ctx: &Ctx, core: &Hash, label: &str, msg: CreateMsg, rules: &RuleArgs, tx: &TxArgs) -> Result<()> {
    let resolve = |s: &String| ctx.resolve_address(s);
    let issuers = rules.issuer.iter().map(resolve).collect::<Result<Vec<Address>>>()?;
    let guardian = rules.guardian.as_ref().map(resolve).transpose()?;
    let p = prepare(ctx, tx).await?;
    let sender = p.from.address;
    let dao = contract_address(core, &sender, label);
    let (identity_label, delegation_label) = side_labels(label);
    let identity = rules.identity_code.map(|c| (c, contract_address(&c, &sender, &identity_label)));
    let delegation = rules.delegation_code.map(|c| (c, contract_address(&c, &sender, &delegation_label)));
    check_labels(&p, label, identity.is_some(), delegation.is_some())?;
    let settings = Settings {
        rule: rules.rule,
        conviction_period_ms: rules.conviction_period,
        delegation: delegation.map(|d| d.1),
        identity_registry: identity.map(|i| i.1),
        guardian,
        late_quorum_extension_ms: rules.late_quorum_extension,
        outflow_cap: rules.outflow_cap.clone(),
    };
    let config = merge_config(msg.config, &settings)?;
    let core_msg = json!({
        "name": msg.name,
        "description": msg.description,
        "voting": { "code_hash": msg.voting_code.to_string(), "label": "voting", "msg": msg.voting_msg },
        "proposals": [{ "code_hash": msg.proposals_code.to_string(), "label": "proposals", "msg": config }],
    });

    let mut pr = Progress { out: json!({ "dao": dao, "transactions": {} }), fields: Fields::new(), done: Vec::new() };
    pr.fields.add("dao", dao);
    if let Some((_, a)) = identity {
        pr.out["identity_registry"] = json!(a);
        pr.fields.add("identity registry", a);
    }
    if let Some((_, a)) = delegation {
        pr.out["delegation"] = json!(a);
        pr.fields.add("delegation", a);
    }
    if let Some((code, _)) = identity {
        let issuers: Vec<String> = issuers.iter().map(ToString::to_string).collect();
        let payload = instantiate_payload(code, &identity_label, &json!({ "issuers": issuers }))?;
        let label = "identity registry";
        let sent = send_committed(ctx, &p, tx, payload, ("funds", Amount::ZERO), "identity registry creation").await;
        if pr.step(ctx, "identity_registry", label, sent.map(Some).map_err(|e| pr.not_sent(label, e))?)?.is_none() {
            return Ok(());
        }
    }
    let payload = instantiate_payload(*core, label, &core_msg)?;
    let last = identity.is_none() && delegation.is_none();
    let sent = send_step(ctx, &p, tx, payload, "DAO creation", last).await;
    let Some(created) = pr.step(ctx, "dao", "DAO creation", sent.map_err(|e| pr.not_sent("DAO creation", e))?)? else {
        return Ok(());
    };
    if let Some((code, _)) = delegation {
        let payload = instantiate_payload(code, &delegation_label, &json!({ "dao": dao.to_string() }))?;
        let label = "delegation";
        let sent = send_step(ctx, &p, tx, payload, "delegation contract creation", identity.is_none()).await;
        if pr.step(ctx, "delegation", label, sent.map_err(|e| pr.not_sent(label, e))?)?.is_none() {
            return Ok(());
        }
    }
    if let Some((_, registry)) = identity {
        let msg = serde_json::to_vec(&json!({ "update_owner": { "owner": dao.to_string() } }))
            .map_err(|e| WalletError::InvalidArgument(e.to_string()))?;
        let payload = Payload::Execute { contract: registry, msg, funds: Amount::ZERO };
        let label = "registry owner → DAO";
        let sent = send_step(ctx, &p, tx, payload, "registry ownership transfer", true).await;
        if pr.step(ctx, "identity_owner", label, sent.map_err(|e| pr.not_sent(label, e))?)?.is_none() {
            return Ok(());
        }
    }
    // The DAO creation's commit at the top (as before the other steps existed).
    let Progress { mut out, mut fields, .. } = pr;
    let transactions = out["transactions"].take();
    let mut top = created.json();
    for k in ["dao", "identity_registry", "delegation"] {
        if let Some(v) = out.get(k) {
            top[k] = v.clone();
        }
    }
    top["transactions"] = transactions;
    created.fields(&mut fields);
    event_fields(&mut fields, &created.committed.value.receipt.events);
    created.finish(ctx, top, &fields)
}

/// Sends one step: waited for unless it is the `last` and `--no-wait` is given.
async fn send_step(
    ctx: &Ctx,
    p: &Prepared,
    tx: &TxArgs,
    payload: Payload,
    what: &'static str,
    last: bool,
) -> Result<Option<Sent>> {
    if last {
        send(ctx, p, tx, payload, ("funds", Amount::ZERO), what).await
    } else {
        send_committed(ctx, p, tx, payload, ("funds", Amount::ZERO), what).await.map(Some)
    }
}

/// The labels must fit the chain's limit (checked before the first transaction).
fn check_labels(p: &Prepared, label: &str, identity: bool, delegation: bool) -> Result<()> {
    if label.is_empty() {
        return Err(WalletError::InvalidArgument("the label must not be empty".into()));
    }
    let Some(max) = Some(u64::from(p.chain.params.contracts.max_label_bytes)) else { return Ok(()) };
    let (i, d) = side_labels(label);
    let longest = [(true, label), (identity, i.as_str()), (delegation, d.as_str())]
        .into_iter()
        .filter(|(used, _)| *used)
        .map(|(_, l)| l.len())
        .max()
        .unwrap_or(0);
    if longest as u64 > max {
        return Err(WalletError::InvalidArgument(format!(
            "label `{label}` is too long: the created contracts' labels reach {longest} bytes, above the chain's limit of {max} (max_label_bytes)"
        )));
    }
    Ok(())
}
