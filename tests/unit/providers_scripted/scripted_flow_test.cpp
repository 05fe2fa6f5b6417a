// The flow engine on its own: what it hears, which intent wins, what it says, and which
// flows it refuses to load.
#include "providers/llm/scripted_flow.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace parley::providers::scripted {
namespace {

using ::testing::HasSubstr;

std::string read_text(const std::string &path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<const Flow> appointment_flow() {
  return Flow::parse_text(read_text(PARLEY_FLOW_DIR "/appointment.json"));
}

ChatMessage user(std::string text) { return {"user", std::move(text), {}, {}}; }
ChatMessage assistant(std::string text, std::vector<ToolCall> calls = {}) {
  return {"assistant", std::move(text), std::move(calls), {}};
}
ChatMessage tool(std::string id, std::string result) { return {"tool", std::move(result), {}, std::move(id)}; }

// ---- what the engine hears ------------------------------------------------------------------

TEST(ScriptedNormalize, LowercasesAndDropsPunctuation) {
  const std::pair<const char *, const char *> cases[] = {
      {"Ten A.M.!", "ten a m"},
      {"  I'd like   to book, please.  ", "i'd like to book please"},
      {"It\xE2\x80\x99s 10:30 or 2.5", "it's 10:30 or 2.5"},
      {"twenty-five", "twenty five"},
      {"1,000 people", "1000 people"},
      {"'quoted'", "quoted"},
      {"\xE2\x80\x98quoted\xE2\x80\x99 at Jones\xE2\x80\x99 place", "quoted at jones place"},
      {"Jos\xC3\xA9", "jos\xC3\xA9"},
      {"", ""},
  };
  for (const auto &[in, want] : cases) EXPECT_EQ(normalize(in), want) << in;
}

struct SlotCase {
  SlotType type;
  const char *utterance;
  std::optional<std::string> want;
};

TEST(ScriptedSlots, ExtractsEachTypeFromSpeech) {
  const SlotCase cases[] = {
      {SlotType::day_of_week, "tuesday", "Tuesday"},
      {SlotType::day_of_week, "How about on Fridays?", "Friday"},
      {SlotType::day_of_week, "next week", std::nullopt},
      {SlotType::time, "ten a m", "10:00 AM"},
      {SlotType::time, "10:30", "10:30"},
      {SlotType::time, "half past two", "2:30"},
      {SlotType::time, "quarter to three p m", "2:45 PM"},
      {SlotType::time, "twenty past four in the afternoon", "4:20 PM"},
      {SlotType::time, "two thirty p m", "2:30 PM"},
      {SlotType::time, "ten oh five", "10:05"},
      {SlotType::time, "at 3 o'clock", "3:00"},
      {SlotType::time, "10am", "10:00 AM"},
      {SlotType::time, "around 9:15 p.m.", "9:15 PM"},
      {SlotType::time, "14:00", "14:00"},
      {SlotType::time, "noon", "12:00 PM"},
      {SlotType::time, "ten fifteen", "10:15"},
      {SlotType::time, "one hundred", std::nullopt},
      {SlotType::time, "whenever suits", std::nullopt},
      {SlotType::number, "twenty five people", "25"},
      {SlotType::number, "one hundred and five", "105"},
      {SlotType::number, "a thousand two hundred", "1200"},
      {SlotType::number, "twenty five hundred", "2500"},
      {SlotType::number, "zero", "0"},
      {SlotType::number, "42", "42"},
      {SlotType::number, "about 2.5", "2.5"},
      {SlotType::number, "none at all", std::nullopt},
      {SlotType::digits, "four five six", "456"},
      {SlotType::digits, "my pin is one two oh four", "1204"},
      {SlotType::digits, "double four seven", "447"},
      {SlotType::digits, "oh um four five six", "456"},
      {SlotType::digits, "1 2 3 4", "1234"},
      {SlotType::digits, "oh", std::nullopt},
      {SlotType::digits, "no idea", std::nullopt},
      {SlotType::yes_no, "yes", "yes"},
      {SlotType::yes_no, "Yeah, that's right.", "yes"},
      {SlotType::yes_no, "no thanks", "no"},
      {SlotType::yes_no, "that's not correct", "no"},
      {SlotType::yes_no, "maybe later", std::nullopt},
      {SlotType::name, "my name is john smith", "John Smith"},
      {SlotType::name, "Um, it's Mary Jones, thank you.", "Mary Jones"},
      {SlotType::name, "john smith", "John Smith"},
      {SlotType::name, "my name is", std::nullopt},
      {SlotType::text, "  Anything at all. ", "Anything at all."},
      {SlotType::text, "   ", std::nullopt},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(extract_slot(c.type, c.utterance), c.want) << slot_type_name(c.type) << ": " << c.utterance;
  }
}

TEST(ScriptedSlots, TypeNamesRoundTrip) {
  for (auto type : {SlotType::day_of_week, SlotType::time, SlotType::number, SlotType::digits, SlotType::yes_no,
                    SlotType::name, SlotType::text}) {
    EXPECT_EQ(slot_type_from_name(slot_type_name(type)), type);
  }
  EXPECT_FALSE(slot_type_from_name("weekday").has_value());
}

// ---- how a reply streams ------------------------------------------------------------------

TEST(ScriptedTokens, SplitsLikeAModelAndLosesNothing) {
  const auto tokens = split_tokens("Thanks for calling. I didn't catch that, sorry!");
  const std::vector<std::string_view> want = {"Thanks", " for", " calling", ".", " I", " didn", "'t",
                                              " catch", " that", ",", " sorry", "!"};
  EXPECT_EQ(tokens, want);
  for (const char *text : {"", "  leading and trailing  ", "10:00 AM, {\"a\":1}", "Jos\xC3\xA9 \xE2\x80\x94 ok", "'quoted' word"}) {
    std::string joined;
    for (auto token : split_tokens(text)) {
      EXPECT_FALSE(token.empty());
      joined += token;
    }
    EXPECT_EQ(joined, text);
  }
}

// ---- matching -----------------------------------------------------------------------------

// Every way an intent can match, in one state, tried in order.
constexpr const char *kMatchingFlow = R"j({
  "start": "main",
  "states": {
    "main": {
      "entry": "Hello.",
      "intents": [
        {"name": "hours", "keywords": ["opening hours", "open*"], "reply": "We open at nine."},
        {"name": "order", "keywords": {"all": ["order", "pizza"], "none": ["cancel"]}, "reply": "One pizza."},
        {"name": "cancel", "keywords": {"any": ["cancel", "never mind"]}, "reply": "Cancelled."},
        {"name": "pin", "regex": "^PIN (?:code )?(?<pin>.+)$", "slots": {"pin": "digits"}, "reply": "PIN {pin} noted."},
        {"name": "account", "regex": "account (?<account>[a-z]+) (\\d+)", "reply": "Account {account}."},
        {"name": "party", "keywords": ["people", "guests"], "slots": {"count": "number"}, "reply": "A table for {count}."},
        {"name": "agree", "yes_no": "yes", "reply": "Great."},
        {"name": "refuse", "yes_no": "no", "reply": "Okay then."}
      ],
      "fallback": "Sorry, I didn't catch that."
    }
  }
})j";

