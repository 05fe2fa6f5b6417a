// The speakable chunker, table-driven: each row is a timed token sequence and the chunks it
// must produce, each with the time it was released (`eos` = by flush()).
#include "pipeline/chunker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

constexpr int eos = -1;  // released by flush()

struct Step {
  int at;
  std::string text;
  bool poll = false;
};

struct Out {
  int at;
  std::string text;
  bool operator==(const Out &) const = default;
};

void PrintTo(const Out &out, std::ostream *os) { *os << "{" << out.at << ", \"" << out.text << "\"}"; }

// LLM-like tokens: each word with the whitespace before it, punctuation separate, as
// tokenizers cut English ("Hello", ",", " world", ".").
std::vector<Step> tokens(int at, std::string_view text) {
  std::vector<Step> steps;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    const bool punct = j < text.size() && (text[j] == '.' || text[j] == ',' || text[j] == '!' || text[j] == '?');
    if (punct && j == i) {
      ++j;
    } else {
      while (j < text.size() && text[j] != ' ' && text[j] != '.' && text[j] != ',' && text[j] != '!' &&
             text[j] != '?') {
        ++j;
      }
    }
    steps.push_back({at, std::string(text.substr(i, j - i))});
    i = j;
  }
  return steps;
}

// One byte per push: the hardest split (also inside UTF-8 sequences).
std::vector<Step> bytes(int at, std::string_view text) {
  std::vector<Step> steps;
  for (const char c : text) steps.push_back({at, std::string(1, c)});
  return steps;
}

std::vector<Step> whole(int at, std::string_view text) { return {{at, std::string(text)}}; }
Step poll(int at) { return {at, "", true}; }

template <typename... Parts>
std::vector<Step> steps(Parts &&...parts) {
  std::vector<Step> all;
  const auto add = [&](auto &&part) {
    if constexpr (std::is_same_v<std::decay_t<decltype(part)>, Step>) {
      all.push_back(part);
    } else {
      all.insert(all.end(), part.begin(), part.end());
    }
  };
  (add(parts), ...);
  return all;
}

std::vector<Out> run(const std::vector<Step> &input, ChunkerOptions options = {}) {
  Chunker chunker(options);
  std::vector<Out> out;
  const auto collect = [&](int at, std::vector<Chunk> chunks) {
    for (Chunk &chunk : chunks) out.push_back({at, std::move(chunk.text)});
  };
  for (const Step &step : input) {
    collect(step.at, step.poll ? chunker.poll(milliseconds{step.at}) : chunker.push(step.text, milliseconds{step.at}));
  }
  collect(eos, chunker.flush());
  return out;
}

std::string joined(const std::vector<Out> &chunks) {
  std::string text;
  for (const Out &chunk : chunks) text += chunk.text;
  return text;
}

struct Row {
  const char *name;
  std::vector<Step> input;
  std::vector<Out> expected;
  ChunkerOptions options = {};
};

void check_rows(const std::vector<Row> &rows) {
  for (const Row &row : rows) {
    SCOPED_TRACE(row.name);
    const std::vector<Out> chunks = run(row.input, row.options);
    EXPECT_EQ(chunks, row.expected);
  }
}

// ---- never split ----

