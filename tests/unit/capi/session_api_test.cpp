// Listeners, sessions and the host transport through the C ABI, as a host drives them.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>
#include <vector>

#include "parley/parley.h"
#include "transports/twilio/caller.hpp"

namespace {

using namespace std::chrono_literals;

std::string last_message() {
  const parley_error *error = parley_error_last();
  return error == nullptr ? "" : error->message;
}

struct Runtime {
  Runtime() { EXPECT_EQ(parley_runtime_create(&handle, R"({"log":{"sink":"none"}})"), PARLEY_OK); }
  ~Runtime() { parley_runtime_destroy(handle); }

  // The next event of `type` (others are released); null on timeout. Caller releases.
  parley_event *next(int type, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      parley_event *event = nullptr;
      if (parley_runtime_poll_event(&event, handle, 20) != PARLEY_OK) continue;
      if (parley_event_type_of(event) == type) return event;
      parley_event_release(event);
    }
    return nullptr;
  }
  parley_runtime *handle = nullptr;
};

std::vector<int16_t> tone(double hz, int rate, double seconds) {
  std::vector<int16_t> s(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<int16_t>(6000 * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  return s;
}

TEST(SessionApi, ListenerConfigErrorsNameThePath) {
  Runtime rt;
  struct Case {
    const char *json;
    int status;
    const char *part;
  } cases[] = {
      {R"({})", PARLEY_ECONFIG, "$.transport: required; one of: twilio"},
      {R"({"transport": "sip"})", PARLEY_ECONFIG, "$.transport: unknown transport \"sip\""},
      {R"({"transport": "twilio", "portt": 1})", PARLEY_ECONFIG, "$.portt: unknown key"},
      {R"({"transport": "twilio", "port": "80"})", PARLEY_ECONFIG, "$.port: expected an integer in 0..65535"},
      {R"({"transport": "twilio", "path": "twilio"})", PARLEY_ECONFIG, "$.path: must start with '/'"},
      {R"({"transport": "twilio", "behaviour": "robot"})", PARLEY_ECONFIG, "$.behaviour: unknown behaviour 'robot' (known: host, echo, agent)"},
      {R"({"transport": "twilio", "behaviour": "agent"})", PARLEY_ECONFIG, "$.agent.llm.flow: missing"},
      {R"({"transport": "twilio", "sample_rate": 11025})", PARLEY_ECONFIG, "$.sample_rate: unsupported rate 11025"},
      {R"({"transport": "twilio", "tls": {"certificate": "/nonexistent.pem", "private_key": "/nonexistent.key"}})", PARLEY_ECONFIG,
       "tls: cannot load certificate '/nonexistent.pem'"},
      {R"({"transport": "twilio", "tls": {"certificate": "a.pem"}})", PARLEY_ECONFIG, "$.tls.private_key: required"},
      {R"({"transport": "twilio", "auth_token_env": "PARLEY_TEST_UNSET_VARIABLE"})", PARLEY_ECONFIG,
       "environment variable PARLEY_TEST_UNSET_VARIABLE is not set"},
      {R"({"transport": "twilio", "address": "not-an-ip"})", PARLEY_ECONFIG, "'not-an-ip' is not an IP address"},
      {"[", PARLEY_ECONFIG, "listener config: not valid JSON"},
  };
  for (const auto &c : cases) {
    parley_listener *listener = nullptr;
    EXPECT_EQ(parley_listener_start(&listener, rt.handle, c.json), c.status) << c.json;
    EXPECT_EQ(listener, nullptr);
    EXPECT_NE(last_message().find(c.part), std::string::npos) << c.json << " -> " << last_message();
  }
}

TEST(SessionApi, BusyPortIsAnIoErrorNamingTheAddress) {
  Runtime rt;
  parley_listener *first = nullptr;
  ASSERT_EQ(parley_listener_start(&first, rt.handle, R"({"transport":"twilio","port":0})"), PARLEY_OK);
  const std::string config = R"({"transport":"twilio","port":)" + std::to_string(parley_listener_port(first)) + "}";
  parley_listener *second = nullptr;
  EXPECT_EQ(parley_listener_start(&second, rt.handle, config.c_str()), PARLEY_EIO);
  EXPECT_NE(last_message().find("cannot listen on 127.0.0.1:"), std::string::npos) << last_message();
  parley_listener_destroy(first);
}

TEST(SessionApi, TwilioCallDrivenFromC) {
  Runtime rt;
  parley_listener *listener = nullptr;
  ASSERT_EQ(parley_listener_start(&listener, rt.handle, R"({"transport":"twilio","port":0,"behaviour":"host"})"), PARLEY_OK);
  EXPECT_GT(parley_listener_port(listener), 0);
  EXPECT_NE(std::string(parley_listener_id(listener)), "");

  parley::twilio::TestCaller caller;
  ASSERT_EQ(caller.connect("ws://127.0.0.1:" + std::to_string(parley_listener_port(listener)) + "/twilio"), 101);
  caller.send_text(parley::twilio::TwilioMessages::connected());
  caller.send_text(caller.twilio().start({{"lang", "en"}}));
  parley_event *started = rt.next(PARLEY_EVENT_SESSION_STARTED);
  ASSERT_NE(started, nullptr);
  const auto info = nlohmann::json::parse(parley_event_payload(started));
  EXPECT_EQ(info["call_id"], caller.twilio().call_sid());
  EXPECT_EQ(info["custom_parameters"]["lang"], "en");
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_open(&session, rt.handle, parley_event_session_id(started)), PARLEY_OK);
  parley_event_release(started);
  EXPECT_EQ(parley_session_get_state(session), PARLEY_SESSION_ACTIVE);

  const auto audio = tone(800, 24000, 0.3);
  ASSERT_EQ(parley_session_play(session, audio.data(), audio.size(), 24000), PARLEY_OK);
  ASSERT_EQ(parley_session_send_mark(session, "greeting"), PARLEY_OK);
  bool saw_mark = false;
  size_t media = 0;
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!saw_mark && std::chrono::steady_clock::now() < deadline) {
    auto text = caller.read_text(100ms);
    if (!text) continue;
    const auto m = nlohmann::json::parse(*text);
    media += m["event"] == "media";
    saw_mark |= m["event"] == "mark" && m["mark"]["name"] == "greeting";
  }
  ASSERT_TRUE(saw_mark);
  EXPECT_GE(media, 14u);  // 300 ms of audio
  int outcome = -1;
  EXPECT_EQ(parley_session_wait_mark(&outcome, session, "greeting", 0), PARLEY_OK);
  EXPECT_EQ(outcome, PARLEY_MARK_TIMEOUT);
  caller.send_text(caller.twilio().mark("greeting"));
  EXPECT_EQ(parley_session_wait_mark(&outcome, session, "greeting", 2000), PARLEY_OK);
  EXPECT_EQ(outcome, PARLEY_MARK_PLAYED);

  caller.send_text(caller.twilio().dtmf('#'));
  parley_event *dtmf = rt.next(PARLEY_EVENT_DTMF);
  ASSERT_NE(dtmf, nullptr);
  EXPECT_EQ(nlohmann::json::parse(parley_event_payload(dtmf))["digit"], "#");
  parley_event_release(dtmf);

  EXPECT_EQ(parley_session_clear(session), PARLEY_OK);
  EXPECT_EQ(parley_session_hang_up(session, "done"), PARLEY_OK);
  parley_event *stopped = rt.next(PARLEY_EVENT_SESSION_STOPPED);
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(nlohmann::json::parse(parley_event_payload(stopped))["reason"], "done");
  parley_event_release(stopped);
  EXPECT_EQ(parley_session_get_state(session), PARLEY_SESSION_CLOSED);
  EXPECT_EQ(parley_session_play(session, audio.data(), audio.size(), 24000), PARLEY_ESTATE);
  EXPECT_EQ(parley_session_close(session), PARLEY_OK);  // idempotent
  parley_session_destroy(session);

  parley_session *gone = nullptr;
  EXPECT_EQ(parley_session_open(&gone, rt.handle, "S-no-such-session"), PARLEY_ENOTFOUND);
  size_t hung_up = 99;
  EXPECT_EQ(parley_listener_stop(&hung_up, listener, 1000), PARLEY_OK);
  EXPECT_EQ(hung_up, 0u);
  parley_listener_destroy(listener);
}

