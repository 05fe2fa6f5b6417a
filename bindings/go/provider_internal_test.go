package parley

// Unit tests of the provider dispatcher with synthetic requests and a fake engine: the C
// ABI has no call yet that makes the engine send LLM or STT requests (the agent loop will),
// so these drive those code paths directly.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// fakeEngine records answers; requests it has "forgotten" (finished or cancelled) answer
// PARLEY_ENOTFOUND, as the engine does.
type fakeEngine struct {
	mu        sync.Mutex
	log       []string
	forgotten map[uint64]bool
	changed   chan struct{}
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{forgotten: map[uint64]bool{}, changed: make(chan struct{}, 1000)}
}

func (f *fakeEngine) record(id uint64, entry string) *capi.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.forgotten[id] {
		return &capi.Error{Code: int(StatusNotFound), Message: fmt.Sprintf("host provider request %d is unknown, finished or cancelled", id)}
	}
	f.log = append(f.log, fmt.Sprintf("%d %s", id, entry))
	f.changed <- struct{}{}
	return nil
}

func (f *fakeEngine) forget(id uint64) {
	f.mu.Lock()
	f.forgotten[id] = true
	f.mu.Unlock()
}

func (f *fakeEngine) entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// waitFor waits until an entry with the prefix is recorded.
func (f *fakeEngine) waitFor(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		for _, e := range f.entries() {
			if strings.HasPrefix(e, prefix) {
				return
			}
		}
		select {
		case <-f.changed:
		case <-deadline:
			t.Fatalf("no %q answer; got %q", prefix, f.entries())
		}
	}
}

func (f *fakeEngine) call(op string, fn func(answerer) *capi.Error) error { return wrapErr(op, fn(f)) }
func (f *fakeEngine) pushAudio(id uint64, samples []int16) *capi.Error {
	return f.record(id, fmt.Sprintf("audio %d", len(samples)))
}
func (f *fakeEngine) pushText(id uint64, text string) *capi.Error { return f.record(id, "text "+text) }
func (f *fakeEngine) pushToolCall(id uint64, index int, callID, name, arguments string) *capi.Error {
	return f.record(id, fmt.Sprintf("tool %d %s %s %s", index, callID, name, arguments))
}
func (f *fakeEngine) pushTranscript(id uint64, text string, isFinal, speechFinal bool) *capi.Error {
	return f.record(id, fmt.Sprintf("transcript %s %v %v", text, isFinal, speechFinal))
}
func (f *fakeEngine) complete(id uint64, status int, detail string) *capi.Error {
	err := f.record(id, fmt.Sprintf("complete %d %s", status, detail))
	if err == nil {
		f.forget(id)
	}
	return err
}

func request(op string, id uint64, kind, provider string, extra map[string]any) Event {
	body := map[string]any{"op": op, "request": id, "kind": kind, "provider": provider}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	return Event{Type: EventProviderRequest, SessionID: "s-1", Payload: b}
}

