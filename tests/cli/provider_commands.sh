#!/usr/bin/env bash
# End-to-end tests of `parley tts`, `parley stt` and `parley llm`: the built binary, run as a
# user would, against the local engines and the fake OpenAI server.
#
#   provider_commands.sh CASE PARLEY SOURCE_DIR [PARLEY_FAKE]
#
# Each CASE is one function below; it exits non-zero with a message on the first failure.
set -euo pipefail

case_name=$1
parley=$2
source_dir=$3
fake=${4:-}

work=$(mktemp -d)
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

flow=$source_dir/examples/flows/appointment.json
grammar=$source_dir/examples/grammars/appointment.jsgf

fail() {
  echo "FAIL ($case_name): $*"
  for f in "$work"/out "$work"/err; do
    [ -f "$f" ] && { echo "--- ${f##*/}:"; cat "$f"; }
  done
  exit 1
}

# run EXPECTED_EXIT parley-args...: runs parley with stdout in $work/out, stderr in $work/err.
run() {
  local expected=$1
  shift
  local status=0
  "$parley" "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
  [ "$status" -eq "$expected" ] || fail "parley $* exited $status, expected $expected"
}

out_has() { grep -qF -- "$1" "$work/out" || fail "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1'"; }
out_is() { [ "$(cat "$work/out")" = "$1" ] || fail "stdout is not exactly '$1'"; }

