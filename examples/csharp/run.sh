#!/usr/bin/env bash
# Builds the C# binding if needed, compiles the agent example (Agent.cs) into a fresh folder
# next to Parley.dll and the natives (as a published app would have them), and answers two
# `parley loadgen` calls with it on Mono (bindings/run-example.sh says what is checked).
#   PARLEY_PREFIX=<engine install> examples/csharp/run.sh     (default: build/release/install)
# bindings/csharp/test.sh runs it after the NUnit tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" && pwd)"
binding="$root/bindings/csharp"
make -s -C "$binding" PARLEY_PREFIX="$PARLEY_PREFIX"

app="$(mktemp -d "${TMPDIR:-/tmp}/parley-cs-example.XXXXXX")"
trap 'rm -rf "$app"' EXIT
cp "$binding"/build/lib/{Parley.dll,libparley_csharp.so,libparley.so.0} "$app/"
mcs -nologo -warnaserror+ -out:"$app/Agent.exe" -r:"$app/Parley.dll" "$here/Agent.cs"

"$root/bindings/run-example.sh" csharp -- mono "$app/Agent.exe"
