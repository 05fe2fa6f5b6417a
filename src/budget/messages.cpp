#include "budget/messages.hpp"

#include "budget/rank_table.hpp"
#include "common/error.hpp"

namespace parley::budget {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string &path, const std::string &problem) {
  throw Error(Status::format, "messages: " + path + ": " + problem);
}

std::string kind_of(const json &value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    default: return "a number";
  }
}

const std::string &string_at(const json &object, const char *key, const std::string &path) {
  const auto it = object.find(key);
  if (it == object.end()) bad(path + "." + key, "missing");
  if (!it->is_string()) bad(path + "." + key, "expected a string, got " + kind_of(*it));
  return it->get_ref<const std::string &>();
}

// "content": a string, null, or an array of parts whose text parts are {"type":"text","text":...}.
std::string content_text(const json &message, const std::string &path) {
  const auto it = message.find("content");
  if (it == message.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) bad(path + ".content", "expected a string, an array of parts or null, got " + kind_of(*it));
  std::string text;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json &part = (*it)[i];
    const std::string part_path = path + ".content[" + std::to_string(i) + "]";
    if (!part.is_object()) bad(part_path, "expected an object, got " + kind_of(part));
    const auto text_it = part.find("text");
    if (text_it == part.end()) continue;  // images, audio: not counted (see docs/budget.md)
    if (!text_it->is_string()) bad(part_path + ".text", "expected a string, got " + kind_of(*text_it));
    if (!text.empty()) text += '\n';
    text += text_it->get<std::string>();
  }
  return text;
}

void read_tool_calls(const json &object, const std::string &path, Message &message) {
  const auto it = object.find("tool_calls");
  if (it != object.end() && !it->is_null()) {
    if (!it->is_array()) bad(path + ".tool_calls", "expected an array, got " + kind_of(*it));
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json &call = (*it)[i];
      const std::string call_path = path + ".tool_calls[" + std::to_string(i) + "]";
      if (!call.is_object()) bad(call_path, "expected an object, got " + kind_of(call));
      message.tool_call_ids.push_back(string_at(call, "id", call_path));
      const auto function = call.find("function");
      if (function == call.end() || !function->is_object()) bad(call_path + ".function", "expected an object");
      message.tool_call_text += string_at(*function, "name", call_path + ".function");
      message.tool_call_text += ' ';
      const auto arguments = function->find("arguments");
      if (arguments != function->end()) {
        if (!arguments->is_string()) {
          bad(call_path + ".function.arguments", "expected a string, got " + kind_of(*arguments));
        }
        message.tool_call_text += arguments->get<std::string>();
      }
      message.tool_call_text += '\n';
    }
  }
  // The legacy single "function_call" pairs with the next "function" message.
  const auto legacy = object.find("function_call");
  if (legacy != object.end() && !legacy->is_null()) {
    if (!legacy->is_object()) bad(path + ".function_call", "expected an object, got " + kind_of(*legacy));
    message.tool_call_ids.emplace_back("function_call");
    message.tool_call_text += string_at(*legacy, "name", path + ".function_call");
    const auto arguments = legacy->find("arguments");
    if (arguments != legacy->end() && arguments->is_string()) message.tool_call_text += " " + arguments->get<std::string>();
  }
}

Message parse_message(json &object, const std::string &path) {
  if (!object.is_object()) bad(path, "expected a message object, got " + kind_of(object));
  Message message;
  message.role = string_at(object, "role", path);
  const std::string &role = message.role;
  if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool" &&
      role != "function") {
    bad(path + ".role", "expected system, developer, user, assistant, tool or function, got \"" + role + "\"");
  }
  message.text = content_text(object, path);
  if (object.contains("name")) message.name = string_at(object, "name", path);
  if (role == "assistant") read_tool_calls(object, path, message);
  if (role == "tool") message.tool_call_id = string_at(object, "tool_call_id", path);
  if (role == "function") message.tool_call_id = "function_call";
  const auto pinned = object.find("pinned");
  if (pinned != object.end()) {
    if (!pinned->is_boolean()) bad(path + ".pinned", "expected true or false, got " + kind_of(*pinned));
    message.pinned = pinned->get<bool>();
  }
  message.original = std::move(object);  // the parsed document is not needed any more
  message.original.erase("pinned");  // Parley's own field; providers reject unknown fields
  return message;
}

}  // namespace

std::uint64_t Message::content_hash() const noexcept {
  std::uint64_t h = 0x243F6A8885A308D3ull;
  for (const std::string *part : {&role, &text, &name, &tool_call_text, &tool_call_id}) {
    const auto *bytes = reinterpret_cast<const unsigned char *>(part->data());
    h = (h ^ hash_bytes(bytes, part->size())) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
  }
  return h;
}

std::vector<Message> parse_messages(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) bad("$", "not valid JSON");
  if (!doc.is_array()) bad("$", "expected an array of messages, got " + kind_of(doc));
  std::vector<Message> messages;
  messages.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) messages.push_back(parse_message(doc[i], "$[" + std::to_string(i) + "]"));
  return messages;
}

std::string serialize_messages(const std::vector<const Message *> &messages) {
  json array = json::array();
  for (const Message *message : messages) array.push_back(message->original);
  return array.dump();
}

ChatFormat chat_format_for_model(std::string_view model) noexcept {
  ChatFormat format;
  if (model.find("gpt-3.5-turbo-0301") != std::string_view::npos) {
    format.per_message = 4;
    format.per_name = -1;
  }
  return format;
}

std::size_t message_tokens(const Message &message, const TokenCounter &counter, const ChatFormat &format) {
  long long tokens = format.per_message;
  tokens += static_cast<long long>(counter.count(message.role));
  tokens += static_cast<long long>(counter.count(message.text));
  if (!message.name.empty()) tokens += format.per_name + static_cast<long long>(counter.count(message.name));
  if (!message.tool_call_text.empty()) {
    tokens += static_cast<long long>(counter.count(message.tool_call_text)) +
              format.per_tool_call * static_cast<long long>(message.tool_call_ids.size());
  }
  if (!message.tool_call_id.empty() && message.role == "tool") tokens += static_cast<long long>(counter.count(message.tool_call_id));
  return tokens < 1 ? 1 : static_cast<std::size_t>(tokens);
}

}  // namespace parley::budget