TEST(pipeline_chunker, NeverSplitsNumbersUrlsAddressesOrTimes) {
  check_rows({
      {"decimal",
       tokens(0, "The value of pi is about 3.14 and that is all. Next sentence here."),
       {{0, "The value of pi is about 3.14 and that is all. "}, {eos, "Next sentence here."}}},
      {"decimal, one byte at a time",
       bytes(0, "The value of pi is about 3.14 and that is all. Next sentence here."),
       {{0, "The value of pi is about 3.14 and that is all. "}, {eos, "Next sentence here."}}},
      {"decimal split at the point", steps(whole(0, "Your balance has gone up by 3."), whole(10, "75 today. Good.")),
       {{10, "Your balance has gone up by 3.75 today. "}, {eos, "Good."}}},
      {"number ending a sentence", steps(whole(0, "Your balance has gone up by 3."), whole(10, " Good.")),
       {{10, "Your balance has gone up by 3. "}, {eos, "Good."}}},
      {"money", tokens(0, "Your total comes to $12.50 today. Would you like a receipt?"),
       {{0, "Your total comes to $12.50 today. "}, {eos, "Would you like a receipt?"}}},
      {"phone number", tokens(0, "You can call us at 555-123-4567 anytime. We are open late."),
       {{0, "You can call us at 555-123-4567 anytime. "}, {eos, "We are open late."}}},
      {"url", tokens(0, "Please visit https://example.com/a.b?c=d for the details. Thanks!"),
       {{0, "Please visit https://example.com/a.b?c=d for the details. "}, {eos, "Thanks!"}}},
      {"url ending a sentence", bytes(0, "The booking page is https://example.com/a.b?c=d. See you soon."),
       {{0, "The booking page is https://example.com/a.b?c=d. "}, {eos, "See you soon."}}},
      {"e-mail address", tokens(0, "Send the form to jane.doe@example.co.uk when ready. Thank you."),
       {{0, "Send the form to jane.doe@example.co.uk when ready. "}, {eos, "Thank you."}}},
      {"initials", tokens(0, "The book was written by J. R. R. Tolkien in England. Great read."),
       {{0, "The book was written by J. R. R. Tolkien in England. "}, {eos, "Great read."}}},
      {"version number", tokens(0, "Version 1.2.3 of the app is out now. Update it."),
       {{0, "Version 1.2.3 of the app is out now. "}, {eos, "Update it."}}},
  });
}

TEST(pipeline_chunker, NeverSplitsAbbreviations) {
  // 34 characters before each abbreviation, so a naive splitter would cut after it.
  const std::string before = "Your appointment is now booked in ";
  std::vector<Row> rows;
  std::vector<std::string> names;
  for (const char *abbreviation : {"Dr.", "Mr.", "Mrs.", "Ms.", "St.", "Prof.", "e.g.", "i.e.", "etc.", "a.m.", "p.m.",
                                   "U.S.", "(e.g.", "approx.", "Inc."}) {
    const std::string sentence = before + abbreviation + " Jones Lane for Tuesday. ";
    rows.push_back({abbreviation, tokens(0, sentence + "Bye now."), {{0, sentence}, {eos, "Bye now."}}});
  }
  check_rows(rows);
}

TEST(pipeline_chunker, WordBoundariesKeepNumbersTogether) {
  check_rows({
      {"spaced phone number", steps(whole(0, "Call 555 123 4567"), poll(400)),
       {{400, "Call "}, {eos, "555 123 4567"}}},
      {"card number digit groups", steps(whole(0, "Card 4111 1111 1111"), poll(400), whole(500, " 1111 please")),
       {{400, "Card "}, {500, "4111 1111 1111 1111 "}, {eos, "please"}}},
      {"thousands separator is no clause", steps(whole(0, "We shipped more than 1,000"), poll(400)),
       {{400, "We shipped more than "}, {eos, "1,000"}}},
      {"time is no clause", steps(whole(0, "We open at 10:30"), poll(400)), {{400, "We open at "}, {eos, "10:30"}}},
      {"url under max wait", steps(whole(0, "The page is https://example.com/a.b?c"), poll(400), whole(410, "=d now.")),
       {{400, "The page is "}, {410, "https://example.com/a.b?c=d "}, {eos, "now."}}},
      {"title stays with the name", steps(whole(0, "Ask Dr. Smith"), poll(400)), {{400, "Ask "}, {eos, "Dr. Smith"}}},
      {"range with en dash", steps(whole(0, "Open 10\u201320 May"), poll(400)), {{400, "Open 10\u201320 "}, {eos, "May"}}},
  });
}

// ---- boundaries, min and max ----

