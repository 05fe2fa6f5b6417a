// The agent over the Twilio transport with the cloud fakes at fixed delays: Deepgram live for
// STT, an OpenAI-compatible model (first token after 300 ms), Deepgram Aura for the voice
// (first byte after 100 ms). A simulated Twilio caller (the load generator's) speaks real
// espeak-ng speech on a fixed timeline and echoes marks as it plays them. Each test asserts
// the exact story of events the host sees: a normal turn, a barge-in, a false interruption
// and a tool call answered by the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "audio/g711.hpp"
#include "audio/resampler.hpp"
#include "event_log.hpp"
#include "fakes/deepgram_fake.hpp"
#include "fakes/openai_fake.hpp"
#include "speech.hpp"
#include "transports/twilio/caller.hpp"

namespace parley::agent_testing {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char *kKey = "test-key-not-secret";

// A caller's 8 kHz μ-law audio: silence with speech placed at given offsets.
class Timeline {
 public:
  explicit Timeline(std::chrono::milliseconds length) : pcm_(static_cast<size_t>(length.count()) * 8, 0) {}

  Timeline &at(std::chrono::milliseconds offset, const std::string &text) {
    const auto speech16 = speech(text);
    audio::Resampler down(16000, 8000);
    std::vector<int16_t> speech8(down.max_output(speech16.size()));
    speech8.resize(down.process(speech16, speech8));
    const size_t start = static_cast<size_t>(offset.count()) * 8;
    for (size_t i = 0; i < speech8.size() && start + i < pcm_.size(); ++i) pcm_[start + i] = speech8[i];
    return *this;
  }

  std::shared_ptr<const std::vector<uint8_t>> ulaw() const {
    std::vector<uint8_t> out(pcm_.size());
    audio::ulaw_encode(pcm_, out);
    return std::make_shared<const std::vector<uint8_t>>(std::move(out));
  }
  std::chrono::milliseconds length() const { return std::chrono::milliseconds(pcm_.size() / 8); }

 private:
  std::vector<int16_t> pcm_;
};

class TwilioAgent : public ::testing::Test {
 protected:
  TwilioAgent() {
    llm_.set_api_key(kKey);
    speech_.set_api_key(kKey);
    llm_.server().delay_next_head(300ms, 1000);     // the model's time to first token
    speech_.server().delay_next_head(100ms, 1000);  // the voice's first byte (and the STT's 101)
    speech_.set_stt_timing({20s, 250ms, 100ms});    // finals come from the agent's Finalize
  }

  ~TwilioAgent() override {
    if (listener_ != nullptr) parley_listener_destroy(listener_);
    if (runtime_ != nullptr) parley_runtime_destroy(runtime_);
  }

  nlohmann::json agent_config(nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json agent{
        {"stt", {{"provider", "deepgram"}, {"base_url", speech_.base_url()}, {"api_key", kKey}}},
        {"llm", {{"provider", "openai"}, {"base_url", llm_.base_url()}, {"api_key", kKey}, {"model", "fake-model"}}},
        {"tts", {{"provider", "deepgram"}, {"base_url", speech_.base_url()}, {"api_key", kKey}}},
        {"system_prompt", "You are a test."},
        {"interruption", {{"false_interruption_timeout_ms", 1500}}}};
    agent.merge_patch(extra);
    return agent;
  }

  void start(const nlohmann::json &agent) {
    ASSERT_EQ(parley_runtime_create(&runtime_, R"({"io_threads":1,"worker_threads":2,"log":{"level":"warn"}})"), PARLEY_OK);
    const nlohmann::json listener{{"transport", "twilio"}, {"port", 0}, {"behaviour", "agent"}, {"agent", agent}};
    ASSERT_EQ(parley_listener_start(&listener_, runtime_, listener.dump().c_str()), PARLEY_OK) << parley_error_last()->message;
  }

