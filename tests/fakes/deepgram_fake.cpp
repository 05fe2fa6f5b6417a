// Fake Deepgram: live /v1/listen WebSocket and Aura /v1/speak REST. Message shapes and
// field orders follow deepgram.md.
#include "fakes/deepgram_fake.hpp"

#include <chrono>
#include <cmath>
#include <ctime>

#include "fakes/provider_util.hpp"

namespace parley::fakes {
namespace {

using detail::ojson;

// Seconds rounded to the millisecond, so 0.3 prints as 0.3 and not 0.30000000000000004.
double secs(double value) { return std::round(value * 1000.0) / 1000.0; }

std::optional<AudioEncoding> encoding_of(std::string_view name) {
  if (name == "linear16") return AudioEncoding::pcm16;
  if (name == "mulaw") return AudioEncoding::ulaw;
  if (name == "alaw") return AudioEncoding::alaw;
  return std::nullopt;
}

std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

Response error_response(int status, std::string_view code, std::string_view message, const Request &request) {
  return Response::json(status, deepgram_error_body(code, message, detail::fake_uuid(request.id)),
                        {{"dg-request-id", detail::fake_uuid(request.id)}});
}

Response default_error(int status, const std::string &message, const Request &request) {
  const char *code = status == 401   ? "INVALID_AUTH"
                     : status == 402 ? "ASR_PAYMENT_REQUIRED"
                     : status == 403 ? "INSUFFICIENT_PERMISSIONS"
                     : status == 404 ? "NOT_FOUND"
                     : status == 429 ? "TOO_MANY_REQUESTS"
                     : status >= 500 ? "INTERNAL_SERVER_ERROR"
                                     : "Bad Request";
  const char *text = status == 401   ? "Invalid credentials."
                     : status == 429 ? "Too many requests. Please try again later."
                     : status >= 500 ? "An internal server error occurred."
                                     : "Bad request.";
  return error_response(status, code, message.empty() ? std::string_view(text) : message, request);
}

struct ListenConfig {
  AudioFormat format;
  std::string model;
  int channels = 1;
  bool interim_results = false, punctuate = false, vad_events = false;
  long endpointing = 10;  // ms; <0: disabled ("false")
  long utterance_end_ms = 0;
  uint64_t id = 0;
  Ms inactivity_timeout{10'000};
};

class Listen final : public WsHandler, public std::enable_shared_from_this<Listen> {
 public:
  Listen(ListenConfig config, TranscriptQueue &script, SttTiming timing)
      : config_(std::move(config)), tracker_(script, timing), final_after_silence_(timing.final_after_silence) {}

  void on_open(const std::shared_ptr<WsSession> &session) override {
    session_ = session;
    arm();
  }

  void on_binary(std::string_view audio) override {
    if (closing_) return;
    arm();
    audio_sha256_.update(audio);
    if (audio.empty()) return;
    const int64_t us = static_cast<int64_t>(audio.size()) * 1'000'000 / (config_.format.bytes_per_second() * config_.channels);
    const bool speech = is_speech(decode_audio(audio, config_.format.encoding));
    if (speech) pending_utterance_end_.reset();  // speech again before the gap: no UtteranceEnd
    if (speech) last_speech_ = std::chrono::steady_clock::now();
    for (const SttEvent &event : tracker_.feed(us, speech, true)) {
      switch (event.kind) {
        case SttEvent::Kind::started:
          if (config_.vad_events) {
            session_->send_text(ojson{{"type", "SpeechStarted"}, {"channel", {0}}, {"timestamp", secs(event.start)}}.dump());
          }
          break;
        case SttEvent::Kind::interim:
          if (config_.interim_results) results(event, false, false, false);
          break;
        case SttEvent::Kind::final: final_result(event); break;
      }
    }
    if (speech && tracker_.in_utterance()) arm_silence_final(final_after_silence_);
    if (pending_utterance_end_ && tracker_.now() >= *pending_utterance_end_ && !tracker_.in_utterance()) {
      session_->send_text(
          ojson{{"type", "UtteranceEnd"}, {"channel", {0, 1}}, {"last_word_end", secs(tracker_.last_end())}}.dump());
      pending_utterance_end_.reset();
    }
  }

  void on_text(std::string_view message) override {
    if (closing_) return;
    arm();
    const auto msg = detail::parse_json(message);
    const std::string type = msg ? detail::string_field(*msg, "type") : "";
    if (type == "Finalize") {
      finalize(true);
    } else if (type == "CloseStream") {
      finalize(false);
      session_->send_text(ojson{{"type", "Metadata"},
                                {"transaction_key", "deprecated"},
                                {"request_id", detail::fake_uuid(config_.id)},
                                {"sha256", audio_sha256_.hex()},
                                {"created", iso_now()},
                                {"duration", secs(tracker_.now())},
                                {"channels", config_.channels}}
                              .dump());
      closing_ = true;
      if (timer_) session_->cancel(timer_);
      session_->close(1000, "");
    }
    // KeepAlive (and anything else): only resets the inactivity timer.
  }

