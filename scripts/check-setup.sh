#!/usr/bin/env bash
# Proves that scripts/setup.sh itself installs everything the build needs:
# for each set-up step, it runs `agora_setup` on a simulated machine where that
# thing is missing (shims for rustup, apt-get and sudo on PATH keep a fake
# machine state in a temporary directory) and fails unless the step's install
# ran, the thing is there afterwards, and no other step ran. It also runs a
# fresh machine of this kind (pinned toolchain without the wasm32 target, no
# libclang, no chromium), a bare one (no toolchain at all) and a complete one (set-up does
# nothing). Takes well under a second and touches nothing real.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIM="$(mktemp -d)"
trap 'rm -rf "$SIM"' EXIT
mkdir -p "$SIM/bin"

cat >"$SIM/bin/rustup" <<'SHIM'
#!/usr/bin/env bash
# Fake rustup over the files in $SIM/state: toolchains, components, targets.
set -euo pipefail
echo "rustup $*" >>"$SIM/log"
S="$SIM/state"; touch "$S/toolchains" "$S/components" "$S/targets"
args=(); for a in "$@"; do case "$a" in --toolchain|--profile) skip=1;; *) if [ -n "${skip:-}" ]; then skip=; else args+=("$a"); fi;; esac; done
case "${args[0]} ${args[1]}" in
  "toolchain list") sed 's/$/-x86_64-unknown-linux-gnu/' "$S/toolchains";;
  "toolchain install") echo "${args[2]}" >>"$S/toolchains";;
  "component list") grep -q . "$S/toolchains" || exit 1; sed 's/$/-x86_64-unknown-linux-gnu/' "$S/components";;
  "component add") grep -q . "$S/toolchains" || exit 1; printf '%s\n' "${args[@]:2}" >>"$S/components";;
  "target list") grep -q . "$S/toolchains" || exit 1; cat "$S/targets";;
  "target add") grep -q . "$S/toolchains" || exit 1; printf '%s\n' "${args[@]:2}" >>"$S/targets";;
  *) echo "fake rustup: unexpected call: $*" >&2; exit 2;;
esac
SHIM
cat >"$SIM/bin/apt-get" <<'SHIM'
#!/usr/bin/env bash
echo "apt-get $*" >>"$SIM/log"
case " $* " in *" install "*libclang-dev*) mkdir -p "$SIM/root/usr/lib/llvm-14/lib"; touch "$SIM/root/usr/lib/llvm-14/lib/libclang.so";; esac
case " $* " in *" install "*" chromium "*) mkdir -p "$SIM/root/usr/bin"; printf '#!/bin/sh\n' >"$SIM/root/usr/bin/chromium"; chmod +x "$SIM/root/usr/bin/chromium";; esac
SHIM
cat >"$SIM/bin/sudo" <<'SHIM'
#!/usr/bin/env bash
exec "$@"
SHIM
chmod +x "$SIM/bin/"*

CHANNEL="$(sed -n 's/^channel *= *//p' "$ROOT/rust-toolchain.toml" | tr -d '"')"
failures=0
# machine NAME TOOLCHAIN COMPONENTS TARGETS LIBCLANG(yes|no) CHROMIUM(yes|no) EXPECTED-INSTALLS...
machine() {
  local name="$1" tc="$2" comps="$3" targets="$4" clang="$5" chromium="$6"; shift 6
  rm -rf "$SIM/state" "$SIM/root" "$SIM/log"; mkdir -p "$SIM/state"; touch "$SIM/log"
  [ -n "$tc" ] && echo "$tc" >"$SIM/state/toolchains"
  printf '%s\n' $comps >"$SIM/state/components"
  printf '%s\n' $targets >"$SIM/state/targets"
  # Every simulated machine has libclang-cpp, as this kind's image does: it must not pass for libclang.
  mkdir -p "$SIM/root/usr/lib/llvm-14/lib"; touch "$SIM/root/usr/lib/llvm-14/lib/libclang-cpp.so.14"
  if [ "$clang" = yes ]; then touch "$SIM/root/usr/lib/llvm-14/lib/libclang.so"; fi
  # A chromium that is not executable (a leftover file) does not count.
  mkdir -p "$SIM/root/usr/bin"; touch "$SIM/root/usr/bin/chromium"
  if [ "$chromium" = yes ]; then chmod +x "$SIM/root/usr/bin/chromium"; fi
  local out ok=1
  out="$( (
    export SIM PATH="$SIM/bin:$PATH" AGORA_SYSROOT="$SIM/root"
    unset LIBCLANG_PATH AGORA_CHROMIUM
    # shellcheck source=scripts/setup.sh
    source "$ROOT/scripts/setup.sh"
    agora_setup 2>&1
    for step in "${AGORA_SETUP_STEPS[@]}"; do "has_$step" || echo "MISSING AFTER SET-UP: $step"; done
  ) 2>&1 )" || ok=0
  grep -q "MISSING AFTER SET-UP" <<<"$out" && ok=0
  local ran; ran="$(sed -n 's/^==> setup: installing //p' <<<"$out" | tr '\n' ' ')"
  [ "$ran" = "${*:+$* }" ] || ok=0
  if [ "$ok" = 1 ]; then
    echo "setup check: $name: ok (installed: ${ran:-nothing})"
  else
    failures=$((failures + 1))
    echo "setup check: $name: FAILED (expected installs: ${*:-nothing}; ran: ${ran:-nothing})" >&2
    sed 's/^/    /' <<<"$out" >&2; sed 's/^/    call: /' "$SIM/log" >&2
  fi
}
ALL_COMPS="rustfmt clippy"; ALL_TARGETS="x86_64-unknown-linux-gnu wasm32-unknown-unknown"
machine "complete machine" "$CHANNEL" "$ALL_COMPS" "$ALL_TARGETS" yes yes
machine "no wasm32 target" "$CHANNEL" "$ALL_COMPS" "x86_64-unknown-linux-gnu" yes yes wasm_target
machine "no libclang" "$CHANNEL" "$ALL_COMPS" "$ALL_TARGETS" no yes libclang
machine "no chromium" "$CHANNEL" "$ALL_COMPS" "$ALL_TARGETS" yes no chromium
machine "no rustfmt/clippy" "$CHANNEL" "" "$ALL_TARGETS" yes yes components
machine "fresh machine of this kind" "$CHANNEL" "$ALL_COMPS" "x86_64-unknown-linux-gnu" no no wasm_target libclang chromium
machine "no toolchain at all" "" "" "" no no toolchain components wasm_target libclang chromium
if [ "$failures" -ne 0 ]; then
  echo "setup check: $failures simulated machine(s) not set up by scripts/setup.sh" >&2
  exit 1
fi
