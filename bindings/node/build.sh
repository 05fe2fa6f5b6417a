#!/usr/bin/env bash
# Builds the addon offline: build/Release/parley.node, plus a copy of libparley.so.0 next
# to it (the addon's only rpath is $ORIGIN, as in the npm package).
#
#   PARLEY_PREFIX   an installed Parley (include/, lib/); default: <repo>/build/release/install
#   NODE_INCLUDE    Node's headers (node_api.h); default: /usr/include/node, else the
#                   node-api-headers npm package
#   CXX             the compiler (default g++)
#
# node-gyp and cmake-js are not used: both download Node's headers by default.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [[ -z "${PARLEY_PREFIX:-}" ]]; then
  PARLEY_PREFIX="$(git rev-parse --show-toplevel)/build/release/install"
fi
if [[ ! -f "$PARLEY_PREFIX/include/parley/parley.h" || ! -e "$PARLEY_PREFIX/lib/libparley.so.0" ]]; then
  echo "build.sh: no Parley install at PARLEY_PREFIX=$PARLEY_PREFIX (need include/parley/parley.h and lib/libparley.so.0)" >&2
  exit 1
fi

if [[ -z "${NODE_INCLUDE:-}" ]]; then
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  for candidate in "$node_prefix/include/node" /usr/include/node /usr/local/include/node; do
    if [[ -f "$candidate/node_api.h" ]]; then NODE_INCLUDE="$candidate"; break; fi
  done
fi
if [[ -z "${NODE_INCLUDE:-}" ]]; then
  NODE_INCLUDE="$(node -p "require('node-api-headers').include_dir" 2>/dev/null || true)"
fi
if [[ -z "${NODE_INCLUDE:-}" || ! -f "$NODE_INCLUDE/node_api.h" ]]; then
  echo "build.sh: Node headers not found; install them (Debian: nodejs / libnode-dev) or 'npm install node-api-headers'" >&2
  exit 1
fi

ADDON_API="$(node -p "require('node-addon-api').include_dir")"
CXX="${CXX:-g++}"
out="$here/build/Release"
obj="$here/build/obj"
mkdir -p "$out" "$obj"

flags=(-std=c++17 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter
       -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
       -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
       -I"$NODE_INCLUDE" -I"$ADDON_API" -I"$PARLEY_PREFIX/include")

# Rebuild an object only when its source, the shared header or the Parley header changed.
stamp="$obj/flags.txt"
printf '%s\n' "$CXX" "${flags[@]}" > "$stamp.new"
if ! cmp -s "$stamp.new" "$stamp"; then rm -f "$obj"/*.o; mv "$stamp.new" "$stamp"; else rm -f "$stamp.new"; fi

pids=()
objects=()
for src in src/*.cc; do
  o="$obj/$(basename "${src%.cc}").o"
  objects+=("$o")
  if [[ ! -f "$o" || "$src" -nt "$o" || src/addon.h -nt "$o" || "$PARLEY_PREFIX/include/parley/parley.h" -nt "$o" ]]; then
    # At most two compilers at once (the machine has two cores shared with others).
    if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    echo "  CXX $src"
    "$CXX" "${flags[@]}" -c "$src" -o "$o" & pids+=($!)
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

"$CXX" -shared -o "$out/parley.node.tmp" "${objects[@]}" \
  -L"$PARLEY_PREFIX/lib" -l:libparley.so.0 -Wl,-rpath,'$ORIGIN' -Wl,--as-needed \
  -pthread
mv "$out/parley.node.tmp" "$out/parley.node"
# The library the addon finds through $ORIGIN (a real file, so the folder can be copied).
if ! cmp -s "$PARLEY_PREFIX/lib/libparley.so.0" "$out/libparley.so.0" 2>/dev/null; then
  cp -fL "$PARLEY_PREFIX/lib/libparley.so.0" "$out/libparley.so.0"
fi
echo "built $out/parley.node (against $PARLEY_PREFIX)"
