// The agent's configuration: which providers, what to say, and the knobs of every stage.
// Parsed from JSON (the listener's "agent" object, or a host session's); unknown keys are
// rejected with their path. docs/agent.md lists every key with its default.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/vad.hpp"
#include "pipeline/chunker.hpp"
#include "pipeline/endpointing.hpp"
#include "providers/llm/llm.hpp"

namespace parley::pipeline {

/// A tool the host answers (PARLEY_EVENT_TOOL_CALL → parley_session_tool_result).
struct HostTool {
  providers::ToolSpec spec;
  std::chrono::milliseconds timeout{5000};
  std::string fallback;  ///< spoken when the host does not answer in time; "" = the agent's default
};

struct InterruptionOptions {
  bool enabled = true;
  /// Caller speech must last this long (beyond the VAD's own start window) to interrupt.
  std::chrono::milliseconds min_duration{0};
  /// With an STT that gives partials: this many words (not counting backchannels) before
  /// the agent stops. 0 = interrupt on voice alone, at the VAD's confirmed start.
  int min_words = 0;
  /// Said while the agent talks, these alone never interrupt ("uh-huh", "okay"). Non-empty
  /// means the agent waits for words before stopping, as with min_words.
  std::vector<std::string> backchannels;
  /// After an interruption with no words within this long, the agent resumes what it was
  /// saying (a false interruption: a cough, a door). 0 = never resume.
  std::chrono::milliseconds false_interruption_timeout{2000};
};

struct IdleOptions {
  std::chrono::milliseconds reprompt_after{0};  ///< caller silence before a re-prompt; 0 = never
  std::string reprompt = "Are you still there?";
  int max_reprompts = 2;  ///< then `goodbye` and hang up
  std::string goodbye = "I'll end the call now. Goodbye.";
};

struct AgentConfig {
  nlohmann::json stt = {{"provider", "pocketsphinx"}};
  nlohmann::json llm = {{"provider", "scripted"}};
  nlohmann::json tts = {{"provider", "espeak"}};
  std::string system_prompt;
  std::string greeting;         ///< spoken first, as is
  bool greet_from_llm = false;  ///< or: ask the model for the first line (no user message yet)
  std::vector<HostTool> tools;
  /// Built-in tools offered to the model: "hang_up", "send_dtmf", "transfer" (the last two
  /// only work where the transport supports them).
  std::vector<std::string> builtin_tools = {"hang_up"};
  std::string tool_fallback = "Sorry, I couldn't do that just now.";
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  audio::VadConfig vad;
  EndpointingOptions endpointing;
  ChunkerOptions chunker;
  InterruptionOptions interruption;
  IdleOptions idle;
  std::chrono::milliseconds max_call_duration{0};  ///< 0 = no limit
  std::string max_duration_message = "We've reached the time limit for this call. Goodbye.";
  int max_tts_lookahead = 2;  ///< chunks synthesised ahead of the one playing
  /// The budget controller's config (docs/budget.md); null = no controller.
  nlohmann::json budget;

  /// Parses and validates `json`. `what`/`path` prefix errors ("twilio listener config",
  /// "$.agent"). Throws Error(config) naming the path of the first bad field.
  static AgentConfig parse(const nlohmann::json &json, const std::string &what, const std::string &path);
};

}  // namespace parley::pipeline
