// The OpenAI adapters' pure parts, table-driven: the stream decoder (SSE framing, chunk
// JSON, tool-call assembly, malformed input), the SDK's retry rules, error bodies, the
// request bodies, the multipart form, the PCM assembler and the speech input splitter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fakes/audio.hpp"
#include "fakes/openai_fake.hpp"
#include "providers/llm/openai.hpp"
#include "providers/stt/openai_stt.hpp"
#include "providers/tts/openai_tts.hpp"

namespace parley::providers::openai {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::milliseconds;
using State = ChatStreamDecoder::State;

// The byte-exact stream of openai-compatible.md §3.
const std::string kSpecStream =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
    "\"system_fingerprint\":\"fp_x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo!\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n"
    "data: [DONE]\n\n";

std::string chunk(const std::string &choices_or_fields) {
  return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\"," +
         choices_or_fields + "}\n\n";
}

std::string delta(const std::string &delta_json, const std::string &finish = "null") {
  return chunk("\"choices\":[{\"index\":0,\"delta\":" + delta_json + ",\"logprobs\":null,\"finish_reason\":" + finish +
               "}]");
}

// The spec's tool-call stream, with the elided fields filled in.
const std::string kToolStream =
    delta(R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]})") +
    delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})") +
    delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})") +
    delta(R"({"tool_calls":[{"index":1,"id":"call_def","type":"function","function":{"name":"get_time","arguments":""}}]})") +
    delta(R"({"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]})") + delta("{}", "\"tool_calls\"") +
    "data: [DONE]\n\n";

struct Delta {
  int index;
  std::string id, name, arguments;
  bool operator==(const Delta &) const = default;
};

struct Recorder final : ChatStreamDecoder::Handler {
  std::vector<std::string> texts;
  std::vector<Delta> deltas;
  ChatStreamDecoder *decoder = nullptr;
  size_t stop_after = SIZE_MAX;  // stop() after this many callbacks

  void on_text(std::string_view text) override {
    texts.emplace_back(text);
    maybe_stop();
  }
  void on_tool_call_delta(const ToolCallDelta &d) override {
    deltas.push_back({d.index, std::string(d.id), std::string(d.name), std::string(d.arguments)});
    maybe_stop();
  }
  void maybe_stop() {
    if (texts.size() + deltas.size() >= stop_after) decoder->stop();
  }
};

// Feeds `bytes` to a fresh decoder in pieces cut at `cuts`; returns the final state.
State decode(const std::string &bytes, Recorder &recorder, std::unique_ptr<ChatStreamDecoder> &decoder,
             std::vector<size_t> cuts = {}) {
  decoder = std::make_unique<ChatStreamDecoder>(recorder);
  recorder.decoder = decoder.get();
  size_t at = 0;
  State state = State::streaming;
  cuts.push_back(bytes.size());
  for (size_t cut : cuts) {
    state = decoder->feed(std::string_view(bytes).substr(at, cut - at));
    at = cut;
  }
  return state;
}

TEST(OpenAiDecoder, SpecStreamGivesTextFinishAndUsage) {
  Recorder r;
  std::unique_ptr<ChatStreamDecoder> d;
  ASSERT_EQ(decode(kSpecStream, r, d), State::done);
  EXPECT_THAT(r.texts, ElementsAre("Hel", "lo!"));  // the role chunk's "" is not a delta
  EXPECT_EQ(d->result().text, "Hello!");
  EXPECT_EQ(d->result().finish_reason, "stop");
  ASSERT_TRUE(d->result().usage);
  EXPECT_EQ(d->result().usage->prompt_tokens, 12);
  EXPECT_EQ(d->result().usage->completion_tokens, 3);
  EXPECT_EQ(d->deltas(), 2u);
}

