// Runtime-wide counters and latency distributions, for parley_runtime_stats_json(): active
// calls, frames in and out, what agents did (turns, interruptions, tools, tokens) and how
// long each step of a turn took. Counters are relaxed atomics (the frame path only adds);
// latencies go into fixed 1 ms histograms, so percentiles cost no allocation and no sort.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace parley::core {

/// 0..kMaxMs in 1 ms buckets, and one bucket above. Thread-safe (relaxed atomics).
class LatencyHistogram {
 public:
  static constexpr int kMaxMs = 10'000;
  void record(double ms) noexcept;
  /// {"count", "p50", "p95", "p99", "max"} in ms (bucket upper bounds), or {"count": 0}.
  nlohmann::json summary() const;

 private:
  std::array<std::atomic<uint32_t>, kMaxMs + 2> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<int> max_{0};
};

/// A counter every IO thread adds to on the frame path. Each thread adds to a shard of its
/// own (its own cache line), so two loops never pass one line between their cores twice per
/// frame as a single atomic would; reading sums the shards. Thread-safe.
class ShardedCounter {
 public:
  void add(uint64_t n = 1) noexcept { shards_[shard_of_this_thread()].value.fetch_add(n, std::memory_order_relaxed); }
  uint64_t load() const noexcept;

 private:
  static constexpr size_t kShards = 16;  // threads beyond 16 share shards, still correctly
  static size_t shard_of_this_thread() noexcept;
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kShards> shards_{};
};

struct RuntimeMetrics {
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_ended{0};
  ShardedCounter caller_frames;
  ShardedCounter agent_frames;
  std::atomic<uint64_t> audio_events_dropped{0};
  std::atomic<uint64_t> turns{0};
  std::atomic<uint64_t> interruptions{0};
  std::atomic<uint64_t> false_interruptions{0};
  std::atomic<uint64_t> tool_calls{0};
  std::atomic<uint64_t> tool_timeouts{0};
  std::atomic<uint64_t> provider_errors{0};
  std::atomic<uint64_t> tokens_in{0};
  std::atomic<uint64_t> tokens_out{0};
  LatencyHistogram voice_to_voice;
  LatencyHistogram endpointing;
  LatencyHistogram stt_final;
  LatencyHistogram llm_first_token;
  LatencyHistogram tts_first_byte;
  LatencyHistogram barge_in;  ///< caller speech start -> clear

  /// The stats document (docs/agent.md, "Runtime counters"); `active_calls` from the manager.
  std::string to_json(size_t active_calls) const;
};

inline void add(std::atomic<uint64_t> &counter, uint64_t n = 1) noexcept { counter.fetch_add(n, std::memory_order_relaxed); }
inline void add(ShardedCounter &counter, uint64_t n = 1) noexcept { counter.add(n); }

}  // namespace parley::core
