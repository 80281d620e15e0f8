//! Read-only queries: `agora tx HASH [--wait]`, `agora status`, `agora block`,
//! and the receipt and event formatting the transaction commands share.
//!
//! With `-o json` these print the node's result unchanged.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use ledger::{Address, Hash, Payload};
use serde_json::Value;

use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::output::{Fields, format_time_ms, print_json, show_bytes, show_value};
use crate::parse::BlockSelector;
use crate::rpc::{ReceiptExt, ReceiptInfo, TxInfo, WithRaw};

/// A spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(message: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        pb.set_style(style);
    }
    pb.set_message(message.to_owned());
    if std::io::stderr().is_terminal() {
        pb.enable_steady_tick(Duration::from_millis(100));
    }
    pb
}

/// Adds a receipt's status, gas and fee to `f`.
pub fn receipt_fields(f: &mut Fields, r: &ReceiptInfo) {
    if r.succeeded() {
        f.add("status", "success");
    } else {
        f.add("status", format!("failed ({})", r.failure_reason()));
    }
    f.add("gas used", r.gas_used).add("fee", r.fee);
}

/// One event on one line: `kind key=value …`. A contract's event (`wasm-…`,
/// whose first attribute `_contract` names the contract) shows the contract in
/// brackets after the kind; values that are empty or contain spaces or `=` are
/// quoted.
pub fn event_line(e: &Value) -> String {
    let kind = e.get("kind").map(show_value).unwrap_or_else(|| "?".into());
    let mut pairs: Vec<(String, String)> = e
        .get("attributes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|kv| match kv.as_array().map(Vec::as_slice) {
                    Some([k, v]) => (show_value(k), show_value(v)),
                    _ => (String::new(), show_value(kv)),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut head = kind.clone();
    if kind.starts_with("wasm-") && pairs.first().is_some_and(|(k, _)| k == "_contract") {
        let (_, contract) = pairs.remove(0);
        head = format!("{kind} [{contract}]");
    }
    let quote = |v: &str| {
        if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == '=' || c == '"') {
            Value::from(v).to_string()
        } else {
            v.to_owned()
        }
    };
    let attrs: Vec<String> =
        pairs.iter().map(|(k, v)| if k.is_empty() { quote(v) } else { format!("{k}={}", quote(v)) }).collect();
    format!("{head} {}", attrs.join(" ")).trim_end().to_owned()
}

/// Adds one line per event (the first labelled `events`).
pub fn event_fields<E: serde::Serialize>(f: &mut Fields, events: &[E]) {
    for (i, e) in events.iter().enumerate() {
        let e = serde_json::to_value(e).unwrap_or(Value::Null);
        f.add(if i == 0 { "events" } else { "" }, event_line(&e));
    }
}

/// A contract message as text: its JSON when it is JSON, else `0x…` hex.
pub fn msg_text(msg: &[u8]) -> String {
    match std::str::from_utf8(msg) {
        Ok(t) if serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok() => t.to_owned(),
        _ => format!("0x{}", hex::encode(msg)),
    }
}

