// A simulated Twilio: the CLIENT side of Media Streams (../shared/protocols/twilio-media-streams.md),
// written from the spec independently of the server so that the two readings check each other.
//
// Used by the server's conformance tests, the many-call concurrency test and `parley loadgen`.
// One simulated call connects a WebSocket, sends `connected` and `start`, streams the caller's
// μ-law audio in real time (a `media` message every 20 ms against absolute deadlines), sends
// scripted DTMF, plays what the server sends through the spec's playback model (FIFO of audio and
// marks, 160 bytes per 20 ms, `clear` flushes and echoes every pending mark), waits for the echo
// to drain, then sends `stop` and closes with 1000. Every server message is validated strictly;
// violations are counted and described in the report. Round-trip times are measured by μ-law
// byte count (docs/loadgen.md says exactly what is measured).
//
// Two ways to drive it:
//   - CallerFleet / run_callers(): many calls on one (or a few) io threads, started over a ramp;
//   - TestCaller: one blocking connection a test drives step by step, including malformed input.
//
// This header is deliberately light (no Asio/Beast); everything else lives in caller.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::twilio {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

/// TLS settings for wss:// URLs.
struct CallerTls {
  std::string ca_file;  ///< PEM file of CAs to trust; empty = the system's default store
  bool verify = true;   ///< false accepts any certificate and host name (tests only)
};

/// What one simulated call does.
struct CallerScript {
  std::string url;        ///< ws://host[:port]/path or wss://...
  std::string signature;  ///< sent as `x-twilio-signature` on the upgrade when not empty
  std::string account_sid, call_sid, stream_sid;  ///< AC/CA/MZ + 32 hex; generated when empty
  StringPairs custom_parameters;                  ///< start.customParameters (may be empty)

  /// Caller audio, μ-law 8 kHz mono, looped; null or empty = digital silence.
  std::shared_ptr<const std::vector<uint8_t>> ulaw;
  size_t audio_offset = 0;  ///< where in `ulaw` this caller starts talking

  std::chrono::milliseconds duration{};  ///< media phase: duration / 20 ms frames
  bool send_media = true;  ///< false: an idle call (connected, started, silent for `duration`)
  /// Digits sent at offsets from the first media frame (0-9, *, #).
  std::vector<std::pair<std::chrono::milliseconds, char>> dtmf;

  bool send_stop = true;  ///< false: close the socket (1000) without a `stop` message
  /// After the media phase, keep playing until the echo is back, at most this long.
  std::chrono::milliseconds drain_timeout{2000};
  /// Budget for TCP connect + TLS, and separately for the upgrade and the closing handshake.
  std::chrono::milliseconds connect_timeout{10000};

  /// Bytes of server audio that precede the echo of the caller's first byte (negative: the
  /// server dropped that many leading bytes). 0 for a sample-count-preserving echo, which is
  /// what a streaming resampler pair gives (docs/loadgen.md).
  int64_t echo_offset_bytes = 0;
  bool keep_received_audio = false;  ///< copy every received μ-law byte into the report
  CallerTls tls;
};

/// What happened on one call.
struct CallerReport {
  // connection
  bool connected = false;      ///< the WebSocket upgrade succeeded
  std::string connect_error;   ///< why it did not (resolve, connect, TLS, upgrade)
  int http_status = 0;         ///< status of the upgrade response (101, or e.g. 403); 0 = none
  std::string error;           ///< transport failure after the upgrade (reset, timeout...)
  std::string stream_sid;      ///< the sids actually used
  std::string call_sid;

  // what the caller sent
  uint64_t frames_sent = 0;
  uint64_t dtmf_sent = 0;
  uint64_t marks_echoed = 0;
  bool stop_sent = false;
  float max_send_lateness_ms = 0;  ///< worst delay of a frame behind its 20 ms deadline

  // what the server sent
  uint64_t media_received = 0;  ///< media messages
  uint64_t bytes_received = 0;  ///< μ-law bytes in them
  /// Echoed frames: bytes_received - echo_offset_bytes rounded to whole 160-byte frames
  /// (a frame more than half back counts, so a resampler keeping its last few ms is no loss).
  uint64_t frames_received = 0;
  uint64_t marks_received = 0;
  uint64_t clears_received = 0;
  std::vector<float> rtt_ms;        ///< per frame: sent -> its echo completely back
  std::vector<float> rtt_start_ms;  ///< per frame: sent -> the first byte of its echo back
  float first_response_ms = -1;  ///< first media sent -> first media received; -1 = never
  bool drain_timed_out = false;
  std::vector<std::string> marks_echoed_names;  ///< in the order they were echoed

  // validation
  uint64_t protocol_error_count = 0;
  std::vector<std::string> protocol_errors;  ///< the first kMaxProtocolErrors, in order
  std::vector<std::string> warnings;         ///< not violations: e.g. Twilio warning 31931

