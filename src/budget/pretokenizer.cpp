#include "budget/pretokenizer.hpp"

namespace parley::budget {
namespace {

#include "budget/unicode_classes.inc"

constexpr std::string_view kCl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Class sets as bit masks over CharClass values.
constexpr unsigned bit(CharClass c) { return 1u << static_cast<unsigned>(c); }
constexpr unsigned kLetter = bit(CharClass::upper) | bit(CharClass::lower) | bit(CharClass::letter_other);
constexpr unsigned kWhitespace = bit(CharClass::space) | bit(CharClass::newline);
// [^\r\n\p{L}\p{N}]: the optional one-character prefix of a word.
constexpr unsigned kWordPrefix = bit(CharClass::other) | bit(CharClass::mark) | bit(CharClass::space);
// [^\s\p{L}\p{N}]: punctuation and symbols (marks included).
constexpr unsigned kPunct = bit(CharClass::other) | bit(CharClass::mark);
// o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}].
constexpr unsigned kCaseUpper = bit(CharClass::upper) | bit(CharClass::letter_other) | bit(CharClass::mark);
constexpr unsigned kCaseLower = bit(CharClass::lower) | bit(CharClass::letter_other) | bit(CharClass::mark);

struct Char {
  CharClass cls;
  std::uint8_t length;  // bytes; 0 only past the end
};

constexpr bool in(unsigned set, CharClass c) { return (set & bit(c)) != 0; }

// Walks UTF-8 text; invalid sequences decode as one `other` byte.
class Cursor {
 public:
  explicit Cursor(std::string_view text) noexcept
      : data_(reinterpret_cast<const unsigned char *>(text.data())), size_(text.size()) {}

  std::size_t size() const noexcept { return size_; }
  unsigned char byte(std::size_t i) const noexcept { return i < size_ ? data_[i] : 0; }

  Char at(std::size_t i) const noexcept {
    if (i >= size_) return {CharClass::other, 0};
    const unsigned char b0 = data_[i];
    if (b0 < 0x80) return {ascii_class(b0), 1};
    std::uint32_t cp = 0;
    const std::uint8_t length = decode_multibyte(i, cp);
    if (length == 0) return {CharClass::other, 1};
    return {char_class(cp), length};
  }

  // End of the longest run starting at i whose characters are all in `set`.
  std::size_t run_end(std::size_t i, unsigned set) const noexcept {
    while (i < size_) {
      const Char c = at(i);
      if (!in(set, c.cls)) break;
      i += c.length;
    }
    return i;
  }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: the end of the contraction, or kNone. Under Unicode
  // simple case folding the only non-ASCII equivalent of these letters is U+017F (long s).
  std::size_t contraction_end(std::size_t i) const noexcept {
    if (byte(i) != '\'') return kNone;
    const unsigned char a = byte(i + 1) | 0x20;  // ASCII lower-casing; non-letters stay unmatched
    const unsigned char b = byte(i + 2) | 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return ascii_letter(i + 1) ? i + 2 : kNone;
    if (byte(i + 1) == 0xC5 && byte(i + 2) == 0xBF) return i + 3;  // 'ſ
    if ((a == 'r' || a == 'v') && b == 'e' && ascii_letter(i + 1) && ascii_letter(i + 2)) return i + 3;
    if (a == 'l' && b == 'l' && ascii_letter(i + 1) && ascii_letter(i + 2)) return i + 3;
    return kNone;
  }

 private:
  static CharClass ascii_class(unsigned char b) noexcept {
    return static_cast<CharClass>(kClassBlocks[kClassStage1[0] * kClassBlockSize + b]);
  }

  bool ascii_letter(std::size_t i) const noexcept {
    const unsigned char b = byte(i) | 0x20;
    return b >= 'a' && b <= 'z';
  }

  bool continuation(std::size_t i) const noexcept { return i < size_ && (data_[i] & 0xC0) == 0x80; }

  // Decodes a strict UTF-8 sequence (no overlongs, surrogates or values past U+10FFFF).
  std::uint8_t decode_multibyte(std::size_t i, std::uint32_t &cp) const noexcept {
    const unsigned char b0 = data_[i];
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      if (!continuation(i + 1)) return 0;
      cp = (static_cast<std::uint32_t>(b0 & 0x1F) << 6) | (data_[i + 1] & 0x3F);
      return 2;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
      if (!continuation(i + 1) || !continuation(i + 2)) return 0;
      const unsigned char b1 = data_[i + 1];
      if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F)) return 0;
      cp = (static_cast<std::uint32_t>(b0 & 0x0F) << 12) |
           (static_cast<std::uint32_t>(b1 & 0x3F) << 6) | (data_[i + 2] & 0x3F);
      return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
      if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
      const unsigned char b1 = data_[i + 1];
      if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 > 0x8F)) return 0;
      cp = (static_cast<std::uint32_t>(b0 & 0x07) << 18) |
           (static_cast<std::uint32_t>(b1 & 0x3F) << 12) |
           (static_cast<std::uint32_t>(data_[i + 2] & 0x3F) << 6) | (data_[i + 3] & 0x3F);
      return 4;
    }
    return 0;
  }

  const unsigned char *data_;
  std::size_t size_;
};

// \p{N}{1,3}
std::size_t numbers_end(const Cursor &text, std::size_t i) {
  for (int n = 0; n < 3; ++n) {
    const Char c = text.at(i);
    if (c.length == 0 || c.cls != CharClass::number) break;
    i += c.length;
  }
  return i;
}

