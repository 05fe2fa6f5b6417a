// The agent's config: defaults, and every bad value named by its JSON path — both by the
// parser and through the C ABI, where a listener with a bad agent config does not start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "parley/parley.h"
#include "pipeline/agent_config.hpp"

namespace parley::pipeline {
namespace {

using ::testing::HasSubstr;

std::string parse_error(const nlohmann::json &json) {
  try {
    AgentConfig::parse(json, "twilio listener config", "$.agent");
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), Status::config);
    return e.what();
  }
  return "";
}

TEST(AgentConfig, DefaultsAreTheLocalEnginesAndTheIssueFigures) {
  const auto config = AgentConfig::parse(nlohmann::json::object(), "agent", "$");
  EXPECT_EQ(config.stt["provider"], "pocketsphinx");
  EXPECT_EQ(config.llm["provider"], "scripted");
  EXPECT_EQ(config.tts["provider"], "espeak");
  EXPECT_EQ(config.vad.start_window.count(), 200);
  EXPECT_EQ(config.vad.stop_window.count(), 800);
  EXPECT_EQ(config.endpointing.min_silence.count(), 300);
  EXPECT_EQ(config.endpointing.max_silence.count(), 1500);
  EXPECT_EQ(config.chunker.min_chars, 24u);
  EXPECT_EQ(config.chunker.max_chars, 120u);
  EXPECT_EQ(config.chunker.max_wait.count(), 350);
  EXPECT_EQ(config.builtin_tools, std::vector<std::string>{"hang_up"});
}

TEST(AgentConfig, ReadsToolsAndKnobs) {
  const auto config = AgentConfig::parse(
      {{"tools", {{{"name", "lookup_order"}, {"description", "Finds an order"},
                   {"parameters", {{"type", "object"}, {"properties", {{"id", {{"type", "string"}}}}}}},
                   {"timeout_ms", 1500}, {"fallback", "One moment."}}}},
       {"interruption", {{"min_words", 2}, {"backchannels", {"yeah", "uh-huh"}}}},
       {"idle", {{"reprompt_after_ms", 7000}, {"max_reprompts", 1}}},
       {"max_call_duration_ms", 600000}},
      "agent", "$");
  ASSERT_EQ(config.tools.size(), 1u);
  EXPECT_EQ(config.tools[0].spec.name, "lookup_order");
  EXPECT_THAT(config.tools[0].spec.parameters_json, HasSubstr("\"id\""));
  EXPECT_EQ(config.tools[0].timeout.count(), 1500);
  EXPECT_EQ(config.tools[0].fallback, "One moment.");
  EXPECT_EQ(config.interruption.min_words, 2);
  EXPECT_EQ(config.interruption.backchannels.size(), 2u);
  EXPECT_EQ(config.idle.reprompt_after.count(), 7000);
  EXPECT_EQ(config.max_call_duration.count(), 600000);
}

TEST(AgentConfig, BadValuesAreNamedByTheirPath) {
  const struct {
    nlohmann::json config;
    const char *expected;
  } cases[] = {
      {{{"llm", "scripted"}}, "$.agent.llm: expected an object"},
      {{{"greting", "hi"}}, "$.agent.greting"},
      {{{"greeting", "Hi"}, {"greet_from_llm", true}}, "$.agent.greeting: give greeting or greet_from_llm"},
      {{{"tools", {{{"description", "no name"}}}}}, "$.agent.tools[0].name: required"},
      {{{"tools", {{{"name", "bad name!"}}}}}, "$.agent.tools[0].name"},
      {{{"tools", {{{"name", "x"}, {"parameters", "string"}}}}}, "$.agent.tools[0].parameters"},
      {{{"tools", {{{"name", "hang_up"}}}}}, "'hang_up' is a built-in tool"},
      {{{"tools", {{"name", "x"}}}}, "$.agent.tools"},
      {{{"builtin_tools", {"fly"}}}, "unknown built-in tool 'fly'"},
      {{{"endpointing", {{"min_silence_ms", 2000}, {"max_silence_ms", 1000}}}}, "$.agent.endpointing.min_silence_ms"},
      {{{"chunker", {{"min_chars", 200}, {"max_chars", 100}}}}, "$.agent.chunker.min_chars"},
      {{{"vad", {{"threshold", 1.5}}}}, "$.agent.vad.threshold"},
      {{{"interruption", {{"backchannels", "yeah"}}}}, "$.agent.interruption.backchannels: expected an array"},
      {{{"interruption", {{"min_words", -1}}}}, "$.agent.interruption.min_words"},
      {{{"idle", {{"reprompt_after_ms", "soon"}}}}, "$.agent.idle.reprompt_after_ms"},
      {{{"budget", 5}}, "$.agent.budget"},
  };
  for (const auto &c : cases) EXPECT_THAT(parse_error(c.config), HasSubstr(c.expected)) << c.config.dump();
}

TEST(AgentConfig, AListenerWithABadAgentDoesNotStart) {
  parley_runtime *runtime = nullptr;
  ASSERT_EQ(parley_runtime_create(&runtime, R"({"log":{"level":"off"}})"), PARLEY_OK);
  const struct {
    nlohmann::json agent;
    const char *expected;
  } cases[] = {
      {{{"llm", {{"provider", "nonesuch"}}}}, "nonesuch"},
      {{{"llm", {{"provider", "scripted"}, {"flow", "/no/such/flow.json"}}}}, "/no/such/flow.json"},
      {{{"stt", {{"provider", "pocketsphinx"}, {"grammar", "/no/such.jsgf"}}}}, "/no/such.jsgf"},
      {{{"llm", {{"provider", "scripted"}, {"flow", PARLEY_EXAMPLES_DIR "/flows/appointment.json"}}},
        {"tts", {{"provider", "espeak"}, {"colour", "blue"}}}},
       "$.agent.tts.colour"},
  };
  for (const auto &c : cases) {
    nlohmann::json listener{{"transport", "twilio"}, {"port", 0}, {"behaviour", "agent"}, {"agent", c.agent}};
    parley_listener *out = nullptr;
    EXPECT_NE(parley_listener_start(&out, runtime, listener.dump().c_str()), PARLEY_OK) << c.agent.dump();
    EXPECT_EQ(out, nullptr);
    const parley_error *error = parley_error_last();
    ASSERT_NE(error, nullptr);
    EXPECT_THAT(error->message, HasSubstr(c.expected)) << c.agent.dump();
  }
  nlohmann::json unknown{{"transport", "twilio"}, {"port", 0}, {"behaviour", "robot"}};
  parley_listener *out = nullptr;
  EXPECT_EQ(parley_listener_start(&out, runtime, unknown.dump().c_str()), PARLEY_ECONFIG);
  EXPECT_THAT(parley_error_last()->message, HasSubstr("$.behaviour: unknown behaviour 'robot' (known: host, echo, agent)"));
  parley_runtime_destroy(runtime);
}

}  // namespace
}  // namespace parley::pipeline