  // end of the call
  bool closed_by_server = false;  ///< the server sent a close frame first
  int close_code = 0;             ///< its close code (when closed_by_server)
  std::string close_reason;
  std::vector<uint8_t> received_audio;  ///< when script.keep_received_audio

  static constexpr size_t kMaxProtocolErrors = 16;

  uint64_t frames_lost() const noexcept { return frames_sent > frames_received ? frames_sent - frames_received : 0; }
  /// Connected, no transport or protocol error, and ended by the caller: either our own close,
  /// or the server closing normally (1000) after our `stop` (as Twilio itself does).
  bool completed_cleanly() const noexcept {
    const bool ended_by_caller = !closed_by_server || (stop_sent && close_code == 1000);
    return connected && error.empty() && ended_by_caller && protocol_error_count == 0;
  }
};

struct FleetOptions {
  std::chrono::milliseconds ramp{0};  ///< call i starts at ramp * i / calls
  int io_threads = 1;                 ///< each thread runs its own io_context and a share of the calls
};

/// A thread-safe snapshot of where the calls are.
struct FleetProgress {
  size_t calls = 0;
  size_t waiting = 0;     ///< not started yet (ramp)
  size_t connecting = 0;  ///< TCP, TLS or upgrade in progress
  size_t active = 0;      ///< `start` sent, in the media (or idle) phase
  size_t ending = 0;      ///< draining, stopping, closing
  size_t finished = 0;
  size_t connected = 0;   ///< calls whose upgrade succeeded so far
  size_t failed = 0;      ///< finished without completing cleanly
};

/// Many simulated calls sharing a few io threads. Construction resolves every distinct host
/// once (not per call); start() begins the ramp and returns at once.
class CallerFleet {
 public:
  explicit CallerFleet(std::vector<CallerScript> scripts, FleetOptions options = {});
  ~CallerFleet();  ///< cancels what is still running and joins the threads
  CallerFleet(const CallerFleet &) = delete;
  CallerFleet &operator=(const CallerFleet &) = delete;

  void start();
  FleetProgress progress() const noexcept;
  /// Waits until every call has finished or `timeout` passed; true when all finished.
  bool wait_for(std::chrono::milliseconds timeout);
  /// Waits for every call and returns the reports, in script order. Call once.
  std::vector<CallerReport> wait();
  /// Aborts every call (sockets closed, no stop sent); wait() then returns promptly.
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Runs the calls to completion: `CallerFleet(scripts, {ramp, io_threads})`, start, wait.
std::vector<CallerReport> run_callers(std::vector<CallerScript> scripts, std::chrono::milliseconds ramp,
                                      int io_threads = 1);

// ---------------------------------------------------------------------------------------------
// Messages a Twilio client sends, built exactly as the spec shows them (field order included).

/// "AC"/"CA"/"MZ" + 32 random lowercase hex digits.
std::string random_sid(std::string_view prefix);

/// Builds one call's messages and keeps its counters: sequenceNumber (start = "1", then +1 for
/// every media, mark echo, dtmf and stop) and media chunk (from "1"). Each append_* appends
/// one JSON text to `out`.
class TwilioMessages {
 public:
  TwilioMessages(std::string account_sid, std::string call_sid, std::string stream_sid);

  static std::string connected();
  std::string start(const StringPairs &custom_parameters = {});
  void append_media(std::string &out, std::span<const uint8_t> ulaw, int64_t timestamp_ms);
  void append_dtmf(std::string &out, char digit);
  void append_mark(std::string &out, std::string_view name);
  void append_stop(std::string &out);

  std::string media(std::span<const uint8_t> ulaw, int64_t timestamp_ms);
  std::string dtmf(char digit);
  std::string mark(std::string_view name);
  std::string stop();

  const std::string &account_sid() const noexcept { return account_sid_; }
  const std::string &call_sid() const noexcept { return call_sid_; }
  const std::string &stream_sid() const noexcept { return stream_sid_; }
  /// The sequenceNumber the next message will carry.
  uint64_t next_sequence_number() const noexcept { return sequence_; }
  uint64_t next_chunk() const noexcept { return chunk_; }

 private:
  void append_sequence(std::string &out);

  std::string account_sid_, call_sid_, stream_sid_;
  uint64_t sequence_ = 1;
  uint64_t chunk_ = 1;
};


// ---------------------------------------------------------------------------------------------
// Messages a server sends, validated strictly.

/// Checks server -> Twilio text frames against the spec: a JSON object whose `event` is media,
/// mark or clear, whose `streamSid` is this stream's, with exactly the fields the spec lists
/// and a valid padded base64 payload. Reuses its buffers; views stay valid until the next read.
class ServerMessageReader {
 public:
  enum class Kind { media, mark, clear };
  struct Message {
    Kind kind = Kind::clear;
    std::span<const uint8_t> audio;  ///< media: the decoded μ-law bytes
    std::string_view mark_name;      ///< mark
  };

