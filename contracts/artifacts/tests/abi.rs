//! Each artifact follows the module rules of `vm/ABI.md`: valid wasm with only
//! the allowed features (no SIMD, threads…), no start function, one memory
//! (exported as `memory`, ≤ 256 pages initial and maximum), at most one table,
//! only `agora` imports with the ABI's exact signatures, and the required
//! exports with their signatures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use wasmparser::{ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures};

use ValType::{I32, I64};

/// A function signature: (params, results).
type Sig = (Vec<ValType>, Vec<ValType>);

/// The imports of module `agora`, ABI v1: name -> (params, results).
fn abi_imports() -> BTreeMap<&'static str, Sig> {
    BTreeMap::from([
        ("register_len", (vec![], vec![I64])),
        ("read_register", (vec![I32], vec![])),
        ("storage_get", (vec![I32, I32], vec![I64])),
        ("storage_set", (vec![I32, I32, I32, I32], vec![])),
        ("storage_remove", (vec![I32, I32], vec![])),
        ("storage_next", (vec![I32, I32, I32, I32, I32], vec![I64])),
        ("caller", (vec![I32], vec![])),
        ("origin", (vec![I32], vec![])),
        ("self_address", (vec![I32], vec![])),
        ("funds", (vec![I32], vec![])),
        ("block_height", (vec![], vec![I64])),
        ("block_time_ms", (vec![], vec![I64])),
        ("chain_id", (vec![], vec![I64])),
        ("emit_event", (vec![I32, I32, I32, I32], vec![])),
        ("balance", (vec![I32, I32], vec![])),
        ("transfer", (vec![I32, I32], vec![I32])),
        ("call", (vec![I32, I32, I32, I32, I64], vec![I32])),
        ("query_contract", (vec![I32, I32, I32], vec![I32])),
        ("abort", (vec![I32, I32], vec![])),
        ("sha256", (vec![I32, I32, I32], vec![])),
        ("ed25519_verify", (vec![I32, I32, I32, I32], vec![I32])),
        ("instantiate", (vec![I32, I32, I32, I32, I32, I32, I64], vec![I32])),
        ("contract_code_hash", (vec![I32, I32], vec![I32])),
        ("burn", (vec![I32], vec![I32])),
        ("bonded_stake_at", (vec![I32, I64, I32], vec![I32])),
        ("total_bonded_at", (vec![I64, I32], vec![I32])),
        ("update_chain_params", (vec![I32, I32], vec![I32])),
        ("instantiate_with_admin", (vec![I32, I32, I32, I32, I32, I32, I64, I32], vec![I32])),
        ("migrate", (vec![I32, I32, I32, I32, I64], vec![I32])),
        ("update_admin", (vec![I32, I32, I32], vec![I32])),
        ("contract_admin", (vec![I32, I32], vec![I32])),
        ("addr_parse", (vec![I32, I32, I32], vec![I32])),
        ("addr_format", (vec![I32], vec![I64])),
    ])
}

/// The function exports every artifact must have: name -> (params, results).
fn abi_exports() -> BTreeMap<&'static str, Sig> {
    BTreeMap::from([
        ("interface_version_1", (vec![], vec![])),
        ("agora_alloc", (vec![I32], vec![I32])),
        ("instantiate", (vec![I32, I32], vec![I64])),
        ("execute", (vec![I32, I32], vec![I64])),
        ("query", (vec![I32, I32], vec![I64])),
        ("migrate", (vec![I32, I32], vec![I64])),
    ])
}

/// MVP + mutable globals, sign extension, saturating float→int, multi-value,
/// bulk memory, reference types. No SIMD, threads, multi-memory, memory64,
/// tail calls, exceptions, GC.
fn abi_features() -> WasmFeatures {
    WasmFeatures::WASM2 & !WasmFeatures::SIMD
}

fn sig(f: &FuncType) -> Sig {
    (f.params().to_vec(), f.results().to_vec())
}

struct Summary {
    imports: Vec<(String, String, Sig)>,
    func_exports: BTreeMap<String, Sig>,
    memory_exports: Vec<String>,
    memories: Vec<(u64, Option<u64>)>,
    tables: Vec<(u64, Option<u64>)>,
    defined_functions: usize,
    max_locals: u64,
    start: bool,
    /// The start value of the first global (rustc's `__stack_pointer`).
    stack_pointer: Option<i32>,
    /// Where each active data segment starts.
    data_starts: Vec<i32>,
}

/// The `i32.const` an init expression starts with.
fn i32_const(expr: &wasmparser::ConstExpr<'_>) -> Option<i32> {
    match expr.get_operators_reader().read().ok()? {
        wasmparser::Operator::I32Const { value } => Some(value),
        _ => None,
    }
}

