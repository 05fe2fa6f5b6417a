package parley_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	parley "github.com/parley-voice/parley/bindings/go"
	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// quietRuntime is a runtime that logs nothing, so test output stays readable.
const quietRuntime = `{"log": {"sink": "none"}}`

func newRuntime(t testing.TB, config string) *parley.Runtime {
	t.Helper()
	rt, err := parley.New(config)
	if err != nil {
		t.Fatalf("New(%s): %v", config, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
	})
	return rt
}

// parleyError asserts err is a *parley.Error with the given status and a message that
// contains want.
func parleyError(t *testing.T, err error, status parley.Status, want string) *parley.Error {
	t.Helper()
	var perr *parley.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T) is not a *parley.Error", err, err)
	}
	if perr.Status != status || !errors.Is(err, status) {
		t.Fatalf("status %v, want %v (error %q)", perr.Status, status, err)
	}
	if perr.Message == "" || !strings.Contains(perr.Message, want) {
		t.Fatalf("message %q does not contain %q", perr.Message, want)
	}
	return perr
}

func TestVersion(t *testing.T) {
	if got := parley.Version(); got != parley.HeaderVersion {
		t.Fatalf("loaded library %q, header %q", got, parley.HeaderVersion)
	}
	major, minor, patch := parley.VersionNumbers()
	if got := fmt.Sprintf("%d.%d.%d", major, minor, patch); got != parley.Version() {
		t.Fatalf("VersionNumbers %s, Version %s", got, parley.Version())
	}
	if err := parley.CheckVersion(); err != nil {
		t.Fatal(err)
	}
}

// The generated binding must map every status to *Error and nothing else: a parameter or
// constant typed *Error means an `int` parley_go.i does not list as a value.
func TestGeneratedSignatures(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("internal", "capi", "parley.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^func [A-Z]\w*\(.*\barg\d+ \*Error\b.*$`),
		regexp.MustCompile(`(?m)^const \w+ \*Error\b.*$`),
		regexp.MustCompile(`(?m)^var \w+ \*Error = .*$`),
	} {
		if m := re.FindAllString(string(src), -1); len(m) > 0 {
			t.Errorf("an int parameter or constant came out as *Error; add it to PARLEY_GO_INT_VALUE in parley_go.i:\n%s",
				strings.Join(m, "\n"))
		}
	}
	// parley.i's parley_swig_* helpers return values with their status in a thread-local,
	// which a one-result Go wrapper cannot carry: parley_go.i ignores each and declares the
	// C function with out-parameters instead. A new helper must get the same treatment (an
	// int it returns would otherwise be read as a status).
	if m := regexp.MustCompile(`(?m)^func Parley_swig_\w+`).FindAllString(string(src), -1); len(m) > 0 {
		t.Errorf("parley.i helpers wrapped for Go; %%ignore them in parley_go.i and declare the C functions:\n%s",
			strings.Join(m, "\n"))
	}
	// Every wrapped function that returns a status returns *Error.
	if !regexp.MustCompile(`func Parley_runtime_post_event\(.*\) \(_swig_ret \*Error\)`).Match(src) {
		t.Error("Parley_runtime_post_event does not return *Error")
	}
}

func TestViewLayout(t *testing.T) {
	if c, g := capi.Parley_go_event_view_size(), int64(capi.SizeofEventView); c != g {
		t.Fatalf("parley_go_event_view is %d bytes in C, %d in Go", c, g)
	}
}

