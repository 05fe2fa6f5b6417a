// The streaming TTS interface: text chunks in (a sentence or clause at a time), PCM16 audio
// at the provider's declared rate out, with word timings when the service gives them.
// See providers/provider.hpp for the threading contract.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "providers/provider.hpp"

namespace parley::providers {

struct WordTiming {
  std::string word;
  int start_ms = 0;  // from the start of the utterance's audio
  int end_ms = 0;
};

struct TtsCallbacks {
  /// Mono PCM16 at Tts::sample_rate(). The pointer is valid only during the call.
  std::function<void(const int16_t *samples, size_t count)> on_audio;
  std::function<void(std::vector<WordTiming> words)> on_words;  // optional
  /// Called once after finish() when every chunk's audio was delivered.
  std::function<void()> on_done;
  /// Ends the stream; nothing more is delivered.
  std::function<void(ProviderError error)> on_error;
};

/// One utterance: text goes in chunk by chunk, audio comes out in order.
class TtsStream : public Cancellable {
 public:
  /// Queues a chunk of text; chunks are spoken in order.
  virtual void push_text(std::string text) = 0;
  /// No more text; on_done follows the last audio.
  virtual void finish() = 0;
};

class Tts {
 public:
  virtual ~Tts() = default;
  virtual const std::string &name() const noexcept = 0;
  /// The rate of the audio on_audio delivers.
  virtual int sample_rate() const noexcept = 0;
  virtual std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) = 0;
};

/// For services that synthesise one request per chunk (HTTP streaming APIs, espeak-ng):
/// synthesises one chunk and reports through `callbacks` (on_done = this chunk is done).
class ChunkSynthesizer {
 public:
  virtual ~ChunkSynthesizer() = default;
  virtual std::unique_ptr<Cancellable> synthesize(const std::string &text,
                                                  TtsCallbacks callbacks) = 0;
};

/// A TtsStream over a ChunkSynthesizer: chunks are synthesised one at a time, in order;
/// the first error ends the stream. Call on `executor` (the provider's); the synthesizer's
/// callbacks must run there too, and may be the last thing its handle does: the stream
/// releases a finished chunk's handle later, from `executor`, never inside its callback.
std::unique_ptr<TtsStream> make_chunked_stream(std::shared_ptr<ChunkSynthesizer> synthesizer,
                                               TtsCallbacks callbacks,
                                               boost::asio::any_io_executor executor);

}  // namespace parley::providers
