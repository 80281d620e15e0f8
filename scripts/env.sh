# Sourced by the other scripts: installs what a fresh machine lacks (see
# scripts/setup.sh) and points every build at one shared target directory
# outside the clone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/agora-target}"
export PATH="$CARGO_TARGET_DIR/release:$PATH"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
agora_setup
cd "$ROOT"
