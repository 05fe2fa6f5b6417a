// The per-frame paths must not allocate (DESIGN.md: "In steady state the frame path
// allocates nothing"). This file replaces global operator new for the whole test binary to
// count allocations made by the current thread while a check is running.
// (libsoxr and stdio allocate with malloc, which this cannot see; our own code uses new.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "audio/call_recorder.hpp"
#include "audio/g711.hpp"
#include "audio/pcm.hpp"
#include "audio/resampler.hpp"
#include "audio/ring_buffer.hpp"
#include "audio_test_support.hpp"

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

// Runs `frame_work` a few times to warm up, then counts allocations over 100 more runs.
template <typename Work>
size_t allocations_in_steady_state(Work &&frame_work) {
  for (int i = 0; i < 10; ++i) frame_work();
  allocations = 0;
  counting = true;
  for (int i = 0; i < 100; ++i) frame_work();
  counting = false;
  return allocations;
}

TEST(audio_no_allocation, CounterSeesAllocations) {
  EXPECT_EQ(allocations_in_steady_state([] { std::vector<int> v(3); (void)v; }), 100u);
}

TEST(audio_no_allocation, G711AndPcmFramePaths) {
  std::vector<int16_t> pcm = testing::tone(440.0, 8000, 160, 5000.0);
  std::vector<int16_t> other(160, 100);
  std::vector<uint8_t> codes(160);
  std::vector<float> floats(160);
  std::vector<uint8_t> bytes(320);
  EXPECT_EQ(allocations_in_steady_state([&] {
              ulaw_encode(pcm, codes);
              ulaw_decode(codes, pcm);
              alaw_encode(pcm, codes);
              alaw_decode(codes, pcm);
              apply_gain(pcm, 0.9f);
              mix_into(pcm, other);
              (void)dbfs(pcm);
              to_float(pcm, floats);
              to_int16(floats, pcm);
              samples_to_le_bytes(pcm, bytes);
              le_bytes_to_samples(bytes, pcm);
            }),
            0u);
}

TEST(audio_no_allocation, RingBuffers) {
  SampleRing ring(1000, OverflowPolicy::overwrite_oldest);
  SpscSampleRing spsc(1000);
  std::vector<int16_t> frame(320, 1);
  std::vector<int16_t> out(300);
  EXPECT_EQ(allocations_in_steady_state([&] {
              ring.write(frame);
              ring.peek(out);
              ring.read(out);
              ring.discard(10);
              spsc.write(frame);
              spsc.read(out);
              spsc.discard(20);
            }),
            0u);
}

TEST(audio_no_allocation, ResamplerProcess) {
  Resampler resampler(8000, 16000);
  const std::vector<int16_t> frame = testing::tone(300.0, 8000, 160, 3000.0);
  std::vector<int16_t> out(resampler.max_output(frame.size()));
  EXPECT_EQ(allocations_in_steady_state([&] { resampler.process(frame, out); }), 0u);
}

TEST(audio_no_allocation, CallRecorderAppend) {
  testing::TempPath path("no_allocation.wav");
  CallRecorder recorder(path.str(), CallRecorderOptions{16000, std::chrono::milliseconds(100)});
  const std::vector<int16_t> frame(320, 1);
  EXPECT_EQ(allocations_in_steady_state([&] {
              recorder.append(CallChannel::caller, frame);
              recorder.write_now(CallChannel::agent, frame);
            }),
            0u);
}

}  // namespace
}  // namespace parley::audio
