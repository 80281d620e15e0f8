//! The subcommands, and the context they share (output format, keyring,
//! password source, node URL, pinned chain id), resolved from the flags, the
//! environment and the client config file (`config.rs`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ledger::Address;

use crate::cli::{Cli, Command};
use crate::config::{
    CHAIN_ID_ENV, ClientConfig, ConfigKey, DEFAULT_NODE, MAX_FEE_ENV, NODE_ENV, Source, env_var, pick,
};
use crate::error::{EXIT_OK, Result, WalletError};
use crate::keystore::{Keyring, validate_name};
use crate::output::{OutputFormat, print_json};
use crate::parse::parse_node_url;
use crate::rpc::NodeClient;
use crate::secrets::PasswordSource;

pub mod balance;
pub mod config;
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
    pub output_source: Source,
    pub node: String,
    pub node_source: Source,
    /// The chain id transactions must be for, and where it was pinned.
    pub chain_id: Option<(String, Source)>,
    /// The cap on a transaction's maximum fee from the environment or the
    /// file (`--max-fee` is a transaction flag; the default is in `send.rs`).
    pub max_fee: Option<(ledger::Amount, Source)>,
    pub keyring: Keyring,
    pub password: PasswordSource,
    /// The client config file and what it holds.
    pub config_path: PathBuf,
    pub config: ClientConfig,
    /// Whether the "no chain id pinned" note was printed (once per run).
    chain_noted: AtomicBool,
}

impl Ctx {
    /// Resolves each setting: flag, then environment, then client.toml, then default.
    pub fn from_cli(cli: &Cli) -> Result<Ctx> {
        let dir = match &cli.keyring_dir {
            Some(d) => d.clone(),
            None => Keyring::default_dir()?,
        };
        let config_path = ClientConfig::path_in(&dir);
        let config = ClientConfig::load(&config_path)?;
        let (node, node_source) = pick(cli.node.clone(), env_var(NODE_ENV)?, config.node.clone())
            .unwrap_or_else(|| (DEFAULT_NODE.to_owned(), Source::Default));
        let env_chain = env_var(CHAIN_ID_ENV)?.map(|c| crate::config::validate_chain_id(&c)).transpose()?;
        let chain_id = pick(cli.chain_id.clone(), env_chain, config.chain_id.clone());
        let env_fee = env_var(MAX_FEE_ENV)?
            .map(|v| {
                crate::parse::parse_amount(&v).map_err(|e| WalletError::InvalidArgument(format!("{MAX_FEE_ENV}: {e}")))
            })
            .transpose()?;
        let file_fee = config.max_fee.as_deref().map(crate::parse::parse_amount).transpose()?;
        let max_fee = env_fee.map(|a| (a, Source::Env)).or(file_fee.map(|a| (a, Source::File)));
        let (output, output_source) = match (cli.output, config.output) {
            (Some(o), _) => (o, Source::Flag),
            (None, Some(o)) => (o, Source::File),
            (None, None) => (OutputFormat::default(), Source::Default),
        };
        Ok(Ctx {
            output,
            output_source,
            node,
            node_source,
            chain_id,
            max_fee,
            keyring: Keyring::new(dir),
            password: PasswordSource::resolve(cli.password_file.as_deref()),
            config_path,
            config,
            chain_noted: AtomicBool::new(false),
        })
    }

    /// Checks the chain id a node reports against the pinned one: another
    /// chain is [`WalletError::WrongChain`] (exit 4). With nothing pinned, the
    /// node's is taken and a note on stderr (once) says so.
    pub fn check_chain(&self, node_chain: &str, node_url: &str) -> Result<()> {
        match &self.chain_id {
            Some((pinned, source)) if pinned != node_chain => Err(WalletError::WrongChain {
                node: node_url.to_owned(),
                node_chain: node_chain.to_owned(),
                pinned: pinned.clone(),
                pinned_by: match source {
                    Source::Flag => "--chain-id",
                    Source::Env => CHAIN_ID_ENV,
                    _ => "chain-id in client.toml",
                },
            }),
            Some(_) => Ok(()),
            None => {
                if !self.chain_noted.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "note: no chain id pinned; signing for the node's chain `{node_chain}` (pin it with --chain-id, {CHAIN_ID_ENV} or `agora config {} {node_chain}`)",
                        ConfigKey::ChainId.name()
                    );
                }
                Ok(())
            }
        }
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

/// Runs the command line and reports its error, if any: on stdout as
/// `{"error": {…}}` under `-o json`, else on stderr. Returns the exit code.
pub async fn execute(cli: Cli) -> u8 {
    let flag_output = cli.output;
    let ctx = match Ctx::from_cli(&cli) {
        Ok(c) => c,
        Err(e) => return report(&e, flag_output.unwrap_or_default()),
    };
    match run(&ctx, cli).await {
        Ok(()) => EXIT_OK,
        Err(e) => report(&e, ctx.output),
    }
}

/// Prints `e` in `format` and returns its exit code.
pub fn report(e: &WalletError, format: OutputFormat) -> u8 {
    if format == OutputFormat::Json {
        // A closed stdout leaves stderr.
        if print_json(&e.to_json()).is_ok() {
            return e.exit_code();
        }
    }
    // The message may quote the node or a contract: escaped, on one line.
    eprintln!("error: {}", crate::output::escape_control(&e.to_string()));
    e.exit_code()
}

/// Runs the command line.
pub async fn run(ctx: &Ctx, cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keys(k) => keys::run(ctx, k),
        Command::Config(args) => config::run(ctx, &args),
        Command::Balance { target } => balance::run(ctx, &target).await,
        Command::Transfer(args) => transfer::run(ctx, &args).await,
        Command::Contract(c) => contract::run(ctx, c).await,
        Command::Dao(d) => dao::run(ctx, d).await,
        Command::Stake(s) => stake::run(ctx, s).await,
        Command::Decentralization(args) => decentralization::run(ctx, &args).await,
        Command::Validators { status } => validators::validators(ctx, status).await,
        Command::Validator { validator } => validators::validator(ctx, &validator).await,
        Command::Delegations { delegator } => validators::delegations(ctx, delegator.as_deref()).await,
        Command::Tx { hash, wait, timeout } => query::tx(ctx, &hash, wait, timeout).await,
        Command::History(args) => history::run(ctx, &args).await,
        Command::Status => query::status(ctx).await,
        Command::ChainParams => query::chain_params(ctx).await,
        Command::Block { block } => query::block(ctx, block.unwrap_or(crate::parse::BlockSelector::Latest)).await,
    }
}
