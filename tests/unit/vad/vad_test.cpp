// Behaviour of audio::Vad: configuration, the start and stop confirmation windows, clicks
// and pauses, the adaptive noise floor, levels, 8 kHz, reset. Accuracy on the labelled set
// is in vad_accuracy_test.cpp.
#include "audio/vad.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "vad_test_set.hpp"

namespace parley::audio {
namespace {
using namespace vad_testing;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------
// Signal building, at 16 kHz

std::vector<float> speech_of(const std::string &voice, const std::string &text) {
  std::vector<float> out;
  for (int16_t s : speak(voice, text)) out.push_back(static_cast<float>(s) / 32768.0f);
  return out;
}

// Scales `x` to an RMS of `dbfs` over its non-silent samples.
std::vector<float> at_level(std::vector<float> x, double dbfs) {
  double sum = 0.0;
  size_t count = 0;
  for (float v : x) {
    if (v != 0.0f) {
      sum += static_cast<double>(v) * v;
      ++count;
    }
  }
  const double gain = std::pow(10.0, dbfs / 20.0) / std::sqrt(sum / static_cast<double>(count));
  for (float &v : x) v = static_cast<float>(v * gain);
  return x;
}

std::vector<float> white_at(size_t samples, double dbfs, uint32_t seed) {
  return at_level(white_noise(samples, seed), dbfs);
}

size_t ms_to_samples(int64_t ms) { return static_cast<size_t>(ms) * kRate / 1000; }

// Adds `x` into `out` starting at `at_ms`.
void add_at(std::vector<float> &out, const std::vector<float> &x, int64_t at_ms) {
  const size_t start = ms_to_samples(at_ms);
  if (out.size() < start + x.size()) out.resize(start + x.size(), 0.0f);
  for (size_t i = 0; i < x.size(); ++i) out[start + i] += x[i];
}

std::vector<int16_t> pcm_of(const std::vector<float> &x) {
  std::vector<int16_t> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = to_pcm(x[i]);
  return out;
}

// First and one-past-last non-silent 20 ms frame of clean speech, in ms.
std::pair<int64_t, int64_t> speech_extent_ms(const std::vector<float> &x) {
  Track t;
  t.clean = x;
  t.clean.resize((x.size() / kFrame + 1) * kFrame, 0.0f);
  t.labels.assign(t.clean.size() / kFrame, 0);
  label_sentence(t, 0, x.size());
  return {static_cast<int64_t>(t.utterances[0].first_frame) * 20, static_cast<int64_t>(t.utterances[0].end_frame) * 20};
}

struct Events {
  std::vector<VadEvent> started, stopped;
  std::vector<VadEvent> all;
};

Events run(Vad &vad, std::span<const int16_t> pcm) {
  Events e;
  for (size_t i = 0; i + vad.frame_samples() <= pcm.size(); i += vad.frame_samples()) {
    const VadEvent event = vad.process(pcm.subspan(i, vad.frame_samples()));
    if (event.speech_started) e.started.push_back(event);
    if (event.speech_stopped) e.stopped.push_back(event);
    e.all.push_back(event);
  }
  return e;
}

Events run(VadConfig config, const std::vector<float> &signal) {
  Vad vad(config);
  const std::vector<int16_t> pcm = pcm_of(signal);
  return run(vad, pcm);
}

const std::vector<float> &hello() {
  static const std::vector<float> s = at_level(speech_of("en-us", "Hello, I would like to book an appointment."), -20.0);
  return s;
}

// ---------------------------------------------------------------------------------------
// Configuration

TEST(vad, RejectsBadConfiguration) {
  auto expect = [](VadConfig config, Status status, const char *words) {
    try {
      Vad vad(config);
      ADD_FAILURE() << "no error for " << words;
    } catch (const Error &error) {
      EXPECT_EQ(error.status(), status);
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    }
  };
  expect(VadConfig{.sample_rate = 44100}, Status::unsupported, "44100");
  expect(VadConfig{.start_window = milliseconds(-1)}, Status::invalid_argument, "start_window");
  expect(VadConfig{.stop_window = milliseconds(-20)}, Status::invalid_argument, "stop_window");
  expect(VadConfig{.threshold = 0.0f}, Status::invalid_argument, "threshold");
  expect(VadConfig{.threshold = 1.0f}, Status::invalid_argument, "threshold");
  expect(VadConfig{.threshold = std::nanf("")}, Status::invalid_argument, "threshold");
}

TEST(vad, FrameIsTwentyMilliseconds) {
  Vad wide;
  EXPECT_EQ(wide.frame_samples(), 320u);
  Vad narrow(VadConfig{.sample_rate = 8000});
  EXPECT_EQ(narrow.frame_samples(), 160u);
  const std::vector<int16_t> wrong(160, 0);
  try {
    wide.process(wrong);
    ADD_FAILURE() << "no error for a 10 ms frame";
  } catch (const Error &error) {
    EXPECT_EQ(error.status(), Status::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("320"), std::string::npos) << error.what();
  }
}

TEST(vad, DigitalSilenceAndDitherAreNotSpeech) {
  std::vector<float> silence(ms_to_samples(3000), 0.0f);
  Events e = run(VadConfig{}, silence);
  for (const VadEvent &event : e.all) EXPECT_LT(event.probability, 0.2f);
  e = run(VadConfig{}, white_at(ms_to_samples(3000), -90.0, 5));
  EXPECT_TRUE(e.started.empty());
}

// ---------------------------------------------------------------------------------------
// Confirmation windows

TEST(vad, StartIsConfirmedAfterTheStartWindowAndBackdated) {
  std::vector<float> signal = white_at(ms_to_samples(5000), -60.0, 1);
  add_at(signal, hello(), 1000);
  const auto [first_ms, end_ms] = speech_extent_ms(hello());
  const Events e = run(VadConfig{}, signal);
  ASSERT_EQ(e.started.size(), 1u);
  const VadEvent &start = e.started[0];
  // Backdated to when the speech began ...
  EXPECT_NEAR(static_cast<double>(start.speech_start.count()), static_cast<double>(1000 + first_ms), 40.0);
  // ... and confirmed once 200 ms of it had been heard (the speech is continuous here).
  EXPECT_EQ((start.frame_start + Vad::kFrameDuration - start.speech_start).count(), 200);
  EXPECT_TRUE(start.speaking);

  ASSERT_EQ(e.stopped.size(), 1u);
  const VadEvent &stop = e.stopped[0];
  EXPECT_NEAR(static_cast<double>(stop.speech_end.count()), static_cast<double>(1000 + end_ms), 100.0);
  // Confirmed after exactly 800 ms of non-speech.
  EXPECT_EQ((stop.frame_start + Vad::kFrameDuration - stop.speech_end).count(), 800);
  EXPECT_EQ(stop.speech_start, start.speech_start);
  EXPECT_FALSE(stop.speaking);
}

TEST(vad, WindowsAreConfigurable) {
  std::vector<float> signal = white_at(ms_to_samples(4000), -60.0, 1);
  add_at(signal, hello(), 500);
  const Events e = run(VadConfig{.start_window = milliseconds(0), .stop_window = milliseconds(300)}, signal);
  ASSERT_GE(e.started.size(), 1u);
  // With no start window the first speech frame confirms.
  EXPECT_EQ(e.started[0].frame_start, e.started[0].speech_start);
  ASSERT_GE(e.stopped.size(), 1u);
  EXPECT_EQ((e.stopped.back().frame_start + Vad::kFrameDuration - e.stopped.back().speech_end).count(), 300);
}

// A 100 ms click or a 100 ms scrap of a word does not start speech; 300 ms of the same does.
TEST(vad, ShortBurstsDoNotStartSpeech) {
  const std::vector<float> word = at_level(speech_of("en-us", "aaaaah"), -15.0);
  const std::vector<float> noise_burst = white_at(ms_to_samples(300), -10.0, 9);
  for (const std::vector<float> *burst : {&word, &noise_burst}) {
    const size_t offset = burst == &word ? ms_to_samples(100) : 0;  // into the vowel
    std::vector<float> click(burst->begin() + static_cast<ptrdiff_t>(offset),
                             burst->begin() + static_cast<ptrdiff_t>(offset + ms_to_samples(100)));
    std::vector<float> longer(burst->begin() + static_cast<ptrdiff_t>(offset),
                              burst->begin() + static_cast<ptrdiff_t>(offset + ms_to_samples(300)));
    std::vector<float> signal = white_at(ms_to_samples(6000), -60.0, 2);
    add_at(signal, click, 1000);
    add_at(signal, click, 2500);
    Events e = run(VadConfig{}, signal);
    EXPECT_TRUE(e.started.empty()) << (burst == &word ? "word" : "noise") << " click started speech";
    size_t speech_frames = 0;
    for (const VadEvent &event : e.all) speech_frames += event.is_speech;
    EXPECT_GT(speech_frames, 0u) << "the detector must have heard the click for this test to mean anything";

    add_at(signal, longer, 4500);
    e = run(VadConfig{}, signal);
    ASSERT_EQ(e.started.size(), 1u) << (burst == &word ? "word" : "noise");
    EXPECT_NEAR(static_cast<double>(e.started[0].speech_start.count()), 4500.0, 40.0);
  }
}

// A 300 ms pause inside speech does not stop it; a 1.2 s one does.
TEST(vad, PausesShorterThanTheStopWindowDoNotStopSpeech) {
  const std::vector<float> first = at_level(speech_of("en-us", "My number is four one one"), -20.0);
  const std::vector<float> second = at_level(speech_of("en-us", "two two two two."), -20.0);
  const int64_t first_end = speech_extent_ms(first).second;
  const int64_t second_begin = speech_extent_ms(second).first;
  for (int64_t pause : {300, 1200}) {
    std::vector<float> signal = white_at(ms_to_samples(9000), -50.0, 3);
    add_at(signal, first, 1000);
    add_at(signal, second, 1000 + first_end + pause - second_begin);
    const Events e = run(VadConfig{}, signal);
    const size_t expected = pause < 800 ? 1 : 2;
    EXPECT_EQ(e.started.size(), expected) << pause << " ms pause";
    EXPECT_EQ(e.stopped.size(), expected) << pause << " ms pause";
  }
}

// ---------------------------------------------------------------------------------------
// Adaptive noise floor

// The background jumps 20 dB: once the floor has adapted (the minimum window, 1.2-1.7 s,
// then the stop window, 0.8 s) nothing is speech, and speech on top of the new noise is found.
TEST(vad, NoiseRiseIsAdaptedTo) {
  for (Noise kind : {Noise::white, Noise::pink, Noise::brown, Noise::hum}) {
    std::vector<float> signal = at_level(make_noise(kind, ms_to_samples(12000), 4), -55.0);
    const std::vector<float> louder = at_level(make_noise(kind, ms_to_samples(9000), 5), -35.0);
    for (size_t i = 0; i < louder.size(); ++i) signal[ms_to_samples(3000) + i] = louder[i];
    add_at(signal, hello(), 9000);
    const std::vector<int16_t> pcm = pcm_of(signal);
    Vad vad;
    std::vector<VadEvent> started;
    SCOPED_TRACE(noise_name(kind));
    for (size_t i = 0; i + kFrame <= pcm.size(); i += kFrame) {
      const VadEvent event = vad.process(std::span<const int16_t>(pcm).subspan(i, kFrame));
      if (event.speech_started) started.push_back(event);
      const int64_t t = event.frame_start.count();
      if (t >= 3000 + 2600 && t < 9000) {
        EXPECT_FALSE(event.speaking) << "at " << t << " ms";
        EXPECT_FALSE(event.is_speech) << "at " << t << " ms";
      }
      // The estimate reads as white noise in the analysed band would, which brown noise
      // (most of its power below 125 Hz) and hum do not resemble.
      if (kind == Noise::white || kind == Noise::pink) {
        if (t == 2980) {
          EXPECT_NEAR(vad.noise_dbfs(), -55.0, 3.0);
        }
        if (t == 8980) {
          EXPECT_NEAR(vad.noise_dbfs(), -35.0, 3.0);
        }
      }
    }
    ASSERT_FALSE(started.empty());
    EXPECT_NEAR(static_cast<double>(started.back().speech_start.count()), 9000.0, 200.0);
  }
}

TEST(vad, NoiseFallIsNotSpeech) {
  std::vector<float> signal = white_at(ms_to_samples(8000), -30.0, 6);
  for (size_t i = ms_to_samples(4000); i < signal.size(); ++i) signal[i] *= 0.01f;  // -40 dB
  Vad vad;
  const Events e = run(vad, pcm_of(signal));
  EXPECT_TRUE(e.started.empty());
  EXPECT_NEAR(vad.noise_dbfs(), -70.0, 3.0);
}

// A call may start mid-sentence: the noise estimate seeded on speech recovers in the first
// pause and the second sentence is found.
TEST(vad, RecoversWhenTheStreamStartsWithSpeech) {
  std::vector<float> signal = white_at(ms_to_samples(9000), -50.0, 7);
  add_at(signal, hello(), 0);
  add_at(signal, hello(), 5000);
  const Events e = run(VadConfig{}, signal);
  ASSERT_FALSE(e.started.empty());
  EXPECT_NEAR(static_cast<double>(e.started.back().speech_start.count()), 5000.0 + static_cast<double>(speech_extent_ms(hello()).first), 60.0);
}

// ---------------------------------------------------------------------------------------
// Levels, rates, reset

// The same scene at -45 and at -10 dBFS gives the same decisions.
TEST(vad, DecisionsDoNotDependOnLevel) {
  const std::vector<float> scene = [] {
    std::vector<float> s = at_level(pink_noise(ms_to_samples(6000), 8), -30.0);
    add_at(s, at_level(hello(), -15.0), 1500);
    return s;
  }();
  auto scaled = [&](double gain_db) {
    std::vector<float> s = scene;
    for (float &v : s) v = static_cast<float>(v * std::pow(10.0, gain_db / 20.0));
    return s;
  };
  const Events quiet = run(VadConfig{}, scaled(-20.0)), loud = run(VadConfig{}, scaled(+5.0));
  size_t agree = 0;
  for (size_t i = 0; i < quiet.all.size(); ++i) agree += quiet.all[i].is_speech == loud.all[i].is_speech;
  EXPECT_GE(static_cast<double>(agree) / static_cast<double>(quiet.all.size()), 0.98);
  ASSERT_EQ(quiet.started.size(), 1u);
  ASSERT_EQ(loud.started.size(), 1u);
  EXPECT_EQ(quiet.started[0].speech_start, loud.started[0].speech_start);
}

TEST(vad, QuietSpeechInSilenceIsFound) {
  std::vector<float> signal(ms_to_samples(5000), 0.0f);
  add_at(signal, at_level(hello(), -50.0), 1000);
  const Events e = run(VadConfig{}, signal);
  ASSERT_EQ(e.started.size(), 1u);
}

TEST(vad, EightKilohertzGivesTheSameEvents) {
  std::vector<float> signal = white_at(ms_to_samples(5000), -45.0, 1);
  add_at(signal, hello(), 1000);
  const std::vector<int16_t> wide = pcm_of(signal);
  const std::vector<int16_t> narrow = to_8k(wide);
  Vad vad16;
  Vad vad8(VadConfig{.sample_rate = 8000});
  const Events e16 = run(vad16, wide), e8 = run(vad8, narrow);
  ASSERT_EQ(e16.started.size(), 1u);
  ASSERT_EQ(e8.started.size(), 1u);
  EXPECT_NEAR(static_cast<double>(e8.started[0].speech_start.count()), static_cast<double>(e16.started[0].speech_start.count()), 20.0);
  ASSERT_EQ(e8.stopped.size(), 1u);
  EXPECT_NEAR(static_cast<double>(e8.stopped[0].speech_end.count()), static_cast<double>(e16.stopped[0].speech_end.count()), 40.0);
}

TEST(vad, ThresholdTradesMissesForFalseAlarms) {
  const Track &track = test_track();
  const std::vector<int16_t> pcm = mix(track, Noise::pink, 5.0, -20.0);
  Score lenient, strict;
  for (float threshold : {0.2f, 0.8f}) {
    Vad vad(VadConfig{.threshold = threshold});
    const VadRun r = run_vad(vad, pcm);
    (threshold < 0.5f ? lenient : strict) = score(track, r.decisions);
  }
  EXPECT_GT(lenient.hit_rate(), strict.hit_rate());
  EXPECT_GT(lenient.false_alarm_rate(), strict.false_alarm_rate());
}

TEST(vad, ResetStartsAFreshStream) {
  std::vector<float> signal = white_at(ms_to_samples(4000), -50.0, 1);
  add_at(signal, hello(), 500);
  const std::vector<int16_t> pcm = pcm_of(signal);
  Vad vad;
  const Events first = run(vad, pcm);
  EXPECT_TRUE(first.all.back().frame_start.count() > 0);
  vad.reset();
  EXPECT_FALSE(vad.speaking());
  const Events second = run(vad, pcm);
  ASSERT_EQ(first.all.size(), second.all.size());
  for (size_t i = 0; i < first.all.size(); ++i) {
    EXPECT_EQ(first.all[i].probability, second.all[i].probability) << i;
    EXPECT_EQ(first.all[i].frame_start, second.all[i].frame_start) << i;
    EXPECT_EQ(first.all[i].speech_started, second.all[i].speech_started) << i;
  }
}

TEST(vad, MovedVadKeepsItsState) {
  std::vector<float> signal = white_at(ms_to_samples(2000), -50.0, 1);
  add_at(signal, hello(), 500);
  const std::vector<int16_t> pcm = pcm_of(signal);
  Vad vad;
  const size_t half = (pcm.size() / 2 / 320) * 320;
  run(vad, std::span<const int16_t>(pcm).first(half));
  Vad moved(std::move(vad));
  EXPECT_EQ(moved.process(std::span<const int16_t>(pcm).subspan(half, 320)).frame_start.count(),
            static_cast<int64_t>(half / 320) * 20);
}

}  // namespace
}  // namespace parley::audio
