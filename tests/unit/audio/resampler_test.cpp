#include "audio/resampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "audio/pcm.hpp"
#include "audio_test_support.hpp"

namespace parley::audio {
namespace {

using testing::amplitude_at;
using testing::expect_error;
using testing::tone;

struct RatePair {
  int from;
  int to;
};

std::string describe(RatePair pair) { return std::to_string(pair.from) + " -> " + std::to_string(pair.to); }

std::vector<int16_t> noise(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> level(-20000, 20000);
  std::vector<int16_t> samples(count);
  for (int16_t &sample : samples) sample = static_cast<int16_t>(level(random));
  return samples;
}

// Appends everything flush() still holds, in pieces of `piece` samples.
void drain(Resampler &resampler, std::vector<int16_t> &output, size_t piece = 1024) {
  std::vector<int16_t> buffer(piece);
  while (size_t written = resampler.flush(buffer)) output.insert(output.end(), buffer.begin(), buffer.begin() + written);
}

// Feeds `input` in chunks whose sizes come from next_size(), then flushes.
template <typename NextSize>
std::vector<int16_t> resample_chunked(Resampler &resampler, const std::vector<int16_t> &input, NextSize next_size) {
  std::vector<int16_t> output;
  std::vector<int16_t> buffer;
  for (size_t offset = 0; offset < input.size();) {
    const size_t count = std::min(next_size(), input.size() - offset);
    buffer.resize(resampler.max_output(count));
    const size_t written = resampler.process(std::span(input).subspan(offset, count), buffer);
    if (!resampler.is_passthrough()) {
      EXPECT_LT(written, buffer.size()) << "output buffer filled: samples may be waiting inside";
    }
    output.insert(output.end(), buffer.begin(), buffer.begin() + written);
    offset += count;
  }
  drain(resampler, output);
  return output;
}

std::vector<int16_t> resample_whole(RatePair pair, const std::vector<int16_t> &input, ResamplerOptions options = {}) {
  Resampler resampler(pair.from, pair.to, options);
  return resample_chunked(resampler, input, [&] { return input.size(); });
}

size_t samples_per_20ms(int rate) { return static_cast<size_t>(rate / 50); }

TEST(audio_resampler, RejectsUnsupportedRatesNamingThem) {
  expect_error([] { Resampler(11025, 16000); }, Status::unsupported,
               "resampler: unsupported sample rate 11025 (supported: 8000, 16000, 22050, 24000, 44100, 48000)");
  expect_error([] { Resampler(16000, 0); }, Status::unsupported, "unsupported sample rate 0");
  expect_error([] { Resampler(-8000, 8000); }, Status::unsupported, "unsupported sample rate -8000");
  EXPECT_TRUE(Resampler::is_supported_rate(22050));
  EXPECT_FALSE(Resampler::is_supported_rate(32000));
  EXPECT_EQ(Resampler::supported_rates().size(), 6u);
}

TEST(audio_resampler, SameRateIsAnExactPassthrough) {
  Resampler resampler(16000, 16000);
  EXPECT_TRUE(resampler.is_passthrough());
  const std::vector<int16_t> input = noise(320, 1);
  std::vector<int16_t> output(resampler.max_output(input.size()));
  ASSERT_EQ(output.size(), input.size());
  EXPECT_EQ(resampler.process(input, output), input.size());
  EXPECT_EQ(output, input);
  std::vector<int16_t> tail(16);
  EXPECT_EQ(resampler.flush(tail), 0u);
}

// libsoxr (integer I/O, no dither) is chunk-invariant: the output does not depend on how
// the input was cut, to the last bit. Checked for 20 ms chunks and for random sizes.
TEST(audio_resampler, ChunkedOutputEqualsWholeBufferOutputExactly) {
  for (RatePair pair : {RatePair{8000, 16000}, {16000, 8000}, {24000, 8000}, {44100, 16000}, {48000, 22050}}) {
    for (ResamplerPhase phase : {ResamplerPhase::minimum, ResamplerPhase::linear}) {
      const ResamplerOptions options{ResamplerQuality::medium, phase};
      const std::vector<int16_t> input = noise(static_cast<size_t>(pair.from), 2);
      const std::vector<int16_t> whole = resample_whole(pair, input, options);

      Resampler framed(pair.from, pair.to, options);
      const std::vector<int16_t> in_frames =
          resample_chunked(framed, input, [&] { return samples_per_20ms(pair.from); });
      EXPECT_EQ(in_frames, whole) << describe(pair);

      std::mt19937 random(3);
      Resampler ragged(pair.from, pair.to, options);
      const std::vector<int16_t> in_random_sizes =
          resample_chunked(ragged, input, [&] { return size_t{1} + random() % 997; });
      EXPECT_EQ(in_random_sizes, whole) << describe(pair);
    }
  }
}

TEST(audio_resampler, OutputLengthIsInputTimesRatioAfterFlush) {
  for (RatePair pair : {RatePair{8000, 16000}, {16000, 8000}, {24000, 8000}, {44100, 16000}, {22050, 48000}}) {
    for (size_t length : {size_t{12345}, size_t{16000}, size_t{1}}) {
      const std::vector<int16_t> output = resample_whole(pair, noise(length, 4));
      const double expected = static_cast<double>(length) * pair.to / pair.from;
      EXPECT_NEAR(static_cast<double>(output.size()), expected, 1.0) << describe(pair) << " length " << length;
    }
  }
}

// A tone keeps its frequency and amplitude: the output's energy sits in the tone's bin and
// nowhere else, at the input level.
TEST(audio_resampler, ToneKeepsFrequencyAndAmplitude) {
  constexpr double amplitude = 10000.0;
  for (RatePair pair : {RatePair{8000, 16000}, {16000, 8000}, {24000, 8000}, {44100, 16000}}) {
    for (double frequency : {440.0, 1000.0, 3000.0}) {
      Resampler resampler(pair.from, pair.to);
      const std::vector<int16_t> input = tone(frequency, pair.from, static_cast<size_t>(pair.from), amplitude);
      const std::vector<int16_t> output =
          resample_chunked(resampler, input, [&] { return samples_per_20ms(pair.from); });
      // Skip the filter's start and end transients: analyse the middle 0.5 s (whole periods).
      const auto middle = std::span(output).subspan(static_cast<size_t>(pair.to / 4), static_cast<size_t>(pair.to / 2));
      const double level = amplitude_at(middle, frequency, pair.to);
      EXPECT_NEAR(level, amplitude, amplitude * 0.005) << describe(pair) << " at " << frequency << " Hz";
      const double total_rms = rms(middle);
      EXPECT_NEAR(total_rms, level / std::sqrt(2.0), amplitude * 0.002) << "energy outside the tone";
      EXPECT_LT(amplitude_at(middle, frequency + 100.0, pair.to), amplitude * 0.001);
    }
  }
}

TEST(audio_resampler, DownsamplingRemovesContentAboveTheNewNyquist) {
  Resampler resampler(16000, 8000);
  const std::vector<int16_t> input = tone(5000.0, 16000, 16000, 20000.0);  // would alias to 3 kHz
  const std::vector<int16_t> output = resample_chunked(resampler, input, [] { return size_t{320}; });
  EXPECT_LT(dbfs(std::span(output).subspan(2000, 4000)), -80.0);
}

// With linear phase the delay is compensated: an impulse comes out where it went in, on the
// output's time scale. (Minimum phase trades that for less latency.)
TEST(audio_resampler, LinearPhaseOutputIsTimeAligned) {
  for (RatePair pair : {RatePair{8000, 16000}, {16000, 8000}, {24000, 8000}, {44100, 16000}}) {
    std::vector<int16_t> input(static_cast<size_t>(pair.from) / 2, 0);
    const size_t impulse_at = input.size() / 2;
    input[impulse_at] = 30000;
    const std::vector<int16_t> output =
        resample_whole(pair, input, ResamplerOptions{ResamplerQuality::medium, ResamplerPhase::linear});
    const auto peak = std::max_element(output.begin(), output.end(),
                                       [](int16_t a, int16_t b) { return std::abs(a) < std::abs(b); });
    const double expected = static_cast<double>(impulse_at) * pair.to / pair.from;
    EXPECT_NEAR(static_cast<double>(peak - output.begin()), expected, 1.0) << describe(pair);
  }
}

// max_output() must cover libsoxr's bursts for every pair and any chunk size, or samples
// would wait inside the converter (resample_chunked fails if a call fills its buffer).
TEST(audio_resampler, MaxOutputCoversBurstsForEveryRatePair) {
  for (int from : Resampler::supported_rates()) {
    for (int to : Resampler::supported_rates()) {
      for (size_t chunk : {size_t{1}, samples_per_20ms(from), size_t{4096}}) {
        Resampler resampler(from, to);
        const std::vector<int16_t> input = noise(static_cast<size_t>(from) / 2, 5);
        const std::vector<int16_t> output = resample_chunked(resampler, input, [&] { return chunk; });
        EXPECT_NEAR(static_cast<double>(output.size()), static_cast<double>(input.size()) * to / from, 1.0)
            << from << " -> " << to << " in chunks of " << chunk;
      }
    }
  }
}

TEST(audio_resampler, EveryQualityConverts) {
  const std::vector<int16_t> input = tone(1000.0, 8000, 8000, 8000.0);
  for (ResamplerQuality quality :
       {ResamplerQuality::low, ResamplerQuality::medium, ResamplerQuality::high, ResamplerQuality::very_high}) {
    const std::vector<int16_t> output = resample_whole({8000, 16000}, input, ResamplerOptions{quality});
    ASSERT_EQ(output.size(), 16000u);
    EXPECT_NEAR(amplitude_at(std::span(output).subspan(4000, 8000), 1000.0, 16000), 8000.0, 40.0);
  }
}

TEST(audio_resampler, RejectsAnOutputBufferBelowMaxOutput) {
  Resampler resampler(8000, 16000);
  const std::vector<int16_t> input(160, 0);
  std::vector<int16_t> output(resampler.max_output(input.size()) - 1);
  expect_error([&] { resampler.process(input, output); }, Status::invalid_argument, "160 input samples need");
}

TEST(audio_resampler, EmptyInputIsNotEndOfStream) {
  const std::vector<int16_t> input = noise(8000, 6);
  const std::vector<int16_t> expected = resample_whole({8000, 16000}, input);

  Resampler resampler(8000, 16000);
  bool empty_next = true;
  std::vector<int16_t> output = resample_chunked(resampler, input, [&] {
    empty_next = !empty_next;
    return empty_next ? size_t{0} : size_t{160};
  });
  EXPECT_EQ(output, expected);
}

TEST(audio_resampler, FlushEndsTheStreamUntilReset) {
  const std::vector<int16_t> input = noise(4000, 7);
  Resampler resampler(16000, 8000);
  const std::vector<int16_t> first = resample_chunked(resampler, input, [] { return size_t{320}; });

  std::vector<int16_t> buffer(resampler.max_output(320));
  expect_error([&] { resampler.process(std::span(input).first(320), buffer); }, Status::state, "after flush()");
  expect_error([&] { resampler.flush({}); }, Status::invalid_argument, "non-empty");

  resampler.reset();
  EXPECT_EQ(resample_chunked(resampler, input, [] { return size_t{320}; }), first) << "reset gives a fresh stream";
}

TEST(audio_resampler, FlushInSmallPiecesGivesTheSameTail) {
  const std::vector<int16_t> input = noise(8000, 8);
  const std::vector<int16_t> expected = resample_whole({8000, 24000}, input);

  Resampler resampler(8000, 24000);
  std::vector<int16_t> output(resampler.max_output(input.size()));
  output.resize(resampler.process(input, output));
  drain(resampler, output, 7);
  EXPECT_EQ(output, expected);
}

TEST(audio_resampler, PendingOutputReflectsHeldSamples) {
  Resampler resampler(8000, 16000);
  EXPECT_EQ(resampler.pending_output(), 0.0);
  const std::vector<int16_t> input = noise(160, 9);
  std::vector<int16_t> output(resampler.max_output(input.size()));
  const size_t written = resampler.process(input, output);
  EXPECT_LT(written, 320u) << "the filter holds some output back";
  EXPECT_GT(resampler.pending_output(), 0.0);
}

TEST(audio_resampler, MovedFromResamplerRefusesWork) {
  Resampler original(8000, 16000);
  Resampler moved = std::move(original);
  const std::vector<int16_t> input(160, 0);
  std::vector<int16_t> output(moved.max_output(160));
  EXPECT_NO_THROW(moved.process(input, output));
  // NOLINTNEXTLINE(bugprone-use-after-move): checking the documented moved-from behaviour
  expect_error([&] { original.process(input, output); }, Status::state, "moved from");
}

}  // namespace
}  // namespace parley::audio
