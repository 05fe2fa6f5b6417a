// BrowserCaller, the simulated page, against the listener: what it says comes back and is
// heard in real time, marks are confirmed when playback reaches them, clear drops unplayed
// audio and returns its marks, DTMF and agent events cross, refusals are reported.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <mutex>

#include "browser_fixture.hpp"
#include "transports/browser/client.hpp"

namespace parley::browser::testing {
namespace {

class IoThread {
 public:
  IoThread() : guard_(io.get_executor()), thread_([this] { io.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io.stop();
    thread_.join();
  }
  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// What the callbacks saw, for the test thread.
struct Seen {
  std::mutex mutex;
  std::string session_id;
  Clock::time_point started_at;
  std::vector<int16_t> heard;
  std::vector<std::pair<std::string, nlohmann::json>> events;
  std::vector<std::string> errors;
  int cleared = 0;
  bool closed = false;
  int close_code = -1;
  std::string close_reason;

  BrowserCallerCallbacks callbacks() {
    BrowserCallerCallbacks c;
    c.on_started = [this](const std::string &id) {
      std::lock_guard lock(mutex);
      session_id = id;
      started_at = Clock::now();
    };
    c.on_heard = [this](std::span<const int16_t> samples) {
      std::lock_guard lock(mutex);
      heard.insert(heard.end(), samples.begin(), samples.end());
    };
    c.on_event = [this](const std::string &name, const nlohmann::json &data) {
      std::lock_guard lock(mutex);
      events.emplace_back(name, data);
    };
    c.on_cleared = [this] {
      std::lock_guard lock(mutex);
      ++cleared;
    };
    c.on_error = [this](const std::string &message) {
      std::lock_guard lock(mutex);
      errors.push_back(message);
    };
    c.on_closed = [this](int code, const std::string &reason) {
      std::lock_guard lock(mutex);
      closed = true;
      close_code = code;
      close_reason = reason;
    };
    return c;
  }

  /// Waits until `done()` (called under the lock) or the timeout.
  template <class Fn>
  bool wait(Fn done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(mutex);
        if (done()) return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    std::lock_guard lock(mutex);
    return done();
  }
};

class BrowserCallerEcho : public ::testing::TestWithParam<int> {};

TEST_P(BrowserCallerEcho, WhatItSaysIsHeardBackAndMarksAreConfirmed) {
  const int rate = GetParam();
  Server server;
  IoThread io;
  Seen seen;
  BrowserCallerOptions options;
  options.url = server.url();
  options.sample_rate = rate;
  options.call_id = "sim-1";
  auto caller = BrowserCaller::connect(io.io, options, seen.callbacks());
  ASSERT_TRUE(seen.wait([&] { return !seen.session_id.empty(); }));
  auto started = server.wait_for(core::EventType::session_started);
  ASSERT_TRUE(started);
  EXPECT_EQ(started->session_id, seen.session_id);
  EXPECT_EQ(payload(started)["call_id"], "sim-1");

  const auto speech = tone(440, rate, 1.2);
  caller->say(speech);
  EXPECT_TRUE(caller->speaking()) << "queued speech counts at once";
  ASSERT_TRUE(seen.wait([&] { return !caller->speaking(); }, 3s)) << "speech goes out in real time";

  // The echo behaviour marks every second; the caller confirms it once playback reaches it.
  auto mark = server.wait_for(core::EventType::mark, 4s);
  ASSERT_TRUE(mark);
  EXPECT_EQ(payload(mark)["name"], "echo-1");
  EXPECT_EQ(payload(mark)["outcome"], "played");
  ASSERT_TRUE(seen.wait([&] { return seen.heard.size() >= speech.size() + static_cast<size_t>(rate / 5); }, 3s));
  {
    std::lock_guard lock(seen.mutex);
    // Heard in real time: never more than the time since started allows (one frame of slack).
    const double elapsed = std::chrono::duration<double>(Clock::now() - seen.started_at).count();
    EXPECT_LE(static_cast<double>(seen.heard.size()), (elapsed + 0.02) * rate);
    EXPECT_TRUE(caller->agent_audio_playing()) << "the echo of the microphone's silence keeps playing";
    const double at_tone = energy_at(seen.heard, 440, rate);
    EXPECT_GT(at_tone, 100 * energy_at(seen.heard, 1500, rate));
    EXPECT_TRUE(seen.errors.empty()) << seen.errors.front();
  }
  const auto stats = caller->stats();
  EXPECT_GE(stats.marks_received, 1u);
  EXPECT_GE(stats.marks_echoed, 1u);
  EXPECT_TRUE(stats.protocol_errors.empty()) << stats.protocol_errors.front();

  caller->hang_up();
  ASSERT_TRUE(seen.wait([&] { return seen.closed; }));
  EXPECT_EQ(seen.close_code, 1000);
  EXPECT_EQ(seen.close_reason, "caller hung up");
  EXPECT_TRUE(caller->closed());
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(payload(stopped)["reason"], "caller hung up (stop)");
  EXPECT_TRUE(server.error_messages().empty());
}

INSTANTIATE_TEST_SUITE_P(Rates, BrowserCallerEcho, ::testing::Values(16000, 48000),
                         [](const ::testing::TestParamInfo<int> &param) { return std::to_string(param.param); });

TEST(BrowserCaller, ClearDropsUnplayedAudioAndReturnsItsMarks) {
  // A long lead puts 1 s of audio and the first mark at the page at once.
  Server server(nlohmann::json{{"behaviour", "host"}, {"playout_lead_ms", 1000}});
  IoThread io;
  Seen seen;
  BrowserCallerOptions options;
  options.url = server.url();
  auto caller = BrowserCaller::connect(io.io, options, seen.callbacks());
  ASSERT_TRUE(seen.wait([&] { return !seen.session_id.empty(); }));
  auto session = server.session(seen.session_id);
  ASSERT_TRUE(session);

  session->play(tone(500, 16000, 0.6), 16000);
  session->send_mark("at-page");
  session->play(tone(500, 16000, 4.0), 16000);
  session->send_mark("in-session");
  ASSERT_TRUE(seen.wait([&] { return seen.heard.size() >= 16000 / 5; }));
  EXPECT_TRUE(caller->agent_audio_playing());
  EXPECT_EQ(caller->stats().marks_echoed, 0u) << "the mark's audio has not played yet";

  session->clear();
  ASSERT_TRUE(seen.wait([&] { return seen.cleared == 1; }));
  EXPECT_EQ(session->wait_mark("at-page", 2s), core::MarkOutcome::cleared);
  EXPECT_EQ(session->wait_mark("in-session", 2s), core::MarkOutcome::cleared);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(caller->agent_audio_playing());
  const auto stats = caller->stats();
  EXPECT_EQ(stats.marks_echoed, 1u);
  EXPECT_EQ(stats.clears, 1u);
  std::lock_guard lock(seen.mutex);
  EXPECT_LT(seen.heard.size(), 16000u * 6 / 10) << "audio after the clear was played";
}

TEST(BrowserCaller, DtmfAndAgentEventsCross) {
  Server server(nlohmann::json{{"behaviour", "greeter"}, {"greeter", {{"greeting", "Welcome"}}}}, register_greeter);
  IoThread io;
  Seen seen;
  BrowserCallerOptions options;
  options.url = server.url();
  auto caller = BrowserCaller::connect(io.io, options, seen.callbacks());
  ASSERT_TRUE(seen.wait([&] { return !seen.events.empty(); }));
  {
    std::lock_guard lock(seen.mutex);
    EXPECT_EQ(seen.events[0].first, "transcript");
    EXPECT_EQ(seen.events[0].second["text"], "Welcome");
  }
  caller->dtmf('9');
  EXPECT_THROW(caller->dtmf('x'), Error);
  auto dtmf = server.wait_for(core::EventType::dtmf);
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(payload(dtmf)["digit"], "9");
  ASSERT_TRUE(seen.wait([&] { return seen.events.size() == 2; }));
  std::lock_guard lock(seen.mutex);
  EXPECT_EQ(seen.events[1].first, "agent_state");
  EXPECT_EQ(seen.events[1].second["digit"], "9");
}

TEST(BrowserCaller, RefusedUpgradeIsReported) {
  Server server(nlohmann::json{{"auth_token", "t0k"}, {"allowed_origins", {"https://app.example.com"}}});
  IoThread io;
  {
    Seen seen;
    BrowserCallerOptions options;
    options.url = server.url("?token=t0k");  // right token, but no Origin
    auto caller = BrowserCaller::connect(io.io, options, seen.callbacks());
    ASSERT_TRUE(seen.wait([&] { return seen.closed; }));
    EXPECT_EQ(seen.close_code, 0);
    EXPECT_NE(seen.close_reason.find("HTTP 403"), std::string::npos) << seen.close_reason;
    EXPECT_EQ(caller->http_status(), 403);
  }
  {
    Seen seen;
    BrowserCallerOptions options;
    options.url = server.url("?token=t0k");
    options.headers = {{"Origin", "https://app.example.com"}};
    auto caller = BrowserCaller::connect(io.io, options, seen.callbacks());
    ASSERT_TRUE(seen.wait([&] { return !seen.session_id.empty(); }));
    caller->disconnect();
    ASSERT_TRUE(seen.wait([&] { return seen.closed; }));
    EXPECT_EQ(caller->http_status(), 0);
  }
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(payload(stopped)["reason"].get<std::string>().find("peer closed (1000"), std::string::npos) << stopped->payload_json;
}

TEST(BrowserCaller, RejectsAnUnsupportedRateUpFront) {
  IoThread io;
  BrowserCallerOptions options;
  options.url = "ws://127.0.0.1:1/browser";
  options.sample_rate = 44100;
  EXPECT_THROW(BrowserCaller::connect(io.io, options, {}), Error);
}

TEST(BrowserCaller, DestroyedMidCallLeavesNothingBehind) {
  Server server;
  IoThread io;
  Seen seen;
  BrowserCallerOptions options;
  options.url = server.url();
  auto caller = BrowserCaller::connect(io.io, options, seen.callbacks());
  ASSERT_TRUE(seen.wait([&] { return !seen.session_id.empty(); }));
  caller->say(tone(300, 16000, 2.0));
  std::this_thread::sleep_for(100ms);
  caller.reset();  // a tab killed mid-sentence
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_TRUE(server.runtime().sessions().wait_until_empty("", 1s));
  std::lock_guard lock(seen.mutex);
  EXPECT_FALSE(seen.closed) << "no callback after the caller is gone";
}

}  // namespace
}  // namespace parley::browser::testing
