/*
 * parley_go.i — the Go part of the SWIG interface, included by parley.i under SWIGGO.
 *
 * Generates the raw package bindings/go/internal/capi, which the idiomatic package `parley`
 * (bindings/go) wraps; users never import capi. Regenerate with bindings/go/generate.sh.
 * The output is committed because `go get` users build with cgo and pkg-config, not SWIG;
 * bindings/go/test.sh checks that regenerating gives the committed files.
 *
 * What this file changes from SWIG's Go defaults, and why:
 *
 *  - Errors are returned, not raised. A function returning an `int` status returns a Go
 *    `*capi.Error` (nil on PARLEY_OK), copied inside the generated C wrapper, in the same
 *    native call as the failing function: the engine's error record is thread-local and a
 *    goroutine can move to another OS thread between two cgo calls (parley.h,
 *    docs/c-abi.md). parley.i's PARLEY_SWIG_FAIL route would raise from the wrapper, which
 *    in Go is a panic unwinding C frames (skipping the wrapper's frees), so Go defines
 *    PARLEY_SWIG_CUSTOM_ERRORS.
 *  - Out-parameters stay out-parameters. parley.i's parley_swig_* helpers return the value
 *    and keep the status in a thread-local; a Go wrapper has one return value, which is the
 *    error here, so Go declares the C functions themselves (below) with Go pointers:
 *    `parley_x **out` is `*uintptr`, `char **out` is `*string`, `int *` is `*int32`.
 *  - Handles are `uintptr`: C memory the Go GC never scans.
 *  - Audio buffers are Go slices passed without a copy (the engine copies them before it
 *    returns; int16 and byte memory hold no Go pointers, so the cgo pointer rules allow it).
 *  - Strings the library owns (ids, payloads, names) are copied once into Go memory by the
 *    Go side, instead of SWIG's malloc + copy + cgo free. Short input strings are
 *    NUL-terminated in a stack buffer instead of a malloc.
 *  - Events are read in batches (parley_go_poll_batch): one cgo call releases the previous
 *    batch, waits for the next events and returns all their fields.
 *  - Host-implemented providers are registered in event mode (parley_go_provider_register
 *    passes NULL callbacks): their requests are polled like any event; parley.i does not
 *    wrap parley_provider_callbacks.
 *  - Callbacks: events and logs are polled, so no engine thread ever calls into Go. The
 *    budget controller's callbacks run synchronously on the thread that called prepare() or
 *    record_ttft(), i.e. inside the Go caller's own cgo call; they go through C trampolines
 *    below to Go functions exported by internal/capi/callbacks.go.
 */

%include <stdint.i>

/* ---- Types shared by the cgo preamble (Go side) and the wrapper (C side) ---------------- */

%insert(cgo_comment_typedefs) %{
#cgo pkg-config: parley
#include <stdlib.h>
#include <stdint.h>

// Line comments only in this block: it sits inside the Go file's cgo preamble comment.
// Keep these structs identical to the copies in the C wrapper below (TestViewLayout).

// A failed call's status and the engine's message, copied inside the call.
typedef struct parley_go_error {
  int code;
  int owned;
  const char *message;
} parley_go_error;

// One polled event's fields; every pointer belongs to the event `handle`.
typedef struct parley_go_event_view {
  uintptr_t handle;
  int32_t type;
  int32_t sample_rate;
  int64_t timestamp_us;
  uintptr_t session_id;
  uint64_t session_id_len;
  uintptr_t payload;
  uint64_t payload_len;
  uintptr_t audio;
  uint64_t audio_count;
} parley_go_event_view;
%}

