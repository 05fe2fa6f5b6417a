#!/usr/bin/env bash
# Builds the Go agent example against an installed Parley (cgo, pkg-config) and answers two
# `parley loadgen` calls with it (bindings/run-example.sh says what is checked).
#   PARLEY_PREFIX=<engine install> examples/go/run.sh     (default: build/release/install)
# bindings/go/test.sh runs it after the binding's tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" && pwd)"
GO="$(command -v go || echo /usr/local/go/bin/go)"
export GOTOOLCHAIN=local CGO_ENABLED=1
export PKG_CONFIG_PATH="$PARLEY_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$PARLEY_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

bin="$(mktemp -d "${TMPDIR:-/tmp}/parley-go-example.XXXXXX")"
trap 'rm -rf "$bin"' EXIT
(cd "$here" && "$GO" vet . && "$GO" build -o "$bin/agent" .)
"$root/bindings/run-example.sh" go -- "$bin/agent"
