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
 *       "max_sessions": 1..1000000     (default 10000; calls over it are refused),
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
  PARLEY_EVENT_OVERFLOW = 3,
  /** A call started. Payload: {"session_id", "transport", "call_id", "stream_id",
   *  "account_id", "custom_parameters": {...}, "sample_rate", "behaviour"}. */
  PARLEY_EVENT_SESSION_STARTED = 10,
  /** A call ended. Payload: {"reason", "call_id", "caller_frames", "agent_frames", "dtmf",
   *  "marks_sent", "marks_played", "marks_cleared", "audio_events_dropped"}. */
  PARLEY_EVENT_SESSION_STOPPED = 11,
  /** Something went wrong in a call: {"code": "protocol"|"recording"|..., "message",
   *  "fatal": bool}. Non-fatal errors (a malformed message) leave the call running. */
  PARLEY_EVENT_SESSION_ERROR = 12,
  /** A call was refused (capacity): {"listener", "remote", "reason"}; no session exists. */
  PARLEY_EVENT_SESSION_REJECTED = 13,
  /** The caller pressed a key: {"digit": "5"}. */
  PARLEY_EVENT_DTMF = 14,
  /** A playback mark resolved: {"name", "outcome": "played"|"cleared"|"unknown"}. "cleared"
   *  means the audio before it was flushed by a clear, not played. */
  PARLEY_EVENT_MARK = 15,
  /** Agent audio for a host-transport session to play: PCM16 in the event's audio. */
  PARLEY_EVENT_AUDIO = 16,
  /** Caller audio at the session rate (when the listener asks for caller_audio_events). */
  PARLEY_EVENT_CALLER_AUDIO = 17,
  /** Host transport: a mark in the agent audio stream. Once the audio delivered before it
   *  has played, confirm with parley_session_push_mark_played(). Payload {"name"}. */
  PARLEY_EVENT_AUDIO_MARK = 18,
  /** Host transport: drop agent audio not yet played (barge-in). Payload {}. */
  PARLEY_EVENT_AUDIO_CLEAR = 19,
  /** A request to a host-implemented provider (see parley_provider_register); the event's
   *  session id is the call's, the payload says what to do, STT audio rides in the audio. */
  PARLEY_EVENT_PROVIDER_REQUEST = 20,
  /* Agent events (listeners and host sessions with "behaviour": "agent"; docs/agent.md). */
  /** The agent changed state: {"state": "idle"|"listening"|"thinking"|"speaking", "turn"}. */
  PARLEY_EVENT_AGENT_STATE = 21,
  /** Text of the conversation: {"role": "user"|"agent", "text", "final": bool, "turn"}.
   *  User partials have final false; an agent line arrives once per chunk as it is sent to
   *  the voice, and its final (heard) form when the turn ends. */
  PARLEY_EVENT_TRANSCRIPT = 22,
  /** A turn ended: {"turn", "user_text", "agent_text", "heard_text", "interrupted",
   *  "latency_ms": {...}, "tokens_in", "tokens_out", "tool_calls": [...]} (docs/agent.md). */
  PARLEY_EVENT_TURN = 23,
  /** The model called a host tool: {"id", "name", "arguments": {...}}. Answer with
   *  parley_session_tool_result() before the tool's timeout. */
  PARLEY_EVENT_TOOL_CALL = 24,
  /** The caller interrupted the agent: {"turn", "heard_text", "resumed": bool}. "resumed"
   *  true: it was a false interruption (no words followed) and the agent went on speaking. */
  PARLEY_EVENT_INTERRUPTION = 25,
  /** Host transport: send these touch tones on the call (the agent's send_dtmf tool):
   *  {"digits": "12#"}. Comes after the agent audio delivered before it. */
  PARLEY_EVENT_SEND_DTMF = 26,
  /** Host transport: move the call to {"target": "..."} (the agent's transfer tool), once
   *  the agent's last words before it have played; the agent says nothing more. */
  PARLEY_EVENT_TRANSFER = 27
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

