// GCC 12 reports a false -Wrestrict inside std::string's operator+ at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "budget/tokenizer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <fstream>
#include <string>

#include "common/error.hpp"

namespace parley::budget {
namespace {

// A synthetic but complete byte-level vocabulary in the compact form: all 256 bytes, then
// a few merges. "! <first rank> <base64>..." lines, as the npm package ships them.
std::string base64(std::string_view bytes) {
  static const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) out.push_back(alphabet[(buffer >> (bits -= 6)) & 63]);
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::string compact_ranks(const std::vector<std::string> &merges) {
  std::string line = "! 0";
  for (int b = 0; b < 256; ++b) line += " " + base64(std::string(1, static_cast<char>(b)));
  for (const auto &m : merges) line += " " + base64(m);
  return line + "\n";
}

std::string json_ranks(SplitPattern pattern, const std::string &bpe_ranks, const std::string &extra = "") {
  nlohmann::json doc = {{"pat_str", std::string(pattern_string(pattern))},
                        {"special_tokens", {{"<|endoftext|>", 1000}}},
                        {"bpe_ranks", bpe_ranks}};
  std::string text = doc.dump();
  if (!extra.empty()) text.insert(1, extra + ",");
  return text;
}

std::string expect_error(Status status, const std::function<void()> &body) {
  try {
    body();
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), status) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(Tokenizer, LoadsCompactJsonAndEncodes) {
  const auto tok = Tokenizer::parse(json_ranks(SplitPattern::cl100k, compact_ranks({"he", "ll", "hell", "hello", " w"})),
                                    std::nullopt, "test.json");
  EXPECT_EQ(tok->encoding(), Encoding::cl100k_base);
  std::vector<Rank> ids;
  tok->encode("hello world", ids);
  EXPECT_EQ(ids, (std::vector<Rank>{259, 260, 'o', 'r', 'l', 'd'}));
  EXPECT_EQ(tok->count("hello world"), 6u);
  EXPECT_EQ(tok->decode(ids), "hello world");
  ids.clear();
  tok->encode_with_special("hi<|endoftext|>", ids);
  EXPECT_EQ(ids.back(), 1000u);
  EXPECT_EQ(tok->decode(ids), "hi<|endoftext|>");
  ids.clear();
  tok->encode("hi<|endoftext|>", ids);  // ordinary: the special string is text
  EXPECT_GT(ids.size(), 3u);
  EXPECT_THROW(tok->decode(std::vector<Rank>{99999}), Error);
}

TEST(Tokenizer, LoadsTiktokenLinesWithNamedEncoding) {
  std::string file;
  for (int b = 0; b < 256; ++b) file += base64(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\r\n";
  file += base64("ab") + " 256\n\n";
  const auto tok = Tokenizer::parse(file, Encoding::o200k_base, "x.tiktoken");
  EXPECT_EQ(tok->count("ab"), 1u);
  EXPECT_EQ(tok->special_tokens().at("<|endoftext|>"), 199999u);
  expect_error(Status::invalid_argument, [&] { Tokenizer::parse(file, std::nullopt, "x.tiktoken"); });
}

TEST(Tokenizer, RankFileErrorsNameTheProblem) {
  const std::string good = compact_ranks({});
  EXPECT_NE(expect_error(Status::format, [] { Tokenizer::parse("QQ== x\n", Encoding::cl100k_base, "f"); }).find("f:1"),
            std::string::npos);
  expect_error(Status::format, [] { Tokenizer::parse("Q!== 1\n", Encoding::cl100k_base, "f"); });
  expect_error(Status::format, [] { Tokenizer::parse("QQ==\n", Encoding::cl100k_base, "f"); });
  expect_error(Status::format, [] { Tokenizer::parse("QQ== 0\nQQ== 1\n", Encoding::cl100k_base, "f"); });
  EXPECT_NE(expect_error(Status::format, [] { Tokenizer::parse("QQ== 0\n", Encoding::cl100k_base, "f"); }).find("byte 0"),
            std::string::npos);
  expect_error(Status::format, [] { Tokenizer::parse("", Encoding::cl100k_base, "f"); });
  EXPECT_NE(expect_error(Status::format, [&] { Tokenizer::parse(json_ranks(SplitPattern::o200k, good, "\"extra\":1"), std::nullopt, "j"); })
                .find("$.extra"),
            std::string::npos);
  expect_error(Status::unsupported, [&] {
    Tokenizer::parse(R"({"pat_str": "\\w+", "bpe_ranks": ""})", std::nullopt, "j");
  });
  expect_error(Status::format, [&] { Tokenizer::parse(R"({"pat_str": 1})", std::nullopt, "j"); });
  expect_error(Status::format, [&] { Tokenizer::parse("{not json", std::nullopt, "j"); });
  expect_error(Status::format, [&] { Tokenizer::parse(json_ranks(SplitPattern::o200k, good), Encoding::cl100k_base, "j"); });
  expect_error(Status::io, [] { Tokenizer::load_file("/nonexistent/ranks.json", std::nullopt); });
}

TEST(Tokenizer, LoadFileSharesLoadedVocabularies) {
  const auto path = std::filesystem::temp_directory_path() / "parley-tokenizer-test.json";
  std::ofstream(path) << json_ranks(SplitPattern::o200k, compact_ranks({"ab"}));
  const auto a = Tokenizer::load_file(path.string(), std::nullopt);
  const auto b = Tokenizer::load_file(path.string(), std::nullopt);
  std::filesystem::remove(path);
  EXPECT_EQ(a.get(), b.get());
}

TEST(Tokenizer, EncodingNamesAndModels) {
  EXPECT_EQ(encoding_from_name("cl100k_base"), Encoding::cl100k_base);
  EXPECT_EQ(encoding_from_name("p50k_base"), std::nullopt);
  EXPECT_EQ(encoding_for_model("gpt-4o-mini"), Encoding::o200k_base);
  EXPECT_EQ(encoding_for_model("openai/gpt-4.1"), Encoding::o200k_base);
  EXPECT_EQ(encoding_for_model("gpt-4-turbo"), Encoding::cl100k_base);
  EXPECT_EQ(encoding_for_model("gpt-3.5-turbo"), Encoding::cl100k_base);
  EXPECT_EQ(encoding_for_model("llama-3.1-8b"), std::nullopt);
}

TEST(Estimator, IsInTheRightRangeAndMarkedApproximate) {
  const TokenCounter counter;
  EXPECT_FALSE(counter.exact());
  EXPECT_EQ(counter.name(), "heuristic");
  // 9 common words + punctuation: one token each, about.
  const std::size_t english = estimate_tokens("The quick brown fox jumps over the lazy dog.");
  EXPECT_GE(english, 9u);
  EXPECT_LE(english, 12u);
  EXPECT_GE(estimate_tokens("语音代理运行时"), 4u);  // CJK: about a token per character
  EXPECT_EQ(estimate_tokens(""), 0u);
  EXPECT_GT(estimate_tokens(std::string(1000, 'a')), 100u);
}

}  // namespace
}  // namespace parley::budget
