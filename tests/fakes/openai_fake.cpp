// Fake OpenAI-compatible API. The SSE framing follows the byte-exact example in
// openai-compatible.md §3: "data: <compact JSON>\n\n" per event, fields in the order shown
// there, system_fingerprint on the first chunk only, "usage":null on every chunk when
// include_usage asked for the extra usage chunk.
#include "fakes/openai_fake.hpp"

#include <cctype>
#include <cmath>

#include "audio/wav.hpp"
#include "fakes/audio.hpp"
#include "fakes/provider_util.hpp"

namespace parley::fakes {
namespace {

using detail::ojson;
using nlohmann::json;

constexpr int64_t kCreated = 1700000000;
constexpr int kSpeechRate = 24000;
constexpr size_t kMaxSpeechInput = 4096;

struct ErrorKind {
  const char *type;
  const char *code;  // nullptr -> null
  const char *message;
};

ErrorKind error_kind(int status) {
  switch (status) {
    case 400: return {"invalid_request_error", nullptr, "Invalid request."};
    case 401:
      return {"invalid_request_error", "invalid_api_key",
              "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."};
    case 403: return {"invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported"};
    case 404: return {"invalid_request_error", nullptr, "Not found."};
    case 408: return {"timeout", nullptr, "Request timed out."};
    case 409: return {"invalid_request_error", nullptr, "Conflict."};
    case 422: return {"invalid_request_error", nullptr, "Unprocessable entity."};
    case 429:
      return {"requests", "rate_limit_exceeded",
              "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, "
              "Requested 1. Please try again in 20s."};
    case 503: return {"server_error", nullptr, "The engine is currently overloaded, please try again later."};
    default:
      if (status >= 500) return {"server_error", nullptr, "The server had an error while processing your request. Sorry about that!"};
      return {"invalid_request_error", nullptr, "Request failed."};
  }
}

std::string error_json(int status, std::string_view message, const std::string &param, const std::string &code) {
  const ErrorKind kind = error_kind(status);
  ojson error;
  error["message"] = message.empty() ? std::string(kind.message) : std::string(message);
  error["type"] = kind.type;
  error["param"] = param.empty() ? ojson(nullptr) : ojson(param);
  if (!code.empty()) {
    error["code"] = code;
  } else {
    error["code"] = kind.code ? ojson(kind.code) : ojson(nullptr);
  }
  return ojson{{"error", error}}.dump();
}

std::string request_id(const Request &request) { return "req_fake" + std::to_string(request.id); }

// {"city":"Paris"} -> {"city": | "Paris"}: a cut after every ':' and ','.
std::vector<std::string> argument_fragments(const ToolCall &call) {
  if (!call.fragments.empty()) return call.fragments;
  std::vector<std::string> fragments;
  std::string current;
  for (const char c : call.arguments) {
    current += c;
    if (c == ':' || c == ',') fragments.push_back(std::move(current)), current.clear();
  }
  if (!current.empty() || fragments.empty()) fragments.push_back(current);
  return fragments;
}

std::string sse(const ojson &event) { return "data: " + event.dump() + "\n\n"; }

int count_prompt_tokens(const json &messages) {
  size_t count = 0;
  for (const auto &message : messages) {
    if (!message.is_object()) continue;
    const auto content = message.find("content");
    if (content == message.end()) continue;
    if (content->is_string()) {
      count += word_pieces(content->get<std::string>()).size();
    } else if (content->is_array()) {
      for (const auto &part : *content) count += word_pieces(detail::string_field(part, "text")).size();
    }
  }
  return static_cast<int>(count);
}

}  // namespace

std::vector<std::string> word_pieces(std::string_view text) {
  std::vector<std::string> pieces;
  size_t i = 0;
  auto is_word = [](char c) { return static_cast<unsigned char>(c) >= 0x80 || std::isalnum(static_cast<unsigned char>(c)) || c == '\''; };
  while (i < text.size()) {
    const size_t begin = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i < text.size() && is_word(text[i])) {
      while (i < text.size() && is_word(text[i])) ++i;
    } else if (i < text.size()) {
      ++i;  // one punctuation character
    }
    pieces.emplace_back(text.substr(begin, i - begin));
  }
  return pieces;
}

