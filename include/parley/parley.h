/*
 * parley.h — the C ABI of Parley, a voice-agent runtime.
 *
 * This is the only public header. Everything behind it is C++ and never seen by hosts.
 *
 * Conventions (after libgit2 and onnxruntime):
 *
 *  - Names are `parley_<object>_<verb>`. Out-parameters come first, `void *user_data`
 *    comes last on every callback.
 *  - Every fallible function returns an `int` status: 0 (PARLEY_OK) on success or a
 *    negative PARLEY_E* code. The codes are stable forever. On error, out-parameters are
 *    left untouched.
 *  - Error detail: after a non-zero status, `parley_error_last()` returns the code and a
 *    message that names what was wrong (for configuration: the JSON path of the bad
 *    field). The record is THREAD-LOCAL and stays valid until the next parley call on the
 *    same thread. Bindings for hosts whose threads migrate between OS threads (Go
 *    goroutines) must read it inside the same native call as the failing function; the
 *    SWIG wrappers in bindings/ do exactly that.
 *  - Ownership is stated on every function. Input buffers and strings are copied before a
 *    call returns. Memory handed out (events, strings) belongs to the library until the
 *    matching release/free function is called. No allocator crosses the boundary.
 *  - `*_destroy` and `*_release` accept NULL. No function aborts or lets a C++ exception
 *    escape, whatever its arguments.
 *  - Strings are NUL-terminated UTF-8. Configuration is a UTF-8 JSON document.
 *  - Host code is never called on an engine IO thread: callbacks run on a dispatcher
 *    thread the library owns, or hosts poll.
 */
#ifndef PARLEY_H
#define PARLEY_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(PARLEY_BUILDING)
#    define PARLEY_API __declspec(dllexport)
#  else
#    define PARLEY_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define PARLEY_API __attribute__((visibility("default")))
#else
#  define PARLEY_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version --------------------------------------------------------------------- */

#define PARLEY_VERSION_MAJOR 0
#define PARLEY_VERSION_MINOR 1
#define PARLEY_VERSION_PATCH 0
#define PARLEY_VERSION_STRING "0.1.0"
/** One integer to compare against: (major * 10000 + minor * 100 + patch). */
#define PARLEY_VERSION_NUMBER \
  (PARLEY_VERSION_MAJOR * 10000 + PARLEY_VERSION_MINOR * 100 + PARLEY_VERSION_PATCH)

/**
 * The version of the library actually loaded, as "MAJOR.MINOR.PATCH".
 *
 * Compare with PARLEY_VERSION_STRING to detect a header/library mismatch.
 * The string is static; do not free it.
 */
PARLEY_API const char *parley_version(void);

/**
 * The loaded library's version numbers. Any out-parameter may be NULL.
 */
PARLEY_API void parley_version_numbers(int *major, int *minor, int *patch);

/* ---- Status codes and errors ----------------------------------------------------- */

/** Status codes. Values are part of the ABI and never change meaning. */
typedef enum parley_status {
  PARLEY_OK = 0,
  PARLEY_EINVAL = -1,       /**< an argument is invalid: NULL handle or buffer, bad value */
  PARLEY_ECONFIG = -2,      /**< configuration JSON rejected; message names the JSON path */
  PARLEY_ENOMEM = -3,       /**< out of memory */
  PARLEY_ESTATE = -4,       /**< the object is in the wrong state (e.g. already closed) */
  PARLEY_ETIMEOUT = -5,     /**< the wait ended before anything happened */
  PARLEY_ENOTFOUND = -6,    /**< no such session, provider, file... */
  PARLEY_EUNSUPPORTED = -7, /**< unsupported sample rate, encoding or feature */
  PARLEY_EIO = -8,          /**< file or network I/O failed */
  PARLEY_EFORMAT = -9,      /**< malformed data (a WAV file, a JSON payload) */
  PARLEY_EPROTOCOL = -10,   /**< the peer broke its protocol */
  PARLEY_EPROVIDER = -11,   /**< an STT, LLM or TTS provider failed */
  PARLEY_ECANCELLED = -12,  /**< the operation was cancelled */
  PARLEY_EFULL = -13,       /**< a bounded queue or a capacity limit is full */
  PARLEY_EINTERNAL = -99    /**< a bug in Parley; the message says where */
} parley_status;

