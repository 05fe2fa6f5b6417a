#!/usr/bin/env bash
# `parley demo` with OpenAI-compatible environment variables: the model behind
# OPENAI_BASE_URL (here `parley-fake openai`, which answers every request with one fixed
# line) plays the front desk instead of the scripted flow. The fake cannot book anything, so
# the demo ends at its timeout and exits 1 — what this checks is that the model was used,
# with the demo's system prompt and tools, and that the greeting is the model's line.
#
#   demo_openai.sh PARLEY PARLEY_FAKE
set -euo pipefail
parley=$1
fake=$2
work=$(mktemp -d)
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() {
  echo "FAIL (demo_openai): $*"
  [ -f out.json ] && { echo "--- out.json:"; cat out.json; }
  [ -f err ] && { echo "--- stderr:"; cat err; }
  exit 1
}

mkfifo fake.out
"$fake" openai --port 0 --api-key sk-demo-test --reply "Parley Dental, how can I help you today?" >fake.out &
fake_pid=$!
read -r -t 10 line <fake.out || fail "parley-fake did not start"
port=${line#PORT=}

status=0
OPENAI_API_KEY=sk-demo-test OPENAI_BASE_URL=http://127.0.0.1:$port/v1 OPENAI_MODEL=fake-model \
  "$parley" demo --json --timeout 20 --recording "$work/call.wav" >out.json 2>err || status=$?
[ "$status" = 1 ] || fail "exit status $status (expected 1: the fake books nothing)"
python3 - out.json <<'PY' || fail "report check"
import json, sys
report = json.load(open(sys.argv[1]))
assert report["llm"] == "openai", report["llm"]
assert report["completed"] is False
turns = report["turns"]
assert turns and turns[0]["agent_text"] == "Parley Dental, how can I help you today?", turns[:1]
assert any(t["user_text"] for t in turns[1:]), "the model answered what the caller said"
PY
grep -q "sk-demo-test" out.json err && fail "the API key leaked into the output"
echo "demo_openai: ok"