struct MatchCase {
  const char *utterance;
  const char *intent;
  const char *reply;
};

TEST(ScriptedMatching, KeywordsRegexSlotsAndYesNo) {
  const auto flow = Flow::parse_text(kMatchingFlow);
  const MatchCase cases[] = {
      {"What are your opening hours?", "hours", "We open at nine."},
      {"when are you opened", "hours", "We open at nine."},  // "open*" is a prefix
      {"I'd like to ORDER a pizza!", "order", "One pizza."},
      {"pizza", "fallback", "Sorry, I didn't catch that."},           // "all" needs both
      {"cancel the pizza order", "cancel", "Cancelled."},             // "none" vetoes order
      {"oh never mind", "cancel", "Cancelled."},                       // a phrase, not a word
      {"PIN four five six seven", "pin", "PIN 4567 noted."},          // regex is case-insensitive
      {"pin code: 1 2 3 4", "pin", "PIN 1234 noted."},                // on the normalised text
      {"pin nothing", "fallback", "Sorry, I didn't catch that."},     // regex matched, slot did not
      {"my account abc 12345", "account", "Account abc."},            // unnamed groups are skipped
      {"a table for twenty five people", "party", "A table for 25."},
      {"for some people", "fallback", "Sorry, I didn't catch that."}, // keyword, but no number
      {"yeah sure", "agree", "Great."},
      {"nope", "refuse", "Okay then."},
      {"the weather is nice", "fallback", "Sorry, I didn't catch that."},
      {"", "fallback", "Sorry, I didn't catch that."},
  };
  for (const auto &c : cases) {
    const Turn turn = flow->respond({user(c.utterance)});
    EXPECT_EQ(turn.intent, c.intent) << c.utterance;
    EXPECT_EQ(turn.text, c.reply) << c.utterance;
    EXPECT_EQ(turn.state, "main");
    EXPECT_TRUE(turn.tool_calls.empty());
  }
}