# wav_field FILE OFFSET SIZE: a little-endian unsigned header field.
wav_field() { od -An -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

# The largest |sample| of a 44-byte-header PCM16 WAV.
wav_peak() {
  od -An -v -t d2 -j 44 "$1" | awk '{ for (i = 1; i <= NF; i++) { v = $i < 0 ? -$i : $i; if (v > m) m = v } } END { print m + 0 }'
}

# start_fake SERVICE ARGS...: starts `parley-fake SERVICE`; sets $fake_port.
start_fake() {
  [ -n "$fake" ] || fail "no parley-fake binary given"
  mkfifo "$work/fake.out"
  "$fake" "$1" --port 0 "${@:2}" >"$work/fake.out" &
  fake_pid=$!
  local line
  read -r -t 10 line <"$work/fake.out" || fail "parley-fake did not start"
  fake_port=${line#PORT=}
  [[ "$fake_port" =~ ^[0-9]+$ ]] || fail "parley-fake printed '$line'"
}

# ---------------------------------------------------------------------------------------------

case_usage_errors() {
  run 2 tts --bogus hi -o "$work/x.wav"
  err_has "parley tts: unknown option '--bogus'"
  err_has "usage: parley tts"
  run 2 tts "hello"
  err_has "-o FILE is required"
  run 2 tts -o "$work/x.wav"
  err_has "no text to speak"
  run 2 tts --rate fast hi -o "$work/x.wav"
  err_has "--rate: expected a sample rate in Hz"
  run 2 tts --voice
  err_has "--voice needs a value"
  run 2 stt
  err_has "no WAV file given"
  run 2 stt a.wav b.wav
  err_has "one WAV file expected"
  run 2 stt --fast=yes a.wav
  err_has "--fast takes no value"
  run 2 llm "one" "two"
  err_has "one prompt expected, got 2"
  run 2 llm --timeout 0 hi
  err_has "--timeout: expected seconds"
  run 2 llm --config '{"model": ' hi
  err_has "--config: the JSON is not valid JSON"
  run 2 llm --config "$work/missing.json" hi
  err_has "--config: cannot read '$work/missing.json'"
  run 2 llm --tools "$flow" hi
  err_has "expected a JSON array of tools"
  for command in tts stt llm; do
    run 0 "$command" --help
    out_has "usage: parley $command"
    out_has "130  interrupted"
  done
  [ ! -e "$work/x.wav" ] || fail "a usage error created the output file"
}

case_unknown_provider() {
  run 3 tts --provider nope hi -o "$work/x.wav"
  err_has 'no TTS provider named "nope" (known: '
  err_has "espeak"
  [ ! -e "$work/x.wav" ] || fail "an unknown provider created the output file"
  # The WAV is read first: an unreadable one is an I/O error, so give a real one.
  "$parley" tts "yes" -o "$work/yes.wav" >/dev/null 2>&1 || fail "espeak could not speak"
  run 3 stt --provider nope "$work/yes.wav"
  err_has 'no STT provider named "nope" (known: '
  err_has "pocketsphinx"
  run 3 llm --provider nope hi
  err_has 'no LLM provider named "nope" (known: '
  err_has "scripted"
}

case_bad_config() {
  run 3 tts --config '{"bogus": 1}' hi -o "$work/x.wav"
  err_has '$.bogus: unknown key'
  run 3 tts --model m1 hi -o "$work/x.wav"   # espeak has no model
  err_has '$.model: unknown key'
  run 3 llm hi                               # scripted needs a flow
  err_has '$.flow: missing'
  run 3 llm --flow "$work/none.json" hi
  err_has "$work/none.json"
  [ ! -e "$work/x.wav" ] || fail "a rejected config created the output file"
}

case_file_errors() {
  run 4 stt "$work/missing.wav"
  err_has "cannot open '$work/missing.wav'"
  printf 'not a wav file at all' >"$work/junk.wav"
  run 4 stt "$work/junk.wav"
  err_has "not a RIFF file"
  run 4 tts hi -o "$work/no/such/dir/x.wav"
  err_has "cannot create"
}

case_tts_espeak() {
  run 0 tts "Hello there. Your appointment is on Tuesday at ten." -o "$work/hello.wav"
  out_has "$work/hello.wav: duration="
  out_has "rate=16000"
  out_has "provider=espeak"
  grep -Eq 'ttfa=[0-9.]+ms total=[0-9.]+ms rtf=[0-9.]+ peak=-?[0-9.]+dBFS' "$work/out" || fail "summary line"
  [ "$(head -c 4 "$work/hello.wav")" = "RIFF" ] || fail "no RIFF header"
  [ "$(dd if="$work/hello.wav" bs=1 skip=8 count=4 2>/dev/null)" = "WAVE" ] || fail "not WAVE"
  [ "$(wav_field "$work/hello.wav" 22 2)" = 1 ] || fail "not mono"
  [ "$(wav_field "$work/hello.wav" 24 4)" = 16000 ] || fail "not 16 kHz"
  [ "$(wav_field "$work/hello.wav" 34 2)" = 16 ] || fail "not 16-bit"
  local bytes
  bytes=$(wav_field "$work/hello.wav" 40 4)
  [ "$bytes" -gt 32000 ] || fail "only $bytes bytes of audio for two sentences"
  [ $((bytes + 44)) -eq "$(stat -c %s "$work/hello.wav")" ] || fail "data size does not match the file"
  [ "$(wav_peak "$work/hello.wav")" -gt 3000 ] || fail "the audio is silent"

  # --rate: espeak is asked for 8 kHz (its sample_rate key).
  run 0 tts --rate 8000 "Hello there." -o "$work/hello8.wav"
  out_has "rate=8000"
  [ "$(wav_field "$work/hello8.wav" 24 4)" = 8000 ] || fail "not 8 kHz"
  [ "$(wav_peak "$work/hello8.wav")" -gt 3000 ] || fail "the 8 kHz audio is silent"

  # The text from stdin.
  echo "Good morning." | "$parley" tts - -o "$work/stdin.wav" >"$work/out" 2>"$work/err" || fail "tts from stdin"
  [ "$(wav_peak "$work/stdin.wav")" -gt 3000 ] || fail "the stdin audio is silent"
}

case_stt_round_trip() {
  local phrase="i would like to book an appointment"
  run 0 tts "$phrase" -o "$work/book.wav"
  run 0 stt --fast --grammar "$grammar" "$work/book.wav"
  out_is "$phrase"
  err_has "pocketsphinx: audio="
  err_has "finals=1"
  err_has "partial: "

  # In real time, from a 24 kHz file (resampled to the decoder's 16 kHz on the way in).
  run 0 tts --rate 24000 "tuesday at ten a m" -o "$work/tuesday.wav"
  run 0 stt --grammar "$grammar" "$work/tuesday.wav"
  out_is "tuesday at ten a m"

  # Keyword spotting.
  run 0 tts "please get me an operator" -o "$work/operator.wav"
  run 0 stt --fast --keywords "operator, cancel my order /1e-30/" "$work/operator.wav"
  out_is "operator"
}

case_llm_scripted() {
  run 0 llm --flow "$flow"
  out_is "Thanks for calling Parley Dental. How can I help?"
  err_has "scripted: finish_reason=stop ttft="
  grep -Eq 'ttft=[0-9.]+ms total=[0-9.]+ms prompt_tokens=[0-9]+ completion_tokens=[1-9][0-9]*' "$work/err" ||
    fail "stats line"

  run 0 llm --flow "$flow" --config '{"tokens_per_second": 0}' "i would like to book an appointment"
  out_is "Sure, I can help with that. What day would you like to come in?"

  # A conversation that ends in a tool call: the call is a JSON line after the text.
  cat >"$work/conversation.json" <<'EOF'
[{"role": "user", "content": "i would like to book an appointment"},
 {"role": "assistant", "content": "Sure. What day would you like to come in?"},
 {"role": "user", "content": "tuesday"},
 {"role": "user", "content": "ten a m"},
 {"role": "user", "content": "my name is john smith"}]
EOF
  run 0 llm --flow "$flow" --config '{"tokens_per_second": 0}' --messages "$work/conversation.json" "yes"
  out_has "Great, booking that now."
  out_has '{"tool_call":{"id":'
  out_has '"name":"book_appointment","arguments":"{\"day\":\"Tuesday\",\"name\":\"John Smith\",\"time\":\"10:00 AM\"}"}}'
  err_has "finish_reason=tool_calls"
}

case_llm_openai_fake() {
  start_fake openai --api-key sk-cli-test-key --reply "Hello from the fake, how can I help?"
  local base=http://127.0.0.1:$fake_port/v1
  OPENAI_API_KEY=sk-cli-test-key run 0 llm --provider openai --base-url "$base" --system "Be brief." "hi there"
  out_is "Hello from the fake, how can I help?"
  err_has "openai: finish_reason=stop ttft="
  grep -Eq 'prompt_tokens=[0-9]+ completion_tokens=[1-9]' "$work/err" || fail "no usage"

  # The key from the variable --api-key-env names.
  CLI_TEST_KEY=sk-cli-test-key OPENAI_API_KEY= run 0 llm --provider openai --api-key-env CLI_TEST_KEY \
    --base-url "$base" --model gpt-cli "hi"
  out_is "Hello from the fake, how can I help?"

  # A refused key: the provider's error, its kind, a non-zero exit, and no key anywhere.
  OPENAI_API_KEY=sk-wrong-secret-4242 run 1 llm --provider openai --base-url "$base" "hi"
  err_has "parley llm: openai failed: auth: "
  err_has "(HTTP 401)"
  if grep -q "sk-wrong-secret-4242" "$work/out" "$work/err"; then fail "the API key was printed"; fi

  # TTS through the same fake: 24 kHz, resampled to 16 kHz on request.
  OPENAI_API_KEY=sk-cli-test-key run 0 tts --provider openai --base-url "$base" --rate 16000 "Hello." -o "$work/o.wav"
  out_has "rate=16000"
  [ "$(wav_field "$work/o.wav" 24 4)" = 16000 ] || fail "not resampled to 16 kHz"
  [ "$(wav_peak "$work/o.wav")" -gt 3000 ] || fail "the openai audio is silent"
  OPENAI_API_KEY=sk-wrong-secret-4242 run 1 tts --provider openai --base-url "$base" "Hello." -o "$work/bad.wav"
  err_has "openai failed: auth: "
  [ ! -e "$work/bad.wav" ] || fail "a failed synthesis left an empty file"
}

case_stt_deepgram_fake() {
  # A cloud stream over a WebSocket: interim results live, the final at finalize().
  "$parley" tts "Book an appointment." -o "$work/book.wav" >/dev/null 2>&1 || fail "espeak could not speak"
  start_fake deepgram --api-key dg-cli-test-key --transcript "book an appointment" --transcript "tuesday"
  local base=http://127.0.0.1:$fake_port
  DEEPGRAM_API_KEY=dg-cli-test-key run 0 stt --provider deepgram --base-url "$base" --fast "$work/book.wav"
  out_is "book an appointment"
  err_has "partial: book"
  err_has "deepgram: audio="
  DEEPGRAM_API_KEY=dg-cli-test-key run 0 stt --provider deepgram --base-url "$base" "$work/book.wav"
  out_is "tuesday"
  DEEPGRAM_API_KEY=dg-wrong-secret-77 run 1 stt --provider deepgram --base-url "$base" "$work/book.wav"
  err_has "parley stt: deepgram failed: auth: "
  if grep -q "dg-wrong-secret-77" "$work/out" "$work/err"; then fail "the API key was printed"; fi
}

case_interrupt() {
  # A slow reply, interrupted once it has started: cancelled, exit 130, no stats line.
  "$parley" llm --flow "$flow" --config '{"tokens_per_second": 4}' >"$work/out" 2>"$work/err" &
  local pid=$! status=0
  for _ in $(seq 100); do
    grep -q "Thanks" "$work/out" 2>/dev/null && break
    sleep 0.05
  done
  grep -q "Thanks" "$work/out" || fail "the reply did not start"
  kill -INT "$pid"
  wait "$pid" || status=$?
  [ "$status" -eq 130 ] || fail "exit $status after SIGINT, expected 130"
  err_has "parley llm: interrupted"
  if grep -q "How can I help" "$work/out"; then fail "the reply went on after SIGINT"; fi
  if grep -q "finish_reason" "$work/err"; then fail "a cancelled reply printed stats"; fi

  # --timeout cancels the same way, with its own exit code.
  run 5 llm --flow "$flow" --config '{"tokens_per_second": 2}' --timeout 0.3
  err_has "no complete reply within the --timeout"
}

"case_$case_name"
echo "ok: $case_name"
