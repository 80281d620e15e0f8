//! `agora contract …`: upload WebAssembly code, create and call contracts, and
//! read them (see `vm/ABI.md` for what a contract is).
//!
//! The transaction commands (`store`, `instantiate`, `execute`, `migrate`,
//! `set-admin`) check their arguments locally first (the .wasm file: exists,
//! `\0asm` magic; the JSON message, `MSG` or `@FILE`), then the chain's
//! `params.contracts` limits (code, message and label sizes), and go through
//! the wallet's one send pipeline (`send.rs`: `--gas auto` dry run ×
//! `--gas-adjustment`, fee checks, signature, `--no-wait` or the commit). A
//! failed receipt exits with code 1 after printing the result.

use std::io::Write;
use std::path::Path;

use ledger::{Address, Amount, Hash, Payload, contract_address};
use serde_json::json;

use crate::cli::{ContractCommand, TxArgs};
use crate::commands::query::event_fields;
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::output::{Fields, data_json, print_json, print_text, show_bytes, show_data};
use crate::parse::parse_msg;
use crate::rpc::{ChainParamsInfo, ContractParamsInfo, decode_hex};
use crate::send::{prepare, send};

/// The first four bytes of every WebAssembly binary module.
pub const WASM_MAGIC: &[u8; 4] = b"\0asm";

pub async fn run(ctx: &Ctx, cmd: ContractCommand) -> Result<()> {
    match cmd {
        ContractCommand::Store { file, tx } => store(ctx, &file, &tx).await,
        ContractCommand::Instantiate { code_hash, msg, label, funds, admin, tx } => {
            instantiate(ctx, &code_hash, &msg, &label, funds, admin, &tx).await
        }
        ContractCommand::Migrate { contract, code_hash, msg, tx } => {
            migrate(ctx, &contract, &code_hash, &msg, &tx).await
        }
        ContractCommand::SetAdmin { contract, admin, clear, tx } => {
            set_admin(ctx, &contract, if clear { None } else { admin }, &tx).await
        }
        ContractCommand::Execute { contract, msg, funds, tx } => execute(ctx, &contract, &msg, funds, &tx).await,
        ContractCommand::Query { contract, msg, gas_limit } => query(ctx, &contract, &msg, gas_limit).await,
        ContractCommand::Info { contract } => info(ctx, &contract).await,
        ContractCommand::CodeInfo { code_hash, save } => code_info(ctx, &code_hash, save.as_deref()).await,
        ContractCommand::Storage { contract, key, limit, start_after } => {
            storage(
                ctx,
                &contract,
                key.as_ref().map(|k| k.0.as_slice()),
                limit,
                start_after.as_ref().map(|k| k.0.as_slice()),
            )
            .await
        }
    }
}

/// Reads a .wasm file and checks that it looks like a WebAssembly binary.
fn read_wasm(file: &Path) -> Result<Vec<u8>> {
    let code = std::fs::read(file).map_err(|e| WalletError::io("cannot read the contract code", file, e))?;
    if !code.starts_with(WASM_MAGIC) {
        let hint = if code.trim_ascii_start().starts_with(b"(module") {
            "it looks like WebAssembly text (.wat): compile it to a binary .wasm first"
        } else {
            "give the compiled .wasm file, e.g. target/wasm32-unknown-unknown/release/NAME.wasm"
        };
        return Err(WalletError::InvalidArgument(format!(
            "{} is not a WebAssembly module: it does not start with the `\\0asm` magic bytes ({hint})",
            file.display()
        )));
    }
    Ok(code)
}

/// The chain's contract limits; a node without them does not run contracts.
fn contract_params(chain: &ChainParamsInfo) -> Result<&ContractParamsInfo> {
    Ok(&chain.params.contracts)
}

fn check_msg_size(chain: &ChainParamsInfo, msg: &[u8]) -> Result<()> {
    let max = Some(u64::from(chain.params.contracts.max_msg_bytes));
    match max {
        Some(max) if msg.len() as u64 > max => Err(WalletError::InvalidArgument(format!(
            "the message is {} bytes, above the chain's limit of {max} bytes (max_msg_bytes)",
            msg.len()
        ))),
        _ => Ok(()),
    }
}