func TestStatusAndEventValues(t *testing.T) {
	statuses := map[parley.Status]capi.Enum_SS_parley_status{
		parley.StatusOK: capi.PARLEY_OK, parley.StatusInvalid: capi.PARLEY_EINVAL, parley.StatusConfig: capi.PARLEY_ECONFIG,
		parley.StatusNoMemory: capi.PARLEY_ENOMEM, parley.StatusState: capi.PARLEY_ESTATE,
		parley.StatusTimeout: capi.PARLEY_ETIMEOUT, parley.StatusNotFound: capi.PARLEY_ENOTFOUND,
		parley.StatusUnsupported: capi.PARLEY_EUNSUPPORTED, parley.StatusIO: capi.PARLEY_EIO,
		parley.StatusFormat: capi.PARLEY_EFORMAT, parley.StatusProtocol: capi.PARLEY_EPROTOCOL,
		parley.StatusProvider: capi.PARLEY_EPROVIDER, parley.StatusCancelled: capi.PARLEY_ECANCELLED,
		parley.StatusFull: capi.PARLEY_EFULL, parley.StatusInternal: capi.PARLEY_EINTERNAL,
	}
	for s, c := range statuses {
		if int(s) != int(c) {
			t.Errorf("%v = %d, C says %d", s, int(s), int(c))
		}
		if s.String() != capi.Parley_status_name(int(s)) {
			t.Errorf("%d: name %q, C says %q", int(s), s.String(), capi.Parley_status_name(int(s)))
		}
	}
	for ty := parley.EventType(0); ty < 30; ty++ {
		if name := capi.Parley_event_type_name(int(ty)); ty.String() != name {
			t.Errorf("event type %d: name %q, C says %q", int(ty), ty.String(), name)
		}
	}
	if int(parley.EventAudioClear) != int(capi.PARLEY_EVENT_AUDIO_CLEAR) || int(parley.EventDTMF) != int(capi.PARLEY_EVENT_DTMF) ||
		int(parley.EventAgentState) != int(capi.PARLEY_EVENT_AGENT_STATE) || int(parley.EventTranscript) != int(capi.PARLEY_EVENT_TRANSCRIPT) ||
		int(parley.EventTurn) != int(capi.PARLEY_EVENT_TURN) || int(parley.EventToolCall) != int(capi.PARLEY_EVENT_TOOL_CALL) ||
		int(parley.EventInterruption) != int(capi.PARLEY_EVENT_INTERRUPTION) ||
		int(parley.EventSendDTMF) != int(capi.PARLEY_EVENT_SEND_DTMF) || int(parley.EventTransfer) != int(capi.PARLEY_EVENT_TRANSFER) {
		t.Error("event type values differ from the C enum")
	}
	if int(parley.MarkUnknown) != int(capi.PARLEY_MARK_UNKNOWN) || int(parley.SessionClosed) != int(capi.PARLEY_SESSION_CLOSED) {
		t.Error("mark or session values differ from the C enums")
	}
}

func TestRuntimeLifecycle(t *testing.T) {
	rt, err := parley.New(quietRuntime)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Log(parley.LogInfo, "hello from Go"); err != nil {
		t.Fatal(err)
	}
	if err := rt.PostEvent(`{"n": 1}`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := rt.PollEvent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != parley.EventUser || ev.SessionID != "" {
		t.Fatalf("got %+v", ev)
	}
	var payload struct{ N int }
	if err := ev.Decode(&payload); err != nil || payload.N != 1 {
		t.Fatalf("payload %s: %v", ev.Payload, err)
	}

	// Nothing queued: PollEvent honours the context.
	short, cancelShort := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	if _, err := rt.PollEvent(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PollEvent with nothing queued: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("PollEvent returned after %v", d)
	}
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if _, err := rt.PollEvent(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("PollEvent with a cancelled context: %v", err)
	}

	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// A closed runtime answers with errors, never a crash.
	for name, err := range map[string]error{
		"PostEvent": rt.PostEvent(`{}`),
		"Log":       rt.Log(parley.LogInfo, "x"),
	} {
		if !errors.Is(err, parley.ErrClosed) || !errors.Is(err, parley.StatusState) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	if _, err := rt.PollEvent(ctx); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("PollEvent after Close: %v", err)
	}
	if _, err := rt.Listen(`{"transport": "twilio", "port": 0}`); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("Listen after Close: %v", err)
	}
	if _, err := rt.CreateHostSession(""); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("CreateHostSession after Close: %v", err)
	}
	if _, ok := <-rt.Events(); ok {
		t.Error("Events after Close is not a closed channel")
	}
}

func TestBadConfig(t *testing.T) {
	_, err := parley.New(`{"io_threads": "x"}`)
	perr := parleyError(t, err, parley.StatusConfig, "$.io_threads")
	if perr.Op != "New" || !strings.Contains(err.Error(), "$.io_threads") {
		t.Fatalf("error text %q", err)
	}
	_, err = parley.New(`{"log": {"level": "loud"}}`)
	parleyError(t, err, parley.StatusConfig, "$.log.level")
	_, err = parley.New(`{"no_such_key": 1}`)
	parleyError(t, err, parley.StatusConfig, "no_such_key")
	_, err = parley.New(`{not json`)
	var perr2 *parley.Error
	if !errors.As(err, &perr2) || perr2.Message == "" {
		t.Fatalf("malformed JSON: %v", err)
	}
}

// An error read in the wrapper belongs to its own call even when many goroutines fail at
// once on migrating threads.
func TestErrorsUnderConcurrency(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				key := fmt.Sprintf("key_%d_%d", g, i)
				_, err := parley.New(fmt.Sprintf(`{"%s": 1}`, key))
				var perr *parley.Error
				if !errors.As(err, &perr) || !strings.Contains(perr.Message, key) {
					errs <- fmt.Errorf("goroutine %d: %v does not name %s", g, err, key)
					return
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func loadgenPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PARLEY_CLI"); p != "" {
		return p
	}
	if prefix := os.Getenv("PARLEY_PREFIX"); prefix != "" {
		return filepath.Join(prefix, "bin", "parley")
	}
	p, err := exec.LookPath("parley")
	if err != nil {
		t.Fatal("set PARLEY_PREFIX (or PARLEY_CLI) so the test can run `parley loadgen`")
	}
	return p
}

