package parley

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// ProviderKind is the kind of a host-implemented provider.
type ProviderKind string

// Provider kinds (parley_provider_register's kind).
const (
	ProviderLLM ProviderKind = "llm"
	ProviderTTS ProviderKind = "tts"
	ProviderSTT ProviderKind = "stt"
)

// TTS is a voice implemented in Go. Register it with Runtime.RegisterTTS; configs then name
// it like a built-in voice ({"tts": {"provider": "my-voice"}}, e.g. in Session.Speak).
type TTS interface {
	// Synthesize speaks req.Text: push PCM16 mono at the registered sample rate with
	// req.PushAudio (as often as needed), then return nil. A non-nil error fails the request:
	// the session gets an EventSessionError carrying its message. ctx is cancelled when the
	// engine no longer wants the answer (the call ended, a barge-in); later pushes are no-ops.
	Synthesize(ctx context.Context, req *TTSRequest) error
}

// LLM is a language model implemented in Go (Runtime.RegisterLLM).
type LLM interface {
	// Complete answers req.Messages: stream text with req.PushText and tool calls with
	// req.PushToolCall, then return nil (or call req.Finish to report usage). ctx is
	// cancelled when the engine no longer wants the answer.
	Complete(ctx context.Context, req *LLMRequest) error
}

// STT is a speech recogniser implemented in Go (Runtime.RegisterSTT).
type STT interface {
	// Recognize reads the caller's audio from req.Input() and pushes transcripts with
	// req.PushTranscript. The input channel is closed, and ctx cancelled, when the engine
	// ends the stream; return then. Returning earlier ends the stream from this side.
	Recognize(ctx context.Context, req *STTRequest) error
}

// TTSFunc, LLMFunc and STTFunc adapt plain functions to the provider interfaces.
type (
	TTSFunc func(ctx context.Context, req *TTSRequest) error
	LLMFunc func(ctx context.Context, req *LLMRequest) error
	STTFunc func(ctx context.Context, req *STTRequest) error
)

func (f TTSFunc) Synthesize(ctx context.Context, req *TTSRequest) error { return f(ctx, req) }
func (f LLMFunc) Complete(ctx context.Context, req *LLMRequest) error   { return f(ctx, req) }
func (f STTFunc) Recognize(ctx context.Context, req *STTRequest) error  { return f(ctx, req) }

// ProviderRequestPayload is the payload of an EventProviderRequest (parley.h documents it).
// Requests of providers registered with a Go implementation are dispatched to it and never
// reach the event stream; RegisterProvider with a nil handler delivers them as events.
type ProviderRequestPayload struct {
	Op          string       `json:"op"` // synthesize, complete, start, audio, finalize, cancel
	Request     uint64       `json:"request"`
	Kind        ProviderKind `json:"kind"`
	Provider    string       `json:"provider"`
	Text        string       `json:"text,omitempty"`        // tts synthesize
	Messages    []LLMMessage `json:"messages,omitempty"`    // llm complete
	Tools       []LLMTool    `json:"tools,omitempty"`       // llm complete
	Temperature *float64     `json:"temperature,omitempty"` // llm complete
	MaxTokens   *int         `json:"max_tokens,omitempty"`  // llm complete
	SampleRate  int          `json:"sample_rate,omitempty"` // stt start
}

// LLMMessage is one message of an LLM request (OpenAI's chat shape).
type LLMMessage struct {
	Role       string        `json:"role"`
	Content    string        `json:"content"`
	ToolCallID string        `json:"tool_call_id,omitempty"`
	ToolCalls  []LLMToolCall `json:"tool_calls,omitempty"`
}

// LLMToolCall is a tool call of an earlier assistant message.
type LLMToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// LLMTool is a tool the model may call.
type LLMTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// ProviderRequest is one request to a host-implemented provider, answered by id. Its Push
// methods and Complete may be called from any goroutine. For a request dispatched to a Go
// implementation, an answer after the engine cancelled the request returns nil (the
// engine's PARLEY_ENOTFOUND is swallowed and the request's context is cancelled).
type ProviderRequest struct {
	ID        uint64
	Kind      ProviderKind
	Provider  string
	SessionID string          // the requesting session ("" outside a call)
	Payload   json.RawMessage // the request's JSON payload

	ans        answerer
	dispatched bool
	cancel     context.CancelFunc
	cancelled  atomic.Bool
	completed  atomic.Bool
}

