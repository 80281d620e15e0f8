//! Upload-time checks of contract code (see `ABI.md`, "Module rules").
//!
//! Everything here is a pure function of the code bytes and the chain
//! parameters, so every node accepts or refuses the same uploads.

use ledger::ChainParams;
use wasmtime::wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

/// Most elements a contract's table may have.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000;
/// Most functions a contract may define.
pub const MAX_FUNCTIONS: u32 = 20_000;
/// Most locals (including parameters) of one function.
pub const MAX_LOCALS: u32 = 1_000;
/// Most tables a contract may define (the instance pool holds one per instance).
pub const MAX_TABLES: u32 = 1;
/// Most globals a contract may define (they live in the pooled instance
/// state, whose size is bounded; rustc emits one to three).
pub const MAX_GLOBALS: u32 = 1_000;
/// Most data and element segments each (each is instance state).
pub const MAX_SEGMENTS: u32 = 10_000;

/// The wasm features contracts may use; the engine is configured the same way.
pub fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
}

use ValType::{I32, I64};

/// The host functions a contract may import, with their exact signatures.
pub const IMPORTS: &[(&str, &[ValType], &[ValType])] = &[
    ("register_len", &[], &[I64]),
    ("read_register", &[I32], &[]),
    ("storage_get", &[I32, I32], &[I64]),
    ("storage_set", &[I32, I32, I32, I32], &[]),
    ("storage_remove", &[I32, I32], &[]),
    ("storage_next", &[I32, I32, I32, I32, I32], &[I64]),
    ("caller", &[I32], &[]),
    ("origin", &[I32], &[]),
    ("self_address", &[I32], &[]),
    ("funds", &[I32], &[]),
    ("block_height", &[], &[I64]),
    ("block_time_ms", &[], &[I64]),
    ("chain_id", &[], &[I64]),
    ("emit_event", &[I32, I32, I32, I32], &[]),
    ("balance", &[I32, I32], &[]),
    ("transfer", &[I32, I32], &[I32]),
    ("call", &[I32, I32, I32, I32, I64], &[I32]),
    ("query_contract", &[I32, I32, I32], &[I32]),
    ("abort", &[I32, I32], &[]),
    ("sha256", &[I32, I32, I32], &[]),
    ("ed25519_verify", &[I32, I32, I32, I32], &[I32]),
    ("instantiate", &[I32, I32, I32, I32, I32, I32, I64], &[I32]),
    ("contract_code_hash", &[I32, I32], &[I32]),
    ("burn", &[I32], &[I32]),
    ("bonded_stake_at", &[I32, I64, I32], &[I32]),
    ("total_bonded_at", &[I64, I32], &[I32]),
    ("update_chain_params", &[I32, I32], &[I32]),
    ("instantiate_with_admin", &[I32, I32, I32, I32, I32, I32, I64, I32], &[I32]),
    ("migrate", &[I32, I32, I32, I32, I64], &[I32]),
    ("update_admin", &[I32, I32, I32], &[I32]),
    ("contract_admin", &[I32, I32], &[I32]),
    ("addr_parse", &[I32, I32, I32], &[I32]),
    ("addr_format", &[I32], &[I64]),
];

/// A function signature: (params, results).
type Sig = (&'static [ValType], &'static [ValType]);

/// Required and optional exports with their signatures (`None` = memory).
const EXPORTS: &[(&str, bool, Option<Sig>)] = &[
    ("memory", true, None),
    ("interface_version_1", true, Some((&[], &[]))),
    ("agora_alloc", true, Some((&[I32], &[I32]))),
    ("instantiate", false, Some((&[I32, I32], &[I64]))),
    ("execute", false, Some((&[I32, I32], &[I64]))),
    ("query", false, Some((&[I32, I32], &[I64]))),
    ("migrate", false, Some((&[I32, I32], &[I64]))),
];

fn sig(params: &[ValType], results: &[ValType]) -> String {
    let list = |v: &[ValType]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    format!("({}) -> ({})", list(params), list(results))
}

