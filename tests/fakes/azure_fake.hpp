// Fake Azure AI Speech REST (../shared/protocols/azure-speech.md):
//   POST /cognitiveservices/v1                      TTS: SSML in, audio out (chunked)
//   GET  /cognitiveservices/voices/list             a one-voice list
//   POST /speech/recognition/conversation/cognitiveservices/v1?language=..&format=simple|detailed
//                                                   STT short audio: WAV PCM16 16 kHz mono in
//   POST /sts/v1.0/issueToken                       token exchange (text/plain JWT-shaped token)
// One server answers all of them (Azure uses region hosts; a client takes a base URL).
// Error bodies are empty, as the service's often are. TTS output formats the fake produces:
// raw-/riff- 8 kHz mu-law and A-law, and PCM at 8/16/22.05/24/44.1/48 kHz; others get 400.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "fakes/audio.hpp"
#include "fakes/fake_server.hpp"
#include "fakes/transcripts.hpp"

namespace parley::fakes {

/// "raw-16khz-16bit-mono-pcm" -> PCM16 16 kHz; "riff-..." sets wav; nullopt when the fake
/// cannot produce it.
std::optional<AudioFormat> azure_output_format(std::string_view name);

struct Ssml {
  std::string lang;   // <speak xml:lang>
  std::string voice;  // <voice name>
  std::string text;   // text content, entities decoded, whitespace collapsed
};
/// nullopt when the body is not a <speak> document.
std::optional<Ssml> parse_ssml(std::string_view body);

class AzureSpeechFake {
 public:
  explicit AzureSpeechFake(ServerOptions options = {});
  ~AzureSpeechFake();

  FakeServer &server() { return *server_; }
  std::string base_url() const { return server_->http_url(); }
  std::string tts_url() const { return base_url() + "/cognitiveservices/v1"; }
  std::string stt_url() const { return base_url() + "/speech/recognition/conversation/cognitiveservices/v1"; }
  std::string token_url() const { return base_url() + "/sts/v1.0/issueToken"; }

  /// When set, Ocp-Apim-Subscription-Key must equal it, or Authorization must be
  /// "Bearer <a token this fake issued>". Wrong: 401; none (STT): 403, (TTS): 401.
  void set_api_key(std::string key);
  void set_audio_chunk_ms(int ms);  // TTS audio per HTTP chunk (default 50 ms)
  void add_transcript(std::string text);
  void set_fallback_transcript(std::optional<std::string> text);
  void set_stt_timing(SttTiming timing);  // min_audio is used
  std::vector<std::string> issued_tokens() const;

 private:
  Response tts(const Request &request);
  Response stt(const Request &request);
  Response issue_token(const Request &request);
  /// 0 when allowed, else the status to answer.
  int auth_status(const Request &request, int missing_status) const;

  mutable std::mutex mutex_;
  std::string api_key_;
  int audio_chunk_ms_ = 50;
  SttTiming stt_timing_;
  std::vector<std::string> tokens_;
  TranscriptQueue transcripts_;
  std::unique_ptr<FakeServer> server_;  // last: stops before the state above goes
};

}  // namespace parley::fakes
