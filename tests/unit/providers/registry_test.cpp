#include "providers/registry.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "core/logger.hpp"

namespace parley::providers {
namespace {

struct NamedTts : Tts {
  std::string name_;
  int rate_;
  NamedTts(std::string n, int r) : name_(std::move(n)), rate_(r) {}
  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return rate_; }
  std::unique_ptr<TtsStream> start(TtsCallbacks) override { return nullptr; }
};

Registry registry_with_tone() {
  Registry registry;
  registry.add_tts("tone", [](core::ConfigReader &config, const ProviderContext &) {
    const int rate = static_cast<int>(config.integer("sample_rate", 16000, 8000, 48000));
    return std::make_unique<NamedTts>("tone", rate);
  });
  return registry;
}

TEST(Registry, BuildsByNameWithItsConfig) {
  auto tts = registry_with_tone().make_tts(nlohmann::json::parse(R"({"provider":"tone","sample_rate":8000})"), {});
  EXPECT_EQ(tts->name(), "tone");
  EXPECT_EQ(tts->sample_rate(), 8000);
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
  try {
    registry_with_tone().make_tts(nlohmann::json::parse(R"({"provider":"nope"})"), {}, "agent config", "$.tts");
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::not_found);
    EXPECT_STREQ(e.what(), "agent config: $.tts.provider: no TTS provider named \"nope\" (known: tone)");
  }
}

TEST(Registry, BadAndUnknownKeysNameTheirPath) {
  auto registry = registry_with_tone();
  try {
    registry.make_tts(nlohmann::json::parse(R"({"provider":"tone","sample_rate":"fast"})"), {}, "agent config", "$.tts");
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::config);
    EXPECT_NE(std::string(e.what()).find("$.tts.sample_rate"), std::string::npos) << e.what();
  }
  try {
    registry.make_tts(nlohmann::json::parse(R"({"provider":"tone","volume":3})"), {}, "agent config", "$.tts");
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("$.tts.volume"), std::string::npos) << e.what();
  }
  EXPECT_THROW(registry.make_tts(nlohmann::json::parse(R"({"sample_rate":8000})"), {}), Error);
}

TEST(Registry, ApiKeyFromEnvironmentIsRegisteredForRedaction) {
  ::setenv("PARLEY_TEST_KEY", "sk-test-1234567890abcdef", 1);
  core::LogConfig log_config;
  log_config.sink = "none";
  core::Logger logger(log_config);
  ProviderContext context;
  context.logger = &logger;
  auto json = nlohmann::json::parse(R"({"api_key_env":"PARLEY_TEST_KEY"})");
  core::ConfigReader reader(json, "test");
  EXPECT_EQ(read_api_key(reader, context, "UNUSED"), "sk-test-1234567890abcdef");
  EXPECT_EQ(logger.secrets().redact("key=sk-test-1234567890abcdef").find("sk-test-1234567890abcdef"), std::string::npos);
  ::unsetenv("PARLEY_TEST_KEY");
}

// A streaming recogniser whose streams the test can drop.
struct DroppingStt : Stt {
  struct Stream : SttStream {
    SttCallbacks callbacks;
    void push_audio(const int16_t *, size_t) override {}
    void finalize() override {}
    void cancel() override {}
  };
  std::string name_ = "dropping";
  std::vector<Stream *> *started;
  explicit DroppingStt(std::vector<Stream *> *s) : started(s) {}
  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return 16000; }
  bool streams_can_drop() const noexcept override { return true; }
  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto stream = std::make_unique<Stream>();
    stream->callbacks = std::move(callbacks);
    started->push_back(stream.get());
    return stream;
  }
};

TEST(Registry, StreamingSttIsWrappedToReconnectAndDecoratorKeysAreRead) {
  std::vector<DroppingStt::Stream *> started;
  Registry registry;
  registry.add_stt("dropping", [&](core::ConfigReader &, const ProviderContext &) {
    return std::make_unique<DroppingStt>(&started);
  });
  boost::asio::io_context io;
  ProviderContext context;
  context.executor = io.get_executor();
  auto stt = registry.make_stt(nlohmann::json::parse(
      R"({"provider":"dropping","reconnect":{"initial_backoff_ms":5,"jitter":0},"echo_discard_ms":100,
          "secondary":{"provider":"dropping","reconnect":false}})"), context);
  auto stream = stt->start({});
  ASSERT_EQ(started.size(), 2u) << "primary and secondary";
  ProviderError drop;
  drop.fatal = false;
  drop.message = "connection lost";
  started[0]->callbacks.on_error(drop);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (started.size() < 3 && std::chrono::steady_clock::now() < until) {
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(started.size(), 3u) << "the primary reconnected";

  try {
    registry.make_stt(nlohmann::json::parse(R"({"provider":"dropping","reconnect":{"tries":3}})"), context, "agent config", "$.stt");
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("$.stt.reconnect.tries"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace parley::providers
