// Azure AI Speech short-audio speech to text over REST (../shared/protocols/azure-speech.md),
// one request per utterance:
//   POST {stt base}/speech/recognition/conversation/cognitiveservices/v1?language=en-US&format=detailed
// Audio pushed between two finalize() calls is one utterance; finalize() sends it as a WAV
// (PCM16, 16 kHz mono; other input rates are resampled) and its result comes back as one
// final with speech_final set: DisplayText, else NBest[0].Display, with NBest[0]'s
// confidence. NoMatch, InitialSilenceTimeout and BabbleTimeout give an empty final.
// Requests go one at a time, in order, so finals come back in the order of the utterances.
// The service takes at most 60 s; audio past max_utterance_ms is dropped (and logged).
//
//   {"provider":"azure",
//    "region":"westeurope",        // or "base_url": the endpoint (see azure.hpp)
//    "language":"en-US",
//    "profanity":"masked",         // or "removed", "raw"
//    "sample_rate":16000,          // the rate push_audio takes (resampled to 16 kHz when not)
//    "max_utterance_ms":60000,
//    "api_key":"...", "api_key_env":"AZURE_SPEECH_KEY",
//    "connect_timeout_ms":5000, "first_byte_timeout_ms":15000, "idle_timeout_ms":15000,
//    "verify_tls":true, "ca_file":"/path/ca.pem"}
//
// Errors: a refused key (401/403) or a rejected request (400, 415) is fatal and ends the
// stream; a failure that may pass (429, 5xx, timeouts, a cut, RecognitionStatus Error) is
// non-fatal: that utterance is lost, the stream goes on with the next.
#pragma once

#include <memory>
#include <string>

#include "core/config_reader.hpp"
#include "providers/azure.hpp"
#include "providers/stt/stt.hpp"

namespace parley::providers {

std::unique_ptr<Stt> make_azure_stt(core::ConfigReader &config, const ProviderContext &context);

namespace azure {

inline constexpr int kSttRate = 16000;

struct SttSettings {
  std::string language = "en-US";
  std::string profanity = "masked";
  int sample_rate = kSttRate;
  int max_utterance_ms = 60'000;
  speech::Endpoint endpoint;
  std::string api_key;
};

SttSettings read_stt_settings(core::ConfigReader &config, const ProviderContext &context);
std::string stt_url(const SttSettings &settings);

}  // namespace azure
}  // namespace parley::providers
