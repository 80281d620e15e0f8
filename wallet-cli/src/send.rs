//! The one way the wallet sends a transaction, shared by every transaction
//! command (transfer, contracts, staking, DAOs), with the options of
//! [`TxFlags`]:
//!
//! 1. **Prepare** ([`prepare`]): load the sender's keystore (plaintext part),
//!    ask the node for the chain id and parameters (`agora_chainParams`) and
//!    check the chain id against the pinned one (`--chain-id`,
//!    `AGORA_CHAIN_ID`, `chain-id` in client.toml): a node on another chain is
//!    refused (exit 4) before anything is signed. With nothing pinned, the
//!    node's chain id is used and a note says so on stderr, once.
//! 2. **Build**: the sender's account (`agora_getAccount`: pending nonce,
//!    balance), the nonce (`--nonce` or the pending one), a size check
//!    against `max_tx_bytes`.
//! 3. **Estimate**: with `--gas auto` (the default) a dry run
//!    (`agora_estimateGas`, zero signature, `gas_limit = max_tx_gas`, committed
//!    nonce); a failing dry run stops here, nothing is signed or paid. The gas
//!    limit is `ceil(gas_used × --gas-adjustment)` (default 1.3: gas can
//!    depend on state that changes before inclusion; only the gas used is
//!    charged), capped at `max_tx_gas`. `--gas N` is used as is. Signatures
//!    and the gas fields have a fixed width, so the dry-run transaction is
//!    exactly as large as the signed one.
//! 4. **Fee**: the gas price is `--gas-price`, or `--fees ÷ gas limit`, or
//!    the chain's `min_gas_price`; a price below the minimum, a gas limit above
//!    `max_tx_gas` and a balance below value + maximum fee are refused here.
//!    The chain parameters and the estimate come from the node, which may be
//!    hostile: a maximum fee (gas limit × gas price) above the wallet's cap
//!    is refused (exit 4) before signing ([`fee_cap`]: `--max-fee`, then
//!    `AGORA_MAX_FEE`, then `max-fee` in client.toml, then
//!    [`DEFAULT_MAX_FEE`]; a fee the user fixed with `--fees`, or with both
//!    `--gas N` and `--gas-price`, is only checked against a cap they set).
//! 5. **Sign**: only now is the password asked for.
//! 6. **Send and wait**: `agora_sendTxCommit` (a spinner on stderr follows
//!    the blocks), or `agora_sendTx` with `--no-wait` (prints the hash and
//!    `pending`, exit 0). Exit codes: a commit timeout is 3, a transaction the
//!    node refuses (admission or validation errors 1001–1010, invalid
//!    parameters) is 4, a committed but failed one is 1.

use std::io::IsTerminal;
use std::time::Duration;

use ledger::{Address, Amount, Hash, Payload, SignedTx, TxBody};
use serde_json::{Value, json};

use crate::cli::{TxArgs, TxFlags};
use crate::commands::query::{receipt_fields, spinner};
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::config::{ConfigKey, DEFAULT_MAX_FEE};
use crate::error::{Result, WalletError};
use crate::keystore::Keystore;
use crate::output::{Fields, print_json};
use crate::parse::GasSetting;
use crate::rpc::{
    AccountInfo, ChainParamsInfo, Committed, GasEstimate, GasEstimateExt, MAX_COMMIT_TIMEOUT, NodeClient, ReceiptExt,
    WithRaw, codes,
};

/// The node's transaction admission and validation errors (docs/rpc.md,
/// "Errors": 1001 malformed … 1010 invalid, with wrong chain id, nonce, fee,
/// duplicate and full mempool between): the node refused the transaction.
const ADMISSION_ERRORS: std::ops::RangeInclusive<i32> = rpc_api::codes::TX_MALFORMED..=rpc_api::codes::TX_INVALID;
/// JSON-RPC "invalid params": the node could not even read the transaction.
const INVALID_PARAMS: i32 = rpc_api::codes::INVALID_PARAMS;

/// The signing key (not yet decrypted), a client that waits long enough for
/// the commit, and the chain's parameters, checked against the pinned chain id.
pub(crate) struct Prepared {
    pub(crate) from: Keystore,
    pub(crate) client: NodeClient,
    pub(crate) chain: ChainParamsInfo,
}

