#!/usr/bin/env bash
# Runs a local N-validator Agora testnet: agorad processes on loopback, no docker.
#   bash scripts/testnet.sh                      create (first time) or resume ./.testnet, 4 validators,
#                                                live status line; Ctrl-C stops every node
#   bash scripts/testnet.sh up -n 7 --stakes 40,30,20,10,5,5,5 --block-interval 500ms
#   bash scripts/testnet.sh up --detach          leave the nodes running in the background
#   bash scripts/testnet.sh status | logs 2 | kill 2 | restart 2 | pause 2 | resume 2 | wipe 2
#   bash scripts/testnet.sh load --tps 1000 --duration 60s    then: report
#   bash scripts/testnet.sh down | reset         stop every node | stop and delete the testnet
# `bash scripts/testnet.sh --help` lists everything. The directory is $TESTNET_DIR
# (default ./.testnet in the repository); the binaries are in $CARGO_TARGET_DIR/release.
CALLER_DIR="$PWD"
source "$(dirname "$0")/env.sh"
export TESTNET_DIR="${TESTNET_DIR:-$ROOT/.testnet}"

echo "==> building agorad, agora and testnet (release; first build takes a while)" >&2
# The same command shape as scripts/test.sh, so both share one build of
# RocksDB (host-dependency features must not differ between the two).
cargo test --release --workspace --no-run 2>&1 | { grep -v '^ *Executable ' >&2 || true; }

# Relative paths given by the caller (e.g. --dir) are relative to where they ran this.
cd "$CALLER_DIR"
if [ "$#" -eq 0 ]; then set -- up; fi
exec "$CARGO_TARGET_DIR/release/testnet" --bin-dir "$CARGO_TARGET_DIR/release" "$@"
