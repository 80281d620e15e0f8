//! `agorad`: initialise and run an Agora node.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use node::config::LogFormat;
use node::engine::Byzantine;
use node::node::{Home, InitOptions, StartOptions, init, init_tracing, parse_fund, start};

/// mimalloc instead of the system allocator: under load a validator spent
/// ~9 % of its CPU in glibc's malloc and free (many small, short-lived
/// allocations across threads: transactions, events, gossip frames).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "agorad", version, about = "The Agora proof-of-stake node")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a node home: keys, a commented config.toml and a one-validator genesis.
    Init {
        #[arg(long)]
        home: PathBuf,
        #[arg(long)]
        chain_id: String,
        #[arg(long, default_value = "agora-node")]
        moniker: String,
        /// Fund an account at genesis: ADDRESS=AMOUNT (repeatable).
        #[arg(long = "fund", value_parser = parse_fund)]
        funds: Vec<(ledger::Address, ledger::Amount)>,
        /// Target time between blocks.
        #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
        block_interval: Duration,
        /// RPC listen address written to config.toml.
        #[arg(long)]
        rpc_listen: Option<String>,
        /// P2P listen multiaddr written to config.toml (e.g. /ip4/127.0.0.1/tcp/26656).
        #[arg(long)]
        p2p_listen: Option<String>,
        /// Prometheus metrics listen address written to config.toml.
        #[arg(long)]
        metrics_listen: Option<String>,
        /// Genesis time (RFC 3339); default now.
        #[arg(long)]
        genesis_time: Option<String>,
        /// Operator account of the genesis validator [default: the first --fund address].
        #[arg(long, value_parser = |s: &str| s.parse::<ledger::Address>().map_err(|e| e.to_string()))]
        operator: Option<ledger::Address>,
        /// The genesis validator's self-delegation, in the smallest unit
        /// (voting power = stake / params.staking.power_reduction).
        #[arg(long, default_value = "100000000", value_parser = |s: &str| s.parse::<ledger::Amount>().map_err(|e| e.to_string()))]
        self_stake: ledger::Amount,
    },
    /// Run the node until SIGINT/SIGTERM.
    Start {
        #[arg(long)]
        home: PathBuf,
        /// Override rpc.listen from config.toml.
        #[arg(long)]
        rpc_listen: Option<String>,
        /// Override metrics.listen from config.toml (port 0: any free port).
        #[arg(long)]
        metrics_listen: Option<String>,
        /// Override log.format from config.toml.
        #[arg(long, value_enum)]
        log_format: Option<LogFormat>,
        /// TESTING ONLY: misbehave by signing two conflicting prevotes at this
        /// height and every later one while in the set (the network then
        /// slashes and tombstones this validator).
        #[arg(long, value_name = "HEIGHT")]
        byzantine_double_sign_at: Option<u64>,
    },
    /// Print this node's validator public key.
    ShowValidator {
        #[arg(long)]
        home: PathBuf,
    },
    /// Print this node's libp2p peer id (for other nodes' persistent_peers).
    ShowNodeId {
        #[arg(long)]
        home: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Init {
            home,
            chain_id,
            moniker,
            funds,
            block_interval,
            rpc_listen,
            p2p_listen,
            metrics_listen,
            genesis_time,
            operator,
            self_stake,
        } => {
            let genesis_time = genesis_time
                .unwrap_or_else(|| humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
            let opts = InitOptions {
                chain_id,
                moniker,
                funds,
                block_interval,
                rpc_listen,
                p2p_listen,
                metrics_listen,
                genesis_time,
                operator,
                self_stake,
            };
            init(&Home(home.clone()), &opts).map(|pk| {
                println!("initialised {} (validator {pk})", home.display());
            })
        }
        Cmd::ShowValidator { home } => node::keys::load(&Home(home).validator_key())
            .map(|k| println!("{}", ledger::PublicKey::from_signing_key(&k)))
            .map_err(Into::into),
        Cmd::ShowNodeId { home } => node::node::node_id(&Home(home)).map(|id| println!("{id}")),
        Cmd::Start { home, rpc_listen, metrics_listen, log_format, byzantine_double_sign_at } => {
            let (level, format) = node::node::log_settings(&Home(home.clone()), log_format);
            init_tracing(&level, format);
            let byzantine = Byzantine { double_sign_at: byzantine_double_sign_at, ..Byzantine::default() };
            start(&Home(home), StartOptions { rpc_listen, metrics_listen }, byzantine)
        }
    };
    exit(result)
}

/// Prints a fatal error (a node fault) and turns it into the exit code.
fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agorad: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
