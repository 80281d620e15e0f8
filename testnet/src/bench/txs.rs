//! What `testnet bench` sends: transfers or token calls pre-signed on every
//! core, the token contract's deployment, and the receipt check after a stage.

use std::time::Duration;

use anyhow::{Context, Result};
use jsonrpsee::http_client::HttpClient;
use ledger::{Address, Amount, Hash, Payload, PublicKey, SigningKey, TxBody};

use super::{TOKEN_CALL_GAS, TOKEN_LABEL};
use crate::rpc;

/// A pre-signed transfer: its account, hash and `agora_sendTx` argument.
pub(super) struct Presigned {
    pub(super) account: usize,
    pub(super) hash: Hash,
    pub(super) hex: String,
}

/// Committed transactions whose receipts are checked after each stage.
pub(super) const RECEIPT_SAMPLE: usize = 50;

/// Of a sample of a stage's transactions, how many committed with a failed
/// receipt (a token call that failed still counts as committed above).
pub(super) async fn failed_receipts(client: &HttpClient, sample: &[Hash]) -> (u64, u64) {
    let mut failed = 0;
    let mut seen = 0;
    for h in sample {
        if let Ok(Some(tx)) = rpc::ChainApiClient::get_tx(client, *h).await {
            seen += 1;
            if matches!(tx.receipt.status, ledger::TxStatus::Failed { .. }) {
                failed += 1;
            }
        }
    }
    (failed, seen)
}

/// Uploads the token contract (from the first account) and creates it with
/// a balance for every account; its address.
pub(super) async fn deploy_token(url: &str, chain_id: &str, keys: &[SigningKey]) -> Result<Address> {
    let client = rpc::client(url, Duration::from_secs(90))?;
    let code_hash = Hash::digest(contract_artifacts::TOKEN);
    let owner = &keys[0];
    crate::dao::send(&client, chain_id, owner, Payload::StoreCode { code: contract_artifacts::TOKEN.to_vec() })
        .await
        .context("uploading the token contract")?;
    let balances: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| serde_json::json!({ "address": crate::setup::address_of(k).to_string(), "amount": "1000000000" }))
        .collect();
    let msg =
        serde_json::json!({ "name": "Bench Token", "symbol": "BENCH", "decimals": 6, "initial_balances": balances });
    let payload = Payload::Instantiate {
        code_hash,
        label: TOKEN_LABEL.into(),
        msg: serde_json::to_vec(&msg)?,
        funds: Amount::ZERO,
    };
    crate::dao::send(&client, chain_id, owner, payload).await.context("creating the token contract")?;
    Ok(ledger::contract_address(&code_hash, &crate::setup::address_of(owner), TOKEN_LABEL))
}

/// Signs `total` transactions round-robin over the accounts (each from its
/// next nonce), on every core: a native transfer to the next account, or
/// (with `token`) a `transfer` of one token unit to it.
pub(super) fn presign(
    keys: &[SigningKey],
    addresses: &[Address],
    nonces: &[u64],
    total: usize,
    chain_id: &str,
    gas_price: u128,
    token: Option<Address>,
) -> Vec<Presigned> {
    let n = keys.len();
    let publics: Vec<PublicKey> = keys.iter().map(PublicKey::from_signing_key).collect();
    let sign = |i: usize| {
        let a = i % n;
        let to = addresses[(a + 1) % n];
        let (payload, gas_limit) = match token {
            None => (Payload::Transfer { to, amount: Amount::new(1) }, 10_000),
            Some(contract) => {
                let msg = serde_json::json!({ "transfer": { "recipient": to.to_string(), "amount": "1" } });
                (Payload::Execute { contract, msg: msg.to_string().into_bytes(), funds: Amount::ZERO }, TOKEN_CALL_GAS)
            }
        };
        let body = TxBody {
            chain_id: chain_id.to_owned(),
            sender: publics[a],
            nonce: nonces[a] + (i / n) as u64,
            gas_limit,
            gas_price: Amount::new(gas_price),
            payload,
        };
        let tx = body.sign(&keys[a]);
        Presigned { account: a, hash: tx.hash(), hex: hex::encode(tx.encode()) }
    };
    let threads = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1).max(1);
    let chunk = total.div_ceil(threads).max(1);
    let mut out: Vec<Presigned> = Vec::with_capacity(total);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..total)
            .step_by(chunk)
            .map(|from| scope.spawn(move || (from..(from + chunk).min(total)).map(sign).collect::<Vec<_>>()))
            .collect();
        for h in handles {
            if let Ok(part) = h.join() {
                out.extend(part);
            }
        }
    });
    out
}
