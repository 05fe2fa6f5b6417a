#include "providers/registry.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "core/runtime.hpp"

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
std::unique_ptr<T> make(const std::map<std::string, Registry::Factory<T>, std::less<>> &factories,
                        const char *kind, const nlohmann::json &config,
                        const ProviderContext &context, std::string what, std::string path) {
  core::ConfigReader reader(config, what, path);
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
std::unique_ptr<Stt> Registry::make_stt(const nlohmann::json &config, const ProviderContext &context,
                                        std::string what, std::string path) const {
  return make(stts_, "STT", config, context, std::move(what), std::move(path));
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