TEST(OpenAiDecoder, EverySplitPointGivesTheSameResult) {
  for (size_t cut = 0; cut <= kSpecStream.size(); ++cut) {
    Recorder r;
    std::unique_ptr<ChatStreamDecoder> d;
    ASSERT_EQ(decode(kSpecStream, r, d, {cut}), State::done) << "cut at " << cut;
    ASSERT_THAT(r.texts, ElementsAre("Hel", "lo!")) << "cut at " << cut;
    ASSERT_TRUE(d->result().usage) << "cut at " << cut;
  }
  // And one byte at a time.
  std::vector<size_t> every;
  for (size_t i = 1; i < kSpecStream.size(); ++i) every.push_back(i);
  Recorder r;
  std::unique_ptr<ChatStreamDecoder> d;
  EXPECT_EQ(decode(kSpecStream, r, d, every), State::done);
  EXPECT_EQ(d->result().text, "Hello!");
}

TEST(OpenAiDecoder, CrLfAndCrLineEndingsAndCommentsAreAccepted) {
  std::string crlf, cr;
  for (char c : kSpecStream) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    cr += c == '\n' ? '\r' : c;
  }
  for (const std::string &stream : {crlf, cr, ": keep-alive\n\n" + kSpecStream, ": OPENROUTER PROCESSING\n" + kSpecStream}) {
    for (size_t cut : {size_t{1}, stream.size() / 2, stream.find('\r') + 1}) {
      Recorder r;
      std::unique_ptr<ChatStreamDecoder> d;
      ASSERT_EQ(decode(stream, r, d, {std::min(cut, stream.size())}), State::done);
      EXPECT_EQ(d->result().text, "Hello!");
    }
  }
}

TEST(OpenAiDecoder, ToolCallsAreAssembledByIndex) {
  Recorder r;
  std::unique_ptr<ChatStreamDecoder> d;
  ASSERT_EQ(decode(kToolStream, r, d), State::done);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_THAT(r.deltas, ElementsAre(Delta{0, "call_abc", "get_weather", ""}, Delta{0, "", "", "{\"city\":"},
                                    Delta{0, "", "", "\"Paris\"}"}, Delta{1, "call_def", "get_time", ""},
                                    Delta{1, "", "", "{}"}));
  const auto &calls = d->result().tool_calls;
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, "call_abc");
  EXPECT_EQ(calls[0].name, "get_weather");
  EXPECT_EQ(calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(calls[1].id, "call_def");
  EXPECT_EQ(calls[1].name, "get_time");
  EXPECT_EQ(calls[1].arguments, "{}");
  EXPECT_EQ(d->result().finish_reason, "tool_calls");
}

TEST(OpenAiDecoder, ToolCallVariantsServersSend) {
  struct Case {
    const char *what;
    std::string stream;
    std::vector<ToolCall> expected;
  };
  const std::vector<Case> cases = {
      {"whole call in one fragment, no type",
       delta(R"({"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{\"a\":1}"}}]})"),
       {{"c1", "f", R"({"a":1})"}}},
      {"interleaved parallel calls",
       delta(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":""}},{"index":1,"id":"b","function":{"name":"g","arguments":""}}]})") +
           delta(R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"y\""}}]})") +
           delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":1}"}}]})") +
           delta(R"({"tool_calls":[{"index":1,"function":{"arguments":":2}"}}]})"),
       {{"a", "f", R"({"x":1})"}, {"b", "g", R"({"y":2})"}}},
      {"index omitted: a new id starts a call",
       delta(R"({"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{"}}]})") +
           delta(R"({"tool_calls":[{"function":{"arguments":"}"}}]})") +
           delta(R"({"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{}"}}]})"),
       {{"a", "f", "{}"}, {"b", "g", "{}"}}},
      {"name repeated on every fragment",
       delta(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]})") +
           delta(R"({"tool_calls":[{"index":0,"function":{"name":"f","arguments":"}"}}]})"),
       {{"a", "f", "{}"}}},
      {"arguments sent as an object",
       delta(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":{"k": "v"}}}]})"),
       {{"a", "f", R"({"k":"v"})"}}},
  };
  for (const auto &c : cases) {
    Recorder r;
    std::unique_ptr<ChatStreamDecoder> d;
    ASSERT_EQ(decode(c.stream + "data: [DONE]\n\n", r, d), State::done) << c.what << ": " << d->error().message;
    const auto &calls = d->result().tool_calls;
    ASSERT_EQ(calls.size(), c.expected.size()) << c.what;
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].id, c.expected[i].id) << c.what;
      EXPECT_EQ(calls[i].name, c.expected[i].name) << c.what;
      EXPECT_EQ(calls[i].arguments, c.expected[i].arguments) << c.what;
    }
  }
}

