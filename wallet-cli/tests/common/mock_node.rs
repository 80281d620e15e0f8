//! A mock Agora node: the JSON-RPC methods of docs/rpc.md with canned chain
//! data, real transaction decoding and signature checks, and a record of what
//! it received. Runs on its own tokio runtime so tests can stay synchronous.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonrpsee::server::{RpcModule, Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use ledger::{Amount, Event, Hash, InvalidTx, Payload, Receipt, SignedTx, TxStatus};
use serde_json::{Value, json};

pub const CHAIN_ID: &str = "agora-test";
pub const HEIGHT: u64 = 5;
pub const BASE_TX_GAS: u64 = 1_000;
pub const GAS_PER_BYTE: u64 = 10;
pub const TRANSFER_GAS: u64 = 1_000;
pub const MAX_TX_GAS: u64 = 10_000_000;

/// What the mock does and what it saw.
#[derive(Debug, Default)]
pub struct State {
    /// Balance of every account.
    pub balance: u128,
    /// Next nonce of every account.
    pub nonce: u64,
    /// Commit with a failed receipt.
    pub fail_receipts: bool,
    /// Committed transactions, with their height.
    pub committed: Vec<(SignedTx, u64)>,
    /// Dry runs received.
    pub estimates: usize,
    /// Transactions that `agora_subscribeTxStatus` "commits" after a short delay.
    pub commit_on_subscribe: Option<SignedTx>,
}

pub struct MockNode {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    handle: ServerHandle,
    runtime: tokio::runtime::Runtime,
}

impl Drop for MockNode {
    fn drop(&mut self) {
        let _ = self.handle.stop();
    }
}

fn rpc_err(code: i32, msg: impl Into<String>, data: Option<Value>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), data)
}

fn gas_of(tx: &SignedTx) -> u64 {
    BASE_TX_GAS + GAS_PER_BYTE * tx.encode().len() as u64 + TRANSFER_GAS
}

fn decode(params: &Params<'_>) -> Result<SignedTx, ErrorObjectOwned> {
    let mut seq = params.sequence();
    let hex_s: String = seq.next()?;
    let bytes = hex::decode(&hex_s).map_err(|e| rpc_err(1001, format!("bad hex: {e}"), None))?;
    SignedTx::decode(&bytes).map_err(|e| rpc_err(1001, e.to_string(), None))
}

/// The admission checks of a real node, with its error codes.
fn admit(st: &State, tx: &SignedTx) -> Result<(), ErrorObjectOwned> {
    if tx.clone().verify().is_err() {
        return Err(rpc_err(1003, InvalidTx::BadSignature.to_string(), None));
    }
    let b = &tx.body;
    if b.chain_id != CHAIN_ID {
        let e = InvalidTx::WrongChainId { expected: CHAIN_ID.into(), got: b.chain_id.clone() };
        return Err(rpc_err(1004, e.to_string(), None));
    }
    if b.nonce < st.nonce {
        let e = InvalidTx::NonceTooLow { expected: st.nonce, got: b.nonce };
        return Err(rpc_err(1005, e.to_string(), Some(json!({"expected": st.nonce}))));
    }
    if b.nonce > st.nonce {
        return Err(rpc_err(1006, InvalidTx::NonceGap { expected: st.nonce, got: b.nonce }.to_string(), None));
    }
    if b.gas_limit < gas_of(tx) {
        let e = InvalidTx::GasLimitTooLow { needed: gas_of(tx), got: b.gas_limit };
        return Err(rpc_err(1007, e.to_string(), None));
    }
    Ok(())
}

fn receipt(st: &State, tx: &SignedTx) -> Receipt {
    let gas = gas_of(tx);
    let Payload::Transfer { to, amount } = &tx.body.payload;
    let status = if st.fail_receipts {
        TxStatus::Failed { reason: "insufficient balance for the transfer".into() }
    } else {
        TxStatus::Success
    };
    Receipt {
        tx_hash: tx.hash(),
        sender: tx.body.sender_address(),
        status,
        gas_used: gas,
        fee: tx.body.gas_price.checked_mul(u128::from(gas)).unwrap(),
        events: vec![Event::new("transfer", &[("to", to.to_string()), ("amount", amount.to_string())])],
    }
}

