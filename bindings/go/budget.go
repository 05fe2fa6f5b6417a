package parley

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// Budget is a TTFT budget controller: it keeps a percentile of the model's
// time-to-first-token under a target by compressing the conversation only as much as the
// model's learned latency curve says is needed (docs/budget.md). Use it around your own
// LLM calls:
//
//	toSend, err := budget.Prepare(historyJSON)
//	... start the streaming request with toSend; at the first token:
//	budget.RecordTTFT(time.Since(start), -1)
//
// A Budget may be used from several goroutines. Its callbacks (OnCompression,
// OnViolation, Embedder, Summarizer) run synchronously inside Prepare or RecordTTFT, on the
// calling goroutine.
type Budget struct {
	h *handle

	mu        sync.Mutex
	callbacks *budgetCallbacks
	cbID      uintptr // capi.RegisterBudgetCallbacks id of callbacks
}

// BudgetReportFormat selects Budget.Report's format.
type BudgetReportFormat int

// Report formats.
const (
	BudgetReportJSON BudgetReportFormat = 0 // one JSON object
	BudgetReportText BudgetReportFormat = 1 // aligned lines for people
)

// NewBudget creates a controller from a JSON configuration ("" for defaults), e.g.
// {"target_ms": 800, "model": "gpt-4o-mini"}.
func NewBudget(configJSON string) (*Budget, error) {
	if configJSON == "" {
		configJSON = "{}"
	}
	var ptr uintptr
	if err := capi.Parley_budget_create(&ptr, configJSON); err != nil {
		return nil, wrapErr("NewBudget", err)
	}
	b := &Budget{h: newHandle(ptr, capi.Parley_budget_destroy)}
	runtime.SetFinalizer(b, (*Budget).finalize)
	return b, nil
}

func (b *Budget) finalize() { _ = b.Close() }

// Close frees the controller. Closing again returns nil.
func (b *Budget) Close() error {
	if b == nil {
		return nilErr("Budget.Close", "budget")
	}
	b.h.close()
	b.mu.Lock()
	if b.callbacks != nil {
		capi.UnregisterBudgetCallbacks(b.cbID)
		b.callbacks = nil
	}
	b.mu.Unlock()
	runtime.SetFinalizer(b, nil)
	return nil
}

func (b *Budget) call(op string, fn func(uintptr) *capi.Error) error {
	if b == nil {
		return nilErr(op, "budget")
	}
	ptr, ok := b.h.acquire()
	if !ok {
		return closedErr(op, "budget")
	}
	err := fn(ptr)
	b.h.release()
	b.rethrow()
	return wrapErr(op, err)
}

// Prepare decides what to send for the next LLM call: messagesJSON is an OpenAI-style
// messages array; the result is the messages to send (a JSON array).
func (b *Budget) Prepare(messagesJSON string) (string, error) {
	var out string
	err := b.call("Budget.Prepare", func(p uintptr) *capi.Error { return capi.Parley_budget_prepare(&out, p, messagesJSON) })
	return out, err
}

// RecordTTFT records the measured time to first token of the call prepared last.
// promptTokens is the prompt size the provider reported, or -1 for Prepare's count.
func (b *Budget) RecordTTFT(ttft time.Duration, promptTokens int64) error {
	ms := float64(ttft) / float64(time.Millisecond)
	return b.call("Budget.RecordTTFT", func(p uintptr) *capi.Error { return capi.Parley_budget_record_ttft(p, ms, promptTokens) })
}

// Stats returns the selected model's statistics as JSON.
func (b *Budget) Stats() (string, error) {
	var out string
	err := b.call("Budget.Stats", func(p uintptr) *capi.Error { return capi.Parley_budget_stats_json(&out, p) })
	return out, err
}

// Report returns the session report in the given format.
func (b *Budget) Report(format BudgetReportFormat) (string, error) {
	var out string
	err := b.call("Budget.Report", func(p uintptr) *capi.Error { return capi.Parley_budget_report(&out, p, int(format)) })
	return out, err
}

// CountTokens counts the tokens of text with the controller's tokenizer.
func (b *Budget) CountTokens(text string) (int64, error) {
	var n int64
	err := b.call("Budget.CountTokens", func(p uintptr) *capi.Error { return capi.Parley_budget_count_tokens(&n, p, text) })
	return n, err
}

// SelectModel switches the latency curve the decisions use; model may be "".
func (b *Budget) SelectModel(provider, model string) error {
	return b.call("Budget.SelectModel", func(p uintptr) *capi.Error { return capi.Parley_budget_select_model(p, provider, model) })
}