%{
#include <stdlib.h>
#include <string.h>
#include <parley/parley.h>

typedef struct parley_go_error {
  int code;
  int owned; /* 1: malloc'd (the message follows the record); the Go side frees it */
  const char *message;
} parley_go_error;

typedef struct parley_go_event_view {
  uintptr_t handle;
  int32_t type;
  int32_t sample_rate;
  int64_t timestamp_us;
  uintptr_t session_id;
  uint64_t session_id_len;
  uintptr_t payload;
  uint64_t payload_len;
  uintptr_t audio;
  uint64_t audio_count;
} parley_go_event_view;

static parley_go_error parley_go_error_oom = {PARLEY_ENOMEM, 0, "out of memory while copying a Parley error"};

/* Copies the calling thread's error record for `status`. Runs in the generated wrapper,
 * right after the failing call, so it reads that call's record. */
static uintptr_t parley_go_capture(int status) {
  const parley_error *e = parley_error_last();
  const char *msg = (e != NULL && e->message != NULL && e->code == status) ? e->message : parley_status_name(status);
  size_t n = strlen(msg);
  parley_go_error *rec = (parley_go_error *)malloc(sizeof(parley_go_error) + n + 1);
  char *copy;
  if (rec == NULL) return (uintptr_t)&parley_go_error_oom;
  copy = (char *)(rec + 1);
  memcpy(copy, msg, n + 1);
  rec->code = status;
  rec->owned = 1;
  rec->message = copy;
  return (uintptr_t)rec;
}
%}

%insert(go_wrapper) %{

// Error is a non-zero Parley status and the engine's message, copied inside the failing
// call. The idiomatic package turns it into *parley.Error.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

// cptr turns an address of C memory into an unsafe.Pointer (reinterpreting the variable
// rather than converting the integer, so vet's unsafeptr check stays useful).
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func swigTakeError(p uintptr) *Error {
	if p == 0 {
		return nil
	}
	rec := (*C.parley_go_error)(cptr(p))
	e := &Error{Code: int(rec.code), Message: C.GoString(rec.message)}
	if rec.owned != 0 {
		C.free(cptr(p))
	}
	return e
}

// swigGoString copies a NUL-terminated string the library owns into Go memory.
func swigGoString(p uintptr) string {
	if p == 0 {
		return ""
	}
	return C.GoString((*C.char)(cptr(p)))
}

// swigTakeString copies a string the wrapper allocated and frees the C copy.
func swigTakeString(p uintptr) string {
	if p == 0 {
		return ""
	}
	s := C.GoString((*C.char)(cptr(p)))
	C.free(cptr(p))
	return s
}

// EventView is C parley_go_event_view: one polled event's fields, all owned by the event.
type EventView = C.parley_go_event_view

// EventRecord is an event copied into Go memory.
type EventRecord struct {
	Type        int
	SampleRate  int
	TimestampUS int64
	SessionID   string
	Payload     []byte
	Audio       []int16
}

// ViewHandle returns the event handle of a view (to release once copied).
func ViewHandle(v *EventView) uintptr { return uintptr(v.handle) }

// CopyView copies an event's fields into Go memory. The event must not be released yet.
func CopyView(v *EventView) EventRecord {
	r := EventRecord{
		Type:        int(v._type),
		SampleRate:  int(v.sample_rate),
		TimestampUS: int64(v.timestamp_us),
	}
	if v.session_id_len > 0 {
		r.SessionID = C.GoStringN((*C.char)(cptr(uintptr(v.session_id))), C.int(v.session_id_len))
	}
	if v.payload_len > 0 {
		r.Payload = C.GoBytes(cptr(uintptr(v.payload)), C.int(v.payload_len))
	}
	if v.audio_count > 0 {
		r.Audio = make([]int16, int(v.audio_count))
		copy(r.Audio, unsafe.Slice((*int16)(cptr(uintptr(v.audio))), int(v.audio_count)))
	}
	return r
}

// SizeofEventView is the Go size of EventView, compared with the C one by a test.
const SizeofEventView = unsafe.Sizeof(EventView{})
%}

/* ---- Status returns -------------------------------------------------------------------- */

/* The wrapper returns the record's address as a 64-bit integer: for an `int64` imtype SWIG
 * declares `long long` on both sides of cgo, whereas a `uintptr` imtype would keep the C
 * function's own return type (int) in the wrapper. Go is 64-bit only here (-intgosize 64). */
