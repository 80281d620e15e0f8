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
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams {
            max_tx_bytes: 32 * 1024,
            max_block_bytes: 8 * 1024 * 1024,
            max_block_gas: 100_000_000_000,
            max_tx_gas: 10_000_000,
            min_gas_price: Amount::new(1),
            base_tx_gas: 1_000,
            gas_per_tx_byte: 10,
            transfer_gas: 1_000,
        }
    }
}
