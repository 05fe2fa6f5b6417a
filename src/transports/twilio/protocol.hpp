// Twilio Media Streams messages (../shared/protocols/twilio-media-streams.md), parsed and
// written. Inbound parsing is the hot path of every call (50 media messages a second), so
// the parser reuses its buffers and hands out views instead of copies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::twilio {

enum class Event { connected, start, media, dtmf, mark, stop };

const char *event_name(Event event) noexcept;

struct StartInfo {
  std::string account_sid;
  std::string call_sid;
  std::string stream_sid;
  std::vector<std::string> tracks;
  std::string encoding;  // "audio/x-mulaw"
  int64_t sample_rate = 0;
  int64_t channels = 0;
  std::vector<std::pair<std::string, std::string>> custom_parameters;
};

/// One inbound message. String views point into the parser and stay valid until its next
/// parse() call.
struct Message {
  Event event = Event::connected;
  std::string_view stream_sid;    // empty when absent (connected)
  int64_t sequence_number = -1;   // -1 when absent
  // media
  std::string_view track;
  int64_t chunk = -1;
  int64_t timestamp_ms = -1;
  std::string_view payload;       // base64, not yet decoded
  // dtmf
  std::string_view digit;
  // mark
  std::string_view mark_name;
  // connected
  std::string_view protocol;
  std::string_view version;
  // start (filled only for start messages)
  StartInfo start;
};

enum class ParseResult {
  ok,
  unknown_event,  // valid JSON with an "event" we do not know: ignore with a warning
  invalid,        // not a message: error() says why
};

class MessageParser {
 public:
  /// Largest media payload accepted, in decoded bytes (64 KiB: over 8 s of μ-law).
  static constexpr size_t kMaxPayloadBytes = 64 * 1024;

  MessageParser();
  ~MessageParser();
  MessageParser(const MessageParser &) = delete;
  MessageParser &operator=(const MessageParser &) = delete;

  ParseResult parse(std::string_view text, Message &out);
  /// Why the last parse() was not ok, e.g. "media: 'payload' is missing".
  const std::string &error() const noexcept { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

/// Builders for the three messages a server sends. Each appends one JSON text to `out`.
void write_media(std::string &out, std::string_view stream_sid, std::string_view base64_payload);
void write_mark(std::string &out, std::string_view stream_sid, std::string_view name);
void write_clear(std::string &out, std::string_view stream_sid);

/// Appends `text` JSON-escaped (without quotes).
void append_json_escaped(std::string &out, std::string_view text);

}  // namespace parley::twilio
