#!/usr/bin/env bash
# Proves the npm package: builds the .tgz (npm pack), installs it into an empty temp folder
# with no compiler on PATH, and runs the Node example from there against `parley loadgen`.
#
#   PARLEY_PREFIX  an installed Parley (default: <repo>/build/release/install); its
#                  bin/parley is the test caller. The package itself must not need it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ -z "${PARLEY_PREFIX:-}" ]]; then
  PARLEY_PREFIX="$(git -C "$repo" rev-parse --show-toplevel)/build/release/install"
fi
export PARLEY_PREFIX
cli="$PARLEY_PREFIX/bin/parley"

work="$(mktemp -d /tmp/parley-npm-test.XXXXXX)"
agent_pid=""
cleanup() {
  if [[ -n "$agent_pid" ]] && kill -0 "$agent_pid" 2>/dev/null; then kill "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...
  local name="$1"
  shift
  if "$@"; then
    echo "ok - $name"
    passed=$((passed + 1))
  else
    echo "not ok - $name"
    failed=$((failed + 1))
  fi
}

OUT_DIR="$work/dist" bash "$here/build-package.sh" > "$work/build.out"
tgz="$(tail -n 1 "$work/build.out")"
echo "package: $tgz ($(du -h "$tgz" | cut -f1))"

listing="$(tar -tzf "$tgz")"
platform="$(node -p 'process.platform + "-" + process.arch')"
has_entry() { grep -qx "package/$1" <<< "$listing"; }
check "the .tgz holds the prebuilt addon" has_entry "prebuilds/$platform/parley.node"
check "the .tgz holds libparley.so.0" has_entry "prebuilds/$platform/libparley.so.0"
check "the .tgz holds the TypeScript declarations" has_entry "index.d.ts"
no_build_files() { ! grep -qE 'binding\.gyp|CMakeLists|\.cc$|node_modules/' <<< "$listing"; }
check "the .tgz has no build files" no_build_files

# A PATH with node and npm only: an install step that compiled anything would fail.
mkdir -p "$work/bin" "$work/app"
ln -s "$(readlink -f "$(command -v node)")" "$work/bin/node"
ln -s "$(readlink -f "$(command -v npm)")" "$work/bin/npm"
printf '{"name": "parley-package-test", "version": "1.0.0", "private": true}\n' > "$work/app/package.json"
install_package() {
  (cd "$work/app" && env -i HOME="$HOME" PATH="$work/bin" npm install --no-audit --no-fund --loglevel=error "$tgz" > "$work/install.out" 2>&1)
}
check "npm install of the .tgz with no compiler on PATH" install_package
no_compile_output() { ! grep -qiE 'gyp|g\+\+|cmake' "$work/install.out"; }
check "the install compiled nothing" no_compile_output
check "nothing was built in the installed package" test ! -e "$work/app/node_modules/@parley/node/build"

# The library comes from the package (rpath $ORIGIN), not from PARLEY_PREFIX or the system.
lib_from_package() {
  local lib
  lib="$(cd "$work/app" && env -i HOME="$HOME" PATH="$work/bin" node -e '
    const parley = require("@parley/node");
    const maps = require("fs").readFileSync("/proc/self/maps", "utf8");
    const lib = maps.split("\n").map((l) => l.split(/\s+/)[5]).find((f) => f && /libparley\.so/.test(f));
    console.log(parley.version(), lib);')"
  echo "  loaded: $lib"
  [[ "$lib" == "$(tr -d '[:space:]' < "$repo/VERSION") $work/app/node_modules/@parley/node/prebuilds/$platform/libparley.so.0" ]]
}
check "libparley.so.0 is loaded from the installed package" lib_from_package

# Self-contained: nothing outside the installed package but the base set (ldd on every
# bundled ELF, and libparley loaded in a root that has only the base set).
installed="$work/app/node_modules/@parley/node/prebuilds/$platform"
check "the installed package needs nothing beyond the base set" \
  bash "$repo/packaging/check-self-contained.sh" "$installed"
# ... and in a real process the bundled copies are the ones loaded, not the system's.
bundled_libs_loaded() {
  local outside
  outside="$(cd "$work/app" && env -i HOME="$HOME" PATH="$work/bin" node -e '
    require("@parley/node");
    const maps = require("fs").readFileSync("/proc/self/maps", "utf8").split("\n").map((l) => l.split(/\s+/)[5]);
    for (const name of ["libspdlog", "libsoxr", "libespeak-ng", "libpocketsphinx"]) {
      const file = maps.find((f) => f && f.includes("/" + name + ".so"));
      if (!file || !file.startsWith(process.argv[1] + "/")) console.log(name + ": " + file);
    }' "$installed")"
  [[ -z "$outside" ]] || { echo "  loaded from outside the package: $outside"; return 1; }
}
check "the bundled libraries are the ones loaded" bundled_libs_loaded
check "the package carries the bundled libraries' licences" has_entry "THIRD-PARTY-NOTICES.txt"

# The example, run from the install folder, answers two calls from parley loadgen.
cp "$repo/examples/node/echo-agent.js" "$work/app/"
run_example() {
  (cd "$work/app" && exec env -i HOME="$HOME" PATH="$work/bin" node echo-agent.js --port 0 --calls 2) > "$work/agent.out" 2>&1 &
  agent_pid=$!
  local port=""
  for _ in $(seq 1 100); do
    port="$(grep -oE 'listening on ws://127\.0\.0\.1:[0-9]+' "$work/agent.out" | grep -oE '[0-9]+$' || true)"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then cat "$work/agent.out"; return 1; fi
  "$cli" loadgen --url "ws://127.0.0.1:$port/twilio" --calls 2 --duration 2 --dtmf-every 0.5 --json > "$work/loadgen.json" 2> /dev/null || {
    echo "  loadgen failed: $(cat "$work/loadgen.json")"
    return 1
  }
  local status=0
  for _ in $(seq 1 150); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$agent_pid" || status=$?
  agent_pid=""
  sed 's/^/  | /' "$work/agent.out"
  [[ "$status" == 0 ]] &&
    [[ "$(grep -c '] started: call CA' "$work/agent.out")" == 2 ]] &&
    grep -q '] dtmf: ' "$work/agent.out" &&
    grep -q '] mark: echo-1 played' "$work/agent.out" &&
    [[ "$(grep -c '] stopped: caller hung up' "$work/agent.out")" == 2 ]]
}
check "the example answers parley loadgen calls from the install folder" run_example

echo "npm package: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
