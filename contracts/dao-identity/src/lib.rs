//! DAO identity registry: one address per identity, one identity per address,
//! for quadratic voting (Sybil resistance).
//!
//! Quadratic voting only means something with one voter per person. Trusted
//! **issuers** (a proof-of-personhood provider, a KYC desk…) attest that an
//! address belongs to an identity — an opaque id of 1..=[`MAX_IDENTITY_BYTES`]
//! bytes of `[A-Za-z0-9._:-]`, compared byte for byte (case-sensitive: issuers
//! must issue canonical ids). The registry enforces the one-to-one binding and
//! keeps its history, so a proposal module reads the binding at its snapshot
//! height with `identity_at` ("the attestation's height is checked against the
//! snapshot").
//!
//! The instantiator (`caller()`) is the **owner** — normally a DAO core, so the
//! issuer set changes only by proposal. The owner manages the issuers (at most
//! [`MAX_ISSUERS`]), may revoke any binding and may hand the registry over.
//!
//! * `attest` needs a current issuer; it is refused while the identity is bound
//!   to any address or the address has any identity (revoke first).
//! * `revoke` is allowed to the issuer that attested the binding **while it is
//!   still an issuer**, and to the owner. A removed issuer loses every power:
//!   its attestations **stay valid** (removing an issuer does not revoke
//!   them, which would need an unbounded loop), and only the owner can revoke
//!   them — list them with `list` (each entry names its issuer) and revoke by
//!   proposal if the issuer was compromised.
//!
//! History: every change writes a checkpoint `(address, u64::MAX - height)` →
//! the address's binding (or `null`) at the **end of block `height`**; several
//! changes in one block overwrite that block's checkpoint. Heights are stored
//! inverted (big-endian), so the latest checkpoint at or below `h` is the first
//! key at or after `(address, MAX - h)`: `identity_at` is **one `storage_next`**
//! whatever the length of the history (the technique of `dao-voting-token`).
//! An attestation made in block `h` counts at `h`; a revocation in block `h`
//! removes it at `h`. Since every end-of-block state is a state the registry
//! passed through, the bindings at any height are one-to-one as well. A height
//! whose end state is not committed yet is refused (see [`check_height`]).
//!
//! Messages:
//! * instantiate `{"issuers": [addr, …]}` (0..=32 distinct addresses).
//! * execute `{"attest": {"address", "identity"}}` (an issuer; event
//!   `identity_attested`: `address`, `identity`, `issuer`, `height`),
//!   `{"revoke": {"address"}}` (its issuer or the owner; event
//!   `identity_revoked`: `address`, `identity`, `by`, `height`),
//!   `{"update_issuers": {"add"?: [addr…], "remove"?: [addr…]}}` (owner; removals
//!   first; event `issuers_updated`: `added`, `removed` (comma-separated),
//!   `issuers` (the new count)), `{"update_owner": {"owner"}}` (owner; event
//!   `owner_updated`: `old`, `new`).
//! * query `{"identity": {"address"}}` and `{"identity_at": {"address", "height"}}`
//!   → `{"identity": s|null, "issuer": addr|null, "since_height": n|null}`;
//!   `{"address_of": {"identity"}}` → `{"address": addr|null}`;
//!   `{"issuers": {}}` → `{"issuers": [addr…]}`; `{"owner": {}}` → `{"owner"}`;
//!   `{"list": {"start_after"?: addr, "limit"?: n}}` (n ≤ [`MAX_LIMIT`], default
//!   [`DEFAULT_LIMIT`], by address bytes) →
//!   `{"identities": [{"address", "identity", "issuer", "since_height"}…]}`;
//!   `{"info": {}}` → `{"kind": "dao-identity", "version": "1"}`.

use std::ops::Bound;

use agora_sdk::{Addr, ContractError, Item, Map, Response, bail, block_height, caller, emit, ensure, entry_points};
use dao_types::InfoResponse;
use serde::{Deserialize, Serialize};

/// The contract kind reported by `info`.
pub const KIND: &str = "dao-identity";
/// The contract version reported by `info`.
pub const VERSION: &str = "1";
/// Most issuers at any time.
pub const MAX_ISSUERS: usize = 32;
/// Longest identity, in bytes.
pub const MAX_IDENTITY_BYTES: usize = 64;
/// Largest page of `list`.
pub const MAX_LIMIT: u32 = 100;
/// Page size of `list` without `limit`.
pub const DEFAULT_LIMIT: u32 = 30;

/// A binding: who vouched for which identity, since when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub identity: String,
    pub issuer: Addr,
    pub since_height: u64,
}

