# Sourced by the other scripts: installs what a fresh machine lacks and points
# every build at one shared target directory outside the clone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}"
export PATH="$CARGO_TARGET_DIR/release:$PATH"

# rust-rocksdb runs bindgen, which needs libclang.
# (libclang-cpp, which some images ship, is not what bindgen loads.)
if [ -z "${LIBCLANG_PATH:-}" ] && ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  echo "==> installing libclang-dev (needed by rocksdb's bindgen)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libclang-dev >/dev/null
fi
# rust-toolchain.toml pins the toolchain and lists the wasm32 target; rustup
# installs both on first use.
cd "$ROOT"
