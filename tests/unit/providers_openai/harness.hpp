// What the OpenAI adapter tests share: a Runtime-less setup (an io_context run by the test
// thread drives both the HTTP client and the provider's executor), a Registry holding
// register_openai's providers, a Logger whose every line is kept for the secret scan, and a
// fake OpenAI server.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "fakes/openai_fake.hpp"
#include "net/http_client.hpp"
#include "providers/llm/openai.hpp"
#include "providers/registry.hpp"

namespace parley::providers::testing {

using namespace std::chrono_literals;

// Shaped like a real key so both the registered-secret and the key-shape redaction apply.
inline constexpr const char *kApiKey = "sk-test-7Fq2Lx9Pw3Zr8Nd4Kv6Hs1Jt";

class OpenAiHarness {
 public:
  explicit OpenAiHarness(fakes::ServerOptions server = {})
      : fake(server), logger(core::LogConfig{core::LogLevel::trace, false, "none", ""}) {
    register_openai(registry);
    http = std::make_unique<net::HttpClient>(io);
    logger.set_callback(core::LogLevel::trace, [this](int, const std::string &line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    });
    fake.set_api_key(kApiKey);
  }

  ~OpenAiHarness() {
    logger.set_callback(core::LogLevel::off, nullptr);  // drains the dispatcher before lines_ goes
    http.reset();
    io.restart();
    io.poll();
  }

  ProviderContext context() {
    ProviderContext context;
    context.executor = io.get_executor();
    context.workers = io.get_executor();
    context.http = http.get();
    context.logger = &logger;
    context.call_id = "test-call";
    return context;
  }

  /// `config` completed with the fake's base URL and the key unless it names its own.
  nlohmann::json config(nlohmann::json config, const char *provider = "openai") {
    if (!config.contains("provider")) config["provider"] = provider;
    if (!config.contains("base_url")) config["base_url"] = fake.base_url();
    if (!config.contains("api_key") && !config.contains("api_key_env")) config["api_key"] = kApiKey;
    return config;
  }

  std::unique_ptr<Llm> make_llm(nlohmann::json c = nlohmann::json::object()) {
    return registry.make_llm(config(std::move(c)), context());
  }
  std::unique_ptr<Tts> make_tts(nlohmann::json c = nlohmann::json::object()) {
    return registry.make_tts(config(std::move(c)), context());
  }
  std::unique_ptr<Stt> make_stt(nlohmann::json c = nlohmann::json::object()) {
    return registry.make_stt(config(std::move(c)), context());
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

  /// Every log line so far (the dispatcher is drained first).
  std::vector<std::string> log_lines() {
    logger.set_callback(core::LogLevel::trace, [this](int, const std::string &line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    });
    std::lock_guard lock(mutex_);
    return lines_;
  }

  fakes::OpenAiFake fake;
  core::Logger logger;
  boost::asio::io_context io;
  std::unique_ptr<net::HttpClient> http;
  Registry registry;

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

/// The config error `build()` throws, or "" when it builds.
template <typename Build>
std::string config_error(Build build) {
  try {
    build();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

}  // namespace parley::providers::testing
