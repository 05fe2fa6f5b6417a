// ElevenLabs: text to speech over HTTP streaming ("elevenlabs") and over the stream-input
// WebSocket ("elevenlabs_ws"), and Scribe realtime speech to text ("elevenlabs").
// Wire formats: ../shared/protocols/elevenlabs.md. Config keys are documented in
// tts/elevenlabs_tts.hpp and stt/elevenlabs_stt.hpp.
//
// This header holds what the three share (names, output formats, error bodies) and the
// parsers of server messages, which are pure functions so they can be fuzzed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/speech_common.hpp"
#include "providers/tts/tts.hpp"

namespace parley::providers {

class Registry;

/// Registers TTS "elevenlabs" (HTTP streaming) and "elevenlabs_ws" (stream-input
/// WebSocket), and STT "elevenlabs" (Scribe realtime).
void register_elevenlabs(Registry &registry);

namespace elevenlabs {

inline constexpr const char *kProvider = "elevenlabs";
inline constexpr const char *kDefaultBaseUrl = "https://api.elevenlabs.io";
inline constexpr const char *kKeyEnv = "ELEVENLABS_API_KEY";
inline constexpr const char *kKeyHeader = "xi-api-key";

/// A raw output format the adapters can turn into PCM16: pcm_<rate> or ulaw_8000.
struct OutputFormat {
  speech::WireAudio encoding = speech::WireAudio::pcm16;
  int sample_rate = 16000;
};
std::optional<OutputFormat> output_format(std::string_view name);
/// The names output_format() accepts, for config errors.
const std::vector<std::string_view> &output_format_names();

/// The provider's words from an error body: {"detail":{"status","message"}} gives
/// "message (status)"; {"detail":[{"loc","msg"}]} gives "body.text: msg"; anything else the
/// body itself (or "" when empty).
std::string error_message(std::string_view body);

/// The ErrorKind for an error code ElevenLabs sends ("invalid_api_key", "quota_exceeded",
/// "input_error", "rate_limited", ...).
ErrorKind kind_of_error_code(std::string_view code);

// ---------------------------------------------------------------------------------------------
// stream-input (TTS WebSocket) server messages

struct AlignedChar {
  std::string text;  // one character (UTF-8)
  int start_ms = 0;  // from the start of the message's audio
  int duration_ms = 0;
};

struct StreamInputMessage {
  std::optional<std::string> audio;  // decoded "audio" bytes; nullopt when absent or null
  bool is_final = false;
  std::vector<AlignedChar> alignment;  // "alignment", else "normalizedAlignment"
  std::string error;                   // an error message: "error" (a code or text) ...
  std::string message;                 // ... and "message"
  bool is_error() const { return !error.empty() || (!message.empty() && !audio && !is_final); }
};

/// nullopt, with `problem` set, when `text` is not JSON, not an object, or its audio is not
/// a string of valid base64. Alignment is read leniently: a missing time is 0, times are
/// capped, and an array with a non-string character is ignored.
std::optional<StreamInputMessage> parse_stream_input_message(std::string_view text, std::string &problem);

/// Joins aligned characters into words, across messages: a word ends at whitespace, so one
/// split between two audio messages comes out whole. Edge punctuation is dropped ("Hello,"
/// -> "Hello"), as the espeak-ng TTS reports words.
class WordAligner {
 public:
  /// The words these characters complete; `offset_ms` = audio delivered before them.
  std::vector<WordTiming> add(const std::vector<AlignedChar> &chars, int offset_ms);
  /// The word still open at the end of the audio, if any.
  std::vector<WordTiming> finish();

 private:
  void close_word(std::vector<WordTiming> &out);

  std::string word_;
  int start_ms_ = 0;
  int end_ms_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Scribe (STT WebSocket) server messages

struct ScribeMessage {
  enum class Type { session_started, partial, committed, committed_with_timestamps, error, other };
  Type type = Type::other;
  std::string message_type;
  std::string text;
  std::string error_code;  // error: the code (message_type, or "error"'s text when that is a code)
  std::string error;       // error: the words
  double start = -1;       // committed_with_timestamps: first word start, seconds (-1: none)
  double end = -1;         // ... last word end
};

/// nullopt, with `problem` set, when `text` is not a JSON object with a string message_type.
std::optional<ScribeMessage> parse_scribe_message(std::string_view text, std::string &problem);

}  // namespace elevenlabs
}  // namespace parley::providers
