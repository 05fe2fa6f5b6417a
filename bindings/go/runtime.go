package parley

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// pollSlice bounds how long one native wait lasts, so a context is noticed (and Close can
// stop the poller) within this time.
const pollSlice = 50 * time.Millisecond

// eventBatch is how many events one native poll call may take.
const eventBatch = 64

// Runtime is a Parley runtime: its threads, its event queue, and the listeners and
// sessions created from it. Close it with Close; a Runtime that is garbage collected
// without Close is closed by a finalizer (its calls hung up at once).
type Runtime struct {
	core *runtimeCore
}

// runtimeCore is what the event goroutine and the finalizer share; the poller references
// only this, so an abandoned *Runtime can still be collected and finalized.
type runtimeCore struct {
	h *handle

	mu        sync.Mutex
	closing   bool
	listeners map[*handle]struct{}
	sessions  map[*handle]struct{}
	closeDone chan struct{}

	channelMode atomic.Bool   // Events() was called: events go to the channel
	eventsOnce  sync.Once     // starts the poller
	events      chan Event    // closed when the poller stops
	stop        chan struct{} // closed by Close
	pollerDone  chan struct{} // closed when the poller has returned

	providers *providerHub // host-implemented providers written in Go
	speaks    speakBoard   // Session.Speak marks not yet known to the engine's mark board
}

// New creates a runtime from a JSON configuration ("" means all defaults). A rejected
// configuration returns an *Error with StatusConfig whose message names the JSON path,
// e.g. `runtime config: $.io_threads: expected an integer`.
func New(configJSON string) (*Runtime, error) {
	if configJSON == "" {
		configJSON = "{}"
	}
	var ptr uintptr
	if err := capi.Parley_runtime_create(&ptr, configJSON); err != nil {
		return nil, wrapErr("New", err)
	}
	core := &runtimeCore{
		h:          newHandle(ptr, capi.Parley_runtime_destroy),
		listeners:  map[*handle]struct{}{},
		sessions:   map[*handle]struct{}{},
		closeDone:  make(chan struct{}),
		events:     make(chan Event, 4*eventBatch),
		stop:       make(chan struct{}),
		pollerDone: make(chan struct{}),
	}
	core.providers = newProviderHub(&runtimeAnswerer{h: core.h})
	r := &Runtime{core: core}
	runtime.SetFinalizer(r, func(r *Runtime) {
		// Safety net only: hang up at once, off the finalizer goroutine.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		go r.core.close(ctx)
	})
	return r, nil
}

// Close stops the runtime: listeners stop accepting and their calls may finish until ctx is
// done, then the calls still live are hung up; sessions opened from this runtime are
// closed; the Events channel is closed; the runtime's threads stop. Pass a context with a
// deadline for a graceful stop, an already cancelled one to hang up at once. Closing again
// returns nil.
func (r *Runtime) Close(ctx context.Context) error {
	if r == nil {
		return nilErr("Runtime.Close", "runtime")
	}
	r.core.close(ctx)
	runtime.SetFinalizer(r, nil)
	return nil
}

func (c *runtimeCore) close(ctx context.Context) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		<-c.closeDone
		return
	}
	c.closing = true
	listeners := make([]*handle, 0, len(c.listeners))
	for h := range c.listeners {
		listeners = append(listeners, h)
	}
	sessions := make([]*handle, 0, len(c.sessions))
	for h := range c.sessions {
		sessions = append(sessions, h)
	}
	c.listeners, c.sessions = nil, nil
	c.mu.Unlock()
	defer close(c.closeDone)
	c.providers.close() // Go providers' requests in flight see their contexts cancelled

	// Listeners drain concurrently until ctx is done, then are destroyed (before the runtime,
	// as the C ABI requires).
	var wg sync.WaitGroup
	for _, h := range listeners {
		wg.Add(1)
		go func(h *handle) {
			defer wg.Done()
			_, _ = stopListener(ctx, h)
			h.close()
		}(h)
	}
	wg.Wait()
	for _, h := range sessions {
		h.close()
	}

	// Stop the poller (it notices within pollSlice), then destroy the runtime. If Events was
	// never called, the Once closes the channel so that later calls get a closed channel.
	close(c.stop)
	c.eventsOnce.Do(func() { close(c.events); close(c.pollerDone) })
	<-c.pollerDone
	c.h.close()
}

// register records a listener or session handle so Close can close it first.
func (c *runtimeCore) register(h *handle, listener bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	if listener {
		c.listeners[h] = struct{}{}
	} else {
		c.sessions[h] = struct{}{}
	}
	return true
}

func (c *runtimeCore) unregister(h *handle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.listeners, h)
	delete(c.sessions, h)
}

// Log writes one record through the runtime's logger (with its redaction and sink).
func (r *Runtime) Log(level LogLevel, message string) error {
	const op = "Runtime.Log"
	if r == nil {
		return nilErr(op, "runtime")
	}
	ptr, ok := r.core.h.acquire()
	if !ok {
		return closedErr(op, "runtime")
	}
	defer r.core.h.release()
	return wrapErr(op, capi.Parley_runtime_log(ptr, int(level), message))
}

