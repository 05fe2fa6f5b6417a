// Azure's recognition results and error bodies come from the network. Any input must parse
// or be rejected with a reason, with ticks never negative; and the SSML escaper, fed the
// same bytes as text, leaves no markup character unescaped.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "providers/azure.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  namespace az = parley::providers::azure;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  std::string problem;
  const auto recognition = az::parse_recognition(text, problem);
  if (!recognition && problem.empty()) std::abort();
  if (recognition) {
    if (recognition->status.empty() || recognition->offset_ticks < 0 || recognition->duration_ticks < 0) std::abort();
    if (recognition->confidence < 0 || recognition->confidence > 1) std::abort();
    if (recognition->status != "Success" && !recognition->text.empty()) std::abort();
  }
  (void)az::error_message(500, text);

  const std::string escaped = az::escape_xml(text);
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '<' || c == '>' || c == '"' || c == '\'') std::abort();
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') std::abort();
    if (c == '&') {
      const std::string_view rest = std::string_view(escaped).substr(i);
      if (rest.rfind("&amp;", 0) != 0 && rest.rfind("&lt;", 0) != 0 && rest.rfind("&gt;", 0) != 0 &&
          rest.rfind("&quot;", 0) != 0 && rest.rfind("&apos;", 0) != 0) {
        std::abort();
      }
    }
  }
  return 0;
}