  // Plays `timeline` as one Twilio call; the host side answers tool calls with `tools`.
  twilio::CallerReport call(const Timeline &timeline,
                            std::function<std::string(const nlohmann::json &)> tools = {}) {
    twilio::CallerScript script;
    script.url = "ws://127.0.0.1:" + std::to_string(parley_listener_port(listener_)) + "/twilio";
    script.ulaw = timeline.ulaw();
    script.duration = timeline.length();
    script.drain_timeout = 0ms;
    twilio::CallerFleet fleet({script});
    fleet.start();
    parley_session *session = nullptr;
    while (!fleet.wait_for(0ms) || drain(session, tools, 0)) drain(session, tools, 20);
    drain(session, tools, 1000);  // the stop's last events
    if (session != nullptr) parley_session_destroy(session);
    return fleet.wait().front();
  }

  // Takes the events that arrived within `timeout_ms`; true when there were any.
  bool drain(parley_session *&session, const std::function<std::string(const nlohmann::json &)> &tools, int timeout_ms) {
    bool any = false;
    parley_event *event = nullptr;
    while (parley_runtime_poll_event(&event, runtime_, any ? 0 : timeout_ms) == PARLEY_OK) {
      any = true;
      const int type = parley_event_type_of(event);
      auto payload = nlohmann::json::parse(parley_event_payload(event), nullptr, false);
      if (type == PARLEY_EVENT_SESSION_STARTED) parley_session_open(&session, runtime_, parley_event_session_id(event));
      if (type == PARLEY_EVENT_TOOL_CALL && tools && session != nullptr) {
        const std::string result = tools(payload);
        EXPECT_EQ(parley_session_tool_result(session, payload.value("id", "").c_str(), result.c_str()), PARLEY_OK);
      }
      log_.add(type, std::move(payload));
      parley_event_release(event);
    }
    return any;
  }

  std::vector<nlohmann::json> turns() const {
    std::vector<nlohmann::json> out;
    for (const auto &event : log_.all(PARLEY_EVENT_TURN)) out.push_back(event.payload);
    return out;
  }

  // The messages of the n-th chat request the model received.
  nlohmann::json chat_request(size_t n) {
    std::vector<nlohmann::json> chats;
    for (const auto &request : llm_.server().requests()) {
      if (request.path.find("/chat/completions") != std::string::npos) chats.push_back(nlohmann::json::parse(request.body));
    }
    return n < chats.size() ? chats[n] : nlohmann::json();
  }

