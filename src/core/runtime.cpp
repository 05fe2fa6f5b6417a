#include "core/runtime.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "net/http_client.hpp"
#include "core/config_reader.hpp"
#include "core/dispatcher.hpp"

namespace parley::core {
namespace {

LogLevel parse_level(const std::string &name) {
  if (name == "trace") return LogLevel::trace;
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warn") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return LogLevel::off;
}

LogConfig parse_log_config(ConfigReader &log) {
  LogConfig config;
  config.level = parse_level(log.choice("level", "info", {"trace", "debug", "info", "warn", "error", "off"}));
  config.json = log.choice("format", "text", {"text", "json"}) == "json";
  config.sink = log.choice("sink", "stderr", {"stderr", "none", "callback", "file"});
  config.file = log.string("file", "");
  if (config.sink == "file" && config.file.empty()) {
    log.fail("file", "required when sink is \"file\"");
  }
  log.reject_unknown_keys();
  return config;
}

EventPtr overflow_event(uint64_t dropped) {
  return make_event(EventType::overflow, "", nlohmann::json{{"dropped", dropped}}.dump());
}

}  // namespace

RuntimeConfig RuntimeConfig::parse(const char *json) {
  const nlohmann::json document = parse_config(json, "runtime config");
  ConfigReader root(document, "runtime config");
  RuntimeConfig config;
  config.io_threads = static_cast<int>(root.integer("io_threads", 1, 1, 64));
  config.worker_threads = static_cast<int>(root.integer("worker_threads", 2, 1, 64));
  config.event_queue_capacity = static_cast<size_t>(root.integer("event_queue_capacity", 4096, 16, 1 << 20));
  config.max_sessions = static_cast<size_t>(root.integer("max_sessions", 10000, 1, 1000000));
  if (auto log = root.object("log")) config.log = parse_log_config(*log);
  root.reject_unknown_keys();
  return config;
}

// One io_context per IO thread, each run by its thread alone: a call's I/O, timers and
// session all stay on one thread, so nothing crosses threads per frame (with several threads
// on one io_context, every completion could wake another thread: a futex per frame).
struct IoLoop {
  // An io_context whose destructor's first step, destroying the handlers left on it, can
  // be taken on its own (see ~Runtime).
  struct Context : boost::asio::io_context {
    using io_context::io_context;
    using execution_context::shutdown;
  };
  IoLoop() : work(boost::asio::make_work_guard(io)) {}
  Context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
};

struct Runtime::Impl {
  explicit Impl(const RuntimeConfig &config)
      : events(config.event_queue_capacity) {
    for (int i = 0; i < config.io_threads; ++i) loops.push_back(std::make_unique<IoLoop>());
    workers.emplace(static_cast<size_t>(config.worker_threads));
  }

