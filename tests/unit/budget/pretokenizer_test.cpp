#include "budget/pretokenizer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace parley::budget {
namespace {

std::vector<std::string> split(SplitPattern pattern, std::string_view text) {
  std::vector<std::string> pieces;
  PieceSplitter splitter(pattern, text);
  std::string_view piece;
  while (splitter.next(piece)) pieces.emplace_back(piece);
  return pieces;
}

using Pieces = std::vector<std::string>;

TEST(Pretokenizer, Cl100kSplitsLikeItsRegex) {
  const auto cl = SplitPattern::cl100k;
  EXPECT_EQ(split(cl, "Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split(cl, "it's I'M we'Ve"), (Pieces{"it", "'s", " I", "'M", " we", "'Ve"}));
  EXPECT_EQ(split(cl, "x'ſ"), (Pieces{"x", "'ſ"}));  // long s case-folds to s
  EXPECT_EQ(split(cl, "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(split(cl, "  hi"), (Pieces{" ", " hi"}));
  EXPECT_EQ(split(cl, "a\n\nb"), (Pieces{"a", "\n\n", "b"}));
  EXPECT_EQ(split(cl, "x  \t x"), (Pieces{"x", "  \t", " x"}));
  EXPECT_EQ(split(cl, "end   "), (Pieces{"end", "   "}));
  EXPECT_EQ(split(cl, "!!!\n\nok"), (Pieces{"!!!\n\n", "ok"}));
  EXPECT_EQ(split(cl, "a ...b"), (Pieces{"a", " ...", "b"}));
  EXPECT_EQ(split(cl, "\thello"), (Pieces{"\thello"}));
  EXPECT_EQ(split(cl, "\n  \nx"), (Pieces{"\n  \n", "x"}));
  EXPECT_EQ(split(cl, "caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD"), (Pieces{"caf\xC3\xA9", " \xE4\xBD\xA0\xE5\xA5\xBD"}));
}

TEST(Pretokenizer, O200kSplitsLikeItsRegex) {
  const auto o = SplitPattern::o200k;
  EXPECT_EQ(split(o, "it's I'M"), (Pieces{"it's", " I'M"}));
  EXPECT_EQ(split(o, "helloWorld HTTPServer"), (Pieces{"hello", "World", " HTTPServer"}));
  EXPECT_EQ(split(o, "HELLO world"), (Pieces{"HELLO", " world"}));
  EXPECT_EQ(split(o, "path/to/x\n"), (Pieces{"path", "/to", "/x", "\n"}));
  EXPECT_EQ(split(o, "a //\n/b"), (Pieces{"a", " //\n/", "b"}));
  EXPECT_EQ(split(o, "12345"), (Pieces{"123", "45"}));
  // A combining mark belongs to both letter sets: "e" + U+0301 stays one word.
  EXPECT_EQ(split(o, "cafe\xCC\x81!"), (Pieces{"cafe\xCC\x81", "!"}));
}

TEST(Pretokenizer, PiecesCoverEveryByteOfArbitraryInput) {
  std::mt19937 rng(7);
  for (const SplitPattern pattern : {SplitPattern::cl100k, SplitPattern::o200k}) {
    for (int round = 0; round < 2000; ++round) {
      std::string text(rng() % 40, '\0');
      for (char &c : text) c = static_cast<char>(rng() % 256);  // mostly invalid UTF-8
      std::string joined;
      for (const auto &piece : split(pattern, text)) {
        ASSERT_FALSE(piece.empty());
        joined += piece;
      }
      EXPECT_EQ(joined, text);
    }
  }
}

TEST(Pretokenizer, InvalidUtf8BytesAreOtherCharacters) {
  EXPECT_EQ(split(SplitPattern::cl100k, "\xFF\xFE" "abc"), (Pieces{"\xFF\xFE", "abc"}));
  EXPECT_EQ(split(SplitPattern::cl100k, "\xFF" "abc"), (Pieces{"\xFF" "abc"}));  // a prefix, like punctuation
  EXPECT_EQ(split(SplitPattern::cl100k, "\xED\xA0\x80"), (Pieces{"\xED\xA0\x80"}));  // surrogate: 3 "other" bytes
}

TEST(Pretokenizer, CharacterClasses) {
  EXPECT_EQ(char_class('A'), CharClass::upper);
  EXPECT_EQ(char_class('z'), CharClass::lower);
  EXPECT_EQ(char_class(0x4E2D), CharClass::letter_other);  // 中
  EXPECT_EQ(char_class(0x01C5), CharClass::upper);         // ǅ (Lt)
  EXPECT_EQ(char_class(0x0301), CharClass::mark);
  EXPECT_EQ(char_class(0x00BD), CharClass::number);  // ½
  EXPECT_EQ(char_class(0x3000), CharClass::space);
  EXPECT_EQ(char_class('\r'), CharClass::newline);
  EXPECT_EQ(char_class(0x10D40), CharClass::number);  // Garay digit zero, new in Unicode 16
  EXPECT_EQ(char_class(0x110000), CharClass::other);
  EXPECT_STREQ(unicode_version(), "16.0.0");
}

}  // namespace
}  // namespace parley::budget
