package parley

import (
	"encoding/json"
	"time"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// EventType is a parley_event_type.
type EventType int

// Event types; the values are part of the C ABI.
const (
	EventNone            EventType = 0
	EventRuntimeError    EventType = 1  // payload {"message"}
	EventUser            EventType = 2  // from PostEvent; payload is the posted JSON
	EventOverflow        EventType = 3  // events were dropped; payload {"dropped": N}
	EventSessionStarted  EventType = 10 // payload: SessionStarted
	EventSessionStopped  EventType = 11 // payload: SessionStopped
	EventSessionError    EventType = 12 // payload {"code", "message", "fatal"}
	EventSessionRejected EventType = 13 // payload {"listener", "remote", "reason"}
	EventDTMF            EventType = 14 // payload {"digit"}
	EventMark            EventType = 15 // payload {"name", "outcome"}
	EventAudio           EventType = 16 // host transport: agent audio in Event.Audio
	EventCallerAudio     EventType = 17 // caller audio (caller_audio_events)
	EventAudioMark       EventType = 18 // host transport: confirm with Session.PushMarkPlayed
	EventAudioClear      EventType = 19 // host transport: drop agent audio not yet played
	// EventProviderRequest is a request for a host provider registered without a Go
	// implementation (RegisterProvider with nil); payload: ProviderRequestPayload.
	EventProviderRequest EventType = 20
	// Agent events: listeners and host sessions with "behaviour": "agent" (docs/agent.md).
	EventAgentState   EventType = 21 // payload: AgentState
	EventTranscript   EventType = 22 // payload: Transcript
	EventTurn         EventType = 23 // payload: Turn
	EventToolCall     EventType = 24 // payload: ToolCall; answer with Session.ToolResult
	EventInterruption EventType = 25 // payload: Interruption
	// Host transport, from the agent's built-in tools (docs/agent.md, "Tools"): the host's
	// own telephony does what they ask.
	EventSendDTMF EventType = 26 // payload: SendDTMF; comes after the agent audio before it
	EventTransfer EventType = 27 // payload: Transfer; once the agent's last words have played
)

var eventTypeNames = map[EventType]string{
	EventNone: "none", EventRuntimeError: "runtime_error", EventUser: "user", EventOverflow: "overflow",
	EventSessionStarted: "session_started", EventSessionStopped: "session_stopped",
	EventSessionError: "session_error", EventSessionRejected: "session_rejected", EventDTMF: "dtmf",
	EventMark: "mark", EventAudio: "audio", EventCallerAudio: "caller_audio", EventAudioMark: "audio_mark",
	EventAudioClear: "audio_clear", EventProviderRequest: "provider_request",
	EventAgentState: "agent_state", EventTranscript: "transcript", EventTurn: "turn",
	EventToolCall: "tool_call", EventInterruption: "interruption",
	EventSendDTMF: "send_dtmf", EventTransfer: "transfer",
}

// String returns the engine's name for the type ("session_started").
func (t EventType) String() string {
	if name, ok := eventTypeNames[t]; ok {
		return name
	}
	return capi.Parley_event_type_name(int(t))
}

// Event is one runtime or session event, copied into Go memory (the engine's record has
// been released by the time you receive it).
type Event struct {
	Type       EventType
	SessionID  string          // "" for runtime events
	Payload    json.RawMessage // at least {}
	Audio      []int16         // PCM16 for EventAudio and EventCallerAudio
	SampleRate int             // of Audio
	// Timestamp is the event's creation time on the runtime's monotonic clock.
	Timestamp time.Duration
}

// Decode unmarshals the payload into v (for example a *SessionStarted).
func (e Event) Decode(v any) error { return json.Unmarshal(e.Payload, v) }

func eventFromRecord(r capi.EventRecord) Event {
	payload := json.RawMessage(r.Payload)
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	return Event{
		Type:       EventType(r.Type),
		SessionID:  r.SessionID,
		Payload:    payload,
		Audio:      r.Audio,
		SampleRate: r.SampleRate,
		Timestamp:  time.Duration(r.TimestampUS) * time.Microsecond,
	}
}

func errorPayload(message string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"message": message})
	return b
}

