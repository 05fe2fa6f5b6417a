// The end-to-end requirement: espeak-ng speech fed to pocketsphinx with a grammar
// comes back as the same words. Both engines are real; the audio goes in 20 ms frames.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "local_engines.hpp"

namespace parley::providers::testing {
namespace {

// A booking call, phrase by phrase, all in examples/grammars/appointment.jsgf.
const std::vector<std::string> kCall = {
    "i would like to book an appointment",
    "tuesday",
    "ten a m",
    "yes",
    "no",
    "my name is john",
    "monday at ten thirty p m",
    "can i cancel my appointment",
    "thank you goodbye",
};

struct Placed {
  int start_ms = 0;
  int end_ms = 0;
};

// Where the voice is in `samples`: espeak-ng's audio starts and ends with near silence.
Placed voiced_span(const std::vector<int16_t> &samples, size_t offset, int rate) {
  constexpr int kThreshold = 300;  // about -40 dBFS
  size_t first = 0, last = samples.size();
  while (first < samples.size() && std::abs(samples[first]) < kThreshold) ++first;
  while (last > first && std::abs(samples[last - 1]) < kThreshold) --last;
  Placed placed;
  placed.start_ms = static_cast<int>((offset + first) * 1000 / static_cast<size_t>(rate));
  placed.end_ms = static_cast<int>((offset + last) * 1000 / static_cast<size_t>(rate));
  return placed;
}

// The phrases spoken one after another, each after 300 ms of silence and followed by 900 ms,
// long enough for pocketsphinx's detector to end the utterance.
std::vector<int16_t> speak_call(LocalEngines &engines, const std::vector<std::string> &phrases, int rate,
                                std::vector<Placed> &placed) {
  std::vector<int16_t> audio;
  for (const auto &phrase : phrases) {
    append(audio, silence(300, rate));
    const auto speech = say(engines, phrase, rate);
    placed.push_back(voiced_span(speech, audio.size(), rate));
    append(audio, speech);
    append(audio, silence(900, rate));
  }
  return audio;
}

TEST(EspeakToPocketsphinx, AGrammarHearsTheSameWords) {
  LocalEngines engines;
  std::vector<Placed> placed;
  const auto audio = speak_call(engines, kCall, 16000, placed);

  auto stt = engines.make_stt({{"grammar", grammar_path("appointment.jsgf")}, {"max_backlog_ms", 60000}});
  ASSERT_EQ(stt->sample_rate(), 16000);
  EXPECT_EQ(stt->name(), "pocketsphinx");
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));
  push_frames(*stream, audio);
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= kCall.size() || !heard.errors.empty(); }));

  EXPECT_TRUE(heard.errors.empty()) << heard.errors.front().message;
  EXPECT_EQ(heard.finals(), kCall);
  EXPECT_EQ(heard.speech_started, static_cast<int>(kCall.size()));
  EXPECT_FALSE(heard.off_executor);

  // Each final covers its phrase's place in the stream, give or take the detector's lag.
  size_t phrase = 0;
  for (const auto &t : heard.transcripts) {
    if (!t.is_final) continue;
    EXPECT_TRUE(t.speech_final);
    EXPECT_NEAR(t.start_ms, placed[phrase].start_ms, 120) << t.text;
    EXPECT_NEAR(t.end_ms, placed[phrase].end_ms, 150) << t.text;
    ++phrase;
  }

  // Partials come while the long phrase is spoken: not final, and growing toward the final.
  std::vector<std::string> partials;
  for (const auto &t : heard.transcripts) {
    if (t.is_final) break;
    partials.push_back(t.text);
  }
  ASSERT_FALSE(partials.empty());
  EXPECT_EQ(partials.back().substr(0, 6), "i woul");
}

