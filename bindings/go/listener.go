package parley

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// Listener accepts calls of one transport (today "twilio") and creates a session for each;
// their events arrive on the runtime's event stream.
type Listener struct {
	h    *handle
	rt   *Runtime // keeps the runtime alive while the listener is reachable
	port int
	id   string
}

// Listen starts a listener from a JSON configuration, for example
//
//	{"transport": "twilio", "address": "127.0.0.1", "port": 0, "path": "/twilio",
//	 "behaviour": "echo"}
//
// (parley.h documents every key). Port 0 picks a free port: see Port.
func (r *Runtime) Listen(configJSON string) (*Listener, error) {
	const op = "Runtime.Listen"
	if r == nil {
		return nil, nilErr(op, "runtime")
	}
	rptr, ok := r.core.h.acquire()
	if !ok {
		return nil, closedErr(op, "runtime")
	}
	defer r.core.h.release()
	var ptr uintptr
	if err := capi.Parley_listener_start(&ptr, rptr, configJSON); err != nil {
		return nil, wrapErr(op, err)
	}
	l := &Listener{
		h:    newHandle(ptr, capi.Parley_listener_destroy),
		rt:   r,
		port: capi.Parley_listener_port(ptr),
		id:   capi.Parley_listener_id(ptr),
	}
	if !r.core.register(l.h, true) {
		l.h.close()
		return nil, closedErr(op, "runtime")
	}
	runtime.SetFinalizer(l, (*Listener).finalize)
	return l, nil
}

func (l *Listener) finalize() {
	l.rt.core.unregister(l.h)
	l.h.close()
}

// Port returns the bound TCP port (the real one when the configuration said 0).
func (l *Listener) Port() int {
	if l == nil {
		return 0
	}
	return l.port
}

// ID returns the listener's id, as in session events.
func (l *Listener) ID() string {
	if l == nil {
		return ""
	}
	return l.id
}

// Stop stops accepting calls and lets live calls end until ctx is done; the calls still
// live then are hung up. It returns how many calls had to be hung up. A context without a
// deadline that is never cancelled waits for every call to end. Stop is idempotent.
func (l *Listener) Stop(ctx context.Context) (hungUp int, err error) {
	const op = "Listener.Stop"
	if l == nil {
		return 0, nilErr(op, "listener")
	}
	n, cerr := stopListener(ctx, l.h)
	if cerr != nil {
		if errors.Is(cerr, ErrClosed) {
			return 0, closedErr(op, "listener")
		}
		return n, wrapErr(op, cerr.(*capi.Error))
	}
	return n, nil
}

// stopListener drains h until ctx is done. The engine's drain blocks with a timeout, so a
// deadline becomes that timeout; a cancellation (no deadline reached) hangs up what is
// left with a second, immediate stop, which makes the first return.
func stopListener(ctx context.Context, h *handle) (int, error) {
	ptr, ok := h.acquire()
	if !ok {
		return 0, ErrClosed
	}
	defer h.release()
	timeout := -1
	if dl, ok := ctx.Deadline(); ok {
		timeout = int(time.Until(dl) / time.Millisecond)
		if timeout < 0 {
			timeout = 0
		}
	}
	if ctx.Err() != nil {
		timeout = 0
	}
	type result struct {
		n   int64
		err *capi.Error
	}
	finish := func(r result) (int, error) {
		if r.err != nil {
			return int(r.n), r.err
		}
		return int(r.n), nil
	}
	if timeout == 0 || ctx.Done() == nil {
		var n int64
		return finish(result{n, capi.Parley_listener_stop(&n, ptr, timeout)})
	}
	done := make(chan result, 1)
	go func() {
		var n int64
		err := capi.Parley_listener_stop(&n, ptr, timeout)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return finish(r)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The engine's own timeout ends the drain now.
			return finish(<-done)
		}
		var n int64
		err := capi.Parley_listener_stop(&n, ptr, 0)
		first := <-done
		if err == nil {
			err = first.err
		}
		return finish(result{n + first.n, err})
	}
}

// Close stops accepting calls (without draining) and releases the listener; live calls
// carry on until they end or the runtime is closed. Closing again returns nil.
func (l *Listener) Close() error {
	if l == nil {
		return nilErr("Listener.Close", "listener")
	}
	l.rt.core.unregister(l.h)
	l.h.close()
	runtime.SetFinalizer(l, nil)
	return nil
}
