#!/usr/bin/env bash
# `parley demo --json` end to end, as the README runs it: the call completes (booked, the agent
# hung up), the caller's barge-in cut the greeting and the context kept what was heard, every
# answered turn has its latency figures, and the recording is a stereo 16 kHz WAV as long as
# the call.
#
#   demo.sh PARLEY
set -euo pipefail
parley=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
  echo "FAIL (demo): $*"
  [ -f out.json ] && { echo "--- out.json:"; cat out.json; }
  [ -f err ] && { echo "--- stderr:"; cat err; }
  exit 1
}

status=0
env -u OPENAI_API_KEY -u OPENAI_BASE_URL "$parley" demo --json --recording "$work/call.wav" >out.json 2>err || status=$?
[ "$status" = 0 ] || fail "exit status $status"
python3 - "$work/out.json" "$work/call.wav" <<'PY' || fail "report check"
import json, sys, wave
report = json.load(open(sys.argv[1]))
assert report["completed"] is True, "not completed"
assert report["llm"] == "scripted", report["llm"]
turns = report["turns"]
assert len(turns) >= 6, f"{len(turns)} turns"
greeting = turns[0]
assert greeting["user_text"] == "" and greeting["interrupted"], greeting
heard, said = greeting["heard_text"], greeting["agent_text"]
assert heard and said.startswith(heard) and len(heard) < len(said), (heard, said)
assert report["interruptions"][0]["clear_after_speech_start_ms"] <= 210, report["interruptions"][0]
answered = turns[1:]
assert answered[0]["user_text"] == "i would like to book an appointment", answered[0]
for turn in answered:
    for key in ("voice_to_voice_ms", "endpointing_ms", "llm_first_token_ms", "tts_first_byte_ms"):
        assert isinstance(turn[key], (int, float)) and turn[key] >= 0, (key, turn)
    assert not turn["interrupted"], turn
names = [call["name"] for turn in turns for call in turn["tool_calls"]]
assert names == ["book_appointment", "hang_up"], names
assert "John" in turns[-1]["agent_text"], turns[-1]
with wave.open(sys.argv[2]) as w:
    assert w.getnchannels() == 2 and w.getframerate() == 16000 and w.getsampwidth() == 2, w.getparams()
    seconds = w.getnframes() / w.getframerate()
    assert 20 < seconds < 120, seconds
print(f"demo: {len(turns)} turns, {seconds:.1f} s recorded, v2v " +
      ", ".join(str(t['voice_to_voice_ms']) for t in answered) + " ms")
PY
