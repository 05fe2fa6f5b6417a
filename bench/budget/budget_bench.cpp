// Benchmarks of the budget module (never run by ctest). Environment:
//   PARLEY_BENCH_CORPUS         the text file tools/tiktoken/bench.js wrote (same bytes it timed)
//   PARLEY_TOKENIZER_RANKS_DIR  the folder with cl100k_base.json / o200k_base.json
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "budget/controller.hpp"
#include "budget/simulator.hpp"
#include "budget/tokenizer.hpp"

namespace {

using namespace parley::budget;

std::string env(const char *name) {
  const char *value = std::getenv(name);
  return value != nullptr ? value : "";
}

const std::string &corpus() {
  static const std::string text = [] {
    std::ifstream in(env("PARLEY_BENCH_CORPUS"), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  return text;
}

std::shared_ptr<const Tokenizer> tokenizer(Encoding encoding) {
  const std::string dir = env("PARLEY_TOKENIZER_RANKS_DIR");
  if (dir.empty()) return nullptr;
  return Tokenizer::load_file(dir + "/" + encoding_name(encoding) + ".json", encoding);
}

void encode_corpus(benchmark::State &state, Encoding encoding) {
  const auto tok = tokenizer(encoding);
  if (!tok || corpus().empty()) {
    state.SkipWithError("set PARLEY_BENCH_CORPUS and PARLEY_TOKENIZER_RANKS_DIR (scripts/bench-budget does)");
    return;
  }
  std::vector<Rank> ids;
  for (auto _ : state) {
    ids.clear();
    tok->encode(corpus(), ids);
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(corpus().size()));
  state.counters["tokens"] = static_cast<double>(ids.size());
}
void BM_EncodeCorpus_cl100k(benchmark::State &state) { encode_corpus(state, Encoding::cl100k_base); }
void BM_EncodeCorpus_o200k(benchmark::State &state) { encode_corpus(state, Encoding::o200k_base); }
BENCHMARK(BM_EncodeCorpus_cl100k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeCorpus_o200k)->Unit(benchmark::kMillisecond);

// The issue's bar: "a" x 100,000 in under 50 ms (tiktoken's merge loop is quadratic here).
void BM_EncodeA100k(benchmark::State &state) {
  const auto tok = tokenizer(state.range(0) == 0 ? Encoding::cl100k_base : Encoding::o200k_base);
  if (!tok) {
    state.SkipWithError("set PARLEY_TOKENIZER_RANKS_DIR");
    return;
  }
  const std::string text(100000, 'a');
  for (auto _ : state) benchmark::DoNotOptimize(tok->count(text));
}
BENCHMARK(BM_EncodeA100k)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// One decision of an engaged controller over a 200-message history (~20k tokens), with
// messages already parsed and counted once (as in the agent's turn loop); summarisation off.
void decision(benchmark::State &state, bool relevance_only) {
  auto controller = Controller::from_json(relevance_only
      ? R"({"target_ms": 800, "strategies": {"sliding_window": {"enabled": false}}})"
      : R"({"target_ms": 800})");
  for (int i = 0; i < 30; ++i) {
    const double tokens = 1000 + 500.0 * i;
    controller->record_ttft(200 + 0.05 * tokens + (i % 5), static_cast<std::int64_t>(tokens));
  }
  SimulationConfig sim;
  ConversationGenerator generator(sim);
  std::vector<Message> history;
  while (history.size() < 200) {
    generator.add_user_turn(history);
    generator.add_reply(history);
  }
  history.resize(200);
  controller->prepare(history);  // warm the per-message token cache
  for (auto _ : state) benchmark::DoNotOptimize(controller->prepare(history));
  const Decision d = controller->prepare(history);
  state.counters["full_tokens"] = static_cast<double>(d.full_tokens);
  state.counters["sent_tokens"] = static_cast<double>(d.sent_tokens);
}
void BM_ControllerDecision200(benchmark::State &state) { decision(state, false); }
void BM_ControllerDecision200_Relevance(benchmark::State &state) { decision(state, true); }
BENCHMARK(BM_ControllerDecision200)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ControllerDecision200_Relevance)->Unit(benchmark::kMicrosecond);

// The same through the JSON boundary (parse 200 messages, decide, serialise).
void BM_PrepareJson200(benchmark::State &state) {
  auto controller = Controller::from_json(R"({"target_ms": 800})");
  for (int i = 0; i < 30; ++i) {
    const double tokens = 1000 + 500.0 * i;
    controller->record_ttft(200 + 0.05 * tokens, static_cast<std::int64_t>(tokens));
  }
  SimulationConfig sim;
  ConversationGenerator generator(sim);
  std::vector<Message> history;
  while (history.size() < 200) {
    generator.add_user_turn(history);
    generator.add_reply(history);
  }
  history.resize(200);
  nlohmann::json array = nlohmann::json::array();
  for (const auto &m : history) array.push_back(m.original);
  const std::string json = array.dump();
  for (auto _ : state) benchmark::DoNotOptimize(controller->prepare_json(json));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(json.size()));
}
BENCHMARK(BM_PrepareJson200)->Unit(benchmark::kMicrosecond);

}  // namespace