TEST(ScriptedMatching, FirstMatchingIntentWinsThenGlobalIntents) {
  const auto flow = Flow::parse_text(R"({
    "start": "a",
    "states": {
      "a": {"intents": [{"name": "first", "keywords": ["help"], "reply": "first"},
                        {"name": "second", "keywords": ["help"], "reply": "second"}]},
      "b": {"entry": "In b."}
    },
    "global_intents": [{"name": "global", "keywords": ["help", "operator"], "reply": "global", "next": "b"}]
  })");
  EXPECT_EQ(flow->respond({user("help")}).text, "first");
  const Turn turn = flow->respond({user("operator please")});
  EXPECT_EQ(turn.intent, "global");
  EXPECT_EQ(turn.text, "global In b.");
  EXPECT_EQ(turn.state, "b");
}

// ---- the appointment flow, replayed -----------------------------------------------------------

TEST(ScriptedReplay, GreetsWhenNoUserHasSpoken) {
  const auto flow = appointment_flow();
  for (const auto &messages : {std::vector<ChatMessage>{}, std::vector<ChatMessage>{{"system", "Be brief.", {}, {}}}}) {
    const Turn turn = flow->respond(messages);
    EXPECT_EQ(turn.text, "Thanks for calling Parley Dental. How can I help?");
    EXPECT_EQ(turn.state, "greeting");
    EXPECT_EQ(turn.intent, "");
  }
}

TEST(ScriptedReplay, StateComesFromTheUserMessagesNotTheAssistants) {
  const auto flow = appointment_flow();
  // The assistant's words were cut by a barge-in and rewritten by the host: no matter.
  const std::vector<ChatMessage> messages = {
      {"system", "You are a receptionist.", {}, {}}, assistant("Thanks for call"),
      user("i would like to book an appointment"),   assistant("What d"),
      user("tuesday"),                               assistant("something else entirely"),
      user("ten a m")};
  const Turn turn = flow->respond(messages);
  EXPECT_EQ(turn.state, "ask_name");
  EXPECT_EQ(turn.intent, "time");
  EXPECT_EQ(turn.text, "10:00 AM, got it. And what name should I put the booking under?");
  EXPECT_EQ(turn.slots.at("day"), "Tuesday");
  EXPECT_EQ(turn.slots.at("time"), "10:00 AM");
  // A request ending with the assistant's own message has nothing to add.
  auto spoken = messages;
  spoken.push_back(assistant(turn.text));
  EXPECT_EQ(flow->respond(spoken).text, "");
}

TEST(ScriptedReplay, FallbackKeepsTheStateAndItsSlots) {
  const auto flow = appointment_flow();
  const Turn turn = flow->respond({user("book an appointment"), user("tuesday"), user("purple")});
  EXPECT_EQ(turn.intent, "fallback");
  EXPECT_EQ(turn.state, "ask_time");
  EXPECT_EQ(turn.text, "Sorry, what time would you like? For example, ten a m or half past two.");
  EXPECT_EQ(turn.slots.at("day"), "Tuesday");
  EXPECT_EQ(flow->respond({user("hello there")}).text,
            "Sorry, I didn't catch that. I can book an appointment for you. Would you like one?");
}

