package parley

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// SessionState is a parley_session_state.
type SessionState int

// Session states.
const (
	SessionConnecting SessionState = 0
	SessionActive     SessionState = 1
	SessionClosing    SessionState = 2
	SessionClosed     SessionState = 3
)

func (s SessionState) String() string {
	switch s {
	case SessionConnecting:
		return "connecting"
	case SessionActive:
		return "active"
	case SessionClosing:
		return "closing"
	case SessionClosed:
		return "closed"
	}
	return "unknown"
}

// MarkOutcome is a parley_mark_outcome.
type MarkOutcome int

// Mark outcomes.
const (
	MarkPending MarkOutcome = 0
	MarkPlayed  MarkOutcome = 1 // the far end played all audio before the mark
	MarkCleared MarkOutcome = 2 // the audio before it was flushed (clear, or the call ended)
	MarkTimeout MarkOutcome = 3 // still pending when the wait ended
	MarkUnknown MarkOutcome = 4 // no mark of that name was sent on this session
)

func (o MarkOutcome) String() string {
	switch o {
	case MarkPending:
		return "pending"
	case MarkPlayed:
		return "played"
	case MarkCleared:
		return "cleared"
	case MarkTimeout:
		return "timeout"
	case MarkUnknown:
		return "unknown"
	}
	return "unknown"
}

// G711 selects a G.711 encoding for Session.PushG711.
type G711 int

// G.711 encodings.
const (
	G711ULaw G711 = 0
	G711ALaw G711 = 1
)

// Session is a handle to one call. Several handles may refer to the same call. Close
// releases the handle; for a host-transport session created by CreateHostSession it also
// ends the call.
type Session struct {
	h  *handle
	rt *Runtime // keeps the runtime alive while the session is reachable
	id string
}

// OpenSession opens a handle to a live session by id (an Event's SessionID). It returns
// StatusNotFound when no live session has that id.
func (r *Runtime) OpenSession(sessionID string) (*Session, error) {
	const op = "Runtime.OpenSession"
	return r.newSession(op, func(rptr uintptr, out *uintptr) *capi.Error {
		return capi.Parley_session_open(out, rptr, sessionID)
	})
}

// CreateHostSession creates a host-transport session: your own media stack carries the
// call. Push caller audio with PushAudio or PushG711; agent audio arrives as EventAudio
// events (with EventAudioMark and EventAudioClear in the same stream). Config, e.g.
//
//	{"behaviour": "echo", "sample_rate": 16000, "output_rate": 16000}
//
// The session starts at once (an EventSessionStarted is queued).
func (r *Runtime) CreateHostSession(configJSON string) (*Session, error) {
	const op = "Runtime.CreateHostSession"
	if configJSON == "" {
		configJSON = "{}"
	}
	return r.newSession(op, func(rptr uintptr, out *uintptr) *capi.Error {
		return capi.Parley_session_create_host(out, rptr, configJSON)
	})
}

func (r *Runtime) newSession(op string, create func(uintptr, *uintptr) *capi.Error) (*Session, error) {
	if r == nil {
		return nil, nilErr(op, "runtime")
	}
	rptr, ok := r.core.h.acquire()
	if !ok {
		return nil, closedErr(op, "runtime")
	}
	defer r.core.h.release()
	var ptr uintptr
	if err := create(rptr, &ptr); err != nil {
		return nil, wrapErr(op, err)
	}
	s := &Session{h: newHandle(ptr, capi.Parley_session_destroy), rt: r, id: capi.Parley_session_id(ptr)}
	if !r.core.register(s.h, false) {
		s.h.close()
		return nil, closedErr(op, "runtime")
	}
	runtime.SetFinalizer(s, (*Session).finalize)
	return s, nil
}

func (s *Session) finalize() {
	s.rt.core.unregister(s.h)
	s.h.close()
	s.rt.core.speaks.forgetSession(s.id)
}

// ID returns the session id.
func (s *Session) ID() string {
	if s == nil {
		return ""
	}
	return s.id
}

// State returns the session's state (SessionClosed for a closed handle).
func (s *Session) State() SessionState {
	if s == nil {
		return SessionClosed
	}
	ptr, ok := s.h.acquire()
	if !ok {
		return SessionClosed
	}
	defer s.h.release()
	return SessionState(capi.Parley_session_get_state(ptr))
}

// call runs fn with the session pointer under the handle's read lock.
func (s *Session) call(op string, fn func(uintptr) *capi.Error) error {
	if s == nil {
		return nilErr(op, "session")
	}
	ptr, ok := s.h.acquire()
	if !ok {
		return closedErr(op, "session")
	}
	err := fn(ptr)
	s.h.release()
	return wrapErr(op, err)
}