// The whitespace alternatives, in order: \s*[\r\n]+ | \s+(?!\S) | \s+ at i (a whitespace
// character). Backtracking the greedy \s* makes the first end after the run's last newline;
// the lookahead version gives back the run's last character unless the run ends the text.
std::size_t whitespace_end(const Cursor &text, std::size_t i) {
  const std::size_t start = i;
  std::size_t after_last_newline = kNone;
  std::size_t last_char = i;
  while (i < text.size()) {
    const Char c = text.at(i);
    if (!in(kWhitespace, c.cls)) break;
    last_char = i;
    i += c.length;
    if (c.cls == CharClass::newline) after_last_newline = i;
  }
  if (after_last_newline != kNone) return after_last_newline;
  if (i == text.size() || last_char == start) return i;
  return last_char;
}

// ` ?[^\s\p{L}\p{N}]+` followed by `trailer`* at i, or kNone.
std::size_t punctuation_end(const Cursor &text, std::size_t i, Char first, bool slash_trailer) {
  std::size_t begin = i;
  if (text.byte(i) == ' ') {
    begin = i + 1;
    if (!in(kPunct, text.at(begin).cls) || text.at(begin).length == 0) return kNone;
  } else if (!in(kPunct, first.cls)) {
    return kNone;
  }
  std::size_t end = text.run_end(begin, kPunct);
  for (;;) {
    const unsigned char b = text.byte(end);
    if (end < text.size() && (b == '\r' || b == '\n' || (slash_trailer && b == '/'))) {
      ++end;
    } else {
      return end;
    }
  }
}

// cl100k_base:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3}
//   | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
std::size_t cl100k_piece_end(const Cursor &text, std::size_t i) {
  const std::size_t contraction = text.contraction_end(i);
  if (contraction != kNone) return contraction;
  const Char first = text.at(i);
  if (in(kLetter, first.cls)) return text.run_end(i, kLetter);
  if (in(kWordPrefix, first.cls) && in(kLetter, text.at(i + first.length).cls) &&
      i + first.length < text.size()) {
    return text.run_end(i + first.length, kLetter);
  }
  if (first.cls == CharClass::number) return numbers_end(text, i);
  const std::size_t punct = punctuation_end(text, i, first, false);
  if (punct != kNone) return punct;
  return whitespace_end(text, i);
}

// o200k's first word form, [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ at i,
// or kNone. Backtracking the greedy upper run stops at the last position that can start the
// lower run: the character after the upper run if it is lower-case, else the last character
// of the upper run that belongs to both sets.
std::size_t o200k_word_lower_end(const Cursor &text, std::size_t i) {
  std::size_t last_both = kNone;
  std::size_t upper_end = i;
  while (upper_end < text.size()) {
    const Char c = text.at(upper_end);
    if (!in(kCaseUpper, c.cls)) break;
    if (in(kCaseLower, c.cls)) last_both = upper_end;
    upper_end += c.length;
  }
  std::size_t lower_start = kNone;
  if (upper_end < text.size() && in(kCaseLower, text.at(upper_end).cls)) {
    lower_start = upper_end;
  } else {
    lower_start = last_both;
  }
  if (lower_start == kNone) return kNone;
  return text.run_end(lower_start, kCaseLower);
}

// o200k's second word form, [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* at i.
std::size_t o200k_word_upper_end(const Cursor &text, std::size_t i) {
  if (i >= text.size() || !in(kCaseUpper, text.at(i).cls)) return kNone;
  return text.run_end(text.run_end(i, kCaseUpper), kCaseLower);
}

std::size_t with_contraction(const Cursor &text, std::size_t end) {
  const std::size_t contraction = text.contraction_end(end);
  return contraction != kNone ? contraction : end;
}

// o200k_base: two word forms (each: optional prefix, then with the prefix tried first),
// then \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
std::size_t o200k_piece_end(const Cursor &text, std::size_t i) {
  const Char first = text.at(i);
  const bool has_prefix = in(kWordPrefix, first.cls);
  const std::size_t after_prefix = i + first.length;
  std::size_t end = kNone;
  if (has_prefix) end = o200k_word_lower_end(text, after_prefix);
  if (end == kNone && (in(kCaseUpper, first.cls) || in(kCaseLower, first.cls))) {
    end = o200k_word_lower_end(text, i);
  }
  if (end == kNone && has_prefix) end = o200k_word_upper_end(text, after_prefix);
  if (end == kNone) end = o200k_word_upper_end(text, i);
  if (end != kNone) return with_contraction(text, end);
  if (first.cls == CharClass::number) return numbers_end(text, i);
  const std::size_t punct = punctuation_end(text, i, first, true);
  if (punct != kNone) return punct;
  return whitespace_end(text, i);
}

}  // namespace

CharClass char_class(std::uint32_t code_point) noexcept {
  if (code_point >= 0x110000) return CharClass::other;
  const unsigned block = kClassStage1[code_point / kClassBlockSize];
  return static_cast<CharClass>(kClassBlocks[block * kClassBlockSize + code_point % kClassBlockSize]);
}

const char *unicode_version() noexcept { return kUnicodeVersion; }

std::string_view pattern_string(SplitPattern pattern) noexcept {
  return pattern == SplitPattern::cl100k ? kCl100kPattern : kO200kPattern;
}

bool PieceSplitter::next(std::string_view &piece) noexcept {
  if (position_ >= text_.size()) return false;
  const Cursor cursor(text_);
  std::size_t end = pattern_ == SplitPattern::cl100k ? cl100k_piece_end(cursor, position_)
                                                      : o200k_piece_end(cursor, position_);
  if (end <= position_ || end > text_.size()) end = position_ + 1;  // defensive: always progress
  piece = text_.substr(position_, end - position_);
  position_ = end;
  return true;
}

}  // namespace parley::budget
