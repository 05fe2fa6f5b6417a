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