// TTSRequest asks a TTS to speak Text; answer with PushAudio.
type TTSRequest struct {
	*ProviderRequest
	Text       string
	SampleRate int // the rate registered with RegisterTTS: push audio at this rate
}

// LLMRequest asks an LLM to complete Messages; answer with PushText and PushToolCall.
type LLMRequest struct {
	*ProviderRequest
	Messages    []LLMMessage
	Tools       []LLMTool
	Temperature *float64
	MaxTokens   *int
}

// STTInput is one piece of an STT stream: caller audio, or the end of an utterance.
type STTInput struct {
	Audio    []int16 // PCM16 mono at the request's SampleRate; nil when Finalize
	Finalize bool    // the caller's utterance ended: flush and push a final transcript
}

// STTRequest is an STT stream; read Input and answer with PushTranscript.
type STTRequest struct {
	*ProviderRequest
	SampleRate int
	input      *inputQueue
}

// Input returns the stream's audio and finalize markers in order; it is closed when the
// engine ends the stream (ctx is cancelled too) or the runtime closes.
func (r *STTRequest) Input() <-chan STTInput { return r.input.out }

// Cancelled reports whether the engine cancelled the request (or the runtime closed).
func (r *ProviderRequest) Cancelled() bool { return r != nil && r.cancelled.Load() }

// PushAudio answers a TTS request: PCM16 mono at the provider's sample rate (copied).
func (r *ProviderRequest) PushAudio(samples []int16) error {
	return r.answer("ProviderRequest.PushAudio", false, func(a answerer) *capi.Error { return a.pushAudio(r.ID, samples) })
}

// PushText answers an LLM request with a text delta.
func (r *ProviderRequest) PushText(text string) error {
	return r.answer("ProviderRequest.PushText", false, func(a answerer) *capi.Error { return a.pushText(r.ID, text) })
}

// PushToolCall answers an LLM request with a fragment of tool call index (0..127): id and
// name once ("" afterwards), arguments JSON text in pieces.
func (r *ProviderRequest) PushToolCall(index int, id, name, arguments string) error {
	return r.answer("ProviderRequest.PushToolCall", false, func(a answerer) *capi.Error {
		return a.pushToolCall(r.ID, index, id, name, arguments)
	})
}

// PushTranscript answers an STT request; speechFinal when the utterance ended.
func (r *ProviderRequest) PushTranscript(text string, isFinal, speechFinal bool) error {
	return r.answer("ProviderRequest.PushTranscript", false, func(a answerer) *capi.Error {
		return a.pushTranscript(r.ID, text, isFinal, speechFinal)
	})
}

// Complete ends the request successfully. detailJSON is "" or, for an LLM,
// {"finish_reason": "stop", "usage": {"prompt_tokens": N, "completion_tokens": M}}.
// An implementation that returns nil without calling Complete is completed for it.
func (r *ProviderRequest) Complete(detailJSON string) error {
	return r.answer("ProviderRequest.Complete", true, func(a answerer) *capi.Error {
		return a.complete(r.ID, int(StatusOK), detailJSON)
	})
}

// Fail ends the request with an error: message is what the session's error event carries.
// status is the failure's status (StatusProvider when 0).
func (r *ProviderRequest) Fail(status Status, message string) error {
	if status == StatusOK {
		status = StatusProvider
	}
	return r.answer("ProviderRequest.Fail", true, func(a answerer) *capi.Error {
		return a.complete(r.ID, int(status), message)
	})
}

// Finish completes an LLM request with its finish reason ("" for the engine's default) and
// token usage.
func (r *LLMRequest) Finish(finishReason string, promptTokens, completionTokens int) error {
	detail := map[string]any{"usage": map[string]int{"prompt_tokens": promptTokens, "completion_tokens": completionTokens}}
	if finishReason != "" {
		detail["finish_reason"] = finishReason
	}
	b, _ := json.Marshal(detail)
	return r.Complete(string(b))
}

