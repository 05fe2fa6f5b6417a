package parley_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	parley "github.com/parley-voice/parley/bindings/go"
)

// orderFlow is the scripted LLM's flow for the agent test: it greets, and whatever the
// caller says it answers "Let me check.", calls the host tool lookup_order({"id":"42"}) and,
// once the host has answered, says "Your order {tool_result.status}." in the same turn.
// (The greeting itself cannot go on after a tool call: a flow's start state has only its
// entry, and the request carrying the tool result gets what the turn had left to say.)
const orderFlow = `{"version":1,"start":"s","states":{` +
	`"s":{"entry":"How can I help?","intents":[{"name":"order","slots":{"question":"text"},` +
	`"reply":"Let me check.","tool_call":{"name":"lookup_order","arguments":{"id":"42"}},"next":"done"}]},` +
	`"done":{"end":true,"entry":"Your order {tool_result.status}."}}}`

// agentHostConfig is a host session running the agent: pocketsphinx held to one sentence
// (so the caller's words are heard the same on every machine), the scripted flow above, espeak.
func agentHostConfig(t *testing.T) string {
	t.Helper()
	config := map[string]any{
		"behaviour":   "agent",
		"sample_rate": 16000,
		"agent": map[string]any{
			"stt": map[string]any{"provider": "pocketsphinx",
				"jsgf": "#JSGF V1.0; grammar order; public <order> = where is my order;"},
			"llm": map[string]any{"provider": "scripted", "flow_json": orderFlow,
				"first_token_delay_ms": 10, "tokens_per_second": 0},
			"tts":            map[string]any{"provider": "espeak"},
			"greet_from_llm": true,
			"tools":          []any{map[string]any{"name": "lookup_order", "timeout_ms": 5000}},
		},
	}
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// callerSpeech has the engine say text (espeak, another voice than the agent's) on a plain
// host session and returns the audio it delivered: what the test's caller will say.
func callerSpeech(ctx context.Context, t *testing.T, rt *parley.Runtime, events <-chan parley.Event, text string) []int16 {
	t.Helper()
	speaker, err := rt.CreateHostSession(`{"behaviour": "host", "sample_rate": 16000, "output_rate": 16000}`)
	if err != nil {
		t.Fatal(err)
	}
	defer speaker.Close()
	if _, err := speaker.Speak(text, `{"tts": {"provider": "espeak", "voice": "en-us+f3"}}`); err != nil {
		t.Fatal(err)
	}
	var speech []int16
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("no speech from the speaker session (%d samples so far)", len(speech))
		case ev := <-events:
			if ev.SessionID != speaker.ID() {
				continue
			}
			switch ev.Type {
			case parley.EventAudio:
				if ev.SampleRate != 16000 {
					t.Fatalf("speaker audio at %d Hz", ev.SampleRate)
				}
				speech = append(speech, ev.Audio...)
			case parley.EventAudioMark: // everything spoken was delivered before its mark
				if len(speech) < 16000/2 {
					t.Fatalf("only %d samples of speech", len(speech))
				}
				return speech
			case parley.EventSessionError:
				t.Fatalf("speaker: %s", ev.Payload)
			}
		}
	}
}

