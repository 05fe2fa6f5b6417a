#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace parley::core {

uint64_t ShardedCounter::load() const noexcept {
  uint64_t sum = 0;
  for (const auto &shard : shards_) sum += shard.value.load(std::memory_order_relaxed);
  return sum;
}

size_t ShardedCounter::shard_of_this_thread() noexcept {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

void LatencyHistogram::record(double ms) noexcept {
  if (!std::isfinite(ms)) return;
  const int bucket = std::clamp(static_cast<int>(std::ceil(std::max(ms, 0.0))), 0, kMaxMs + 1);
  buckets_[static_cast<size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  int seen = max_.load(std::memory_order_relaxed);
  while (bucket > seen && !max_.compare_exchange_weak(seen, bucket, std::memory_order_relaxed)) {
  }
}

nlohmann::json LatencyHistogram::summary() const {
  const uint64_t count = count_.load(std::memory_order_relaxed);
  if (count == 0) return {{"count", 0}};
  auto percentile = [&](double p) {
    const auto rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count)));
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= std::max<uint64_t>(rank, 1)) return static_cast<int>(i);
    }
    return kMaxMs + 1;
  };
  return {{"count", count}, {"p50", percentile(0.50)}, {"p95", percentile(0.95)}, {"p99", percentile(0.99)},
          {"max", max_.load(std::memory_order_relaxed)}};
}

std::string RuntimeMetrics::to_json(size_t active_calls) const {
  auto get = [](const std::atomic<uint64_t> &counter) { return counter.load(std::memory_order_relaxed); };
  const nlohmann::json stats{
      {"calls", {{"active", active_calls}, {"started", get(calls_started)}, {"ended", get(calls_ended)}}},
      {"frames", {{"caller", caller_frames.load()}, {"agent", agent_frames.load()}, {"audio_events_dropped", get(audio_events_dropped)}}},
      {"agent",
       {{"turns", get(turns)}, {"interruptions", get(interruptions)}, {"false_interruptions", get(false_interruptions)},
        {"tool_calls", get(tool_calls)}, {"tool_timeouts", get(tool_timeouts)}, {"provider_errors", get(provider_errors)},
        {"tokens_in", get(tokens_in)}, {"tokens_out", get(tokens_out)}}},
      {"latency_ms",
       {{"voice_to_voice", voice_to_voice.summary()}, {"endpointing", endpointing.summary()},
        {"stt_final", stt_final.summary()}, {"llm_first_token", llm_first_token.summary()},
        {"tts_first_byte", tts_first_byte.summary()}, {"barge_in", barge_in.summary()}}}};
  return stats.dump();
}

}  // namespace parley::core
