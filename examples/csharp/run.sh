#!/usr/bin/env bash
# Builds the C# binding if needed, compiles EchoAgent into a fresh folder next to Parley.dll
# and the natives (as a published app would have them), starts it on a free port, drives two
# calls at it with `parley loadgen`, and checks that both calls' events were printed.
#   PARLEY_PREFIX=<engine install> examples/csharp/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
binding="$root/bindings/csharp"
make -s -C "$binding" PARLEY_PREFIX="$PARLEY_PREFIX"

app="$(mktemp -d /tmp/parley-cs-example.XXXXXX)"
trap 'rm -rf "$app"; [ -n "${agent:-}" ] && kill "$agent" 2>/dev/null || true' EXIT
cp "$binding"/build/lib/{Parley.dll,libparley_csharp.so,libparley.so.0} "$app/"
mcs -nologo -out:"$app/EchoAgent.exe" -r:"$app/Parley.dll" "$here/EchoAgent.cs"

log="$app/agent.log"
mono "$app/EchoAgent.exe" --port 0 --calls 2 >"$log" 2>&1 &
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
echo "examples/csharp: ok"
