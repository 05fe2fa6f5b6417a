// Builds providers by name from JSON config. The built-in adapters and local engines
// register themselves in builtin_registry(); a host adds its own implementations through
// the C ABI (parley_provider_register_*), which land here too.
//
// A provider config is a JSON object whose "provider" key names the implementation; the
// other keys belong to that implementation and unknown ones are rejected with their path:
//   {"provider":"openai","model":"gpt-4o-mini","base_url":"http://127.0.0.1:8080/v1"}
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config_reader.hpp"
#include "providers/llm/llm.hpp"
#include "providers/stt/stt.hpp"
#include "providers/tts/tts.hpp"

namespace parley::providers {

class Registry {
 public:
  /// A factory reads its keys from `config` (ConfigReader rejects wrong types with the JSON
  /// path) and builds the provider. It throws Error(Status::config) on bad config.
  template <typename T>
  using Factory = std::function<std::unique_ptr<T>(core::ConfigReader &config,
                                                   const ProviderContext &context)>;

  /// Adds or replaces the factory registered under `name`.
  void add_llm(std::string name, Factory<Llm> factory);
  void add_tts(std::string name, Factory<Tts> factory);
  void add_stt(std::string name, Factory<Stt> factory);

  /// Builds the provider `config` names ({"provider":"NAME", ...}). `what` prefixes error
  /// messages ("agent config", path "$.llm"). Throws Error(Status::not_found) for an
  /// unknown name (listing the known ones) and Error(Status::config) for bad keys.
  std::unique_ptr<Llm> make_llm(const nlohmann::json &config, const ProviderContext &context,
                                std::string what = "llm config", std::string path = "$") const;
  std::unique_ptr<Tts> make_tts(const nlohmann::json &config, const ProviderContext &context,
                                std::string what = "tts config", std::string path = "$") const;
  std::unique_ptr<Stt> make_stt(const nlohmann::json &config, const ProviderContext &context,
                                std::string what = "stt config", std::string path = "$") const;

  std::vector<std::string> llm_names() const;
  std::vector<std::string> tts_names() const;
  std::vector<std::string> stt_names() const;

 private:
  std::map<std::string, Factory<Llm>, std::less<>> llms_;
  std::map<std::string, Factory<Tts>, std::less<>> ttss_;
  std::map<std::string, Factory<Stt>, std::less<>> stts_;
};

/// A registry holding every built-in provider: local engines (scripted, espeak, pocketsphinx)
/// and cloud adapters (openai, elevenlabs, deepgram, azure).
Registry builtin_registry();

}  // namespace parley::providers

namespace parley::core {
class Runtime;
}

namespace parley::providers {

/// A context for one session (or one CLI run) on `runtime`: callbacks on `executor`, blocking
/// work on the runtime's workers, HTTP on the runtime's client, logs to its logger.
ProviderContext make_context(core::Runtime &runtime, boost::asio::any_io_executor executor,
                             std::string call_id = {});

/// Reads an API key: the config's "api_key", else the environment variable named by the
/// config's "api_key_env" (default `default_env`). The key is registered with the logger's
/// redactor so it never reaches a log line. Empty when neither is set.
std::string read_api_key(core::ConfigReader &config, const ProviderContext &context,
                         const char *default_env);

}  // namespace parley::providers
