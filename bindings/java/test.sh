#!/usr/bin/env bash
# Java binding: installs what is missing (Debian 12), generates the JNI layer with SWIG,
# builds it against the engine install in PARLEY_PREFIX, runs the JUnit 5 tests through
# Maven, then examples/java/run.sh (the agent example answers two `parley loadgen` calls).
# Default PARLEY_PREFIX: <repo>/build/release/install
# (`cmake --install build/release --prefix build/release/install`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" 2>/dev/null && pwd)" || {
  echo "bindings/java/test.sh: PARLEY_PREFIX ($PARLEY_PREFIX) does not exist; run" \
       "cmake --install build/release --prefix build/release/install first" >&2
  exit 1
}

# Debian packages, installed only when a tool is missing.
need=()
command -v swig >/dev/null || need+=(swig)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

version="$(cat "$root/VERSION")"
cd "$here"
rm -rf target/surefire-reports
echo "== java: swig + JNI + JUnit against $PARLEY_PREFIX"
status=0
# (Maven 3.8 prints ANSI resets even in batch mode: strip them.)
mvn -B -q -Drevision="$version" test 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' || status=$?

# One closing line for CI: "N passed, N failed".
tests=0 failed=0 skipped=0
for report in target/surefire-reports/TEST-*.xml; do
  [ -f "$report" ] || continue
  line="$(grep -m1 -o '<testsuite [^>]*>' "$report")"
  attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$line"; }
  tests=$((tests + $(attr tests))); skipped=$((skipped + $(attr skipped)))
  failed=$((failed + $(attr failures) + $(attr errors)))
done
echo "java: $((tests - failed - skipped)) passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] || exit $status

# The agent example (examples/java) answers two `parley loadgen` calls.
"$root/examples/java/run.sh"
