//! `agora dao …`: the DAO subcommands' arguments.

use clap::{Subcommand, ValueEnum};
use ledger::{Address, Amount, Hash};

use super::{OptionalTxArgs, TxArgs};
use crate::commands::dao_config::RuleArgs;
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
        /// The options below are merged into it; a field set in both places
        /// must have the same value.
        #[arg(long, value_name = "JSON")]
        config: Option<String>,
        #[command(flatten)]
        rules: Box<RuleArgs>,
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
    /// Vote yes, no, abstain or no-with-veto with the power you had at the
    /// proposal's snapshot (plus power delegated to you, if the DAO has delegation).
    Vote {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[arg(value_enum)]
        option: VoteOption,
        #[arg(long)]
        rationale: Option<String>,
        /// Commit only this much of your own power [default: all of it].
        #[arg(long, value_parser = amount_arg, value_name = "N")]
        power: Option<Amount>,
        /// Conviction rule: 0 (weight ×0.1, no lock) or 1..=6 (weight ×K, the
        /// committed tokens locked for 2^(K−1) periods after voting ends).
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=6), value_name = "K")]
        conviction: Option<u8>,
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
    /// Cancel your proposal before voting starts (the DAO's guardian: any
    /// proposal not executed yet).
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
    /// One proposal in full: turnout, tally, concentration of the yes power
    /// (with --votes: every vote).
    Show {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        id: u64,
        #[arg(long)]
        votes: bool,
    },
    /// Delegate a share of your voting power (DAOs with a delegation contract).
    Delegate {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        /// The delegate (address or key name).
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// Share of your power: 50%, 12.5% or 0.5 [default: 100%].
        #[arg(long, value_name = "SHARE", conflicts_with = "bps", allow_hyphen_values = true)]
        share: Option<String>,
        /// Share in basis points, 1..=10000.
        #[arg(long, value_name = "BPS")]
        bps: Option<u32>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Remove your delegation to --to, or all of them.
    Undelegate {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// An address's delegations, and as a delegate its delegators and
    /// delegated power at the latest height (without --address: the
    /// DAO's delegation contract).
    Delegations {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        /// Address or key name.
        #[arg(long, value_name = "ADDRESS")]
        address: Option<String>,
    },
    /// An issuer of the DAO's identity registry binds an address to an identity.
    RegisterIdentity {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        /// Address or key name.
        #[arg(long, value_name = "ADDRESS")]
        address: String,
        /// 1..=64 characters of A-Z a-z 0-9 . _ : -
        #[arg(long, value_name = "ID")]
        identity: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Revoke an address's identity (its issuer, or the registry's owner).
    RevokeIdentity {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(long, value_name = "ADDRESS")]
        address: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// An address's identity (without --address: the registry's owner,
    /// issuers and identities).
    Identity {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        #[arg(long, value_name = "ADDRESS")]
        address: Option<String>,
    },
    /// Token-voting DAOs: lock staked tokens for 2^(K−1) conviction periods
    /// (--amount N --conviction K --from KEY), or list an address's locks
    /// (without --amount: --address, or --from's).
    Lock {
        #[arg(value_parser = address_arg, value_name = "DAO")]
        dao: Address,
        /// Staked tokens to lock (base units).
        #[arg(long, value_parser = amount_arg, value_name = "N", requires_all = ["conviction", "from"])]
        amount: Option<Amount>,
        /// Lock for 2^(K−1) conviction periods from the latest block time (1..=6).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=6), value_name = "K", requires = "amount")]
        conviction: Option<u8>,
        /// Whose locks to list (address or key name).
        #[arg(long, value_name = "ADDRESS", conflicts_with = "amount")]
        address: Option<String>,
        #[command(flatten)]
        tx: OptionalTxArgs,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::commands::dao_config::VotingRule;

    /// Stands for a DAO address in [`dao`]'s arguments.
    const DAO: &str = "DAO";

    fn dao(args: &[&str]) -> Result<DaoCommand, clap::Error> {
        let address = Address([5; 20]).to_string();
        let mut all = vec!["agora", "dao"];
        all.extend(args.iter().map(|a| if *a == DAO { address.as_str() } else { a }));
        Cli::try_parse_from(all).map(|c| match c.command {
            Command::Dao(d) => d,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn create_takes_rule_options() {
        let h = "ab".repeat(32);
        let base =
            ["create", "--name", "n", "--label", "l", "--core-code", &h, "--proposals-code", &h, "--voting-code", &h];
        let with = |extra: &[&str]| {
            let mut a = base.to_vec();
            a.extend_from_slice(extra);
            a.extend_from_slice(&["--from", "k"]);
            dao(&a)
        };
        let DaoCommand::Create { rules, .. } = with(&[]).unwrap() else { panic!() };
        assert!(rules.rule.is_none() && rules.issuer.is_empty());
        let c = with(&[
            "--rule",
            "conviction",
            "--conviction-period",
            "7d",
            "--identity-code",
            &h,
            "--issuer",
            "a",
            "--issuer",
            "b",
            "--delegation-code",
            &h,
            "--guardian",
            "g",
            "--late-quorum-extension",
            "60000",
            "--outflow-cap",
            "100/1h/67%",
        ])
        .unwrap();
        let DaoCommand::Create { rules, .. } = c else { panic!() };
        assert_eq!(rules.rule, Some(VotingRule::Conviction));
        assert_eq!((rules.conviction_period, rules.late_quorum_extension), (Some(604_800_000), Some(60_000)));
        assert_eq!(rules.issuer, ["a", "b"]);
        assert_eq!(rules.outflow_cap.unwrap().threshold_ppm, 670_000);
        // Hostile: unknown rule, malformed cap, issuers without a registry.
        assert!(with(&["--rule", "plutocracy"]).is_err());
        assert!(with(&["--outflow-cap", "100/1h"]).is_err());
        assert!(with(&["--outflow-cap", "100/1h/2"]).is_err());
        assert!(with(&["--issuer", "a"]).is_err());
        assert!(with(&["--conviction-period", "soon"]).is_err());
    }

    #[test]
    fn vote_takes_power_and_conviction() {
        let v = dao(&["vote", DAO, "1", "yes", "--power", "500", "--conviction", "6", "--from", "k"]).unwrap();
        let DaoCommand::Vote { power, conviction, .. } = v else { panic!() };
        assert_eq!((power.map(|p| p.to_string()), conviction), (Some("500".into()), Some(6)));
        assert!(dao(&["vote", DAO, "1", "yes", "--conviction", "7", "--from", "k"]).is_err());
        assert!(dao(&["vote", DAO, "1", "yes", "--conviction", "-1", "--from", "k"]).is_err());
        assert!(dao(&["vote", DAO, "1", "yes", "--power", "-5", "--from", "k"]).is_err());
        let DaoCommand::Vote { power, conviction, .. } = dao(&["vote", DAO, "1", "no", "--from", "k"]).unwrap() else {
            panic!()
        };
        assert!(power.is_none() && conviction.is_none());
    }

    #[test]
    fn delegation_and_lock_arguments() {
        let d = dao(&["delegate", DAO, "--to", "bob", "--share", "50%", "--from", "k"]).unwrap();
        assert!(matches!(d, DaoCommand::Delegate { share: Some(ref s), bps: None, .. } if s == "50%"));
        assert!(dao(&["delegate", DAO, "--to", "bob", "--share", "50%", "--bps", "5000", "--from", "k"]).is_err());
        assert!(dao(&["delegate", DAO, "--share", "50%", "--from", "k"]).is_err(), "--to is required");
        assert!(dao(&["delegate", DAO, "--to", "bob", "--bps", "-1", "--from", "k"]).is_err());
        assert!(matches!(dao(&["undelegate", DAO, "--from", "k"]).unwrap(), DaoCommand::Undelegate { to: None, .. }));
        assert!(dao(&["delegations", DAO]).is_ok());
        assert!(dao(&["register-identity", DAO, "--address", "a", "--identity", "x", "--from", "i"]).is_ok());
        assert!(dao(&["register-identity", DAO, "--address", "a", "--from", "i"]).is_err());
        // Lock: a transaction with --amount, a listing without (no --from needed).
        let l = dao(&["lock", DAO, "--amount", "10", "--conviction", "2", "--from", "k"]).unwrap();
        assert!(matches!(
            l,
            DaoCommand::Lock { amount: Some(_), conviction: Some(2), tx: OptionalTxArgs { from: Some(_), .. }, .. }
        ));
        let l = dao(&["lock", DAO, "--address", "bob"]).unwrap();
        assert!(matches!(
            l,
            DaoCommand::Lock { amount: None, tx: OptionalTxArgs { from: None, .. }, address: Some(_), .. }
        ));
        assert!(matches!(dao(&["lock", DAO]).unwrap(), DaoCommand::Lock { tx: OptionalTxArgs { from: None, .. }, .. }));
        for k in ["0", "7", "x"] {
            assert!(dao(&["lock", DAO, "--amount", "10", "--conviction", k, "--from", "k"]).is_err(), "{k}");
        }
        assert!(dao(&["lock", DAO, "--amount", "10", "--from", "k"]).is_err(), "--conviction is required");
        assert!(dao(&["lock", DAO, "--conviction", "2", "--from", "k"]).is_err(), "--amount is required");
        assert!(dao(&["lock", DAO, "--amount", "10", "--conviction", "2"]).is_err(), "--from is required");
    }
}
