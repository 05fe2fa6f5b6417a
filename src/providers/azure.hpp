// Azure AI Speech over REST: text to speech ("azure" TTS) and short-audio speech to text
// ("azure" STT). Wire formats: ../shared/protocols/azure-speech.md. Config keys are
// documented in tts/azure_tts.hpp and stt/azure_stt.hpp.
//
// Where the service is: "region" ("westeurope") gives the region's hosts,
// https://{region}.tts.speech.microsoft.com and https://{region}.stt.speech.microsoft.com;
// "base_url" instead gives one endpoint for both (a custom domain, a proxy, a test fake),
// to which the API paths are appended. The key goes in Ocp-Apim-Subscription-Key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "providers/speech_common.hpp"

namespace parley::providers {

class Registry;

/// Registers TTS "azure" and STT "azure".
void register_azure(Registry &registry);

namespace azure {

inline constexpr const char *kProvider = "azure";
inline constexpr const char *kKeyEnv = "AZURE_SPEECH_KEY";
inline constexpr const char *kKeyHeader = "Ocp-Apim-Subscription-Key";
inline constexpr const char *kTtsPath = "/cognitiveservices/v1";
inline constexpr const char *kSttPath = "/speech/recognition/conversation/cognitiveservices/v1";

enum class Service { tts, stt };

/// Reads "region" or "base_url" (exactly one) and the other endpoint keys; the base URL of
/// `service`.
speech::Endpoint read_endpoint(core::ConfigReader &config, Service service);

/// Text for an XML element or attribute: & < > " ' as entities; control characters XML 1.0
/// forbids become spaces.
std::string escape_xml(std::string_view text);

/// <speak version='1.0' xml:lang='LANG'><voice xml:lang='LANG' name='VOICE'>TEXT</voice></speak>
std::string ssml(std::string_view text, std::string_view voice, std::string_view language);

/// "en-US-JennyNeural" -> "en-US"; "" when the name has no locale in front.
std::string voice_locale(std::string_view voice);

/// The provider's words for a failed request: the body when it says something (Azure's are
/// often empty), else a hint for the status (401: key, token or region).
std::string error_message(int status, std::string_view body);

/// A short-audio recognition result.
struct Recognition {
  std::string status;  // RecognitionStatus: Success, NoMatch, InitialSilenceTimeout, BabbleTimeout, Error
  std::string text;    // DisplayText, else NBest[0].Display; "" unless Success
  double confidence = 0;     // NBest[0].Confidence
  int64_t offset_ticks = 0;  // 100-ns ticks from the start of the audio sent
  int64_t duration_ticks = 0;
};

/// nullopt, with `problem` set, when `body` is not a JSON object with a RecognitionStatus.
std::optional<Recognition> parse_recognition(std::string_view body, std::string &problem);

}  // namespace azure
}  // namespace parley::providers
