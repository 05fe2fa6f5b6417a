// ElevenLabs TTS (elevenlabs_tts.hpp). Layout, top to bottom:
//   settings and request builders   - config keys, URLs, JSON bodies and messages
//   HttpTts                         - "elevenlabs": a chunked stream of HTTP requests
//   StreamInput                     - "elevenlabs_ws": one utterance on one WebSocket
//   WsTts                           - "elevenlabs_ws"
//   factories
#include "providers/tts/elevenlabs_tts.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace parley::providers {
namespace elevenlabs {
namespace {

using nlohmann::ordered_json;
using speech::milliseconds;
using Clock = std::chrono::steady_clock;

// voice_settings: every number optional; only the ones given are sent.
std::string read_voice_settings(core::ConfigReader &config) {
  auto nested = config.object("voice_settings");
  if (!nested) return "";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ordered_json out = ordered_json::object();
  for (const char *key : {"stability", "similarity_boost", "style"}) {
    const double value = nested->number(key, nan, 0.0, 1.0);
    if (!std::isnan(value)) out[key] = value;
  }
  // ElevenLabs' own default, sent because a boolean's absence cannot be told apart here.
  out["use_speaker_boost"] = nested->boolean("use_speaker_boost", true);
  const double speed = nested->number("speed", nan, 0.7, 1.2);
  if (!std::isnan(speed)) out["speed"] = speed;
  nested->reject_unknown_keys();
  return out.dump();
}

}  // namespace

TtsSettings read_tts_settings(core::ConfigReader &config, const ProviderContext &context, bool websocket) {
  TtsSettings s;
  s.voice = config.string("voice", s.voice);
  if (s.voice.empty()) config.fail("voice", "expected a voice id; got \"\"");
  s.model = config.string("model", s.model);
  if (s.model.empty()) config.fail("model", "expected a model id such as \"eleven_flash_v2_5\"; got \"\"");
  s.output_format = config.string("output_format", s.output_format);
  const auto format = output_format(s.output_format);
  if (!format) {
    std::string names;
    for (const auto name : output_format_names()) names += (names.empty() ? "" : ", ") + std::string(name);
    config.fail("output_format", "expected one of " + names + "; got \"" + s.output_format + "\"");
  }
  s.format = *format;
  s.language = config.string("language", "");
  if (!websocket) s.optimize_streaming_latency = static_cast<int>(config.integer("optimize_streaming_latency", -1, -1, 4));
  s.enable_logging = config.boolean("enable_logging", true);
  s.voice_settings = read_voice_settings(config);
  if (websocket) {
    s.flush_each_chunk = config.boolean("flush_each_chunk", true);
    s.keepalive = milliseconds(config.integer("keepalive_ms", s.keepalive.count(), 100, 600'000));
  }
  s.endpoint = speech::read_endpoint(config, kDefaultBaseUrl);
  s.api_key = speech::require_api_key(config, context, kKeyEnv);
  return s;
}

std::string stream_url(const TtsSettings &s) {
  speech::Query query;
  query.add("output_format", s.output_format);
  if (s.optimize_streaming_latency >= 0) query.add("optimize_streaming_latency", int64_t{s.optimize_streaming_latency});
  if (!s.enable_logging) query.add("enable_logging", false);
  std::string base = s.endpoint.base_url;
  if (base.rfind("ws", 0) == 0) base = "http" + base.substr(2);  // a ws(s):// base serves both
  return base + "/v1/text-to-speech/" + speech::url_encode(s.voice) + "/stream" + query.str();
}

std::string stream_body(const TtsSettings &s, std::string_view text, std::string_view previous_text) {
  ordered_json body{{"text", text}, {"model_id", s.model}};
  if (!s.language.empty()) body["language_code"] = s.language;
  if (!s.voice_settings.empty()) body["voice_settings"] = ordered_json::parse(s.voice_settings);
  if (!previous_text.empty()) body["previous_text"] = previous_text;
  return body.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string stream_input_url(const TtsSettings &s) {
  speech::Query query;
  query.add("model_id", s.model).add("output_format", s.output_format);
  if (!s.language.empty()) query.add("language_code", s.language);
  if (!s.enable_logging) query.add("enable_logging", false);
  return speech::websocket_base(s.endpoint.base_url) + "/v1/text-to-speech/" + speech::url_encode(s.voice) +
         "/stream-input" + query.str();
}

std::string initialize_message(const TtsSettings &s) {
  ordered_json message{{"text", " "}};
  if (!s.voice_settings.empty()) message["voice_settings"] = ordered_json::parse(s.voice_settings);
  return message.dump();
}

std::string text_message(std::string_view text, bool flush) {
  std::string chunk(text);
  if (chunk.empty() || !std::isspace(static_cast<unsigned char>(chunk.back()))) chunk += ' ';
  ordered_json message{{"text", chunk}, {"try_trigger_generation", !flush}, {"flush", flush}};
  return message.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

namespace {

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// ---------------------------------------------------------------------------------------------
// HttpTts

class HttpTts final : public Tts {
 public:
  HttpTts(TtsSettings settings, ProviderContext context)
      : settings_(std::make_shared<const TtsSettings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->format.sample_rate; }

  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    speech::HttpSynthesisSpec spec;
    spec.provider = kProvider;
    spec.encoding = settings_->format.encoding;
    spec.secret = settings_->api_key;
    spec.build = [settings = settings_, previous = std::string()](const std::string &text) mutable {
      net::HttpRequest request = speech::http_request(settings->endpoint, "POST", stream_url(*settings));
      request.headers = {{kKeyHeader, settings->api_key}, {"Content-Type", "application/json"}};
      request.body = stream_body(*settings, text, previous);
      previous = text;
      return request;
    };
    spec.error_message = [](int, std::string_view body) { return error_message(body); };
    return make_chunked_stream(speech::make_http_synthesizer(std::move(spec), context_), std::move(callbacks),
                               context_.executor);
  }

 private:
  const std::string name_ = "elevenlabs";
  std::shared_ptr<const TtsSettings> settings_;
  ProviderContext context_;
};

// ---------------------------------------------------------------------------------------------
// StreamInput

// One utterance on one stream-input WebSocket. Lives on the provider's executor; the
// connection reaches it through a WeakHandler, so dropping the stream ends everything.
class StreamInput : public std::enable_shared_from_this<StreamInput> {
 public:
  StreamInput(std::shared_ptr<const TtsSettings> settings, ProviderContext context, TtsCallbacks callbacks)
      : settings_(std::move(settings)),
        context_(std::move(context)),
        callbacks_(std::move(callbacks)),
        decoder_(settings_->format.encoding),
        response_timer_(context_.executor),
        keepalive_timer_(context_.executor) {}

  void start() {
    auto options = speech::websocket_options(settings_->endpoint, stream_input_url(*settings_));
    options.headers = {{kKeyHeader, settings_->api_key}};
    try {
      client_ = net::WebSocketClient::connect(speech::io_context_of(context_.executor), std::move(options),
                                              std::make_shared<speech::WeakHandler<StreamInput>>(weak_from_this()),
                                              context_.executor);
    } catch (const std::exception &e) {
      ProviderError error;
      error.kind = ErrorKind::internal;
      error.provider = kProvider;
      error.message = speech::scrub(e.what(), settings_->api_key);
      boost::asio::post(context_.executor, [self = shared_from_this(), error]() mutable { self->fail(std::move(error)); });
      return;
    }
    send(initialize_message(*settings_));
    schedule_keepalive();
  }

  void push_text(std::string text) {
    if (ended_ || finished_ || blank(text)) return;
    send(text_message(text, settings_->flush_each_chunk));
    if (settings_->flush_each_chunk) expect_answer(settings_->endpoint.first_byte_timeout);
  }

  void finish() {
    if (ended_ || finished_) return;
    finished_ = true;
    if (server_final_) {
      // The server already ended the stream: nothing more will come.
      return boost::asio::post(context_.executor, [self = shared_from_this()] { self->done(); });
    }
    send(std::string(kEndOfStreamMessage));
    expect_answer(settings_->endpoint.first_byte_timeout);
  }

  void cancel() {
    if (ended_) return;
    end();
    if (client_) client_->abort();
  }

  // --- WebSocket events (on the executor) ---

  void on_open() {}

  void on_text(std::string_view text) {
    if (ended_) return;
    response_timer_.cancel();
    timer_armed_ = false;
    std::string problem;
    const auto message = parse_stream_input_message(text, problem);
    if (!message) return protocol_error("unreadable message from the server: " + problem);
    if (message->is_error()) return server_error(*message);
    if (message->audio) deliver_audio(*message);
    if (message->is_final) return on_final();
    if (finished_) expect_answer(settings_->endpoint.idle_timeout);
  }

  void on_binary(std::string_view) {
    if (!ended_) speech::log(context_, core::LogLevel::debug, "elevenlabs_ws: ignored a binary message");
  }

  void on_closed(int code, std::string_view reason, int http_status) {
    client_.reset();
    if (ended_) return;
    if (finished_ && code == 1000) return done();  // lenient: a normal close after EOS ends the audio
    ProviderError error = speech::websocket_error(
        kProvider, code, reason, http_status, [](std::string_view body) { return error_message(body); },
        settings_->api_key);
    error.fatal = true;
    if (code != 0 && http_status == 0 && error.kind != ErrorKind::auth) {
      error.message += finished_ ? " before the end of the audio" : " during the utterance";
    }
    fail(std::move(error));
  }

 private:
  void send(std::string message) {
    if (!client_) return;
    last_sent_ = Clock::now();
    client_->send_text(std::move(message));
  }

  void deliver_audio(const StreamInputMessage &message) {
    const int offset_ms = static_cast<int>(samples_ * 1000 / static_cast<uint64_t>(settings_->format.sample_rate));
    const auto samples = decoder_.decode(*message.audio);
    samples_ += samples.size();
    if (!samples.empty() && callbacks_.on_audio) callbacks_.on_audio(samples.data(), samples.size());
    if (ended_ || message.alignment.empty()) return;  // on_audio may have cancelled us
    auto words = aligner_.add(message.alignment, offset_ms);
    if (!words.empty() && callbacks_.on_words) callbacks_.on_words(std::move(words));
  }

  void on_final() {
    if (!finished_) {
      server_final_ = true;  // finish() reports the end
      return;
    }
    if (client_) client_->close(1000);
    done();
  }

  void server_error(const StreamInputMessage &message) {
    ProviderError error;
    error.provider = kProvider;
    const std::string code = message.error.empty() ? "error" : message.error;
    error.kind = kind_of_error_code(code);
    std::string words = message.message.empty() ? code : message.message + " (" + code + ")";
    error.message = speech::scrub(words, settings_->api_key);
    if (client_) client_->abort();
    fail(std::move(error));
  }

  void protocol_error(std::string message) {
    ProviderError error;
    error.kind = ErrorKind::protocol;
    error.provider = kProvider;
    error.message = speech::scrub(message, settings_->api_key);
    if (client_) client_->abort();
    fail(std::move(error));
  }

  // Something must arrive within `timeout` (unless a wait is already running).
  void expect_answer(milliseconds timeout) {
    if (timer_armed_ || ended_) return;
    timer_armed_ = true;
    response_timer_.expires_after(timeout);
    response_timer_.async_wait([weak = weak_from_this(), timeout](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->ended_) return;
      self->timer_armed_ = false;
      ProviderError error;
      error.kind = ErrorKind::timeout;
      error.provider = kProvider;
      error.message = "no audio from the server for " + std::to_string(timeout.count()) + " ms";
      if (self->client_) self->client_->abort();
      self->fail(std::move(error));
    });
  }

  void schedule_keepalive() {
    keepalive_timer_.expires_after(settings_->keepalive);
    keepalive_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->ended_ || self->finished_) return;
      if (Clock::now() - self->last_sent_ >= self->settings_->keepalive) self->send(std::string(kKeepAliveMessage));
      self->schedule_keepalive();
    });
  }

  void done() {
    if (ended_) return;
    auto words = aligner_.finish();
    if (!words.empty() && callbacks_.on_words) callbacks_.on_words(std::move(words));
    if (ended_) return;
    end();
    if (callbacks_.on_done) callbacks_.on_done();
  }

  void fail(ProviderError error) {
    if (ended_) return;
    end();
    speech::log(context_, core::LogLevel::warn, "elevenlabs_ws: " + error.message);
    if (callbacks_.on_error) callbacks_.on_error(std::move(error));
  }

  void end() {
    ended_ = true;
    response_timer_.cancel();
    keepalive_timer_.cancel();
  }

  std::shared_ptr<const TtsSettings> settings_;
  ProviderContext context_;
  TtsCallbacks callbacks_;
  std::shared_ptr<net::WebSocketClient> client_;
  speech::AudioDecoder decoder_;
  WordAligner aligner_;
  boost::asio::steady_timer response_timer_;
  boost::asio::steady_timer keepalive_timer_;
  Clock::time_point last_sent_ = Clock::now();
  uint64_t samples_ = 0;
  bool timer_armed_ = false;
  bool finished_ = false;      // the end-of-stream message went out
  bool server_final_ = false;  // isFinal came before finish()
  bool ended_ = false;         // done, failed or cancelled: no callback from now on
};

class StreamInputStream final : public TtsStream {
 public:
  explicit StreamInputStream(std::shared_ptr<StreamInput> state) : state_(std::move(state)) {}
  ~StreamInputStream() override { state_->cancel(); }
  void push_text(std::string text) override { state_->push_text(std::move(text)); }
  void finish() override { state_->finish(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<StreamInput> state_;
};

class WsTts final : public Tts {
 public:
  WsTts(TtsSettings settings, ProviderContext context)
      : settings_(std::make_shared<const TtsSettings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->format.sample_rate; }

  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    auto state = std::make_shared<StreamInput>(settings_, context_, std::move(callbacks));
    state->start();
    return std::make_unique<StreamInputStream>(std::move(state));
  }

 private:
  const std::string name_ = "elevenlabs_ws";
  std::shared_ptr<const TtsSettings> settings_;
  ProviderContext context_;
};

}  // namespace
}  // namespace elevenlabs

std::unique_ptr<Tts> make_elevenlabs_tts(core::ConfigReader &config, const ProviderContext &context) {
  return std::make_unique<elevenlabs::HttpTts>(elevenlabs::read_tts_settings(config, context, false), context);
}

std::unique_ptr<Tts> make_elevenlabs_ws_tts(core::ConfigReader &config, const ProviderContext &context) {
  speech::io_context_of(context.executor);  // fails now rather than at the first utterance
  return std::make_unique<elevenlabs::WsTts>(elevenlabs::read_tts_settings(config, context, true), context);
}

}  // namespace parley::providers
