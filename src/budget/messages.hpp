// Chat messages as the controller sees them: OpenAI-style message objects (system,
// developer, user, assistant with tool_calls, tool results), plus Parley's "pinned" flag,
// with per-model-family token accounting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "budget/tokenizer.hpp"

namespace parley::budget {

struct Message {
  std::string role;            ///< system, developer, user, assistant, tool or function
  std::string text;            ///< the text content (text parts joined)
  std::string name;            ///< optional "name"
  std::vector<std::string> tool_call_ids;  ///< assistant: ids of its tool_calls
  std::string tool_call_text;  ///< assistant: tool names and arguments, for counting and relevance
  std::string tool_call_id;    ///< tool: the call this result answers
  bool pinned = false;         ///< never removed by compression
  nlohmann::json original;     ///< the message as given, without "pinned" (returned as is)

  /// A hash of everything that is counted, to cache token counts across turns.
  std::uint64_t content_hash() const noexcept;
  bool is_instructions() const noexcept { return role == "system" || role == "developer"; }
};

/// Parses an OpenAI-style messages array. Throws Error(Status::format) naming the JSON path
/// ("messages: $[3].tool_calls[0].id: expected a string").
std::vector<Message> parse_messages(std::string_view json_text);

/// Serializes the messages (their `original` objects) as a JSON array.
std::string serialize_messages(const std::vector<const Message *> &messages);

/// How a model family frames chat messages in tokens (OpenAI's published accounting: every
/// message costs `per_message` plus its role and contents, a name `per_name` more, and the
/// reply is primed with `reply_priming` tokens).
struct ChatFormat {
  int per_message = 3;
  int per_name = 1;
  int reply_priming = 3;
  int per_tool_call = 3;  ///< framing of each tool call (name + JSON arguments counted too)
};

/// The format for a model name: gpt-3.5-turbo-0301 used 4 per message and -1 per name;
/// every later OpenAI chat model, and the default, 3 and 1.
ChatFormat chat_format_for_model(std::string_view model) noexcept;

/// Tokens one message adds to a prompt under `format`.
std::size_t message_tokens(const Message &message, const TokenCounter &counter, const ChatFormat &format);

}  // namespace parley::budget
