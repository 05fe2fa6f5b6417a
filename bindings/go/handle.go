package parley

import (
	"sync"
	"sync/atomic"
)

// handle guards one C handle against use after close. A call takes a reference for its
// duration (acquire/release: one atomic add each); close marks the handle closed, waits
// until the calls in flight have released it, then destroys it once. Calls on a closed
// handle get an error instead of reaching the engine with a dangling pointer. References
// nest (a budget hook may call its Budget), and a waiting close never blocks new
// references from calls already inside, unlike a sync.RWMutex.
type handle struct {
	state   atomic.Int64 // closedBit | number of calls in flight
	ptr     uintptr      // set once at creation
	destroy func(uintptr)

	drainedOnce sync.Once
	drained     chan struct{} // closed when the last call in flight after close releases
	closeOnce   sync.Once
	closeDone   chan struct{} // closed once the handle is destroyed
}

const closedBit = int64(1) << 62

func newHandle(ptr uintptr, destroy func(uintptr)) *handle {
	return &handle{ptr: ptr, destroy: destroy, drained: make(chan struct{}), closeDone: make(chan struct{})}
}

// acquire returns the pointer and takes a reference, or false when the handle is closed.
// Every successful acquire is paired with release.
func (h *handle) acquire() (uintptr, bool) {
	if h.state.Add(1)&closedBit != 0 {
		h.release()
		return 0, false
	}
	return h.ptr, true
}

func (h *handle) release() {
	if h.state.Add(-1) == closedBit {
		h.drainedOnce.Do(func() { close(h.drained) })
	}
}

// close destroys the handle once, after the calls in flight have returned; it reports
// whether this call did it. A second close waits for the first to finish.
func (h *handle) close() bool {
	did := false
	h.closeOnce.Do(func() {
		did = true
		if h.state.Add(closedBit)&^closedBit != 0 {
			<-h.drained
		}
		if h.destroy != nil {
			h.destroy(h.ptr)
		}
		close(h.closeDone)
	})
	<-h.closeDone
	return did
}