const OWNER: Item<Addr> = Item::new("owner");
const ISSUERS: Item<Vec<Addr>> = Item::new("issuers");
/// Current bindings by address.
const BY_ADDRESS: Map<Addr, Binding> = Map::new("address");
/// Current bindings by identity.
const BY_IDENTITY: Map<String, Addr> = Map::new("identity");
/// `(address, u64::MAX - height)` → the address's binding at the end of that block.
const HISTORY: Map<(Addr, u64), Option<Binding>> = Map::new("history");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub issuers: Vec<Addr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    Attest {
        address: Addr,
        identity: String,
    },
    Revoke {
        address: Addr,
    },
    UpdateIssuers {
        #[serde(default)]
        add: Vec<Addr>,
        #[serde(default)]
        remove: Vec<Addr>,
    },
    UpdateOwner {
        owner: Addr,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    Identity { address: Addr },
    IdentityAt { address: Addr, height: u64 },
    AddressOf { identity: String },
    Issuers {},
    Owner {},
    List { start_after: Option<Addr>, limit: Option<u32> },
    Info {},
}

/// Answer of `identity` and `identity_at` (all `null` when unbound).
#[derive(Debug, Serialize)]
pub struct IdentityResponse {
    pub identity: Option<String>,
    pub issuer: Option<Addr>,
    pub since_height: Option<u64>,
}

