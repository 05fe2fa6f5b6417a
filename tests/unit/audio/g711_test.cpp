// G.711 against a plain reference coder written here in the style of Sun's classic g711.c
// (segment search over a table of segment end points, bias 0x84 for μ-law, XOR 0x55 for
// A-law), with negative samples folded by one's complement as ITU-T G.191 does. Exhaustive:
// every code and every 16-bit sample.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "audio/g711.hpp"
#include "audio_test_support.hpp"

namespace parley::audio {
namespace {

namespace reference {

// Upper ends of the eight segments, in 16-bit units.
constexpr int segment_end[8] = {0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF};

int segment_of(int value) {
  int segment = 0;
  while (segment < 8 && value > segment_end[segment]) ++segment;
  return segment;
}

uint8_t linear_to_ulaw(int16_t sample) {
  constexpr int bias = 0x84;
  int value = sample;
  int mask = 0xFF;
  if (value < 0) {
    value = ~value;
    mask = 0x7F;
  }
  value += bias;
  const int segment = segment_of(value);
  if (segment >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int code = (segment << 4) | ((value >> (segment + 3)) & 0x0F);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t ulaw_to_linear(uint8_t code) {
  constexpr int bias = 0x84;
  const int inverted = static_cast<uint8_t>(~code);
  int level = ((inverted & 0x0F) << 3) + bias;
  level <<= (inverted & 0x70) >> 4;
  return static_cast<int16_t>((inverted & 0x80) ? bias - level : level - bias);
}

uint8_t linear_to_alaw(int16_t sample) {
  int value = sample;
  int mask = 0xD5;
  if (value < 0) {
    value = ~value;
    mask = 0x55;
  }
  const int segment = segment_of(value);
  if (segment >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int shift = segment < 2 ? 4 : segment + 3;
  const int code = (segment << 4) | ((value >> shift) & 0x0F);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t alaw_to_linear(uint8_t code) {
  const int plain = code ^ 0x55;
  int level = (plain & 0x0F) << 4;
  const int segment = (plain & 0x70) >> 4;
  if (segment == 0) {
    level += 8;
  } else {
    level += 0x108;
    level <<= segment - 1;
  }
  return static_cast<int16_t>((plain & 0x80) ? level : -level);
}

}  // namespace reference

std::vector<uint8_t> all_codes() {
  std::vector<uint8_t> codes(256);
  std::iota(codes.begin(), codes.end(), uint8_t{0});
  return codes;
}

std::vector<int16_t> all_samples() {
  std::vector<int16_t> samples;
  samples.reserve(65536);
  for (int value = -32768; value <= 32767; ++value) samples.push_back(static_cast<int16_t>(value));
  return samples;
}

TEST(audio_g711, UlawDecodeMatchesReferenceForEveryCode) {
  for (int code = 0; code < 256; ++code) {
    ASSERT_EQ(ulaw_decode(static_cast<uint8_t>(code)), reference::ulaw_to_linear(static_cast<uint8_t>(code))) << code;
  }
}

TEST(audio_g711, AlawDecodeMatchesReferenceForEveryCode) {
  for (int code = 0; code < 256; ++code) {
    ASSERT_EQ(alaw_decode(static_cast<uint8_t>(code)), reference::alaw_to_linear(static_cast<uint8_t>(code))) << code;
  }
}

TEST(audio_g711, UlawEncodeMatchesReferenceForEverySample) {
  for (int16_t sample : all_samples()) ASSERT_EQ(ulaw_encode(sample), reference::linear_to_ulaw(sample)) << sample;
}

TEST(audio_g711, AlawEncodeMatchesReferenceForEverySample) {
  for (int16_t sample : all_samples()) ASSERT_EQ(alaw_encode(sample), reference::linear_to_alaw(sample)) << sample;
}

// Values printed in ITU-T G.711 tables 2a/2b (scaled to 16 bits) and G.191's coder.
TEST(audio_g711, StandardAnchorValues) {
  EXPECT_EQ(ulaw_encode(int16_t{0}), ulaw_silence);
  EXPECT_EQ(ulaw_decode(ulaw_silence), 0);
  EXPECT_EQ(alaw_encode(int16_t{0}), alaw_silence);
  EXPECT_EQ(alaw_decode(alaw_silence), 8);
  EXPECT_EQ(ulaw_decode(uint8_t{0x80}), 32124);
  EXPECT_EQ(ulaw_decode(uint8_t{0x00}), -32124);
  EXPECT_EQ(alaw_decode(uint8_t{0xAA}), 32256);
  EXPECT_EQ(alaw_decode(uint8_t{0x2A}), -32256);
  EXPECT_EQ(ulaw_encode(int16_t{32767}), 0x80);
  EXPECT_EQ(ulaw_encode(int16_t{-32768}), 0x00);
  EXPECT_EQ(alaw_encode(int16_t{32767}), 0xAA);
  EXPECT_EQ(alaw_encode(int16_t{-32768}), 0x2A);
  // G.191 folds -1 onto the same magnitude as 0 (Sun's 14-bit coder and audioop give 0x7E).
  EXPECT_EQ(ulaw_encode(int16_t{-1}), 0x7F);
  EXPECT_EQ(alaw_encode(int16_t{-1}), 0x55);
}

// The quantiser is symmetric around -0.5: ~x encodes like x with the sign bit flipped.
TEST(audio_g711, EncodersAreSymmetricUnderOnesComplement) {
  for (int value = 0; value <= 32767; ++value) {
    const auto positive = static_cast<int16_t>(value);
    const auto negative = static_cast<int16_t>(~value);
    ASSERT_EQ(ulaw_encode(negative), ulaw_encode(positive) ^ 0x80) << value;
    ASSERT_EQ(alaw_encode(negative), alaw_encode(positive) ^ 0x80) << value;
  }
}

TEST(audio_g711, DecodedLevelsEncodeBackToAnEquivalentCode) {
  for (uint8_t code : all_codes()) {
    EXPECT_EQ(ulaw_decode(ulaw_encode(ulaw_decode(code))), ulaw_decode(code)) << int{code};
    EXPECT_EQ(alaw_encode(alaw_decode(code)), code) << int{code};  // A-law has no negative zero
  }
}

TEST(audio_g711, QuantisationIsMonotonic) {
  int previous_ulaw = -32768;
  int previous_alaw = -32768;
  for (int16_t sample : all_samples()) {
    const int ulaw_level = ulaw_decode(ulaw_encode(sample));
    const int alaw_level = alaw_decode(alaw_encode(sample));
    ASSERT_GE(ulaw_level, previous_ulaw) << sample;
    ASSERT_GE(alaw_level, previous_alaw) << sample;
    previous_ulaw = ulaw_level;
    previous_alaw = alaw_level;
  }
}

TEST(audio_g711, BulkMatchesScalarOverAllInputs) {
  const std::vector<uint8_t> codes = all_codes();
  const std::vector<int16_t> samples = all_samples();
  std::vector<int16_t> decoded(codes.size());
  std::vector<uint8_t> encoded(samples.size());

  ASSERT_EQ(ulaw_decode(codes, decoded), codes.size());
  for (size_t i = 0; i < codes.size(); ++i) ASSERT_EQ(decoded[i], ulaw_decode(codes[i])) << i;
  ASSERT_EQ(alaw_decode(codes, decoded), codes.size());
  for (size_t i = 0; i < codes.size(); ++i) ASSERT_EQ(decoded[i], alaw_decode(codes[i])) << i;
  ASSERT_EQ(ulaw_encode(samples, encoded), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) ASSERT_EQ(encoded[i], ulaw_encode(samples[i])) << samples[i];
  ASSERT_EQ(alaw_encode(samples, encoded), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) ASSERT_EQ(encoded[i], alaw_encode(samples[i])) << samples[i];
}

// Vector loops have a body and a scalar tail; every length and misalignment must be exact
// and nothing past the end may be touched.
TEST(audio_g711, BulkHandlesEveryShortLengthAndOffset) {
  std::mt19937 random(7);
  std::vector<int16_t> samples(100);
  for (int16_t &sample : samples) sample = static_cast<int16_t>(random());
  std::vector<uint8_t> codes(100);
  for (uint8_t &code : codes) code = static_cast<uint8_t>(random());
  constexpr uint8_t untouched_code = 0xA5;
  constexpr int16_t untouched_sample = 12345;

  for (size_t offset = 0; offset < 4; ++offset) {
    for (size_t length = 0; length + offset <= 70; ++length) {
      std::vector<uint8_t> encoded(length + 1, untouched_code);
      ulaw_encode(std::span(samples).subspan(offset, length), std::span(encoded).first(length));
      for (size_t i = 0; i < length; ++i) ASSERT_EQ(encoded[i], ulaw_encode(samples[offset + i]));
      ASSERT_EQ(encoded[length], untouched_code);
      alaw_encode(std::span(samples).subspan(offset, length), std::span(encoded).first(length));
      for (size_t i = 0; i < length; ++i) ASSERT_EQ(encoded[i], alaw_encode(samples[offset + i]));

      std::vector<int16_t> decoded(length + 1, untouched_sample);
      ulaw_decode(std::span(codes).subspan(offset, length), std::span(decoded).first(length));
      for (size_t i = 0; i < length; ++i) ASSERT_EQ(decoded[i], ulaw_decode(codes[offset + i]));
      ASSERT_EQ(decoded[length], untouched_sample);
      alaw_decode(std::span(codes).subspan(offset, length), std::span(decoded).first(length));
      for (size_t i = 0; i < length; ++i) ASSERT_EQ(decoded[i], alaw_decode(codes[offset + i]));
    }
  }
}

TEST(audio_g711, BulkRejectsShortOutputAndWritesNothing) {
  const std::vector<int16_t> samples(160, 1000);
  std::vector<uint8_t> encoded(159, 0);
  testing::expect_error([&] { ulaw_encode(samples, encoded); }, Status::invalid_argument, "output holds 159");
  testing::expect_error([&] { alaw_encode(samples, encoded); }, Status::invalid_argument, "input has 160");
  EXPECT_EQ(std::count(encoded.begin(), encoded.end(), 0), 159);

  const std::vector<uint8_t> codes(160, ulaw_silence);
  std::vector<int16_t> decoded(10, 7);
  testing::expect_error([&] { ulaw_decode(codes, decoded); }, Status::invalid_argument, "ulaw_decode");
  testing::expect_error([&] { alaw_decode(codes, decoded); }, Status::invalid_argument, "alaw_decode");
  EXPECT_EQ(std::count(decoded.begin(), decoded.end(), 7), 10);
}

}  // namespace
}  // namespace parley::audio
