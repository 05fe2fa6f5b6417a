// Fake ElevenLabs: REST TTS, the stream-input TTS WebSocket and the Scribe realtime STT
// WebSocket. JSON field names and orders follow elevenlabs.md.
#include "fakes/elevenlabs_fake.hpp"

#include <cctype>
#include <cstdio>

#include "fakes/provider_util.hpp"

namespace parley::fakes {
namespace {

using detail::ojson;
using nlohmann::json;

constexpr std::string_view kTtsPrefix = "/v1/text-to-speech/";
constexpr int kCharMs = kToneMsPerChar;
const std::vector<long> kDefaultSchedule = {120, 160, 250, 290};

std::string validation_error(std::vector<std::string> loc, std::string_view msg, std::string_view type) {
  ojson item{{"loc", loc}, {"msg", msg}, {"type", type}};
  return ojson{{"detail", ojson::array({item})}}.dump();
}

Response default_error(int status, const std::string &message) {
  if (status == 422) return Response::json(422, validation_error({"body"}, message.empty() ? "Invalid request" : message, "value_error"));
  const char *code = status == 401   ? "invalid_api_key"
                     : status == 404 ? "not_found"
                     : status == 429 ? "too_many_concurrent_requests"
                     : status >= 500 ? "internal_server_error"
                                     : "invalid_request";
  const char *text = status == 401   ? "Invalid API key"
                     : status == 404 ? "Not found"
                     : status == 429 ? "Too many concurrent requests. Please try again later."
                     : status >= 500 ? "An internal server error occurred."
                                     : "Invalid request";
  return Response::json(status, elevenlabs_error_body(code, message.empty() ? std::string_view(text) : message));
}

// Word pieces for streaming: each word with the whitespace after it, counted in code points.
struct Piece {
  std::vector<std::string> chars;
  size_t first = 0;  // index of the first character in the whole text
};

std::vector<Piece> pieces_of(std::string_view text) {
  const std::vector<std::string> chars = utf8_chars(text);
  std::vector<Piece> pieces;
  Piece current;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (current.chars.empty()) current.first = i;
    current.chars.push_back(chars[i]);
    const bool space = std::isspace(static_cast<unsigned char>(chars[i][0])) != 0;
    const bool next_space = i + 1 < chars.size() && std::isspace(static_cast<unsigned char>(chars[i + 1][0])) != 0;
    if (space && !next_space) pieces.push_back(std::move(current)), current = {};
  }
  if (!current.chars.empty()) pieces.push_back(std::move(current));
  return pieces;
}

std::string slice_audio(const std::string &audio, const AudioFormat &format, const Piece &piece) {
  const size_t per_char = samples_per_char(format.sample_rate) * static_cast<size_t>(format.bytes_per_sample());
  return audio.substr(piece.first * per_char, piece.chars.size() * per_char);
}

bool key_matches(const Request &request, const std::string &key) {
  return key.empty() || request.header("xi-api-key") == key;
}

std::string session_id(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%032llx", static_cast<unsigned long long>(0x0b0a72b5ULL * 1000003ULL + n));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// stream-input

class StreamInput final : public WsHandler, public std::enable_shared_from_this<StreamInput> {
 public:
  StreamInput(AudioFormat format, std::string api_key, bool header_key_ok, Ms timeout)
      : format_(format), api_key_(std::move(api_key)), header_key_ok_(header_key_ok), timeout_(timeout) {}

  void on_open(const std::shared_ptr<WsSession> &session) override {
    session_ = session;
    arm();
  }

  void on_text(std::string_view message) override {
    if (ended_) return;
    arm();
    const auto msg = detail::parse_json(message);
    if (!msg || !msg->is_object()) return fail("invalid_message", "Invalid message: not a JSON object");
    if (!initialized_) return initialize(*msg);
    const auto text = msg->find("text");
    if (text == msg->end() || !text->is_string()) return fail("invalid_message", "Invalid message: 'text' must be a string");
    if (text->get<std::string>().empty()) return end_of_stream();
    buffer_ += text->get<std::string>();
    const size_t threshold = static_cast<size_t>(schedule_[std::min(generations_, schedule_.size() - 1)]);
    if (msg->value("flush", false) || utf8_length(buffer_) >= threshold) generate();
  }

  void on_binary(std::string_view) override { fail("invalid_message", "Binary messages are not supported"); }

  void on_closed(uint16_t) override {
    ended_ = true;
    session_.reset();
  }

 private:
  void initialize(const json &msg) {
    if (!header_key_ok_) {
      std::string key = detail::string_field(msg, "xi_api_key");
      if (key.empty()) key = detail::string_field(msg, "xi-api-key");
      const std::string bearer = detail::string_field(msg, "authorization");
      if (key.empty() && bearer.starts_with("Bearer ")) key = bearer.substr(7);
      if (key != api_key_) return fail("invalid_api_key", "Invalid API key");
    }
    if (detail::string_field(msg, "text") != " ") {
      return fail("invalid_message", "The first message must initialize the connection with text \" \"");
    }
    if (const auto config = msg.find("generation_config"); config != msg.end() && config->is_object()) {
      if (const auto list = config->find("chunk_length_schedule"); list != config->end() && list->is_array() && !list->empty()) {
        schedule_.clear();
        for (const auto &item : *list) schedule_.push_back(item.is_number() ? item.get<long>() : 120);
      }
    }
    initialized_ = true;
  }

  // Everything buffered becomes audio, one message per word.
  void generate() {
    const std::string text = std::move(buffer_);
    buffer_.clear();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return;
    ++generations_;
    const std::string audio = synthesize(text, format_);
    for (const Piece &piece : pieces_of(text)) {
      ojson starts = ojson::array(), durations = ojson::array();
      for (size_t i = 0; i < piece.chars.size(); ++i) {
        starts.push_back(static_cast<long>(i) * kCharMs);
        durations.push_back(kCharMs);
      }
      const ojson alignment{{"chars", piece.chars}, {"charStartTimesMs", starts}, {"charDurationsMs", durations}};
      ojson out{{"audio", detail::base64(slice_audio(audio, format_, piece))}, {"isFinal", nullptr}};
      out["normalizedAlignment"] = alignment;
      out["alignment"] = alignment;
      session_->send_text(out.dump());
    }
  }

  void end_of_stream() {
    generate();
    session_->send_text(R"({"isFinal":true})");
    finish(1000, "");
  }

  void fail(const std::string &status, const std::string &message) {
    if (ended_) return;
    session_->send_text(ojson{{"message", message}, {"error", status}, {"code", 1008}}.dump());
    finish(1008, status);
  }

  void finish(uint16_t code, const std::string &reason) {
    ended_ = true;
    if (timer_) session_->cancel(timer_);
    session_->close(code, reason);
  }

  void arm() {
    if (timer_) session_->cancel(timer_);
    std::weak_ptr<StreamInput> weak = shared_from_this();
    timer_ = session_->schedule(timeout_, [weak] {
      if (auto self = weak.lock()) {
        self->timer_ = 0;
        self->fail("input_timeout_exceeded", "Have not received a new text input within the timeout of " +
                                                 std::to_string(self->timeout_.count() / 1000) + " seconds.");
      }
    });
  }

  AudioFormat format_;
  std::string api_key_;
  bool header_key_ok_;
  Ms timeout_;
  std::shared_ptr<WsSession> session_;
  std::vector<long> schedule_ = kDefaultSchedule;
  std::string buffer_;
  size_t generations_ = 0;
  uint64_t timer_ = 0;
  bool initialized_ = false, ended_ = false;
};

// ---------------------------------------------------------------------------------------------
// Scribe realtime

struct ScribeConfig {
  AudioFormat format;
  std::string format_name, model, language, commit_strategy;
  bool include_timestamps = false, enable_logging = true;
  uint64_t id = 0;
};

class Scribe final : public WsHandler {
 public:
  Scribe(ScribeConfig config, TranscriptQueue &script, SttTiming timing)
      : config_(std::move(config)), tracker_(script, timing) {}

  void on_open(const std::shared_ptr<WsSession> &session) override {
    session_ = session;
    ojson settings{{"sample_rate", config_.format.sample_rate},
                   {"audio_format", config_.format_name},
                   {"language_code", config_.language},
                   {"model_id", config_.model},
                   {"commit_strategy", config_.commit_strategy},
                   {"enable_logging", config_.enable_logging},
                   {"include_timestamps", config_.include_timestamps}};
    session_->send_text(ojson{{"message_type", "session_started"}, {"session_id", session_id(config_.id)}, {"config", settings}}.dump());
  }

  void on_text(std::string_view message) override {
    const auto msg = detail::parse_json(message);
    if (!msg || !msg->is_object()) return error("input_error", "Invalid message: not a JSON object");
    const std::string type = detail::string_field(*msg, "message_type");
    if (type == "commit") return commit();
    if (type != "input_audio_chunk") return error("input_error", "Unknown message_type '" + type + "'");
    const auto audio_field = msg->find("audio_base_64");
    if (audio_field == msg->end() || !audio_field->is_string()) return error("input_error", "audio_base_64 is required");
    const auto audio = detail::unbase64(audio_field->get<std::string>());
    if (!audio) return error("input_error", "audio_base_64 is not valid base64");
    if (!audio->empty()) {
      const int64_t us = static_cast<int64_t>(audio->size()) * 1'000'000 / config_.format.bytes_per_second();
      const bool speech = is_speech(decode_audio(*audio, config_.format.encoding));
      for (const SttEvent &event : tracker_.feed(us, speech, config_.commit_strategy == "vad")) {
        if (event.kind == SttEvent::Kind::interim) {
          session_->send_text(ojson{{"message_type", "partial_transcript"}, {"text", event.text}}.dump());
        } else if (event.kind == SttEvent::Kind::final) {
          committed(event);
        }
      }
    }
    if (msg->value("commit", false)) commit();
  }

  void on_binary(std::string_view) override {
    error("input_error", "Binary messages are not supported: send input_audio_chunk messages");
  }

  void on_closed(uint16_t) override { session_.reset(); }

 private:
  void commit() {
    if (auto event = tracker_.finalize()) return committed(*event);
    SttEvent empty;
    empty.kind = SttEvent::Kind::final;
    empty.start = empty.end = tracker_.now();
    committed(empty);
  }

  void committed(const SttEvent &event) {
    session_->send_text(ojson{{"message_type", "committed_transcript"}, {"text", event.text}}.dump());
    if (!config_.include_timestamps) return;
    const auto words = split_words(event.text);
    ojson list = ojson::array();
    const double span = (event.end - event.start) / static_cast<double>(std::max<size_t>(1, words.size()));
    for (size_t i = 0; i < words.size(); ++i) {
      const double start = event.start + span * static_cast<double>(i), end = start + span;
      if (i > 0) list.push_back({{"text", " "}, {"start", start}, {"end", start}, {"type", "spacing"}});
      list.push_back({{"text", words[i]}, {"start", start}, {"end", end}, {"type", "word"}});
    }
    session_->send_text(ojson{{"message_type", "committed_transcript_with_timestamps"},
                              {"text", event.text},
                              {"language_code", config_.language},
                              {"words", list}}
                            .dump());
  }

  void error(const std::string &type, const std::string &text) {
    session_->send_text(ElevenLabsFake::scribe_error(type, text));
  }

  ScribeConfig config_;
  UtteranceTracker tracker_;
  std::shared_ptr<WsSession> session_;
};

}  // namespace

std::optional<AudioFormat> elevenlabs_format(std::string_view name) {
  if (name == "ulaw_8000") return AudioFormat{AudioEncoding::ulaw, 8000, false};
  if (name == "alaw_8000") return AudioFormat{AudioEncoding::alaw, 8000, false};
  for (const int rate : {8000, 16000, 22050, 24000, 32000, 44100, 48000}) {
    if (name == "pcm_" + std::to_string(rate)) return AudioFormat{AudioEncoding::pcm16, rate, false};
  }
  return std::nullopt;
}

std::string elevenlabs_error_body(std::string_view status, std::string_view message) {
  return ojson{{"detail", {{"status", status}, {"message", message}}}}.dump();
}

std::string ElevenLabsFake::scribe_error(std::string_view type, std::string_view text) {
  return ojson{{"message_type", type}, {"error", text}}.dump();
}

ElevenLabsFake::ElevenLabsFake(ServerOptions options) : server_(std::make_unique<FakeServer>(std::move(options))) {
  server_->set_error_body([](int status, const std::string &message, const Request &) { return default_error(status, message); });
  server_->route("POST", std::string(kTtsPrefix), [this](const Request &r) { return tts(r); });
  server_->websocket(std::string(kTtsPrefix), [this](const Request &r) { return stream_input(r); });
  server_->websocket("/v1/speech-to-text/realtime", [this](const Request &r) { return scribe(r); });
}

ElevenLabsFake::~ElevenLabsFake() { server_.reset(); }

void ElevenLabsFake::set_api_key(std::string key) {
  std::lock_guard lock(mutex_);
  settings_.api_key = std::move(key);
}
void ElevenLabsFake::set_audio_chunk_ms(int ms) {
  std::lock_guard lock(mutex_);
  settings_.audio_chunk_ms = ms;
}
void ElevenLabsFake::set_inactivity_timeout(Ms timeout) {
  std::lock_guard lock(mutex_);
  settings_.inactivity_timeout = timeout;
}
void ElevenLabsFake::add_transcript(std::string text) { transcripts_.push(std::move(text)); }
void ElevenLabsFake::set_fallback_transcript(std::optional<std::string> text) { transcripts_.set_fallback(std::move(text)); }
void ElevenLabsFake::set_stt_timing(SttTiming timing) {
  std::lock_guard lock(mutex_);
  settings_.stt_timing = timing;
}
ElevenLabsFake::Settings ElevenLabsFake::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

Response ElevenLabsFake::tts(const Request &request) {
  const Settings settings = this->settings();
  const std::string rest = request.path.substr(kTtsPrefix.size());
  const std::string voice = rest.substr(0, rest.find('/'));
  const std::string tail = rest.substr(voice.size());
  if (voice.empty() || (tail != "" && tail != "/stream" && tail != "/stream/with-timestamps" && tail != "/with-timestamps")) {
    return default_error(404, "Not found");
  }
  if (!key_matches(request, settings.api_key)) return default_error(401, "");
  const auto body = detail::parse_json(request.body);
  if (!body || !body->is_object()) return Response::json(422, validation_error({"body"}, "JSON decode error", "json_invalid"));
  const std::string text = detail::string_field(*body, "text");
  if (text.empty()) return Response::json(422, validation_error({"body", "text"}, "Field required", "missing"));
  const std::string format_name = request.query_param("output_format").value_or("mp3_44100_128");
  const auto format = elevenlabs_format(format_name);
  if (!format) {
    return Response::json(400, elevenlabs_error_body("unsupported_output_format",
                                                     "The fake produces pcm_*, ulaw_8000 and alaw_8000 only, not " + format_name));
  }
  const std::string audio = synthesize(text, *format);
  Response out;
  out.headers = {{"request-id", "fake-" + std::to_string(request.id)}};
  if (tail == "" || tail == "/stream") {
    out.headers.emplace_back("Content-Type", "application/octet-stream");
    out.chunked = tail == "/stream";
    out.chunks = detail::audio_chunks(audio, *format, settings.audio_chunk_ms);
    return out;
  }
  // with-timestamps: one JSON object per word (a line each when streaming); times are
  // seconds from the start of the whole audio.
  auto alignment = [](const std::vector<std::string> &chars, size_t first) {
    ojson starts = ojson::array(), ends = ojson::array();
    for (size_t i = 0; i < chars.size(); ++i) {
      starts.push_back(static_cast<double>((first + i) * kCharMs) / 1000.0);
      ends.push_back(static_cast<double>((first + i + 1) * kCharMs) / 1000.0);
    }
    return ojson{{"characters", chars}, {"character_start_times_seconds", starts}, {"character_end_times_seconds", ends}};
  };
  out.headers.emplace_back("Content-Type", "application/json");
  if (tail == "/with-timestamps") {
    const ojson a = alignment(utf8_chars(text), 0);
    out.chunks.push_back(ojson{{"audio_base64", detail::base64(audio)}, {"alignment", a}, {"normalized_alignment", a}}.dump());
    return out;
  }
  out.chunked = true;
  for (const Piece &piece : pieces_of(text)) {
    const ojson a = alignment(piece.chars, piece.first);
    out.chunks.push_back(
        ojson{{"audio_base64", detail::base64(slice_audio(audio, *format, piece))}, {"alignment", a}, {"normalized_alignment", a}}.dump() + "\n");
  }
  return out;
}

WsAccept ElevenLabsFake::stream_input(const Request &request) {
  const Settings settings = this->settings();
  WsAccept accept;
  const std::string rest = request.path.substr(kTtsPrefix.size());
  const std::string voice = rest.substr(0, rest.find('/'));
  if (voice.empty() || rest.substr(voice.size()) != "/stream-input") {
    accept.refusal = default_error(404, "Not found");
    return accept;
  }
  const std::string header_key = request.header("xi-api-key");
  if (!settings.api_key.empty() && !header_key.empty() && header_key != settings.api_key) {
    accept.refusal = default_error(401, "");
    return accept;
  }
  const std::string format_name = request.query_param("output_format").value_or("mp3_44100_128");
  const auto format = elevenlabs_format(format_name);
  if (!format) {
    accept.refusal = Response::json(400, elevenlabs_error_body("unsupported_output_format",
                                                               "The fake produces pcm_*, ulaw_8000 and alaw_8000 only, not " + format_name));
    return accept;
  }
  const long timeout_s = detail::query_long(request, "inactivity_timeout", -1);
  const Ms timeout = timeout_s > 0 ? Ms(timeout_s * 1000) : settings.inactivity_timeout;
  accept.handler = std::make_shared<StreamInput>(*format, settings.api_key, settings.api_key.empty() || header_key == settings.api_key, timeout);
  return accept;
}

WsAccept ElevenLabsFake::scribe(const Request &request) {
  const Settings settings = this->settings();
  WsAccept accept;
  if (!settings.api_key.empty() && request.header("xi-api-key") != settings.api_key &&
      request.query_param("token").value_or("") != settings.api_key) {
    accept.refusal = default_error(401, "");
    return accept;
  }
  ScribeConfig config;
  config.id = request.id;
  config.model = request.query_param("model_id").value_or("");
  if (config.model.empty()) {
    accept.refusal = Response::json(422, validation_error({"query", "model_id"}, "Field required", "missing"));
    return accept;
  }
  config.format_name = request.query_param("audio_format").value_or("pcm_16000");
  const auto format = elevenlabs_format(config.format_name);
  if (!format || config.format_name == "alaw_8000" || config.format_name == "pcm_32000") {
    accept.refusal = Response::json(422, validation_error({"query", "audio_format"}, "Input should be pcm_8000, pcm_16000, pcm_22050, "
                                                          "pcm_24000, pcm_44100, pcm_48000 or ulaw_8000", "enum"));
    return accept;
  }
  config.format = *format;
  config.commit_strategy = request.query_param("commit_strategy").value_or("manual");
  if (config.commit_strategy != "manual" && config.commit_strategy != "vad") {
    accept.refusal = Response::json(422, validation_error({"query", "commit_strategy"}, "Input should be 'manual' or 'vad'", "enum"));
    return accept;
  }
  config.language = request.query_param("language_code").value_or("en");
  config.include_timestamps = detail::query_bool(request, "include_timestamps", false);
  config.enable_logging = detail::query_bool(request, "enable_logging", true);
  accept.handler = std::make_shared<Scribe>(std::move(config), transcripts_, settings.stt_timing);
  return accept;
}

}  // namespace parley::fakes
