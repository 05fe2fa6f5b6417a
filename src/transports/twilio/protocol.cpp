#include "transports/twilio/protocol.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "net/base64.hpp"

namespace parley::twilio {
namespace {

namespace dom = simdjson::dom;

// Twilio sends counters as JSON strings of decimal digits ("sequenceNumber": "2"); accept a
// bare non-negative integer too (lenient where the spec marks nothing as confirmed).
bool read_counter(dom::element value, int64_t &out) {
  if (value.is_int64()) {
    out = value.get_int64().value_unsafe();
    return out >= 0;
  }
  if (value.is_uint64()) return false;  // beyond int64
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

bool read_string(dom::element value, std::string_view &out) {
  return value.get_string().get(out) == simdjson::SUCCESS;
}

}  // namespace

const char *event_name(Event event) noexcept {
  switch (event) {
    case Event::connected: return "connected";
    case Event::start: return "start";
    case Event::media: return "media";
    case Event::dtmf: return "dtmf";
    case Event::mark: return "mark";
    case Event::stop: return "stop";
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
  bool parse_media(dom::object media, Message &out);
  bool parse_start(dom::object start, Message &out);
  bool parse_media_format(dom::object format, Message &out);
  bool parse_custom_parameters(dom::object parameters, Message &out);
};

bool MessageParser::Impl::parse_media(dom::object media, Message &out) {
  for (auto [key, value] : media) {
    if (key == "payload") {
      if (!read_string(value, out.payload)) return fail("media: 'payload' must be a string");
    } else if (key == "track") {
      if (!read_string(value, out.track)) return fail("media: 'track' must be a string");
    } else if (key == "chunk") {
      if (!read_counter(value, out.chunk)) return fail("media: 'chunk' must be a decimal integer");
    } else if (key == "timestamp") {
      if (!read_counter(value, out.timestamp_ms)) return fail("media: 'timestamp' must be a decimal integer");
    }
  }
  return true;
}

bool MessageParser::Impl::parse_media_format(dom::object format, Message &out) {
  for (auto [name, value] : format) {
    if (name == "encoding") {
      std::string_view text;
      if (!read_string(value, text)) return fail("start: 'mediaFormat.encoding' must be a string");
      out.start.encoding = text;
    } else if (name == "sampleRate" || name == "channels") {
      int64_t number = 0;
      if (value.get_int64().get(number) != simdjson::SUCCESS) {
        return fail("start: 'mediaFormat." + std::string(name) + "' must be an integer");
      }
      (name == "sampleRate" ? out.start.sample_rate : out.start.channels) = number;
    }
  }
  return true;
}

bool MessageParser::Impl::parse_custom_parameters(dom::object parameters, Message &out) {
  for (auto [name, value] : parameters) {
    std::string_view text;
    if (read_string(value, text)) {
      out.start.custom_parameters.emplace_back(name, text);
    } else {
      // Twilio sends strings; keep anything else as its JSON text rather than drop it.
      out.start.custom_parameters.emplace_back(name, simdjson::minify(value));
    }
  }
  return true;
}

bool MessageParser::Impl::parse_start(dom::object start, Message &out) {
  for (auto [key, value] : start) {
    std::string_view text;
    if (key == "accountSid" || key == "callSid" || key == "streamSid") {
      if (!read_string(value, text)) return fail("start: '" + std::string(key) + "' must be a string");
      (key == "accountSid" ? out.start.account_sid : key == "callSid" ? out.start.call_sid : out.start.stream_sid) = text;
    } else if (key == "tracks") {
      dom::array tracks;
      if (value.get_array().get(tracks) != simdjson::SUCCESS) return fail("start: 'tracks' must be an array");
      for (auto track : tracks) {
        if (!read_string(track, text)) return fail("start: 'tracks' must hold strings");
        out.start.tracks.emplace_back(text);
      }
    } else if (key == "mediaFormat") {
      dom::object format;
      if (value.get_object().get(format) != simdjson::SUCCESS) return fail("start: 'mediaFormat' must be an object");
      if (!parse_media_format(format, out)) return false;
    } else if (key == "customParameters") {
      dom::object parameters;
      if (value.get_object().get(parameters) != simdjson::SUCCESS) {
        return fail("start: 'customParameters' must be an object");
      }
      if (!parse_custom_parameters(parameters, out)) return false;
    }
  }
  return true;
}

namespace {

// Reads the string field `want` of a small object such as {"digit": "1"} or {"name": "x"}.
bool read_named_string(dom::element object, std::string_view want, std::string_view &field) {
  dom::element value;
  return object[want].get(value) == simdjson::SUCCESS && read_string(value, field);
}

}  // namespace

MessageParser::MessageParser() : impl_(std::make_unique<Impl>()) {}
MessageParser::~MessageParser() = default;

ParseResult MessageParser::parse(std::string_view text, Message &out) {
  out = Message{};
  auto &impl = *impl_;
  impl.error.clear();
  auto finish = [&](ParseResult result) {
    error_ = result == ParseResult::ok ? std::string() : impl.error;
    return result;
  };
  auto invalid = [&](std::string message) {
    impl.error = std::move(message);
    return finish(ParseResult::invalid);
  };
  impl.padded.assign(text);
  impl.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  dom::element document;
  if (const auto code = impl.parser.parse(impl.padded.data(), text.size(), false).get(document); code != simdjson::SUCCESS) {
    return invalid(std::string("not JSON: ") + simdjson::error_message(code));
  }
  dom::object root;
  if (document.get_object().get(root) != simdjson::SUCCESS) return invalid("not a JSON object");

  std::string_view event;
  dom::element nested;
  bool have_event = false;
  for (auto [key, value] : root) {
    bool ok = true;
    if (key == "event") {
      ok = read_string(value, event) || impl.fail("'event' must be a string");
      have_event = ok;
    } else if (key == "streamSid") {
      ok = read_string(value, out.stream_sid) || impl.fail("'streamSid' must be a string");
    } else if (key == "sequenceNumber") {
      ok = read_counter(value, out.sequence_number) || impl.fail("'sequenceNumber' must be a decimal integer");
    } else if (key == "protocol") {
      ok = read_string(value, out.protocol) || impl.fail("'protocol' must be a string");
    } else if (key == "version") {
      ok = read_string(value, out.version) || impl.fail("'version' must be a string");
    }
    // Other keys (the event's own object, anything new Twilio adds) are read below or skipped.
    if (!ok) return finish(ParseResult::invalid);
  }
  if (!have_event) return invalid("no 'event' field");

  const auto object_of = [&](const char *name) -> bool {
    if (root[name].get(nested) != simdjson::SUCCESS) return impl.fail(std::string(event) + ": '" + name + "' object is missing");
    if (!nested.is_object()) return impl.fail(std::string(event) + ": '" + name + "' must be an object");
    return true;
  };
  if (event == "media") {
    out.event = Event::media;
    if (!object_of("media") || !impl.parse_media(nested.get_object().value_unsafe(), out)) return finish(ParseResult::invalid);
    if (out.payload.empty()) return invalid("media: 'media.payload' is missing or empty");
    if (net::base64_max_decoded_size(out.payload.size()) > kMaxPayloadBytes) {
      return invalid("media: payload of " + std::to_string(out.payload.size()) + " base64 characters exceeds " +
                     std::to_string(kMaxPayloadBytes) + " bytes");
    }
  } else if (event == "start") {
    out.event = Event::start;
    if (!object_of("start") || !impl.parse_start(nested.get_object().value_unsafe(), out)) return finish(ParseResult::invalid);
    if (out.stream_sid.empty() && !out.start.stream_sid.empty()) out.stream_sid = out.start.stream_sid;
    if (out.stream_sid.empty()) return invalid("start: 'streamSid' is missing");
  } else if (event == "dtmf") {
    out.event = Event::dtmf;
    if (!object_of("dtmf")) return finish(ParseResult::invalid);
    if (!read_named_string(nested, "digit", out.digit) || out.digit.empty()) return invalid("dtmf: 'dtmf.digit' is missing");
  } else if (event == "mark") {
    out.event = Event::mark;
    if (!object_of("mark")) return finish(ParseResult::invalid);
    if (!read_named_string(nested, "name", out.mark_name)) return invalid("mark: 'mark.name' is missing");
  } else if (event == "stop") {
    out.event = Event::stop;
  } else if (event == "connected") {
    out.event = Event::connected;
  } else {
    impl.error = "unknown event '" + std::string(event.substr(0, 40)) + "'";
    return finish(ParseResult::unknown_event);
  }
  return finish(ParseResult::ok);
}

void append_json_escaped(std::string &out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Stream sids and mark names rarely need escaping: copy the clean prefix in one append.
  const auto needs_escape = [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; };
  const size_t clean = static_cast<size_t>(std::find_if(text.begin(), text.end(), needs_escape) - text.begin());
  out.append(text.substr(0, clean));
  for (char c : text.substr(clean)) {
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

void write_media(std::string &out, std::string_view stream_sid, std::string_view base64_payload) {
  out.append(R"({"event":"media","streamSid":")");
  append_json_escaped(out, stream_sid);
  out.append(R"(","media":{"payload":")");
  out.append(base64_payload);
  out.append(R"("}})");
}

void write_mark(std::string &out, std::string_view stream_sid, std::string_view name) {
  out.append(R"({"event":"mark","streamSid":")");
  append_json_escaped(out, stream_sid);
  out.append(R"(","mark":{"name":")");
  append_json_escaped(out, name);
  out.append(R"("}})");
}

void write_clear(std::string &out, std::string_view stream_sid) {
  out.append(R"({"event":"clear","streamSid":")");
  append_json_escaped(out, stream_sid);
  out.append(R"("})");
}

}  // namespace parley::twilio
