#include "audio/pcm.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace parley::audio {
namespace {

constexpr float int16_scale = 32768.0f;

// Rounds to nearest (ties away from zero) and clamps to the int16 range. The comparisons
// are written so that NaN fails both and ends up as 0; no libm call, so loops vectorise.
inline int16_t saturate_round(float value) noexcept {
  if (!(value > -32768.5f)) value = value < 0.0f ? -32768.0f : 0.0f;  // also catches NaN
  if (value > 32767.0f) value = 32767.0f;
  return static_cast<int16_t>(static_cast<int32_t>(value + (value >= 0.0f ? 0.5f : -0.5f)));
}

inline int16_t saturate(int32_t value) noexcept {
  if (value > std::numeric_limits<int16_t>::max()) return std::numeric_limits<int16_t>::max();
  if (value < std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::min();
  return static_cast<int16_t>(value);
}

void require_room(const char *function, size_t needed, size_t available) {
  if (available < needed) {
    throw Error(Status::invalid_argument, std::string(function) + ": output holds " + std::to_string(available) +
                                              " elements, " + std::to_string(needed) + " needed");
  }
}

void require_same_length(const char *function, size_t a, size_t b) {
  if (a != b) {
    throw Error(Status::invalid_argument,
                std::string(function) + ": inputs differ in length (" + std::to_string(a) + " and " + std::to_string(b) + ")");
  }
}

}  // namespace

void apply_gain(std::span<int16_t> samples, float factor) {
  if (!std::isfinite(factor)) {
    throw Error(Status::invalid_argument, "apply_gain: factor " + std::to_string(factor) + " is not finite");
  }
  for (int16_t &sample : samples) sample = saturate_round(static_cast<float>(sample) * factor);
}

void apply_gain_db(std::span<int16_t> samples, float decibels) {
  if (std::isnan(decibels) || decibels == std::numeric_limits<float>::infinity()) {
    throw Error(Status::invalid_argument, "apply_gain_db: gain " + std::to_string(decibels) + " dB is not usable");
  }
  apply_gain(samples, db_to_gain(decibels));
}

float db_to_gain(float decibels) noexcept { return std::pow(10.0f, decibels / 20.0f); }

float gain_to_db(float factor) noexcept { return 20.0f * std::log10(factor); }

size_t mix(std::span<const int16_t> a, std::span<const int16_t> b, std::span<int16_t> out) {
  require_same_length("mix", a.size(), b.size());
  require_room("mix", a.size(), out.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = saturate(int32_t{a[i]} + int32_t{b[i]});
  return a.size();
}

void mix_into(std::span<int16_t> accumulator, std::span<const int16_t> addend) {
  require_same_length("mix_into", accumulator.size(), addend.size());
  for (size_t i = 0; i < addend.size(); ++i) accumulator[i] = saturate(int32_t{accumulator[i]} + int32_t{addend[i]});
}

double rms(std::span<const int16_t> samples) noexcept {
  if (samples.empty()) return 0.0;
  // Exact: 32768^2 * 2^33 samples still fits in 64 bits.
  uint64_t sum_of_squares = 0;
  for (int16_t sample : samples) sum_of_squares += static_cast<uint64_t>(int32_t{sample} * int32_t{sample});
  return std::sqrt(static_cast<double>(sum_of_squares) / static_cast<double>(samples.size()));
}

double dbfs(std::span<const int16_t> samples) noexcept {
  const double level = rms(samples);
  if (level == 0.0) return -std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(level / static_cast<double>(int16_scale));
}

size_t to_float(std::span<const int16_t> in, std::span<float> out) {
  require_room("to_float", in.size(), out.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = static_cast<float>(in[i]) / int16_scale;
  return in.size();
}

size_t to_int16(std::span<const float> in, std::span<int16_t> out) {
  require_room("to_int16", in.size(), out.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = saturate_round(in[i] * int16_scale);
  return in.size();
}

size_t le_bytes_to_samples(std::span<const uint8_t> bytes, std::span<int16_t> out) {
  if (bytes.size() % 2 != 0) {
    throw Error(Status::invalid_argument,
                "le_bytes_to_samples: odd byte count " + std::to_string(bytes.size()) + " (PCM16 needs pairs)");
  }
  const size_t count = bytes.size() / 2;
  require_room("le_bytes_to_samples", count, out.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (count != 0) std::memcpy(out.data(), bytes.data(), bytes.size());
  } else {
    for (size_t i = 0; i < count; ++i) {
      out[i] = static_cast<int16_t>(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
    }
  }
  return count;
}

size_t samples_to_le_bytes(std::span<const int16_t> in, std::span<uint8_t> out) {
  require_room("samples_to_le_bytes", 2 * in.size(), out.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (!in.empty()) std::memcpy(out.data(), in.data(), 2 * in.size());
  } else {
    for (size_t i = 0; i < in.size(); ++i) {
      const auto bits = static_cast<uint16_t>(in[i]);
      out[2 * i] = static_cast<uint8_t>(bits & 0xFF);
      out[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
    }
  }
  return 2 * in.size();
}

}  // namespace parley::audio
