//! Read-only execution against committed state: contract queries (latest or
//! at a past height) and dry runs for gas estimation.

use ledger::{Address, BlockEnv, BlockExecutor, ExecError, Height, Receipt};

use super::Chain;

impl Chain {
    /// The block context a read-only contract query sees: the latest block.
    pub fn query_env(&self) -> ledger::contract::HostEnv {
        let tip = self.tip();
        ledger::contract::HostEnv {
            chain_id: self.chain_id.clone(),
            height: tip.height,
            time_ms: tip.time_ms,
            origin: Address([0; 20]),
            params: (*self.params()).clone(),
            read_only: true,
        }
    }

    /// Runs a contract query against the latest committed state.
    pub fn query_contract(
        &self,
        contract: Address,
        msg: Vec<u8>,
        gas_limit: u64,
    ) -> Result<(Vec<u8>, u64), ledger::contract::QueryError> {
        ledger::contract::query_contract(self.store.clone(), &self.vm, self.query_env(), contract, msg, gas_limit)
    }

    /// Runs a contract query against the state at a past `height` (point
    /// reads only: see [`crate::store_at`]), in that block's context.
    pub fn query_contract_at(
        &self,
        state: crate::store_at::StoreAt,
        height: Height,
        contract: Address,
        msg: Vec<u8>,
        gas_limit: u64,
    ) -> Result<(Vec<u8>, u64), ledger::contract::QueryError> {
        let mut env = self.query_env();
        env.height = height;
        if let Ok(Some(b)) = self.store.block(height) {
            env.time_ms = b.header.time_ms;
        }
        ledger::contract::query_contract(state, &self.vm, env, contract, msg, gas_limit)
    }

    /// A dry run of a transaction body against the latest state (no signature
    /// check, no fee charged) for gas estimation.
    pub fn simulate(&self, body: &ledger::TxBody, encoded_len: usize) -> Result<Receipt, ExecError> {
        let tip = self.tip();
        let env = BlockEnv::new(self.chain_id.clone(), tip.height.next(), tip.time_ms.saturating_add(1));
        BlockExecutor::simulation(&self.store, &self.params(), env, &self.vm).simulate_body(body, encoded_len)
    }
}