fn block_hash(height: u64) -> Hash {
    Hash::digest(&height.to_be_bytes())
}

fn tx_json(tx: &SignedTx, height: u64, st: &State) -> Value {
    json!({
        "hash": tx.hash(), "height": height, "index": 0, "block_hash": block_hash(height),
        "tx": tx, "receipt": receipt(st, tx),
    })
}

fn commit(st: &mut State, tx: SignedTx) -> Value {
    let height = HEIGHT + 1 + st.committed.len() as u64;
    st.nonce += 1;
    let v = tx_json(&tx, height, st);
    st.committed.push((tx, height));
    json!({"hash": v["hash"], "height": height, "index": 0, "block_hash": v["block_hash"], "receipt": v["receipt"]})
}

impl MockNode {
    pub fn start(state: State) -> MockNode {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let state = Arc::new(Mutex::new(state));
        let mut m = RpcModule::new(state.clone());

        m.register_method("agora_status", |_, _, _| {
            json!({
                "chain_id": CHAIN_ID, "genesis_hash": Hash::digest(b"genesis"), "node_version": "mock/0.1",
                "latest_height": HEIGHT, "latest_block_hash": block_hash(HEIGHT),
                "latest_state_root": Hash::ZERO, "latest_block_time_ms": 1_700_000_000_000u64,
                "syncing": false, "validator": null, "mempool_size": 0, "extra_field": "ignored"
            })
        })
        .unwrap();
        m.register_method("agora_chainParams", |_, _, _| {
            json!({
                "chain_id": CHAIN_ID,
                "params": {
                    "max_tx_bytes": 32768, "max_block_bytes": 8388608, "max_block_gas": 100_000_000_000u64,
                    "max_tx_gas": MAX_TX_GAS, "min_gas_price": "1", "base_tx_gas": BASE_TX_GAS,
                    "gas_per_tx_byte": GAS_PER_BYTE, "transfer_gas": TRANSFER_GAS
                },
                "block_interval_ms": 1000
            })
        })
        .unwrap();
        m.register_method("agora_getAccount", |p, st, _| {
            let mut seq = p.sequence();
            let addr: String = seq.next()?;
            let addr: ledger::Address =
                addr.parse().map_err(|e: ledger::LedgerError| rpc_err(-32602, e.to_string(), None))?;
            let st = st.lock().unwrap();
            Ok::<_, ErrorObjectOwned>(json!({
                "address": addr, "balance": Amount::new(st.balance), "nonce": st.nonce,
                "height": HEIGHT, "state_root": Hash::ZERO
            }))
        })
        .unwrap();
        m.register_method("agora_estimateGas", |p, st, _| {
            let tx = decode(&p)?;
            let mut st = st.lock().unwrap();
            st.estimates += 1;
            let gas = gas_of(&tx);
            // Like the real node: the dry run checks the nonce against committed
            // state and charges no fee.
            if tx.body.nonce != st.nonce {
                let e = InvalidTx::NonceGap { expected: st.nonce, got: tx.body.nonce };
                return Err(rpc_err(1006, e.to_string(), None));
            }
            let Payload::Transfer { amount, .. } = tx.body.payload;
            let (status, reason) = if amount.get() > st.balance {
                ("failed", Some("insufficient balance: cannot transfer the amount"))
            } else {
                ("success", None)
            };
            Ok::<_, ErrorObjectOwned>(json!({
                "gas_used": gas, "status": status, "reason": reason, "min_gas_price": "1",
                "suggested_gas_limit": gas + gas / 10
            }))
        })
        .unwrap();
        m.register_method("agora_sendTx", |p, st, _| {
            let tx = decode(&p)?;
            let mut st = st.lock().unwrap();
            admit(&st, &tx)?;
            let hash = tx.hash();
            commit(&mut st, tx);
            Ok::<_, ErrorObjectOwned>(json!({ "hash": hash }))
        })
        .unwrap();
        m.register_method("agora_sendTxCommit", |p, st, _| {
            let tx = decode(&p)?;
            let mut seq = p.sequence();
            let _: String = seq.next()?;
            let timeout: Option<u64> = seq.optional_next()?;
            if timeout.is_some_and(|t| t > 120_000) {
                return Err(rpc_err(-32602, "timeout_ms: at most 120000", None));
            }
            let mut st = st.lock().unwrap();
            admit(&st, &tx)?;
            Ok(commit(&mut st, tx))
        })
        .unwrap();
        m.register_method("agora_getTx", |p, st, _| {
            let mut seq = p.sequence();
            let h: String = seq.next()?;
            let h: Hash = h.parse().map_err(|e: ledger::LedgerError| rpc_err(-32602, e.to_string(), None))?;
            let st = st.lock().unwrap();
            let found = st.committed.iter().find(|(t, _)| t.hash() == h);
            Ok::<_, ErrorObjectOwned>(found.map_or(Value::Null, |(t, height)| tx_json(t, *height, &st)))
        })
        .unwrap();
        m.register_method("agora_getBlock", |p, st, _| {
            let sel: Option<Value> = p.sequence().optional_next()?;
            let height = match sel {
                None => HEIGHT,
                Some(Value::String(s)) if s == "latest" => HEIGHT,
                Some(Value::Number(n)) => n.as_u64().unwrap_or(u64::MAX),
                Some(Value::String(s)) if s == block_hash(HEIGHT).to_string() => HEIGHT,
                _ => u64::MAX,
            };
            if height != HEIGHT {
                return Err(rpc_err(1012, "block not found", None));
            }
            let _ = st;
            Ok(json!({
                "hash": block_hash(HEIGHT),
                "header": {
                    "version": 1, "chain_id": CHAIN_ID, "height": HEIGHT, "time_ms": 1_700_000_000_000u64,
                    "parent_hash": block_hash(HEIGHT - 1), "tx_root": Hash::ZERO, "state_root": Hash::ZERO,
                    "receipts_root": Hash::ZERO, "proposer": "11".repeat(32),
                    "validator_set_hash": Hash::ZERO, "last_commit_hash": Hash::ZERO
                },
                "txs": [{"hash": "ab".repeat(32), "tx": null}],
                "last_commit": {"height": HEIGHT - 1, "round": 0, "block_hash": block_hash(HEIGHT - 1),
                                "signatures": [{"validator": "11".repeat(32), "signature": "22".repeat(64)}]}
            }))
        })
        .unwrap();
        m.register_subscription(
            "agora_subscribeTxStatus",
            "agora_txStatus",
            "agora_unsubscribeTxStatus",
            |p, pending, st, _| async move {
                let h: String = match p.sequence().next() {
                    Ok(h) => h,
                    Err(e) => {
                        pending.reject(e).await;
                        return Ok(());
                    }
                };
                let sink = pending.accept().await?;
                let pending_send = serde_json::value::to_raw_value(&json!({"hash": h, "status": "pending"})).unwrap();
                sink.send(pending_send).await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let height = {
                    let mut st = st.lock().unwrap();
                    let Some(tx) = st.commit_on_subscribe.take() else { return Ok(()) };
                    commit(&mut st, tx);
                    st.committed.last().map(|(_, h)| *h)
                };
                let msg = serde_json::value::to_raw_value(&json!({"hash": h, "status": "committed", "height": height}))
                    .unwrap();
                sink.send(msg).await?;
                Ok::<(), jsonrpsee::core::SubscriptionError>(())
            },
        )
        .unwrap();
        m.register_subscription(
            "agora_subscribeNewBlocks",
            "agora_newBlock",
            "agora_unsubscribeNewBlocks",
            |_, pending, _, _| async move {
                let sink = pending.accept().await?;
                let msg = serde_json::value::to_raw_value(&json!({"height": HEIGHT, "hash": block_hash(HEIGHT),
                    "state_root": Hash::ZERO, "time_ms": 0, "num_txs": 0, "gas_used": 0}))
                .unwrap();
                sink.send(msg).await?;
                Ok::<(), jsonrpsee::core::SubscriptionError>(())
            },
        )
        .unwrap();

        let (url, handle) = runtime.block_on(async {
            let server = Server::builder().build("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", server.local_addr().unwrap());
            (url, server.start(m))
        });
        MockNode { url, state, handle, runtime }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }
}
