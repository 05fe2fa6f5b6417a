#!/usr/bin/env bash
# Builds the Node addon if needed (bindings/node/build.sh, incremental) and answers two
# `parley loadgen` calls with the agent example, agent.js (bindings/run-example.sh says what
# is checked).
#   PARLEY_PREFIX=<engine install> examples/node/run.sh     (default: build/release/install)
# bindings/node/test.sh runs it through test/example.test.js.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" && pwd)"
bash "$root/bindings/node/build.sh" >/dev/null
"$root/bindings/run-example.sh" node -- node "$here/agent.js"