TEST(pipeline_chunker, SentencesFromMinChars) {
  check_rows({
      {"short sentences merge", tokens(0, "Yes. Sure. Okay then, let me check that for you. One moment."),
       {{0, "Yes. Sure. Okay then, let me check that for you. "}, {eos, "One moment."}}},
      {"exactly min_chars", tokens(0, "Abcdefghij abcdefghij a. Next one."),
       {{0, "Abcdefghij abcdefghij a. "}, {eos, "Next one."}}},
      {"one short of min_chars", tokens(0, "Abcdefghij abcdefghijk. Next one."),
       {{eos, "Abcdefghij abcdefghijk. Next one."}}},
      {"question and exclamation", tokens(0, "Would Tuesday at noon work for you? Great! I will book it now."),
       {{0, "Would Tuesday at noon work for you? "}, {eos, "Great! I will book it now."}}},
      {"closing quote stays", tokens(0, "He said \"see you at the clinic.\" Then he left."),
       {{0, "He said \"see you at the clinic.\" "}, {eos, "Then he left."}}},
      {"needs the next character", steps(whole(0, "Your appointment is on Tuesday."), poll(100)),
       {{eos, "Your appointment is on Tuesday."}}},
      {"released by the next token", steps(whole(0, "Your appointment is on Tuesday."), whole(20, " See")),
       {{20, "Your appointment is on Tuesday. "}, {eos, "See"}}},
      {"paragraph break", tokens(0, "Here is what I found for you\nThe clinic opens at nine"),
       {{0, "Here is what I found for you\n"}, {eos, "The clinic opens at nine"}}},
      {"ellipsis is a clause, not a sentence", tokens(0, "Well... I think the answer is probably yes. Okay."),
       {{0, "Well... I think the answer is probably yes. "}, {eos, "Okay."}}},
  });
}

TEST(pipeline_chunker, ClausesAndWordsPastMaxChars) {
  const ChunkerOptions small{.min_chars = 10, .max_chars = 40};
  check_rows({
      {"comma", tokens(0, "First of all, thank you for calling us today and have a nice day"),
       {{0, "First of all, "}, {0, "thank you for calling us today and have "}, {eos, "a nice day"}},
       small},
      {"semicolon", tokens(0, "The clinic is closed today; it opens again tomorrow at nine"),
       {{0, "The clinic is closed today; "}, {eos, "it opens again tomorrow at nine"}},
       small},
      {"colon", tokens(0, "Here is the plan for you: arrive early and bring your card"),
       {{0, "Here is the plan for you: "}, {eos, "arrive early and bring your card"}},
       small},
      {"em dash", tokens(0, "Your visit is confirmed\u2014we will see you on Tuesday"),
       {{0, "Your visit is confirmed\u2014"}, {eos, "we will see you on Tuesday"}},
       small},
      {"spaced dash", tokens(0, "Your visit is confirmed - we will see you on Tuesday"),
       {{0, "Your visit is confirmed - "}, {eos, "we will see you on Tuesday"}},
       small},
      {"the last clause within max wins", tokens(0, "Sure, of course, I can do that, and then some more things"),
       {{0, "Sure, of course, I can do that, "}, {eos, "and then some more things"}},
       small},
      {"words only", tokens(0, "one two three four five six seven eight nine ten eleven twelve"),
       {{0, "one two three four five six seven eight "}, {eos, "nine ten eleven twelve"}},
       small},
      {"clause below min_chars loses to a word", tokens(0, "So, we have a slot on Tuesday morning and one at noon"),
       {{0, "So, we have a slot on Tuesday morning "}, {eos, "and one at noon"}},
       small},
  });
}

TEST(pipeline_chunker, DefaultMaxCharsCutsALongSentence) {
  const std::string text =
      "When you arrive at the clinic tomorrow morning please check in at the front desk with your insurance card, "
      "then take a seat in the waiting room until the nurse calls your name.";
  const std::vector<Out> chunks = run(tokens(0, text));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text,
            "When you arrive at the clinic tomorrow morning please check in at the front desk with your insurance card, ");
  EXPECT_EQ(chunks[0].at, 0);
  EXPECT_EQ(joined(chunks), text);
}

TEST(pipeline_chunker, UnsplittableRunsOutgrowMaxChars) {
  const std::string url = "https://example.com/" + std::string(150, 'a') + "?q=1";
  const std::vector<Out> chunks = run(tokens(0, "Open " + url + " to continue and enjoy the rest of your day."));
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].text, "Open ");
  EXPECT_EQ(chunks[1].text, url + " ");  // whole, though longer than max_chars
  EXPECT_EQ(chunks[2].text, "to continue and enjoy the rest of your day.");

  // A run with no boundary at all is cut at max_chars once it passes four times that.
  const std::vector<Out> runaway = run(whole(0, std::string(500, 'x')));
  ASSERT_EQ(runaway.size(), 2u);
  EXPECT_EQ(runaway[0], (Out{0, std::string(120, 'x')}));
  EXPECT_EQ(runaway[1], (Out{eos, std::string(380, 'x')}));
}

// ---- max wait ----

