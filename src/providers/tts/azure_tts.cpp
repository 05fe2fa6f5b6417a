// Azure TTS (azure_tts.hpp): a chunked stream of HTTP requests.
#include "providers/tts/azure_tts.hpp"

#include <utility>

namespace parley::providers {
namespace azure {
namespace {

struct Format {
  const char *name;
  speech::WireAudio encoding;
  int sample_rate;
};

// The headerless formats whose audio is PCM16 or mu-law (riff-* would put a WAV header in
// the audio; mp3/opus would need a decoder).
constexpr Format kFormats[] = {
    {"raw-16khz-16bit-mono-pcm", speech::WireAudio::pcm16, 16000},
    {"raw-8khz-8bit-mono-mulaw", speech::WireAudio::ulaw, 8000},
    {"raw-8khz-16bit-mono-pcm", speech::WireAudio::pcm16, 8000},
    {"raw-22050hz-16bit-mono-pcm", speech::WireAudio::pcm16, 22050},
    {"raw-24khz-16bit-mono-pcm", speech::WireAudio::pcm16, 24000},
    {"raw-44100hz-16bit-mono-pcm", speech::WireAudio::pcm16, 44100},
    {"raw-48khz-16bit-mono-pcm", speech::WireAudio::pcm16, 48000},
};

}  // namespace

TtsSettings read_tts_settings(core::ConfigReader &config, const ProviderContext &context) {
  TtsSettings s;
  s.voice = config.string("voice", s.voice);
  if (s.voice.empty()) config.fail("voice", "expected a voice name such as \"en-US-JennyNeural\"; got \"\"");
  s.language = config.string("language", voice_locale(s.voice));
  if (s.language.empty()) config.fail("language", "missing: the voice name has no locale in front, so give one (\"en-US\")");
  s.output_format = config.string("output_format", s.output_format);
  const Format *format = nullptr;
  for (const Format &f : kFormats) {
    if (s.output_format == f.name) format = &f;
  }
  if (!format) {
    std::string names;
    for (const Format &f : kFormats) names += (names.empty() ? "" : ", ") + std::string(f.name);
    config.fail("output_format", "expected one of " + names + "; got \"" + s.output_format + "\"");
  }
  s.encoding = format->encoding;
  s.sample_rate = format->sample_rate;
  s.user_agent = config.string("user_agent", s.user_agent);
  if (s.user_agent.empty() || s.user_agent.size() >= 255) {
    config.fail("user_agent", "expected an application name of 1 to 254 characters");
  }
  s.endpoint = read_endpoint(config, Service::tts);
  s.api_key = speech::require_api_key(config, context, kKeyEnv);
  return s;
}

net::HttpRequest tts_request(const TtsSettings &s, std::string_view text) {
  net::HttpRequest request = speech::http_request(s.endpoint, "POST", s.endpoint.base_url + kTtsPath);
  request.headers = {{kKeyHeader, s.api_key},
                     {"Content-Type", "application/ssml+xml"},
                     {"X-Microsoft-OutputFormat", s.output_format},
                     {"User-Agent", s.user_agent}};
  request.body = ssml(text, s.voice, s.language);
  return request;
}

namespace {

class AzureTts final : public Tts {
 public:
  AzureTts(TtsSettings settings, ProviderContext context)
      : settings_(std::make_shared<const TtsSettings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->sample_rate; }

  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    speech::HttpSynthesisSpec spec;
    spec.provider = kProvider;
    spec.encoding = settings_->encoding;
    spec.secret = settings_->api_key;
    spec.build = [settings = settings_](const std::string &text) { return tts_request(*settings, text); };
    spec.error_message = [](int status, std::string_view body) { return error_message(status, body); };
    return make_chunked_stream(speech::make_http_synthesizer(std::move(spec), context_), std::move(callbacks),
                               context_.executor);
  }

 private:
  const std::string name_ = kProvider;
  std::shared_ptr<const TtsSettings> settings_;
  ProviderContext context_;
};

}  // namespace
}  // namespace azure

std::unique_ptr<Tts> make_azure_tts(core::ConfigReader &config, const ProviderContext &context) {
  return std::make_unique<azure::AzureTts>(azure::read_tts_settings(config, context), context);
}

}  // namespace parley::providers
