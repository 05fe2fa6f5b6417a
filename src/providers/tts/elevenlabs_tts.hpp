// ElevenLabs text to speech, two ways (../shared/protocols/elevenlabs.md):
//
// "elevenlabs": one HTTP streaming request per text chunk,
//   POST {base_url}/v1/text-to-speech/{voice}/stream?output_format=...
// Audio reaches on_audio as the body streams. The previous chunk of the utterance goes with
// each request as previous_text, so the voice keeps its intonation across chunks.
//
// "elevenlabs_ws": one stream-input WebSocket per utterance,
//   {ws base}/v1/text-to-speech/{voice}/stream-input?model_id=...&output_format=...
// connected when the utterance starts (overlapping the model's first tokens); each chunk is
// a text message, flushed so its audio comes at once; finish() sends the end-of-stream
// message and on_done follows the server's isFinal. The alignment the server sends with the
// audio becomes word timings (on_words). While no text flows the socket is kept open with
// the protocol's keep-alive (a single space).
//
//   {"provider":"elevenlabs",            // or "elevenlabs_ws"
//    "voice":"21m00Tcm4TlvDq8ikWAM",     // voice id
//    "model":"eleven_flash_v2_5",
//    "output_format":"pcm_16000",        // pcm_8000 ... pcm_48000 or ulaw_8000 (decoded to PCM16)
//    "language":"en",                    // optional language_code
//    "optimize_streaming_latency":0,     // optional, 0..4 (HTTP only)
//    "enable_logging":true,              // false: zero-retention mode
//    "voice_settings":{"stability":0.5,"similarity_boost":0.75,"style":0,"use_speaker_boost":true,"speed":1.0},
//    "flush_each_chunk":true,            // WebSocket: flush every chunk (false: let the server's
//                                        // chunk_length_schedule decide; finish() flushes)
//    "keepalive_ms":15000,               // WebSocket: keep-alive after this long without text
//    "api_key":"...", "api_key_env":"ELEVENLABS_API_KEY",
//    "base_url":"https://api.elevenlabs.io",
//    "connect_timeout_ms":5000, "first_byte_timeout_ms":15000, "idle_timeout_ms":15000,
//    "verify_tls":true, "ca_file":"/path/ca.pem"}
//
// The rate of the audio is the output format's (pcm_24000 -> 24 kHz; ulaw_8000 -> 8 kHz).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config_reader.hpp"
#include "providers/elevenlabs.hpp"
#include "providers/tts/tts.hpp"

namespace parley::providers {

std::unique_ptr<Tts> make_elevenlabs_tts(core::ConfigReader &config, const ProviderContext &context);
std::unique_ptr<Tts> make_elevenlabs_ws_tts(core::ConfigReader &config, const ProviderContext &context);

namespace elevenlabs {

struct TtsSettings {
  std::string voice = "21m00Tcm4TlvDq8ikWAM";
  std::string model = "eleven_flash_v2_5";
  std::string output_format = "pcm_16000";
  OutputFormat format;
  std::string language;
  int optimize_streaming_latency = -1;  // -1: not sent
  bool enable_logging = true;
  std::string voice_settings;  // a JSON object, or "" for the voice's own settings
  bool flush_each_chunk = true;
  speech::milliseconds keepalive{15'000};
  speech::Endpoint endpoint;
  std::string api_key;
};

/// Reads the keys above (throws Error(config) naming the bad one).
TtsSettings read_tts_settings(core::ConfigReader &config, const ProviderContext &context, bool websocket);

/// The HTTP streaming URL and JSON body for one chunk.
std::string stream_url(const TtsSettings &settings);
std::string stream_body(const TtsSettings &settings, std::string_view text, std::string_view previous_text);

/// The stream-input URL and its client messages.
std::string stream_input_url(const TtsSettings &settings);
std::string initialize_message(const TtsSettings &settings);
/// A text chunk; a trailing space is added when missing, as the protocol asks.
std::string text_message(std::string_view text, bool flush);
inline constexpr std::string_view kKeepAliveMessage = R"({"text":" "})";
inline constexpr std::string_view kEndOfStreamMessage = R"({"text":""})";

}  // namespace elevenlabs
}  // namespace parley::providers
