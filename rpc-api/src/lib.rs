//! Agora's JSON-RPC API, declared once.
//!
//! - [`api`]: the jsonrpsee traits. With the `server` feature each trait gets a
//!   `…Server` trait the node implements; with `client` (the default) a
//!   `…Client` extension trait that any jsonrpsee client (HTTP or WebSocket)
//!   gets, which the wallet and the testnet call.
//! - [`types`]: the request and result types both sides share.
//! - [`codes`]: Agora's error codes.
//! - [`openrpc`]: the OpenRPC document served by `rpc.discover`, generated at
//!   build time from the two modules above (see `build.rs`).
//!
//! Conventions (docs/rpc.md): methods are `agora_*`; parameters go by position
//! or by name; amounts are decimal strings, hashes lowercase hex, addresses
//! bech32.

pub mod api;
#[cfg(feature = "client")]
pub mod batch;
pub mod codes;
pub mod openrpc;
pub mod types;

#[cfg(not(any(feature = "server", feature = "client")))]
compile_error!("rpc-api needs the `client` or the `server` feature (or both)");
