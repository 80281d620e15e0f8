//! Contract reads and dry runs: `agora_estimateGas`, `agora_contractQuery`,
//! `agora_contractInfo`, `agora_codeInfo`, `agora_getCode`,
//! `agora_contractStorage`. Contract code runs on a bounded pool of blocking
//! threads ([`vm_slot`]), never on the async workers.

use std::time::Duration;

use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::types::ErrorObjectOwned;
use ledger::state::read_account;
use ledger::{Address, ExecError, Hash, Height, InvalidTx, SignedTx, TxStatus};
use rpc_api::api::ContractsApiServer;
use rpc_api::types::{
    CodeInfoResult, CodeResult, ContractInfoResult, ExecStatus, GasEstimate, QueryResult, StorageEntry, StoragePage,
    StorageResult, StorageValue,
};
use serde_json::{Value, json};

use crate::rpc::{Api, RpcContext, codes, err, height_unavailable, internal, invalid_tx, past_height, tx_bytes};
use crate::store_at::StoreAt;

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

fn hex_param(name: &str, s: Option<String>) -> Result<Option<Vec<u8>>, ErrorObjectOwned> {
    s.map(|s| {
        let s = s.strip_prefix("0x").unwrap_or(&s).to_owned();
        hex::decode(&s).map_err(|e| err(codes::INVALID_PARAMS, format!("parameter `{name}`: invalid hex: {e}")))
    })
    .transpose()
}

/// Result bytes as JSON when they are JSON (the SDK's convention), else null.
fn data_json(data: &[u8]) -> Value {
    serde_json::from_slice::<Value>(data).unwrap_or(Value::Null)
}

/// Most entries in one page of `agora_contractStorage`.
pub const MAX_STORAGE_PAGE: u64 = 100;

/// The state a read names: the latest, or a past height (1017 above the tip).
fn state_at(ctx: &RpcContext, height: Option<u64>) -> Result<Option<(Height, StoreAt)>, ErrorObjectOwned> {
    let Some(h) = height else { return Ok(None) };
    let h = past_height(ctx, h)?;
    if h == ctx.chain.tip().height {
        return Ok(None);
    }
    Ok(Some((h, StoreAt::new(ctx.chain.store().clone(), h))))
}

fn no_contract(address: &Address) -> ErrorObjectOwned {
    err(codes::NOT_FOUND, format!("no contract at {address}"))
}

