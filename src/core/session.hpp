// A call session: one caller, one transport, one strand.
//
// Everything a session owns — its state, the outbound queue, the pacer, marks, the
// recorder — is touched only on its strand, which it shares with its transport's
// connection; so nothing inside a session takes a lock. The session never knows which
// transport carries the call: the transport implements MediaPort and calls the on_*()
// methods; hosts call the thread-safe methods, which post to the strand.
//
// Outbound audio is paced: the session keeps an estimate of how much audio the far end has
// buffered (everything sent, minus real time elapsed) and releases 20 ms frames only while
// that stays under `playout_lead` (default 200 ms). So a barge-in `clear()` never has more
// than the lead to flush at the far end, however fast audio was queued here.
//
// Queues and what they do when full:
//   outbound audio  bounded by max_outbound (default 120 s); play() beyond it is refused
//                   with Status::full and nothing is queued.
//   audio events    at most max_audio_events_in_flight (default 50 = 1 s) caller-audio or
//                   agent-audio events per session may be undelivered or unreleased; newer
//                   frames are dropped and counted (reported in the stopped event).
//   host events     the runtime's bounded event queue (see Runtime::post).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.hpp"

namespace parley::core {

class Runtime;
class SessionManager;

enum class SessionState { connecting, active, closing, closed };
const char *session_state_name(SessionState state) noexcept;

enum class CallerAudioDelivery { none, events };

struct SessionOptions {
  int sample_rate = 16000;
  std::chrono::milliseconds playout_lead{200};
  std::chrono::milliseconds max_outbound{120'000};
  /// "echo" plays caller audio back (with a mark every second of it); "host" leaves the
  /// call to the host program.
  std::string behaviour = "host";
  CallerAudioDelivery caller_audio = CallerAudioDelivery::none;
  int max_audio_events_in_flight = 50;
  /// Agent audio events (host transport) carry this rate; 0 = the session rate.
  int agent_audio_event_rate = 0;
  /// Start a stereo recording here when the call starts (empty: none).
  std::string recording_path;
};

/// What a transport learned about the call when it started.
struct CallInfo {
  std::string transport;    // "twilio", "host", ...
  std::string call_id;      // Twilio CallSid
  std::string stream_id;    // Twilio streamSid
  std::string account_id;   // Twilio AccountSid
  std::vector<std::pair<std::string, std::string>> custom_parameters;
};

/// The transport side of a session. Called on the session's strand only.
class MediaPort {
 public:
  virtual ~MediaPort() = default;
  /// Agent audio at the session rate; the pacer calls it with up to 20 ms at a time.
  virtual void send_audio(std::span<const int16_t> samples) = 0;
  /// A playback mark, placed after all audio sent so far.
  virtual void send_mark(std::string_view name) = 0;
  /// Drops audio buffered at the far end (barge-in).
  virtual void clear() = 0;
  /// Ends the call; the transport reports back with Session::on_transport_closed().
  virtual void hang_up(std::string_view reason) = 0;
  /// Sends touch tones on the call (0-9, *, #, and A-D). False when the transport cannot.
  virtual bool send_dtmf(std::string_view digits) { (void)digits; return false; }
  /// Moves the call to `target` (a number, a SIP URI, a queue: the far end's business).
  /// False when the transport cannot.
  virtual bool transfer(std::string_view target) { (void)target; return false; }
  virtual bool can_transfer() const noexcept { return false; }
  /// An agent event about this call (transcript, state, turn...; see Session::emit_event),
  /// for transports whose far end shows it — a web page. Default: not forwarded.
  virtual void forward_event(EventType type, std::string_view payload_json) { (void)type, (void)payload_json; }
};

enum class MarkOutcome { pending, played, cleared, timeout, unknown };
const char *mark_outcome_name(MarkOutcome outcome) noexcept;

/// An in-process participant in the call — the agent (pipeline/agent.hpp): it sees what the
/// session sees and drives the session through its public methods. Every call is made on
/// the session's strand. The session owns its observer until the call is closed; an
/// observer holds the session only weakly.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_started(const CallInfo &info) { (void)info; }
  /// Caller audio at the session rate (usually 20 ms), after the recorder saw it.
  virtual void on_caller_audio(std::span<const int16_t> samples) { (void)samples; }
  virtual void on_dtmf(std::string_view digit) { (void)digit; }
  /// A mark the session sent was played at the far end, or cleared.
  virtual void on_mark(std::string_view name, MarkOutcome outcome) { (void)name, (void)outcome; }
  /// The host answered a tool call (parley_session_tool_result).
  virtual void on_tool_result(const std::string &tool_call_id, const std::string &result_json) {
    (void)tool_call_id, (void)result_json;
  }
  /// The call is over; the session releases its observer right after.
  virtual void on_closed(std::string_view reason) { (void)reason; }
};

struct SessionCounters {
  uint64_t caller_frames = 0;
  uint64_t agent_frames = 0;
  uint64_t audio_events_dropped = 0;
  uint64_t dtmf = 0;
  uint64_t marks_sent = 0;
  uint64_t marks_played = 0;
  uint64_t marks_cleared = 0;
  uint64_t clears = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// Creates a session on `strand` (shared with the transport's connection). The session
  /// registers with the runtime's session manager; it is unregistered once closed.
  static std::shared_ptr<Session> create(Runtime &runtime, boost::asio::any_io_executor strand,
                                         SessionOptions options, std::string listener_id = {});
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  const std::string &id() const noexcept;
  const SessionOptions &options() const noexcept;
  const boost::asio::any_io_executor &strand() const noexcept;
  SessionState state() const noexcept;  // readable from any thread

