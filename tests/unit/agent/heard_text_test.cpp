// What the caller heard, from marks and timing; and which words count as an interruption.
#include <gtest/gtest.h>

#include "pipeline/heard_text.hpp"
#include "pipeline/interruption.hpp"

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

struct PrefixCase {
  const char *text;
  double heard_ms;
  double duration_ms;
  const char *expected;
};

TEST(HeardPrefix, CutsAtTheLastWholeWordPlayed) {
  const PrefixCase cases[] = {
      {"Thanks for calling Parley Dental. ", 0, 2000, ""},
      {"Thanks for calling Parley Dental. ", -5, 2000, ""},
      {"Thanks for calling Parley Dental. ", 2000, 2000, "Thanks for calling Parley Dental. "},
      {"Thanks for calling Parley Dental. ", 5000, 2000, "Thanks for calling Parley Dental. "},
      // 34 characters over 2 s: 1 s reaches character 17, inside "calling": cut before it.
      {"Thanks for calling Parley Dental. ", 1000, 2000, "Thanks for"},
      // Exactly at a space: the word before it was heard whole.
      {"one two three four", 1000, 2250, "one two"},
      {"Hello", 500, 1000, ""},
      {"", 500, 1000, ""},
      {"word", 500, 0, ""},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(heard_prefix(c.text, c.heard_ms, c.duration_ms), c.expected)
        << "'" << c.text << "' after " << c.heard_ms << " of " << c.duration_ms << " ms";
  }
}

TEST(HeardPrefix, WordTimingsDecideWhenTheTtsGaveThem) {
  const std::vector<providers::WordTiming> words{{"Your", 0, 200}, {"total", 200, 600}, {"is", 600, 700}, {"$12.50.", 700, 1500}};
  EXPECT_EQ(heard_prefix("Your total is $12.50.", 650, 1500, words), "Your total");
  EXPECT_EQ(heard_prefix("Your total is $12.50.", 700, 1500, words), "Your total is");
  EXPECT_EQ(heard_prefix("Your total is $12.50.", 1499, 1500, words), "Your total is");
  EXPECT_EQ(heard_prefix("Your total is $12.50.", 150, 1500, words), "");
}

PlayedChunk chunk(const char *text, double duration, std::optional<int> audio_at, std::optional<int> played_at) {
  PlayedChunk c;
  c.text = text;
  c.duration_ms = duration;
  if (audio_at) c.first_audio_at = milliseconds(*audio_at);
  if (played_at) c.played_at = milliseconds(*played_at);
  return c;
}

TEST(HeardParts, MarksPlayedAreHeardWholeAndTheNextChunkFromItsStart) {
  // Chunk 0 played by 1,000 ms; chunk 1 (1 s long) started then; the caller cut in at 1,500.
  const std::vector<PlayedChunk> chunks{chunk("One two three. ", 1000, 0, 1000), chunk("Four five six seven. ", 1000, 100, {}),
                                        chunk("Eight nine. ", 800, 300, {})};
  const auto parts = heard_parts(chunks, milliseconds(1500));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "One two three. ");
  EXPECT_EQ(parts[1], "Four five");  // half of 21 characters: inside "six"
  EXPECT_EQ(parts[2], "");
}

TEST(HeardParts, ANextChunkStartsWhenItsAudioArrivedIfThatWasLater) {
  // Chunk 1's audio came 500 ms after chunk 0 finished: at 1,600 it had played 100 ms.
  const std::vector<PlayedChunk> chunks{chunk("Hello there. ", 1000, 0, 1000), chunk("How are you today? ", 1000, 1500, {})};
  const auto parts = heard_parts(chunks, milliseconds(1600));
  EXPECT_EQ(parts[0], "Hello there. ");
  EXPECT_EQ(parts[1], "");
}

TEST(HeardParts, WithoutMarksBackChunksPlayBackToBack) {
  // No mark came back yet (slow far end): the clock alone says chunk 0 is over.
  const std::vector<PlayedChunk> chunks{chunk("Alpha beta. ", 500, 0, {}), chunk("Gamma delta epsilon. ", 1000, 10, {})};
  const auto parts = heard_parts(chunks, milliseconds(1000));
  EXPECT_EQ(parts[0], "Alpha beta. ");
  EXPECT_EQ(parts[1], "Gamma");  // 500 of 1,000 ms reaches inside "delta"
}

TEST(HeardParts, NothingHeardBeforeAnyAudio) {
  const std::vector<PlayedChunk> chunks{chunk("Not yet. ", 0, {}, {})};
  EXPECT_EQ(heard_parts(chunks, milliseconds(5000))[0], "");
}

TEST(Backchannels, OnlyOtherWordsCount) {
  const std::vector<std::string> backchannels{"uh-huh", "yeah", "okay", "mm hmm", "right"};
  EXPECT_EQ(meaningful_words("Uh-huh.", backchannels), 0);
  EXPECT_EQ(meaningful_words("yeah, okay", backchannels), 0);
  EXPECT_EQ(meaningful_words("mm hmm right", backchannels), 0);
  EXPECT_EQ(meaningful_words("okay wait", backchannels), 1);
  EXPECT_EQ(meaningful_words("No, stop!", backchannels), 2);
  EXPECT_EQ(meaningful_words("", backchannels), 0);
  EXPECT_EQ(meaningful_words("yeah", {}), 1);
}

}  // namespace
}  // namespace parley::pipeline