  fakes::OpenAiFake llm_;
  fakes::DeepgramFake speech_;
  parley_runtime *runtime_ = nullptr;
  parley_listener *listener_ = nullptr;
  EventLog log_;
};

TEST_F(TwilioAgent, ANormalTurn) {
  speech_.add_transcript("what are your opening hours");
  llm_.queue_reply("We are open from nine to five.");
  start(agent_config());
  const auto report = call(Timeline(7000ms).at(500ms, "what are your opening hours"));
  EXPECT_TRUE(report.connected);
  EXPECT_THAT(log_.story(), ElementsAre("state:listening", "user:final", "state:thinking", "state:speaking",
                                        "agent:final", "turn", "state:listening", "state:idle"));
  const auto turn = turns().at(0);
  EXPECT_EQ(turn["user_text"], "what are your opening hours");
  EXPECT_EQ(turn["agent_text"], "We are open from nine to five.");
  EXPECT_EQ(turn["heard_text"], turn["agent_text"]);
  EXPECT_FALSE(turn["interrupted"].get<bool>());
  const auto &latency = turn["latency_ms"];
  EXPECT_GE(latency["llm_ttft"].get<double>(), 300.0) << "the fake's fixed delay";
  EXPECT_GE(latency["tts_first_byte"].get<double>(), 100.0);
  EXPECT_GE(latency["voice_to_voice"].get<double>(), 400.0);
  EXPECT_GT(report.marks_echoed, 0u) << "the caller played the agent's chunks and echoed their marks";
  // The runtime's counters saw the same call.
  char *stats_text = nullptr;
  ASSERT_EQ(parley_runtime_stats_json(&stats_text, runtime_), PARLEY_OK);
  const auto stats = nlohmann::json::parse(stats_text);
  parley_string_free(stats_text);
  EXPECT_EQ(stats["calls"]["started"], 1);
  EXPECT_EQ(stats["calls"]["ended"], 1);
  EXPECT_EQ(stats["calls"]["active"], 0);
  EXPECT_EQ(stats["agent"]["turns"], 1);
  EXPECT_EQ(stats["agent"]["interruptions"], 0);
  EXPECT_GT(stats["frames"]["caller"].get<int>(), 300) << "7 s of 20 ms frames";
  EXPECT_EQ(stats["latency_ms"]["voice_to_voice"]["count"], 1);
  EXPECT_NEAR(stats["latency_ms"]["voice_to_voice"]["p50"].get<double>(), latency["voice_to_voice"].get<double>(), 1.0);
  // What the model was asked: the system prompt and the caller's words.
  const auto request = chat_request(0);
  ASSERT_TRUE(request.contains("messages"));
  EXPECT_EQ(request["messages"][0]["role"], "system");
  EXPECT_EQ(request["messages"][1]["content"], "what are your opening hours");
}

TEST_F(TwilioAgent, ABargeInKeepsOnlyWhatTheCallerHeard) {
  speech_.add_transcript("tell me about your plans");
  speech_.add_transcript("stop i want the cheapest one");
  // 6 s of agent speech (the fake voice: 50 ms per character), in three sentences.
  llm_.queue_reply("We have three plans for you today. The basic plan costs ten dollars a month. "
                   "The premium plan costs thirty dollars a month.");
  llm_.queue_reply("The basic plan is the cheapest.");
  start(agent_config());
  // The agent starts speaking about 1.5 s after the first line ends; the caller cuts in 2 s later.
  const auto report = call(Timeline(12000ms).at(300ms, "tell me about your plans").at(4500ms, "stop i want the cheapest one"));
  EXPECT_TRUE(report.connected);
  EXPECT_GE(report.clears_received, 1u) << "the agent cleared the caller's buffer";
  EXPECT_THAT(log_.story(),
              ElementsAre("state:listening", "user:final", "state:thinking", "state:speaking", "interruption",
                          "agent:final", "turn:interrupted", "state:listening", "user:final", "state:thinking",
                          "state:speaking", "agent:final", "turn", "state:listening", "state:idle"));
  const auto first = turns().at(0);
  const std::string heard = first["heard_text"];
  EXPECT_TRUE(first["interrupted"].get<bool>());
  EXPECT_FALSE(heard.empty());
  EXPECT_LT(heard.size(), first["agent_text"].get<std::string>().size());
  EXPECT_THAT(first["agent_text"].get<std::string>(), StartsWith(heard));
  const auto interruption = log_.all(PARLEY_EVENT_INTERRUPTION).at(0).payload;
  EXPECT_EQ(interruption["heard_text"], heard);
  // Caller speech start -> clear: the VAD's 200 ms start window and next to nothing more.
  EXPECT_GE(interruption["clear_after_speech_start_ms"].get<int>(), 200);
  // The model's next request carries the truncated reply, not what it had generated.
  const auto second = chat_request(1);
  ASSERT_TRUE(second.contains("messages"));
  const auto &messages = second["messages"];
  ASSERT_GE(messages.size(), 4u);
  EXPECT_EQ(messages[2]["role"], "assistant");
  EXPECT_EQ(messages[2]["content"], heard);
  EXPECT_EQ(messages[3]["content"], "stop i want the cheapest one");
}

TEST_F(TwilioAgent, AFalseInterruptionResumesWhereTheCallerStoppedHearing) {
  speech_.add_transcript("tell me about your plans");
  speech_.add_transcript("");  // the cough: speech to the VAD, no words to the recogniser
  llm_.queue_reply("We have three plans for you today. The basic plan costs ten dollars a month. "
                   "The premium plan costs thirty dollars a month.");
  start(agent_config());
  const auto report = call(Timeline(14000ms).at(300ms, "tell me about your plans").at(4500ms, "ah"));
  EXPECT_TRUE(report.connected);
  EXPECT_THAT(log_.story(), ElementsAre("state:listening", "user:final", "state:thinking", "state:speaking",
                                        "interruption", "agent:final", "turn:interrupted", "state:listening",
                                        "interruption:resumed", "state:speaking", "agent:final", "turn",
                                        "state:listening", "state:idle"));
  const auto all = turns();
  ASSERT_EQ(all.size(), 2u);
  const std::string heard = all[0]["heard_text"];
  const std::string rest = all[1]["agent_text"];
  EXPECT_EQ(all[1]["user_text"], "");
  // Together they are the whole reply: nothing said twice, nothing lost.
  EXPECT_EQ(heard + " " + rest, all[0]["agent_text"].get<std::string>());
  EXPECT_EQ(chat_request(1), nlohmann::json()) << "resuming does not ask the model again";
}

TEST_F(TwilioAgent, AToolCallAnsweredByTheHost) {
  speech_.add_transcript("where is my order");
  fakes::ChatReply first("Let me check.");
  fakes::ToolCall lookup;
  lookup.id = "call_1";
  lookup.name = "lookup_order";
  lookup.arguments = R"({"order":"42"})";
  first.tool_calls.push_back(lookup);
  llm_.queue_reply(first);
  llm_.queue_reply("Your order shipped yesterday.");
  start(agent_config({{"tools", {{{"name", "lookup_order"}, {"description", "Finds an order"}, {"timeout_ms", 3000}}}}}));
  nlohmann::json asked;
  const auto report = call(Timeline(9000ms).at(300ms, "where is my order"), [&](const nlohmann::json &call) {
    asked = call;
    return std::string(R"({"status":"shipped","when":"yesterday"})");
  });
  EXPECT_TRUE(report.connected);
  EXPECT_EQ(asked["name"], "lookup_order");
  EXPECT_EQ(asked["arguments"], nlohmann::json({{"order", "42"}}));
  // The call arrives with the text, before the voice's first byte (100 ms); the host answers at
  // once, and the second round's first token (300 ms) comes while "Let me check." still plays.
  EXPECT_THAT(log_.story(), ElementsAre("state:listening", "user:final", "state:thinking", "tool_call:lookup_order",
                                        "state:speaking", "agent:final", "turn", "state:listening", "state:idle"));
  const auto turn = turns().at(0);
  EXPECT_EQ(turn["agent_text"], "Let me check. Your order shipped yesterday.");
  EXPECT_EQ(turn["tool_calls"].size(), 1u);
  // The model's second request carries the call and the host's answer.
  const auto second = chat_request(1);
  ASSERT_TRUE(second.contains("messages"));
  const auto &messages = second["messages"];
  const auto &tool = messages.back();
  EXPECT_EQ(tool["role"], "tool");
  EXPECT_EQ(tool["tool_call_id"], "call_1");
  EXPECT_THAT(tool["content"].get<std::string>(), HasSubstr("shipped"));
}

}  // namespace
}  // namespace parley::agent_testing

