//! A mock Agora node: the JSON-RPC methods of docs/rpc.md with canned chain
//! data, real transaction decoding and signature checks, and a record of what
//! it received. Runs on its own tokio runtime so tests can stay synchronous.
//!
//! Contracts: any code starting with `\0asm` can be stored, and every contract
//! behaves like a small counter (see [`run_payload`] and [`query`]), with the
//! receipts, events, data and errors of the real node.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonrpsee::server::{RpcModule, Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use ledger::{Address, Amount, ChainParams, Event, Hash, InvalidTx, Payload, Receipt, SignedTx, TxStatus};
use serde_json::{Value, json};

pub const CHAIN_ID: &str = "agora-test";
pub const HEIGHT: u64 = 5;
pub const BASE_TX_GAS: u64 = 1_000;
pub const GAS_PER_BYTE: u64 = 10;
pub const TRANSFER_GAS: u64 = 1_000;
pub const MAX_TX_GAS: u64 = 100_000_000;
pub const MAX_TX_BYTES: u64 = 1024 * 1024;
/// Gas of the mock's contract payloads, on top of the intrinsic gas.
pub const STORE_GAS_PER_BYTE: u64 = 50;
pub const INSTANTIATE_GAS: u64 = 70_000;
pub const EXECUTE_GAS: u64 = 20_000;
pub const WRITE_GAS: u64 = 5_000;
/// Gas a query reports.
pub const QUERY_GAS: u64 = 21_234;

/// A contract of the mock: a counter.
#[derive(Clone, Debug)]
pub struct MockContract {
    pub code_hash: Hash,
    pub creator: Address,
    pub label: String,
    pub created_height: u64,
    pub count: u64,
    pub balance: u128,
}

impl MockContract {
    /// Its storage, in key order: a binary key, JSON values and plain text.
    pub fn storage(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![
            (vec![0x00, 0x01, b'm'], vec![0xff, 0x00, 0x10]),
            (b"count".to_vec(), self.count.to_string().into_bytes()),
            (b"label".to_vec(), self.label.clone().into_bytes()),
            (b"owner".to_vec(), serde_json::to_vec(&self.creator).unwrap()),
        ]
    }
}

/// The chain's contract state.
#[derive(Clone, Debug, Default)]
pub struct Contracts {
    /// Code by hash: bytes, uploader, height.
    pub codes: BTreeMap<Hash, (Vec<u8>, Address, u64)>,
    pub instances: BTreeMap<Address, MockContract>,
    /// The staking state, kept with the contracts so a failed transaction
    /// leaves both unchanged (see [`execute`]).
    pub staking: super::mock_staking::Staking,
}

/// What the mock does and what it saw.
#[derive(Debug, Default)]
pub struct State {
    /// Balance of every account.
    pub balance: u128,
    /// Next nonce of every account.
    pub nonce: u64,
    /// Commit with a failed receipt.
    pub fail_receipts: bool,
    /// `agora_sendTxCommit` admits the transaction but answers the node's
    /// commit timeout (1011), like a node whose block did not come in time.
    pub commit_timeout: bool,
    /// Committed transactions, with their height.
    pub committed: Vec<(SignedTx, u64)>,
    /// Dry runs received.
    pub estimates: usize,
    /// Transactions that `agora_subscribeTxStatus` "commits" after a short delay.
    pub commit_on_subscribe: Option<SignedTx>,
    /// The receipt of each committed transaction (same order as `committed`).
    pub receipts: Vec<Receipt>,
    pub contracts: Contracts,
    /// `params.contracts.max_code_bytes` (default: the ledger's).
    pub max_code_bytes: Option<u32>,
    /// The parameters of every `agora_contractQuery`.
    pub queries: Vec<Value>,
    /// `params.min_gas_price` (default 1): a hostile node can name any price.
    pub min_gas_price: Option<u128>,
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

pub fn rpc_err(code: i32, msg: impl Into<String>, data: Option<Value>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), data)
}