// ProvideSummary supplies the summary for requestID (from the Summarizer); "" declines.
// It may be called from any goroutine, including from inside the Summarizer.
func (b *Budget) ProvideSummary(requestID uint64, summary string) error {
	return b.call("Budget.ProvideSummary", func(p uintptr) *capi.Error {
		return capi.Parley_budget_provide_summary(p, requestID, summary)
	})
}

// BudgetHooks are a controller's optional callbacks. They run synchronously inside
// Prepare or RecordTTFT on the calling goroutine. Event JSON shapes are in parley.h.
type BudgetHooks struct {
	// OnCompression receives {"action": "compress"|"rollback", ...}.
	OnCompression func(eventJSON string)
	// OnViolation receives {"kind": "ttft_over_target"|"budget_unreachable", ...}.
	OnViolation func(eventJSON string)
	// Embedder writes an embedding of text into out (at most len(out) floats) and returns
	// how many, or -1 (BM25 is used then). For "scorer": "embeddings". It must not call the
	// Budget.
	Embedder func(out []float32, text string) int
	// Summarizer starts summarising messagesJSON and later calls ProvideSummary with
	// requestID. For "summary": {"enabled": true}.
	Summarizer func(requestID uint64, messagesJSON string)
}

type budgetCallbacks struct {
	hooks BudgetHooks

	mu       sync.Mutex
	panicked any // a hook's panic, re-raised on the Go side once the native call returns
}

func (c *budgetCallbacks) guard() {
	if p := recover(); p != nil {
		c.mu.Lock()
		if c.panicked == nil {
			c.panicked = p
		}
		c.mu.Unlock()
	}
}

func (c *budgetCallbacks) BudgetEvent(kind int, eventJSON string) {
	defer c.guard() // a panic must not unwind through the engine's C++ frames
	if kind == 0 && c.hooks.OnCompression != nil {
		c.hooks.OnCompression(eventJSON)
	} else if kind == 1 && c.hooks.OnViolation != nil {
		c.hooks.OnViolation(eventJSON)
	}
}

func (c *budgetCallbacks) BudgetEmbed(out []float32, text string) (n int) {
	n = -1
	defer c.guard()
	if c.hooks.Embedder != nil {
		n = c.hooks.Embedder(out, text)
	}
	return n
}

func (c *budgetCallbacks) BudgetSummarize(requestID uint64, messagesJSON string) {
	defer c.guard()
	if c.hooks.Summarizer != nil {
		c.hooks.Summarizer(requestID, messagesJSON)
	}
}

// SetHooks installs the callbacks (nil fields are not called; SetHooks(BudgetHooks{})
// removes them all). A panic in a hook is re-raised by the Prepare or RecordTTFT call it
// ran in, after the engine has returned.
func (b *Budget) SetHooks(hooks BudgetHooks) error {
	const op = "Budget.SetHooks"
	if b == nil {
		return nilErr(op, "budget")
	}
	ptr, ok := b.h.acquire()
	if !ok {
		return closedErr(op, "budget")
	}
	defer b.h.release()
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := &budgetCallbacks{hooks: hooks}
	id := capi.RegisterBudgetCallbacks(cb)
	set := func(compress, embed, summarize bool) *capi.Error {
		v := func(on bool) uintptr {
			if on {
				return id
			}
			return 0
		}
		if err := capi.Parley_go_budget_set_callbacks(ptr, v(compress)); err != nil {
			return err
		}
		if err := capi.Parley_go_budget_set_embedder(ptr, v(embed)); err != nil {
			return err
		}
		return capi.Parley_go_budget_set_summarizer(ptr, v(summarize))
	}
	if err := set(hooks.OnCompression != nil || hooks.OnViolation != nil, hooks.Embedder != nil,
		hooks.Summarizer != nil); err != nil {
		capi.UnregisterBudgetCallbacks(id)
		return wrapErr(op, err)
	}
	// The engine now calls with the new id; a callback of the old one still running keeps
	// the value it looked up.
	if b.callbacks != nil {
		capi.UnregisterBudgetCallbacks(b.cbID)
	}
	b.callbacks, b.cbID = cb, id
	return nil
}

// rethrow re-raises a hook's panic on the caller's goroutine.
func (b *Budget) rethrow() {
	b.mu.Lock()
	cb := b.callbacks
	b.mu.Unlock()
	if cb == nil {
		return
	}
	cb.mu.Lock()
	p := cb.panicked
	cb.panicked = nil
	cb.mu.Unlock()
	if p != nil {
		panic(fmt.Sprintf("parley: budget hook panicked: %v", p))
	}
}
