#include "cli/provider_flags.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <sstream>

#include "audio/resampler.hpp"
#include "common/error.hpp"
#include "core/runtime.hpp"
#include "providers/registry.hpp"

namespace parley::cli {

const char kExitCodesHelp[] =
    "exit status:\n"
    "  0    success\n"
    "  1    the provider reported an error (its kind and message are printed)\n"
    "  2    bad flags or arguments\n"
    "  3    unknown provider, or a config key or value the provider rejected\n"
    "  4    an input or output file could not be read, written or parsed\n"
    "  5    the provider did not finish within --timeout\n"
    "  130  interrupted (SIGINT/SIGTERM): the request was cancelled\n";

const char kProviderFlagsHelp[] =
    "  --config JSON|FILE   provider config keys, as JSON text or a file holding a JSON object;\n"
    "                       flags win over its keys; its \"provider\" is used without --provider\n"
    "  --base-url URL       the service's base URL (config key base_url)\n"
    "  --api-key-env VAR    the environment variable holding the API key (config key\n"
    "                       api_key_env); each provider has its own default (OPENAI_API_KEY ...)\n"
    "  --model M            config key model\n"
    "  --timeout S          give up after S seconds (default 60)\n"
    "  -v, --verbose        the runtime's debug log on stderr (default: warnings only)\n";

// ---------------------------------------------------------------------------------------------
// Flags

std::optional<int> parse_flags(const char *command, Args args, const std::vector<Flag> &flags,
                               std::vector<std::string> &positional, void (*usage)(std::FILE *to)) {
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = args[i];
    if (!only_positional && arg == "--") {
      only_positional = true;
      continue;
    }
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    }
    std::string name = arg, value;
    bool inline_value = false;
    if (const size_t equals = arg.find('='); arg.rfind("--", 0) == 0 && equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      inline_value = true;
    }
    const Flag *flag = nullptr;
    for (const auto &candidate : flags) {
      if (name == candidate.name || (!candidate.alias.empty() && name == candidate.alias)) flag = &candidate;
    }
    if (flag == nullptr) return usage_error(command, "unknown option '" + name + "'", usage);
    if (flag->takes_value && !inline_value) {
      if (i + 1 >= args.size()) return usage_error(command, name + " needs a value", usage);
      value = args[++i];
    } else if (!flag->takes_value && inline_value) {
      return usage_error(command, name + " takes no value", usage);
    }
    if (const std::string problem = flag->apply(value); !problem.empty()) {
      return usage_error(command, name + ": " + problem, usage);
    }
  }
  return std::nullopt;
}

int usage_error(const char *command, const std::string &message, void (*usage)(std::FILE *to)) {
  std::fprintf(stderr, "parley %s: %s\n\n", command, message.c_str());
  usage(stderr);
  return kExitUsage;
}

namespace {

std::string parse_seconds(const std::string &text, std::chrono::milliseconds &out) {
  char *end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > 86400) {
    return "expected seconds (a number > 0); got '" + text + "'";
  }
  out = std::chrono::milliseconds(std::max<long long>(1, std::llround(seconds * 1000)));
  return {};
}

// --config: JSON text when it looks like an object, else a file holding one.
std::string parse_config_flag(const std::string &value, nlohmann::json &config) {
  const size_t first = value.find_first_not_of(" \t\r\n");
  std::string text = value, origin = "the JSON";
  if (first == std::string::npos || value[first] != '{') {
    std::string problem;
    const auto file = read_text_file(value, problem);
    if (!file) return problem;
    text = *file;
    origin = value;
  }
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return origin + " is not valid JSON";
  if (!parsed.is_object()) return origin + " is not a JSON object";
  config.update(parsed);
  return {};
}

}  // namespace

void ProviderFlags::add_to(std::vector<Flag> &flags) {
  flags.push_back({"--provider", "", true, [this](const std::string &value) -> std::string {
                     if (value.empty()) return "expected a provider name";
                     provider = value;
                     return {};
                   }});
  flags.push_back({"--config", "", true, [this](const std::string &value) { return parse_config_flag(value, config); }});
  add_key_flag(flags, "--base-url", "base_url");
  add_key_flag(flags, "--api-key-env", "api_key_env");
  add_key_flag(flags, "--model", "model");
  flags.push_back({"--timeout", "", true, [this](const std::string &value) { return parse_seconds(value, timeout); }});
  flags.push_back({"--verbose", "-v", false, [this](const std::string &) {
                     verbose = true;
                     return std::string();
                   }});
}

void ProviderFlags::add_key_flag(std::vector<Flag> &flags, std::string_view name, std::string key) {
  flags.push_back({name, "", true, [this, key = std::move(key)](const std::string &value) -> std::string {
                     if (value.empty()) return "expected a value";
                     keys[key] = value;
                     return {};
                   }});
}

std::string ProviderFlags::provider_name(const char *fallback) const {
  if (!provider.empty()) return provider;
  if (const auto it = config.find("provider"); it != config.end() && it->is_string()) return it->get<std::string>();
  return fallback;
}

nlohmann::json ProviderFlags::provider_config(const std::string &name) const {
  nlohmann::json merged = config;
  merged["provider"] = name;
  for (const auto &[key, value] : keys.items()) merged[key] = value;
  return merged;
}

