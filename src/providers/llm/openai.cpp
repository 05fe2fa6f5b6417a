// The OpenAI-compatible LLM (openai.hpp). Layout, top to bottom:
//   flavours, config      - what differs between OpenAI, Groq, Cerebras, vLLM, llama.cpp, Ollama
//   retry rules, errors   - the SDK's _should_retry / _calculate_retry_timeout, error bodies
//   request body          - the spec's JSON, written by hand (field order, no DOM)
//   ChatStreamDecoder     - SSE lines -> events -> chunk JSON (simdjson DOM) -> deltas
//   Exchange              - one HTTP request with retries, shared with the TTS and STT adapters
//   ChatStream, factory   - the Llm itself
#include "providers/llm/openai.hpp"

#include <simdjson.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "core/redact.hpp"
#include "providers/registry.hpp"
#include "providers/stt/openai_stt.hpp"
#include "providers/tts/openai_tts.hpp"

namespace parley::providers {
namespace openai {
namespace {

namespace asio = boost::asio;
namespace dom = simdjson::dom;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kMaxServerDelay{120'000};  // a longer Retry-After is not waited for
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kMaxJsonBody = 8 * 1024 * 1024;  // a non-streamed completion
constexpr size_t kMaxToolCalls = 128;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// At most `max` bytes of `text` for a message: control bytes become '?', so a hostile peer
// cannot forge log lines.
std::string printable(std::string_view text, size_t max) {
  std::string out;
  const size_t n = std::min(text.size(), max);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (text.size() > max) out += "...";
  return out;
}

std::optional<double> parse_double(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// "Wed, 21 Oct 2015 07:28:00 GMT" (IMF-fixdate; the weekday is optional, as in RFC 5322).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::string s(trim(text));
  if (const auto comma = s.find(','); comma != std::string::npos) s.erase(0, comma + 1);
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  char month[4] = {};
  char zone[8] = {};
  if (std::sscanf(s.c_str(), " %d %3s %d %d:%d:%d %7s", &day, month, &year, &hour, &minute, &second, zone) != 7) {
    return std::nullopt;
  }
  static constexpr const char *kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (iequals(month, kMonths[i])) mon = i;
  }
  const std::string_view z = zone;
  if (mon < 0 || !(z == "GMT" || z == "UTC" || z == "+0000" || z == "Z")) return std::nullopt;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || year < 1970) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

const char *reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string status_line(int status) {
  std::string line = "HTTP " + std::to_string(status);
  if (const char *reason = reason_phrase(status); *reason) line += std::string(" ") + reason;
  return line;
}

// "headers" is an object when ConfigReader offers raw(key), else (older readers) only the
// string of "Name: value" lines; both are accepted when raw() exists.
template <typename Reader>
const nlohmann::json *raw_value(Reader &config, std::string_view key) {
  if constexpr (requires {
                  { config.raw(key) } -> std::convertible_to<const nlohmann::json *>;
                }) {
    return config.raw(key);
  } else {
    (void)config;
    (void)key;
    return nullptr;
  }
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr)) return false;
  }
  return true;
}

bool valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

