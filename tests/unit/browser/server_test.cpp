// The browser listener against a raw page that follows docs/browser-protocol.md to the letter:
// start/started, audio both ways at the page's rate (resampled to and from the session's),
// marks played and marks flushed by clear, DTMF, forwarded agent events, stop.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "audio/wav.hpp"
#include "browser_fixture.hpp"

namespace parley::browser::testing {
namespace {

TEST(BrowserServer, EchoCallFollowsTheProtocol) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  const auto started = page.start(16000, R"(,"call_id":"call-42","parameters":{"customer":"c-7","lang":"en"})");
  ASSERT_TRUE(started);
  ASSERT_EQ(page.log.texts.size(), 1u) << "started is the first message";
  EXPECT_EQ(started->size(), 3u) << started->dump();
  EXPECT_EQ((*started)["sample_rate"], 16000);

  auto event = server.wait_for(core::EventType::session_started);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->session_id, (*started)["session_id"]);
  const auto info = payload(event);
  EXPECT_EQ(info["transport"], "browser");
  EXPECT_EQ(info["call_id"], "call-42");
  EXPECT_EQ(info["custom_parameters"]["customer"], "c-7");
  EXPECT_EQ(info["custom_parameters"]["lang"], "en");

  const auto speech = tone(440, 16000, 1.5);
  auto received = page.talk(speech, 16000);
  received.append(page.read_for(400ms));

  // At the session's own rate nothing is resampled: the echo is the speech, sample for sample.
  ASSERT_GE(received.audio.size(), speech.size());
  EXPECT_TRUE(std::equal(speech.begin(), speech.end(), received.audio.begin())) << "echo differs from what was sent";
  EXPECT_EQ(received.binary_frames * 320, received.audio.size()) << "agent audio comes in 20 ms frames";
  // The echo behaviour marks each second of echoed audio, and the mark follows that audio.
  const int mark = received.index_of("mark", "echo-1");
  ASSERT_GE(mark, 0);
  EXPECT_EQ(received.audio_before[static_cast<size_t>(mark)], 16000u);
  for (const auto &m : received.texts) {
    EXPECT_EQ(m["type"], "mark") << m.dump();
    EXPECT_EQ(m.size(), 2u) << "a mark carries only its name: " << m.dump();
  }

  // Playback reached the mark: say so, and the session resolves it as played.
  page.send(R"({"type":"mark","name":"echo-1"})");
  auto mark_event = server.wait_for(core::EventType::mark);
  ASSERT_TRUE(mark_event);
  EXPECT_EQ(payload(mark_event)["name"], "echo-1");
  EXPECT_EQ(payload(mark_event)["outcome"], "played");

  page.send(R"({"type":"dtmf","digit":"7"})");
  auto dtmf = server.wait_for(core::EventType::dtmf);
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(payload(dtmf)["digit"], "7");

  page.send(R"({"type":"stop"})");
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  const auto summary = payload(stopped);
  EXPECT_EQ(summary["reason"], "caller hung up (stop)");
  EXPECT_EQ(summary["caller_frames"], 75);
  EXPECT_EQ(summary["dtmf"], 1);
  EXPECT_EQ(summary["marks_played"], 1);
  page.read_for(500ms);
  EXPECT_FALSE(page.ws().is_open());
  EXPECT_EQ(page.ws().close_code(), 1000);
  EXPECT_EQ(page.ws().close_reason(), "caller hung up");
  EXPECT_TRUE(server.error_messages().empty());
  EXPECT_EQ(server.runtime().sessions().count(), 0u);
}

TEST(BrowserServer, StartWithoutSampleRateMeans16k) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  page.send(R"({"type":"start"})");
  const auto started = page.wait_for("started");
  ASSERT_TRUE(started);
  EXPECT_EQ((*started)["sample_rate"], 16000);
  EXPECT_TRUE(payload(server.wait_for(core::EventType::session_started))["call_id"].get<std::string>().empty());
}

struct Rates {
  int page;
  int session;
};

void PrintTo(const Rates &r, std::ostream *out) { *out << "page " << r.page << " Hz, session " << r.session << " Hz"; }

class BrowserEchoRates : public ::testing::TestWithParam<Rates> {};

