//! `agora keys new|recover|list|show|export`.

use serde_json::json;

use crate::cli::KeysCommand;
use crate::commands::Ctx;
use crate::derive::{self, MNEMONIC_WORDS};
use crate::error::Result;
use crate::keystore::{KdfCost, Keystore};
use crate::output::{Fields, print_json, print_text};
use crate::secrets;

pub fn run(ctx: &Ctx, cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::New { name } => new(ctx, &name),
        KeysCommand::Recover { name, mnemonic_file } => recover(ctx, &name, mnemonic_file.as_deref()),
        KeysCommand::List => list(ctx),
        KeysCommand::Show { name, address } => show(ctx, &name, address),
        KeysCommand::Export { name } => export(ctx, &name),
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

fn export(ctx: &Ctx, name: &str) -> Result<()> {
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