// Play queues agent audio to play to the caller: PCM16 mono at sampleRate (8000, 16000,
// 22050, 24000, 44100 or 48000 Hz). The samples are copied before Play returns.
func (s *Session) Play(samples []int16, sampleRate int) error {
	return s.call("Session.Play", func(p uintptr) *capi.Error {
		return capi.Parley_session_play(p, samples, sampleRate)
	})
}

// SendMark queues a named mark after the audio queued so far; an EventMark reports its
// outcome, and WaitMark waits for it.
func (s *Session) SendMark(name string) error {
	return s.call("Session.SendMark", func(p uintptr) *capi.Error { return capi.Parley_session_send_mark(p, name) })
}

// WaitMark waits until the mark is played or cleared. When ctx is done first it returns
// MarkTimeout and ctx.Err(). A mark returned by Speak is waited for while its text is still
// being synthesised (the engine queues it afterwards); if the TTS fails, WaitMark returns
// MarkCleared and an *Error with StatusProvider carrying the provider's message (seen by
// whichever reads the runtime's events).
func (s *Session) WaitMark(ctx context.Context, name string) (MarkOutcome, error) {
	const op = "Session.WaitMark"
	if s == nil {
		return MarkTimeout, nilErr(op, "session")
	}
	rechecked := false
	for {
		if err := ctx.Err(); err != nil {
			return MarkTimeout, err
		}
		ptr, ok := s.h.acquire()
		if !ok {
			return MarkTimeout, closedErr(op, "session")
		}
		var outcome int32
		err := capi.Parley_session_wait_mark(&outcome, ptr, name, sliceMillis(ctx))
		closed := err == nil && MarkOutcome(outcome) == MarkUnknown &&
			SessionState(capi.Parley_session_get_state(ptr)) == SessionClosed
		s.h.release()
		if err != nil {
			return MarkTimeout, wrapErr(op, err)
		}
		switch MarkOutcome(outcome) {
		case MarkTimeout, MarkPending:
			continue
		case MarkUnknown:
			pending, failure := s.rt.core.speaks.state(s.id, name)
			if !pending {
				if !rechecked { // its EventMark may have been read since the engine said unknown
					rechecked = true
					continue
				}
				return MarkUnknown, nil
			}
			if failure != nil {
				s.rt.core.speaks.forget(s.id, name)
				return MarkCleared, &Error{Status: failure.Status, Op: op, Message: failure.Message}
			}
			if closed {
				s.rt.core.speaks.forget(s.id, name)
				return MarkCleared, nil // the call ended before the text was spoken
			}
			// Still being synthesised: look again shortly.
			select {
			case <-ctx.Done():
			case <-time.After(speakPoll):
			}
			continue
		}
		s.rt.core.speaks.forget(s.id, name)
		return MarkOutcome(outcome), nil
	}
}

// Speak speaks text to the caller with a TTS provider (built-in, or one implemented in Go
// and registered with Runtime.RegisterTTS) as it is synthesised, then queues a mark; it
// returns the mark's name at once. WaitMark(ctx, mark) (or an EventMark) reports when the
// caller has heard it; a provider failure arrives as an EventSessionError whose
// SessionError.Provider carries the message. optionsJSON: "" or, e.g.,
//
//	{"tts": {"provider": "my-voice"}, "mark": "greeting"}
//
// (default TTS espeak, default mark "speak-N"). An unknown provider is StatusNotFound.
func (s *Session) Speak(text, optionsJSON string) (string, error) {
	var mark string
	err := s.call("Session.Speak", func(p uintptr) *capi.Error {
		options := optionsJSON
		if options == "" {
			options = "{}"
		}
		return capi.Parley_session_speak(&mark, p, text, options)
	})
	if err != nil {
		return "", err
	}
	s.rt.core.speaks.add(s.id, mark)
	return mark, nil
}

// Clear drops queued agent audio here and at the far end (barge-in); pending marks resolve
// as cleared.
func (s *Session) Clear() error {
	return s.call("Session.Clear", capi.Parley_session_clear)
}

// HangUp ends the call; reason may be "". Idempotent.
func (s *Session) HangUp(reason string) error {
	return s.call("Session.HangUp", func(p uintptr) *capi.Error { return capi.Parley_session_hang_up(p, reason) })
}

// StartRecording starts a stereo PCM16 WAV recording (caller left, agent right) at path.
func (s *Session) StartRecording(path string) error {
	return s.call("Session.StartRecording", func(p uintptr) *capi.Error {
		return capi.Parley_session_start_recording(p, path)
	})
}

// StopRecording finishes the recording.
func (s *Session) StopRecording() error {
	return s.call("Session.StopRecording", capi.Parley_session_stop_recording)
}

// Stop stops the session (hangs up if the call is live; an EventSessionStopped follows).
// The handle stays usable until Close. Idempotent.
func (s *Session) Stop() error {
	return s.call("Session.Stop", capi.Parley_session_close)
}