%typemap(gotype) int "*Error"
%typemap(imtype) int "int64"
%typemap(out) int %{ $result = ($1 == 0) ? 0 : (long long)parley_go_capture($1); %}
%typemap(goout) int %{ $result = swigTakeError(uintptr($1)) %}

/* An `int` that is a value, not a status: the functions returning one, constants, and every
 * `int` parameter by name (SWIG's Go module uses one set of typemaps for parameters and
 * return values). A new `int` parameter or value not listed here comes out as `*Error`,
 * which TestGeneratedSignatures catches. */
%define PARLEY_GO_INT_VALUE(NAME)
%typemap(gotype) int NAME "int"
%typemap(imtype) int NAME "int"
%typemap(in) int NAME %{ $1 = (int)$input; %}
%typemap(out) int NAME %{ $result = $1; %}
%typemap(goin) int NAME ""
%typemap(goout) int NAME ""
%enddef
PARLEY_GO_INT_VALUE(parley_listener_port)
PARLEY_GO_INT_VALUE(parley_session_get_state)
PARLEY_GO_INT_VALUE(parley_event_type_of)
PARLEY_GO_INT_VALUE(PARLEY_VERSION_MAJOR)
PARLEY_GO_INT_VALUE(PARLEY_VERSION_MINOR)
PARLEY_GO_INT_VALUE(PARLEY_VERSION_PATCH)
PARLEY_GO_INT_VALUE(PARLEY_VERSION_NUMBER)
PARLEY_GO_INT_VALUE(PARLEY_BUDGET_EMBEDDING_MAX)
PARLEY_GO_INT_VALUE(status)
PARLEY_GO_INT_VALUE(type)
PARLEY_GO_INT_VALUE(level)
PARLEY_GO_INT_VALUE(timeout_ms)
PARLEY_GO_INT_VALUE(drain_timeout_ms)
PARLEY_GO_INT_VALUE(sample_rate)
PARLEY_GO_INT_VALUE(encoding)
PARLEY_GO_INT_VALUE(format)
PARLEY_GO_INT_VALUE(index)
PARLEY_GO_INT_VALUE(is_final)
PARLEY_GO_INT_VALUE(speech_final)

/* parley.i's %exception route raises from the wrapper (see the top of this file). */
#define PARLEY_SWIG_CUSTOM_ERRORS

/* ---- Handles ------------------------------------------------------------------------- */

%define PARLEY_GO_HANDLE(TYPE)
%typemap(gotype) TYPE *, const TYPE * "uintptr"
%typemap(imtype) TYPE *, const TYPE * "uintptr"
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)$input; %}
%typemap(out) TYPE *, const TYPE * %{ $result = (uintptr_t)$1; %}
%typemap(goin) TYPE *, const TYPE * ""
%typemap(goout) TYPE *, const TYPE * ""
%typemap(gotype) TYPE ** "*uintptr"
%typemap(imtype) TYPE ** "*uintptr"
%typemap(in) TYPE ** %{ $1 = ($1_ltype)$input; %}
%typemap(goin) TYPE ** ""
%enddef

PARLEY_GO_HANDLE(parley_runtime)
PARLEY_GO_HANDLE(parley_listener)
PARLEY_GO_HANDLE(parley_session)
PARLEY_GO_HANDLE(parley_event)
PARLEY_GO_HANDLE(parley_budget)

/* ---- Strings ------------------------------------------------------------------------- */

/* Input strings: a NUL-terminated copy, on the stack when short. */
%typemap(in) const char * (char buf[256]) %{
  if ((size_t)$input.n < sizeof(buf)) {
    $1 = buf;
  } else {
    $1 = (char *)malloc((size_t)$input.n + 1);
    if ($1 == NULL) {
      /* every function taking a string returns a status */
      _swig_go_result = (long long)parley_go_capture(PARLEY_ENOMEM);
      return _swig_go_result;
    }
  }
  if ($input.n > 0) memcpy((char *)$1, $input.p, (size_t)$input.n);
  ((char *)$1)[$input.n] = '\0';
%}
%typemap(freearg) const char * %{ if ($1 != buf$argnum) free((char *)$1); %}