  std::vector<std::unique_ptr<IoLoop>> loops;
  std::unique_ptr<net::HttpClient> http;  // on loops.front(); destroyed once the loops stop
  std::atomic<size_t> next_loop{0};
  std::vector<std::thread> io_threads;
  std::optional<boost::asio::thread_pool> workers;  // reset before the loops go (~Runtime)
  BoundedQueue<EventPtr> events;
  std::mutex dispatch_mutex;  // serialises set_event_callback()
  std::unique_ptr<Dispatcher<EventPtr>> dispatcher;
  std::atomic<bool> callback_mode{false};
  mutable std::mutex behaviours_mutex;
  std::map<std::string, BehaviourFactory> behaviours;
};

Runtime::Runtime(RuntimeConfig config)
    : config_(std::move(config)), logger_(config_.log), impl_(std::make_unique<Impl>(config_)), sessions_(config_.max_sessions) {
  impl_->http = std::make_unique<net::HttpClient>(impl_->loops.front()->io);
  for (auto &loop : impl_->loops) {
    impl_->io_threads.emplace_back([io = &loop->io] { io->run(); });
  }
  logger_.log(LogLevel::debug, "", "runtime started: " + std::to_string(config_.io_threads) +
                                       " IO threads, " + std::to_string(config_.worker_threads) + " workers");
}

Runtime::~Runtime() {
  for (auto &loop : impl_->loops) {
    loop->work.reset();
    loop->io.stop();
  }
  for (auto &thread : impl_->io_threads) thread.join();
  impl_->workers->join();
  // What is left refers both ways: a handler queued on a loop can hold the last reference to
  // a session whose providers post their clean-up to the workers, and that clean-up holds
  // executors of the loops. So: drop the sessions' registry, destroy the loops' handlers
  // (their clean-up queues on the joined pool), destroy the pool's unrun work, and only then
  // (in ~Impl) the loops' services.
  sessions_.clear();
  impl_->http.reset();
  for (auto &loop : impl_->loops) loop->io.shutdown();
  impl_->workers.reset();
  {
    std::lock_guard lock(impl_->dispatch_mutex);
    impl_->dispatcher.reset();
  }
  impl_->events.close();
}

boost::asio::io_context &Runtime::io_context() noexcept { return impl_->loops.front()->io; }

boost::asio::io_context &Runtime::io_context_for_call() noexcept {
  const size_t index = impl_->next_loop.fetch_add(1, std::memory_order_relaxed) % impl_->loops.size();
  return impl_->loops[index]->io;
}
boost::asio::thread_pool &Runtime::workers() noexcept { return *impl_->workers; }
net::HttpClient &Runtime::http() noexcept { return *impl_->http; }

void Runtime::register_behaviour(const std::string &name, BehaviourFactory factory) {
  if (name == "host" || name == "echo") throw Error(Status::invalid_argument, "behaviour '" + name + "' is built in");
  std::lock_guard lock(impl_->behaviours_mutex);
  impl_->behaviours[name] = std::move(factory);
}

std::vector<std::string> Runtime::behaviour_names() const {
  std::vector<std::string> names{"host", "echo"};
  std::lock_guard lock(impl_->behaviours_mutex);
  for (const auto &entry : impl_->behaviours) names.push_back(entry.first);
  return names;
}

std::shared_ptr<Behaviour> Runtime::make_behaviour(const std::string &name, const nlohmann::json &config,
                                                   const std::string &what, const std::string &path) {
  BehaviourFactory factory;
  {
    std::lock_guard lock(impl_->behaviours_mutex);
    auto found = impl_->behaviours.find(name);
    if (found != impl_->behaviours.end()) factory = found->second;
  }
  if (!factory) {
    std::string known;
    for (const auto &known_name : behaviour_names()) known += (known.empty() ? "" : ", ") + known_name;
    throw Error(Status::config, what + ": " + path + ": unknown behaviour '" + name + "' (known: " + known + ")");
  }
  return factory(config, what, path);
}

std::shared_ptr<Behaviour> read_behaviour(ConfigReader &config, Runtime &runtime, std::string &name) {
  name = config.string("behaviour", "host");
  if (name == "host" || name == "echo") return nullptr;
  const auto known = runtime.behaviour_names();
  if (std::find(known.begin(), known.end(), name) == known.end()) {
    std::string list;
    for (const auto &known_name : known) list += (list.empty() ? "" : ", ") + known_name;
    config.fail("behaviour", "unknown behaviour '" + name + "' (known: " + list + ")");
  }
  const nlohmann::json *behaviour_config = config.raw(name);
  static const nlohmann::json empty = nlohmann::json::object();
  std::string what = config.what();
  return runtime.make_behaviour(name, behaviour_config ? *behaviour_config : empty, what,
                                config.path() + "." + name);
}

bool Runtime::post(EventPtr event) {
  const bool taken = impl_->events.push(std::move(event));
  if (!taken) logger_.log(LogLevel::debug, "", "event queue full; event dropped");
  return taken;
}

EventPtr Runtime::poll(std::chrono::milliseconds timeout) {
  if (impl_->callback_mode.load()) {
    throw Error(Status::state, "poll: an event callback is installed; events go to it, not to poll");
  }
  if (const uint64_t dropped = impl_->events.take_dropped()) return overflow_event(dropped);
  auto event = impl_->events.pop(timeout);
  return event ? std::move(*event) : nullptr;
}

void Runtime::set_event_callback(EventCallback callback) {
  if (impl_->dispatcher && impl_->dispatcher->on_dispatcher_thread()) {
    throw Error(Status::state, "set_event_callback: must not be called from the event callback");
  }
  std::lock_guard lock(impl_->dispatch_mutex);
  impl_->dispatcher.reset();  // delivers what is queued, then joins
  impl_->events.reopen();
  impl_->callback_mode.store(static_cast<bool>(callback));
  if (!callback) return;
  auto *events = &impl_->events;
  impl_->dispatcher = std::make_unique<Dispatcher<EventPtr>>(
      impl_->events, [events, callback = std::move(callback)](EventPtr event) {
        if (const uint64_t dropped = events->take_dropped()) callback(overflow_event(dropped));
        callback(std::move(event));
      });
}

}  // namespace parley::core
