// The browser protocol's client-message parser sees every text frame a web page (or anyone
// who reaches the port) sends. Any input must parse or be refused with a reason; the views
// it returns respect the documented limits; a refusal's reason
// must be valid UTF-8 short enough to send back; binary frames are checked by size alone.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transports/browser/protocol.hpp"

namespace {

using namespace parley::browser;

bool valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MessageParser parser;
  ClientMessage message;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  if (!parser.parse(text, message)) {
    // Beast only delivers UTF-8 text frames; for such input the reason is UTF-8 too.
    if (parser.error().empty() || parser.error().size() > 400) std::abort();
    if (valid_utf8(text) && !valid_utf8(parser.error())) std::abort();
  } else {
    if (message.call_id.size() > MessageParser::kMaxCallIdBytes) std::abort();
    if (message.type == MessageType::mark && (message.mark_name.empty() || message.mark_name.size() > MessageParser::kMaxMarkNameBytes)) {
      std::abort();
    }
    if (message.type == MessageType::dtmf && !is_dtmf_digit(message.digit)) std::abort();
    if (message.type == MessageType::start && message.sample_rate < 0) std::abort();
  }
  // The same bytes as a binary frame: valid audio exactly when even and within the limit.
  const bool audio_ok = check_audio_frame(size).empty();
  if (audio_ok != (size % 2 == 0 && size <= kMaxAudioFrameBytes)) std::abort();
  // An excerpt never ends inside a UTF-8 sequence of valid input.
  if (valid_utf8(text) && !valid_utf8(utf8_prefix(text, size / 2))) std::abort();
  return 0;
}