async fn store(ctx: &Ctx, file: &Path, opts: &TxArgs) -> Result<()> {
    let code = read_wasm(file)?;
    let p = prepare(ctx, opts).await?;
    if let Some(max) = Some(u64::from(contract_params(&p.chain)?.max_code_bytes))
        && code.len() as u64 > max
    {
        return Err(WalletError::InvalidArgument(format!(
            "{} is {} bytes, above the chain's limit of {max} bytes (max_code_bytes); build it with the `wasm` profile (opt-level z, lto, strip) or make it smaller",
            file.display(),
            code.len()
        )));
    }
    let size = code.len();
    let local_hash = Hash::digest(&code);
    let Some(sent) = send(ctx, &p, opts, Payload::StoreCode { code }, ("funds", Amount::ZERO), "upload").await? else {
        return Ok(());
    };

    let data = sent.data();
    let code_hash = match <[u8; 32]>::try_from(data.as_slice()) {
        Ok(h) => Hash(h),
        Err(_) => {
            if sent.succeeded() {
                eprintln!("warning: the receipt carries no code hash; showing the SHA-256 of {}", file.display());
            }
            local_hash
        }
    };
    if code_hash != local_hash {
        eprintln!("warning: the chain reports code hash {code_hash}, the SHA-256 of the file is {local_hash}");
    }
    let mut out = sent.json();
    out["code_hash"] = json!(sent.succeeded().then_some(code_hash));
    out["code_size"] = json!(size);
    let mut f = Fields::new();
    f.add("code hash", code_hash).add("code size", format!("{size} bytes"));
    sent.fields(&mut f);
    sent.finish(ctx, out, &f)
}

async fn instantiate(
    ctx: &Ctx,
    code_hash: &Hash,
    msg: &str,
    label: &str,
    funds: Amount,
    admin: Option<Address>,
    opts: &TxArgs,
) -> Result<()> {
    let msg = parse_msg(msg)?;
    if label.is_empty() {
        return Err(WalletError::InvalidArgument("the label must not be empty".into()));
    }
    let p = prepare(ctx, opts).await?;
    check_msg_size(&p.chain, &msg)?;
    if let Some(max) = Some(u64::from(p.chain.params.contracts.max_label_bytes))
        && label.len() as u64 > max
    {
        return Err(WalletError::InvalidArgument(format!(
            "the label is {} bytes, above the chain's limit of {max} bytes (max_label_bytes)",
            label.len()
        )));
    }
    let expected = contract_address(code_hash, &p.from.address, label);
    // Without an admin, the transaction is the same `Instantiate` as ever.
    let (hash, owned) = (*code_hash, label.to_owned());
    let payload = match admin {
        None => Payload::Instantiate { code_hash: hash, label: owned, msg, funds },
        Some(a) => Payload::InstantiateWithAdmin { code_hash: hash, label: owned, msg, funds, admin: Some(a) },
    };
    let Some(sent) = send(ctx, &p, opts, payload, ("funds", funds), "instantiation").await? else { return Ok(()) };

    let address = if sent.succeeded() {
        let data = sent.data();
        match <[u8; 20]>::try_from(data.as_slice()) {
            Ok(a) if Address(a) == expected => Some(expected),
            Ok(a) => {
                eprintln!(
                    "warning: the chain reports contract address {}, the wallet derived {expected} (ledger::contract_address)",
                    Address(a)
                );
                Some(Address(a))
            }
            Err(_) => {
                eprintln!("warning: the receipt carries no contract address; showing the derived {expected}");
                Some(expected)
            }
        }
    } else {
        None
    };
    let receipt = &sent.committed.value.receipt;
    let mut out = sent.json();
    out["contract_address"] = json!(address);
    out["code_hash"] = json!(code_hash);
    out["label"] = json!(label);
    out["funds"] = json!(funds);
    out["admin"] = json!(admin);
    let mut f = Fields::new();
    f.add_opt("contract", address).add("code hash", code_hash).add("label", label).add_opt("admin", admin);
    if !funds.is_zero() {
        f.add("funds", funds);
    }
    sent.fields(&mut f);
    event_fields(&mut f, &receipt.events);
    sent.finish(ctx, out, &f)
}

