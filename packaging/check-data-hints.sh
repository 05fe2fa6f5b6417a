#!/usr/bin/env bash
# The packages bundle libespeak-ng and libpocketsphinx but not their data (voices, the
# acoustic model): a machine needs the Debian packages espeak-ng-data and pocketsphinx-en-us
# (docs/packaging.md). This checks what a user sees without them: it hides the data folders
# in a private mount namespace and runs `parley tts` (espeak-ng) and `parley stt`
# (pocketsphinx); each error must name the package to install.
#
#   packaging/check-data-hints.sh PATH/TO/parley
#
# Until the engine's messages name the packages this only reports them ("NOTE"), so CI stays
# green; PARLEY_EXPECT_DATA_HINTS=1 makes a missing name a failure. Needs root or
# unprivileged user namespaces (skipped otherwise).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${1:?usage: check-data-hints.sh PATH/TO/parley}"
strict="${PARLEY_EXPECT_DATA_HINTS:-0}"

if [[ "$(id -u)" == 0 ]]; then
  namespace=(unshare -m)
elif unshare -rm true 2>/dev/null; then
  namespace=(unshare -rm)
else
  echo "data hints: skipped (needs root or unprivileged user namespaces)"
  exit 0
fi

work="$(mktemp -d /tmp/parley-data-hints.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$cli" tts "hello" -o "$work/hello.wav" >/dev/null 2>&1 || true

espeak_data="$(ls -d /usr/lib/*/espeak-ng-data /usr/share/espeak-ng-data 2>/dev/null | head -n 1 || true)"
sphinx_model="/usr/share/pocketsphinx/model"

passed=0 failed=0 noted=0
# check NAME PACKAGE FOLDER COMMAND...: runs COMMAND with FOLDER hidden under an empty tmpfs.
check() {
  local name="$1" package="$2" folder="$3"
  shift 3
  if [[ -z "$folder" || ! -d "$folder" ]]; then
    echo "data hints: $name: its data is not installed here; skipped"
    return
  fi
  local message status=0
  message="$("${namespace[@]}" sh -c 'mount -t tmpfs none "$1" && shift && exec "$@"' sh "$folder" "$@" 2>&1 >/dev/null)" || status=$?
  message="$(tail -n 1 <<<"$message")"
  if [[ "$status" == 0 ]]; then
    echo "not ok - $name worked with $folder hidden"
    failed=$((failed + 1))
  elif grep -q -- "$package" <<<"$message"; then
    echo "ok - $name without its data names $package: $message"
    passed=$((passed + 1))
  elif [[ "$strict" == 1 ]]; then
    echo "not ok - $name without its data does not name $package: $message"
    failed=$((failed + 1))
  else
    echo "NOTE - $name without its data does not name $package yet: $message"
    noted=$((noted + 1))
  fi
}

check "espeak-ng TTS" espeak-ng-data "$espeak_data" "$cli" tts "hello" -o "$work/out.wav"
check "pocketsphinx STT" pocketsphinx-en-us "$sphinx_model" \
  "$cli" stt --fast --grammar "$root/examples/grammars/appointment.jsgf" "$work/hello.wav"

echo "data hints: $passed passed, $failed failed, $noted noted"
[[ "$failed" == 0 ]]
