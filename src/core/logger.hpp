// The runtime's logger: text or JSON lines, a level from config, a sink (stderr, a file, or
// nothing) plus an optional host callback fed through a dispatcher thread. Every record is
// redacted (core/redact.hpp) before it reaches any sink or the host.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/redact.hpp"

namespace parley::core {

enum class LogLevel : int { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 6 };

const char *log_level_name(LogLevel level) noexcept;

struct LogConfig {
  LogLevel level = LogLevel::info;
  bool json = false;
  std::string sink = "stderr";  // stderr | none | callback | file
  std::string file;
};

class Logger {
 public:
  using Callback = std::function<void(int level, const std::string &line)>;

  explicit Logger(LogConfig config);
  ~Logger();
  Logger(const Logger &) = delete;
  Logger &operator=(const Logger &) = delete;

  bool enabled(LogLevel level) const noexcept {
    return static_cast<int>(level) >= threshold_.load(std::memory_order_relaxed);
  }

  /// Formats, redacts and writes one record. `call_id` may be empty. Never throws.
  void log(LogLevel level, std::string_view call_id, std::string_view message) noexcept;

  /// Also delivers records at or above `min_level` to `callback` on a dispatcher thread;
  /// an empty callback stops delivery (after the queued records are delivered).
  void set_callback(LogLevel min_level, Callback callback);

  SecretRegistry &secrets() noexcept { return secrets_; }

  /// The line `log()` would write (redacted), exposed for tests.
  std::string format(LogLevel level, std::string_view call_id, std::string_view message) const;

 private:
  struct Impl;
  void update_threshold() noexcept;

  LogConfig config_;
  SecretRegistry secrets_;
  std::atomic<int> threshold_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::core
