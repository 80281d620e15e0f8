//! `agora contract …`: upload WebAssembly code, create and call contracts, and
//! read them (see `vm/ABI.md` for what a contract is).
//!
//! The transaction commands (`store`, `instantiate`, `execute`, `migrate`,
//! `set-admin`) follow `agora transfer`:
//!
//! 1. Check the arguments locally: the .wasm file (exists, `\0asm` magic), the
//!    JSON message (`MSG` or `@FILE`), before anything is asked of the node.
//! 2. `agora_chainParams` (chain id, gas parameters, `params.contracts` limits:
//!    code, message and label sizes are checked here) and `agora_getAccount`
//!    (next nonce, balance).
//! 3. Gas limit: with `--gas auto` (the default) a dry run (`agora_estimateGas`,
//!    zero signature, `gas_limit = max_tx_gas`, committed nonce). A failed dry run
//!    stops here with the contract's reason, before anything is signed or paid.
//!    Contract gas depends on state, which may change before the transaction is
//!    included, so the limit is `gas_used × 1.3 + 10 000` (capped at
//!    `max_tx_gas`); only the gas used is charged. `--gas N` is used as is.
//! 4. Balance ≥ funds + gas limit × gas price (the dry run charges no fee).
//! 5. Password, sign, `agora_sendTxCommit`, print. A failed receipt exits with
//!    code 3 after printing the result.

use std::io::Write;
use std::path::Path;

use ledger::{Address, Amount, Hash, Payload, SignedTx, TxBody, contract_address};
use serde_json::{Value, json};

use crate::cli::{ContractCommand, TxArgs};
use crate::commands::query::{event_fields, receipt_fields};
use crate::commands::transfer::{check_commit_timeout, commit_and_wait};
use crate::commands::{CALL_TIMEOUT, Ctx};
use crate::error::{Result, WalletError};
use crate::keystore::Keystore;
use crate::output::{Fields, data_json, print_json, print_text, show_bytes, show_data};
use crate::parse::{GasSetting, parse_msg};
use crate::rpc::{
    ChainParamsInfo, Committed, ContractParamsInfo, GasEstimate, GasEstimateExt, NodeClient, ReceiptExt, WithRaw,
    decode_hex,
};

/// The first four bytes of every WebAssembly binary module.
pub const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// Gas added to the dry run's `gas_used × 1.3` by `--gas auto`.
pub const AUTO_GAS_EXTRA: u64 = 10_000;

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

