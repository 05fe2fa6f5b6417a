// MarkdownStripper: each row is raw model output and the text a TTS should get. Every row
// is checked whole, one byte per feed, and over random splits: markup cut across deltas
// ("*" then "*") must come out the same.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "pipeline/chunker.hpp"

namespace parley::pipeline {
namespace {

struct Row {
  const char *raw;
  const char *speakable;
};

const std::vector<Row> rows{
    // emphasis
    {"**Great** news", "Great news"},
    {"*really* good", "really good"},
    {"__bold__ and _italic_", "bold and italic"},
    {"***both***", "both"},
    {"Note: **important**.", "Note: important."},
    {"un*frigging*believable", "unfriggingbelievable"},
    {"snake_case_name stays", "snake_case_name stays"},
    {"2 * 3 = 6 and 5*3 = 15", "2 * 3 = 6 and 5*3 = 15"},
    {"a lone * star", "a lone * star"},
    {"~~old~~ new, ~5 minutes", "old new, ~5 minutes"},
    // code
    {"run `ls -la` now", "run ls -la now"},
    {"``double `tick` code``", "double tick code"},
    {"Run this:\n```bash\nls -la\n```\nDone.", "Run this:\nls -la\nDone."},
    {"```\n# not a heading\n- not a list\n*kept*\n```\nafter", "# not a heading\n- not a list\n*kept*\nafter"},
    {"~~~\ncode\n~~~\nafter", "code\nafter"},
    // headings, quotes, rules
    {"# Title\nBody", "Title\nBody"},
    {"### Third level heading", "Third level heading"},
    {"#hashtag and issue #5", "#hashtag and issue #5"},
    {"####### seven is no heading", "####### seven is no heading"},
    {"> quoted\n> > nested", "quoted\nnested"},
    {"Above\n---\nBelow\n***\nEnd", "Above\nBelow\nEnd"},
    {"5 > 3 stays", "5 > 3 stays"},
    // lists
    {"- one\n- two\n* three\n+ four", "one\ntwo\nthree\nfour"},
    {"  - indented item", "indented item"},
    {"1. first\n2) second\n10. tenth", "first\nsecond\ntenth"},
    {"3.14 is pi", "3.14 is pi"},
    {"10:30 works", "10:30 works"},
    {"2024 was good", "2024 was good"},
    {"-5 degrees", "-5 degrees"},
    {"> - quoted item", "quoted item"},
    {"- **Morning**: 9 a.m.", "Morning: 9 a.m."},
    // links and images
    {"See [our site](https://example.com/a_(b)?c=d) now", "See our site now"},
    {"![a cat](cat.png) sleeps", "a cat sleeps"},
    {"[1] and [note]", "1 and note"},
    {"array] stays", "array] stays"},
    {"Wow! [Click](x) here!", "Wow! Click here!"},
    {"[broken link\nnext line", "broken link\nnext line"},
    {"[text](https://unterminated\nnext line", "text\nnext line"},
    // escapes, whitespace, text that is not markdown
    {"\\*not emphasis\\* and a \\ backslash", "*not emphasis* and a  backslash"},
    {"\n\n   Leading space goes", "Leading space goes"},
    {"https://example.com/a_b*c?d=e_f", "https://example.com/a_b*c?d=e_f"},
    {"**https://example.com/x** and www.example.com/a*b", "https://example.com/x and www.example.com/a*b"},
    {"jane.doe@example.co.uk, *jane_doe*@example.com", "jane.doe@example.co.uk, jane_doe@example.com"},
    {"$12.50, 1,000 and 555-123-4567", "$12.50, 1,000 and 555-123-4567"},
    {"Caf\u00e9 **cr\u00e8me** \U0001F389 \u60a8\u597d\u3002", "Caf\u00e9 cr\u00e8me \U0001F389 \u60a8\u597d\u3002"},
};

std::string strip(const std::vector<std::string> &pieces) {
  MarkdownStripper stripper;
  std::string out;
  for (const std::string &piece : pieces) stripper.feed(piece, out);
  stripper.finish(out);
  return out;
}

TEST(pipeline_markdown, Whole) {
  for (const Row &row : rows) EXPECT_EQ(strip({row.raw}), row.speakable) << "raw: " << row.raw;
}

TEST(pipeline_markdown, OneBytePerDelta) {
  for (const Row &row : rows) {
    std::vector<std::string> pieces;
    for (const char c : std::string(row.raw)) pieces.emplace_back(1, c);
    EXPECT_EQ(strip(pieces), row.speakable) << "raw: " << row.raw;
  }
}

TEST(pipeline_markdown, RandomSplits) {
  std::mt19937 random(42);
  for (const Row &row : rows) {
    const std::string raw = row.raw;
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<std::string> pieces;
      for (size_t i = 0; i < raw.size();) {
        const size_t length = std::uniform_int_distribution<size_t>(1, 5)(random);
        pieces.push_back(raw.substr(i, length));
        i += length;
      }
      ASSERT_EQ(strip(pieces), row.speakable) << "raw: " << row.raw << ", trial " << trial;
    }
  }
}

TEST(pipeline_markdown, HoldsOnlyWhatIsUndecided) {
  MarkdownStripper stripper;
  std::string out;
  stripper.feed("Hello *", out);
  EXPECT_EQ(out, "Hello ");  // the star may become "**"
  stripper.feed("*", out);
  EXPECT_EQ(out, "Hello ");
  stripper.feed("world** again", out);
  EXPECT_EQ(out, "Hello world again");
  stripper.feed("\n1", out);
  EXPECT_EQ(out, "Hello world again\n");  // "1" may open a list item
  stripper.feed(". item", out);
  EXPECT_EQ(out, "Hello world again\nitem");
  stripper.finish(out);
  EXPECT_EQ(out, "Hello world again\nitem");
}

TEST(pipeline_markdown, FinishResets) {
  MarkdownStripper stripper;
  std::string out;
  stripper.feed("```\ncode", out);
  stripper.finish(out);
  EXPECT_EQ(out, "code");
  out.clear();
  stripper.feed("# Heading", out);  // a new stream: not inside the fence any more
  stripper.finish(out);
  EXPECT_EQ(out, "Heading");
}

// Random text from markdown's own characters (and broken UTF-8): whatever the split, the
// same output, and the chunks add up to it.
TEST(pipeline_markdown, RandomMarkupSplitInvariant) {
  const std::vector<std::string> alphabet{"*", "_", "`", "~", "[", "]", "(", ")", "!", "#", ">", "-", "+", "1",
                                          ".", " ", "\n", "\\", ":", ",", "a", "b", "5", "@", "://", "\u2014",
                                          "\u3002", "\u00e9", "\xE2", "\x80", "?", "\""};
  std::mt19937 random(99);
  for (int text_number = 0; text_number < 300; ++text_number) {
    std::string raw;
    const size_t length = std::uniform_int_distribution<size_t>(1, 80)(random);
    for (size_t i = 0; i < length; ++i) raw += alphabet[random() % alphabet.size()];
    const std::string reference = strip({raw});
    std::string chunked;
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<std::string> pieces;
      Chunker chunker({.min_chars = 5, .max_chars = 12});
      chunked.clear();
      for (size_t i = 0; i < raw.size();) {
        const size_t size = std::uniform_int_distribution<size_t>(1, 6)(random);
        pieces.push_back(raw.substr(i, size));
        for (const Chunk &chunk : chunker.push(pieces.back(), std::chrono::milliseconds{static_cast<int>(i) * 40})) {
          chunked += chunk.text;
        }
        i += size;
      }
      for (const Chunk &chunk : chunker.flush()) chunked += chunk.text;
      ASSERT_EQ(strip(pieces), reference) << "raw: " << raw;
      // Exactly the stripped text, up to whitespace at the very end.
      ASSERT_TRUE(reference.starts_with(chunked)) << "raw: " << raw << "\nchunks: " << chunked;
      for (size_t i = chunked.size(); i < reference.size(); ++i) {
        ASSERT_TRUE(std::isspace(static_cast<unsigned char>(reference[i]))) << "raw: " << raw << "\nchunks: " << chunked;
      }
    }
  }
}

}  // namespace
}  // namespace parley::pipeline