TEST(ScriptedReplay, ToolCallsEndARoundAndToolResultsResumeIt) {
  const auto flow = appointment_flow();
  std::vector<ChatMessage> messages = {user("i would like to book an appointment"), user("tuesday"),
                                       user("ten a m"), user("my name is john smith"), user("yes")};
  Turn turn = flow->respond(messages);
  EXPECT_EQ(turn.text, "Great, booking that now.");
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(turn.tool_calls[0].name, "book_appointment");
  EXPECT_EQ(nlohmann::json::parse(turn.tool_calls[0].arguments),
            nlohmann::json({{"day", "Tuesday"}, {"time", "10:00 AM"}, {"name", "John Smith"}}));
  EXPECT_EQ(turn.state, "booked");

  messages.push_back(assistant(turn.text, turn.tool_calls));
  messages.push_back(tool(turn.tool_calls[0].id, R"({"confirmation":"A12"})"));
  turn = flow->respond(messages);
  EXPECT_EQ(turn.text, "You're all set, John Smith. We'll see you on Tuesday at 10:00 AM. Goodbye!");
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(turn.tool_calls[0].name, "hang_up");
  EXPECT_EQ(turn.tool_calls[0].arguments, R"({"reason":"appointment booked"})");
  EXPECT_NE(turn.tool_calls[0].id, messages[5].tool_call_id);
  EXPECT_EQ(turn.slots.at("tool_result.confirmation"), "A12");

  // hang_up's result ends the conversation: nothing more to say, no third tool call.
  messages.push_back(assistant(turn.text, turn.tool_calls));
  messages.push_back(tool(turn.tool_calls[0].id, "ok"));
  turn = flow->respond(messages);
  EXPECT_EQ(turn.text, "");
  EXPECT_TRUE(turn.tool_calls.empty());

  // A caller who keeps talking in an end state hears the goodbye (and is hung up) again.
  messages.push_back(user("hello?"));
  turn = flow->respond(messages);
  EXPECT_EQ(turn.text, "You're all set, John Smith. We'll see you on Tuesday at 10:00 AM. Goodbye!");
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(turn.tool_calls[0].name, "hang_up");
}

TEST(ScriptedReplay, ToolResultFieldsFillTemplatesAndNumberSlotsStayNumbers) {
  const auto flow = Flow::parse_text(R"j({
    "start": "s",
    "states": {
      "s": {"intents": [{"slots": {"guests": "number", "day": "day_of_week"}, "reply": "Checking.",
                         "tool_call": {"name": "reserve", "arguments": {"guests": "{guests}", "when": "{day} evening",
                                                                          "late": "{late}", "tags": ["{day}", 7]}},
                         "next": "done"}]},
      "done": {"entry": "Reserved, reference {tool_result.ref}.", "intents": [{"regex": "(?<late>late)", "reply": "x"}]}
    }
  })j");
  std::vector<ChatMessage> messages = {user("six guests on friday")};
  const Turn turn = flow->respond(messages);
  ASSERT_EQ(turn.tool_calls.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(turn.tool_calls[0].arguments),
            nlohmann::json::parse(R"({"guests":6,"when":"Friday evening","late":null,"tags":["Friday",7]})"));
  messages.push_back(assistant(turn.text, turn.tool_calls));
  messages.push_back(tool(turn.tool_calls[0].id, R"({"ref":"R-9","ok":true})"));
  EXPECT_EQ(flow->respond(messages).text, "Reserved, reference R-9.");
}

TEST(ScriptedReplay, SeedPicksVariantsDeterministically) {
  const auto flow = appointment_flow();
  const std::vector<ChatMessage> messages = {user("i would like to book an appointment")};
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    const std::string text = flow->respond(messages, seed).text;
    EXPECT_EQ(flow->respond(messages, seed).text, text);  // the same conversation, the same words
    EXPECT_THAT(text, ::testing::EndsWith(" What day would you like to come in?"));
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 2u);  // both variants occur across seeds
}

