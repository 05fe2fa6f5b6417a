// Helpers shared by the audio tests: signal generation and analysis, temporary files, and
// checks on parley::Error.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace parley::audio::testing {

inline std::vector<int16_t> tone(double frequency, int sample_rate, size_t count, double amplitude,
                                 size_t phase_offset = 0) {
  std::vector<int16_t> samples(count);
  for (size_t i = 0; i < count; ++i) {
    const double t = static_cast<double>(i + phase_offset) / sample_rate;
    samples[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * frequency * t)));
  }
  return samples;
}

/// Amplitude of the `frequency` component of `samples` (a single DFT bin, Goertzel-style),
/// scaled so that a pure sine of amplitude A reads A when the span holds whole periods.
inline double amplitude_at(std::span<const int16_t> samples, double frequency, int sample_rate) {
  double re = 0.0;
  double im = 0.0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const double angle = 2.0 * std::numbers::pi * frequency * static_cast<double>(i) / sample_rate;
    re += samples[i] * std::cos(angle);
    im += samples[i] * std::sin(angle);
  }
  return 2.0 * std::hypot(re, im) / static_cast<double>(samples.size());
}

/// Every `stride`-th sample starting at `first`: one channel of interleaved audio.
inline std::vector<int16_t> channel_of(std::span<const int16_t> interleaved, size_t first, size_t stride) {
  std::vector<int16_t> channel;
  for (size_t i = first; i < interleaved.size(); i += stride) channel.push_back(interleaved[i]);
  return channel;
}

/// Calls `action`, which must throw parley::Error with `status` and a message containing
/// `words`.
inline void expect_error(const std::function<void()> &action, Status status, const std::string &words) {
  try {
    action();
    ADD_FAILURE() << "no error thrown; expected " << status_name(status) << " containing \"" << words << "\"";
  } catch (const Error &error) {
    EXPECT_EQ(error.status(), status) << "message: " << error.what();
    EXPECT_NE(std::string(error.what()).find(words), std::string::npos)
        << "message \"" << error.what() << "\" lacks \"" << words << "\"";
  }
}

/// A path in the temp directory, unique to this process, removed when it goes out of scope.
class TempPath {
 public:
  explicit TempPath(const std::string &name)
      : path_(std::filesystem::temp_directory_path() /
              ("parley_audio_" + std::to_string(::getpid()) + "_" + name)) {}
  ~TempPath() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempPath(const TempPath &) = delete;
  TempPath &operator=(const TempPath &) = delete;
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace parley::audio::testing