#[async_trait]
impl ContractsApiServer for Api {
    async fn estimate_gas(&self, tx_hex: String) -> RpcResult<GasEstimate> {
        let ctx = self.0.clone();
        let bytes = tx_bytes(&tx_hex)?;
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
                    TxStatus::Success => (ExecStatus::Success, None),
                    TxStatus::Failed { reason } => (ExecStatus::Failed, Some(reason.clone())),
                };
                Ok(GasEstimate {
                    gas_used: r.gas_used,
                    status,
                    reason,
                    min_gas_price: ctx.chain.params().min_gas_price,
                    suggested_gas_limit: r.gas_used,
                    data: hex::encode(&r.data),
                    events: r.events,
                })
            }
            Err(ExecError::Invalid(e)) => Err(invalid_tx(&e)),
            Err(ExecError::Unexecutable(e)) => {
                Err(err(codes::BUSY, format!("the dry run could not finish on this node: {e}")))
            }
            Err(ExecError::Fault(e)) => Err(internal(e)),
        }
    }

    async fn contract_query(
        &self,
        address: Address,
        msg: Option<Value>,
        gas_limit: Option<u64>,
        msg_hex: Option<String>,
        height: Option<u64>,
    ) -> RpcResult<QueryResult> {
        let ctx = self.0.clone();
        let msg = match (msg.filter(|v| !v.is_null()), hex_param("msg_hex", msg_hex)?) {
            (Some(v), None) => serde_json::to_vec(&v).map_err(internal)?,
            (None, Some(b)) => b,
            (Some(_), Some(_)) => return Err(err(codes::INVALID_PARAMS, "give either `msg` or `msg_hex`, not both")),
            (None, None) => return Err(err(codes::INVALID_PARAMS, "missing parameter `msg` (or `msg_hex`)")),
        };
        let max_gas = ctx.chain.params().max_tx_gas;
        let gas = gas_limit.unwrap_or(max_gas).min(max_gas);
        let past = state_at(&ctx, height)?;
        let permit = vm_slot(&ctx).await?;
        let chain = ctx.chain.clone();
        let view = past.as_ref().map(|(_, s)| s.clone());
        let res = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match past {
                Some((h, state)) => chain.query_contract_at(state, h, address, msg, gas),
                None => chain.query_contract(address, msg, gas),
            }
        })
        .await
        .map_err(internal)?;
        if view.is_some_and(|v| v.iterated()) {
            return Err(height_unavailable(format!(
                "this query cannot run at a past height: {}",
                crate::store_at::PAST_ITERATION
            )));
        }
        use ledger::contract::QueryError;
        match res {
            Ok((data, gas_used)) => Ok(QueryResult { data: data_json(&data), data_hex: hex::encode(&data), gas_used }),
            Err(QueryError::NoContract(a)) => Err(no_contract(&a)),
            Err(e @ QueryError::Failed { gas_used, .. }) => Err(ErrorObjectOwned::owned(
                codes::CONTRACT_FAILED,
                e.to_string(),
                Some(json!({ "gas_used": gas_used })),
            )),
            Err(QueryError::Unexecutable(e)) => {
                Err(err(codes::BUSY, format!("the query could not finish on this node: {e}")))
            }
            Err(QueryError::Node(e)) => Err(internal(e)),
        }
    }

    async fn contract_info(&self, address: Address) -> RpcResult<ContractInfoResult> {
        let store = self.chain.store();
        let info = ledger::contract::read_contract_info(store, &address)
            .map_err(internal)?
            .ok_or_else(|| no_contract(&address))?;
        let balance = read_account(store, &address).map_err(internal)?.balance;
        Ok(ContractInfoResult {
            address: info.address,
            code_hash: info.code_hash,
            creator: info.creator,
            label: info.label,
            created_height: info.created_height,
            admin: info.admin,
            balance,
        })
    }

    async fn code_info(&self, code_hash: Hash) -> RpcResult<CodeInfoResult> {
        let info = ledger::contract::read_code_info(self.chain.store(), &code_hash)
            .map_err(internal)?
            .ok_or_else(|| err(codes::NOT_FOUND, format!("no code with hash {code_hash}")))?;
        Ok(CodeInfoResult { code_hash: info.code_hash, creator: info.creator, size: info.size, height: info.height })
    }

    async fn get_code(&self, code_hash: Hash) -> RpcResult<CodeResult> {
        let code = ledger::contract::read_code(self.chain.store(), &code_hash)
            .map_err(internal)?
            .ok_or_else(|| err(codes::NOT_FOUND, format!("no code with hash {code_hash}")))?;
        Ok(CodeResult { code_hash, code_hex: hex::encode(code) })
    }

    async fn contract_storage(
        &self,
        address: Address,
        key_hex: Option<String>,
        start_after_hex: Option<String>,
        limit: Option<u64>,
        height: Option<u64>,
    ) -> RpcResult<StorageResult> {
        let key = hex_param("key_hex", key_hex)?;
        let start = hex_param("start_after_hex", start_after_hex)?;
        if let Some((h, state)) = state_at(self, height)? {
            if ledger::contract::read_contract_info(&state, &address).map_err(internal)?.is_none() {
                return Err(err(codes::NOT_FOUND, format!("no contract at {address} at height {h}")));
            }
            let Some(key) = key else {
                return Err(height_unavailable(format!(
                    "listing contract storage at height {h}: {}; give `key_hex`",
                    crate::store_at::PAST_ITERATION
                )));
            };
            let v = ledger::contract::read_contract_storage(&state, &address, &key).map_err(internal)?;
            return Ok(StorageResult::Value(StorageValue {
                key_hex: hex::encode(&key),
                value_hex: v.map(hex::encode),
            }));
        }
        let store = self.chain.store();
        if ledger::contract::read_contract_info(store, &address).map_err(internal)?.is_none() {
            return Err(no_contract(&address));
        }
        if let Some(key) = key {
            let v = ledger::contract::read_contract_storage(store, &address, &key).map_err(internal)?;
            return Ok(StorageResult::Value(StorageValue {
                key_hex: hex::encode(&key),
                value_hex: v.map(hex::encode),
            }));
        }
        let limit = limit.unwrap_or(50).clamp(1, MAX_STORAGE_PAGE) as usize;
        let entries =
            ledger::contract::list_contract_storage(store, &address, start.as_deref(), limit + 1).map_err(internal)?;
        let more = entries.len() > limit;
        let entries: Vec<_> = entries.into_iter().take(limit).collect();
        let next = if more { entries.last().map(|(k, _)| hex::encode(k)) } else { None };
        Ok(StorageResult::Page(StoragePage {
            entries: entries
                .iter()
                .map(|(k, v)| StorageEntry { key_hex: hex::encode(k), value_hex: hex::encode(v) })
                .collect(),
            next_start_after_hex: next,
        }))
    }
}