// An agent host session driven from Go: the host plays the caller (pushes its speech in
// real time, confirms every audio mark) and implements the tool the model calls.
func TestAgentHostSession(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	events := rt.Events()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	speech := callerSpeech(ctx, t, rt, events, "where is my order")

	s, err := rt.CreateHostSession(agentHostConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var (
		greeted, saying bool
		toolCalls       int
		agentLines      []string
		final           *parley.Turn
	)
	silence := make([]int16, 320)
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for final == nil {
		select {
		case <-ctx.Done():
			t.Fatalf("no turn with the tool's answer (greeted %v, tool calls %d, agent lines %q)", greeted, toolCalls, agentLines)
		case <-ticker.C:
			// The caller: silence, then (once the greeting is over) the question, then silence.
			frame := silence
			if saying && len(speech) > 0 {
				n := 320
				if len(speech) < n {
					n = len(speech)
				}
				frame = append(speech[:n:n], silence[n:]...)
				speech = speech[n:]
			}
			if err := s.PushAudio(frame, 16000); err != nil {
				t.Fatal(err)
			}
		case ev := <-events:
			if ev.SessionID != s.ID() {
				continue
			}
			switch ev.Type {
			case parley.EventAudioMark:
				// The host's far end has "played" the audio before the mark (agent audio
				// events are paced in real time): the agent's turn ends only once it has.
				var m parley.Mark
				if err := ev.Decode(&m); err != nil {
					t.Fatal(err)
				}
				if err := s.PushMarkPlayed(m.Name); err != nil {
					t.Fatal(err)
				}
			case parley.EventToolCall:
				toolCalls++
				var call parley.ToolCall
				if err := ev.Decode(&call); err != nil {
					t.Fatal(err)
				}
				var args map[string]any
				if err := json.Unmarshal(call.Arguments, &args); err != nil {
					t.Fatalf("arguments %s: %v", call.Arguments, err)
				}
				if call.Name != "lookup_order" || call.ID == "" || len(args) != 1 || args["id"] != "42" {
					t.Fatalf("tool call %s", ev.Payload)
				}
				parleyError(t, s.ToolResult(call.ID, `{"status": shipped}`), parley.StatusFormat, "not valid JSON")
				if err := s.ToolResult(call.ID, `{"status":"shipped"}`); err != nil {
					t.Fatal(err)
				}
			case parley.EventTranscript:
				var line parley.Transcript
				if err := ev.Decode(&line); err != nil {
					t.Fatal(err)
				}
				if line.Role == "agent" {
					agentLines = append(agentLines, line.Text)
				}
			case parley.EventTurn:
				var turn parley.Turn
				if err := ev.Decode(&turn); err != nil {
					t.Fatal(err)
				}
				if !greeted {
					greeted = true
					if turn.Turn != 0 || turn.AgentText != "How can I help?" || len(turn.ToolCalls) != 0 {
						t.Fatalf("greeting turn %s", ev.Payload)
					}
					saying = true
					continue
				}
				if !strings.Contains(turn.AgentText, "shipped") {
					t.Fatalf("turn without the tool's answer: %s", ev.Payload)
				}
				final = &turn
			case parley.EventSessionError, parley.EventSessionStopped:
				t.Fatalf("%v: %s", ev.Type, ev.Payload)
			}
		}
	}
	if toolCalls != 1 {
		t.Errorf("%d tool calls, want 1", toolCalls)
	}
	if final.UserText != "where is my order" || final.Interrupted {
		t.Errorf("turn %+v", *final)
	}
	if len(final.ToolCalls) != 1 || final.ToolCalls[0].Name != "lookup_order" {
		t.Errorf("turn's tool calls %+v, want lookup_order", final.ToolCalls)
	}
	joined := strings.Join(agentLines, " | ")
	if !strings.Contains(joined, "How can I help?") || !strings.Contains(joined, "Let me check.") ||
		!strings.Contains(joined, "Your order shipped.") {
		t.Errorf("agent transcript lines %q", agentLines)
	}

	// The runtime's counters saw the call end, both turns, the tool call and the answer's
	// voice-to-voice latency (the greeting has no speech end, so it records none).
	id := s.ID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for stopped := false; !stopped; {
		select {
		case <-ctx.Done():
			t.Fatal("no session_stopped after Close")
		case ev := <-events:
			stopped = ev.Type == parley.EventSessionStopped && ev.SessionID == id
		}
	}
	stats, err := rt.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("runtime stats: %s", stats.JSON)
	if stats.Calls.Started < 1 || stats.Calls.Ended < 1 || stats.Frames.Caller == 0 || stats.Frames.Agent == 0 {
		t.Errorf("stats: calls %+v, frames %+v", stats.Calls, stats.Frames)
	}
	if stats.Agent.Turns < 2 || stats.Agent.ToolCalls < 1 || stats.Agent.ToolTimeouts != 0 {
		t.Errorf("stats: agent %+v", stats.Agent)
	}
	v2v := stats.LatencyMS.VoiceToVoice
	if v2v.Count < 1 || v2v.Max <= 0 || v2v.P50 > v2v.Max || stats.LatencyMS.Endpointing.Count < 1 {
		t.Errorf("stats: latency %+v", stats.LatencyMS)
	}

	// A session that runs no agent has no tools to answer; nor has a closed handle.
	plain, err := rt.CreateHostSession(`{"behaviour": "host"}`)
	if err != nil {
		t.Fatal(err)
	}
	parleyError(t, plain.ToolResult("call_0_0", `{}`), parley.StatusState, "")
	plain.Close()
	if err := plain.ToolResult("call_0_0", `{}`); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("ToolResult on a closed handle: %v", err)
	}
	var none *parley.Session
	if err := none.ToolResult("x", "{}"); !errors.Is(err, parley.StatusInvalid) {
		t.Errorf("ToolResult on a nil session: %v", err)
	}
}