/// The gas limit `--gas auto` sets: `used × 1.3 + 10 000`, rounded to the
/// nearest unit, at most `max`.
pub fn auto_gas_limit(used: u64, max: u64) -> u64 {
    let g = (u128::from(used) * 13 + 5) / 10 + u128::from(AUTO_GAS_EXTRA);
    u64::try_from(g).unwrap_or(u64::MAX).min(max)
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

/// A transaction that was signed, sent and committed (contracts and staking).
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
    fn data(&self) -> Vec<u8> {
        self.committed.value.receipt.data_bytes().unwrap_or_else(|e| {
            eprintln!("warning: {e}");
            Vec::new()
        })
    }

    /// The `-o json` document: the commit, the receipt as the node sent it, and
    /// what the wallet chose.
    pub(crate) fn json(&self) -> Value {
        let c = &self.committed.value;
        json!({
            "hash": c.hash,
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

    /// Prints `out` (JSON) or `f` (text), then fails if the receipt did.
    pub(crate) fn finish(&self, ctx: &Ctx, out: Value, f: &Fields) -> Result<()> {
        if ctx.json() {
            print_json(&out)?
        } else {
            f.print()?
        }
        let c = &self.committed.value;
        if !self.succeeded() {
            return Err(WalletError::TxFailed {
                hash: c.hash.to_string(),
                height: c.height.0,
                reason: c.receipt.failure_reason(),
            });
        }
        Ok(())
    }
}

/// Steps 2–5 of the module documentation for `payload`, which moves `value`
/// (named by its label in errors, e.g. `("funds", 5)`) from the sender. `what`
/// names the transaction in errors. Staking transactions are sent the same way.
pub(crate) async fn send(
    ctx: &Ctx,
    p: &Prepared,
    opts: &TxArgs,
    payload: Payload,
    value: (&'static str, Amount),
    what: &'static str,
) -> Result<Sent> {
    let Prepared { from, client, chain } = p;
    let account = client.account(&from.address).await?.value;
    let (nonce, gas_price) = super::nonce_and_price(chain, &account, opts.nonce, opts.gas_price)?;
    let max_gas = chain.params.max_tx_gas;
    let body = |nonce: u64, gas_limit: u64| TxBody {
        chain_id: chain.chain_id.clone(),
        sender: from.public_key,
        nonce,
        gas_limit,
        gas_price,
        payload: payload.clone(),
    };
    // Signatures and the gas fields have a fixed width: the dry-run transaction
    // is exactly as large as the one that will be signed.
    let dry = SignedTx { body: body(account.nonce, max_gas), signature: ledger::Signature([0; 64]) };
    let dry_bytes = dry.encode();
    if let Some(max) = Some(u64::from(chain.params.max_tx_bytes))
        && dry_bytes.len() as u64 > max
    {
        return Err(WalletError::InvalidArgument(format!(
            "the transaction would be {} bytes, above the chain's limit of {max} bytes (max_tx_bytes)",
            dry_bytes.len()
        )));
    }

    let (gas_limit, estimate) = match opts.gas {
        GasSetting::Limit(g) => (g, None),
        GasSetting::Auto => {
            let est = client.estimate_gas(&hex::encode(&dry_bytes)).await?.value;
            if !est.succeeded() {
                return Err(WalletError::DryRunFailed { what, reason: est.failure_reason() });
            }
            (auto_gas_limit(est.gas_used, max_gas), Some(est))
        }
    };
    super::check_affordable(&from.address, &account, gas_limit, max_gas, gas_price, value, what)?;

    let password = ctx.password.existing(&from.name)?;
    let signed = {
        let unlocked = from.decrypt(&password)?;
        body(nonce, gas_limit).sign(&unlocked.signing_key)
    };
    drop(password);
    let hash = signed.hash();
    let committed = commit_and_wait(client, &hex::encode(signed.encode()), &hash, opts.timeout).await?;
    Ok(Sent { from: from.address, nonce, gas_limit, gas_price, estimate, committed })
}

/// The signing key (not yet decrypted), a client that waits long enough for
/// the commit, and the chain's parameters.
pub(crate) struct Prepared {
    pub(crate) from: Keystore,
    pub(crate) client: NodeClient,
    pub(crate) chain: ChainParamsInfo,
}

pub(crate) async fn prepare(ctx: &Ctx, opts: &TxArgs) -> Result<Prepared> {
    check_commit_timeout(opts.timeout)?;
    let from = ctx.keyring.load(&opts.from)?;
    let client = ctx.client(CALL_TIMEOUT + opts.timeout)?;
    let chain = client.chain_params().await?.value;
    Ok(Prepared { from, client, chain })
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
    let sent = send(ctx, &p, opts, Payload::StoreCode { code }, ("funds", Amount::ZERO), "upload").await?;

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
    let sent = send(ctx, &p, opts, payload, ("funds", funds), "instantiation").await?;

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
    let sent = send(ctx, &p, opts, payload, ("funds", funds), "execution").await?;

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
    let sent = send(ctx, &p, opts, payload, ("funds", Amount::ZERO), "migration").await?;

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
    let sent = send(ctx, &p, opts, payload, ("funds", Amount::ZERO), "admin change").await?;
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
    let data = decode_hex("contractQuery", "data_hex", &r.value.data_hex)?;
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
    const METHOD: &str = "contractStorage";
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
    fn auto_gas_adds_30_percent_and_10000_capped() {
        assert_eq!(auto_gas_limit(0, 100_000_000), 10_000);
        assert_eq!(auto_gas_limit(100_000, 100_000_000), 140_000);
        assert_eq!(auto_gas_limit(17_182, 100_000_000), 32_337, "22336.6 rounds up");
        assert_eq!(auto_gas_limit(17_181, 100_000_000), 32_335, "22335.3 rounds down");
        assert_eq!(auto_gas_limit(90_000_000, 100_000_000), 100_000_000);
        assert_eq!(auto_gas_limit(u64::MAX, u64::MAX), u64::MAX);
    }

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