TEST(OpenAiDecoder, ContentVariants) {
  struct Case {
    const char *what;
    std::string stream;
    std::vector<std::string> texts;
  };
  const std::vector<Case> cases = {
      {"no role chunk, content null then text",
       delta(R"({"content":null})") + delta(R"({"content":"Hi"})"), {"Hi"}},
      {"escapes and unicode", delta(R"({"content":"caf\u00e9 \"x\"\n"})"), {"caf\xc3\xa9 \"x\"\n"}},
      {"a refusal is spoken", delta(R"({"refusal":"I can't help with that."})"), {"I can't help with that."}},
      {"other choices are ignored",
       chunk(R"("choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}])"), {"A"}},
      {"unknown fields and obfuscation padding",
       chunk(R"("obfuscation":"xYz12","service_tier":"default","choices":[{"index":0,"delta":{"content":"ok","extra":[1,{"a":null}]}}])"),
       {"ok"}},
      {"an event split over two data lines",
       "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"two\"}}]}\n\n", {"two"}},
      {"named events other than error are skipped",
       "event: ping\ndata: {}\n\n" + delta(R"({"content":"x"})"), {"x"}},
      {"unknown well-formed fields are ignored", "retry: 100\nid: 7\nx-custom: 1\n" + delta(R"({"content":"y"})"), {"y"}},
  };
  for (const auto &c : cases) {
    Recorder r;
    std::unique_ptr<ChatStreamDecoder> d;
    ASSERT_EQ(decode(c.stream + "data: [DONE]\n\n", r, d), State::done) << c.what << ": " << d->error().message;
    EXPECT_EQ(r.texts, c.texts) << c.what;
  }
}

TEST(OpenAiDecoder, UsageIsTakenFromAnyChunkAndFromXGroq) {
  Recorder r;
  std::unique_ptr<ChatStreamDecoder> d;
  ASSERT_EQ(decode(chunk(R"("choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6})") +
                       "data: [DONE]\n\n",
                   r, d),
            State::done);
  ASSERT_TRUE(d->result().usage);
  EXPECT_EQ(d->result().usage->prompt_tokens, 5);

  Recorder g;
  ASSERT_EQ(decode(chunk(R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":9,"completion_tokens":4}})") +
                       "data: [DONE]\n\n",
                   g, d),
            State::done);
  ASSERT_TRUE(d->result().usage);
  EXPECT_EQ(d->result().usage->prompt_tokens, 9);
  EXPECT_EQ(d->result().usage->completion_tokens, 4);
}

