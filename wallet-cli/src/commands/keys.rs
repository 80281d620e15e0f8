//! `agora keys new|recover|import|list|show|export|delete`.
//!
//! Secrets are printed only when asked for: `keys new` shows the new
//! mnemonic once (it is the backup), `keys export --mnemonic` prints it; plain
//! `keys export` prints the encrypted keystore, which `keys import --keystore`
//! reads back. No command replaces an existing key.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use serde_json::json;

use crate::cli::KeysCommand;
use crate::commands::Ctx;
use crate::derive::{self, MNEMONIC_WORDS};
use crate::error::{Result, WalletError};
use crate::keystore::{KdfCost, Keystore};
use crate::output::{Fields, print_json, print_text};
use crate::secrets;

/// Largest keystore file or mnemonic text read by `keys import`.
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024;

pub fn run(ctx: &Ctx, cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::New { name } => new(ctx, &name),
        KeysCommand::Recover { name, mnemonic_file } => recover(ctx, &name, mnemonic_file.as_deref()),
        KeysCommand::Import { name, keystore } => import(ctx, &name, keystore.as_deref()),
        KeysCommand::List => list(ctx),
        KeysCommand::Show { name, address } => show(ctx, &name, address),
        KeysCommand::Export { name, mnemonic } => {
            if mnemonic {
                export_mnemonic(ctx, &name)
            } else {
                export_keystore(ctx, &name)
            }
        }
        KeysCommand::Delete { name, yes } => delete(ctx, &name, yes),
    }
}

fn describe(ks: &Keystore, keystore_path: &std::path::Path) -> serde_json::Value {
    json!({
        "name": ks.name,
        "address": ks.address,
        "public_key": ks.public_key,
        "derivation_path": ks.derivation_path,
        "keystore": keystore_path.display().to_string(),
    })
}

fn fields(ks: &Keystore, keystore_path: &std::path::Path) -> Fields {
    let mut f = Fields::new();
    f.add("name", &ks.name)
        .add("address", ks.address)
        .add("public key", ks.public_key)
        .add("path", &ks.derivation_path)
        .add("keystore", keystore_path.display());
    f
}

fn new(ctx: &Ctx, name: &str) -> Result<()> {
    ctx.keyring.ensure_free(name)?;
    let cost = KdfCost::for_new_keys()?;
    let password = ctx.password.new_password(name)?;
    let mnemonic = derive::generate_mnemonic()?;
    let ks = Keystore::encrypt(name, &mnemonic, &password, cost)?;
    let path = ctx.keyring.save_new(&ks)?;
    let phrase = zeroize::Zeroizing::new(mnemonic.to_string());

    if ctx.json() {
        let mut v = describe(&ks, &path);
        v["mnemonic"] = json!(phrase.as_str());
        return print_json(&v);
    }
    eprintln!(
        "Key `{name}` created. Write the {MNEMONIC_WORDS}-word mnemonic below on paper and keep it secret:\n\
         anyone who has it controls the funds, and it is the only way to recover the key."
    );
    let mut text = fields(&ks, &path).render();
    text.push_str(&format!("\nmnemonic:\n{}\n", phrase.as_str()));
    print_text(&text)
}

fn recover(ctx: &Ctx, name: &str, mnemonic_file: Option<&std::path::Path>) -> Result<()> {
    ctx.keyring.ensure_free(name)?;
    let cost = KdfCost::for_new_keys()?;
    let text = secrets::read_mnemonic(mnemonic_file)?;
    let mnemonic = derive::parse_mnemonic(&text)?;
    let password = ctx.password.new_password(name)?;
    let ks = Keystore::encrypt(name, &mnemonic, &password, cost)?;
    let path = ctx.keyring.save_new(&ks)?;
    if ctx.json() {
        return print_json(&describe(&ks, &path));
    }
    eprintln!("Key `{name}` recovered.");
    fields(&ks, &path).print()
}

fn list(ctx: &Ctx) -> Result<()> {
    let (keys, problems) = ctx.keyring.list()?;
    for p in &problems {
        eprintln!("warning: skipped {p}");
    }
    if ctx.json() {
        let v: Vec<_> =
            keys.iter().map(|k| json!({"name": k.name, "address": k.address, "public_key": k.public_key})).collect();
        return print_json(&v);
    }
    if keys.is_empty() {
        eprintln!("No keys in {} (create one with `agora keys new NAME`).", ctx.keyring.dir().display());
        return Ok(());
    }
    let width = keys.iter().map(|k| k.name.len()).max().unwrap_or(0).max(4);
    let mut out = format!("{:<width$}  ADDRESS\n", "NAME");
    for k in &keys {
        out.push_str(&format!("{:<width$}  {}\n", k.name, k.address));
    }
    print_text(&out)
}