std::string text_or_stdin(const std::string &value) {
  if (value != "-") return value;
  return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
}

std::optional<std::string> read_text_file(const std::string &path, std::string &problem) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    problem = "cannot read '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string describe(const providers::ProviderError &error, core::Runtime &runtime) {
  std::string text = std::string(providers::error_kind_name(error.kind)) + ": " + error.message;
  if (error.http_status != 0) text += " (HTTP " + std::to_string(error.http_status) + ")";
  // The providers keep keys out of their messages; the redactor is the second line.
  return runtime.logger().secrets().redact(text);
}

int exit_code_for(const std::exception &error) {
  const auto *engine = dynamic_cast<const Error *>(&error);
  if (engine == nullptr) return kExitProvider;
  switch (engine->status()) {
    case Status::config:
    case Status::not_found:
    case Status::invalid_argument:
    case Status::unsupported:
      return kExitConfig;
    case Status::io:
    case Status::format:
      return kExitIo;
    case Status::timeout:
      return kExitTimeout;
    default:
      return kExitProvider;
  }
}

std::vector<int16_t> resample_all(std::vector<int16_t> samples, int from, int to) {
  if (from == to) return samples;
  audio::Resampler resampler(from, to);
  constexpr size_t kChunk = 960;  // 20 ms at 48 kHz
  std::vector<int16_t> out, buffer(resampler.max_output(kChunk));
  out.reserve(samples.size() * static_cast<size_t>(to) / static_cast<size_t>(from) + kChunk);
  for (size_t done = 0; done < samples.size(); done += kChunk) {
    const size_t count = std::min(kChunk, samples.size() - done);
    const size_t got = resampler.process(std::span(samples).subspan(done, count), buffer);
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got));
  }
  while (const size_t got = resampler.flush(buffer)) {
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ProviderRun

struct ProviderRun::Timers {
  explicit Timers(const boost::asio::any_io_executor &strand) : signals(strand, SIGINT, SIGTERM), timeout(strand) {}
  boost::asio::signal_set signals;
  boost::asio::steady_timer timeout;
};

namespace {

core::RuntimeConfig cli_runtime_config(bool verbose) {
  core::RuntimeConfig config;
  config.io_threads = 1;
  config.worker_threads = 2;
  config.log.level = verbose ? core::LogLevel::debug : core::LogLevel::warn;
  config.log.sink = "stderr";
  return config;
}

}  // namespace

ProviderRun::ProviderRun(const char *command, bool verbose)
    : command_(command), runtime_(std::make_unique<core::Runtime>(cli_runtime_config(verbose))) {
  context_ = providers::make_context(*runtime_, boost::asio::make_strand(runtime_->io_context()), command);
  timers_ = std::make_unique<Timers>(context_.executor);
}

ProviderRun::~ProviderRun() {
  // The timers belong to the strand; after this, their aborted handlers touch nothing.
  on_strand([this] { timers_.reset(); });
  // The strand's executor must go before the io_context that owns its service.
  context_ = providers::ProviderContext{};
  runtime_.reset();
}

int ProviderRun::run(std::function<void()> start, std::function<void()> cancel) {
  cancel_ = std::move(cancel);
  boost::asio::post(context_.executor, [this, start = std::move(start)] {
    timers_->signals.async_wait([this](const boost::system::error_code &ec, int signal_number) {
      if (ec || finished_on_strand_) return;
      // A second signal while the cancellation is stuck ends the process at once.
      timers_->signals.async_wait([](const boost::system::error_code &again, int) {
        if (!again) std::_Exit(kExitInterrupted);
      });
      interrupt(kExitInterrupted, std::string("interrupted (") + strsignal(signal_number) + "): cancelled");
    });
    try {
      start();
    } catch (const std::exception &e) {
      if (cancel_) cancel_();
      say(e.what());
      finish(exit_code_for(e));
    }
  });
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return exit_code_.has_value(); });
  return *exit_code_;
}

void ProviderRun::finish(int code) {
  if (finished_on_strand_) return;
  finished_on_strand_ = true;
  timers_->timeout.cancel();
  std::lock_guard lock(mutex_);
  exit_code_ = code;
  done_.notify_all();
}

void ProviderRun::arm_timeout(std::chrono::milliseconds timeout, std::string what) {
  timers_->timeout.expires_after(timeout);
  timers_->timeout.async_wait([this, what = std::move(what)](const boost::system::error_code &ec) {
    if (!ec) interrupt(kExitTimeout, what);
  });
}

void ProviderRun::interrupt(int code, const std::string &message) {
  if (finished_on_strand_) return;
  if (cancel_) cancel_();
  say(message);
  finish(code);
}

void ProviderRun::on_strand(std::function<void()> job) {
  std::promise<void> ran;
  boost::asio::post(context_.executor, [&] {
    try {
      job();
    } catch (const std::exception &e) {
      say(e.what());
    }
    ran.set_value();
  });
  ran.get_future().wait();
}

void ProviderRun::say(const std::string &message) const {
  std::fprintf(stderr, "parley %s: %s\n", command_, message.c_str());
  std::fflush(stderr);
}

}  // namespace parley::cli
