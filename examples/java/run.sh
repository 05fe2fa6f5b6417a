#!/usr/bin/env bash
# Builds the Java binding if needed, starts EchoAgent on a free port, drives two calls at it
# with `parley loadgen`, and checks that both calls completed and their events were printed.
#   PARLEY_PREFIX=<engine install> examples/java/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
binding="$root/bindings/java"
version="$(cat "$root/VERSION")"
jar="$binding/target/parley-$version.jar"
if [ ! -f "$jar" ]; then
  (cd "$binding" && mvn -B -q -DskipTests -Drevision="$version" package 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
fi

log="$(mktemp /tmp/parley-java-example.XXXXXX)"
trap 'rm -f "$log"; [ -n "${agent:-}" ] && kill "$agent" 2>/dev/null || true' EXIT
java -cp "$jar" "$here/EchoAgent.java" --port 0 --calls 2 >"$log" 2>&1 &
agent=$!
for _ in $(seq 100); do
  port="$(sed -n 's|.*listening on ws://127.0.0.1:\([0-9]*\)/twilio.*|\1|p' "$log")"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { cat "$log"; echo "run.sh: EchoAgent did not start" >&2; exit 1; }
"$PARLEY_PREFIX/bin/parley" loadgen --url "ws://127.0.0.1:$port/twilio" --calls 2 --duration 3 \
  --dtmf-every 1 2>/dev/null | grep -E "^(calls_completed|failures|protocol_errors|frames_lost)"
wait "$agent"
agent=""
cat "$log"
[ "$(grep -c '^stopped ' "$log")" -eq 2 ] && [ "$(grep -c '^started ' "$log")" -eq 2 ] \
  && grep -q '^dtmf ' "$log" && grep -q '^mark ' "$log"
echo "examples/java: ok"
