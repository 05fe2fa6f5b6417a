// The OpenAI-compatible fake against openai-compatible.md, byte for byte where the spec
// gives bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audio/wav.hpp"
#include "fakes/audio.hpp"
#include "fakes/openai_fake.hpp"
#include "raw_client.hpp"

namespace parley::fakes {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;
using testing::HttpResponse;
using testing::RawClient;

const Headers kJson = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-test"}};

std::string chat_request(bool stream, bool include_usage, std::string content = "What's the weather in Paris?") {
  ojson body{{"model", "gpt-4o-mini"}, {"stream", stream}};
  if (include_usage) body["stream_options"] = {{"include_usage", true}};
  body["messages"] = ojson::array({ojson{{"role", "user"}, {"content", content}}});
  return body.dump();
}

// The data of each SSE event, in order ("data: " and the blank line removed).
std::vector<std::string> sse_data(const std::string &body) {
  std::vector<std::string> events;
  size_t at = 0;
  while (at < body.size()) {
    const size_t end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    std::string event = body.substr(at, end - at);
    if (event.starts_with("data: ")) event.erase(0, 6);
    events.push_back(event);
    at = end + 2;
  }
  return events;
}

HttpResponse post(OpenAiFake &fake, const std::string &path, const std::string &body, const Headers &headers = kJson) {
  RawClient client(fake.server().port());
  return client.request("POST", path, headers, body);
}

TEST(OpenAiFake, StreamIsByteForByteTheSpecExample) {
  OpenAiFake fake;
  ChatReply reply;
  reply.pieces = {"Hel", "lo!"};
  reply.usage = Usage{12, 3, 15};
  fake.set_reply(reply);
  EXPECT_TRUE(fake.base_url().ends_with("/v1"));
  const auto response = post(fake, "/v1/chat/completions", chat_request(true, true));
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(response.header("Content-Type").starts_with("text/event-stream"));
  EXPECT_FALSE(response.header("x-request-id").empty());
  const std::string expected =
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
  EXPECT_EQ(response.body, expected);
  EXPECT_EQ(response.chunks.size(), 6u);  // one HTTP chunk per event
  EXPECT_TRUE(response.complete);
}

TEST(OpenAiFake, WithoutIncludeUsageNoChunkCarriesUsage) {
  OpenAiFake fake;
  fake.set_reply("Hello there!");
  const auto events = sse_data(post(fake, "/v1/chat/completions", chat_request(true, false)).body);
  ASSERT_EQ(events.size(), 6u);  // role, "Hello", " there", "!", finish, [DONE]
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json event = json::parse(events[i]);
    EXPECT_FALSE(event.contains("usage")) << events[i];
    EXPECT_EQ(event["id"], "chatcmpl-1");
    EXPECT_EQ(event.contains("system_fingerprint"), i == 0);
    text += event["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Hello");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["delta"]["content"], " there");
  EXPECT_EQ(text, "Hello there!");
  EXPECT_EQ(events.back(), "[DONE]");
}

TEST(OpenAiFake, DefaultUsageCountsPiecesAndIdsAdvance) {
  OpenAiFake fake;
  fake.set_reply("Sunny, 18 degrees.");
  post(fake, "/v1/chat/completions", chat_request(true, true));
  const auto events = sse_data(post(fake, "/v1/chat/completions", chat_request(true, true)).body);
  const json usage = json::parse(events[events.size() - 2])["usage"];
  EXPECT_EQ(usage["prompt_tokens"], 6);      // What's | the | weather | in | Paris | ?
  EXPECT_EQ(usage["completion_tokens"], 5);  // Sunny | , | 18 | degrees | .
  EXPECT_EQ(usage["total_tokens"], 11);
  EXPECT_EQ(json::parse(events[0])["id"], "chatcmpl-2");
}

TEST(OpenAiFake, ToolCallFragmentsAreTheSpecExample) {
  OpenAiFake fake;
  ChatReply reply;
  reply.tool_calls = {{"call_abc", "get_weather", R"({"city":"Paris"})", {}}, {"call_def", "get_time", "{}", {}}};
  fake.set_reply(reply);
  const auto events = sse_data(post(fake, "/v1/chat/completions", chat_request(true, false)).body);
  const std::vector<std::string> expected = {
      R"({"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null})",
      R"({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null})",
      R"({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null})",
      R"({"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_def","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null})",
      R"({"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null})",
      R"({"index":0,"delta":{},"finish_reason":"tool_calls"})",
  };
  ASSERT_EQ(events.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    ojson choice = ojson::parse(events[i])["choices"][0];
    EXPECT_TRUE(choice["logprobs"].is_null());
    choice.erase("logprobs");
    EXPECT_EQ(choice.dump(), expected[i]) << "event " << i;
  }
  EXPECT_EQ(events.back(), "[DONE]");
}

