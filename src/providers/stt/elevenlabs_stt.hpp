// ElevenLabs Scribe realtime speech to text over a WebSocket (../shared/protocols/elevenlabs.md):
//   {ws base}/v1/speech-to-text/realtime?model_id=...&audio_format=pcm_16000&commit_strategy=manual
// Audio goes out as input_audio_chunk messages (base64 PCM16); finalize() commits the
// segment and its committed_transcript comes back as a final with speech_final set;
// partial_transcript messages are interim results. With commit_strategy "vad" the service
// also commits on its own when the caller falls silent.
//
//   {"provider":"elevenlabs",
//    "model":"scribe_v2_realtime",
//    "language":"en",                     // optional language_code (ISO-639-1/3)
//    "sample_rate":16000,                 // 8000, 16000, 22050, 24000, 44100 or 48000
//    "commit_strategy":"manual",          // or "vad"
//    "vad_silence_threshold_secs":1.5,    // optional, 0.3..3.0 (vad)
//    "include_timestamps":false,          // true: finals carry the words' audio times
//    "enable_logging":true,
//    "finalize_timeout_ms":5000,          // no committed transcript this long after finalize(): error
//    "api_key":"...", "api_key_env":"ELEVENLABS_API_KEY", "base_url":"https://api.elevenlabs.io",
//    "connect_timeout_ms":5000, "verify_tls":true, "ca_file":"/path/ca.pem"}
//
// Errors: the first error ends the stream (see speech::WebSocketStt): a dropped connection,
// a server close, or an error message the service sends that a new session may cure
// (transcriber_error, rate_limited, session_time_limit_exceeded ...) is non-fatal; a refused
// key, exceeded quota, unaccepted terms or rejected input is fatal.
#pragma once

#include <memory>
#include <string>

#include "core/config_reader.hpp"
#include "providers/elevenlabs.hpp"
#include "providers/stt/stt.hpp"

namespace parley::providers {

std::unique_ptr<Stt> make_elevenlabs_stt(core::ConfigReader &config, const ProviderContext &context);

namespace elevenlabs {

struct SttSettings {
  std::string model = "scribe_v2_realtime";
  std::string language;
  int sample_rate = 16000;
  std::string commit_strategy = "manual";
  double vad_silence_threshold_secs = -1;  // < 0: not sent
  bool include_timestamps = false;
  bool enable_logging = true;
  speech::milliseconds finalize_timeout{5'000};
  speech::Endpoint endpoint;
  std::string api_key;
};

SttSettings read_stt_settings(core::ConfigReader &config, const ProviderContext &context);
std::string scribe_url(const SttSettings &settings);
/// {"message_type":"input_audio_chunk","audio_base_64":"...","commit":false,"sample_rate":16000}
std::string audio_chunk_message(const int16_t *samples, size_t count, int sample_rate);
/// The manual commit both the SDK and pipecat send: an empty chunk with "commit":true.
std::string commit_message(int sample_rate);

}  // namespace elevenlabs
}  // namespace parley::providers