net::HttpHeaders read_headers(core::ConfigReader &config) {
  net::HttpHeaders headers;
  if (const nlohmann::json *raw = raw_value(config, "headers"); raw && raw->is_object()) {
    for (const auto &[name, value] : raw->items()) {
      if (!value.is_string()) config.fail("headers", "\"" + name + "\": expected a string value");
      const std::string text = value.get<std::string>();
      if (!valid_header_name(name) || !valid_header_value(text)) {
        config.fail("headers", "\"" + name + "\": not a valid header");
      }
      headers.emplace_back(name, text);
    }
    return headers;
  }
  const auto text = config.optional_string("headers");
  if (!text) return headers;
  std::string problem;
  auto parsed = parse_header_lines(*text, problem);
  if (!parsed) config.fail("headers", problem);
  return std::move(*parsed);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Flavours and config

const std::vector<Flavor> &flavors() {
  // Base URLs from the spec's table; models: the SDK examples' and pipecat's defaults.
  static const std::vector<Flavor> list = {
      {"openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "gpt-4o-mini", true},
      {"groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", "", "", "llama-3.3-70b-versatile", true},
      {"cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", "", "", "llama3.1-8b", true},
      {"vllm", "http://localhost:8000/v1", "VLLM_API_KEY", "", "", "", false},
      // llama-server ignores the model when one is loaded.
      {"llamacpp", "http://127.0.0.1:8080/v1", "LLAMA_API_KEY", "", "", "default", false},
      // Ollama accepts any key, so none is sent by default.
      {"ollama", "http://localhost:11434/v1", "", "", "", "", false},
  };
  return list;
}

const Flavor &flavor(std::string_view name) {
  for (const auto &f : flavors()) {
    if (name == f.name) return f;
  }
  throw Error(Status::not_found, "openai: no flavour named \"" + std::string(name) + "\"");
}

std::optional<net::HttpHeaders> parse_header_lines(std::string_view text, std::string &problem) {
  net::HttpHeaders headers;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    const size_t colon = line.find(':');
    const std::string_view name = colon == std::string_view::npos ? line : trim(line.substr(0, colon));
    if (colon == std::string_view::npos || !valid_header_name(name)) {
      problem = "expected \"Name: value\" lines; got \"" + printable(line, 60) + "\"";
      return std::nullopt;
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (!valid_header_value(value)) {
      problem = "header \"" + std::string(name) + "\" has a control character in its value";
      return std::nullopt;
    }
    headers.emplace_back(std::string(name), std::string(value));
  }
  return headers;
}

ClientOptions read_client_options(core::ConfigReader &config, const ProviderContext &context,
                                  const Flavor &flavor, const char *first_timeout_key,
                                  std::chrono::milliseconds first_timeout_default) {
  ClientOptions options;
  options.provider = flavor.name;
  std::string base = config.string("base_url", "");
  std::string base_source;
  if (base.empty() && *flavor.base_url_env) {
    if (const char *value = std::getenv(flavor.base_url_env); value && *value) {
      base = value;
      base_source = std::string(" (from ") + flavor.base_url_env + ")";
    }
  }
  const bool default_base = base.empty();
  if (default_base) base = flavor.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!(istarts_with(base, "http://") || istarts_with(base, "https://")) || base.size() < 9 ||
      !valid_header_value(base) || base.find(' ') != std::string::npos) {
    config.fail("base_url", "expected an http:// or https:// URL ending in /v1; got \"" + printable(base, 80) + "\"" +
                                base_source);
  }
  options.base_url = std::move(base);

  options.api_key = read_api_key(config, context, flavor.key_env);
  if (!valid_header_value(options.api_key)) config.fail("api_key", "the key has a control character in it");
  if (options.api_key.empty() && flavor.key_required && default_base) {
    const std::string env = config.string("api_key_env", flavor.key_env);
    config.fail("api_key", "missing: set \"api_key\" or the environment variable " + env);
  }
  options.headers = read_headers(config);
  options.connect_timeout = milliseconds(config.integer("connect_timeout_ms", 5'000, 1, 600'000));
  options.first_timeout =
      milliseconds(config.integer(first_timeout_key, first_timeout_default.count(), 1, 3'600'000));
  options.idle_timeout = milliseconds(config.integer("idle_timeout_ms", 15'000, 1, 3'600'000));
  options.max_retries = static_cast<int>(config.integer("max_retries", 2, 0, 10));
  options.verify_tls = config.boolean("verify_tls", true);
  options.ca_file = config.string("ca_file", "");
  if (!context.http) {
    throw Error(Status::invalid_argument,
                std::string(flavor.name) + ": the provider context has no HTTP client (ProviderContext::http)");
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Retry rules and error bodies

std::optional<milliseconds> parse_retry_after(const net::HttpHeaders &headers, std::chrono::system_clock::time_point now) {
  if (const auto ms = net::find_header(headers, "retry-after-ms"); !ms.empty()) {
    if (const auto value = parse_double(ms)) return milliseconds(std::llround(std::clamp(*value, -1e12, 1e12)));
  }
  const auto header = net::find_header(headers, "retry-after");
  if (header.empty()) return std::nullopt;
  if (const auto seconds = parse_double(header)) return milliseconds(std::llround(std::clamp(*seconds, -1e9, 1e9) * 1000));
  if (const auto date = parse_http_date(header)) return std::chrono::duration_cast<milliseconds>(*date - now);
  return std::nullopt;
}

bool should_retry(int status, const net::HttpHeaders &headers, std::chrono::system_clock::time_point now) {
  if (const auto delay = parse_retry_after(headers, now); delay && *delay > kMaxServerDelay) return false;
  const auto hint = trim(net::find_header(headers, "x-should-retry"));
  if (iequals(hint, "true")) return true;
  if (iequals(hint, "false")) return false;
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

milliseconds retry_delay(const net::HttpHeaders &headers, int retries_taken, double jitter,
                         std::chrono::system_clock::time_point now) {
  if (const auto delay = parse_retry_after(headers, now); delay && delay->count() > 0 && *delay <= kMaxServerDelay) {
    return *delay;
  }
  const double seconds = std::min(0.5 * std::pow(2.0, std::min(retries_taken, 1000)), 8.0) * jitter;
  return milliseconds(std::llround(std::max(seconds, 0.0) * 1000));
}

double draw_jitter() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  // 1 - 0.25 * U[0, 1), as the SDK: in (0.75, 1].
  return 1.0 - 0.25 * std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

std::optional<milliseconds> parse_reset_duration(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.')) ++n;
    if (n == 0) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + n, value);
    if (ec != std::errc() || end != text.data() + n) return std::nullopt;
    text.remove_prefix(n);
    double unit = 0;
    if (text.starts_with("ms")) {
      unit = 1, text.remove_prefix(2);
    } else if (text.starts_with("h")) {
      unit = 3'600'000, text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      unit = 60'000, text.remove_prefix(1);
    } else if (text.starts_with("s")) {
      unit = 1'000, text.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    total += value * unit;
  }
  return milliseconds(std::llround(total));
}

ErrorKind kind_for_status(int status) {
  if (status == 401 || status == 403) return ErrorKind::auth;
  if (status == 429) return ErrorKind::rate_limited;
  if (status == 408) return ErrorKind::timeout;
  if (status >= 500) return ErrorKind::server;
  return ErrorKind::bad_request;
}

std::string error_message(int status, std::string_view body) {
  const auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  auto text_of = [](const nlohmann::json &value) -> std::string {
    if (value.is_string()) return value.get<std::string>();
    return {};
  };
  std::string message;
  if (json.is_object()) {
    if (const auto error = json.find("error"); error != json.end()) {
      if (error->is_object()) {
        if (const auto m = error->find("message"); m != error->end()) message = text_of(*m);
      } else {
        message = text_of(*error);
      }
    }
    // vLLM: {"object":"error","message":...}; FastAPI-based servers: {"detail":...}.
    if (message.empty()) {
      if (const auto m = json.find("message"); m != json.end()) message = text_of(*m);
    }
    if (message.empty()) {
      if (const auto d = json.find("detail"); d != json.end()) message = d->is_string() ? text_of(*d) : d->dump();
    }
  }
  if (!message.empty()) return printable(message, 1000);
  std::string line = status > 0 ? status_line(status) : std::string("error");
  const auto rest = trim(body);
  if (!rest.empty()) line += ": " + printable(rest, 200);
  return line;
}

std::string scrub(std::string text, std::string_view secret) {
  if (!secret.empty()) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), core::kRedacted);
      at += core::kRedacted.size();
    }
  }
  return core::redact_patterns(text);
}

// ---------------------------------------------------------------------------------------------
// Request body

void append_json_string(std::string &out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const auto *p = reinterpret_cast<const unsigned char *>(text.data());
  const auto *end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c >= 0x20 && c < 0x80) {
      // A run of plain ASCII goes in one append.
      const auto *run = p;
      while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') ++p;
      if (p > run) {
        out.append(reinterpret_cast<const char *>(run), static_cast<size_t>(p - run));
        continue;
      }
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++p;
      continue;
    }
    if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
      }
      ++p;
      continue;
    }
    // UTF-8: copy a well-formed sequence, else emit U+FFFD for the offending byte.
    size_t length = 0;
    uint32_t min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4, min = 0x10000;
    }
    bool ok = length > 0 && static_cast<size_t>(end - p) >= length;
    uint32_t code = length == 2 ? c & 0x1F : length == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; ok && i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) ok = false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    if (ok && (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) ok = false;
    if (ok) {
      out.append(reinterpret_cast<const char *>(p), length);
      p += length;
    } else {
      out += "\\ufffd";
      ++p;
    }
  }
  out.push_back('"');
}

