//! Single-choice proposal module of an Agora DAO (x/gov + DAO DAO
//! `dao-proposal-single` + OpenZeppelin Governor semantics).
//!
//! Members propose lists of [`dao_types::DaoMsg`]s (kept as raw JSON; at
//! `propose` the DAO checks them with its `check_msgs` query, at `execute` it
//! runs them); voting power is read from the DAO's voting module at the snapshot (the end of the block before the proposal's
//! creation, so power acquired in the creation block or later counts
//! nothing); votes are yes / no / abstain / no_with_veto; a passed proposal
//! waits out its timelock, then anyone can execute it within the grace
//! period: the module calls the DAO's `execute_proposal`.
//!
//! Lifecycle: `pending` (voting delay; the proposer may cancel) → `open` →
//! `rejected` | `vetoed` | `timelocked` → `passed` → `executed` |
//! `execution_failed` | `expired`; the vetoer may veto while open or
//! timelocked. Statuses are computed from the stored state and the block
//! time; only executions, cancellations, vetoes and closes write one.
//!
//! Deposits: held by this module; settled exactly once. Cancelled: refunded.
//! Vetoed by no_with_veto votes: burned. Rejected, or vetoed by the vetoer
//! (the proposer did not cause that): refunded under `always`, else sent to
//! the DAO. Passed (executed, execution_failed, expired): refunded unless
//! `never` (then to the DAO).
//!
//! Messages a proposal sends to this module itself (`execute` with
//! `contract` = this module) can only be `update_config`, and are applied by
//! the module after the DAO ran the other messages successfully: the DAO
//! cannot call back into this module, which is on the call stack.
//!
//! Size: messages and stored values are read field by field through
//! `json::Obj` instead of derived `Deserialize` impls, which keeps the wasm
//! under the chain's code limit (256 KiB; the module is ~240 KiB).

use agora_sdk::{
    Addr, ContractError, Response, Uint128, bail, block_height, block_time_ms, caller, emit, ensure, entry_points,
    funds, self_address,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

mod json;
mod query;
pub mod rules;
pub mod state;
mod vote;

use json::Obj;
pub use query::{QueryMsg, query};
use state::{CONFIG, Config, DAO, OUTFLOW, Outcome, PROPOSAL_COUNT, PROPOSALS, Pin, Proposal, Status, VoteOption};

/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 128;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Longest vote rationale, in bytes.
pub const MAX_RATIONALE_BYTES: usize = 1024;
/// Largest JSON encoding of a proposal's messages, in bytes.
pub const MAX_MSGS_BYTES: usize = 32 * 1024;
/// Longest stored execution failure reason, in bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// `{"proposal_id": n}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Id {
    pub proposal_id: u64,
}

impl Id {
    pub(crate) fn read(o: &Obj) -> Result<Id, ContractError> {
        o.only(&["proposal_id"])?;
        Ok(Id { proposal_id: o.req("proposal_id")? })
    }
}

/// The execute messages (JSON: `{"<snake_case name>": {fields}}`, unknown
/// fields refused; `description`, `msgs` and `rationale` are optional).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecuteMsg {
    Propose {
        title: String,
        description: String,
        msgs: Vec<Box<RawValue>>,
    },
    Vote {
        proposal_id: u64,
        option: VoteOption,
        rationale: Option<String>,
        /// Own power committed (default: all).
        power: Option<Uint128>,
        /// 0..=6 under the conviction rule (default 0: 0.1×, no lock).
        conviction: Option<u8>,
    },
    Execute(Id),
    Cancel(Id),
    Veto(Id),
    Close(Id),
    UpdateConfig {
        config: Config,
    },
}

