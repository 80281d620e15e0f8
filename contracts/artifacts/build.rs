//! Builds the example contracts to wasm with a nested `cargo build` and copies
//! the `.wasm` files to `OUT_DIR`, where `src/lib.rs` includes them.
//!
//! The nested build uses its own target directory (`<target dir>/wasm-contracts`)
//! so it never waits on the outer build's lock, runs `--locked` from the
//! workspace root with the `wasm` profile, and starts from an environment
//! cleaned of everything the outer cargo set for this build script (flags,
//! wrappers such as clippy-driver, the jobserver, package metadata…).

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The contract packages (directory under `contracts/` = package; the wasm file
/// is the crate name, with `_` for `-`).
const CONTRACTS: [&str; 10] = [
    "counter",
    "token",
    "escrow",
    "probe",
    "dao-core",
    "dao-proposals",
    "dao-voting-stake",
    "dao-voting-token",
    "dao-identity",
    "dao-delegation",
];

/// Variables removed from the nested cargo's environment.
const REMOVED: [&str; 27] = [
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_LINKER",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "PROFILE",
];
/// Prefixes of variables removed from the nested cargo's environment.
const REMOVED_PREFIXES: [&str; 5] = ["CARGO_PKG_", "CARGO_CFG_", "CARGO_FEATURE_", "__CARGO_", "DEP_"];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let contracts_dir = manifest_dir.parent().expect("contracts/artifacts has a parent").to_path_buf();
    let workspace = contracts_dir.parent().expect("contracts/ has a parent").to_path_buf();

    for dir in CONTRACTS.iter().copied().chain(["sdk", "dao-types"]) {
        println!("cargo:rerun-if-changed={}", contracts_dir.join(dir).display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.toml").display());
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    println!("cargo:rerun-if-changed={}", workspace.join("rust-toolchain.toml").display());
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=AGORA_CONTRACTS_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=CARGO_HOME");

    let target_dir = nested_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&workspace)
        .args(["build", "--locked", "--target", "wasm32-unknown-unknown", "--profile", "wasm"])
        .arg("--target-dir")
        .arg(&target_dir);
    for c in CONTRACTS {
        cmd.args(["-p", c]);
    }
    for (key, _) in env::vars_os() {
        let Some(k) = key.to_str() else { continue };
        if REMOVED.contains(&k) || REMOVED_PREFIXES.iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(&key);
        }
    }
    // `DEBUG` is also set by cargo for build scripts; cargo itself ignores it,
    // but a nested build script could misread it.
    cmd.env_remove("DEBUG");
    // Panic locations embed source paths. Workspace crates' paths are already
    // relative; map the cargo home (registry sources) to a fixed name so the
    // bytes — and so the code hashes and contract addresses — do not depend
    // on where cargo lives on this machine.
    if let Some(home) = cargo_home() {
        let mut flag = OsString::from("--remap-path-prefix=");
        flag.push(home.as_os_str());
        flag.push("=/cargo");
        cmd.env("CARGO_ENCODED_RUSTFLAGS", flag);
    }

    let shown = format!(
        "{} build --locked --target wasm32-unknown-unknown --profile wasm --target-dir {} -p {}",
        Path::new(&cargo).display(),
        target_dir.display(),
        CONTRACTS.join(" -p ")
    );
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("\n\ncould not run the nested contract build `{shown}`: {e}\n"),
    };
    if !output.status.success() {
        panic!(
            "\n\nbuilding the wasm contracts failed ({}).\ncommand (in {}): {shown}\n\n{}\n\
             hint: the wasm32-unknown-unknown target must be installed (rust-toolchain.toml lists it) \
             and Cargo.lock must be up to date (the nested build uses --locked).\n",
            output.status,
            workspace.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let built = target_dir.join("wasm32-unknown-unknown").join("wasm");
    for c in CONTRACTS {
        // Cargo names the wasm after the crate: `-` becomes `_`.
        let file = format!("{}.wasm", c.replace('-', "_"));
        let from = built.join(&file);
        let to = out_dir.join(&file);
        if let Err(e) = std::fs::copy(&from, &to) {
            panic!("\n\nthe nested build succeeded but {} cannot be copied to {}: {e}\n", from.display(), to.display());
        }
    }
}

/// `$CARGO_HOME`, else `$HOME/.cargo` (cargo's own default).
fn cargo_home() -> Option<PathBuf> {
    env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cargo")))
        .filter(|h| h.is_absolute())
}

/// `$AGORA_CONTRACTS_TARGET_DIR`, else `$CARGO_TARGET_DIR/wasm-contracts`, else
/// `<the outer target directory>/wasm-contracts`, found as the ancestor of
/// `OUT_DIR` that holds cargo's `CACHEDIR.TAG` (falling back to `OUT_DIR`).
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("AGORA_CONTRACTS_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        let dir = if dir.is_absolute() {
            dir
        } else {
            // Relative target dirs are relative to the directory cargo was run in,
            // which is not known here; the workspace root is the usual one.
            let root = env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .and_then(|m| m.parent().and_then(Path::parent).map(Path::to_path_buf))
                .unwrap_or_default();
            root.join(dir)
        };
        return dir.join("wasm-contracts");
    }
    out_dir
        .ancestors()
        .find(|a| a.join("CACHEDIR.TAG").is_file())
        .map_or_else(|| out_dir.join("wasm-contracts"), |t| t.join("wasm-contracts"))
}