  ServerMessageReader();
  ~ServerMessageReader();
  ServerMessageReader(const ServerMessageReader &) = delete;
  ServerMessageReader &operator=(const ServerMessageReader &) = delete;

  /// The message, or nullopt with error() saying what is wrong.
  std::optional<Message> read(std::string_view text, std::string_view stream_sid);
  const std::string &error() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Caller audio.

/// Reads a WAV file (PCM16, μ-law or A-law, mono or stereo, any rate the resampler takes)
/// and returns it as μ-law 8 kHz mono. μ-law 8 kHz mono files are taken byte for byte.
/// Throws Error(io/format/unsupported).
std::vector<uint8_t> load_caller_audio(const std::string &wav_path);

/// A deterministic speech-like signal as μ-law 8 kHz: a voiced source (pitch gliding around
/// 120 Hz) shaped by moving formants, in syllables of ~200 ms with pauses between phrases.
/// For when no recording is given; real speech is better (docs/loadgen.md).
std::vector<uint8_t> synthetic_speech_ulaw(std::chrono::milliseconds length);

/// The `frames` * 160 bytes a script sends, in order (its looped audio from audio_offset).
std::vector<uint8_t> script_audio(const CallerScript &script, uint64_t frames);

struct EchoAlignment {
  int lag_samples = 0;       ///< received[i + lag] echoes sent[i]
  double correlation = 0;    ///< normalised, at that lag (1 = identical shape)
};
/// Finds how far the echo in `received` is shifted against `sent` (both μ-law 8 kHz) by
/// normalised cross-correlation over the first `window` samples, lags within ±max_lag.
EchoAlignment estimate_echo_lag(std::span<const uint8_t> sent, std::span<const uint8_t> received,
                                int max_lag = 400, size_t window = 8000);

// ---------------------------------------------------------------------------------------------
// TestCaller: one blocking connection for conformance and hostile-input tests.

/// A synchronous WebSocket client a test drives step by step. Nothing happens between calls:
/// the connection is read only inside read()/read_text() (so "stop reading" is just not
/// calling them). A read that timed out stays pending and completes in a later call.
/// Every method throws Error(io) (or Error(timeout)) when the transport fails.
class TestCaller {
 public:
  struct Frame {
    bool binary = false;
    std::string data;
  };

  explicit TestCaller(CallerTls tls = {});
  ~TestCaller();
  TestCaller(const TestCaller &) = delete;
  TestCaller &operator=(const TestCaller &) = delete;

  /// Connects and sends the upgrade with `headers` (e.g. {"x-twilio-signature", ...}).
  /// Returns the HTTP status of the response: 101 when upgraded, else e.g. 403 (the
  /// connection is then closed). Throws Error(io) when there was no response at all.
  int connect(const std::string &url, const StringPairs &headers = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Headers of the upgrade response.
  const StringPairs &response_headers() const noexcept;
  /// Body of a refused upgrade.
  const std::string &response_body() const noexcept;

  void send_text(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void send_binary(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Writes raw bytes on the connection (under TLS when wss), bypassing WebSocket framing.
  void send_raw(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// A client (masked) WebSocket frame: FIN set, `opcode` 1 text / 2 binary / 8 close...
  static std::vector<uint8_t> masked_frame(uint8_t opcode, std::span<const uint8_t> payload);

  /// The next message, or nullopt when none arrived in time or the connection is closed
  /// (is_open() tells which).
  std::optional<Frame> read(std::chrono::milliseconds timeout);
  /// As read(), but a binary frame throws Error(protocol) (servers must never send one).
  std::optional<std::string> read_text(std::chrono::milliseconds timeout);

  bool is_open() const noexcept;
  /// The server's close frame, when it closed first (0 / "" otherwise).
  int close_code() const noexcept;
  const std::string &close_reason() const noexcept;

  /// Sends a close frame and waits (up to `timeout`) for the server's; messages still
  /// arriving are discarded. No-op when already closed.
  void close(uint16_t code = 1000, std::string_view reason = {},
             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Drops the TCP connection without a close frame; `reset` sends RST instead of FIN.
  void abort(bool reset = false);
  /// Sends the first `bytes` bytes of a masked text frame holding `text`, then drops the
  /// connection: a client vanishing mid-frame.
  void abort_mid_frame(std::string_view text, size_t bytes, bool reset = false);

  /// Message builder with this connection's ids and counters, for well-formed sessions:
  /// caller.send_text(caller.twilio().start()).
  TwilioMessages &twilio() noexcept { return messages_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  CallerTls tls_;
  TwilioMessages messages_;
};

}  // namespace parley::twilio
