//! The mock's contract admins and migrations, with the chain's rules: only
//! the admin migrates or changes the admin, the new code comes from
//! [`MockHost::store_code`], its `migrate` runs and a failure changes
//! nothing, and a contract on the call stack cannot be migrated.

use std::collections::BTreeMap;

use super::chain::{hex, instantiate_as};
use super::{Entry, MAX_CALL_DEPTH, MockContract, MockHost, State, check_writable, invoke, stack, with};
use crate::Addr;

/// Admin state: part of the state a failed call reverts.
#[derive(Clone, Default)]
pub(super) struct Admins {
    admins: BTreeMap<Addr, Addr>,
    /// Contracts migrated to stored code: address → code hash.
    code: BTreeMap<Addr, [u8; 32]>,
    migrations: Vec<Migration>,
}

impl Admins {
    /// A contract registered anew runs its registered code again.
    pub(super) fn forget_code(&mut self, addr: &Addr) {
        self.code.remove(addr);
    }
}

/// A migration the mock host performed ([`MockHost::migrations`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    pub contract: Addr,
    pub code_hash: [u8; 32],
    pub msg: Vec<u8>,
    /// The admin that migrated it (a user or a contract).
    pub sender: Addr,
}

/// The code the contract at `addr` runs: the stored code it was migrated
/// to, else the contract registered there.
pub(super) fn code_of(s: &State, addr: &Addr) -> Option<MockContract> {
    match s.chain.admin.code.get(addr) {
        Some(h) => s.ext.codes.get(h).cloned(),
        None => s.contracts.get(addr).cloned(),
    }
}

impl MockHost {
    /// Sets (or clears) the admin of the contract at `addr`, without checks.
    pub fn set_contract_admin(&self, addr: Addr, admin: Option<Addr>) {
        with(|s| match admin {
            Some(a) => s.chain.admin.admins.insert(addr, a),
            None => s.chain.admin.admins.remove(&addr),
        });
    }

    /// The admin of the contract at `addr`.
    pub fn contract_admin(&self, addr: Addr) -> Option<Addr> {
        with(|s| s.chain.admin.admins.get(&addr).copied())
    }

    /// The migrations so far, oldest first (a failed call drops its own).
    pub fn migrations(&self) -> Vec<Migration> {
        with(|s| s.chain.admin.migrations.clone())
    }

    /// A `Migrate` transaction signed by `sender`, who must be the admin:
    /// switches `contract` to the code stored under `code_hash` and runs its
    /// `migrate` with `msg`; on failure nothing changes.
    pub fn migrate(&self, contract: Addr, sender: Addr, code_hash: [u8; 32], msg: &[u8]) -> Result<Vec<u8>, String> {
        let saved_origin = with(|s| std::mem::replace(&mut s.origin, sender));
        let result = migrate_as(sender, &contract, &code_hash, msg);
        with(|s| s.origin = saved_origin);
        result
    }

    /// An `UpdateAdmin` transaction signed by `sender`, who must be the admin.
    pub fn update_admin(&self, contract: Addr, sender: Addr, admin: Option<Addr>) -> Result<(), String> {
        with(|s| update_admin_as(s, sender, &contract, admin))
    }
}

fn check_admin(s: &State, sender: &Addr, contract: &Addr, what: &str) -> Result<(), String> {
    if code_of(s, contract).is_none() {
        return Err(format!("no contract at {contract}"));
    }
    match s.chain.admin.admins.get(contract) {
        Some(a) if a == sender => Ok(()),
        Some(a) => Err(format!("{sender} is not the admin of {contract} (the admin is {a}): cannot {what}")),
        None => Err(format!("contract {contract} has no admin: it cannot {what}")),
    }
}

fn update_admin_as(s: &mut State, sender: Addr, contract: &Addr, admin: Option<Addr>) -> Result<(), String> {
    check_admin(s, &sender, contract, "change its admin")?;
    match admin {
        Some(a) => s.chain.admin.admins.insert(*contract, a),
        None => s.chain.admin.admins.remove(contract),
    };
    Ok(())
}

