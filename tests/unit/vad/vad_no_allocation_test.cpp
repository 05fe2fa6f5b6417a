// Vad::process() must not allocate (DESIGN.md: "In steady state the frame path allocates
// nothing"). Global operator new is replaced for this test binary to count the allocations
// the current thread makes while the check runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "audio/vad.hpp"
#include "vad_test_set.hpp"

namespace {
thread_local bool counting = false;
thread_local size_t allocations = 0;
}  // namespace

void *operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void *memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void *operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void *memory) noexcept { std::free(memory); }
void operator delete[](void *memory) noexcept { std::free(memory); }
void operator delete(void *memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void *memory, std::size_t) noexcept { std::free(memory); }

namespace parley::audio {
namespace {

TEST(vad_no_allocation, CounterSeesAllocations) {
  counting = true;
  allocations = 0;
  { std::vector<int> v(3); (void)v; }
  counting = false;
  EXPECT_EQ(allocations, 1u);
}

// Every frame of noisy speech, events included, at both rates.
TEST(vad_no_allocation, Process) {
  for (int rate : {16000, 8000}) {
    std::vector<int16_t> pcm = vad_testing::mix(vad_testing::test_track(), vad_testing::Noise::pink, 10.0, -20.0);
    if (rate == 8000) pcm = vad_testing::to_8k(pcm);
    Vad vad(VadConfig{.sample_rate = rate});
    const size_t n = vad.frame_samples();
    size_t started = 0;
    allocations = 0;
    counting = true;
    for (size_t i = 0; i + n <= pcm.size(); i += n) started += vad.process(std::span<const int16_t>(pcm).subspan(i, n)).speech_started;
    vad.reset();
    counting = false;
    EXPECT_EQ(allocations, 0u) << rate;
    EXPECT_GT(started, 0u);
  }
}

}  // namespace
}  // namespace parley::audio
