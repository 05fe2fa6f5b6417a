// Every kind of bad input, each with its defined outcome: an error message to the page and a
// warning to the host, then the call carries on; or a close with the documented code.
#include <gtest/gtest.h>

#include "browser_fixture.hpp"

namespace parley::browser::testing {
namespace {

std::vector<uint8_t> pcm_bytes(size_t bytes) { return std::vector<uint8_t>(bytes, 0x10); }

// After the bad input the call must still work: good audio is echoed.
bool call_still_echoes(RawPage &page) {
  const auto speech = tone(440, 16000, 0.2);
  return !page.talk(speech, 16000).audio.empty() || !page.read_for(300ms).audio.empty();
}

// The first error message the page got (reading on until one arrives).
std::optional<std::string> first_error(RawPage &page) {
  if (page.log.index_of("error") < 0 && !page.wait_for("error")) return std::nullopt;
  return page.log.texts[static_cast<size_t>(page.log.index_of("error"))]["message"].get<std::string>();
}

struct HostileCase {
  const char *name;
  std::function<void(RawPage &)> send;
  const char *error_part;  // in the page's error message and the host's session_error
  bool before_start = false;
};

void PrintTo(const HostileCase &c, std::ostream *out) { *out << c.name; }

class BrowserHostile : public ::testing::TestWithParam<HostileCase> {};

TEST_P(BrowserHostile, AnsweredWithAnErrorAndTheCallCarriesOn) {
  const auto &c = GetParam();
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  if (c.before_start) c.send(page);
  ASSERT_TRUE(page.start(16000)) << c.name;
  if (!c.before_start) c.send(page);

  const auto error = first_error(page);
  ASSERT_TRUE(error) << c.name << ": no error message";
  EXPECT_NE(error->find(c.error_part), std::string::npos) << c.name << ": " << *error;
  EXPECT_EQ(page.log.of_type("error").size(), 1u) << c.name << ": one error per invalid message";
  EXPECT_TRUE(call_still_echoes(page)) << c.name;
  const auto warnings = server.error_messages();
  ASSERT_FALSE(warnings.empty()) << c.name;
  EXPECT_NE(warnings.front().find(c.error_part), std::string::npos) << c.name << ": " << warnings.front();

  page.send(R"({"type":"stop"})");
  page.read_for(500ms);
  EXPECT_EQ(page.ws().close_code(), 1000) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BrowserHostile,
    ::testing::Values(
        HostileCase{"non_json", [](RawPage &p) { p.send("this is not json"); }, "not JSON"},
        HostileCase{"json_not_object", [](RawPage &p) { p.send("[\"start\"]"); }, "not a JSON object"},
        HostileCase{"no_type", [](RawPage &p) { p.send(R"({"digit":"1"})"); }, "no 'type' field"},
        HostileCase{"type_not_string", [](RawPage &p) { p.send(R"({"type":1})"); }, "'type' must be a string"},
        HostileCase{"unknown_type", [](RawPage &p) { p.send(R"({"type":"media","payload":"AAAA"})"); }, "unknown type \"media\""},
        HostileCase{"audio_before_start", [](RawPage &p) { p.send_bytes(pcm_bytes(640)); }, "audio frame of 640 bytes before start", true},
        HostileCase{"dtmf_before_start", [](RawPage &p) { p.send(R"({"type":"dtmf","digit":"1"})"); }, "dtmf before start", true},
        HostileCase{"mark_before_start", [](RawPage &p) { p.send(R"({"type":"mark","name":"m"})"); }, "mark before start", true},
        HostileCase{"start_rate_not_integer", [](RawPage &p) { p.send(R"({"type":"start","sample_rate":"16k"})"); },
                    "'sample_rate' must be an integer", true},
        HostileCase{"start_parameter_not_string", [](RawPage &p) { p.send(R"({"type":"start","parameters":{"n":1}})"); },
                    "'parameters.n' must be a string", true},
        HostileCase{"duplicate_start", [](RawPage &p) { p.send(R"({"type":"start","sample_rate":48000})"); }, "duplicate start"},
        HostileCase{"odd_byte_frame", [](RawPage &p) { p.send_bytes(pcm_bytes(641)); }, "641 bytes ignored: PCM16 frames hold whole 2-byte samples"},
        HostileCase{"frame_over_64k", [](RawPage &p) { p.send_bytes(pcm_bytes(64 * 1024 + 2)); }, "over the 65536-byte limit"},
        HostileCase{"bad_dtmf_digit", [](RawPage &p) { p.send(R"({"type":"dtmf","digit":"Z"})"); }, "'digit' must be one of 0-9, * or # (got \"Z\")"},
        HostileCase{"dtmf_two_digits", [](RawPage &p) { p.send(R"({"type":"dtmf","digit":"12"})"); }, "'digit' must be one of 0-9"},
        HostileCase{"unknown_mark", [](RawPage &p) { p.send(R"({"type":"mark","name":"never-sent"})"); },
                    "mark \"never-sent\" ignored: no mark of that name is awaiting playback"},
        HostileCase{"mark_without_name", [](RawPage &p) { p.send(R"({"type":"mark"})"); }, "mark: 'name' is missing"}),
    [](const ::testing::TestParamInfo<HostileCase> &param) { return std::string(param.param.name); });

TEST(BrowserHostileClose, UnsupportedSampleRateCloses1003) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  EXPECT_FALSE(page.start(44100)) << "no started for a rate the server cannot serve";
  const auto errors = page.log.of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0]["message"].get<std::string>().find("unsupported sample_rate 44100"), std::string::npos) << errors[0];
  EXPECT_FALSE(page.ws().is_open());
  EXPECT_EQ(page.ws().close_code(), 1003);
  EXPECT_FALSE(server.wait_for(core::EventType::session_started, 200ms));
  EXPECT_TRUE(server.wait_for(core::EventType::session_stopped));
}