/// Step 1 of the module documentation.
pub(crate) async fn prepare(ctx: &Ctx, tx: &TxArgs) -> Result<Prepared> {
    check_commit_timeout(tx.flags.timeout)?;
    let from = ctx.keyring.load(&tx.from)?;
    let client = ctx.client(CALL_TIMEOUT + tx.flags.timeout)?;
    let chain = client.chain_params().await?.value;
    ctx.check_chain(&chain.chain_id, client.url())?;
    Ok(Prepared { from, client, chain })
}

/// A transaction that was signed, sent and committed.
pub(crate) struct Sent {
    pub(crate) from: Address,
    pub(crate) nonce: u64,
    pub(crate) gas_limit: u64,
    pub(crate) gas_price: Amount,
    pub(crate) estimate: Option<GasEstimate>,
    pub(crate) committed: WithRaw<Committed>,
}

impl Sent {
    pub(crate) fn succeeded(&self) -> bool {
        self.committed.value.receipt.succeeded()
    }

    /// The receipt's `data` (empty if the node sent none or not hex).
    pub(crate) fn data(&self) -> Vec<u8> {
        self.committed.value.receipt.data_bytes().unwrap_or_else(|e| {
            eprintln!("warning: {}", crate::output::escape_control(&e.to_string()));
            Vec::new()
        })
    }

    /// The `-o json` document: the commit, the receipt as the node sent it, and
    /// what the wallet chose.
    pub(crate) fn json(&self) -> Value {
        let c = &self.committed.value;
        json!({
            "hash": c.hash,
            "status": if self.succeeded() { "committed" } else { "failed" },
            "height": c.height,
            "index": c.index,
            "block_hash": c.block_hash,
            "receipt": self.committed.raw.get("receipt").cloned().unwrap_or_default(),
            "from": self.from,
            "nonce": self.nonce,
            "gas_limit": self.gas_limit,
            "gas_price": self.gas_price,
            "gas_estimate": self.estimate.as_ref().map(|e| e.gas_used),
        })
    }

    /// Hash, height, status, gas and fee.
    pub(crate) fn fields(&self, f: &mut Fields) {
        let c = &self.committed.value;
        f.add("tx hash", c.hash).add("height", c.height);
        receipt_fields(f, &c.receipt);
        match &self.estimate {
            Some(e) => f.add("gas limit", format!("{} (auto: the dry run used {})", self.gas_limit, e.gas_used)),
            None => f.add("gas limit", self.gas_limit),
        };
    }

    /// Prints `out` (JSON) or `f` (text) and succeeds, or fails if the receipt
    /// did: in text after printing `f`, in JSON with `out` as the error's data
    /// (one document on stdout either way).
    pub(crate) fn finish(&self, ctx: &Ctx, out: Value, f: &Fields) -> Result<()> {
        let c = &self.committed.value;
        if self.succeeded() {
            return if ctx.json() { print_json(&out) } else { f.print() };
        }
        let result = if ctx.json() {
            Some(Box::new(out))
        } else {
            f.print()?;
            None
        };
        Err(WalletError::TxFailed {
            hash: c.hash.to_string(),
            height: c.height.0,
            reason: c.receipt.failure_reason(),
            result,
        })
    }
}

/// A signed transaction and what the wallet chose for it.
struct Signed {
    hash: Hash,
    tx_hex: String,
    from: Address,
    chain_id: String,
    nonce: u64,
    gas_limit: u64,
    gas_price: Amount,
    max_fee: Amount,
    estimate: Option<GasEstimate>,
}

