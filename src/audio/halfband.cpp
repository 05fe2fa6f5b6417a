#include "audio/halfband.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/error.hpp"

namespace parley::audio {
namespace {

constexpr size_t kHistory = Halfband::kTaps - 1;  // 64
constexpr size_t kCentre = kHistory / 2;          // 32
constexpr double kKaiserBeta = 7.0;               // ~70 dB stopband at 65 taps

double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

int16_t to_pcm16(float value) {
  return static_cast<int16_t>(std::clamp(std::lrint(value), -32768L, 32767L));
}

// Eight independent sums, so the compiler vectorises the loop without reassociation flags.
template <size_t Stride>
float dot32(const float *taps, const float *samples) {
  float sums[8] = {};
  for (size_t i = 0; i < 32; i += 8) {
    for (size_t j = 0; j < 8; ++j) sums[j] += taps[i + j] * samples[(i + j) * Stride];
  }
  return ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
}

}  // namespace

Halfband::Halfband(Direction direction) : direction_(direction) {
  // Windowed sinc with its cut-off at a quarter of the higher rate; the taps at even
  // distances from the centre are exactly zero, the centre is 0.5.
  double odd_sum = 0;
  std::array<double, 32> taps{};
  for (size_t m = 0; m < 32; ++m) {
    const double n = static_cast<double>(2 * m + 1);           // tap index 1, 3, ..., 63
    const double offset = (n - static_cast<double>(kCentre)) / 2.0;  // -15.5 ... 15.5
    const double sinc = std::sin(std::numbers::pi * offset) / (std::numbers::pi * offset);
    const double ratio = (n - static_cast<double>(kCentre)) / static_cast<double>(kCentre);
    const double window = bessel_i0(kKaiserBeta * std::sqrt(1 - ratio * ratio)) / bessel_i0(kKaiserBeta);
    taps[m] = 0.5 * sinc * window;
    odd_sum += taps[m];
  }
  // Unity gain at DC: the odd taps of a half-band filter sum to one half.
  for (size_t m = 0; m < 32; ++m) odd_taps_[m] = static_cast<float>(taps[m] * 0.5 / odd_sum);
}

void Halfband::reset() noexcept {
  history_.fill(0);
  inputs_seen_ = 0;
  outputs_skipped_ = 0;
  flushed_ = 0;
}

size_t Halfband::output_for(size_t input_count) const noexcept {
  const uint64_t first = inputs_seen_, last = inputs_seen_ + input_count;  // inputs [first, last)
  if (direction_ == Direction::up) {
    // Input t yields outputs 2t and 2t+1 once t >= kDelayLow.
    const uint64_t from = std::max<uint64_t>(first, kDelayLow);
    return last > from ? static_cast<size_t>(2 * (last - from)) : 0;
  }
  // An even input index t yields one output once t >= 2 * kDelayLow.
  const uint64_t from = std::max<uint64_t>(first, 2 * kDelayLow);
  if (last <= from) return 0;
  const uint64_t first_even = (from + 1) / 2 * 2;
  return last > first_even ? static_cast<size_t>((last - 1 - first_even) / 2 + 1) : 0;
}

size_t Halfband::pending_output() const noexcept {
  if (direction_ == Direction::up) return static_cast<size_t>(2 * std::min<uint64_t>(inputs_seen_, kDelayLow));
  return static_cast<size_t>(std::min<uint64_t>(inputs_seen_ / 2, kDelayLow));
}

size_t Halfband::process(std::span<const int16_t> in, std::span<int16_t> out) {
  const size_t needed = output_for(in.size());
  if (out.size() < needed) {
    throw Error(Status::invalid_argument, "halfband: output holds " + std::to_string(out.size()) + " samples, " +
                                              std::to_string(needed) + " needed");
  }
  work_.resize(kHistory + in.size());
  std::copy(history_.begin(), history_.end(), work_.begin());
  std::transform(in.begin(), in.end(), work_.begin() + kHistory, [](int16_t s) { return static_cast<float>(s); });
  const size_t written = direction_ == Direction::up ? up(in, out) : down(in, out);
  std::copy(work_.end() - static_cast<long>(kHistory), work_.end(), history_.begin());
  inputs_seen_ += in.size();
  return written;
}

size_t Halfband::up(std::span<const int16_t> in, std::span<int16_t> out) {
  size_t written = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (inputs_seen_ + i < kDelayLow) continue;  // delay compensation
    const float *x = work_.data() + kHistory + i;  // x[0] is input t
    out[written++] = to_pcm16(x[-static_cast<long>(kDelayLow)]);
    out[written++] = to_pcm16(2.0f * dot32<1>(odd_taps_.data(), x - 31));
  }
  return written;
}

size_t Halfband::down(std::span<const int16_t> in, std::span<int16_t> out) {
  size_t written = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const uint64_t t = inputs_seen_ + i;
    if (t % 2 != 0 || t < 2 * kDelayLow) continue;
    const float *x = work_.data() + kHistory + i;  // x[0] is input t
    // y = 0.5 x[t-32] + sum over m of h[2m+1] x[t-1-2m]; the taps are symmetric, so walk
    // x[t-63], x[t-61], ..., x[t-1].
    out[written++] = to_pcm16(0.5f * x[-static_cast<long>(kCentre)] + dot32<2>(odd_taps_.data(), x - 63));
  }
  return written;
}

size_t Halfband::flush(std::span<int16_t> out) {
  // Zeros push the last real samples through the filter's delay.
  const size_t zeros_needed = direction_ == Direction::up ? kDelayLow : 2 * kDelayLow;
  static constexpr std::array<int16_t, 2 * kDelayLow> zeros{};
  size_t written = 0;
  while (flushed_ < zeros_needed) {
    size_t feed = zeros_needed - flushed_;
    while (feed > 0 && output_for(feed) > out.size() - written) --feed;
    if (feed == 0) break;
    written += process(std::span<const int16_t>(zeros.data(), feed), out.subspan(written));
    flushed_ += feed;
  }
  return written;
}

}  // namespace parley::audio
