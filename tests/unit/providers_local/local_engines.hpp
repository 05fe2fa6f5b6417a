// What the local-engine tests share: a Runtime-less setup (an io_context run by the test
// thread as the provider's executor, a two-thread pool as its workers), a registry holding
// just the local engines, and helpers that speak with espeak-ng and listen with pocketsphinx.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "providers/registry.hpp"
#include "providers/stt/pocketsphinx.hpp"
#include "providers/tts/espeak.hpp"

namespace parley::providers::testing {

using namespace std::chrono_literals;

inline std::string grammar_path(const std::string &name) { return std::string(PARLEY_GRAMMAR_DIR) + "/" + name; }

class LocalEngines {
 public:
  LocalEngines() {
    register_espeak(registry);
    register_pocketsphinx(registry);
  }
  ~LocalEngines() {
    workers.join();  // every synthesis and decoding batch runs to its end
    io.restart();
    io.poll();
  }

  ProviderContext context() {
    ProviderContext context;
    context.executor = strand;
    context.workers = workers.get_executor();
    context.call_id = "test-call";
    return context;
  }

  /// Runs the executor until `done()` or `timeout`; returns done().
  template <typename Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds timeout = 20s) {
    auto guard = boost::asio::make_work_guard(io);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(2ms);
    }
    return done();
  }

  /// Runs the executor for `duration`, whatever happens.
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }

  std::unique_ptr<Tts> make_tts(nlohmann::json config) {
    config["provider"] = "espeak";
    return registry.make_tts(config, context());
  }
  std::unique_ptr<Stt> make_stt(nlohmann::json config) {
    config["provider"] = "pocketsphinx";
    return registry.make_stt(config, context());
  }

  /// The config error `config` gives, or "" when it builds.
  std::string tts_config_error(nlohmann::json config) { return config_error([&] { make_tts(config); }); }
  std::string stt_config_error(nlohmann::json config) { return config_error([&] { make_stt(config); }); }

  boost::asio::io_context io;
  boost::asio::strand<boost::asio::io_context::executor_type> strand = boost::asio::make_strand(io);
  boost::asio::thread_pool workers{2};
  Registry registry;
  const std::thread::id executor_thread = std::this_thread::get_id();

 private:
  template <typename Build>
  static std::string config_error(Build build) {
    try {
      build();
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), Status::config) << e.what();
      return e.what();
    }
    return "";
  }
};

/// What one TTS utterance delivered.
struct Spoken {
  std::vector<int16_t> samples;
  std::vector<WordTiming> words;
  int audio_calls = 0;
  bool done = false;
  std::optional<ProviderError> error;
  bool off_executor = false;  // a callback ran on another thread than the executor's
};

inline TtsCallbacks record(Spoken &spoken, std::thread::id executor_thread) {
  TtsCallbacks callbacks;
  auto check = [&spoken, executor_thread] {
    if (std::this_thread::get_id() != executor_thread) spoken.off_executor = true;
  };
  callbacks.on_audio = [&spoken, check](const int16_t *samples, size_t count) {
    check();
    ++spoken.audio_calls;
    spoken.samples.insert(spoken.samples.end(), samples, samples + count);
  };
  callbacks.on_words = [&spoken, check](std::vector<WordTiming> words) {
    check();
    spoken.words.insert(spoken.words.end(), words.begin(), words.end());
  };
  callbacks.on_done = [&spoken, check] {
    check();
    spoken.done = true;
  };
  callbacks.on_error = [&spoken, check](ProviderError error) {
    check();
    spoken.error = std::move(error);
  };
  return callbacks;
}

/// Speaks `chunks` as one utterance and waits for its end.
inline Spoken speak(LocalEngines &engines, Tts &tts, const std::vector<std::string> &chunks) {
  Spoken spoken;
  auto stream = tts.start(record(spoken, engines.executor_thread));
  for (const auto &chunk : chunks) stream->push_text(chunk);
  stream->finish();
  EXPECT_TRUE(engines.run_until([&] { return spoken.done || spoken.error.has_value(); }));
  return spoken;
}

/// espeak-ng's voice saying `text` at `rate`.
inline std::vector<int16_t> say(LocalEngines &engines, const std::string &text, int rate = 16000) {
  auto tts = engines.make_tts({{"sample_rate", rate}});
  Spoken spoken = speak(engines, *tts, {text});
  EXPECT_TRUE(spoken.done) << text;
  return std::move(spoken.samples);
}

inline void append(std::vector<int16_t> &to, const std::vector<int16_t> &samples) {
  to.insert(to.end(), samples.begin(), samples.end());
}

/// What one STT stream delivered.
struct Heard {
  std::vector<Transcript> transcripts;  // partials and finals, in order
  int speech_started = 0;
  std::vector<ProviderError> errors;
  bool off_executor = false;

  std::vector<std::string> finals() const {
    std::vector<std::string> texts;
    for (const auto &t : transcripts) {
      if (t.is_final) texts.push_back(t.text);
    }
    return texts;
  }
  size_t final_count() const { return finals().size(); }
};

inline SttCallbacks record(Heard &heard, std::thread::id executor_thread) {
  SttCallbacks callbacks;
  auto check = [&heard, executor_thread] {
    if (std::this_thread::get_id() != executor_thread) heard.off_executor = true;
  };
  callbacks.on_transcript = [&heard, check](const Transcript &transcript) {
    check();
    heard.transcripts.push_back(transcript);
  };
  callbacks.on_speech_started = [&heard, check] {
    check();
    ++heard.speech_started;
  };
  callbacks.on_error = [&heard, check](ProviderError error) {
    check();
    heard.errors.push_back(std::move(error));
  };
  return callbacks;
}

inline std::vector<int16_t> silence(int ms, int rate = 16000) {
  return std::vector<int16_t>(static_cast<size_t>(ms) * static_cast<size_t>(rate) / 1000, 0);
}

/// Pushes `samples` in 20 ms frames, as a transport would.
inline void push_frames(SttStream &stream, const std::vector<int16_t> &samples, int rate = 16000) {
  const size_t frame = static_cast<size_t>(rate) / 50;
  for (size_t at = 0; at < samples.size(); at += frame) {
    stream.push_audio(samples.data() + at, std::min(frame, samples.size() - at));
  }
}

}  // namespace parley::providers::testing