/// Gas every transaction pays for existing.
pub fn intrinsic_gas(tx: &SignedTx) -> u64 {
    BASE_TX_GAS + GAS_PER_BYTE * tx.encode().len() as u64
}

/// Gas of a transfer.
fn gas_of(tx: &SignedTx) -> u64 {
    intrinsic_gas(tx) + TRANSFER_GAS
}

fn contract_event(contract: &Address, kind: &str, attrs: &[(&str, String)]) -> Event {
    let mut all = vec![("_contract", contract.to_string())];
    all.extend(attrs.iter().cloned());
    Event::new(&format!("wasm-{kind}"), &all)
}

/// What a payload did: its result, gas, events and data.
pub struct Outcome {
    pub result: Result<(), String>,
    pub gas: u64,
    pub events: Vec<Event>,
    pub data: Vec<u8>,
}

/// The variant of a message like `{"increment": {…}}`.
fn variant(msg: &[u8]) -> Result<(String, Value), String> {
    let v: Value = serde_json::from_slice(msg).map_err(|e| format!("invalid message: {e}"))?;
    match v.as_object().map(|o| o.iter().collect::<Vec<_>>()).as_deref() {
        Some([(k, v)]) => Ok(((*k).clone(), (*v).clone())),
        _ => Err(format!("invalid message: expected an object with one key, got {v}")),
    }
}

/// Runs a payload against `c` (left changed even on failure: callers run it on
/// a copy and keep the copy only on success).
pub fn run_payload(c: &mut Contracts, st_fail_transfers: bool, tx: &SignedTx, height: u64) -> Outcome {
    let sender = tx.body.sender_address();
    let intrinsic = intrinsic_gas(tx);
    let ok = |gas, events, data| Outcome { result: Ok(()), gas, events, data };
    let fail = |gas, reason: String| Outcome { result: Err(reason), gas, events: vec![], data: vec![] };
    match &tx.body.payload {
        Payload::Transfer { to, amount } => {
            if st_fail_transfers {
                return fail(gas_of(tx), "insufficient balance for the transfer".into());
            }
            ok(
                gas_of(tx),
                vec![Event::new("transfer", &[("to", to.to_string()), ("amount", amount.to_string())])],
                vec![],
            )
        }
        Payload::StoreCode { code } => {
            let gas = intrinsic + STORE_GAS_PER_BYTE * code.len() as u64;
            if !code.starts_with(b"\0asm") {
                return fail(gas, "invalid contract code: not a wasm module".into());
            }
            let hash = Hash::digest(code);
            c.codes.entry(hash).or_insert_with(|| (code.clone(), sender, height));
            let ev = Event::new("store_code", &[("code_hash", hash.to_string()), ("size", code.len().to_string())]);
            ok(gas, vec![ev], hash.0.to_vec())
        }
        Payload::Instantiate { code_hash, label, msg, funds } => {
            let gas = intrinsic + INSTANTIATE_GAS;
            let address = ledger::contract_address(code_hash, &sender, label);
            if !c.codes.contains_key(code_hash) {
                return fail(gas, format!("no code with hash {code_hash}"));
            }
            if c.instances.contains_key(&address) {
                return fail(gas, format!("contract address {address} already exists; choose another label"));
            }
            let init: Value = match serde_json::from_slice(msg) {
                Ok(v) => v,
                Err(e) => return fail(gas, format!("contract aborted: instantiate: invalid message: {e}")),
            };
            let count = init.get("count").and_then(Value::as_u64).unwrap_or(0);
            c.instances.insert(
                address,
                MockContract {
                    code_hash: *code_hash,
                    creator: sender,
                    label: label.clone(),
                    created_height: height,
                    count,
                    balance: funds.get(),
                },
            );
            let events = vec![
                Event::new(
                    "instantiate",
                    &[
                        ("contract_address", address.to_string()),
                        ("code_hash", code_hash.to_string()),
                        ("creator", sender.to_string()),
                        ("label", label.clone()),
                    ],
                ),
                contract_event(&address, "init", &[("count", count.to_string())]),
            ];
            ok(gas, events, address.0.to_vec())
        }
        Payload::Execute { contract, msg, funds } => {
            let gas = intrinsic + EXECUTE_GAS;
            let Some(k) = c.instances.get_mut(contract) else {
                return fail(gas, format!("no contract at {contract}"));
            };
            k.balance += funds.get();
            let (name, arg) = match variant(msg) {
                Ok(v) => v,
                Err(e) => return fail(gas, format!("contract aborted: execute: {e}")),
            };
            match name.as_str() {
                "increment" => {
                    let by = arg.get("by").and_then(Value::as_u64).unwrap_or(1);
                    k.count += by;
                    let ev = contract_event(
                        contract,
                        "increment",
                        &[
                            ("by", by.to_string()),
                            ("count", k.count.to_string()),
                            ("note", "counted by the mock".into()),
                        ],
                    );
                    ok(gas + WRITE_GAS, vec![ev], serde_json::to_vec(&json!({"count": k.count})).unwrap())
                }
                "reset" => {
                    k.count = 0;
                    ok(gas + WRITE_GAS, vec![contract_event(contract, "reset", &[])], vec![])
                }
                "raw" => ok(gas, vec![], vec![0xde, 0xad, 0xbe, 0xef]),
                "fail" => {
                    let reason = arg.get("reason").and_then(Value::as_str).unwrap_or("failing on request");
                    fail(gas, format!("contract aborted: {reason}"))
                }
                other => fail(
                    gas,
                    format!(
                        "contract aborted: execute: unknown variant `{other}`, expected one of `increment`, `reset`, `raw`, `fail`"
                    ),
                ),
            }
        }
        staking => {
            let gas = intrinsic + super::mock_staking::STAKING_GAS;
            match c.staking.run(sender, staking) {
                Ok((events, extra)) => ok(gas + extra, events, vec![]),
                Err(reason) => fail(gas, reason),
            }
        }
    }
}