impl From<Option<Binding>> for IdentityResponse {
    fn from(b: Option<Binding>) -> IdentityResponse {
        match b {
            Some(b) => IdentityResponse {
                identity: Some(b.identity),
                issuer: Some(b.issuer),
                since_height: Some(b.since_height),
            },
            None => IdentityResponse { identity: None, issuer: None, since_height: None },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AddressResponse {
    pub address: Option<Addr>,
}

#[derive(Debug, Serialize)]
pub struct IssuersResponse<'a> {
    pub issuers: &'a [Addr],
}

#[derive(Debug, Serialize)]
pub struct OwnerResponse {
    pub owner: Addr,
}

/// One entry of `list`.
#[derive(Debug, Serialize)]
pub struct Registration {
    pub address: Addr,
    pub identity: String,
    pub issuer: Addr,
    pub since_height: u64,
}

#[derive(Debug, Serialize)]
pub struct ListResponse {
    pub identities: Vec<Registration>,
}

/// Checks an identity: 1..=64 bytes of `[A-Za-z0-9._:-]`.
pub fn check_identity(identity: &str) -> Result<(), ContractError> {
    let len = identity.len();
    ensure!((1..=MAX_IDENTITY_BYTES).contains(&len), "identity must be 1 to {MAX_IDENTITY_BYTES} bytes, got {len}");
    if let Some((i, c)) = identity.char_indices().find(|&(_, c)| !(c.is_ascii_alphanumeric() || "._:-".contains(c))) {
        bail!("identity may only contain A-Z a-z 0-9 . _ : -, found {c:?} at byte {i}");
    }
    Ok(())
}

/// Refuses a read at a height whose end state is not committed yet: in a
/// transaction (and the queries contracts make from one) `block_height()` is
/// the block being executed, so the last readable block is the one before; in
/// an RPC query (zero `origin()`) it is the last committed block itself.
pub fn check_height(height: u64) -> Result<(), ContractError> {
    let now = block_height();
    let last = if agora_sdk::origin() == Addr::ZERO { now } else { now.saturating_sub(1) };
    ensure!(
        height <= last,
        "height {height} is not a committed block yet (the last one is {last}): identities are only read at past heights"
    );
    Ok(())
}

/// The binding of `address` at the end of block `height`: one `storage_next`,
/// the first key at or after `(address, MAX - height)` being the latest
/// checkpoint at or below `height`.
fn binding_at(address: &Addr, height: u64) -> Result<Option<Binding>, ContractError> {
    let first = HISTORY.prefix(address).range(Bound::Included(&(u64::MAX - height)), Bound::Unbounded).next();
    Ok(first.transpose()?.and_then(|(_, b)| b))
}

fn check_issuer_count(n: usize) -> Result<(), ContractError> {
    ensure!(n <= MAX_ISSUERS, "at most {MAX_ISSUERS} issuers, got {n}");
    Ok(())
}

/// Refuses a list with the same address twice.
fn check_distinct(list: &[Addr], what: &str) -> Result<(), ContractError> {
    for (i, a) in list.iter().enumerate() {
        ensure!(!list[..i].contains(a), "{a} appears twice in {what}");
    }
    Ok(())
}

fn only_owner(sender: &Addr) -> Result<Addr, ContractError> {
    let owner = OWNER.load()?;
    ensure!(*sender == owner, "unauthorized: only the owner {owner} may do this, not {sender}");
    Ok(owner)
}

fn join(list: &[Addr]) -> String {
    list.iter().map(Addr::to_string).collect::<Vec<_>>().join(",")
}

pub fn instantiate(msg: InstantiateMsg) -> Result<Response, ContractError> {
    check_issuer_count(msg.issuers.len())?;
    check_distinct(&msg.issuers, "issuers")?;
    OWNER.save(&caller())?;
    ISSUERS.save(&msg.issuers)?;
    Ok(Response::new())
}

pub fn execute(msg: ExecuteMsg) -> Result<Response, ContractError> {
    let sender = caller();
    let height = block_height();
    match msg {
        ExecuteMsg::Attest { address, identity } => {
            ensure!(ISSUERS.load()?.contains(&sender), "unauthorized: {sender} is not an issuer");
            check_identity(&identity)?;
            if let Some(holder) = BY_IDENTITY.may_load(&identity)? {
                bail!("identity `{identity}` is already bound to {holder}")
            }
            if let Some(b) = BY_ADDRESS.may_load(&address)? {
                bail!("{address} already has identity `{}`: revoke it first", b.identity)
            }
            let binding = Binding { identity, issuer: sender, since_height: height };
            BY_IDENTITY.save(&binding.identity, &address)?;
            BY_ADDRESS.save(&address, &binding)?;
            HISTORY.save(&(address, u64::MAX - height), &Some(binding.clone()))?;
            emit(
                "identity_attested",
                &[
                    ("address", &address.to_string()),
                    ("identity", &binding.identity),
                    ("issuer", &sender.to_string()),
                    ("height", &height.to_string()),
                ],
            );
        }
        ExecuteMsg::Revoke { address } => {
            let Some(b) = BY_ADDRESS.may_load(&address)? else { bail!("{address} has no identity") };
            let owner = OWNER.load()?;
            let by_issuer = sender == b.issuer && ISSUERS.load()?.contains(&sender);
            ensure!(
                by_issuer || sender == owner,
                "unauthorized: only the issuer {} (while an issuer) or the owner {owner} may revoke {address}, not {sender}",
                b.issuer
            );
            BY_IDENTITY.remove(&b.identity);
            BY_ADDRESS.remove(&address);
            HISTORY.save(&(address, u64::MAX - height), &None)?;
            emit(
                "identity_revoked",
                &[
                    ("address", &address.to_string()),
                    ("identity", &b.identity),
                    ("by", &sender.to_string()),
                    ("height", &height.to_string()),
                ],
            );
        }
        ExecuteMsg::UpdateIssuers { add, remove } => {
            only_owner(&sender)?;
            ensure!(!add.is_empty() || !remove.is_empty(), "update_issuers needs `add` or `remove`");
            ensure!(add.len() <= MAX_ISSUERS, "at most {MAX_ISSUERS} issuers to add, got {}", add.len());
            ensure!(remove.len() <= MAX_ISSUERS, "at most {MAX_ISSUERS} issuers to remove, got {}", remove.len());
            check_distinct(&add, "add")?;
            check_distinct(&remove, "remove")?;
            let mut issuers = ISSUERS.load()?;
            for a in &remove {
                ensure!(!add.contains(a), "{a} is both added and removed");
                let Some(i) = issuers.iter().position(|x| x == a) else { bail!("{a} is not an issuer") };
                issuers.remove(i);
            }
            for a in &add {
                ensure!(!issuers.contains(a), "{a} is already an issuer");
                issuers.push(*a);
            }
            check_issuer_count(issuers.len())?;
            ISSUERS.save(&issuers)?;
            emit(
                "issuers_updated",
                &[("added", &join(&add)), ("removed", &join(&remove)), ("issuers", &issuers.len().to_string())],
            );
        }
        ExecuteMsg::UpdateOwner { owner } => {
            let old = only_owner(&sender)?;
            OWNER.save(&owner)?;
            emit("owner_updated", &[("old", &old.to_string()), ("new", &owner.to_string())]);
        }
    }
    Ok(Response::new())
}

pub fn query(msg: QueryMsg) -> Result<Vec<u8>, ContractError> {
    use agora_sdk::to_json_vec as json;
    match msg {
        QueryMsg::Identity { address } => json(&IdentityResponse::from(BY_ADDRESS.may_load(&address)?)),
        QueryMsg::IdentityAt { address, height } => {
            check_height(height)?;
            json(&IdentityResponse::from(binding_at(&address, height)?))
        }
        QueryMsg::AddressOf { identity } => {
            check_identity(&identity)?;
            json(&AddressResponse { address: BY_IDENTITY.may_load(&identity)? })
        }
        QueryMsg::Issuers {} => json(&IssuersResponse { issuers: &ISSUERS.load()? }),
        QueryMsg::Owner {} => json(&OwnerResponse { owner: OWNER.load()? }),
        QueryMsg::List { start_after, limit } => {
            let limit = limit.unwrap_or(DEFAULT_LIMIT);
            ensure!(limit <= MAX_LIMIT, "limit must be at most {MAX_LIMIT}, got {limit}");
            let start = start_after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
            let identities = BY_ADDRESS
                .range(start, Bound::Unbounded)
                .take(limit as usize)
                .map(|r| {
                    r.map(|(address, b)| Registration {
                        address,
                        identity: b.identity,
                        issuer: b.issuer,
                        since_height: b.since_height,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            json(&ListResponse { identities })
        }
        QueryMsg::Info {} => json(&InfoResponse { kind: KIND.to_owned(), version: VERSION.to_owned() }),
    }
}

entry_points!(instantiate, execute, query);

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
