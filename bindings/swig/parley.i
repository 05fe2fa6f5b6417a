/*
 * parley.i — the one SWIG interface over include/parley/parley.h. It generates the Go, Java
 * and C# bindings; each language adds a thin idiomatic layer on top (bindings/<lang>/).
 *
 * What this file does, for every language:
 *
 *  - Declares the binding-facing API: the C functions of parley.h that a binding calls,
 *    plus a few `parley_swig_*` helpers (defined below) that turn out-parameters into
 *    return values. Callback setters are not wrapped: bindings poll events from a thread
 *    of their own (DESIGN.md, "The C ABI contract"), so no engine thread ever enters a
 *    host runtime. For the same reason host-implemented providers are registered in event
 *    mode (parley_swig_provider_register passes NULL callbacks; parley_provider_callbacks
 *    is ignored): their requests are PARLEY_EVENT_PROVIDER_REQUEST events, and each layer
 *    dispatches them to the language's implementation (Go provider.go, Java
 *    ProviderDispatcher, C# Providers.cs).
 *  - Reads the error inside the same native call. A status-returning call is wrapped by
 *    PARLEY_CHECKED(name): right after the call, in the generated C wrapper, a non-zero
 *    status and the thread-local parley_error_last() message are handed to the language's
 *    PARLEY_SWIG_FAIL(status, message) (docs/c-abi.md explains why it must be this call).
 *    Helpers that return a value record their status in parley_swig_status, a
 *    wrapper-local thread-local read by the same wrapper (PARLEY_CHECKED_HELPER).
 *  - Strings the library hands to the caller are %newobject and freed with
 *    parley_string_free() once the wrapper has copied them.
 *
 * What each language file provides (parley_go.i, parley_java.i, parley_csharp.i):
 *
 *  - typemaps for the opaque handles, the audio buffers (int16_t / uint8_t + count) and
 *    strings;
 *  - %define PARLEY_SWIG_FAIL(STATUS, MESSAGE): make the language's error pending, copying
 *    the message (valid only inside the wrapper). Java and C# do not return early: the
 *    wrapper carries on and releases its arguments, and the exception is thrown when the
 *    native call returns (e.g. `parley_java_throw(jenv, STATUS, MESSAGE);`).
 *  - or, to handle errors entirely itself, `#define PARLEY_SWIG_CUSTOM_ERRORS` (then no
 *    %exception is emitted here; the helpers' parley_swig_status and the raw statuses are
 *    still available to the language file's own %exception);
 *  - optionally %define PARLEY_SWIG_EXTRA_API: language-only declarations expanded at the
 *    end of this file, where PARLEY_CHECKED and the parley_swig_* helpers exist.
 *
 * Adding a C function: declare it in the API section below (with PARLEY_CHECKED if it
 * returns a status), add a helper if it has out-parameters, and the idiomatic method in
 * each language layer.
 */
%module parley

%{
#include <parley/parley.h>
#include <stdlib.h>
#include <string.h>
%}

#ifdef SWIGGO
%include "parley_go.i"
#endif
#ifdef SWIGJAVA
%include "parley_java.i"
#endif
#ifdef SWIGCSHARP
%include "parley_csharp.i"
#endif

%include <stdint.i>

/* ---- Errors ------------------------------------------------------------------------ */

%{
/* The status of the last parley_swig_* helper on this thread. Set and read inside one
 * generated wrapper (one native call), so goroutine or thread migration cannot interleave. */
#if defined(_MSC_VER)
static __declspec(thread) int parley_swig_status;
#else
static __thread int parley_swig_status;
#endif

/* The engine's message for `status`, read in the same native call that failed. Falls back
 * to the status name when the call returned a status without setting a message. */
static const char *parley_swig_message(int status) {
  const parley_error *error = parley_error_last();
  if (error != NULL && error->code == status && error->message != NULL) return error->message;
  return parley_status_name(status);
}
%}

#ifndef PARLEY_SWIG_CUSTOM_ERRORS
#ifndef PARLEY_SWIG_FAIL
%define PARLEY_SWIG_FAIL(STATUS, MESSAGE)
  /* No language raise defined: the status is returned as is. */
%enddef
#endif

/* A function returning a parley status (0 or a negative PARLEY_E* code). */
%define PARLEY_CHECKED(NAME)
%exception NAME {
  $action
  if (result != 0) {
    PARLEY_SWIG_FAIL(result, parley_swig_message(result))
  }
}
%enddef

/* A parley_swig_* helper: returns a value, its status is in parley_swig_status. */
%define PARLEY_CHECKED_HELPER(NAME)
%exception NAME {
  parley_swig_status = 0;
  $action
  if (parley_swig_status != 0) {
    PARLEY_SWIG_FAIL(parley_swig_status, parley_swig_message(parley_swig_status))
  }
}
%enddef
#else
%define PARLEY_CHECKED(NAME) %enddef
%define PARLEY_CHECKED_HELPER(NAME) %enddef
#endif

