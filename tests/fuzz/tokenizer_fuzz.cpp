// Fuzzes the budget module's input parsers: the rank-file loaders (.tiktoken lines, the
// compact "!" form and the npm JSON envelope), the pre-tokenizer and BPE on arbitrary bytes,
// and the messages-JSON parser behind parley_budget_prepare(). The first input byte picks
// the target.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "budget/controller.hpp"
#include "budget/tokenizer.hpp"
#include "common/error.hpp"

namespace {

using namespace parley::budget;

// A complete tiny vocabulary (every byte plus a few merges), built once.
std::shared_ptr<const Tokenizer> small_tokenizer(Encoding encoding) {
  std::string ranks;
  static const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int b = 0; b < 256; ++b) {
    ranks += alphabet[b >> 2];
    ranks += alphabet[(b & 3) << 4];
    ranks += "== " + std::to_string(b) + "\n";
  }
  ranks += "YWE= 256\nYWFhYQ== 257\nIGE= 258\nICA= 259\n";  // aa, aaaa, " a", "  "
  return Tokenizer::parse(ranks, encoding, "fuzz");
}

void tokenize(std::string_view text) {
  static const auto cl100k = small_tokenizer(Encoding::cl100k_base);
  static const auto o200k = small_tokenizer(Encoding::o200k_base);
  for (const auto &tokenizer : {cl100k, o200k}) {
    std::vector<Rank> ids;
    tokenizer->encode(text, ids);
    if (tokenizer->decode(ids) != text) __builtin_trap();  // every byte must round-trip
    ids.clear();
    tokenizer->encode_with_special(text, ids);
  }
  (void)estimate_tokens(text);
}

void prepare(std::string_view json) {
  static Controller controller(parse_controller_config(R"({"tokenizer": {"encoding": "heuristic"}})"), TokenCounter());
  try {
    (void)controller.prepare_json(json);
  } catch (const parley::Error &) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char *>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: Tokenizer::parse(input, Encoding::cl100k_base, "fuzz"); break;
      case 1: Tokenizer::parse(input, std::nullopt, "fuzz"); break;
      case 2: tokenize(input); break;
      default: prepare(input); break;
    }
  } catch (const parley::Error &) {
    // Rejected input is fine; crashes, leaks and undefined behaviour are not.
  }
  return 0;
}
