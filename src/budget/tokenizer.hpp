// Exact token counting, compatible with tiktoken's cl100k_base and o200k_base, and a
// heuristic estimator for when no rank file is configured.
//
// Rank files are not part of Parley. Tokenizer::load_file() reads either format:
//   - `.tiktoken`: one "<base64 token> <rank>" per line (what tiktoken downloads);
//   - the npm package `tiktoken`'s `encoders/<name>.json`: {"pat_str", "special_tokens",
//     "bpe_ranks"}, where bpe_ranks is either the format above or its compact form, lines of
//     "! <first rank> <base64 token> <base64 token> ..." with consecutive ranks.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "budget/pretokenizer.hpp"
#include "budget/rank_table.hpp"

namespace parley::budget {

enum class Encoding { cl100k_base, o200k_base };

/// "cl100k_base" / "o200k_base".
const char *encoding_name(Encoding encoding) noexcept;
std::optional<Encoding> encoding_from_name(std::string_view name) noexcept;
SplitPattern split_pattern(Encoding encoding) noexcept;

/// The encoding an OpenAI model name uses ("gpt-4o-mini" -> o200k_base), if known.
std::optional<Encoding> encoding_for_model(std::string_view model) noexcept;

class Tokenizer {
 public:
  /// Parses rank data (either format, detected from the first character). `expected` is
  /// required for the `.tiktoken` format, which does not say which pattern it belongs to;
  /// for JSON it is checked against `pat_str`. `source` names the data in error messages.
  /// Throws parley::Error (format, unsupported).
  static std::shared_ptr<const Tokenizer> parse(std::string_view data, std::optional<Encoding> expected,
                                                std::string_view source);

  /// Reads and parses a rank file (Status::io if it cannot be read). Files already loaded
  /// by this process are shared, keyed by path and encoding.
  static std::shared_ptr<const Tokenizer> load_file(const std::string &path, std::optional<Encoding> expected);

  Encoding encoding() const noexcept { return encoding_; }

  /// Appends the tokens of `text`, special-token strings taken as ordinary text (tiktoken's
  /// encode_ordinary). Invalid UTF-8 bytes are encoded as the raw bytes they are.
  void encode(std::string_view text, std::vector<Rank> &out) const;

  /// Like encode(), but special-token strings ("<|endoftext|>") become their token.
  void encode_with_special(std::string_view text, std::vector<Rank> &out) const;

  /// The number of tokens encode() would produce.
  std::size_t count(std::string_view text) const;

  /// The bytes of `tokens`; throws Error(invalid_argument) for an unknown token.
  std::string decode(std::span<const Rank> tokens) const;

  const RankTable &ranks() const noexcept { return ranks_; }
  const std::map<std::string, Rank> &special_tokens() const noexcept { return special_; }

 private:
  Tokenizer(Encoding encoding, RankTable ranks, std::map<std::string, Rank> special);
  void encode_ordinary_into(std::string_view text, std::vector<Rank> &out) const;

  Encoding encoding_;
  RankTable ranks_;
  std::map<std::string, Rank> special_;
};

/// Rough token count without a vocabulary: per pre-tokenized piece, about one token per
/// common word and more for long words, digits and non-Latin text. Typically within
/// 15% of the exact count on English prose and code; reported as approximate everywhere.
std::size_t estimate_tokens(std::string_view text, SplitPattern pattern = SplitPattern::o200k) noexcept;

/// What the controller counts with: the exact tokenizer if a rank file was configured,
/// otherwise the estimator. Cheap to copy; thread-safe.
class TokenCounter {
 public:
  TokenCounter() = default;  // heuristic, o200k-style pieces
  explicit TokenCounter(std::shared_ptr<const Tokenizer> tokenizer) : tokenizer_(std::move(tokenizer)) {}

  std::size_t count(std::string_view text) const;
  bool exact() const noexcept { return tokenizer_ != nullptr; }
  /// "o200k_base" or "heuristic".
  std::string name() const;
  const Tokenizer *tokenizer() const noexcept { return tokenizer_.get(); }

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
};

}  // namespace parley::budget
