//! Chain parameters that execution depends on (gas schedule, limits). They come
//! from genesis and are identical on every node.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::types::{Address, Amount, Rate};

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
    /// Proof of stake: validators, delegation, rewards and slashing.
    pub staking: StakingParams,
    /// The contract allowed to change these parameters (the
    /// `update_chain_params` host call); `None`: they never change. Genesis
    /// may name a contract that does not exist yet: addresses are predictable
    /// (`contract_address(code_hash, creator, label)`).
    pub governance: Option<Address>,
    /// The decentralization index kept in the state (see `ledger::index`).
    pub index: IndexParams,
}

/// How often the chain measures its own decentralization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexParams {
    /// Blocks per epoch: at the end of every epoch's last block the index of
    /// the epoch is computed and stored in the state.
    pub epoch_blocks: u64,
}

/// Longest epoch a chain may have (about a week of 5-second blocks): the
/// per-epoch counters stay small and the history keeps coming.
pub const MAX_EPOCH_BLOCKS: u64 = 1_000_000;
/// Shortest epoch: every epoch end writes a record (up to ~100 KB with a
/// thousand validators) that stays in the state for good.
pub const MIN_EPOCH_BLOCKS: u64 = 10;

impl Default for IndexParams {
    fn default() -> Self {
        // An hour of 5-second blocks.
        IndexParams { epoch_blocks: 720 }
    }
}

/// Staking, distribution and slashing parameters (Cosmos SDK defaults; a
/// testnet shortens the periods).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StakingParams {
    /// Most validators in the active set (top by bonded stake, not jailed).
    pub max_validators: u32,
    /// How long undelegated tokens stay slashable before they return, and how
    /// long redelegated stake stays slashable at its source, in ms.
    pub unbonding_time_ms: u64,
    /// Most unbonding (or redelegation) entries per delegator/validator pair.
    pub max_entries: u32,
    /// Tokens per unit of voting power; a validator needs at least this much
    /// stake to be in the set.
    pub power_reduction: Amount,
    /// Least self-delegation a validator may declare when it is created.
    pub min_self_delegation: Amount,
    /// Shortest time between two commission changes, in ms.
    pub commission_change_period_ms: u64,
    /// Annual inflation of the total supply, paid out per block.
    pub inflation_rate: Rate,
    /// Blocks per year, to turn the annual rate into a per-block provision.
    pub blocks_per_year: u64,
    /// Share of every block's rewards that goes to the community pool.
    pub community_tax: Rate,
    /// Window of blocks over which missed commit signatures are counted.
    pub signed_blocks_window: u64,
    /// Least share of the window a validator must sign; missing more jails it.
    pub min_signed_per_window: Rate,
    /// How long a validator jailed for downtime must wait to unjail, in ms.
    pub downtime_jail_ms: u64,
    /// Share of stake slashed for a double sign (then tombstoned).
    pub slash_fraction_double_sign: Rate,
    /// Share of stake slashed for downtime.
    pub slash_fraction_downtime: Rate,
    /// Evidence older than this many blocks is refused.
    pub max_evidence_age_blocks: u64,
    /// Most evidence items in one block.
    pub max_evidence_per_block: u32,
    /// Gas of a staking transaction's payload (they touch a bounded number
    /// of records; withdrawing all rewards adds `delegation_gas` per delegation).
    pub staking_gas: u64,
    pub delegation_gas: u64,
    /// The decentralization-aware set rule: the most voting power the
    /// validators of one operator (their declared `operator_entity`) may hold
    /// together, as a share of the set's total. Stake above the cap stays
    /// bonded and earns rewards; only its voting power is capped.
    /// `Rate::ONE` (the default) switches the rule off.
    pub max_operator_power: Rate,
}

impl Default for StakingParams {
    fn default() -> Self {
        const DAY_MS: u64 = 24 * 3600 * 1000;
        StakingParams {
            max_validators: 100,
            unbonding_time_ms: 21 * DAY_MS,
            max_entries: 7,
            power_reduction: Amount::new(1_000_000),
            min_self_delegation: Amount::new(1_000_000),
            commission_change_period_ms: DAY_MS,
            inflation_rate: rate(70_000),
            // 5-second blocks.
            blocks_per_year: 6_311_520,
            community_tax: rate(20_000),
            signed_blocks_window: 100,
            min_signed_per_window: rate(500_000),
            downtime_jail_ms: 600_000,
            slash_fraction_double_sign: rate(50_000),
            slash_fraction_downtime: rate(10_000),
            max_evidence_age_blocks: 100_000,
            max_evidence_per_block: 16,
            staking_gas: 20_000,
            delegation_gas: 5_000,
            max_operator_power: Rate::ONE,
        }
    }
}

