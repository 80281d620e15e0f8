#!/usr/bin/env bash
# Runs every check and test. One profile (release) is shared by tests, the
# devnet/testnet and benches, so a warm cache serves all of them.
set -euo pipefail
echo "==> set-up check: scripts/setup.sh installs each thing the build needs"
bash "$(dirname "$0")/check-setup.sh"
source "$(dirname "$0")/env.sh"
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (release, all targets, -D warnings)"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "==> cargo test (release)"
cargo test --release --workspace
echo "==> wallet-cli must not link rocksdb, wasmtime or libp2p"
if cargo tree -p wallet-cli -e normal | grep -E 'rocksdb|wasmtime|libp2p'; then
  echo "wallet-cli links a heavy crate" >&2; exit 1
fi
echo "==> all checks passed"