/// Runs `tx` on a copy of the contracts, keeping the copy if it succeeded
/// within its gas limit; returns the receipt.
fn execute(st: &mut State, tx: &SignedTx, height: u64) -> Receipt {
    let mut copy = st.contracts.clone();
    let mut out = run_payload(&mut copy, st.fail_receipts, tx, height);
    if out.result.is_ok() && out.gas > tx.body.gas_limit {
        out = Outcome {
            result: Err(format!("out of gas: needs {}, limit {}", out.gas, tx.body.gas_limit)),
            gas: tx.body.gas_limit,
            events: vec![],
            data: vec![],
        };
    }
    if out.result.is_ok() {
        st.contracts = copy;
    }
    let fee = tx.body.gas_price.checked_mul(u128::from(out.gas)).unwrap();
    let sender = tx.body.sender_address();
    let mut events = vec![Event::new("fee", &[("payer", sender.to_string()), ("amount", fee.to_string())])];
    events.extend(out.events);
    Receipt {
        tx_hash: tx.hash(),
        sender,
        status: match out.result {
            Ok(()) => TxStatus::Success,
            Err(reason) => TxStatus::Failed { reason },
        },
        gas_used: out.gas,
        fee,
        events,
        data: out.data,
    }
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
    let needed = if matches!(b.payload, Payload::Transfer { .. }) { gas_of(tx) } else { intrinsic_gas(tx) };
    if b.gas_limit < needed {
        let e = InvalidTx::GasLimitTooLow { needed, got: b.gas_limit };
        return Err(rpc_err(1007, e.to_string(), None));
    }
    if b.gas_limit > MAX_TX_GAS {
        let e = InvalidTx::GasLimitTooHigh { max: MAX_TX_GAS, got: b.gas_limit };
        return Err(rpc_err(1007, e.to_string(), None));
    }
    Ok(())
}

fn block_hash(height: u64) -> Hash {
    Hash::digest(&height.to_be_bytes())
}

fn tx_json(tx: &SignedTx, height: u64, receipt: &Receipt) -> Value {
    json!({
        "hash": tx.hash(), "height": height, "index": 0, "block_hash": block_hash(height),
        "tx": tx, "receipt": receipt,
    })
}

