//! `agora stake …` and `agora validators`: the staking subcommands' arguments.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use ledger::{Amount, PublicKey, Rate};

use super::TxArgs;
use crate::parse::{
    client_version_arg, consensus_key_arg, country_arg, details_arg, entity_arg, hosting_arg, moniker_arg,
    positive_amount_arg, rate_arg, website_arg,
};

/// The `--status` filter of `agora validators`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidatorStatusFilter {
    All,
    Bonded,
    Unbonding,
    Unbonded,
    Jailed,
}

impl ValidatorStatusFilter {
    /// The `status` parameter of `agora_validators`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidatorStatusFilter::All => "all",
            ValidatorStatusFilter::Bonded => "bonded",
            ValidatorStatusFilter::Unbonding => "unbonding",
            ValidatorStatusFilter::Unbonded => "unbonded",
            ValidatorStatusFilter::Jailed => "jailed",
        }
    }
}

/// The `agora stake` subcommands.
#[derive(Debug, Subcommand)]
pub enum StakeCommand {
    /// Create a validator operated by the --from account, bonding its self-stake.
    CreateValidator(Box<CreateValidatorArgs>),

    /// Change your validator's commission rate, minimum self-delegation or metadata.
    EditValidator(Box<EditValidatorArgs>),

    /// Bond tokens to a validator.
    Delegate {
        /// The validator's operator address (`agora1…`) or the name of its operator's key.
        #[arg(value_name = "VALIDATOR")]
        validator: String,
        /// Tokens to bond, in base units.
        #[arg(value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Unbond tokens from a validator; they return after the unbonding period.
    Undelegate {
        /// The validator's operator address (`agora1…`) or the name of its operator's key.
        #[arg(value_name = "VALIDATOR")]
        validator: String,
        /// Tokens to unbond, in base units.
        #[arg(value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Move bonded tokens from one validator to another at once.
    Redelegate {
        /// The source validator's operator address or operator key name.
        #[arg(value_name = "SRC_VALIDATOR")]
        src: String,
        /// The destination validator's operator address or operator key name.
        #[arg(value_name = "DST_VALIDATOR")]
        dst: String,
        /// Tokens to move, in base units.
        #[arg(value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
        amount: Amount,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Withdraw delegation rewards (and, for an operator, its commission).
    WithdrawRewards {
        /// Only the rewards of the delegation to this validator (address or
        /// operator key name) [default: all delegations].
        #[arg(long, value_name = "VALIDATOR")]
        validator: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },

    /// Return your jailed validator to candidacy once its jail time is over.
    Unjail {
        #[command(flatten)]
        tx: TxArgs,
    },
}

/// Descriptive fields of a validator, optional in both commands. Each is
/// checked like the chain does (`ledger::staking::metadata::validate`).
#[derive(Debug, Args)]
pub struct MetadataArgs {
    /// Web site: https://… or http://… (empty to clear).
    #[arg(long, value_parser = website_arg, value_name = "URL")]
    pub website: Option<String>,
    /// The organisation running the validator [chain default: the moniker].
    #[arg(long, value_parser = entity_arg, value_name = "ORG")]
    pub entity: Option<String>,
    /// ISO 3166-1 alpha-2 country code of the validator's machines, e.g. DE.
    #[arg(long, value_parser = country_arg, value_name = "CC")]
    pub country: Option<String>,
    /// Hosting provider or autonomous system, e.g. Hetzner or AS24940.
    #[arg(long, value_parser = hosting_arg, value_name = "PROVIDER_OR_ASN")]
    pub hosting: Option<String>,
    /// Client software and version, e.g. agorad/0.1.0.
    #[arg(long, value_parser = client_version_arg, value_name = "VERSION")]
    pub client_version: Option<String>,
    /// Free text, at most 280 characters.
    #[arg(long, value_parser = details_arg, value_name = "TEXT")]
    pub details: Option<String>,
}

/// `agora stake create-validator`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("consensus").required(true).args(["consensus_key", "validator_key"])))]
pub struct CreateValidatorArgs {
    /// Tokens of the operator to bond as its own stake, in base units.
    #[arg(long, value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub self_stake: Amount,
    /// The validator's consensus public key: 64 hex digits, as printed by
    /// `agorad show-validator --home HOME`.
    #[arg(long, value_parser = consensus_key_arg, value_name = "HEX")]
    pub consensus_key: Option<PublicKey>,
    /// Read the consensus public key from agorad's key file
    /// (HOME/validator_key.json; a node HOME directory works too).
    #[arg(long, value_name = "FILE")]
    pub validator_key: Option<PathBuf>,
    /// Commission taken from delegators' rewards.
    #[arg(long, value_parser = rate_arg, default_value = "0.10", value_name = "RATE")]
    pub commission_rate: Rate,
    /// Highest commission rate the validator may ever set (cannot change later).
    #[arg(long, value_parser = rate_arg, default_value = "0.20", value_name = "RATE")]
    pub max_commission_rate: Rate,
    /// Largest change of the commission rate in one edit (cannot change later).
    #[arg(long, value_parser = rate_arg, default_value = "0.01", value_name = "RATE")]
    pub max_commission_change: Rate,
    /// The operator's own stake must stay worth at least this, or the
    /// validator is jailed [default: the chain's min_self_delegation].
    #[arg(long, value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub min_self_delegation: Option<Amount>,
    /// Display name, 1 to 64 characters.
    #[arg(long, value_parser = moniker_arg, value_name = "NAME")]
    pub moniker: String,
    #[command(flatten)]
    pub metadata: MetadataArgs,
    #[command(flatten)]
    pub tx: TxArgs,
}

/// `agora stake edit-validator`: at least one change.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("changes")
        .required(true)
        .multiple(true)
        .args(["commission_rate", "min_self_delegation", "moniker", "website", "entity", "country", "hosting",
               "client_version", "details"])
))]
pub struct EditValidatorArgs {
    /// New commission rate (within the max rate and max change, once per change period).
    #[arg(long, value_parser = rate_arg, value_name = "RATE")]
    pub commission_rate: Option<Rate>,
    /// New minimum self-delegation (it can only increase).
    #[arg(long, value_parser = positive_amount_arg, allow_hyphen_values = true, value_name = "AMOUNT")]
    pub min_self_delegation: Option<Amount>,
    /// New display name, 1 to 64 characters.
    #[arg(long, value_parser = moniker_arg, value_name = "NAME")]
    pub moniker: Option<String>,
    #[command(flatten)]
    pub metadata: MetadataArgs,
    #[command(flatten)]
    pub tx: TxArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::parse::GasSetting;
    use clap::Parser;
    use ledger::Address;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn staking_arguments() {
        let a = Address([3; 20]).to_string();
        let b = Address([4; 20]).to_string();
        let pk = PublicKey::from_signing_key(&ledger::SigningKey::from_bytes(&[5; 32])).to_string();
        let parse = |args: &[&str]| Cli::try_parse_from([&["agora"], args].concat());
        let err = |args: &[&str]| parse(args).unwrap_err().to_string();

        let cli = parse(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "5000000",
            "--consensus-key",
            &pk,
            "--moniker",
            "alpha",
            "--country",
            "de",
        ])
        .unwrap();
        let Command::Stake(StakeCommand::CreateValidator(c)) = cli.command else { panic!("other command") };
        assert_eq!((c.self_stake, c.consensus_key.map(|k| k.to_string())), (Amount::new(5_000_000), Some(pk.clone())));
        assert_eq!(
            (c.commission_rate.ppm(), c.max_commission_rate.ppm(), c.max_commission_change.ppm()),
            (100_000, 200_000, 10_000)
        );
        assert_eq!((c.metadata.country.as_deref(), c.min_self_delegation), (Some("DE"), None));
        assert_eq!(c.tx.flags.gas, GasSetting::Auto);

