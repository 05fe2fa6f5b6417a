// The streaming LLM interface: messages and tools in; text deltas, tool-call deltas, usage
// and a finish reason out. See providers/provider.hpp for the threading contract.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"

namespace parley::providers {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the model produced it
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant", "tool"
  std::string content;  // may be empty for an assistant message that only calls tools
  std::vector<ToolCall> tool_calls;  // assistant messages
  std::string tool_call_id;          // tool messages
};

struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters_json = R"({"type":"object","properties":{}})";  // JSON Schema
};

struct LlmRequest {
  std::vector<ChatMessage> messages;
  std::vector<ToolSpec> tools;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
};

/// One fragment of a tool call as it streams: `index` identifies the call; `id` and `name`
/// arrive once (usually first), `arguments` in pieces.
struct ToolCallDelta {
  int index = 0;
  std::string_view id;
  std::string_view name;
  std::string_view arguments;
};

struct LlmUsage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

struct LlmResult {
  std::string finish_reason;        // "stop", "length", "tool_calls", ...
  std::string text;                 // the whole reply
  std::vector<ToolCall> tool_calls; // assembled from the deltas
  std::optional<LlmUsage> usage;    // when the server reported it
  /// Request start → first content or tool-call delta; nullopt when none arrived.
  std::optional<std::chrono::microseconds> time_to_first_token;
  int attempts = 1;                 // 1 + retries taken
};

struct LlmCallbacks {
  std::function<void(std::string_view text)> on_text;
  std::function<void(const ToolCallDelta &delta)> on_tool_call_delta;  // optional
  /// Exactly one of on_done and on_error ends a stream that was not cancelled.
  std::function<void(LlmResult result)> on_done;
  std::function<void(ProviderError error)> on_error;
};

class Llm {
 public:
  virtual ~Llm() = default;
  virtual const std::string &name() const noexcept = 0;
  /// Starts a streaming completion. The returned handle cancels it (destroying it cancels too).
  virtual std::unique_ptr<Cancellable> stream(LlmRequest request, LlmCallbacks callbacks) = 0;
};

}  // namespace parley::providers
