// What a session does with its call beyond carrying audio. "host" leaves the call to the
// host program and "echo" plays caller audio back (both built into the session); any other
// behaviour is registered with the runtime by a higher layer — the agent (pipeline/agent.hpp)
// is registered as "agent" by the C ABI — so transports can offer it without including it.
//
// A listener (or a host session) names its behaviour and carries its config under the same
// key: {"behaviour": "agent", "agent": {...}}. The factory validates that config once, when
// the listener starts; the Behaviour it returns is then attached to every call.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace parley::core {

class Session;

class Behaviour {
 public:
  virtual ~Behaviour() = default;
  /// Called on the new session's strand before its call starts; typically installs a
  /// SessionObserver. Throws on failure, and the call is then refused.
  virtual void attach(const std::shared_ptr<Session> &session) = 0;
};

/// Builds a behaviour from its config. `what` ("twilio listener config") and `path` (its
/// JSON path, "$.agent") prefix error messages; throws Error(config) naming the path of a
/// bad field.
using BehaviourFactory = std::function<std::shared_ptr<Behaviour>(const nlohmann::json &config, const std::string &what,
                                                                  const std::string &path)>;

class ConfigReader;
class Runtime;

/// Reads "behaviour" from a listener or host-session config into `name` ("host" when
/// absent) and, for a registered behaviour, builds it from the config under its name
/// (absent = {}). Returns null for the built-in "host" and "echo".
std::shared_ptr<Behaviour> read_behaviour(ConfigReader &config, Runtime &runtime, std::string &name);

}  // namespace parley::core