impl ExecuteMsg {
    fn read(o: &Obj) -> Result<ExecuteMsg, ContractError> {
        let (name, b) = o.message()?;
        Ok(match name {
            "propose" => {
                b.only(&["title", "description", "msgs"])?;
                ExecuteMsg::Propose {
                    title: b.req("title")?,
                    description: b.or_default("description")?,
                    msgs: b.or_default("msgs")?,
                }
            }
            "vote" => {
                b.only(&["proposal_id", "option", "rationale", "power", "conviction"])?;
                ExecuteMsg::Vote {
                    proposal_id: b.req("proposal_id")?,
                    option: b.req("option")?,
                    rationale: b.opt("rationale")?,
                    power: b.opt("power")?,
                    conviction: b.opt("conviction")?,
                }
            }
            "execute" => ExecuteMsg::Execute(Id::read(&b)?),
            "cancel" => ExecuteMsg::Cancel(Id::read(&b)?),
            "veto" => ExecuteMsg::Veto(Id::read(&b)?),
            "close" => ExecuteMsg::Close(Id::read(&b)?),
            "update_config" => {
                b.only(&["config"])?;
                ExecuteMsg::UpdateConfig { config: b.req("config")? }
            }
            _ => bail!("unknown message `{name}`"),
        })
    }
}

impl<'de> Deserialize<'de> for ExecuteMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ExecuteMsg, D::Error> {
        ExecuteMsg::read(&Obj::deserialize(d)?).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

pub fn instantiate(config: Config) -> Result<Response, ContractError> {
    config.validate()?;
    CONFIG.save(&config)?;
    let dao = caller();
    DAO.save(&dao)?;
    PROPOSAL_COUNT.save(&0)?;
    emit("proposal_module_created", &[("dao", &dao.to_string())]);
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Propose { title, description, msgs } => propose(title, description, msgs),
        ExecuteMsg::Vote { proposal_id, option, rationale, power, conviction } => {
            vote::vote(proposal_id, vote::Cast { option, rationale, power, conviction: conviction.unwrap_or(0) })
        }
        ExecuteMsg::Execute(Id { proposal_id }) => execute_proposal(proposal_id),
        // The current guardian (one replaced by a proposal loses the power at once).
        ExecuteMsg::Cancel(Id { proposal_id }) if Some(caller()) == CONFIG.load()?.guardian => {
            guardian_cancel(proposal_id)
        }
        ExecuteMsg::Cancel(Id { proposal_id }) => {
            let mut p = load(proposal_id)?;
            ensure!(caller() == p.proposer, "unauthorized: only the proposer or the guardian can cancel");
            let (s, _) = p.status(block_time_ms());
            need(s == Status::Pending, "only a pending proposal can be cancelled", s)?;
            finish(&mut p, Status::Cancelled, Settle::Refund)?;
            event("proposal_cancelled", proposal_id, &[]);
            Ok(Response::new())
        }
        ExecuteMsg::Veto(Id { proposal_id }) => {
            let mut p = load(proposal_id)?;
            let by = caller();
            ensure!(p.config.vetoer == Some(by), "unauthorized: only the vetoer can veto");
            let (s, _) = p.status(block_time_ms());
            need(
                matches!(s, Status::Open | Status::Timelocked),
                "only an open or timelocked proposal can be vetoed",
                s,
            )?;
            p.vetoed_by = Some(by);
            let settle = if p.config.deposit.as_ref().is_some_and(|d| d.refund == state::RefundPolicy::Always) {
                Settle::Refund
            } else {
                Settle::ToDao
            };
            finish(&mut p, Status::Vetoed, settle)?;
            event("proposal_vetoed", proposal_id, &[("by", &by.to_string())]);
            Ok(Response::new())
        }
        ExecuteMsg::Close(Id { proposal_id }) => {
            let mut p = load(proposal_id)?;
            let (s, _) = p.status(block_time_ms());
            let policy = p.config.deposit.as_ref().map(|d| d.refund);
            let settle = match s {
                Status::Vetoed => Settle::Burn,
                Status::Rejected if policy == Some(state::RefundPolicy::Always) => Settle::Refund,
                Status::Rejected => Settle::ToDao,
                Status::Expired if policy == Some(state::RefundPolicy::Never) => Settle::ToDao,
                Status::Expired => Settle::Refund,
                _ => {
                    return need(false, "only a rejected, vetoed or expired proposal can be closed", s)
                        .map(|_| Response::new());
                }
            };
            ensure!(p.final_status.is_none(), "the proposal is already closed");
            finish(&mut p, s, settle)?;
            event("proposal_closed", proposal_id, &[("status", s.as_str())]);
            Ok(Response::new())
        }
        ExecuteMsg::UpdateConfig { config } => {
            ensure!(caller() == DAO.load()?, "unauthorized: only the DAO can update the configuration");
            config.validate()?;
            CONFIG.save(&config)?;
            emit("config_updated", &[]);
            Ok(Response::new())
        }
    }
}

