//! Compiled-module caches: `InstancePre`s in memory (bounded, least recently
//! used evicted) and precompiled artifacts on disk, both keyed by code hash.
//!
//! Caching is node-local and never changes results: a miss only costs time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ledger::contract::CallError;
use ledger::{Hash, LedgerError};
use sha2::{Digest, Sha256};
use wasmtime::{Engine, InstancePre, Linker, Module};

use crate::{Data, VmError};

/// Hit/miss counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub memory_hits: u64,
    pub disk_hits: u64,
    pub compiles: u64,
    pub modules_in_memory: usize,
}

pub(crate) struct ModuleCache {
    dir: Option<PathBuf>,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    modules: HashMap<Hash, (InstancePre<Data>, u64)>,
    clock: u64,
    stats: CacheStats,
}

impl ModuleCache {
    pub fn new(dir: Option<PathBuf>, capacity: usize) -> Result<ModuleCache, VmError> {
        let dir = match dir {
            Some(d) => {
                // Artifacts are only valid for this wasmtime build and engine
                // configuration; a versioned sub-directory keeps them apart.
                let d = d.join(format!("wasmtime-48-v1-{}", std::env::consts::ARCH));
                std::fs::create_dir_all(&d)
                    .map_err(|e| VmError::CacheDir { path: d.clone(), reason: e.to_string() })?;
                Some(d)
            }
            None => None,
        };
        Ok(ModuleCache { dir, capacity: capacity.max(1), state: Mutex::new(State::default()) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn stats(&self) -> CacheStats {
        let s = self.lock();
        CacheStats { modules_in_memory: s.modules.len(), ..s.stats }
    }

    /// The module for `code_hash`: from memory, else from disk, else compiled
    /// from the bytes `code` returns (and written to both caches).
    pub fn get_or_compile(
        &self,
        engine: &Engine,
        linker: &Linker<Data>,
        code_hash: &Hash,
        code: impl FnOnce() -> Result<Option<Vec<u8>>, LedgerError>,
    ) -> Result<InstancePre<Data>, CallError> {
        {
            let mut s = self.lock();
            s.clock += 1;
            let now = s.clock;
            if let Some((pre, used)) = s.modules.get_mut(code_hash) {
                *used = now;
                let pre = pre.clone();
                s.stats.memory_hits += 1;
                return Ok(pre);
            }
        }
        let (module, from_disk) = match self.dir.as_deref().and_then(|d| load(engine, d, code_hash)) {
            Some(m) => (m, true),
            None => {
                let bytes = code()
                    .map_err(CallError::Node)?
                    .ok_or_else(|| CallError::Failed(format!("no code with hash {code_hash}")))?;
                // Uploads are compiled and instantiated once before they are
                // stored, so this cannot fail for stored code; if it did, it is
                // the same on every node (same build, same bytes): a failed call.
                let module = Module::new(engine, &bytes)
                    .map_err(|e| CallError::Failed(format!("contract code {code_hash} does not compile: {e}")))?;
                if let Some(d) = &self.dir
                    && let Err(e) = store(d, code_hash, &module)
                {
                    tracing::warn!(%code_hash, error = %e, "could not write the compiled-module cache");
                }
                (module, false)
            }
        };
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| CallError::Failed(format!("contract code {code_hash} cannot be linked: {e}")))?;
        let mut s = self.lock();
        if from_disk {
            s.stats.disk_hits += 1;
        } else {
            s.stats.compiles += 1;
        }
        if s.modules.len() >= self.capacity
            && let Some(oldest) = s.modules.iter().min_by_key(|(_, (_, used))| *used).map(|(h, _)| *h)
        {
            s.modules.remove(&oldest);
        }
        let now = s.clock;
        s.modules.insert(*code_hash, (pre.clone(), now));
        Ok(pre)
    }
}

fn path(dir: &Path, code_hash: &Hash) -> PathBuf {
    dir.join(format!("{code_hash}.cwasm"))
}

/// Writes `sha256(artifact) ‖ artifact` atomically (temp file + rename).
fn store(dir: &Path, code_hash: &Hash, module: &Module) -> Result<(), String> {
    let art = module.serialize().map_err(|e| e.to_string())?;
    let mut buf = Sha256::digest(&art).to_vec();
    buf.extend_from_slice(&art);
    // Unique per writer: two threads may compile the same code at once.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{code_hash}.tmp{}-{seq}", std::process::id()));
    std::fs::write(&tmp, &buf).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path(dir, code_hash)).map_err(|e| e.to_string())
}

/// Loads a precompiled artifact if present, intact and compatible.
fn load(engine: &Engine, dir: &Path, code_hash: &Hash) -> Option<Module> {
    let buf = std::fs::read(path(dir, code_hash)).ok()?;
    if buf.len() < 32 {
        return None;
    }
    let (sum, art) = buf.split_at(32);
    if Sha256::digest(art).as_slice() != sum {
        tracing::warn!(%code_hash, "compiled-module cache entry is corrupt; recompiling");
        return None;
    }
    // SAFETY: `Module::deserialize` requires bytes produced by
    // `Module::serialize` of a compatible engine. These bytes were written by
    // `store` above into the node's own cache directory and carry a SHA-256
    // checksum that was just verified, so they are exactly what this process
    // (or an earlier run of this build, per the versioned directory) wrote;
    // wasmtime additionally checks the engine configuration in the header and
    // errors on any mismatch.
    #[allow(unsafe_code)]
    let module = unsafe { Module::deserialize(engine, art) };
    match module {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::info!(%code_hash, error = %e, "compiled-module cache entry is stale; recompiling");
            None
        }
    }
}
