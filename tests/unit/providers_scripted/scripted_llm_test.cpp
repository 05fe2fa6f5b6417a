// The scripted LLM as the pipeline sees it: built by name from a Registry, streaming text
// and tool-call deltas on the session's executor, paced by a timer, cancellable.
#include "providers/llm/scripted.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "providers/registry.hpp"

namespace parley::providers {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

const std::string kAppointment = PARLEY_FLOW_DIR "/appointment.json";

// Everything a stream reported, in order.
struct Collected {
  std::vector<std::string> text;  // one entry per on_text
  struct Delta {
    int index;
    std::string id, name, arguments;
  };
  std::vector<Delta> deltas;
  std::optional<LlmResult> result;
  std::optional<ProviderError> error;
  int ends = 0;                // on_done + on_error calls
  int after_end = 0;           // callbacks after the stream ended: must stay 0
  std::string joined() const {
    std::string out;
    for (const auto &piece : text) out += piece;
    return out;
  }
};

LlmCallbacks collect(Collected &c) {
  LlmCallbacks callbacks;
  callbacks.on_text = [&c](std::string_view text) {
    if (c.ends) ++c.after_end;
    c.text.emplace_back(text);
  };
  callbacks.on_tool_call_delta = [&c](const ToolCallDelta &d) {
    if (c.ends) ++c.after_end;
    c.deltas.push_back({d.index, std::string(d.id), std::string(d.name), std::string(d.arguments)});
  };
  callbacks.on_done = [&c](LlmResult result) {
    if (c.ends++) ++c.after_end;
    c.result = std::move(result);
  };
  callbacks.on_error = [&c](ProviderError error) {
    if (c.ends++) ++c.after_end;
    c.error = std::move(error);
  };
  return callbacks;
}

class ScriptedLlmTest : public ::testing::Test {
 protected:
  ScriptedLlmTest() { register_scripted(registry_); }

  ProviderContext context() {
    ProviderContext c;
    c.executor = io_.get_executor();
    c.workers = io_.get_executor();
    return c;
  }

  // Fast pacing: the stream still goes token by token through the timer, just quickly.
  std::unique_ptr<Llm> make(json config) {
    config["provider"] = "scripted";
    if (!config.contains("tokens_per_second")) config["tokens_per_second"] = 2000;
    if (!config.contains("first_token_delay_ms")) config["first_token_delay_ms"] = 1;
    return registry_.make_llm(config, context());
  }

  Collected run(Llm &llm, LlmRequest request) {
    Collected c;
    auto handle = llm.stream(std::move(request), collect(c));
    EXPECT_TRUE(c.text.empty() && c.ends == 0) << "a callback ran inside stream()";
    io_.restart();
    io_.run();
    return c;
  }

  // The message the config error names; "" when the config was accepted.
  std::string config_error(json config) {
    try {
      make(std::move(config));
    } catch (const Error &e) {
      EXPECT_EQ(e.status(), Status::config) << e.what();
      return e.what();
    }
    return "";
  }

