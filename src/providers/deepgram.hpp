// Deepgram: Aura text to speech over REST ("deepgram" TTS) and live speech to text over a
// WebSocket ("deepgram" STT). Wire formats: ../shared/protocols/deepgram.md. Config keys
// are documented in tts/deepgram_tts.hpp and stt/deepgram_stt.hpp.
//
// This header holds what the two share and the parser of live-STT server messages, a pure
// function so it can be fuzzed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "providers/speech_common.hpp"

namespace parley::providers {

class Registry;

/// Registers TTS "deepgram" (Aura REST) and STT "deepgram" (live WebSocket).
void register_deepgram(Registry &registry);

namespace deepgram {

inline constexpr const char *kProvider = "deepgram";
inline constexpr const char *kDefaultBaseUrl = "https://api.deepgram.com";
inline constexpr const char *kKeyEnv = "DEEPGRAM_API_KEY";

/// "Token <key>", the header value both APIs take.
std::string authorization(std::string_view api_key);

/// The provider's words from an error body: {"err_code","err_msg"} gives "err_msg (err_code)";
/// {"category","message"} the message; anything else the body itself.
std::string error_message(std::string_view body);

struct Message {
  enum class Type { results, utterance_end, speech_started, metadata, error, other };
  Type type = Type::other;
  std::string type_name;
  // Results
  std::string transcript;  // channel.alternatives[0].transcript
  double confidence = 0;
  bool is_final = false;
  bool speech_final = false;
  bool from_finalize = false;
  double start = 0;     // seconds of stream audio
  double duration = 0;  // seconds
  // UtteranceEnd
  double last_word_end = -1;
  // SpeechStarted
  double timestamp = 0;
  // Error (a JSON error the server sends before closing)
  std::string error;
};

/// nullopt, with `problem` set, when `text` is not a JSON object with a string "type", or a
/// Results message lacks its channel.alternatives.
std::optional<Message> parse_message(std::string_view text, std::string &problem);

}  // namespace deepgram
}  // namespace parley::providers
