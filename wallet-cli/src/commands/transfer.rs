//! `agora transfer`: a transfer through the wallet's one send pipeline
//! (`send.rs`: build, estimate, sign, send, wait).

use ledger::Payload;
use serde_json::json;

use crate::cli::TransferArgs;
use crate::commands::Ctx;
use crate::error::{Result, WalletError};
use crate::output::Fields;
use crate::send::{prepare, send};

pub async fn run(ctx: &Ctx, args: &TransferArgs) -> Result<()> {
    if args.amount.is_zero() {
        return Err(WalletError::Amount("the amount must be greater than zero".into()));
    }
    let to = ctx.resolve_address(&args.to)?;
    let p = prepare(ctx, &args.tx).await?;
    let payload = Payload::Transfer { to, amount: args.amount };
    let Some(sent) = send(ctx, &p, &args.tx, payload, ("amount", args.amount), "transfer").await? else {
        return Ok(());
    };
    let mut out = sent.json();
    out["to"] = json!(to);
    out["amount"] = json!(args.amount);
    let mut f = Fields::new();
    f.add("to", to).add("amount", args.amount);
    sent.fields(&mut f);
    if let Some(max_fee) = sent.gas_price.checked_mul(u128::from(sent.gas_limit)) {
        f.add("max fee", max_fee);
    }
    sent.finish(ctx, out, &f)
}