TEST(OpenAiDecoder, MalformedInputIsAProtocolError) {
  struct Case {
    const char *what;
    std::string stream;
    const char *message;
  };
  const std::vector<Case> cases = {
      {"the fake's garbage line", std::string(fakes::OpenAiFake::kGarbageLine), "malformed SSE line"},
      {"a bare word line", "garbage\x7f\n\n", "malformed SSE line"},
      {"JSON without data:", "{\"choices\":[]}\n\n", "malformed SSE line"},
      {"the fake's cut JSON", std::string(fakes::OpenAiFake::kInvalidJsonEvent), "invalid JSON"},
      {"trailing garbage after JSON", "data: {\"choices\":[]} x\n\n", "invalid JSON"},
      {"a JSON array", "data: [1,2]\n\n", "not a JSON object"},
      {"choices not an array", "data: {\"choices\":{}}\n\n", "\"choices\" is not an array"},
      {"content not a string", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":5}}]}\n\n", "not a string"},
      {"tool index negative", "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\n",
       "index"},
  };
  for (const auto &c : cases) {
    Recorder r;
    std::unique_ptr<ChatStreamDecoder> d;
    const std::string stream = delta(R"({"content":"ok"})") + c.stream + delta(R"({"content":"never"})");
    ASSERT_EQ(decode(stream, r, d), State::failed) << c.what;
    EXPECT_EQ(d->error().kind, ErrorKind::protocol) << c.what;
    EXPECT_THAT(d->error().message, HasSubstr(c.message)) << c.what;
    EXPECT_THAT(r.texts, ElementsAre("ok")) << c.what;  // nothing after the fault
  }
}

TEST(OpenAiDecoder, OversizedEventIsRefused) {
  Recorder r;
  ChatStreamDecoder d(r, 1024);
  EXPECT_EQ(d.feed("data: " + std::string(2000, 'x')), State::failed);
  EXPECT_EQ(d.error().kind, ErrorKind::protocol);
  ChatStreamDecoder lines(r, 1024);
  EXPECT_EQ(lines.feed("data: " + std::string(600, 'x') + "\ndata: " + std::string(600, 'x') + "\n"), State::failed);
}

TEST(OpenAiDecoder, ErrorEventsCarryTheProvidersMessageAndKind) {
  struct Case {
    std::string stream;
    ErrorKind kind;
    const char *message;
  };
  const std::vector<Case> cases = {
      {"data: {\"error\":{\"message\":\"The server had an error.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
       ErrorKind::server, "The server had an error."},
      {"data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}\n\n",
       ErrorKind::rate_limited, "Rate limit reached"},
      {"data: {\"error\":\"plain words\"}\n\n", ErrorKind::server, "plain words"},
      {"event: error\ndata: {\"error\":{\"message\":\"named\"}}\n\n", ErrorKind::server, "named"},
      {"event: error\ndata: not json at all\n\n", ErrorKind::protocol, "invalid JSON"},
  };
  for (const auto &c : cases) {
    Recorder r;
    std::unique_ptr<ChatStreamDecoder> d;
    ASSERT_EQ(decode(delta(R"({"content":"a"})") + c.stream, r, d), State::failed) << c.stream;
    EXPECT_EQ(d->error().kind, c.kind) << c.stream;
    EXPECT_THAT(d->error().message, HasSubstr(c.message));
  }
}

TEST(OpenAiDecoder, NothingAfterDoneOrStop) {
  Recorder r;
  std::unique_ptr<ChatStreamDecoder> d;
  EXPECT_EQ(decode("data: [DONE]\n\n" + delta(R"({"content":"late"})") + "garbage\n\n", r, d), State::done);
  EXPECT_TRUE(r.texts.empty());

  Recorder s;
  s.stop_after = 1;
  EXPECT_EQ(decode(delta(R"({"content":"a"})") + delta(R"({"content":"b"})"), s, d), State::stopped);
  EXPECT_THAT(s.texts, ElementsAre("a"));
}

TEST(OpenAiDecoder, NonStreamedCompletionIsParsed) {
  LlmResult result;
  const std::string body =
      R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})";
  ASSERT_FALSE(parse_chat_completion(body, result));
  ASSERT_EQ(result.tool_calls.size(), 1u);
  EXPECT_EQ(result.tool_calls[0].name, "f");
  EXPECT_EQ(result.finish_reason, "tool_calls");
  EXPECT_EQ(result.usage->completion_tokens, 2);
  LlmResult other;
  EXPECT_EQ(parse_chat_completion("<html>", other)->kind, ErrorKind::protocol);
  EXPECT_EQ(parse_chat_completion(R"({"error":{"message":"nope"}})", other)->message, "nope");
}