/* ---- Constants and enums ------------------------------------------------------------- */

/* Everything in the header is ignored by default; the API section below re-declares what
 * bindings call. Constants and enums come from the header itself. */
%rename("$ignore", %$isfunction) "";
%ignore parley_error;
%ignore parley_error_last;
/* Host-implemented providers: bindings register them in event mode (callbacks NULL), so the
 * requests reach the language on the thread that polls events and no engine thread ever
 * enters the JVM, the CLR or Go. The callbacks struct and its version are not wrapped. */
%ignore parley_provider_callbacks;
%ignore PARLEY_PROVIDER_CALLBACKS_VERSION;
#define PARLEY_API
%include <parley/parley.h>
/* Functions declared from here on are wrapped, under PARLEY_SWIG_FUNCTION_NAMES: a language
 * file may #define it to a %rename format (e.g. "%(camelcase)s"); named %rename and %ignore
 * directives in a language file apply as usual. */
#ifndef PARLEY_SWIG_FUNCTION_NAMES
#define PARLEY_SWIG_FUNCTION_NAMES "%s"
#endif
%rename(PARLEY_SWIG_FUNCTION_NAMES, %$isfunction) "";

/* ---- The binding-facing API ----------------------------------------------------------- */

/* Strings handed to the caller: copied by the wrapper, then freed by the library. */
%typemap(newfree) char * "parley_string_free($1);";

%{
static int parley_swig_version_number(void) {
  int major = 0, minor = 0, patch = 0;
  parley_version_numbers(&major, &minor, &patch);
  return major * 10000 + minor * 100 + patch;
}

static parley_runtime *parley_swig_runtime_create(const char *config_json) {
  parley_runtime *out = NULL;
  parley_swig_status = parley_runtime_create(&out, config_json);
  return out;
}

static char *parley_swig_runtime_stats_json(parley_runtime *runtime) {
  char *out = NULL;
  parley_swig_status = parley_runtime_stats_json(&out, runtime);
  return out;
}

/* NULL when no event arrived in time: PARLEY_ETIMEOUT is an outcome, not an error. */
static parley_event *parley_swig_runtime_poll_event(parley_runtime *runtime, int timeout_ms) {
  parley_event *out = NULL;
  int status = parley_runtime_poll_event(&out, runtime, timeout_ms);
  if (status == PARLEY_ETIMEOUT) {
    parley_error_clear();
    status = PARLEY_OK;
  }
  parley_swig_status = status;
  return status == PARLEY_OK ? out : NULL;
}

static int parley_swig_event_audio_count(const parley_event *event) {
  size_t count = parley_event_audio(NULL, NULL, NULL, event);
  return count > 0x7fffffff ? 0x7fffffff : (int)count;
}

static int parley_swig_event_audio_rate(const parley_event *event) {
  int rate = 0;
  parley_event_audio(NULL, NULL, &rate, event);
  return rate;
}

/* Copies at most `capacity` samples of the event's audio into `out_samples`; returns how many. */
static int parley_swig_event_audio_copy(const parley_event *event, int16_t *out_samples, size_t capacity) {
  const int16_t *samples = NULL;
  size_t count = 0;
  parley_event_audio(&samples, &count, NULL, event);
  if (samples == NULL || out_samples == NULL) return 0;
  if (count > capacity) count = capacity;
  memcpy(out_samples, samples, count * sizeof(int16_t));
  return (int)count;
}

static parley_listener *parley_swig_listener_start(parley_runtime *runtime, const char *config_json) {
  parley_listener *out = NULL;
  parley_swig_status = parley_listener_start(&out, runtime, config_json);
  return out;
}

static int64_t parley_swig_listener_stop(parley_listener *listener, int drain_timeout_ms) {
  size_t hung_up = 0;
  parley_swig_status = parley_listener_stop(&hung_up, listener, drain_timeout_ms);
  return (int64_t)hung_up;
}

static parley_session *parley_swig_session_open(parley_runtime *runtime, const char *session_id) {
  parley_session *out = NULL;
  parley_swig_status = parley_session_open(&out, runtime, session_id);
  return out;
}

static parley_session *parley_swig_session_create_host(parley_runtime *runtime, const char *config_json) {
  parley_session *out = NULL;
  parley_swig_status = parley_session_create_host(&out, runtime, config_json);
  return out;
}

static int parley_swig_session_wait_mark(parley_session *session, const char *name, int timeout_ms) {
  int outcome = PARLEY_MARK_PENDING;
  parley_swig_status = parley_session_wait_mark(&outcome, session, name, timeout_ms);
  return outcome;
}

static char *parley_swig_selftest(void) {
  char *report = NULL;
  parley_swig_status = parley_selftest(&report);
  return report;
}

static parley_budget *parley_swig_budget_create(const char *config_json) {
  parley_budget *out = NULL;
  parley_swig_status = parley_budget_create(&out, config_json);
  return out;
}

static char *parley_swig_budget_prepare(parley_budget *budget, const char *messages_json) {
  char *out = NULL;
  parley_swig_status = parley_budget_prepare(&out, budget, messages_json);
  return out;
}

static char *parley_swig_budget_stats_json(parley_budget *budget) {
  char *out = NULL;
  parley_swig_status = parley_budget_stats_json(&out, budget);
  return out;
}

static char *parley_swig_budget_report(parley_budget *budget, int format) {
  char *out = NULL;
  parley_swig_status = parley_budget_report(&out, budget, format);
  return out;
}

static int64_t parley_swig_budget_count_tokens(parley_budget *budget, const char *text) {
  int64_t count = 0;
  parley_swig_status = parley_budget_count_tokens(&count, budget, text);
  return count;
}

/* Event mode: requests arrive as PARLEY_EVENT_PROVIDER_REQUEST events. */
static int parley_swig_provider_register(parley_runtime *runtime, const char *kind, const char *name,
                                         const char *options_json) {
  return parley_provider_register(runtime, kind, name, options_json, NULL, NULL);
}

static char *parley_swig_session_speak(parley_session *session, const char *text, const char *options_json) {
  char *mark = NULL;
  parley_swig_status = parley_session_speak(&mark, session, text, options_json);
  return mark;
}
%}

