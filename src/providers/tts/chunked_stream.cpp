#include <boost/asio/post.hpp>
#include <deque>

#include "providers/tts/tts.hpp"

namespace parley::providers {
namespace {

struct ChunkedState : std::enable_shared_from_this<ChunkedState> {
  std::shared_ptr<ChunkSynthesizer> synthesizer;
  TtsCallbacks callbacks;
  boost::asio::any_io_executor executor;
  std::deque<std::string> pending;
  std::unique_ptr<Cancellable> current;
  bool finished = false;  // finish() was called
  bool ended = false;     // done, failed or cancelled: nothing more is delivered

  void pump() {
    if (ended || current) return;
    while (!pending.empty() && pending.front().find_first_not_of(" \t\r\n") == std::string::npos)
      pending.pop_front();
    if (pending.empty()) {
      if (finished) {
        ended = true;
        if (callbacks.on_done) callbacks.on_done();
      }
      return;
    }
    std::string text = std::move(pending.front());
    pending.pop_front();
    current = synthesizer->synthesize(text, chunk_callbacks());
  }

  TtsCallbacks chunk_callbacks() {
    std::weak_ptr<ChunkedState> weak = shared_from_this();
    TtsCallbacks chunk;
    chunk.on_audio = [weak](const int16_t *samples, size_t count) {
      auto self = weak.lock();
      if (self && !self->ended && self->callbacks.on_audio) self->callbacks.on_audio(samples, count);
    };
    chunk.on_words = [weak](std::vector<WordTiming> words) {
      auto self = weak.lock();
      if (self && !self->ended && self->callbacks.on_words) self->callbacks.on_words(std::move(words));
    };
    // The chunk's handle may still be running the callback that reports its end, so it is
    // released from a fresh executor turn.
    chunk.on_done = [weak] {
      auto self = weak.lock();
      if (!self || self->ended) return;
      boost::asio::post(self->executor, [self] {
        self->current.reset();
        self->pump();
      });
    };
    chunk.on_error = [weak](ProviderError error) {
      auto self = weak.lock();
      if (!self || self->ended) return;
      self->ended = true;
      self->pending.clear();
      boost::asio::post(self->executor, [self] { self->current.reset(); });
      if (self->callbacks.on_error) self->callbacks.on_error(std::move(error));
    };
    return chunk;
  }

  void cancel() {
    ended = true;
    pending.clear();
    if (current) current->cancel();
    current.reset();
  }
};

class ChunkedStream final : public TtsStream {
 public:
  explicit ChunkedStream(std::shared_ptr<ChunkedState> state) : state_(std::move(state)) {}
  ~ChunkedStream() override { state_->cancel(); }

  void push_text(std::string text) override {
    if (state_->ended || state_->finished) return;
    state_->pending.push_back(std::move(text));
    state_->pump();
  }
  void finish() override {
    if (state_->ended || state_->finished) return;
    state_->finished = true;
    state_->pump();
  }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<ChunkedState> state_;
};

}  // namespace

std::unique_ptr<TtsStream> make_chunked_stream(std::shared_ptr<ChunkSynthesizer> synthesizer,
                                               TtsCallbacks callbacks,
                                               boost::asio::any_io_executor executor) {
  auto state = std::make_shared<ChunkedState>();
  state->synthesizer = std::move(synthesizer);
  state->callbacks = std::move(callbacks);
  state->executor = std::move(executor);
  return std::make_unique<ChunkedStream>(std::move(state));
}

}  // namespace parley::providers
