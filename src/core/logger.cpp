#include "core/logger.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "core/dispatcher.hpp"

namespace parley::core {
namespace {

constexpr size_t kCallbackQueueCapacity = 8192;

struct Record {
  int level;
  std::string line;
};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = system_clock::to_time_t(now);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
  return text;
}

std::shared_ptr<spdlog::sinks::sink> make_sink(const LogConfig &config) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (config.sink == "stderr") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else if (config.sink == "file") {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.file);
    } catch (const spdlog::spdlog_ex &e) {
      throw Error(Status::io, "log: cannot open log file '" + config.file + "': " + e.what());
    }
  } else {
    return nullptr;  // "none" and "callback": nothing but the host callback
  }
  sink->set_pattern("%v");
  return sink;
}

}  // namespace

const char *log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "unknown";
}

struct Logger::Impl {
  std::shared_ptr<spdlog::sinks::sink> sink;
  std::mutex callback_mutex;  // guards the three members below; never held while logging
  BoundedQueue<Record> callback_queue{kCallbackQueueCapacity};
  std::unique_ptr<Dispatcher<Record>> dispatcher;
  std::atomic<int> callback_threshold{static_cast<int>(LogLevel::off)};
};

Logger::Logger(LogConfig config)
    : config_(std::move(config)), threshold_(static_cast<int>(config_.level)), impl_(std::make_unique<Impl>()) {
  impl_->sink = make_sink(config_);
  update_threshold();
}

Logger::~Logger() { set_callback(LogLevel::off, nullptr); }

void Logger::update_threshold() noexcept {
  const int sink_threshold = impl_->sink ? static_cast<int>(config_.level) : static_cast<int>(LogLevel::off);
  threshold_.store(std::min(sink_threshold, impl_->callback_threshold.load()), std::memory_order_relaxed);
}

std::string Logger::format(LogLevel level, std::string_view call_id, std::string_view message) const {
  const std::string clean = secrets_.redact(message);
  const std::string clean_call = secrets_.redact(call_id);
  if (config_.json) {
    nlohmann::json line = {{"ts", utc_timestamp()}, {"level", log_level_name(level)}};
    if (!clean_call.empty()) line["call_id"] = clean_call;
    line["msg"] = clean;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = utc_timestamp() + " " + log_level_name(level);
  if (!clean_call.empty()) line += " [" + clean_call + "]";
  line += " " + clean;
  return line;
}

void Logger::log(LogLevel level, std::string_view call_id, std::string_view message) noexcept {
  if (!enabled(level) || level == LogLevel::off) return;
  try {
    const std::string line = format(level, call_id, message);
    if (impl_->sink && static_cast<int>(level) >= static_cast<int>(config_.level)) {
      spdlog::details::log_msg record(spdlog::string_view_t{}, to_spdlog(level), line);
      impl_->sink->log(record);
      if (level >= LogLevel::warn) impl_->sink->flush();
    }
    if (static_cast<int>(level) >= impl_->callback_threshold.load()) {
      impl_->callback_queue.push(Record{static_cast<int>(level), line});
    }
  } catch (...) {
    // Logging must never take the engine down; a record that cannot be written is lost.
  }
}

void Logger::set_callback(LogLevel min_level, Callback callback) {
  std::lock_guard lock(impl_->callback_mutex);
  impl_->callback_threshold.store(static_cast<int>(LogLevel::off));
  update_threshold();
  impl_->dispatcher.reset();  // delivers what is queued, then joins
  impl_->callback_queue.reopen();
  if (!callback) return;
  auto *queue = &impl_->callback_queue;
  impl_->dispatcher = std::make_unique<Dispatcher<Record>>(
      impl_->callback_queue, [queue, callback = std::move(callback)](Record record) {
        if (const uint64_t dropped = queue->take_dropped()) {
          callback(static_cast<int>(LogLevel::warn),
                   "log: " + std::to_string(dropped) + " records dropped (host log callback too slow)");
        }
        callback(record.level, record.line);
      });
  impl_->callback_threshold.store(static_cast<int>(min_level));
  update_threshold();
}

}  // namespace parley::core