// transferFlow greets with the built-in transfer tool: the agent says its line, and once the
// host has played it the call moves to the target (docs/agent.md, "Tools").
const transferFlow = `{"version":1,"start":"s","states":{"s":{"entry":"Putting you through.",` +
	`"tool_call":{"name":"transfer","arguments":{"target":"sip:desk@example.com"}},"end":true}}}`

// A host-transport agent's transfer reaches Go as EventTransfer, after the turn whose words
// the host confirmed it had played.
func TestAgentHostTransfer(t *testing.T) {
	if parley.EventSendDTMF != 26 || parley.EventSendDTMF.String() != "send_dtmf" ||
		parley.EventTransfer != 27 || parley.EventTransfer.String() != "transfer" {
		t.Fatalf("EventSendDTMF %d %q, EventTransfer %d %q", int(parley.EventSendDTMF), parley.EventSendDTMF,
			int(parley.EventTransfer), parley.EventTransfer)
	}
	var tones parley.SendDTMF
	if err := json.Unmarshal([]byte(`{"digits":"12#"}`), &tones); err != nil || tones.Digits != "12#" {
		t.Fatalf("SendDTMF %+v, %v", tones, err)
	}

	rt := newRuntime(t, quietRuntime)
	events := rt.Events()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	config, err := json.Marshal(map[string]any{
		"behaviour":   "agent",
		"sample_rate": 16000,
		"agent": map[string]any{
			"stt":            map[string]any{"provider": "pocketsphinx", "jsgf": "#JSGF V1.0; grammar g; public <g> = yes | no;"},
			"llm":            map[string]any{"provider": "scripted", "flow_json": transferFlow, "first_token_delay_ms": 10},
			"tts":            map[string]any{"provider": "espeak"},
			"greet_from_llm": true,
			"builtin_tools":  []string{"hang_up", "send_dtmf", "transfer"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.CreateHostSession(string(config))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var (
		transfer *parley.Transfer
		turn     *parley.Turn
		played   int // audio marks the host confirmed
		heard    int // agent samples delivered
	)
	silence := make([]int16, 320)
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for transfer == nil {
		select {
		case <-ctx.Done():
			t.Fatalf("no transfer event (turn %+v, %d marks played, %d samples heard)", turn, played, heard)
		case <-ticker.C: // the caller says nothing
			if err := s.PushAudio(silence, 16000); err != nil {
				t.Fatal(err)
			}
		case ev := <-events:
			if ev.SessionID != s.ID() {
				continue
			}
			switch ev.Type {
			case parley.EventAudio:
				heard += len(ev.Audio)
			case parley.EventAudioMark:
				// The far end "played" the audio before the mark: the transfer waits for it.
				var m parley.Mark
				if err := ev.Decode(&m); err != nil {
					t.Fatal(err)
				}
				if err := s.PushMarkPlayed(m.Name); err != nil {
					t.Fatal(err)
				}
				played++
			case parley.EventTurn:
				turn = new(parley.Turn)
				if err := ev.Decode(turn); err != nil {
					t.Fatal(err)
				}
			case parley.EventTransfer:
				transfer = new(parley.Transfer)
				if err := ev.Decode(transfer); err != nil {
					t.Fatal(err)
				}
			case parley.EventSendDTMF, parley.EventToolCall, parley.EventSessionError, parley.EventSessionStopped:
				t.Fatalf("%v: %s", ev.Type, ev.Payload)
			}
		}
	}
	if transfer.Target != "sip:desk@example.com" {
		t.Errorf("transfer target %q", transfer.Target)
	}
	// The turn ended (all its audio heard) before the transfer was asked for.
	if turn == nil {
		t.Fatal("the transfer came before the greeting's turn ended")
	}
	if turn.AgentText != "Putting you through." || len(turn.ToolCalls) != 1 || turn.ToolCalls[0].Name != "transfer" {
		t.Errorf("turn %+v", *turn)
	}
	if played < 1 || heard < 16000/2 {
		t.Errorf("%d marks played, %d samples heard before the transfer", played, heard)
	}
}