TEST(OpenAiFake, ToolCallVariantsOfCompatibleServers) {
  OpenAiFake fake;
  ChatReply reply;
  reply.role_chunk = false;
  ToolCall call{"call_1", "get_time", R"({"tz":"UTC"})", {}};
  call.whole = true;
  call.omit_type = true;
  reply.tool_calls = {call};
  fake.set_reply(reply);
  const auto events = sse_data(post(fake, "/v1/chat/completions", chat_request(true, false)).body);
  ASSERT_EQ(events.size(), 3u);  // the whole call, finish, [DONE]
  EXPECT_EQ(ojson::parse(events[0])["choices"][0]["delta"].dump(),
            R"({"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_time","arguments":"{\"tz\":\"UTC\"}"}}]})");
}

TEST(OpenAiFake, NonStreamingAnswerIsOneCompletion) {
  OpenAiFake fake;
  ChatReply reply("Checking.");
  reply.tool_calls = {{"call_1", "get_weather", R"({"city":"Paris"})", {}}};
  fake.set_reply(reply);
  const auto response = post(fake, "/v1/chat/completions", chat_request(false, false));
  ASSERT_EQ(response.status, 200);
  EXPECT_FALSE(response.chunked);
  const ojson body = ojson::parse(response.body);
  std::vector<std::string> keys;
  for (const auto &[key, value] : body.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "object", "created", "model", "choices", "usage", "system_fingerprint"}));
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Checking.");
  EXPECT_EQ(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(body["usage"]["total_tokens"], body["usage"]["prompt_tokens"].get<int>() + body["usage"]["completion_tokens"].get<int>());
}

TEST(OpenAiFake, QueuedRepliesComeFirstThenTheDefault) {
  OpenAiFake fake;
  fake.set_reply("default");
  fake.queue_reply("first");
  fake.queue_reply("second");
  std::vector<std::string> answers;
  for (int i = 0; i < 3; ++i) {
    answers.push_back(json::parse(post(fake, "/v1/chat/completions", chat_request(false, false)).body)["choices"][0]["message"]["content"]);
  }
  EXPECT_EQ(answers, (std::vector<std::string>{"first", "second", "default"}));
}

TEST(OpenAiFake, RecordsWhatTheClientSent) {
  OpenAiFake fake;
  post(fake, "/v1/chat/completions", chat_request(true, true));
  const auto request = fake.server().last_request("/v1/chat/completions");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->header("Authorization"), "Bearer sk-test");
  EXPECT_EQ(json::parse(request->body)["messages"][0]["content"], "What's the weather in Paris?");
}

TEST(OpenAiFake, GroqStylePrefixAnswersToo) {
  OpenAiFake fake;
  EXPECT_EQ(post(fake, "/openai/v1/chat/completions", chat_request(false, false)).status, 200);
}

TEST(OpenAiFake, WrongOrMissingKeyIs401WithoutEchoingTheKey) {
  OpenAiFake fake;
  fake.set_api_key("sk-test");
  auto response = post(fake, "/v1/chat/completions", chat_request(true, false),
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-wrong-secret"}});
  EXPECT_EQ(response.status, 401);
  json error = json::parse(response.body)["error"];
  EXPECT_EQ(error["code"], "invalid_api_key");
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_TRUE(error["param"].is_null());
  EXPECT_EQ(response.body.find("sk-wrong"), std::string::npos);
  response = post(fake, "/v1/chat/completions", chat_request(true, false), {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 401);
  EXPECT_TRUE(json::parse(response.body)["error"]["code"].is_null());
  EXPECT_EQ(post(fake, "/v1/chat/completions", chat_request(true, false)).status, 200);
}

TEST(OpenAiFake, ScriptedRateLimitCarriesTheErrorShapeAndRetryHeaders) {
  OpenAiFake fake;
  fake.server().fail_next(429, {{"retry-after-ms", "50"}, {"retry-after", "1"}, {"x-ratelimit-remaining-requests", "0"}});
  fake.server().fail_next(500);
  auto response = post(fake, "/v1/chat/completions", chat_request(true, false));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("retry-after-ms"), "50");
  EXPECT_EQ(response.header("retry-after"), "1");
  EXPECT_EQ(response.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(response.header("x-request-id").empty());
  const ojson body = ojson::parse(response.body);
  EXPECT_EQ(body.dump(), ojson::parse(openai_error_body(429)).dump());
  EXPECT_EQ(body["error"]["type"], "requests");
  EXPECT_EQ(body["error"]["code"], "rate_limit_exceeded");
  std::vector<std::string> keys;
  for (const auto &[key, value] : body["error"].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"message", "type", "param", "code"}));
  response = post(fake, "/v1/chat/completions", chat_request(true, false));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(json::parse(response.body)["error"]["type"], "server_error");
  EXPECT_EQ(post(fake, "/v1/chat/completions", chat_request(true, false)).status, 200);
}