TEST(SessionApi, HostTransportRoundTrip) {
  Runtime rt;
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_create_host(&session, rt.handle,
                                       R"({"behaviour":"echo","sample_rate":16000,"output_rate":8000,"call_id":"pbx-42","custom_parameters":{"queue":"sales"}})"),
            PARLEY_OK);
  parley_event *started = rt.next(PARLEY_EVENT_SESSION_STARTED);
  ASSERT_NE(started, nullptr);
  const auto info = nlohmann::json::parse(parley_event_payload(started));
  EXPECT_EQ(info["transport"], "host");
  EXPECT_EQ(info["call_id"], "pbx-42");
  EXPECT_EQ(info["custom_parameters"]["queue"], "sales");
  parley_event_release(started);

  // Caller audio as μ-law 8 kHz, as a SIP stack would have it; the echo comes back as
  // agent audio events at the output rate.
  std::vector<uint8_t> ulaw(160, 0xFF);
  for (int frame = 0; frame < 60; ++frame) ASSERT_EQ(parley_session_push_g711(session, ulaw.data(), ulaw.size(), PARLEY_G711_ULAW, 8000), PARLEY_OK);
  const auto pcm = tone(500, 16000, 0.02);
  ASSERT_EQ(parley_session_push_audio(session, pcm.data(), pcm.size(), 16000), PARLEY_OK);
  parley_event *audio = rt.next(PARLEY_EVENT_AUDIO);
  ASSERT_NE(audio, nullptr);
  const int16_t *samples = nullptr;
  size_t count = 0;
  int rate = 0;
  EXPECT_GT(parley_event_audio(&samples, &count, &rate, audio), 0u);
  EXPECT_EQ(rate, 8000);
  EXPECT_NE(samples, nullptr);
  parley_event_release(audio);

  // The echo marks each second of audio; the host confirms playback.
  parley_event *mark = rt.next(PARLEY_EVENT_AUDIO_MARK, 3s);
  ASSERT_NE(mark, nullptr);
  const std::string name = nlohmann::json::parse(parley_event_payload(mark))["name"];
  parley_event_release(mark);
  ASSERT_EQ(parley_session_push_mark_played(session, name.c_str()), PARLEY_OK);
  int outcome = -1;
  ASSERT_EQ(parley_session_wait_mark(&outcome, session, name.c_str(), 2000), PARLEY_OK);
  EXPECT_EQ(outcome, PARLEY_MARK_PLAYED);

  ASSERT_EQ(parley_session_push_dtmf(session, "5"), PARLEY_OK);
  parley_event *dtmf = rt.next(PARLEY_EVENT_DTMF);
  ASSERT_NE(dtmf, nullptr);
  parley_event_release(dtmf);
  ASSERT_EQ(parley_session_clear(session), PARLEY_OK);
  parley_event *clear = rt.next(PARLEY_EVENT_AUDIO_CLEAR);
  ASSERT_NE(clear, nullptr);
  parley_event_release(clear);

  // Bad input through the host transport.
  EXPECT_EQ(parley_session_push_dtmf(session, "55"), PARLEY_EINVAL);
  EXPECT_NE(last_message().find("'55' is not a DTMF digit"), std::string::npos);
  EXPECT_EQ(parley_session_push_g711(session, ulaw.data(), ulaw.size(), 7, 8000), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_push_audio(session, pcm.data(), pcm.size(), 11025), PARLEY_EUNSUPPORTED);
  EXPECT_EQ(parley_session_push_audio(session, nullptr, 10, 16000), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_play(session, pcm.data(), pcm.size(), 12345), PARLEY_EUNSUPPORTED);
  EXPECT_EQ(parley_session_send_mark(session, ""), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_wait_mark(&outcome, session, "x", -5), PARLEY_EINVAL);

  parley_session_destroy(session);  // closes the host session
  parley_event *stopped = rt.next(PARLEY_EVENT_SESSION_STOPPED);
  ASSERT_NE(stopped, nullptr);
  parley_event_release(stopped);
}

