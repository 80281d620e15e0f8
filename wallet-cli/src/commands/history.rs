//! `agora history ADDRESS_OR_KEYNAME` (agora_txsByAddress): the transactions
//! that touched an address, newest first, a page at a time.

use clap::ValueEnum;
use rpc_api::types::{HistoryRole, SortOrder, TxRole};

use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::Result;
use crate::output::{Table, escape_control, print_json, print_text};
use crate::rpc::HistoryQuery;

/// `--role`: which transactions of the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything below.
    Any,
    /// Sent by the address.
    Sent,
    /// Transfers to the address.
    Received,
    /// Calls of the contract at the address, and transactions in which it emitted events.
    Contract,
}

/// `agora history`.
#[derive(Clone, Debug, clap::Args)]
pub struct HistoryArgs {
    /// An `agora1…` address or a key name.
    #[arg(value_name = "ADDRESS_OR_KEYNAME")]
    pub target: String,
    /// Which transactions: sent, received, contract (calls of the contract at
    /// the address and transactions in which it emitted events), or any.
    #[arg(long, value_enum, default_value_t = RoleArg::Any)]
    pub role: RoleArg,
    /// Transactions per page (the node returns at most 100).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub limit: u64,
    /// Lowest height to look at.
    #[arg(long, value_name = "HEIGHT")]
    pub from_height: Option<u64>,
    /// Highest height to look at [default: the latest].
    #[arg(long, value_name = "HEIGHT")]
    pub to_height: Option<u64>,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Oldest first (default: newest first).
    #[arg(long)]
    pub oldest_first: bool,
}

fn role_name(r: TxRole) -> &'static str {
    match r {
        TxRole::Sender => "sender",
        TxRole::Recipient => "recipient",
        TxRole::ContractCalled => "contract",
        TxRole::ContractEvents => "events",
    }
}

pub async fn run(ctx: &Ctx, args: &HistoryArgs) -> Result<()> {
    let address = ctx.resolve_address(&args.target)?;
    let client = ctx.client(CALL_TIMEOUT)?;
    let q = HistoryQuery {
        role: Some(match args.role {
            RoleArg::Any => HistoryRole::Any,
            RoleArg::Sent => HistoryRole::Sent,
            RoleArg::Received => HistoryRole::Received,
            RoleArg::Contract => HistoryRole::Contract,
        }),
        from_height: args.from_height,
        to_height: args.to_height,
        cursor: args.cursor.clone(),
        limit: Some(args.limit),
        order: Some(if args.oldest_first { SortOrder::Asc } else { SortOrder::Desc }),
    };
    let page = client.txs_by_address(&address, &q).await?;
    if ctx.json() {
        return print_json(&page);
    }
    if page.txs.is_empty() {
        return print_text(&format!(
            "no transactions of {address} in heights {}..={}\n",
            page.from_height, page.to_height
        ));
    }
    let mut t = Table::new(&[">HEIGHT", ">TX", "HASH", "TYPE", "ROLE", "STATUS"]);
    for tx in &page.txs {
        t.row(vec![
            tx.height.to_string(),
            tx.index.to_string(),
            tx.hash.to_string(),
            tx.payload_type.clone(),
            tx.roles.iter().map(|r| role_name(*r)).collect::<Vec<_>>().join(","),
            if tx.success { "ok".into() } else { "failed".into() },
        ]);
    }
    let mut out = t.render();
    if let Some(c) = &page.next_cursor {
        out.push_str(&format!("more: agora history {} --cursor {}\n", args.target, escape_control(c)));
    }
    print_text(&out)
}
