// Azure AI Speech text to speech over REST (../shared/protocols/azure-speech.md), one
// request per text chunk:
//   POST {tts base}/cognitiveservices/v1   (SSML in, raw audio out, streamed)
// with Content-Type application/ssml+xml, X-Microsoft-OutputFormat and a User-Agent. The text
// is escaped into a <speak><voice> document; audio reaches on_audio as the body streams.
//
//   {"provider":"azure",
//    "region":"westeurope",                    // or "base_url": the endpoint (see azure.hpp)
//    "voice":"en-US-JennyNeural",
//    "language":"en-US",                       // xml:lang; default: the voice's locale
//    "output_format":"raw-16khz-16bit-mono-pcm",  // or raw-8khz-8bit-mono-mulaw (decoded to
//                                              // PCM16), raw-8khz-16bit-mono-pcm,
//                                              // raw-24khz-16bit-mono-pcm, raw-48khz-16bit-mono-pcm
//    "user_agent":"parley",
//    "api_key":"...", "api_key_env":"AZURE_SPEECH_KEY",
//    "connect_timeout_ms":5000, "first_byte_timeout_ms":15000, "idle_timeout_ms":15000,
//    "verify_tls":true, "ca_file":"/path/ca.pem"}
#pragma once

#include <memory>
#include <string>

#include "core/config_reader.hpp"
#include "providers/azure.hpp"
#include "providers/tts/tts.hpp"

namespace parley::providers {

std::unique_ptr<Tts> make_azure_tts(core::ConfigReader &config, const ProviderContext &context);

namespace azure {

struct TtsSettings {
  std::string voice = "en-US-JennyNeural";
  std::string language;
  std::string output_format = "raw-16khz-16bit-mono-pcm";
  speech::WireAudio encoding = speech::WireAudio::pcm16;
  int sample_rate = 16000;
  std::string user_agent = "parley";
  speech::Endpoint endpoint;
  std::string api_key;
};

TtsSettings read_tts_settings(core::ConfigReader &config, const ProviderContext &context);
/// The request for one chunk of text.
net::HttpRequest tts_request(const TtsSettings &settings, std::string_view text);

}  // namespace azure
}  // namespace parley::providers
