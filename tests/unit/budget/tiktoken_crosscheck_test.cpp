// Exact-match cross-check against the npm package `tiktoken` (the reference encoder).
//
// ctest runs tools/tiktoken/make-reference.js first (fixture budget.tiktoken_reference),
// which writes a fixed corpus, the reference's token ids for it, a per-code-point class
// probe and the location of the package's rank files into $PARLEY_TIKTOKEN_REFERENCE.
// Nothing here skips: without the package the fixture fails, and so does every test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "budget/pretokenizer.hpp"
#include "budget/tokenizer.hpp"

namespace parley::budget {
namespace {

std::filesystem::path reference_dir() {
  const char *dir = std::getenv("PARLEY_TIKTOKEN_REFERENCE");
  if (dir == nullptr || *dir == '\0') {
    ADD_FAILURE() << "PARLEY_TIKTOKEN_REFERENCE is not set: run through ctest, which builds the reference "
                     "with tools/tiktoken/make-reference.js (needs scripts/setup-node-deps)";
    return {};
  }
  return dir;
}

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ranks_file(Encoding encoding) {
  std::string dir = read_file(reference_dir() / "ranks-dir.txt");
  while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
  return dir + "/" + encoding_name(encoding) + ".json";
}

struct Corpus {
  std::vector<std::string> names;
  std::vector<std::string> texts;
};

const Corpus &corpus() {
  static const Corpus c = [] {
    Corpus result;
    const auto doc = nlohmann::json::parse(read_file(reference_dir() / "corpus.json"));
    for (const auto &entry : doc) {
      result.names.push_back(entry.at("name").get<std::string>());
      result.texts.push_back(entry.at("text").get<std::string>());
    }
    return result;
  }();
  return c;
}

void expect_corpus_matches(const Tokenizer &tokenizer) {
  const auto expected = nlohmann::json::parse(
      read_file(reference_dir() / (std::string("expected-") + encoding_name(tokenizer.encoding()) + ".json")));
  const Corpus &c = corpus();
  ASSERT_EQ(expected.size(), c.texts.size());
  ASSERT_GT(c.texts.size(), 1000u);
  std::size_t mismatches = 0;
  std::vector<Rank> tokens;
  for (std::size_t i = 0; i < c.texts.size(); ++i) {
    tokens.clear();
    tokenizer.encode(c.texts[i], tokens);
    const auto want = expected[i].get<std::vector<Rank>>();
    if (tokens != want && ++mismatches <= 10) {
      ADD_FAILURE() << encoding_name(tokenizer.encoding()) << ": text " << c.names[i] << " ("
                    << nlohmann::json(c.texts[i]).dump().substr(0, 200) << "): got " << tokens.size()
                    << " tokens " << nlohmann::json(tokens).dump().substr(0, 300) << ", want " << want.size()
                    << " " << nlohmann::json(want).dump().substr(0, 300);
    }
    EXPECT_EQ(tokenizer.count(c.texts[i]), want.size()) << c.names[i];
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(TiktokenCrossCheck, Cl100kJsonRanksMatchReferenceOnCorpus) {
  const auto tokenizer = Tokenizer::load_file(ranks_file(Encoding::cl100k_base), Encoding::cl100k_base);
  expect_corpus_matches(*tokenizer);
}

TEST(TiktokenCrossCheck, O200kJsonRanksMatchReferenceOnCorpus) {
  const auto tokenizer = Tokenizer::load_file(ranks_file(Encoding::o200k_base), std::nullopt);
  EXPECT_EQ(tokenizer->encoding(), Encoding::o200k_base);  // recognised from pat_str
  expect_corpus_matches(*tokenizer);
}

// The `.tiktoken` format, generated here from the JSON ranks (rank files are not committed),
// must load to the same vocabulary and encode the corpus identically.
TEST(TiktokenCrossCheck, TiktokenFormatLoadsTheSameVocabulary) {
  for (const Encoding encoding : {Encoding::cl100k_base, Encoding::o200k_base}) {
    const auto from_json = Tokenizer::load_file(ranks_file(encoding), encoding);
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string file;
    for (Rank rank = 0; rank < from_json->ranks().rank_limit(); ++rank) {
      const std::string_view bytes = from_json->ranks().bytes_of(rank);
      if (bytes.empty()) continue;
      std::string b64;
      std::uint32_t buffer = 0;
      int bits = 0;
      for (const char c : bytes) {
        buffer = (buffer << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
          bits -= 6;
          b64.push_back(kAlphabet[(buffer >> bits) & 63]);
        }
      }
      if (bits > 0) b64.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
      while (b64.size() % 4 != 0) b64.push_back('=');
      file += b64 + " " + std::to_string(rank) + "\n";
    }
    const auto path = std::filesystem::temp_directory_path() /
                      (std::string("parley-test-") + encoding_name(encoding) + ".tiktoken");
    std::ofstream(path, std::ios::binary) << file;
    const auto from_tiktoken = Tokenizer::load_file(path.string(), encoding);
    std::filesystem::remove(path);
    EXPECT_EQ(from_tiktoken->ranks().size(), from_json->ranks().size());
    expect_corpus_matches(*from_tiktoken);
  }
}

// Every code point: is it \p{N}, and is it a letter or mark, as the reference's regex
// engine sees it? (See tools/tiktoken/unicode-probe.js for how the probe reads that.)
TEST(TiktokenCrossCheck, CharacterClassesMatchReferenceForEveryCodePoint) {
  const std::string probe = read_file(reference_dir() / "unicode-probe.bin");
  ASSERT_EQ(probe.size(), 0x110000u);
  std::size_t mismatches = 0;
  for (std::uint32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const CharClass c = char_class(cp);
    const bool number = c == CharClass::number;
    // In the o200k probe, X"'s" ends in "'s" unless X is punctuation or a plain space.
    const bool joins = c != CharClass::other && cp != 0x20;
    const auto flags = static_cast<unsigned char>(probe[cp]);
    if (((flags & 1) != 0) != number || ((flags & 2) != 0) != joins) {
      if (++mismatches <= 20) {
        ADD_FAILURE() << "U+" << std::hex << cp << ": reference flags " << int(flags) << ", table class "
                      << std::dec << int(c) << " (table is Unicode " << unicode_version() << ")";
      }
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace parley::budget
