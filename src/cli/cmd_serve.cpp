// parley serve --config FILE [--port N]: runs the configured listeners until SIGINT or
// SIGTERM, then drains (stops accepting, lets calls end up to drain_timeout_ms, hangs up the
// rest). Written against the public C ABI, as any host would be.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "parley/parley.h"

namespace parley::cli {
namespace {

void print_serve_usage(std::FILE *to) {
  std::fprintf(to,
               "usage: parley serve --config FILE [--port N]\n\n"
               "FILE is JSON: {\"runtime\": {...runtime config...}, \"listeners\": [{...}, ...],\n"
               "\"drain_timeout_ms\": 10000}. --port overrides the first listener's port (0 = any free\n"
               "port; the chosen one is printed). SIGINT/SIGTERM stop accepting and drain.\n");
}

// A thousand calls need more descriptors than the usual soft limit of 1024.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void on_event(parley_event *event, void *user_data) {
  auto *runtime = static_cast<parley_runtime *>(user_data);
  const int type = parley_event_type_of(event);
  if (type == PARLEY_EVENT_SESSION_STARTED || type == PARLEY_EVENT_SESSION_STOPPED ||
      type == PARLEY_EVENT_SESSION_REJECTED || type == PARLEY_EVENT_OVERFLOW) {
    const std::string line = std::string(parley_event_type_name(type)) + " " + parley_event_session_id(event) + " " +
                             parley_event_payload(event);
    parley_runtime_log(runtime, type == PARLEY_EVENT_SESSION_REJECTED ? PARLEY_LOG_WARN : PARLEY_LOG_DEBUG, line.c_str());
  }
  parley_event_release(event);
}

std::string fail_message() {
  const parley_error *error = parley_error_last();
  return error == nullptr ? "unknown error" : error->message;
}

}  // namespace

int run_serve(Args args) {
  std::string config_path;
  long port_override = -1;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      print_serve_usage(stdout);
      return 0;
    } else if (arg == "--config" && i + 1 < args.size()) {
      config_path = args[++i];
    } else if (arg == "--port" && i + 1 < args.size()) {
      char *end = nullptr;
      port_override = std::strtol(args[++i], &end, 10);
      if (*end != '\0' || port_override < 0 || port_override > 65535) {
        std::fprintf(stderr, "parley serve: --port must be 0..65535\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "parley serve: unexpected argument '%s'\n", arg.c_str());
      print_serve_usage(stderr);
      return 2;
    }
  }
  if (config_path.empty()) {
    print_serve_usage(stderr);
    return 2;
  }
  std::ifstream file(config_path);
  if (!file) {
    std::fprintf(stderr, "parley serve: cannot read %s\n", config_path.c_str());
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json config = nlohmann::json::parse(text.str(), nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    std::fprintf(stderr, "parley serve: %s is not a JSON object\n", config_path.c_str());
    return 1;
  }
  for (const auto &[key, value] : config.items()) {
    if (key != "runtime" && key != "listeners" && key != "drain_timeout_ms") {
      std::fprintf(stderr, "parley serve: %s: $.%s: unknown key\n", config_path.c_str(), key.c_str());
      return 1;
    }
  }
  if (!config.contains("listeners") || !config["listeners"].is_array() || config["listeners"].empty()) {
    std::fprintf(stderr, "parley serve: %s: $.listeners: expected a non-empty array\n", config_path.c_str());
    return 1;
  }
  const int drain_ms = config.value("drain_timeout_ms", 10000);
  if (port_override >= 0) config["listeners"][0]["port"] = port_override;

  raise_file_limit();
  // Block the stop signals in every thread (the runtime's threads inherit this mask), and
  // wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  parley_runtime *runtime = nullptr;
  const std::string runtime_config = config.value("runtime", nlohmann::json::object()).dump();
  if (parley_runtime_create(&runtime, runtime_config.c_str()) != PARLEY_OK) {
    std::fprintf(stderr, "parley serve: %s\n", fail_message().c_str());
    return 1;
  }
  parley_runtime_set_event_callback(runtime, on_event, runtime);
  std::vector<parley_listener *> listeners;
  for (size_t i = 0; i < config["listeners"].size(); ++i) {
    parley_listener *listener = nullptr;
    const std::string listener_config = config["listeners"][i].dump();
    if (parley_listener_start(&listener, runtime, listener_config.c_str()) != PARLEY_OK) {
      std::fprintf(stderr, "parley serve: listeners[%zu]: %s\n", i, fail_message().c_str());
      for (auto *started : listeners) parley_listener_destroy(started);
      parley_runtime_destroy(runtime);
      return 1;
    }
    listeners.push_back(listener);
    std::printf("listening transport=%s port=%d id=%s\n", config["listeners"][i].value("transport", "?").c_str(),
                parley_listener_port(listener), parley_listener_id(listener));
  }
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::printf("parley serve: %s: draining for up to %d ms\n", strsignal(signal_number), drain_ms);
  std::fflush(stdout);
  size_t hung_up_total = 0;
  for (auto *listener : listeners) {
    size_t hung_up = 0;
    parley_listener_stop(&hung_up, listener, drain_ms);
    hung_up_total += hung_up;
    parley_listener_destroy(listener);
  }
  parley_runtime_destroy(runtime);
  std::printf("parley serve: stopped (%zu calls hung up at the deadline)\n", hung_up_total);
  return 0;
}

}  // namespace parley::cli