TEST(OpenAiFake, BadRequestsAre400) {
  OpenAiFake fake;
  auto response = post(fake, "/v1/chat/completions", "{not json");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["error"]["type"], "invalid_request_error");
  response = post(fake, "/v1/chat/completions", R"({"model":"m","messages":[]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["error"]["param"], "messages");
}

TEST(OpenAiFake, InStreamErrorEventEndsTheStream) {
  OpenAiFake fake;
  ChatReply reply("one two three");
  reply.error = StreamError{1, "The model crashed", "server_error"};
  fake.set_reply(reply);
  const auto response = post(fake, "/v1/chat/completions", chat_request(true, false));
  EXPECT_TRUE(response.complete);
  const auto events = sse_data(response.body);
  ASSERT_EQ(events.size(), 3u);  // role, "one", error
  EXPECT_EQ(events[2], R"({"error":{"message":"The model crashed","type":"server_error","param":null,"code":null}})");
}

TEST(OpenAiFake, MalformedEventsCanBeInjected) {
  OpenAiFake fake;
  fake.set_reply("Hello there!");
  fake.server().inject_next(2, std::string(OpenAiFake::kInvalidJsonEvent));
  fake.server().inject_next(1, std::string(OpenAiFake::kGarbageLine));
  auto response = post(fake, "/v1/chat/completions", chat_request(true, false));
  ASSERT_GE(response.chunks.size(), 3u);
  EXPECT_EQ(response.chunks[2], OpenAiFake::kInvalidJsonEvent);
  EXPECT_TRUE(json::parse(sse_data(response.chunks[2])[0], nullptr, false).is_discarded());
  response = post(fake, "/v1/chat/completions", chat_request(true, false));
  EXPECT_EQ(response.chunks[1], OpenAiFake::kGarbageLine);
}

TEST(OpenAiFake, StreamCutMidTokenLeavesAPrefix) {
  OpenAiFake fake;
  fake.set_reply("Hello there!");
  const std::string full = post(fake, "/v1/chat/completions", chat_request(true, false)).body;
  const size_t cut = full.find("there") + 2;
  fake.server().cut_next_after(cut);
  const auto response = post(fake, "/v1/chat/completions", chat_request(true, false));
  EXPECT_FALSE(response.complete);
  EXPECT_EQ(response.body.size(), cut);
  // Same bytes up to the cut except the completion id.
  std::string expected = full.substr(0, cut);
  for (size_t at = 0; (at = expected.find("chatcmpl-1", at)) != std::string::npos;) expected.replace(at, 10, "chatcmpl-2");
  EXPECT_EQ(response.body, expected);
}

TEST(OpenAiFake, SpeechPcmIs24kHzToneInChunks) {
  OpenAiFake fake;
  const auto response =
      post(fake, "/v1/audio/speech", R"({"model":"tts-1","input":"Hello","voice":"alloy","response_format":"pcm"})");
  ASSERT_EQ(response.status, 200);
  const std::string expected = synthesize("Hello", AudioFormat{AudioEncoding::pcm16, 24000, false});
  EXPECT_EQ(expected.size(), 5u * 1200 * 2);  // 5 characters x 50 ms x 24 kHz x 2 bytes
  EXPECT_EQ(response.body, expected);
  EXPECT_EQ(response.chunks.size(), 3u);  // 100 ms = 4800 bytes per chunk
  EXPECT_EQ(response.chunks[0].size(), 4800u);
  const auto samples = decode_audio(response.body, AudioEncoding::pcm16);
  EXPECT_NEAR(estimate_frequency_hz(samples, 24000), tone_frequency_hz("Hello"), 2.0);
}

