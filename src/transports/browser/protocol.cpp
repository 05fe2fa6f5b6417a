#include "transports/browser/protocol.hpp"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace parley::browser {
namespace {

namespace dom = simdjson::dom;

constexpr size_t kExcerptBytes = 40;  // of client text quoted back in an error

bool read_string(dom::element value, std::string_view &out) {
  return value.get_string().get(out) == simdjson::SUCCESS;
}

// `text` quoted for an error message: short, and never a split UTF-8 sequence.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  append_json_escaped(out, utf8_prefix(text, kExcerptBytes));
  if (text.size() > kExcerptBytes) out += "...";
  return out + "\"";
}

}  // namespace

const char *message_type_name(MessageType type) noexcept {
  switch (type) {
    case MessageType::start: return "start";
    case MessageType::mark: return "mark";
    case MessageType::dtmf: return "dtmf";
    case MessageType::stop: return "stop";
  }
  return "unknown";
}

struct MessageParser::Impl {
  dom::parser parser;
  std::string padded;  // the text plus simdjson's padding, reused across messages
  std::string error;

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
  bool parse_start(dom::object root, ClientMessage &out);
  bool parse_parameters(dom::element value, ClientMessage &out);
  bool parse_mark(dom::object root, ClientMessage &out);
  bool parse_dtmf(dom::object root, ClientMessage &out);
};

bool MessageParser::Impl::parse_start(dom::object root, ClientMessage &out) {
  for (auto [key, value] : root) {
    if (key == "sample_rate") {
      if (value.get_int64().get(out.sample_rate) != simdjson::SUCCESS) return fail("start: 'sample_rate' must be an integer");
      // The listener decides whether the rate is supported (a bad one closes with 1003).
      if (out.sample_rate <= 0) return fail("start: 'sample_rate' must be positive");
    } else if (key == "call_id") {
      if (!read_string(value, out.call_id)) return fail("start: 'call_id' must be a string");
      if (out.call_id.size() > kMaxCallIdBytes) {
        return fail("start: 'call_id' is longer than " + std::to_string(kMaxCallIdBytes) + " bytes");
      }
    } else if (key == "parameters") {
      if (!parse_parameters(value, out)) return false;
    }
  }
  return true;
}

bool MessageParser::Impl::parse_parameters(dom::element value, ClientMessage &out) {
  dom::object parameters;
  if (value.get_object().get(parameters) != simdjson::SUCCESS) return fail("start: 'parameters' must be an object");
  for (auto [name, parameter] : parameters) {
    std::string_view text;
    if (!read_string(parameter, text)) return fail("start: 'parameters." + std::string(utf8_prefix(name, kExcerptBytes)) + "' must be a string");
    out.parameters.emplace_back(name, text);
  }
  return true;
}

bool MessageParser::Impl::parse_mark(dom::object root, ClientMessage &out) {
  dom::element value;
  if (root["name"].get(value) != simdjson::SUCCESS) return fail("mark: 'name' is missing");
  if (!read_string(value, out.mark_name)) return fail("mark: 'name' must be a string");
  if (out.mark_name.empty()) return fail("mark: 'name' is empty");
  if (out.mark_name.size() > kMaxMarkNameBytes) {
    return fail("mark: 'name' is longer than " + std::to_string(kMaxMarkNameBytes) + " bytes");
  }
  return true;
}

bool MessageParser::Impl::parse_dtmf(dom::object root, ClientMessage &out) {
  dom::element value;
  if (root["digit"].get(value) != simdjson::SUCCESS) return fail("dtmf: 'digit' is missing");
  if (!read_string(value, out.digit)) return fail("dtmf: 'digit' must be a string");
  if (!is_dtmf_digit(out.digit)) return fail("dtmf: 'digit' must be one of 0-9, * or # (got " + quoted(out.digit) + ")");
  return true;
}

MessageParser::MessageParser() : impl_(std::make_unique<Impl>()) {}
MessageParser::~MessageParser() = default;

bool MessageParser::parse(std::string_view text, ClientMessage &out) {
  out = ClientMessage{};
  auto &impl = *impl_;
  impl.error.clear();
  const bool ok = [&] {
    impl.padded.assign(text);
    impl.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
    dom::element document;
    if (const auto code = impl.parser.parse(impl.padded.data(), text.size(), false).get(document); code != simdjson::SUCCESS) {
      return impl.fail(std::string("not JSON: ") + simdjson::error_message(code));
    }
    dom::object root;
    if (document.get_object().get(root) != simdjson::SUCCESS) return impl.fail("not a JSON object");
    dom::element type_value;
    std::string_view type;
    if (root["type"].get(type_value) != simdjson::SUCCESS) return impl.fail("no 'type' field");
    if (!read_string(type_value, type)) return impl.fail("'type' must be a string");
    if (type == "start") {
      out.type = MessageType::start;
      return impl.parse_start(root, out);
    }
    if (type == "mark") {
      out.type = MessageType::mark;
      return impl.parse_mark(root, out);
    }
    if (type == "dtmf") {
      out.type = MessageType::dtmf;
      return impl.parse_dtmf(root, out);
    }
    if (type == "stop") {
      out.type = MessageType::stop;
      return true;
    }
    return impl.fail("unknown type " + quoted(type) + " (a client sends start, mark, dtmf or stop)");
  }();
  error_ = ok ? std::string() : impl.error;
  return ok;
}

