//! `agora dao …`: the DAO subcommands' arguments.

use clap::{Subcommand, ValueEnum};
use ledger::{Address, Amount, Hash};

use super::TxArgs;
use crate::parse::{address_arg, amount_arg, hash_arg};

/// A vote on a DAO proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VoteOption {
    Yes,
    No,
    Abstain,
    /// Against, and the proposal should be vetoed (its deposit burned).
    #[value(alias = "no_with_veto", alias = "veto")]
    NoWithVeto,
}

#[derive(Debug, Subcommand)]
pub enum DaoCommand {
    /// Create a DAO: the core instantiates its voting module (native stake, or
    /// staked tokens with --token) and its proposal module; prints its address.
    Create {
        /// The DAO's name.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Label of the core contract (its address depends on it).
        #[arg(long)]
        label: String,
        /// Code hash of the uploaded dao-core.
        #[arg(long, value_parser = hash_arg, value_name = "CODE_HASH")]
        core_code: Hash,
        /// Code hash of the uploaded dao-proposals.
        #[arg(long, value_parser = hash_arg, value_name = "CODE_HASH")]
        proposals_code: Hash,
        /// Code hash of the voting module: dao-voting-stake, or dao-voting-token with --token.
        #[arg(long, value_parser = hash_arg, value_name = "CODE_HASH")]
        voting_code: Hash,
        /// Token contract whose holders stake to vote (dao-voting-token).
        #[arg(long, value_parser = address_arg, value_name = "ADDRESS")]
        token: Option<Address>,
        /// Proposal rules as JSON (or @FILE) [default: quorum 0.334, threshold 0.5,
        /// veto 0.334, 5–60 s voting, 10 s timelock, deposit 1000 refunded if passed].
        #[arg(long, value_name = "JSON")]
        config: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Propose: messages as --transfer ADDRESS:AMOUNT, --param NAME=VALUE
    /// (chain parameters, dotted for groups: staking.max_validators=7) or
    /// --msgs JSON; the deposit is attached automatically.
    Propose {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, value_name = "JSON")]
        msgs: Option<String>,
        #[arg(long, value_name = "ADDRESS:AMOUNT")]
        transfer: Vec<String>,
        #[arg(long, value_name = "NAME=VALUE")]
        param: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Vote yes, no, abstain or no-with-veto with the power you had at the proposal's snapshot.
    Vote {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[arg(value_enum)]
        option: VoteOption,
        #[arg(long)]
        rationale: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Veto a proposal (the DAO's vetoer only), while open or timelocked.
    Veto {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Cancel your proposal before voting starts.
    Cancel {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Execute a passed proposal after its timelock.
    Execute {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Close a rejected, vetoed or expired proposal (settles its deposit).
    Close {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Send native tokens to the DAO's treasury.
    Fund {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(value_parser = amount_arg, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Token-voting DAOs: approve and stake tokens for voting power (from the next block).
    StakeTokens {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(value_parser = amount_arg, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Token-voting DAOs: unstake tokens.
    UnstakeTokens {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(value_parser = amount_arg, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// The DAO's name, modules, treasury and proposal rules.
    Info {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
    },
    /// Proposals with status, tallies and time left.
    List {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(long)]
        start_after: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// One proposal in full (with --votes: every vote).
    Show {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[arg(long)]
        votes: bool,
    },
}
