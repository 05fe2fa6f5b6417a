#include "providers/deepgram.hpp"

#include <nlohmann/json.hpp>

#include "providers/registry.hpp"
#include "providers/stt/deepgram_stt.hpp"
#include "providers/tts/deepgram_tts.hpp"

namespace parley::providers {

void register_deepgram(Registry &registry) {
  registry.add_tts("deepgram", make_deepgram_tts);
  registry.add_stt("deepgram", make_deepgram_stt);
}

namespace deepgram {

using nlohmann::json;
using speech::json_bool;
using speech::json_field;
using speech::json_number;
using speech::json_string;

std::string authorization(std::string_view api_key) { return "Token " + std::string(api_key); }

std::string error_message(std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::string(body);
  const std::string err_msg = json_string(doc, "err_msg");
  const std::string err_code = json_string(doc, "err_code");
  if (!err_msg.empty()) return err_code.empty() ? err_msg : err_msg + " (" + err_code + ")";
  for (const char *key : {"message", "description", "reason"}) {
    const std::string text = json_string(doc, key);
    if (!text.empty()) return err_code.empty() ? text : text + " (" + err_code + ")";
  }
  if (!err_code.empty()) return err_code;
  return std::string(body);
}

std::optional<Message> parse_message(std::string_view text, std::string &problem) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  Message message;
  message.type_name = json_string(doc, "type");
  if (message.type_name.empty()) {
    problem = "no \"type\"";
    return std::nullopt;
  }
  const std::string &type = message.type_name;
  if (type == "Results") {
    message.type = Message::Type::results;
    const json *channel = json_field(doc, "channel");
    const json *alternatives = channel ? json_field(*channel, "alternatives") : nullptr;
    if (!alternatives || !alternatives->is_array()) {
      problem = "Results without channel.alternatives";
      return std::nullopt;
    }
    if (!alternatives->empty()) {
      const json &best = alternatives->front();
      message.transcript = json_string(best, "transcript");
      message.confidence = json_number(best, "confidence", 0);
    }
    message.is_final = json_bool(doc, "is_final", false);
    message.speech_final = json_bool(doc, "speech_final", false);
    message.from_finalize = json_bool(doc, "from_finalize", false);
    message.start = json_number(doc, "start", 0);
    message.duration = json_number(doc, "duration", 0);
  } else if (type == "UtteranceEnd") {
    message.type = Message::Type::utterance_end;
    message.last_word_end = json_number(doc, "last_word_end", -1);
  } else if (type == "SpeechStarted") {
    message.type = Message::Type::speech_started;
    message.timestamp = json_number(doc, "timestamp", 0);
  } else if (type == "Metadata") {
    message.type = Message::Type::metadata;
  } else if (type == "Error") {
    message.type = Message::Type::error;
    for (const char *key : {"description", "message", "err_msg", "variant"}) {
      message.error = json_string(doc, key);
      if (!message.error.empty()) break;
    }
    if (message.error.empty()) message.error = "error";
  }
  return message;
}

}  // namespace deepgram
}  // namespace parley::providers
