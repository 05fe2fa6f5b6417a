// The Twilio Media Streams server against a client that follows the spec to the letter:
// message order and fields, marks before and after clear, pacing, recording, stop.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "audio/wav.hpp"
#include "server_fixture.hpp"

namespace parley::twilio::testing {
namespace {

// Sends `frames` 20 ms media frames in real time and returns every server message read
// meanwhile.
std::vector<nlohmann::json> talk(TestCaller &caller, const std::vector<uint8_t> &ulaw, size_t frames) {
  std::vector<nlohmann::json> received;
  auto next = std::chrono::steady_clock::now();
  for (size_t i = 0; i < frames; ++i) {
    const auto offset = (i * 160) % (ulaw.size() - 159);
    caller.send_text(caller.twilio().media(std::span<const uint8_t>(ulaw.data() + offset, 160), static_cast<int64_t>(20 * i + 52)));
    next += 20ms;
    for (auto &m : read_for(caller, std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now()))) {
      received.push_back(std::move(m));
    }
  }
  return received;
}

size_t media_bytes(const std::vector<nlohmann::json> &messages) {
  size_t bytes = 0;
  for (const auto &m : messages) {
    if (m["event"] != "media") continue;
    const auto payload = m["media"]["payload"].get<std::string>();
    const size_t padding = payload.ends_with("==") ? 2 : payload.ends_with("=") ? 1 : 0;
    bytes += payload.size() / 4 * 3 - padding;
  }
  return bytes;
}

TEST(TwilioServer, EchoCallFollowsTheProtocol) {
  Server server;
  TestCaller caller;
  auto started = start_call(server, caller, {{"session", "s-123"}, {"from_number", "+15551230000"}});
  ASSERT_TRUE(started);
  const auto info = nlohmann::json::parse(started->payload_json);
  EXPECT_EQ(info["transport"], "twilio");
  EXPECT_EQ(info["call_id"], caller.twilio().call_sid());
  EXPECT_EQ(info["stream_id"], caller.twilio().stream_sid());
  EXPECT_EQ(info["account_id"], caller.twilio().account_sid());
  EXPECT_EQ(info["custom_parameters"]["session"], "s-123");
  EXPECT_EQ(info["custom_parameters"]["from_number"], "+15551230000");

  const auto speech = ulaw_tone(440, 1.0);
  auto received = talk(caller, speech, 75);  // 1.5 s
  caller.send_text(caller.twilio().dtmf('7'));
  for (auto &m : read_for(caller, 300ms)) received.push_back(std::move(m));

  // Every message is media or mark, for our stream, shaped exactly as the spec says.
  bool saw_mark = false;
  for (const auto &m : received) {
    ASSERT_EQ(m["streamSid"], caller.twilio().stream_sid());
    if (m["event"] == "media") {
      EXPECT_EQ(m.size(), 3u) << m.dump();
      EXPECT_EQ(m["media"].size(), 1u) << "outbound media carries only a payload: " << m.dump();
    } else {
      ASSERT_EQ(m["event"], "mark") << m.dump();
      EXPECT_EQ(m["mark"]["name"], "echo-1");
      saw_mark = true;
    }
  }
  // The echo returns everything but the half-band filters' 2 ms + 1 ms of delay.
  EXPECT_GE(media_bytes(received), 74u * 160);
  EXPECT_TRUE(saw_mark) << "the echo behaviour marks each second of echoed audio";

  auto dtmf = server.wait_for(core::EventType::dtmf);
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(nlohmann::json::parse(dtmf->payload_json)["digit"], "7");

  // Playing the mark back (as Twilio does when the audio before it has played) resolves it.
  caller.send_text(caller.twilio().mark("echo-1"));
  auto mark = server.wait_for(core::EventType::mark);
  ASSERT_TRUE(mark);
  EXPECT_EQ(nlohmann::json::parse(mark->payload_json)["name"], "echo-1");
  EXPECT_EQ(nlohmann::json::parse(mark->payload_json)["outcome"], "played");

  caller.send_text(caller.twilio().stop());
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  const auto summary = nlohmann::json::parse(stopped->payload_json);
  EXPECT_EQ(summary["reason"], "caller hung up (stop)");
  EXPECT_EQ(summary["caller_frames"], 75);
  EXPECT_EQ(summary["dtmf"], 1);
  EXPECT_EQ(summary["marks_played"], 1);
  read_for(caller, 500ms);
  EXPECT_FALSE(caller.is_open());
  EXPECT_EQ(caller.close_code(), 1000);
  EXPECT_TRUE(server.error_messages().empty());
  EXPECT_EQ(server.runtime().sessions().count(), 0u);
}

TEST(TwilioServer, HostPlaysAudioPacedToTheLeadThenMarks) {
  Server server(nlohmann::json{{"behaviour", "host"}, {"playout_lead_ms", 200}});
  TestCaller caller;
  auto started = start_call(server, caller);
  ASSERT_TRUE(started);
  auto session = server.session_of(*started);
  ASSERT_TRUE(session);

  const auto audio = tone(1000, 16000, 1.0);
  const auto begin = std::chrono::steady_clock::now();
  session->play(audio, 16000);
  session->send_mark("after-1s");
  // Paced: by any moment T after play(), at most the lead + T (+ one frame) has been sent;
  // and the lead itself goes out at once. T is measured, so a loaded machine cannot fail it.
  const auto early = read_for(caller, 300ms);
  const double elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  EXPECT_LE(static_cast<double>(media_bytes(early)), (200 + 20 + elapsed_ms) * 8) << "audio was not paced";
  EXPECT_GE(media_bytes(early), 200 * 8u - 160) << "the lead was not filled at once";
  EXPECT_LT(media_bytes(early), 8000u) << "all of the audio went out at once";

  auto rest = read_for(caller, 1300ms);
  size_t total = media_bytes(early) + media_bytes(rest);
  EXPECT_NEAR(static_cast<double>(total), 8000.0, 160.0);
  // The mark comes after all the audio, and not before real time allowed it.
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back()["event"], "mark");
  EXPECT_EQ(rest.back()["mark"]["name"], "after-1s");
  EXPECT_EQ(session->wait_mark("after-1s", 0ms), core::MarkOutcome::timeout);
  caller.send_text(caller.twilio().mark("after-1s"));
  EXPECT_EQ(session->wait_mark("after-1s", 2s), core::MarkOutcome::played);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 750ms) << "1 s of audio cannot be sent in less than 1 s - lead";
  EXPECT_EQ(session->wait_mark("never-sent", 0ms), core::MarkOutcome::unknown);
  caller.close();
}

