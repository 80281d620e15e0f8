//! `agora config [KEY [VALUE]] [--unset]`: show or change client.toml
//! (see `config.rs` for the file and the order settings are resolved in).

use serde_json::json;

use crate::cli::ConfigArgs;
use crate::commands::Ctx;
use crate::config::{ConfigKey, Source};
use crate::error::Result;
use crate::output::{Fields, print_json, print_text};

pub fn run(ctx: &Ctx, args: &ConfigArgs) -> Result<()> {
    let Some(key) = args.key else { return show_all(ctx) };
    if args.value.is_none() && !args.unset {
        return show_one(ctx, key);
    }
    let mut config = ctx.config.clone();
    config.set(key, args.value.as_deref())?;
    config.save(&ctx.config_path)?;
    let value = config.get(key);
    if ctx.json() {
        return print_json(&json!({
            "file": ctx.config_path.display().to_string(),
            "key": key.name(),
            "value": value,
        }));
    }
    match &value {
        Some(v) => eprintln!("{} = {v} (in {})", key.name(), ctx.config_path.display()),
        None => eprintln!("{} removed from {}", key.name(), ctx.config_path.display()),
    }
    if let Some(over) = overridden(ctx, key) {
        eprintln!("note: {over} is set and takes precedence over the file for this run");
    }
    Ok(())
}

/// The effective value of `key` and where it comes from.
fn effective(ctx: &Ctx, key: ConfigKey) -> (Option<String>, Source) {
    match key {
        ConfigKey::ChainId => match &ctx.chain_id {
            Some((v, s)) => (Some(v.clone()), *s),
            None => (None, Source::Default),
        },
        ConfigKey::Node => (Some(ctx.node.clone()), ctx.node_source),
        ConfigKey::Output => (Some(ctx.output.as_str().to_owned()), ctx.output_source),
        ConfigKey::MaxFee => match &ctx.max_fee {
            Some((v, s)) => (Some(v.to_string()), *s),
            None => (Some(crate::config::DEFAULT_MAX_FEE.to_string()), Source::Default),
        },
    }
}

/// A flag or variable of this run that hides the file's `key`.
fn overridden(ctx: &Ctx, key: ConfigKey) -> Option<String> {
    let (_, source) = effective(ctx, key);
    matches!(source, Source::Flag | Source::Env).then(|| source.describe(key))
}

fn show_one(ctx: &Ctx, key: ConfigKey) -> Result<()> {
    let (value, source) = effective(ctx, key);
    if ctx.json() {
        return print_json(&json!({ "key": key.name(), "value": value, "source": source.as_str() }));
    }
    match value {
        Some(v) => print_text(&format!("{v}\n")),
        None => {
            eprintln!("{} is not set (the node's is used)", key.name());
            Ok(())
        }
    }
}

fn show_all(ctx: &Ctx) -> Result<()> {
    if ctx.json() {
        let mut out = json!({ "file": ctx.config_path.display().to_string() });
        for key in ConfigKey::ALL {
            let (value, source) = effective(ctx, key);
            out[key.name()] = json!({ "value": value, "source": source.as_str() });
        }
        return print_json(&out);
    }
    let mut f = Fields::new();
    f.add("file", ctx.config_path.display());
    for key in ConfigKey::ALL {
        let (value, source) = effective(ctx, key);
        let shown = match (value, source) {
            (None, _) => "(not pinned: the node's chain id is used)".to_owned(),
            (Some(v), Source::Default) => format!("{v} (default)"),
            (Some(v), s) => format!("{v} (from {})", s.describe(key)),
        };
        f.add(key.name(), shown);
    }
    f.print()
}
