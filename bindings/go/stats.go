package parley

import (
	"encoding/json"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// Stats is what every call of a runtime added up to since it was created
// (parley_runtime_stats_json, docs/agent.md "Runtime counters"). Counters only grow, except
// Calls.Active.
type Stats struct {
	Calls     CallStats    `json:"calls"`
	Frames    FrameStats   `json:"frames"`
	Agent     AgentStats   `json:"agent"`
	LatencyMS LatencyStats `json:"latency_ms"`

	// JSON is the engine's document as it came, for fields newer than this package.
	JSON json.RawMessage `json:"-"`
}

// CallStats counts calls: live now, started and ended since the runtime was created.
type CallStats struct {
	Active  uint64 `json:"active"`
	Started uint64 `json:"started"`
	Ended   uint64 `json:"ended"`
}

// FrameStats counts 20 ms audio frames from callers and to them, and audio events the
// event queue had to drop.
type FrameStats struct {
	Caller             uint64 `json:"caller"`
	Agent              uint64 `json:"agent"`
	AudioEventsDropped uint64 `json:"audio_events_dropped"`
}

// AgentStats adds up the turns of every agent session.
type AgentStats struct {
	Turns              uint64 `json:"turns"`
	Interruptions      uint64 `json:"interruptions"`
	FalseInterruptions uint64 `json:"false_interruptions"`
	ToolCalls          uint64 `json:"tool_calls"`
	ToolTimeouts       uint64 `json:"tool_timeouts"`
	ProviderErrors     uint64 `json:"provider_errors"`
	TokensIn           uint64 `json:"tokens_in"`
	TokensOut          uint64 `json:"tokens_out"`
}

// LatencyStats holds the agent's latency distributions, in milliseconds (the fields of
// Turn.LatencyMS of the same names, over every turn; BargeIn is caller speech start to the
// transport's clear).
type LatencyStats struct {
	VoiceToVoice  Distribution `json:"voice_to_voice"`
	Endpointing   Distribution `json:"endpointing"`
	STTFinal      Distribution `json:"stt_final"`
	LLMFirstToken Distribution `json:"llm_first_token"`
	TTSFirstByte  Distribution `json:"tts_first_byte"`
	BargeIn       Distribution `json:"barge_in"`
}

// Distribution summarises a latency histogram of 1 ms buckets: how many values, their
// percentiles and maximum in milliseconds (all zero while Count is 0).
type Distribution struct {
	Count uint64 `json:"count"`
	P50   int    `json:"p50"`
	P95   int    `json:"p95"`
	P99   int    `json:"p99"`
	Max   int    `json:"max"`
}

// Stats returns the runtime's counters and latency distributions. Safe to call from any
// goroutine while calls are running.
func (r *Runtime) Stats() (Stats, error) {
	const op = "Runtime.Stats"
	if r == nil {
		return Stats{}, nilErr(op, "runtime")
	}
	ptr, ok := r.core.h.acquire()
	if !ok {
		return Stats{}, closedErr(op, "runtime")
	}
	var out string
	err := capi.Parley_runtime_stats_json(&out, ptr)
	r.core.h.release()
	if err != nil {
		return Stats{}, wrapErr(op, err)
	}
	var stats Stats
	if err := json.Unmarshal([]byte(out), &stats); err != nil {
		return Stats{}, &Error{Status: StatusFormat, Op: op, Message: "the engine's stats: " + err.Error()}
	}
	stats.JSON = json.RawMessage(out)
	return stats, nil
}
