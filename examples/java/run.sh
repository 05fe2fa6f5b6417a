#!/usr/bin/env bash
# Builds the Java binding's jar (natives inside), runs the agent example (Agent.java, in
# source-file mode with the jar alone on the class path) and answers two `parley loadgen`
# calls with it (bindings/run-example.sh says what is checked).
#   PARLEY_PREFIX=<engine install> examples/java/run.sh     (default: build/release/install)
# bindings/java/test.sh runs it after the JUnit tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" && pwd)"
binding="$root/bindings/java"
version="$(cat "$root/VERSION")"
jar="$binding/target/parley-$version.jar"
# Always (re)packaged: a jar left from an older build would lack newer classes.
(cd "$binding" && mvn -B -q -DskipTests -Drevision="$version" package 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
[[ -f "$jar" ]] || { echo "examples/java: no $jar after mvn package" >&2; exit 1; }

# The natives come from the jar (extracted by NativeLoader), not from PARLEY_PREFIX.
env -u PARLEY_LIBRARY_PATH "$root/bindings/run-example.sh" java -- java -cp "$jar" "$here/Agent.java"
