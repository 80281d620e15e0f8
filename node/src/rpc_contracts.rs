//! Contract reads and dry runs: `agora_estimateGas`, `agora_contractQuery`,
//! `agora_contractInfo`, `agora_codeInfo`, `agora_getCode`,
//! `agora_contractStorage`. Contract code runs on a bounded pool of blocking
//! threads ([`vm_slot`]), never on the async workers.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use ledger::state::read_account;
use ledger::{Address, ExecError, Hash, InvalidTx, SignedTx, TxStatus};
use serde_json::{Value, json};

use crate::rpc::{Args, RpcContext, codes, err, internal, invalid_tx};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// How long a query or dry run waits for a free slot before `BUSY`.
pub(crate) const VM_SLOT_WAIT: Duration = Duration::from_secs(1);

/// A slot to run contract code for RPC (a dry run or a query) on a blocking
/// thread, never on the async workers that serve consensus and the network:
/// at most `MAX_CONCURRENT_QUERIES` at once, so RPC can hold neither all the
/// instance pool nor more threads than that; a request waits at most
/// [`VM_SLOT_WAIT`] for one, then gets a "busy" error.
async fn vm_slot(ctx: &RpcContext) -> Result<tokio::sync::OwnedSemaphorePermit, ErrorObjectOwned> {
    let busy = || err(codes::BUSY, "too many contract queries or dry runs in progress; retry shortly");
    match tokio::time::timeout(VM_SLOT_WAIT, ctx.query_slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(busy()),
    }
}

async fn estimate_gas(ctx: Arc<RpcContext>, args: Args) -> RpcResult {
    let bytes = args.tx_bytes()?;
    let max = ctx.chain.params().max_tx_bytes as usize;
    if bytes.len() > max {
        return Err(invalid_tx(&InvalidTx::TooLarge { size: bytes.len(), limit: max }));
    }
    let tx = SignedTx::decode(&bytes).map_err(|e| invalid_tx(&e))?;
    let permit = vm_slot(&ctx).await?;
    let chain = ctx.chain.clone();
    let len = bytes.len();
    let res = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        chain.simulate(&tx.body, len)
    })
    .await
    .map_err(internal)?;
    match res {
        Ok(r) => {
            let (status, reason) = match &r.status {
                TxStatus::Success => ("success", None),
                TxStatus::Failed { reason } => ("failed", Some(reason.clone())),
            };
            Ok(json!({
                "gas_used": r.gas_used, "status": status, "reason": reason,
                "min_gas_price": ctx.chain.params().min_gas_price, "suggested_gas_limit": r.gas_used,
                "data": hex::encode(&r.data), "events": r.events,
            }))
        }
        Err(ExecError::Invalid(e)) => Err(invalid_tx(&e)),
        Err(ExecError::Unexecutable(e)) => {
            Err(err(codes::BUSY, format!("the dry run could not finish on this node: {e}")))
        }
        Err(ExecError::Fault(e)) => Err(internal(e)),
    }
}

fn hex_param(args: &Args, idx: usize, name: &str) -> Result<Option<Vec<u8>>, ErrorObjectOwned> {
    args.opt::<String>(idx, name)?
        .map(|s| {
            let s = s.strip_prefix("0x").unwrap_or(&s).to_owned();
            hex::decode(&s).map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `{name}`: invalid hex: {e}")))
        })
        .transpose()
}

/// Result bytes as JSON when they are JSON (the SDK's convention), else null.
fn data_json(data: &[u8]) -> Value {
    serde_json::from_slice::<Value>(data).unwrap_or(Value::Null)
}

async fn contract_query(ctx: Arc<RpcContext>, args: Args) -> RpcResult {
    let address: Address = args.req(0, "address")?;
    let msg = match (args.raw(1, "msg"), hex_param(&args, 99, "msg_hex")?) {
        (Some(v), None) => serde_json::to_vec(v).map_err(internal)?,
        (None, Some(b)) => b,
        (Some(_), Some(_)) => return Err(err(codes::INVALID_PARAMS, "give either `msg` or `msg_hex`, not both")),
        (None, None) => return Err(err(codes::INVALID_PARAMS, "missing parameter `msg` (or `msg_hex`)")),
    };
    let max_gas = ctx.chain.params().max_tx_gas;
    let gas = args.opt::<u64>(2, "gas_limit")?.unwrap_or(max_gas).min(max_gas);
    let permit = vm_slot(&ctx).await?;
    let chain = ctx.chain.clone();
    let res = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        chain.query_contract(address, msg, gas)
    })
    .await
    .map_err(internal)?;
    use ledger::contract::QueryError;
    match res {
        Ok((data, gas_used)) => {
            Ok(json!({ "data": data_json(&data), "data_hex": hex::encode(&data), "gas_used": gas_used }))
        }
        Err(QueryError::NoContract(a)) => Err(err(codes::NOT_FOUND, format!("no contract at {a}"))),
        Err(e @ QueryError::Failed { gas_used, .. }) => {
            Err(ErrorObjectOwned::owned(codes::CONTRACT_FAILED, e.to_string(), Some(json!({ "gas_used": gas_used }))))
        }
        Err(QueryError::Unexecutable(e)) => {
            Err(err(codes::BUSY, format!("the query could not finish on this node: {e}")))
        }
        Err(QueryError::Node(e)) => Err(internal(e)),
    }
}

