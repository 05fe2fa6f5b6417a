// ElevenLabs' server messages reach three parsers: stream-input TTS messages (base64 audio,
// alignment arrays), Scribe STT messages, and REST error bodies. Any input must parse or be
// rejected with a reason; decoded audio is no longer than its base64 allows; word timings
// built from any alignment are ordered (end >= start) and hold no whitespace.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "providers/elevenlabs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  namespace el = parley::providers::elevenlabs;
  const std::string_view text(reinterpret_cast<const char *>(data), size);

  std::string problem;
  const auto message = el::parse_stream_input_message(text, problem);
  if (!message && problem.empty()) std::abort();
  if (message) {
    if (message->audio && message->audio->size() > size) std::abort();
    el::WordAligner aligner;
    auto words = aligner.add(message->alignment, 1000);
    const auto rest = aligner.finish();
    words.insert(words.end(), rest.begin(), rest.end());
    for (const auto &word : words) {
      if (word.word.empty() || word.end_ms < word.start_ms) std::abort();
      for (const char c : word.word) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') std::abort();
      }
    }
    (void)el::kind_of_error_code(message->error);
  }

  problem.clear();
  const auto scribe = el::parse_scribe_message(text, problem);
  if (!scribe && problem.empty()) std::abort();
  if (scribe && scribe->type == el::ScribeMessage::Type::error && scribe->error.empty()) std::abort();
  if (scribe && (!std::isfinite(scribe->start) || !std::isfinite(scribe->end))) std::abort();

  (void)el::error_message(text);
  return 0;
}