TEST(SessionApi, HostThatDoesNotReleaseAudioEventsLosesFramesCounted) {
  Runtime rt;
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_create_host(&session, rt.handle, R"({"behaviour":"echo","max_audio_events_in_flight":3})"), PARLEY_OK);
  parley_event *started = rt.next(PARLEY_EVENT_SESSION_STARTED);
  ASSERT_NE(started, nullptr);
  parley_event_release(started);
  // Hold on to the agent audio events without releasing them: only 3 may be in flight.
  std::vector<parley_event *> held;
  const auto pcm = tone(300, 16000, 0.02);
  for (int frame = 0; frame < 10; ++frame) ASSERT_EQ(parley_session_push_audio(session, pcm.data(), pcm.size(), 16000), PARLEY_OK);
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < deadline) {
    parley_event *event = nullptr;
    if (parley_runtime_poll_event(&event, rt.handle, 20) != PARLEY_OK) continue;
    if (parley_event_type_of(event) == PARLEY_EVENT_AUDIO) {
      held.push_back(event);
    } else {
      parley_event_release(event);
    }
  }
  EXPECT_EQ(held.size(), 3u);
  ASSERT_EQ(parley_session_close(session), PARLEY_OK);
  parley_event *stopped = rt.next(PARLEY_EVENT_SESSION_STOPPED);
  ASSERT_NE(stopped, nullptr);
  EXPECT_GE(nlohmann::json::parse(parley_event_payload(stopped))["audio_events_dropped"].get<int>(), 5);
  parley_event_release(stopped);
  for (auto *event : held) parley_event_release(event);
  parley_session_destroy(session);
}