// ---- audio frames ----------------------------------------------------------------------

bool is_client_rate(int64_t rate) noexcept {
  return std::find(std::begin(kClientRates), std::end(kClientRates), rate) != std::end(kClientRates);
}

std::string check_audio_frame(size_t bytes) {
  if (bytes > kMaxAudioFrameBytes) {
    return "audio frame of " + std::to_string(bytes) + " bytes ignored: over the " + std::to_string(kMaxAudioFrameBytes) +
           "-byte limit";
  }
  if (bytes % 2 != 0) {
    return "audio frame of " + std::to_string(bytes) + " bytes ignored: PCM16 frames hold whole 2-byte samples";
  }
  return {};
}

void read_pcm16le(std::string_view bytes, std::vector<int16_t> &out) {
  out.resize(bytes.size() / 2);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out.data(), bytes.data(), out.size() * 2);
  } else {
    for (size_t i = 0; i < out.size(); ++i) {
      const auto lo = static_cast<uint8_t>(bytes[2 * i]), hi = static_cast<uint8_t>(bytes[2 * i + 1]);
      out[i] = static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8)));
    }
  }
}

void append_pcm16le(std::string &out, std::span<const int16_t> samples) {
  const size_t at = out.size();
  out.resize(at + samples.size() * 2);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out.data() + at, samples.data(), samples.size() * 2);
  } else {
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto u = static_cast<uint16_t>(samples[i]);
      out[at + 2 * i] = static_cast<char>(u & 0xff);
      out[at + 2 * i + 1] = static_cast<char>(u >> 8);
    }
  }
}

// ---- server messages -------------------------------------------------------------------

void write_started(std::string &out, std::string_view session_id, int sample_rate) {
  out += R"({"type":"started","session_id":")";
  append_json_escaped(out, session_id);
  out += R"(","sample_rate":)";
  out += std::to_string(sample_rate);
  out += '}';
}

void write_mark(std::string &out, std::string_view name) {
  out += R"({"type":"mark","name":")";
  append_json_escaped(out, name);
  out += "\"}";
}

void write_clear(std::string &out) { out += R"({"type":"clear"})"; }

void write_event(std::string &out, std::string_view event, std::string_view data_json) {
  out += R"({"type":"event","event":")";
  append_json_escaped(out, event);
  out += R"(","data":)";
  out += data_json.empty() ? std::string_view("{}") : data_json;
  out += '}';
}

void write_error(std::string &out, std::string_view message) {
  out += R"({"type":"error","message":")";
  append_json_escaped(out, message);
  out += "\"}";
}

// ---- client messages -------------------------------------------------------------------

void write_start(std::string &out, int sample_rate, std::string_view call_id,
                 std::span<const std::pair<std::string, std::string>> parameters) {
  out += R"({"type":"start","sample_rate":)";
  out += std::to_string(sample_rate);
  if (!call_id.empty()) {
    out += R"(,"call_id":")";
    append_json_escaped(out, call_id);
    out += '"';
  }
  if (!parameters.empty()) {
    out += R"(,"parameters":{)";
    for (size_t i = 0; i < parameters.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      append_json_escaped(out, parameters[i].first);
      out += "\":\"";
      append_json_escaped(out, parameters[i].second);
      out += '"';
    }
    out += '}';
  }
  out += '}';
}

void write_mark_played(std::string &out, std::string_view name) { write_mark(out, name); }

void write_dtmf(std::string &out, char digit) {
  out += R"({"type":"dtmf","digit":")";
  append_json_escaped(out, std::string_view(&digit, 1));
  out += "\"}";
}

void write_stop(std::string &out) { out += R"({"type":"stop"})"; }

// ---- text helpers ----------------------------------------------------------------------

void append_json_escaped(std::string &out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
}

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the sequence that was cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

bool is_dtmf_digit(std::string_view digit) noexcept {
  return digit.size() == 1 && ((digit[0] >= '0' && digit[0] <= '9') || digit[0] == '*' || digit[0] == '#');
}

}  // namespace parley::browser
