// The streaming STT interface: audio frames in; partial and final transcripts, speech-start
// hints and errors out. See providers/provider.hpp for the threading contract.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "providers/provider.hpp"

namespace parley::providers {

struct Transcript {
  std::string text;
  bool is_final = false;      // this span will not change
  bool speech_final = false;  // the service detected the end of the utterance
  double confidence = 0;      // 0..1, 0 when unknown
  int start_ms = 0;           // audio time since the stream started
  int end_ms = 0;
};

struct SttCallbacks {
  std::function<void(const Transcript &transcript)> on_transcript;
  std::function<void()> on_speech_started;  // optional
  /// error.fatal: the stream is over. Not fatal: a warning (a reconnect in progress).
  std::function<void(ProviderError error)> on_error;
};

class SttStream : public Cancellable {
 public:
  /// Mono PCM16 at Stt::sample_rate(), typically 20 ms frames. Copied before return.
  virtual void push_audio(const int16_t *samples, size_t count) = 0;
  /// End of the caller's utterance as the pipeline sees it: flush buffered audio and
  /// deliver a final. Per-utterance services (OpenAI transcription, Azure short audio)
  /// send their request here.
  virtual void finalize() = 0;
  /// The agent started or stopped speaking to the caller (for echo handling). Default: ignored.
  virtual void set_agent_speaking(bool speaking) { (void)speaking; }
};

class Stt {
 public:
  virtual ~Stt() = default;
  virtual const std::string &name() const noexcept = 0;
  /// The rate push_audio expects (the session rate, 16 kHz, unless configured otherwise).
  virtual int sample_rate() const noexcept = 0;
  virtual std::unique_ptr<SttStream> start(SttCallbacks callbacks) = 0;
  /// True for streaming services whose connection can drop mid-call: a non-fatal error
  /// from their stream means "the stream ended", and the registry wraps them in the
  /// reconnecting decorator (stt/decorators.hpp). Others report non-fatal warnings and go on.
  virtual bool streams_can_drop() const noexcept { return false; }
};

}  // namespace parley::providers
