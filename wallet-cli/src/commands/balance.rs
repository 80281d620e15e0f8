//! `agora balance ADDRESS_OR_KEYNAME` (agora_getAccount).

use serde_json::json;

use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::Result;
use crate::output::{Fields, print_json};

pub async fn run(ctx: &Ctx, target: &str) -> Result<()> {
    let address = ctx.resolve_address(target)?;
    let client = ctx.client(CALL_TIMEOUT)?;
    let acct = client.account(&address).await?.value;
    if ctx.json() {
        return print_json(&json!({
            "address": acct.address,
            "balance": acct.balance,
            "nonce": acct.nonce,
            "height": acct.height,
        }));
    }
    Fields::new()
        .add("address", acct.address)
        .add("balance", acct.balance)
        .add("nonce", acct.nonce)
        .add("height", acct.height)
        .print()
}
