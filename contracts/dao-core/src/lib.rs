//! The DAO core: the DAO's address, treasury and configuration.
//!
//! It owns the treasury (native tokens at its address, and whatever token
//! contracts credit to it), knows one voting module and one or more proposal
//! modules, and does exactly two things when executed:
//!
//! * `execute_proposal {proposal_id, msgs}` from a registered proposal module:
//!   runs the messages ([`dao_types::DaoMsg`], read as [`RawDaoMsg`]) in order, all or nothing (the first failure fails
//!   the call and the chain reverts everything it did);
//! * `fund {}` with attached native tokens, from anyone.
//!
//! Everything else is refused: a DAO changes only through a passed proposal.
//!
//! At instantiate it instantiates its voting module and proposal modules
//! (their `caller()` is the DAO, which is how they learn it).

use agora_sdk::{
    Addr, ContractError, Item, Response, Uint128, bail, balance, caller, emit, ensure, entry_points, funds,
    self_address,
};
use dao_types::{RawDaoMsg, VotingModuleResponse, parse_code_hash};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Longest DAO name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest DAO description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 1024;
/// Most proposal modules a DAO can have.
pub const MAX_PROPOSAL_MODULES: usize = 16;
/// Most token contracts in one `treasury` query.
pub const MAX_TREASURY_TOKENS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub name: String,
    pub description: String,
}

const META: Item<Meta> = Item::new("meta");
const VOTING_MODULE: Item<Addr> = Item::new("voting_module");
const PROPOSAL_MODULES: Item<Vec<Addr>> = Item::new("proposal_modules");

/// Stored code to instantiate as a module of the DAO.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleInstantiate {
    pub code_hash: String,
    pub label: String,
    pub msg: Box<RawValue>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub voting: ModuleInstantiate,
    pub proposals: Vec<ModuleInstantiate>,
}