TEST(TwilioServer, ClearFlushesAudioAndReleasesMarks) {
  Server server(nlohmann::json{{"behaviour", "host"}});
  TestCaller caller;
  auto started = start_call(server, caller);
  ASSERT_TRUE(started);
  auto session = server.session_of(*started);

  session->play(tone(500, 16000, 0.1), 16000);
  session->send_mark("short");             // reaches the caller at once (inside the lead)
  session->play(tone(500, 16000, 3.0), 16000);
  session->send_mark("after-long");        // still queued in the session at clear time
  const auto before = read_for(caller, 150ms);
  bool short_mark_sent = false;
  for (const auto &m : before) short_mark_sent |= m["event"] == "mark" && m["mark"]["name"] == "short";
  ASSERT_TRUE(short_mark_sent);

  session->clear();
  // A mark the session never sent resolves as cleared at once...
  EXPECT_EQ(session->wait_mark("after-long", 1s), core::MarkOutcome::cleared);
  auto after = read_for(caller, 300ms);
  ASSERT_FALSE(after.empty());
  size_t clear_index = after.size();
  for (size_t i = 0; i < after.size(); ++i) {
    if (after[i]["event"] == "clear") clear_index = i;
  }
  ASSERT_LT(clear_index, after.size()) << "no clear message";
  EXPECT_EQ(after[clear_index].size(), 2u) << after[clear_index].dump();
  for (size_t i = clear_index + 1; i < after.size(); ++i) EXPECT_NE(after[i]["event"], "media") << "audio after clear";

  // ...and one already at the far end comes back as Twilio echoes it on clear: "cleared".
  caller.send_text(caller.twilio().mark("short"));
  EXPECT_EQ(session->wait_mark("short", 2s), core::MarkOutcome::cleared);
  auto mark = server.wait_for(core::EventType::mark);
  while (mark && nlohmann::json::parse(mark->payload_json)["name"] != "short") mark = server.wait_for(core::EventType::mark);
  ASSERT_TRUE(mark);
  EXPECT_EQ(nlohmann::json::parse(mark->payload_json)["outcome"], "cleared");

  // The session plays new audio after a clear.
  session->play(tone(500, 16000, 0.2), 16000);
  EXPECT_GT(media_bytes(read_for(caller, 400ms)), 1000u);
  caller.close();
}

TEST(TwilioServer, HostHangUpClosesTheSocketAndStopsTheSession) {
  Server server(nlohmann::json{{"behaviour", "host"}});
  TestCaller caller;
  auto started = start_call(server, caller);
  ASSERT_TRUE(started);
  auto session = server.session_of(*started);
  session->hang_up("goodbye");
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(nlohmann::json::parse(stopped->payload_json)["reason"].get<std::string>().find("goodbye"), std::string::npos);
  read_for(caller, 300ms);
  EXPECT_FALSE(caller.is_open());
  EXPECT_EQ(caller.close_code(), 1000);
  EXPECT_EQ(session->state(), core::SessionState::closed);
  EXPECT_THROW(session->play(tone(500, 16000, 0.1), 16000), parley::Error);
}

