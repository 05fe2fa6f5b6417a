// Deepgram Aura text to speech over REST (../shared/protocols/deepgram.md), one request per
// text chunk:
//   POST {base_url}/v1/speak?model=...&encoding=linear16&sample_rate=16000&container=none
// encoding, sample_rate and container are always sent: Deepgram's documented defaults
// disagree with each other, and container=none keeps a WAV header out of the audio.
// Audio reaches on_audio as the body streams.
//
//   {"provider":"deepgram",
//    "model":"aura-2-thalia-en",
//    "encoding":"linear16",      // or "mulaw" (8 kHz only; decoded to PCM16)
//    "sample_rate":16000,        // linear16: 8000, 16000, 24000, 32000 or 48000
//    "api_key":"...", "api_key_env":"DEEPGRAM_API_KEY", "base_url":"https://api.deepgram.com",
//    "connect_timeout_ms":5000, "first_byte_timeout_ms":15000, "idle_timeout_ms":15000,
//    "verify_tls":true, "ca_file":"/path/ca.pem"}
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/config_reader.hpp"
#include "providers/deepgram.hpp"
#include "providers/tts/tts.hpp"

namespace parley::providers {

std::unique_ptr<Tts> make_deepgram_tts(core::ConfigReader &config, const ProviderContext &context);

namespace deepgram {

struct TtsSettings {
  std::string model = "aura-2-thalia-en";
  std::string encoding = "linear16";
  int sample_rate = 16000;
  speech::Endpoint endpoint;
  std::string api_key;
};

TtsSettings read_tts_settings(core::ConfigReader &config, const ProviderContext &context);
std::string speak_url(const TtsSettings &settings);
/// {"text":"..."}
std::string speak_body(std::string_view text);

}  // namespace deepgram
}  // namespace parley::providers
