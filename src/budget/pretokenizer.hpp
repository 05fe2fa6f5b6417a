// Pre-tokenization: splits text into the pieces that tiktoken's split regex would find, for
// cl100k_base and o200k_base, with hand-written matchers instead of a regex engine.
//
// The matchers reproduce the leftmost-first, backtracking semantics of the patterns (see the
// comments in pretokenizer.cpp for each alternative) and run in linear time. Character
// classes come from a generated table (unicode_classes.inc) whose Unicode version matches the
// reference encoder's; the cross-check tests compare every code point against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::budget {

/// Every code point is in exactly one class; together they answer \p{L}, \p{N}, \p{Lu}...,
/// \p{M} and \s as the split patterns use them.
enum class CharClass : std::uint8_t {
  other = 0,         ///< punctuation, symbols, controls, unassigned, invalid UTF-8 bytes
  upper = 1,         ///< Lu, Lt
  lower = 2,         ///< Ll
  letter_other = 3,  ///< Lm, Lo (both "upper" and "lower" in o200k's sets)
  mark = 4,          ///< Mn, Mc, Me (not \p{L}, but in both of o200k's letter sets)
  number = 5,        ///< Nd, Nl, No
  space = 6,         ///< White_Space other than \r and \n
  newline = 7,       ///< \r, \n
};

/// The two split patterns Parley implements.
enum class SplitPattern : std::uint8_t { cl100k, o200k };

/// The class of a code point (anything above U+10FFFF is `other`).
CharClass char_class(std::uint32_t code_point) noexcept;

/// The Unicode version of the class table, e.g. "15.0.0".
const char *unicode_version() noexcept;

/// The exact pattern strings (`pat_str` of the npm package's JSON encoders), used to
/// recognise which matcher a JSON rank file asks for.
std::string_view pattern_string(SplitPattern pattern) noexcept;

/// Walks `text` piece by piece. Invalid UTF-8 bytes are taken one at a time as `other`
/// characters, so every byte of the input lands in exactly one piece.
class PieceSplitter {
 public:
  PieceSplitter(SplitPattern pattern, std::string_view text) noexcept
      : pattern_(pattern), text_(text) {}

  /// Sets `piece` to the next piece and returns true, or returns false at the end.
  bool next(std::string_view &piece) noexcept;

 private:
  SplitPattern pattern_;
  std::string_view text_;
  std::size_t position_ = 0;
};

}  // namespace parley::budget