async fn execute(ctx: &Ctx, contract: &Address, msg: &str, funds: Amount, opts: &TxArgs) -> Result<()> {
    let msg = parse_msg(msg)?;
    let p = prepare(ctx, opts).await?;
    check_msg_size(&p.chain, &msg)?;
    let payload = Payload::Execute { contract: *contract, msg, funds };
    let Some(sent) = send(ctx, &p, opts, payload, ("funds", funds), "execution").await? else { return Ok(()) };

    let data = sent.data();
    let receipt = &sent.committed.value.receipt;
    let mut out = sent.json();
    out["contract"] = json!(contract);
    out["funds"] = json!(funds);
    out["data"] = data_json(&data);
    out["data_hex"] = json!(hex::encode(&data));
    let mut f = Fields::new();
    f.add("contract", contract);
    if !funds.is_zero() {
        f.add("funds", funds);
    }
    sent.fields(&mut f);
    event_fields(&mut f, &receipt.events);
    if sent.succeeded() {
        f.add_lines("data", &show_data(&data));
    }
    sent.finish(ctx, out, &f)
}

async fn migrate(ctx: &Ctx, contract: &Address, code_hash: &Hash, msg: &str, opts: &TxArgs) -> Result<()> {
    let msg = parse_msg(msg)?;
    let p = prepare(ctx, opts).await?;
    check_msg_size(&p.chain, &msg)?;
    let payload = Payload::Migrate { contract: *contract, code_hash: *code_hash, msg };
    let Some(sent) = send(ctx, &p, opts, payload, ("funds", Amount::ZERO), "migration").await? else { return Ok(()) };

    let data = sent.data();
    let receipt = &sent.committed.value.receipt;
    let old = receipt
        .events
        .iter()
        .find(|e| e.kind == "migrate")
        .and_then(|e| e.attributes.iter().find(|(k, _)| k == "old_code_hash"))
        .map(|(_, v)| v.clone());
    let mut out = sent.json();
    out["contract"] = json!(contract);
    out["code_hash"] = json!(code_hash);
    out["old_code_hash"] = json!(old);
    out["data"] = data_json(&data);
    out["data_hex"] = json!(hex::encode(&data));
    let mut f = Fields::new();
    f.add("contract", contract).add("code hash", code_hash).add_opt("previous code hash", old);
    sent.fields(&mut f);
    event_fields(&mut f, &receipt.events);
    if sent.succeeded() && !data.is_empty() {
        f.add_lines("data", &show_data(&data));
    }
    sent.finish(ctx, out, &f)
}

async fn set_admin(ctx: &Ctx, contract: &Address, admin: Option<Address>, opts: &TxArgs) -> Result<()> {
    let p = prepare(ctx, opts).await?;
    let payload = Payload::UpdateAdmin { contract: *contract, admin };
    let Some(sent) = send(ctx, &p, opts, payload, ("funds", Amount::ZERO), "admin change").await? else {
        return Ok(());
    };
    let mut out = sent.json();
    out["contract"] = json!(contract);
    out["admin"] = json!(admin);
    let mut f = Fields::new();
    f.add("contract", contract)
        .add("new admin", admin.map_or_else(|| "none (cleared for good)".into(), |a| a.to_string()));
    sent.fields(&mut f);
    sent.finish(ctx, out, &f)
}

async fn query(ctx: &Ctx, contract: &Address, msg: &str, gas_limit: Option<u64>) -> Result<()> {
    let msg = parse_msg(msg)?;
    let client = ctx.client(CALL_TIMEOUT)?;
    let r = client.contract_query(contract, &msg, gas_limit).await?;
    if ctx.json() {
        return print_json(&r.raw);
    }
    let data = decode_hex("agora_contractQuery", "data_hex", &r.value.data_hex)?;
    if data.is_empty() && !r.value.data.is_null() {
        // A node that sent the JSON but not its bytes.
        return print_json(&r.value.data);
    }
    if data.is_empty() {
        eprintln!("(the contract returned no data)");
        return Ok(());
    }
    print_text(&format!("{}\n", show_data(&data)))
}

