// The runtime's counters: what parley_runtime_stats_json() reports.
#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace parley::core {
namespace {

// More threads than shards, so some share one: every add is still counted once.
TEST(ShardedCounter, SumsWhatEveryThreadAdded) {
  ShardedCounter counter;
  constexpr int kThreads = 20, kAdds = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter, t] {
      for (int i = 0; i < kAdds; ++i) counter.add(t % 2 == 0 ? 1 : 2);
    });
  }
  for (auto &thread : threads) thread.join();
  EXPECT_EQ(counter.load(), static_cast<uint64_t>(kThreads / 2 * kAdds * 3));
}

TEST(RuntimeMetrics, FramesFromEveryThreadReachTheStats) {
  RuntimeMetrics metrics;
  std::thread other([&] {
    add(metrics.caller_frames, 3);
    add(metrics.agent_frames);
  });
  add(metrics.caller_frames);
  other.join();
  const auto stats = nlohmann::json::parse(metrics.to_json(0));
  EXPECT_EQ(stats["frames"]["caller"], 4);
  EXPECT_EQ(stats["frames"]["agent"], 1);
}

}  // namespace
}  // namespace parley::core
