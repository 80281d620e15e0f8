//! Proof of stake: validators, delegation, unbonding, redelegation, rewards,
//! slashing and the validator set, as pure state transitions.
//!
//! Records live in the staking module's storage namespace (the ordered,
//! authenticated contract storage of the reserved [`STAKING`] address, so
//! prefix scans are deterministic and every record is under the state root).
//! Tokens live in module accounts, so the supply invariant can be checked
//! from balances alone:
//! - [`BONDED_POOL`] holds every validator's `tokens`;
//! - [`UNBONDING_POOL`] holds every unbonding entry's `balance`;
//! - [`FEE_COLLECTOR`] holds the current block's fees (distributed next block);
//! - [`DISTRIBUTION`] holds the community pool, outstanding commission and
//!   delegators' unclaimed rewards.
//!
//! Rewards use a reward-per-share accumulator per validator (the F1 idea with
//! shares instead of stake, so slashes need no period bookkeeping): settling
//! a delegation is O(1), and every payout is rounded down, so rounding never
//! creates tokens. See `docs/adr/0007-staking.md`.

mod block;
pub mod metadata;
mod query;
pub(crate) mod store;
pub(crate) mod tx;
pub mod types;

use sha2::{Digest, Sha256};

pub use block::{BlockStaking, GenesisValidatorSpec, MAX_TOTAL_POWER, genesis_state};
pub use query::{DelegationView, StakingView, SupplyView};
pub use types::*;

use crate::types::Address;

/// A module account's address: the first 20 bytes of `sha256("agora/module/" ‖ name)`.
pub fn module_address(name: &str) -> Address {
    let mut h = Sha256::new();
    h.update(b"agora/module/");
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[..20]);
    Address(a)
}

/// Namespace of the staking records (not an account that holds tokens).
pub static STAKING: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| module_address("staking"));
/// Tokens bonded to validators.
pub static BONDED_POOL: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| module_address("bonded_pool"));
/// Tokens waiting out the unbonding period.
pub static UNBONDING_POOL: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| module_address("unbonding_pool"));
/// Fees of the block being executed.
pub static FEE_COLLECTOR: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| module_address("fee_collector"));
/// Rewards, commission and the community pool.
pub static DISTRIBUTION: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| module_address("distribution"));

/// The module accounts, named.
pub fn module_accounts() -> [(&'static str, Address); 4] {
    [
        ("bonded_pool", *BONDED_POOL),
        ("unbonding_pool", *UNBONDING_POOL),
        ("fee_collector", *FEE_COLLECTOR),
        ("distribution", *DISTRIBUTION),
    ]
}

/// The name of the module account at `addr`, if it is one.
pub fn module_name(addr: &Address) -> Option<&'static str> {
    module_accounts().into_iter().find(|(_, a)| a == addr).map(|(n, _)| n)
}

#[cfg(test)]
mod tests;
