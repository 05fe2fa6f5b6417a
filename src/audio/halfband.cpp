#include "audio/halfband.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <immintrin.h>
#include <numbers>
#include <vector>

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

// Round to nearest (even), saturating: what lrint does, in one SSE instruction rather than a
// library call per sample.
inline int16_t to_pcm16(float value) {
  return static_cast<int16_t>(_mm_cvtss_si32(_mm_set_ss(std::clamp(value, -32768.0f, 32767.0f))));
}

// Eight at a time: clamp, round to nearest even (cvtps2dq), pack with saturation.
void to_pcm16(const float *in, int16_t *out, size_t count) {
  const __m128 low = _mm_set1_ps(-32768.0f), high = _mm_set1_ps(32767.0f);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m128 a = _mm_min_ps(_mm_max_ps(_mm_loadu_ps(in + i), low), high);
    const __m128 b = _mm_min_ps(_mm_max_ps(_mm_loadu_ps(in + i + 4), low), high);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), _mm_packs_epi32(_mm_cvtps_epi32(a), _mm_cvtps_epi32(b)));
  }
  for (; i < count; ++i) out[i] = to_pcm16(in[i]);
}

using float8 = float __attribute__((vector_size(32)));

// y[j] = sum over m < 32 of taps[m] * x[j + m], for j < count: eight outputs at a time, so
// the loop vectorises across outputs (a broadcast tap times eight neighbouring samples).
// x must hold count + 31 samples.
__attribute__((target_clones("avx2", "default")))
void fir32(const float *taps, const float *x, float *y, size_t count) {
  size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    float8 sum = {};
    for (size_t m = 0; m < 32; ++m) {
      float8 samples;
      std::memcpy(&samples, x + j + m, sizeof samples);  // unaligned load
      sum += taps[m] * samples;
    }
    std::memcpy(y + j, &sum, sizeof sum);
  }
  for (; j < count; ++j) {
    float sum = 0;
    for (size_t m = 0; m < 32; ++m) sum += taps[m] * x[j + m];
    y[j] = sum;
  }
}

// Odd taps of the half-band filter (the even ones are zero but the centre, 0.5): a windowed
// sinc with its cut-off at a quarter of the higher rate, the same for every filter.
const std::array<float, 32> &odd_taps() {
  static const std::array<float, 32> taps = [] {
    double odd_sum = 0;
    std::array<double, 32> exact{};
    for (size_t m = 0; m < 32; ++m) {
      const double n = static_cast<double>(2 * m + 1);           // tap index 1, 3, ..., 63
      const double offset = (n - static_cast<double>(kCentre)) / 2.0;  // -15.5 ... 15.5
      const double sinc = std::sin(std::numbers::pi * offset) / (std::numbers::pi * offset);
      const double ratio = (n - static_cast<double>(kCentre)) / static_cast<double>(kCentre);
      const double window = bessel_i0(kKaiserBeta * std::sqrt(1 - ratio * ratio)) / bessel_i0(kKaiserBeta);
      exact[m] = 0.5 * sinc * window;
      odd_sum += exact[m];
    }
    // Unity gain at DC: the odd taps of a half-band filter sum to one half.
    std::array<float, 32> rounded{};
    for (size_t m = 0; m < 32; ++m) rounded[m] = static_cast<float>(exact[m] * 0.5 / odd_sum);
    return rounded;
  }();
  return taps;
}

// Buffers for one process() call, shared by every filter on the thread: a thousand calls'
// filters then keep only their 64-sample histories in cache, not four buffers each.
struct Scratch {
  std::vector<float> work;          // history + current chunk
  std::vector<float> interpolated;  // filter outputs of the current chunk
  std::vector<float> strided;       // every other input sample (down-sampling)
  std::vector<float> interleaved;   // even and odd outputs in order (up-sampling)
};

Scratch &scratch() {
  thread_local Scratch buffers;
  return buffers;
}

}  // namespace

Halfband::Halfband(Direction direction) : direction_(direction) {}

void Halfband::reset() noexcept {
  history_.fill(0);
  inputs_seen_ = 0;
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
  auto &work = scratch().work;
  work.resize(kHistory + in.size());
  std::copy(history_.begin(), history_.end(), work.begin());
  std::transform(in.begin(), in.end(), work.begin() + kHistory, [](int16_t s) { return static_cast<float>(s); });
  const size_t written = direction_ == Direction::up ? up(in.size(), out) : down(in.size(), out);
  std::copy(work.end() - static_cast<long>(kHistory), work.end(), history_.begin());
  inputs_seen_ += in.size();
  return written;
}

size_t Halfband::up(size_t in_count, std::span<int16_t> out) {
  // Odd outputs: y[i] = sum of taps over x[t-31 .. t] for input t = chunk index i; even
  // outputs are the input delayed. Interleave both as floats, then convert in one pass.
  auto &buffers = scratch();
  const auto &work = buffers.work;
  auto &interpolated = buffers.interpolated;
  auto &interleaved = buffers.interleaved;
  interpolated.resize(in_count);
  fir32(odd_taps().data(), work.data() + kHistory - 31, interpolated.data(), in_count);
  const size_t skip = inputs_seen_ < kDelayLow ? std::min<size_t>(kDelayLow - inputs_seen_, in_count) : 0;  // delay compensation
  const size_t pairs = in_count - skip;
  interleaved.resize(2 * pairs);
  for (size_t j = 0; j < pairs; ++j) {
    interleaved[2 * j] = work[kHistory + skip + j - kDelayLow];
    interleaved[2 * j + 1] = 2.0f * interpolated[skip + j];
  }
  to_pcm16(interleaved.data(), out.data(), 2 * pairs);
  return 2 * pairs;
}

size_t Halfband::down(size_t in_count, std::span<int16_t> out) {
  // Outputs come from the even input indices t: y = 0.5 x[t-32] + sum over m of taps[m]
  // x[t-63+2m]. Gathering every other sample from x[first-63] makes that a plain FIR.
  auto &buffers = scratch();
  const auto &work = buffers.work;
  auto &interpolated = buffers.interpolated;
  auto &strided = buffers.strided;
  const uint64_t first_even = (inputs_seen_ + 1) / 2 * 2;
  if (first_even >= inputs_seen_ + in_count) return 0;
  const size_t first = kHistory + static_cast<size_t>(first_even - inputs_seen_);  // work index of x[first_even]
  const size_t outputs = (kHistory + in_count - 1 - first) / 2 + 1;
  strided.resize(outputs + 31);
  for (size_t q = 0; q < strided.size(); ++q) strided[q] = work[first - 63 + 2 * q];
  interpolated.resize(outputs);
  fir32(odd_taps().data(), strided.data(), interpolated.data(), outputs);
  for (size_t k = 0; k < outputs; ++k) interpolated[k] += 0.5f * work[first + 2 * k - kCentre];  // the centre tap
  const size_t skip = first_even < 2 * kDelayLow ? std::min<size_t>((2 * kDelayLow - first_even + 1) / 2, outputs) : 0;
  to_pcm16(interpolated.data() + skip, out.data(), outputs - skip);
  return outputs - skip;
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