/** The last error on the calling thread. */
typedef struct parley_error {
  int code;            /**< a parley_status value */
  const char *message; /**< UTF-8, never NULL; owned by the library */
} parley_error;

/**
 * The error set by the last failing parley call on this thread, or NULL if the last call
 * succeeded or there was none.
 *
 * The record is thread-local and owned by the library; it stays valid until the next
 * parley call on this thread. Copy the message if you need to keep it.
 */
PARLEY_API const parley_error *parley_error_last(void);

/** Clears the calling thread's last error. */
PARLEY_API void parley_error_clear(void);

/** A static, stable name for a status code ("PARLEY_ECONFIG"); "PARLEY_UNKNOWN" otherwise. */
PARLEY_API const char *parley_status_name(int status);

/* ---- Logging --------------------------------------------------------------------- */

typedef enum parley_log_level {
  PARLEY_LOG_TRACE = 0,
  PARLEY_LOG_DEBUG = 1,
  PARLEY_LOG_INFO = 2,
  PARLEY_LOG_WARN = 3,
  PARLEY_LOG_ERROR = 4,
  PARLEY_LOG_OFF = 6
} parley_log_level;

/**
 * Receives one log record. `message` is one formatted line (text or a JSON object,
 * depending on the runtime's `log.format`) with secrets already redacted; it is valid only
 * during the call. Called on a dispatcher thread owned by the runtime, never on an IO
 * thread, one record at a time.
 */
typedef void (*parley_log_cb)(int level, const char *message, void *user_data);

/* ---- Runtime --------------------------------------------------------------------- */

/** A Parley runtime: threads, the event queue, and (later) listeners and sessions. */
typedef struct parley_runtime parley_runtime;

/**
 * Creates a runtime from a JSON configuration.
 *
 * `config_json` may be NULL or "{}" for all defaults. Recognised keys (unknown keys are
 * rejected, with their JSON path in the message):
 *
 *     {
 *       "io_threads": 1..64            (default 1),
 *       "worker_threads": 1..64        (default 2),
 *       "event_queue_capacity": 16..1048576 (default 4096),
 *       "log": {
 *         "level": "trace"|"debug"|"info"|"warn"|"error"|"off"  (default "info"),
 *         "format": "text"|"json"      (default "text"),
 *         "sink": "stderr"|"none"|"callback"|"file" (default "stderr"),
 *         "file": "path"               (required when sink is "file")
 *       }
 *     }
 *
 * @param out receives the runtime; the caller owns it and frees it with
 *            parley_runtime_destroy(). Untouched on error.
 * @param config_json UTF-8 JSON, copied; may be NULL.
 * @return PARLEY_OK, PARLEY_EINVAL (out is NULL), PARLEY_ECONFIG.
 */
PARLEY_API int parley_runtime_create(parley_runtime **out, const char *config_json);

/**
 * Stops the runtime's threads and frees it. Events not yet released stay valid and must
 * still be released by the host. Accepts NULL. Must not be called from a callback.
 */
PARLEY_API void parley_runtime_destroy(parley_runtime *runtime);

/**
 * Routes the runtime's log records to `callback` (called on a dispatcher thread) in
 * addition to the configured sink; records below `min_level` are not delivered. Pass a
 * NULL callback to stop. The log queue is bounded; when a host callback is too slow,
 * records are dropped and a count of dropped records is delivered once it catches up.
 *
 * @return PARLEY_OK, PARLEY_EINVAL (NULL runtime, level out of range).
 */
PARLEY_API int parley_runtime_set_log_callback(
    parley_runtime *runtime, int min_level, parley_log_cb callback, void *user_data);

/**
 * Writes one record through the runtime's logger (with redaction), as if the engine had
 * logged it. For hosts that want their lines in the same stream, and for tests.
 *
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_runtime_log(parley_runtime *runtime, int level, const char *message);

/* ---- Events ---------------------------------------------------------------------- */

/** Event types. Values are part of the ABI. */
typedef enum parley_event_type {
  PARLEY_EVENT_NONE = 0,
  /** The runtime reported a problem that belongs to no session; payload {"message":...}. */
  PARLEY_EVENT_RUNTIME_ERROR = 1,
  /** Delivered by parley_runtime_post_event(); payload is the host's JSON. */
  PARLEY_EVENT_USER = 2,
  /** Events were dropped because the queue was full; payload {"dropped": N}. */
  PARLEY_EVENT_OVERFLOW = 3
} parley_event_type;