std::string openai_error_body(int status, std::string_view message) { return error_json(status, message, "", ""); }

std::optional<std::vector<MultipartPart>> parse_multipart(std::string_view content_type, std::string_view body) {
  if (!detail::starts_with_ci(content_type, "multipart/form-data")) return std::nullopt;
  const size_t b = content_type.find("boundary=");
  if (b == std::string_view::npos) return std::nullopt;
  std::string_view boundary = content_type.substr(b + 9);
  boundary = boundary.substr(0, boundary.find(';'));
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  if (boundary.empty()) return std::nullopt;
  const std::string delimiter = "--" + std::string(boundary);
  size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return std::nullopt;
  std::vector<MultipartPart> parts;
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return parts;
    if (body.substr(at, 2) != "\r\n") return std::nullopt;
    at += 2;
    const size_t header_end = body.find("\r\n\r\n", at);
    if (header_end == std::string_view::npos) return std::nullopt;
    MultipartPart part;
    std::string_view headers = body.substr(at, header_end - at);
    while (!headers.empty()) {
      const size_t eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      if (detail::starts_with_ci(line, "content-disposition:")) {
        auto param = [&](std::string_view key) -> std::string {
          const std::string needle = std::string(key) + "=\"";
          size_t p = line.find("; " + needle);
          if (p == std::string_view::npos) return {};
          p += needle.size() + 2;
          return std::string(line.substr(p, line.find('"', p) - p));
        };
        part.name = param("name");
        part.filename = param("filename");
      } else if (detail::starts_with_ci(line, "content-type:")) {
        std::string_view value = line.substr(13);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        part.content_type = std::string(value);
      }
      if (eol == std::string_view::npos) break;
      headers.remove_prefix(eol + 2);
    }
    const size_t data_start = header_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) return std::nullopt;
    part.data = std::string(body.substr(data_start, next - data_start));
    parts.push_back(std::move(part));
    at = next + 2;
  }
}

OpenAiFake::OpenAiFake(ServerOptions options) : default_reply_("Hello!"), server_(std::make_unique<FakeServer>(std::move(options))) {
  server_->set_error_body([](int status, const std::string &message, const Request &request) {
    return Response::json(status, error_json(status, message, "", ""), {{"x-request-id", request_id(request)}});
  });
  for (const std::string prefix : {"/v1", "/openai/v1"}) {
    server_->route("POST", prefix + "/chat/completions", [this](const Request &r) { return chat(r); });
    server_->route("POST", prefix + "/audio/speech", [this](const Request &r) { return speech(r); });
    server_->route("POST", prefix + "/audio/transcriptions", [this](const Request &r) { return transcription(r); });
  }
}

OpenAiFake::~OpenAiFake() { server_.reset(); }

std::string OpenAiFake::base_url() const { return server_->http_url() + "/v1"; }

void OpenAiFake::set_api_key(std::string key) {
  std::lock_guard lock(mutex_);
  api_key_ = std::move(key);
}

void OpenAiFake::set_reply(ChatReply reply) {
  std::lock_guard lock(mutex_);
  default_reply_ = std::move(reply);
}

void OpenAiFake::queue_reply(ChatReply reply) {
  std::lock_guard lock(mutex_);
  queued_.push_back(std::move(reply));
}

void OpenAiFake::set_token_interval(Ms interval) {
  std::lock_guard lock(mutex_);
  token_interval_ = interval;
}

void OpenAiFake::set_audio_chunk_ms(int ms) {
  std::lock_guard lock(mutex_);
  audio_chunk_ms_ = ms;
}

void OpenAiFake::add_transcript(std::string text) { transcripts_.push(std::move(text)); }
void OpenAiFake::set_fallback_transcript(std::optional<std::string> text) { transcripts_.set_fallback(std::move(text)); }