/**
 * The runtime's counters and latency figures as JSON: {"calls": {"active", "started",
 * "ended"}, "frames": {"caller", "agent", "audio_events_dropped"}, "agent": {"turns",
 * "interruptions", "false_interruptions", "tool_calls", "tool_timeouts", "provider_errors",
 * "tokens_in", "tokens_out"}, "latency_ms": {"voice_to_voice", "endpointing", "stt_final",
 * "llm_first_token", "tts_first_byte", "barge_in"}}, each latency {"count", "p50", "p95",
 * "p99", "max"} over every turn since the runtime started (docs/agent.md). Thread-safe.
 *
 * @param out_json receives a string the caller frees with parley_string_free().
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_runtime_stats_json(char **out_json, parley_runtime *runtime);

/* ---- Listeners --------------------------------------------------------------------- */

/** A listener accepts calls of one transport and creates a session for each. */
typedef struct parley_listener parley_listener;

/**
 * Starts a listener from a JSON configuration. The "transport" key selects it; today:
 *
 *     {"transport": "twilio", "address": "127.0.0.1", "port": 8080, "path": "/twilio",
 *      "tls": {"certificate": "cert.pem", "private_key": "key.pem"},
 *      "auth_token": "..." | "auth_token_env": "TWILIO_AUTH_TOKEN",
 *      "public_url": "wss://host/twilio", "max_calls": 0, "behaviour": "host"|"echo",
 *      "sample_rate": 16000, "playout_lead_ms": 200, "max_message_bytes": 131072,
 *      "max_send_queue_bytes": 1048576, "socket_send_buffer_bytes": 0, "idle_timeout_ms": 15000,
 *      "caller_audio_events": false, "record_dir": "path"}
 *     {"transport": "browser", ...}: web pages, PCM16 + JSON over WebSocket (docs/browser-protocol.md).
 *
 * With an auth token, upgrades whose X-Twilio-Signature does not match are refused with
 * 403. Over max_calls (or the runtime's max_sessions) a call is closed with WebSocket code
 * 1013 and a PARLEY_EVENT_SESSION_REJECTED event. Calls on the listener produce session
 * events on the runtime's event queue.
 *
 * @param out receives the listener; destroy it with parley_listener_destroy() before the
 *            runtime. Untouched on error.
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ECONFIG (message names the JSON path),
 *         PARLEY_EIO (cannot listen: the message says on what and why).
 */
PARLEY_API int parley_listener_start(parley_listener **out, parley_runtime *runtime, const char *config_json);

/** The bound TCP port (the real one when the config said 0); 0 for NULL. */
PARLEY_API int parley_listener_port(const parley_listener *listener);

/** The listener's id (as in session events); owned by the listener. "" for NULL. */
PARLEY_API const char *parley_listener_id(const parley_listener *listener);

/**
 * Stops accepting calls and lets live ones end for up to `drain_timeout_ms`; calls still
 * live then are hung up. Blocks until done. Idempotent.
 *
 * @param out_hung_up receives how many calls had to be hung up; may be NULL.
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_listener_stop(size_t *out_hung_up, parley_listener *listener, int drain_timeout_ms);

/** Stops accepting (without draining) and frees the listener. Live calls carry on until they
 *  end or the runtime is destroyed. Accepts NULL. */
PARLEY_API void parley_listener_destroy(parley_listener *listener);

/* ---- Sessions ---------------------------------------------------------------------- */

/** A handle to one call. Several handles may refer to the same call. */
typedef struct parley_session parley_session;

typedef enum parley_session_state {
  PARLEY_SESSION_CONNECTING = 0,
  PARLEY_SESSION_ACTIVE = 1,
  PARLEY_SESSION_CLOSING = 2,
  PARLEY_SESSION_CLOSED = 3
} parley_session_state;

typedef enum parley_mark_outcome {
  PARLEY_MARK_PENDING = 0,
  PARLEY_MARK_PLAYED = 1,  /**< the far end played all audio before the mark */
  PARLEY_MARK_CLEARED = 2, /**< the audio before it was flushed (clear, or the call ended) */
  PARLEY_MARK_TIMEOUT = 3, /**< still pending when the wait ended */
  PARLEY_MARK_UNKNOWN = 4  /**< no mark of that name was sent on this session */
} parley_mark_outcome;

/**
 * Opens a handle to a live session by id (from an event's session id).
 *
 * @param out receives a handle; release it with parley_session_destroy(). Untouched on error.
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ENOTFOUND (no live session with that id).
 */
PARLEY_API int parley_session_open(parley_session **out, parley_runtime *runtime, const char *session_id);