TEST(TwilioServer, RecordingPutsCallerLeftAndAgentRight) {
  const auto path = std::filesystem::temp_directory_path() / ("parley-rec-" + std::to_string(::getpid()) + ".wav");
  {
    Server server(nlohmann::json{{"behaviour", "host"}});
    TestCaller caller;
    auto started = start_call(server, caller);
    ASSERT_TRUE(started);
    auto session = server.session_of(*started);
    session->start_recording(path.string());
    session->play(tone(1000, 16000, 1.0), 16000);
    talk(caller, ulaw_tone(440, 1.0), 50);
    session->stop_recording();
    caller.send_text(caller.twilio().stop());
    ASSERT_TRUE(server.wait_for(core::EventType::session_stopped));
  }
  const auto wav = audio::read_wav_file(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(wav.format.channels, 2);
  ASSERT_EQ(wav.format.sample_rate, 16000u);
  std::vector<int16_t> left, right;
  for (size_t i = 0; i + 1 < wav.samples.size(); i += 2) {
    left.push_back(wav.samples[i]);
    right.push_back(wav.samples[i + 1]);
  }
  ASSERT_GT(left.size(), 12000u);
  EXPECT_GT(energy_at(left, 440, 16000), 100 * energy_at(left, 1000, 16000));
  EXPECT_GT(energy_at(right, 1000, 16000), 100 * energy_at(right, 440, 16000));
  EXPECT_GT(energy_at(left, 440, 16000), 1e5);
}

TEST(TwilioServer, RecordDirWritesOneFilePerCall) {
  const auto dir = std::filesystem::temp_directory_path() / ("parley-recdir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string call_sid;
  {
    Server server(nlohmann::json{{"record_dir", dir.string()}});
    TestCaller caller;
    ASSERT_TRUE(start_call(server, caller));
    call_sid = caller.twilio().call_sid();
    talk(caller, ulaw_tone(440, 1.0), 25);
    caller.send_text(caller.twilio().stop());
    ASSERT_TRUE(server.wait_for(core::EventType::session_stopped));
  }
  const auto file = dir / (call_sid + ".wav");
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  const auto wav = audio::read_wav_file(file.string());
  EXPECT_EQ(wav.format.channels, 2);
  EXPECT_GT(wav.samples.size(), 2u * 16000 * 4 / 10);
  std::filesystem::remove_all(dir);
}

TEST(TwilioServer, SignatureIsCheckedOnTheUpgrade) {
  const std::string public_url = "wss://agent.example.test/twilio";
  Server server(nlohmann::json{{"auth_token", "secret-auth-token-1"}, {"public_url", public_url}});
  {
    TestCaller caller;
    EXPECT_EQ(caller.connect(server.url()), 403);
    EXPECT_NE(caller.response_body().find("missing X-Twilio-Signature"), std::string::npos);
  }
  {
    TestCaller caller;
    EXPECT_EQ(caller.connect(server.url(), {{"x-twilio-signature", compute_signature("wrong-token", public_url)}}), 403);
    EXPECT_NE(caller.response_body().find("does not match"), std::string::npos);
  }
  {
    TestCaller caller;
    EXPECT_EQ(caller.connect(server.url(), {{"X-Twilio-Signature", compute_signature("secret-auth-token-1", public_url)}}), 101);
    caller.close();
  }
  // Refused upgrades never created a session; the accepted one ends with its close.
  EXPECT_TRUE(server.runtime().sessions().wait_until_empty("", 2s));
  EXPECT_EQ(server.wait_for(core::EventType::session_started, 0ms), nullptr);
}

TEST(TwilioServer, OverCapacityIsClosedWithAReasonAndReported) {
  Server server(nlohmann::json{{"max_calls", 1}});
  TestCaller first;
  ASSERT_TRUE(start_call(server, first));
  TestCaller second;
  ASSERT_EQ(second.connect(server.url()), 101);
  read_for(second, 500ms);
  EXPECT_FALSE(second.is_open());
  EXPECT_EQ(second.close_code(), 1013);
  EXPECT_NE(second.close_reason().find("server at capacity"), std::string::npos);
  auto rejected = server.wait_for(core::EventType::session_rejected);
  ASSERT_TRUE(rejected);
  EXPECT_NE(nlohmann::json::parse(rejected->payload_json)["reason"].get<std::string>().find("capacity"), std::string::npos);
  EXPECT_EQ(server.runtime().sessions().count(), 1u);
  first.close();
}

TEST(TwilioServer, WrongPathIsNotFound) {
  Server server;
  TestCaller caller;
  const std::string url = "ws://127.0.0.1:" + std::to_string(server.listener().port()) + "/elsewhere";
  EXPECT_EQ(caller.connect(url), 404);
}

TEST(TwilioServer, DrainHangsUpCallsAfterTheDeadline) {
  Server server;
  TestCaller caller;
  ASSERT_TRUE(start_call(server, caller));
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(server.listener().drain(300ms), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms);
  auto stopped = server.wait_for(core::EventType::session_stopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(nlohmann::json::parse(stopped->payload_json)["reason"].get<std::string>().find("shutting down"), std::string::npos);
  TestCaller late;
  EXPECT_THROW(late.connect(server.url(), {}, 1s), parley::Error);  // no longer accepting
}

}  // namespace
}  // namespace parley::twilio::testing