/* Strings owned by the library or an event: the wrapper returns the pointer, Go copies. */
%define PARLEY_GO_BORROWED_STRING(NAME)
%typemap(gotype) const char *NAME "string"
%typemap(imtype) const char *NAME "int64"
%typemap(out) const char *NAME %{ $result = (long long)(uintptr_t)$1; %}
%typemap(goout) const char *NAME %{ $result = swigGoString(uintptr($1)) %}
%enddef
PARLEY_GO_BORROWED_STRING(parley_version)
PARLEY_GO_BORROWED_STRING(parley_status_name)
PARLEY_GO_BORROWED_STRING(parley_event_type_name)
PARLEY_GO_BORROWED_STRING(parley_event_session_id)
PARLEY_GO_BORROWED_STRING(parley_event_payload)
PARLEY_GO_BORROWED_STRING(parley_listener_id)
PARLEY_GO_BORROWED_STRING(parley_session_id)

/* Strings handed to the caller: `char **out_*` is a Go *string, set only on success. The
 * wrapper copies the engine's string with malloc and frees the original with
 * parley_string_free() (no allocator crosses the boundary); Go copies and frees the copy. */
%typemap(gotype) char ** "*string"
%typemap(imtype) char ** "*uintptr"
%typemap(goin) char ** %{
	var $1_tmp uintptr
	$result = &$1_tmp
%}
%typemap(in) char ** (char *tmp) %{ tmp = NULL; $1 = &tmp; %}
%typemap(argout) char ** %{
  if (tmp$argnum != NULL) {
    size_t n = strlen(tmp$argnum);
    char *copy = (char *)malloc(n + 1);
    if (copy != NULL) memcpy(copy, tmp$argnum, n + 1);
    parley_string_free(tmp$argnum);
    *(uintptr_t *)$input = (uintptr_t)copy;
  }
%}
%typemap(goargout) char ** %{
	if *$input != 0 {
		s := swigTakeString(*$input)
		if $1 != nil {
			*$1 = s
		}
	}
%}

/* ---- Numbers out ---------------------------------------------------------------------- */

%typemap(gotype) int * "*int32"
%typemap(imtype) int * "*int32"
%typemap(in) int * %{ $1 = (int *)$input; %}
%typemap(goin) int * ""

/* ---- Audio in: Go slices, no copy ------------------------------------------------------ */

%typemap(gotype) (const int16_t *samples, size_t count) "[]int16"
%typemap(in) (const int16_t *samples, size_t count) %{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}
%typemap(gotype) (const uint8_t *bytes, size_t count) "[]byte"
%typemap(in) (const uint8_t *bytes, size_t count) %{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}

/* ---- Functions with out-parameters ---------------------------------------------------- */

/* parley.i's helpers for languages without pointers; Go declares the C functions instead. */
%ignore parley_swig_version_number;
%ignore parley_swig_runtime_create;
%ignore parley_swig_runtime_poll_event;
%ignore parley_swig_runtime_stats_json;
%ignore parley_swig_event_audio_count;
%ignore parley_swig_event_audio_rate;
%ignore parley_swig_event_audio_copy;
%ignore parley_swig_listener_start;
%ignore parley_swig_listener_stop;
%ignore parley_swig_session_open;
%ignore parley_swig_session_create_host;
%ignore parley_swig_session_wait_mark;
%ignore parley_swig_selftest;
%ignore parley_swig_budget_create;
%ignore parley_swig_budget_prepare;
%ignore parley_swig_budget_stats_json;
%ignore parley_swig_budget_report;
%ignore parley_swig_budget_count_tokens;
%ignore parley_swig_session_speak;
%ignore parley_swig_provider_register;
/* The thread-local record is read inside each wrapper; from Go it would be another call's. */
%ignore parley_error_clear;

