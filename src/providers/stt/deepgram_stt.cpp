// Deepgram live STT (deepgram_stt.hpp): settings and URL, then the stream on
// speech::WebSocketStt.
#include "providers/stt/deepgram_stt.hpp"

#include <algorithm>
#include <cmath>

namespace parley::providers {
namespace deepgram {

SttSettings read_stt_settings(core::ConfigReader &config, const ProviderContext &context) {
  SttSettings s;
  s.model = config.string("model", s.model);
  if (s.model.empty()) config.fail("model", "expected a model such as \"nova-3\"; got \"\"");
  s.language = config.string("language", "");
  s.sample_rate = static_cast<int>(config.integer("sample_rate", s.sample_rate, 8000, 48000));
  s.interim_results = config.boolean("interim_results", true);
  s.endpointing_ms = static_cast<int>(config.integer("endpointing_ms", s.endpointing_ms, 0, 60'000));
  s.utterance_end_ms = static_cast<int>(config.integer("utterance_end_ms", s.interim_results ? 1000 : 0, 0, 60'000));
  if (s.utterance_end_ms > 0 && !s.interim_results) {
    config.fail("utterance_end_ms", "needs \"interim_results\": true (Deepgram's UtteranceEnd relies on interim results)");
  }
  s.vad_events = config.boolean("vad_events", true);
  s.smart_format = config.boolean("smart_format", true);
  s.punctuate = config.boolean("punctuate", false);
  s.keepalive = speech::milliseconds(config.integer("keepalive_ms", s.keepalive.count(), 50, 9'000));
  s.finalize_timeout = speech::milliseconds(config.integer("finalize_timeout_ms", s.finalize_timeout.count(), 100, 120'000));
  s.endpoint = speech::read_endpoint(config, kDefaultBaseUrl);
  s.api_key = speech::require_api_key(config, context, kKeyEnv);
  return s;
}

std::string listen_url(const SttSettings &s) {
  speech::Query query;
  query.add("model", s.model)
      .add("encoding", "linear16")
      .add("sample_rate", int64_t{s.sample_rate})
      .add("channels", int64_t{1})
      .add("interim_results", s.interim_results);
  if (s.endpointing_ms > 0) {
    query.add("endpointing", int64_t{s.endpointing_ms});
  } else {
    query.add("endpointing", false);
  }
  if (s.utterance_end_ms > 0) query.add("utterance_end_ms", int64_t{s.utterance_end_ms});
  query.add("vad_events", s.vad_events).add("smart_format", s.smart_format);
  if (s.punctuate) query.add("punctuate", true);
  if (!s.language.empty()) query.add("language", s.language);
  return speech::websocket_base(s.endpoint.base_url) + "/v1/listen" + query.str();
}

namespace {

// Seconds from the server to ms, capped at a day: sums of them stay inside an int.
int to_ms(double seconds) { return static_cast<int>(std::lround(std::clamp(seconds * 1000.0, 0.0, 86'400'000.0))); }

class Listen final : public speech::WebSocketStt {
 public:
  Listen(std::shared_ptr<const SttSettings> settings, ProviderContext context, SttCallbacks callbacks)
      : WebSocketStt(options_for(*settings), context, std::move(callbacks)),
        settings_(std::move(settings)),
        keepalive_timer_(context.executor) {}

  void start() {
    auto options = speech::websocket_options(settings_->endpoint, listen_url(*settings_));
    options.headers = {{"Authorization", authorization(settings_->api_key)}};
    connect(std::move(options));
    schedule_keepalive();
  }

  void push_audio(const int16_t *samples, size_t count) override {
    if (ended() || count == 0) return;
    send_binary(speech::pcm16_bytes(samples, count));
    samples_ += count;
    unfinalized_ = true;
  }

  void finalize() override {
    if (ended()) return;
    if (!unfinalized_) return deliver_empty_final(now_ms());  // nothing buffered: nothing to wait for
    send_text(std::string(kFinalize));
    unfinalized_ = false;
    await_final();
  }

 protected:
  void handle_text(std::string_view text) override {
    std::string problem;
    const auto message = parse_message(text, problem);
    if (!message) return fail(error(ErrorKind::protocol, "unreadable message from the server: " + problem, false));
    switch (message->type) {
      case Message::Type::results: return results(*message);
      case Message::Type::utterance_end: return utterance_end(*message);
      case Message::Type::speech_started: return deliver_speech_started();
      case Message::Type::error: return fail(error(ErrorKind::server, message->error, false));
      case Message::Type::metadata:
      case Message::Type::other: return;
    }
  }

  void goodbye() override { send_text(std::string(kCloseStream)); }

 private:
  static Options options_for(const SttSettings &settings) {
    Options options;
    options.provider = kProvider;
    options.secret = settings.api_key;
    options.finalize_timeout = settings.finalize_timeout;
    options.refusal_message = [](std::string_view body) { return error_message(body); };
    return options;
  }

  int now_ms() const { return static_cast<int>(samples_ * 1000 / static_cast<uint64_t>(settings_->sample_rate)); }

  void results(const Message &message) {
    Transcript t;
    t.text = message.transcript;
    t.is_final = message.is_final || message.from_finalize;
    t.speech_final = t.is_final && (message.speech_final || message.from_finalize);
    t.confidence = message.confidence;
    t.start_ms = to_ms(message.start);
    t.end_ms = to_ms(message.start + message.duration);
    if (!t.is_final) {
      if (!t.text.empty()) deliver(t);
      return;
    }
    // Deepgram finalises silence too; an empty final matters only when it ends something.
    const bool ends_something = message.from_finalize || (t.speech_final && utterance_open_);
    if (t.text.empty() && !ends_something) return;
    utterance_open_ = !t.speech_final && (utterance_open_ || !t.text.empty());
    deliver(t);
  }

  // The utterance's words were finalised without an endpoint: end it now.
  void utterance_end(const Message &message) {
    if (!utterance_open_) return;
    utterance_open_ = false;
    Transcript t;
    t.is_final = true;
    t.speech_final = true;
    t.start_ms = t.end_ms = message.last_word_end >= 0 ? to_ms(message.last_word_end) : now_ms();
    deliver(t);
  }

  void schedule_keepalive() {
    keepalive_timer_.expires_after(settings_->keepalive);
    keepalive_timer_.async_wait([weak = std::weak_ptr<Listen>(std::static_pointer_cast<Listen>(shared_from_this()))](
                                    boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->ended()) return;
      if (std::chrono::steady_clock::now() - self->last_sent() >= self->settings_->keepalive) {
        self->send_text(std::string(kKeepAlive));
      }
      self->schedule_keepalive();
    });
  }

  std::shared_ptr<const SttSettings> settings_;
  boost::asio::steady_timer keepalive_timer_;
  uint64_t samples_ = 0;
  bool unfinalized_ = false;    // audio went out since the last Finalize
  bool utterance_open_ = false;  // finals with words since the last speech_final
};

}  // namespace
}  // namespace deepgram

std::unique_ptr<Stt> make_deepgram_stt(core::ConfigReader &config, const ProviderContext &context) {
  speech::io_context_of(context.executor);  // fails now rather than at the first call
  return std::make_unique<speech::WebSocketSttProvider<deepgram::Listen, deepgram::SttSettings>>(
      deepgram::kProvider, deepgram::read_stt_settings(config, context), context);
}

}  // namespace parley::providers
