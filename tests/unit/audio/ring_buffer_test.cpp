#include "audio/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "audio_test_support.hpp"

namespace parley::audio {
namespace {

std::vector<int16_t> sequence(int16_t first, size_t count) {
  std::vector<int16_t> values(count);
  std::iota(values.begin(), values.end(), first);
  return values;
}

std::vector<int16_t> read_all(SampleRing &ring) {
  std::vector<int16_t> out(ring.size());
  ring.read(out);
  return out;
}

TEST(audio_ring_buffer, RejectPolicyTakesWhatFitsAndReportsIt) {
  SampleRing ring(8, OverflowPolicy::reject);
  EXPECT_EQ(ring.write(sequence(1, 5)), 5u);
  EXPECT_EQ(ring.write(sequence(6, 5)), 3u);
  EXPECT_TRUE(ring.full());
  EXPECT_EQ(ring.dropped(), 2u);
  EXPECT_EQ(ring.write(sequence(100, 1)), 0u);
  EXPECT_EQ(ring.dropped(), 3u);
  EXPECT_EQ(read_all(ring), sequence(1, 8));
  EXPECT_TRUE(ring.empty());
}

TEST(audio_ring_buffer, OverwritePolicyKeepsTheNewestAndCountsTheRest) {
  SampleRing ring(4, OverflowPolicy::overwrite_oldest);
  EXPECT_EQ(ring.write(sequence(1, 3)), 3u);
  EXPECT_EQ(ring.write(sequence(4, 3)), 3u);
  EXPECT_EQ(ring.dropped(), 2u);
  EXPECT_EQ(read_all(ring), sequence(3, 4));

  EXPECT_EQ(ring.write(sequence(10, 10)), 10u);  // longer than the ring
  EXPECT_EQ(ring.dropped(), 8u);
  EXPECT_EQ(read_all(ring), sequence(16, 4));
}

TEST(audio_ring_buffer, PeekLeavesSamplesAndDiscardRemovesThem) {
  SampleRing ring(6, OverflowPolicy::reject);
  ring.write(sequence(1, 5));
  std::vector<int16_t> window(3);
  EXPECT_EQ(ring.peek(window), 3u);
  EXPECT_EQ(window, sequence(1, 3));
  EXPECT_EQ(ring.size(), 5u);
  EXPECT_EQ(ring.discard(2), 2u);
  EXPECT_EQ(ring.discard(100), 3u);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.peek(window), 0u);
  ring.write(sequence(7, 2));
  ring.clear();
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.free_space(), 6u);
}

// Random writes, reads, peeks and discards against a std::deque model, so every wrap-around
// position is visited, for both policies.
TEST(audio_ring_buffer, MatchesAModelUnderRandomOperations) {
  for (OverflowPolicy policy : {OverflowPolicy::reject, OverflowPolicy::overwrite_oldest}) {
    SampleRing ring(37, policy);
    std::deque<int16_t> model;
    uint64_t model_dropped = 0;
    std::mt19937 random(11);
    int16_t next = 0;
    for (int step = 0; step < 20000; ++step) {
      const size_t count = random() % 50;
      switch (random() % 4) {
        case 0: {
          const std::vector<int16_t> values = sequence(next, count);
          next = static_cast<int16_t>(next + static_cast<int16_t>(count));
          const size_t accepted = ring.write(values);
          const uint64_t dropped_before = model_dropped;
          for (size_t i = 0; i < count; ++i) {
            if (model.size() == ring.capacity()) {
              ++model_dropped;
              if (policy == OverflowPolicy::reject) continue;
              model.pop_front();
            }
            model.push_back(values[i]);
          }
          const uint64_t dropped_now = model_dropped - dropped_before;
          ASSERT_EQ(accepted, policy == OverflowPolicy::reject ? count - dropped_now : count);
          break;
        }
        case 1:
        case 2: {
          std::vector<int16_t> out(count);
          const bool peeking = random() % 2 == 0;
          const size_t got = peeking ? ring.peek(out) : ring.read(out);
          ASSERT_EQ(got, std::min(count, model.size()));
          for (size_t i = 0; i < got; ++i) ASSERT_EQ(out[i], model[i]);
          if (!peeking) model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(got));
          break;
        }
        default: {
          const size_t removed = ring.discard(count);
          ASSERT_EQ(removed, std::min(count, model.size()));
          model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(removed));
        }
      }
      ASSERT_EQ(ring.size(), model.size());
      ASSERT_EQ(ring.dropped(), model_dropped);
    }
  }
}

TEST(audio_ring_buffer, ZeroCapacityIsRejected) {
  testing::expect_error([] { SampleRing(0, OverflowPolicy::reject); }, Status::invalid_argument,
                        "capacity must be at least 1");
  testing::expect_error([] { SpscSampleRing ring(0); }, Status::invalid_argument, "SpscRing");
}

TEST(audio_spsc_ring, SingleThreadSemantics) {
  SpscSampleRing ring(5);
  EXPECT_EQ(ring.write(sequence(1, 3)), 3u);
  EXPECT_EQ(ring.write(sequence(4, 3)), 2u);
  EXPECT_EQ(ring.free_space(), 0u);
  std::vector<int16_t> out(2);
  EXPECT_EQ(ring.peek(out), 2u);
  EXPECT_EQ(out, sequence(1, 2));
  EXPECT_EQ(ring.read(out), 2u);
  EXPECT_EQ(ring.discard(1), 1u);
  EXPECT_EQ(ring.write(sequence(6, 4)), 3u);  // wraps
  std::vector<int16_t> rest(10);
  EXPECT_EQ(ring.read(rest), 5u);
  EXPECT_EQ(std::vector<int16_t>(rest.begin(), rest.begin() + 5), sequence(4, 5));
  EXPECT_TRUE(ring.empty());
}

// One producer, one consumer, random chunk sizes on both sides and a small ring, so the
// indices wrap constantly and each side often finds the ring full or empty. Every value
// must arrive exactly once and in order.
TEST(audio_spsc_ring, TwoThreadStressKeepsSequenceIntegrity) {
  constexpr uint32_t total = 2'000'000;
  SpscRing<uint32_t> ring(251);

  std::thread producer([&] {
    std::mt19937 random(1);
    std::vector<uint32_t> chunk(97);
    uint32_t next = 0;
    while (next < total) {
      const size_t want = std::min<size_t>(1 + random() % chunk.size(), total - next);
      for (size_t i = 0; i < want; ++i) chunk[i] = next + static_cast<uint32_t>(i);
      next += static_cast<uint32_t>(ring.write(std::span(chunk).first(want)));
      if (ring.free_space() == 0) std::this_thread::yield();
    }
  });

  std::mt19937 random(2);
  std::vector<uint32_t> chunk(113);
  uint32_t expected = 0;
  uint64_t mismatches = 0;
  while (expected < total) {
    const size_t got = ring.read(std::span(chunk).first(1 + random() % chunk.size()));
    for (size_t i = 0; i < got; ++i) mismatches += chunk[i] != expected++;
    if (got == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(expected, total);
  EXPECT_TRUE(ring.empty());
}

}  // namespace
}  // namespace parley::audio