// Echo crosses both resamplers (page -> session -> page): what comes back is the same tone at
// the page's rate, all of it but the filters' delay.
TEST_P(BrowserEchoRates, EchoComesBackAtThePagesRate) {
  const auto [page_rate, session_rate] = GetParam();
  Server server(nlohmann::json{{"sample_rate", session_rate}});
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  const auto started = page.start(page_rate);
  ASSERT_TRUE(started);
  EXPECT_EQ((*started)["sample_rate"], page_rate);

  const auto speech = tone(440, page_rate, 1.0);
  auto received = page.talk(speech, page_rate);
  received.append(page.read_for(500ms));
  // Each conversion holds back at most ~35 ms (docs/audio.md).
  EXPECT_GE(received.audio.size(), speech.size() - static_cast<size_t>(page_rate / 1000 * 80)) << received.audio.size();
  EXPECT_LE(received.audio.size(), speech.size() + static_cast<size_t>(page_rate / 1000 * 5));
  const double at_tone = energy_at(received.audio, 440, page_rate);
  EXPECT_GT(at_tone, 100 * energy_at(received.audio, 1500, page_rate));
  EXPECT_GT(at_tone, 0.25 * energy_at(speech, 440, page_rate)) << "the tone lost most of its level";

  page.send(R"({"type":"stop"})");
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  // The session saw 1 s of audio at its own rate.
  EXPECT_NEAR(payload(stopped)["caller_frames"].get<double>(), 50, 1);
}

INSTANTIATE_TEST_SUITE_P(Rates, BrowserEchoRates,
                         ::testing::Values(Rates{8000, 16000}, Rates{16000, 16000}, Rates{24000, 16000}, Rates{48000, 16000},
                                           Rates{16000, 48000}),
                         [](const ::testing::TestParamInfo<Rates> &param) {
                           return "page" + std::to_string(param.param.page) + "_session" + std::to_string(param.param.session);
                         });

TEST(BrowserServer, HostAudioReachesA48kPageThenItsMark) {
  Server server(nlohmann::json{{"behaviour", "host"}});
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  const auto started = page.start(48000);
  ASSERT_TRUE(started);
  auto session = server.session((*started)["session_id"]);
  ASSERT_TRUE(session);

  const auto audio = tone(1000, 16000, 1.0);
  session->play(audio, 16000);
  session->send_mark("after-1s");
  Received received;
  while (received.index_of("mark") < 0 && page.ws().is_open()) {
    auto more = page.read_for(200ms);
    received.append(std::move(more));
    if (received.audio.size() > 60000) break;
  }
  const int mark = received.index_of("mark", "after-1s");
  ASSERT_GE(mark, 0);
  // Resampled 16 -> 48 kHz: three times the samples, minus what the filter still holds.
  EXPECT_GE(received.audio_before[static_cast<size_t>(mark)], 48000u - 48 * 40);
  EXPECT_LE(received.audio_before[static_cast<size_t>(mark)], 48000u);
  EXPECT_GT(energy_at(received.audio, 1000, 48000), 100 * energy_at(received.audio, 3000, 48000));
  page.send(R"({"type":"mark","name":"after-1s"})");
  EXPECT_EQ(session->wait_mark("after-1s", 2s), core::MarkOutcome::played);
}

// Spec: `clear` drops unplayed audio; marks the page had queued come back (as Twilio does)
// and the session counts them as cleared, like the marks it had not sent yet.
TEST(BrowserServer, ClearStopsAudioAndMarksComeBackCleared) {
  Server server(nlohmann::json{{"behaviour", "host"}, {"playout_lead_ms", 1000}});
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  const auto started = page.start(16000);
  ASSERT_TRUE(started);
  auto session = server.session((*started)["session_id"]);
  ASSERT_TRUE(session);

  session->play(tone(500, 16000, 0.3), 16000);
  session->send_mark("queued-at-page");
  session->play(tone(500, 16000, 5.0), 16000);
  session->send_mark("never-sent");
  Received before;
  while (before.index_of("mark", "queued-at-page") < 0 && page.ws().is_open()) before.append(page.read_for(50ms));
  ASSERT_GE(before.index_of("mark", "queued-at-page"), 0);
  EXPECT_LT(before.audio.size(), 16000u * 2) << "audio is paced to the lead, not sent all at once";

  session->clear();
  Received after;
  while (after.index_of("clear") < 0 && page.ws().is_open()) after.append(page.read_for(50ms));
  const int clear = after.index_of("clear");
  ASSERT_GE(clear, 0);
  EXPECT_EQ(after.texts[static_cast<size_t>(clear)].size(), 1u) << after.texts[static_cast<size_t>(clear)].dump();
  page.send(R"({"type":"mark","name":"queued-at-page"})");
  after.append(page.read_for(400ms));
  EXPECT_EQ(after.audio.size(), after.audio_before[static_cast<size_t>(clear)]) << "audio after clear";
  EXPECT_EQ(after.index_of("mark", "never-sent"), -1);

  EXPECT_EQ(session->wait_mark("queued-at-page", 2s), core::MarkOutcome::cleared);
  EXPECT_EQ(session->wait_mark("never-sent", 2s), core::MarkOutcome::cleared);
  EXPECT_TRUE(server.error_messages().empty()) << server.error_messages().front();
}

