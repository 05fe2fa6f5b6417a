// The browser protocol (docs/browser-protocol.md): JSON control messages in text frames,
// PCM16 little-endian audio in binary frames. This file parses what a client sends and
// writes what a server sends; it knows nothing of sockets or sessions, so the fuzz target
// and the simulated caller use it as the listener does.
//
// Parsing is strict about the fields a message needs and lenient about fields it does not
// know (a newer page may send more), like the Twilio parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::browser {

enum class MessageType { start, mark, dtmf, stop };

const char *message_type_name(MessageType type) noexcept;

/// One client message. String views point into the parser and stay valid until its next
/// parse() call.
struct ClientMessage {
  MessageType type = MessageType::stop;
  // start
  int64_t sample_rate = 0;   // 0 when absent (the client takes the default, 16000)
  std::string_view call_id;  // empty when absent
  std::vector<std::pair<std::string, std::string>> parameters;
  // mark
  std::string_view mark_name;
  // dtmf
  std::string_view digit;
};

class MessageParser {
 public:
  static constexpr size_t kMaxCallIdBytes = 128;
  static constexpr size_t kMaxMarkNameBytes = 256;  // the session's own limit

  MessageParser();
  ~MessageParser();
  MessageParser(const MessageParser &) = delete;
  MessageParser &operator=(const MessageParser &) = delete;

  /// True when `text` is a valid client message; otherwise error() says why, e.g.
  /// "dtmf: 'digit' must be one of 0-9, * or # (got \"Z\")".
  bool parse(std::string_view text, ClientMessage &out);
  const std::string &error() const noexcept { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// ---- audio frames ----------------------------------------------------------------------

/// Largest binary frame a client may send (over 0.6 s at 48 kHz).
constexpr size_t kMaxAudioFrameBytes = 64 * 1024;

/// The rates a client may ask for in `start`.
constexpr int kClientRates[] = {8000, 16000, 24000, 48000};
constexpr int kDefaultClientRate = 16000;
bool is_client_rate(int64_t rate) noexcept;

/// Why a binary frame of `bytes` bytes is not audio, or "" when it is.
std::string check_audio_frame(size_t bytes);

/// Decodes PCM16 little-endian (an even byte count) into `out`, resized to fit.
void read_pcm16le(std::string_view bytes, std::vector<int16_t> &out);
/// Appends `samples` as PCM16 little-endian bytes.
void append_pcm16le(std::string &out, std::span<const int16_t> samples);

// ---- server messages: each appends one JSON text to `out` ------------------------------

void write_started(std::string &out, std::string_view session_id, int sample_rate);
void write_mark(std::string &out, std::string_view name);
void write_clear(std::string &out);
/// `data_json` is a JSON object's text (an event payload), inserted as it is; "" = {}.
void write_event(std::string &out, std::string_view event, std::string_view data_json);
void write_error(std::string &out, std::string_view message);

// ---- client messages (for the simulated caller and tests) -------------------------------

void write_start(std::string &out, int sample_rate, std::string_view call_id,
                 std::span<const std::pair<std::string, std::string>> parameters);
void write_mark_played(std::string &out, std::string_view name);
void write_dtmf(std::string &out, char digit);
void write_stop(std::string &out);

// ---- text helpers -----------------------------------------------------------------------

/// Appends `text` JSON-escaped (without quotes).
void append_json_escaped(std::string &out, std::string_view text);
/// The longest prefix of `text` of at most `max_bytes` that does not split a UTF-8
/// sequence: browsers fail a connection whose text frame or close reason is not UTF-8.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes) noexcept;
bool is_dtmf_digit(std::string_view digit) noexcept;

}  // namespace parley::browser