// ---------------------------------------------------------------------------------------------
// Retry rules

TEST(OpenAiRetry, RetryAfterHeadersAreParsedAsTheSdkDoes) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  struct Case {
    net::HttpHeaders headers;
    std::optional<milliseconds> expected;
  };
  const std::vector<Case> cases = {
      {{{"retry-after-ms", "1500"}}, milliseconds(1500)},
      {{{"Retry-After-Ms", "12.6"}}, milliseconds(13)},
      {{{"retry-after", "2"}}, milliseconds(2000)},
      {{{"retry-after", " 0.25 "}}, milliseconds(250)},
      {{{"retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"}}, milliseconds(30'000)},
      {{{"retry-after", "21 Oct 2015 07:29:00 GMT"}}, milliseconds(60'000)},
      {{{"retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"}}, milliseconds(-60'000)},
      {{{"retry-after-ms", "200"}, {"retry-after", "9"}}, milliseconds(200)},
      {{{"retry-after-ms", "soon"}, {"retry-after", "3"}}, milliseconds(3000)},
      {{{"retry-after", "later"}}, std::nullopt},
      {{{"retry-after", "nan"}}, std::nullopt},
      {{}, std::nullopt},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(parse_retry_after(c.headers, now), c.expected) << (c.headers.empty() ? "" : c.headers.back().second);
  }
}

TEST(OpenAiRetry, WhichAnswersAreRetried) {
  struct Case {
    int status;
    net::HttpHeaders headers;
    bool retry;
  };
  const std::vector<Case> cases = {
      {408, {}, true},  {409, {}, true},  {429, {}, true},  {500, {}, true},  {502, {}, true},
      {503, {}, true},  {400, {}, false}, {401, {}, false}, {403, {}, false}, {404, {}, false},
      {422, {}, false},
      {400, {{"x-should-retry", "true"}}, true},
      {500, {{"x-should-retry", "false"}}, false},
      {429, {{"retry-after", "121"}}, false},  // longer than 120 s: not waited for
      {429, {{"retry-after", "120"}}, true},
      {503, {{"retry-after-ms", "200000"}}, false},
  };
  for (const auto &c : cases) EXPECT_EQ(should_retry(c.status, c.headers), c.retry) << c.status;
}

TEST(OpenAiRetry, DelayIsTheServersOrExponentialBackoffWithJitter) {
  struct Case {
    net::HttpHeaders headers;
    int retries_taken;
    double jitter;
    milliseconds expected;
  };
  const std::vector<Case> cases = {
      {{{"retry-after-ms", "1500"}}, 0, 0.8, milliseconds(1500)},
      {{{"retry-after", "120"}}, 3, 0.8, milliseconds(120'000)},
      {{{"retry-after", "0"}}, 0, 1.0, milliseconds(500)},    // 0: back off instead
      {{{"retry-after", "300"}}, 1, 1.0, milliseconds(1000)},  // too long: back off instead
      {{}, 0, 1.0, milliseconds(500)},
      {{}, 1, 1.0, milliseconds(1000)},
      {{}, 2, 1.0, milliseconds(2000)},
      {{}, 4, 1.0, milliseconds(8000)},
      {{}, 9, 1.0, milliseconds(8000)},  // capped
      {{}, 0, 0.75, milliseconds(375)},
  };
  for (const auto &c : cases) EXPECT_EQ(retry_delay(c.headers, c.retries_taken, c.jitter), c.expected);
  for (int i = 0; i < 1000; ++i) {
    const double j = draw_jitter();
    ASSERT_GT(j, 0.75);
    ASSERT_LE(j, 1.0);
  }
}

TEST(OpenAiRetry, RateLimitResetDurations) {
  EXPECT_EQ(parse_reset_duration("12ms"), milliseconds(12));
  EXPECT_EQ(parse_reset_duration("6m0s"), milliseconds(360'000));
  EXPECT_EQ(parse_reset_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_reset_duration("1h2m3.5s"), milliseconds(3'723'500));
  EXPECT_EQ(parse_reset_duration(""), std::nullopt);
  EXPECT_EQ(parse_reset_duration("soon"), std::nullopt);
  EXPECT_EQ(parse_reset_duration("5x"), std::nullopt);
}

TEST(OpenAiErrors, StatusKindsAndMessages) {
  EXPECT_EQ(kind_for_status(401), ErrorKind::auth);
  EXPECT_EQ(kind_for_status(403), ErrorKind::auth);
  EXPECT_EQ(kind_for_status(429), ErrorKind::rate_limited);
  EXPECT_EQ(kind_for_status(408), ErrorKind::timeout);
  EXPECT_EQ(kind_for_status(400), ErrorKind::bad_request);
  EXPECT_EQ(kind_for_status(422), ErrorKind::bad_request);
  EXPECT_EQ(kind_for_status(500), ErrorKind::server);
  EXPECT_EQ(kind_for_status(503), ErrorKind::server);

  EXPECT_EQ(error_message(429, fakes::openai_error_body(429, "Rate limit reached for gpt-4o-mini")),
            "Rate limit reached for gpt-4o-mini");
  EXPECT_EQ(error_message(400, R"({"error":"bad thing"})"), "bad thing");
  EXPECT_EQ(error_message(400, R"({"object":"error","message":"vLLM says no","type":"BadRequestError","code":400})"),
            "vLLM says no");
  EXPECT_EQ(error_message(422, R"({"detail":"field required"})"), "field required");
  EXPECT_EQ(error_message(502, "<html>\r\nbad gateway</html>"), "HTTP 502 Bad Gateway: <html>??bad gateway</html>");
  EXPECT_EQ(error_message(500, ""), "HTTP 500 Internal Server Error");
}

TEST(OpenAiErrors, ScrubRemovesTheKeyAndKeyShapes) {
  const std::string key = "sk-test-abcdef0123456789";
  const std::string out = scrub("Incorrect API key provided: " + key + ". Also sk-proj-zzzzzzzzzzzz.", key);
  EXPECT_THAT(out, Not(HasSubstr(key)));
  EXPECT_THAT(out, Not(HasSubstr("sk-proj-zzzz")));
  EXPECT_THAT(out, HasSubstr("Incorrect API key provided"));
  EXPECT_EQ(scrub("no secret here", key), "no secret here");
}

// ---------------------------------------------------------------------------------------------
// Request bodies

TEST(OpenAiRequest, ChatBodyHasTheSpecsShapeByteForByte) {
  LlmRequest request;
  request.messages = {{"system", "Be brief.", {}, ""},
                      {"user", "What's the weather in Paris?", {}, ""},
                      {"assistant", "", {{"call_1", "get_weather", R"({"city":"Paris"})"}}, ""},
                      {"tool", R"({"temp_c":18})", {}, "call_1"}};
  request.tools = {{"get_weather", "Current weather.",
                    R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})"}};
  request.temperature = 0.7;
  request.max_tokens = 256;
  ChatOptions options;
  options.model = "gpt-4o-mini";
  EXPECT_EQ(chat_request_body(request, options),
            R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},)"
            R"("messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What's the weather in Paris?"},)"
            R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
            R"({"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\":18}"}],)"
            R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],)"
            R"("tool_choice":"auto","temperature":0.7,"max_tokens":256})");
}

TEST(OpenAiRequest, DefaultsAndOptionalFields) {
  LlmRequest request;
  request.messages = {{"user", "hi", {}, ""}};
  ChatOptions options;
  options.model = "m";
  EXPECT_EQ(chat_request_body(request, options),
            R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})");
  options.temperature = 0.2;
  options.max_tokens = 50;
  options.max_tokens_param = "max_completion_tokens";
  const auto body = nlohmann::json::parse(chat_request_body(request, options));
  EXPECT_EQ(body["temperature"], 0.2);
  EXPECT_EQ(body["max_completion_tokens"], 50);
  EXPECT_FALSE(body.contains("max_tokens"));
  request.max_tokens = 7;  // the request's own wins
  EXPECT_EQ(nlohmann::json::parse(chat_request_body(request, options))["max_completion_tokens"], 7);

  request.tools = {{"broken", "", "{not json"}};
  EXPECT_THROW(chat_request_body(request, options), Error);
  request.tools = {{"empty_schema", "", ""}};
  EXPECT_EQ(nlohmann::json::parse(chat_request_body(request, options))["tools"][0]["function"]["parameters"]["type"],
            "object");
}

TEST(OpenAiRequest, JsonStringsAreEscapedAndValidUtf8) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"plain", "\"plain\""},
      {"q\"b\\", R"("q\"b\\")"},
      {"a\nb\tc\r\b\f", R"("a\nb\tc\r\b\f")"},
      {std::string("\x01\x1f", 2), R"("\u0001\u001f")"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
      {"bad \xff end", R"("bad \ufffd end")"},
      {"cut \xe2\x82", R"("cut \ufffd\ufffd")"},
      {"surrogate \xed\xa0\x80", R"("surrogate \ufffd\ufffd\ufffd")"},
      {"overlong \xc0\xaf", R"("overlong \ufffd\ufffd")"},
  };
  for (const auto &c : cases) {
    std::string out;
    append_json_string(out, c.in);
    EXPECT_EQ(out, c.out);
    EXPECT_TRUE(nlohmann::json::accept(out)) << out;
  }
}

