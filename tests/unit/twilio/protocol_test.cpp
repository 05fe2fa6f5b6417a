// The Twilio message parser against the spec's own examples, and a table of hostile input.
#include "transports/twilio/protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace parley::twilio {
namespace {

constexpr const char *kStart = R"({
  "event": "start", "sequenceNumber": "1",
  "start": {"accountSid": "AC0123456789abcdef0123456789abcdef", "streamSid": "MZ0123456789abcdef0123456789abcdef",
            "callSid": "CA0123456789abcdef0123456789abcdef", "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"session": "s-123", "from_number": "+15551230000"}},
  "streamSid": "MZ0123456789abcdef0123456789abcdef"})";

TEST(Protocol, ParsesEveryInboundMessageOfTheSpec) {
  MessageParser parser;
  Message m;
  ASSERT_EQ(parser.parse(R"({"event":"connected","protocol":"Call","version":"1.0.0"})", m), ParseResult::ok);
  EXPECT_EQ(m.event, Event::connected);
  EXPECT_EQ(m.protocol, "Call");
  EXPECT_EQ(m.version, "1.0.0");

  ASSERT_EQ(parser.parse(kStart, m), ParseResult::ok) << parser.error();
  EXPECT_EQ(m.event, Event::start);
  EXPECT_EQ(m.sequence_number, 1);
  EXPECT_EQ(m.stream_sid, "MZ0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m.start.call_sid, "CA0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m.start.account_sid, "AC0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m.start.encoding, "audio/x-mulaw");
  EXPECT_EQ(m.start.sample_rate, 8000);
  EXPECT_EQ(m.start.channels, 1);
  ASSERT_EQ(m.start.tracks.size(), 1u);
  ASSERT_EQ(m.start.custom_parameters.size(), 2u);
  EXPECT_EQ(m.start.custom_parameters[0], (std::pair<std::string, std::string>{"session", "s-123"}));

  ASSERT_EQ(parser.parse(R"({"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"52","payload":"/w=="},"streamSid":"MZ1"})", m),
            ParseResult::ok);
  EXPECT_EQ(m.event, Event::media);
  EXPECT_EQ(m.sequence_number, 2);
  EXPECT_EQ(m.chunk, 1);
  EXPECT_EQ(m.timestamp_ms, 52);
  EXPECT_EQ(m.track, "inbound");
  EXPECT_EQ(m.payload, "/w==");

  ASSERT_EQ(parser.parse(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}})", m), ParseResult::ok);
  EXPECT_EQ(m.event, Event::dtmf);
  EXPECT_EQ(m.digit, "1");

  ASSERT_EQ(parser.parse(R"({"event":"mark","sequenceNumber":"103","streamSid":"MZ1","mark":{"name":"Repeat message 0"}})", m), ParseResult::ok);
  EXPECT_EQ(m.event, Event::mark);
  EXPECT_EQ(m.mark_name, "Repeat message 0");

  ASSERT_EQ(parser.parse(R"({"event":"stop","sequenceNumber":"206","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})", m), ParseResult::ok);
  EXPECT_EQ(m.event, Event::stop);
  EXPECT_EQ(m.sequence_number, 206);
}

TEST(Protocol, LenientWhereTheSpecIsUnconfirmed) {
  MessageParser parser;
  Message m;
  // Field order does not matter; numbers for counters are accepted; missing customParameters too.
  ASSERT_EQ(parser.parse(R"({"streamSid":"MZ1","media":{"payload":"/w==","chunk":3},"sequenceNumber":7,"event":"media"})", m), ParseResult::ok);
  EXPECT_EQ(m.chunk, 3);
  EXPECT_EQ(m.sequence_number, 7);
  ASSERT_EQ(parser.parse(R"({"event":"start","start":{"streamSid":"MZ9","callSid":"CA9"}})", m), ParseResult::ok);
  EXPECT_EQ(m.stream_sid, "MZ9");  // taken from start.streamSid when the top level lacks it
  EXPECT_TRUE(m.start.custom_parameters.empty());
  ASSERT_EQ(parser.parse(R"({"event":"start","streamSid":"MZ1","start":{"customParameters":{"n":5,"o":{"a":1}}}})", m), ParseResult::ok);
  EXPECT_EQ(m.start.custom_parameters[0].second, "5");
  EXPECT_EQ(m.start.custom_parameters[1].second, R"({"a":1})");
  // Keys Twilio may add later are skipped.
  ASSERT_EQ(parser.parse(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"a"},"extra":{"x":[1,2]}})", m), ParseResult::ok);
}

struct Hostile {
  const char *input;
  ParseResult result;
  const char *error_part;
};

class ProtocolHostile : public ::testing::TestWithParam<Hostile> {};