/**
 * Creates a host-transport session: the host's own media stack carries the call. The host
 * pushes caller audio (parley_session_push_audio / _push_g711), DTMF and mark confirmations;
 * agent audio arrives as PARLEY_EVENT_AUDIO events (PCM16 at "output_rate"), paced in real
 * time, with PARLEY_EVENT_AUDIO_MARK and PARLEY_EVENT_AUDIO_CLEAR in the same stream. Config:
 *
 *     {"behaviour": "host"|"echo", "sample_rate": 16000, "output_rate": 16000,
 *      "playout_lead_ms": 200, "call_id": "...", "custom_parameters": {"k": "v"},
 *      "caller_audio_events": false, "max_audio_events_in_flight": 50}
 *
 * The session starts at once (PARLEY_EVENT_SESSION_STARTED is queued).
 *
 * @param out receives the session; parley_session_destroy() closes and releases it.
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ECONFIG, PARLEY_EFULL (max_sessions reached).
 */
PARLEY_API int parley_session_create_host(parley_session **out, parley_runtime *runtime, const char *config_json);

/** The session id; owned by the handle. "" for NULL. */
PARLEY_API const char *parley_session_id(const parley_session *session);

/** The session's parley_session_state; PARLEY_SESSION_CLOSED for NULL. */
PARLEY_API int parley_session_get_state(const parley_session *session);

/**
 * Queues agent audio to play to the caller: PCM16 mono at `sample_rate` (8000, 16000, 22050,
 * 24000, 44100 or 48000 Hz; resampled as needed). Copied before returning.
 *
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_EUNSUPPORTED (rate), PARLEY_ESTATE (closing or
 *         closed), PARLEY_EFULL (over the session's outbound bound; nothing was queued).
 */
PARLEY_API int parley_session_play(parley_session *session, const int16_t *samples, size_t count, int sample_rate);

/**
 * Queues a named mark after all audio queued so far; a PARLEY_EVENT_MARK event reports its
 * outcome. Names are 1..256 bytes.
 *
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ESTATE.
 */
PARLEY_API int parley_session_send_mark(parley_session *session, const char *name);

/**
 * Blocks until the mark `name` is played or cleared, or `timeout_ms` passes (-1: forever).
 * Must not be called from an event or log callback (those run on the dispatcher thread).
 *
 * @param out_outcome receives a parley_mark_outcome.
 * @return PARLEY_OK (inspect the outcome), PARLEY_EINVAL.
 */
PARLEY_API int parley_session_wait_mark(int *out_outcome, parley_session *session, const char *name, int timeout_ms);

/** Drops queued agent audio here and at the far end (barge-in). Pending marks resolve as
 *  cleared. @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_session_clear(parley_session *session);

/** Ends the call (`reason` may be NULL). Idempotent. @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_session_hang_up(parley_session *session, const char *reason);

/**
 * Answers a PARLEY_EVENT_TOOL_CALL of an agent session: `result_json` (copied) is what the
 * tool returned, any JSON value; the model sees it as the tool message's content. An
 * answer after the tool's timeout, or for an unknown id, is ignored (logged).
 *
 * @return PARLEY_OK, PARLEY_EINVAL (NULL argument), PARLEY_EFORMAT (`result_json` is not
 *         JSON), PARLEY_ESTATE (the session runs no agent, or is closed).
 */
PARLEY_API int parley_session_tool_result(parley_session *session, const char *tool_call_id, const char *result_json);

/**
 * Starts a stereo PCM16 WAV recording (caller left, agent right) at the session rate,
 * replacing any recording in progress.
 *
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_EIO (cannot create the file), PARLEY_ESTATE.
 */
PARLEY_API int parley_session_start_recording(parley_session *session, const char *path);

/** Finishes the recording (header patched, file closed). @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_session_stop_recording(parley_session *session);

/** Stops the session: hangs up if the call is live; the stopped event follows. Idempotent;
 *  the handle stays valid until destroyed. @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_session_close(parley_session *session);

/** Releases the handle. For a host-transport session created by this handle, also closes
 *  the session. Accepts NULL. */
PARLEY_API void parley_session_destroy(parley_session *session);

typedef enum parley_g711 {
  PARLEY_G711_ULAW = 0,
  PARLEY_G711_ALAW = 1
} parley_g711;

