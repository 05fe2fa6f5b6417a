// The OpenAI-compatible stream decoder (providers/llm/openai.hpp) sees every byte an LLM
// server sends. The first input byte picks where the rest is cut into feeds, so framing
// across chunk boundaries is explored too. Any input must end streaming, done, failed with
// a message, or still waiting for bytes; the assembled text must be exactly the deltas
// delivered; an error body must give a message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "providers/llm/openai.hpp"

namespace {

using parley::providers::ToolCallDelta;
using parley::providers::openai::ChatStreamDecoder;

struct Checker final : ChatStreamDecoder::Handler {
  std::string text;
  size_t deltas = 0;
  void on_text(std::string_view piece) override {
    if (piece.empty()) std::abort();  // empty deltas are not delivered
    text.append(piece);
    ++deltas;
  }
  void on_tool_call_delta(const ToolCallDelta &delta) override {
    if (delta.index < 0) std::abort();
    if (delta.id.empty() && delta.name.empty() && delta.arguments.empty()) std::abort();
    ++deltas;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;  // 1..64-byte feeds, or whole when the byte is 0
  std::string_view input(reinterpret_cast<const char *>(data + 1), size - 1);

  Checker checker;
  ChatStreamDecoder decoder(checker, 4096);
  auto state = ChatStreamDecoder::State::streaming;
  if (data[0] == 0) {
    state = decoder.feed(input);
  } else {
    for (size_t at = 0; at < input.size() && state == ChatStreamDecoder::State::streaming; at += step) {
      state = decoder.feed(input.substr(at, step));
    }
  }
  if (state == ChatStreamDecoder::State::failed && decoder.error().message.empty()) std::abort();
  if (decoder.result().text.size() > checker.text.size() || decoder.deltas() != checker.deltas) std::abort();
  if (decoder.result().text != checker.text) std::abort();

  // The same bytes as an error body or a non-streamed completion.
  if (parley::providers::openai::error_message(500, input).empty()) std::abort();
  parley::providers::LlmResult result;
  (void)parley::providers::openai::parse_chat_completion(input, result);
  return 0;
}