/// Builds, estimates, signs and sends `payload`, which moves `value` (named
/// by its label in errors, e.g. `("funds", 5)`) from the sender; `what` names
/// the transaction in errors. Waits for the commit, unless `--no-wait`: then
/// prints the pending transaction and returns `None` (the command is done).
pub(crate) async fn send(
    ctx: &Ctx,
    p: &Prepared,
    tx: &TxArgs,
    payload: Payload,
    value: (&'static str, Amount),
    what: &'static str,
) -> Result<Option<Sent>> {
    let signed = sign(ctx, p, &tx.flags, payload, value, what).await?;
    if tx.flags.no_wait {
        submit_no_wait(ctx, &p.client, &signed, what).await?;
        return Ok(None);
    }
    submit(&p.client, signed, tx.flags.timeout).await.map(Some)
}

/// [`send`], always waiting for the commit: a step that later steps build on
/// (they are dry-run against committed state).
pub(crate) async fn send_committed(
    ctx: &Ctx,
    p: &Prepared,
    tx: &TxArgs,
    payload: Payload,
    value: (&'static str, Amount),
    what: &'static str,
) -> Result<Sent> {
    let signed = sign(ctx, p, &tx.flags, payload, value, what).await?;
    submit(&p.client, signed, tx.flags.timeout).await
}

/// Steps 2 to 5 of the module documentation.
async fn sign(
    ctx: &Ctx,
    p: &Prepared,
    flags: &TxFlags,
    payload: Payload,
    value: (&'static str, Amount),
    what: &'static str,
) -> Result<Signed> {
    let Prepared { from, client, chain } = p;
    let account = client.account(&from.address).await?.value;
    let nonce = flags.nonce.unwrap_or(account.pending_nonce.unwrap_or(account.nonce));
    let min_price = chain.params.min_gas_price;
    let max_gas = chain.params.max_tx_gas;
    let body = |nonce: u64, gas_limit: u64, gas_price: Amount| TxBody {
        chain_id: chain.chain_id.clone(),
        sender: from.public_key,
        nonce,
        gas_limit,
        gas_price,
        payload: payload.clone(),
    };
    // The dry run uses the committed next nonce even with `--nonce` (the node
    // simulates against committed state); gas does not depend on it.
    let dry = SignedTx { body: body(account.nonce, max_gas, min_price), signature: ledger::Signature([0; 64]) };
    let dry_bytes = dry.encode();
    if let Some(max) = Some(u64::from(chain.params.max_tx_bytes))
        && dry_bytes.len() as u64 > max
    {
        return Err(WalletError::InvalidArgument(format!(
            "the transaction would be {} bytes, above the chain's limit of {max} bytes (max_tx_bytes)",
            dry_bytes.len()
        )));
    }

    let (gas_limit, estimate) = match flags.gas {
        GasSetting::Limit(g) => (g, None),
        GasSetting::Auto => {
            let est = client.estimate_gas(&hex::encode(&dry_bytes)).await.map_err(refused)?.value;
            if !est.succeeded() {
                return Err(WalletError::DryRunFailed { what, reason: est.failure_reason() });
            }
            (flags.gas_adjustment.apply(est.gas_used, max_gas), Some(est))
        }
    };
    let gas_price = gas_price(flags, gas_limit, min_price)?;
    check_fee_cap(fee_cap(ctx, flags), gas_limit, gas_price, min_price)?;
    let max_fee = check_affordable(&from.address, &account, gas_limit, max_gas, gas_price, value, what)?;

    let password = ctx.password.existing(&from.name)?;
    let signed = {
        let unlocked = from.decrypt(&password)?;
        body(nonce, gas_limit, gas_price).sign(&unlocked.signing_key)
    };
    drop(password);
    Ok(Signed {
        hash: signed.hash(),
        tx_hex: hex::encode(signed.encode()),
        from: from.address,
        chain_id: chain.chain_id.clone(),
        nonce,
        gas_limit,
        gas_price,
        max_fee,
        estimate,
    })
}

/// The gas price: `--gas-price`, else `--fees ÷ gas limit` rounded down, else
/// the chain's minimum; a price below the minimum is refused here rather
/// than by the node.
pub(crate) fn gas_price(flags: &TxFlags, gas_limit: u64, min_price: Amount) -> Result<Amount> {
    let price = match (flags.gas_price, flags.fees) {
        (Some(p), _) => p,
        (None, Some(fees)) => {
            if gas_limit == 0 {
                return Err(WalletError::InvalidArgument("a gas limit of 0 cannot pay for anything".into()));
            }
            let price = Amount::new(fees.get() / u128::from(gas_limit));
            if price < min_price {
                let needed = min_price.checked_mul(u128::from(gas_limit)).unwrap_or(Amount::new(u128::MAX));
                return Err(WalletError::InvalidArgument(format!(
                    "--fees {fees} is below what gas limit {gas_limit} costs at the chain's minimum gas price {min_price}: give at least {needed}"
                )));
            }
            price
        }
        (None, None) => min_price,
    };
    if price < min_price {
        return Err(WalletError::InvalidArgument(format!(
            "gas price {price} is below the chain's minimum {min_price}"
        )));
    }
    Ok(price)
}

/// The wallet's cap on the maximum fee, and what set it: `--max-fee`, then
/// `AGORA_MAX_FEE`, then `max-fee` in client.toml, then [`DEFAULT_MAX_FEE`],
/// which does not apply to a fee the user fixed (`--fees`, or `--gas N` with
/// `--gas-price`): `None` then.
pub(crate) fn fee_cap(ctx: &Ctx, flags: &TxFlags) -> Option<(Amount, String)> {
    if let Some(cap) = flags.max_fee {
        return Some((cap, "--max-fee".into()));
    }
    if let Some((cap, source)) = &ctx.max_fee {
        return Some((*cap, source.describe(ConfigKey::MaxFee)));
    }
    let user_fixed = flags.fees.is_some() || (flags.gas_price.is_some() && matches!(flags.gas, GasSetting::Limit(_)));
    (!user_fixed).then(|| (DEFAULT_MAX_FEE, "the default cap".into()))
}

/// Refuses (exit 4), before signing, a maximum fee (`gas_limit` ×
/// `gas_price`) above `cap`: the price and the estimate may come from a
/// hostile node.
pub(crate) fn check_fee_cap(
    cap: Option<(Amount, String)>,
    gas_limit: u64,
    gas_price: Amount,
    min_gas_price: Amount,
) -> Result<()> {
    let Some((cap, cap_source)) = cap else { return Ok(()) };
    let fee = gas_price.checked_mul(u128::from(gas_limit));
    if fee.is_some_and(|f| f <= cap) {
        return Ok(());
    }
    Err(WalletError::FeeAboveCap {
        fee: fee.map_or_else(|| "more than 2^128".to_owned(), |f| f.to_string()),
        gas_limit,
        gas_price,
        min_gas_price,
        cap,
        cap_source,
    })
}

/// Refuses, before signing, a gas limit above the chain's maximum or a
/// transaction the sender cannot afford: `value` (a transfer's amount, a
/// contract call's funds, a delegation or a validator's self-stake, described
/// by `value_label`) plus the maximum fee, which it returns.
pub(crate) fn check_affordable(
    from: &Address,
    account: &AccountInfo,
    gas_limit: u64,
    max_gas: u64,
    gas_price: Amount,
    (value_label, value): (&str, Amount),
    what: &str,
) -> Result<Amount> {
    if gas_limit > max_gas {
        return Err(WalletError::InvalidArgument(format!(
            "gas limit {gas_limit} is above the chain's per-transaction maximum {max_gas}"
        )));
    }
    let max_fee = gas_price
        .checked_mul(u128::from(gas_limit))
        .ok_or_else(|| WalletError::InvalidArgument("gas limit × gas price overflows".into()))?;
    let needed = value
        .checked_add(max_fee)
        .ok_or_else(|| WalletError::Amount(format!("{value_label} + maximum fee overflows")))?;
    if account.balance < needed {
        return Err(WalletError::InvalidArgument(format!(
            "insufficient balance: {from} has {} at height {}, the {what} needs {value_label} {value} + maximum fee {max_fee} = {needed}",
            account.balance, account.height
        )));
    }
    Ok(max_fee)
}

/// The node's refusal of a transaction ([`ADMISSION_ERRORS`], invalid
/// params) as [`WalletError::Refused`] (exit 4); other errors unchanged.
pub(crate) fn refused(e: WalletError) -> WalletError {
    match e {
        WalletError::Rpc { context, code, message, data }
            if ADMISSION_ERRORS.contains(&code) || code == INVALID_PARAMS =>
        {
            WalletError::Refused { context, code, message, data }
        }
        e => e,
    }
}

/// `agora_sendTx`, then the pending transaction on stdout.
async fn submit_no_wait(ctx: &Ctx, client: &NodeClient, s: &Signed, what: &str) -> Result<()> {
    let sub = client.send_tx(&s.tx_hex).await.map_err(refused)?.value;
    warn_hash_mismatch(&s.hash, &sub.hash);
    if ctx.json() {
        return print_json(&json!({
            "hash": sub.hash,
            "status": "pending",
            "what": what,
            "chain_id": s.chain_id,
            "from": s.from,
            "nonce": s.nonce,
            "gas_limit": s.gas_limit,
            "gas_price": s.gas_price,
            "gas_estimate": s.estimate.as_ref().map(|e| e.gas_used),
            "max_fee": s.max_fee,
        }));
    }
    let mut f = Fields::new();
    f.add("tx hash", sub.hash)
        .add("status", "pending (accepted by the mempool)")
        .add("nonce", s.nonce)
        .add("gas limit", s.gas_limit)
        .add("max fee", s.max_fee);
    f.print()?;
    eprintln!("Follow it with `agora tx {} --wait`.", sub.hash);
    Ok(())
}

/// Submits with `agora_sendTxCommit` and waits for the commit, with a spinner
/// on stderr. A commit timeout (the node's 1011, or no answer in time) becomes
/// [`WalletError::CommitTimeout`] (exit 3), which names the hash to follow.
async fn submit(client: &NodeClient, s: Signed, timeout: Duration) -> Result<Sent> {
    let short = s.hash.to_string();
    let pb = spinner(&format!("transaction {}… submitted, waiting for inclusion", &short[..12]));
    let result = tokio::select! {
        r = client.send_tx_commit(&s.tx_hex, timeout) => r,
        () = follow_blocks(client, &pb) => unreachable_pending(),
    };
    pb.finish_and_clear();
    let committed = match result {
        Ok(c) => c,
        Err(WalletError::Rpc { code: codes::COMMIT_TIMEOUT, .. } | WalletError::NodeTimeout { .. }) => {
            return Err(WalletError::CommitTimeout { hash: s.hash.to_string(), secs: timeout.as_secs() });
        }
        Err(e) => return Err(refused(e)),
    };
    warn_hash_mismatch(&s.hash, &committed.value.hash);
    Ok(Sent {
        from: s.from,
        nonce: s.nonce,
        gas_limit: s.gas_limit,
        gas_price: s.gas_price,
        estimate: s.estimate,
        committed,
    })
}

/// Checks `--timeout` of a command that waits for the commit.
pub(crate) fn check_commit_timeout(timeout: Duration) -> Result<()> {
    if timeout.is_zero() || timeout > MAX_COMMIT_TIMEOUT {
        return Err(WalletError::Usage(format!("--timeout must be between 1ms and {}s", MAX_COMMIT_TIMEOUT.as_secs())));
    }
    Ok(())
}

fn warn_hash_mismatch(ours: &Hash, theirs: &Hash) {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parse::parse_gas_adjustment;

    #[test]
    fn the_gas_price_comes_from_the_flags_or_the_chain() {
        let min = Amount::new(2);
        let flags = |gas_price: Option<u128>, fees: Option<u128>| TxFlags {
            gas_price: gas_price.map(Amount::new),
            fees: fees.map(Amount::new),
            ..TxFlags::default()
        };
        assert_eq!(gas_price(&flags(None, None), 1000, min).unwrap(), min, "the chain's minimum by default");
        assert_eq!(gas_price(&flags(Some(5), None), 1000, min).unwrap(), Amount::new(5));
        let e = gas_price(&flags(Some(1), None), 1000, min).unwrap_err().to_string();
        assert!(e.contains("below the chain's minimum 2"), "{e}");
        // --fees: the price is fees ÷ gas limit, rounded down.
        assert_eq!(gas_price(&flags(None, Some(2999)), 1000, min).unwrap(), Amount::new(2));
        assert_eq!(gas_price(&flags(None, Some(3000)), 1000, min).unwrap(), Amount::new(3));
        let e = gas_price(&flags(None, Some(1999)), 1000, min).unwrap_err().to_string();
        assert!(e.contains("give at least 2000"), "{e}");
        assert!(gas_price(&flags(None, Some(10)), 0, Amount::ZERO).is_err());
        assert_eq!(gas_price(&flags(None, Some(u128::MAX)), 1, min).unwrap(), Amount::new(u128::MAX));
    }

    #[test]
    fn the_fee_cap_refuses_a_hostile_price_or_estimate() {
        let cap = |c: u128| Some((Amount::new(c), "--max-fee".to_owned()));
        assert!(check_fee_cap(cap(1_000), 100, Amount::new(10), Amount::new(1)).is_ok(), "exactly the cap");
        let e = check_fee_cap(cap(999), 100, Amount::new(10), Amount::new(10)).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_REFUSED);
        let m = e.to_string();
        assert!(m.contains("up to 1000 in fees") && m.contains("maximum fee 999 (--max-fee)"), "{m}");
        assert_eq!(e.to_json()["error"]["data"]["fee"], "1000");
        let e = check_fee_cap(cap(u128::MAX), u64::MAX, Amount::new(u128::MAX), Amount::new(1)).unwrap_err();
        assert!(e.to_string().contains("more than 2^128"), "an overflow is above any cap: {e}");
        assert!(check_fee_cap(None, u64::MAX, Amount::new(u128::MAX), Amount::new(1)).is_ok(), "no cap");

        // Which cap applies.
        let dir = tempfile::tempdir().unwrap();
        let cli = |args: &[&str]| {
            use clap::Parser;
            crate::cli::Cli::try_parse_from(
                [
                    &[
                        "agora",
                        "--keyring-dir",
                        dir.path().to_str().unwrap(),
                        "transfer",
                        "--to",
                        "a",
                        "--amount",
                        "1",
                        "--from",
                        "k",
                    ][..],
                    args,
                ]
                .concat(),
            )
            .unwrap()
        };
        let cap_of = |args: &[&str]| {
            let c = cli(args);
            let ctx = Ctx::from_cli(&c).unwrap();
            let crate::cli::Command::Transfer(t) = c.command else { panic!("transfer") };
            fee_cap(&ctx, &t.tx.flags)
        };
        assert_eq!(cap_of(&[]), Some((DEFAULT_MAX_FEE, "the default cap".into())));
        assert_eq!(cap_of(&["--gas-price", "5"]), Some((DEFAULT_MAX_FEE, "the default cap".into())), "auto gas");
        assert_eq!(cap_of(&["--fees", "99999999999999"]), None, "the user's --fees is respected");
        assert_eq!(cap_of(&["--gas", "5", "--gas-price", "5"]), None, "so is a fixed gas and price");
        assert_eq!(cap_of(&["--fees", "9", "--max-fee", "7"]), Some((Amount::new(7), "--max-fee".into())));
    }

    #[test]
    fn affordability_counts_value_and_the_maximum_fee() {
        let account = AccountInfo {
            address: Address([1; 20]),
            balance: Amount::new(1_000),
            nonce: 0,
            pending_nonce: None,
            height: ledger::Height(3),
            state_root: Hash([0; 32]),
            exists: None,
            proof: None,
        };
        let a = Address([1; 20]);
        assert_eq!(
            check_affordable(&a, &account, 100, 1000, Amount::new(2), ("amount", Amount::new(800)), "t").unwrap(),
            Amount::new(200)
        );
        let e =
            check_affordable(&a, &account, 100, 1000, Amount::new(2), ("amount", Amount::new(801)), "t").unwrap_err();
        assert!(e.to_string().contains("insufficient balance"), "{e}");
        let e = check_affordable(&a, &account, 1001, 1000, Amount::new(1), ("amount", Amount::ZERO), "t").unwrap_err();
        assert!(e.to_string().contains("above the chain's per-transaction maximum"), "{e}");
        let e =
            check_affordable(&a, &account, u64::MAX, u64::MAX, Amount::new(u128::MAX), ("amount", Amount::ZERO), "t");
        assert!(e.is_err(), "overflow is refused");
        // --gas-adjustment feeds --gas auto.
        assert_eq!(parse_gas_adjustment("1.5").unwrap().apply(1_000, 100_000), 1_500);
    }

    #[test]
    fn admission_errors_are_refusals() {
        let rpc =
            |code| WalletError::Rpc { context: "node rejected the transaction", code, message: "m".into(), data: None };
        for code in [1001, 1004, 1005, 1007, 1009, 1010, -32602] {
            let e = refused(rpc(code));
            assert!(matches!(e, WalletError::Refused { .. }), "{code}");
            assert_eq!(e.exit_code(), crate::error::EXIT_REFUSED);
        }
        for code in [1011, 1012, 1013, 1015, 1016, -32603] {
            assert!(matches!(refused(rpc(code)), WalletError::Rpc { .. }), "{code}");
        }
        assert_eq!(
            refused(rpc(1005)).to_string(),
            "node rejected the transaction (1005): m",
            "the message is the node's, as before"
        );
        assert!(check_commit_timeout(Duration::ZERO).is_err());
        assert!(check_commit_timeout(MAX_COMMIT_TIMEOUT + Duration::from_millis(1)).is_err());
        assert!(check_commit_timeout(Duration::from_secs(1)).is_ok());
    }
}
