// Deepgram live speech to text over a WebSocket (../shared/protocols/deepgram.md):
//   {ws base}/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1
//       &interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&smart_format=true
// Audio goes out as binary frames of PCM16. While no audio flows a KeepAlive goes out every
// keepalive_ms (Deepgram closes a stream that hears nothing for 10 s). finalize() sends
// Finalize; closing the stream sends CloseStream.
//
// What comes back:
// - Results with is_final false: an interim transcript (empty ones are skipped);
// - Results with is_final true: a final span (is_final); speech_final when Deepgram's
//   endpointing ended the utterance, or when it answers finalize() (from_finalize), so the
//   final that finalize() asked for always carries speech_final. Empty finals are passed on
//   only when they end something (speech_final or from_finalize);
// - UtteranceEnd: an empty final with speech_final, when the utterance's finals had none;
// - SpeechStarted: on_speech_started.
//
//   {"provider":"deepgram",
//    "model":"nova-3",
//    "language":"en-US",          // optional
//    "sample_rate":16000,         // the rate push_audio takes, 8000..48000
//    "interim_results":true,
//    "endpointing_ms":300,        // silence that ends an utterance; 0 = endpointing off
//    "utterance_end_ms":1000,     // 0 = no UtteranceEnd (default 0 without interim results)
//    "vad_events":true,
//    "smart_format":true,
//    "punctuate":false,
//    "keepalive_ms":4000,
//    "finalize_timeout_ms":5000,  // no final this long after finalize(): error
//    "api_key":"...", "api_key_env":"DEEPGRAM_API_KEY", "base_url":"https://api.deepgram.com",
//    "connect_timeout_ms":5000, "verify_tls":true, "ca_file":"/path/ca.pem"}
//
// Errors: the first error ends the stream (see speech::WebSocketStt). A server close such as
// 1011 "NET-0001 ..." or 1008 "DATA-0000 ..." is a non-fatal error carrying that reason; a
// refused upgrade (401 bad key, 400 bad parameters) is fatal with Deepgram's err_msg.
#pragma once

#include <memory>
#include <string>

#include "core/config_reader.hpp"
#include "providers/deepgram.hpp"
#include "providers/stt/stt.hpp"

namespace parley::providers {

std::unique_ptr<Stt> make_deepgram_stt(core::ConfigReader &config, const ProviderContext &context);

namespace deepgram {

struct SttSettings {
  std::string model = "nova-3";
  std::string language;
  int sample_rate = 16000;
  bool interim_results = true;
  int endpointing_ms = 300;
  int utterance_end_ms = 1000;
  bool vad_events = true;
  bool smart_format = true;
  bool punctuate = false;
  speech::milliseconds keepalive{4'000};
  speech::milliseconds finalize_timeout{5'000};
  speech::Endpoint endpoint;
  std::string api_key;
};

SttSettings read_stt_settings(core::ConfigReader &config, const ProviderContext &context);
std::string listen_url(const SttSettings &settings);

inline constexpr std::string_view kKeepAlive = R"({"type":"KeepAlive"})";
inline constexpr std::string_view kFinalize = R"({"type":"Finalize"})";
inline constexpr std::string_view kCloseStream = R"({"type":"CloseStream"})";

}  // namespace deepgram
}  // namespace parley::providers
