// Chat messages as OpenAI-style JSON, for everything that hands a conversation to code
// outside the provider: host-implemented LLMs (PARLEY_EVENT_PROVIDER_REQUEST) and the budget
// controller (parley_budget_prepare's format).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "providers/llm/llm.hpp"

namespace parley::providers {

/// [{"role", "content", "tool_call_id"?, "tool_calls"?: [{"id", "type": "function",
/// "function": {"name", "arguments"}}]}, ...]
nlohmann::json chat_messages_json(const std::vector<ChatMessage> &messages);

/// The inverse; unknown fields are ignored, a missing or non-string content is "".
/// Throws nlohmann::json::exception when a tool call has no "function" object.
std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json &messages);

}  // namespace parley::providers
