#!/usr/bin/env bash
# Runs one language's agent example against `parley loadgen` and checks what it printed.
# Used by examples/{go,java,csharp,node}/run.sh (each builds its example first):
#
#   PARLEY_PREFIX=<engine install> bindings/run-example.sh NAME -- COMMAND [ARGS...]
#
# COMMAND is started from the repository root with `--port 0 --calls N` appended (and
# `--flow FILE` for the second run). It must print "listening on ws://127.0.0.1:PORT/twilio",
# answer Twilio Media Streams calls with the appointment agent (examples/c/agent.c's agent:
# pocketsphinx with the appointment grammar, the scripted flow, espeak-ng, "greet_from_llm":
# true, the book_appointment tool answered with {"booked":true}), print final transcripts as
# "caller: ..." and "agent: ...", and exit by itself, with status 0, once N calls ended.
#
# The caller's audio, caller.wav: speech ("i would like to book an appointment", said by
# espeak-ng through `parley tts` at 8 kHz) after 4.5 s of silence, while the agent greets
# (about 3.6 s until its last mark comes back), then silence. It is 79,190 samples long
# (9.9 s, more than a call) because loadgen starts call i at sample (i * 7919 * 160) mod the
# length, which is 0 for that length: both callers stay silent through the greeting (at
# another length the second caller could start mid-speech and cut the greeting short).
#
# 1. The agent: `parley loadgen --calls 2 --duration 8 --wav caller.wav`. Checked: "call
#    started: " and "call ended: " twice each, and the greeting (the flow's first line,
#    "Thanks for calling Parley Dental. How can I help?") printed as a final agent transcript
#    once per call. What the caller said is not checked: over Twilio the audio is 8 kHz
#    mu-law, and pocketsphinx's en-us model mishears 8 kHz speech, so the appointment flow
#    does not get far.
# 2. The tool: the same example with --flow tool-flow.json, a flow whose answer to anything
#    the caller says is a book_appointment call, and which then says "Booked: " and the
#    tool result's "booked" field; one call of 10 s. Checked: "tool call: book_appointment("
#    answered with {"booked":true}, and "agent: ... Booked: true." (the host's answer reached
#    the model).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
[[ $# -ge 3 && "$2" == -- ]] || { echo "usage: $0 NAME -- COMMAND [ARGS...]" >&2; exit 2; }
name="$1"
shift 2
command=("$@")
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
cli="$PARLEY_PREFIX/bin/parley"
[[ -x "$cli" ]] || { echo "run-example: no $cli (set PARLEY_PREFIX to an engine install)" >&2; exit 1; }
greeting="Thanks for calling Parley Dental. How can I help?"

work="$(mktemp -d "${TMPDIR:-/tmp}/parley-example-$name.XXXXXX")"
agent_pid=""
cleanup() {
  if [[ -n "$agent_pid" ]]; then kill "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
out=""    # the current run's output
shown=""  # the output already printed
show() {
  [[ -z "$out" || "$shown" == "$out" || ! -f "$out" ]] || sed "s/^/  $name | /" "$out"
  shown="$out"
}
fail() {
  show
  echo "examples/$name: $*" >&2
  exit 1
}

# ---- the caller's audio, and the tool run's flow ------------------------------------------
"$cli" tts "i would like to book an appointment" --rate 8000 -o "$work/speech.wav" >/dev/null
python3 - "$work/speech.wav" "$work/caller.wav" <<'PY'
import sys, wave
with wave.open(sys.argv[1]) as w:
    params, frames = w.getparams(), w.readframes(w.getnframes())
assert params.framerate == 8000 and params.sampwidth == 2 and params.nchannels == 1, params
length = 7919 * 10  # samples: divides 7919 * 160, loadgen's per-call offset step
audio = b"\0" * int(4.5 * 8000) * 2 + frames
assert len(audio) < length * 2, "the speech does not fit"
with wave.open(sys.argv[2], "wb") as out:
    out.setparams(params)
    out.writeframes(audio + b"\0" * (length * 2 - len(audio)))
PY
cat >"$work/tool-flow.json" <<'JSON'
{"version": 1, "start": "ask", "states": {
  "ask": {"entry": "Hello.", "intents": [{"name": "anything", "slots": {"said": "text"}, "reply": "Booking.",
    "tool_call": {"name": "book_appointment", "arguments": {"day": "monday", "time": "ten a m", "name": "john smith"}},
    "next": "done"}]},
  "done": {"end": true, "entry": "Booked: {tool_result.booked}."}}}
JSON

# run LABEL CALLS DURATION [EXTRA ARGS...]: the example answers CALLS loadgen calls of
# DURATION seconds and exits; its output is in $out.
run() {
  local label="$1" calls="$2" duration="$3"
  shift 3
  out="$work/$label.out"
  : >"$out"
  (cd "$root" && exec "${command[@]}" --port 0 --calls "$calls" "$@" >"$out" 2>&1 </dev/null) &
  agent_pid=$!
  local port=""
  for _ in $(seq 300); do  # a JVM or Mono start, and the providers' models loading
    port="$(sed -n 's|^listening on ws://127\.0\.0\.1:\([0-9]*\)/twilio$|\1|p' "$out")"
    [[ -n "$port" ]] && break
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$port" ]] || fail "$label: did not print 'listening on ws://127.0.0.1:PORT/twilio'"
  local status=0
  "$cli" loadgen --url "ws://127.0.0.1:$port/twilio" --calls "$calls" --duration "$duration" \
    --wav "$work/caller.wav" --json >"$work/$label.loadgen.json" 2>"$work/$label.loadgen.err" || status=$?
  for _ in $(seq 150); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$agent_pid" 2>/dev/null && fail "$label: did not exit after $calls calls"
  local agent_status=0
  wait "$agent_pid" || agent_status=$?
  agent_pid=""
  echo "  $name | -- $label: $calls call(s) of ${duration}s"
  show
  local summary
  summary="$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("calls_completed=%s failures=%d" % (j.get("calls_completed"), len(j.get("failures", []))))' \
             "$work/$label.loadgen.json" 2>/dev/null || echo "no JSON: $(cat "$work/$label.loadgen.err")")"
  echo "  $name | loadgen (exit $status): $summary"
  [[ "$agent_status" == 0 ]] || fail "$label: exited with status $agent_status"
  local started ended
  started="$(grep -c '^call started: ' "$out" || true)"
  ended="$(grep -c '^call ended: ' "$out" || true)"
  [[ "$started" == "$calls" && "$ended" == "$calls" ]] \
    || fail "$label: $started calls started and $ended ended (want $calls and $calls)"
}

# ---- 1. the appointment agent greets each caller ----------------------------------------------
run agent 2 8
greeted="$(grep -cxF "agent: $greeting" "$out" || true)"
[[ "$greeted" == 2 ]] || fail "agent: printed the greeting as 'agent: $greeting' $greeted times (want 2, one per call)"

# ---- 2. the host answers book_appointment -----------------------------------------------------
run tool 1 10 --flow "$work/tool-flow.json"
grep -q '^tool call: book_appointment(.*) -> {"booked":true}$' "$out" \
  || fail "tool: no 'tool call: book_appointment(...) -> {\"booked\":true}' line"
grep -q '^agent: .*Booked: true\.$' "$out" || fail "tool: the agent did not say the tool's result ('Booked: true.')"

echo "examples/$name: ok (2 calls greeted by the agent; book_appointment answered and its result said)"
