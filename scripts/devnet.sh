#!/usr/bin/env bash
# Starts a local one-validator Agora chain with a funded dev account.
#   bash scripts/devnet.sh          start (or resume) the devnet in ./.devnet
#   bash scripts/devnet.sh --reset  wipe it and start a fresh chain
# Ctrl-C stops the node cleanly; running the script again resumes the same chain.
source "$(dirname "$0")/env.sh"
DEVNET="${AGORA_DEVNET_DIR:-$ROOT/.devnet}"
CHAIN_ID="${AGORA_CHAIN_ID:-agora-devnet}"
RPC="${AGORA_DEVNET_RPC:-127.0.0.1:26657}"
export AGORA_PASSWORD="${AGORA_DEVNET_PASSWORD:-devnet-password}"

if [ "${1:-}" = "--reset" ]; then rm -rf "$DEVNET"; fi

echo "==> building agorad and agora (release; first build takes a while)" >&2
# The same command shape as scripts/test.sh, so both share one build of
# RocksDB (host-dependency features must not differ between the two).
cargo test --release --workspace --no-run 2>&1 | { grep -v '^ *Executable ' >&2 || true; }

if [ ! -f "$DEVNET/node/genesis.json" ]; then
  rm -rf "$DEVNET"; mkdir -p "$DEVNET"
  agora --keyring-dir "$DEVNET/keys" -o json keys new dev > "$DEVNET/dev-key.json"
  DEV_ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$DEVNET/dev-key.json")
  agorad init --home "$DEVNET/node" --chain-id "$CHAIN_ID" --moniker devnet-validator \
    --fund "$DEV_ADDR=1000000000000000" --block-interval 1s --rpc-listen "$RPC" >/dev/null
fi
DEV_ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$DEVNET/dev-key.json")
MNEMONIC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mnemonic"])' "$DEVNET/dev-key.json")
cat <<MSG

  Agora devnet "$CHAIN_ID" — one validator, data in $DEVNET
  RPC (HTTP + WebSocket):  http://$RPC
  Funded dev account:      $DEV_ADDR  (1000000000000000 units)
  Its mnemonic (devnet only, never use it for real funds):
    $MNEMONIC

  Try it (in another terminal; binaries are in $CARGO_TARGET_DIR/release):
    export PATH="$CARGO_TARGET_DIR/release:\$PATH"
    agora keys recover dev            # paste the mnemonic above, choose a password
    agora keys new alice
    agora transfer --from dev --to alice --amount 1000000
    agora balance alice
    agora status
    agora validator dev               # dev operates the validator (agora stake … --from dev)

MSG
exec agorad start --home "$DEVNET/node"
