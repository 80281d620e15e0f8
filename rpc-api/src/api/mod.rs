//! The JSON-RPC traits, one file per area. Each trait is declared with
//!
//! ```ignore
//! #[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "agora"))]
//! #[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "agora"))]
//! #[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client, namespace = "agora"))]
//! ```
//!
//! so the wallet gets only the client half. `build.rs` reads these files to
//! generate the OpenRPC document: a method's doc comment is its summary, its
//! parameters (an `Option` is optional) and result type are its schema.

#![allow(unused_imports)] // until every area file declares its items

pub mod chain;
pub mod contracts;
pub mod discover;
pub mod events;
pub mod history;
pub mod index;
pub mod staking;

pub use chain::*;
pub use contracts::*;
pub use discover::*;
pub use events::*;
pub use history::*;
pub use index::*;
pub use staking::*;
