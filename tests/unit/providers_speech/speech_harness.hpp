// What the speech-adapter tests share: a Runtime-less setup (an io_context run by the test
// thread, a strand on it as the provider's executor, the runtime's HTTP client on the same
// loop, a logger whose every line is kept), a registry with the three vendors, and
// recorders for what a TTS or STT stream delivers.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "net/http_client.hpp"
#include "providers/azure.hpp"
#include "providers/deepgram.hpp"
#include "providers/elevenlabs.hpp"
#include "providers/registry.hpp"

namespace parley::providers::testing {

using namespace std::chrono_literals;

// Not a shape the logger's pattern redaction knows, so only real scrubbing hides it.
inline constexpr const char *kKey = "PLTKEY7f3c9a1e5d2b8046";
inline constexpr const char *kWrongKey = "PLTWRONG0d9e8f7a6b5c4d3";

class Harness {
 public:
  Harness() {
    register_elevenlabs(registry);
    register_deepgram(registry);
    register_azure(registry);
    logger.set_callback(core::LogLevel::trace, [this](int, const std::string &line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    });
  }
  ~Harness() {
    io.restart();
    io.poll();
    logger.set_callback(core::LogLevel::off, nullptr);
  }

  ProviderContext context() {
    ProviderContext context;
    context.executor = strand;
    context.workers = workers.get_executor();
    context.http = &http;
    context.logger = &logger;
    context.call_id = "test-call";
    return context;
  }

  std::unique_ptr<Tts> make_tts(const nlohmann::json &config) { return registry.make_tts(config, context()); }
  /// The adapter as it is: without the reconnecting decorator the registry adds to streaming
  /// STTs, so tests see each drop the way the decorator does.
  std::unique_ptr<Stt> make_stt(nlohmann::json config) {
    if (config.is_object() && !config.contains("reconnect")) config["reconnect"] = false;
    return registry.make_stt(config, context());
  }

  /// The config error `build` throws, or "" when it builds.
  template <typename Build>
  std::string config_error(Build build) {
    try {
      build();
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), Status::config) << e.what();
      return e.what();
    }
    return "";
  }

  /// Runs the executor until `done()` or `timeout`; returns done().
  template <typename Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds timeout = 5s) {
    auto guard = boost::asio::make_work_guard(io);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(2ms);
    }
    return done();
  }
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }

  /// Every log line so far (stops collecting: call once, at the end of a test).
  std::vector<std::string> log_lines() {
    logger.set_callback(core::LogLevel::off, nullptr);
    std::lock_guard lock(mutex_);
    return lines_;
  }

  boost::asio::io_context io;
  boost::asio::strand<boost::asio::io_context::executor_type> strand = boost::asio::make_strand(io);
  net::HttpClient http{io};
  boost::asio::thread_pool workers{1};
  core::Logger logger{core::LogConfig{core::LogLevel::trace, false, "none", ""}};
  Registry registry;
  const std::thread::id executor_thread = std::this_thread::get_id();

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

/// What one TTS utterance delivered.
struct Spoken {
  std::vector<int16_t> samples;
  std::vector<WordTiming> words;
  int audio_calls = 0;
  int done = 0;
  std::vector<ProviderError> errors;
  bool off_executor = false;
  bool ended() const { return done > 0 || !errors.empty(); }
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
    ++spoken.done;
  };
  callbacks.on_error = [&spoken, check](ProviderError error) {
    check();
    spoken.errors.push_back(std::move(error));
  };
  return callbacks;
}

/// Speaks `chunks` as one utterance and waits for its end.
inline Spoken speak(Harness &h, Tts &tts, const std::vector<std::string> &chunks, std::chrono::milliseconds timeout = 5s) {
  Spoken spoken;
  auto stream = tts.start(record(spoken, h.executor_thread));
  for (const auto &chunk : chunks) stream->push_text(chunk);
  stream->finish();
  EXPECT_TRUE(h.run_until([&] { return spoken.ended(); }, timeout));
  h.run_for(30ms);  // anything delivered after the end would show up now
  return spoken;
}

/// What one STT stream delivered.
struct Heard {
  std::vector<Transcript> transcripts;
  int speech_started = 0;
  std::vector<ProviderError> errors;
  bool off_executor = false;

  std::vector<Transcript> finals() const {
    std::vector<Transcript> out;
    for (const auto &t : transcripts) {
      if (t.is_final) out.push_back(t);
    }
    return out;
  }
  std::vector<Transcript> interims() const {
    std::vector<Transcript> out;
    for (const auto &t : transcripts) {
      if (!t.is_final) out.push_back(t);
    }
    return out;
  }
};

inline SttCallbacks record(Heard &heard, std::thread::id executor_thread) {
  SttCallbacks callbacks;
  auto check = [&heard, executor_thread] {
    if (std::this_thread::get_id() != executor_thread) heard.off_executor = true;
  };
  callbacks.on_transcript = [&heard, check](const Transcript &t) {
    check();
    heard.transcripts.push_back(t);
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

/// PCM16 little-endian bytes (as the fakes make them) to samples.
inline std::vector<int16_t> samples_of(const std::string &bytes) {
  std::vector<int16_t> out(bytes.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint8_t>(bytes[2 * i])) |
                                  static_cast<uint16_t>(static_cast<uint8_t>(bytes[2 * i + 1])) << 8);
  }
  return out;
}

/// Pushes `samples` in 20 ms frames, as a transport would.
inline void push_frames(SttStream &stream, const std::vector<int16_t> &samples, int rate = 16000) {
  const size_t frame = static_cast<size_t>(rate) / 50;
  for (size_t at = 0; at < samples.size(); at += frame) {
    stream.push_audio(samples.data() + at, std::min(frame, samples.size() - at));
  }
}

/// A WebSocket upgrade the server never answered. net::WebSocketClient reports it as HTTP 500
/// "upgrade refused" (Beast presets the response it fills to 500 and the client takes that
/// for an answer; reported to the lead): accepted here until that is fixed, as long as the
/// error came (the test's deadline) and is not fatal.
inline void expect_upgrade_timeout(const ProviderError &error) {
  EXPECT_EQ(error.kind, ErrorKind::timeout) << error_kind_name(error.kind) << ": " << error.message;
}

/// No error message, error JSON or log line holds the key.
inline void expect_no_key(Harness &h, const std::vector<ProviderError> &errors, const std::string &key = kKey) {
  for (const auto &error : errors) {
    EXPECT_EQ(error.message.find(key), std::string::npos) << error.message;
    EXPECT_EQ(error.to_json().find(key), std::string::npos);
  }
  for (const auto &line : h.log_lines()) EXPECT_EQ(line.find(key), std::string::npos) << line;
}

}  // namespace parley::providers::testing
