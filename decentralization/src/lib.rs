//! Decentralization metrics over a distribution of integer weights over named entities.
//!
//! This crate owns:
//!
//! * [`Distribution`]: the canonical, deterministic form of "entity → weight" data
//!   (duplicate names merged, sorted by weight descending then name ascending, checked
//!   `u128` total);
//! * the **exact** metrics, safe to use inside deterministic block execution because they
//!   only use integer arithmetic (`u128` inputs, [`ethnum::U256`] intermediates) and return
//!   reduced rationals ([`Ratio`]): the Nakamoto coefficient / τ-index ([`nakamoto`],
//!   parameterised by a [`Threshold`] with an explicit `≥` / `>` [`Comparison`]),
//!   [`hhi`], [`gini`], [`concentration_ratio`], [`largest_share`] and the entity counts;
//! * the operator **power cap** ([`cap_shares`], [`split_capped`]): the chain's
//!   decentralization-aware set rule, pure integer water-filling;
//! * the **floating-point** metrics ([`entropy`] module: Rényi / Shannon / min-entropy,
//!   normalised entropy, Theil index), for query-time reports only, never for consensus;
//! * [`Report`]: a serde (de)serializable summary of everything, rendered by the node's
//!   JSON-RPC and the wallet CLI;
//! * [`parse_csv`]: the bounded parser for offline `entity,weight` files (the format the
//!   Edinburgh Decentralisation Index publishes).
//!
//! Definitions follow the Edinburgh Decentralisation Index (EDI,
//! `Blockchain-Technology-Lab/consensus-decentralization`, `metrics/`): in particular the
//! EDI's Nakamoto coefficient is the τ-index with `≥ 1/2` ([`Threshold::EDI_MAJORITY`]), its
//! `total_entities` counts entities with a nonzero weight
//! ([`Distribution::nonzero_entities`]), Gini and Theil count every listed entity, zero
//! weights included, and an empty or all-zero distribution has no metric values (`None`).
//!
//! The crate does no I/O, reads no clock, uses no randomness and never iterates a hash map.

mod cap;
mod csv;
mod distribution;
pub mod entropy;
mod error;
mod exact;
mod metrics;
mod report;

pub use cap::{PowerCap, cap_shares, cap_shares_bounded, split_capped};
pub use csv::{MAX_CSV_ROWS, MAX_NAME_CHARS, parse_csv};
pub use distribution::{Distribution, Entity, MAX_ENTITIES};
pub use error::Error;
pub use ethnum::U256;
pub use exact::{Comparison, Ratio, Threshold};
pub use metrics::{HHI_EXACT_TOTAL_BITS, concentration_ratio, gini, hhi, largest_share, nakamoto, tau_index};
pub use report::{Concentration, NakamotoValue, RenyiValue, Report, ZERO_WEIGHT_RULE};