TEST(OpenAiRequest, SpeechBody) {
  SpeechOptions options;
  EXPECT_EQ(speech_request_body(options, "Hello \"there\""),
            R"({"model":"gpt-4o-mini-tts","input":"Hello \"there\"","voice":"alloy","response_format":"pcm"})");
  options.model = "tts-1";
  options.voice = "nova";
  options.speed = 1.25;
  options.instructions = "Calm.";
  EXPECT_EQ(speech_request_body(options, "x"),
            R"({"model":"tts-1","input":"x","voice":"nova","response_format":"pcm","speed":1.25,"instructions":"Calm."})");
}

TEST(OpenAiRequest, HeaderLines) {
  std::string problem;
  auto headers = parse_header_lines("OpenAI-Organization: org-1\r\nOpenAI-Project:  proj_2 \n\n", problem);
  ASSERT_TRUE(headers);
  EXPECT_EQ(*headers, (net::HttpHeaders{{"OpenAI-Organization", "org-1"}, {"OpenAI-Project", "proj_2"}}));
  EXPECT_FALSE(parse_header_lines("no colon here", problem));
  EXPECT_FALSE(parse_header_lines("Bad Name: x", problem));
  EXPECT_THAT(problem, HasSubstr("Name: value"));
}

// ---------------------------------------------------------------------------------------------
// Multipart, transcription answers, PCM, speech input

