// The STT decorators over a scripted recogniser: the test decides when the inner stream
// transcribes, drops or fails, and sees exactly what the decorator passes on.
#include "providers/stt/decorators.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace parley::providers {
namespace {

namespace asio = boost::asio;

// run_for leaves the context stopped once it runs out of work; later runs need a restart.
void pump(asio::io_context &io, std::chrono::milliseconds d) {
  if (io.stopped()) io.restart();
  io.run_for(d);
}
using namespace std::chrono_literals;

// A recogniser whose streams record the audio they get; the test drives their callbacks.
struct ScriptedStt : Stt {
  struct Stream : SttStream {
    SttCallbacks callbacks;
    std::vector<int16_t> audio;
    int finalized = 0;
    bool cancelled = false;
    bool agent_speaking = false;
    void push_audio(const int16_t *s, size_t n) override { audio.insert(audio.end(), s, s + n); }
    void finalize() override { ++finalized; }
    void set_agent_speaking(bool speaking) override { agent_speaking = speaking; }
    void cancel() override { cancelled = true; }
  };

  std::string name_ = "scripted";
  std::vector<Stream *> streams;  // every stream started, in order (owned by the decorator)
  bool throw_on_start = false;
  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return 16000; }
  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    if (throw_on_start) throw std::runtime_error("secondary cannot start");
    auto stream = std::make_unique<Stream>();
    stream->callbacks = std::move(callbacks);
    streams.push_back(stream.get());
    return stream;
  }
};

ProviderError drop(const std::string &why) {
  ProviderError e;
  e.kind = ErrorKind::network;
  e.provider = "scripted";
  e.message = why;
  e.fatal = false;
  return e;
}

std::vector<int16_t> frame(int16_t value, size_t n = 320) { return std::vector<int16_t>(n, value); }

class Decorators : public ::testing::Test {
 protected:
  ProviderContext context() {
    ProviderContext c;
    c.executor = io_.get_executor();
    c.workers = io_.get_executor();
    return c;
  }
  void run_for(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) pump(io_, 5ms);
  }
  asio::io_context io_;
};

TEST_F(Decorators, ReconnectReplaysTheGapAudioAndKeepsOneTimeline) {
  auto inner = std::make_unique<ScriptedStt>();
  ScriptedStt *stt = inner.get();
  ReconnectPolicy policy;
  policy.initial_backoff = 20ms;
  policy.jitter = 0;
  auto reconnecting = make_reconnecting_stt(std::move(inner), policy, context());
  std::vector<Transcript> heard;
  std::vector<ProviderError> errors;
  SttCallbacks callbacks;
  callbacks.on_transcript = [&](const Transcript &t) { heard.push_back(t); };
  callbacks.on_error = [&](ProviderError e) { errors.push_back(e); };
  auto stream = reconnecting->start(callbacks);

  auto one = frame(1);
  for (int i = 0; i < 50; ++i) stream->push_audio(one.data(), one.size());  // 1 s
  ASSERT_EQ(stt->streams.size(), 1u);
  stt->streams[0]->callbacks.on_error(drop("connection lost"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_FALSE(errors[0].fatal);
  EXPECT_NE(errors[0].message.find("reconnecting"), std::string::npos) << errors[0].message;

  auto two = frame(2);
  for (int i = 0; i < 10; ++i) stream->push_audio(two.data(), two.size());  // 200 ms while down
  run_for(100ms);
  ASSERT_EQ(stt->streams.size(), 2u) << "reconnected after the backoff";
  EXPECT_EQ(stt->streams[1]->audio, std::vector<int16_t>(3200, 2)) << "the gap was replayed, in order";

  Transcript t;
  t.text = "hello";
  t.is_final = true;
  t.start_ms = 0;
  t.end_ms = 150;
  stt->streams[1]->callbacks.on_transcript(t);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].start_ms, 1000) << "times continue the call's timeline";
  EXPECT_EQ(heard[0].end_ms, 1150);
}

TEST_F(Decorators, GapIsBoundedAndOldestAudioGoes) {
  auto inner = std::make_unique<ScriptedStt>();
  ScriptedStt *stt = inner.get();
  ReconnectPolicy policy;
  policy.initial_backoff = 50ms;
  policy.jitter = 0;
  policy.max_gap = 100ms;  // 1600 samples
  auto recon = make_reconnecting_stt(std::move(inner), policy, context());
  auto stream = recon->start({});
  stt->streams[0]->callbacks.on_error(drop("cut"));
  for (int16_t i = 0; i < 10; ++i) {
    auto f = frame(i);
    stream->push_audio(f.data(), f.size());
  }
  run_for(150ms);
  ASSERT_EQ(stt->streams.size(), 2u);
  ASSERT_EQ(stt->streams[1]->audio.size(), 1600u);
  EXPECT_EQ(stt->streams[1]->audio.front(), 5) << "the newest 100 ms were kept";
}

