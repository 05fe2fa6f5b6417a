// The 2:1 half-band path that every phone call uses (8 <-> 16 kHz).
#include "audio/halfband.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "audio/resampler.hpp"

namespace parley::audio {
namespace {

std::vector<int16_t> sine(double hz, int rate, size_t count, double amplitude = 10000) {
  std::vector<int16_t> s(count);
  for (size_t i = 0; i < count; ++i) s[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate)));
  return s;
}

double rms_of(std::span<const int16_t> s) {
  double sum = 0;
  for (int16_t x : s) sum += double(x) * x;
  return std::sqrt(sum / static_cast<double>(s.size()));
}

TEST(audio_halfband, EveryTwentyMillisecondFrameConvertsToExactlyOneFrame) {
  Resampler up(8000, 16000), down(16000, 8000);
  std::vector<int16_t> wide(up.max_output(160)), narrow(down.max_output(320));
  const auto input = sine(440, 8000, 160 * 50);
  size_t up_total = 0, down_total = 0;
  for (size_t frame = 0; frame < 50; ++frame) {
    const size_t n = up.process(std::span<const int16_t>(input.data() + frame * 160, 160), wide);
    // Only the first frame is short, by the 2 ms delay.
    EXPECT_EQ(n, frame == 0 ? 320u - 2 * Halfband::kDelayLow : 320u);
    const size_t m = down.process(std::span<const int16_t>(wide.data(), n), narrow);
    up_total += n;
    down_total += m;
  }
  EXPECT_EQ(up_total, 50u * 320 - 32);
  std::vector<int16_t> tail(64);
  up_total += up.flush(tail);
  EXPECT_EQ(up_total, 50u * 320);
  EXPECT_GE(down_total, 50u * 160 - 2 * Halfband::kDelayLow);
}

TEST(audio_halfband, DelayIsCompensatedSoOutputAlignsWithInput) {
  // An impulse at input sample 100 comes out at output sample 200 (up) / 50 (down).
  std::vector<int16_t> impulse(400, 0);
  impulse[100] = 20000;
  Halfband up(Halfband::Direction::up);
  std::vector<int16_t> out(up.output_for(impulse.size()));
  out.resize(up.process(impulse, out));
  std::vector<int16_t> tail(64);
  const size_t t = up.flush(tail);
  out.insert(out.end(), tail.begin(), tail.begin() + static_cast<long>(t));
  ASSERT_EQ(out.size(), 800u);
  EXPECT_EQ(std::max_element(out.begin(), out.end()) - out.begin(), 200);

  Halfband down(Halfband::Direction::down);
  std::vector<int16_t> half(down.output_for(impulse.size()));
  half.resize(down.process(impulse, half));
  const size_t u = down.flush(tail);
  half.insert(half.end(), tail.begin(), tail.begin() + static_cast<long>(u));
  ASSERT_EQ(half.size(), 200u);
  EXPECT_EQ(std::max_element(half.begin(), half.end()) - half.begin(), 50);
}

TEST(audio_halfband, PassbandIsFlatAndAliasesAreRejected) {
  Resampler down(16000, 8000);
  std::vector<int16_t> out(down.max_output(16000));
  // 3 kHz passes untouched (within 0.1 dB)...
  auto pass = sine(3000, 16000, 16000);
  size_t n = down.process(pass, out);
  const double in_rms = rms_of(std::span<const int16_t>(pass).subspan(4000, 8000));
  const double out_rms = rms_of(std::span<const int16_t>(out).subspan(2000, std::min<size_t>(4000, n - 2000)));
  EXPECT_NEAR(20 * std::log10(out_rms / in_rms), 0.0, 0.1);
  // ...while 5 kHz, which would fold to 3 kHz at 8 kHz, is suppressed by >= 60 dB.
  Resampler down2(16000, 8000);
  auto alias = sine(5000, 16000, 16000);
  n = down2.process(alias, out);
  const double alias_rms = rms_of(std::span<const int16_t>(out).subspan(2000, std::min<size_t>(4000, n - 2000)));
  EXPECT_LT(20 * std::log10(std::max(alias_rms, 0.5) / in_rms), -60.0);
}

TEST(audio_halfband, HighQualityRequestsStillUseLibsoxr) {
  Resampler precise(8000, 16000, {ResamplerQuality::high, ResamplerPhase::linear});
  std::vector<int16_t> out(precise.max_output(160));
  const auto frame = sine(440, 8000, 160);
  // libsoxr's block filter holds the first frame back entirely; the half-band does not.
  EXPECT_LT(precise.process(frame, out), 320u - 2 * Halfband::kDelayLow);
}

}  // namespace
}  // namespace parley::audio