TEST(pipeline_chunker, MaxWait) {
  check_rows({
      {"nothing before max_wait", steps(whole(0, "Sure, let me"), poll(349)), {{eos, "Sure, let me"}}},
      {"at max_wait", steps(whole(0, "Sure, let me"), poll(350)), {{350, "Sure, let "}, {eos, "me"}}},
      {"the clock restarts with the oldest text left",
       steps(whole(0, "Sure,"), whole(100, " I"), whole(200, " can"), whole(300, " help"), poll(350), whole(400, " you"),
             poll(449), poll(450), whole(500, " with that.")),
       {{350, "Sure, "}, {450, "I can help "}, {eos, "you with that."}}},
      {"text that waited out together goes as one chunk",
       steps(whole(0, "Okay. Right, so I can help you with that"), poll(400)),
       {{400, "Okay. Right, so I can help you with "}, {eos, "that"}}},
      {"sentence, then clause, preferred",
       steps(whole(0, "Okay."), whole(100, " Right,"), whole(200, " so"), poll(350), poll(450), whole(500, " yes")),
       {{350, "Okay. "}, {450, "Right, "}, {eos, "so yes"}}},
      {"no boundary: waits for one", steps(whole(0, "Absolutely"), poll(400), whole(600, " right"), whole(700, ".")),
       {{600, "Absolutely "}, {eos, "right."}}},
      {"a single word is never cut", steps(whole(0, "Hello"), poll(1000)), {{eos, "Hello"}}},
      {"short sentence released by the wait", steps(whole(0, "Hi."), whole(50, " I"), poll(350)),
       {{350, "Hi. "}, {eos, "I"}}},
  });
}

TEST(pipeline_chunker, DeadlineSaysWhenToPoll) {
  Chunker chunker;
  EXPECT_FALSE(chunker.deadline());
  chunker.push("Absolutely", milliseconds{100});
  EXPECT_FALSE(chunker.deadline()) << "no boundary yet: waiting cannot release anything";
  chunker.push(" right", milliseconds{200});
  EXPECT_EQ(chunker.deadline(), milliseconds{450});
  EXPECT_TRUE(chunker.poll(milliseconds{449}).empty());
  const std::vector<Chunk> chunks = chunker.poll(milliseconds{450});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "Absolutely ");
  EXPECT_EQ(chunks[0].reason, ChunkReason::max_wait);
  EXPECT_EQ(chunker.buffered(), "right");
  EXPECT_FALSE(chunker.deadline());
}

TEST(pipeline_chunker, Reasons) {
  Chunker chunker({.min_chars = 10, .max_chars = 30});
  std::vector<ChunkReason> reasons;
  const auto note = [&](const std::vector<Chunk> &chunks) {
    for (const Chunk &chunk : chunks) reasons.push_back(chunk.reason);
  };
  note(chunker.push("This is a sentence. ", milliseconds{0}));
  note(chunker.push("This one goes on and on and on without end", milliseconds{10}));
  note(chunker.push(" yes", milliseconds{20}));
  note(chunker.poll(milliseconds{400}));
  note(chunker.flush());
  EXPECT_EQ(reasons, (std::vector{ChunkReason::sentence, ChunkReason::max_chars, ChunkReason::max_wait,
                                  ChunkReason::end_of_stream}));
  EXPECT_STREQ(chunk_reason_name(ChunkReason::max_wait), "max_wait");
}

// ---- markdown and unicode ----

TEST(pipeline_chunker, StripsMarkdownAcrossTokens) {
  check_rows({
      {"bold, italic, code",
       steps(whole(0, "*"), whole(0, "*"), whole(0, "Great"), whole(0, "*"), whole(0, "*"), whole(0, " news! Your "),
             whole(0, "_appointment_ is `confirmed` for Tuesday.")),
       {{eos, "Great news! Your appointment is confirmed for Tuesday."}}},
      {"heading and list", bytes(0, "# Your options\n\n- **Morning**: 9 a.m.\n- **Afternoon**: 2 p.m.\n"),
       {{0, "Your options\n\nMorning: 9 a.m.\n"}, {eos, "Afternoon: 2 p.m."}}},
      {"numbered list", tokens(0, "1. Bring your insurance card\n2. Arrive ten minutes early"),
       {{0, "Bring your insurance card\n"}, {eos, "Arrive ten minutes early"}}},
      {"link", bytes(0, "You can [book online](https://example.com/book?a=1) any time. Or call."),
       {{0, "You can book online any time. "}, {eos, "Or call."}}},
      {"quote and code fence", tokens(0, "> Note this well\n```bash\nls -la\n```\nDone."),
       {{eos, "Note this well\nls -la\nDone."}}},
      {"markdown off", tokens(0, "**Bold** stays as it is in this mode. Yes."),
       {{0, "**Bold** stays as it is in this mode. "}, {eos, "Yes."}},
       {.strip_markdown = false}},
  });
}

