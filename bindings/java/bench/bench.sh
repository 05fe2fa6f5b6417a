#!/usr/bin/env bash
# Benchmarks of the Java binding (not part of test.sh): push_audio cost and event delivery.
# Needs a built binding (test.sh, or `mvn package` with PARLEY_PREFIX set).
#   bindings/java/bench/bench.sh [frames] [events]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
classes="$here/../target/classes"
[ -d "$classes/natives" ] || { echo "bench.sh: build the binding first (bindings/java/test.sh)" >&2; exit 1; }
out="$(mktemp -d /tmp/parley-java-bench.XXXXXX)"
trap 'rm -rf "$out"' EXIT
javac -d "$out" -cp "$classes" "$here/Bench.java"
java -cp "$out:$classes" Bench "$@"