TEST(EspeakToPocketsphinx, FinalizeEndsAnUtteranceWithoutTrailingSilence) {
  LocalEngines engines;
  auto stt = engines.make_stt({{"grammar", grammar_path("appointment.jsgf")}, {"max_backlog_ms", 10000}});
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));

  auto audio = silence(200);
  append(audio, say(engines, "my name is john"));
  push_frames(*stream, audio);
  stream->finalize();
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 1; }));
  EXPECT_EQ(heard.finals(), (std::vector<std::string>{"my name is john"}));
  EXPECT_TRUE(heard.transcripts.back().speech_final);

  // The stream goes on after a finalize(), and a finalize() with nothing said is an empty final.
  push_frames(*stream, say(engines, "can i cancel my appointment"));
  stream->finalize();
  stream->finalize();
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 3; }));
  EXPECT_EQ(heard.finals(), (std::vector<std::string>{"my name is john", "can i cancel my appointment", ""}));
  EXPECT_TRUE(heard.errors.empty());
}

// The call at another rate than the model's 16 kHz, resampled inside the stream.
Heard hear_call_at(LocalEngines &engines, int rate, std::vector<Placed> &placed) {
  const auto audio = speak_call(engines, kCall, rate, placed);
  auto stt = engines.make_stt(
      {{"grammar", grammar_path("appointment.jsgf")}, {"sample_rate", rate}, {"max_backlog_ms", 60000}});
  EXPECT_EQ(stt->sample_rate(), rate);
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));
  push_frames(*stream, audio, rate);
  stream->finalize();
  EXPECT_TRUE(engines.run_until([&] { return !heard.finals().empty() && heard.finals().back().empty(); }));
  EXPECT_TRUE(heard.errors.empty());
  EXPECT_EQ(heard.speech_started, static_cast<int>(kCall.size()));
  return heard;
}

// The final heard for the last phrase, and where the phrase was.
void expect_last_phrase_in_place(const Heard &heard, const std::vector<Placed> &placed) {
  const auto last = std::find_if(heard.transcripts.rbegin(), heard.transcripts.rend(),
                                 [](const Transcript &t) { return t.is_final && !t.text.empty(); });
  ASSERT_NE(last, heard.transcripts.rend());
  EXPECT_EQ(last->text, kCall.back());
  EXPECT_NEAR(last->start_ms, placed.back().start_ms, 120);
  EXPECT_NEAR(last->end_ms, placed.back().end_ms, 150);
}

TEST(EspeakToPocketsphinx, WidebandAudioAtAnotherRateIsResampled) {
  LocalEngines engines;
  std::vector<Placed> placed;
  const Heard heard = hear_call_at(engines, 48000, placed);
  auto finals = heard.finals();
  ASSERT_FALSE(finals.empty());
  finals.pop_back();  // finalize()'s
  EXPECT_EQ(finals, kCall);
  // Times are in the stream's own audio, whatever its rate.
  expect_last_phrase_in_place(heard, placed);
}

TEST(EspeakToPocketsphinx, TelephoneAudioIsResampledAndTimed) {
  LocalEngines engines;
  std::vector<Placed> placed;
  const Heard heard = hear_call_at(engines, 8000, placed);  // every phrase starts speech

  // The model is wideband: upsampled telephone audio has nothing above 4 kHz, and espeak-ng's
  // voice through it is heard right only about half the time ("tuesday" as "noon"), more
  // often once the cepstral mean has adapted after the first utterances. What is heard is
  // where the phrase was, in the stream's own 8 kHz time.
  size_t exact = 0;
  for (const auto &t : heard.transcripts) {
    if (!t.is_final || t.text.empty()) continue;
    const auto phrase = std::find_if(placed.begin(), placed.end(), [&](const Placed &p) {
      return t.start_ms < p.end_ms && t.end_ms > p.start_ms;
    });
    ASSERT_NE(phrase, placed.end()) << t.text << " at " << t.start_ms << "-" << t.end_ms;
    EXPECT_NEAR(t.start_ms, phrase->start_ms, 120) << t.text;
    EXPECT_NEAR(t.end_ms, phrase->end_ms, 150) << t.text;
    if (t.text == kCall[static_cast<size_t>(phrase - placed.begin())]) ++exact;
  }
  EXPECT_GE(exact, 3u);
}

}  // namespace
}  // namespace parley::providers::testing