/* Version and status names. */
const char *parley_version(void);
int parley_swig_version_number(void);
const char *parley_status_name(int status);
void parley_error_clear(void);

/* Runtime. */
PARLEY_CHECKED_HELPER(parley_swig_runtime_create)
parley_runtime *parley_swig_runtime_create(const char *config_json);
void parley_runtime_destroy(parley_runtime *runtime);
PARLEY_CHECKED(parley_runtime_log)
int parley_runtime_log(parley_runtime *runtime, int level, const char *message);
PARLEY_CHECKED_HELPER(parley_swig_runtime_poll_event)
parley_event *parley_swig_runtime_poll_event(parley_runtime *runtime, int timeout_ms);
PARLEY_CHECKED(parley_runtime_post_event)
int parley_runtime_post_event(parley_runtime *runtime, const char *payload_json);
/* The runtime's counters and latency distributions, as JSON (docs/agent.md). */
%newobject parley_swig_runtime_stats_json;
PARLEY_CHECKED_HELPER(parley_swig_runtime_stats_json)
char *parley_swig_runtime_stats_json(parley_runtime *runtime);

/* Events. The binding copies what it needs and releases the record at once. */
int parley_event_type_of(const parley_event *event);
const char *parley_event_type_name(int type);
const char *parley_event_session_id(const parley_event *event);
const char *parley_event_payload(const parley_event *event);
int parley_swig_event_audio_count(const parley_event *event);
int parley_swig_event_audio_rate(const parley_event *event);
int parley_swig_event_audio_copy(const parley_event *event, int16_t *out_samples, size_t capacity);
int64_t parley_event_timestamp_us(const parley_event *event);
void parley_event_release(parley_event *event);

/* Listeners. */
PARLEY_CHECKED_HELPER(parley_swig_listener_start)
parley_listener *parley_swig_listener_start(parley_runtime *runtime, const char *config_json);
int parley_listener_port(const parley_listener *listener);
const char *parley_listener_id(const parley_listener *listener);
PARLEY_CHECKED_HELPER(parley_swig_listener_stop)
int64_t parley_swig_listener_stop(parley_listener *listener, int drain_timeout_ms);
void parley_listener_destroy(parley_listener *listener);

/* Sessions. */
PARLEY_CHECKED_HELPER(parley_swig_session_open)
parley_session *parley_swig_session_open(parley_runtime *runtime, const char *session_id);
PARLEY_CHECKED_HELPER(parley_swig_session_create_host)
parley_session *parley_swig_session_create_host(parley_runtime *runtime, const char *config_json);
const char *parley_session_id(const parley_session *session);
int parley_session_get_state(const parley_session *session);
PARLEY_CHECKED(parley_session_play)
int parley_session_play(parley_session *session, const int16_t *samples, size_t count, int sample_rate);
PARLEY_CHECKED(parley_session_send_mark)
int parley_session_send_mark(parley_session *session, const char *name);
PARLEY_CHECKED_HELPER(parley_swig_session_wait_mark)
int parley_swig_session_wait_mark(parley_session *session, const char *name, int timeout_ms);
PARLEY_CHECKED(parley_session_clear)
int parley_session_clear(parley_session *session);
PARLEY_CHECKED(parley_session_hang_up)
int parley_session_hang_up(parley_session *session, const char *reason);
PARLEY_CHECKED(parley_session_start_recording)
int parley_session_start_recording(parley_session *session, const char *path);
PARLEY_CHECKED(parley_session_stop_recording)
int parley_session_stop_recording(parley_session *session);
PARLEY_CHECKED(parley_session_close)
int parley_session_close(parley_session *session);
void parley_session_destroy(parley_session *session);
PARLEY_CHECKED(parley_session_push_audio)
int parley_session_push_audio(parley_session *session, const int16_t *samples, size_t count, int sample_rate);
PARLEY_CHECKED(parley_session_push_g711)
int parley_session_push_g711(parley_session *session, const uint8_t *bytes, size_t count, int encoding,
                             int sample_rate);