TEST(BrowserHostileClose, FloodOfInvalidMessagesCloses1008) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  ASSERT_TRUE(page.start(16000));
  for (int i = 0; i < 250 && page.ws().is_open(); ++i) page.send("garbage");
  const auto received = page.read_for(1s);
  EXPECT_FALSE(page.ws().is_open());
  EXPECT_EQ(page.ws().close_code(), 1008);
  EXPECT_EQ(page.ws().close_reason(), "too many invalid messages");
  // Error messages are capped per call, so a flood cannot flood either side.
  EXPECT_EQ(received.of_type("error").size(), 10u);
  EXPECT_LE(server.error_messages().size(), 12u);
}

TEST(BrowserHostileClose, StopBeforeStartEndsTheCall) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  page.send(R"({"type":"stop"})");
  page.read_for(500ms);
  EXPECT_EQ(page.ws().close_code(), 1000);
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(payload(stopped)["reason"], "caller hung up (stop)");
}

TEST(BrowserHostileClose, MessageOverTheLimitClosesTheCall) {
  Server server(nlohmann::json{{"max_message_bytes", 4096}});
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  ASSERT_TRUE(page.start(16000));
  page.send_bytes(pcm_bytes(8000));
  page.read_for(500ms);
  EXPECT_FALSE(page.ws().is_open());
  // Beast sends 1009 and closes the socket with our unread bytes in it, so the kernel's reset
  // may overtake the close frame: the page sees 1009 or a dropped connection.
  EXPECT_TRUE(page.ws().close_code() == 1009 || page.ws().close_code() == 0) << page.ws().close_code();
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(payload(stopped)["reason"].get<std::string>().find("4096-byte limit"), std::string::npos) << stopped->payload_json;
}

TEST(BrowserHostileClose, PageClosingWithoutStopEndsTheSession) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  ASSERT_TRUE(page.start(16000));
  page.ws().close(1001, "tab closed");
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(payload(stopped)["reason"].get<std::string>().find("peer closed (1001 tab closed)"), std::string::npos)
      << stopped->payload_json;
}

}  // namespace
}  // namespace parley::browser::testing