TEST(OpenAiMultipart, BodyIsExactAndParsesBack) {
  const std::vector<FormPart> parts = {{"file", "audio.wav", "audio/wav", std::string("RIFF\0\r\n--x", 10)},
                                       {"model", "", "", "whisper-1"},
                                       {"timestamp_granularities[]", "", "", "word"}};
  const std::string body = multipart_body("BOUNDARY", parts);
  EXPECT_EQ(body,
            "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n" +
                std::string("RIFF\0\r\n--x", 10) +
                "\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
                "--BOUNDARY\r\nContent-Disposition: form-data; name=\"timestamp_granularities[]\"\r\n\r\nword\r\n"
                "--BOUNDARY--\r\n");
  const std::string boundary = make_boundary();
  EXPECT_NE(boundary, make_boundary());
  const auto parsed = fakes::parse_multipart("multipart/form-data; boundary=" + boundary, multipart_body(boundary, parts));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].filename, "audio.wav");
  EXPECT_EQ((*parsed)[0].content_type, "audio/wav");
  EXPECT_EQ((*parsed)[0].data, parts[0].data);
  EXPECT_EQ((*parsed)[2].name, "timestamp_granularities[]");
}

TEST(OpenAiMultipart, TranscriptionAnswers) {
  struct Case {
    std::string type, body;
    std::optional<std::string> text;
  };
  const std::vector<Case> cases = {
      {"application/json", R"({"text":"Hello there.","usage":{"type":"duration","seconds":2}})", "Hello there."},
      {"application/json; charset=utf-8", R"({"text":" padded "})", "padded"},
      {"text/plain; charset=utf-8", "Hello there.\n", "Hello there."},
      {"", R"({"text":"no type"})", "no type"},
      {"application/json", R"({"txt":"x"})", std::nullopt},
      {"application/json", "not json", std::nullopt},
      {"audio/wav", "RIFF", std::nullopt},
  };
  for (const auto &c : cases) {
    std::string problem;
    EXPECT_EQ(transcription_text(c.type, c.body, problem), c.text) << c.body;
    if (!c.text) {
      EXPECT_FALSE(problem.empty());
    }
  }
}

