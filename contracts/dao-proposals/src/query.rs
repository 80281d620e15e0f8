//! Queries. Proposals are shown with their live status (computed from the
//! block time of the query).

use std::ops::Bound;

use agora_sdk::{Addr, ContractError, Uint128, block_time_ms, to_json_vec};
use serde::{Deserialize, Deserializer, Serialize};

use crate::json::Obj;
use crate::rules::{MAX_REPORT_VOTERS, concentration};
use crate::state::{BALLOTS, Ballot, CONFIG, DAO, Outcome, PROPOSAL_COUNT, Proposal, Status, VoteOption};
use crate::{Id, load};

/// Longest page of a list query.
pub const MAX_LIMIT: u64 = 100;
/// Page size of a list query without `limit`.
pub const DEFAULT_LIMIT: u64 = 30;

/// The queries (JSON: `{"<snake_case name>": {fields}}`, unknown fields
/// refused; bounds and limits are optional).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMsg {
    Config {},
    Dao {},
    Proposal(Id),
    /// Ascending ids after `start_after`.
    ListProposals {
        start_after: Option<u64>,
        limit: Option<u64>,
    },
    /// Descending ids before `start_before`.
    ReverseProposals {
        start_before: Option<u64>,
        limit: Option<u64>,
    },
    ProposalCount {},
    Vote {
        proposal_id: u64,
        voter: Addr,
    },
    ListVotes {
        proposal_id: u64,
        start_after: Option<Addr>,
        limit: Option<u64>,
    },
    /// Who holds the yes power: Nakamoto coefficient, Gini, and the share
    /// acquired shortly before the snapshot.
    Concentration(Id),
}

impl QueryMsg {
    fn read(o: &Obj) -> Result<QueryMsg, ContractError> {
        let (name, b) = o.message()?;
        Ok(match name {
            "config" => b.only(&[]).map(|_| QueryMsg::Config {})?,
            "dao" => b.only(&[]).map(|_| QueryMsg::Dao {})?,
            "proposal_count" => b.only(&[]).map(|_| QueryMsg::ProposalCount {})?,
            "proposal" => QueryMsg::Proposal(Id::read(&b)?),
            "list_proposals" => {
                b.only(&["start_after", "limit"])?;
                QueryMsg::ListProposals { start_after: b.opt("start_after")?, limit: b.opt("limit")? }
            }
            "reverse_proposals" => {
                b.only(&["start_before", "limit"])?;
                QueryMsg::ReverseProposals { start_before: b.opt("start_before")?, limit: b.opt("limit")? }
            }
            "vote" => {
                b.only(&["proposal_id", "voter"])?;
                QueryMsg::Vote { proposal_id: b.req("proposal_id")?, voter: b.req("voter")? }
            }
            "list_votes" => {
                b.only(&["proposal_id", "start_after", "limit"])?;
                QueryMsg::ListVotes {
                    proposal_id: b.req("proposal_id")?,
                    start_after: b.opt("start_after")?,
                    limit: b.opt("limit")?,
                }
            }
            "concentration" => QueryMsg::Concentration(Id::read(&b)?),
            _ => return Err(format!("unknown query `{name}`").into()),
        })
    }
}