func (r *ProviderRequest) answer(op string, ends bool, call func(answerer) *capi.Error) error {
	if r == nil {
		return nilErr(op, "request")
	}
	if r.ans == nil {
		return nilErr(op, "runtime")
	}
	if ends && r.dispatched && !r.completed.CompareAndSwap(false, true) {
		return &Error{Status: StatusNotFound, Op: op,
			Message: "host provider request " + strconv.FormatUint(r.ID, 10) + " is already complete"}
	}
	err := r.ans.call(op, call)
	if err == nil {
		return nil
	}
	var perr *Error
	if r.dispatched && errors.As(err, &perr) && (perr.Status == StatusNotFound || perr.closed) {
		// Unknown to the engine although this side did not end it: the engine cancelled it
		// (its cancel event may still be on the way), or the runtime is closing.
		if !ends && r.completed.Load() {
			return err // an answer after Complete: the caller's mistake
		}
		r.markCancelled()
		return nil
	}
	return err
}

func (r *ProviderRequest) markCancelled() {
	r.cancelled.Store(true)
	if r.cancel != nil {
		r.cancel()
	}
}

// answerer sends a request's answers to the engine (the runtime, or a fake in unit tests).
type answerer interface {
	call(op string, fn func(answerer) *capi.Error) error
	pushAudio(id uint64, samples []int16) *capi.Error
	pushText(id uint64, text string) *capi.Error
	pushToolCall(id uint64, index int, callID, name, arguments string) *capi.Error
	pushTranscript(id uint64, text string, isFinal, speechFinal bool) *capi.Error
	complete(id uint64, status int, detail string) *capi.Error
}

// runtimeAnswerer answers through the runtime handle (a closed runtime returns ErrClosed).
type runtimeAnswerer struct {
	h   *handle
	ptr uintptr // valid inside call only
}

func (a *runtimeAnswerer) call(op string, fn func(answerer) *capi.Error) error {
	ptr, ok := a.h.acquire()
	if !ok {
		return closedErr(op, "runtime")
	}
	defer a.h.release()
	return wrapErr(op, fn(&runtimeAnswerer{h: a.h, ptr: ptr}))
}