/**
 * Host transport: caller audio from the host's media stack, PCM16 mono at `sample_rate`.
 * Copied. Audio is processed in order on the session's strand.
 *
 * @return PARLEY_OK, PARLEY_EINVAL (NULL, or not a host session), PARLEY_EUNSUPPORTED,
 *         PARLEY_ESTATE.
 */
PARLEY_API int parley_session_push_audio(parley_session *session, const int16_t *samples, size_t count, int sample_rate);

/** Host transport: caller audio as G.711 bytes (`encoding` a parley_g711) at `sample_rate`
 *  (8000 for telephony). Same rules as parley_session_push_audio(). */
PARLEY_API int parley_session_push_g711(parley_session *session, const uint8_t *bytes, size_t count, int encoding,
                                        int sample_rate);

/** Host transport: the caller pressed `digit` (one of 0-9 * # A-D). @return PARLEY_OK,
 *  PARLEY_EINVAL. */
PARLEY_API int parley_session_push_dtmf(parley_session *session, const char *digit);

/** Host transport: the audio before mark `name` (from PARLEY_EVENT_AUDIO_MARK) has played.
 *  @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_session_push_mark_played(parley_session *session, const char *name);

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

/* ---- Host-implemented providers ------------------------------------------------------ */
/* PROVIDER-API-BEGIN */

/** The layout version of parley_provider_callbacks; set `version` to it. */
#define PARLEY_PROVIDER_CALLBACKS_VERSION 1

/**
 * How a host provider receives requests when it does not want them as events. The engine
 * calls these on one thread of its own (never an IO thread), one call at a time, in request
 * order; they must return quickly and answer later, from any thread, with the
 * parley_provider_* functions. Set `size` to sizeof(parley_provider_callbacks) and `version`
 * to PARLEY_PROVIDER_CALLBACKS_VERSION so the library can grow the struct compatibly.
 */
typedef struct parley_provider_callbacks {
  uint32_t size;
  uint32_t version;
  /** A request: `payload_json` as in PARLEY_EVENT_PROVIDER_REQUEST (valid during the call),
   *  `samples`/`count` the audio of an STT "audio" request (else NULL/0). */
  void (*on_request)(uint64_t request, const char *call_id, const char *payload_json,
                     const int16_t *samples, size_t count, void *user_data);
  /** Called once when the runtime is destroyed and will not call again; may be NULL. */
  void (*on_release)(void *user_data);
} parley_provider_callbacks;

/**
 * Registers a provider implemented by the host under `name`, so configs can name it like a
 * built-in one ({"provider": "my-voice"}), e.g. in parley_session_speak(). A later
 * registration of the same kind and name replaces it.
 *
 * Each provider call becomes a request with an id. Payloads (JSON):
 *
 *     tts: {"op":"synthesize","request":7,"kind":"tts","provider":"my-voice","text":"Hello."}
 *     llm: {"op":"complete","request":8,"kind":"llm","provider":"my-llm",
 *           "messages":[{"role":"user","content":"..."}],"tools":[...]}
 *     stt: {"op":"start","request":9,"kind":"stt","provider":"my-asr","sample_rate":16000},
 *          then {"op":"audio",...} (PCM16 attached) and {"op":"finalize",...}
 *     all: {"op":"cancel","request":7,...} when the engine no longer wants the answer.
 *
 * Answers: TTS parley_provider_push_audio(); LLM parley_provider_push_text() and
 * parley_provider_push_tool_call(); STT parley_provider_push_transcript(); then
 * parley_provider_complete() ends a TTS or LLM request (or fails any request).
 *
 * @param kind "llm", "tts" or "stt".
 * @param options_json NULL or {"sample_rate": N}: the rate of the PCM16 a TTS pushes, or
 *        the rate an STT receives (default 16000).
 * @param callbacks NULL: requests arrive as PARLEY_EVENT_PROVIDER_REQUEST events (poll or
 *        event callback) — the simplest choice for bindings. Otherwise copied; `user_data`
 *        is passed to each call.
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ECONFIG.
 */
PARLEY_API int parley_provider_register(parley_runtime *runtime, const char *kind, const char *name,
                                        const char *options_json, const parley_provider_callbacks *callbacks,
                                        void *user_data);

/** TTS answer: PCM16 mono at the provider's sample_rate, copied. Call as often as needed.
 *  @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ENOTFOUND (unknown, finished or cancelled
 *          request: drop the rest of the answer). */
PARLEY_API int parley_provider_push_audio(parley_runtime *runtime, uint64_t request, const int16_t *samples,
                                          size_t count);

