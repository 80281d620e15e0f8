//! Request and result types shared by the node (which serialises them) and
//! the clients (which deserialise them). One file per area, as in `api/`.
//! Clients ignore fields they do not know (no `deny_unknown_fields`), so a node
//! that adds a field keeps old wallets working.

#![allow(unused_imports)] // until every area file declares its items

pub mod chain;
pub mod contracts;
pub mod events;
pub mod history;
pub mod index;
pub mod staking;

pub use chain::*;
pub use contracts::*;
pub use events::*;
pub use history::*;
pub use index::*;
pub use staking::*;