fn show(ctx: &Ctx, name: &str, address_only: bool) -> Result<()> {
    let ks = ctx.keyring.load(name)?;
    let path = ctx.keyring.path_of(name)?;
    if ctx.json() {
        return print_json(&describe(&ks, &path));
    }
    if address_only {
        return print_text(&format!("{}\n", ks.address));
    }
    fields(&ks, &path).print()
}

/// `keys import NAME`: a keystore file (`--keystore`) or a mnemonic on stdin.
fn import(ctx: &Ctx, name: &str, keystore: Option<&Path>) -> Result<()> {
    ctx.keyring.ensure_free(name)?;
    let ks = match keystore {
        Some(file) => {
            let bytes = read_bounded(file)?;
            let ks = Keystore::from_export(file, &bytes, name)?;
            // Check the file before it enters the keyring: its password opens it.
            let password = ctx.password.existing(name)?;
            ks.decrypt(&password)?;
            ks
        }
        None => {
            let cost = KdfCost::for_new_keys()?;
            let text = read_mnemonic_stdin()?;
            let mnemonic = derive::parse_mnemonic(&text)?;
            let password = ctx.password.new_password(name)?;
            Keystore::encrypt(name, &mnemonic, &password, cost)?
        }
    };
    let path = ctx.keyring.save_new(&ks)?;
    if ctx.json() {
        return print_json(&describe(&ks, &path));
    }
    eprintln!("Key `{name}` imported.");
    fields(&ks, &path).print()
}

fn read_bounded(file: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(file).map_err(|e| WalletError::io("cannot read the keystore file", file, e))?;
    let mut bytes = Vec::new();
    f.take(MAX_IMPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| WalletError::io("cannot read the keystore file", file, e))?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        return Err(WalletError::Keystore {
            path: file.to_owned(),
            reason: format!("larger than {MAX_IMPORT_BYTES} bytes: not a keystore"),
        });
    }
    Ok(bytes)
}

/// The mnemonic for `keys import`: all of stdin when it is not a terminal
/// (a pipe or a file), else a hidden prompt.
fn read_mnemonic_stdin() -> Result<zeroize::Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return secrets::read_mnemonic(None);
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    stdin
        .lock()
        .take(MAX_IMPORT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| WalletError::Mnemonic(format!("cannot read it from stdin: {e}")))?;
    if text.len() as u64 > MAX_IMPORT_BYTES {
        return Err(WalletError::Mnemonic(format!("stdin holds more than {MAX_IMPORT_BYTES} bytes")));
    }
    if text.trim().is_empty() {
        return Err(WalletError::Mnemonic(
            "nothing on stdin: pipe the mnemonic in (e.g. `agora keys import NAME < words.txt`) or give --keystore FILE"
                .into(),
        ));
    }
    Ok(text)
}

/// `keys export NAME`: the encrypted keystore, as stored (no password needed:
/// it stays encrypted under the key's password).
fn export_keystore(ctx: &Ctx, name: &str) -> Result<()> {
    let ks = ctx.keyring.load(name)?;
    print_json(&ks)?;
    if !ctx.json() {
        eprintln!(
            "This is `{name}`'s keystore, encrypted with its password: keep it private all the same. \
             Import it elsewhere with `agora keys import NAME --keystore FILE`."
        );
    }
    Ok(())
}

/// `keys delete NAME`: asks on stdin unless `--yes`.
fn delete(ctx: &Ctx, name: &str, yes: bool) -> Result<()> {
    let ks = ctx.keyring.load(name)?;
    if !yes {
        eprint!(
            "Delete key `{name}` ({})? Without its mnemonic or an export, its funds are lost. Type `yes` to confirm: ",
            ks.address
        );
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .take(256)
            .read_line(&mut answer)
            .map_err(|e| WalletError::InvalidArgument(format!("cannot read the confirmation: {e}")))?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            eprintln!();
            return Err(WalletError::InvalidArgument(format!(
                "key `{name}` was not deleted (not confirmed; pass --yes to skip the question)"
            )));
        }
    }
    let path = ctx.keyring.delete(name)?;
    if ctx.json() {
        return print_json(&json!({ "deleted": name, "address": ks.address, "keystore": path.display().to_string() }));
    }
    eprintln!("Key `{name}` ({}) deleted.", ks.address);
    Ok(())
}

fn export_mnemonic(ctx: &Ctx, name: &str) -> Result<()> {
    let ks = ctx.keyring.load(name)?;
    let password = ctx.password.existing(name)?;
    let unlocked = ks.decrypt(&password)?;
    eprintln!(
        "WARNING: the mnemonic below gives full control of `{name}` ({}). Do not share it, paste it \
         into websites or store it unencrypted.",
        ks.address
    );
    if ctx.json() {
        return print_json(&json!({
            "name": ks.name,
            "address": ks.address,
            "derivation_path": ks.derivation_path,
            "mnemonic": unlocked.mnemonic.as_str(),
        }));
    }
    print_text(&format!("{}\n", unlocked.mnemonic.as_str()))
}