/** LLM answer: a text delta (UTF-8, copied). @return as parley_provider_push_audio(). */
PARLEY_API int parley_provider_push_text(parley_runtime *runtime, uint64_t request, const char *text);

/** LLM answer: a fragment of tool call `index` (0..127): `id` and `name` once (NULL or "" after),
 *  `arguments` JSON text in pieces. @return as parley_provider_push_audio(). */
PARLEY_API int parley_provider_push_tool_call(parley_runtime *runtime, uint64_t request, int index, const char *id,
                                              const char *name, const char *arguments);

/** STT answer: a transcript; `is_final` 0/1; `speech_final` 1 when the utterance ended.
 *  @return as parley_provider_push_audio(). */
PARLEY_API int parley_provider_push_transcript(parley_runtime *runtime, uint64_t request, const char *text,
                                               int is_final, int speech_final);

/**
 * Ends a request. `status` PARLEY_OK: done (`detail` NULL, or for an LLM
 * {"finish_reason":"stop","usage":{"prompt_tokens":N,"completion_tokens":M}}). Any other
 * status: the request failed and `detail` is the message the session's error event carries.
 * @return as parley_provider_push_audio().
 */
PARLEY_API int parley_provider_complete(parley_runtime *runtime, uint64_t request, int status, const char *detail);

/**
 * Runtime mode: speaks `text` to the caller with a TTS provider (built-in or host), as it is
 * synthesised, then queues a mark. Returns at once; a PARLEY_EVENT_MARK event with the mark's
 * name reports when the caller has heard it (or that it was cleared), a PARLEY_EVENT_SESSION_ERROR
 * event carries a provider failure ({"code":"provider","message":..,"fatal":false,"mark":..,
 * "error":{"kind":..,"provider":..,"message":..}}). The mark is queued once synthesis ends, so
 * parley_session_wait_mark() reports it unknown until then.
 *
 * @param options_json NULL or {"tts": {"provider": "espeak", ...}, "mark": "name"}; default
 *        TTS espeak, default mark "speak-N".
 * @param out_mark NULL, or receives the mark name (free with parley_string_free()).
 * @return PARLEY_OK, PARLEY_EINVAL, PARLEY_ECONFIG, PARLEY_ENOTFOUND (no such provider),
 *         PARLEY_ESTATE (session closing or closed).
 */
PARLEY_API int parley_session_speak(char **out_mark, parley_session *session, const char *text,
                                    const char *options_json);

/* PROVIDER-API-END */

/* ---- Budget controller (see src/budget/) -------------------------------------------- */
/* BUDGET-API-BEGIN */

/**
 * A TTFT budget controller: keeps a percentile (default P95) of the model's
 * time-to-first-token under a target by compressing the conversation only as much as the
 * model's learned latency curve (TTFT ~= a + b * prompt_tokens) says is needed, and rolls
 * back to full context when compression does not make turns faster. docs/budget.md
 * explains the decisions and every configuration key.
 *
 * Use it around your own LLM calls, as voice-budget's wrap() does:
 *
 *     parley_budget *budget;
 *     if (parley_budget_create(&budget, "{\"target_ms\": 800, \"model\": \"gpt-4o-mini\"}") != 0) ...
 *     for each turn:
 *         char *to_send;
 *         parley_budget_prepare(&to_send, budget, history_json);
 *         ... start the streaming request with to_send; at the first token:
 *         parley_budget_record_ttft(budget, ms_since_request_start, -1);
 *         parley_string_free(to_send);
 *     parley_budget_destroy(budget);
 *
 * Thread-safety: every function may be called from any thread; calls on one handle are
 * serialised by an internal lock. Callbacks run synchronously on the thread that made the
 * call (prepare or record_ttft), after that lock is released, so they may call back into
 * the same handle, except the embedding callback, which runs inside prepare() and must
 * not.
 */
typedef struct parley_budget parley_budget;

/** Formats for parley_budget_report(). */
typedef enum parley_budget_report_format {
  PARLEY_BUDGET_REPORT_JSON = 0, /**< one JSON object */
  PARLEY_BUDGET_REPORT_TEXT = 1  /**< aligned lines for people */
} parley_budget_report_format;

/** The most floats an embedding callback may write. */
#define PARLEY_BUDGET_EMBEDDING_MAX 4096

