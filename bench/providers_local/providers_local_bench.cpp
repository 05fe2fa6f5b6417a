// How fast the local engines run, as multiples of real time ("x_realtime": seconds of audio
// per second of wall clock; the real-time factor is its inverse). One worker thread, so the
// figure is one core's.
//
//   build/release/bench/providers_local/parley_providers_local_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "providers/registry.hpp"
#include "providers/stt/pocketsphinx.hpp"
#include "providers/tts/espeak.hpp"

namespace {

using namespace parley::providers;

const std::vector<std::string> kPhrases = {
    "i would like to book an appointment", "tuesday", "ten a m", "yes", "no", "my name is john",
    "monday at ten thirty p m", "can i cancel my appointment", "thank you goodbye",
};

struct Engines {
  boost::asio::io_context io;
  boost::asio::thread_pool workers{1};
  Registry registry;

  Engines() {
    register_espeak(registry);
    register_pocketsphinx(registry);
  }
  ~Engines() { workers.join(); }

  ProviderContext context() {
    ProviderContext context;
    context.executor = io.get_executor();
    context.workers = workers.get_executor();
    return context;
  }

  template <typename Predicate>
  void run_until(Predicate done) {
    auto guard = boost::asio::make_work_guard(io);
    while (!done()) {
      io.restart();
      io.run_for(std::chrono::microseconds(200));
    }
  }

  std::vector<int16_t> speak(Tts &tts, const std::string &text) {
    std::vector<int16_t> audio;
    bool done = false;
    TtsCallbacks callbacks;
    callbacks.on_audio = [&](const int16_t *samples, size_t count) { audio.insert(audio.end(), samples, samples + count); };
    callbacks.on_done = [&] { done = true; };
    callbacks.on_error = [&](ProviderError) { done = true; };
    auto stream = tts.start(std::move(callbacks));
    stream->push_text(text);
    stream->finish();
    run_until([&] { return done; });
    return audio;
  }
};

void BM_EspeakSynthesis(benchmark::State &state) {
  Engines engines;
  auto tts = engines.registry.make_tts({{"provider", "espeak"}, {"sample_rate", 16000}}, engines.context());
  const std::string text = "I would like to book an appointment for Tuesday at ten thirty in the morning, please.";
  double audio_seconds = 0;
  for (auto _ : state) audio_seconds += static_cast<double>(engines.speak(*tts, text).size()) / 16000;
  state.counters["x_realtime"] = benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EspeakSynthesis)->UseRealTime()->Unit(benchmark::kMillisecond);

// The booking call as one stream: each phrase with 300 ms of silence before and 900 after.
std::vector<int16_t> booking_call(Engines &engines) {
  auto tts = engines.registry.make_tts({{"provider", "espeak"}}, engines.context());
  std::vector<int16_t> audio;
  for (const auto &phrase : kPhrases) {
    audio.insert(audio.end(), 300 * 16, 0);
    const auto speech = engines.speak(*tts, phrase);
    audio.insert(audio.end(), speech.begin(), speech.end());
    audio.insert(audio.end(), 900 * 16, 0);
  }
  return audio;
}

void recognise(benchmark::State &state, nlohmann::json config) {
  Engines engines;
  const auto audio = booking_call(engines);
  config["provider"] = "pocketsphinx";
  config["max_backlog_ms"] = 600000;
  auto stt = engines.registry.make_stt(config, engines.context());
  int finals = 0;
  for (auto _ : state) {
    bool done = false;
    SttCallbacks callbacks;
    callbacks.on_transcript = [&](const Transcript &t) {
      if (!t.is_final) return;
      ++finals;
      if (t.speech_final && t.text.empty()) done = true;  // finalize()'s
    };
    callbacks.on_error = [&](ProviderError error) {
      if (error.fatal) state.SkipWithError(error.message.c_str());
      done = done || error.fatal;
    };
    auto stream = stt->start(std::move(callbacks));
    for (size_t at = 0; at < audio.size(); at += 320) stream->push_audio(audio.data() + at, std::min<size_t>(320, audio.size() - at));
    stream->finalize();
    engines.run_until([&] { return done; });
  }
  state.counters["x_realtime"] =
      benchmark::Counter(static_cast<double>(audio.size()) / 16000 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["finals_per_call"] = static_cast<double>(finals) / static_cast<double>(state.iterations());
}

void BM_PocketsphinxGrammar(benchmark::State &state) {
  recognise(state, {{"grammar", std::string(PARLEY_GRAMMAR_DIR) + "/appointment.jsgf"}});
}
BENCHMARK(BM_PocketsphinxGrammar)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PocketsphinxKeywords(benchmark::State &state) {
  recognise(state, {{"keywords", "appointment, operator, cancel"}});
}
BENCHMARK(BM_PocketsphinxKeywords)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PocketsphinxLanguageModel(benchmark::State &state) { recognise(state, nlohmann::json::object()); }
BENCHMARK(BM_PocketsphinxLanguageModel)->UseRealTime()->Unit(benchmark::kMillisecond);

// From start() to the final of an immediate finalize(): the decoder's set-up. Cold, each
// stream names the dictionary by another path (a symlink), so no pooled decoder fits and
// one is loaded; warm, the pooled decoder is reused.
void start_to_first_final(benchmark::State &state, bool cold) {
  Engines engines;
  const std::string dict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  const auto dir = std::filesystem::temp_directory_path() / ("parley-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int n = 0;
  for (auto _ : state) {
    std::string path = dict;
    if (cold) {
      path = (dir / ("dict-" + std::to_string(n++))).string();
      std::filesystem::create_symlink(dict, path);
    }
    auto stt = engines.registry.make_stt(
        {{"provider", "pocketsphinx"}, {"dict", path}, {"grammar", std::string(PARLEY_GRAMMAR_DIR) + "/appointment.jsgf"}},
        engines.context());
    bool done = false;
    SttCallbacks callbacks;
    callbacks.on_transcript = [&](const Transcript &t) { done = done || t.is_final; };
    callbacks.on_error = [&](ProviderError) { done = true; };
    auto stream = stt->start(std::move(callbacks));
    stream->finalize();
    engines.run_until([&] { return done; });
  }
  std::filesystem::remove_all(dir);
}

void BM_PocketsphinxStartCold(benchmark::State &state) { start_to_first_final(state, true); }
BENCHMARK(BM_PocketsphinxStartCold)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(4);

void BM_PocketsphinxStartWarm(benchmark::State &state) { start_to_first_final(state, false); }
BENCHMARK(BM_PocketsphinxStartWarm)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