/// Checks uploaded code against the module rules. The error explains the
/// first problem found.
pub fn check_code(code: &[u8], params: &ChainParams) -> Result<(), String> {
    let cp = &params.contracts;
    if code.len() > cp.max_code_bytes as usize {
        return Err(format!("code is {} bytes, the limit is {}", code.len(), cp.max_code_bytes));
    }
    if !code.starts_with(b"\0asm") {
        return Err("not a WebAssembly module (missing the \\0asm magic)".into());
    }
    let mut validator = Validator::new_with_features(features());
    validator.validate_all(code).map_err(|e| format!("invalid WebAssembly: {}", e.message()))?;

    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new(); // type index per function (imports first)
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let mut memories = 0u32;
    let mut tables = 0u32;
    let mut defined_functions = 0u32;
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload.map_err(|e| format!("invalid WebAssembly: {}", e.message()))?;
        match payload {
            Payload::Version { encoding, .. } if encoding != wasmtime::wasmparser::Encoding::Module => {
                return Err("components are not supported; upload a core WebAssembly module".into());
            }
            Payload::TypeSection(r) => {
                for rec in r {
                    let rec = rec.map_err(|e| e.message().to_owned())?;
                    for st in rec.types() {
                        types.push(match &st.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f.clone()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.map_err(|e| e.message().to_owned())?;
                    let TypeRef::Func(ti) = imp.ty else {
                        return Err(format!(
                            "import `{}.{}` is not a function: contracts may only import host functions",
                            imp.module, imp.name
                        ));
                    };
                    if imp.module != "agora" {
                        return Err(format!(
                            "import `{}.{}`: contracts may only import from module `agora`",
                            imp.module, imp.name
                        ));
                    }
                    let Some((_, p, r)) = IMPORTS.iter().find(|(n, _, _)| *n == imp.name) else {
                        return Err(format!("unknown host function `agora.{}` (see the ABI's import list)", imp.name));
                    };
                    let ft = types.get(ti as usize).cloned().flatten().ok_or("import of a non-function type")?;
                    if ft.params() != *p || ft.results() != *r {
                        return Err(format!(
                            "host function `agora.{}` has signature {}, the module imports it as {}",
                            imp.name,
                            sig(p, r),
                            sig(ft.params(), ft.results())
                        ));
                    }
                    func_types.push(ti);
                }
            }
            Payload::FunctionSection(r) => {
                for ti in r {
                    func_types.push(ti.map_err(|e| e.message().to_owned())?);
                    defined_functions += 1;
                }
                if defined_functions > MAX_FUNCTIONS {
                    return Err(format!("{defined_functions} functions, the limit is {MAX_FUNCTIONS}"));
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(|e| e.message().to_owned())?;
                    tables += 1;
                    if tables > MAX_TABLES {
                        return Err(format!("a contract may define at most {MAX_TABLES} table"));
                    }
                    if t.ty.initial > MAX_TABLE_ELEMENTS {
                        return Err(format!("table of {} elements, the limit is {MAX_TABLE_ELEMENTS}", t.ty.initial));
                    }
                }
            }
            Payload::GlobalSection(r) if r.count() > MAX_GLOBALS => {
                return Err(format!("{} globals, the limit is {MAX_GLOBALS}", r.count()));
            }
            Payload::DataSection(r) if r.count() > MAX_SEGMENTS => {
                return Err(format!("{} data segments, the limit is {MAX_SEGMENTS}", r.count()));
            }
            Payload::ElementSection(r) if r.count() > MAX_SEGMENTS => {
                return Err(format!("{} element segments, the limit is {MAX_SEGMENTS}", r.count()));
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.map_err(|e| e.message().to_owned())?;
                    memories += 1;
                    if m.initial > u64::from(cp.max_memory_pages) {
                        return Err(format!(
                            "memory starts at {} pages of 64 KiB, the limit is {} (max_memory_pages)",
                            m.initial, cp.max_memory_pages
                        ));
                    }
                }
            }
            Payload::StartSection { .. } => {
                return Err("start functions are not allowed: initialise state in `instantiate`".into());
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.message().to_owned())?;
                    exports.push((e.name.to_owned(), e.kind, e.index));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals = 0u32;
                let reader = body.get_locals_reader().map_err(|e| e.message().to_owned())?;
                for l in reader {
                    let (n, _) = l.map_err(|e| e.message().to_owned())?;
                    locals = locals.saturating_add(n);
                }
                if locals > MAX_LOCALS {
                    return Err(format!("a function declares {locals} locals, the limit is {MAX_LOCALS}"));
                }
            }
            _ => {}
        }
    }
    if memories != 1 {
        return Err(format!("a contract must define exactly one memory, this one defines {memories}"));
    }
    for (name, required, want) in EXPORTS {
        let found = exports.iter().find(|(n, _, _)| n == name);
        match (found, want) {
            (None, _) if *required => return Err(format!("missing export `{name}` (see the ABI)")),
            (None, _) => {}
            (Some((_, kind, _)), None) if *kind != ExternalKind::Memory => {
                return Err(format!("export `{name}` must be a memory"));
            }
            (Some(_), None) => {}
            (Some((_, kind, idx)), Some((p, r))) => {
                if *kind != ExternalKind::Func {
                    return Err(format!("export `{name}` must be a function"));
                }
                let ft = func_types
                    .get(*idx as usize)
                    .and_then(|ti| types.get(*ti as usize).cloned().flatten())
                    .ok_or_else(|| format!("export `{name}` refers to an unknown function"))?;
                if ft.params() != *p || ft.results() != *r {
                    return Err(format!(
                        "export `{name}` must have signature {}, it has {}",
                        sig(p, r),
                        sig(ft.params(), ft.results())
                    ));
                }
            }
        }
    }
    if !exports.iter().any(|(n, _, _)| ["instantiate", "execute", "query"].contains(&n.as_str())) {
        return Err("the module exports no entry point (`instantiate`, `execute` or `query`)".into());
    }
    Ok(())
}
