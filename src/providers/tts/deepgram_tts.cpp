// Deepgram Aura TTS (deepgram_tts.hpp): a chunked stream of HTTP requests.
#include "providers/tts/deepgram_tts.hpp"

#include <nlohmann/json.hpp>

namespace parley::providers {
namespace deepgram {

TtsSettings read_tts_settings(core::ConfigReader &config, const ProviderContext &context) {
  TtsSettings s;
  s.model = config.string("model", s.model);
  if (s.model.empty()) config.fail("model", "expected a voice model such as \"aura-2-thalia-en\"; got \"\"");
  s.encoding = config.choice("encoding", s.encoding, {"linear16", "mulaw"});
  const int64_t fallback_rate = s.encoding == "mulaw" ? 8000 : s.sample_rate;
  s.sample_rate = static_cast<int>(config.integer("sample_rate", fallback_rate, 8000, 48000));
  if (s.encoding == "mulaw" && s.sample_rate != 8000) {
    config.fail("sample_rate", "mulaw audio is 8000 Hz; got " + std::to_string(s.sample_rate));
  }
  if (s.encoding == "linear16" && s.sample_rate != 8000 && s.sample_rate != 16000 && s.sample_rate != 24000 &&
      s.sample_rate != 32000 && s.sample_rate != 48000) {
    config.fail("sample_rate", "expected 8000, 16000, 24000, 32000 or 48000 for linear16; got " + std::to_string(s.sample_rate));
  }
  s.endpoint = speech::read_endpoint(config, kDefaultBaseUrl);
  s.api_key = speech::require_api_key(config, context, kKeyEnv);
  return s;
}

std::string speak_url(const TtsSettings &s) {
  speech::Query query;
  query.add("model", s.model)
      .add("encoding", s.encoding)
      .add("sample_rate", int64_t{s.sample_rate})
      .add("container", "none");
  std::string base = s.endpoint.base_url;
  if (base.rfind("ws", 0) == 0) base = "http" + base.substr(2);
  return base + "/v1/speak" + query.str();
}

std::string speak_body(std::string_view text) {
  return nlohmann::json{{"text", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

class AuraTts final : public Tts {
 public:
  AuraTts(TtsSettings settings, ProviderContext context)
      : settings_(std::make_shared<const TtsSettings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->sample_rate; }

  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    speech::HttpSynthesisSpec spec;
    spec.provider = kProvider;
    spec.encoding = settings_->encoding == "mulaw" ? speech::WireAudio::ulaw : speech::WireAudio::pcm16;
    spec.secret = settings_->api_key;
    spec.build = [settings = settings_](const std::string &text) {
      net::HttpRequest request = speech::http_request(settings->endpoint, "POST", speak_url(*settings));
      request.headers = {{"Authorization", authorization(settings->api_key)}, {"Content-Type", "application/json"}};
      request.body = speak_body(text);
      return request;
    };
    spec.error_message = [](int, std::string_view body) { return error_message(body); };
    return make_chunked_stream(speech::make_http_synthesizer(std::move(spec), context_), std::move(callbacks),
                               context_.executor);
  }

 private:
  const std::string name_ = kProvider;
  std::shared_ptr<const TtsSettings> settings_;
  ProviderContext context_;
};

}  // namespace
}  // namespace deepgram

std::unique_ptr<Tts> make_deepgram_tts(core::ConfigReader &config, const ProviderContext &context) {
  return std::make_unique<deepgram::AuraTts>(deepgram::read_tts_settings(config, context), context);
}

}  // namespace parley::providers
