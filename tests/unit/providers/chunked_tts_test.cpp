// make_chunked_stream over a synthesizer whose chunks the test completes by hand.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "providers/tts/tts.hpp"

namespace parley::providers {
namespace {

namespace asio = boost::asio;

struct ManualSynth : ChunkSynthesizer {
  struct Pending : Cancellable {
    std::string text;
    TtsCallbacks callbacks;
    bool cancelled = false;
    std::shared_ptr<bool> cancelled_seen = std::make_shared<bool>(false);  // outlives the handle
    void cancel() override { cancelled = *cancelled_seen = true; }
  };
  std::vector<Pending *> started;
  std::unique_ptr<Cancellable> synthesize(const std::string &text, TtsCallbacks callbacks) override {
    auto p = std::make_unique<Pending>();
    p->text = text;
    p->callbacks = std::move(callbacks);
    started.push_back(p.get());
    return p;
  }
};

struct Seen {
  std::vector<int16_t> audio;
  int done = 0;
  std::vector<ProviderError> errors;
  TtsCallbacks callbacks() {
    TtsCallbacks c;
    c.on_audio = [this](const int16_t *s, size_t n) { audio.insert(audio.end(), s, s + n); };
    c.on_done = [this] { ++done; };
    c.on_error = [this](ProviderError e) { errors.push_back(e); };
    return c;
  }
};

TEST(ChunkedTts, ChunksAreSynthesisedOneAtATimeInOrder) {
  asio::io_context io;
  auto synth = std::make_shared<ManualSynth>();
  Seen seen;
  auto stream = make_chunked_stream(synth, seen.callbacks(), io.get_executor());
  stream->push_text("First sentence.");
  stream->push_text("   ");  // nothing to say: skipped
  stream->push_text("Second one.");
  stream->finish();
  ASSERT_EQ(synth->started.size(), 1u) << "the second waits for the first";
  EXPECT_EQ(synth->started[0]->text, "First sentence.");
  int16_t a[] = {1, 2};
  synth->started[0]->callbacks.on_audio(a, 2);
  synth->started[0]->callbacks.on_done();
  io.run();
  io.restart();
  ASSERT_EQ(synth->started.size(), 2u);
  EXPECT_EQ(synth->started[1]->text, "Second one.");
  EXPECT_EQ(seen.done, 0);
  int16_t b[] = {3};
  synth->started[1]->callbacks.on_audio(b, 1);
  synth->started[1]->callbacks.on_done();
  io.run();
  EXPECT_EQ(seen.audio, (std::vector<int16_t>{1, 2, 3}));
  EXPECT_EQ(seen.done, 1);
}

TEST(ChunkedTts, FirstErrorEndsTheStream) {
  asio::io_context io;
  auto synth = std::make_shared<ManualSynth>();
  Seen seen;
  auto stream = make_chunked_stream(synth, seen.callbacks(), io.get_executor());
  stream->push_text("one");
  stream->push_text("two");
  stream->finish();
  ProviderError e;
  e.kind = ErrorKind::server;
  e.message = "boom";
  synth->started[0]->callbacks.on_error(e);
  io.run();
  ASSERT_EQ(seen.errors.size(), 1u);
  EXPECT_EQ(seen.errors[0].message, "boom");
  EXPECT_EQ(synth->started.size(), 1u) << "nothing more is synthesised";
  EXPECT_EQ(seen.done, 0);
}

TEST(ChunkedTts, CancelStopsTheCurrentChunkAndSilencesLateCallbacks) {
  asio::io_context io;
  auto synth = std::make_shared<ManualSynth>();
  Seen seen;
  auto stream = make_chunked_stream(synth, seen.callbacks(), io.get_executor());
  stream->push_text("one");
  auto *pending = synth->started[0];
  auto callbacks = pending->callbacks;  // a late callback from a synthesizer that ignores cancel
  auto cancelled = pending->cancelled_seen;
  stream->cancel();  // releases the chunk's handle: `pending` is gone
  EXPECT_TRUE(*cancelled);
  int16_t a[] = {1};
  callbacks.on_audio(a, 1);
  callbacks.on_done();
  io.run();
  EXPECT_TRUE(seen.audio.empty());
  EXPECT_EQ(seen.done, 0);
}

}  // namespace
}  // namespace parley::providers