/// Adds what a payload does, and what the receipt says it returned.
fn payload_fields(f: &mut Fields, payload: &Payload, receipt: &ReceiptInfo) {
    let data = receipt.data_bytes().unwrap_or_default();
    match payload {
        Payload::Transfer { to, amount } => {
            f.add("to", to).add("amount", amount);
        }
        Payload::StoreCode { code } => {
            f.add("payload", "store code")
                .add("code size", format!("{} bytes", code.len()))
                .add("code hash", Hash::digest(code));
        }
        Payload::Instantiate { code_hash, label, msg, funds } => {
            f.add("payload", "instantiate")
                .add("code hash", code_hash)
                .add("label", label)
                .add("msg", msg_text(msg))
                .add("funds", funds);
            if let Ok(a) = <[u8; 20]>::try_from(data.as_slice()) {
                f.add("contract", Address(a));
            }
        }
        Payload::InstantiateWithAdmin { code_hash, label, msg, funds, admin } => {
            f.add("payload", "instantiate")
                .add("code hash", code_hash)
                .add("label", label)
                .add("msg", msg_text(msg))
                .add("funds", funds)
                .add_opt("admin", admin.as_ref());
            if let Ok(a) = <[u8; 20]>::try_from(data.as_slice()) {
                f.add("contract", Address(a));
            }
        }
        Payload::Migrate { contract, code_hash, msg } => {
            f.add("payload", "migrate").add("contract", contract).add("code hash", code_hash).add("msg", msg_text(msg));
        }
        Payload::UpdateAdmin { contract, admin } => {
            let admin = admin.map_or_else(|| "none (cleared)".to_owned(), |a| a.to_string());
            f.add("payload", "update admin").add("contract", contract).add("admin", admin);
        }
        Payload::Execute { contract, msg, funds } => {
            f.add("payload", "execute").add("contract", contract).add("msg", msg_text(msg)).add("funds", funds);
            if !data.is_empty() {
                f.add("result", show_bytes(&data));
            }
        }
        Payload::CreateValidator { consensus_key, self_stake, commission, min_self_delegation, metadata } => {
            f.add("payload", "create validator")
                .add("moniker", &metadata.moniker)
                .add("consensus key", consensus_key)
                .add("self-stake", self_stake)
                .add("min self-delegation", min_self_delegation)
                .add("commission", crate::commands::stake::commission_text(commission));
        }
        Payload::EditValidator { commission_rate, min_self_delegation, metadata } => {
            f.add("payload", "edit validator")
                .add_opt("commission rate", *commission_rate)
                .add_opt("min self-delegation", *min_self_delegation);
            let m = metadata;
            for (label, v) in [
                ("moniker", &m.moniker),
                ("website", &m.website),
                ("entity", &m.operator_entity),
                ("country", &m.country),
                ("hosting", &m.hosting),
                ("client version", &m.client_version),
                ("details", &m.details),
            ] {
                f.add_opt(label, v.as_ref().map(|s| format!("{s:?}")));
            }
        }
        Payload::Delegate { validator, amount } => {
            f.add("payload", "delegate").add("validator", validator).add("amount", amount);
        }
        Payload::Undelegate { validator, amount } => {
            f.add("payload", "undelegate").add("validator", validator).add("amount", amount);
        }
        Payload::Redelegate { src_validator, dst_validator, amount } => {
            f.add("payload", "redelegate").add("from", src_validator).add("to", dst_validator).add("amount", amount);
        }
        Payload::WithdrawRewards { validator } => {
            f.add("payload", "withdraw rewards")
                .add("from", validator.map_or_else(|| "all delegations".into(), |v| v.to_string()));
        }
        Payload::Unjail {} => {
            f.add("payload", "unjail");
        }
    }
}

fn print_tx(ctx: &Ctx, t: &WithRaw<TxInfo>) -> Result<()> {
    if ctx.json() {
        return print_json(&t.raw);
    }
    let v = &t.value;
    let mut f = Fields::new();
    f.add("hash", v.hash).add("height", v.height).add("index", v.index).add("block hash", v.block_hash);
    receipt_fields(&mut f, &v.receipt);
    {
        let body = &v.tx.body;
        f.add("from", body.sender_address());
        payload_fields(&mut f, &body.payload, &v.receipt);
        f.add("nonce", body.nonce)
            .add("gas limit", body.gas_limit)
            .add("gas price", body.gas_price)
            .add("chain id", &body.chain_id);
    }
    event_fields(&mut f, &v.receipt.events);
    f.print()
}

pub async fn tx(ctx: &Ctx, hash: &Hash, wait: bool, timeout: Duration) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    if let Some(t) = client.tx(hash).await? {
        return print_tx(ctx, &t);
    }
    if !wait {
        return Err(WalletError::NotFound(format!("transaction {hash}")));
    }
    // Subscribe first, then look again, so a commit between the two is not missed.
    let ws = client.ws().await?;
    let mut sub = client.subscribe_tx_status(&ws, hash).await?;
    if let Some(t) = client.tx(hash).await? {
        return print_tx(ctx, &t);
    }
    let pb = spinner(&format!("waiting for transaction {hash}"));
    let waited = tokio::time::timeout(timeout, async {
        while let Some(update) = sub.next().await {
            if let Ok(u) = update
                && u.status == "committed"
            {
                return true;
            }
        }
        false
    })
    .await;
    pb.finish_and_clear();
    match waited {
        Ok(true) => match client.tx(hash).await? {
            Some(t) => print_tx(ctx, &t),
            None => Err(WalletError::NotFound(format!("transaction {hash} (reported committed)"))),
        },
        Ok(false) => Err(WalletError::NodeUnreachable {
            url: client.url().to_owned(),
            reason: "the subscription closed before the transaction was committed".into(),
        }),
        // Not committed yet is not "failed": exit 3, like a transaction command's wait.
        Err(_) => Err(WalletError::CommitTimeout { hash: hash.to_string(), secs: timeout.as_secs() }),
    }
}

