// The protocol code on its own: every client message the document defines parses, every
// malformed one is refused with a reason, and what the writers produce is the JSON the
// document shows.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "transports/browser/protocol.hpp"

namespace parley::browser {
namespace {

TEST(BrowserProtocol, ParsesEveryClientMessage) {
  MessageParser parser;
  ClientMessage m;
  ASSERT_TRUE(parser.parse(R"({"type":"start","sample_rate":48000,"call_id":"c-1","parameters":{"k":"v","lang":"en"}})", m))
      << parser.error();
  EXPECT_EQ(m.type, MessageType::start);
  EXPECT_EQ(m.sample_rate, 48000);
  EXPECT_EQ(m.call_id, "c-1");
  ASSERT_EQ(m.parameters.size(), 2u);
  EXPECT_EQ(m.parameters[0], (std::pair<std::string, std::string>{"k", "v"}));

  ASSERT_TRUE(parser.parse(R"({"type":"start"})", m));
  EXPECT_EQ(m.sample_rate, 0) << "absent: the listener applies the default";

  ASSERT_TRUE(parser.parse(R"({"type":"mark","name":"chunk-3"})", m));
  EXPECT_EQ(m.type, MessageType::mark);
  EXPECT_EQ(m.mark_name, "chunk-3");

  for (const char *digit : {"0", "9", "*", "#"}) {
    ASSERT_TRUE(parser.parse(std::string(R"({"type":"dtmf","digit":")") + digit + "\"}", m)) << digit;
    EXPECT_EQ(m.digit, digit);
  }
  ASSERT_TRUE(parser.parse(R"({"type":"stop"})", m));
  EXPECT_EQ(m.type, MessageType::stop);
  // Fields a newer page adds are ignored, in any order.
  ASSERT_TRUE(parser.parse(R"({"volume":3,"type":"dtmf","digit":"1","ts":12})", m)) << parser.error();
}

TEST(BrowserProtocol, RefusesMalformedMessagesWithAReason) {
  const std::pair<const char *, const char *> cases[] = {
      {"", "not JSON"},
      {"{\"type\":", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"sample_rate":16000})", "no 'type' field"},
      {R"({"type":["start"]})", "'type' must be a string"},
      {R"({"type":"media"})", "unknown type \"media\""},
      {R"({"type":"start","sample_rate":"16000"})", "'sample_rate' must be an integer"},
      {R"({"type":"start","sample_rate":16000.5})", "'sample_rate' must be an integer"},
      {R"({"type":"start","sample_rate":-8000})", "'sample_rate' must be positive"},
      {R"({"type":"start","call_id":7})", "'call_id' must be a string"},
      {R"({"type":"start","parameters":[]})", "'parameters' must be an object"},
      {R"({"type":"start","parameters":{"n":1}})", "'parameters.n' must be a string"},
      {R"({"type":"mark"})", "mark: 'name' is missing"},
      {R"({"type":"mark","name":""})", "mark: 'name' is empty"},
      {R"({"type":"mark","name":5})", "mark: 'name' must be a string"},
      {R"({"type":"dtmf"})", "dtmf: 'digit' is missing"},
      {R"({"type":"dtmf","digit":"A"})", "must be one of 0-9, * or # (got \"A\")"},
      {R"({"type":"dtmf","digit":"12"})", "must be one of 0-9, * or #"},
      {R"({"type":"dtmf","digit":""})", "must be one of 0-9, * or #"},
  };
  MessageParser parser;
  ClientMessage m;
  for (const auto &[text, part] : cases) {
    EXPECT_FALSE(parser.parse(text, m)) << text;
    EXPECT_NE(parser.error().find(part), std::string::npos) << text << " -> " << parser.error();
  }
  EXPECT_FALSE(parser.parse(R"({"type":"start","call_id":")" + std::string(200, 'x') + "\"}", m));
  EXPECT_NE(parser.error().find("longer than 128 bytes"), std::string::npos) << parser.error();
  EXPECT_FALSE(parser.parse(R"({"type":"mark","name":")" + std::string(300, 'x') + "\"}", m));
  EXPECT_NE(parser.error().find("longer than 256 bytes"), std::string::npos) << parser.error();
  // The parser recovers: the next good message parses.
  EXPECT_TRUE(parser.parse(R"({"type":"stop"})", m));
  EXPECT_TRUE(parser.error().empty());
}

