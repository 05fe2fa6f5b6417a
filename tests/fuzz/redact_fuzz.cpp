// Redaction runs on every log line, much of it derived from network input. It must never
// crash, and a registered secret must never survive it, whatever surrounds it.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/redact.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  static const std::string secret = "S3cr3t-Value-0123456789";
  static parley::core::SecretRegistry *registry = [] {
    auto *r = new parley::core::SecretRegistry;
    r->add(secret);
    return r;
  }();
  const std::string split = text.substr(0, text.size() / 2) + secret + text.substr(text.size() / 2);
  const std::string out = registry->redact(split);
  if (out.find(secret) != std::string::npos) std::abort();
  (void)parley::core::redact_patterns(text);
  return 0;
}