TEST_P(ProtocolHostile, RejectedWithAReason) {
  MessageParser parser;
  Message m;
  const auto &c = GetParam();
  EXPECT_EQ(parser.parse(c.input, m), c.result) << c.input;
  EXPECT_NE(parser.error().find(c.error_part), std::string::npos) << parser.error();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProtocolHostile,
    ::testing::Values(
        Hostile{"", ParseResult::invalid, "not JSON"},
        Hostile{"hello", ParseResult::invalid, "not JSON"},
        Hostile{R"({"event":"media")", ParseResult::invalid, "not JSON"},
        Hostile{R"({"event":"media"} trailing)", ParseResult::invalid, "not JSON"},
        Hostile{R"([1,2,3])", ParseResult::invalid, "not a JSON object"},
        Hostile{R"({"streamSid":"MZ1"})", ParseResult::invalid, "no 'event' field"},
        Hostile{R"({"event":42})", ParseResult::invalid, "'event' must be a string"},
        Hostile{R"({"event":"teleport"})", ParseResult::unknown_event, "unknown event 'teleport'"},
        Hostile{R"({"event":"media","streamSid":"MZ1"})", ParseResult::invalid, "'media' object is missing"},
        Hostile{R"({"event":"media","media":"abc"})", ParseResult::invalid, "'media' must be an object"},
        Hostile{R"({"event":"media","media":{"payload":""}})", ParseResult::invalid, "'media.payload' is missing or empty"},
        Hostile{R"({"event":"media","media":{"payload":12}})", ParseResult::invalid, "'payload' must be a string"},
        Hostile{R"({"event":"media","media":{"payload":"/w==","chunk":"x1"}})", ParseResult::invalid, "'chunk' must be a decimal integer"},
        Hostile{R"({"event":"media","media":{"payload":"/w==","timestamp":"-5"}})", ParseResult::invalid, "'timestamp' must be a decimal integer"},
        Hostile{R"({"event":"media","sequenceNumber":"1e3","media":{"payload":"/w=="}})", ParseResult::invalid, "'sequenceNumber' must be a decimal integer"},
        Hostile{R"({"event":"media","sequenceNumber":"99999999999999999999","media":{"payload":"/w=="}})", ParseResult::invalid, "'sequenceNumber'"},
        Hostile{R"({"event":"start","streamSid":"MZ1"})", ParseResult::invalid, "'start' object is missing"},
        Hostile{R"({"event":"start","start":{"callSid":"CA1"}})", ParseResult::invalid, "'streamSid' is missing"},
        Hostile{R"({"event":"start","streamSid":"MZ1","start":{"tracks":"inbound"}})", ParseResult::invalid, "'tracks' must be an array"},
        Hostile{R"({"event":"start","streamSid":"MZ1","start":{"mediaFormat":{"sampleRate":"8000"}}})", ParseResult::invalid, "'mediaFormat.sampleRate' must be an integer"},
        Hostile{R"({"event":"start","streamSid":"MZ1","start":{"customParameters":[]}})", ParseResult::invalid, "'customParameters' must be an object"},
        Hostile{R"({"event":"dtmf","streamSid":"MZ1","dtmf":{}})", ParseResult::invalid, "'dtmf.digit' is missing"},
        Hostile{R"({"event":"mark","streamSid":"MZ1","mark":{"name":7}})", ParseResult::invalid, "'mark.name' is missing"},
        Hostile{R"({"event":"mark","streamSid":"MZ1"})", ParseResult::invalid, "'mark' object is missing"},
        Hostile{"{\"event\":\"media\",\"media\":{\"payload\":\"\xff\xfe\"}}", ParseResult::invalid, "not JSON"}),
    [](const ::testing::TestParamInfo<Hostile> &param) { return "case" + std::to_string(param.index); });

TEST(Protocol, OversizedPayloadIsRejected) {
  MessageParser parser;
  Message m;
  const std::string payload(90000, 'A');  // decodes to 67,500 bytes: over 64 KiB
  EXPECT_EQ(parser.parse(R"({"event":"media","streamSid":"MZ1","media":{"payload":")" + payload + "\"}}", m), ParseResult::invalid);
  EXPECT_NE(parser.error().find("exceeds 65536 bytes"), std::string::npos) << parser.error();
}

TEST(Protocol, DeeplyNestedJsonIsRefusedNotOverflowed) {
  MessageParser parser;
  Message m;
  const std::string nested = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(parser.parse(nested, m), ParseResult::invalid);
}

TEST(Protocol, OutboundMessagesAreExactAndEscaped) {
  std::string out;
  write_media(out, "MZ1", "/w==");
  EXPECT_EQ(out, R"({"event":"media","streamSid":"MZ1","media":{"payload":"/w=="}})");
  out.clear();
  write_mark(out, "MZ1", "say \"hi\"\n\\");
  EXPECT_EQ(out, R"({"event":"mark","streamSid":"MZ1","mark":{"name":"say \"hi\"\u000a\\"}})");
  EXPECT_EQ(nlohmann::json::parse(out)["mark"]["name"], "say \"hi\"\n\\");
  out.clear();
  write_clear(out, "MZ1");
  EXPECT_EQ(out, R"({"event":"clear","streamSid":"MZ1"})");
}

}  // namespace
}  // namespace parley::twilio
