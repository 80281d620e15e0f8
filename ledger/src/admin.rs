//! Contract admins and migration (CosmWasm-style).
//!
//! A contract may have an **admin** (`ContractInfo::admin`, part of the
//! state root): set at instantiation (`Payload::InstantiateWithAdmin`, the
//! `instantiate_with_admin` host call), changed or cleared by the admin
//! (`Payload::UpdateAdmin`, `update_admin`). Only the admin may **migrate**
//! the contract (`Payload::Migrate`, `migrate`): its code hash switches to
//! other stored code, whose `migrate` entry point then runs with the
//! contract's storage, balance and address unchanged. If `migrate` fails, or
//! the new code has none, the switch is reverted with everything else. A
//! contract without admin can never be migrated again.
//!
//! The same rules hold for users and contracts; the VM adds that a contract
//! executing on the current call stack cannot be migrated (its frame runs the
//! old code: the re-entrancy rule).

use crate::block::Event;
use crate::contract::LedgerHost;
use crate::error::LedgerError;
use crate::state::StateStore;
use crate::types::{Address, Hash};

/// The `migrate` event: `contract_address`, `old_code_hash`, `code_hash`,
/// `sender` (the admin that migrated it). Emitted before the new code's events.
pub fn migrate_event(contract: &Address, old: &Hash, new: &Hash, sender: &Address) -> Event {
    Event::new(
        "migrate",
        &[
            ("contract_address", contract.to_string()),
            ("old_code_hash", old.to_string()),
            ("code_hash", new.to_string()),
            ("sender", sender.to_string()),
        ],
    )
}

/// The `update_admin` event: `contract_address`, `admin` (the new admin,
/// empty when cleared), `sender` (the previous admin).
pub fn update_admin_event(contract: &Address, admin: Option<&Address>, sender: &Address) -> Event {
    Event::new(
        "update_admin",
        &[
            ("contract_address", contract.to_string()),
            ("admin", admin.map(ToString::to_string).unwrap_or_default()),
            ("sender", sender.to_string()),
        ],
    )
}

/// The `instantiate` event: `contract_address`, `code_hash`, `creator`,
/// `label`, and `admin` when the contract has one.
pub fn instantiate_event(
    address: &Address,
    code_hash: &Hash,
    creator: &Address,
    label: &str,
    admin: Option<&Address>,
) -> Event {
    let mut attrs = vec![
        ("contract_address", address.to_string()),
        ("code_hash", code_hash.to_string()),
        ("creator", creator.to_string()),
        ("label", label.to_owned()),
    ];
    if let Some(a) = admin {
        attrs.push(("admin", a.to_string()));
    }
    Event::new("instantiate", &attrs)
}

impl<S: StateStore + Send + 'static> LedgerHost<S> {
    /// The contract's record, if `sender` is its admin; otherwise the reason.
    fn admin_checked(
        &self,
        sender: &Address,
        contract: &Address,
        what: &str,
    ) -> Result<Result<crate::state::ContractInfo, String>, LedgerError> {
        let Some(info) = self.contract_info(contract)? else {
            return Ok(Err(format!("no contract at {contract}")));
        };
        match info.admin {
            Some(a) if a == *sender => Ok(Ok(info)),
            Some(a) => Ok(Err(format!("{sender} is not the admin of {contract} (the admin is {a}): cannot {what}"))),
            None => Ok(Err(format!("contract {contract} has no admin: it cannot {what}"))),
        }
    }

    /// `update_admin`: journaled like every write.
    pub(crate) fn set_admin(
        &mut self,
        sender: &Address,
        contract: &Address,
        admin: Option<Address>,
    ) -> Result<Result<(), String>, LedgerError> {
        let mut info = match self.admin_checked(sender, contract, "change its admin")? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        info.admin = admin;
        self.put_contract_info(&info);
        Ok(Ok(()))
    }

    /// `migrate`'s record switch; returns the previous code hash.
    pub(crate) fn switch_code(
        &mut self,
        sender: &Address,
        contract: &Address,
        code_hash: &Hash,
    ) -> Result<Result<Hash, String>, LedgerError> {
        let mut info = match self.admin_checked(sender, contract, "be migrated")? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        if self.code_info(code_hash)?.is_none() {
            return Ok(Err(format!("no code with hash {code_hash}")));
        }
        let old = info.code_hash;
        info.code_hash = *code_hash;
        self.put_contract_info(&info);
        Ok(Ok(old))
    }
}
