//! The subcommands, and the context they share (output format, keyring,
//! password source, node URL).

use std::time::Duration;

use ledger::Address;

use crate::cli::{Cli, Command};
use crate::error::{Result, WalletError};
use crate::keystore::{Keyring, validate_name};
use crate::output::OutputFormat;
use crate::parse::parse_node_url;
use crate::rpc::NodeClient;
use crate::secrets::PasswordSource;

pub mod balance;
pub mod contract;
pub mod dao;
pub mod dao_config;
pub mod dao_create;
pub mod dao_members;
pub mod dao_view;
pub mod decentralization;
pub mod history;
pub mod keys;
pub mod query;
pub mod stake;
pub mod transfer;
pub mod validators;

/// Request timeout of ordinary calls.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// What every command may need.
#[derive(Debug)]
pub struct Ctx {
    pub output: OutputFormat,
    pub node: String,
    pub keyring: Keyring,
    pub password: PasswordSource,
}

impl Ctx {
    pub fn from_cli(cli: &Cli) -> Result<Ctx> {
        let dir = match &cli.keyring_dir {
            Some(d) => d.clone(),
            None => Keyring::default_dir()?,
        };
        Ok(Ctx {
            output: cli.output,
            node: cli.node.clone(),
            keyring: Keyring::new(dir),
            password: PasswordSource::resolve(cli.password_file.as_deref()),
        })
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// A client for `--node`, whose calls time out after `timeout`.
    pub fn client(&self, timeout: Duration) -> Result<NodeClient> {
        NodeClient::new(&parse_node_url(&self.node)?, timeout)
    }

    /// Resolves an `agora1…` address or the name of a key of the keyring.
    pub fn resolve_address(&self, s: &str) -> Result<Address> {
        let s = s.trim();
        let address_err = match s.parse::<Address>() {
            Ok(a) => return Ok(a),
            Err(e) => e,
        };
        if validate_name(s).is_ok() {
            match self.keyring.load(s) {
                Ok(ks) => return Ok(ks.address),
                Err(WalletError::KeyNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if s.to_ascii_lowercase().starts_with("agora1") {
            Err(WalletError::InvalidArgument(address_err.to_string()))
        } else {
            Err(WalletError::InvalidArgument(format!(
                "`{s}` is neither an address (agora1…) nor a key in the keyring {}",
                self.keyring.dir().display()
            )))
        }
    }
}

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::from_cli(&cli)?;
    match cli.command {
        Command::Keys(k) => keys::run(&ctx, k),
        Command::Balance { target } => balance::run(&ctx, &target).await,
        Command::Transfer(args) => transfer::run(&ctx, &args).await,
        Command::Contract(c) => contract::run(&ctx, c).await,
        Command::Dao(d) => dao::run(&ctx, d).await,
        Command::Stake(s) => stake::run(&ctx, s).await,
        Command::Decentralization(args) => decentralization::run(&ctx, &args).await,
        Command::Validators { status } => validators::validators(&ctx, status).await,
        Command::Validator { validator } => validators::validator(&ctx, &validator).await,
        Command::Delegations { delegator } => validators::delegations(&ctx, delegator.as_deref()).await,
        Command::Tx { hash, wait, timeout } => query::tx(&ctx, &hash, wait, timeout).await,
        Command::History(args) => history::run(&ctx, &args).await,
        Command::Status => query::status(&ctx).await,
        Command::ChainParams => query::chain_params(&ctx).await,
        Command::Block { block } => query::block(&ctx, block.unwrap_or(crate::parse::BlockSelector::Latest)).await,
    }
}

/// The nonce and gas price of a transaction about to be signed: the given
/// nonce, else the account's pending nonce (so several transactions can be
/// sent without waiting), and the given price, else the chain's minimum
/// (a lower one is refused here rather than by the node).
pub(crate) fn nonce_and_price(
    chain: &crate::rpc::ChainParamsInfo,
    account: &crate::rpc::AccountInfo,
    nonce: Option<u64>,
    gas_price: Option<ledger::Amount>,
) -> Result<(u64, ledger::Amount)> {
    let nonce = nonce.unwrap_or(account.pending_nonce.unwrap_or(account.nonce));
    let min_price = chain.params.min_gas_price;
    let gas_price = gas_price.unwrap_or(min_price);
    if gas_price < min_price {
        return Err(WalletError::InvalidArgument(format!(
            "gas price {gas_price} is below the chain's minimum {min_price}"
        )));
    }
    Ok((nonce, gas_price))
}

/// Refuses, before signing, a gas limit above the chain's maximum or a
/// transaction the sender cannot afford: `value` (a transfer's amount, a
/// contract call's funds, a delegation or a validator's self-stake, described
/// by `value_label`) plus the maximum fee,
/// which it returns.
pub(crate) fn check_affordable(
    from: &Address,
    account: &crate::rpc::AccountInfo,
    gas_limit: u64,
    max_gas: u64,
    gas_price: ledger::Amount,
    (value_label, value): (&str, ledger::Amount),
    what: &str,
) -> Result<ledger::Amount> {
    if gas_limit > max_gas {
        return Err(WalletError::InvalidArgument(format!(
            "gas limit {gas_limit} is above the chain's per-transaction maximum {max_gas}"
        )));
    }
    let max_fee = gas_price
        .checked_mul(u128::from(gas_limit))
        .ok_or_else(|| WalletError::InvalidArgument("gas limit × gas price overflows".into()))?;
    let needed = value
        .checked_add(max_fee)
        .ok_or_else(|| WalletError::Amount(format!("{value_label} + maximum fee overflows")))?;
    if account.balance < needed {
        return Err(WalletError::InvalidArgument(format!(
            "insufficient balance: {from} has {} at height {}, the {what} needs {value_label} {value} + maximum fee {max_fee} = {needed}",
            account.balance, account.height
        )));
    }
    Ok(max_fee)
}
