#include "providers/registry.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "core/runtime.hpp"
#include "providers/stt/decorators.hpp"

#include <boost/asio/thread_pool.hpp>

namespace parley::providers {
namespace {

template <typename T>
std::vector<std::string> names_of(const std::map<std::string, Registry::Factory<T>, std::less<>> &map) {
  std::vector<std::string> names;
  names.reserve(map.size());
  for (const auto &[name, factory] : map) names.push_back(name);
  return names;
}

template <typename T>
std::unique_ptr<T> build(const std::map<std::string, Registry::Factory<T>, std::less<>> &factories,
                         const char *kind, core::ConfigReader &reader, const ProviderContext &context,
                         const std::string &what, const std::string &path);

template <typename T>
std::unique_ptr<T> make(const std::map<std::string, Registry::Factory<T>, std::less<>> &factories,
                        const char *kind, const nlohmann::json &config,
                        const ProviderContext &context, std::string what, std::string path) {
  core::ConfigReader reader(config, what, path);
  return build(factories, kind, reader, context, what, path);
}

template <typename T>
std::unique_ptr<T> build(const std::map<std::string, Registry::Factory<T>, std::less<>> &factories,
                         const char *kind, core::ConfigReader &reader, const ProviderContext &context,
                         const std::string &what, const std::string &path) {
  const std::string name = reader.string("provider", "");
  if (name.empty()) reader.fail("provider", "missing: name the implementation");
  auto it = factories.find(name);
  if (it == factories.end()) {
    std::string known;
    for (const auto &[n, f] : factories) known += (known.empty() ? "" : ", ") + n;
    throw Error(Status::not_found, what + ": " + path + ".provider: no " + kind +
                                       " provider named \"" + name + "\" (known: " + known + ")");
  }
  auto provider = it->second(reader, context);
  reader.reject_unknown_keys();
  return provider;
}

}  // namespace

void Registry::add_llm(std::string name, Factory<Llm> factory) {
  llms_[std::move(name)] = std::move(factory);
}
void Registry::add_tts(std::string name, Factory<Tts> factory) {
  ttss_[std::move(name)] = std::move(factory);
}
void Registry::add_stt(std::string name, Factory<Stt> factory) {
  stts_[std::move(name)] = std::move(factory);
}

std::unique_ptr<Llm> Registry::make_llm(const nlohmann::json &config, const ProviderContext &context,
                                        std::string what, std::string path) const {
  return make(llms_, "LLM", config, context, std::move(what), std::move(path));
}
std::unique_ptr<Tts> Registry::make_tts(const nlohmann::json &config, const ProviderContext &context,
                                        std::string what, std::string path) const {
  return make(ttss_, "TTS", config, context, std::move(what), std::move(path));
}
// The decorator keys every STT config accepts, read here so no implementation sees them:
//   "reconnect": false | {"max_attempts","initial_backoff_ms","max_backoff_ms","jitter","max_gap_ms"}
//   "echo_discard_ms": N        drop results N ms after the agent stops speaking
//   "secondary": {STT config}   a second recogniser that only logs (a tee)
std::unique_ptr<Stt> Registry::make_stt(const nlohmann::json &config, const ProviderContext &context,
                                        std::string what, std::string path) const {
  core::ConfigReader reader(config, what, path);
  bool reconnect = true;
  ReconnectPolicy policy;
  if (const nlohmann::json *value = reader.raw("reconnect")) {
    if (value->is_boolean()) {
      reconnect = value->get<bool>();
    } else {
      core::ConfigReader r(*value, what, path + ".reconnect");
      policy.max_attempts = static_cast<int>(r.integer("max_attempts", policy.max_attempts, 0, 1000));
      policy.initial_backoff = std::chrono::milliseconds(r.integer("initial_backoff_ms", policy.initial_backoff.count(), 1, 60'000));
      policy.max_backoff = std::chrono::milliseconds(r.integer("max_backoff_ms", policy.max_backoff.count(), 1, 600'000));
      policy.jitter = r.number("jitter", policy.jitter, 0, 1);
      policy.max_gap = std::chrono::milliseconds(r.integer("max_gap_ms", policy.max_gap.count(), 0, 120'000));
      r.reject_unknown_keys();
    }
  }
  const auto echo_discard = std::chrono::milliseconds(reader.integer("echo_discard_ms", 0, 0, 10'000));
  const nlohmann::json *secondary = reader.raw("secondary");

  auto stt = build(stts_, "STT", reader, context, what, path);
  if (reconnect && stt->streams_can_drop()) stt = make_reconnecting_stt(std::move(stt), policy, context);
  if (echo_discard.count() > 0) stt = make_echo_discard_stt(std::move(stt), echo_discard, context);
  if (secondary) stt = make_tee_stt(std::move(stt), make_stt(*secondary, context, what, path + ".secondary"), context);
  return stt;
}

std::vector<std::string> Registry::llm_names() const { return names_of(llms_); }
std::vector<std::string> Registry::tts_names() const { return names_of(ttss_); }
std::vector<std::string> Registry::stt_names() const { return names_of(stts_); }

ProviderContext make_context(core::Runtime &runtime, boost::asio::any_io_executor executor, std::string call_id) {
  ProviderContext context;
  context.executor = std::move(executor);
  context.workers = runtime.workers().get_executor();
  context.http = &runtime.http();
  context.logger = &runtime.logger();
  context.call_id = std::move(call_id);
  return context;
}

std::string read_api_key(core::ConfigReader &config, const ProviderContext &context,
                         const char *default_env) {
  std::string key = config.string("api_key", "");
  const std::string env = config.string("api_key_env", default_env ? default_env : "");
  if (key.empty() && !env.empty()) {
    if (const char *value = std::getenv(env.c_str())) key = value;
  }
  if (!key.empty() && context.logger) context.logger->secrets().add(key);
  return key;
}

}  // namespace parley::providers
