// The espeak-ng TTS, for real: audio, rate, duration, word timings, cancellation, voices
// and config errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio/pcm.hpp"
#include "local_engines.hpp"

namespace parley::providers::testing {
namespace {

std::vector<std::string> words_of(const Spoken &spoken) {
  std::vector<std::string> words;
  for (const auto &w : spoken.words) words.push_back(w.word);
  return words;
}

double seconds(const Spoken &spoken, int rate) { return static_cast<double>(spoken.samples.size()) / rate; }

TEST(Espeak, SpeaksASentenceAtTheDeclaredRate) {
  LocalEngines engines;
  auto tts = engines.make_tts({});
  EXPECT_EQ(tts->name(), "espeak");
  ASSERT_EQ(tts->sample_rate(), 16000);

  const auto before = espeak_counters();
  const Spoken spoken = speak(engines, *tts, {"book an appointment for tuesday"});
  const auto after = espeak_counters();

  ASSERT_TRUE(spoken.done);
  EXPECT_FALSE(spoken.error.has_value());
  EXPECT_FALSE(spoken.off_executor);
  // Five words at 175 words a minute, and the closing pause.
  EXPECT_GT(seconds(spoken, 16000), 1.2);
  EXPECT_LT(seconds(spoken, 16000), 3.5);
  EXPECT_GT(audio::dbfs(spoken.samples), -30.0);
  // Resampled from espeak-ng's 22050 Hz to exactly the declared rate.
  const double synthesised = static_cast<double>(after.samples_synthesised - before.samples_synthesised);
  EXPECT_NEAR(static_cast<double>(spoken.samples.size()), synthesised * 16000 / 22050, 2.0);
  // Delivered while being synthesised, in 50 ms buffers, not as one block at the end.
  EXPECT_GT(spoken.audio_calls, 10);
}

TEST(Espeak, ResamplesToOtherRates) {
  LocalEngines engines;
  auto at_8k = engines.make_tts({{"sample_rate", 8000}});
  auto at_48k = engines.make_tts({{"sample_rate", 48000}});
  ASSERT_EQ(at_8k->sample_rate(), 8000);
  const Spoken low = speak(engines, *at_8k, {"book an appointment for tuesday"});
  const Spoken high = speak(engines, *at_48k, {"book an appointment for tuesday"});
  ASSERT_TRUE(low.done && high.done);
  // The same speech, so the same duration whatever the rate.
  EXPECT_NEAR(seconds(low, 8000), seconds(high, 48000), 0.01);
  EXPECT_GT(audio::dbfs(low.samples), -30.0);
}

TEST(Espeak, WordTimingsFollowTheWordsInOrder) {
  LocalEngines engines;
  auto tts = engines.make_tts({});
  const Spoken spoken = speak(engines, *tts, {"Book an appointment, for Tuesday!"});
  ASSERT_TRUE(spoken.done);

  EXPECT_EQ(words_of(spoken), (std::vector<std::string>{"Book", "an", "appointment", "for", "Tuesday"}));
  const int duration_ms = static_cast<int>(spoken.samples.size() / 16);
  int previous_end = 0;
  for (const auto &word : spoken.words) {
    EXPECT_GE(word.start_ms, previous_end) << word.word;
    EXPECT_GT(word.end_ms, word.start_ms) << word.word;
    previous_end = word.end_ms;
  }
  EXPECT_LE(previous_end, duration_ms);
  EXPECT_GT(previous_end, duration_ms / 2);  // the words span the speech, not a sliver of it
}

TEST(Espeak, WordsOfLaterChunksCountFromTheUtterancesStart) {
  LocalEngines engines;
  auto tts = engines.make_tts({});
  const Spoken spoken = speak(engines, *tts, {"I would like an appointment.", "Tuesday at ten, please."});
  ASSERT_TRUE(spoken.done);

  ASSERT_EQ(words_of(spoken), (std::vector<std::string>{"I", "would", "like", "an", "appointment", "Tuesday", "at",
                                                        "ten", "please"}));
  for (size_t i = 1; i < spoken.words.size(); ++i) {
    EXPECT_GE(spoken.words[i].start_ms, spoken.words[i - 1].end_ms) << spoken.words[i].word;
  }
  EXPECT_GT(spoken.words[5].start_ms, 1000);  // after the whole first sentence
  EXPECT_LE(spoken.words.back().end_ms, static_cast<int>(spoken.samples.size() / 16));
}

TEST(Espeak, WordsKeepTheirUtf8Text) {
  LocalEngines engines;
  auto tts = engines.make_tts({});
  const Spoken spoken = speak(engines, *tts, {"The café on Tuesday"});
  ASSERT_TRUE(spoken.done);
  EXPECT_EQ(words_of(spoken), (std::vector<std::string>{"The", "café", "on", "Tuesday"}));
}

TEST(Espeak, CancelStopsALongSynthesisPromptly) {
  LocalEngines engines;
  auto tts = engines.make_tts({});
  std::string text;
  for (int i = 0; i < 300; ++i) text += "This is sentence number " + std::to_string(i) + " of one very long chunk. ";

  const auto before = espeak_counters();
  Spoken spoken;
  auto stream = tts->start(record(spoken, engines.executor_thread));
  stream->push_text(text);
  stream->finish();
  ASSERT_TRUE(engines.run_until([&] { return !spoken.samples.empty(); }));
  stream->cancel();
  const size_t heard = spoken.samples.size();
  const size_t words = spoken.words.size();

  engines.workers.join();  // the synthesis has returned
  engines.run_for(100ms);
  const auto after = espeak_counters();

  EXPECT_EQ(spoken.samples.size(), heard) << "audio after cancel()";
  EXPECT_EQ(spoken.words.size(), words) << "words after cancel()";
  EXPECT_FALSE(spoken.done);
  EXPECT_FALSE(spoken.error.has_value());
  EXPECT_EQ(after.chunks_cancelled - before.chunks_cancelled, 1u);
  // 3,000 words would be over 15 minutes of speech; espeak-ng stopped long before that.
  const double synthesised_seconds = static_cast<double>(after.samples_synthesised - before.samples_synthesised) / 22050;
  EXPECT_LT(synthesised_seconds, 450.0);
}

TEST(Espeak, DestroyingTheStreamCancelsIt) {
  LocalEngines engines;
  auto tts = engines.make_tts({});
  Spoken spoken;
  auto stream = tts->start(record(spoken, engines.executor_thread));
  stream->push_text("Book an appointment for Tuesday.");
  stream->finish();
  stream.reset();
  engines.workers.join();
  engines.run_for(50ms);
  EXPECT_TRUE(spoken.samples.empty());
  EXPECT_FALSE(spoken.done);
}

TEST(Espeak, EachStreamKeepsItsOwnVoiceAndWords) {
  LocalEngines engines;
  auto american = engines.make_tts({{"voice", "en-us"}});
  auto german = engines.make_tts({{"voice", "de"}, {"rate", 120}, {"pitch", 80}});
  const std::vector<std::string> texts = {"Book an appointment for Tuesday.", "Guten Tag, wie geht es Ihnen?",
                                          "Yes, ten a m works.", "Ich heisse Peter."};
  // Four utterances at once on two workers: espeak-ng's one voice slot is switched per chunk.
  std::vector<Spoken> spoken(texts.size());
  std::vector<std::unique_ptr<TtsStream>> streams;
  for (size_t i = 0; i < texts.size(); ++i) {
    streams.push_back((i % 2 == 0 ? american : german)->start(record(spoken[i], engines.executor_thread)));
    streams.back()->push_text(texts[i]);
    streams.back()->finish();
  }
  ASSERT_TRUE(engines.run_until([&] {
    for (const auto &s : spoken) {
      if (!s.done) return false;
    }
    return true;
  }));
  EXPECT_EQ(words_of(spoken[0]), (std::vector<std::string>{"Book", "an", "appointment", "for", "Tuesday"}));
  EXPECT_EQ(words_of(spoken[1]), (std::vector<std::string>{"Guten", "Tag", "wie", "geht", "es", "Ihnen"}));
  EXPECT_EQ(words_of(spoken[2]), (std::vector<std::string>{"Yes", "ten", "a", "m", "works"}));
  EXPECT_EQ(words_of(spoken[3]), (std::vector<std::string>{"Ich", "heisse", "Peter"}));

  // The same text in each voice: the German one, at 120 words a minute, is much slower.
  // (espeak-ng's output varies by a few percent from one synthesis to the next.)
  const Spoken us_again = speak(engines, *american, {"Guten Tag, wie geht es Ihnen?"});
  const Spoken de_again = speak(engines, *german, {"Guten Tag, wie geht es Ihnen?"});
  EXPECT_GT(static_cast<double>(de_again.samples.size()), 1.2 * static_cast<double>(us_again.samples.size()));
  EXPECT_GT(static_cast<double>(spoken[1].samples.size()), 1.2 * static_cast<double>(us_again.samples.size()));
}

TEST(Espeak, ConfigErrorsNameTheField) {
  LocalEngines engines;
  {
    const std::string error = engines.tts_config_error({{"voice", "xx-nope"}});
    EXPECT_NE(error.find("$.voice"), std::string::npos) << error;
    EXPECT_NE(error.find("xx-nope"), std::string::npos) << error;
  }
  EXPECT_NE(engines.tts_config_error({{"voice", ""}}).find("$.voice"), std::string::npos);
  EXPECT_NE(engines.tts_config_error({{"sample_rate", 11025}}).find("$.sample_rate: expected one of"), std::string::npos);
  EXPECT_NE(engines.tts_config_error({{"rate", 1000}}).find("$.rate"), std::string::npos);
  EXPECT_NE(engines.tts_config_error({{"pitch", "high"}}).find("$.pitch"), std::string::npos);
  EXPECT_NE(engines.tts_config_error({{"speed", 2}}).find("$.speed: unknown key"), std::string::npos);
  const std::string bad_path = engines.tts_config_error({{"data_path", "/nonexistent/espeak"}});
  EXPECT_NE(bad_path.find("$.data_path"), std::string::npos) << bad_path;
  EXPECT_NE(bad_path.find("/nonexistent/espeak"), std::string::npos) << bad_path;

  // After all that, the engine still speaks.
  auto tts = engines.make_tts({});
  EXPECT_TRUE(speak(engines, *tts, {"yes"}).done);
}

TEST(Espeak, OneDataPathPerProcess) {
  const std::string data = "/usr/lib/x86_64-linux-gnu/espeak-ng-data";
  if (!std::filesystem::exists(std::filesystem::path(data) / "phontab")) GTEST_SKIP() << "no espeak-ng data at " << data;
  LocalEngines engines;
  auto by_default = engines.make_tts({});
  // The data espeak-ng already uses, named as the folder or as its parent.
  auto explicit_path = engines.make_tts({{"data_path", data}});
  auto parent = engines.make_tts({{"data_path", std::filesystem::path(data).parent_path().string()}});
  EXPECT_TRUE(speak(engines, *explicit_path, {"book an appointment"}).done);

  // Other data: espeak-ng is process-global and cannot switch.
  const auto other = std::filesystem::temp_directory_path() / ("parley-espeak-data-" + std::to_string(::getpid()));
  std::filesystem::create_directories(other);
  std::ofstream(other / "phontab") << "not really";
  const std::string error = engines.tts_config_error({{"data_path", other.string()}});
  std::filesystem::remove_all(other);
  EXPECT_NE(error.find("$.data_path: espeak-ng already uses the data in"), std::string::npos) << error;
  EXPECT_TRUE(speak(engines, *by_default, {"book an appointment"}).done);
}

}  // namespace
}  // namespace parley::providers::testing