TEST(ScriptedReplay, RegexSeesAtMostABoundedUtterance) {
  const auto flow = appointment_flow();
  std::string rambling = "my name is";
  for (int i = 0; i < 20000; ++i) rambling += " john";
  const Turn turn = flow->respond({user("book"), user("monday"), user("noon"), user(rambling)});
  EXPECT_EQ(turn.slots.at("name"), "John John John John");
}

// ---- flows that do not load -----------------------------------------------------------------

struct BadFlow {
  const char *flow;
  const char *message;
};

TEST(ScriptedValidation, RejectsBadFlowsNamingThePath) {
  const BadFlow cases[] = {
      {R"({"start":"a","states":{"a":{"intents":[{"regex":"(unclosed","reply":"x"}]}}})",
       "$.states.a.intents[0].regex: invalid regex: "},
      {R"({"start":"a","states":{"a":{"intents":[{"keywords":["x"],"next":"nowhere"}]}}})",
       "$.states.a.intents[0].next: unknown state \"nowhere\" (states: a)"},
      {R"({"start":"b","states":{"a":{}}})", "$.start: unknown state \"b\""},
      {R"({"states":{"a":{}}})", "$.start: missing"},
      {R"({"start":"a","states":{}})", "$.states: expected an object of states"},
      {R"({"start":"a"})", "$.states: missing"},
      {R"({"start":"a","states":{"a":{"entry":"On {dya}."}}})", "$.states.a.entry: unknown slot \"dya\""},
      {R"({"start":"a","states":{"a":{"entry":["ok","On {day"]}}})", "$.states.a.entry[1]: unclosed '{'"},
      {R"({"start":"a","states":{"a":{"entry":"a } b"}}})", "$.states.a.entry: unmatched '}'"},
      {R"({"start":"a","states":{"a":{"intents":[{"keyword":["x"]}]}}})", "$.states.a.intents[0].keyword: unknown key"},
      {R"({"start":"a","states":{"a":{"intents":[{"slots":{"day":"weekday"}}]}}})",
       "$.states.a.intents[0].slots.day: expected a slot type (day_of_week, time, number, digits, yes_no, name, text)"},
      {R"({"start":"a","states":{"a":{"intents":[{"reply":"x"}]}}})",
       "$.states.a.intents[0]: an intent needs at least one of keywords, regex, slots or yes_no"},
      {R"({"start":"a","states":{"a":{"intents":[{"keywords":{"some":["x"]}}]}}})",
       "$.states.a.intents[0].keywords.some: unknown key"},
      {R"({"start":"a","states":{"a":{"intents":[{"keywords":["ok", 3]}]}}})",
       "$.states.a.intents[0].keywords[1]: expected a string"},
      {R"({"start":"a","states":{"a":{"intents":[{"keywords":["!!"]}]}}})",
       "$.states.a.intents[0].keywords[0]: an empty phrase matches nothing"},
      {R"({"start":"a","states":{"a":{"intents":[{"yes_no":"maybe"}]}}})", "$.states.a.intents[0].yes_no: expected \"yes\" or \"no\""},
      {R"j({"start":"a","states":{"a":{"intents":[{"regex":"(?<x>a)(?<x>b)"}]}}})j",
       "$.states.a.intents[0].regex: invalid regex: group name \"x\" used twice"},
      {R"({"start":"a","states":{"a":{"intents":[{"regex":"a{50}b{50}"}]}}})",
       "$.states.a.intents[0].regex: invalid regex: counted repetitions multiply past 1000"},
      {R"({"start":"a","states":{"a":{"end":true,"intents":[{"keywords":["x"]}]}}})",
       "$.states.a.intents: an end state takes no intents"},
      {R"({"start":"a","states":{"a":{"tool_call":{"name":"hang up"}}}})",
       "$.states.a.tool_call.name: expected a tool name"},
      {R"({"start":"a","states":{"a":{"tool_call":{"name":"t","arguments":{"x":["{nope}"]}}}}})",
       "$.states.a.tool_call.arguments.x[0]: unknown slot \"nope\""},
      {R"({"start":"a","states":{"a":{}},"global_intents":[{"keywords":["x"],"next":"z"}]})",
       "$.global_intents[0].next: unknown state \"z\""},
      {R"({"version":2,"start":"a","states":{"a":{}}})", "$.version: expected 1"},
      {R"({"start":"a","states":{"a":{}},"extra":1})", "$.extra: unknown key"},
      {R"({"start":"a","states":{"a":"hello"}})", "$.states.a: expected an object"},
      {R"([1,2])", "$: expected an object"},
      {R"({"start":"a",)", "$: not valid JSON: "},
  };
  const std::string deep = std::string(R"({"start":"a","states":{"a":{"intents":[{"regex":")") +
                           std::string(40, '(') + "x" + std::string(40, ')') + R"("}]}}})";
  for (const auto &c : cases) {
    try {
      Flow::parse_text(c.flow);
      ADD_FAILURE() << "accepted: " << c.flow;
    } catch (const FlowError &e) {
      EXPECT_EQ(e.status(), Status::config);
      EXPECT_THAT(e.what(), HasSubstr(c.message)) << c.flow;
    }
  }
  EXPECT_THROW(
      try { Flow::parse_text(deep); } catch (const FlowError &e) {
        EXPECT_STREQ(e.what(), "$.states.a.intents[0].regex: invalid regex: groups nested deeper than 32");
        throw;
      },
      FlowError);
}