  void on_closed(uint16_t) override {
    closing_ = true;
    session_.reset();
  }

 private:
  void final_result(const SttEvent &event) {
    results(event, true, config_.endpointing >= 0, false);
    if (config_.utterance_end_ms > 0) pending_utterance_end_ = event.end + static_cast<double>(config_.utterance_end_ms) / 1000.0;
  }

  // SttTiming::final_after_silence: the open utterance becomes final once no speech audio has
  // arrived for that long (wall clock), as the service's own endpointing would end it. One
  // timer at a time: it re-arms itself for the rest of the wait while speech keeps coming.
  void arm_silence_final(Ms delay) {
    if (final_after_silence_.count() <= 0 || silence_timer_ != 0 || !session_) return;
    std::weak_ptr<Listen> weak = shared_from_this();
    silence_timer_ = session_->schedule(delay, [weak] {
      auto self = weak.lock();
      if (!self || self->closing_) return;
      self->silence_timer_ = 0;
      if (!self->tracker_.in_utterance()) return;
      const auto quiet = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - self->last_speech_);
      if (quiet < self->final_after_silence_) return self->arm_silence_final(self->final_after_silence_ - quiet);
      if (auto event = self->tracker_.finalize()) self->final_result(*event);
    });
  }

  void finalize(bool from_finalize) {
    if (auto event = tracker_.finalize()) return results(*event, true, false, from_finalize);
    if (!from_finalize) return;
    SttEvent empty;
    empty.kind = SttEvent::Kind::final;
    empty.start = empty.end = tracker_.now();
    results(empty, true, false, true);
  }

  void results(const SttEvent &event, bool is_final, bool speech_final, bool from_finalize) {
    const auto written = split_words(event.text);
    std::vector<std::string> lexical;
    for (const auto &word : written) lexical.push_back(lexical_word(word));
    const std::string transcript = config_.punctuate ? join_words(written, written.size()) : join_words(lexical, lexical.size());
    ojson words = ojson::array();
    const double span = (event.end - event.start) / static_cast<double>(std::max<size_t>(1, written.size()));
    for (size_t i = 0; i < written.size(); ++i) {
      ojson word{{"word", lexical[i]},
                 {"start", secs(event.start + span * static_cast<double>(i))},
                 {"end", secs(event.start + span * static_cast<double>(i + 1))},
                 {"confidence", 0.99}};
      if (config_.punctuate) word["punctuated_word"] = written[i];
      words.push_back(std::move(word));
    }
    const ojson alternative{{"transcript", transcript}, {"confidence", transcript.empty() ? 0.0 : 0.98}, {"words", words}};
    const ojson metadata{{"request_id", detail::fake_uuid(config_.id)},
                         {"model_info", {{"name", "2-general-nova"}, {"version", "2024-01-18.26916"}, {"arch", config_.model}}},
                         {"model_uuid", detail::fake_uuid(0x2)}};
    ojson out{{"type", "Results"},
              {"channel_index", {0, 1}},
              {"duration", secs(event.end - event.start)},
              {"start", secs(event.start)},
              {"is_final", is_final},
              {"speech_final", speech_final},
              {"from_finalize", from_finalize}};
    out["channel"] = {{"alternatives", ojson::array({alternative})}};
    out["metadata"] = metadata;
    session_->send_text(out.dump());
  }

  void arm() {
    if (timer_) session_->cancel(timer_);
    std::weak_ptr<Listen> weak = shared_from_this();
    timer_ = session_->schedule(config_.inactivity_timeout, [weak] {
      auto self = weak.lock();
      if (!self || self->closing_) return;
      self->closing_ = true;
      self->timer_ = 0;
      self->session_->close(1011, "NET-0001: Deepgram did not receive audio data or a text message within the timeout window.");
    });
  }

