#include "core/runtime.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>
#include <memory>
#include <thread>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace parley::core {
namespace {

RuntimeConfig quiet(size_t capacity = 64) {
  RuntimeConfig config;
  config.log.sink = "none";
  config.event_queue_capacity = capacity;
  return config;
}

TEST(RuntimeConfig, DefaultsAndOverrides) {
  const auto defaults = RuntimeConfig::parse(nullptr);
  EXPECT_EQ(defaults.io_threads, 1);
  EXPECT_EQ(defaults.worker_threads, 2);
  EXPECT_EQ(defaults.event_queue_capacity, 4096u);
  const auto config = RuntimeConfig::parse(
      R"({"io_threads": 2, "event_queue_capacity": 100, "log": {"level": "debug", "format": "json", "sink": "none"}})");
  EXPECT_EQ(config.io_threads, 2);
  EXPECT_EQ(config.event_queue_capacity, 100u);
  EXPECT_EQ(config.log.level, LogLevel::debug);
  EXPECT_TRUE(config.log.json);
}

TEST(RuntimeConfig, BadFieldsNameTheirPath) {
  struct Case {
    const char *json;
    const char *expected;
  } cases[] = {
      {R"({"io_thread": 2})", "$.io_thread: unknown key"},
      {R"({"io_threads": 0})", "$.io_threads: expected an integer in 1..64; got 0"},
      {R"({"io_threads": "two"})", "$.io_threads: expected an integer"},
      {R"({"log": {"level": "loud"}})", "$.log.level: expected one of trace, debug, info, warn, error, off"},
      {R"({"log": {"sink": "file"}})", "$.log.file: required when sink is \"file\""},
      {R"({"log": {"colour": true}})", "$.log.colour: unknown key"},
      {R"({"log": []})", "$.log: expected an object"},
      {R"([])", "$: expected an object"},
      {R"({"io_threads": )", "not valid JSON"},
  };
  for (const auto &c : cases) {
    try {
      RuntimeConfig::parse(c.json);
      ADD_FAILURE() << "accepted " << c.json;
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), Status::config);
      EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
    }
  }
}

TEST(Runtime, PollReturnsPostedEventsInOrder) {
  Runtime runtime(quiet());
  EXPECT_EQ(runtime.poll(std::chrono::milliseconds(0)), nullptr);
  runtime.post(make_event(EventType::user, "s1", R"({"n":1})"));
  runtime.post(make_event(EventType::user, "s2", R"({"n":2})"));
  auto first = runtime.poll(std::chrono::milliseconds(100));
  auto second = runtime.poll(std::chrono::milliseconds(100));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->session_id, "s1");
  EXPECT_EQ(second->payload_json, R"({"n":2})");
  EXPECT_LE(first->timestamp_us, second->timestamp_us);
}

TEST(Runtime, FullQueueDropsAndReportsOverflow) {
  Runtime runtime(quiet(16));
  int accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += runtime.post(make_event(EventType::user, "", "{}")) ? 1 : 0;
  EXPECT_EQ(accepted, 16);
  auto overflow = runtime.poll(std::chrono::milliseconds(0));
  ASSERT_TRUE(overflow);
  EXPECT_EQ(overflow->type, EventType::overflow);
  EXPECT_EQ(nlohmann::json::parse(overflow->payload_json)["dropped"], 4);
  int drained = 0;
  while (runtime.poll(std::chrono::milliseconds(0))) ++drained;
  EXPECT_EQ(drained, 16);
}

TEST(Runtime, CallbackModeDeliversOffTheCallingThreadAndBlocksPoll) {
  Runtime runtime(quiet());
  std::promise<std::thread::id> delivered_on;
  runtime.set_event_callback([&](EventPtr event) {
    if (event->type == EventType::user) delivered_on.set_value(std::this_thread::get_id());
  });
  EXPECT_THROW(runtime.poll(std::chrono::milliseconds(0)), Error);
  runtime.post(make_event(EventType::user, "", "{}"));
  auto future = delivered_on.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
  runtime.set_event_callback(nullptr);
  runtime.post(make_event(EventType::user, "", "{}"));
  EXPECT_TRUE(runtime.poll(std::chrono::milliseconds(100)));
}

TEST(Runtime, IoThreadsRunPostedWork) {
  auto config = quiet();
  config.io_threads = 2;
  Runtime runtime(config);
  std::promise<void> ran;
  boost::asio::post(runtime.io_context(), [&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::promise<void> worked;
  boost::asio::post(runtime.workers(), [&] { worked.set_value(); });
  EXPECT_EQ(worked.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

// A session can still be queued on a loop when the runtime goes; destroying it makes its
// providers post their clean-up to the workers (pocketsphinx returns its decoder that way),
// and that clean-up holds the session's strand on the loop. Both must still exist when each
// is destroyed, and nothing may leak.
TEST(Runtime, TeardownLetsQueuedHandlersPostToTheWorkers) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  struct PostsOnDestruction {
    boost::asio::thread_pool *workers;
    boost::asio::strand<boost::asio::io_context::executor_type> strand;
    std::shared_ptr<int> token;
    ~PostsOnDestruction() {
      if (token) boost::asio::post(*workers, [strand = strand, token = std::move(token)] {});
    }
  };
  {
    Runtime runtime(quiet());
    std::promise<void> stopped;
    auto held = std::make_shared<PostsOnDestruction>(PostsOnDestruction{
        &runtime.workers(), boost::asio::make_strand(runtime.io_context()), std::move(token)});
    boost::asio::post(runtime.io_context(), [&runtime, &stopped, held = std::move(held)]() mutable {
      runtime.io_context().stop();  // what follows stays queued until the loop is destroyed
      boost::asio::post(runtime.io_context(), [held = std::move(held)] {});
      stopped.set_value();
    });
    ASSERT_EQ(stopped.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace parley::core
