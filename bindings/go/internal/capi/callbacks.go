package capi

// Hand-written part of package capi: the Go side of the budget controller's callback
// trampolines declared in bindings/swig/parley_go.i. SWIG cannot turn a Go function into a
// C function pointer, so the C trampolines in the generated wrapper call these exported
// functions. The engine invokes the callbacks synchronously on the thread that called
// parley_budget_prepare() or parley_budget_record_ttft(), inside that Go caller's own cgo
// call; no engine thread ever enters Go.

/*
#include <stdint.h>
#include <stddef.h>
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// BudgetCallbacks receives a budget controller's callbacks. Register it with
// RegisterBudgetCallbacks and pass the id to Parley_go_budget_set_callbacks and friends.
type BudgetCallbacks interface {
	// BudgetEvent receives a compression (kind 0) or violation (kind 1) event as JSON.
	BudgetEvent(kind int, eventJSON string)
	// BudgetEmbed writes an embedding of text into out and returns how many floats it
	// wrote, or -1 when it cannot (the controller then uses BM25).
	BudgetEmbed(out []float32, text string) int
	// BudgetSummarize starts summarising messagesJSON; the answer goes to
	// Parley_budget_provide_summary with the same id.
	BudgetSummarize(requestID uint64, messagesJSON string)
}

var (
	budgetCallbacks sync.Map // id (uintptr) -> BudgetCallbacks
	lastCallbacksID atomic.Uintptr
)

// RegisterBudgetCallbacks returns a non-zero id for cb, the user_data the trampolines get.
func RegisterBudgetCallbacks(cb BudgetCallbacks) uintptr {
	id := lastCallbacksID.Add(1)
	budgetCallbacks.Store(id, cb)
	return id
}

// UnregisterBudgetCallbacks forgets id. A callback still in flight with that id finishes
// with the value it already looked up; later ones do nothing (unlike a runtime/cgo.Handle,
// a stale id never panics on the engine's stack).
func UnregisterBudgetCallbacks(id uintptr) { budgetCallbacks.Delete(id) }

func callbacksOf(handle C.uintptr_t) BudgetCallbacks {
	if handle == 0 {
		return nil
	}
	cb, _ := budgetCallbacks.Load(uintptr(handle))
	v, _ := cb.(BudgetCallbacks)
	return v
}

//export parleyGoBudgetEvent
func parleyGoBudgetEvent(handle C.uintptr_t, kind C.int, eventJSON *C.char) {
	if cb := callbacksOf(handle); cb != nil {
		cb.BudgetEvent(int(kind), C.GoString(eventJSON))
	}
}

//export parleyGoBudgetEmbed
func parleyGoBudgetEmbed(handle C.uintptr_t, out *C.float, capacity C.size_t, text *C.char) C.int {
	cb := callbacksOf(handle)
	if cb == nil || out == nil {
		return -1
	}
	// The vector is C memory owned by the engine, valid during the call.
	vec := unsafe.Slice((*float32)(unsafe.Pointer(out)), int(capacity))
	n := cb.BudgetEmbed(vec, C.GoString(text))
	if n > int(capacity) {
		n = -1
	}
	return C.int(n)
}

//export parleyGoBudgetSummarize
func parleyGoBudgetSummarize(handle C.uintptr_t, requestID C.uint64_t, messagesJSON *C.char) {
	if cb := callbacksOf(handle); cb != nil {
		cb.BudgetSummarize(uint64(requestID), C.GoString(messagesJSON))
	}
}