TEST(SessionApi, HostConfigErrorsAndNonHostPushes) {
  Runtime rt;
  parley_session *session = nullptr;
  EXPECT_EQ(parley_session_create_host(&session, rt.handle, R"({"output_rate": 11025})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.output_rate: unsupported rate 11025"), std::string::npos) << last_message();
  EXPECT_EQ(parley_session_create_host(&session, rt.handle, R"({"custom_parameters": {"n": 5}})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.custom_parameters.n: expected a string"), std::string::npos) << last_message();
  EXPECT_EQ(parley_session_create_host(&session, rt.handle, R"({"behavior": "echo"})"), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.behavior: unknown key"), std::string::npos) << last_message();
  EXPECT_EQ(session, nullptr);

  ASSERT_EQ(parley_session_create_host(&session, rt.handle, nullptr), PARLEY_OK);
  parley_event *started = rt.next(PARLEY_EVENT_SESSION_STARTED);
  ASSERT_NE(started, nullptr);
  parley_session *other_handle = nullptr;
  ASSERT_EQ(parley_session_open(&other_handle, rt.handle, parley_event_session_id(started)), PARLEY_OK);
  parley_event_release(started);
  const int16_t sample = 0;
  EXPECT_EQ(parley_session_push_audio(other_handle, &sample, 1, 16000), PARLEY_EINVAL);
  EXPECT_NE(last_message().find("is not a host-transport session created by this handle"), std::string::npos);
  parley_session_destroy(other_handle);  // does not close: it did not create the session
  EXPECT_EQ(parley_session_get_state(session), PARLEY_SESSION_ACTIVE);
  parley_session_destroy(session);
}

TEST(SessionApi, NullArgumentsNeverCrash) {
  Runtime rt;
  parley_session *session = nullptr;
  int outcome = 0;
  const int16_t sample = 0;
  EXPECT_EQ(parley_listener_start(nullptr, rt.handle, "{}"), PARLEY_EINVAL);
  parley_listener *listener = nullptr;
  EXPECT_EQ(parley_listener_start(&listener, nullptr, "{}"), PARLEY_EINVAL);
  EXPECT_EQ(parley_listener_start(&listener, rt.handle, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_listener_stop(nullptr, nullptr, 0), PARLEY_EINVAL);
  EXPECT_EQ(parley_listener_port(nullptr), 0);
  EXPECT_STREQ(parley_listener_id(nullptr), "");
  parley_listener_destroy(nullptr);
  EXPECT_EQ(parley_session_open(nullptr, rt.handle, "x"), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_open(&session, nullptr, "x"), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_open(&session, rt.handle, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_create_host(nullptr, rt.handle, "{}"), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_create_host(&session, nullptr, "{}"), PARLEY_EINVAL);
  EXPECT_STREQ(parley_session_id(nullptr), "");
  EXPECT_EQ(parley_session_get_state(nullptr), PARLEY_SESSION_CLOSED);
  EXPECT_EQ(parley_session_play(nullptr, &sample, 1, 16000), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_send_mark(nullptr, "m"), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_wait_mark(nullptr, nullptr, "m", 0), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_wait_mark(&outcome, nullptr, "m", 0), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_clear(nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_hang_up(nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_start_recording(nullptr, "/tmp/x.wav"), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_stop_recording(nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_close(nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_push_audio(nullptr, &sample, 1, 16000), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_push_g711(nullptr, nullptr, 0, 0, 8000), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_push_dtmf(nullptr, "1"), PARLEY_EINVAL);
  EXPECT_EQ(parley_session_push_mark_played(nullptr, "m"), PARLEY_EINVAL);
  parley_session_destroy(nullptr);
}

TEST(SessionApi, RecordingToAnUnwritablePathIsAnIoError) {
  Runtime rt;
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_create_host(&session, rt.handle, "{}"), PARLEY_OK);
  parley_event *started = rt.next(PARLEY_EVENT_SESSION_STARTED);
  parley_event_release(started);
  EXPECT_EQ(parley_session_start_recording(session, "/dev/null/call.wav"), PARLEY_EIO);
  EXPECT_NE(last_message().find("/dev/null/call.wav"), std::string::npos) << last_message();
  parley_session_destroy(session);
}

}  // namespace