// PostEvent queues an EventUser event carrying payloadJSON (which must be valid JSON).
// It returns StatusFull when the event queue is full (the event is counted as dropped and
// reported by an EventOverflow).
func (r *Runtime) PostEvent(payloadJSON string) error {
	const op = "Runtime.PostEvent"
	if r == nil {
		return nilErr(op, "runtime")
	}
	ptr, ok := r.core.h.acquire()
	if !ok {
		return closedErr(op, "runtime")
	}
	err := capi.Parley_runtime_post_event(ptr, payloadJSON)
	r.core.h.release()
	return wrapErr(op, err)
}

// Events returns the channel the runtime's events arrive on. The first call starts a
// goroutine that polls the runtime and sends each event, copied into Go memory, on the
// channel; the channel is closed by Close. While nobody receives, the goroutine waits and
// the engine's bounded queue fills: further events are dropped and counted, and an
// EventOverflow reports how many. After Events has been called, PollEvent is not used.
// The goroutine also dispatches requests for providers implemented in Go (RegisterTTS...),
// which never appear on the channel.
func (r *Runtime) Events() <-chan Event {
	if r == nil {
		ch := make(chan Event)
		close(ch)
		return ch
	}
	c := r.core
	c.channelMode.Store(true)
	c.eventsOnce.Do(func() { go c.pollLoop() })
	return c.events
}

func (c *runtimeCore) pollLoop() {
	defer close(c.pollerDone)
	defer close(c.events)
	views := make([]capi.EventView, eventBatch)
	release := make([]uintptr, 0, eventBatch)
	var pending []uintptr // taken from the engine, not yet released
	releaseAll := func() {
		pending = append(pending, release...)
		if len(pending) > 0 {
			capi.Parley_go_release_events(&pending[0], int64(len(pending)))
		}
		pending, release = pending[:0], release[:0]
	}
	for {
		select {
		case <-c.stop:
			releaseAll()
			return
		default:
		}
		ptr, ok := c.h.acquire()
		if !ok {
			releaseAll()
			return
		}
		var n int32
		var rel *uintptr
		if len(release) > 0 {
			rel = &release[0]
		}
		err := capi.Parley_go_poll_batch(&n, &views[0], int64(len(views)), rel, int64(len(release)), ptr,
			int(pollSlice/time.Millisecond))
		c.h.release()
		release = release[:0]
		if err != nil {
			// The runtime refused to be polled (e.g. a callback was set): report it once as
			// a runtime error event and stop.
			select {
			case c.events <- Event{Type: EventRuntimeError, Payload: errorPayload(err.Message)}:
			case <-c.stop:
			}
			return
		}
		for i := 0; i < int(n); i++ {
			rec := capi.CopyView(&views[i])
			release = append(release, capi.ViewHandle(&views[i]))
			ev := eventFromRecord(rec)
			if c.providers.dispatch(ev) {
				continue
			}
			c.speaks.observe(ev)
			select {
			case c.events <- ev:
			case <-c.stop:
				for j := i + 1; j < int(n); j++ {
					release = append(release, capi.ViewHandle(&views[j]))
				}
				releaseAll()
				return
			}
		}
	}
}

// PollEvent waits for the next event until ctx is done (then it returns ctx.Err()). Use
// either PollEvent or Events, not both. Requests for providers implemented in Go are
// dispatched to them by whichever reads the events, so keep reading while they may come.
func (r *Runtime) PollEvent(ctx context.Context) (Event, error) {
	const op = "Runtime.PollEvent"
	if r == nil {
		return Event{}, nilErr(op, "runtime")
	}
	if r.core.channelMode.Load() {
		return Event{}, &Error{Status: StatusState, Op: op, Message: "events are delivered on the Events channel"}
	}
	var view [1]capi.EventView
	for {
		if err := ctx.Err(); err != nil {
			return Event{}, err
		}
		ptr, ok := r.core.h.acquire()
		if !ok {
			return Event{}, closedErr(op, "runtime")
		}
		var n int32
		err := capi.Parley_go_poll_batch(&n, &view[0], 1, nil, 0, ptr, sliceMillis(ctx))
		r.core.h.release()
		if err != nil {
			return Event{}, wrapErr(op, err)
		}
		if n == 1 {
			ev := eventFromRecord(capi.CopyView(&view[0]))
			h := capi.ViewHandle(&view[0])
			capi.Parley_go_release_events(&h, 1)
			if r.core.providers.dispatch(ev) {
				continue // a request for a Go provider: dispatched, wait for the next event
			}
			r.core.speaks.observe(ev)
			return ev, nil
		}
	}
}

// sliceMillis is how long the next native wait may last: pollSlice, or less when the
// context's deadline is nearer.
func sliceMillis(ctx context.Context) int {
	d := pollSlice
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			d = left
		}
	}
	if d < 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