// PushAudio gives a host-transport session caller audio: PCM16 mono at sampleRate. The
// samples are copied before PushAudio returns.
func (s *Session) PushAudio(samples []int16, sampleRate int) error {
	const op = "Session.PushAudio"
	if s == nil {
		return nilErr(op, "session")
	}
	ptr, ok := s.h.acquire()
	if !ok {
		return closedErr(op, "session")
	}
	err := capi.Parley_session_push_audio(ptr, samples, sampleRate)
	s.h.release()
	if err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// PushG711 gives a host-transport session caller audio as G.711 bytes at sampleRate (8000
// for telephony).
func (s *Session) PushG711(data []byte, encoding G711, sampleRate int) error {
	return s.call("Session.PushG711", func(p uintptr) *capi.Error {
		return capi.Parley_session_push_g711(p, data, int(encoding), sampleRate)
	})
}

// PushDTMF tells a host-transport session the caller pressed digit (0-9 * # A-D).
func (s *Session) PushDTMF(digit string) error {
	return s.call("Session.PushDTMF", func(p uintptr) *capi.Error { return capi.Parley_session_push_dtmf(p, digit) })
}

// PushMarkPlayed confirms that the audio before mark name (from an EventAudioMark) has
// played.
func (s *Session) PushMarkPlayed(name string) error {
	return s.call("Session.PushMarkPlayed", func(p uintptr) *capi.Error {
		return capi.Parley_session_push_mark_played(p, name)
	})
}

// ToolResult answers an EventToolCall of an agent session: resultJSON is what the tool
// returned, any JSON value (the model sees it as the tool message's content). An answer
// after the tool's timeout, or for an unknown id, is ignored by the engine. Invalid JSON is
// StatusFormat; a session that runs no agent (or is closed) is StatusState.
func (s *Session) ToolResult(toolCallID, resultJSON string) error {
	return s.call("Session.ToolResult", func(p uintptr) *capi.Error {
		return capi.Parley_session_tool_result(p, toolCallID, resultJSON)
	})
}

// Close releases the handle; for a host-transport session created by CreateHostSession
// this also ends the call. Closing again returns nil.
func (s *Session) Close() error {
	if s == nil {
		return nilErr("Session.Close", "session")
	}
	s.rt.core.unregister(s.h)
	s.h.close()
	s.rt.core.speaks.forgetSession(s.id)
	runtime.SetFinalizer(s, nil)
	return nil
}

// speakPoll is how often WaitMark looks again at a Speak mark the engine does not know yet.
const speakPoll = 10 * time.Millisecond

// speakBoard remembers the marks Session.Speak returned until the engine knows them (an
// EventMark for them was read, or WaitMark saw them resolve), and the provider failures
// reported for speak() marks by EventSessionError events (Session.Close forgets them).
type speakBoard struct {
	mu    sync.Mutex
	marks map[string]*Error // session id + "\x00" + mark -> failure (nil while pending)
}

func speakKey(sessionID, mark string) string { return sessionID + "\x00" + mark }

func (b *speakBoard) add(sessionID, mark string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.marks == nil {
		b.marks = map[string]*Error{}
	}
	if _, ok := b.marks[speakKey(sessionID, mark)]; !ok { // its failure may have been read already
		b.marks[speakKey(sessionID, mark)] = nil
	}
}

func (b *speakBoard) state(sessionID, mark string) (pending bool, failure *Error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	failure, pending = b.marks[speakKey(sessionID, mark)]
	return pending, failure
}

func (b *speakBoard) forget(sessionID, mark string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.marks, speakKey(sessionID, mark))
}

func (b *speakBoard) forgetSession(sessionID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.marks {
		if strings.HasPrefix(k, sessionID+"\x00") {
			delete(b.marks, k)
		}
	}
}

// observe follows the events that settle a Speak mark: its EventMark, or the
// EventSessionError of a failed synthesis.
func (b *speakBoard) observe(ev Event) {
	if ev.Type != EventMark && ev.Type != EventSessionError {
		return
	}
	var payload struct {
		Name  string         `json:"name"` // EventMark
		Mark  string         `json:"mark"` // EventSessionError of speak()
		Error *ProviderError `json:"error"`
	}
	if json.Unmarshal(ev.Payload, &payload) != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case ev.Type == EventMark:
		delete(b.marks, speakKey(ev.SessionID, payload.Name))
	case payload.Mark != "" && payload.Error != nil:
		// Recorded even before Speak has returned the mark: the failure can be that quick.
		if b.marks == nil {
			b.marks = map[string]*Error{}
		}
		b.marks[speakKey(ev.SessionID, payload.Mark)] = &Error{Status: StatusProvider,
			Message: "speak: " + payload.Error.Provider + ": " + payload.Error.Message}
	}
}