/// The guardian cancels a proposal that has not been executed: pending,
/// open, timelocked or passed. The deposit goes as on a vetoer's veto.
fn guardian_cancel(id: u64) -> Result<Response, ContractError> {
    let mut p = load(id)?;
    ensure!(!p.guardian_proof, "the guardian cannot cancel a proposal that replaces the guardian");
    let (s, _) = p.status(block_time_ms());
    need(
        matches!(s, Status::Pending | Status::Open | Status::Timelocked | Status::Passed),
        "the guardian can only cancel a proposal before it is decided against or executed",
        s,
    )?;
    let by = caller();
    p.cancelled_by = Some(by);
    let settle = if p.config.deposit.as_ref().is_some_and(|d| d.refund == state::RefundPolicy::Always) {
        Settle::Refund
    } else {
        Settle::ToDao
    };
    finish(&mut p, Status::Cancelled, settle)?;
    event("proposal_cancelled", id, &[("by", &by.to_string())]);
    Ok(Response::new())
}

/// Emits `kind` with a first attribute `proposal_id`.
#[inline(never)]
fn event(kind: &str, id: u64, attrs: &[(&str, &str)]) {
    let id = id.to_string();
    let mut all = Vec::with_capacity(attrs.len() + 1);
    all.push(("proposal_id", id.as_str()));
    all.extend_from_slice(attrs);
    emit(kind, &all);
}

/// `Err("<what> (status: <s>)")` unless `ok`.
#[inline(never)]
fn need(ok: bool, what: &str, s: Status) -> Result<(), ContractError> {
    if ok { Ok(()) } else { Err(format!("{what} (status: {})", s.as_str()).into()) }
}

pub fn load(id: u64) -> Result<Proposal, ContractError> {
    PROPOSALS.may_load(&id)?.ok_or_else(|| ContractError::new(format!("no proposal {id}")))
}

/// What to do with a proposal's deposit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settle {
    Refund,
    ToDao,
    Burn,
}

/// Writes a sticky status and settles the deposit (once).
fn finish(p: &mut Proposal, status: Status, settle: Settle) -> Result<(), ContractError> {
    let now = block_time_ms();
    p.final_status = Some(status);
    if matches!(status, Status::Executed | Status::ExecutionFailed) {
        p.executed_at_ms = Some(now);
    } else {
        p.closed_at_ms = Some(now);
    }
    if !p.deposit_settled {
        p.deposit_settled = true;
        let amount = p.deposit.u128();
        if amount > 0 {
            let (action, to) = match settle {
                Settle::Refund => ("refunded", Some(p.proposer)),
                Settle::ToDao => ("to_dao", Some(DAO.load()?)),
                Settle::Burn => ("burned", None),
            };
            match to {
                Some(to) => agora_sdk::transfer(&to, amount)?,
                None => agora_sdk::burn(amount)?,
            }
            event("deposit_settled", p.id, &[("amount", &amount.to_string()), ("action", action)]);
        }
    }
    PROPOSALS.save(&p.id, p)
}

/// Whether `m` is addressed to this module (then it must be an `update_config`).
fn self_config(m: &RawValue, me: &Addr) -> Result<Option<Config>, ContractError> {
    let o = Obj::parse(m)?;
    let (name, body) = o.message()?;
    if name != "execute" || body.req::<Addr>("contract")? != *me {
        return Ok(None);
    }
    ensure!(body.or_default::<Uint128>("funds")?.is_zero(), "messages to this module cannot carry funds");
    let msg = body.raw("msg").ok_or("missing field `msg`")?;
    match agora_sdk::from_json::<ExecuteMsg>(msg.get().as_bytes()) {
        Ok(ExecuteMsg::UpdateConfig { config }) => {
            config.validate()?;
            Ok(Some(config))
        }
        _ => bail!("a proposal can only send update_config to this module"),
    }
}

