// A token that releases no chunk allocates nothing, and neither does an endpointer event
// once its strings have grown to size. This file replaces global operator new for the whole
// test binary to count the current thread's allocations while a check runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "pipeline/chunker.hpp"
#include "pipeline/endpointing.hpp"

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

namespace parley::pipeline {
namespace {

using std::chrono::milliseconds;

template <typename Work>
size_t count_allocations(Work &&work) {
  allocations = 0;
  counting = true;
  work();
  counting = false;
  return allocations;
}

TEST(pipeline_no_allocation, CounterSeesAllocations) {
  EXPECT_EQ(count_allocations([] { std::vector<int> v(3); (void)v; }), 1u);
}

TEST(pipeline_no_allocation, TokensBetweenChunks) {
  // Markdown, a URL, digits and a clause: every path of the stripper and the scanner runs.
  const std::vector<std::string> tokens{"**", "Sure", "**", ",", " your", " booking", " at", " https", "://",
                                        "example", ".com", "/a", "?b", "=c", " is", " `", "4111", " 1111", "`",
                                        " for", " 10", ":", "30", " a", ".m", ".", " Thanks"};
  Chunker chunker;
  size_t chunks = 0;
  int now = 0;
  // Warm up: the buffers grow to size on the first sentences.
  for (int round = 0; round < 3; ++round) {
    for (const std::string &token : tokens) chunks += chunker.push(token, milliseconds{now += 10}).size();
  }
  size_t allocating_pushes = 0;
  size_t released = 0;
  for (int round = 0; round < 20; ++round) {
    for (const std::string &token : tokens) {
      size_t count = 0;
      const size_t made = count_allocations([&] { count = chunker.push(token, milliseconds{now += 10}).size(); });
      released += count;
      if (count == 0 && made != 0) ++allocating_pushes;
    }
  }
  EXPECT_GT(released, 0u) << "the stream must release chunks for this check to mean anything";
  EXPECT_EQ(allocating_pushes, 0u);
  EXPECT_EQ(count_allocations([&] { (void)chunker.poll(milliseconds{now}); }), 0u);
  (void)chunks;
}

TEST(pipeline_no_allocation, EndpointerEvents) {
  Endpointer endpointer;
  const auto turn = [&](int base) {
    endpointer.on_speech_start(milliseconds{base});
    endpointer.on_partial("my number is five five", milliseconds{base + 300});
    endpointer.on_partial("my number is five five five", milliseconds{base + 400});
    endpointer.on_final("My number is 555.", milliseconds{base + 600});
    endpointer.on_speech_end(milliseconds{base + 700});
    (void)endpointer.deadline();
    (void)endpointer.poll(milliseconds{base + 800});
  };
  turn(0);  // the strings grow here
  endpointer.reset();
  EXPECT_EQ(count_allocations([&] { turn(10000); }), 0u);
}

}  // namespace
}  // namespace parley::pipeline
