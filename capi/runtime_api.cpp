// parley_version*, parley_runtime_*: the runtime's C entry points.
#include <chrono>
#include <nlohmann/json.hpp>

#include "boundary.hpp"
#include "core/runtime.hpp"
#include "runtime_handle.hpp"

using parley::Error;
using parley::Status;
using parley::capi::guard;
using parley::capi::require;
using parley::core::LogLevel;
using parley::core::Runtime;


namespace {

LogLevel checked_level(int level) {
  const bool valid = (level >= PARLEY_LOG_TRACE && level <= PARLEY_LOG_ERROR) || level == PARLEY_LOG_OFF;
  if (!valid) {
    throw Error(Status::invalid_argument,
                "log level " + std::to_string(level) + " is not a parley_log_level (0..4 or 6)");
  }
  return static_cast<LogLevel>(level);
}

}  // namespace

extern "C" {

PARLEY_API const char *parley_version(void) { return PARLEY_VERSION_STRING; }

PARLEY_API void parley_version_numbers(int *major, int *minor, int *patch) {
  if (major != nullptr) *major = PARLEY_VERSION_MAJOR;
  if (minor != nullptr) *minor = PARLEY_VERSION_MINOR;
  if (patch != nullptr) *patch = PARLEY_VERSION_PATCH;
}

PARLEY_API int parley_runtime_create(parley_runtime **out, const char *config_json) {
  return guard("parley_runtime_create", [&] {
    require(out, "out");
    auto config = parley::core::RuntimeConfig::parse(config_json);
    *out = new parley_runtime(std::move(config));
  });
}

PARLEY_API void parley_runtime_destroy(parley_runtime *runtime) {
  guard("parley_runtime_destroy", [&] { delete runtime; });
}

PARLEY_API int parley_runtime_set_log_callback(parley_runtime *runtime, int min_level,
                                               parley_log_cb callback, void *user_data) {
  return guard("parley_runtime_set_log_callback", [&] {
    require(runtime, "runtime");
    const LogLevel level = checked_level(min_level);
    if (callback == nullptr) {
      runtime->engine.logger().set_callback(LogLevel::off, nullptr);
      return;
    }
    runtime->engine.logger().set_callback(level, [callback, user_data](int record_level, const std::string &line) {
      callback(record_level, line.c_str(), user_data);
    });
  });
}

PARLEY_API int parley_runtime_log(parley_runtime *runtime, int level, const char *message) {
  return guard("parley_runtime_log", [&] {
    require(runtime, "runtime");
    require(message, "message");
    runtime->engine.logger().log(checked_level(level), "", message);
  });
}

PARLEY_API int parley_runtime_poll_event(parley_event **out, parley_runtime *runtime, int timeout_ms) {
  return guard("parley_runtime_poll_event", [&]() -> int {
    require(out, "out");
    require(runtime, "runtime");
    auto event = runtime->engine.poll(parley::capi::checked_timeout(timeout_ms));
    if (!event) {
      return parley::capi::set_error(Status::timeout,
                                     "no event within " + std::to_string(timeout_ms) + " ms");
    }
    *out = reinterpret_cast<parley_event *>(event.release());
    return PARLEY_OK;
  });
}

PARLEY_API int parley_runtime_set_event_callback(parley_runtime *runtime, parley_event_cb callback,
                                                 void *user_data) {
  return guard("parley_runtime_set_event_callback", [&] {
    require(runtime, "runtime");
    if (callback == nullptr) {
      runtime->engine.set_event_callback(nullptr);
      return;
    }
    runtime->engine.set_event_callback([callback, user_data](parley::core::EventPtr event) {
      callback(reinterpret_cast<parley_event *>(event.release()), user_data);
    });
  });
}

PARLEY_API int parley_runtime_post_event(parley_runtime *runtime, const char *payload_json) {
  return guard("parley_runtime_post_event", [&]() -> int {
    require(runtime, "runtime");
    require(payload_json, "payload_json");
    if (!nlohmann::json::accept(payload_json)) {
      throw Error(Status::format, "parley_runtime_post_event: payload_json is not valid JSON");
    }
    auto event = parley::core::make_event(parley::core::EventType::user, "", payload_json);
    if (!runtime->engine.post(std::move(event))) {
      return parley::capi::set_error(Status::full, "event queue is full (capacity " +
          std::to_string(runtime->engine.config().event_queue_capacity) + "); event dropped");
    }
    return PARLEY_OK;
  });
}

}  // extern "C"

PARLEY_API int parley_runtime_stats_json(char **out_json, parley_runtime *runtime) {
  return guard("parley_runtime_stats_json", [&] {
    require(out_json, "out_json");
    require(runtime, "runtime");
    auto &engine = runtime->engine;
    *out_json = parley::capi::copy_to_host(engine.metrics().to_json(engine.sessions().count()));
  });
}