/**
 * Creates a budget controller from a JSON configuration (NULL or "{}" for defaults):
 *
 *     {
 *       "target_ms": 800,             TTFT the percentile must stay under (1..600000)
 *       "percentile": 95,             50..99.9
 *       "provider": "default", "model": "",   selects the latency curve and the encoding
 *       "tokenizer": {"encoding": "auto"|"cl100k_base"|"o200k_base"|"heuristic",
 *                     "ranks_file": "path", "ranks_dir": "dir"},
 *       "chat_format": {"per_message": 3, "per_name": 1, "reply_priming": 3, "per_tool_call": 3},
 *       "statistics": {"window": 50, "curve_samples": 200, "min_samples": 8},
 *       "hysteresis": 0.1, "min_budget_tokens": 256, "protect_recent_messages": 2,
 *       "verify": {"turns": 6, "min_gain_ms": 0, "cooldown_turns": 10},
 *       "strategies": {
 *         "sliding_window": {"enabled": true, "keep_recent_messages": 6},
 *         "relevance": {"enabled": true, "scorer": "bm25"|"embeddings"},
 *         "summary": {"enabled": false, "min_messages": 6}
 *       }
 *     }
 *
 * Token counts are exact (tiktoken-compatible) when a rank file is found: "ranks_file",
 * else "<encoding>.tiktoken" or "<encoding>.json" in "ranks_dir" or in the folder named by
 * the environment variable PARLEY_TOKENIZER_RANKS_DIR. Otherwise a heuristic estimate is
 * used, and stats and reports say "exact": false.
 *
 * @param out receives the controller; the caller owns it and frees it with
 *            parley_budget_destroy(). Untouched on error.
 * @param config_json UTF-8 JSON, copied; may be NULL.
 * @return PARLEY_OK, PARLEY_EINVAL (out is NULL), PARLEY_ECONFIG (the message names the
 *         JSON path of the bad or unknown key, or the rank file that failed to load).
 */
PARLEY_API int parley_budget_create(parley_budget **out, const char *config_json);

/** Frees a controller. Accepts NULL. Must not be called from one of its callbacks. */
PARLEY_API void parley_budget_destroy(parley_budget *budget);

/**
 * Decides what to send for the next LLM call and returns it.
 *
 * `messages_json` is an OpenAI-style messages array: {"role": "system"|"developer"|"user"|
 * "assistant"|"tool"|"function", "content": string|parts|null, "name", "tool_calls",
 * "tool_call_id", ...}. Parley adds one field: "pinned": true protects a message from
 * compression (it is removed from the returned messages, which providers would reject).
 * System and developer messages, the last user message and what follows it are always
 * kept; an assistant message with tool calls and its tool results are kept or removed
 * together; the order never changes. When a summary is in use it is inserted as one
 * {"role": "system"} message where the messages it stands for were.
 *
 * @param out_messages_json receives the messages to send (a JSON array); the caller frees
 *            it with parley_string_free(). Untouched on error.
 * @return PARLEY_OK, PARLEY_EINVAL (a NULL argument), PARLEY_EFORMAT (not a valid messages
 *         array; the message names the JSON path, e.g. "$[3].tool_calls[0].id").
 */
PARLEY_API int parley_budget_prepare(char **out_messages_json, parley_budget *budget,
                                     const char *messages_json);

/**
 * Records the measured time to first token (from sending the request to the first
 * streamed token) of the call prepared last, so the controller can learn the latency
 * curve and check whether its last compression helped.
 *
 * @param prompt_tokens the prompt size the provider reported, or -1 for the size
 *            parley_budget_prepare() computed.
 * @return PARLEY_OK, PARLEY_EINVAL (NULL budget, ttft_ms negative, not finite or over an
 *         hour, prompt_tokens < -1), PARLEY_ESTATE (-1 without a prepare to attribute to).
 */
PARLEY_API int parley_budget_record_ttft(parley_budget *budget, double ttft_ms, int64_t prompt_tokens);