TEST(OpenAiFake, SpeechWavAndUnsupportedFormats) {
  OpenAiFake fake;
  auto response = post(fake, "/v1/audio/speech", R"({"model":"tts-1","input":"Hi","voice":"alloy","response_format":"wav"})");
  ASSERT_EQ(response.status, 200);
  const auto wav = audio::parse_wav(std::span(reinterpret_cast<const uint8_t *>(response.body.data()), response.body.size()));
  EXPECT_EQ(wav.format.sample_rate, 24000u);
  EXPECT_EQ(wav.frames(), 2u * 1200);
  response = post(fake, "/v1/audio/speech", R"({"model":"tts-1","input":"Hi","voice":"alloy"})");  // mp3 by default
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["error"]["param"], "response_format");
  response = post(fake, "/v1/audio/speech", R"({"model":"tts-1","voice":"alloy","response_format":"pcm"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["error"]["param"], "input");
}

std::string multipart(const std::string &boundary, const std::vector<MultipartPart> &parts) {
  std::string body;
  for (const auto &part : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
    if (!part.filename.empty()) body += "; filename=\"" + part.filename + "\"";
    body += "\r\n";
    if (!part.content_type.empty()) body += "Content-Type: " + part.content_type + "\r\n";
    body += "\r\n" + part.data + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

HttpResponse transcribe(OpenAiFake &fake, std::vector<MultipartPart> parts) {
  const std::string boundary = "----parleyBoundary42";
  return post(fake, "/v1/audio/transcriptions", multipart(boundary, parts),
              {{"Content-Type", "multipart/form-data; boundary=" + boundary}, {"Authorization", "Bearer sk-test"}});
}

const AudioFormat kWav16k{AudioEncoding::pcm16, 16000, true};

TEST(OpenAiFake, TranscriptionFormats) {
  OpenAiFake fake;
  fake.add_transcript("Hello there.");
  fake.add_transcript("Second one.");
  fake.add_transcript("Third, with words.");
  const MultipartPart file{"file", "audio.wav", "audio/wav", speech_audio(1500, kWav16k)};
  auto response = transcribe(fake, {file, {"model", "", "", "whisper-1"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"text":"Hello there.","usage":{"type":"duration","seconds":2}})");
  response = transcribe(fake, {file, {"model", "", "", "whisper-1"}, {"response_format", "", "", "text"}});
  EXPECT_EQ(response.body, "Second one.\n");
  EXPECT_TRUE(response.header("Content-Type").starts_with("text/plain"));
  response = transcribe(fake, {file,
                               {"model", "", "", "whisper-1"},
                               {"response_format", "", "", "verbose_json"},
                               {"timestamp_granularities[]", "", "", "word"}});
  const json verbose = json::parse(response.body);
  EXPECT_EQ(verbose["task"], "transcribe");
  EXPECT_EQ(verbose["text"], "Third, with words.");
  EXPECT_DOUBLE_EQ(verbose["duration"].get<double>(), 1.5);
  ASSERT_EQ(verbose["words"].size(), 3u);
  EXPECT_EQ(verbose["words"][0]["word"], "third");
  EXPECT_DOUBLE_EQ(verbose["words"][2]["end"].get<double>(), 1.5);
  const auto form = fake.last_transcription_form();
  ASSERT_FALSE(form.empty());
  EXPECT_EQ(form[0].filename, "audio.wav");
  EXPECT_EQ(form[0].content_type, "audio/wav");
  EXPECT_EQ(form[0].data, file.data);
}

TEST(OpenAiFake, TranscriptionOfSilenceIsEmptyAndBadFilesAre400) {
  OpenAiFake fake;
  fake.add_transcript("never heard");
  auto response = transcribe(fake, {{"file", "a.wav", "audio/wav", silence_audio(1000, kWav16k)}, {"model", "", "", "whisper-1"}});
  EXPECT_EQ(json::parse(response.body)["text"], "");
  response = transcribe(fake, {{"file", "a.wav", "audio/wav", "RIFF garbage"}, {"model", "", "", "whisper-1"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(json::parse(response.body)["error"]["message"].get<std::string>().find("Invalid file format"), std::string::npos);
  response = transcribe(fake, {{"file", "a.wav", "audio/wav", speech_audio(500, kWav16k)}});
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["error"]["param"], "model");
  response = post(fake, "/v1/audio/transcriptions", "x", {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 400);
}

TEST(OpenAiFake, WordPieces) {
  EXPECT_EQ(word_pieces("Hello there!"), (std::vector<std::string>{"Hello", " there", "!"}));
  EXPECT_EQ(word_pieces("It's 5 o'clock."), (std::vector<std::string>{"It's", " 5", " o'clock", "."}));
  EXPECT_TRUE(word_pieces("").empty());
}

}  // namespace
}  // namespace parley::fakes