func TestDispatchLLM(t *testing.T) {
	fake := newFakeEngine()
	hub := newProviderHub(fake)
	defer hub.close()
	var seen *LLMRequest
	hub.set(ProviderLLM, "echo-model", LLMFunc(func(ctx context.Context, req *LLMRequest) error {
		seen = req
		said := req.Messages[len(req.Messages)-1].Content
		for _, piece := range []string{"You said: ", said} {
			if err := req.PushText(piece); err != nil {
				return err
			}
		}
		if err := req.PushToolCall(0, "call_1", "hang_up", `{"reason":`); err != nil {
			return err
		}
		if err := req.PushToolCall(0, "", "", `"done"}`); err != nil {
			return err
		}
		return req.Finish("", 5, 4)
	}), 0)
	if hub.dispatch(request("complete", 8, "llm", "other-model", nil)) {
		t.Fatal("a provider without a Go implementation was dispatched")
	}
	if hub.dispatch(Event{Type: EventUser, Payload: json.RawMessage(`{"op":"complete"}`)}) {
		t.Fatal("a user event was dispatched")
	}
	ev := request("complete", 8, "llm", "echo-model", map[string]any{
		"messages":    []map[string]string{{"role": "system", "content": "Be brief."}, {"role": "user", "content": "book me in"}},
		"tools":       []any{map[string]any{"type": "function", "function": map[string]any{"name": "hang_up", "parameters": map[string]any{}}}},
		"temperature": 0.2,
	})
	if !hub.dispatch(ev) {
		t.Fatal("not dispatched")
	}
	fake.waitFor(t, "8 complete")
	want := []string{
		"8 text You said: ", "8 text book me in", `8 tool 0 call_1 hang_up {"reason":`, `8 tool 0   "done"}`,
		`8 complete 0 {"usage":{"completion_tokens":4,"prompt_tokens":5}}`,
	}
	if got := fake.entries(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("answers\n%q\nwant\n%q", got, want)
	}
	if seen.SessionID != "s-1" || seen.Provider != "echo-model" || len(seen.Tools) != 1 || seen.Tools[0].Function.Name != "hang_up" ||
		seen.Temperature == nil || *seen.Temperature != 0.2 || seen.MaxTokens != nil {
		t.Fatalf("request %+v", seen)
	}
	// Returning after Finish does not complete twice.
	time.Sleep(20 * time.Millisecond)
	if n := len(fake.entries()); n != len(want) {
		t.Fatalf("%d answers after return", n)
	}
}

func TestDispatchLLMFailureAndAutoComplete(t *testing.T) {
	fake := newFakeEngine()
	hub := newProviderHub(fake)
	defer hub.close()
	hub.set(ProviderLLM, "m", LLMFunc(func(ctx context.Context, req *LLMRequest) error {
		switch req.Messages[0].Content {
		case "fail":
			return errors.New("model overloaded")
		case "parley":
			return &Error{Status: StatusUnsupported, Message: "no such model"}
		}
		return req.PushText("fine")
	}), 0)
	msg := func(content string) map[string]any {
		return map[string]any{"messages": []map[string]string{{"role": "user", "content": content}}}
	}
	hub.dispatch(request("complete", 1, "llm", "m", msg("fail")))
	hub.dispatch(request("complete", 2, "llm", "m", msg("parley")))
	hub.dispatch(request("complete", 3, "llm", "m", msg("ok")))
	fake.waitFor(t, "1 complete")
	fake.waitFor(t, "2 complete")
	fake.waitFor(t, "3 complete")
	got := strings.Join(fake.entries(), "|")
	for _, want := range []string{"1 complete -11 model overloaded", "2 complete -7 no such model", "3 text fine", "3 complete 0 "} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
}

// A cancel request cancels the context; answers after it are swallowed, nothing completes.
func TestDispatchCancel(t *testing.T) {
	fake := newFakeEngine()
	hub := newProviderHub(fake)
	defer hub.close()
	running := make(chan *LLMRequest, 2)
	results := make(chan error, 2)
	hub.set(ProviderLLM, "slow", LLMFunc(func(ctx context.Context, req *LLMRequest) error {
		running <- req
		<-ctx.Done()
		results <- req.PushText("too late")
		return ctx.Err()
	}), 0)

	// Cancelled by a cancel request (the engine forgot the request before sending it).
	hub.dispatch(request("complete", 5, "llm", "slow", nil))
	req := <-running
	fake.forget(5)
	hub.dispatch(request("cancel", 5, "llm", "slow", nil))
	if err := <-results; err != nil {
		t.Fatalf("answer after cancel: %v", err)
	}
	if !req.Cancelled() {
		t.Fatal("request not marked cancelled")
	}

	// Forgotten by the engine, cancel request not delivered yet: the first answer finds out.
	hub.set(ProviderLLM, "racy", LLMFunc(func(ctx context.Context, req *LLMRequest) error {
		fake.forget(req.ID)
		if err := req.PushText("hello"); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			results <- nil
		case <-time.After(5 * time.Second):
			results <- errors.New("context not cancelled by a not-found answer")
		}
		return nil
	}), 0)
	hub.dispatch(request("complete", 6, "llm", "racy", nil))
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if got := fake.entries(); len(got) != 0 {
		t.Fatalf("answers recorded for cancelled requests: %q", got)
	}
	// A late cancel for a finished request, audio for an unknown one: consumed, ignored.
	if !hub.dispatch(request("cancel", 6, "llm", "racy", nil)) || !hub.dispatch(request("audio", 99, "llm", "racy", nil)) {
		t.Fatal("a request of a Go provider was not consumed")
	}
	if !hub.dispatch(request("reticulate", 7, "llm", "racy", nil)) {
		t.Fatal("an unknown operation was not consumed")
	}
}

