//! Generates the OpenRPC document (`rpc.discover`) from the API's own
//! definitions: every `#[method]` and `#[subscription]` of the traits in
//! `src/api/*.rs` (name, doc comment, parameters, result type) and every
//! struct and enum of `src/types/*.rs` (fields, doc comments, serde
//! attributes). Nothing is declared twice, so the document cannot drift from
//! the traits the node serves and the clients call.

use std::fs;
use std::path::Path;

use quote::ToTokens;
use serde_json::{Map, Value, json};
use syn::{Attribute, Fields, FnArg, Item, Pat, ReturnType, TraitItem, Type};

fn docs(attrs: &[Attribute]) -> String {
    let mut out = Vec::new();
    for a in attrs {
        if a.path().is_ident("doc")
            && let syn::Meta::NameValue(nv) = &a.meta
            && let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value
        {
            out.push(s.value().trim().to_owned());
        }
    }
    out.join(" ").trim().to_owned()
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string().replace(' ', "")
}

/// `Outer<Inner>` → ("Outer", Some(inner type)).
fn generic(ty: &Type) -> (String, Vec<Type>) {
    if let Type::Path(p) = ty
        && let Some(seg) = p.path.segments.last()
    {
        let args = match &seg.arguments {
            syn::PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .filter_map(|a| match a {
                    syn::GenericArgument::Type(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        return (seg.ident.to_string(), args);
    }
    (tokens(ty), Vec::new())
}

fn is_option(ty: &Type) -> bool {
    generic(ty).0 == "Option"
}

/// The JSON schema of a Rust type, by name.
fn schema(ty: &Type, known: &Map<String, Value>) -> Value {
    let (name, args) = generic(ty);
    match name.as_str() {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" | "Height" | "Round" => {
            json!({ "type": "integer", "minimum": 0 })
        }
        "bool" => json!({ "type": "boolean" }),
        "f64" | "f32" => json!({ "type": "number" }),
        "String" | "str" => json!({ "type": "string" }),
        "Address" => json!({ "type": "string", "description": "bech32 address (agora1…)" }),
        "Hash" => {
            json!({ "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "32-byte hash, lowercase hex" })
        }
        "PublicKey" => {
            json!({ "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "ed25519 public key, hex" })
        }
        "Amount" | "u128" => {
            json!({ "type": "string", "pattern": "^[0-9]+$", "description": "amount, decimal string" })
        }
        "Value" => json!({ "description": "any JSON value" }),
        "Option" => match args.first() {
            Some(t) => json!({ "oneOf": [schema(t, known), { "type": "null" }] }),
            None => json!({}),
        },
        "Vec" | "VecDeque" => match args.first() {
            Some(t) => json!({ "type": "array", "items": schema(t, known) }),
            None => json!({ "type": "array" }),
        },
        "BTreeMap" | "HashMap" => match args.get(1) {
            Some(t) => json!({ "type": "object", "additionalProperties": schema(t, known) }),
            None => json!({ "type": "object" }),
        },
        "Box" | "Arc" => args.first().map_or(json!({}), |t| schema(t, known)),
        _ if known.contains_key(&name) => json!({ "$ref": format!("#/components/schemas/{name}") }),
        _ => {
            if let Type::Tuple(t) = ty {
                let items: Vec<Value> = t.elems.iter().map(|e| schema(e, known)).collect();
                return json!({ "type": "array", "prefixItems": items, "minItems": items.len(), "maxItems": items.len() });
            }
            json!({ "description": format!("{} (see docs/rpc.md)", tokens(ty)) })
        }
    }
}

fn serde_attr(attrs: &[Attribute], key: &str) -> Option<String> {
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let s = tokens(&a.meta);
        if let Some(v) = attr_string(&s, key) {
            return Some(v);
        }
        if s.contains(&format!("({key})"))
            || s.contains(&format!("({key},"))
            || s.contains(&format!(",{key})"))
            || s.contains(&format!(",{key},"))
        {
            return Some(String::new());
        }
    }
    None
}

fn rename(name: &str, rule: Option<&str>) -> String {
    match rule {
        Some("snake_case") => {
            let mut out = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_uppercase() {
                    if i > 0 {
                        out.push('_');
                    }
                    out.extend(c.to_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
        Some("lowercase") => name.to_lowercase(),
        _ => name.to_owned(),
    }
}

/// Type names first (so fields can `$ref` them), then their schemas.
fn collect_types(items: &[Item], known: &mut Map<String, Value>, pass: u8) {
    for item in items {
        match item {
            Item::Struct(s) => {
                let name = s.ident.to_string();
                if pass == 0 {
                    known.insert(name, Value::Null);
                    continue;
                }
                let mut props = Map::new();
                let mut required = Vec::new();
                let mut all_of = Vec::new();
                let rule = serde_attr(&s.attrs, "rename_all");
                if let Fields::Named(f) = &s.fields {
                    for field in &f.named {
                        let Some(id) = &field.ident else { continue };
                        if serde_attr(&field.attrs, "skip").is_some() {
                            continue;
                        }
                        if serde_attr(&field.attrs, "flatten").is_some() {
                            all_of.push(schema(&field.ty, known));
                            continue;
                        }
                        let key = serde_attr(&field.attrs, "rename")
                            .unwrap_or_else(|| rename(id.to_string().trim_start_matches("r#"), rule.as_deref()));
                        let mut sch = schema(&field.ty, known);
                        let d = docs(&field.attrs);
                        if !d.is_empty()
                            && let Value::Object(o) = &mut sch
                        {
                            o.insert("description".into(), Value::String(d));
                        }
                        let optional = is_option(&field.ty)
                            || serde_attr(&field.attrs, "default").is_some()
                            || serde_attr(&field.attrs, "skip_serializing_if").is_some();
                        if !optional {
                            required.push(Value::String(key.clone()));
                        }
                        props.insert(key, sch);
                    }
                }
                let mut obj = json!({ "type": "object", "description": docs(&s.attrs), "properties": props, "required": required });
                if !all_of.is_empty() {
                    obj = json!({ "allOf": [obj, { "allOf": all_of }] });
                }
                known.insert(name, obj);
            }
            Item::Enum(e) => {
                let name = e.ident.to_string();
                if pass == 0 {
                    known.insert(name, Value::Null);
                    continue;
                }
                let rule = serde_attr(&e.attrs, "rename_all");
                let unit = e.variants.iter().all(|v| matches!(v.fields, Fields::Unit));
                let obj = if unit {
                    let names: Vec<Value> = e
                        .variants
                        .iter()
                        .map(|v| {
                            Value::String(
                                serde_attr(&v.attrs, "rename")
                                    .unwrap_or_else(|| rename(&v.ident.to_string(), rule.as_deref())),
                            )
                        })
                        .collect();
                    json!({ "type": "string", "enum": names, "description": docs(&e.attrs) })
                } else {
                    let variants: Vec<Value> = e
                        .variants
                        .iter()
                        .map(|v| {
                            let vname = serde_attr(&v.attrs, "rename")
                                .unwrap_or_else(|| rename(&v.ident.to_string(), rule.as_deref()));
                            match &v.fields {
                                Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                                    let mut s = schema(&f.unnamed[0].ty, known);
                                    if let Value::Object(o) = &mut s {
                                        o.insert("title".into(), Value::String(vname));
                                    }
                                    s
                                }
                                Fields::Unit => json!({ "const": vname }),
                                _ => json!({ "title": vname, "type": "object" }),
                            }
                        })
                        .collect();
                    json!({ "oneOf": variants, "description": docs(&e.attrs) })
                };
                known.insert(name, obj);
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_types(inner, known, pass);
                }
            }
            _ => {}
        }
    }
}

fn attr_string(s: &str, key: &str) -> Option<String> {
    let i = s.find(&format!("{key}=\""))?;
    let rest = &s[i + key.len() + 2..];
    rest.find('"').map(|j| rest[..j].to_owned())
}

fn methods(items: &[Item], known: &Map<String, Value>, out: &mut Vec<Value>) {
    for item in items {
        let Item::Trait(t) = item else { continue };
        // `#[cfg_attr(…, rpc(server, client, namespace = "agora"))]`
        let rpc = t.attrs.iter().map(|a| tokens(&a.meta)).find(|s| s.contains("rpc("));
        let Some(rpc) = rpc else { continue };
        let ns = attr_string(&rpc, "namespace");
        let full = |n: &str| match &ns {
            Some(ns) => format!("{ns}_{n}"),
            None => n.to_owned(),
        };
        for ti in &t.items {
            let TraitItem::Fn(f) = ti else { continue };
            let mut params = Vec::new();
            for arg in &f.sig.inputs {
                let FnArg::Typed(pt) = arg else { continue };
                let Pat::Ident(id) = &*pt.pat else { continue };
                params.push(json!({
                    "name": id.ident.to_string(),
                    "required": !is_option(&pt.ty),
                    "schema": schema(&pt.ty, known),
                }));
            }
            let summary = docs(&f.attrs);
            for a in &f.attrs {
                let s = tokens(&a.meta);
                if a.path().is_ident("method") {
                    let Some(name) = attr_string(&s, "name") else { continue };
                    let result = match &f.sig.output {
                        ReturnType::Type(_, ty) => {
                            let (outer, args) = generic(ty);
                            if outer.ends_with("Result") && !args.is_empty() {
                                schema(&args[0], known)
                            } else {
                                schema(ty, known)
                            }
                        }
                        ReturnType::Default => json!({ "type": "null" }),
                    };
                    let mut aliases = Vec::new();
                    if let Some(i) = s.find("aliases=[") {
                        let rest = &s[i + 9..];
                        if let Some(j) = rest.find(']') {
                            aliases = rest[..j].split(',').map(|a| a.trim_matches('"').to_owned()).collect();
                        }
                    }
                    out.push(json!({
                        "name": full(&name),
                        "summary": summary,
                        "paramStructure": "either",
                        "params": params,
                        "result": { "name": "result", "schema": result },
                        "x-aliases": aliases,
                    }));
                } else if a.path().is_ident("subscription") {
                    let Some(name) = attr_string(&s, "name") else { continue };
                    let notif =
                        s.find("=>\"").and_then(|i| s[i + 3..].find('"').map(|j| s[i + 3..i + 3 + j].to_owned()));
                    let unsub = attr_string(&s, "unsubscribe");
                    let item = s.find("item=").map(|i| {
                        let rest = &s[i + 5..];
                        rest.split([',', ')']).next().unwrap_or("").to_owned()
                    });
                    let item_schema = item
                        .as_deref()
                        .and_then(|i| syn::parse_str::<Type>(i).ok())
                        .map_or(json!({}), |t| schema(&t, known));
                    out.push(json!({
                        "name": full(&name),
                        "summary": summary,
                        "paramStructure": "either",
                        "params": params,
                        "result": { "name": "subscription", "schema": { "type": "string", "description": "subscription id" } },
                        "x-subscription": {
                            "notification": notif.map(|n| full(&n)),
                            "unsubscribe": unsub.map(|n| full(&n)),
                            "item": item_schema,
                        },
                    }));
                }
            }
        }
    }
}

fn parse_dir(dir: &Path) -> Vec<Item> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "rs")).collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut items = Vec::new();
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let src = fs::read_to_string(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        let file = syn::parse_file(&src).unwrap_or_else(|e| panic!("parse {}: {e}", f.display()));
        items.extend(file.items);
    }
    items
}

fn main() {
    // Read at run time: the build script may be run for another checkout of
    // this crate than the one it was compiled for.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("src");
    println!("cargo:rerun-if-changed=src/api");
    println!("cargo:rerun-if-changed=src/types");
    let types = parse_dir(&root.join("types"));
    let api = parse_dir(&root.join("api"));
    let mut known = Map::new();
    collect_types(&types, &mut known, 0);
    collect_types(&api, &mut known, 0);
    collect_types(&types, &mut known, 1);
    collect_types(&api, &mut known, 1);
    known.retain(|_, v| !v.is_null());
    let mut ms = Vec::new();
    methods(&api, &known, &mut ms);
    ms.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let doc = json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "Agora JSON-RPC",
            "version": std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
            "description": "Generated at build time from the rpc-api crate's traits and types; docs/rpc.md explains the conventions.",
        },
        "methods": ms,
        "components": { "schemas": known },
    });
    // Written to a temporary file and renamed into place, so a reader never
    // sees half a document, and a hard-linked copy of the target directory
    // keeps its own file.
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let (tmp, out) = (Path::new(&out_dir).join("openrpc.json.tmp"), Path::new(&out_dir).join("openrpc.json"));
    fs::write(&tmp, serde_json::to_string(&doc).expect("json")).expect("write openrpc.json.tmp");
    fs::rename(&tmp, &out).expect("rename openrpc.json");
}
