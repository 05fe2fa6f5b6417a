// Whole calls with the local engines: espeak-ng speech from the caller, pocketsphinx with the
// appointment grammar, the scripted appointment flow, espeak-ng for the agent's voice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent_call.hpp"
#include "speech.hpp"

namespace parley::agent_testing {
namespace {

using ::testing::HasSubstr;

nlohmann::json local_agent() {
  const std::string examples = PARLEY_EXAMPLES_DIR;
  return {{"stt", {{"provider", "pocketsphinx"}, {"grammar", examples + "/grammars/appointment.jsgf"}}},
          {"llm", {{"provider", "scripted"}, {"flow", examples + "/flows/appointment.json"}}},
          {"tts", {{"provider", "espeak"}}},
          {"greet_from_llm", true},
          {"tools", {{{"name", "book_appointment"}, {"description", "Books the appointment"}, {"timeout_ms", 3000}}}}};
}

TEST(AgentLocal, GreetsThenAnswersWhatTheCallerSaid) {
  AgentCall call(local_agent());
  auto greeting = call.wait_for(PARLEY_EVENT_TURN, 20s);
  ASSERT_TRUE(greeting) << "no greeting turn";
  EXPECT_EQ(greeting->payload["agent_text"], "Thanks for calling Parley Dental. How can I help?");
  EXPECT_EQ(greeting->payload["heard_text"], greeting->payload["agent_text"]);
  EXPECT_FALSE(greeting->payload["interrupted"].get<bool>());

  call.say(speech("i would like to book an appointment"));
  auto turn = call.wait_for(PARLEY_EVENT_TURN, 30s);
  ASSERT_TRUE(turn) << "no answer";
  EXPECT_EQ(turn->payload["user_text"], "i would like to book an appointment");
  EXPECT_THAT(turn->payload["agent_text"].get<std::string>(), HasSubstr("What day would you like to come in?"));
  const auto &latency = turn->payload["latency_ms"];
  EXPECT_TRUE(latency["voice_to_voice"].is_number()) << latency.dump();
  EXPECT_GT(call.heard().size(), 16000u) << "the caller heard at least a second of agent speech";
}

}  // namespace
}  // namespace parley::agent_testing

namespace parley::agent_testing {
namespace {

// A flow whose greeting calls one built-in tool.
nlohmann::json greeting_with_tool(const char *entry, const nlohmann::json &tool_call) {
  const nlohmann::json flow{{"version", 1},
                            {"start", "s"},
                            {"states", {{"s", {{"entry", entry}, {"tool_call", tool_call}, {"end", true}}}}}};
  return {{"stt", {{"provider", "pocketsphinx"}, {"jsgf", "#JSGF V1.0; grammar g; public <g> = yes | no;"}}},
          {"llm", {{"provider", "scripted"}, {"flow_json", flow.dump()}, {"first_token_delay_ms", 10}}},
          {"tts", {{"provider", "espeak"}}},
          {"greet_from_llm", true},
          {"builtin_tools", {"hang_up", "send_dtmf", "transfer"}}};
}

TEST(AgentHostTools, TransferHappensOnceTheLastWordsWereHeard) {
  AgentCall call(greeting_with_tool("Let me put you through to the front desk.",
                                    {{"name", "transfer"}, {"arguments", {{"target", "sip:desk@example.com"}}}}));
  auto transfer = call.wait_for(PARLEY_EVENT_TRANSFER, 20s);
  ASSERT_TRUE(transfer) << "no transfer event";
  EXPECT_EQ(transfer->payload["target"], "sip:desk@example.com");
  // The turn ended (all its audio heard) before the transfer was asked for.
  auto turn = call.log().take(PARLEY_EVENT_TURN);
  ASSERT_TRUE(turn);
  EXPECT_LE(turn->at, transfer->at);
  EXPECT_EQ(turn->payload["agent_text"], "Let me put you through to the front desk.");
  EXPECT_GT(call.heard().size(), 16000u);
}

TEST(AgentHostTools, TonesGoToTheHost) {
  AgentCall call(greeting_with_tool("Dialing the extension.", {{"name", "send_dtmf"}, {"arguments", {{"digits", "12#"}}}}));
  auto dtmf = call.wait_for(PARLEY_EVENT_SEND_DTMF, 20s);
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(dtmf->payload["digits"], "12#");
  auto turn = call.wait_for(PARLEY_EVENT_TURN, 20s);
  ASSERT_TRUE(turn);
  EXPECT_EQ(turn->payload["tool_calls"][0]["name"], "send_dtmf");
}

}  // namespace
}  // namespace parley::agent_testing
