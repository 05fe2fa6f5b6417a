package parley_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	parley "github.com/parley-voice/parley/bindings/go"
)

func tone(hz float64, rate int, seconds float64) []int16 {
	s := make([]int16, int(float64(rate)*seconds))
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

// A voice implemented in Go, used by a host session through Session.Speak: the tone it
// pushes reaches the host transport as agent audio, followed by the speak mark.
func TestGoTTSSpeaksOnAHostSession(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	var gotText, gotSession atomic.Value
	var calls atomic.Int32
	err := rt.RegisterTTS("go-tone", 16000, parley.TTSFunc(func(ctx context.Context, req *parley.TTSRequest) error {
		calls.Add(1)
		gotText.Store(req.Text)
		gotSession.Store(req.SessionID)
		if req.Kind != parley.ProviderTTS || req.Provider != "go-tone" || req.ID == 0 || req.SampleRate != 16000 {
			return errors.New("unexpected request fields")
		}
		samples := tone(440, req.SampleRate, 0.3)
		for i := 0; i < len(samples); i += 1600 { // 100 ms pieces
			end := i + 1600
			if end > len(samples) {
				end = len(samples)
			}
			if err := req.PushAudio(samples[i:end]); err != nil {
				return err
			}
		}
		return nil // completes the request
	}))
	if err != nil {
		t.Fatal(err)
	}
	events := rt.Events()
	s, err := rt.CreateHostSession(`{"behaviour": "host", "output_rate": 16000}`)
	if err != nil {
		t.Fatal(err)
	}
	mark, err := s.Speak("Your appointment is booked.", `{"tts": {"provider": "go-tone"}, "mark": "booked"}`)
	if err != nil || mark != "booked" {
		t.Fatalf("Speak: %q, %v", mark, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Waiting right away works although the engine queues the mark only after synthesis.
	type waited struct {
		outcome parley.MarkOutcome
		err     error
	}
	early := make(chan waited, 1)
	go func() {
		o, err := s.WaitMark(ctx, mark)
		early <- waited{o, err}
	}()

	var heard int
	var energy int64
	for marked := false; !marked; {
		select {
		case ev := <-events:
			switch ev.Type {
			case parley.EventAudio:
				if ev.SampleRate != 16000 {
					t.Fatalf("agent audio at %d Hz", ev.SampleRate)
				}
				heard += len(ev.Audio)
				for _, v := range ev.Audio {
					if v < 0 {
						energy -= int64(v)
					} else {
						energy += int64(v)
					}
				}
			case parley.EventAudioMark:
				var m parley.Mark
				if err := ev.Decode(&m); err != nil {
					t.Fatal(err)
				}
				if m.Name == "booked" {
					marked = true
				}
				if err := s.PushMarkPlayed(m.Name); err != nil {
					t.Fatal(err)
				}
			case parley.EventSessionError, parley.EventProviderRequest:
				t.Fatalf("%v: %s", ev.Type, ev.Payload)
			}
		case <-ctx.Done():
			t.Fatalf("no audio mark: heard %d samples", heard)
		}
	}
	if heard < 4800 {
		t.Fatalf("heard %d samples, want the 4800 pushed", heard)
	}
	if mean := energy / int64(heard); mean < 1000 {
		t.Fatalf("mean |sample| %d: silence, not the tone", mean)
	}
	if w := <-early; w.err != nil || w.outcome != parley.MarkPlayed {
		t.Fatalf("WaitMark(%q) right after Speak: %v, %v", mark, w.outcome, w.err)
	}
	if outcome, err := s.WaitMark(ctx, mark); err != nil || outcome != parley.MarkPlayed {
		t.Fatalf("WaitMark(%q): %v, %v", mark, outcome, err)
	}
	if outcome, err := s.WaitMark(ctx, "never-spoken"); err != nil || outcome != parley.MarkUnknown {
		t.Fatalf("WaitMark of a mark never spoken: %v, %v", outcome, err)
	}
	if gotText.Load() != "Your appointment is booked." || gotSession.Load() != s.ID() || calls.Load() != 1 {
		t.Fatalf("the TTS saw %q for session %q in %d calls", gotText.Load(), gotSession.Load(), calls.Load())
	}

	// Without a mark name the engine makes one up.
	mark2, err := s.Speak("Again.", `{"tts": {"provider": "go-tone"}}`)
	if err != nil || !strings.HasPrefix(mark2, "speak-") {
		t.Fatalf("Speak without a mark: %q, %v", mark2, err)
	}
}

// A Go voice that fails: its message reaches the session as an error event.
func TestGoTTSFailureIsASessionError(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	err := rt.RegisterTTS("go-broken", 0, parley.TTSFunc(func(ctx context.Context, req *parley.TTSRequest) error {
		return errors.New("voice server is down")
	}))
	if err != nil {
		t.Fatal(err)
	}
	events := rt.Events()
	s, err := rt.CreateHostSession(`{"behaviour": "host"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Speak("hi", `{"tts": {"provider": "go-broken"}, "mark": "m1"}`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		outcome parley.MarkOutcome
		err     error
	}
	waited := make(chan result, 1)
	go func() {
		outcome, err := s.WaitMark(ctx, "m1")
		waited <- result{outcome, err}
	}()
	for {
		select {
		case ev := <-events:
			if ev.Type != parley.EventSessionError {
				continue
			}
			var se parley.SessionError
			if err := ev.Decode(&se); err != nil {
				t.Fatal(err)
			}
			if ev.SessionID != s.ID() || se.Provider == nil || se.Provider.Message != "voice server is down" ||
				se.Provider.Provider != "go-broken" || se.Mark != "m1" {
				t.Fatalf("session error %s", ev.Payload)
			}
			// WaitMark of the failed speak() ends with the provider's error.
			w := <-waited
			parleyError(t, w.err, parley.StatusProvider, "voice server is down")
			if w.outcome != parley.MarkCleared {
				t.Fatalf("WaitMark of a failed speak(): %v", w.outcome)
			}
			return
		case <-ctx.Done():
			t.Fatal("no session error event")
		}
	}
}

// Closing the runtime cancels the context of a Go provider's request in flight.
func TestGoTTSSeesCancellationOnClose(t *testing.T) {
	rt, err := parley.New(quietRuntime)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	done := make(chan error, 1)
	err = rt.RegisterTTS("go-slow", 0, parley.TTSFunc(func(ctx context.Context, req *parley.TTSRequest) error {
		close(started)
		<-ctx.Done()
		// An answer after the cancellation is a no-op, not an error.
		done <- req.PushAudio(make([]int16, 160))
		return ctx.Err()
	}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range rt.Events() {
		}
	}()
	s, err := rt.CreateHostSession(`{"behaviour": "host"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Speak("Take your time.", `{"tts": {"provider": "go-slow"}}`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the TTS was not called")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("PushAudio after cancellation: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request's context was not cancelled by Close")
	}
}

// A provider registered without an implementation: its requests are events, answered by id.
func TestProviderRequestsAsEvents(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	if err := rt.RegisterProvider(parley.ProviderTTS, "raw-voice", `{"sample_rate": 8000}`, nil); err != nil {
		t.Fatal(err)
	}
	events := rt.Events()
	s, err := rt.CreateHostSession(`{"behaviour": "host", "output_rate": 8000}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Speak("Hello.", `{"tts": {"provider": "raw-voice"}}`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var payload parley.ProviderRequestPayload
	for payload.Request == 0 {
		select {
		case ev := <-events:
			if ev.Type == parley.EventProviderRequest {
				if err := ev.Decode(&payload); err != nil {
					t.Fatal(err)
				}
				if ev.SessionID != s.ID() {
					t.Fatalf("request for session %q", ev.SessionID)
				}
			}
		case <-ctx.Done():
			t.Fatal("no provider request event")
		}
	}
	if payload.Op != "synthesize" || payload.Kind != parley.ProviderTTS || payload.Provider != "raw-voice" || payload.Text != "Hello." {
		t.Fatalf("payload %+v", payload)
	}
	req := rt.ProviderRequest(payload.Request)
	parleyError(t, req.PushText("words"), parley.StatusInvalid, "is a tts request, not llm")
	if err := req.PushAudio(tone(300, 8000, 0.1)); err != nil {
		t.Fatal(err)
	}
	if err := req.Complete(""); err != nil {
		t.Fatal(err)
	}
	// Not dispatched by the binding: the engine's not-found is the caller's to see.
	parleyError(t, req.PushAudio(tone(300, 8000, 0.1)), parley.StatusNotFound, "unknown, finished or cancelled")
}

func TestProviderRegistrationErrors(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	noop := parley.TTSFunc(func(context.Context, *parley.TTSRequest) error { return nil })
	parleyError(t, rt.RegisterProvider("vision", "x", "", nil), parley.StatusInvalid, `"llm", "tts" or "stt"`)
	parleyError(t, rt.RegisterTTS("", 0, noop), parley.StatusInvalid, "name")
	parleyError(t, rt.RegisterTTS("x", 3, noop), parley.StatusConfig, "$.sample_rate")
	parleyError(t, rt.RegisterProvider(parley.ProviderTTS, "x", `{"voice": 1}`, nil), parley.StatusConfig, "voice")
	parleyError(t, rt.RegisterTTS("x", 0, nil), parley.StatusInvalid, "nil TTS")
	parleyError(t, rt.RegisterProvider(parley.ProviderLLM, "x", "", noop), parley.StatusInvalid, "does not implement")

	// An LLM and an STT implemented in Go register (no C ABI call makes the engine use them
	// yet; the dispatcher's unit tests drive them with synthetic requests).
	llm := parley.LLMFunc(func(ctx context.Context, req *parley.LLMRequest) error { return req.PushText("ok") })
	if err := rt.RegisterLLM("go-llm", llm); err != nil {
		t.Fatal(err)
	}
	stt := parley.STTFunc(func(ctx context.Context, req *parley.STTRequest) error { return nil })
	if err := rt.RegisterSTT("go-stt", 8000, stt); err != nil {
		t.Fatal(err)
	}
	if err := rt.RegisterLLM("go-llm", llm); err != nil {
		t.Fatalf("registering again replaces: %v", err)
	}

	// Answers to a request the engine does not know.
	unknown := rt.ProviderRequest(12345)
	parleyError(t, unknown.PushText("hi"), parley.StatusNotFound, "request 12345")
	parleyError(t, unknown.PushToolCall(0, "c1", "f", "{}"), parley.StatusNotFound, "12345")
	parleyError(t, unknown.PushTranscript("hi", true, true), parley.StatusNotFound, "12345")
	parleyError(t, unknown.Complete(""), parley.StatusNotFound, "12345")
	parleyError(t, unknown.Fail(parley.StatusProvider, "x"), parley.StatusNotFound, "12345")
	parleyError(t, unknown.PushToolCall(128, "", "", ""), parley.StatusInvalid, "0..127")

	// speak() errors.
	s, err := rt.CreateHostSession(`{"behaviour": "host"}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Speak("hi", `{"tts": {"provider": "nobody"}}`)
	parleyError(t, err, parley.StatusNotFound, `no TTS provider named "nobody"`)
	_, err = s.Speak("hi", `{"voice": "x"}`)
	parleyError(t, err, parley.StatusConfig, "voice")
	_, err = s.Speak("hi", `{not json`)
	if !errors.Is(err, parley.StatusConfig) && !errors.Is(err, parley.StatusFormat) {
		t.Fatalf("Speak with malformed options: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Speak("hi", ""); !errors.Is(err, parley.ErrClosed) {
		t.Fatalf("Speak on a closed session: %v", err)
	}
	var nilSession *parley.Session
	if _, err := nilSession.Speak("hi", ""); !errors.Is(err, parley.StatusInvalid) {
		t.Fatalf("Speak on a nil session: %v", err)
	}

	// Closed and nil runtimes.
	var nilRuntime *parley.Runtime
	if err := nilRuntime.RegisterTTS("x", 0, noop); !errors.Is(err, parley.StatusInvalid) {
		t.Fatalf("RegisterTTS on nil: %v", err)
	}
	if err := nilRuntime.ProviderRequest(1).PushText("x"); !errors.Is(err, parley.StatusInvalid) {
		t.Fatalf("ProviderRequest on nil: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rt.Close(ctx)
	if err := rt.RegisterTTS("late", 0, noop); !errors.Is(err, parley.ErrClosed) {
		t.Fatalf("RegisterTTS after Close: %v", err)
	}
	if err := rt.ProviderRequest(1).Complete(""); !errors.Is(err, parley.ErrClosed) {
		t.Fatalf("Complete after Close: %v", err)
	}
}

// The payload of a provider request decodes into ProviderRequestPayload, LLM fields included.
func TestProviderRequestPayloadShape(t *testing.T) {
	var p parley.ProviderRequestPayload
	raw := `{"op":"complete","request":8,"kind":"llm","provider":"m","messages":[{"role":"assistant","content":"",
		"tool_calls":[{"id":"c1","type":"function","function":{"name":"book","arguments":"{}"}}]},
		{"role":"tool","content":"done","tool_call_id":"c1"}],"tools":[{"type":"function","function":{"name":"book",
		"description":"Books","parameters":{"type":"object"}}}],"temperature":0.5,"max_tokens":64}`
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	if p.Request != 8 || len(p.Messages) != 2 || p.Messages[0].ToolCalls[0].Function.Name != "book" ||
		p.Messages[1].ToolCallID != "c1" || p.Tools[0].Function.Description != "Books" || *p.Temperature != 0.5 ||
		*p.MaxTokens != 64 {
		t.Fatalf("decoded %+v", p)
	}
}
