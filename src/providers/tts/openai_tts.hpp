// `openai` TTS: POST {base_url}/audio/speech with response_format "pcm" (headerless signed
// 16-bit little-endian, 24 kHz, mono), one request per text chunk, audio delivered as the
// response streams in (../shared/protocols/openai-compatible.md §5).
//
// Config ({"provider":"openai", ...}):
//   "base_url", "api_key" / "api_key_env", "headers", "verify_tls", "ca_file",
//   "connect_timeout_ms", "idle_timeout_ms", "max_retries"   as for the LLM (llm/openai.hpp)
//   "first_audio_timeout_ms"  request start -> first audio; default 10000
//   "model"                   default "gpt-4o-mini-tts" (tts-1, tts-1-hd, ...)
//   "voice"                   default "alloy"
//   "speed"                   0.25..4.0; the server's default when absent
//   "instructions"            voice direction for gpt-4o-mini-tts (not tts-1*)
//
// A chunk longer than the API's 4096 characters is spoken as several requests, cut at
// sentence or word boundaries. Retries follow the LLM's rules and stop once audio played.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_reader.hpp"
#include "providers/tts/tts.hpp"

namespace parley::providers {

class Registry;

/// Registers the TTS "openai" (register_openai in llm/openai.hpp calls it).
void register_openai_tts(Registry &registry);

namespace openai {

struct Flavor;

/// Whole PCM16 samples from a little-endian byte stream cut anywhere: an odd byte at the end
/// of one chunk is kept for the next.
class Pcm16Assembler {
 public:
  /// The samples `bytes` completes; valid until the next call.
  std::span<const int16_t> feed(std::string_view bytes);
  bool has_partial() const noexcept { return carry_ >= 0; }
  void reset() noexcept { carry_ = -1; }

 private:
  std::vector<int16_t> samples_;
  int carry_ = -1;  // the low byte of a sample whose high byte has not come yet
};

struct SpeechOptions {
  std::string model = "gpt-4o-mini-tts";
  std::string voice = "alloy";
  std::optional<double> speed;
  std::string instructions;
};

/// {"model":...,"input":...,"voice":...,"response_format":"pcm"[,"speed":...][,"instructions":...]}
std::string speech_request_body(const SpeechOptions &options, std::string_view input);

/// `text` cut into pieces of at most `max_chars` characters (UTF-8 code points), at a
/// sentence end when one is in the second half of a piece, else at a space, else anywhere
/// between characters.
std::vector<std::string> split_speech_input(std::string_view text, size_t max_chars = 4096);

std::unique_ptr<Tts> make_tts(core::ConfigReader &config, const ProviderContext &context, const Flavor &flavor);

}  // namespace openai
}  // namespace parley::providers