/// `{"<kind>":{"<field>":[raw messages]…` as JSON text (closed by the caller).
fn with_msgs(head: &str, msgs: &[&RawValue], tail: &str) -> Vec<u8> {
    let mut out = head.as_bytes().to_vec();
    out.push(b'[');
    for (i, m) in msgs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(m.get().as_bytes());
    }
    out.push(b']');
    out.extend_from_slice(tail.as_bytes());
    out
}

/// Asks `contract` a query and reads `field` of the answer.
fn ask<T: serde::de::DeserializeOwned>(contract: &Addr, q: &str, field: &str) -> Result<T, ContractError> {
    let data = agora_sdk::query_contract(contract, q.as_bytes()).map_err(ContractError::new)?;
    agora_sdk::from_json::<Obj>(&data)?.req(field)
}

/// `voting_power_at_height` (with `Some(address)`) or `total_power_at_height`.
fn power(module: &Addr, address: Option<&Addr>, height: u64) -> Result<u128, ContractError> {
    let q = match address {
        Some(a) => format!(r#"{{"voting_power_at_height":{{"address":"{a}","height":{height}}}}}"#),
        None => format!(r#"{{"total_power_at_height":{{"height":{height}}}}}"#),
    };
    let p: Uint128 = ask(module, &q, "power").map_err(|e| format!("voting module: {e}"))?;
    Ok(p.u128())
}

fn propose(title: String, description: String, msgs: Vec<Box<RawValue>>) -> Result<Response, ContractError> {
    let config = CONFIG.load()?;
    ensure!((1..=MAX_TITLE_BYTES).contains(&title.len()), "title must be 1 to 128 bytes");
    ensure!(description.len() <= MAX_DESCRIPTION_BYTES, "description must be at most 4096 bytes");
    ensure!(msgs.len() <= config.max_messages as usize, "too many messages (see max_messages)");
    let refs: Vec<&RawValue> = msgs.iter().map(|m| &**m).collect();
    let check = with_msgs(r#"{"check_msgs":{"msgs":"#, &refs, "}}");
    ensure!(check.len() <= MAX_MSGS_BYTES, "messages are larger than 32768 bytes");
    let me = self_address();
    let (paid, want) = (funds(), config.deposit_amount());
    ensure!(paid == want, "the deposit is exactly {want}, got {paid}");
    let dao = DAO.load()?;
    // Only replacing the guardian (every other setting kept, nothing else
    // sent), and whether anything could change how the DAO decides.
    let (mut only_guardian, mut governs) = (!refs.is_empty(), false);
    let mut dao_modules = None;
    for m in &refs {
        match self_config(m, &me)? {
            Some(new) => {
                let same_but_guardian = Config { guardian: config.guardian, ..new.clone() };
                only_guardian &= same_but_guardian == config && new.guardian != config.guardian;
                governs = true;
            }
            None => {
                only_guardian = false;
                governs |= changes_governance(m, &dao, &mut dao_modules)?;
            }
        }
    }
    // The DAO parses the messages exactly as it will when executing them.
    agora_sdk::query_contract(&dao, &check).map_err(|e| format!("invalid messages: {e}"))?;

    let outflow = rules::outflow(&msgs)?;
    // Under a cap, whatever could get around it later (new rules, modules,
    // code, admins, chain parameters) needs the cap's threshold.
    let cap_threshold = config.outflow_cap.is_some() && governs;
    // The guardian cannot cancel its own replacement (when that is all the
    // proposal does: a grab bundled with it stays cancellable).
    let guardian_proof = only_guardian;
    let pins = pins(&refs, &me)?;
    let proposer = caller();
    let snapshot = block_height().saturating_sub(1);
    let module: Addr = ask(&dao, r#"{"voting_module":{}}"#, "address")?;
    let total = power(&module, None, snapshot)?;
    ensure!(total > 0, "the voting module reports no voting power at the snapshot");
    let mine = power(&module, Some(&proposer), snapshot)?;
    ensure!(mine > 0, "no voting power at the snapshot");

    let id = PROPOSAL_COUNT.load()?.checked_add(1).ok_or("too many proposals")?;
    let now = block_time_ms();
    let start = now.saturating_add(config.voting_delay_ms);
    let end = start.saturating_add(config.max_voting_period_ms);
    let p = Proposal {
        id,
        title,
        description,
        proposer,
        msgs,
        config,
        voting_module: module,
        snapshot_height: snapshot,
        total_power: Uint128(total),
        created_ms: now,
        voting_start_ms: start,
        voting_end_ms: end,
        tally: Default::default(),
        turnout: Uint128(0),
        outflow: Uint128(outflow),
        cap_threshold,
        guardian_proof,
        pins,
        quorum_at_ms: None,
        cancelled_by: None,
        deposit: Uint128(paid),
        deposit_settled: false,
        final_status: None,
        vetoed_by: None,
        decided_at_ms: None,
        executed_at_ms: None,
        closed_at_ms: None,
        execution_failure: None,
    };
    PROPOSALS.save(&id, &p)?;
    PROPOSAL_COUNT.save(&id)?;
    event(
        "proposal_created",
        id,
        &[
            ("proposer", &proposer.to_string()),
            ("snapshot_height", &snapshot.to_string()),
            ("voting_start_ms", &start.to_string()),
            ("voting_end_ms", &end.to_string()),
        ],
    );
    Ok(Response::new().with_data(id.to_string()))
}

fn execute_proposal(id: u64) -> Result<Response, ContractError> {
    let mut p = load(id)?;
    let (s, _) = p.status(block_time_ms());
    need(s == Status::Passed, "the proposal cannot be executed", s)?;
    debug_assert_eq!(p.outcome(), Outcome::Passed);
    let paid_out = check_outflow(&p)?;
    // Written before the call: the proposal can never run twice.
    p.final_status = Some(Status::Executed);
    PROPOSALS.save(&id, &p)?;

    let me = self_address();
    let mut own = Vec::new();
    let mut msgs = Vec::with_capacity(p.msgs.len());
    for m in &p.msgs {
        match self_config(m, &me)? {
            Some(c) => own.push(c),
            None => msgs.push(&**m),
        }
    }
    let dao = DAO.load()?;
    let settle = settle_passed(&p);
    // A configuration is replaced whole: one written against settings that
    // changed since (e.g. a tightened cap) would undo that change.
    let stale = (!own.is_empty() && CONFIG.load()? != p.config)
        .then(|| "the module's configuration changed since the proposal was created".to_owned());
    if let Some(reason) = stale.or_else(|| changed_target(&p.pins)) {
        event("proposal_execution_failed", id, &[("reason", &reason)]);
        p.execution_failure = Some(reason);
        finish(&mut p, Status::ExecutionFailed, settle)?;
        return Ok(Response::new());
    }
    let call = with_msgs(&format!(r#"{{"execute_proposal":{{"proposal_id":{id},"msgs":"#), &msgs, "}}");
    match agora_sdk::call(&dao, &call, 0, 0) {
        Ok(_) => {
            if let Some(paid) = paid_out {
                OUTFLOW.save(&paid)?;
            }
            for c in own {
                CONFIG.save(&c)?;
                event("config_updated", id, &[]);
            }
            finish(&mut p, Status::Executed, settle)?;
            event("proposal_executed", id, &[]);
        }
        Err(mut reason) => {
            let mut cut = reason.len().min(MAX_REASON_BYTES);
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
            event("proposal_execution_failed", id, &[("reason", &reason)]);
            p.execution_failure = Some(reason);
            finish(&mut p, Status::ExecutionFailed, settle)?;
        }
    }
    Ok(Response::new())
}

/// Whether message `m` (not one to this module) could change how the DAO
/// decides: anything but paying out, instantiating, renaming, or calling a
/// contract that is neither one of the DAO's modules nor administered by it.
/// `dao_modules` holds the DAO's voting and proposal modules once asked
/// (at most once per proposal, and only when a message calls a contract).
fn changes_governance(m: &RawValue, dao: &Addr, dao_modules: &mut Option<Vec<Addr>>) -> Result<bool, ContractError> {
    let o = Obj::parse(m)?;
    let (name, body) = o.message()?;
    Ok(match name {
        "transfer" | "instantiate" | "update_config" => false,
        "execute" => {
            let target: Addr = body.req("contract")?;
            if dao_modules.is_none() {
                let mut modules: Vec<Addr> = ask(dao, r#"{"proposal_modules":{}}"#, "proposal_modules")?;
                modules.push(ask(dao, r#"{"voting_module":{}}"#, "address")?);
                *dao_modules = Some(modules);
            }
            target == *dao
                || dao_modules.as_ref().is_some_and(|m| m.contains(&target))
                || agora_sdk::contract_admin(&target) == Some(*dao)
        }
        _ => true,
    })
}

/// How a passed proposal's deposit is settled.
fn settle_passed(p: &Proposal) -> Settle {
    if p.config.deposit.as_ref().is_some_and(|d| d.refund == state::RefundPolicy::Never) {
        Settle::ToDao
    } else {
        Settle::Refund
    }
}

/// The outflow cap's check before executing `p`: `Err` if the period's
/// outflow would exceed the cap and the yes votes did not reach the cap's
/// threshold; else the period's outflow to store once executed.
fn check_outflow(p: &Proposal) -> Result<Option<(u64, u128)>, ContractError> {
    let Some(cap) = &p.config.outflow_cap else { return Ok(None) };
    let out = p.outflow.u128();
    if out == 0 {
        return Ok(None);
    }
    let now = block_time_ms();
    let period = cap.period(now);
    let spent = match OUTFLOW.may_load()? {
        Some((at, spent)) if at == period => spent,
        _ => 0,
    };
    let after = spent.checked_add(out).ok_or("outflow overflows")?;
    let t = &p.tally;
    let decisive = t.yes.u128().saturating_add(t.no.u128()).saturating_add(t.no_with_veto.u128());
    if after > cap.amount.u128() && !cap.threshold.exceeded_by(t.yes.u128(), decisive) {
        let next = period.saturating_add(1).saturating_mul(cap.period_ms);
        bail!(
            "the treasury outflow cap would be exceeded: {spent} of {} paid out this period, the proposal pays {out}; \
             it can execute from {next} ms (a new period) or needs yes above {} of the votes",
            cap.amount,
            cap.threshold
        );
    }
    Ok(Some((period, after)))
}

/// The code and admin of every contract the messages call (not this module).
fn pins(msgs: &[&RawValue], me: &Addr) -> Result<Vec<Pin>, ContractError> {
    let mut pins: Vec<Pin> = Vec::new();
    for m in msgs {
        let o = Obj::parse(m)?;
        let (name, body) = o.message()?;
        let targets: Vec<Addr> = match name {
            "execute" | "migrate" | "update_admin" => vec![body.req("contract")?],
            // A module added after the vote could be swapped for a drainer.
            "update_proposal_modules" => body.or_default("add")?,
            _ => continue,
        };
        for contract in targets {
            if contract == *me || pins.iter().any(|p| p.contract == contract) {
                continue;
            }
            pins.push(Pin {
                contract,
                code_hash: agora_sdk::contract_code_hash(&contract).map(hex),
                admin: agora_sdk::contract_admin(&contract),
            });
        }
    }
    Ok(pins)
}

fn hex(h: [u8; 32]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    h.iter().flat_map(|b| [D[usize::from(b >> 4)] as char, D[usize::from(b & 15)] as char]).collect()
}

/// Why execution must fail: a pinned target's code or admin changed.
fn changed_target(pins: &[Pin]) -> Option<String> {
    pins.iter().find_map(|pin| {
        let code = agora_sdk::contract_code_hash(&pin.contract).map(hex);
        let admin = agora_sdk::contract_admin(&pin.contract);
        let show = |h: &Option<String>| h.clone().unwrap_or_else(|| "none".to_owned());
        if code != pin.code_hash {
            Some(format!(
                "target {} changed since the proposal was created: code {} is now {}",
                pin.contract,
                show(&pin.code_hash),
                show(&code)
            ))
        } else if admin != pin.admin {
            let a = |a: &Option<Addr>| a.map_or_else(|| "none".to_owned(), |a| a.to_string());
            Some(format!(
                "target {} changed since the proposal was created: admin {} is now {}",
                pin.contract,
                a(&pin.admin),
                a(&admin)
            ))
        } else {
            None
        }
    })
}

entry_points!(instantiate, execute, query, dao_types::migrate);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
