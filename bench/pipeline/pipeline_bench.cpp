// Benchmarks of the pipeline's text path (never run by ctest): what the speakable chunker
// costs per LLM token and what the endpointer costs per VAD/STT event.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "pipeline/chunker.hpp"
#include "pipeline/endpointing.hpp"

namespace {

using namespace parley::pipeline;
using std::chrono::milliseconds;

// A typical agent reply, markdown included, cut into tokens the way a BPE tokenizer cuts
// English: about four characters each, a word with the space before it.
const std::vector<std::string> &reply_tokens() {
  static const std::vector<std::string> tokens = [] {
    const std::string reply =
        "**Sure!** I can help you with that. Dr. Smith has two openings next week:\n\n"
        "1. **Tuesday** at 10:30 a.m., which is the earliest one, e.g. right after the clinic opens;\n"
        "2. **Thursday** at 3:15 p.m. \u2014 a little later, but the waiting room is quieter then.\n\n"
        "The visit costs $45.00 with your insurance, and you can reschedule at https://example.com/book?id=42 "
        "or by calling 555-123-4567. Which one works better for you? I'll send a confirmation to "
        "jane.doe@example.co.uk as soon as it's booked.";
    std::vector<std::string> out;
    size_t i = 0;
    while (i < reply.size()) {
      size_t j = i + 1;
      while (j < reply.size() && j - i < 4 && reply[j] != ' ' && reply[j] != '\n') ++j;
      out.push_back(reply.substr(i, j - i));
      i = j;
    }
    return out;
  }();
  return tokens;
}

size_t reply_bytes() {
  size_t bytes = 0;
  for (const std::string &token : reply_tokens()) bytes += token.size();
  return bytes;
}

// The whole reply through a chunker, 20 ms between tokens (50 tokens/s), polled as a
// turn loop would at its deadline.
void BM_ChunkerReply(benchmark::State &state) {
  Chunker chunker;
  size_t chunks = 0;
  for (auto _ : state) {
    int now = 0;
    for (const std::string &token : reply_tokens()) {
      now += 20;
      chunks += chunker.push(token, milliseconds{now}).size();
      if (const auto deadline = chunker.deadline(); deadline && *deadline <= milliseconds{now}) {
        chunks += chunker.poll(milliseconds{now}).size();
      }
    }
    chunks += chunker.flush().size();
  }
  const auto tokens = static_cast<int64_t>(reply_tokens().size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * tokens);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reply_bytes()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["chunks"] = static_cast<double>(chunks) / static_cast<double>(state.iterations());
  state.counters["ns_per_token"] = benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(tokens),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ChunkerReply);

void BM_MarkdownStripper(benchmark::State &state) {
  MarkdownStripper stripper;
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    for (const std::string &token : reply_tokens()) stripper.feed(token, out);
    stripper.finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reply_bytes()));
}
BENCHMARK(BM_MarkdownStripper);

// One turn: speech start, ten growing partials, two finals (the first mid-number), speech
// end, and a poll per 20 ms frame of the silence until the turn ends.
void BM_EndpointerTurn(benchmark::State &state) {
  const std::vector<std::string> partials{"my",           "my number",          "my number is",
                                          "my number is five", "my number is five five",
                                          "my number is five five five", "one", "one two", "one two three",
                                          "one two three four"};
  Endpointer endpointer;
  int base = 0;
  int64_t events = 0;
  for (auto _ : state) {
    endpointer.on_speech_start(milliseconds{base});
    for (size_t i = 0; i < partials.size(); ++i) {
      endpointer.on_partial(partials[i], milliseconds{base + 100 * static_cast<int>(i)});
      if (i == 5) endpointer.on_final("My number is 555.", milliseconds{base + 550});
    }
    endpointer.on_final("1234.", milliseconds{base + 1000});
    endpointer.on_speech_end(milliseconds{base + 1100});
    events += 14;
    for (int t = base + 1100;; t += 20) {
      ++events;
      if (auto end = endpointer.poll(milliseconds{t})) {
        benchmark::DoNotOptimize(end->text.data());
        break;
      }
    }
    endpointer.reset();
    base += 10'000;
  }
  state.SetItemsProcessed(events);
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EndpointerTurn);

void BM_EndsMidNumber(benchmark::State &state) {
  const std::vector<std::string> texts{"I'd like to book a table for four people on Friday evening please.",
                                       "my number is five five five one two", "4111 1111 1111 1111",
                                       "call me at 555-"};
  size_t hits = 0;
  for (auto _ : state) {
    for (const std::string &text : texts) hits += ends_mid_number(text) ? 1 : 0;
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * texts.size()));
}
BENCHMARK(BM_EndsMidNumber);

}  // namespace