namespace parley::agent_testing {
namespace {

TEST_F(TwilioAgent, AToolThatDoesNotAnswerInTimeGetsTheFallback) {
  speech_.add_transcript("where is my order");
  fakes::ChatReply first("Let me check.");
  fakes::ToolCall lookup;
  lookup.id = "call_1";
  lookup.name = "lookup_order";
  lookup.arguments = "{}";
  first.tool_calls.push_back(lookup);
  llm_.queue_reply(first);
  start(agent_config({{"tools", {{{"name", "lookup_order"}, {"timeout_ms", 2000}, {"fallback", "Sorry, orders are down."}}}}}));
  const auto report = call(Timeline(7000ms).at(300ms, "where is my order"));  // nobody answers the tool
  EXPECT_TRUE(report.connected);
  // "Let me check." (0.65 s of fake voice) plays out well within the 2 s the tool is awaited
  // (thinking again), then the fallback.
  EXPECT_THAT(log_.story(), ElementsAre("state:listening", "user:final", "state:thinking", "tool_call:lookup_order",
                                        "state:speaking", "state:thinking", "state:speaking", "agent:final", "turn",
                                        "state:listening", "state:idle"));
  EXPECT_EQ(turns().at(0)["agent_text"], "Let me check. Sorry, orders are down.");
  EXPECT_EQ(chat_request(1), nlohmann::json()) << "after a timeout the model is not asked again";
  char *stats = nullptr;
  ASSERT_EQ(parley_runtime_stats_json(&stats, runtime_), PARLEY_OK);
  EXPECT_EQ(nlohmann::json::parse(stats)["agent"]["tool_timeouts"], 1);
  parley_string_free(stats);
}

TEST_F(TwilioAgent, ASilentCallerIsPromptedThenHungUpOn) {
  start(agent_config({{"greeting", "Hello, how can I help?"},
                      {"idle", {{"reprompt_after_ms", 800}, {"max_reprompts", 1}, {"reprompt", "Are you there?"},
                                {"goodbye", "Goodbye."}}}}));
  const auto report = call(Timeline(12000ms));  // silence throughout
  EXPECT_TRUE(report.closed_by_server) << "the agent hung up";
  const auto all = turns();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["agent_text"], "Hello, how can I help?");
  EXPECT_EQ(all[1]["agent_text"], "Are you there?");
  EXPECT_EQ(all[2]["agent_text"], "Goodbye.");
  const auto stopped = log_.all(PARLEY_EVENT_SESSION_STOPPED);
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0].payload["reason"], "caller silent");
  EXPECT_EQ(chat_request(0), nlohmann::json()) << "greeting and prompts are said without the model";
}