func (a *runtimeAnswerer) pushAudio(id uint64, samples []int16) *capi.Error {
	return capi.Parley_provider_push_audio(a.ptr, id, samples)
}
func (a *runtimeAnswerer) pushText(id uint64, text string) *capi.Error {
	return capi.Parley_provider_push_text(a.ptr, id, text)
}
func (a *runtimeAnswerer) pushToolCall(id uint64, index int, callID, name, arguments string) *capi.Error {
	return capi.Parley_provider_push_tool_call(a.ptr, id, index, callID, name, arguments)
}
func (a *runtimeAnswerer) pushTranscript(id uint64, text string, isFinal, speechFinal bool) *capi.Error {
	return capi.Parley_provider_push_transcript(a.ptr, id, text, boolInt(isFinal), boolInt(speechFinal))
}
func (a *runtimeAnswerer) complete(id uint64, status int, detail string) *capi.Error {
	return capi.Parley_provider_complete(a.ptr, id, status, detail)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- registration ---------------------------------------------------------------------

// RegisterTTS registers a Go voice under name; sampleRate is the rate of the PCM16 it
// pushes (0: 16000). A later registration of the same name replaces it.
func (r *Runtime) RegisterTTS(name string, sampleRate int, tts TTS) error {
	if tts == nil {
		return nilErr("Runtime.RegisterTTS", "TTS")
	}
	return r.registerProvider("Runtime.RegisterTTS", ProviderTTS, name, rateOptions(sampleRate), tts)
}

// RegisterLLM registers a Go language model under name.
func (r *Runtime) RegisterLLM(name string, llm LLM) error {
	if llm == nil {
		return nilErr("Runtime.RegisterLLM", "LLM")
	}
	return r.registerProvider("Runtime.RegisterLLM", ProviderLLM, name, "", llm)
}

// RegisterSTT registers a Go speech recogniser under name; sampleRate is the rate of the
// audio it receives (0: 16000).
func (r *Runtime) RegisterSTT(name string, sampleRate int, stt STT) error {
	if stt == nil {
		return nilErr("Runtime.RegisterSTT", "STT")
	}
	return r.registerProvider("Runtime.RegisterSTT", ProviderSTT, name, rateOptions(sampleRate), stt)
}

// RegisterProvider is the general form: kind "llm", "tts" or "stt", optionsJSON "" or
// {"sample_rate": N}, and impl a TTS, LLM or STT of that kind, or nil: the requests then
// arrive as EventProviderRequest events, answered with Runtime.ProviderRequest(id).
func (r *Runtime) RegisterProvider(kind ProviderKind, name, optionsJSON string, impl any) error {
	return r.registerProvider("Runtime.RegisterProvider", kind, name, optionsJSON, impl)
}

// sampleRateOf reads "sample_rate" from provider options (the engine validates them).
func sampleRateOf(optionsJSON string) int {
	var options struct {
		SampleRate int `json:"sample_rate"`
	}
	if optionsJSON != "" {
		_ = json.Unmarshal([]byte(optionsJSON), &options)
	}
	if options.SampleRate == 0 {
		return 16000
	}
	return options.SampleRate
}

func rateOptions(rate int) string {
	if rate == 0 {
		return ""
	}
	return `{"sample_rate": ` + strconv.Itoa(rate) + `}`
}

func (r *Runtime) registerProvider(op string, kind ProviderKind, name, optionsJSON string, impl any) error {
	if r == nil {
		return nilErr(op, "runtime")
	}
	if impl != nil {
		ok := false
		switch kind {
		case ProviderTTS:
			_, ok = impl.(TTS)
		case ProviderLLM:
			_, ok = impl.(LLM)
		case ProviderSTT:
			_, ok = impl.(STT)
		default:
			ok = true // the engine rejects the kind with its own message
		}
		if !ok {
			return &Error{Status: StatusInvalid, Op: op,
				Message: "the implementation of a " + string(kind) + " provider does not implement the matching interface (parley.TTS, LLM or STT)"}
		}
	}
	ptr, ok := r.core.h.acquire()
	if !ok {
		return closedErr(op, "runtime")
	}
	defer r.core.h.release()
	// Registered here first, so that a request right after registration finds its handler.
	r.core.providers.set(kind, name, impl, sampleRateOf(optionsJSON))
	if err := capi.Parley_go_provider_register(ptr, string(kind), name, optionsJSON); err != nil {
		r.core.providers.set(kind, name, nil, 0)
		return wrapErr(op, err)
	}
	return nil
}

// ProviderRequest returns a handle to answer request id (from an EventProviderRequest of a
// provider registered without an implementation). An unknown id makes its answers return
// StatusNotFound.
func (r *Runtime) ProviderRequest(id uint64) *ProviderRequest {
	if r == nil {
		return &ProviderRequest{ID: id}
	}
	return &ProviderRequest{ID: id, ans: &runtimeAnswerer{h: r.core.h}}
}

// ---- dispatch -------------------------------------------------------------------------

// providerHub dispatches provider requests to Go implementations: each request runs on a
// goroutine of its own; STT audio and finalize go to the running request's input queue;
// cancel cancels its context.
type providerHub struct {
	ans    answerer
	ctx    context.Context // cancelled when the runtime closes
	stop   context.CancelFunc
	mu     sync.Mutex
	impls  map[string]registered // kind + "/" + name
	active map[uint64]*activeRequest
}

type registered struct {
	impl any
	rate int
}

type activeRequest struct {
	req   *ProviderRequest
	input *inputQueue // STT only
}

func newProviderHub(ans answerer) *providerHub {
	ctx, stop := context.WithCancel(context.Background())
	return &providerHub{ans: ans, ctx: ctx, stop: stop, impls: map[string]registered{}, active: map[uint64]*activeRequest{}}
}

func (p *providerHub) set(kind ProviderKind, name string, impl any, rate int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if impl == nil {
		delete(p.impls, string(kind)+"/"+name)
	} else {
		p.impls[string(kind)+"/"+name] = registered{impl: impl, rate: rate}
	}
}

// dispatch takes a provider request event; false when no Go implementation handles it (the
// event is then delivered as usual).
func (p *providerHub) dispatch(ev Event) bool {
	if ev.Type != EventProviderRequest {
		return false
	}
	var payload ProviderRequestPayload
	if err := json.Unmarshal(ev.Payload, &payload); err != nil {
		return false
	}
	p.mu.Lock()
	reg, ok := p.impls[string(payload.Kind)+"/"+payload.Provider]
	if !ok {
		p.mu.Unlock()
		return false
	}
	switch payload.Op {
	case "synthesize", "complete", "start":
		ctx, cancel := context.WithCancel(p.ctx)
		req := &ProviderRequest{ID: payload.Request, Kind: payload.Kind, Provider: payload.Provider,
			SessionID: ev.SessionID, Payload: ev.Payload, ans: p.ans, dispatched: true, cancel: cancel}
		a := &activeRequest{req: req}
		if payload.Op == "start" {
			a.input = newInputQueue()
		}
		p.active[payload.Request] = a
		p.mu.Unlock()
		go p.run(ctx, a, reg, &payload)
	case "audio", "finalize":
		a := p.active[payload.Request]
		p.mu.Unlock()
		if a != nil && a.input != nil {
			if payload.Op == "audio" {
				a.input.push(STTInput{Audio: ev.Audio})
			} else {
				a.input.push(STTInput{Finalize: true})
			}
		}
	case "cancel":
		a := p.active[payload.Request]
		delete(p.active, payload.Request)
		p.mu.Unlock()
		if a != nil {
			a.req.markCancelled()
			if a.input != nil {
				a.input.close()
			}
		}
	default:
		p.mu.Unlock() // an operation newer than this binding: nothing to do
	}
	return true
}

func (p *providerHub) run(ctx context.Context, a *activeRequest, reg registered, payload *ProviderRequestPayload) {
	req := a.req
	defer func() {
		p.mu.Lock()
		if p.active[req.ID] == a {
			delete(p.active, req.ID)
		}
		p.mu.Unlock()
		if a.input != nil {
			a.input.close()
		}
		req.cancel()
	}()
	var err error
	switch payload.Op {
	case "synthesize":
		if tts, ok := reg.impl.(TTS); ok {
			err = tts.Synthesize(ctx, &TTSRequest{ProviderRequest: req, Text: payload.Text, SampleRate: reg.rate})
		}
	case "complete":
		if llm, ok := reg.impl.(LLM); ok {
			err = llm.Complete(ctx, &LLMRequest{ProviderRequest: req, Messages: payload.Messages, Tools: payload.Tools,
				Temperature: payload.Temperature, MaxTokens: payload.MaxTokens})
		}
	case "start":
		if stt, ok := reg.impl.(STT); ok {
			rate := payload.SampleRate
			if rate == 0 {
				rate = reg.rate
			}
			err = stt.Recognize(ctx, &STTRequest{ProviderRequest: req, SampleRate: rate, input: a.input})
		}
	}
	p.finish(ctx, req, err)
}

// finish completes a request whose implementation returned, unless it was cancelled or
// already completed.
func (p *providerHub) finish(ctx context.Context, req *ProviderRequest, err error) {
	if req.Cancelled() || req.completed.Load() {
		return
	}
	if err == nil {
		_ = req.Complete("")
		return
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return // the implementation gave up because of a cancellation
	}
	status := StatusProvider
	var perr *Error
	if errors.As(err, &perr) && perr.Status != StatusOK {
		status = perr.Status
	}
	msg := err.Error()
	if perr != nil && perr.Message != "" {
		msg = perr.Message
	}
	_ = req.Fail(status, msg)
}

// close cancels every request in flight (the runtime is closing).
func (p *providerHub) close() {
	p.stop()
	p.mu.Lock()
	active := p.active
	p.active = map[uint64]*activeRequest{}
	p.mu.Unlock()
	for _, a := range active {
		a.req.markCancelled()
		if a.input != nil {
			a.input.close()
		}
	}
}

// inputQueue is an unbounded FIFO feeding a channel, so the event poller never waits for a
// slow recogniser.
type inputQueue struct {
	out    chan STTInput
	mu     sync.Mutex
	items  []STTInput
	closed bool
	wake   chan struct{}
}

func newInputQueue() *inputQueue {
	q := &inputQueue{out: make(chan STTInput), wake: make(chan struct{}, 1)}
	go q.pump()
	return q
}

func (q *inputQueue) push(item STTInput) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, item)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *inputQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *inputQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *inputQueue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		if q.closed {
			q.items = nil
			q.mu.Unlock()
			return
		}
		if len(q.items) == 0 {
			q.mu.Unlock()
			<-q.wake
			continue
		}
		item := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- item:
		case <-q.wake:
			// closed (or more items) while waiting: put it back and look again
			q.mu.Lock()
			q.items = append([]STTInput{item}, q.items...)
			q.mu.Unlock()
		}
	}
}
