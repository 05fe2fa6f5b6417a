// Fuzzes the SSE parser. Whatever the bytes and however they are split across feeds, the
// parser yields the same events, stays within its bound, or throws parley::Error(format);
// anything else (a crash, a sanitizer report, split-dependent output) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "net/sse.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

struct Outcome {
  std::vector<std::string> events;  // "event\x1f" "data\x1f" "id"
  bool failed = false;
};

Outcome parse(std::string_view input, size_t piece) {
  parley::net::SseParser parser(4096);
  Outcome outcome;
  try {
    for (size_t i = 0; i < input.size(); i += piece) {
      parser.feed(input.substr(i, piece), [&](const parley::net::SseEvent &e) {
        require(e.data.size() <= 4096);
        outcome.events.push_back(std::string(e.event) + '\x1f' + std::string(e.data) + '\x1f' + std::string(e.id));
      });
      require(parser.buffered() <= 2 * 4096 + 2);
    }
  } catch (const parley::Error &e) {
    require(e.status() == parley::Status::format);
    outcome.failed = true;
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks how the rest is split into feeds.
  const size_t piece = 1 + data[0] % 17;
  const std::string_view input(reinterpret_cast<const char *>(data + 1), size - 1);
  const Outcome whole = parse(input, input.size() + 1);
  const Outcome split = parse(input, piece);
  if (!whole.failed && !split.failed) require(whole.events == split.events);
  return 0;
}
