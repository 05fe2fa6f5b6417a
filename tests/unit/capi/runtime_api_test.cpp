// The runtime's C entry points, driven exactly as a host drives them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parley/parley.h"

namespace {

constexpr const char *kQuiet = R"({"log": {"sink": "none"}})";

std::string last_message() {
  const parley_error *error = parley_error_last();
  return error == nullptr ? "" : error->message;
}

struct RuntimeHandle {
  explicit RuntimeHandle(const char *config = kQuiet) { EXPECT_EQ(parley_runtime_create(&runtime, config), PARLEY_OK); }
  ~RuntimeHandle() { parley_runtime_destroy(runtime); }
  parley_runtime *runtime = nullptr;
};

TEST(RuntimeApi, VersionMatchesHeader) {
  EXPECT_STREQ(parley_version(), PARLEY_VERSION_STRING);
  int major = -1, minor = -1, patch = -1;
  parley_version_numbers(&major, &minor, &patch);
  EXPECT_EQ(major, PARLEY_VERSION_MAJOR);
  EXPECT_EQ(minor, PARLEY_VERSION_MINOR);
  EXPECT_EQ(patch, PARLEY_VERSION_PATCH);
  parley_version_numbers(nullptr, nullptr, nullptr);  // all optional
}

TEST(RuntimeApi, CreateWithDefaultsAndDestroyNull) {
  parley_runtime *runtime = nullptr;
  ASSERT_EQ(parley_runtime_create(&runtime, nullptr), PARLEY_OK);
  ASSERT_NE(runtime, nullptr);
  parley_runtime_destroy(runtime);
  parley_runtime_destroy(nullptr);
}

TEST(RuntimeApi, BadConfigsFailWithPathAndLeaveOutUntouched) {
  struct Case {
    const char *json;
    int status;
    const char *message_part;
  } cases[] = {
      {"{not json", PARLEY_ECONFIG, "runtime config: not valid JSON: parse error at line 1, column 3"},
      {R"({"threads": 2})", PARLEY_ECONFIG, "runtime config: $.threads: unknown key"},
      {R"({"io_threads": true})", PARLEY_ECONFIG, "$.io_threads: expected an integer in 1..64; got boolean true"},
      {R"({"event_queue_capacity": 1})", PARLEY_ECONFIG, "$.event_queue_capacity: expected an integer in 16..1048576"},
      {R"({"log": {"format": "xml"}})", PARLEY_ECONFIG, "$.log.format: expected one of text, json; got \"xml\""},
      {R"({"log": {"sink": "file", "file": "/dev/null/x.log"}})", PARLEY_EIO, "cannot open log file '/dev/null/x.log'"},
      {"\"just a string\"", PARLEY_ECONFIG, "$: expected an object; got string"},
      {R"({"io_threads": 1e400})", PARLEY_ECONFIG, "runtime config: not valid JSON: number overflow parsing '1e400'"},
  };
  for (const auto &c : cases) {
    parley_runtime *runtime = reinterpret_cast<parley_runtime *>(0x1);
    EXPECT_EQ(parley_runtime_create(&runtime, c.json), c.status) << c.json;
    EXPECT_EQ(runtime, reinterpret_cast<parley_runtime *>(0x1)) << "out-parameter touched on error";
    ASSERT_NE(parley_error_last(), nullptr);
    EXPECT_EQ(parley_error_last()->code, c.status);
    EXPECT_NE(last_message().find(c.message_part), std::string::npos) << last_message();
  }
}

TEST(RuntimeApi, NullArgumentsAreRejectedNotCrashed) {
  EXPECT_EQ(parley_runtime_create(nullptr, "{}"), PARLEY_EINVAL);
  EXPECT_EQ(last_message(), "out must not be NULL");
  parley_event *event = nullptr;
  EXPECT_EQ(parley_runtime_poll_event(&event, nullptr, 0), PARLEY_EINVAL);
  EXPECT_EQ(last_message(), "runtime must not be NULL");
  EXPECT_EQ(parley_runtime_set_log_callback(nullptr, PARLEY_LOG_INFO, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_runtime_set_event_callback(nullptr, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_runtime_post_event(nullptr, "{}"), PARLEY_EINVAL);
  EXPECT_EQ(parley_runtime_log(nullptr, PARLEY_LOG_INFO, "x"), PARLEY_EINVAL);

  RuntimeHandle handle;
  EXPECT_EQ(parley_runtime_poll_event(nullptr, handle.runtime, 0), PARLEY_EINVAL);
  EXPECT_EQ(parley_runtime_post_event(handle.runtime, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_runtime_log(handle.runtime, PARLEY_LOG_INFO, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_runtime_log(handle.runtime, 5, "x"), PARLEY_EINVAL);
  EXPECT_NE(last_message().find("log level 5 is not a parley_log_level"), std::string::npos);
  EXPECT_EQ(parley_runtime_poll_event(&event, handle.runtime, -7), PARLEY_EINVAL);

  // Event accessors tolerate NULL.
  EXPECT_EQ(parley_event_type_of(nullptr), PARLEY_EVENT_NONE);
  EXPECT_STREQ(parley_event_payload(nullptr), "{}");
  EXPECT_STREQ(parley_event_session_id(nullptr), "");
  EXPECT_EQ(parley_event_audio(nullptr, nullptr, nullptr, nullptr), 0u);
  EXPECT_EQ(parley_event_timestamp_us(nullptr), 0);
  parley_event_release(nullptr);
  parley_string_free(nullptr);
  EXPECT_STREQ(parley_event_type_name(12345), "unknown");
}

TEST(RuntimeApi, PostedEventsArePolledAndOwned) {
  RuntimeHandle handle;
  parley_event *event = nullptr;
  EXPECT_EQ(parley_runtime_poll_event(&event, handle.runtime, 0), PARLEY_ETIMEOUT);
  EXPECT_EQ(event, nullptr);
  EXPECT_EQ(parley_runtime_post_event(handle.runtime, "not json"), PARLEY_EFORMAT);
  ASSERT_EQ(parley_runtime_post_event(handle.runtime, R"({"hello":"world"})"), PARLEY_OK);
  ASSERT_EQ(parley_runtime_poll_event(&event, handle.runtime, 1000), PARLEY_OK);
  EXPECT_EQ(parley_event_type_of(event), PARLEY_EVENT_USER);
  EXPECT_STREQ(parley_event_type_name(parley_event_type_of(event)), "user");
  EXPECT_STREQ(parley_event_payload(event), R"({"hello":"world"})");
  EXPECT_STREQ(parley_event_session_id(event), "");
  EXPECT_GT(parley_event_timestamp_us(event), 0);
  const int16_t *samples = reinterpret_cast<const int16_t *>(0x1);
  size_t count = 99;
  int rate = 99;
  EXPECT_EQ(parley_event_audio(&samples, &count, &rate, event), 0u);
  EXPECT_EQ(samples, nullptr);
  EXPECT_EQ(count, 0u);
  parley_event_release(event);
}

TEST(RuntimeApi, OverflowIsReportedThenQueueDrains) {
  RuntimeHandle handle(R"({"event_queue_capacity": 16, "log": {"sink": "none"}})");
  int full = 0;
  for (int i = 0; i < 20; ++i) {
    if (parley_runtime_post_event(handle.runtime, "{}") == PARLEY_EFULL) ++full;
  }
  EXPECT_EQ(full, 4);
  EXPECT_NE(last_message().find("event queue is full (capacity 16)"), std::string::npos);
  parley_event *event = nullptr;
  ASSERT_EQ(parley_runtime_poll_event(&event, handle.runtime, 0), PARLEY_OK);
  EXPECT_EQ(parley_event_type_of(event), PARLEY_EVENT_OVERFLOW);
  EXPECT_STREQ(parley_event_payload(event), R"({"dropped":4})");
  parley_event_release(event);
}

struct Inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> items;
  std::vector<std::thread::id> threads;
};

TEST(RuntimeApi, EventCallbackRunsOnDispatcherThread) {
  RuntimeHandle handle;
  Inbox inbox;
  auto on_event = [](parley_event *event, void *user_data) {
    auto *box = static_cast<Inbox *>(user_data);
    std::lock_guard lock(box->mutex);
    box->items.emplace_back(parley_event_payload(event));
    box->threads.push_back(std::this_thread::get_id());
    parley_event_release(event);
    box->changed.notify_all();
  };
  ASSERT_EQ(parley_runtime_set_event_callback(handle.runtime, on_event, &inbox), PARLEY_OK);
  parley_event *event = nullptr;
  EXPECT_EQ(parley_runtime_poll_event(&event, handle.runtime, 0), PARLEY_ESTATE);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(parley_runtime_post_event(handle.runtime, ("{\"i\":" + std::to_string(i) + "}").c_str()), PARLEY_OK);
  }
  {
    std::unique_lock lock(inbox.mutex);
    ASSERT_TRUE(inbox.changed.wait_for(lock, std::chrono::seconds(5), [&] { return inbox.items.size() == 100; }));
  }
  EXPECT_EQ(inbox.items.front(), R"({"i":0})");
  EXPECT_EQ(inbox.items.back(), R"({"i":99})");
  for (auto id : inbox.threads) EXPECT_NE(id, std::this_thread::get_id());
  ASSERT_EQ(parley_runtime_set_event_callback(handle.runtime, nullptr, nullptr), PARLEY_OK);
  ASSERT_EQ(parley_runtime_post_event(handle.runtime, "{}"), PARLEY_OK);
  ASSERT_EQ(parley_runtime_poll_event(&event, handle.runtime, 1000), PARLEY_OK);
  parley_event_release(event);
}

TEST(RuntimeApi, LogCallbackGetsRedactedRecords) {
  RuntimeHandle handle(R"({"log": {"sink": "callback", "format": "json"}})");
  Inbox inbox;
  auto on_log = [](int level, const char *message, void *user_data) {
    auto *box = static_cast<Inbox *>(user_data);
    std::lock_guard lock(box->mutex);
    box->items.push_back(std::to_string(level) + " " + message);
    box->changed.notify_all();
  };
  ASSERT_EQ(parley_runtime_set_log_callback(handle.runtime, PARLEY_LOG_INFO, on_log, &inbox), PARLEY_OK);
  ASSERT_EQ(parley_runtime_log(handle.runtime, PARLEY_LOG_DEBUG, "below the threshold"), PARLEY_OK);
  ASSERT_EQ(parley_runtime_log(handle.runtime, PARLEY_LOG_WARN, "Authorization: Bearer sk-livekey1234567890abc"), PARLEY_OK);
  {
    std::unique_lock lock(inbox.mutex);
    ASSERT_TRUE(inbox.changed.wait_for(lock, std::chrono::seconds(5), [&] { return !inbox.items.empty(); }));
  }
  ASSERT_EQ(parley_runtime_set_log_callback(handle.runtime, PARLEY_LOG_INFO, nullptr, nullptr), PARLEY_OK);
  ASSERT_EQ(inbox.items.size(), 1u);
  EXPECT_EQ(inbox.items[0].find("sk-livekey"), std::string::npos) << inbox.items[0];
  EXPECT_EQ(inbox.items[0].rfind("3 {", 0), 0u) << inbox.items[0];
  EXPECT_NE(inbox.items[0].find(R"("msg":"Authorization: Bearer [REDACTED]")"), std::string::npos) << inbox.items[0];
}

TEST(RuntimeApi, DestroyWithUnreleasedEventsLeavesThemValid) {
  parley_runtime *runtime = nullptr;
  ASSERT_EQ(parley_runtime_create(&runtime, kQuiet), PARLEY_OK);
  ASSERT_EQ(parley_runtime_post_event(runtime, R"({"k":1})"), PARLEY_OK);
  parley_event *event = nullptr;
  ASSERT_EQ(parley_runtime_poll_event(&event, runtime, 1000), PARLEY_OK);
  parley_runtime_destroy(runtime);
  EXPECT_STREQ(parley_event_payload(event), R"({"k":1})");
  parley_event_release(event);
}

}  // namespace