  boost::asio::io_context io_;
  Registry registry_;
};

LlmRequest request_of(std::vector<ChatMessage> messages) {
  LlmRequest request;
  request.messages = std::move(messages);
  request.tools = {{"book_appointment", "Books the appointment", R"({"type":"object"})"},
                   {"hang_up", "Ends the call", R"({"type":"object"})"}};
  return request;
}

// ---- a whole call ---------------------------------------------------------------------------

struct Step {
  const char *caller;  // nullptr: the request answers the previous step's tool calls
  std::vector<std::string> replies;  // any of these
  const char *tool = nullptr;        // the tool it calls
  const char *arguments = nullptr;
};

TEST_F(ScriptedLlmTest, BooksAnAppointmentThroughStreamedReplies) {
  auto llm = make({{"flow", kAppointment}});
  EXPECT_EQ(llm->name(), "scripted");
  const Step steps[] = {
      {"", {"Thanks for calling Parley Dental. How can I help?"}},
      {"i would like to book an appointment",
       {"Sure, I can help with that. What day would you like to come in?",
        "Of course, let's get you booked in. What day would you like to come in?"}},
      {"tuesday", {"Tuesday, great. What time on Tuesday works for you?"}},
      {"ten a m", {"10:00 AM, got it. And what name should I put the booking under?"}},
      {"my name is john smith", {"Thank you, John Smith. So that's John Smith, on Tuesday at 10:00 AM. Shall I book it?"}},
      {"yes", {"Great, booking that now."}, "book_appointment", R"({"day":"Tuesday","name":"John Smith","time":"10:00 AM"})"},
      {nullptr, {"You're all set, John Smith. We'll see you on Tuesday at 10:00 AM. Goodbye!"}, "hang_up",
       R"({"reason":"appointment booked"})"},
      {nullptr, {""}},
  };
  std::vector<ChatMessage> messages = {{"system", "You are the front desk of Parley Dental.", {}, {}}};
  for (const auto &step : steps) {
    if (step.caller && *step.caller) messages.push_back({"user", step.caller, {}, {}});
    const Collected c = run(*llm, request_of(messages));
    const std::string label = step.caller ? step.caller : "(tool result)";
    ASSERT_TRUE(c.result.has_value()) << label;
    EXPECT_EQ(c.ends, 1);
    EXPECT_EQ(c.after_end, 0);
    EXPECT_THAT(step.replies, ::testing::Contains(c.joined())) << label;
    EXPECT_EQ(c.result->text, c.joined());
    if (!c.joined().empty()) {
      EXPECT_GT(c.text.size(), 3u) << "streamed in tokens, not whole: " << label;
    }
    EXPECT_EQ(c.result->usage->completion_tokens, static_cast<int>(c.text.size() + c.deltas.size()));
    EXPECT_GT(c.result->usage->prompt_tokens, 20);
    if (step.tool) {
      EXPECT_EQ(c.result->finish_reason, "tool_calls") << label;
      ASSERT_EQ(c.result->tool_calls.size(), 1u);
      EXPECT_EQ(c.result->tool_calls[0].name, step.tool);
      EXPECT_EQ(c.result->tool_calls[0].arguments, step.arguments);
      messages.push_back({"assistant", c.result->text, c.result->tool_calls, {}});
      messages.push_back({"tool", R"({"ok":true})", {}, c.result->tool_calls[0].id});
    } else {
      EXPECT_EQ(c.result->finish_reason, "stop") << label;
      EXPECT_TRUE(c.result->tool_calls.empty());
      messages.push_back({"assistant", c.result->text, {}, {}});
    }
  }
  // The slots behind those replies, as the engine holds them at the end of the call.
  std::ifstream file(kAppointment);
  const auto flow = scripted::Flow::parse(json::parse(file));
  const auto turn = flow->respond(messages);
  EXPECT_EQ(turn.state, "booked");
  EXPECT_EQ(turn.slots, (std::map<std::string, std::string>{{"day", "Tuesday"},
                                                             {"time", "10:00 AM"},
                                                             {"name", "John Smith"},
                                                             {"tool_result", R"({"ok":true})"},
                                                             {"tool_result.ok", "true"}}));
}

TEST_F(ScriptedLlmTest, ToolCallStreamsAsDeltasWithSlotArguments) {
  auto llm = make({{"flow", kAppointment}});
  const Collected c = run(*llm, request_of({{"user", "book an appointment", {}, {}},
                                            {"user", "friday", {}, {}},
                                            {"user", "half past two", {}, {}},
                                            {"user", "it's mary jones", {}, {}},
                                            {"user", "yes please", {}, {}}}));
  ASSERT_TRUE(c.result.has_value());
  EXPECT_EQ(c.result->finish_reason, "tool_calls");
  ASSERT_GE(c.deltas.size(), 3u);
  // First the call's id and name, then its arguments piece by piece, all on index 0.
  EXPECT_EQ(c.deltas[0].index, 0);
  EXPECT_EQ(c.deltas[0].name, "book_appointment");
  EXPECT_FALSE(c.deltas[0].id.empty());
  std::string arguments;
  for (size_t i = 1; i < c.deltas.size(); ++i) {
    EXPECT_EQ(c.deltas[i].index, 0);
    EXPECT_TRUE(c.deltas[i].id.empty() && c.deltas[i].name.empty());
    arguments += c.deltas[i].arguments;
  }
  EXPECT_EQ(json::parse(arguments), json({{"day", "Friday"}, {"time", "2:30"}, {"name", "Mary Jones"}}));
  ASSERT_EQ(c.result->tool_calls.size(), 1u);
  EXPECT_EQ(c.result->tool_calls[0].id, c.deltas[0].id);
  EXPECT_EQ(c.result->tool_calls[0].arguments, arguments);
  // The text came before the call.
  EXPECT_EQ(c.joined(), "Great, booking that now.");
}

TEST_F(ScriptedLlmTest, FallbackStreamsTheStatesApology) {
  auto llm = make({{"flow", kAppointment}});
  const Collected c = run(*llm, request_of({{"user", "book an appointment", {}, {}}, {"user", "whenever", {}, {}}}));
  ASSERT_TRUE(c.result.has_value());
  EXPECT_EQ(c.joined(), "Sorry, I didn't catch the day. Which day of the week suits you, Monday to Saturday?");
  EXPECT_EQ(c.result->finish_reason, "stop");
}

TEST_F(ScriptedLlmTest, MaxTokensCutsTheReplyAndTheToolCall) {
  auto llm = make({{"flow", kAppointment}});
  LlmRequest request = request_of({{"user", "book", {}, {}}, {"user", "monday", {}, {}}, {"user", "noon", {}, {}},
                                   {"user", "john smith", {}, {}}, {"user", "yes", {}, {}}});
  request.max_tokens = 3;
  const Collected c = run(*llm, std::move(request));
  ASSERT_TRUE(c.result.has_value());
  EXPECT_EQ(c.result->finish_reason, "length");
  EXPECT_EQ(c.joined(), "Great, booking");
  EXPECT_TRUE(c.deltas.empty());
  EXPECT_TRUE(c.result->tool_calls.empty());
}

// ---- pacing -----------------------------------------------------------------------------------

TEST_F(ScriptedLlmTest, EachTokenArrivesInItsOwnTimerTurn) {
  auto llm = make({{"flow", kAppointment}, {"tokens_per_second", 500}, {"first_token_delay_ms", 20}});
  Collected c;
  auto handle = llm->stream(request_of({}), collect(c));
  EXPECT_TRUE(c.text.empty()) << "nothing is delivered inside stream()";
  size_t handlers = 0;
  size_t handlers_with_a_token = 0;
  size_t handler_of_done = 0;
  while (io_.run_one()) {
    ++handlers;
    const size_t before = handlers_with_a_token;
    if (c.text.size() > handlers_with_a_token) ++handlers_with_a_token;
    EXPECT_EQ(c.text.size(), handlers_with_a_token) << "two tokens in one executor turn";
    if (c.ends && !handler_of_done) {
      handler_of_done = handlers;
      EXPECT_EQ(before, handlers_with_a_token) << "on_done shares a turn with a token";
    }
  }
  ASSERT_TRUE(c.result.has_value());
  EXPECT_EQ(c.joined(), "Thanks for calling Parley Dental. How can I help?");
  EXPECT_EQ(handlers_with_a_token, 11u);  // Thanks| for| calling| Parley| Dental|.| How| can| I| help|?
  EXPECT_EQ(handler_of_done, handlers);
  // A steady_timer never fires early: the first token cannot beat the simulated delay.
  ASSERT_TRUE(c.result->time_to_first_token.has_value());
  EXPECT_GE(*c.result->time_to_first_token, std::chrono::milliseconds(20));
}

TEST_F(ScriptedLlmTest, UnpacedStillStreamsTokenByToken) {
  auto llm = make({{"flow", kAppointment}, {"tokens_per_second", 0}, {"first_token_delay_ms", 0}});
  Collected c;
  auto handle = llm->stream(request_of({}), collect(c));
  size_t turns_with_tokens = 0;
  while (io_.run_one()) {
    if (!c.text.empty() && c.text.size() != turns_with_tokens) ++turns_with_tokens;
    EXPECT_EQ(c.text.size(), turns_with_tokens);
  }
  EXPECT_EQ(turns_with_tokens, 11u);
  EXPECT_TRUE(c.result.has_value());
}

// ---- cancellation -----------------------------------------------------------------------------

TEST_F(ScriptedLlmTest, CancelMidStreamDeliversNothingAfterwards) {
  auto llm = make({{"flow", kAppointment}});
  Collected c;
  auto handle = llm->stream(request_of({}), collect(c));
  while (c.text.size() < 3 && io_.run_one()) {
  }
  ASSERT_EQ(c.text.size(), 3u);
  handle->cancel();
  handle->cancel();  // idempotent
  io_.run();         // returns: the cancelled timer holds no work
  EXPECT_EQ(c.text.size(), 3u);
  EXPECT_EQ(c.ends, 0);
  EXPECT_TRUE(c.deltas.empty());
}

TEST_F(ScriptedLlmTest, CancelFromInsideACallbackStopsTheStream) {
  auto llm = make({{"flow", kAppointment}});
  Collected c;
  std::unique_ptr<Cancellable> handle;
  LlmCallbacks callbacks = collect(c);
  auto on_text = callbacks.on_text;
  callbacks.on_text = [&, on_text](std::string_view text) {
    on_text(text);
    if (c.text.size() == 2) handle.reset();  // the pipeline drops the stream on barge-in
  };
  handle = llm->stream(request_of({}), std::move(callbacks));
  io_.run();
  EXPECT_EQ(c.text.size(), 2u);
  EXPECT_EQ(c.ends, 0);
}

TEST_F(ScriptedLlmTest, CancelDuringToolCallDeltasAndBeforeTheFirstToken) {
  auto llm = make({{"flow", kAppointment}});
  const auto request = request_of({{"user", "book", {}, {}}, {"user", "monday", {}, {}}, {"user", "noon", {}, {}},
                                   {"user", "john smith", {}, {}}, {"user", "yes", {}, {}}});
  {
    Collected c;
    auto handle = llm->stream(request, collect(c));
    while (c.deltas.size() < 2 && io_.run_one()) {
    }
    handle.reset();  // destroying the handle cancels
    io_.restart();
    io_.run();
    EXPECT_EQ(c.deltas.size(), 2u);
    EXPECT_EQ(c.ends, 0);
  }
  {
    Collected c;
    auto handle = llm->stream(request, collect(c));
    handle->cancel();
    io_.restart();
    io_.run();
    EXPECT_TRUE(c.text.empty());
    EXPECT_EQ(c.ends, 0);
  }
}

TEST_F(ScriptedLlmTest, CancelAfterDoneIsHarmless) {
  auto llm = make({{"flow", kAppointment}});
  Collected c;
  auto handle = llm->stream(request_of({}), collect(c));
  io_.run();
  ASSERT_EQ(c.ends, 1);
  handle->cancel();
  handle.reset();
  EXPECT_EQ(c.after_end, 0);
}

// ---- configuration ----------------------------------------------------------------------------

TEST_F(ScriptedLlmTest, InlineFlowAsJsonText) {
  auto llm = make({{"flow_json", R"({"start":"s","states":{"s":{"entry":"Hi there."}}})"}, {"seed", 7}});
  const Collected c = run(*llm, request_of({}));
  EXPECT_EQ(c.joined(), "Hi there.");
}

template <typename Reader>
constexpr bool kHasRaw = requires(Reader &r) { r.raw(std::string_view()); };

TEST_F(ScriptedLlmTest, InlineFlowAsAnObjectWhenTheConfigReaderOffersRawValues) {
  if (!kHasRaw<core::ConfigReader>) {
    GTEST_SKIP() << "ConfigReader::raw(key) is not there yet: \"flow_json\" is a string of JSON text until it is";
  } else {
    auto llm = make({{"flow_json", {{"start", "s"}, {"states", {{"s", {{"entry", "Hi there."}}}}}}}});
    EXPECT_EQ(run(*llm, request_of({})).joined(), "Hi there.");
    EXPECT_THAT(config_error({{"flow_json", {{"start", "s"}, {"states", {{"s", {{"intents", {{{"regex", "(x"}}}}}}}}}}}),
                HasSubstr("llm config: $.flow_json.states.s.intents[0].regex: invalid regex: "));
  }
}

TEST_F(ScriptedLlmTest, BadFlowIsAConfigErrorNamingItsPath) {
  const std::pair<const char *, const char *> cases[] = {
      {R"({"start":"ask_day","states":{"ask_day":{"intents":[{"regex":"(?<day>mon|tue","reply":"ok"}]}}})",
       "llm config: $.flow_json.states.ask_day.intents[0].regex: invalid regex: "},
      {R"({"start":"ask_day","states":{"ask_day":{"intents":[{"slots":{"day":"day_of_week"},"next":"ask_tim"}]},"ask_time":{}}})",
       "llm config: $.flow_json.states.ask_day.intents[0].next: unknown state \"ask_tim\" (states: ask_day, ask_time)"},
      {R"({"start":"a","states":{"a":{"entry":"{missing}"}}})", "llm config: $.flow_json.states.a.entry: unknown slot"},
      {R"({"start":"a","states":)", "llm config: $.flow_json: not valid JSON: "},
  };
  for (const auto &[flow, message] : cases) EXPECT_THAT(config_error({{"flow_json", flow}}), HasSubstr(message)) << flow;
}

TEST_F(ScriptedLlmTest, BadProviderConfigIsRejectedWithItsPath) {
  EXPECT_THAT(config_error(json::object()), HasSubstr("llm config: $.flow: missing"));
  EXPECT_THAT(config_error({{"flow", kAppointment}, {"flow_json", "{}"}}), HasSubstr("$.flow_json: give \"flow\" or"));
  EXPECT_THAT(config_error({{"flow", "/nonexistent/flow.json"}}),
              HasSubstr("llm config: $.flow: cannot read \"/nonexistent/flow.json\""));
  EXPECT_THAT(config_error({{"flow", kAppointment}, {"tokens_per_second", -1}}), HasSubstr("$.tokens_per_second"));
  EXPECT_THAT(config_error({{"flow", kAppointment}, {"first_token_delay_ms", "fast"}}),
              HasSubstr("$.first_token_delay_ms"));
  EXPECT_THAT(config_error({{"flow", kAppointment}, {"temperature", 0.2}}), HasSubstr("$.temperature: unknown key"));
  EXPECT_EQ(config_error({{"flow", kAppointment}, {"seed", 3}}), "");
}

TEST_F(ScriptedLlmTest, BadFlowFileNamesTheFileAndThePathInside) {
  const std::string path = ::testing::TempDir() + "scripted_bad_flow.json";
  {
    std::ofstream out(path);
    out << R"({"start":"a","states":{"a":{"intents":[{"keywords":["x"],"next":"b"}]}}})";
  }
  EXPECT_THAT(config_error({{"flow", path}}),
              HasSubstr("llm config: $.flow: " + path + ": $.states.a.intents[0].next: unknown state \"b\""));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace parley::providers