fn summarise(wasm: &[u8]) -> Summary {
    let mut types: Vec<FuncType> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new(); // type index of every function (imports first)
    let mut s = Summary {
        imports: Vec::new(),
        func_exports: BTreeMap::new(),
        memory_exports: Vec::new(),
        memories: Vec::new(),
        tables: Vec::new(),
        defined_functions: 0,
        max_locals: 0,
        start: false,
        stack_pointer: None,
        data_starts: Vec::new(),
    };
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("parse") {
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    types.push(t.expect("type"));
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.expect("import");
                    match imp.ty {
                        TypeRef::Func(t) => {
                            func_types.push(t);
                            s.imports.push((imp.module.into(), imp.name.into(), sig(&types[t as usize])));
                        }
                        other => panic!("import {}.{} is not a function: {other:?}", imp.module, imp.name),
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.expect("function"));
                    s.defined_functions += 1;
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.expect("table");
                    s.tables.push((t.ty.initial, t.ty.maximum));
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.expect("memory");
                    s.memories.push((m.initial, m.maximum));
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.expect("export");
                    exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            Payload::StartSection { .. } => s.start = true,
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.expect("global");
                    if s.stack_pointer.is_none() {
                        s.stack_pointer = Some(i32_const(&g.init_expr).unwrap_or(-1));
                    }
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    if let wasmparser::DataKind::Active { offset_expr, .. } = d.expect("data").kind {
                        s.data_starts.push(i32_const(&offset_expr).unwrap_or(-1));
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals = 0u64;
                for l in body.get_locals_reader().expect("locals") {
                    locals += u64::from(l.expect("local").0);
                }
                s.max_locals = s.max_locals.max(locals);
            }
            _ => {}
        }
    }
    for (name, kind, index) in exports {
        match kind {
            ExternalKind::Func => {
                let t = func_types[index as usize];
                s.func_exports.insert(name, sig(&types[t as usize]));
            }
            ExternalKind::Memory => s.memory_exports.push(name),
            _ => {}
        }
    }
    s
}

#[test]
fn every_artifact_follows_the_abi() {
    let imports = abi_imports();
    let exports = abi_exports();
    assert_eq!(contract_artifacts::all().len(), 10);
    for &(name, wasm) in contract_artifacts::all() {
        assert!(wasm.starts_with(b"\0asm\x01\0\0\0"), "{name}: not a wasm module");
        assert!(wasm.len() <= 256 * 1024, "{name}: {} bytes is over max_code_bytes (256 KiB)", wasm.len());

        let mut validator = Validator::new_with_features(abi_features());
        if let Err(e) = validator.validate_all(wasm) {
            panic!("{name}: invalid under the ABI's feature set: {e}");
        }

        let s = summarise(wasm);
        assert!(!s.start, "{name}: has a start function");
        for (module, field, signature) in &s.imports {
            assert_eq!(module, "agora", "{name}: imports from module `{module}` ({field})");
            let want = imports.get(field.as_str()).unwrap_or_else(|| panic!("{name}: unknown import agora.{field}"));
            assert_eq!(signature, want, "{name}: wrong signature for agora.{field}");
        }
        for (export, want) in &exports {
            // Entry points are optional (ABI.md); the runtime exports are not.
            let optional = matches!(*export, "instantiate" | "execute" | "query" | "migrate");
            let Some(got) = s.func_exports.get(*export) else {
                assert!(optional, "{name}: missing export `{export}`");
                continue;
            };
            assert_eq!(got, want, "{name}: wrong signature for export `{export}`");
        }
        assert!(s.func_exports.contains_key("instantiate"), "{name}: every example can be instantiated");
        assert_eq!(s.memory_exports, ["memory"], "{name}: memory exports");
        assert_eq!(s.memories.len(), 1, "{name}: exactly one memory");
        let (initial, maximum) = s.memories[0];
        assert!(initial <= 256, "{name}: initial memory {initial} pages");
        // The 64 KiB shadow stack of the examples' `build.rs` (rustc's 1 MiB
        // default would make 17 pages, each charged to every call).
        assert!(initial <= 2, "{name}: initial memory {initial} pages: is `-zstack-size=65536` linked?");
        // Stack first: the 64 KiB stack grows down from 65536 towards 0 and
        // all static data sits above it, so an overflow traps out of bounds
        // instead of overwriting data.
        assert_eq!(s.stack_pointer, Some(65_536), "{name}: stack pointer start");
        assert!(
            !s.data_starts.is_empty() && s.data_starts.iter().all(|d| *d >= 65_536),
            "{name}: data at {:?}",
            s.data_starts
        );
        assert!(maximum.is_some_and(|m| m <= 256), "{name}: maximum memory {maximum:?} pages");
        assert!(s.tables.len() <= 1, "{name}: {} tables", s.tables.len());
        for (initial, maximum) in &s.tables {
            assert!(*initial <= 10_000 && maximum.is_none_or(|m| m <= 10_000), "{name}: table {initial}..{maximum:?}");
        }
        assert!(s.defined_functions <= 20_000, "{name}: {} functions", s.defined_functions);
        assert!(s.max_locals <= 1_000, "{name}: a function has {} locals", s.max_locals);
        println!("{name}: {} bytes, {} functions, imports {:?}", wasm.len(), s.defined_functions, {
            s.imports.iter().map(|i| i.1.as_str()).collect::<Vec<_>>()
        });
    }
}

#[test]
fn simd_is_refused_by_the_feature_set() {
    // (module (func (drop (v128.const i64x2 0 0)))) — sanity check of `abi_features`.
    let wasm: &[u8] = &[
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1, 21, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 26, 11,
    ];
    if let Err(e) = Validator::new_with_features(WasmFeatures::WASM2).validate_all(wasm) {
        panic!("the SIMD sample should be valid wasm 2.0: {e}");
    }
    assert!(Validator::new_with_features(abi_features()).validate_all(wasm).is_err());
}

#[test]
fn imports_used_by_the_examples() {
    let names = |wasm: &[u8]| -> Vec<String> { summarise(wasm).imports.into_iter().map(|i| i.1).collect() };
    assert!(names(contract_artifacts::TOKEN).contains(&"storage_next".to_string()));
    assert!(names(contract_artifacts::ESCROW).contains(&"transfer".to_string()));
    assert!(names(contract_artifacts::PROBE).contains(&"call".to_string()));
}
