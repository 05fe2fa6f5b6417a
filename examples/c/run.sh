#!/usr/bin/env bash
# Builds the C example three ways against an installed Parley and answers `parley loadgen`
# calls with each:
#   agent            CMake, find_package(parley), linked to libparley.so.0
#   agent-pkgconfig  cc agent.c $(pkg-config --cflags --libs parley)
#   agent_dlopen     CMake, libparley.so.0 loaded with dlopen (checked: no DT_NEEDED on it)
# Each must see every call start and end, and exit by itself after them.
#
#   PARLEY_PREFIX=<engine install> examples/c/run.sh          (default: build/release/install)
#
# The listener config: examples/c/agent-listener.json (the appointment agent), run from the
# repository root so that its relative paths resolve. Each variant must print the agent's
# final lines ("agent: ..."; the greeting at least). Environment:
#   PARLEY_EXAMPLE_EXPECT_CALLER=1       also require a final "caller: " line (the en-us
#                                        pocketsphinx model often mishears 8 kHz phone audio,
#                                        and a busy machine may end the call first: off by default)
#   PARLEY_EXAMPLE_CONFIG=FILE           use this listener config instead (no fallback)
#   PARLEY_EXAMPLE_DURATION=S            seconds of caller audio per call (default 3 for echo,
#                                        11 for the agent)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
PARLEY_PREFIX="$(cd "$PARLEY_PREFIX" && pwd)"
cli="$PARLEY_PREFIX/bin/parley"
expect_caller="${PARLEY_EXAMPLE_EXPECT_CALLER:-0}"
calls=2

work="$(mktemp -d /tmp/parley-c-example.XXXXXX)"
agent_pid=""
cleanup() {
  if [[ -n "$agent_pid" ]]; then kill "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "examples/c: $*" >&2; exit 1; }

# ---- build ------------------------------------------------------------------------------
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here" -B "$work/cmake" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PARLEY_PREFIX" -DCMAKE_C_FLAGS="-Werror" >"$work/cmake.log" 2>&1 \
  || { cat "$work/cmake.log"; fail "cmake configure failed"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake build failed"; }

pc_path="$PARLEY_PREFIX/lib/pkgconfig"
pc() { PKG_CONFIG_PATH="$pc_path${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" pkg-config "$@"; }
# shellcheck disable=SC2046  # pkg-config's flags are meant to be split
"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -o "$work/agent-pkgconfig" "$here/agent.c" \
  $(pc --cflags --libs parley) -Wl,-rpath,"$(pc --variable=libdir parley)" \
  || fail "the pkg-config build failed"

if readelf -d "$work/cmake/agent_dlopen" | grep -q 'NEEDED.*libparley'; then
  fail "agent_dlopen links libparley; it must only dlopen it"
fi
readelf -d "$work/cmake/agent" | grep -q 'NEEDED.*\[libparley\.so\.0\]' || fail "agent does not link libparley.so.0"
echo "examples/c: built agent (find_package), agent-pkgconfig (pkg-config), agent_dlopen (dlopen)"

# ---- which listener config --------------------------------------------------------------
cd "$root"  # the default config's paths are relative to the repository root
config="${PARLEY_EXAMPLE_CONFIG:-$here/agent-listener.json}"
mode=agent
grep -q '"behaviour": *"agent"' "$config" || mode=other
[[ "$mode" == agent ]] && duration="${PARLEY_EXAMPLE_DURATION:-11}" || duration="${PARLEY_EXAMPLE_DURATION:-3}"

# The agent's caller says something the grammar knows, then is silent (the end of the turn)
# for as long as the agent needs to answer: the reply's final transcript comes when the
# turn ends, which must be before the caller hangs up.
loadgen_audio=()
if [[ "$mode" == agent ]]; then
  "$cli" tts "i would like to book an appointment" --rate 8000 -o "$work/speech.wav" >/dev/null
  python3 - "$work/speech.wav" "$work/caller.wav" <<'PY'
import sys, wave
with wave.open(sys.argv[1]) as w:
    params, frames = w.getparams(), w.readframes(w.getnframes())
silence = lambda seconds: b"\0" * int(params.framerate * seconds) * params.sampwidth * params.nchannels
with wave.open(sys.argv[2], "wb") as out:
    out.setparams(params)
    out.writeframes(silence(1.0) + frames + silence(8.5))  # longer than the call: no loop
PY
  loadgen_audio=(--wav "$work/caller.wav")
fi

# ---- run each variant against parley loadgen ------------------------------------------------
run_variant() {  # run_variant NAME ENV... -- COMMAND...
  local name="$1" out="$work/$1.out" port="" status=0
  shift
  local env_args=()
  while [[ "$1" != -- ]]; do env_args+=("$1"); shift; done
  shift
  : >"$out"
  env "${env_args[@]}" "$@" --calls "$calls" "$config" >"$out" 2>&1 </dev/null &
  agent_pid=$!
  for _ in $(seq 100); do
    port="$(sed -n 's|^listening on ws://[^:]*:\([0-9]*\)/.*|\1|p' "$out")"
    [[ -n "$port" ]] && break
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$out"; fail "$name did not start listening"; }
  local path
  path="$(sed -n 's|^listening on ws://[^/]*\(/.*\)$|\1|p' "$out")"
  "$cli" loadgen --url "ws://127.0.0.1:$port$path" --calls "$calls" --duration "$duration" \
    "${loadgen_audio[@]}" --json >"$work/$name.loadgen.json" 2>"$work/$name.loadgen.err" || status=$?
  # The example exits by itself once the calls have ended.
  for _ in $(seq 150); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$agent_pid" 2>/dev/null; then
    cat "$out"
    fail "$name did not exit after $calls calls"
  fi
  local agent_status=0
  wait "$agent_pid" || agent_status=$?
  agent_pid=""
  sed "s/^/  $name | /" "$out"
  local summary
  summary="$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("calls_completed=%s failures=%d" % (j.get("calls_completed"), len(j.get("failures", []))))' \
             "$work/$name.loadgen.json" 2>/dev/null || echo "no JSON: $(cat "$work/$name.loadgen.err")")"
  echo "  $name | loadgen: $summary"
  [[ "$agent_status" == 0 ]] || fail "$name exited with status $agent_status"
  # With the echo behaviour every call must also be clean by loadgen's measure.
  [[ "$mode" != echo || "$status" == 0 ]] || fail "$name: parley loadgen reported failed calls"
  local started ended
  started="$(grep -c '^call started: ' "$out" || true)"
  ended="$(grep -c '^call ended: ' "$out" || true)"
  [[ "$started" == "$calls" && "$ended" == "$calls" ]] \
    || fail "$name saw $started calls start and $ended end (want $calls and $calls)"
  if [[ "$mode" == agent ]]; then
    grep -q '^agent: .' "$out" || fail "$name printed no final agent transcript"
    if [[ "$expect_caller" == 1 ]]; then grep -q '^caller: .' "$out" || fail "$name printed no final caller transcript"; fi
  fi
  echo "examples/c: $name ok ($started calls started and ended)"
}

echo "examples/c: listener config $config ($mode), $calls calls of ${duration}s"
run_variant agent -- "$work/cmake/agent"
run_variant agent-pkgconfig -- "$work/agent-pkgconfig"
# No LD_LIBRARY_PATH and no rpath: only PARLEY_LIBRARY says where the library is.
run_variant agent_dlopen PARLEY_LIBRARY="$PARLEY_PREFIX/lib/libparley.so.0" -- "$work/cmake/agent_dlopen"
echo "examples/c: 3 passed, 0 failed"
