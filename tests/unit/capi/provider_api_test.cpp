// Host-implemented providers through the C ABI: requests as events and through callbacks,
// answers by id, and speak() using a host voice on a host-transport session.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>
#include <vector>

#include "parley/parley.h"
#include "runtime_handle.hpp"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::string last_message() {
  const parley_error *error = parley_error_last();
  return error == nullptr ? "" : error->message;
}

struct Runtime {
  Runtime() { EXPECT_EQ(parley_runtime_create(&handle, R"({"log":{"sink":"none"}})"), PARLEY_OK); }
  ~Runtime() { parley_runtime_destroy(handle); }
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
  for (size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  }
  return s;
}

TEST(ProviderApi, HostVoiceAnsweredFromEventsIsHeardThroughSpeak) {
  Runtime rt;
  ASSERT_EQ(parley_provider_register(rt.handle, "tts", "tone-voice", R"({"sample_rate":16000})", nullptr, nullptr), PARLEY_OK);
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_create_host(&session, rt.handle, R"({"behaviour":"host","output_rate":16000})"), PARLEY_OK);
  char *mark = nullptr;
  ASSERT_EQ(parley_session_speak(&mark, session, "Your appointment is booked.", R"({"tts":{"provider":"tone-voice"},"mark":"booked"})"),
            PARLEY_OK)
      << last_message();
  EXPECT_STREQ(mark, "booked");
  parley_string_free(mark);

  parley_event *request = rt.next(PARLEY_EVENT_PROVIDER_REQUEST);
  ASSERT_NE(request, nullptr);
  const json payload = json::parse(parley_event_payload(request));
  EXPECT_EQ(payload["op"], "synthesize");
  EXPECT_EQ(payload["kind"], "tts");
  EXPECT_EQ(payload["provider"], "tone-voice");
  EXPECT_EQ(payload["text"], "Your appointment is booked.");
  EXPECT_STREQ(parley_event_session_id(request), parley_session_id(session));
  const uint64_t id = payload["request"];
  parley_event_release(request);

  const auto audio = tone(440, 16000, 0.3);
  ASSERT_EQ(parley_provider_push_audio(rt.handle, id, audio.data(), audio.size()), PARLEY_OK);
  ASSERT_EQ(parley_provider_complete(rt.handle, id, PARLEY_OK, nullptr), PARLEY_OK);
  EXPECT_EQ(parley_provider_push_audio(rt.handle, id, audio.data(), audio.size()), PARLEY_ENOTFOUND) << "finished";

  // The voice reaches the caller side (the host transport's agent audio), then the mark.
  size_t heard = 0;
  int64_t energy = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool marked = false;
  while (!marked && std::chrono::steady_clock::now() < deadline) {
    parley_event *event = nullptr;
    if (parley_runtime_poll_event(&event, rt.handle, 20) != PARLEY_OK) continue;
    if (parley_event_type_of(event) == PARLEY_EVENT_AUDIO) {
      const int16_t *samples = nullptr;
      size_t count = 0;
      int rate = 0;
      parley_event_audio(&samples, &count, &rate, event);
      heard += count;
      for (size_t i = 0; i < count; ++i) energy += std::abs(samples[i]);
    } else if (parley_event_type_of(event) == PARLEY_EVENT_AUDIO_MARK) {
      EXPECT_EQ(json::parse(parley_event_payload(event))["name"], "booked");
      marked = true;
    }
    parley_event_release(event);
  }
  EXPECT_TRUE(marked);
  EXPECT_GE(heard, audio.size());
  EXPECT_GT(energy / static_cast<int64_t>(std::max<size_t>(heard, 1)), 1000) << "the tone, not silence";
  parley_session_destroy(session);
}

