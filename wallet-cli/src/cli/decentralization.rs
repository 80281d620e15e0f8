//! `agora decentralization`: the arguments of the decentralization-index command.

use std::path::PathBuf;

use clap::Args;

/// Most epochs of one page of `--history` (the node's `agora_decentralizationHistory` limit).
pub const MAX_HISTORY_LIMIT: u64 = 100;

/// `agora decentralization [--epoch N | --height H] [--history …] [--distribution S] [--csv FILE]`.
#[derive(Debug, Args)]
pub struct DecentralizationArgs {
    /// Show epoch N instead of the latest one.
    #[arg(long, value_name = "N", conflicts_with_all = ["height", "history", "csv"])]
    pub epoch: Option<u64>,

    /// Show the last epoch that had ended by height H.
    #[arg(long, value_name = "H", conflicts_with_all = ["history", "csv"])]
    pub height: Option<u64>,

    /// List the epochs: end height and time, the minimum Nakamoto coefficient
    /// (≥ 1/3) and the coefficients of the main subsystems.
    #[arg(long, conflicts_with_all = ["distribution", "csv"])]
    pub history: bool,

    /// With --history: start at epoch N [default: the last --limit epochs].
    #[arg(long, value_name = "N", requires = "history", value_parser = clap::value_parser!(u64).range(1..))]
    pub from: Option<u64>,

    /// With --history: epochs per page, 1 to 100 [default: 20].
    #[arg(long, value_name = "N", requires = "history",
          value_parser = clap::value_parser!(u64).range(1..=MAX_HISTORY_LIMIT))]
    pub limit: Option<u64>,

    /// With --history: follow the pages to the latest epoch (from epoch 1
    /// without --from), at most 10000 epochs.
    #[arg(long, requires = "history")]
    pub all: bool,

    /// Show the raw distribution of one subsystem: validators, validator_stake,
    /// operators, countries, hosting, clients, block_production, vote_participation.
    #[arg(long, value_name = "SUBSYSTEM", conflicts_with = "csv")]
    pub distribution: Option<String>,

    /// Offline: the metrics of an `entity,weight` CSV file (the first line is a
    /// header; `-` reads stdin). No node is contacted.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}
