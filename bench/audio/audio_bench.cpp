// Audio core throughput. G.711 figures are samples per second (items_per_second), on one
// large buffer and on 20 ms telephone frames (160 samples); bench/audio/audioop_bench.py
// times CPython's audioop on the same buffer size for comparison. Resampling runs 20 ms
// chunks and reports x_realtime (seconds of audio per second of CPU) plus the average and
// worst delay between a chunk arriving and its samples coming out (latency_ms,
// max_latency_ms). scripts/bench runs both and prints the comparison.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"

namespace parley::audio {
namespace {

constexpr int64_t large_buffer = int64_t{1} << 20;
constexpr int64_t telephone_frame = 160;

std::vector<uint8_t> random_codes(size_t count) {
  std::mt19937 random(42);
  std::vector<uint8_t> codes(count);
  for (uint8_t &code : codes) code = static_cast<uint8_t>(random());
  return codes;
}

// Uniform over the whole int16 range, as audioop_bench.py uses random bytes.
std::vector<int16_t> random_samples(size_t count) {
  std::mt19937 random(43);
  std::vector<int16_t> samples(count);
  for (int16_t &sample : samples) sample = static_cast<int16_t>(random());
  return samples;
}

template <size_t (*Decode)(std::span<const uint8_t>, std::span<int16_t>)>
void decode_benchmark(benchmark::State &state) {
  const auto count = static_cast<size_t>(state.range(0));
  const std::vector<uint8_t> codes = random_codes(count);
  std::vector<int16_t> samples(count);
  for (auto _ : state) {
    Decode(codes, samples);
    benchmark::DoNotOptimize(samples.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <size_t (*Encode)(std::span<const int16_t>, std::span<uint8_t>)>
void encode_benchmark(benchmark::State &state) {
  const auto count = static_cast<size_t>(state.range(0));
  const std::vector<int16_t> samples = random_samples(count);
  std::vector<uint8_t> codes(count);
  for (auto _ : state) {
    Encode(samples, codes);
    benchmark::DoNotOptimize(codes.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_UlawDecode(benchmark::State &state) { decode_benchmark<&ulaw_decode>(state); }
void BM_UlawEncode(benchmark::State &state) { encode_benchmark<&ulaw_encode>(state); }
void BM_AlawDecode(benchmark::State &state) { decode_benchmark<&alaw_decode>(state); }
void BM_AlawEncode(benchmark::State &state) { encode_benchmark<&alaw_encode>(state); }

BENCHMARK(BM_UlawDecode)->Arg(large_buffer)->Arg(telephone_frame);
BENCHMARK(BM_UlawEncode)->Arg(large_buffer)->Arg(telephone_frame);
BENCHMARK(BM_AlawDecode)->Arg(large_buffer)->Arg(telephone_frame);
BENCHMARK(BM_AlawEncode)->Arg(large_buffer)->Arg(telephone_frame);

// Speech-like input: a few tones and a little noise, one second long, fed round-robin.
std::vector<int16_t> speech_like(int rate) {
  std::mt19937 random(44);
  std::normal_distribution<double> noise(0.0, 300.0);
  std::vector<int16_t> samples(static_cast<size_t>(rate));
  for (size_t i = 0; i < samples.size(); ++i) {
    const double t = static_cast<double>(i) / rate;
    const double w = 2.0 * std::numbers::pi * t;
    const double value =
        4000.0 * std::sin(180.0 * w) + 2500.0 * std::sin(720.0 * w) + 1200.0 * std::sin(2300.0 * w) + noise(random);
    samples[i] = static_cast<int16_t>(value);
  }
  return samples;
}

struct Latency {
  double average_ms = 0;
  double max_ms = 0;
};

// Time from the end of the chunk that completes an output sample to that sample's place in
// the stream, averaged over every output sample after a warm-up second. The 20 ms of
// chunking itself contribute 10 ms on average.
Latency measure_latency(int from, int to, ResamplerOptions options) {
  Resampler resampler(from, to, options);
  const std::vector<int16_t> input = speech_like(from);
  const size_t chunk = static_cast<size_t>(from / 50);
  std::vector<int16_t> out(resampler.max_output(chunk));
  Latency latency;
  uint64_t produced = 0;
  uint64_t measured = 0;
  for (int index = 0; index < 500; ++index) {
    const size_t offset = (static_cast<size_t>(index) * chunk) % input.size();
    const size_t written = resampler.process(std::span(input).subspan(offset, chunk), out);
    const double arrival_s = (index + 1) * 0.020;
    for (size_t i = 0; i < written; ++i, ++produced) {
      if (index < 50) continue;
      const double ms = 1000.0 * (arrival_s - static_cast<double>(produced) / to);
      latency.average_ms += ms;
      latency.max_ms = std::max(latency.max_ms, ms);
      ++measured;
    }
  }
  latency.average_ms /= static_cast<double>(measured);
  return latency;
}

// Args: input rate, output rate, quality (ResamplerQuality as int), phase (0 minimum, 1 linear).
void BM_Resample20ms(benchmark::State &state) {
  const auto from = static_cast<int>(state.range(0));
  const auto to = static_cast<int>(state.range(1));
  const ResamplerOptions options{static_cast<ResamplerQuality>(state.range(2)),
                                 state.range(3) == 0 ? ResamplerPhase::minimum : ResamplerPhase::linear};
  Resampler resampler(from, to, options);
  const std::vector<int16_t> input = speech_like(from);
  const size_t chunk = static_cast<size_t>(from / 50);
  std::vector<int16_t> out(resampler.max_output(chunk));
  size_t offset = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(resampler.process(std::span(input).subspan(offset, chunk), out));
    offset = (offset + chunk) % input.size();
  }
  const Latency latency = measure_latency(from, to, options);
  state.counters["x_realtime"] = benchmark::Counter(static_cast<double>(state.iterations()) * 0.020,
                                                    benchmark::Counter::kIsRate);
  state.counters["latency_ms"] = latency.average_ms;
  state.counters["max_latency_ms"] = latency.max_ms;
}

constexpr int64_t medium = static_cast<int64_t>(ResamplerQuality::medium);
constexpr int64_t high = static_cast<int64_t>(ResamplerQuality::high);

BENCHMARK(BM_Resample20ms)
    ->ArgNames({"from", "to", "quality", "linear"})
    ->Args({8000, 16000, medium, 0})
    ->Args({16000, 8000, medium, 0})
    ->Args({24000, 8000, medium, 0})
    ->Args({44100, 16000, medium, 0})
    ->Args({8000, 16000, medium, 1})
    ->Args({8000, 16000, high, 0})
    ->Args({8000, 16000, high, 1});

}  // namespace
}  // namespace parley::audio
