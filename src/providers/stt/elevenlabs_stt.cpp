// ElevenLabs Scribe realtime STT (elevenlabs_stt.hpp): settings and messages, then the
// stream on speech::WebSocketStt.
#include "providers/stt/elevenlabs_stt.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace parley::providers {
namespace elevenlabs {

SttSettings read_stt_settings(core::ConfigReader &config, const ProviderContext &context) {
  SttSettings s;
  s.model = config.string("model", s.model);
  if (s.model.empty()) config.fail("model", "expected a model id such as \"scribe_v2_realtime\"; got \"\"");
  s.language = config.string("language", "");
  s.sample_rate = static_cast<int>(config.integer("sample_rate", s.sample_rate, 8000, 48000));
  if (s.sample_rate == 32000 || !output_format("pcm_" + std::to_string(s.sample_rate))) {
    config.fail("sample_rate", "expected one of 8000, 16000, 22050, 24000, 44100, 48000; got " + std::to_string(s.sample_rate));
  }
  s.commit_strategy = config.choice("commit_strategy", s.commit_strategy, {"manual", "vad"});
  s.vad_silence_threshold_secs = config.number("vad_silence_threshold_secs", -1, 0.3, 3.0);
  s.include_timestamps = config.boolean("include_timestamps", false);
  s.enable_logging = config.boolean("enable_logging", true);
  s.finalize_timeout = speech::milliseconds(config.integer("finalize_timeout_ms", s.finalize_timeout.count(), 100, 120'000));
  s.endpoint = speech::read_endpoint(config, kDefaultBaseUrl);
  s.api_key = speech::require_api_key(config, context, kKeyEnv);
  return s;
}

std::string scribe_url(const SttSettings &s) {
  speech::Query query;
  query.add("model_id", s.model)
      .add("audio_format", "pcm_" + std::to_string(s.sample_rate))
      .add("commit_strategy", s.commit_strategy);
  if (!s.language.empty()) query.add("language_code", s.language);
  if (s.vad_silence_threshold_secs >= 0) {
    char value[32];
    std::snprintf(value, sizeof value, "%g", s.vad_silence_threshold_secs);
    query.add("vad_silence_threshold_secs", std::string_view(value));
  }
  if (s.include_timestamps) query.add("include_timestamps", true);
  if (!s.enable_logging) query.add("enable_logging", false);
  return speech::websocket_base(s.endpoint.base_url) + "/v1/speech-to-text/realtime" + query.str();
}

// Written by hand: the base64 is most of the message and needs no escaping.
std::string audio_chunk_message(const int16_t *samples, size_t count, int sample_rate) {
  std::string message = R"({"message_type":"input_audio_chunk","audio_base_64":")";
  message += speech::encode_base64_pcm16(samples, count);
  message += R"(","commit":false,"sample_rate":)";
  message += std::to_string(sample_rate);
  message += '}';
  return message;
}

std::string commit_message(int sample_rate) {
  return R"({"message_type":"input_audio_chunk","audio_base_64":"","commit":true,"sample_rate":)" +
         std::to_string(sample_rate) + "}";
}

namespace {

// Seconds from the server to ms, capped at a day: sums of them stay inside an int.
int to_ms(double seconds) { return static_cast<int>(std::lround(std::clamp(seconds * 1000.0, 0.0, 86'400'000.0))); }

// Retrying cannot fix these; everything else a new session may cure.
bool fatal_code(std::string_view code, ErrorKind kind) {
  if (kind == ErrorKind::auth) return true;
  if (code.find("quota") != std::string_view::npos) return true;
  return kind == ErrorKind::bad_request && code != "insufficient_audio_activity";
}

class Scribe final : public speech::WebSocketStt {
 public:
  Scribe(std::shared_ptr<const SttSettings> settings, ProviderContext context, SttCallbacks callbacks)
      : WebSocketStt(options_for(*settings), std::move(context), std::move(callbacks)), settings_(std::move(settings)) {}

  void start() {
    auto options = speech::websocket_options(settings_->endpoint, scribe_url(*settings_));
    options.headers = {{kKeyHeader, settings_->api_key}};
    connect(std::move(options));
  }

  void push_audio(const int16_t *samples, size_t count) override {
    if (ended() || count == 0) return;
    send_text(audio_chunk_message(samples, count, settings_->sample_rate));
    samples_ += count;
    uncommitted_ = true;
  }

  void finalize() override {
    if (ended()) return;
    if (!uncommitted_) return deliver_empty_final(now_ms());  // nothing to commit: nothing to wait for
    send_text(commit_message(settings_->sample_rate));
    uncommitted_ = false;
    await_final();
  }

 protected:
  void handle_text(std::string_view text) override {
    std::string problem;
    const auto message = parse_scribe_message(text, problem);
    if (!message) return fail(error(ErrorKind::protocol, "unreadable message from the server: " + problem, false));
    switch (message->type) {
      case ScribeMessage::Type::session_started:
      case ScribeMessage::Type::other:
        return;
      case ScribeMessage::Type::partial:
        if (!message->text.empty()) deliver(transcript(message->text, false));
        return;
      case ScribeMessage::Type::committed:
        // With timestamps the same text follows with its times; that one is delivered.
        if (!settings_->include_timestamps) deliver(transcript(message->text, true));
        return;
      case ScribeMessage::Type::committed_with_timestamps: {
        Transcript t = transcript(message->text, true);
        if (message->start >= 0) t.start_ms = to_ms(message->start);
        if (message->end >= 0) t.end_ms = std::max(t.start_ms, to_ms(message->end));
        deliver(t);
        return;
      }
      case ScribeMessage::Type::error: {
        const ErrorKind kind = kind_of_error_code(message->error_code);
        std::string words = message->error == message->error_code ? message->error
                                                                  : message->error + " (" + message->error_code + ")";
        return fail(error(kind, words, fatal_code(message->error_code, kind)));
      }
    }
  }

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

  // A final ends the segment: the next one starts where the audio is now.
  Transcript transcript(const std::string &text, bool final) {
    Transcript t;
    t.text = text;
    t.is_final = final;
    t.speech_final = final;  // a commit is the end of an utterance
    t.start_ms = segment_start_ms_;
    t.end_ms = std::max(segment_start_ms_, now_ms());
    if (final) segment_start_ms_ = now_ms();
    return t;
  }

  std::shared_ptr<const SttSettings> settings_;
  uint64_t samples_ = 0;
  int segment_start_ms_ = 0;
  bool uncommitted_ = false;  // audio went out since the last commit
};

}  // namespace
}  // namespace elevenlabs

std::unique_ptr<Stt> make_elevenlabs_stt(core::ConfigReader &config, const ProviderContext &context) {
  speech::io_context_of(context.executor);  // fails now rather than at the first call
  return std::make_unique<speech::WebSocketSttProvider<elevenlabs::Scribe, elevenlabs::SttSettings>>(
      elevenlabs::kProvider, elevenlabs::read_stt_settings(config, context), context);
}

}  // namespace parley::providers
