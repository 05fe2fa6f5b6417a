#include "providers/azure.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "providers/registry.hpp"
#include "providers/stt/azure_stt.hpp"
#include "providers/tts/azure_tts.hpp"

namespace parley::providers {

void register_azure(Registry &registry) {
  registry.add_tts("azure", make_azure_tts);
  registry.add_stt("azure", make_azure_stt);
}

namespace azure {

using nlohmann::json;

speech::Endpoint read_endpoint(core::ConfigReader &config, Service service) {
  const std::string region = config.string("region", "");
  speech::Endpoint endpoint = speech::read_endpoint(config, "");
  if (!region.empty() && !endpoint.base_url.empty()) {
    config.fail("region", "give \"region\" or \"base_url\", not both");
  }
  if (endpoint.base_url.empty()) {
    if (region.empty()) config.fail("region", "missing: give the resource's \"region\" (\"westeurope\") or a \"base_url\"");
    const bool valid = std::all_of(region.begin(), region.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
    if (!valid) config.fail("region", "expected a region name such as \"westeurope\"; got \"" + region + "\"");
    endpoint.base_url = "https://" + region + (service == Service::tts ? ".tts" : ".stt") + ".speech.microsoft.com";
  }
  return endpoint;
}

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        out += u < 0x20 && u != '\t' && u != '\n' && u != '\r' ? ' ' : c;
      }
    }
  }
  return out;
}

std::string ssml(std::string_view text, std::string_view voice, std::string_view language) {
  const std::string lang = escape_xml(language);
  return "<speak version='1.0' xml:lang='" + lang + "'><voice xml:lang='" + lang + "' name='" + escape_xml(voice) +
         "'>" + escape_xml(text) + "</voice></speak>";
}

std::string voice_locale(std::string_view voice) {
  const size_t first = voice.find('-');
  if (first == std::string_view::npos) return "";
  const size_t second = voice.find('-', first + 1);
  if (second == std::string_view::npos) return "";
  return std::string(voice.substr(0, second));
}

std::string error_message(int status, std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    // Shapes seen from Azure's gateways: {"error":{"code","message"}} and {"message"}.
    if (const json *error = speech::json_field(doc, "error"); error && error->is_object()) {
      const std::string message = speech::json_string(*error, "message");
      const std::string code = speech::json_string(*error, "code");
      if (!message.empty()) return code.empty() ? message : message + " (" + code + ")";
    }
    const std::string message = speech::json_string(doc, "message");
    if (!message.empty()) return message;
  }
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) return std::string(body);
  switch (status) {
    case 400: return "Bad Request: a parameter, the language or the audio was not accepted";
    case 401: return "Unauthorized: the key or token is wrong, or is for another region";
    case 403: return "Forbidden: no key or token was accepted";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests: the resource's quota or rate was exceeded";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

std::optional<Recognition> parse_recognition(std::string_view body, std::string &problem) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  Recognition out;
  out.status = speech::json_string(doc, "RecognitionStatus");
  if (out.status.empty()) {
    problem = "no RecognitionStatus";
    return std::nullopt;
  }
  // Ticks arrive as numbers or as strings; either way kept in a range int64 holds.
  auto ticks = [&](const char *key) {
    const double value = speech::json_number(doc, key, 0);
    return static_cast<int64_t>(std::clamp(value, 0.0, 1e15));
  };
  out.offset_ticks = ticks("Offset");
  out.duration_ticks = ticks("Duration");
  if (out.status != "Success") return out;
  out.text = speech::json_string(doc, "DisplayText");
  if (const json *nbest = speech::json_field(doc, "NBest"); nbest && nbest->is_array() && !nbest->empty()) {
    const json &best = nbest->front();
    if (out.text.empty()) out.text = speech::json_string(best, "Display");
    out.confidence = std::clamp(speech::json_number(best, "Confidence", 0), 0.0, 1.0);
  }
  return out;
}

}  // namespace azure
}  // namespace parley::providers