PARLEY_CHECKED(parley_session_push_dtmf)
int parley_session_push_dtmf(parley_session *session, const char *digit);
PARLEY_CHECKED(parley_session_push_mark_played)
int parley_session_push_mark_played(parley_session *session, const char *name);
/* Agent sessions: answers a PARLEY_EVENT_TOOL_CALL by its id. */
PARLEY_CHECKED(parley_session_tool_result)
int parley_session_tool_result(parley_session *session, const char *tool_call_id, const char *result_json);
/* Speaks text with a TTS (built-in or host-implemented); returns the mark's name. */
%newobject parley_swig_session_speak;
PARLEY_CHECKED_HELPER(parley_swig_session_speak)
char *parley_swig_session_speak(parley_session *session, const char *text, const char *options_json);

/* Host-implemented providers, in event mode: requests are PARLEY_EVENT_PROVIDER_REQUEST
 * events, answered by request id. */
PARLEY_CHECKED(parley_swig_provider_register)
int parley_swig_provider_register(parley_runtime *runtime, const char *kind, const char *name,
                                  const char *options_json);
PARLEY_CHECKED(parley_provider_push_audio)
int parley_provider_push_audio(parley_runtime *runtime, uint64_t request, const int16_t *samples, size_t count);
PARLEY_CHECKED(parley_provider_push_text)
int parley_provider_push_text(parley_runtime *runtime, uint64_t request, const char *text);
PARLEY_CHECKED(parley_provider_push_tool_call)
int parley_provider_push_tool_call(parley_runtime *runtime, uint64_t request, int index, const char *id,
                                   const char *name, const char *arguments);
PARLEY_CHECKED(parley_provider_push_transcript)
int parley_provider_push_transcript(parley_runtime *runtime, uint64_t request, const char *text, int is_final,
                                    int speech_final);
PARLEY_CHECKED(parley_provider_complete)
int parley_provider_complete(parley_runtime *runtime, uint64_t request, int status, const char *detail);

/* Audio utilities. */
%newobject parley_swig_selftest;
PARLEY_CHECKED_HELPER(parley_swig_selftest)
char *parley_swig_selftest(void);

/* Budget controller. Its callbacks (compression, violation, embedder, summariser) are not
 * wrapped yet. */
PARLEY_CHECKED_HELPER(parley_swig_budget_create)
parley_budget *parley_swig_budget_create(const char *config_json);
void parley_budget_destroy(parley_budget *budget);
%newobject parley_swig_budget_prepare;
PARLEY_CHECKED_HELPER(parley_swig_budget_prepare)
char *parley_swig_budget_prepare(parley_budget *budget, const char *messages_json);
PARLEY_CHECKED(parley_budget_record_ttft)
int parley_budget_record_ttft(parley_budget *budget, double ttft_ms, int64_t prompt_tokens);
%newobject parley_swig_budget_stats_json;
PARLEY_CHECKED_HELPER(parley_swig_budget_stats_json)
char *parley_swig_budget_stats_json(parley_budget *budget);
%newobject parley_swig_budget_report;
PARLEY_CHECKED_HELPER(parley_swig_budget_report)
char *parley_swig_budget_report(parley_budget *budget, int format);
PARLEY_CHECKED_HELPER(parley_swig_budget_count_tokens)
int64_t parley_swig_budget_count_tokens(parley_budget *budget, const char *text);
PARLEY_CHECKED(parley_budget_select_model)
int parley_budget_select_model(parley_budget *budget, const char *provider, const char *model);
PARLEY_CHECKED(parley_budget_provide_summary)
int parley_budget_provide_summary(parley_budget *budget, uint64_t request_id, const char *summary);

/* Declarations a language file adds after the API section, where PARLEY_CHECKED and the
 * helpers above exist: the language file defines them in a macro of this name. */
#ifdef PARLEY_SWIG_EXTRA_API
PARLEY_SWIG_EXTRA_API
#endif