TEST_F(TwilioAgent, ABackchannelDoesNotInterrupt) {
  speech_.add_transcript("tell me about your plans");
  speech_.add_transcript("okay");
  llm_.queue_reply("We have three plans for you today. The basic plan costs ten dollars a month. "
                   "The premium plan costs thirty dollars a month.");
  start(agent_config({{"interruption", {{"backchannels", {"uh-huh", "okay", "yeah"}}}}}));
  const auto report = call(Timeline(12000ms).at(300ms, "tell me about your plans").at(4500ms, "okay"));
  EXPECT_TRUE(report.connected);
  EXPECT_EQ(report.clears_received, 0u);
  EXPECT_THAT(log_.story(), ElementsAre("state:listening", "user:final", "state:thinking", "state:speaking",
                                        "user:final", "agent:final", "turn", "state:listening", "state:idle"));
  const auto turn = turns().at(0);
  EXPECT_FALSE(turn["interrupted"].get<bool>());
  EXPECT_EQ(turn["heard_text"], turn["agent_text"]);
  EXPECT_EQ(chat_request(1), nlohmann::json()) << "\"okay\" is not a turn of its own";
}

}  // namespace
}  // namespace parley::agent_testing

namespace parley::agent_testing {
namespace {

TEST_F(TwilioAgent, AFailingModelIsReportedAndTheCallerHearsTheFallback) {
  speech_.add_transcript("what are your opening hours");
  llm_.server().clear_faults();  // instead of the fixed delay:
  llm_.server().fail_next(401, {}, 10);  // a bad key, which is not retried
  start(agent_config());
  const auto report = call(Timeline(6000ms).at(300ms, "what are your opening hours"));
  EXPECT_TRUE(report.connected);
  const auto errors = log_.all(PARLEY_EVENT_SESSION_ERROR);
  ASSERT_FALSE(errors.empty()) << ::testing::PrintToString(log_.story());
  EXPECT_EQ(errors[0].payload["code"], "llm");
  EXPECT_EQ(errors[0].payload["error"]["kind"], "auth");
  EXPECT_THAT(errors[0].payload.dump(), ::testing::Not(HasSubstr(kKey))) << "no key in errors";
  const auto turn = turns().at(0);
  EXPECT_EQ(turn["agent_text"], "Sorry, I couldn't do that just now.");
  EXPECT_FALSE(turn["interrupted"].get<bool>());
}

TEST_F(TwilioAgent, TheMaximumCallDurationEndsTheCallPolitely) {
  speech_.add_transcript("tell me about your plans");
  llm_.queue_reply("We have three plans for you today. The basic plan costs ten dollars a month. "
                   "The premium plan costs thirty dollars a month.");
  start(agent_config({{"max_call_duration_ms", 3500}, {"max_duration_message", "Time is up. Goodbye."}}));
  const auto report = call(Timeline(12000ms).at(300ms, "tell me about your plans"));
  EXPECT_TRUE(report.closed_by_server);
  const auto all = turns();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0]["interrupted"].get<bool>()) << "cut by the time limit";
  EXPECT_EQ(all[1]["agent_text"], "Time is up. Goodbye.");
  EXPECT_EQ(log_.all(PARLEY_EVENT_SESSION_STOPPED).at(0).payload["reason"], "maximum call duration");
}

}  // namespace
}  // namespace parley::agent_testing