async fn info(ctx: &Ctx, contract: &Address) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    let i = client.contract_info(contract).await?;
    if ctx.json() {
        return print_json(&i.raw);
    }
    let v = &i.value;
    Fields::new()
        .add("address", v.address)
        .add("code hash", v.code_hash)
        .add("creator", v.creator)
        .add("label", &v.label)
        .add("admin", v.admin.map_or_else(|| "none".to_owned(), |a| a.to_string()))
        .add("created at", format!("height {}", v.created_height))
        .add("balance", v.balance)
        .print()
}

async fn code_info(ctx: &Ctx, code_hash: &Hash, save: Option<&Path>) -> Result<()> {
    let client = ctx.client(CALL_TIMEOUT)?;
    let i = client.code_info(code_hash).await?;
    if let Some(path) = save {
        let code = client.code(code_hash).await?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| WalletError::io("cannot create the code file", path, e))?;
        file.write_all(&code).map_err(|e| WalletError::io("cannot write the code file", path, e))?;
    }
    if ctx.json() {
        let mut out = i.raw;
        if let Some(path) = save {
            out["saved"] = json!(path.display().to_string());
        }
        return print_json(&out);
    }
    let v = &i.value;
    Fields::new()
        .add("code hash", v.code_hash)
        .add("creator", v.creator)
        .add("size", format!("{} bytes", v.size))
        .add("uploaded at", format!("height {}", v.height))
        .add_opt("saved to", save.map(|p| p.display().to_string()))
        .print()
}

async fn storage(
    ctx: &Ctx,
    contract: &Address,
    key: Option<&[u8]>,
    limit: Option<u32>,
    start_after: Option<&[u8]>,
) -> Result<()> {
    const METHOD: &str = "agora_contractStorage";
    let client = ctx.client(CALL_TIMEOUT)?;
    if let Some(key) = key {
        let r = client.contract_storage_get(contract, key).await?;
        if ctx.json() {
            return print_json(&r.raw);
        }
        let value = match &r.value.value_hex {
            Some(h) => show_bytes(&decode_hex(METHOD, "value_hex", h)?),
            None => "(not set)".into(),
        };
        return Fields::new().add("key", show_bytes(key)).add("value", value).print();
    }
    let page = client.contract_storage_list(contract, start_after, limit).await?;
    if ctx.json() {
        return print_json(&page.raw);
    }
    let mut f = Fields::new();
    for e in &page.value.entries {
        let k = decode_hex(METHOD, "key_hex", &e.key_hex)?;
        let v = decode_hex(METHOD, "value_hex", &e.value_hex)?;
        f.add(&show_bytes(&k), show_bytes(&v));
    }
    if page.value.entries.is_empty() {
        print_text("(no entries)\n")?;
    } else {
        f.print()?;
    }
    if let Some(next) = &page.value.next_start_after_hex {
        let next = next.strip_prefix("0x").unwrap_or(next);
        eprintln!("More entries: agora contract storage {contract} --start-after 0x{next}");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wasm_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.wasm");
        std::fs::write(&ok, b"\0asm\x01\0\0\0").unwrap();
        assert_eq!(read_wasm(&ok).unwrap().len(), 8);
        let wat = dir.path().join("c.wat");
        std::fs::write(&wat, b"  (module)").unwrap();
        let e = read_wasm(&wat).unwrap_err().to_string();
        assert!(e.contains("not a WebAssembly module") && e.contains("WebAssembly text"), "{e}");
        let empty = dir.path().join("empty.wasm");
        std::fs::write(&empty, b"").unwrap();
        assert!(read_wasm(&empty).unwrap_err().to_string().contains("magic"));
        let e = read_wasm(&dir.path().join("missing.wasm")).unwrap_err().to_string();
        assert!(e.starts_with("cannot read the contract code: ") && e.contains("missing.wasm"), "{e}");
    }
}