// SessionStarted is the payload of EventSessionStarted.
type SessionStarted struct {
	SessionID        string            `json:"session_id"`
	Transport        string            `json:"transport"`
	CallID           string            `json:"call_id"`
	StreamID         string            `json:"stream_id"`
	AccountID        string            `json:"account_id"`
	CustomParameters map[string]string `json:"custom_parameters"`
	SampleRate       int               `json:"sample_rate"`
	Behaviour        string            `json:"behaviour"`
}

// SessionStopped is the payload of EventSessionStopped.
type SessionStopped struct {
	Reason             string `json:"reason"`
	CallID             string `json:"call_id"`
	CallerFrames       int64  `json:"caller_frames"`
	AgentFrames        int64  `json:"agent_frames"`
	DTMF               int64  `json:"dtmf"`
	MarksSent          int64  `json:"marks_sent"`
	MarksPlayed        int64  `json:"marks_played"`
	MarksCleared       int64  `json:"marks_cleared"`
	AudioEventsDropped int64  `json:"audio_events_dropped"`
}

// SessionError is the payload of EventSessionError. A provider failure (for example a TTS
// used by Session.Speak) fills Provider instead of Code and Message, and Mark names the
// speak() mark it affected.
type SessionError struct {
	Code     string         `json:"code"`
	Message  string         `json:"message"`
	Fatal    bool           `json:"fatal"`
	Provider *ProviderError `json:"error,omitempty"`
	Mark     string         `json:"mark,omitempty"`
}

// ProviderError describes a provider failure in an EventSessionError.
type ProviderError struct {
	Kind       string `json:"kind"` // e.g. "server", "auth", "timeout"
	Provider   string `json:"provider"`
	Message    string `json:"message"`
	Fatal      bool   `json:"fatal"`
	HTTPStatus int    `json:"http_status,omitempty"`
}

// DTMF is the payload of EventDTMF.
type DTMF struct {
	Digit string `json:"digit"`
}

// Mark is the payload of EventMark ("played", "cleared" or "unknown") and, with only a
// name, of EventAudioMark.
type Mark struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
}

// Overflow is the payload of EventOverflow.
type Overflow struct {
	Dropped int64 `json:"dropped"`
}

// AgentState is the payload of EventAgentState: State is "idle", "listening", "thinking" or
// "speaking"; Turn is the turn it belongs to (-1 before the first).
type AgentState struct {
	State string `json:"state"`
	Turn  int    `json:"turn"`
}

// Transcript is the payload of EventTranscript: a line of the conversation. Role is "user"
// or "agent". User partials have Final false; an agent line arrives once per chunk as it is
// sent to the voice, and its final (heard) form when the turn ends.
type Transcript struct {
	Role  string `json:"role"`
	Text  string `json:"text"`
	Final bool   `json:"final"`
	Turn  int    `json:"turn"`
}

// ToolCall is the payload of EventToolCall: the model called a host tool. Answer it with
// Session.ToolResult(ID, resultJSON) before the tool's timeout_ms.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Turn is the payload of EventTurn: a turn ended. LatencyMS holds the stages' latencies in
// milliseconds (null when a stage did not happen in this turn); ToolCalls the tools the
// model called during it (docs/agent.md).
type Turn struct {
	Turn        int                 `json:"turn"`
	UserText    string              `json:"user_text"`
	AgentText   string              `json:"agent_text"`
	HeardText   string              `json:"heard_text"`
	Interrupted bool                `json:"interrupted"`
	LatencyMS   map[string]*float64 `json:"latency_ms"`
	TokensIn    int64               `json:"tokens_in"`
	TokensOut   int64               `json:"tokens_out"`
	ToolCalls   []ToolCall          `json:"tool_calls"`
}

// Interruption is the payload of EventInterruption: the caller interrupted the agent.
// Resumed true means it was a false interruption (no words followed) and the agent went on.
type Interruption struct {
	Turn      int    `json:"turn"`
	HeardText string `json:"heard_text"`
	Resumed   bool   `json:"resumed"`
}

// SendDTMF is the payload of EventSendDTMF: a host-transport agent used its send_dtmf tool;
// send Digits (0-9 * # A-D) as touch tones on the call. It comes after the agent audio
// delivered before it.
type SendDTMF struct {
	Digits string `json:"digits"`
}

// Transfer is the payload of EventTransfer: a host-transport agent used its transfer tool;
// move the call to Target. It comes once the agent's last words before it have played, and
// the agent says nothing more.
type Transfer struct {
	Target string `json:"target"`
}