fn contract_info(ctx: &RpcContext, args: &Args) -> RpcResult {
    let address: Address = args.req(0, "address")?;
    let store = ctx.chain.store();
    let info = ledger::contract::read_contract_info(store, &address)
        .map_err(internal)?
        .ok_or_else(|| err(codes::NOT_FOUND, format!("no contract at {address}")))?;
    let balance = read_account(store, &address).map_err(internal)?.balance;
    let mut v = serde_json::to_value(&info).map_err(internal)?;
    v["balance"] = json!(balance);
    Ok(v)
}

fn code_info(ctx: &RpcContext, args: &Args) -> RpcResult {
    let code_hash: Hash = args.req(0, "code_hash")?;
    let info = ledger::contract::read_code_info(ctx.chain.store(), &code_hash)
        .map_err(internal)?
        .ok_or_else(|| err(codes::NOT_FOUND, format!("no code with hash {code_hash}")))?;
    serde_json::to_value(&info).map_err(internal)
}

fn get_code(ctx: &RpcContext, args: &Args) -> RpcResult {
    let code_hash: Hash = args.req(0, "code_hash")?;
    let code = ledger::contract::read_code(ctx.chain.store(), &code_hash)
        .map_err(internal)?
        .ok_or_else(|| err(codes::NOT_FOUND, format!("no code with hash {code_hash}")))?;
    Ok(json!({ "code_hash": code_hash, "code_hex": hex::encode(code) }))
}

fn contract_storage(ctx: &RpcContext, args: &Args) -> RpcResult {
    let address: Address = args.req(0, "address")?;
    let store = ctx.chain.store();
    if ledger::contract::read_contract_info(store, &address).map_err(internal)?.is_none() {
        return Err(err(codes::NOT_FOUND, format!("no contract at {address}")));
    }
    if let Some(key) = hex_param(args, 1, "key_hex")? {
        let v = ledger::contract::read_contract_storage(store, &address, &key).map_err(internal)?;
        return Ok(json!({ "key_hex": hex::encode(&key), "value_hex": v.map(hex::encode) }));
    }
    let start = hex_param(args, 2, "start_after_hex")?;
    let limit = args.opt::<usize>(3, "limit")?.unwrap_or(50).clamp(1, 100);
    let entries =
        ledger::contract::list_contract_storage(store, &address, start.as_deref(), limit + 1).map_err(internal)?;
    let more = entries.len() > limit;
    let entries: Vec<_> = entries.into_iter().take(limit).collect();
    let next = if more { entries.last().map(|(k, _)| hex::encode(k)) } else { None };
    let list: Vec<Value> =
        entries.iter().map(|(k, v)| json!({ "key_hex": hex::encode(k), "value_hex": hex::encode(v) })).collect();
    Ok(json!({ "entries": list, "next_start_after_hex": next }))
}

pub(crate) fn register(m: &mut RpcModule<RpcContext>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_async_method("agora_estimateGas", |p, c, _| async move { estimate_gas(c, Args::of(&p)?).await })?;
    m.register_async_method("agora_contractQuery", |p, c, _| async move { contract_query(c, Args::of(&p)?).await })?;
    m.register_method("agora_contractInfo", |p, c, _| contract_info(c, &Args::of(&p)?))?;
    m.register_method("agora_codeInfo", |p, c, _| code_info(c, &Args::of(&p)?))?;
    m.register_method("agora_getCode", |p, c, _| get_code(c, &Args::of(&p)?))?;
    m.register_method("agora_contractStorage", |p, c, _| contract_storage(c, &Args::of(&p)?))?;
    Ok(())
}