TEST_F(Decorators, GivesUpWithAFatalErrorAfterMaxAttempts) {
  auto inner = std::make_unique<ScriptedStt>();
  ScriptedStt *stt = inner.get();
  ReconnectPolicy policy;
  policy.initial_backoff = 5ms;
  policy.max_backoff = 10ms;
  policy.max_attempts = 3;
  auto recon = make_reconnecting_stt(std::move(inner), policy, context());
  std::vector<ProviderError> errors;
  SttCallbacks callbacks;
  callbacks.on_error = [&](ProviderError e) { errors.push_back(e); };
  auto stream = recon->start(callbacks);
  for (int attempt = 0; attempt < 4; ++attempt) {
    ASSERT_EQ(stt->streams.size(), static_cast<size_t>(attempt + 1));
    stt->streams.back()->callbacks.on_error(drop("refused"));
    run_for(40ms);
  }
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_FALSE(errors[2].fatal);
  EXPECT_TRUE(errors[3].fatal);
  EXPECT_NE(errors[3].message.find("gave up after 3"), std::string::npos) << errors[3].message;
  EXPECT_EQ(stt->streams.size(), 4u) << "no reconnect after giving up";
}

TEST_F(Decorators, FatalErrorPassesStraightThroughWithoutReconnecting) {
  auto inner = std::make_unique<ScriptedStt>();
  ScriptedStt *stt = inner.get();
  auto recon = make_reconnecting_stt(std::move(inner), {}, context());
  int fatal = 0;
  SttCallbacks callbacks;
  callbacks.on_error = [&](ProviderError e) { fatal += e.fatal; };
  auto stream = recon->start(callbacks);
  ProviderError auth;
  auth.kind = ErrorKind::auth;
  auth.message = "invalid key";
  stt->streams[0]->callbacks.on_error(auth);
  run_for(300ms);
  EXPECT_EQ(fatal, 1);
  EXPECT_EQ(stt->streams.size(), 1u);
}

TEST_F(Decorators, TeeFeedsBothButOnlyThePrimaryDrives) {
  auto primary = std::make_unique<ScriptedStt>();
  auto secondary = std::make_unique<ScriptedStt>();
  ScriptedStt *p = primary.get();
  ScriptedStt *s = secondary.get();
  auto tee = make_tee_stt(std::move(primary), std::move(secondary), context());
  std::vector<std::string> heard;
  int errors = 0;
  SttCallbacks callbacks;
  callbacks.on_transcript = [&](const Transcript &t) { heard.push_back(t.text); };
  callbacks.on_error = [&](ProviderError) { ++errors; };
  auto stream = tee->start(callbacks);
  auto f = frame(7);
  stream->push_audio(f.data(), f.size());
  EXPECT_EQ(p->streams[0]->audio.size(), 320u);
  EXPECT_EQ(s->streams[0]->audio.size(), 320u);
  Transcript t;
  t.is_final = true;
  t.text = "secondary words";
  s->streams[0]->callbacks.on_transcript(t);
  ProviderError e;
  e.message = "secondary died";
  s->streams[0]->callbacks.on_error(e);
  t.text = "primary words";
  p->streams[0]->callbacks.on_transcript(t);
  EXPECT_EQ(heard, std::vector<std::string>{"primary words"});
  EXPECT_EQ(errors, 0) << "the secondary can never fail the call";
}

TEST_F(Decorators, TeeSurvivesASecondaryThatCannotStart) {
  auto primary = std::make_unique<ScriptedStt>();
  auto secondary = std::make_unique<ScriptedStt>();
  secondary->throw_on_start = true;
  ScriptedStt *p = primary.get();
  auto tee = make_tee_stt(std::move(primary), std::move(secondary), context());
  auto stream = tee->start({});
  auto f = frame(1);
  stream->push_audio(f.data(), f.size());
  EXPECT_EQ(p->streams[0]->audio.size(), 320u);
}

TEST_F(Decorators, EchoWindowDropsResultsRightAfterAgentSpeechOnly) {
  auto inner = std::make_unique<ScriptedStt>();
  ScriptedStt *stt = inner.get();
  auto echo = make_echo_discard_stt(std::move(inner), 150ms, context());
  std::vector<std::string> heard;
  SttCallbacks callbacks;
  callbacks.on_transcript = [&](const Transcript &t) { heard.push_back(t.text); };
  auto stream = echo->start(callbacks);
  auto say = [&](const char *text) {
    Transcript t;
    t.text = text;
    t.is_final = true;
    stt->streams[0]->callbacks.on_transcript(t);
  };
  say("before");
  stream->set_agent_speaking(true);
  EXPECT_TRUE(stt->streams[0]->agent_speaking) << "forwarded to the recogniser";
  say("barge in");
  stream->set_agent_speaking(false);
  say("echo tail");
  run_for(200ms);
  say("after window");
  EXPECT_EQ(heard, (std::vector<std::string>{"before", "barge in", "after window"}));
}

}  // namespace
}  // namespace parley::providers