const fn rate(ppm: u32) -> Rate {
    match Rate::from_ppm(ppm) {
        Some(r) => r,
        None => Rate::ONE,
    }
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
    /// `addr_parse` / `addr_format`: one bech32 address decoded or encoded
    /// on the host (~0.3–0.6 µs; the same work in wasm costs ~16 000 gas).
    pub gas_address_text: u64,
    /// Each 64 KiB page of a contract's linear memory, initial pages
    /// included, per call frame: 16 first-touch page faults of ~1.3 µs.
    pub gas_memory_page: u64,
    /// How many blocks back `bonded_stake_at`/`total_bonded_at` may read.
    /// The node keeps every version of the state (no pruning), so this is the
    /// history every node guarantees, not a storage cost of its own.
    pub stake_history_blocks: u64,
}

impl Default for ContractParams {
    fn default() -> Self {
        ContractParams {
            // Compiling at upload costs ~2.4 µs a byte here (the VM bench):
            // `gas_code_byte` pays for it, and the largest upload fits `max_tx_gas`
            // (2 500 × 256 KiB = 655 360 000 ≤ 7 × 10⁸, a governance rule).
            max_code_bytes: 256 * 1024,
            max_memory_pages: 256,
            max_call_depth: 8,
            max_storage_key_bytes: 256,
            max_storage_value_bytes: 128 * 1024,
            max_label_bytes: 128,
            max_msg_bytes: 256 * 1024,
            gas_code_byte: 2_500,
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
            gas_address_text: 1_000,
            gas_memory_page: 20_000,
            // 30 days of 100 ms blocks: longer than any voting period the
            // example DAO allows (≤ 30 days) at the testnet's block rate.
            stake_history_blocks: 25_920_000,
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
            // The slowest code per gas we could build runs ~1.2 ns/gas (the VM
            // bench), so a transaction of `max_tx_gas` (~0.84 s) stays far below
            // the VM's 5 s wall-clock guard; the largest upload (655 360 000
            // gas for 256 KiB) fits.
            max_tx_gas: 700_000_000,
            min_gas_price: Amount::new(1),
            base_tx_gas: 1_000,
            gas_per_tx_byte: 10,
            transfer_gas: 1_000,
            contracts: ContractParams::default(),
            staking: StakingParams::default(),
            governance: None,
            index: IndexParams::default(),
        }
    }
}

/// Smallest operator power cap a chain may set (5 %).
pub const MIN_OPERATOR_POWER: Rate = rate(50_000);

/// Most nested contract calls a chain may allow (native stack and instance
/// pool are sized for it).
pub const MAX_CALL_DEPTH: u32 = 16;

impl ChainParams {
    /// The rules every parameter set must satisfy, at genesis and after a
    /// governance change. `Err((field, reason))`, with the field's path.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: &str, reason: &str| Err((field.to_owned(), reason.to_owned()));
        let s = &self.staking;
        let checks: [(&str, bool, &str); 8] = [
            ("staking.max_validators", s.max_validators >= 1, "must be at least 1"),
            ("staking.unbonding_time_ms", s.unbonding_time_ms >= 1, "must be positive"),
            ("staking.max_entries", s.max_entries >= 1, "must be at least 1"),
            ("staking.power_reduction", !s.power_reduction.is_zero(), "must be positive"),
            ("staking.blocks_per_year", s.blocks_per_year >= 1, "must be positive"),
            ("staking.signed_blocks_window", s.signed_blocks_window >= 1, "must be at least 1"),
            ("staking.max_evidence_age_blocks", s.max_evidence_age_blocks >= 1, "must be at least 1"),
            ("staking.min_self_delegation", !s.min_self_delegation.is_zero(), "must be positive"),
        ];
        for (field, ok, reason) in checks {
            if !ok {
                return bad(field, reason);
            }
        }
        if self.max_tx_bytes < 256 {
            return bad("max_tx_bytes", "must be at least 256");
        }
        if self.max_block_bytes < self.max_tx_bytes {
            return bad("max_block_bytes", "must be at least max_tx_bytes");
        }
        if self.max_tx_gas == 0 || self.max_block_gas < self.max_tx_gas {
            return bad("max_block_gas", "must be at least max_tx_gas, which must be positive");
        }
        if self.min_gas_price.is_zero() {
            return bad("min_gas_price", "must be positive (fees price spam)");
        }
        if self.base_tx_gas == 0 {
            return bad("base_tx_gas", "must be positive");
        }
        // Each nested call may use a whole wasm stack on the node's native stack,
        // and the instance pool holds a bounded number of frames.
        if self.contracts.max_call_depth > MAX_CALL_DEPTH {
            return bad("contracts.max_call_depth", &format!("must be at most {MAX_CALL_DEPTH}"));
        }
        if !(MIN_EPOCH_BLOCKS..=MAX_EPOCH_BLOCKS).contains(&self.index.epoch_blocks) {
            return bad("index.epoch_blocks", &format!("must be between {MIN_EPOCH_BLOCKS} and {MAX_EPOCH_BLOCKS}"));
        }
        if s.max_operator_power < MIN_OPERATOR_POWER {
            return bad(
                "staking.max_operator_power",
                "must be at least 0.05 (5 %): a smaller cap flattens the set to its smallest operator",
            );
        }
        if self.contracts.stake_history_blocks == 0 {
            return bad("contracts.stake_history_blocks", "must be positive");
        }
        Ok(())
    }
}
