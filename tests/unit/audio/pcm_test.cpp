#include "audio/pcm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "audio_test_support.hpp"

namespace parley::audio {
namespace {

using testing::expect_error;

TEST(audio_pcm, GainScalesAndRoundsToNearest) {
  std::vector<int16_t> samples{0, 1, 3, -3, 1000, -1001, 7};
  apply_gain(samples, 0.5f);
  EXPECT_EQ(samples, (std::vector<int16_t>{0, 1, 2, -2, 500, -501, 4}));  // halves round away from zero
}

TEST(audio_pcm, GainSaturatesInsteadOfWrapping) {
  std::vector<int16_t> samples{20000, -20000, 16383, -16384, 32767, -32768};
  apply_gain(samples, 2.0f);
  EXPECT_EQ(samples, (std::vector<int16_t>{32767, -32768, 32766, -32768, 32767, -32768}));
  std::vector<int16_t> inverted{-32768, 32767};
  apply_gain(inverted, -1.0f);
  EXPECT_EQ(inverted, (std::vector<int16_t>{32767, -32767}));
}

TEST(audio_pcm, GainInDecibels) {
  std::vector<int16_t> samples{1000, -1000};
  apply_gain_db(samples, 20.0f * std::log10(2.0f));
  EXPECT_EQ(samples, (std::vector<int16_t>{2000, -2000}));
  apply_gain_db(samples, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(samples, (std::vector<int16_t>{0, 0}));
  EXPECT_NEAR(db_to_gain(-6.0206f), 0.5f, 1e-5f);
  EXPECT_NEAR(gain_to_db(db_to_gain(-13.5f)), -13.5f, 1e-4f);
}

TEST(audio_pcm, GainRejectsNonFiniteFactors) {
  std::vector<int16_t> samples{1, 2};
  expect_error([&] { apply_gain(samples, std::numeric_limits<float>::quiet_NaN()); }, Status::invalid_argument,
               "not finite");
  expect_error([&] { apply_gain(samples, std::numeric_limits<float>::infinity()); }, Status::invalid_argument,
               "not finite");
  expect_error([&] { apply_gain_db(samples, std::numeric_limits<float>::infinity()); }, Status::invalid_argument,
               "dB");
  EXPECT_EQ(samples, (std::vector<int16_t>{1, 2}));
}

TEST(audio_pcm, MixSaturatesBothWays) {
  const std::vector<int16_t> a{30000, -30000, 100, 32767, -1};
  const std::vector<int16_t> b{10000, -10000, -300, 1, 1};
  std::vector<int16_t> out(5);
  EXPECT_EQ(mix(a, b, out), 5u);
  EXPECT_EQ(out, (std::vector<int16_t>{32767, -32768, -200, 32767, 0}));

  std::vector<int16_t> accumulator = a;
  mix_into(accumulator, b);
  EXPECT_EQ(accumulator, out);
}

TEST(audio_pcm, MixRejectsMismatchedLengths) {
  const std::vector<int16_t> a(4), b(5);
  std::vector<int16_t> out(5);
  expect_error([&] { mix(a, b, out); }, Status::invalid_argument, "differ in length (4 and 5)");
  expect_error([&] { mix(b, b, std::span(out).first(3)); }, Status::invalid_argument, "output holds 3");
  std::vector<int16_t> accumulator(4);
  expect_error([&] { mix_into(accumulator, b); }, Status::invalid_argument, "mix_into");
}

TEST(audio_pcm, RmsOfKnownSignals) {
  EXPECT_EQ(rms({}), 0.0);
  EXPECT_DOUBLE_EQ(rms(std::vector<int16_t>(100, -1000)), 1000.0);
  const std::vector<int16_t> sine = testing::tone(1000.0, 16000, 16000, 10000.0);
  EXPECT_NEAR(rms(sine), 10000.0 / std::sqrt(2.0), 0.5);
}

TEST(audio_pcm, DbfsReferencesFullScaleSquareWave) {
  std::vector<int16_t> square(1000);
  for (size_t i = 0; i < square.size(); ++i) square[i] = i % 2 ? int16_t{-32768} : int16_t{32767};
  EXPECT_NEAR(dbfs(square), 0.0, 0.001);
  const std::vector<int16_t> full_sine = testing::tone(1000.0, 16000, 16000, 32767.0);
  EXPECT_NEAR(dbfs(full_sine), -3.01, 0.01);
  const std::vector<int16_t> half_sine = testing::tone(1000.0, 16000, 16000, 16384.0);
  EXPECT_NEAR(dbfs(half_sine), -3.01 - 6.02, 0.01);
}

TEST(audio_pcm, DbfsOfSilenceIsMinusInfinity) {
  EXPECT_EQ(dbfs(std::vector<int16_t>(320, 0)), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(dbfs({}), -std::numeric_limits<double>::infinity());
  EXPECT_LT(dbfs(std::vector<int16_t>(320, 0)), -200.0);  // below any threshold a caller picks
}

TEST(audio_pcm, FloatConversionRoundTripsEverySample) {
  std::vector<int16_t> samples;
  for (int value = -32768; value <= 32767; ++value) samples.push_back(static_cast<int16_t>(value));
  std::vector<float> floats(samples.size());
  std::vector<int16_t> back(samples.size());
  to_float(samples, floats);
  to_int16(floats, back);
  EXPECT_EQ(back, samples);
  EXPECT_EQ(floats.front(), -1.0f);
  EXPECT_EQ(floats[32768 + 16384], 0.5f);
}

TEST(audio_pcm, FloatToInt16SaturatesAndMapsNanToZero) {
  const std::vector<float> in{1.0f, -1.0f, 2.5f, -7.0f, std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                              0.25f, 1.0f / 65536.0f};
  std::vector<int16_t> out(in.size());
  EXPECT_EQ(to_int16(in, out), in.size());
  EXPECT_EQ(out, (std::vector<int16_t>{32767, -32768, 32767, -32768, 0, 32767, -32768, 8192, 1}));
}

TEST(audio_pcm, LittleEndianBytes) {
  const std::vector<uint8_t> bytes{0x34, 0x12, 0xFF, 0xFF, 0x00, 0x80};
  std::vector<int16_t> samples(3);
  EXPECT_EQ(le_bytes_to_samples(bytes, samples), 3u);
  EXPECT_EQ(samples, (std::vector<int16_t>{0x1234, -1, -32768}));
  std::vector<uint8_t> back(6);
  EXPECT_EQ(samples_to_le_bytes(samples, back), 6u);
  EXPECT_EQ(back, bytes);
}

TEST(audio_pcm, ByteConversionRejectsOddCountsAndShortOutput) {
  const std::vector<uint8_t> odd{1, 2, 3};
  std::vector<int16_t> samples(4);
  expect_error([&] { le_bytes_to_samples(odd, samples); }, Status::invalid_argument, "odd byte count 3");
  std::vector<uint8_t> small(3);
  expect_error([&] { samples_to_le_bytes(samples, small); }, Status::invalid_argument, "output holds 3");
  EXPECT_EQ(le_bytes_to_samples({}, {}), 0u);
}

}  // namespace
}  // namespace parley::audio
