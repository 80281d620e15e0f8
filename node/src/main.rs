//! `agorad`: initialise and run an Agora node.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use node::node::{Home, InitOptions, init, parse_fund, run};
use tracing_subscriber::EnvFilter;

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

fn init_tracing(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
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
        Cmd::Start { home, rpc_listen, byzantine_double_sign_at } => {
            let level = node::config::Config::load(&Home(home.clone()).config())
                .map(|c| c.log.level)
                .unwrap_or_else(|_| "info".into());
            init_tracing(&level);
            match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt.block_on(run(&Home(home), rpc_listen, byzantine_double_sign_at)),
                Err(e) => Err(e.into()),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agorad: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