TEST(ProviderApi, HostVoiceFailureBecomesASessionErrorEvent) {
  Runtime rt;
  ASSERT_EQ(parley_provider_register(rt.handle, "tts", "flaky", nullptr, nullptr, nullptr), PARLEY_OK);
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_create_host(&session, rt.handle, R"({"behaviour":"host"})"), PARLEY_OK);
  ASSERT_EQ(parley_session_speak(nullptr, session, "hi", R"({"tts":{"provider":"flaky"}})"), PARLEY_OK);
  parley_event *request = rt.next(PARLEY_EVENT_PROVIDER_REQUEST);
  ASSERT_NE(request, nullptr);
  const uint64_t id = json::parse(parley_event_payload(request))["request"];
  parley_event_release(request);
  ASSERT_EQ(parley_provider_complete(rt.handle, id, PARLEY_EPROVIDER, "voice server is down"), PARLEY_OK);
  parley_event *error = rt.next(PARLEY_EVENT_SESSION_ERROR);
  ASSERT_NE(error, nullptr);
  const json payload = json::parse(parley_event_payload(error));
  EXPECT_EQ(payload["error"]["provider"], "flaky");
  EXPECT_EQ(payload["error"]["message"], "voice server is down");
  parley_event_release(error);
  parley_session_destroy(session);
}

// A callback-mode LLM: the engine calls on_request on its own thread; the "host" answers
// from that thread (allowed: answers are accepted from any thread).
struct EchoModel {
  parley_runtime *runtime = nullptr;
  std::mutex mutex;
  std::vector<std::string> payloads;
  std::atomic<int> released{0};

  static void on_request(uint64_t request, const char *, const char *payload_json, const int16_t *, size_t, void *user) {
    auto *self = static_cast<EchoModel *>(user);
    const json payload = json::parse(payload_json);
    {
      std::lock_guard lock(self->mutex);
      self->payloads.push_back(payload_json);
    }
    if (payload["op"] != "complete") return;
    const std::string said = payload["messages"].back()["content"];
    parley_provider_push_text(self->runtime, request, "You said: ");
    parley_provider_push_text(self->runtime, request, said.c_str());
    parley_provider_push_tool_call(self->runtime, request, 0, "call_1", "hang_up", "{\"reason\":");
    parley_provider_push_tool_call(self->runtime, request, 0, nullptr, nullptr, "\"done\"}");
    parley_provider_complete(self->runtime, request, PARLEY_OK, R"({"usage":{"prompt_tokens":5,"completion_tokens":4}})");
  }
  static void on_release(void *user) { ++static_cast<EchoModel *>(user)->released; }
};

TEST(ProviderApi, CallbackModeLlmStreamsTextAndToolCallsToTheEngine) {
  EchoModel model;
  {
    Runtime rt;
    model.runtime = rt.handle;
    parley_provider_callbacks callbacks{};
    callbacks.size = sizeof callbacks;
    callbacks.version = PARLEY_PROVIDER_CALLBACKS_VERSION;
    callbacks.on_request = &EchoModel::on_request;
    callbacks.on_release = &EchoModel::on_release;
    ASSERT_EQ(parley_provider_register(rt.handle, "llm", "echo-model", nullptr, &callbacks, &model), PARLEY_OK);

    // The engine side, as the agent loop will use it.
    boost::asio::io_context io;
    auto context = parley::providers::make_context(rt.handle->engine, io.get_executor());
    auto llm = rt.handle->providers.make_llm(json{{"provider", "echo-model"}}, context);
    parley::providers::LlmRequest request;
    request.messages.push_back({"user", "book me in", {}, {}});
    std::string streamed;
    std::optional<parley::providers::LlmResult> result;
    parley::providers::LlmCallbacks cb;
    cb.on_text = [&](std::string_view t) { streamed += t; };
    cb.on_done = [&](parley::providers::LlmResult r) { result = std::move(r); };
    cb.on_error = [&](parley::providers::ProviderError e) { ADD_FAILURE() << e.message; };
    auto call = llm->stream(request, cb);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!result && std::chrono::steady_clock::now() < deadline) {
      if (io.stopped()) io.restart();
      io.run_for(10ms);
    }
    ASSERT_TRUE(result);
    EXPECT_EQ(streamed, "You said: book me in");
    EXPECT_EQ(result->text, streamed);
    ASSERT_EQ(result->tool_calls.size(), 1u);
    EXPECT_EQ(result->tool_calls[0].name, "hang_up");
    EXPECT_EQ(result->tool_calls[0].arguments, R"({"reason":"done"})");
    EXPECT_EQ(result->finish_reason, "tool_calls");
    ASSERT_TRUE(result->usage);
    EXPECT_EQ(result->usage->completion_tokens, 4);
    EXPECT_TRUE(result->time_to_first_token);
    EXPECT_EQ(model.released, 0);
  }
  EXPECT_EQ(model.released, 1) << "on_release once the runtime is gone";
}

