// Cost of voice activity detection per 20 ms frame. The audio is 10 s of pink noise with
// voiced, speech-like bursts (a 120 Hz harmonic series under a moving formant) every
// second, so the detector runs through speech, pauses and its state changes; its cost does
// not depend on the content. Reports time per frame (one iteration = one frame) and
// x_realtime: seconds of audio per second of CPU, i.e. how many calls one core could serve.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "audio/vad.hpp"
#ifdef PARLEY_HAVE_WEBRTC_APM
#include "webrtc_reference.hpp"
#endif

namespace parley::audio {
namespace {

std::vector<int16_t> test_audio(int rate) {
  const size_t count = static_cast<size_t>(rate) * 10;
  std::mt19937 random(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<int16_t> out(count);
  double b0 = 0, b1 = 0, b2 = 0;
  for (size_t i = 0; i < count; ++i) {
    const double white = normal(random);
    b0 = 0.99765 * b0 + white * 0.0990460;
    b1 = 0.96300 * b1 + white * 0.2965164;
    b2 = 0.57000 * b2 + white * 1.0526913;
    double x = 150.0 * (b0 + b1 + b2 + white * 0.1848);
    const double t = static_cast<double>(i) / rate;
    if (std::fmod(t, 1.0) < 0.6) {  // 600 ms of "voice" each second
      const double formant = 700.0 + 400.0 * std::sin(2.0 * std::numbers::pi * 1.5 * t);
      for (int h = 1; h * 120.0 < rate / 2.0; ++h) {
        const double f = h * 120.0;
        const double weight = std::exp(-std::pow((f - formant) / 300.0, 2.0)) + 0.05;
        x += 2000.0 * weight / h * std::sin(2.0 * std::numbers::pi * f * t);
      }
    }
    out[i] = static_cast<int16_t>(std::lround(std::clamp(x, -32768.0, 32767.0)));
  }
  return out;
}

void vad_per_frame(benchmark::State &state) {
  const int rate = static_cast<int>(state.range(0));
  const std::vector<int16_t> audio = test_audio(rate);
  Vad vad(VadConfig{.sample_rate = rate});
  const size_t n = vad.frame_samples();
  size_t position = 0;
  for (auto _ : state) {
    if (position + n > audio.size()) position = 0;
    benchmark::DoNotOptimize(vad.process(std::span<const int16_t>(audio).subspan(position, n)));
    position += n;
  }
  state.counters["x_realtime"] = benchmark::Counter(static_cast<double>(state.iterations()) * 0.020,
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(vad_per_frame)->Arg(16000)->Arg(8000);

#ifdef PARLEY_HAVE_WEBRTC_APM
// WebRTC's VAD through libwebrtc-audio-processing's public API (two 10 ms calls per frame).
void webrtc_vad_per_frame(benchmark::State &state) {
  const int rate = static_cast<int>(state.range(0));
  const std::vector<int16_t> audio = test_audio(rate);
  vad_testing::WebRtcReference webrtc(rate, 3);
  const size_t n = static_cast<size_t>(rate / 50);
  size_t position = 0;
  for (auto _ : state) {
    if (position + n > audio.size()) position = 0;
    benchmark::DoNotOptimize(webrtc.process(std::span<const int16_t>(audio).subspan(position, n)));
    position += n;
  }
  state.counters["x_realtime"] = benchmark::Counter(static_cast<double>(state.iterations()) * 0.020,
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(webrtc_vad_per_frame)->Arg(16000)->Arg(8000);
#endif

}  // namespace
}  // namespace parley::audio