void parley_version_numbers(int *major, int *minor, int *patch);
int parley_runtime_create(parley_runtime **out, const char *config_json);
int parley_runtime_poll_event(parley_event **out, parley_runtime *runtime, int timeout_ms);
int parley_runtime_stats_json(char **out_json, parley_runtime *runtime);
int parley_listener_start(parley_listener **out, parley_runtime *runtime, const char *config_json);
int parley_listener_stop(size_t *out_hung_up, parley_listener *listener, int drain_timeout_ms);
int parley_session_open(parley_session **out, parley_runtime *runtime, const char *session_id);
int parley_session_create_host(parley_session **out, parley_runtime *runtime, const char *config_json);
int parley_session_wait_mark(int *out_outcome, parley_session *session, const char *name, int timeout_ms);
int parley_selftest(char **out_report_json);
int parley_budget_create(parley_budget **out, const char *config_json);
int parley_budget_prepare(char **out_messages_json, parley_budget *budget, const char *messages_json);
int parley_budget_stats_json(char **out_json, parley_budget *budget);
int parley_budget_report(char **out_report, parley_budget *budget, int format);
int parley_budget_count_tokens(int64_t *out_count, parley_budget *budget, const char *text);
int parley_session_speak(char **out_mark, parley_session *session, const char *text, const char *options_json);

/* Host providers in event mode (parley.i's helper returns a status, which it is here too,
 * but the parley_swig_* names are reserved for value-returning helpers in Go's checks). */
%{
static int parley_go_provider_register(parley_runtime *runtime, const char *kind, const char *name,
                                       const char *options_json) {
  return parley_provider_register(runtime, kind, name, options_json, NULL, NULL);
}
%}
int parley_go_provider_register(parley_runtime *runtime, const char *kind, const char *name, const char *options_json);

/* ---- Events in batches --------------------------------------------------------------- */

%typemap(gotype) parley_go_event_view *views "*EventView"
%typemap(imtype) parley_go_event_view *views "*EventView"
%typemap(in) parley_go_event_view *views %{ $1 = (parley_go_event_view *)$input; %}
%typemap(goin) parley_go_event_view *views ""
%typemap(gotype) uintptr_t *release "*uintptr"
%typemap(imtype) uintptr_t *release "*uintptr"
%typemap(in) uintptr_t *release %{ $1 = (uintptr_t *)$input; %}
%typemap(goin) uintptr_t *release ""

%{
static void parley_go_fill_view(parley_go_event_view *v, parley_event *ev) {
  const int16_t *samples = NULL;
  size_t count = 0;
  int rate = 0;
  const char *session_id = parley_event_session_id(ev);
  const char *payload = parley_event_payload(ev);
  parley_event_audio(&samples, &count, &rate, ev);
  v->handle = (uintptr_t)ev;
  v->type = parley_event_type_of(ev);
  v->sample_rate = rate;
  v->timestamp_us = parley_event_timestamp_us(ev);
  v->session_id = (uintptr_t)session_id;
  v->session_id_len = session_id != NULL ? strlen(session_id) : 0;
  v->payload = (uintptr_t)payload;
  v->payload_len = payload != NULL ? strlen(payload) : 0;
  v->audio = (uintptr_t)samples;
  v->audio_count = samples != NULL ? (uint64_t)count : 0;
}

/*
 * Releases release[0..release_count) (the previous batch, copied into Go by now), waits up
 * to timeout_ms for an event, then takes up to `capacity` events without waiting more.
 * *out_count receives how many were taken (0 when the wait timed out: not an error).
 */
static int parley_go_poll_batch(int *out_count, parley_go_event_view *views, size_t capacity, uintptr_t *release,
                                size_t release_count, parley_runtime *runtime, int timeout_ms) {
  size_t i, n = 0;
  int status = PARLEY_OK;
  for (i = 0; i < release_count; i++) parley_event_release((parley_event *)release[i]);
  if (out_count == NULL || (views == NULL && capacity > 0)) {
    return parley_runtime_poll_event(NULL, runtime, 0); /* EINVAL with the engine's message */
  }
  while (n < capacity) {
    parley_event *ev = NULL;
    status = parley_runtime_poll_event(&ev, runtime, n == 0 ? timeout_ms : 0);
    if (status != PARLEY_OK) break;
    parley_go_fill_view(&views[n], ev);
    n++;
  }
  *out_count = (int)n;
  if (n > 0 || status == PARLEY_ETIMEOUT) {
    parley_error_clear();
    return PARLEY_OK;
  }
  return status;
}

/* Releases events by handle (events the Go poller took but never delivered). */
static void parley_go_release_events(uintptr_t *release, size_t release_count) {
  size_t i;
  for (i = 0; i < release_count; i++) parley_event_release((parley_event *)release[i]);
}

static size_t parley_go_event_view_size(void) { return sizeof(parley_go_event_view); }
%}

