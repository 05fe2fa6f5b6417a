// Every kind of bad input the issue lists, each with its defined outcome: ignored with a
// warning, an error event, or a close with a reason. Never a crash; other calls carry on.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net/base64.hpp"
#include "server_fixture.hpp"

namespace parley::twilio::testing {
namespace {

std::string media_json(TestCaller &caller, std::string_view stream_sid, std::string_view payload) {
  return R"({"event":"media","sequenceNumber":")" + std::to_string(caller.twilio().next_sequence_number()) +
         R"(","media":{"track":"inbound","chunk":"1","timestamp":"52","payload":")" + std::string(payload) +
         R"("},"streamSid":")" + std::string(stream_sid) + R"("})";
}

std::string valid_payload() {
  const auto ulaw = ulaw_tone(440, 0.02);
  std::string encoded;
  net::base64_encode(ulaw, encoded);
  return encoded;
}

// After the bad input, the call must still work: a good media frame is echoed.
bool call_still_echoes(TestCaller &caller) {
  const auto ulaw = ulaw_tone(440, 0.2);
  for (int i = 0; i < 10; ++i) caller.send_text(caller.twilio().media(std::span<const uint8_t>(ulaw.data() + 160 * i, 160), 20 * i));
  for (const auto &m : read_for(caller, 500ms)) {
    if (m["event"] == "media") return true;
  }
  return false;
}

struct WarnCase {
  const char *name;
  std::function<void(TestCaller &)> send;
  const char *warning_part;  // expected in a non-fatal session_error event; "" = no event expected
  bool before_start = false;
};

class TwilioHostile : public ::testing::TestWithParam<WarnCase> {};

TEST_P(TwilioHostile, IgnoredWithAWarningAndTheCallCarriesOn) {
  const auto &c = GetParam();
  Server server;
  TestCaller caller;
  ASSERT_EQ(caller.connect(server.url()), 101);
  caller.send_text(TwilioMessages::connected());
  if (c.before_start) c.send(caller);
  caller.send_text(caller.twilio().start());
  ASSERT_TRUE(server.wait_for(core::EventType::session_started));
  if (!c.before_start) c.send(caller);
  EXPECT_TRUE(call_still_echoes(caller)) << c.name;
  const auto errors = server.error_messages();
  if (*c.warning_part == '\0') {
    EXPECT_TRUE(errors.empty()) << c.name << ": " << (errors.empty() ? "" : errors.front());
  } else {
    ASSERT_FALSE(errors.empty()) << c.name;
    EXPECT_NE(errors.front().find(c.warning_part), std::string::npos) << c.name << ": " << errors.front();
  }
  caller.send_text(caller.twilio().stop());
  EXPECT_TRUE(server.wait_for(core::EventType::session_stopped));
}

INSTANTIATE_TEST_SUITE_P(
    Table, TwilioHostile,
    ::testing::Values(
        WarnCase{"non_json", [](TestCaller &c) { c.send_text("this is not json"); }, "not JSON"},
        WarnCase{"binary_frame", [](TestCaller &c) { c.send_binary(std::vector<uint8_t>{1, 2, 3, 4}); }, "binary frame of 4 bytes"},
        WarnCase{"no_event", [](TestCaller &c) { c.send_text(R"({"streamSid":"x","media":{}})"); }, "no 'event' field"},
        WarnCase{"unknown_event", [](TestCaller &c) { c.send_text(R"({"event":"transcription","streamSid":"x"})"); }, ""},
        WarnCase{"media_before_start", [](TestCaller &c) { c.send_text(media_json(c, c.twilio().stream_sid(), valid_payload())); },
                 "media before start", true},
        WarnCase{"duplicate_start", [](TestCaller &c) { c.send_text(c.twilio().start()); }, "duplicate start"},
        WarnCase{"wrong_stream_sid", [](TestCaller &c) { c.send_text(media_json(c, "MZffffffffffffffffffffffffffffffff", valid_payload())); },
                 "this call's stream is"},
        WarnCase{"invalid_base64", [](TestCaller &c) { c.send_text(media_json(c, c.twilio().stream_sid(), "!!!notbase64!!!")); },
                 "invalid base64"},
        WarnCase{"odd_size_payload", [](TestCaller &c) {
                   // 161 bytes: μ-law has no sample pairs, so any size is valid audio.
                   const auto ulaw = ulaw_tone(440, 0.03);
                   c.send_text(c.twilio().media(std::span<const uint8_t>(ulaw.data(), 161), 0));
                 }, ""},
        WarnCase{"payload_over_64k", [](TestCaller &c) {
                   const std::vector<uint8_t> big(70000, 0xFF);
                   std::string encoded;
                   net::base64_encode(big, encoded);
                   c.send_text(media_json(c, c.twilio().stream_sid(), encoded));
                 }, "exceeds 65536 bytes"},
        WarnCase{"bad_dtmf_digit", [](TestCaller &c) {
                   c.send_text(R"({"event":"dtmf","streamSid":")" + c.twilio().stream_sid() + R"(","dtmf":{"digit":"Z"}})");
                 }, "dtmf with digit 'Z' ignored"},
        WarnCase{"unknown_mark_echo", [](TestCaller &c) { c.send_text(c.twilio().mark("never-sent")); }, ""},
        WarnCase{"wrong_types", [](TestCaller &c) { c.send_text(R"({"event":"media","streamSid":5,"media":{"payload":"/w=="}})"); },
                 "'streamSid' must be a string"}),
    [](const ::testing::TestParamInfo<WarnCase> &param) { return std::string(param.param.name); });