fn commit(st: &mut State, tx: SignedTx) -> Value {
    let height = HEIGHT + 1 + st.committed.len() as u64;
    st.nonce += 1;
    let receipt = execute(st, &tx, height);
    let v = tx_json(&tx, height, &receipt);
    st.committed.push((tx, height));
    st.receipts.push(receipt);
    json!({"hash": v["hash"], "height": height, "index": 0, "block_hash": v["block_hash"], "receipt": v["receipt"]})
}

/// The parameters of a call of `method` by name: an object as it is, an array
/// (what the wallet's typed client sends) named as the API's OpenRPC document
/// names the method's parameters; nulls are left out (an absent option).
pub fn named(method: &str, p: &Params<'_>) -> Result<serde_json::Map<String, Value>, ErrorObjectOwned> {
    let names = || -> Vec<String> {
        let doc = rpc_api::openrpc::document();
        doc["methods"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == method)
            .and_then(|m| m["params"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    };
    let o = match p.parse::<Option<Value>>()?.unwrap_or(Value::Null) {
        Value::Object(o) => o,
        Value::Array(a) => names().into_iter().zip(a).collect(),
        Value::Null => serde_json::Map::new(),
        other => return Err(rpc_err(-32602, format!("expected parameters, got {other}"), None)),
    };
    Ok(o.into_iter().filter(|(_, v)| !v.is_null()).collect())
}

pub fn param<T: serde::de::DeserializeOwned>(
    o: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<T>, ErrorObjectOwned> {
    o.get(name)
        .filter(|v| !v.is_null())
        .map(|v| {
            serde_json::from_value(v.clone()).map_err(|e| rpc_err(-32602, format!("parameter `{name}`: {e}"), None))
        })
        .transpose()
}

pub fn req<T: serde::de::DeserializeOwned>(
    o: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<T, ErrorObjectOwned> {
    param(o, name)?.ok_or_else(|| rpc_err(-32602, format!("missing parameter `{name}`"), None))
}

fn hex_param(o: &serde_json::Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, ErrorObjectOwned> {
    param::<String>(o, name)?
        .map(|h| hex::decode(&h).map_err(|e| rpc_err(-32602, format!("parameter `{name}`: {e}"), None)))
        .transpose()
}

fn contract<'a>(st: &'a State, address: &Address) -> Result<&'a MockContract, ErrorObjectOwned> {
    st.contracts.instances.get(address).ok_or_else(|| rpc_err(1012, format!("no contract at {address}"), None))
}

/// `agora_contractQuery` of the counter.
fn query(st: &State, o: &serde_json::Map<String, Value>) -> Result<Value, ErrorObjectOwned> {
    let address: Address = req(o, "address")?;
    let msg = match hex_param(o, "msg_hex")? {
        Some(m) => m,
        None => serde_json::to_vec(&req::<Value>(o, "msg")?).unwrap(),
    };
    let k = contract(st, &address)?;
    let (name, _) = variant(&msg).map_err(|e| rpc_err(1014, format!("query failed: {e}"), None))?;
    let data = match name.as_str() {
        "get_count" => serde_json::to_vec(&json!({"count": k.count})).unwrap(),
        "raw" => vec![0xde, 0xad],
        other => {
            let m = format!("query failed: unknown variant `{other}`, expected one of `get_count`, `raw`");
            return Err(rpc_err(1014, m, None));
        }
    };
    let json_data = serde_json::from_slice::<Value>(&data).unwrap_or(Value::Null);
    Ok(json!({"data": json_data, "data_hex": hex::encode(&data), "gas_used": QUERY_GAS}))
}

fn storage(st: &State, o: &serde_json::Map<String, Value>) -> Result<Value, ErrorObjectOwned> {
    let address: Address = req(o, "address")?;
    let entries = contract(st, &address)?.storage();
    if let Some(key) = hex_param(o, "key_hex")? {
        let v = entries.iter().find(|(k, _)| *k == key).map(|(_, v)| hex::encode(v));
        return Ok(json!({"key_hex": hex::encode(&key), "value_hex": v}));
    }
    let after = hex_param(o, "start_after_hex")?;
    let limit = param::<usize>(o, "limit")?.unwrap_or(100);
    let rest: Vec<_> = entries.into_iter().filter(|(k, _)| after.as_ref().is_none_or(|a| k > a)).collect();
    let page: Vec<_> = rest.iter().take(limit).collect();
    let next = (rest.len() > page.len()).then(|| page.last().map(|(k, _)| hex::encode(k))).flatten();
    let entries: Vec<Value> =
        page.iter().map(|(k, v)| json!({"key_hex": hex::encode(k), "value_hex": hex::encode(v)})).collect();
    Ok(json!({"entries": entries, "next_start_after_hex": next}))
}

impl MockNode {
    pub fn start(state: State) -> MockNode {
        MockNode::start_with(state, |_| {})
    }

    /// Like [`MockNode::start`], with more methods registered by `extra`
    /// (a test's own canned answers).
    pub fn start_with(state: State, extra: impl FnOnce(&mut RpcModule<Arc<Mutex<State>>>)) -> MockNode {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let state = Arc::new(Mutex::new(state));
        let mut m = RpcModule::new(state.clone());

        m.register_method("agora_status", |_, _, _| {
            json!({
                "chain_id": CHAIN_ID, "genesis_hash": Hash::digest(b"genesis"), "node_version": "mock/0.1",
                "client": "mock", "moniker": "mock",
                "latest_height": HEIGHT, "latest_block_hash": block_hash(HEIGHT),
                "latest_state_root": Hash::ZERO, "latest_block_time_ms": 1_700_000_000_000u64,
                "syncing": false, "best_peer_height": HEIGHT, "synced_blocks": 0, "equivocations_seen": 0,
                "consensus": {"height": HEIGHT + 1, "round": 0, "step": "propose"},
                "validator": null, "node_id": null, "peers": 0, "total_txs": 0,
                "mempool_size": 0, "extra_field": "ignored"
            })
        })
        .unwrap();
        m.register_method("agora_chainParams", |_, st, _| {
            let st = st.lock().unwrap();
            // The ledger's own JSON form of the parameters.
            let mut params = ChainParams {
                max_tx_bytes: MAX_TX_BYTES.try_into().unwrap(),
                max_tx_gas: MAX_TX_GAS,
                min_gas_price: Amount::new(st.min_gas_price.unwrap_or(1)),
                base_tx_gas: BASE_TX_GAS,
                gas_per_tx_byte: GAS_PER_BYTE,
                transfer_gas: TRANSFER_GAS,
                ..ChainParams::default()
            };
            if let Some(max) = st.max_code_bytes {
                params.contracts.max_code_bytes = max;
            }
            let params = serde_json::to_value(params).unwrap();
            json!({ "chain_id": CHAIN_ID, "params": params, "block_interval_ms": 1000 })
        })
        .unwrap();
        m.register_method("agora_getAccount", |p, st, _| {
            let mut seq = p.sequence();
            let addr: String = seq.next()?;
            let addr: ledger::Address =
                addr.parse().map_err(|e: ledger::ParseError| rpc_err(-32602, e.to_string(), None))?;
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
            // Like the real node: the dry run checks the nonce against committed
            // state and charges no fee.
            if tx.body.nonce != st.nonce {
                let e = InvalidTx::NonceGap { expected: st.nonce, got: tx.body.nonce };
                return Err(rpc_err(1006, e.to_string(), None));
            }
            if let Payload::Transfer { amount, .. } = tx.body.payload {
                let gas = gas_of(&tx);
                let (status, reason) = if amount.get() > st.balance {
                    ("failed", Some("insufficient balance: cannot transfer the amount"))
                } else {
                    ("success", None)
                };
                return Ok::<_, ErrorObjectOwned>(json!({
                    "gas_used": gas, "status": status, "reason": reason, "min_gas_price": "1",
                    "suggested_gas_limit": gas + gas / 10, "data": "", "events": []
                }));
            }
            let height = HEIGHT + 1 + st.committed.len() as u64;
            let mut copy = st.contracts.clone();
            let out = run_payload(&mut copy, false, &tx, height);
            let (status, reason) = match &out.result {
                Ok(()) => ("success", None),
                Err(r) => ("failed", Some(r.clone())),
            };
            Ok(json!({
                "gas_used": out.gas, "status": status, "reason": reason, "min_gas_price": "1",
                "suggested_gas_limit": out.gas, "data": hex::encode(&out.data), "events": out.events
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
            if st.commit_timeout {
                let hash = tx.hash();
                return Err(rpc_err(1011, "timed out waiting for the commit", Some(json!({ "hash": hash }))));
            }
            Ok(commit(&mut st, tx))
        })
        .unwrap();
        m.register_method("agora_getTx", |p, st, _| {
            let mut seq = p.sequence();
            let h: String = seq.next()?;
            let h: Hash = h.parse().map_err(|e: ledger::ParseError| rpc_err(-32602, e.to_string(), None))?;
            let st = st.lock().unwrap();
            let found = st.committed.iter().zip(&st.receipts).find(|((t, _), _)| t.hash() == h);
            Ok::<_, ErrorObjectOwned>(found.map_or(Value::Null, |((t, height), r)| tx_json(t, *height, r)))
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
                    "receipts_root": Hash::ZERO, "proposer": "11".repeat(32), "client": "mock",
                    "validator_set_hash": Hash::ZERO, "last_commit_hash": Hash::ZERO, "evidence_hash": Hash::ZERO
                },
                "num_txs": 1, "evidence": [], "events": [],
                "txs": ["ab".repeat(32)],
                "last_commit": {"height": HEIGHT - 1, "round": 0, "block_hash": block_hash(HEIGHT - 1),
                                "signatures": [{"validator": "11".repeat(32), "signature": "22".repeat(64)}]}
            }))
        })
        .unwrap();
        m.register_method("agora_contractQuery", |p, st, _| {
            let o = named("agora_contractQuery", &p)?;
            let mut st = st.lock().unwrap();
            st.queries.push(Value::Object(o.clone()));
            query(&st, &o)
        })
        .unwrap();
        m.register_method("agora_contractInfo", |p, st, _| {
            let o = named("agora_contractInfo", &p)?;
            let address: Address = req(&o, "address")?;
            let st = st.lock().unwrap();
            let k = contract(&st, &address)?;
            Ok::<_, ErrorObjectOwned>(json!({
                "address": address, "code_hash": k.code_hash, "creator": k.creator, "label": k.label,
                "created_height": k.created_height, "balance": Amount::new(k.balance)
            }))
        })
        .unwrap();
        m.register_method("agora_codeInfo", |p, st, _| {
            let o = named("agora_codeInfo", &p)?;
            let h: Hash = req(&o, "code_hash")?;
            let st = st.lock().unwrap();
            let (code, creator, height) =
                st.contracts.codes.get(&h).ok_or_else(|| rpc_err(1012, format!("no code with hash {h}"), None))?;
            Ok::<_, ErrorObjectOwned>(json!({"code_hash": h, "creator": creator, "size": code.len(), "height": height}))
        })
        .unwrap();
        m.register_method("agora_getCode", |p, st, _| {
            let o = named("agora_getCode", &p)?;
            let h: Hash = req(&o, "code_hash")?;
            let st = st.lock().unwrap();
            let (code, _, _) =
                st.contracts.codes.get(&h).ok_or_else(|| rpc_err(1012, format!("no code with hash {h}"), None))?;
            Ok::<_, ErrorObjectOwned>(json!({"code_hash": h, "code_hex": hex::encode(code)}))
        })
        .unwrap();
        m.register_method("agora_contractStorage", |p, st, _| {
            let o = named("agora_contractStorage", &p)?;
            storage(&st.lock().unwrap(), &o)
        })
        .unwrap();
        super::mock_staking::register(&mut m);
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
        extra(&mut m);

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
