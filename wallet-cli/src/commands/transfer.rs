//! `agora transfer`: build, estimate, sign, submit and wait.
//!
//! 1. Load the sender's keystore (plaintext part) and resolve the recipient.
//! 2. Ask the node for the chain id and parameters (`agora_chainParams`) and the
//!    sender's account (`agora_getAccount`: next nonce, balance).
//! 3. Gas limit: `--gas-limit`, or the `gas_used` of a dry run
//!    (`agora_estimateGas`, sent with a zero signature, `gas_limit = max_tx_gas`
//!    and the account's committed nonce).
//!    No margin is added: the gas of a transfer depends on its encoded size, and
//!    borsh encodes the gas fields with fixed width, so the signed transaction has
//!    exactly the size of the dry-run one. A failed dry run stops here, before
//!    anything is signed or paid.
//! 4. Check locally what the node would refuse or what would fail on chain (gas
//!    price below the minimum, gas limit above `max_tx_gas`, balance below amount +
//!    maximum fee: the dry run charges no fee, so it cannot see that last one).
//! 5. Only now ask for the password, decrypt, sign.
//! 6. Submit with `agora_sendTxCommit` (a spinner on stderr shows the latest block,
//!    followed over a WebSocket subscription when stderr is a terminal), or with
//!    `agora_sendTx` for `--no-wait`.

use std::io::IsTerminal;
use std::time::Duration;

use ledger::{Amount, Hash, Payload, SignedTx, TxBody};
use serde_json::json;

use crate::cli::TransferArgs;
use crate::commands::query::{receipt_fields, spinner};
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::output::{Fields, print_json};
use crate::rpc::{Committed, GasEstimateExt, MAX_COMMIT_TIMEOUT, NodeClient, ReceiptExt, WithRaw, codes};

pub async fn run(ctx: &Ctx, args: &TransferArgs) -> Result<()> {
    if args.amount.is_zero() {
        return Err(WalletError::Amount("the amount must be greater than zero".into()));
    }
    if !args.no_wait {
        check_commit_timeout(args.timeout)?;
    }
    let from = ctx.keyring.load(&args.from)?;
    let to = ctx.resolve_address(&args.to)?;
    let client = ctx.client(CALL_TIMEOUT + args.timeout)?;

    let chain = client.chain_params().await?.value;
    let account = client.account(&from.address).await?.value;
    let (nonce, gas_price) = super::nonce_and_price(&chain, &account, args.nonce, args.gas_price)?;
    let max_gas = chain.params.max_tx_gas;
    let body = |nonce: u64, gas_limit: u64| TxBody {
        chain_id: chain.chain_id.clone(),
        sender: from.public_key,
        nonce,
        gas_limit,
        gas_price,
        payload: Payload::Transfer { to, amount: args.amount },
    };

    let gas_limit = match args.gas_limit {
        Some(g) => g,
        None => {
            // The dry run uses the committed next nonce even with `--nonce` (the
            // node simulates against committed state); gas does not depend on it.
            let dry = SignedTx { body: body(account.nonce, max_gas), signature: ledger::Signature([0; 64]) };
            let est = client.estimate_gas(&hex::encode(dry.encode())).await?.value;
            if !est.succeeded() {
                return Err(WalletError::InvalidArgument(format!(
                    "the dry run of this transfer failed: {}; nothing was sent",
                    est.failure_reason()
                )));
            }
            est.gas_used
        }
    };
    let max_fee = super::check_affordable(
        &from.address,
        &account,
        gas_limit,
        max_gas,
        gas_price,
        ("amount", args.amount),
        "transfer",
    )?;

    let password = ctx.password.existing(&from.name)?;
    let signed = {
        let unlocked = from.decrypt(&password)?;
        body(nonce, gas_limit).sign(&unlocked.signing_key)
    };
    drop(password);
    let hash = signed.hash();
    let tx_hex = hex::encode(signed.encode());
    let summary = json!({
        "from": from.address,
        "to": to,
        "amount": args.amount,
        "nonce": nonce,
        "gas_limit": gas_limit,
        "gas_price": gas_price,
    });

    if args.no_wait {
        let sub = client.send_tx(&tx_hex).await?.value;
        warn_hash_mismatch(&hash, &sub.hash);
        if ctx.json() {
            let mut v = summary;
            v["hash"] = json!(sub.hash);
            v["status"] = json!("pending");
            return print_json(&v);
        }
        let mut f = Fields::new();
        f.add("hash", sub.hash)
            .add("status", "pending (accepted by the mempool)")
            .add("nonce", nonce)
            .add("gas limit", gas_limit)
            .add("max fee", max_fee);
        f.print()?;
        eprintln!("Follow it with `agora tx {} --wait`.", sub.hash);
        return Ok(());
    }

    let committed = commit_and_wait(&client, &tx_hex, &hash, args.timeout).await?;
    print_committed(ctx, &committed, summary, max_fee)?;
    let c = &committed.value;
    if !c.receipt.succeeded() {
        return Err(WalletError::TxFailed {
            hash: c.hash.to_string(),
            height: c.height.0,
            reason: c.receipt.failure_reason(),
        });
    }
    Ok(())
}

