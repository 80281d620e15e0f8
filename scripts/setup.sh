# Sourced by scripts/env.sh (and by scripts/check-setup.sh, which tests it).
# Everything a fresh machine of this kind lacks for the build, as named steps:
# each has a check `has_<step>` and an install `install_<step>`. `agora_setup`
# runs the install of every step whose check fails, then checks again and stops
# with a clear message if the thing is still missing. Nothing may rely on a step
# done by hand: scripts/check-setup.sh runs `agora_setup` against a simulated
# machine where each thing is missing and fails unless the step installs it.

AGORA_SETUP_STEPS=(toolchain components wasm_target libclang chromium)
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# The pinned channel, its components and targets, read from rust-toolchain.toml.
agora_toolchain_field() {
  sed -n "s/^$1 *= *//p" "$ROOT/rust-toolchain.toml" | tr -d '"[] ' | tr ',' ' '
}
AGORA_CHANNEL="$(agora_toolchain_field channel)"
AGORA_COMPONENTS="$(agora_toolchain_field components)"
AGORA_TARGETS="$(agora_toolchain_field targets)"
# Where bindgen finds libclang, as libclang-dev installs it. libclang-cpp,
# which some images ship, is not what bindgen loads. AGORA_SYSROOT is empty
# except in scripts/check-setup.sh, which lays a simulated machine under it.
AGORA_SYSROOT="${AGORA_SYSROOT:-}"

agora_root_cmd() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

# 1. The pinned toolchain. rustup installs it on first use through
#    rust-toolchain.toml, but not the targets of a toolchain already present.
has_toolchain() { rustup toolchain list 2>/dev/null | grep -q "^$AGORA_CHANNEL-"; }
install_toolchain() {
  rustup toolchain install "$AGORA_CHANNEL" --profile minimal
}

# 2. rustfmt and clippy (scripts/test.sh runs both).
has_components() {
  local installed c
  installed="$(rustup component list --installed --toolchain "$AGORA_CHANNEL" 2>/dev/null)"
  for c in $AGORA_COMPONENTS; do grep -q "^$c" <<<"$installed" || return 1; done
}
install_components() {
  # shellcheck disable=SC2086
  rustup component add --toolchain "$AGORA_CHANNEL" $AGORA_COMPONENTS
}

# 3. The wasm32 target: contracts/artifacts builds the example contracts with it.
has_wasm_target() {
  local installed t
  installed="$(rustup target list --installed --toolchain "$AGORA_CHANNEL" 2>/dev/null)"
  for t in $AGORA_TARGETS; do grep -qx "$t" <<<"$installed" || return 1; done
}
install_wasm_target() {
  # shellcheck disable=SC2086
  rustup target add --toolchain "$AGORA_CHANNEL" $AGORA_TARGETS
}

# 4. libclang: rust-rocksdb runs bindgen.
has_libclang() {
  [ -n "${LIBCLANG_PATH:-}" ] && return 0
  compgen -G "$AGORA_SYSROOT/usr/lib/llvm-*/lib/libclang.so" >/dev/null
}
install_libclang() {
  agora_root_cmd apt-get update -qq && agora_root_cmd apt-get install -y -qq libclang-dev >/dev/null
}

# 5. chromium: the block explorer's browser test (node/tests/explorer_browser.rs)
#    drives Debian's headless chromium; AGORA_CHROMIUM names another binary.
has_chromium() {
  [ -n "${AGORA_CHROMIUM:-}" ] && return 0
  [ -x "$AGORA_SYSROOT/usr/bin/chromium" ]
}
install_chromium() {
  agora_root_cmd apt-get update -qq && agora_root_cmd apt-get install -y -qq chromium >/dev/null
}

agora_setup() {
  local step
  for step in "${AGORA_SETUP_STEPS[@]}"; do
    if ! "has_$step"; then
      echo "==> setup: installing $step" >&2
      "install_$step" || { echo "setup: installing $step failed" >&2; return 1; }
      "has_$step" || { echo "setup: $step is still missing after its install step" >&2; return 1; }
    fi
  done
}

# Run directly (`bash scripts/setup.sh`) it installs what is missing.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  agora_setup
fi