        let base = ["stake", "create-validator", "--from", "k", "--self-stake", "5", "--moniker", "m"];
        assert!(err(&base).contains("--consensus-key <HEX>|--validator-key <FILE>"), "{}", err(&base));
        let both = [&base[..], &["--consensus-key", &pk, "--validator-key", "f.json"]].concat();
        assert!(err(&both).contains("cannot be used with"));
        let with_key = [&base[..], &["--consensus-key", &pk]].concat();
        for (extra, msg) in [
            (&["--commission-rate", "1.5"][..], "invalid rate"),
            (&["--max-commission-rate", "120%"][..], "invalid rate"),
            (&["--country", "Germany"][..], "ISO 3166"),
            (&["--website", "v.example"][..], "https://"),
            (&["--min-self-delegation", "0"][..], "greater than zero"),
        ] {
            let e = err(&[&with_key[..], extra].concat());
            assert!(e.contains(msg), "{extra:?}: {e}");
        }
        let e = err(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "5",
            "--moniker",
            "",
            "--consensus-key",
            &pk,
        ]);
        assert!(e.contains("moniker must not be empty"), "{e}");
        let e = err(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "0",
            "--moniker",
            "m",
            "--consensus-key",
            &pk,
        ]);
        assert!(e.contains("greater than zero"), "{e}");
        let e = err(&[
            "stake",
            "create-validator",
            "--from",
            "k",
            "--self-stake",
            "5",
            "--moniker",
            "m",
            "--consensus-key",
            "abcd",
        ]);
        assert!(e.contains("invalid consensus key"), "{e}");

        let e = err(&["stake", "edit-validator", "--from", "k"]);
        assert!(e.contains("required arguments were not provided") && e.contains("--commission-rate"), "{e}");
        let cli = parse(&["stake", "edit-validator", "--from", "k", "--details", ""]).unwrap();
        let Command::Stake(StakeCommand::EditValidator(e)) = cli.command else { panic!("other command") };
        assert_eq!(e.metadata.details.as_deref(), Some(""), "an empty value clears a field");
        let cli = parse(&["stake", "edit-validator", "--from", "k", "--commission-rate", "5%"]).unwrap();
        let Command::Stake(StakeCommand::EditValidator(e)) = cli.command else { panic!("other command") };
        assert_eq!(e.commission_rate.map(Rate::ppm), Some(50_000));

        let cli = parse(&["stake", "redelegate", &a, &b, "10", "--from", "k", "--gas", "90000"]).unwrap();
        let Command::Stake(StakeCommand::Redelegate { src, dst, amount, tx }) = cli.command else { panic!() };
        assert_eq!(
            (src, dst, amount, tx.flags.gas),
            (a.clone(), b.clone(), Amount::new(10), GasSetting::Limit(90_000))
        );
        assert!(err(&["stake", "delegate", &a, "0", "--from", "k"]).contains("greater than zero"));
        assert!(err(&["stake", "delegate", &a, "-3", "--from", "k"]).contains("negative"));
        assert!(err(&["stake", "delegate", &a, "3"]).contains("--from"));
        let cli = parse(&["stake", "withdraw-rewards", "--from", "k"]).unwrap();
        assert!(matches!(cli.command, Command::Stake(StakeCommand::WithdrawRewards { validator: None, .. })));
        assert!(parse(&["stake", "unjail", "--from", "k"]).is_ok());

        let cli = parse(&["validators", "--status", "jailed"]).unwrap();
        assert!(matches!(cli.command, Command::Validators { status: ValidatorStatusFilter::Jailed }));
        let cli = parse(&["validators"]).unwrap();
        assert!(matches!(cli.command, Command::Validators { status: ValidatorStatusFilter::All }));
        assert!(parse(&["validators", "--status", "active"]).is_err());
        assert!(matches!(parse(&["delegations"]).unwrap().command, Command::Delegations { delegator: None }));
        assert!(matches!(parse(&["validator", "mykey"]).unwrap().command, Command::Validator { .. }));
    }
}
