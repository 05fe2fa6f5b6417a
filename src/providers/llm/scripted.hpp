// `scripted`: the local LLM. A dialogue flow in JSON (providers/llm/scripted_flow.hpp,
// docs/scripted-flow.md) answers each request, and the answer streams token by token at a
// configurable pace, tool calls included, so the agent pipeline runs exactly as it would
// with a real model: time to first token, text deltas, tool-call deltas, usage, finish
// reason, cancellation.
//
// Config ({"provider":"scripted", ...}):
//   "flow"                  path of a flow file, or
//   "flow_json"             the flow inline: a string holding its JSON text, or the object
//                           itself once core::ConfigReader offers raw(key)
//   "tokens_per_second"     pacing of the stream; default 40; 0 = as fast as the executor runs
//   "first_token_delay_ms"  simulated time to first token; default 150
//   "seed"                  picks among reply variants, deterministically; default 0
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "core/config_reader.hpp"
#include "providers/llm/llm.hpp"
#include "providers/llm/scripted_flow.hpp"

namespace parley::providers {

class Registry;

struct ScriptedOptions {
  double tokens_per_second = 40;                     // 0: no pacing
  std::chrono::milliseconds first_token_delay{150};  // request -> first token
  uint64_t seed = 0;
};

/// Reads the config above; throws Error(Status::config) naming the JSON path of a bad key,
/// and of the bad field inside the flow ("llm config: $.flow_json.states.ask_day.intents[0].regex: invalid regex: ...").
std::unique_ptr<Llm> make_scripted_llm(core::ConfigReader &config, const ProviderContext &context);

/// The same over a flow already loaded (Flow::parse).
std::unique_ptr<Llm> make_scripted_llm(std::shared_ptr<const scripted::Flow> flow, ScriptedOptions options,
                                       const ProviderContext &context);

/// Registers "scripted".
void register_scripted(Registry &registry);

}  // namespace parley::providers