namespace {

void append_number(std::string &out, double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

// A tool's JSON Schema goes into the body verbatim, so it is checked first: a broken schema
// would otherwise break the whole request's JSON.
std::string_view checked_schema(const ToolSpec &tool) {
  const std::string_view schema = trim(tool.parameters_json);
  if (schema.empty()) return R"({"type":"object","properties":{}})";
  thread_local dom::parser parser;
  dom::element element;
  if (parser.parse(schema.data(), schema.size()).get(element) != simdjson::SUCCESS || !element.is_object()) {
    throw Error(Status::invalid_argument, "tool \"" + printable(tool.name, 60) + "\": parameters_json is not a JSON object");
  }
  return schema;
}

void append_message(std::string &out, const ChatMessage &message) {
  out += "{\"role\":";
  append_json_string(out, message.role);
  if (message.role == "tool") {
    out += ",\"tool_call_id\":";
    append_json_string(out, message.tool_call_id);
  }
  out += ",\"content\":";
  if (message.content.empty() && !message.tool_calls.empty()) {
    out += "null";
  } else {
    append_json_string(out, message.content);
  }
  if (!message.tool_calls.empty()) {
    out += ",\"tool_calls\":[";
    for (size_t i = 0; i < message.tool_calls.size(); ++i) {
      const ToolCall &call = message.tool_calls[i];
      if (i) out.push_back(',');
      out += "{\"id\":";
      append_json_string(out, call.id);
      out += ",\"type\":\"function\",\"function\":{\"name\":";
      append_json_string(out, call.name);
      out += ",\"arguments\":";
      append_json_string(out, call.arguments.empty() ? std::string_view("{}") : std::string_view(call.arguments));
      out += "}}";
    }
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace

std::string chat_request_body(const LlmRequest &request, const ChatOptions &options) {
  std::string out;
  size_t estimate = 256;
  for (const auto &m : request.messages) estimate += m.content.size() + 64;
  for (const auto &t : request.tools) estimate += t.parameters_json.size() + t.description.size() + 64;
  out.reserve(estimate);
  out += "{\"model\":";
  append_json_string(out, options.model);
  out += ",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[";
  for (size_t i = 0; i < request.messages.size(); ++i) {
    if (i) out.push_back(',');
    append_message(out, request.messages[i]);
  }
  out.push_back(']');
  if (!request.tools.empty()) {
    out += ",\"tools\":[";
    for (size_t i = 0; i < request.tools.size(); ++i) {
      const ToolSpec &tool = request.tools[i];
      if (i) out.push_back(',');
      out += "{\"type\":\"function\",\"function\":{\"name\":";
      append_json_string(out, tool.name);
      if (!tool.description.empty()) {
        out += ",\"description\":";
        append_json_string(out, tool.description);
      }
      out += ",\"parameters\":";
      out += checked_schema(tool);
      out += "}}";
    }
    out += "],\"tool_choice\":\"auto\"";
  }
  if (const auto temperature = request.temperature ? request.temperature : options.temperature) {
    out += ",\"temperature\":";
    append_number(out, *temperature);
  }
  if (const auto max_tokens = request.max_tokens ? request.max_tokens : options.max_tokens) {
    out += ",\"";
    out += options.max_tokens_param;
    out += "\":";
    out += std::to_string(*max_tokens);
  }
  out.push_back('}');
  return out;
}

// ---------------------------------------------------------------------------------------------
// ChatStreamDecoder

struct ChatStreamDecoder::Json {
  dom::parser parser;
};

ChatStreamDecoder::ChatStreamDecoder(Handler &handler, size_t max_event_bytes)
    : handler_(handler), max_event_bytes_(max_event_bytes), json_(std::make_unique<Json>()) {
  error_.kind = ErrorKind::protocol;
}

ChatStreamDecoder::~ChatStreamDecoder() = default;

void ChatStreamDecoder::stop() noexcept {
  if (state_ == State::streaming) state_ = State::stopped;
}

void ChatStreamDecoder::fail(ErrorKind kind, std::string message) {
  if (state_ != State::streaming) return;
  state_ = State::failed;
  error_.kind = kind;
  error_.message = std::move(message);
}

ChatStreamDecoder::State ChatStreamDecoder::feed(std::string_view bytes) {
  std::string_view line;
  while (state_ == State::streaming && !bytes.empty()) {
    if (!next_line(bytes, line)) break;
    if (line.empty()) {
      dispatch();
    } else {
      field(line);
    }
  }
  return state_;
}

// Takes the next complete line off `bytes` (LF, CRLF or CR ends it). A line split across
// feeds is assembled in partial_; the usual whole line is a view into the input.
bool ChatStreamDecoder::next_line(std::string_view &bytes, std::string_view &line) {
  if (skip_lf_) {
    skip_lf_ = false;
    if (bytes.front() == '\n') {
      bytes.remove_prefix(1);
      if (bytes.empty()) return false;
    }
  }
  const char *begin = bytes.data();
  const char *end = begin + bytes.size();
  const auto *lf = static_cast<const char *>(std::memchr(begin, '\n', bytes.size()));
  const char *stop = lf ? lf : end;
  const auto *cr = static_cast<const char *>(std::memchr(begin, '\r', static_cast<size_t>(stop - begin)));
  const char *eol = cr ? cr : lf;
  if (!eol) {
    if (partial_.size() + bytes.size() > max_event_bytes_) {
      fail(ErrorKind::protocol, "SSE line longer than " + std::to_string(max_event_bytes_) + " bytes");
      return false;
    }
    partial_.append(bytes);
    bytes = {};
    return false;
  }
  const size_t length = static_cast<size_t>(eol - begin);
  size_t consumed = length + 1;
  if (*eol == '\r') {
    if (eol + 1 < end && eol[1] == '\n') {
      ++consumed;
    } else if (eol + 1 == end) {
      skip_lf_ = true;
    }
  }
  bytes.remove_prefix(consumed);
  if (partial_.empty()) {
    line = std::string_view(begin, length);
  } else {
    if (partial_.size() + length > max_event_bytes_) {
      fail(ErrorKind::protocol, "SSE line longer than " + std::to_string(max_event_bytes_) + " bytes");
      return false;
    }
    partial_.append(begin, length);
    line_.swap(partial_);
    partial_.clear();
    line = line_;
  }
  return true;
}

void ChatStreamDecoder::field(std::string_view line) {
  if (line.front() == ':') return;  // a comment: keep-alives, OpenRouter's "PROCESSING"
  std::string_view name = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      fail(ErrorKind::protocol, "SSE event larger than " + std::to_string(max_event_bytes_) + " bytes");
      return;
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (name == "event") {
    event_.assign(value);
  } else if (name == "id" || name == "retry") {
    // Chat completions carry neither; nothing to do with them.
  } else if (!valid_header_name(name)) {
    // The SSE format would ignore an unknown field, but a line that is not even a field
    // name means the peer is not speaking SSE: a proxy's error page, a corrupted stream.
    fail(ErrorKind::protocol, "malformed SSE line: \"" + printable(line, 60) + "\"");
  }
  // Other well-formed field names are ignored, as the format requires.
}

void ChatStreamDecoder::dispatch() {
  if (!has_data_) {
    event_.clear();
    return;
  }
  has_data_ = false;
  const bool error_event = event_ == "error";
  const bool known_event = event_.empty() || event_ == "message" || error_event;
  event_.clear();
  if (!known_event) {
    data_.clear();
    return;
  }
  if (data_.starts_with("[DONE]")) {
    state_ = State::done;
    data_.clear();
    return;
  }
  const size_t length = data_.size();
  data_.resize(length + simdjson::SIMDJSON_PADDING);  // simdjson reads ahead; zeroed bytes
  chunk(std::string_view(data_.data(), length));
  data_.clear();
  if (error_event && state_ == State::streaming) {
    fail(ErrorKind::server, "error event: " + printable(data_, 200));
  }
}

void ChatStreamDecoder::text_delta(std::string_view text) {
  if (text.empty()) return;
  result_.text.append(text);
  ++deltas_;
  handler_.on_text(text);
}

void ChatStreamDecoder::tool_delta(int64_t index, std::string_view id, std::string_view name,
                                   std::string_view arguments) {
  if (index < 0) {
    // Some servers omit the index: a new id starts a new call, anything else continues the last.
    const bool new_call = tool_indexes_.empty() || (!id.empty() && id != result_.tool_calls.back().id);
    index = new_call ? (tool_indexes_.empty() ? 0 : *std::max_element(tool_indexes_.begin(), tool_indexes_.end()) + 1)
                     : tool_indexes_.back();
  }
  size_t at = 0;
  while (at < tool_indexes_.size() && tool_indexes_[at] != index) ++at;
  if (at == tool_indexes_.size()) {
    if (tool_indexes_.size() >= kMaxToolCalls) {
      fail(ErrorKind::protocol, "more than " + std::to_string(kMaxToolCalls) + " tool calls in one reply");
      return;
    }
    tool_indexes_.push_back(index);
    result_.tool_calls.emplace_back();
  }
  ToolCall &call = result_.tool_calls[at];
  ToolCallDelta delta;
  delta.index = static_cast<int>(std::min<int64_t>(index, INT32_MAX));
  if (!id.empty() && call.id.empty()) {
    call.id = id;
    delta.id = id;
  }
  // Servers that repeat the name on every fragment are not spelling it in pieces.
  if (!name.empty() && call.name.empty()) {
    call.name = name;
    delta.name = name;
  }
  call.arguments.append(arguments);
  delta.arguments = arguments;
  if (delta.id.empty() && delta.name.empty() && delta.arguments.empty()) return;
  ++deltas_;
  handler_.on_tool_call_delta(delta);
}

namespace {

// An in-stream error's kind from its type/code ("requests", "rate_limit_exceeded", ...).
ErrorKind kind_of_error_type(std::string_view type, std::string_view code) {
  auto has = [&](std::string_view needle) {
    return type.find(needle) != std::string_view::npos || code.find(needle) != std::string_view::npos;
  };
  if (has("rate_limit") || type == "requests" || type == "tokens" || has("insufficient_quota")) {
    return ErrorKind::rate_limited;
  }
  if (has("invalid_api_key") || has("authentication") || has("permission")) return ErrorKind::auth;
  if (has("invalid_request")) return ErrorKind::bad_request;
  return ErrorKind::server;
}

// A string member or "" (absent, null or not a string).
std::string_view string_of(simdjson::simdjson_result<dom::element> value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return {};
  return text;
}
std::string_view string_of(dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return {};
  return text;
}

int clamp_tokens(int64_t value) { return static_cast<int>(std::clamp<int64_t>(value, 0, INT32_MAX)); }

// `key == literal`, the length compared first and the bytes by an inlined compare of a
// constant size (a key that differs in length costs one comparison, no call).
template <size_t N>
bool key_is(std::string_view key, const char (&literal)[N]) noexcept {
  return key.size() == N - 1 && std::memcmp(key.data(), literal, N - 1) == 0;
}

}  // namespace

void ChatStreamDecoder::chunk(std::string_view json) {
  // One pass over each object, keys compared by length first (every chunk repeats the same
  // dozen keys; a lookup per wanted key would scan them again and again). Where a key may
  // repeat, the first occurrence counts, as a lookup would have it.
  dom::element document;
  if (const auto code = json_->parser.parse(json.data(), json.size(), false).get(document); code != simdjson::SUCCESS) {
    fail(ErrorKind::protocol, std::string("invalid JSON in a stream chunk (") + simdjson::error_message(code) +
                                  "): " + printable(json, 120));
    return;
  }
  dom::object root;
  if (document.get_object().get(root) != simdjson::SUCCESS) {
    fail(ErrorKind::protocol, "stream chunk is not a JSON object: " + printable(json, 120));
    return;
  }
  auto read_usage = [this](dom::element value) {
    dom::object usage;
    if (value.get_object().get(usage) != simdjson::SUCCESS) return;
    LlmUsage out;
    bool prompt = false, completion = false;
    for (const auto field : usage) {
      int64_t n = 0;
      if (!prompt && key_is(field.key, "prompt_tokens")) {
        prompt = true;
        if (field.value.get_int64().get(n) == simdjson::SUCCESS) out.prompt_tokens = clamp_tokens(n);
      } else if (!completion && key_is(field.key, "completion_tokens")) {
        completion = true;
        if (field.value.get_int64().get(n) == simdjson::SUCCESS) out.completion_tokens = clamp_tokens(n);
      }
    }
    result_.usage = out;
  };
  for (const auto field : root) {
    const std::string_view key = field.key;
    if (key_is(key, "choices")) {
      dom::array choices;
      if (field.value.get_array().get(choices) != simdjson::SUCCESS) {
        if (field.value.is_null()) continue;
        fail(ErrorKind::protocol, "stream chunk: \"choices\" is not an array");
        return;
      }
      for (const dom::element item : choices) {
        dom::object choice;
        if (item.get_object().get(choice) != simdjson::SUCCESS) {
          fail(ErrorKind::protocol, "stream chunk: a choice is not an object");
          return;
        }
        std::optional<dom::element> index_value, delta_value, finish_value;
        for (const auto member : choice) {
          if (!index_value && key_is(member.key, "index")) {
            index_value = member.value;
          } else if (!delta_value && key_is(member.key, "delta")) {
            delta_value = member.value;
          } else if (!finish_value && key_is(member.key, "finish_reason")) {
            finish_value = member.value;
          }
        }
        int64_t index = 0;
        if (index_value && index_value->get_int64().get(index) == simdjson::SUCCESS && index != 0) continue;  // we ask for n=1
        dom::object delta;
        if (delta_value && delta_value->get_object().get(delta) == simdjson::SUCCESS) {
          for (const auto part : delta) {
            const std::string_view name = part.key;
            if (key_is(name, "content") || key_is(name, "refusal")) {
              // A refusal is what the model says instead of an answer: the caller hears it.
              std::string_view text;
              if (part.value.get_string().get(text) == simdjson::SUCCESS) {
                text_delta(text);
              } else if (!part.value.is_null()) {
                fail(ErrorKind::protocol, "stream chunk: delta." + std::string(name) + " is not a string");
              }
            } else if (key_is(name, "tool_calls")) {
              dom::array calls;
              if (part.value.get_array().get(calls) != simdjson::SUCCESS) {
                if (part.value.is_null()) continue;
                fail(ErrorKind::protocol, "stream chunk: delta.tool_calls is not an array");
                return;
              }
              for (const dom::element call_item : calls) {
                dom::object call;
                if (call_item.get_object().get(call) != simdjson::SUCCESS) {
                  fail(ErrorKind::protocol, "stream chunk: a tool call is not an object");
                  return;
                }
                int64_t call_index = -1;
                std::string_view id, name_text, arguments;
                std::string minified;
                for (const auto member : call) {
                  if (key_is(member.key, "index")) {
                    if (member.value.get_int64().get(call_index) != simdjson::SUCCESS || call_index < 0) {
                      fail(ErrorKind::protocol, "stream chunk: a tool call's index is not a non-negative integer");
                      return;
                    }
                  } else if (key_is(member.key, "id")) {
                    id = string_of(member.value);
                  } else if (key_is(member.key, "function")) {
                    dom::object function;
                    if (member.value.get_object().get(function) != simdjson::SUCCESS) continue;
                    for (const auto f : function) {
                      if (key_is(f.key, "name")) {
                        name_text = string_of(f.value);
                      } else if (key_is(f.key, "arguments")) {
                        if (f.value.get_string().get(arguments) != simdjson::SUCCESS && f.value.is_object()) {
                          // Some servers send the arguments as an object, whole.
                          minified = simdjson::minify(f.value);
                          arguments = minified;
                        }
                      }
                    }
                  }
                }
                tool_delta(call_index, id, name_text, arguments);
                if (state_ != State::streaming) return;
              }
            }
            if (state_ != State::streaming) return;
          }
        }
        std::string_view finish;
        if (finish_value && finish_value->get_string().get(finish) == simdjson::SUCCESS && !finish.empty()) {
          result_.finish_reason = finish;
        }
      }
    } else if (key_is(key, "usage")) {
      read_usage(field.value);
    } else if (key_is(key, "x_groq")) {
      // Groq has put usage here instead of at the top level.
      dom::element usage;
      if (field.value["usage"].get(usage) == simdjson::SUCCESS && !result_.usage) read_usage(usage);
    } else if (key_is(key, "error")) {
      if (field.value.is_null()) continue;
      std::string_view message, type, code;
      if (field.value.get_string().get(message) != simdjson::SUCCESS) {
        message = string_of(field.value["message"]);
        type = string_of(field.value["type"]);
        code = string_of(field.value["code"]);
      }
      fail(kind_of_error_type(type, code),
           message.empty() ? "error event: " + printable(json, 200) : printable(message, 1000));
      return;
    }
    if (state_ != State::streaming) return;
  }
}

std::optional<ProviderError> parse_chat_completion(std::string_view body, LlmResult &result) {
  ProviderError error{ErrorKind::protocol, "", ""};
  const auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!json.is_object()) {
    error.message = "expected a chat completion; got " + printable(body, 120);
    return error;
  }
  if (const auto e = json.find("error"); e != json.end() && !e->is_null()) {
    error.kind = ErrorKind::server;
    error.message = error_message(0, body);
    return error;
  }
  const auto choices = json.find("choices");
  if (choices == json.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    error.message = "chat completion without choices";
    return error;
  }
  const auto &choice = (*choices)[0];
  try {
    if (const auto message = choice.find("message"); message != choice.end() && message->is_object()) {
      if (const auto content = message->find("content"); content != message->end() && content->is_string()) {
        result.text = content->get<std::string>();
      }
      if (const auto calls = message->find("tool_calls"); calls != message->end() && calls->is_array()) {
        for (const auto &call : *calls) {
          ToolCall out;
          out.id = call.value("id", "");
          if (const auto f = call.find("function"); f != call.end() && f->is_object()) {
            out.name = f->value("name", "");
            out.arguments = f->value("arguments", "");
          }
          result.tool_calls.push_back(std::move(out));
        }
      }
    }
    if (const auto finish = choice.find("finish_reason"); finish != choice.end() && finish->is_string()) {
      result.finish_reason = finish->get<std::string>();
    }
    if (const auto usage = json.find("usage"); usage != json.end() && usage->is_object()) {
      result.usage = LlmUsage{clamp_tokens(usage->value("prompt_tokens", int64_t{0})),
                              clamp_tokens(usage->value("completion_tokens", int64_t{0}))};
    }
  } catch (const nlohmann::json::exception &e) {
    error.message = std::string("malformed chat completion: ") + e.what();
    return error;
  }
  if (result.finish_reason.empty()) result.finish_reason = result.tool_calls.empty() ? "stop" : "tool_calls";
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Exchange

net::HttpRequest make_request(const ClientOptions &options, std::string_view path, std::string content_type,
                              std::string body) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = options.base_url + std::string(path);
  request.headers.emplace_back("Content-Type", std::move(content_type));
  if (!options.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + options.api_key);
  request.headers.emplace_back("User-Agent", "parley");
  for (const auto &header : options.headers) {
    // A configured header replaces a default of the same name.
    std::erase_if(request.headers, [&](const auto &h) { return iequals(h.first, header.first); });
    request.headers.push_back(header);
  }
  request.body = std::move(body);
  request.connect_timeout = options.connect_timeout;
  request.first_byte_timeout = options.first_timeout;
  request.idle_timeout = options.idle_timeout;
  request.verify_tls = options.verify_tls;
  request.ca_file = options.ca_file;
  return request;
}

struct Exchange::Attempt {
  explicit Attempt(const asio::any_io_executor &executor) : retry(executor), first(executor) {}
  asio::steady_timer retry;
  asio::steady_timer first;
};

Exchange::Exchange(const ClientOptions &options, const ProviderContext &context, net::HttpRequest request,
                   Handler handler, bool first_deadline, std::string what)
    : options_(options),
      context_(context),
      request_(std::move(request)),
      handler_(std::move(handler)),
      first_deadline_(first_deadline),
      what_(std::move(what)),
      attempt_state_(std::make_shared<Attempt>(context.executor)) {
  if (first_deadline_) {
    // Our own deadline names what did not arrive; the transport's is a backstop behind it.
    request_.first_byte_timeout = options_.first_timeout + milliseconds(1'000);
  }
}

Exchange::~Exchange() {
  attempt_state_->retry.cancel();
  attempt_state_->first.cancel();
  if (call_) call_->cancel();
}

void Exchange::start() {
  started_ = Clock::now();
  launch();
}

void Exchange::launch() {
  ++attempt_;
  success_ = false;
  status_ = 0;
  error_body_.clear();
  body_bytes_ = 0;
  std::weak_ptr<Exchange> weak = weak_from_this();
  net::HttpCallbacks callbacks;
  callbacks.on_head = [weak](const net::HttpResponseHead &head) {
    if (auto self = weak.lock()) self->on_head(head);
  };
  callbacks.on_body = [weak](std::string_view chunk) {
    if (auto self = weak.lock()) self->on_body(chunk);
  };
  callbacks.on_complete = [weak](const net::HttpResult &result) {
    if (auto self = weak.lock()) self->on_complete(result);
  };
  if (context_.logger && context_.logger->enabled(core::LogLevel::debug)) {
    context_.logger->log(core::LogLevel::debug, context_.call_id,
                         options_.provider + ": POST " + request_.url + " (attempt " + std::to_string(attempt_) + ")");
  }
  call_ = context_.http->start(request_, std::move(callbacks), context_.executor);
  if (first_deadline_ && !committed_) {
    attempt_state_->first.expires_after(options_.first_timeout);
    attempt_state_->first.async_wait([weak](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!ec && self) self->on_first_deadline();
    });
  }
}

void Exchange::on_head(const net::HttpResponseHead &head) {
  if (ended_) return;
  status_ = head.status;
  last_headers_ = head.headers;
  if (head.status >= 200 && head.status < 300) {
    success_ = true;
    if (handler_.on_head) call_handler([&] { handler_.on_head(head); });
  }
}

// Runs a handler function; one that ended the exchange from inside gets its handler
// released only after it returned (a std::function must not die while it runs).
template <typename Fn>
void Exchange::call_handler(Fn &&fn) {
  auto keep = shared_from_this();
  const bool outer = !in_handler_;
  in_handler_ = true;
  fn();
  if (!outer) return;
  in_handler_ = false;
  if (ended_) handler_ = {};
}

void Exchange::on_body(std::string_view chunk) {
  if (ended_) return;
  body_bytes_ += chunk.size();
  if (!success_) {
    if (error_body_.size() < kMaxErrorBody) error_body_.append(chunk.substr(0, kMaxErrorBody - error_body_.size()));
    return;
  }
  if (handler_.on_body) call_handler([&] { handler_.on_body(chunk); });
}

void Exchange::on_complete(const net::HttpResult &result) {
  auto keep = shared_from_this();
  call_.reset();  // the transfer is over; its handle goes (safe inside its own callback)
  attempt_state_->first.cancel();
  if (ended_) return;
  if (success_ && result.failure == net::HttpFailure::none) {
    if (handler_.on_complete) call_handler([&] { handler_.on_complete(result); });
    return;
  }
  if (status_ > 0 && !success_) {
    // The server answered with an error status (its body may be cut short; what came is enough).
    ProviderError error;
    error.kind = kind_for_status(status_);
    error.provider = options_.provider;
    error.http_status = status_;
    error.message = scrub(error_message(status_, error_body_), options_.api_key);
    if (const auto id = net::find_header(last_headers_, "x-request-id"); !id.empty()) {
      error.message += " [request " + printable(id, 80) + "]";
    }
    if (const auto delay = parse_retry_after(last_headers_); delay && delay->count() > 0) {
      error.retry_after = *delay;
    } else if (error.kind == ErrorKind::rate_limited) {
      for (const char *name : {"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"}) {
        if (const auto reset = parse_reset_duration(net::find_header(last_headers_, name))) {
          error.retry_after = std::max(error.retry_after, *reset);
        }
      }
    }
    const net::HttpHeaders headers = last_headers_;
    attempt_failed(std::move(error), should_retry(status_, headers), &headers);
    return;
  }
  ProviderError error;
  error.provider = options_.provider;
  const std::string detail = scrub(result.message, options_.api_key);
  bool retryable = true;
  switch (result.failure) {
    case net::HttpFailure::tls:
      error.kind = ErrorKind::tls;
      error.message = "TLS failure: " + detail;
      retryable = false;  // a certificate does not get better by asking again
      break;
    case net::HttpFailure::timeout_connect:
      error.kind = ErrorKind::timeout;
      error.message = "could not connect within " + std::to_string(options_.connect_timeout.count()) + " ms";
      break;
    case net::HttpFailure::timeout_first_byte:
    case net::HttpFailure::timeout_idle:
    case net::HttpFailure::timeout_total:
      error.kind = ErrorKind::timeout;
      error.message = detail.empty() ? "timed out" : detail;
      break;
    case net::HttpFailure::cut:
      error.kind = ErrorKind::network;
      error.message = "the response was cut after " + std::to_string(body_bytes_) + " bytes";
      if (handler_.describe_progress) error.message += " (" + handler_.describe_progress() + ")";
      error.message += ": " + detail;
      break;
    case net::HttpFailure::connect:
      error.kind = ErrorKind::network;
      error.message = "connection failed: " + detail;
      break;
    default:
      error.kind = ErrorKind::network;
      error.message = detail.empty() ? std::string("transfer failed") : detail;
      retryable = result.failure != net::HttpFailure::other;
      break;
  }
  attempt_failed(std::move(error), retryable, nullptr);
}

void Exchange::on_first_deadline() {
  if (ended_ || committed_) return;
  auto keep = shared_from_this();
  if (call_) {
    call_->cancel();
    call_.reset();
  }
  ProviderError error;
  error.kind = ErrorKind::timeout;
  error.provider = options_.provider;
  error.message = "no first " + what_ + " within " + std::to_string(options_.first_timeout.count()) + " ms";
  attempt_failed(std::move(error), true, nullptr);
}

void Exchange::attempt_failed(ProviderError error, bool retryable, const net::HttpHeaders *headers) {
  if (retryable && !committed_ && attempt_ <= options_.max_retries) {
    const milliseconds delay = retry_delay(headers ? *headers : net::HttpHeaders{}, attempt_ - 1, draw_jitter());
    log_warn(options_.provider + ": " + error_kind_name(error.kind) + " on attempt " + std::to_string(attempt_) +
             " (" + error.message + "); retrying in " + std::to_string(delay.count()) + " ms");
    if (call_) {
      call_->cancel();
      call_.reset();
    }
    attempt_state_->first.cancel();
    std::weak_ptr<Exchange> weak = weak_from_this();
    attempt_state_->retry.expires_after(delay);
    attempt_state_->retry.async_wait([weak](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!ec && self && !self->ended_) self->launch();
    });
    return;
  }
  if (attempt_ > 1) error.message += " (after " + std::to_string(attempt_) + " attempts)";
  report(std::move(error));
}

void Exchange::report(ProviderError error) {
  if (ended_) return;
  ended_ = true;
  end_call();
  error.provider = options_.provider;
  error.message = scrub(std::move(error.message), options_.api_key);
  auto on_error = std::move(handler_.on_error);
  if (!in_handler_) handler_ = {};
  if (on_error) on_error(std::move(error));
}

void Exchange::fail(ProviderError error) { report(std::move(error)); }

void Exchange::end_call() {
  attempt_state_->retry.cancel();
  attempt_state_->first.cancel();
  if (call_) {
    call_->cancel();
    call_.reset();
  }
}

void Exchange::cancel() {
  if (detached_) return;
  ended_ = true;
  end_call();
  if (!in_handler_) handler_ = {};
}

void Exchange::detach() {
  if (ended_) return;
  ended_ = true;
  detached_ = true;
  attempt_state_->retry.cancel();
  attempt_state_->first.cancel();
  if (!in_handler_) handler_ = {};
  // The transfer runs on to the response's end without us, so the connection is reused.
  if (call_) {
    call_->detach();
    call_.reset();
  }
}

void Exchange::log_warn(const std::string &message) const {
  if (context_.logger && context_.logger->enabled(core::LogLevel::warn)) {
    context_.logger->log(core::LogLevel::warn, context_.call_id, message);
  }
}

// ---------------------------------------------------------------------------------------------
// The Llm

namespace {

class ChatStream final : public std::enable_shared_from_this<ChatStream>, public ChatStreamDecoder::Handler {
 public:
  ChatStream(const ProviderContext &context, LlmCallbacks callbacks)
      : context_(context), callbacks_(std::move(callbacks)) {}

  void begin(const ClientOptions &options, std::string body) {
    started_ = Clock::now();
    auto request = make_request(options, "/chat/completions", "application/json", std::move(body));
    request.headers.emplace_back("Accept", "text/event-stream");
    std::weak_ptr<ChatStream> weak = weak_from_this();
    Exchange::Handler handler = forward_to(weak);
    handler.describe_progress = [weak]() -> std::string {
      auto self = weak.lock();
      if (!self || !self->decoder_) return "before [DONE]";
      return "before [DONE], after " + std::to_string(self->decoder_->deltas()) + " deltas";
    };
    exchange_ = std::make_shared<Exchange>(options, context_, std::move(request), std::move(handler), true, "token");
    api_key_ = options.api_key;
    provider_ = options.provider;
    exchange_->start();
  }

  // A request that cannot be sent: reported in a fresh executor turn, never inline.
  void refuse(ProviderError error) {
    asio::post(context_.executor, [self = shared_from_this(), error = std::move(error)]() mutable {
      self->deliver_error(std::move(error));
    });
  }

  void cancel() {
    if (decoder_) decoder_->stop();
    if (exchange_) exchange_->cancel();  // a finished stream's exchange is detached: untouched
    ended_ = true;
    if (!in_callback_) callbacks_ = {};
  }

 private:
  template <typename Owner>
  friend Exchange::Handler openai::forward_to(const std::weak_ptr<Owner> &owner);  // our callbacks

  void on_text(std::string_view text) override {
    first_token();
    if (!callbacks_.on_text) return;
    in_callback_ = true;
    callbacks_.on_text(text);
    in_callback_ = false;
    after_callback();
  }

  void on_tool_call_delta(const ToolCallDelta &delta) override {
    first_token();
    if (!callbacks_.on_tool_call_delta) return;
    in_callback_ = true;
    callbacks_.on_tool_call_delta(delta);
    in_callback_ = false;
    after_callback();
  }

  void first_token() {
    if (!ttft_) ttft_ = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    exchange_->commit();
  }

  void after_callback() {
    if (!ended_) return;
    if (decoder_) decoder_->stop();  // cancelled from inside the callback
    callbacks_ = {};
  }

  void on_head(const net::HttpResponseHead &head) {
    if (ended_) return;
    // A new attempt starts from nothing (an earlier one delivered no token, or it would
    // not have been retried).
    json_body_.reset();
    decoder_.emplace(*this);
    const auto type = trim(net::find_header(head.headers, "content-type"));
    if (type.empty() || istarts_with(type, "text/event-stream")) return;
    if (type.find("json") != std::string_view::npos) {
      json_body_.emplace();  // a server that ignored "stream": one completion
      return;
    }
    fail(ErrorKind::protocol, "expected text/event-stream; got Content-Type " + printable(type, 80));
  }

  void on_body(std::string_view chunk) {
    if (ended_) return;
    if (json_body_) {
      if (json_body_->size() + chunk.size() > kMaxJsonBody) {
        fail(ErrorKind::protocol, "chat completion larger than " + std::to_string(kMaxJsonBody) + " bytes");
        return;
      }
      json_body_->append(chunk);
      return;
    }
    if (!decoder_) decoder_.emplace(*this);
    check(decoder_->feed(chunk));
  }

  void on_complete() {
    if (ended_) return;
    if (json_body_) {
      complete_json();
      return;
    }
    // A last event without its blank line still counts; then the stream must have ended.
    if (decoder_ && check(decoder_->feed("\n\n"))) return;
    if (ended_) return;
    if (decoder_ && decoder_->finished()) {
      finish();  // a server that closes after the finish chunk without [DONE]
      return;
    }
    const size_t deltas = decoder_ ? decoder_->deltas() : 0;
    fail(ErrorKind::network, "the stream ended before [DONE] after " + std::to_string(deltas) + " deltas");
  }

  // Acts on the decoder's state after a feed; true when the stream ended.
  bool check(ChatStreamDecoder::State state) {
    switch (state) {
      case ChatStreamDecoder::State::streaming: return false;
      case ChatStreamDecoder::State::done: finish(); return true;
      case ChatStreamDecoder::State::stopped: return true;
      case ChatStreamDecoder::State::failed: {
        ProviderError error = decoder_->error();
        error.http_status = 200;
        exchange_->fail(std::move(error));
        return true;
      }
    }
    return true;
  }

  void complete_json() {
    LlmResult result;
    if (auto error = parse_chat_completion(*json_body_, result)) {
      exchange_->fail(std::move(*error));
      return;
    }
    if (!result.text.empty()) on_text(result.text);
    for (size_t i = 0; i < result.tool_calls.size() && !ended_; ++i) {
      const ToolCall &call = result.tool_calls[i];
      on_tool_call_delta(ToolCallDelta{static_cast<int>(i), call.id, call.name, call.arguments});
    }
    if (ended_) return;
    finished_json_ = std::move(result);
    finish();
  }

  void finish() {
    if (ended_) return;
    ended_ = true;
    exchange_->detach();
    LlmResult result = finished_json_ ? std::move(*finished_json_) : decoder_->take_result();
    result.time_to_first_token = ttft_;
    result.attempts = exchange_->attempts();
    if (context_.logger && context_.logger->enabled(core::LogLevel::debug)) {
      // Sizes only: the caller's words and the model's reply stay out of the log.
      context_.logger->log(core::LogLevel::debug, context_.call_id,
                           provider_ + ": done, finish_reason " + printable(result.finish_reason, 40) + ", " +
                               std::to_string(result.text.size()) + " bytes of text, " +
                               std::to_string(result.tool_calls.size()) + " tool calls, first token after " +
                               (ttft_ ? std::to_string(ttft_->count() / 1000) + " ms" : std::string("none")) +
                               ", attempt " + std::to_string(result.attempts));
    }
    auto on_done = std::move(callbacks_.on_done);
    callbacks_ = {};
    if (on_done) on_done(std::move(result));
  }

  void fail(ErrorKind kind, std::string message) {
    ProviderError error;
    error.kind = kind;
    error.message = std::move(message);
    error.http_status = 200;
    exchange_->fail(std::move(error));
  }

  void deliver_error(ProviderError error) {
    if (ended_) return;
    ended_ = true;
    if (decoder_) decoder_->stop();
    if (error.provider.empty()) error.provider = provider_;
    error.message = scrub(std::move(error.message), api_key_);
    auto on_error = std::move(callbacks_.on_error);
    callbacks_ = {};
    if (on_error) on_error(std::move(error));
  }

  ProviderContext context_;
  LlmCallbacks callbacks_;
  std::shared_ptr<Exchange> exchange_;
  std::optional<ChatStreamDecoder> decoder_;
  std::optional<std::string> json_body_;
  std::optional<LlmResult> finished_json_;
  std::string api_key_;
  std::string provider_ = "openai";
  Clock::time_point started_;
  std::optional<std::chrono::microseconds> ttft_;
  bool ended_ = false;
  bool in_callback_ = false;
};

class ChatHandle final : public Cancellable {
 public:
  explicit ChatHandle(std::shared_ptr<ChatStream> stream) : stream_(std::move(stream)) {}
  ~ChatHandle() override { stream_->cancel(); }
  void cancel() override { stream_->cancel(); }

 private:
  std::shared_ptr<ChatStream> stream_;
};

class OpenAiLlm final : public Llm {
 public:
  OpenAiLlm(ClientOptions options, ChatOptions chat, const ProviderContext &context)
      : name_(options.provider), options_(std::move(options)), chat_(std::move(chat)), context_(context) {}

  const std::string &name() const noexcept override { return name_; }

  std::unique_ptr<Cancellable> stream(LlmRequest request, LlmCallbacks callbacks) override {
    auto stream = std::make_shared<ChatStream>(context_, std::move(callbacks));
    std::string body;
    try {
      body = chat_request_body(request, chat_);
    } catch (const Error &e) {
      stream->refuse(ProviderError{ErrorKind::bad_request, name_, e.what()});
      return std::make_unique<ChatHandle>(std::move(stream));
    }
    stream->begin(options_, std::move(body));
    return std::make_unique<ChatHandle>(std::move(stream));
  }

 private:
  std::string name_;
  ClientOptions options_;
  ChatOptions chat_;
  ProviderContext context_;
};

}  // namespace

std::unique_ptr<Llm> make_llm(core::ConfigReader &config, const ProviderContext &context, const Flavor &flavor) {
  ChatOptions chat;
  chat.model = config.string("model", "");
  if (chat.model.empty() && *flavor.model_env) {
    if (const char *value = std::getenv(flavor.model_env); value && *value) chat.model = value;
  }
  if (chat.model.empty()) chat.model = flavor.default_model;
  if (chat.model.empty()) config.fail("model", "missing: name the model the server serves");
  if (const double t = config.number("temperature", -1, 0, 2); t >= 0) chat.temperature = t;
  if (const int64_t n = config.integer("max_tokens", 0, 1, 1'000'000); n > 0) chat.max_tokens = static_cast<int>(n);
  chat.max_tokens_param = config.choice("max_tokens_param", "max_tokens", {"max_tokens", "max_completion_tokens"});
  ClientOptions options = read_client_options(config, context, flavor, "first_token_timeout_ms", milliseconds(20'000));
  return std::make_unique<OpenAiLlm>(std::move(options), std::move(chat), context);
}

}  // namespace openai

void register_openai(Registry &registry) {
  for (const auto &flavor : openai::flavors()) {
    registry.add_llm(flavor.name, [&flavor](core::ConfigReader &config, const ProviderContext &context) {
      return openai::make_llm(config, context, flavor);
    });
  }
  register_openai_tts(registry);
  register_openai_stt(registry);
}

}  // namespace parley::providers