TEST(pipeline_chunker, Unicode) {
  check_rows({
      {"accents count as one character each", tokens(0, "D\u00e9j\u00e0 vu \u00e0 Gen\u00e8ve, \u00e9t\u00e9. Tr\u00e8s bien."),
       {{eos, "D\u00e9j\u00e0 vu \u00e0 Gen\u00e8ve, \u00e9t\u00e9. Tr\u00e8s bien."}}},
      {"24 accented characters", bytes(0, "Cr\u00e8me br\u00fbl\u00e9e, caf\u00e9, th\u00e9. Merci."),
       {{0, "Cr\u00e8me br\u00fbl\u00e9e, caf\u00e9, th\u00e9. "}, {eos, "Merci."}}},
      {"emoji", bytes(0, "Great news \U0001F389 your table is booked! See you soon \U0001F44B"),
       {{0, "Great news \U0001F389 your table is booked! "}, {eos, "See you soon \U0001F44B"}}},
      {"CJK sentences without spaces",
       bytes(0, "\u60a8\u597d\uff0c\u6b22\u8fce\u5149\u4e34\u3002"
                "\u6211\u4eec\u7684\u8425\u4e1a\u65f6\u95f4\u662f\u4e0a\u5348\u4e5d\u70b9\u5230\u4e0b\u5348\u4e94\u70b9\u3002"
                "\u8bf7\u95ee\u6709\u4ec0\u4e48\u53ef\u4ee5\u5e2e\u60a8\uff1f"),
       {{0, "\u60a8\u597d\uff0c\u6b22\u8fce\u5149\u4e34\u3002"
            "\u6211\u4eec\u7684\u8425\u4e1a\u65f6\u95f4\u662f\u4e0a\u5348\u4e5d\u70b9\u5230\u4e0b\u5348\u4e94\u70b9\u3002"},
        {eos, "\u8bf7\u95ee\u6709\u4ec0\u4e48\u53ef\u4ee5\u5e2e\u60a8\uff1f"}}},
      {"CJK exclamation", bytes(0, "\u592a\u597d\u4e86\uff01\u8c22\u8c22\u4f60\u7684\u5e2e\u52a9\uff0c"
                                   "\u6211\u4eec\u660e\u5929\u89c1\u9762\u5427\uff0c\u597d\u4e0d\u597d\u554a\uff1f"
                                   "\u597d\u7684\u3002"),
       {{0, "\u592a\u597d\u4e86\uff01\u8c22\u8c22\u4f60\u7684\u5e2e\u52a9\uff0c\u6211\u4eec\u660e\u5929\u89c1\u9762"
            "\u5427\uff0c\u597d\u4e0d\u597d\u554a\uff1f"},
        {eos, "\u597d\u7684\u3002"}}},
      {"CJK clause under max wait", steps(whole(0, "\u60a8\u597d\uff0c\u6b22\u8fce\u5149\u4e34"), poll(350)),
       {{350, "\u60a8\u597d\uff0c"}, {eos, "\u6b22\u8fce\u5149\u4e34"}}},
  });
}

// ---- nothing lost ----

