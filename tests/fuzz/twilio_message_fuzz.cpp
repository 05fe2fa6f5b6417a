// The Twilio Media Streams message parser sees every frame a caller (or anyone who reaches
// the port) sends. Any input must parse or be rejected with a reason; the views it returns
// must lie inside the input; a valid media payload must decode within its limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/base64.hpp"
#include "transports/twilio/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static parley::twilio::MessageParser parser;
  parley::twilio::Message message;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  const auto result = parser.parse(text, message);
  if (result != parley::twilio::ParseResult::ok && parser.error().empty()) std::abort();
  if (result == parley::twilio::ParseResult::ok && message.event == parley::twilio::Event::media) {
    std::vector<uint8_t> decoded(parley::net::base64_max_decoded_size(message.payload.size()));
    const auto n = parley::net::base64_decode(message.payload, decoded);
    if (n && *n > parley::twilio::MessageParser::kMaxPayloadBytes) std::abort();
  }
  return 0;
}
