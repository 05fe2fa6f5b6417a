#!/usr/bin/env bash
# Node binding: installs what it needs, builds the addon against an installed Parley, and
# runs the tests (node --test, with --expose-gc for the GC storm).
#
#   PARLEY_PREFIX  an installed Parley (default: <repo>/build/release/install, as made by
#                  `cmake --install build/release --prefix build/release/install`)
#
# Idempotent and quick when everything is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [[ -z "${PARLEY_PREFIX:-}" ]]; then
  PARLEY_PREFIX="$(git rev-parse --show-toplevel)/build/release/install"
fi
export PARLEY_PREFIX
if [[ ! -x "$PARLEY_PREFIX/bin/parley" || ! -e "$PARLEY_PREFIX/lib/libparley.so.0" ]]; then
  echo "test.sh: no Parley install at $PARLEY_PREFIX (bin/parley, lib/libparley.so.0);" \
       "run cmake --install build/release --prefix build/release/install first" >&2
  exit 1
fi

# ---- tools: Node >= 18 with npm, a C++17 compiler (Debian packages when missing) ----------
missing=()
node_ok() { command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)'; }
node_ok || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v "${CXX:-g++}" >/dev/null || missing+=(g++)
command -v git >/dev/null || missing+=(git)
if (( ${#missing[@]} > 0 )); then
  echo "test.sh: installing ${missing[*]} (apt-get)"
  sudo=()
  [[ "$(id -u)" != 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  node_ok || { echo "test.sh: Node >= 18 is required (found $(node --version 2>/dev/null || echo none))" >&2; exit 1; }
fi

# ---- npm packages (node-addon-api, node-api-headers), pinned by package-lock.json -----------
deps_ok() {
  node -e '
    const lock = require("./package-lock.json").packages;
    for (const name of ["node-addon-api", "node-api-headers"]) {
      const want = lock["node_modules/" + name].version;
      if (require("./node_modules/" + name + "/package.json").version !== want) process.exit(1);
    }' 2>/dev/null
}
if ! deps_ok; then
  echo "test.sh: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# ---- build ---------------------------------------------------------------------------------
bash build.sh

# ---- tests ---------------------------------------------------------------------------------
timeout=()
node --help | grep -q -- --test-timeout && timeout=(--test-timeout=120000)  # Node >= 20.11
exec node --expose-gc --test "${timeout[@]}" test/*.test.js
