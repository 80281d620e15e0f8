//! The contract payloads of a transaction: instantiate (with or without an
//! admin), execute, migrate and update admin (see `crate::admin`).

use crate::admin::{instantiate_event, migrate_event, update_admin_event};
use crate::block::Event;
use crate::contract::{ContractCall, EntryPoint, Host, contract_address};
use crate::state::{ContractInfo, StateStore};
use crate::tx::Payload;
use crate::types::{Address, Amount, Hash};

use super::{BlockExecutor, ExecError};

/// A payload's outcome (`Err`: the receipt's failure reason) and the gas it
/// used beyond its fixed cost.
pub(super) type Run = (Result<(), String>, u64);

/// What an instantiation creates.
struct NewContract<'p> {
    code_hash: &'p Hash,
    label: &'p str,
    msg: &'p [u8],
    funds: Amount,
    admin: Option<Address>,
}

impl<S: StateStore + Clone + Send + 'static> BlockExecutor<'_, S> {
    /// Runs `call`, appends its events and keeps what it returned in `data`.
    fn call_keeping_data(
        &mut self,
        sender: Address,
        call: ContractCall,
        vm_gas: u64,
        events: &mut Vec<Event>,
        data: &mut Vec<u8>,
    ) -> Result<Run, ExecError> {
        let (res, used, evs) = self.call_contract(sender, call, vm_gas)?;
        events.extend(evs);
        Ok(match res {
            Ok(out) => {
                *data = out;
                (Ok(()), used)
            }
            Err(e) => (Err(e), used),
        })
    }

    /// Runs `payload` if it is a contract payload (`None` otherwise).
    pub(super) fn run_contract_payload(
        &mut self,
        payload: &Payload,
        sender: Address,
        vm_gas: u64,
        events: &mut Vec<Event>,
        data: &mut Vec<u8>,
    ) -> Result<Option<Run>, ExecError> {
        let run = match payload {
            Payload::Instantiate { code_hash, label, msg, funds } => {
                let new = NewContract { code_hash, label, msg, funds: *funds, admin: None };
                self.instantiate(sender, new, vm_gas, events, data)?
            }
            Payload::InstantiateWithAdmin { code_hash, label, msg, funds, admin } => {
                let new = NewContract { code_hash, label, msg, funds: *funds, admin: *admin };
                self.instantiate(sender, new, vm_gas, events, data)?
            }
            Payload::Execute { contract, msg, funds } => match self.host_ref().contract_info(contract)? {
                None => (Err(format!("no contract at {contract}")), 0),
                Some(info) => {
                    let call = ContractCall {
                        entry: EntryPoint::Execute,
                        contract: *contract,
                        code_hash: info.code_hash,
                        caller: sender,
                        funds: *funds,
                        msg: msg.clone(),
                    };
                    self.call_keeping_data(sender, call, vm_gas, events, data)?
                }
            },
            Payload::Migrate { contract, code_hash, msg } => {
                match self.host().migrate_contract(&sender, contract, code_hash)? {
                    Err(e) => (Err(e), 0),
                    Ok(old) => {
                        events.push(migrate_event(contract, &old, code_hash, &sender));
                        let call = ContractCall {
                            entry: EntryPoint::Migrate,
                            contract: *contract,
                            code_hash: *code_hash,
                            caller: sender,
                            funds: Amount::ZERO,
                            msg: msg.clone(),
                        };
                        // A failure reverts the code switch with the rest
                        // (`run_payload` reverts to its checkpoint).
                        let (res, used) = self.call_keeping_data(sender, call, vm_gas, events, data)?;
                        (res.map_err(|e| format!("migrate failed: {e}")), used)
                    }
                }
            }
            Payload::UpdateAdmin { contract, admin } => match self.host().update_admin(&sender, contract, *admin)? {
                Ok(()) => {
                    events.push(update_admin_event(contract, admin.as_ref(), &sender));
                    (Ok(()), 0)
                }
                Err(e) => (Err(e), 0),
            },
            _ => return Ok(None),
        };
        Ok(Some(run))
    }

    fn instantiate(
        &mut self,
        sender: Address,
        new: NewContract<'_>,
        vm_gas: u64,
        events: &mut Vec<Event>,
        data: &mut Vec<u8>,
    ) -> Result<Run, ExecError> {
        let NewContract { code_hash, label, msg, funds, admin } = new;
        let address = contract_address(code_hash, &sender, label);
        if self.host_ref().code_info(code_hash)?.is_none() {
            return Ok((Err(format!("no code with hash {code_hash}")), 0));
        }
        if self.host_ref().contract_info(&address)?.is_some() {
            return Ok((Err(format!("contract address {address} already exists; choose another label")), 0));
        }
        let info = ContractInfo {
            address,
            code_hash: *code_hash,
            creator: sender,
            label: label.to_owned(),
            created_height: self.env.height,
            admin,
        };
        self.host().put_contract_info(&info);
        events.push(instantiate_event(&address, code_hash, &sender, label, admin.as_ref()));
        *data = address.0.to_vec();
        let call = ContractCall {
            entry: EntryPoint::Instantiate,
            contract: address,
            code_hash: *code_hash,
            caller: sender,
            funds,
            msg: msg.to_vec(),
        };
        let (res, used, evs) = self.call_contract(sender, call, vm_gas)?;
        events.extend(evs);
        Ok((res.map(|_| ()), used))
    }
}