fn print_committed(ctx: &Ctx, c: &WithRaw<Committed>, summary: serde_json::Value, max_fee: Amount) -> Result<()> {
    let v = &c.value;
    if ctx.json() {
        let mut out = summary;
        out["hash"] = json!(v.hash);
        out["height"] = json!(v.height);
        out["index"] = json!(v.index);
        out["block_hash"] = json!(v.block_hash);
        out["receipt"] = c.raw.get("receipt").cloned().unwrap_or_default();
        return print_json(&out);
    }
    let mut f = Fields::new();
    f.add("hash", v.hash).add("height", v.height).add("block hash", v.block_hash);
    receipt_fields(&mut f, &v.receipt);
    f.add("max fee", max_fee);
    f.print()
}

/// Submits with `agora_sendTxCommit` and waits for the commit, with a spinner
/// on stderr. A commit timeout (the node's 1011, or no answer in time) becomes
/// [`WalletError::CommitTimeout`], which names the hash to follow.
pub(crate) async fn commit_and_wait(
    client: &NodeClient,
    tx_hex: &str,
    hash: &Hash,
    timeout: Duration,
) -> Result<WithRaw<Committed>> {
    let short = hash.to_string();
    let pb = spinner(&format!("transaction {}… submitted, waiting for inclusion", &short[..12]));
    let result = tokio::select! {
        r = client.send_tx_commit(tx_hex, timeout) => r,
        () = follow_blocks(client, &pb) => unreachable_pending(),
    };
    pb.finish_and_clear();
    let committed = match result {
        Ok(c) => c,
        Err(WalletError::Rpc { code: codes::COMMIT_TIMEOUT, .. } | WalletError::NodeTimeout { .. }) => {
            return Err(WalletError::CommitTimeout { hash: hash.to_string(), secs: timeout.as_secs() });
        }
        Err(e) => return Err(e),
    };
    warn_hash_mismatch(hash, &committed.value.hash);
    Ok(committed)
}

/// Checks `--timeout` of a command that waits for the commit.
pub(crate) fn check_commit_timeout(timeout: Duration) -> Result<()> {
    if timeout.is_zero() || timeout > MAX_COMMIT_TIMEOUT {
        return Err(WalletError::InvalidArgument(format!(
            "--timeout must be between 1ms and {}s",
            MAX_COMMIT_TIMEOUT.as_secs()
        )));
    }
    Ok(())
}

fn warn_hash_mismatch(ours: &ledger::Hash, theirs: &ledger::Hash) {
    if ours != theirs {
        eprintln!("warning: the node reports hash {theirs}, the wallet computed {ours}");
    }
}

fn unreachable_pending() -> Result<WithRaw<Committed>> {
    Err(WalletError::InvalidArgument("internal: block follower ended".into()))
}

/// Shows the latest block height in the spinner while waiting. Never returns
/// (it idles if there is no terminal or no WebSocket subscription).
async fn follow_blocks(client: &NodeClient, pb: &indicatif::ProgressBar) {
    if std::io::stderr().is_terminal()
        && let Ok(Ok(ws)) = tokio::time::timeout(Duration::from_secs(5), client.ws()).await
        && let Ok(mut sub) = client.subscribe_new_blocks(&ws).await
    {
        let base = pb.message();
        while let Some(Ok(b)) = sub.next().await {
            pb.set_message(format!("{base} (latest block {})", b.height));
        }
    }
    std::future::pending::<()>().await;
}
