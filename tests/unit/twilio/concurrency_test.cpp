// A hundred simultaneous echo calls through one server, in a few seconds: every call
// completes, every frame comes back, and the protocol holds under load.
#include <gtest/gtest.h>

#include "server_fixture.hpp"

namespace parley::twilio::testing {
namespace {

TEST(TwilioConcurrency, HundredEchoCallsLoseNothing) {
  constexpr size_t kCalls = 100;
  Server server(nlohmann::json{{"max_calls", kCalls}}, 2);
  const auto speech = std::make_shared<const std::vector<uint8_t>>(synthetic_speech_ulaw(3s));
  std::vector<CallerScript> scripts(kCalls);
  for (size_t i = 0; i < kCalls; ++i) {
    scripts[i].url = server.url();
    scripts[i].ulaw = speech;
    scripts[i].audio_offset = (i * 1237) % speech->size();
    scripts[i].duration = 2s;
    scripts[i].dtmf = {{500ms, static_cast<char>('0' + i % 10)}};
    scripts[i].custom_parameters = {{"caller", std::to_string(i)}};
  }
  const auto reports = run_callers(scripts, 500ms);
  ASSERT_EQ(reports.size(), kCalls);
  size_t frames_sent = 0, marks_echoed = 0;
  float worst_rtt = 0;
  for (const auto &r : reports) {
    EXPECT_TRUE(r.completed_cleanly()) << r.connect_error << r.error << " " << r.close_reason
                                       << (r.protocol_errors.empty() ? "" : r.protocol_errors.front());
    EXPECT_EQ(r.frames_lost(), 0u);
    EXPECT_EQ(r.dtmf_sent, 1u);
    frames_sent += r.frames_sent;
    marks_echoed += r.marks_echoed;
    for (float rtt : r.rtt_ms) worst_rtt = std::max(worst_rtt, rtt);
  }
  EXPECT_EQ(frames_sent, kCalls * 100);
  EXPECT_GE(marks_echoed, kCalls);  // one echo mark per second of echoed audio
  // Every call produced its started, dtmf and stopped events.
  size_t started = 0, stopped = 0, dtmf = 0;
  while (auto event = server.runtime().poll(200ms)) {
    started += event->type == core::EventType::session_started;
    stopped += event->type == core::EventType::session_stopped;
    dtmf += event->type == core::EventType::dtmf;
  }
  EXPECT_EQ(started, kCalls);
  EXPECT_EQ(stopped, kCalls);
  EXPECT_EQ(dtmf, kCalls);
  RecordProperty("worst_rtt_ms", std::to_string(worst_rtt));
}

}  // namespace
}  // namespace parley::twilio::testing
