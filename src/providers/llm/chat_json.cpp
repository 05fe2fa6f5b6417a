#include "providers/llm/chat_json.hpp"

namespace parley::providers {

using nlohmann::json;

json chat_messages_json(const std::vector<ChatMessage> &messages) {
  json out = json::array();
  for (const auto &m : messages) {
    json message = {{"role", m.role}, {"content", m.content}};
    if (!m.tool_call_id.empty()) message["tool_call_id"] = m.tool_call_id;
    if (!m.tool_calls.empty()) {
      message["tool_calls"] = json::array();
      for (const auto &call : m.tool_calls) {
        message["tool_calls"].push_back(
            {{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
      }
    }
    out.push_back(std::move(message));
  }
  return out;
}

std::vector<ChatMessage> chat_messages_from_json(const json &messages) {
  std::vector<ChatMessage> out;
  for (const auto &item : messages) {
    ChatMessage message;
    message.role = item.value("role", "");
    if (item.contains("content") && item["content"].is_string()) message.content = item["content"].get<std::string>();
    message.tool_call_id = item.value("tool_call_id", "");
    if (item.contains("tool_calls")) {
      for (const auto &call : item["tool_calls"]) {
        const auto &function = call.at("function");
        message.tool_calls.push_back({call.value("id", ""), function.value("name", ""), function.value("arguments", "")});
      }
    }
    out.push_back(std::move(message));
  }
  return out;
}

}  // namespace parley::providers