const std::vector<std::string> &corpus() {
  static const std::vector<std::string> texts{
      "The value of pi is about 3.14 and that is all. Next sentence here.",
      "**Great** news! Your *appointment* with Dr. Smith is `confirmed` for 10:30 a.m. on Tuesday, i.e. tomorrow.",
      "# Options\n\n1. **Morning** \u2014 9 a.m.\n2. **Afternoon** \u2014 2 p.m.\n\n> Call 555-123-4567 or e-mail "
      "jane.doe@example.co.uk, or see [the site](https://example.com/a.b?c=d). Total: $1,012.50!",
      "Sure, I can help you with that; first, though: what's your card number? 4111 1111 1111 1111, right?",
      "Caf\u00e9 cr\u00e8me \U0001F389 \u2014 \u60a8\u597d\uff0c\u6b22\u8fce\u5149\u4e34\u3002\u8bf7\u95ee\u6709"
      "\u4ec0\u4e48\u53ef\u4ee5\u5e2e\u60a8\uff1f Yes... well. Okay!",
      "Run this:\n```python\nprint(\"*not* markdown\")\n```\nThen ~~delete~~ keep snake_case and 2 * 3 = 6.",
      std::string(300, 'w') + " and then a long tail of ordinary words that keeps going well past the maximum length "
                              "for a chunk, without any punctuation at all so that only word boundaries remain",
  };
  return texts;
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

TEST(pipeline_chunker, NoTextLostWhateverTheSplit) {
  std::mt19937 random(20240605);
  for (const std::string &text : corpus()) {
    SCOPED_TRACE(text);
    const std::vector<Out> reference = run(whole(0, text));
    std::vector<std::string> reference_chunks;
    for (const Out &chunk : reference) reference_chunks.push_back(trimmed(chunk.text));
    const std::string cleaned = joined(reference);
    EXPECT_EQ(cleaned, joined(run(bytes(0, text))));
    EXPECT_EQ(cleaned, joined(run(tokens(0, text))));
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<Step> input;
      for (size_t i = 0; i < text.size();) {
        const size_t length = std::uniform_int_distribution<size_t>(1, 7)(random);
        input.push_back({0, text.substr(i, length)});
        i += length;
      }
      const std::vector<Out> chunks = run(input);
      ASSERT_EQ(joined(chunks), cleaned) << "trial " << trial;
      std::vector<std::string> chunk_texts;
      for (const Out &chunk : chunks) chunk_texts.push_back(trimmed(chunk.text));
      ASSERT_EQ(chunk_texts, reference_chunks) << "trial " << trial;
    }
  }
}

TEST(pipeline_chunker, NoTextLostUnderTime) {
  // Random token times and polls change where chunks end, never the text they add up to.
  std::mt19937 random(7);
  for (const std::string &text : corpus()) {
    SCOPED_TRACE(text);
    const std::string cleaned = joined(run(whole(0, text)));
    for (int trial = 0; trial < 100; ++trial) {
      std::vector<Step> input;
      int now = 0;
      for (size_t i = 0; i < text.size();) {
        const size_t length = std::uniform_int_distribution<size_t>(1, 9)(random);
        now += std::uniform_int_distribution<int>(0, 200)(random);
        input.push_back({now, text.substr(i, length)});
        if (length % 3 == 0) input.push_back(poll(now + 100));
        i += length;
      }
      const std::vector<Out> chunks = run(input);
      ASSERT_EQ(joined(chunks), cleaned) << "trial " << trial;
      for (const Out &chunk : chunks) {
        ASSERT_NE(trimmed(chunk.text), "") << "empty chunk, trial " << trial;
      }
    }
  }
}

TEST(pipeline_chunker, EmptyAndWhitespace) {
  EXPECT_TRUE(run({}).empty());
  EXPECT_TRUE(run(whole(0, "  \n\t ")).empty());
  EXPECT_EQ(run(whole(0, "\n\n  Hello there.  \n")), (std::vector<Out>{{eos, "Hello there."}}));
  EXPECT_EQ(run(whole(0, "  Hello there."), {.strip_markdown = false}), (std::vector<Out>{{eos, "Hello there."}}));
}

TEST(pipeline_chunker, ResetAndReuse) {
  Chunker chunker;
  chunker.push("**Half a sentence that", milliseconds{0});
  chunker.reset();
  EXPECT_EQ(chunker.buffered(), "");
  EXPECT_TRUE(chunker.push("*fresh* start", milliseconds{10}).empty());
  const std::vector<Chunk> chunks = chunker.flush();
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "fresh start");
  EXPECT_TRUE(chunker.flush().empty());
  EXPECT_TRUE(chunker.push("Again.", milliseconds{20}).empty());
  EXPECT_EQ(chunker.flush().at(0).text, "Again.");
}

TEST(pipeline_chunker, RejectsBadOptions) {
  EXPECT_THROW(Chunker({.min_chars = 0}), Error);
  EXPECT_THROW(Chunker({.min_chars = 50, .max_chars = 40}), Error);
  EXPECT_NO_THROW(Chunker({.min_chars = 40, .max_chars = 40}));
}

}  // namespace
}  // namespace parley::pipeline