void OpenAiFake::set_stt_timing(SttTiming timing) {
  std::lock_guard lock(mutex_);
  stt_timing_ = timing;
}

std::vector<MultipartPart> OpenAiFake::last_transcription_form() const {
  std::lock_guard lock(mutex_);
  return last_form_;
}

Response OpenAiFake::error(int status, std::string_view message, const std::string &param, const std::string &code) {
  return Response::json(status, error_json(status, message, param, code));
}

std::optional<Response> OpenAiFake::check_auth(const Request &request) {
  std::string key;
  {
    std::lock_guard lock(mutex_);
    key = api_key_;
  }
  if (key.empty() || request.header("Authorization") == "Bearer " + key) return std::nullopt;
  if (request.header("Authorization").empty()) {
    // The one 401 whose code is null.
    ojson error{{"message",
                 "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
                 "auth (i.e. Authorization: Bearer YOUR_KEY)."},
                {"type", "invalid_request_error"}, {"param", nullptr}, {"code", nullptr}};
    return Response::json(401, ojson{{"error", error}}.dump());
  }
  return error(401, "");
}

Response OpenAiFake::chat(const Request &request) {
  auto response = [&]() -> Response {
    if (auto denied = check_auth(request)) return *denied;
    const auto body = detail::parse_json(request.body);
    if (!body || !body->is_object()) {
      return error(400,
                   "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
                   "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)");
    }
    const std::string request_model = detail::string_field(*body, "model");
    if (request_model.empty()) return error(400, "you must provide a model parameter");
    const auto messages = body->find("messages");
    if (messages == body->end() || !messages->is_array()) return error(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
    if (messages->empty()) return error(400, "[] is too short - 'messages'", "messages", "empty_array");
    const bool stream = body->value("stream", false);
    bool include_usage = false;
    if (const auto options = body->find("stream_options"); stream && options != body->end() && options->is_object()) {
      include_usage = options->value("include_usage", false);
    }

    ChatReply reply;
    Ms interval;
    uint64_t number;
    {
      std::lock_guard lock(mutex_);
      if (!queued_.empty()) {
        reply = std::move(queued_.front());
        queued_.erase(queued_.begin());
      } else {
        reply = default_reply_;
      }
      interval = token_interval_;
      number = ++completions_;
    }
    const std::string id = "chatcmpl-" + std::to_string(number);
    const std::string model = reply.model.empty() ? request_model : reply.model;
    const std::vector<std::string> pieces = reply.pieces.empty() ? word_pieces(reply.text) : reply.pieces;
    std::string text;
    for (const auto &piece : pieces) text += piece;
    const std::string finish = !reply.finish_reason.empty() ? reply.finish_reason : reply.tool_calls.empty() ? "stop" : "tool_calls";
    size_t fragments = 0;
    for (const auto &call : reply.tool_calls) fragments += call.whole ? 1 : argument_fragments(call).size();
    Usage usage;
    if (reply.usage) {
      usage = *reply.usage;
    } else {
      usage.prompt_tokens = count_prompt_tokens(*messages);
      usage.completion_tokens = static_cast<int>(pieces.size() + fragments);
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    }
    ojson usage_json{{"prompt_tokens", usage.prompt_tokens}, {"completion_tokens", usage.completion_tokens}, {"total_tokens", usage.total_tokens}};

    if (!stream) {
      ojson message{{"role", "assistant"}, {"content", text.empty() && !reply.tool_calls.empty() ? ojson(nullptr) : ojson(text)}};
      if (!reply.tool_calls.empty()) {
        ojson calls = ojson::array();
        for (const auto &call : reply.tool_calls) {
          calls.push_back({{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
        }
        message["tool_calls"] = calls;
      }
      ojson choice{{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", finish}};
      ojson completion{{"id", id}, {"object", "chat.completion"}, {"created", kCreated}, {"model", model}};
      completion["choices"] = ojson::array({choice});
      completion["usage"] = usage_json;
      completion["system_fingerprint"] = "fp_x";
      return Response::json(200, completion.dump());
    }

    bool first = true;
    auto chunk = [&](ojson delta, ojson finish_reason) {
      ojson event{{"id", id}, {"object", "chat.completion.chunk"}, {"created", kCreated}, {"model", model}};
      if (first) event["system_fingerprint"] = "fp_x";
      first = false;
      ojson choice{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", std::move(finish_reason)}};
      event["choices"] = ojson::array({choice});
      if (include_usage) event["usage"] = nullptr;
      return sse(event);
    };
    Response out;
    out.chunked = true;
    out.interval = interval;
    out.headers = {{"Content-Type", "text/event-stream; charset=utf-8"}, {"Cache-Control", "no-cache"}};
    const bool role_with_tools = reply.role_chunk && pieces.empty() && !reply.tool_calls.empty();
    if (reply.role_chunk && !role_with_tools) out.chunks.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (reply.error && i == reply.error->after_pieces) break;
      out.chunks.push_back(chunk({{"content", pieces[i]}}, nullptr));
    }
    if (reply.error) {
      ojson error{{"message", reply.error->message}, {"type", reply.error->type}, {"param", nullptr}, {"code", nullptr}};
      out.chunks.push_back(sse(ojson{{"error", error}}));
      return out;
    }
    for (size_t i = 0; i < reply.tool_calls.size(); ++i) {
      const ToolCall &call = reply.tool_calls[i];
      ojson opening{{"index", i}, {"id", call.id}};
      if (!call.omit_type) opening["type"] = "function";
      opening["function"] = {{"name", call.name}, {"arguments", call.whole ? call.arguments : std::string()}};
      ojson delta;
      if (role_with_tools && i == 0) {
        delta = {{"role", "assistant"}, {"content", nullptr}};
      }
      delta["tool_calls"] = ojson::array({opening});
      out.chunks.push_back(chunk(std::move(delta), nullptr));
      if (call.whole) continue;
      for (const auto &fragment : argument_fragments(call)) {
        ojson piece{{"index", i}, {"function", {{"arguments", fragment}}}};
        out.chunks.push_back(chunk({{"tool_calls", ojson::array({piece})}}, nullptr));
      }
    }
    out.chunks.push_back(chunk(ojson::object(), finish));
    if (include_usage) {
      ojson event{{"id", id}, {"object", "chat.completion.chunk"}, {"created", kCreated}, {"model", model}};
      event["choices"] = ojson::array();
      event["usage"] = usage_json;
      out.chunks.push_back(sse(event));
    }
    out.chunks.push_back("data: [DONE]\n\n");
    return out;
  }();
  response.headers.emplace_back("x-request-id", request_id(request));
  return response;
}

Response OpenAiFake::speech(const Request &request) {
  auto response = [&]() -> Response {
    if (auto denied = check_auth(request)) return *denied;
    const auto body = detail::parse_json(request.body);
    if (!body || !body->is_object()) return error(400, "We could not parse the JSON body of your request.");
    if (detail::string_field(*body, "model").empty()) return error(400, "Missing required parameter: 'model'.", "model", "missing_required_parameter");
    const std::string input = detail::string_field(*body, "input");
    if (input.empty()) return error(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
    if (utf8_length(input) > kMaxSpeechInput) return error(400, "string too long. Expected a string with maximum length 4096.", "input", "string_above_max_length");
    const auto voice = body->find("voice");
    if (voice == body->end() || !(voice->is_string() || voice->is_object())) {
      return error(400, "Missing required parameter: 'voice'.", "voice", "missing_required_parameter");
    }
    const std::string format_name = body->contains("response_format") ? detail::string_field(*body, "response_format") : "mp3";
    AudioFormat format{AudioEncoding::pcm16, kSpeechRate, false};
    if (format_name == "wav") {
      format.wav = true;
    } else if (format_name != "pcm") {
      return error(400, "The fake speaks response_format 'pcm' and 'wav' only, not '" + format_name + "'.", "response_format");
    }
    int chunk_ms;
    {
      std::lock_guard lock(mutex_);
      chunk_ms = audio_chunk_ms_;
    }
    Response out;
    out.chunked = true;
    out.headers = {{"Content-Type", format.wav ? "audio/wav" : "audio/pcm"}};
    out.chunks = detail::audio_chunks(synthesize(input, format), format, chunk_ms);
    return out;
  }();
  response.headers.emplace_back("x-request-id", request_id(request));
  return response;
}

Response OpenAiFake::transcription(const Request &request) {
  auto response = [&]() -> Response {
    if (auto denied = check_auth(request)) return *denied;
    const auto parts = parse_multipart(request.header("Content-Type"), request.body);
    if (!parts) return error(400, "Could not parse multipart form");
    {
      std::lock_guard lock(mutex_);
      last_form_ = *parts;
    }
    auto field = [&](std::string_view name) -> const MultipartPart * {
      for (const auto &part : *parts) {
        if (part.name == name) return &part;
      }
      return nullptr;
    };
    const MultipartPart *file = field("file");
    if (!file || file->filename.empty()) return error(400, "Missing required parameter: 'file'.", "file", "missing_required_parameter");
    if (!field("model") || field("model")->data.empty()) return error(400, "Missing required parameter: 'model'.", "model", "missing_required_parameter");
    const std::string format = field("response_format") ? field("response_format")->data : "json";
    if (format != "json" && format != "text" && format != "verbose_json") {
      return error(400, "The fake answers response_format json, text and verbose_json only, not '" + format + "'.", "response_format");
    }
    audio::WavAudio wav;
    try {
      wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(file->data.data()), file->data.size()));
    } catch (const std::exception &) {
      return error(400,
                   "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', "
                   "'wav', 'webm']");
    }
    const double duration = static_cast<double>(wav.frames()) / wav.format.sample_rate;
    SttTiming timing;
    {
      std::lock_guard lock(mutex_);
      timing = stt_timing_;
    }
    std::string text;
    if (duration * 1000.0 >= static_cast<double>(timing.min_audio.count()) && is_speech(wav.samples)) {
      text = transcripts_.pop().value_or("");
    }
    if (format == "text") return Response::text(200, text + "\n");
    if (format == "json") {
      ojson out{{"text", text}, {"usage", {{"type", "duration"}, {"seconds", static_cast<int>(std::ceil(duration))}}}};
      return Response::json(200, out.dump());
    }
    const auto words = split_words(text);
    ojson segments = ojson::array();
    if (!text.empty()) {
      segments.push_back({{"id", 0}, {"seek", 0}, {"start", 0.0}, {"end", duration}, {"text", " " + text}, {"tokens", ojson::array()},
                          {"temperature", 0.0}, {"avg_logprob", -0.2}, {"compression_ratio", 1.0}, {"no_speech_prob", 0.01}});
    }
    ojson out{{"task", "transcribe"}, {"language", field("language") ? field("language")->data : std::string("english")},
              {"duration", duration}, {"text", text}, {"segments", segments}};
    bool want_words = false;
    for (const auto &part : *parts) want_words = want_words || (part.name == "timestamp_granularities[]" && part.data == "word");
    if (want_words) {
      ojson list = ojson::array();
      for (size_t i = 0; i < words.size(); ++i) {
        list.push_back({{"word", lexical_word(words[i])},
                        {"start", duration * static_cast<double>(i) / static_cast<double>(words.size())},
                        {"end", duration * static_cast<double>(i + 1) / static_cast<double>(words.size())}});
      }
      out["words"] = list;
    }
    out["usage"] = {{"type", "duration"}, {"seconds", static_cast<int>(std::ceil(duration))}};
    return Response::json(200, out.dump());
  }();
  response.headers.emplace_back("x-request-id", request_id(request));
  return response;
}

}  // namespace parley::fakes