TEST(ScriptedValidation, AcceptsSlotsDeclaredAnywhereInTheFlow) {
  // "{day}" is used in a state before the intent that fills it is parsed.
  EXPECT_NO_THROW(Flow::parse_text(R"j({"start":"a","states":{
      "a":{"entry":"{day} {tool_result} {tool_result.x} {{literal}}","intents":[{"regex":"(?<day>\\w+)"}]}}})j"));
}

// ---- a JSGF grammar for pocketsphinx ------------------------------------------------------------

std::set<std::string> dictionary_words() {
  std::set<std::string> words;
  std::ifstream in(PARLEY_POCKETSPHINX_DICT);
  std::string line;
  while (std::getline(in, line)) words.insert(line.substr(0, line.find(' ')));
  return words;
}

TEST(ScriptedJsgf, AppointmentGrammarParsesAndStaysInVocabulary) {
  const std::string grammar = appointment_flow()->to_jsgf("appointment");
  // The public rule's alternatives, one a line.
  std::set<std::string> alternatives;
  std::istringstream lines(grammar.substr(grammar.find("public <utterance> =")));
  for (std::string line; std::getline(lines, line);) {
    if (line.ends_with(';')) line.pop_back();
    if (line.starts_with("  | ") || line.starts_with("    ")) alternatives.insert(line.substr(4));
  }
  for (const char *phrase : {"i would like to book an appointment", "<day_of_week>", "on <day_of_week>", "<time>",
                             "my name is john smith", "<yes>", "<no>", "goodbye"}) {
    EXPECT_TRUE(alternatives.count(phrase)) << phrase << " missing from\n" << grammar;
  }
  err_set_logfp(nullptr);
  jsgf_t *parsed = jsgf_parse_string(grammar.c_str(), nullptr);
  ASSERT_NE(parsed, nullptr) << grammar;
  EXPECT_NE(jsgf_get_public_rule(parsed), nullptr);
  jsgf_grammar_free(parsed);

  const auto dictionary = dictionary_words();
  if (dictionary.empty()) GTEST_SKIP() << "no pocketsphinx dictionary at " PARLEY_POCKETSPHINX_DICT;
  std::string body = grammar.substr(grammar.find('\n', grammar.find("grammar ")));
  for (char &c : body) {
    if (std::string_view("=|;()[]+*").find(c) != std::string_view::npos) c = ' ';
  }
  std::istringstream words(body);
  for (std::string word; words >> word;) {
    if (word.front() == '<' || word == "public") continue;
    EXPECT_TRUE(dictionary.count(word)) << "not in the en-us dictionary: " << word;
  }
}

}  // namespace
}  // namespace parley::providers::scripted