TEST(BrowserServer, ForwardsAgentEventsAfterStarted) {
  Server server(nlohmann::json{{"behaviour", "greeter"}, {"greeter", {{"greeting", "Hello from Parley"}}}}, register_greeter);
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  ASSERT_TRUE(page.start(16000));
  const auto greeting = page.wait_for("event");
  ASSERT_TRUE(greeting);
  EXPECT_EQ(page.log.index_of("started"), 0) << "events come after started";
  EXPECT_EQ(*greeting, (nlohmann::json{{"type", "event"},
                                       {"event", "transcript"},
                                       {"data", {{"role", "agent"}, {"text", "Hello from Parley"}, {"final", true}, {"turn", 1}}}}));
  // The host gets the same event.
  auto transcript = server.wait_for(core::EventType::transcript);
  ASSERT_TRUE(transcript);
  EXPECT_EQ(payload(transcript)["text"], "Hello from Parley");

  page.send(R"({"type":"dtmf","digit":"#"})");
  const auto state = page.wait_for("event");
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["event"], "agent_state");
  EXPECT_EQ((*state)["data"]["digit"], "#");
}

TEST(BrowserServer, BehaviourConfigIsValidatedWhenTheListenerStarts) {
  core::Runtime runtime(quiet_runtime());
  register_greeter(runtime);
  try {
    start_listener(runtime, nlohmann::json{{"transport", "browser"}, {"behaviour", "greeter"}, {"greeter", {{"greting", "x"}}}});
    FAIL() << "expected a config error";
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::config);
    EXPECT_NE(std::string(e.what()).find("$.greeter.greting"), std::string::npos) << e.what();
  }
}

TEST(BrowserServer, ConfigErrorsNameTheField) {
  core::Runtime runtime(quiet_runtime());
  const std::pair<nlohmann::json, const char *> cases[] = {
      {{{"public_url", "wss://x/browser"}}, "$.public_url"},
      {{{"path", "browser"}}, "$.path: must start with '/'"},
      {{{"sample_rate", 11025}}, "$.sample_rate: unsupported rate 11025"},
      {{{"allowed_origins", "https://a.example"}}, "$.allowed_origins: expected an array"},
      {{{"allowed_origins", {"https://a.example/app"}}}, "is not an origin"},
      {{{"allowed_origins", {5}}}, "$.allowed_origins: expected non-empty strings"},
      {{{"auth_token_env", "PARLEY_BROWSER_TEST_UNSET_VARIABLE"}}, "PARLEY_BROWSER_TEST_UNSET_VARIABLE is not set"},
      {{{"tls", {{"certificate", "c.pem"}}}}, "$.tls.private_key: required"},
      {{{"behaviour", "robot"}}, "$.behaviour: unknown behaviour 'robot'"},
  };
  for (const auto &[overrides, part] : cases) {
    nlohmann::json config = {{"transport", "browser"}};
    for (auto &[key, value] : overrides.items()) config[key] = value;
    try {
      start_listener(runtime, config);
      ADD_FAILURE() << "accepted: " << config.dump();
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), Status::config) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

TEST(BrowserServer, RecordsTheCallNamedBySession) {
  const auto dir = std::filesystem::temp_directory_path() / ("parley-browser-rec-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string session_id;
  {
    Server server(nlohmann::json{{"record_dir", dir.string()}});
    RawPage page;
    ASSERT_EQ(page.connect(server.url()), 101);
    // A call_id is the page's to choose, so it never names a file.
    const auto started = page.start(16000, R"(,"call_id":"../../escape")");
    ASSERT_TRUE(started);
    session_id = (*started)["session_id"];
    page.talk(tone(440, 16000, 0.4), 16000);
    page.send(R"({"type":"stop"})");
    ASSERT_TRUE(server.wait_for(core::EventType::session_stopped));
  }
  const auto path = dir / (session_id + ".wav");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const auto wav = audio::read_wav_file(path.string());
  EXPECT_EQ(wav.format.channels, 2);
  EXPECT_EQ(wav.format.sample_rate, 16000u);
  EXPECT_GE(wav.frames(), 16000u * 3 / 10) << "the caller's 0.4 s (less what was still in flight) is in it";
  EXPECT_FALSE(std::filesystem::exists(dir.parent_path().parent_path() / "escape.wav"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace parley::browser::testing
