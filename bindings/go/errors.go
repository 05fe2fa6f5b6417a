package parley

import (
	"errors"

	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

// Status is a Parley status code (parley_status). The values are part of the C ABI and
// never change meaning. A Status is also an error, so it can be the target of errors.Is:
//
//	if errors.Is(err, parley.StatusConfig) { ... }
type Status int

// Status codes, one per PARLEY_E* value.
const (
	StatusOK          Status = 0   // PARLEY_OK
	StatusInvalid     Status = -1  // PARLEY_EINVAL: an argument is invalid (nil handle, bad value)
	StatusConfig      Status = -2  // PARLEY_ECONFIG: configuration rejected; the message names the JSON path
	StatusNoMemory    Status = -3  // PARLEY_ENOMEM
	StatusState       Status = -4  // PARLEY_ESTATE: wrong state (e.g. closed)
	StatusTimeout     Status = -5  // PARLEY_ETIMEOUT
	StatusNotFound    Status = -6  // PARLEY_ENOTFOUND
	StatusUnsupported Status = -7  // PARLEY_EUNSUPPORTED
	StatusIO          Status = -8  // PARLEY_EIO
	StatusFormat      Status = -9  // PARLEY_EFORMAT: malformed data (JSON, WAV)
	StatusProtocol    Status = -10 // PARLEY_EPROTOCOL
	StatusProvider    Status = -11 // PARLEY_EPROVIDER
	StatusCancelled   Status = -12 // PARLEY_ECANCELLED
	StatusFull        Status = -13 // PARLEY_EFULL: a bounded queue or capacity is full
	StatusInternal    Status = -99 // PARLEY_EINTERNAL: a bug in Parley
)

var statusNames = map[Status]string{
	StatusOK: "PARLEY_OK", StatusInvalid: "PARLEY_EINVAL", StatusConfig: "PARLEY_ECONFIG",
	StatusNoMemory: "PARLEY_ENOMEM", StatusState: "PARLEY_ESTATE", StatusTimeout: "PARLEY_ETIMEOUT",
	StatusNotFound: "PARLEY_ENOTFOUND", StatusUnsupported: "PARLEY_EUNSUPPORTED", StatusIO: "PARLEY_EIO",
	StatusFormat: "PARLEY_EFORMAT", StatusProtocol: "PARLEY_EPROTOCOL", StatusProvider: "PARLEY_EPROVIDER",
	StatusCancelled: "PARLEY_ECANCELLED", StatusFull: "PARLEY_EFULL", StatusInternal: "PARLEY_EINTERNAL",
}

// String returns the C name of the status ("PARLEY_ECONFIG"), or the engine's name for
// a code this package does not know yet.
func (s Status) String() string {
	if name, ok := statusNames[s]; ok {
		return name
	}
	return capi.Parley_status_name(int(s))
}

// Error makes a Status usable as an errors.Is target.
func (s Status) Error() string { return s.String() }

// Error is a failed Parley call: the status and the engine's message (for a configuration,
// the message names the JSON path of the bad field), read inside the failing native call.
type Error struct {
	Status  Status
	Message string
	Op      string // the Go method that failed, e.g. "New" or "Session.PushAudio"

	closed bool // the handle was closed (Unwrap gives ErrClosed)
}

func (e *Error) Error() string {
	if e.Op == "" {
		return "parley: " + e.Message
	}
	return "parley: " + e.Op + ": " + e.Message
}

// Is reports whether target is the same Status, or an *Error with the same Status (and the
// same message, if the target has one).
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Status:
		return e.Status == t
	case *Error:
		return e.Status == t.Status && (t.Message == "" || t.Message == e.Message)
	}
	return false
}

// ErrClosed is returned (wrapped in an *Error with StatusState) by a method of a closed
// handle; errors.Is(err, parley.ErrClosed) recognises it.
var ErrClosed = errors.New("parley: handle is closed")

// Unwrap exposes ErrClosed for errors about closed handles.
func (e *Error) Unwrap() error {
	if e.closed {
		return ErrClosed
	}
	return nil
}

func wrapErr(op string, err *capi.Error) error {
	if err == nil {
		return nil
	}
	return &Error{Status: Status(err.Code), Message: err.Message, Op: op}
}

func closedErr(op, what string) error {
	return &Error{Status: StatusState, Message: what + " is closed", Op: op, closed: true}
}

func nilErr(op, what string) error {
	return &Error{Status: StatusInvalid, Message: "nil " + what, Op: op}
}