int parley_go_poll_batch(int *out_count, parley_go_event_view *views, size_t capacity, uintptr_t *release,
                         size_t release_count, parley_runtime *runtime, int timeout_ms);
void parley_go_release_events(uintptr_t *release, size_t release_count);
size_t parley_go_event_view_size(void);

/* ---- Budget callbacks ------------------------------------------------------------------ */

/* parley.i does not wrap the callback setters (function pointers cannot come from Go).
 * These trampolines call Go functions exported by internal/capi/callbacks.go; `handle` is a
 * registry id from capi.RegisterBudgetCallbacks (0 clears them).
 * The engine calls them synchronously on the thread of prepare()/record_ttft(), inside the
 * Go caller's own cgo call, never on an engine thread. */
%typemap(gotype) uintptr_t handle "uintptr"
%typemap(imtype) uintptr_t handle "uintptr"

%{
/* Declared by cgo in _cgo_export.h; repeated here because the wrapper is compiled before
 * that header exists in some build modes. Keep in sync with callbacks.go. */
extern void parleyGoBudgetEvent(uintptr_t handle, int kind, char *event_json);
extern int parleyGoBudgetEmbed(uintptr_t handle, float *out_vector, size_t capacity, char *text);
extern void parleyGoBudgetSummarize(uintptr_t handle, uint64_t request_id, char *messages_json);

static void parley_go_on_compression(const char *event_json, void *user_data) {
  parleyGoBudgetEvent((uintptr_t)user_data, 0, (char *)event_json);
}
static void parley_go_on_violation(const char *event_json, void *user_data) {
  parleyGoBudgetEvent((uintptr_t)user_data, 1, (char *)event_json);
}
static int parley_go_embed(float *out_vector, size_t capacity, const char *text, void *user_data) {
  return parleyGoBudgetEmbed((uintptr_t)user_data, out_vector, capacity, (char *)text);
}
static void parley_go_summarize(uint64_t request_id, const char *messages_json, void *user_data) {
  parleyGoBudgetSummarize((uintptr_t)user_data, request_id, (char *)messages_json);
}

static int parley_go_budget_set_callbacks(parley_budget *budget, uintptr_t handle) {
  return parley_budget_set_callbacks(budget, handle ? parley_go_on_compression : NULL,
                                     handle ? parley_go_on_violation : NULL, (void *)handle);
}
static int parley_go_budget_set_embedder(parley_budget *budget, uintptr_t handle) {
  return parley_budget_set_embedder(budget, handle ? parley_go_embed : NULL, (void *)handle);
}
static int parley_go_budget_set_summarizer(parley_budget *budget, uintptr_t handle) {
  return parley_budget_set_summarizer(budget, handle ? parley_go_summarize : NULL, (void *)handle);
}
%}

int parley_go_budget_set_callbacks(parley_budget *budget, uintptr_t handle);
int parley_go_budget_set_embedder(parley_budget *budget, uintptr_t handle);
int parley_go_budget_set_summarizer(parley_budget *budget, uintptr_t handle);