/**
 * Current statistics of the selected model as JSON: {"model", "samples", "p50_ms",
 * "p95_ms", "p99_ms", "jitter_ms", "fit": {"intercept_ms", "ms_per_token", "samples"} or
 * null, "engaged", "budget_tokens", "cooldown_turns", "tokenizer": {"name", "exact"}}.
 *
 * @param out_json receives the JSON; free it with parley_string_free().
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_budget_stats_json(char **out_json, parley_budget *budget);

/**
 * The session report: turns, TTFT P50/P95/P99 and jitter, whether the target was met,
 * compressions (helpful, harmful), rollbacks, tokens saved, violations, strategies used,
 * tokenizer, and each model's fitted curve.
 *
 * @param out_report receives the report; free it with parley_string_free().
 * @param format a parley_budget_report_format.
 * @return PARLEY_OK, PARLEY_EINVAL (NULL argument or unknown format).
 */
PARLEY_API int parley_budget_report(char **out_report, parley_budget *budget, int format);

/**
 * Counts the tokens of `text` with the controller's tokenizer (exact or estimated; see
 * "tokenizer" in parley_budget_stats_json()). Special-token strings count as plain text.
 *
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_budget_count_tokens(int64_t *out_count, parley_budget *budget, const char *text);

/**
 * Switches the latency curve the decisions use; curves are learned and kept per provider
 * and model (a fallback provider does not pollute the main model's curve).
 *
 * @param model may be NULL or "".
 * @return PARLEY_OK, PARLEY_EINVAL (NULL budget, NULL or empty provider).
 */
PARLEY_API int parley_budget_select_model(parley_budget *budget, const char *provider, const char *model);

/**
 * Receives an event as JSON, valid only during the call. Compression events:
 * {"action": "compress", "full_tokens", "sent_tokens", "budget_tokens", "strategies",
 * "reason"} or {"action": "rollback", "median_gain_ms", "cooldown_turns", "reason"}.
 * Violation events: {"kind": "ttft_over_target", "ttft_ms", "target_ms", "prompt_tokens",
 * "recent_percentile_ms"} or {"kind": "budget_unreachable", "budget_tokens",
 * "sent_tokens", "reason"}.
 */
typedef void (*parley_budget_event_cb)(const char *event_json, void *user_data);

/**
 * Sets (or, with NULL, clears) the compression and violation callbacks. They are called
 * synchronously from parley_budget_prepare() and parley_budget_record_ttft(), on the
 * calling thread. `user_data` is passed to both.
 *
 * @return PARLEY_OK, PARLEY_EINVAL.
 */
PARLEY_API int parley_budget_set_callbacks(parley_budget *budget, parley_budget_event_cb on_compression,
                                           parley_budget_event_cb on_violation, void *user_data);

/**
 * Computes an embedding of `text` for relevance trim ("scorer": "embeddings"): writes at
 * most `capacity` (PARLEY_BUDGET_EMBEDDING_MAX) floats to `out_vector` and returns how
 * many, or a negative number if it cannot (BM25 is then used). Embeddings are cached per
 * message. Called inside parley_budget_prepare(); must not call the budget's functions.
 */
typedef int (*parley_budget_embed_cb)(float *out_vector, size_t capacity, const char *text, void *user_data);

/** Sets (or, with NULL, clears) the embedding callback. @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_budget_set_embedder(parley_budget *budget, parley_budget_embed_cb embed, void *user_data);

/**
 * Asked to summarise the oldest messages that compression removed (`messages_json`, a
 * messages array valid only during the call), when "summary" is enabled. Start the work
 * (e.g. one LLM call) and return at once; later, from any thread, hand the result to
 * parley_budget_provide_summary() with the same `request_id`. No turn waits for it: until
 * the summary arrives those messages are simply left out, and once it has arrived it
 * stands in for them. One request is outstanding at a time.
 */
typedef void (*parley_budget_summarize_cb)(uint64_t request_id, const char *messages_json, void *user_data);

/** Sets (or, with NULL, clears) the summariser. @return PARLEY_OK, PARLEY_EINVAL. */
PARLEY_API int parley_budget_set_summarizer(parley_budget *budget, parley_budget_summarize_cb summarize,
                                            void *user_data);

/**
 * Supplies the summary for `request_id` (copied). An empty summary declines the request.
 * May be called from any thread, including from inside the summarise callback.
 *
 * @return PARLEY_OK, PARLEY_EINVAL (NULL argument), PARLEY_ENOTFOUND (no such outstanding
 *         request: unknown, already answered, or superseded).
 */
PARLEY_API int parley_budget_provide_summary(parley_budget *budget, uint64_t request_id, const char *summary);

/* BUDGET-API-END */

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_H */