fn migrate_as(sender: Addr, contract: &Addr, code_hash: &[u8; 32], msg: &[u8]) -> Result<Vec<u8>, String> {
    let snapshot = with(|s| {
        check_admin(s, &sender, contract, "be migrated")?;
        if !s.ext.codes.contains_key(code_hash) {
            return Err(format!("no code with hash {}", hex(code_hash)));
        }
        let snapshot = s.chain.clone();
        s.chain.admin.code.insert(*contract, *code_hash);
        Ok(snapshot)
    })?;
    match invoke(*contract, sender, None, 0, msg, Entry::Migrate) {
        Ok(data) => {
            let m = Migration { contract: *contract, code_hash: *code_hash, msg: msg.to_vec(), sender };
            with(|s| s.chain.admin.migrations.push(m));
            Ok(data)
        }
        Err(e) => {
            with(|s| s.chain = snapshot);
            Err(format!("migrate failed: {e}"))
        }
    }
}

pub(super) mod host {
    use super::*;

    pub fn instantiate_with_admin(
        code_hash: &[u8; 32],
        label: &str,
        msg: &[u8],
        funds: u128,
        _gas_limit: u64,
        admin: &Addr,
    ) -> Result<Addr, String> {
        check_writable("instantiate_with_admin");
        let stack = stack();
        if stack.len() > MAX_CALL_DEPTH {
            return Err(format!("call depth limit of {MAX_CALL_DEPTH} exceeded"));
        }
        let me = stack.last().map_or(Addr::ZERO, |f| f.contract);
        // The admin is in place when `instantiate` runs.
        let addr = crate::contract_address(code_hash, &me, label);
        let previous = with(|s| s.chain.admin.admins.insert(addr, *admin));
        let result = instantiate_as(me, code_hash, label, msg, funds);
        if result.is_err() {
            with(|s| match previous {
                Some(p) => s.chain.admin.admins.insert(addr, p),
                None => s.chain.admin.admins.remove(&addr),
            });
        }
        result
    }

    pub fn migrate(contract: &Addr, code_hash: &[u8; 32], msg: &[u8], _gas_limit: u64) -> Result<Vec<u8>, String> {
        check_writable("migrate");
        let stack = stack();
        if stack.len() > MAX_CALL_DEPTH {
            return Err(format!("call depth limit of {MAX_CALL_DEPTH} exceeded"));
        }
        if stack.iter().any(|f| f.contract == *contract) {
            return Err(format!("migrate of {contract} refused: it is executing on the call stack"));
        }
        let me = stack.last().map_or(Addr::ZERO, |f| f.contract);
        migrate_as(me, contract, code_hash, msg)
    }

    pub fn update_admin(contract: &Addr, admin: Option<&Addr>) -> Result<(), String> {
        check_writable("update_admin");
        with(|s| {
            let me = s.frame().contract;
            update_admin_as(s, me, contract, admin.copied())
        })
    }

