// Deepgram's live-STT messages and REST error bodies come from the network. Any input must
// parse or be rejected with a reason; the numbers a Results message yields are finite.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "providers/deepgram.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  namespace dg = parley::providers::deepgram;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  std::string problem;
  const auto message = dg::parse_message(text, problem);
  if (!message && problem.empty()) std::abort();
  if (message) {
    if (message->type_name.empty()) std::abort();
    if (!std::isfinite(message->start) || !std::isfinite(message->duration) || !std::isfinite(message->confidence) ||
        !std::isfinite(message->last_word_end)) {
      std::abort();
    }
    if (message->type == dg::Message::Type::error && message->error.empty()) std::abort();
  }
  (void)dg::error_message(text);
  return 0;
}