func TestTwilioEchoCall(t *testing.T) {
	rt := newRuntime(t, `{"io_threads": 1, "log": {"sink": "none"}}`)
	events := rt.Events()
	l, err := rt.Listen(`{"transport": "twilio", "address": "127.0.0.1", "port": 0, "path": "/twilio",
		"behaviour": "echo", "max_calls": 10}`)
	if err != nil {
		t.Fatal(err)
	}
	if l.Port() <= 0 || l.ID() == "" {
		t.Fatalf("port %d, id %q", l.Port(), l.ID())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, loadgenPath(t), "loadgen",
		"--url", fmt.Sprintf("ws://127.0.0.1:%d/twilio", l.Port()),
		"--calls", "2", "--duration", "2", "--dtmf-every", "0.5", "--json")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	loadgenDone := make(chan error, 1)
	go func() { loadgenDone <- cmd.Wait() }()

	started := map[string]parley.SessionStarted{}
	stopped := map[string]parley.SessionStopped{}
	dtmf := map[string]int{}
	marks := map[string]int{}
	var opened bool
	for len(stopped) < 2 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("events channel closed")
			}
			switch ev.Type {
			case parley.EventSessionStarted:
				var p parley.SessionStarted
				if err := ev.Decode(&p); err != nil {
					t.Fatal(err)
				}
				if p.SessionID != ev.SessionID || p.Transport != "twilio" || p.Behaviour != "echo" {
					t.Fatalf("started: %s", ev.Payload)
				}
				started[ev.SessionID] = p
				if !opened {
					// A second handle to a live call: it reads the same state.
					s, err := rt.OpenSession(ev.SessionID)
					if err != nil {
						t.Fatal(err)
					}
					if s.ID() != ev.SessionID || s.State() == parley.SessionClosed {
						t.Fatalf("opened %q in state %v", s.ID(), s.State())
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					opened = true
				}
			case parley.EventDTMF:
				var p parley.DTMF
				if err := ev.Decode(&p); err != nil || p.Digit == "" {
					t.Fatalf("dtmf %s: %v", ev.Payload, err)
				}
				dtmf[ev.SessionID]++
			case parley.EventMark:
				var p parley.Mark
				if err := ev.Decode(&p); err != nil || p.Name == "" || p.Outcome == "" {
					t.Fatalf("mark %s: %v", ev.Payload, err)
				}
				marks[ev.SessionID]++
			case parley.EventSessionStopped:
				var p parley.SessionStopped
				if err := ev.Decode(&p); err != nil {
					t.Fatal(err)
				}
				if _, ok := started[ev.SessionID]; !ok {
					t.Fatalf("stopped before started: %s", ev.Payload)
				}
				stopped[ev.SessionID] = p
			case parley.EventSessionError, parley.EventSessionRejected, parley.EventOverflow:
				t.Fatalf("%v: %s", ev.Type, ev.Payload)
			}
		case err := <-loadgenDone:
			if err != nil {
				t.Fatalf("loadgen: %v\n%s", err, out.String())
			}
			loadgenDone = nil // keep reading events until both calls stopped
		case <-ctx.Done():
			t.Fatalf("timed out: started %d, stopped %d\nloadgen: %s", len(started), len(stopped), out.String())
		}
	}
	if loadgenDone != nil {
		if err := <-loadgenDone; err != nil {
			t.Fatalf("loadgen: %v\n%s", err, out.String())
		}
	}
	if len(started) != 2 {
		t.Fatalf("%d sessions started", len(started))
	}
	for id, p := range stopped {
		if p.CallerFrames == 0 || p.AgentFrames == 0 {
			t.Errorf("session %s: no audio both ways: %+v", id, p)
		}
		if dtmf[id] == 0 {
			t.Errorf("session %s: no DTMF event", id)
		}
		if marks[id] == 0 {
			t.Errorf("session %s: no mark event", id)
		}
	}
	var report map[string]any
	if err := json.Unmarshal([]byte(lastJSONObject(out.String())), &report); err != nil {
		t.Fatalf("loadgen output is not JSON: %v\n%s", err, out.String())
	}
	t.Logf("2 echo calls: DTMF events %v, mark events %v; stopped: %+v", dtmf, marks, stopped)

	// Both calls are counted (session_stopped is posted after the call is counted ended).
	stats, err := rt.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Calls.Started != 2 || stats.Calls.Ended != 2 || stats.Frames.Caller == 0 || stats.Frames.Agent == 0 ||
		stats.Agent.Turns != 0 || stats.LatencyMS.VoiceToVoice.Count != 0 {
		t.Errorf("stats after 2 echo calls: %s", stats.JSON)
	}

	stopCtx, stopCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer stopCancel()
	if n, err := l.Stop(stopCtx); err != nil || n != 0 {
		t.Fatalf("Stop: %d hung up, %v", n, err)
	}
	if _, err := l.Stop(stopCtx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Stop(stopCtx); !errors.Is(err, parley.ErrClosed) {
		t.Fatalf("Stop after Close: %v", err)
	}
}