TEST(OpenAiPcm, OddByteCountsAcrossChunksGiveWholeSamples) {
  const std::vector<int16_t> samples = {0, 1, -1, 32767, -32768, 256, -257, 12345};
  std::string bytes;
  for (const int16_t s : samples) {
    bytes.push_back(static_cast<char>(static_cast<uint16_t>(s) & 0xff));
    bytes.push_back(static_cast<char>(static_cast<uint16_t>(s) >> 8));
  }
  for (size_t a = 0; a <= bytes.size(); ++a) {
    for (size_t b = a; b <= bytes.size(); ++b) {
      Pcm16Assembler assembler;
      std::vector<int16_t> out;
      for (const auto piece : {std::string_view(bytes).substr(0, a), std::string_view(bytes).substr(a, b - a),
                               std::string_view(bytes).substr(b)}) {
        const auto got = assembler.feed(piece);
        out.insert(out.end(), got.begin(), got.end());
      }
      ASSERT_EQ(out, samples) << a << "," << b;
      ASSERT_FALSE(assembler.has_partial());
    }
  }
  Pcm16Assembler odd;
  EXPECT_EQ(odd.feed("\x01").size(), 0u);
  EXPECT_TRUE(odd.has_partial());
}

TEST(OpenAiSpeechInput, LongTextIsSplitAtSentencesWithinTheLimit) {
  EXPECT_THAT(split_speech_input("Short one."), ElementsAre("Short one."));
  EXPECT_TRUE(split_speech_input("   ").empty());
  std::string text;
  for (int i = 0; i < 400; ++i) text += "Sentence number " + std::to_string(i) + " is here. ";
  const auto pieces = split_speech_input(text, 4096);
  ASSERT_GT(pieces.size(), 1u);
  std::string joined;
  for (const auto &piece : pieces) {
    EXPECT_LE(fakes::utf8_length(piece), 4096u);
    EXPECT_EQ(piece.back(), '.');  // cut at a sentence end
    joined += piece + " ";
  }
  EXPECT_EQ(joined, text);
  // No spaces, multi-byte characters: cut between characters, never inside one.
  std::string wide;
  for (int i = 0; i < 50; ++i) wide += "\xe2\x82\xac";
  const auto euros = split_speech_input(wide, 16);
  ASSERT_EQ(euros.size(), 4u);
  for (const auto &piece : euros) EXPECT_EQ(piece.size() % 3, 0u);
}

}  // namespace
}  // namespace parley::providers::openai