/** An owned event record: type, session id, JSON payload, optional audio. */
typedef struct parley_event parley_event;

/** Receives events on the runtime's dispatcher thread. The callback owns `event` and must
 *  release it with parley_event_release() (now or later, from any thread). */
typedef void (*parley_event_cb)(parley_event *event, void *user_data);

/**
 * Waits up to `timeout_ms` milliseconds for the next event (0 = do not wait, -1 = wait
 * forever).
 *
 * @param out receives the event; the caller owns it and releases it with
 *            parley_event_release(). Untouched unless PARLEY_OK is returned.
 * @return PARLEY_OK, PARLEY_ETIMEOUT (no event in time), PARLEY_ESTATE (an event callback
 *         is set, so events are not queued for polling), PARLEY_EINVAL.
 */
PARLEY_API int parley_runtime_poll_event(
    parley_event **out, parley_runtime *runtime, int timeout_ms);

/**
 * Delivers events to `callback` on a dispatcher thread owned by the runtime instead of
 * queueing them for parley_runtime_poll_event(). Pass NULL to go back to polling. A slow
 * callback delays events, never audio. Must not be called from inside the callback.
 *
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_runtime_set_event_callback(
    parley_runtime *runtime, parley_event_cb callback, void *user_data);

/**
 * Queues a PARLEY_EVENT_USER event carrying `payload_json` (copied; must be valid JSON),
 * for hosts that want to wake their own poll loop, and for tests.
 *
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_EFORMAT (payload is not JSON),
 *         PARLEY_EFULL (queue full; the event is counted as dropped).
 */
PARLEY_API int parley_runtime_post_event(parley_runtime *runtime, const char *payload_json);

/** The event's type (a parley_event_type); PARLEY_EVENT_NONE for NULL. */
PARLEY_API int parley_event_type_of(const parley_event *event);

/** A static name for an event type ("user"); "unknown" for an unknown value. */
PARLEY_API const char *parley_event_type_name(int type);

/** The id of the session the event belongs to, or "" for runtime events. Owned by the event. */
PARLEY_API const char *parley_event_session_id(const parley_event *event);

/** The event's JSON payload (at least "{}"). Owned by the event. */
PARLEY_API const char *parley_event_payload(const parley_event *event);

/**
 * The event's audio, if it carries any: PCM16 little-endian samples.
 *
 * @param out_samples receives a pointer owned by the event (NULL if none); may be NULL.
 * @param out_count receives the number of samples; may be NULL.
 * @param out_sample_rate receives the sample rate in Hz; may be NULL.
 * @return the number of samples (0 when there is no audio or event is NULL).
 */
PARLEY_API size_t parley_event_audio(const int16_t **out_samples, size_t *out_count,
                                     int *out_sample_rate, const parley_event *event);

/** The event's creation time, microseconds on the runtime's monotonic clock. */
PARLEY_API int64_t parley_event_timestamp_us(const parley_event *event);

/** Releases an event and everything it owns. Accepts NULL. Thread-safe. */
PARLEY_API void parley_event_release(parley_event *event);

/* ---- Strings ------------------------------------------------------------------------ */

/** Frees a string the library returned as owned by the caller. Accepts NULL. */
PARLEY_API void parley_string_free(char *string);

/* ---- Audio utilities --------------------------------------------------------------- */

/**
 * Round-trips a test tone through the codecs and resampler (the `parley selftest`
 * command) and returns a JSON report, e.g.
 * {"ok":true,"checks":[{"name":"mulaw 16k->8k->16k","snr_db":37.9,"min_snr_db":30,"ok":true},...]}.
 *
 * @param out_report_json receives the report; the caller frees it with parley_string_free().
 * @return PARLEY_OK (inspect "ok" in the report), PARLEY_EINVAL.
 */
PARLEY_API int parley_selftest(char **out_report_json);

/* ---- Budget controller (see src/budget/) -------------------------------------------- */
/* BUDGET-API-BEGIN */
/* BUDGET-API-END */

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_H */
