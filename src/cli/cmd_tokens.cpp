// `parley tokens`: counts (or lists) the tokens of stdin with the exact tiktoken-compatible
// tokenizer, or estimates them when no rank file is available.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "budget/tokenizer.hpp"
#include "cli/commands.hpp"
#include "common/error.hpp"

namespace parley::cli {
namespace {

void print_tokens_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley tokens [--encoding cl100k_base|o200k_base] [--ranks FILE] [--ids]\n"
               "\n"
               "Reads UTF-8 text on stdin and prints its token count (or, with --ids, the token ids,\n"
               "space-separated). Special-token strings count as plain text.\n"
               "\n"
               "  --encoding NAME  cl100k_base or o200k_base (default o200k_base)\n"
               "  --ranks FILE     rank file: a .tiktoken file or the npm package tiktoken's\n"
               "                   encoders/<name>.json. Default: <encoding>.tiktoken or <encoding>.json\n"
               "                   in $PARLEY_TOKENIZER_RANKS_DIR. Without one, the count is an estimate\n"
               "                   and a note says so on stderr.\n"
               "  --ids            print the token ids instead of the count (needs a rank file)\n");
}

std::optional<std::string> default_ranks_file(budget::Encoding encoding) {
  const char *dir = std::getenv("PARLEY_TOKENIZER_RANKS_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  for (const char *extension : {".tiktoken", ".json"}) {
    const auto path = std::filesystem::path(dir) / (std::string(budget::encoding_name(encoding)) + extension);
    std::error_code error;
    if (std::filesystem::is_regular_file(path, error)) return path.string();
  }
  return std::nullopt;
}

}  // namespace

int run_tokens(Args args) {
  budget::Encoding encoding = budget::Encoding::o200k_base;
  std::optional<std::string> ranks;
  bool ids = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      print_tokens_usage(stdout);
      return 0;
    }
    if (arg == "--ids") {
      ids = true;
    } else if ((arg == "--encoding" || arg == "--ranks") && i + 1 < args.size()) {
      const std::string_view value = args[++i];
      if (arg == "--ranks") {
        ranks = std::string(value);
      } else if (const auto parsed = budget::encoding_from_name(value)) {
        encoding = *parsed;
      } else {
        std::fprintf(stderr, "parley tokens: unknown encoding '%.*s' (cl100k_base or o200k_base)\n",
                     static_cast<int>(value.size()), value.data());
        return 2;
      }
    } else {
      std::fprintf(stderr, "parley tokens: unexpected argument '%.*s'\n\n", static_cast<int>(arg.size()), arg.data());
      print_tokens_usage(stderr);
      return 2;
    }
  }
  if (!ranks) ranks = default_ranks_file(encoding);
  const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  try {
    if (!ranks) {
      if (ids) {
        std::fprintf(stderr, "parley tokens: --ids needs a rank file (--ranks FILE or $PARLEY_TOKENIZER_RANKS_DIR)\n");
        return 1;
      }
      std::fprintf(stderr, "parley tokens: no rank file; the count is an estimate\n");
      std::printf("%zu\n", budget::estimate_tokens(text, budget::split_pattern(encoding)));
      return 0;
    }
    const auto tokenizer = budget::Tokenizer::load_file(*ranks, encoding);
    if (!ids) {
      std::printf("%zu\n", tokenizer->count(text));
      return 0;
    }
    std::vector<budget::Rank> tokens;
    tokenizer->encode(text, tokens);
    std::string line;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) line += ' ';
      line += std::to_string(tokens[i]);
    }
    std::printf("%s\n", line.c_str());
    return 0;
  } catch (const Error &e) {
    std::fprintf(stderr, "parley tokens: %s\n", e.what());
    return 1;
  }
}

}  // namespace parley::cli