/// `{}`: the body of the messages without fields (one parser for all of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// [`dao_types::CoreExecute::ExecuteProposal`], read as [`RawDaoMsg`]s.
    ExecuteProposal {
        proposal_id: u64,
        msgs: Vec<RawDaoMsg>,
    },
    Fund(Empty),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    Config(Empty),
    VotingModule(Empty),
    ProposalModules(Empty),
    Treasury {
        #[serde(default)]
        tokens: Option<Vec<Addr>>,
    },
    /// Forwarded as is to the voting module: `{address, height}`.
    VotingPowerAtHeight(Box<RawValue>),
    /// Forwarded as is to the voting module: `{height}`.
    TotalPowerAtHeight(Box<RawValue>),
    /// Whether a proposal module may store these messages: `{}` if they
    /// parse as [`RawDaoMsg`]s with valid code hashes and parameter changes
    /// that are JSON objects, else an error saying why.
    CheckMsgs {
        msgs: Vec<RawDaoMsg>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigResponse {
    pub name: String,
    pub description: String,
    pub voting_module: Addr,
    pub proposal_modules: Vec<Addr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalModulesResponse {
    pub proposal_modules: Vec<Addr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBalance {
    pub token: Addr,
    pub balance: Uint128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreasuryResponse {
    pub native: Uint128,
    pub tokens: Vec<TokenBalance>,
}

/// A token contract's answer to `balance {address}`.
#[derive(Deserialize)]
struct BalanceAnswer {
    balance: Uint128,
}

fn check_meta(name: &str, description: &str) -> Result<(), ContractError> {
    ensure!((1..=MAX_NAME_BYTES).contains(&name.len()), "name must be 1 to {MAX_NAME_BYTES} bytes");
    ensure!(description.len() <= MAX_DESCRIPTION_BYTES, "description must be at most {MAX_DESCRIPTION_BYTES} bytes");
    Ok(())
}

/// Instantiates stored code as the DAO (all remaining gas), with the DAO as
/// the new contract's admin: the DAO upgrades what it created by proposal
/// (`migrate`), and a proposal pins the code it calls, so a vote is never
/// about code that changed after it.
fn instantiate_module(code_hash: &str, label: &str, msg: &RawValue, funds: u128) -> Result<Addr, ContractError> {
    let hash = parse_code_hash(code_hash)?;
    let me = self_address();
    agora_sdk::instantiate_with_admin(&hash, label, msg.get().as_bytes(), funds, 0, Some(&me))
        .map_err(ContractError::new)
}

fn join(addrs: &[Addr]) -> String {
    addrs.iter().map(Addr::to_string).collect::<Vec<_>>().join(",")
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    check_meta(&msg.name, &msg.description)?;
    let n = msg.proposals.len();
    ensure!((1..=MAX_PROPOSAL_MODULES).contains(&n), "a DAO needs 1 to {MAX_PROPOSAL_MODULES} proposal modules");
    META.save(&Meta { name: msg.name.clone(), description: msg.description })?;
    let v = &msg.voting;
    let voting = instantiate_module(&v.code_hash, &v.label, &v.msg, 0).map_err(|e| format!("voting module: {e}"))?;
    VOTING_MODULE.save(&voting)?;
    let mut modules = Vec::with_capacity(n);
    for p in &msg.proposals {
        let addr =
            instantiate_module(&p.code_hash, &p.label, &p.msg, 0).map_err(|e| format!("proposal module: {e}"))?;
        modules.push(addr);
    }
    PROPOSAL_MODULES.save(&modules)?;
    emit(
        "dao_created",
        &[("name", &msg.name), ("voting_module", &voting.to_string()), ("proposal_modules", &join(&modules))],
    );
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let sender = caller();
    match msg {
        ExecuteMsg::Fund(Empty {}) => {
            let amount = funds();
            ensure!(amount > 0, "fund: attach native tokens");
            emit("treasury_funded", &[("from", &sender.to_string()), ("amount", &amount.to_string())]);
        }
        ExecuteMsg::ExecuteProposal { proposal_id, msgs } => {
            ensure!(
                PROPOSAL_MODULES.load()?.contains(&sender),
                "unauthorized: only a proposal module of this DAO can execute proposals"
            );
            let n = msgs.len();
            for (i, m) in msgs.into_iter().enumerate() {
                run(m).map_err(|e| format!("message {i}: {e}"))?;
            }
            emit(
                "proposal_executed",
                &[("proposal_id", &proposal_id.to_string()), ("module", &sender.to_string()), ("msgs", &n.to_string())],
            );
        }
    }
    Ok(Response::new())
}

/// Runs one message as the DAO.
fn run(msg: RawDaoMsg) -> Result<(), ContractError> {
    match msg {
        RawDaoMsg::Transfer { to, amount } => {
            agora_sdk::transfer(&to, amount.u128())?;
            emit("treasury_transfer", &[("to", &to.to_string()), ("amount", &amount.to_string())]);
        }
        RawDaoMsg::Execute { contract, msg, funds } => {
            agora_sdk::call(&contract, msg.get().as_bytes(), funds.u128(), 0)?;
            emit("contract_executed", &[("contract", &contract.to_string()), ("funds", &funds.to_string())]);
        }
        RawDaoMsg::Instantiate { code_hash, label, msg, funds } => {
            let addr = instantiate_module(&code_hash, &label, &msg, funds.u128())?;
            emit("contract_instantiated", &[("address", &addr.to_string()), ("code_hash", &code_hash)]);
        }
        RawDaoMsg::UpdateConfig { name, description } => {
            let mut meta = META.load()?;
            if let Some(name) = name {
                meta.name = name;
            }
            if let Some(description) = description {
                meta.description = description;
            }
            check_meta(&meta.name, &meta.description)?;
            META.save(&meta)?;
            emit("config_updated", &[("name", &meta.name)]);
        }
        RawDaoMsg::UpdateVotingModule { code_hash, label, msg } => {
            let old = VOTING_MODULE.load()?;
            let new = instantiate_module(&code_hash, &label, &msg, 0)?;
            VOTING_MODULE.save(&new)?;
            emit("voting_module_updated", &[("old", &old.to_string()), ("new", &new.to_string())]);
        }
        RawDaoMsg::UpdateProposalModules { add, remove } => {
            let mut modules = PROPOSAL_MODULES.load()?;
            for r in &remove {
                let Some(at) = modules.iter().position(|m| m == r) else { bail!("{r} is not a proposal module") };
                modules.remove(at);
            }
            for a in &add {
                ensure!(!modules.contains(a), "{a} is already a proposal module");
                ensure!(agora_sdk::contract_code_hash(a).is_some(), "{a} is not a contract");
                // A module someone else administers could be migrated into a drainer later.
                ensure!(
                    agora_sdk::contract_admin(a).is_none_or(|admin| admin == self_address()),
                    "{a} has an admin other than the DAO: a proposal module must be the DAO's or nobody's to change"
                );
                modules.push(*a);
            }
            ensure!(!modules.is_empty(), "a DAO needs at least one proposal module");
            ensure!(modules.len() <= MAX_PROPOSAL_MODULES, "a DAO has at most {MAX_PROPOSAL_MODULES} proposal modules");
            PROPOSAL_MODULES.save(&modules)?;
            emit("proposal_modules_updated", &[("added", &join(&add)), ("removed", &join(&remove))]);
        }
        RawDaoMsg::UpdateChainParams { changes } => {
            agora_sdk::update_chain_params(changes.get().as_bytes())?;
            emit("chain_params_updated", &[]);
        }
        RawDaoMsg::Migrate { contract, code_hash, msg } => {
            let hash = parse_code_hash(&code_hash)?;
            agora_sdk::migrate(&contract, &hash, msg.get().as_bytes(), 0).map_err(ContractError::new)?;
            emit("contract_migrated", &[("contract", &contract.to_string()), ("code_hash", &code_hash)]);
        }
        RawDaoMsg::UpdateAdmin { contract, admin } => {
            agora_sdk::update_admin(&contract, admin.as_ref()).map_err(ContractError::new)?;
            let admin = admin.map_or_else(|| "none".to_owned(), |a| a.to_string());
            emit("contract_admin_updated", &[("contract", &contract.to_string()), ("admin", &admin)]);
        }
    }
    Ok(())
}

/// The checks `check_msgs` adds to parsing.
fn check(m: &RawDaoMsg) -> Result<(), ContractError> {
    match m {
        RawDaoMsg::Instantiate { code_hash, .. }
        | RawDaoMsg::UpdateVotingModule { code_hash, .. }
        | RawDaoMsg::Migrate { code_hash, .. } => {
            parse_code_hash(code_hash)?;
        }
        RawDaoMsg::UpdateChainParams { changes } => {
            ensure!(changes.get().starts_with('{'), "chain parameter changes must be an object")
        }
        _ => {}
    }
    Ok(())
}

fn forward(kind: &str, body: &RawValue) -> Result<Vec<u8>, ContractError> {
    let module = VOTING_MODULE.load()?;
    let q = format!(r#"{{"{kind}":{}}}"#, body.get());
    agora_sdk::query_contract(&module, q.as_bytes()).map_err(ContractError::new)
}

pub fn query(msg: QueryMsg) -> Result<Vec<u8>, ContractError> {
    match msg {
        QueryMsg::Config(Empty {}) => {
            let meta = META.load()?;
            agora_sdk::to_json_vec(&ConfigResponse {
                name: meta.name,
                description: meta.description,
                voting_module: VOTING_MODULE.load()?,
                proposal_modules: PROPOSAL_MODULES.load()?,
            })
        }
        QueryMsg::VotingModule(Empty {}) => {
            agora_sdk::to_json_vec(&VotingModuleResponse { address: VOTING_MODULE.load()? })
        }
        QueryMsg::ProposalModules(Empty {}) => {
            agora_sdk::to_json_vec(&ProposalModulesResponse { proposal_modules: PROPOSAL_MODULES.load()? })
        }
        QueryMsg::Treasury { tokens } => {
            let tokens = tokens.unwrap_or_default();
            ensure!(tokens.len() <= MAX_TREASURY_TOKENS, "at most {MAX_TREASURY_TOKENS} tokens per query");
            let me = self_address();
            let ask = format!(r#"{{"balance":{{"address":"{me}"}}}}"#).into_bytes();
            let mut out = Vec::with_capacity(tokens.len());
            for token in tokens {
                let data = agora_sdk::query_contract(&token, &ask).map_err(|e| format!("token {token}: {e}"))?;
                let b: BalanceAnswer = agora_sdk::from_json(&data)?;
                out.push(TokenBalance { token, balance: b.balance });
            }
            agora_sdk::to_json_vec(&TreasuryResponse { native: Uint128(balance(&me)), tokens: out })
        }
        QueryMsg::VotingPowerAtHeight(body) => forward("voting_power_at_height", &body),
        QueryMsg::TotalPowerAtHeight(body) => forward("total_power_at_height", &body),
        QueryMsg::CheckMsgs { msgs } => {
            for (i, m) in msgs.iter().enumerate() {
                check(m).map_err(|e| format!("message {i}: {e}"))?;
            }
            Ok(b"{}".to_vec())
        }
    }
}

entry_points!(instantiate, execute, query, dao_types::migrate);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
