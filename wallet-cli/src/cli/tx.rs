//! The options of every command that sends a transaction: one shape for
//! transfers, contracts, staking and DAOs, handled by one pipeline (`send.rs`).

use std::time::Duration;

use clap::Args;
use ledger::Amount;

use crate::parse::{GasAdjustment, GasSetting, amount_arg, duration_arg, gas_adjustment_arg, gas_arg};

/// Gas, fee and waiting options, flattened into every transaction command.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Transaction options")]
pub struct TxFlags {
    /// Gas limit: `auto` = the node's dry-run estimate (agora_estimateGas) ×
    /// --gas-adjustment, rounded up and capped at the chain's max_tx_gas (a
    /// failing dry run sends nothing); or a number, used as is. Only the gas
    /// used is charged.
    #[arg(long, value_parser = gas_arg, default_value = "auto", value_name = "auto|GAS")]
    pub gas: GasSetting,

    /// The factor `--gas auto` multiplies the estimate by: a decimal from 1 to
    /// 10 (the margin covers state that changes before the transaction is
    /// included). Ignored with `--gas N`.
    #[arg(long, value_parser = gas_adjustment_arg, default_value = "1.3", value_name = "FACTOR")]
    pub gas_adjustment: GasAdjustment,

    /// Gas price in base units per gas [default: the chain's min_gas_price].
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, value_name = "PRICE", conflicts_with = "fees")]
    pub gas_price: Option<Amount>,

    /// The most the transaction may pay, in base units: the gas price becomes
    /// fees ÷ gas limit (rounded down), which must reach the chain's min_gas_price.
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub fees: Option<Amount>,

    /// Refuse to sign (exit 4) if the transaction could pay more than this in
    /// fees (gas limit × gas price), in base units: the node supplies the
    /// minimum gas price and the gas estimate [env: AGORA_MAX_FEE; then
    /// `max-fee` in client.toml; default: 10000000000, not applied to a fee
    /// fixed with --fees or with --gas N and --gas-price].
    #[arg(long, value_parser = amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub max_fee: Option<Amount>,

    /// Nonce [default: the sender's next nonce, counting its transactions pending on the node].
    #[arg(long)]
    pub nonce: Option<u64>,

    /// Return (exit 0) with the hash as soon as the node's mempool accepted the
    /// transaction, without waiting for a block (follow it with `agora tx HASH --wait`).
    #[arg(long)]
    pub no_wait: bool,

    /// How long to wait for the commit (at most 120s); exit code 3 if it is not committed by then.
    #[arg(long, value_parser = duration_arg, default_value = "30s", value_name = "DURATION")]
    pub timeout: Duration,
}

impl Default for TxFlags {
    fn default() -> TxFlags {
        TxFlags {
            gas: GasSetting::Auto,
            gas_adjustment: GasAdjustment::DEFAULT,
            gas_price: None,
            fees: None,
            max_fee: None,
            nonce: None,
            no_wait: false,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The signing key and the [`TxFlags`] of a transaction command.
#[derive(Clone, Debug, Args)]
pub struct TxArgs {
    /// Key that signs and pays.
    #[arg(long, value_name = "KEYNAME")]
    pub from: String,

    #[command(flatten)]
    pub flags: TxFlags,
}

/// [`TxArgs`] whose `--from` may be omitted (a command that sends a
/// transaction with it, or only reads without it).
#[derive(Clone, Debug, Args)]
pub struct OptionalTxArgs {
    /// Key that signs and pays (also: whose locks to list).
    #[arg(long, value_name = "KEYNAME")]
    pub from: Option<String>,

    #[command(flatten)]
    pub flags: TxFlags,
}

impl OptionalTxArgs {
    /// The transaction arguments, if `--from` was given.
    pub fn tx(&self) -> Option<TxArgs> {
        Some(TxArgs { from: self.from.clone()?, flags: self.flags.clone() })
    }
}
