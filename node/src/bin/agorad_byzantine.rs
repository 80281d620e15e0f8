//! `agorad-byzantine`: TESTING ONLY. The `agorad` node with faults a
//! byzantine validator could have, for the multi-process tests that prove
//! honest validators keep committing: a clock shifted by an offset, blocks
//! that carry an invalid transaction, double signs. `agorad` itself exposes
//! none of these except `--byzantine-double-sign-at`.
//!
//! ```text
//! agorad-byzantine start --home DIR [--rpc-listen ADDR] [--clock-offset-ms MS]
//!                        [--propose-invalid-tx nonce-gap|over-gas] [--double-sign-at H]
//!                        [--flood-proposals] [--tamper-relay] [--flood-votes]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use node::engine::{Byzantine, InvalidTxKind};
use node::node::{Home, StartOptions, init_tracing, log_settings, start};

#[derive(Parser)]
#[command(name = "agorad-byzantine", about = "TESTING ONLY: an Agora node that misbehaves on purpose")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the node (as `agorad start`) with the given faults.
    Start {
        #[arg(long)]
        home: PathBuf,
        #[arg(long)]
        rpc_listen: Option<String>,
        #[arg(long)]
        metrics_listen: Option<String>,
        /// Shift this node's clock by this many milliseconds (negative: behind).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        clock_offset_ms: i64,
        /// Put one invalid transaction into every block this node proposes.
        #[arg(long)]
        propose_invalid_tx: Option<InvalidTxKind>,
        /// Double-sign prevotes from this height on.
        #[arg(long)]
        double_sign_at: Option<u64>,
        /// Send many extra signed proposals with each of its own.
        #[arg(long)]
        flood_proposals: bool,
        /// Relay others' proposals with a tampered body.
        #[arg(long)]
        tamper_relay: bool,
        /// Send many extra signed votes (far rounds, next height) with each of its own.
        #[arg(long)]
        flood_votes: bool,
    },
}

fn main() -> ExitCode {
    let Cmd::Start {
        home,
        rpc_listen,
        metrics_listen,
        clock_offset_ms,
        propose_invalid_tx,
        double_sign_at,
        flood_proposals,
        tamper_relay,
        flood_votes,
    } = Cli::parse().cmd;
    let home = Home(home);
    let (level, format) = log_settings(&home, None);
    init_tracing(&level, format);
    let byzantine =
        Byzantine { double_sign_at, clock_offset_ms, propose_invalid_tx, flood_proposals, tamper_relay, flood_votes };
    match start(&home, StartOptions { rpc_listen, metrics_listen }, byzantine) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agorad-byzantine: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