/// `agora chain-params`: `agora_chainParams` as the node sends it (JSON in
/// both output formats: the parameters are a nested document).
pub async fn chain_params(ctx: &Ctx) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    print_json(&client.chain_params().await?.raw)
}

pub async fn status(ctx: &Ctx) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    let s = client.status().await?;
    if ctx.json() {
        return print_json(&s.raw);
    }
    let v = &s.value;
    Fields::new()
        .add("node", client.url())
        .add("chain id", &v.chain_id)
        .add("node version", &v.node_version)
        .add("latest height", v.latest_height)
        .add("latest block", v.latest_block_hash)
        .add("latest block time", format_time_ms(v.latest_block_time_ms))
        .add("state root", v.latest_state_root)
        .add("syncing", v.syncing)
        .add_opt("validator", v.validator.as_ref())
        .add("peers", v.peers)
        .add_opt("node id", v.node_id.as_ref())
        .add("consensus", format!("height {} round {} {}", v.consensus.height, v.consensus.round, v.consensus.step))
        .add("mempool size", v.mempool_size)
        .add("genesis hash", v.genesis_hash)
        .print()
}

pub async fn block(ctx: &Ctx, which: BlockSelector) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    let b = client.block(&which).await?;
    if ctx.json() {
        return print_json(&b.raw);
    }
    let v = &b.value;
    let h = &v.header;
    let mut f = Fields::new();
    f.add("height", h.height)
        .add("hash", v.hash)
        .add("time", format_time_ms(h.time_ms))
        .add("chain id", &h.chain_id)
        .add("proposer", h.proposer)
        .add("parent hash", h.parent_hash)
        .add("state root", h.state_root)
        .add("tx root", h.tx_root);
    if let Some(c) = &v.last_commit {
        f.add("last commit", format!("{} signatures", c.signatures.len()));
    }
    let hashes = v.txs.hashes();
    f.add("transactions", hashes.len());
    for t in hashes {
        f.add("", t);
    }
    f.print()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ledger::Amount;

    #[test]
    fn events_are_shown_compactly() {
        let e = serde_json::json!({"kind": "transfer", "attributes": [["from", "a"], ["amount", "5"]]});
        assert_eq!(event_line(&e), "transfer from=a amount=5");
        let e = serde_json::json!({"kind": "wasm-increment",
            "attributes": [["_contract", "agora1xyz"], ["by", "2"], ["note", "hello world"], ["empty", ""]]});
        assert_eq!(event_line(&e), "wasm-increment [agora1xyz] by=2 note=\"hello world\" empty=\"\"");
        // `_contract` is only special as the first attribute of a contract event.
        let e = serde_json::json!({"kind": "store_code", "attributes": [["_contract", "x"]]});
        assert_eq!(event_line(&e), "store_code _contract=x");
    }

    fn receipt(data: &str) -> ReceiptInfo {
        serde_json::from_value(serde_json::json!({"tx_hash": "00".repeat(32), "sender": Address([1; 20]),
            "status": "success", "gas_used": 1, "fee": "1", "events": [], "data": data}))
        .unwrap()
    }

    #[test]
    fn contract_payloads_are_shown() {
        let render = |p: Payload, data: &str| {
            let mut f = Fields::new();
            payload_fields(&mut f, &p, &receipt(data));
            f.render()
        };
        let code = b"\0asm\x01\0\0\0".to_vec();
        let text = render(Payload::StoreCode { code: code.clone() }, "");
        assert!(text.contains("store code") && text.contains("8 bytes"), "{text}");
        assert!(text.contains(&Hash::digest(&code).to_string()), "{text}");

        let contract = Address([9; 20]);
        let text = render(
            Payload::Instantiate {
                code_hash: Hash([1; 32]),
                label: "my counter".into(),
                msg: br#"{"count":5}"#.to_vec(),
                funds: Amount::new(7),
            },
            &hex::encode(contract.0),
        );
        assert!(text.contains(r#"msg:       {"count":5}"#) && text.contains("label:     my counter"), "{text}");
        assert!(text.contains(&format!("contract:  {contract}")), "{text}");

        let text = render(
            Payload::Execute { contract, msg: vec![0xff, 0x00], funds: Amount::ZERO },
            &hex::encode(br#"{"count":6}"#),
        );
        assert!(text.contains("msg:      0xff00") && text.contains(r#"result:   {"count":6}"#), "{text}");
    }
}
