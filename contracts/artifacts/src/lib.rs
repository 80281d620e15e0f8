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

pub mod hostile;

/// `contracts/counter`.
pub const COUNTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/counter.wasm"));
/// `contracts/token`.
pub const TOKEN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/token.wasm"));
/// `contracts/escrow`.
pub const ESCROW: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/escrow.wasm"));
/// `contracts/probe`.
pub const PROBE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe.wasm"));

const ALL: &[(&str, &[u8])] = &[("counter", COUNTER), ("token", TOKEN), ("escrow", ESCROW), ("probe", PROBE)];

/// Every contract as `(package name, wasm bytes)`.
pub fn all() -> &'static [(&'static str, &'static [u8])] {
    ALL
}