  ListenConfig config_;
  UtteranceTracker tracker_;
  std::shared_ptr<WsSession> session_;
  detail::Sha256 audio_sha256_;  // of all the audio, for Metadata
  std::optional<double> pending_utterance_end_;
  uint64_t timer_ = 0;
  Ms final_after_silence_{0};
  std::chrono::steady_clock::time_point last_speech_;
  uint64_t silence_timer_ = 0;
  bool closing_ = false;
};

}  // namespace

std::string deepgram_error_body(std::string_view err_code, std::string_view err_msg, std::string_view request_id) {
  return ojson{{"err_code", err_code}, {"err_msg", err_msg}, {"request_id", request_id}}.dump();
}

DeepgramFake::DeepgramFake(ServerOptions options) : server_(std::make_unique<FakeServer>(std::move(options))) {
  server_->set_error_body(default_error);
  server_->websocket("/v1/listen", [this](const Request &r) { return listen(r); });
  server_->route("POST", "/v1/speak", [this](const Request &r) { return speak(r); });
}

DeepgramFake::~DeepgramFake() { server_.reset(); }

void DeepgramFake::set_api_key(std::string key) {
  std::lock_guard lock(mutex_);
  settings_.api_key = std::move(key);
}
void DeepgramFake::set_inactivity_timeout(Ms timeout) {
  std::lock_guard lock(mutex_);
  settings_.inactivity_timeout = timeout;
}
void DeepgramFake::set_audio_chunk_ms(int ms) {
  std::lock_guard lock(mutex_);
  settings_.audio_chunk_ms = ms;
}
void DeepgramFake::add_transcript(std::string text) { transcripts_.push(std::move(text)); }
void DeepgramFake::set_fallback_transcript(std::optional<std::string> text) { transcripts_.set_fallback(std::move(text)); }
void DeepgramFake::set_stt_timing(SttTiming timing) {
  std::lock_guard lock(mutex_);
  settings_.stt_timing = timing;
}
DeepgramFake::Settings DeepgramFake::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

std::optional<Response> DeepgramFake::check_auth(const Request &request, const Settings &settings) const {
  if (settings.api_key.empty()) return std::nullopt;
  const std::string auth = request.header("Authorization");
  if (auth == "Token " + settings.api_key || auth == "Bearer " + settings.api_key) return std::nullopt;
  // Browsers: Sec-WebSocket-Protocol: token, <key>
  if (request.header("Sec-WebSocket-Protocol") == "token, " + settings.api_key) return std::nullopt;
  return default_error(401, "", request);
}

WsAccept DeepgramFake::listen(const Request &request) {
  const Settings settings = this->settings();
  WsAccept accept;
  if (auto denied = check_auth(request, settings)) {
    accept.refusal = std::move(*denied);
    return accept;
  }
  ListenConfig config;
  config.id = request.id;
  config.model = request.query_param("model").value_or("nova-3");
  const auto encoding_name = request.query_param("encoding");
  const long rate = detail::query_long(request, "sample_rate", encoding_name ? -1 : 16000);
  if (rate <= 0) {
    accept.refusal = error_response(400, "Bad Request", "sample_rate is required (a positive integer) when encoding is set", request);
    return accept;
  }
  const auto encoding = encoding_of(encoding_name.value_or("linear16"));
  if (!encoding) {
    accept.refusal = error_response(400, "Bad Request", "The fake decodes encoding linear16, mulaw and alaw only", request);
    return accept;
  }
  config.format = AudioFormat{*encoding, static_cast<int>(rate), false};
  config.channels = static_cast<int>(detail::query_long(request, "channels", 1));
  if (config.channels < 1) config.channels = 1;
  config.interim_results = detail::query_bool(request, "interim_results", false);
  config.punctuate = detail::query_bool(request, "punctuate", false) || detail::query_bool(request, "smart_format", false);
  config.vad_events = detail::query_bool(request, "vad_events", false);
  config.endpointing = request.query_param("endpointing") == "false" ? -1 : detail::query_long(request, "endpointing", 10);
  config.utterance_end_ms = detail::query_long(request, "utterance_end_ms", 0);
  config.inactivity_timeout = settings.inactivity_timeout;
  if (request.header("Sec-WebSocket-Protocol").starts_with("token")) accept.headers.emplace_back("Sec-WebSocket-Protocol", "token");
  accept.headers.emplace_back("dg-request-id", detail::fake_uuid(request.id));
  accept.handler = std::make_shared<Listen>(std::move(config), transcripts_, settings.stt_timing);
  return accept;
}

Response DeepgramFake::speak(const Request &request) {
  const Settings settings = this->settings();
  if (auto denied = check_auth(request, settings)) return *denied;
  const auto body = detail::parse_json(request.body);
  if (!body || !body->is_object()) return error_response(400, "Bad Request", "Invalid JSON body", request);
  const std::string text = detail::string_field(*body, "text");
  if (text.empty()) return error_response(400, "Bad Request", "The text field is required and must not be empty", request);
  const std::string encoding_name = request.query_param("encoding").value_or("linear16");
  const auto encoding = encoding_of(encoding_name);
  if (!encoding) return error_response(400, "UNSUPPORTED_ENCODING", "The fake produces encoding linear16, mulaw and alaw only", request);
  const long rate = detail::query_long(request, "sample_rate", *encoding == AudioEncoding::pcm16 ? 24000 : 8000);
  const std::string container = request.query_param("container").value_or(*encoding == AudioEncoding::pcm16 ? "wav" : "none");
  if (rate <= 0 || (container != "none" && container != "wav")) {
    return error_response(400, "Bad Request", "Invalid sample_rate or container", request);
  }
  const AudioFormat format{*encoding, static_cast<int>(rate), container == "wav"};
  const std::string model = request.query_param("model").value_or("aura-asteria-en");
  Response out;
  out.chunked = true;
  out.headers = {{"Content-Type", format.wav ? "audio/wav" : "application/octet-stream"},
                 {"dg-request-id", detail::fake_uuid(request.id)},
                 {"dg-model-name", model},
                 {"dg-char-count", std::to_string(utf8_length(text))}};
  out.chunks = detail::audio_chunks(synthesize(text, format), format, settings.audio_chunk_ms);
  return out;
}

}  // namespace parley::fakes
