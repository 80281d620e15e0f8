//! `agorad`, the Agora node: everything that touches the outside world —
//! RocksDB, JSON-RPC, timers, keys — around the pure `ledger` logic.
//!
//! Modules: `store` (RocksDB), `mempool`, `chain` (the build/validate/commit
//! seam consensus drives), `engine` (drives the pure consensus core), `rpc`, `config`,
//! `keys`, and `node` (start-up and shutdown).

pub mod admission;
pub mod chain;
pub mod config;
pub mod convert;
pub mod engine;
pub mod explorer;
pub mod keys;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod p2p;
pub mod phases;
pub mod priority;
pub mod privval;
pub mod retire;
pub mod rpc;
pub mod rpc_contracts;
pub mod rpc_events;
pub mod rpc_history;
pub mod rpc_index;
pub mod rpc_limits;
pub mod rpc_params;
pub mod rpc_server;
pub mod rpc_staking;
pub mod store;
pub mod store_at;
mod store_cache;
pub mod sync;
/// Helpers for tests and fuzz targets (a one-validator chain in a directory).
#[doc(hidden)]
pub mod testing;