impl<'de> Deserialize<'de> for QueryMsg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<QueryMsg, D::Error> {
        QueryMsg::read(&Obj::deserialize(d)?).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoteInfo {
    pub voter: Addr,
    pub option: VoteOption,
    pub power: Uint128,
    pub rationale: Option<String>,
    pub delegated: Uint128,
    pub weight: Uint128,
    pub conviction: u8,
    pub recent: Uint128,
}

/// `null` or the number.
fn num(v: Option<u64>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// `{"<key>":[items…]}`.
fn list(key: &str, items: impl Iterator<Item = Result<Vec<u8>, ContractError>>) -> Result<Vec<u8>, ContractError> {
    let mut out = format!(r#"{{"{key}":["#).into_bytes();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&item?);
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

fn view(p: &Proposal, now: u64) -> Result<Vec<u8>, ContractError> {
    let (status, next) = p.status(now);
    let close = p.close_ms();
    let cancelled = status == Status::Cancelled;
    let passed = !cancelled && now >= close && p.vetoed_by.is_none() && p.outcome() == Outcome::Passed;
    // The proposal's JSON object, then the live fields in the same object:
    // status; close_ms (voting end, or earlier once decided; null when
    // cancelled); time_left_ms (until the next status change by itself);
    // quorum_reached; passed_at_ms (the close of a passed vote).
    let mut out = to_json_vec(p)?;
    out.pop(); // `}`
    let live = format!(
        r#","status":"{}","close_ms":{},"time_left_ms":{},"quorum_reached":{},"passed_at_ms":{}}}"#,
        status.as_str(),
        num((!cancelled).then_some(close)),
        num(next.map(|t| t.saturating_sub(now))),
        p.quorum_reached(),
        num(passed.then_some(close)),
    );
    out.extend_from_slice(live.as_bytes());
    Ok(out)
}

fn limit(l: Option<u64>) -> u64 {
    l.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
}

/// `{"proposals":[…]}` for ids in `ids`, written one proposal at a time.
fn proposals(ids: impl Iterator<Item = u64>) -> Result<Vec<u8>, ContractError> {
    let now = block_time_ms();
    list("proposals", ids.map(|id| view(&load(id)?, now)))
}

fn vote_info(voter: Addr, b: Ballot) -> VoteInfo {
    VoteInfo {
        voter,
        option: b.option,
        power: b.power,
        rationale: b.rationale,
        delegated: b.delegated,
        weight: b.weight,
        conviction: b.conviction,
        recent: b.recent,
    }
}

pub fn query(msg: QueryMsg) -> Result<Vec<u8>, ContractError> {
    match msg {
        QueryMsg::Config {} => to_json_vec(&CONFIG.load()?),
        QueryMsg::Dao {} => Ok(format!(r#"{{"dao":"{}"}}"#, DAO.load()?).into_bytes()),
        QueryMsg::Proposal(Id { proposal_id }) => view(&load(proposal_id)?, block_time_ms()),
        QueryMsg::ListProposals { start_after, limit: l } => {
            let count = PROPOSAL_COUNT.load()?;
            let first = start_after.unwrap_or(0).saturating_add(1);
            let last = count.min(first.saturating_add(limit(l)).saturating_sub(1));
            proposals(first..=last)
        }
        QueryMsg::ReverseProposals { start_before, limit: l } => {
            let count = PROPOSAL_COUNT.load()?;
            let top = start_before.map_or(count, |b| b.saturating_sub(1).min(count));
            let bottom = top.saturating_sub(limit(l)).saturating_add(1);
            proposals((bottom.max(1)..=top).rev())
        }
        QueryMsg::ProposalCount {} => Ok(format!(r#"{{"count":{}}}"#, PROPOSAL_COUNT.load()?).into_bytes()),
        QueryMsg::Vote { proposal_id, voter } => {
            let mut out = b"{\"vote\":".to_vec();
            match BALLOTS.may_load(&(proposal_id, voter))? {
                Some(b) => out.extend_from_slice(&to_json_vec(&vote_info(voter, b))?),
                None => out.extend_from_slice(b"null"),
            }
            out.push(b'}');
            Ok(out)
        }
        QueryMsg::ListVotes { proposal_id, start_after, limit: l } => {
            let start = start_after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
            let votes = BALLOTS.prefix(&proposal_id).range(start, Bound::Unbounded).take(limit(l) as usize);
            list("votes", votes.map(|r| r.and_then(|(voter, b)| to_json_vec(&vote_info(voter, b)))))
        }
        QueryMsg::Concentration(Id { proposal_id }) => {
            let p = load(proposal_id)?;
            let mut yes = Vec::new();
            let mut truncated = false;
            for (read, r) in BALLOTS.prefix(&proposal_id).range(Bound::Unbounded, Bound::Unbounded).enumerate() {
                if read == MAX_REPORT_VOTERS {
                    truncated = true;
                    break;
                }
                let (_, b) = r?;
                if b.option == VoteOption::Yes {
                    yes.push((b.power.u128(), b.recent.u128()));
                }
            }
            let report = concentration(yes, truncated);
            let mut out = format!(
                r#"{{"proposal_id":{proposal_id},"snapshot_height":{},"acquisition_window_blocks":{},"#,
                p.snapshot_height, p.config.acquisition_window_blocks
            )
            .into_bytes();
            out.extend_from_slice(&to_json_vec(&report)?[1..]);
            Ok(out)
        }
    }
}
