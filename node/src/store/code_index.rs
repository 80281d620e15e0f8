//! The contracts-by-code index: `code hash (32) ‖ contract address (20) → ()`,
//! written at commit in the block's own batch from the `instantiate` and
//! `migrate` events of its receipts (only the ledger emits those kinds;
//! contract events are `wasm-…`), so `agora_contractsByCode` pages through
//! one code's contracts in address order without scanning anything else.
//! Contracts created before a node had this index are not listed by it.

use ledger::{Address, Hash, Receipt};
use rocksdb::{Direction, IteratorMode, WriteBatch};

use super::{Store, StoreError};

pub(super) const CF_CODE_CONTRACTS: &str = "code_contracts";

fn key(code: &Hash, contract: &Address) -> [u8; 52] {
    let mut k = [0u8; 52];
    k[..32].copy_from_slice(&code.0);
    k[32..].copy_from_slice(&contract.0);
    k
}

fn attr<'a>(e: &'a ledger::Event, name: &str) -> Option<&'a str> {
    e.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl Store {
    /// Adds the index changes of a block's receipts to its batch.
    pub(super) fn index_code_contracts(&self, b: &mut WriteBatch, receipts: &[Receipt]) {
        let cf = self.cf(CF_CODE_CONTRACTS);
        for e in receipts.iter().flat_map(|r| &r.events) {
            let contract = attr(e, "contract_address").and_then(|a| a.parse::<Address>().ok());
            let code = attr(e, "code_hash").and_then(|h| h.parse::<Hash>().ok());
            let (Some(contract), Some(code)) = (contract, code) else { continue };
            match e.kind.as_str() {
                "instantiate" => b.put_cf(cf, key(&code, &contract), []),
                "migrate" => {
                    if let Some(old) = attr(e, "old_code_hash").and_then(|h| h.parse::<Hash>().ok()) {
                        b.delete_cf(cf, key(&old, &contract));
                    }
                    b.put_cf(cf, key(&code, &contract), []);
                }
                _ => {}
            }
        }
    }

    /// Up to `limit` contracts running `code`, in address order after `start_after`.
    pub fn contracts_by_code(
        &self,
        code: &Hash,
        start_after: Option<&Address>,
        limit: usize,
    ) -> Result<Vec<Address>, StoreError> {
        let from = match start_after {
            Some(a) => key(code, a).to_vec(),
            None => code.0.to_vec(),
        };
        let it = self.db.iterator_cf(self.cf(CF_CODE_CONTRACTS), IteratorMode::From(&from, Direction::Forward));
        let mut out = Vec::new();
        for item in it {
            let (k, _) = item?;
            if k.len() != 52 || k[..32] != code.0 {
                break;
            }
            let a = Address(
                k[32..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt { table: CF_CODE_CONTRACTS, reason: "key length".into() })?,
            );
            if Some(&a) == start_after {
                continue;
            }
            out.push(a);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}
