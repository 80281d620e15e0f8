#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with libFuzzer (see fuzz/libfuzzer/README.md).
#   bash scripts/fuzz.sh TARGET [SECONDS]     e.g. bash scripts/fuzz.sh upload 600
#   bash scripts/fuzz.sh list
source "$(dirname "$0")/env.sh"
TARGET="${1:?usage: scripts/fuzz.sh TARGET [SECONDS] (targets: bash scripts/fuzz.sh list)}"
SECONDS_TO_RUN="${2:-600}"
CRATE="$ROOT/fuzz/libfuzzer"
if [ "$TARGET" = list ]; then
  sed -n 's/^name = "\(.*\)"$/\1/p' "$CRATE/Cargo.toml" | grep -v '^agora-fuzz-libfuzzer$'
  exit 0
fi
[ -f "$CRATE/fuzz_targets/$TARGET.rs" ] || { echo "no fuzz target $TARGET" >&2; exit 2; }
export CARGO_TARGET_DIR="${AGORA_FUZZ_TARGET_DIR:-$HOME/.cache/agora-fuzz-target}"
# What cargo-fuzz passes for libFuzzer's coverage feedback (no sanitizer:
# the code is safe Rust; overflow and debug assertions are on in the profile).
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers"
echo "==> building fuzz target $TARGET (instrumented, $CARGO_TARGET_DIR)" >&2
cargo build --release --manifest-path "$CRATE/Cargo.toml" --bin "$TARGET" \
  --target "$(rustc -vV | sed -n 's/^host: //p')"
BIN="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release/$TARGET"
mkdir -p "$ROOT/fuzz/corpus/$TARGET" "$ROOT/fuzz/artifacts/$TARGET"
echo "==> fuzzing $TARGET for ${SECONDS_TO_RUN}s" >&2
exec "$BIN" "$ROOT/fuzz/corpus/$TARGET" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=4096 -timeout=20 \
  -artifact_prefix="$ROOT/fuzz/artifacts/$TARGET/" -print_final_stats=1