TEST(TwilioHostileClose, MessageOverTheLimitClosesTheCall) {
  Server server(nlohmann::json{{"max_message_bytes", 4096}});
  TestCaller caller;
  ASSERT_TRUE(start_call(server, caller));
  caller.send_text(std::string(8000, ' '));
  read_for(caller, 500ms);
  EXPECT_FALSE(caller.is_open());
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(nlohmann::json::parse(stopped->payload_json)["reason"].get<std::string>().find("4096-byte limit"), std::string::npos)
      << stopped->payload_json;
}

TEST(TwilioHostileClose, AbruptCloseMidFrameEndsTheSession) {
  Server server;
  TestCaller caller;
  ASSERT_TRUE(start_call(server, caller));
  caller.abort_mid_frame(media_json(caller, caller.twilio().stream_sid(), valid_payload()), 40, true);
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(nlohmann::json::parse(stopped->payload_json)["reason"].get<std::string>().find("dropped"), std::string::npos)
      << stopped->payload_json;
  EXPECT_TRUE(server.runtime().sessions().wait_until_empty("", 1s));
}

TEST(TwilioHostileClose, IdleConnectionTimesOut) {
  Server server(nlohmann::json{{"idle_timeout_ms", 300}});
  TestCaller caller;
  ASSERT_TRUE(start_call(server, caller));
  auto stopped = server.wait_for(core::EventType::session_stopped, 3s);
  ASSERT_TRUE(stopped);
  EXPECT_NE(nlohmann::json::parse(stopped->payload_json)["reason"].get<std::string>().find("idle timeout"), std::string::npos)
      << stopped->payload_json;
}

TEST(TwilioHostileClose, ClientThatStopsReadingIsCutOffWithBoundedMemory) {
  // A long lead lets the server write ahead at once; a small kernel buffer makes the stall
  // visible quickly.
  Server server(nlohmann::json{{"behaviour", "host"}, {"playout_lead_ms", 10000}, {"max_send_queue_bytes", 65536},
                               {"socket_send_buffer_bytes", 4096}});
  TestCaller caller;
  auto started = start_call(server, caller);
  ASSERT_TRUE(started);
  auto session = server.session_of(*started);
  session->play(tone(300, 16000, 60.0), 16000);  // the caller never reads any of it
  auto stopped = server.wait_for(core::EventType::session_stopped, 10s);
  ASSERT_TRUE(stopped);
  EXPECT_NE(nlohmann::json::parse(stopped->payload_json)["reason"].get<std::string>().find("peer is not reading"), std::string::npos)
      << stopped->payload_json;
}

TEST(TwilioHostileClose, FloodOfInvalidMessagesIsHungUpOn) {
  Server server;
  TestCaller caller;
  ASSERT_TRUE(start_call(server, caller));
  for (int i = 0; i < 250 && caller.is_open(); ++i) caller.send_text("garbage");
  read_for(caller, 500ms);
  EXPECT_FALSE(caller.is_open());
  EXPECT_EQ(caller.close_code(), 1008);
  // Warnings are capped per call, so a flood cannot flood the host.
  EXPECT_LE(server.error_messages().size(), 12u);
}

TEST(TwilioHostileClose, OtherCallsCarryOnThroughHostileOnes) {
  Server server(nlohmann::json{}, 2);
  CallerScript script;
  script.url = server.url();
  script.ulaw = std::make_shared<std::vector<uint8_t>>(ulaw_tone(440, 1.0));
  script.duration = 2s;
  CallerFleet fleet({script});
  fleet.start();
  // Meanwhile: garbage, a mid-frame abort, a binary flood.
  for (int round = 0; round < 5; ++round) {
    TestCaller bad;
    ASSERT_TRUE(start_call(server, bad));
    bad.send_text("{{{{");
    bad.send_binary(std::vector<uint8_t>(1000, 0xAB));
    bad.abort_mid_frame(R"({"event":"media","media":{"payload":")", 10, round % 2 == 0);
  }
  const auto reports = fleet.wait();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].completed_cleanly()) << reports[0].error << " " << reports[0].close_reason;
  EXPECT_EQ(reports[0].frames_lost(), 0u);
  EXPECT_EQ(reports[0].protocol_error_count, 0u);
}

}  // namespace
}  // namespace parley::twilio::testing