    pub fn contract_admin(addr: &Addr) -> Option<Addr> {
        with(|s| s.chain.admin.admins.get(addr).copied())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::storage;
    use crate::testing::mock_addr;

    /// A contract written with `entry_points!`' four-handler form.
    mod v2 {
        use crate::{ContractError, Response, storage};
        pub fn instantiate(_: serde_json::Value) -> Result<Response, ContractError> {
            Ok(Response::new())
        }
        pub fn execute(_: serde_json::Value) -> Result<Response, ContractError> {
            Ok(Response::new())
        }
        pub fn query(_: serde_json::Value) -> Result<Vec<u8>, ContractError> {
            Ok(storage::get(b"v").unwrap_or_default())
        }
        pub fn migrate(msg: String) -> Result<Vec<u8>, ContractError> {
            if msg == "fail" {
                return Err(ContractError::new("refused"));
            }
            storage::set(b"v", msg.as_bytes());
            Ok(b"migrated".to_vec())
        }
        crate::entry_points!(instantiate, execute, query, migrate);
    }

    fn v1() -> MockContract {
        MockContract::new()
            .instantiate(|_| Ok(Vec::new()))
            .execute(|_| Ok(Vec::new()))
            .query(|_| Ok(storage::get(b"v").unwrap_or_default()))
    }

    #[test]
    fn admins_migrate_and_failures_change_nothing() {
        let host = MockHost::new();
        let (alice, bob, c) = (mock_addr("alice"), mock_addr("bob"), mock_addr("c"));
        host.register(c, v1());
        host.storage_set(c, b"v", b"old");
        host.store_code([2; 32], v2::mock_contract());
        host.store_code([3; 32], MockContract::new());
        let err = host.migrate(c, alice, [2; 32], b"\"new\"").unwrap_err();
        assert!(err.contains("has no admin"), "{err}");
        host.set_contract_admin(c, Some(alice));
        assert!(host.migrate(c, bob, [2; 32], b"\"new\"").unwrap_err().contains("is not the admin"));
        assert!(host.migrate(c, alice, [9; 32], b"\"new\"").unwrap_err().contains("no code with hash"));
        let err = host.migrate(c, alice, [3; 32], b"\"new\"").unwrap_err();
        assert!(err.contains("has no `migrate` entry point"), "{err}");
        assert_eq!(host.migrate(c, alice, [2; 32], b"\"fail\"").unwrap_err(), "migrate failed: refused");
        assert_eq!(host.query(c, b"{}").unwrap(), b"old");
        assert!(host.migrations().is_empty());
        assert_eq!(host.migrate(c, alice, [2; 32], b"\"new\"").unwrap(), b"migrated");
        assert_eq!(host.query(c, b"{}").unwrap(), b"new");
        assert_eq!(crate::contract_code_hash(&c), Some([2; 32]));
        let m = Migration { contract: c, code_hash: [2; 32], msg: b"\"new\"".to_vec(), sender: alice };
        assert_eq!(host.migrations(), vec![m]);
        // Hand over, then clear for good.
        host.update_admin(c, alice, Some(bob)).unwrap();
        assert!(host.update_admin(c, alice, None).unwrap_err().contains("is not the admin"));
        host.update_admin(c, bob, None).unwrap();
        assert_eq!(host.contract_admin(c), None);
        assert!(host.migrate(c, bob, [2; 32], b"\"again\"").unwrap_err().contains("has no admin"));
    }

    #[test]
    fn contracts_migrate_what_they_administer_but_not_themselves() {
        let host = MockHost::new();
        let (dao, alice) = (mock_addr("dao"), mock_addr("alice"));
        host.store_code([1; 32], v1());
        host.store_code([2; 32], v2::mock_contract());
        // The DAO creates a module it administers, migrates it, reads and clears its admin.
        host.register(
            dao,
            MockContract::new().execute(|msg| {
                let module = crate::contract_address(&[1; 32], &mock_addr("dao"), "m");
                let r: Result<Vec<u8>, String> = match msg {
                    b"create" => {
                        let me = crate::self_address();
                        crate::instantiate_with_admin(&[1; 32], "m", b"", 0, 0, Some(&me))
                            .map(|a| a.as_bytes().to_vec())
                    }
                    b"migrate" => crate::migrate(&module, &[2; 32], b"\"up\"", 0),
                    b"self" => crate::migrate(&crate::self_address(), &[2; 32], b"\"up\"", 0),
                    b"admin" => Ok(crate::contract_admin(&module).map(|a| a.as_bytes().to_vec()).unwrap_or_default()),
                    b"clear" => crate::update_admin(&module, None).map(|()| Vec::new()),
                    _ => Err("unknown".into()),
                };
                r
            }),
        );
        let module = crate::contract_address(&[1; 32], &dao, "m");
        host.execute(dao, alice, 0, b"create").unwrap();
        assert_eq!(host.contract_admin(module), Some(dao));
        assert_eq!(host.execute(dao, alice, 0, b"admin").unwrap(), dao.as_bytes().to_vec());
        assert_eq!(host.execute(dao, alice, 0, b"migrate").unwrap(), b"migrated");
        assert_eq!(host.query(module, b"{}").unwrap(), b"up");
        host.set_contract_admin(dao, Some(dao));
        let err = host.execute(dao, alice, 0, b"self").unwrap_err();
        assert!(err.contains("is executing on the call stack"), "{err}");
        host.execute(dao, alice, 0, b"clear").unwrap();
        assert_eq!(host.execute(dao, alice, 0, b"admin").unwrap(), b"");
        assert!(host.execute(dao, alice, 0, b"migrate").unwrap_err().contains("has no admin"));
    }
}
