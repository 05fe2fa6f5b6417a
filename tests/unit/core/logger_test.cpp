#include "core/logger.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "common/error.hpp"

namespace parley::core {
namespace {

struct Collected {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<int, std::string>> lines;

  void add(int level, const std::string &line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(level, line);
    changed.notify_all();
  }
  bool wait_for_count(size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(5), [&] { return lines.size() >= n; });
  }
};

TEST(Logger, JsonLinesCarryLevelCallIdAndRedactedMessage) {
  LogConfig config;
  config.json = true;
  config.sink = "none";
  Logger logger(config);
  const auto line = nlohmann::json::parse(
      logger.format(LogLevel::warn, "CA42", "upstream said: Authorization: Bearer abcdef0123456789"));
  EXPECT_EQ(line["level"], "warn");
  EXPECT_EQ(line["call_id"], "CA42");
  EXPECT_EQ(line["msg"], "upstream said: Authorization: Bearer [REDACTED]");
  EXPECT_TRUE(line["ts"].get<std::string>().ends_with("Z"));
}

TEST(Logger, TextLineFormat) {
  LogConfig config;
  config.sink = "none";
  Logger logger(config);
  const std::string line = logger.format(LogLevel::info, "CA1", "hello");
  EXPECT_TRUE(line.ends_with(" info [CA1] hello")) << line;
}

TEST(Logger, FileSinkWritesRedactedLinesAtOrAboveLevel) {
  const auto path = std::filesystem::temp_directory_path() / ("parley-log-" + std::to_string(::getpid()) + ".log");
  {
    LogConfig config;
    config.sink = "file";
    config.file = path.string();
    config.level = LogLevel::info;
    Logger logger(config);
    logger.secrets().add("my-deepgram-key-123");
    logger.log(LogLevel::debug, "", "hidden debug line");
    logger.log(LogLevel::info, "", "connecting with my-deepgram-key-123");
    logger.log(LogLevel::error, "CA9", "api_key=zzzzzzzzzzzz failed");
  }
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  std::filesystem::remove(path);
  EXPECT_EQ(text.find("hidden debug line"), std::string::npos);
  EXPECT_EQ(text.find("my-deepgram-key-123"), std::string::npos);
  EXPECT_EQ(text.find("zzzzzzzzzzzz"), std::string::npos);
  EXPECT_NE(text.find("connecting with [REDACTED]"), std::string::npos) << text;
  EXPECT_NE(text.find("error [CA9] api_key=[REDACTED] failed"), std::string::npos) << text;
}

TEST(Logger, CallbackRunsOnADispatcherThreadFilteredByLevel) {
  LogConfig config;
  config.sink = "none";
  Logger logger(config);
  Collected collected;
  std::thread::id callback_thread;
  logger.set_callback(LogLevel::debug, [&](int level, const std::string &line) {
    callback_thread = std::this_thread::get_id();
    collected.add(level, line);
  });
  EXPECT_TRUE(logger.enabled(LogLevel::debug));
  EXPECT_FALSE(logger.enabled(LogLevel::trace));
  logger.log(LogLevel::trace, "", "too verbose");
  logger.log(LogLevel::debug, "", "token=abcdefghijkl");
  ASSERT_TRUE(collected.wait_for_count(1));
  logger.set_callback(LogLevel::off, nullptr);
  ASSERT_EQ(collected.lines.size(), 1u);
  EXPECT_EQ(collected.lines[0].first, static_cast<int>(LogLevel::debug));
  EXPECT_NE(collected.lines[0].second.find("token=[REDACTED]"), std::string::npos);
  EXPECT_NE(callback_thread, std::this_thread::get_id());
  EXPECT_FALSE(logger.enabled(LogLevel::info));  // sink none, no callback: nothing is formatted
}

TEST(Logger, SlowCallbackDropsAndReportsCount) {
  LogConfig config;
  config.sink = "none";
  Logger logger(config);
  std::mutex gate;
  std::unique_lock hold(gate);
  Collected collected;
  logger.set_callback(LogLevel::info, [&](int level, const std::string &line) {
    std::lock_guard wait(gate);  // blocks until the test releases the gate
    collected.add(level, line);
  });
  for (int i = 0; i < 20000; ++i) logger.log(LogLevel::info, "", "line " + std::to_string(i));
  hold.unlock();
  logger.set_callback(LogLevel::off, nullptr);  // drains the queue
  bool saw_drop_notice = false;
  for (const auto &entry : collected.lines) {
    saw_drop_notice |= entry.second.find("records dropped") != std::string::npos;
  }
  EXPECT_TRUE(saw_drop_notice);
  EXPECT_LT(collected.lines.size(), 20000u);
}

TEST(Logger, UnwritableFileIsAnIoError) {
  LogConfig config;
  config.sink = "file";
  config.file = "/dev/null/parley.log";
  try {
    Logger logger(config);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::io);
    EXPECT_NE(std::string(e.what()).find("/dev/null/parley.log"), std::string::npos);
  }
}

}  // namespace
}  // namespace parley::core