  // ---- transport side: call on the strand --------------------------------------------
  /// The session keeps only a weak reference: the transport must own the port (and the
  /// session) for as long as the call lasts.
  void attach(std::shared_ptr<MediaPort> port);
  /// Installs the call's in-process observer (see SessionObserver); before on_started.
  void set_observer(std::shared_ptr<SessionObserver> observer);
  void on_started(CallInfo info);
  /// Caller audio at the session rate, any length (usually 20 ms).
  void on_caller_audio(std::span<const int16_t> samples);
  void on_dtmf(std::string_view digit);
  void on_mark_played(std::string_view name);
  /// Delivers audio to the host as an event of `type`, within the session's bound on audio
  /// events in flight (max_audio_events_in_flight); over it the frame is dropped and counted
  /// in audio_events_dropped. For transports whose far end is the host.
  void post_audio_event(EventType type, std::span<const int16_t> samples, int sample_rate);
  /// The transport reports a problem that does not end the call (malformed message...).
  void on_transport_warning(std::string_view message);
  /// The connection is gone; `reason` says why ("stop received", "peer closed", ...).
  void on_transport_closed(std::string_view reason);

  // ---- host side: thread-safe, run on the strand -------------------------------------
  /// Queues agent audio (PCM16 at `sample_rate`; resampled to the session rate). Throws
  /// Error(full) when it would exceed max_outbound, Error(state) once closing,
  /// Error(unsupported) for an unsupported rate.
  void play(std::span<const int16_t> samples, int sample_rate);
  /// Queues a mark after all audio queued so far. Throws Error(state) once closing,
  /// Error(invalid_argument) for an empty or overlong name.
  void send_mark(std::string name);
  /// Blocks the calling (host) thread until the mark is played or cleared, or the timeout.
  MarkOutcome wait_mark(const std::string &name, std::chrono::milliseconds timeout);
  /// Drops all queued agent audio here and at the far end; pending marks report "cleared".
  void clear();
  /// Asks the transport to end the call.
  void hang_up(std::string reason);
  void start_recording(std::string path);
  void stop_recording();
  /// Stops the session: hangs up if the call is live, then releases everything. Idempotent.
  void close();
  /// Hands a tool result to the session's observer (the agent). Throws Error(state) when
  /// the session has no observer or is closed.
  void deliver_tool_result(std::string tool_call_id, std::string result_json);
  /// Queues an event about this session for the host (payload: a JSON object as text) and
  /// offers it to the transport (MediaPort::forward_event). Call on the strand.
  void emit_event(EventType type, std::string payload_json);
  /// Asks the transport to send tones / transfer the call (MediaPort). Call on the strand;
  /// false when the transport cannot or the call is over.
  bool send_dtmf(std::string_view digits);
  bool transfer(std::string_view target);
  bool transfer_supported() const;
  /// When the call started (steady clock); the epoch until then.
  std::chrono::steady_clock::time_point started_at() const noexcept;

  /// Copies of the counters (strand-owned; exact once closed).
  SessionCounters counters() const;

  struct Impl;  // opaque; public so session.cpp's helpers can name it

 private:
  Session(Runtime &runtime, boost::asio::any_io_executor strand, SessionOptions options, std::string listener_id);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::core
