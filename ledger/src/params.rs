//! Chain parameters that execution depends on (gas schedule, limits). They come
//! from genesis and are identical on every node.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::types::Amount;

/// Consensus-critical parameters of execution.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainParams {
    /// Largest encoded transaction accepted, in bytes.
    pub max_tx_bytes: u32,
    /// Largest total of encoded transactions in one block, in bytes.
    pub max_block_bytes: u32,
    /// Most gas all transactions of one block may use together.
    pub max_block_gas: u64,
    /// Most gas one transaction may ask for.
    pub max_tx_gas: u64,
    /// Lowest gas price accepted (smallest token units per gas).
    pub min_gas_price: Amount,
    /// Gas every transaction pays before its payload runs.
    pub base_tx_gas: u64,
    /// Gas per byte of the encoded transaction.
    pub gas_per_tx_byte: u64,
    /// Gas of a native transfer's payload.
    pub transfer_gas: u64,
    /// Contract limits and gas table (see `vm/ABI.md`).
    pub contracts: ContractParams,
}

/// Limits and gas costs of WebAssembly contracts. `vm/ABI.md` documents each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContractParams {
    pub max_code_bytes: u32,
    pub max_memory_pages: u32,
    pub max_call_depth: u32,
    pub max_storage_key_bytes: u32,
    pub max_storage_value_bytes: u32,
    pub max_label_bytes: u32,
    pub max_msg_bytes: u32,
    pub gas_code_byte: u64,
    pub gas_instantiate: u64,
    pub gas_contract_entry: u64,
    pub gas_host_call: u64,
    pub gas_copy_byte: u64,
    pub gas_storage_read: u64,
    pub gas_storage_read_byte: u64,
    pub gas_storage_write: u64,
    pub gas_storage_write_byte: u64,
    pub gas_event: u64,
    pub gas_event_byte: u64,
    pub gas_contract_transfer: u64,
    pub gas_contract_call: u64,
    pub gas_sha256_byte: u64,
    pub gas_ed25519_verify: u64,
}

impl Default for ContractParams {
    fn default() -> Self {
        ContractParams {
            max_code_bytes: 800 * 1024,
            max_memory_pages: 256,
            max_call_depth: 8,
            max_storage_key_bytes: 256,
            max_storage_value_bytes: 128 * 1024,
            max_label_bytes: 128,
            max_msg_bytes: 256 * 1024,
            gas_code_byte: 50,
            gas_instantiate: 50_000,
            gas_contract_entry: 40_000,
            gas_host_call: 100,
            gas_copy_byte: 1,
            gas_storage_read: 2_000,
            gas_storage_read_byte: 3,
            gas_storage_write: 10_000,
            gas_storage_write_byte: 30,
            gas_event: 500,
            gas_event_byte: 5,
            gas_contract_transfer: 2_000,
            gas_contract_call: 40_000,
            gas_sha256_byte: 3,
            gas_ed25519_verify: 60_000,
        }
    }
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams {
            // Large enough for a contract upload (`contracts.max_code_bytes`).
            max_tx_bytes: 1024 * 1024,
            max_block_bytes: 8 * 1024 * 1024,
            // Bounds a block's execution time: host costs are calibrated at
            // about 1 gas per nanosecond (see `vm/ABI.md`), so a full block
            // executes in about a second; transfers (~2.5k gas) are bounded
            // by `max_block_bytes` long before this.
            max_block_gas: 1_000_000_000,
            max_tx_gas: 100_000_000,
            min_gas_price: Amount::new(1),
            base_tx_gas: 1_000,
            gas_per_tx_byte: 10,
            transfer_gas: 1_000,
            contracts: ContractParams::default(),
        }
    }
}