TEST(BrowserProtocol, ServerMessagesAreTheDocumentedJson) {
  std::string out;
  write_started(out, "S1", 24000);
  EXPECT_EQ(nlohmann::json::parse(out), (nlohmann::json{{"type", "started"}, {"session_id", "S1"}, {"sample_rate", 24000}}));
  out.clear();
  write_mark(out, "say \"hi\"\n");
  EXPECT_EQ(nlohmann::json::parse(out), (nlohmann::json{{"type", "mark"}, {"name", "say \"hi\"\n"}}));
  out.clear();
  write_clear(out);
  EXPECT_EQ(nlohmann::json::parse(out), (nlohmann::json{{"type", "clear"}}));
  out.clear();
  write_event(out, "transcript", R"({"role":"agent","text":"Hello"})");
  EXPECT_EQ(nlohmann::json::parse(out),
            (nlohmann::json{{"type", "event"}, {"event", "transcript"}, {"data", {{"role", "agent"}, {"text", "Hello"}}}}));
  out.clear();
  write_event(out, "turn", "");
  EXPECT_EQ(nlohmann::json::parse(out)["data"], nlohmann::json::object());
  out.clear();
  write_error(out, "no 'type' field");
  EXPECT_EQ(nlohmann::json::parse(out), (nlohmann::json{{"type", "error"}, {"message", "no 'type' field"}}));
}

TEST(BrowserProtocol, ClientWritersRoundTripThroughTheParser) {
  MessageParser parser;
  ClientMessage m;
  std::string out;
  const std::vector<std::pair<std::string, std::string>> parameters = {{"a", "1"}, {"quote\"", "x"}};
  write_start(out, 8000, "id-9", parameters);
  ASSERT_TRUE(parser.parse(out, m)) << parser.error();
  EXPECT_EQ(m.sample_rate, 8000);
  EXPECT_EQ(m.call_id, "id-9");
  EXPECT_EQ(m.parameters, parameters);
  out.clear();
  write_dtmf(out, '#');
  ASSERT_TRUE(parser.parse(out, m));
  EXPECT_EQ(m.digit, "#");
  out.clear();
  write_mark_played(out, "m");
  ASSERT_TRUE(parser.parse(out, m));
  EXPECT_EQ(m.mark_name, "m");
}

TEST(BrowserProtocol, AudioFramesArePcm16LittleEndian) {
  EXPECT_EQ(check_audio_frame(640), "");
  EXPECT_EQ(check_audio_frame(0), "");
  EXPECT_EQ(check_audio_frame(kMaxAudioFrameBytes), "");
  EXPECT_NE(check_audio_frame(641).find("whole 2-byte samples"), std::string::npos);
  EXPECT_NE(check_audio_frame(kMaxAudioFrameBytes + 2).find("over the 65536-byte limit"), std::string::npos);

  const std::vector<int16_t> samples = {0, 1, -1, 0x1234, -32768, 32767};
  std::string bytes;
  append_pcm16le(bytes, samples);
  ASSERT_EQ(bytes.size(), 12u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[6]), 0x34);  // low byte first
  EXPECT_EQ(static_cast<uint8_t>(bytes[7]), 0x12);
  std::vector<int16_t> back;
  read_pcm16le(bytes, back);
  EXPECT_EQ(back, samples);
}

TEST(BrowserProtocol, Utf8PrefixNeverSplitsACharacter) {
  const std::string text = "ab\xC3\xA9" "cd";  // "abécd"
  EXPECT_EQ(utf8_prefix(text, 3), "ab");
  EXPECT_EQ(utf8_prefix(text, 4), "ab\xC3\xA9");
  EXPECT_EQ(utf8_prefix(text, 100), text);
  EXPECT_EQ(utf8_prefix("\xE2\x82\xAC", 2), "");  // a 3-byte euro sign does not fit in 2
  EXPECT_TRUE(is_client_rate(8000) && is_client_rate(16000) && is_client_rate(24000) && is_client_rate(48000));
  EXPECT_FALSE(is_client_rate(44100) || is_client_rate(22050) || is_client_rate(0));
}

}  // namespace
}  // namespace parley::browser
