// Fake Deepgram (../shared/protocols/deepgram.md):
//   WS   /v1/listen?model=..&encoding=..&sample_rate=..   live STT: binary audio in; Results
//        (interim / is_final / speech_final / from_finalize), SpeechStarted (vad_events),
//        UtteranceEnd (utterance_end_ms), Metadata on CloseStream; KeepAlive; Finalize;
//        closes 1011 "NET-0001 ..." after the inactivity timeout (default 10 s, settable)
//   POST /v1/speak?model=..&encoding=..&sample_rate=..&container=..   Aura TTS, chunked audio
// Auth: "Authorization: Token <key>" (or Bearer). Errors: {"err_code","err_msg","request_id"}.
// Encodings the fake decodes/produces: linear16, mulaw, alaw.
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

std::string deepgram_error_body(std::string_view err_code, std::string_view err_msg, std::string_view request_id);

class DeepgramFake {
 public:
  explicit DeepgramFake(ServerOptions options = {});
  ~DeepgramFake();

  FakeServer &server() { return *server_; }
  std::string base_url() const { return server_->http_url(); }  // + "/v1/speak?..."
  std::string ws_url() const { return server_->ws_url(); }      // + "/v1/listen?..."

  /// When set, Authorization must be "Token <key>" or "Bearer <key>" (else 401 INVALID_AUTH).
  void set_api_key(std::string key);
  /// NET-0001 close after this long without audio or a text message. Default 10 s.
  void set_inactivity_timeout(Ms timeout);
  /// /v1/speak: audio per HTTP chunk (default 50 ms).
  void set_audio_chunk_ms(int ms);

  void add_transcript(std::string text);
  void set_fallback_transcript(std::optional<std::string> text);
  void set_stt_timing(SttTiming timing);

  struct Settings {
    std::string api_key;
    Ms inactivity_timeout{10'000};
    int audio_chunk_ms = 50;
    SttTiming stt_timing;
  };
  Settings settings() const;
  TranscriptQueue &transcripts() { return transcripts_; }

 private:
  WsAccept listen(const Request &request);
  Response speak(const Request &request);
  std::optional<Response> check_auth(const Request &request, const Settings &settings) const;

  mutable std::mutex mutex_;
  Settings settings_;
  TranscriptQueue transcripts_;
  std::unique_ptr<FakeServer> server_;  // last: stops before the state above goes
};

}  // namespace parley::fakes
