// The runtime: IO threads each running its own Asio io_context, a bounded worker pool for blocking
// work, the event queue (polled by the host or drained by a dispatcher thread), and the
// logger. Sessions and listeners (later) hang off it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/behaviour.hpp"
#include "core/event.hpp"
#include "core/logger.hpp"
#include "core/metrics.hpp"
#include "core/session_manager.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace parley::net {
class HttpClient;
}

namespace parley::core {

struct RuntimeConfig {
  int io_threads = 1;
  int worker_threads = 2;
  size_t event_queue_capacity = 4096;
  size_t max_sessions = 10000;
  LogConfig log;

  /// Parses and validates a runtime config document (NULL or "" = defaults).
  /// Throws Error(Status::config) naming the JSON path of the first bad field.
  static RuntimeConfig parse(const char *json);
};

class Runtime {
 public:
  using EventCallback = std::function<void(EventPtr)>;

  explicit Runtime(RuntimeConfig config);
  ~Runtime();
  Runtime(const Runtime &) = delete;
  Runtime &operator=(const Runtime &) = delete;

  const RuntimeConfig &config() const noexcept { return config_; }
  Logger &logger() noexcept { return logger_; }
  /// The first IO loop: acceptors and runtime-wide timers live here.
  boost::asio::io_context &io_context() noexcept;
  /// The IO loop for a new call, round-robin over the IO threads; each loop has one thread.
  boost::asio::io_context &io_context_for_call() noexcept;
  boost::asio::thread_pool &workers() noexcept;
  /// The runtime's HTTP client (one libcurl multi handle), driven by the first IO loop.
  net::HttpClient &http() noexcept;
  SessionManager &sessions() noexcept { return sessions_; }
  RuntimeMetrics &metrics() noexcept { return metrics_; }

  /// Makes behaviour `name` available to listeners and host sessions. Thread-safe.
  void register_behaviour(const std::string &name, BehaviourFactory factory);
  /// Builds behaviour `name` from `config` (see core/behaviour.hpp). Throws Error(config)
  /// for an unknown name or a bad config.
  std::shared_ptr<Behaviour> make_behaviour(const std::string &name, const nlohmann::json &config,
                                            const std::string &what, const std::string &path);
  /// "echo", "host" and every registered behaviour, for error messages.
  std::vector<std::string> behaviour_names() const;

  /// Queues an event for the host from any thread. Never blocks: when the queue is full
  /// the event is dropped, counted, and reported later as an overflow event.
  bool post(EventPtr event);

  /// Waits up to `timeout` (negative: forever) for the next event; null on timeout.
  /// Throws Error(Status::state) when an event callback is installed.
  EventPtr poll(std::chrono::milliseconds timeout);

  /// Delivers events to `callback` on a dispatcher thread; empty = back to polling.
  /// Throws Error(Status::state) when called from the dispatcher thread itself.
  void set_event_callback(EventCallback callback);

 private:
  struct Impl;
  RuntimeConfig config_;
  Logger logger_;
  RuntimeMetrics metrics_;
  std::unique_ptr<Impl> impl_;
  // After impl_, so it is destroyed first: sessions own timers on impl_'s io_context.
  SessionManager sessions_;
};

}  // namespace parley::core
