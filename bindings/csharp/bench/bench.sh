#!/usr/bin/env bash
# Benchmarks of the C# binding on Mono (not part of test.sh): push_audio cost and event delivery.
#   PARLEY_PREFIX=<engine install> bindings/csharp/bench/bench.sh [frames] [events]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
make -s -C "$here" bench PARLEY_PREFIX="$PARLEY_PREFIX"
cd "$here/build/lib" && mono --optimize=all Bench.exe "$@"
