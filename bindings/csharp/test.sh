#!/usr/bin/env bash
# C# binding: installs what is missing (Debian 12: Mono, NUnit 2.6, SWIG, a C compiler),
# generates the P/Invoke layer with SWIG, builds the glue and the Parley assembly against
# the engine install in PARLEY_PREFIX, runs the NUnit tests on Mono, then
# examples/csharp/run.sh (the agent example answers two `parley loadgen` calls).
# Default PARLEY_PREFIX: <repo>/build/release/install
# (`cmake --install build/release --prefix build/release/install`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" 2>/dev/null && pwd)" || {
  echo "bindings/csharp/test.sh: PARLEY_PREFIX ($PARLEY_PREFIX) does not exist; run" \
       "cmake --install build/release --prefix build/release/install first" >&2
  exit 1
}

# Debian packages, installed only when something is missing.
need=()
command -v swig >/dev/null || need+=(swig)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v mcs >/dev/null && command -v mono >/dev/null || need+=(mono-complete)
command -v nunit-console >/dev/null || need+=(nunit-console)
ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll >/dev/null 2>&1 || need+=(libnunit-cil-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== csharp: swig + glue + Parley.dll + NUnit against $PARLEY_PREFIX"
make -s -C "$here" tests PARLEY_PREFIX="$PARLEY_PREFIX"
result="$here/build/TestResult.xml"
rm -f "$result"
status=0
(cd "$here/build/lib" && nunit-console -nologo -labels -xml="$result" Parley.Tests.dll) || status=$?

# One closing line for CI: "N passed, N failed".
if [ -f "$result" ]; then
  line="$(grep -m1 -o '<test-results [^>]*>' "$result")"
  attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$line"; }
  total=$(attr total) failed=$(( $(attr errors) + $(attr failures) ))
  skipped=$(( $(attr not-run) ))
  echo "csharp: $((total - failed)) passed, $failed failed, $skipped skipped"
else
  echo "csharp: 0 passed, 1 failed (no NUnit result)"
  [ $status -ne 0 ] || status=1
fi
[ $status -eq 0 ] || exit $status

# The agent example (examples/csharp) answers two `parley loadgen` calls.
"$root/examples/csharp/run.sh"