TEST(ProviderApi, BadRegistrationsAndAnswersAreClearErrors) {
  Runtime rt;
  EXPECT_EQ(parley_provider_register(rt.handle, "vision", "x", nullptr, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_NE(last_message().find("\"llm\", \"tts\" or \"stt\""), std::string::npos) << last_message();
  EXPECT_EQ(parley_provider_register(rt.handle, "tts", "", nullptr, nullptr, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_provider_register(rt.handle, "tts", "x", R"({"sample_rate":3})", nullptr, nullptr), PARLEY_ECONFIG);
  EXPECT_NE(last_message().find("$.sample_rate"), std::string::npos) << last_message();
  parley_provider_callbacks old{};
  old.size = 8;
  old.version = 99;
  EXPECT_EQ(parley_provider_register(rt.handle, "tts", "x", nullptr, &old, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_provider_register(nullptr, "tts", "x", nullptr, nullptr, nullptr), PARLEY_EINVAL);

  EXPECT_EQ(parley_provider_push_text(rt.handle, 12345, "hi"), PARLEY_ENOTFOUND);
  EXPECT_NE(last_message().find("request 12345"), std::string::npos) << last_message();
  EXPECT_EQ(parley_provider_push_text(rt.handle, 1, nullptr), PARLEY_EINVAL);
  EXPECT_EQ(parley_provider_push_audio(rt.handle, 1, nullptr, 5), PARLEY_EINVAL);
  EXPECT_EQ(parley_provider_complete(nullptr, 1, PARLEY_OK, nullptr), PARLEY_EINVAL);

  // An answer of the wrong kind: text to a TTS request.
  ASSERT_EQ(parley_provider_register(rt.handle, "tts", "voice", nullptr, nullptr, nullptr), PARLEY_OK);
  parley_session *session = nullptr;
  ASSERT_EQ(parley_session_create_host(&session, rt.handle, R"({"behaviour":"host"})"), PARLEY_OK);
  ASSERT_EQ(parley_session_speak(nullptr, session, "hi", R"({"tts":{"provider":"voice"}})"), PARLEY_OK);
  parley_event *request = rt.next(PARLEY_EVENT_PROVIDER_REQUEST);
  ASSERT_NE(request, nullptr);
  const uint64_t id = json::parse(parley_event_payload(request))["request"];
  parley_event_release(request);
  EXPECT_EQ(parley_provider_push_text(rt.handle, id, "words"), PARLEY_EINVAL);
  EXPECT_NE(last_message().find("is a tts request, not llm"), std::string::npos) << last_message();

  EXPECT_EQ(parley_session_speak(nullptr, session, "hi", R"({"tts":{"provider":"nobody"}})"), PARLEY_ENOTFOUND);
  EXPECT_NE(last_message().find("no TTS provider named \"nobody\""), std::string::npos) << last_message();
  EXPECT_EQ(parley_session_speak(nullptr, session, "hi", R"({"voice":"x"})"), PARLEY_ECONFIG);
  EXPECT_EQ(parley_session_speak(nullptr, session, nullptr, nullptr), PARLEY_EINVAL);
  parley_session_destroy(session);
}

}  // namespace
