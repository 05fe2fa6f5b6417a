// Fake ElevenLabs (../shared/protocols/elevenlabs.md):
//   POST /v1/text-to-speech/{voice_id}/stream[?output_format=..]    chunked raw audio
//   POST /v1/text-to-speech/{voice_id}                                the same, Content-Length
//   POST /v1/text-to-speech/{voice_id}/stream/with-timestamps        NDJSON audio_base64 + alignment
//   WS   /v1/text-to-speech/{voice_id}/stream-input                  init / text / flush / EOS
//   WS   /v1/speech-to-text/realtime                                 Scribe realtime STT
// Audio formats the fake produces and accepts: pcm_8000 ... pcm_48000, ulaw_8000, alaw_8000
// (mp3/opus are refused with 400: the fake has no encoder). TTS audio for a text is
// synthesize(text, format) from audio.hpp, sliced at character boundaries, so the bytes of
// every chunk line up with the alignment sent with them.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "fakes/audio.hpp"
#include "fakes/fake_server.hpp"
#include "fakes/transcripts.hpp"

namespace parley::fakes {

/// "pcm_16000" -> PCM16 at 16 kHz, "ulaw_8000", "alaw_8000"; nullopt for anything else.
std::optional<AudioFormat> elevenlabs_format(std::string_view output_format);
/// {"detail":{"status":"<status>","message":"<message>"}}
std::string elevenlabs_error_body(std::string_view status, std::string_view message);

class ElevenLabsFake {
 public:
  explicit ElevenLabsFake(ServerOptions options = {});
  ~ElevenLabsFake();

  FakeServer &server() { return *server_; }
  std::string base_url() const { return server_->http_url(); }  // REST base (no /v1)
  std::string ws_url() const { return server_->ws_url(); }      // WebSocket base

  /// When set, the xi-api-key header (or, on stream-input, the key in the first message;
  /// on Scribe, the token query parameter) must equal it.
  void set_api_key(std::string key);
  /// REST streaming: audio per HTTP chunk (default 50 ms).
  void set_audio_chunk_ms(int ms);
  /// stream-input closes (1008) after this long without a text message, unless the query
  /// gives inactivity_timeout (seconds). Default 20 s.
  void set_inactivity_timeout(Ms timeout);

  /// Scribe: scripted transcripts and timing (transcripts.hpp).
  void add_transcript(std::string text);
  void set_fallback_transcript(std::optional<std::string> text);
  void set_stt_timing(SttTiming timing);
  /// A Scribe error message, e.g. scribe_error("quota_exceeded", "Quota exceeded"), for
  /// server().push_fault({.inject_at = ..., .inject = ...}) or a session's send_text().
  static std::string scribe_error(std::string_view type, std::string_view text);

  struct Settings {
    std::string api_key;
    int audio_chunk_ms = 50;
    Ms inactivity_timeout{20'000};
    SttTiming stt_timing;
  };
  Settings settings() const;
  TranscriptQueue &transcripts() { return transcripts_; }

 private:
  Response tts(const Request &request);
  WsAccept stream_input(const Request &request);
  WsAccept scribe(const Request &request);

  mutable std::mutex mutex_;
  Settings settings_;
  TranscriptQueue transcripts_;
  std::unique_ptr<FakeServer> server_;  // last: stops before the state above goes
};

}  // namespace parley::fakes