func lastJSONObject(s string) string {
	if i := strings.LastIndex(s, "\n{"); i >= 0 {
		return s[i+1:]
	}
	return strings.TrimSpace(s)
}

func TestHostSession(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	events := rt.Events()
	s, err := rt.CreateHostSession(`{"behaviour": "echo", "sample_rate": 16000, "output_rate": 16000}`)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID() == "" || s.State() == parley.SessionClosed {
		t.Fatalf("id %q state %v", s.ID(), s.State())
	}
	frame := make([]int16, 320) // 20 ms at 16 kHz
	for i := range frame {
		frame[i] = int16(8000 * ((i / 20) % 2))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var audioSamples, audioEvents int
	var sawStarted, sawDTMF bool
	pushed := 0
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for audioSamples < 320*25 || !sawDTMF {
		select {
		case <-ticker.C:
			if pushed < 100 {
				if err := s.PushAudio(frame, 16000); err != nil {
					t.Fatal(err)
				}
				pushed++
				if pushed == 10 {
					if err := s.PushDTMF("7"); err != nil {
						t.Fatal(err)
					}
				}
			}
		case ev := <-events:
			if ev.SessionID != s.ID() && ev.Type != parley.EventUser {
				t.Fatalf("event for another session: %+v", ev)
			}
			switch ev.Type {
			case parley.EventSessionStarted:
				sawStarted = true
			case parley.EventAudio:
				if ev.SampleRate != 16000 || len(ev.Audio) == 0 {
					t.Fatalf("audio event: rate %d, %d samples", ev.SampleRate, len(ev.Audio))
				}
				audioSamples += len(ev.Audio)
				audioEvents++
			case parley.EventAudioMark:
				var m parley.Mark
				if err := ev.Decode(&m); err != nil {
					t.Fatal(err)
				}
				if err := s.PushMarkPlayed(m.Name); err != nil {
					t.Fatal(err)
				}
			case parley.EventDTMF:
				var d parley.DTMF
				if err := ev.Decode(&d); err != nil || d.Digit != "7" {
					t.Fatalf("dtmf %s", ev.Payload)
				}
				sawDTMF = true
			case parley.EventSessionStopped, parley.EventSessionError:
				t.Fatalf("%v: %s", ev.Type, ev.Payload)
			}
		case <-ctx.Done():
			t.Fatalf("timed out: %d audio samples in %d events, dtmf %v", audioSamples, audioEvents, sawDTMF)
		}
	}
	if !sawStarted {
		t.Fatal("no session_started event")
	}
	// G.711 in, too (160 bytes = 20 ms at 8 kHz).
	ulaw := make([]byte, 160)
	for i := range ulaw {
		ulaw[i] = 0xff
	}
	if err := s.PushG711(ulaw, parley.G711ULaw, 8000); err != nil {
		t.Fatal(err)
	}
	t.Logf("pushed %d frames, received %d agent samples in %d audio events", pushed, audioSamples, audioEvents)

	// A mark sent now resolves once the audio before it has been played.
	if err := s.SendMark("end"); err != nil {
		t.Fatal(err)
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 5*time.Second)
	defer waitCancel()
	go func() {
		for ev := range events {
			if ev.Type == parley.EventAudioMark {
				var m parley.Mark
				_ = ev.Decode(&m)
				_ = s.PushMarkPlayed(m.Name)
			}
		}
	}()
	outcome, err := s.WaitMark(waitCtx, "end")
	if err != nil || (outcome != parley.MarkPlayed && outcome != parley.MarkCleared) {
		t.Fatalf("WaitMark: %v, %v", outcome, err)
	}
	if outcome, err := s.WaitMark(waitCtx, "never-sent"); err != nil || outcome != parley.MarkUnknown {
		t.Fatalf("WaitMark of an unknown mark: %v, %v", outcome, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PushAudio(frame, 16000); !errors.Is(err, parley.ErrClosed) {
		t.Fatalf("PushAudio after Close: %v", err)
	}
	if s.State() != parley.SessionClosed {
		t.Fatal("closed handle not in state closed")
	}
}

// 100,000 events through post_event, the poller and the channel, with the garbage
// collector forced while they flow: every event arrives once, in order, intact.
func TestEventStorm(t *testing.T) {
	const total = 100_000
	rt := newRuntime(t, `{"event_queue_capacity": 131072, "log": {"sink": "none"}}`)
	events := rt.Events()
	posted := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			if err := rt.PostEvent(fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, i, strings.Repeat("x", i%40))); err != nil {
				posted <- fmt.Errorf("event %d: %w", i, err)
				return
			}
			if i%20_000 == 10_000 {
				runtime.GC()
			}
		}
		posted <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	next := 0
	start := time.Now()
	for next < total {
		select {
		case ev := <-events:
			if ev.Type != parley.EventUser {
				t.Fatalf("event %d: %v %s", next, ev.Type, ev.Payload)
			}
			var p struct {
				Seq int    `json:"seq"`
				Pad string `json:"pad"`
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p.Seq != next || len(p.Pad) != next%40 {
				t.Fatalf("got seq %d (pad %d), want %d", p.Seq, len(p.Pad), next)
			}
			next++
			if next%25_000 == 0 {
				runtime.GC()
			}
		case err := <-posted:
			if err != nil {
				t.Fatal(err)
			}
			posted = nil
		case <-ctx.Done():
			t.Fatalf("timed out after %d events", next)
		}
	}
	t.Logf("%d events in %v (%.0f events/s with the race detector's cost if enabled)", total,
		time.Since(start), total/time.Since(start).Seconds())
}

// When nobody receives, the bounded queue drops and counts: an overflow event says how
// many, and nothing blocks the engine.
func TestEventOverflow(t *testing.T) {
	rt := newRuntime(t, `{"event_queue_capacity": 16, "log": {"sink": "none"}}`)
	full := 0
	for i := 0; i < 100; i++ {
		if err := rt.PostEvent(`{}`); err != nil {
			parleyError(t, err, parley.StatusFull, "")
			full++
		}
	}
	if full == 0 {
		t.Fatal("no PostEvent reported StatusFull with a 16-event queue")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var dropped int64
	for dropped == 0 {
		ev, err := rt.PollEvent(ctx)
		if err != nil {
			t.Fatalf("no overflow event: %v", err)
		}
		if ev.Type == parley.EventOverflow {
			var o parley.Overflow
			if err := ev.Decode(&o); err != nil {
				t.Fatal(err)
			}
			dropped = o.Dropped
		}
	}
	if dropped != int64(full) {
		t.Fatalf("overflow says %d dropped, PostEvent refused %d", dropped, full)
	}
}

func TestBudget(t *testing.T) {
	b, err := parley.NewBudget(`{"target_ms": 800, "model": "gpt-4o-mini", "tokenizer": {"encoding": "heuristic"},
		"strategies": {"sliding_window": {"enabled": false}, "relevance": {"enabled": true, "scorer": "embeddings"},
		               "summary": {"enabled": true, "min_messages": 6}}}`)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n, err := b.CountTokens("Hello there, how can I help you today?")
	if err != nil || n <= 0 {
		t.Fatalf("CountTokens: %d, %v", n, err)
	}
	var compressions, violations, embeds, summaries int
	if err := b.SetHooks(parley.BudgetHooks{
		OnCompression: func(string) { compressions++ },
		OnViolation:   func(string) { violations++ },
		Embedder: func(out []float32, text string) int {
			embeds++
			for i := range out[:8] {
				out[i] = 0
			}
			for _, r := range text {
				out[int(r)%8]++
			}
			return 8
		},
		Summarizer: func(id uint64, messagesJSON string) {
			summaries++
			if !json.Valid([]byte(messagesJSON)) {
				t.Errorf("summariser got %q", messagesJSON)
			}
			// Allowed from inside the callback.
			if err := b.ProvideSummary(id, "The user asked about the weather; it is fine."); err != nil {
				t.Errorf("ProvideSummary: %v", err)
			}
		},
	}); err != nil {
		t.Fatal(err)
	}
	history := []map[string]string{{"role": "system", "content": "You are a helpful agent."}}
	for turn := 0; turn < 30; turn++ {
		history = append(history,
			map[string]string{"role": "user", "content": strings.Repeat("tell me more about the weather ", 20)},
			map[string]string{"role": "assistant", "content": strings.Repeat("the weather is fine today ", 20)})
		msgs, _ := json.Marshal(history)
		toSend, err := b.Prepare(string(msgs))
		if err != nil {
			t.Fatal(err)
		}
		var sent []map[string]any
		if err := json.Unmarshal([]byte(toSend), &sent); err != nil || len(sent) == 0 {
			t.Fatalf("Prepare returned %q: %v", toSend, err)
		}
		// A model whose TTFT grows with the prompt, over the 800 ms target when long.
		ttft := time.Duration(300+len(sent)*20) * time.Millisecond
		if err := b.RecordTTFT(ttft, -1); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := b.Stats()
	if err != nil || !json.Valid([]byte(stats)) || !strings.Contains(stats, `"samples"`) {
		t.Fatalf("Stats: %s, %v", stats, err)
	}
	report, err := b.Report(parley.BudgetReportText)
	if err != nil || report == "" {
		t.Fatalf("Report: %q, %v", report, err)
	}
	jsonReport, err := b.Report(parley.BudgetReportJSON)
	if err != nil || !json.Valid([]byte(jsonReport)) {
		t.Fatalf("JSON report: %q, %v", jsonReport, err)
	}
	if err := b.SelectModel("openai", "gpt-4o"); err != nil {
		t.Fatal(err)
	}
	t.Logf("30 turns: %d compression events, %d violation events, %d embeddings, %d summaries",
		compressions, violations, embeds, summaries)
	if compressions+violations == 0 || embeds == 0 || summaries == 0 {
		t.Error("a hook was never called with TTFT over the target")
	}

	// Errors carry the engine's messages.
	_, err = b.Prepare(`[{"role": "user", "content": "hi"}, {"role": 5}]`)
	parleyError(t, err, parley.StatusFormat, "$[1]")
	parleyError(t, b.RecordTTFT(-time.Second, -1), parley.StatusInvalid, "ttft")
	parleyError(t, b.ProvideSummary(12345, "x"), parley.StatusNotFound, "12345")
	_, err = b.Report(parley.BudgetReportFormat(7))
	parleyError(t, err, parley.StatusInvalid, "format")
	_, err = parley.NewBudget(`{"target_ms": "fast"}`)
	parleyError(t, err, parley.StatusConfig, "$.target_ms")

	fresh, err := parley.NewBudget("")
	if err != nil {
		t.Fatal(err)
	}
	parleyError(t, fresh.RecordTTFT(time.Second, -1), parley.StatusState, "")
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.CountTokens("x"); !errors.Is(err, parley.ErrClosed) {
		t.Fatalf("CountTokens after Close: %v", err)
	}
}

func TestBudgetHookPanicIsRethrown(t *testing.T) {
	b, err := parley.NewBudget(`{"target_ms": 100, "statistics": {"min_samples": 8}, "tokenizer": {"encoding": "heuristic"}}`)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetHooks(parley.BudgetHooks{OnViolation: func(string) { panic("boom") }}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "boom") {
			t.Fatalf("recovered %v", p)
		}
	}()
	for i := 0; i < 50; i++ {
		if _, err := b.Prepare(`[{"role": "user", "content": "hi"}]`); err != nil {
			t.Fatal(err)
		}
		if err := b.RecordTTFT(5*time.Second, -1); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the hook's panic was not re-raised")
}

// Every non-zero status becomes an *Error carrying the engine's message.
func TestBadInput(t *testing.T) {
	rt := newRuntime(t, quietRuntime)
	parleyError(t, rt.PostEvent(`{"unterminated": `), parley.StatusFormat, "")
	parleyError(t, rt.Log(parley.LogLevel(42), "x"), parley.StatusInvalid, "")

	_, err := rt.Listen(`{"transport": "twilio", "port": "eighty"}`)
	parleyError(t, err, parley.StatusConfig, "$.port")
	_, err = rt.Listen(`{"transport": "carrier-pigeon"}`)
	parleyError(t, err, parley.StatusConfig, "carrier-pigeon")
	l, err := rt.Listen(`{"transport": "twilio", "address": "127.0.0.1", "port": 0}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.Listen(fmt.Sprintf(`{"transport": "twilio", "address": "127.0.0.1", "port": %d}`, l.Port()))
	parleyError(t, err, parley.StatusIO, fmt.Sprint(l.Port()))

	_, err = rt.OpenSession("no-such-session")
	parleyError(t, err, parley.StatusNotFound, "no-such-session")
	_, err = rt.CreateHostSession(`{"sample_rate": "high"}`)
	parleyError(t, err, parley.StatusConfig, "$.sample_rate")

	s, err := rt.CreateHostSession(`{"behaviour": "host"}`)
	if err != nil {
		t.Fatal(err)
	}
	parleyError(t, s.PushAudio(make([]int16, 320), 12345), parley.StatusUnsupported, "12345")
	parleyError(t, s.Play(make([]int16, 320), 11), parley.StatusUnsupported, "11")
	parleyError(t, s.PushDTMF("Z"), parley.StatusInvalid, "Z")
	parleyError(t, s.SendMark(""), parley.StatusInvalid, "")
	parleyError(t, s.PushG711(make([]byte, 160), parley.G711(9), 8000), parley.StatusInvalid, "")
	dir := t.TempDir()
	parleyError(t, s.StartRecording(filepath.Join(dir, "missing-dir", "x.wav")), parley.StatusIO, "missing-dir")
	long := strings.Repeat("m", 300) // longer than the wrapper's stack buffer
	parleyError(t, s.SendMark(long), parley.StatusInvalid, "")
	if err := s.HangUp("test over"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}

// nil receivers, closed handles and NULL handles at the C level return errors; nothing
// crashes.
func TestNilAndClosedHandles(t *testing.T) {
	var rt *parley.Runtime
	var l *parley.Listener
	var s *parley.Session
	var b *parley.Budget
	ctx := context.Background()
	for name, err := range map[string]error{
		"Runtime.Close":     rt.Close(ctx),
		"Runtime.PostEvent": rt.PostEvent("{}"),
		"Runtime.Log":       rt.Log(parley.LogInfo, "x"),
		"Listener.Close":    l.Close(),
		"Session.PushAudio": s.PushAudio(nil, 16000),
		"Session.HangUp":    s.HangUp(""),
		"Session.Close":     s.Close(),
		"Budget.Close":      b.Close(),
		"Budget.SetHooks":   b.SetHooks(parley.BudgetHooks{}),
	} {
		if !errors.Is(err, parley.StatusInvalid) {
			t.Errorf("%s on nil: %v", name, err)
		}
	}
	if _, err := rt.PollEvent(ctx); !errors.Is(err, parley.StatusInvalid) {
		t.Error(err)
	}
	if _, err := l.Stop(ctx); !errors.Is(err, parley.StatusInvalid) {
		t.Error(err)
	}
	if _, err := s.WaitMark(ctx, "x"); !errors.Is(err, parley.StatusInvalid) {
		t.Error(err)
	}
	if _, err := b.Prepare("[]"); !errors.Is(err, parley.StatusInvalid) {
		t.Error(err)
	}
	if _, err := rt.Stats(); !errors.Is(err, parley.StatusInvalid) {
		t.Error(err)
	}
	if _, ok := <-rt.Events(); ok {
		t.Error("nil runtime's Events channel is open")
	}
	if s.State() != parley.SessionClosed || l.Port() != 0 || s.ID() != "" {
		t.Error("nil handle getters")
	}

	// NULL handles straight into the C ABI (through the generated wrappers): EINVAL with a
	// message naming the argument.
	for name, err := range map[string]*capi.Error{
		"post_event":  capi.Parley_runtime_post_event(0, "{}"),
		"push_audio":  capi.Parley_session_push_audio(0, make([]int16, 320), 16000),
		"push_g711":   capi.Parley_session_push_g711(0, nil, 0, 8000),
		"send_mark":   capi.Parley_session_send_mark(0, "m"),
		"budget":      capi.Parley_budget_record_ttft(0, 1, -1),
		"listen":      capi.Parley_listener_start(nil, 0, "{}"),
		"create":      capi.Parley_runtime_create(nil, "{}"),
		"poll":        capi.Parley_go_poll_batch(nil, nil, 0, nil, 0, 0, 0),
		"stats":       capi.Parley_budget_stats_json(nil, 0),
		"rt_stats":    capi.Parley_runtime_stats_json(nil, 0),
		"count":       capi.Parley_budget_count_tokens(nil, 0, "x"),
		"wait_mark":   capi.Parley_session_wait_mark(nil, 0, "x", 0),
		"listen_stop": capi.Parley_listener_stop(nil, 0, 0),
	} {
		if err == nil || err.Code != int(parley.StatusInvalid) || err.Message == "" {
			t.Errorf("%s with NULL: %+v", name, err)
		}
	}
	capi.Parley_runtime_destroy(0)
	capi.Parley_listener_destroy(0)
	capi.Parley_session_destroy(0)
	capi.Parley_budget_destroy(0)
	capi.Parley_event_release(0)
	if capi.Parley_session_get_state(0) != int(parley.SessionClosed) || capi.Parley_listener_port(0) != 0 ||
		capi.Parley_session_id(0) != "" || capi.Parley_event_payload(0) == "x" {
		t.Error("NULL getters")
	}

	// A session handle whose runtime was closed under it.
	live := newRuntime(t, quietRuntime)
	sess, err := live.CreateHostSession("")
	if err != nil {
		t.Fatal(err)
	}
	lst, err := live.Listen(`{"transport": "twilio", "address": "127.0.0.1", "port": 0}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sess.PushAudio(make([]int16, 320), 16000); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("PushAudio on a session of a closed runtime: %v", err)
	}
	if _, err := lst.Stop(ctx); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("Stop on a listener of a closed runtime: %v", err)
	}
	if _, err := live.Stats(); !errors.Is(err, parley.ErrClosed) {
		t.Errorf("Stats on a closed runtime: %v", err)
	}
	if err := sess.Close(); err != nil {
		t.Error(err)
	}
	if err := lst.Close(); err != nil {
		t.Error(err)
	}
}

// Closing a runtime while other goroutines use it, its session and its events: every call
// either succeeds or returns ErrClosed, the channel is closed, nothing crashes or races.
func TestCloseWhileInUse(t *testing.T) {
	rt, err := parley.New(quietRuntime)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.CreateHostSession(`{"behaviour": "echo"}`)
	if err != nil {
		t.Fatal(err)
	}
	events := rt.Events()
	if _, err := rt.PollEvent(context.Background()); !errors.Is(err, parley.StatusState) {
		t.Fatalf("PollEvent while Events is in use: %v", err)
	}
	eventsClosed := make(chan int)
	go func() {
		n := 0
		for range events {
			n++
		}
		eventsClosed <- n
	}()
	var wg sync.WaitGroup
	failures := make(chan error, 16)
	var calls [6]int
	frame := make([]int16, 320)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for {
				var err error
				switch g % 3 {
				case 0:
					err = s.PushAudio(frame, 16000)
				case 1:
					err = rt.PostEvent(`{"g": 1}`)
					if errors.Is(err, parley.StatusFull) {
						err = nil
					}
				case 2:
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
					_, err = s.WaitMark(ctx, "never") // MarkUnknown at once, unless descheduled
					cancel()
					if errors.Is(err, context.DeadlineExceeded) {
						err = nil
					}
				}
				if errors.Is(err, parley.ErrClosed) {
					return
				}
				if err != nil {
					failures <- fmt.Errorf("goroutine %d: %w", g, err)
					return
				}
				calls[g]++
			}
		}(g)
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	select {
	case n := <-eventsClosed:
		t.Logf("calls before Close: %v; %d events received", calls, n)
	case <-time.After(5 * time.Second):
		t.Fatal("events channel not closed by Close")
	}
	for g, n := range calls {
		if n == 0 {
			t.Errorf("goroutine %d made no successful call before Close", g)
		}
	}
}

// Handles dropped without Close are released by finalizers (the safety net).
func TestFinalizers(t *testing.T) {
	// A host session dropped without Close frees its slot: with max_sessions 1 a second
	// session can be created once the finalizer has run.
	rt := newRuntime(t, `{"max_sessions": 1, "log": {"sink": "none"}}`)
	func() {
		if _, err := rt.CreateHostSession(""); err != nil {
			t.Fatal(err)
		}
	}()
	if _, err := rt.CreateHostSession(""); !errors.Is(err, parley.StatusFull) {
		t.Fatalf("second session over max_sessions 1: %v", err)
	}
	waitFor(t, "the dropped session's finalizer", func() bool {
		s, err := rt.CreateHostSession("")
		if err != nil {
			return false
		}
		return s.Close() == nil
	})

	// A runtime and its listener dropped without Close: their port is released.
	port := func() int {
		dropped, err := parley.New(quietRuntime)
		if err != nil {
			t.Fatal(err)
		}
		_ = dropped.Events()
		l, err := dropped.Listen(`{"transport": "twilio", "address": "127.0.0.1", "port": 0}`)
		if err != nil {
			t.Fatal(err)
		}
		return l.Port()
	}()
	other := newRuntime(t, quietRuntime)
	cfg := fmt.Sprintf(`{"transport": "twilio", "address": "127.0.0.1", "port": %d}`, port)
	if _, err := other.Listen(cfg); !errors.Is(err, parley.StatusIO) {
		t.Fatalf("port %d should still be in use: %v", port, err)
	}
	waitFor(t, "the dropped runtime's and listener's finalizers", func() bool {
		l, err := other.Listen(cfg)
		if err != nil {
			return false
		}
		return l.Close() == nil
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSelfTest(t *testing.T) {
	report, err := parley.SelfTest()
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		OK     bool              `json:"ok"`
		Checks []json.RawMessage `json:"checks"`
	}
	if err := json.Unmarshal([]byte(report), &r); err != nil || !r.OK || len(r.Checks) == 0 {
		t.Fatalf("selftest: %s (%v)", report, err)
	}
}
