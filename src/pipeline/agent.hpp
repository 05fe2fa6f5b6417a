// The voice agent: one per call, living on the call session's strand as its observer.
//
//   caller audio → VAD → STT stream → endpointing → turn
//   turn → context (+ budget controller) → LLM stream → speakable chunker → TTS per chunk
//        → session (paced out by the transport), one playback mark per chunk
//   caller speech while the agent talks → clear, cancel TTS and LLM, keep what was heard
//
// States (PARLEY_EVENT_AGENT_STATE): idle (not started / ended), listening, thinking (a
// reply is being prepared, nothing playing yet), speaking (agent audio is playing at the far
// end). Every turn ends with a PARLEY_EVENT_TURN carrying its latency figures. Tools the
// host declared become PARLEY_EVENT_TOOL_CALL events, answered by parley_session_tool_result.
// The whole design, with its decisions, is in docs/agent.md.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/behaviour.hpp"
#include "pipeline/agent_config.hpp"
#include "providers/llm/llm.hpp"
#include "providers/provider.hpp"
#include "providers/stt/stt.hpp"
#include "providers/tts/tts.hpp"

namespace parley::core {
class Runtime;
}
namespace parley::providers {
class Registry;
}

namespace parley::pipeline {

/// The three providers of one call.
struct AgentProviders {
  std::unique_ptr<providers::Stt> stt;
  std::unique_ptr<providers::Llm> llm;
  std::unique_ptr<providers::Tts> tts;
};

/// Builds a call's providers from the agent config (`what`/`path` prefix config errors).
using ProviderBuilder = std::function<AgentProviders(const AgentConfig &config, const providers::ProviderContext &context,
                                                     const std::string &what, const std::string &path)>;

/// The builder over a registry (the caller keeps the registry alive and, if it changes,
/// serialises access: see the C ABI's runtime handle).
AgentProviders build_providers(const providers::Registry &registry, const AgentConfig &config,
                               const providers::ProviderContext &context, const std::string &what, const std::string &path);

/// The agent as a behaviour: parses and checks its config (building each provider once, so
/// a missing model file or a bad key fails when the listener starts, not on the first call),
/// then attaches an agent to every session it is given.
std::shared_ptr<core::Behaviour> make_agent_behaviour(core::Runtime &runtime, ProviderBuilder builder,
                                                      const nlohmann::json &config, const std::string &what,
                                                      const std::string &path);

/// Registers "agent" with `runtime`, building providers with `builder`.
void register_agent_behaviour(core::Runtime &runtime, ProviderBuilder builder);

}  // namespace parley::pipeline