// An STT stream: start, audio and finalize in order on Input, transcripts back, cancel ends it.
func TestDispatchSTT(t *testing.T) {
	fake := newFakeEngine()
	hub := newProviderHub(fake)
	defer hub.close()
	done := make(chan error, 1)
	var rate int
	hub.set(ProviderSTT, "asr", STTFunc(func(ctx context.Context, req *STTRequest) error {
		rate = req.SampleRate
		heard := 0
		for in := range req.Input() {
			if in.Finalize {
				if err := req.PushTranscript(fmt.Sprintf("heard %d samples", heard), true, true); err != nil {
					return err
				}
				heard = 0
				continue
			}
			heard += len(in.Audio)
			if err := req.PushTranscript("...", false, false); err != nil {
				return err
			}
		}
		done <- ctx.Err()
		return nil
	}), 8000)
	audio := func(n int) Event {
		ev := request("audio", 9, "stt", "asr", nil)
		ev.Audio = make([]int16, n)
		return ev
	}
	hub.dispatch(request("start", 9, "stt", "asr", map[string]any{"sample_rate": 16000}))
	hub.dispatch(audio(320))
	hub.dispatch(audio(160))
	hub.dispatch(request("finalize", 9, "stt", "asr", nil))
	hub.dispatch(audio(320))
	hub.dispatch(request("finalize", 9, "stt", "asr", nil))
	fake.waitFor(t, "9 transcript heard 320")
	fake.forget(9)
	hub.dispatch(request("cancel", 9, "stt", "asr", nil))
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("context after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Input not closed by cancel")
	}
	want := []string{"9 transcript ... false false", "9 transcript ... false false", "9 transcript heard 480 samples true true",
		"9 transcript ... false false", "9 transcript heard 320 samples true true"}
	if got := fake.entries(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("answers\n%q\nwant\n%q", got, want)
	}
	if rate != 16000 {
		t.Fatalf("sample rate %d", rate)
	}
}

// A TTS through the dispatcher, and the runtime closing under a request in flight.
func TestDispatchTTSAndClose(t *testing.T) {
	fake := newFakeEngine()
	hub := newProviderHub(fake)
	started := make(chan struct{})
	finished := make(chan error, 1)
	hub.set(ProviderTTS, "v", TTSFunc(func(ctx context.Context, req *TTSRequest) error {
		if req.Text == "wait" {
			close(started)
			<-ctx.Done()
			finished <- ctx.Err()
			return ctx.Err()
		}
		return req.PushAudio(make([]int16, req.SampleRate/10))
	}), 24000)
	hub.dispatch(request("synthesize", 1, "tts", "v", map[string]any{"text": "Hi."}))
	fake.waitFor(t, "1 complete 0")
	if got := fake.entries(); got[0] != "1 audio 2400" {
		t.Fatalf("answers %q", got)
	}
	hub.dispatch(request("synthesize", 2, "tts", "v", map[string]any{"text": "wait"}))
	<-started
	hub.close()
	if err := <-finished; !errors.Is(err, context.Canceled) {
		t.Fatalf("context after close: %v", err)
	}
	// Unregistered: requests are events again.
	hub.set(ProviderTTS, "v", nil, 0)
	if hub.dispatch(request("synthesize", 3, "tts", "v", nil)) {
		t.Fatal("dispatched after unregistering")
	}
}
