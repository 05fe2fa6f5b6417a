// Runtime configuration parsing: any byte string either parses or raises parley::Error with
// Status::config, never anything else.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "core/runtime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  try {
    (void)parley::core::RuntimeConfig::parse(text.c_str());
  } catch (const parley::Error &e) {
    if (e.status() != parley::Status::config) std::abort();
  }
  return 0;
}
