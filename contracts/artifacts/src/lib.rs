//! The example contracts compiled to wasm (`wasm32-unknown-unknown`, `wasm`
//! profile) by this crate's build script: byte constants for VM and node
//! tests, benches and genesis tooling.
//!
//! | Constant | Package | Source |
//! |---|---|---|
//! | [`COUNTER`] | `counter` | `contracts/counter` |
//! | [`TOKEN`] | `token` | `contracts/token` |
//! | [`ESCROW`] | `escrow` | `contracts/escrow` |
//! | [`PROBE`] | `probe` | `contracts/probe` |
//! | [`DAO_CORE`] | `dao-core` | `contracts/dao-core` |
//! | [`DAO_PROPOSALS`] | `dao-proposals` | `contracts/dao-proposals` |
//! | [`DAO_VOTING_STAKE`] | `dao-voting-stake` | `contracts/dao-voting-stake` |
//! | [`DAO_VOTING_TOKEN`] | `dao-voting-token` | `contracts/dao-voting-token` |
//! | [`DAO_IDENTITY`] | `dao-identity` | `contracts/dao-identity` |
//! | [`DAO_DELEGATION`] | `dao-delegation` | `contracts/dao-delegation` |

pub mod hostile;

/// `contracts/counter`.
pub const COUNTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/counter.wasm"));
/// `contracts/token`.
pub const TOKEN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/token.wasm"));
/// `contracts/escrow`.
pub const ESCROW: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/escrow.wasm"));
/// `contracts/probe`.
pub const PROBE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe.wasm"));

/// `contracts/dao-core`.
pub const DAO_CORE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dao_core.wasm"));
/// `contracts/dao-proposals`.
pub const DAO_PROPOSALS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dao_proposals.wasm"));
/// `contracts/dao-voting-stake`.
pub const DAO_VOTING_STAKE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dao_voting_stake.wasm"));
/// `contracts/dao-voting-token`.
pub const DAO_VOTING_TOKEN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dao_voting_token.wasm"));
/// `contracts/dao-identity`.
pub const DAO_IDENTITY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dao_identity.wasm"));
/// `contracts/dao-delegation`.
pub const DAO_DELEGATION: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dao_delegation.wasm"));

const ALL: &[(&str, &[u8])] = &[
    ("counter", COUNTER),
    ("token", TOKEN),
    ("escrow", ESCROW),
    ("probe", PROBE),
    ("dao_core", DAO_CORE),
    ("dao_proposals", DAO_PROPOSALS),
    ("dao_voting_stake", DAO_VOTING_STAKE),
    ("dao_voting_token", DAO_VOTING_TOKEN),
    ("dao_identity", DAO_IDENTITY),
    ("dao_delegation", DAO_DELEGATION),
];

/// Every contract as `(package name, wasm bytes)`.
pub fn all() -> &'static [(&'static str, &'static [u8])] {
    ALL
}
