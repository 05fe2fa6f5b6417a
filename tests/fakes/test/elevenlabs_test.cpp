// The ElevenLabs fake against elevenlabs.md: REST streaming, with-timestamps, the
// stream-input WebSocket and Scribe realtime.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/audio.hpp"
#include "fakes/elevenlabs_fake.hpp"
#include "fakes/provider_util.hpp"
#include "raw_client.hpp"

namespace parley::fakes {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpResponse;
using testing::RawClient;
using testing::WsClient;
using testing::WsFrame;

const Headers kHeaders = {{"Content-Type", "application/json"}, {"xi-api-key", "xi-test"}};
const AudioFormat kUlaw{AudioEncoding::ulaw, 8000, false};
const AudioFormat kPcm16k{AudioEncoding::pcm16, 16000, false};

HttpResponse post(ElevenLabsFake &fake, const std::string &target, const std::string &body, const Headers &headers = kHeaders) {
  RawClient client(fake.server().port());
  return client.request("POST", target, headers, body);
}

std::string unbase64(const std::string &text) { return detail::unbase64(text).value(); }

TEST(ElevenLabsFake, StreamReturnsTheToneInTheRequestedFormat) {
  ElevenLabsFake fake;
  fake.set_api_key("xi-test");
  const auto response = post(fake, "/v1/text-to-speech/voice123/stream?output_format=ulaw_8000&optimize_streaming_latency=3",
                             R"({"text":"Hi there","model_id":"eleven_flash_v2_5"})");
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(response.chunked);
  EXPECT_EQ(response.body, synthesize("Hi there", kUlaw));
  EXPECT_EQ(response.body.size(), 8u * 400);  // 8 characters x 50 ms at 8 kHz, 1 byte each
  EXPECT_EQ(response.chunks.size(), 8u);      // 50 ms per chunk
  const auto request = fake.server().last_request();
  EXPECT_EQ(request->path, "/v1/text-to-speech/voice123/stream");
  EXPECT_EQ(request->query_param("output_format"), "ulaw_8000");
  EXPECT_EQ(request->query_param("optimize_streaming_latency"), "3");
  EXPECT_EQ(json::parse(request->body)["model_id"], "eleven_flash_v2_5");
}

TEST(ElevenLabsFake, PcmRatesAndTheNonStreamingTwin) {
  ElevenLabsFake fake;
  auto response = post(fake, "/v1/text-to-speech/v/stream?output_format=pcm_24000", R"({"text":"Hello"})");
  EXPECT_EQ(response.body, synthesize("Hello", AudioFormat{AudioEncoding::pcm16, 24000, false}));
  response = post(fake, "/v1/text-to-speech/v?output_format=pcm_16000", R"({"text":"Hello"})");
  EXPECT_FALSE(response.chunked);
  EXPECT_EQ(response.body, synthesize("Hello", kPcm16k));
}

TEST(ElevenLabsFake, ErrorsUseTheDetailShapes) {
  ElevenLabsFake fake;
  fake.set_api_key("xi-test");
  auto response = post(fake, "/v1/text-to-speech/v/stream?output_format=ulaw_8000", R"({"text":"x"})",
                       {{"Content-Type", "application/json"}, {"xi-api-key", "wrong-key"}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body, R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})");
  response = post(fake, "/v1/text-to-speech/v/stream?output_format=ulaw_8000", R"({"model_id":"m"})");
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(response.body, R"({"detail":[{"loc":["body","text"],"msg":"Field required","type":"missing"}]})");
  response = post(fake, "/v1/text-to-speech/v/stream", R"({"text":"x"})");  // mp3 by default
  EXPECT_EQ(response.status, 400);
  fake.server().fail_next(429);
  response = post(fake, "/v1/text-to-speech/v/stream?output_format=ulaw_8000", R"({"text":"x"})");
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(json::parse(response.body)["detail"]["status"], "too_many_concurrent_requests");
}

TEST(ElevenLabsFake, WithTimestampsStreamsAlignedJsonLines) {
  ElevenLabsFake fake;
  const auto response = post(fake, "/v1/text-to-speech/v/stream/with-timestamps?output_format=pcm_16000", R"({"text":"Hi you"})");
  ASSERT_EQ(response.status, 200);
  ASSERT_EQ(response.chunks.size(), 2u);  // "Hi " and "you"
  std::string audio, text;
  std::vector<double> starts;
  for (const auto &line : response.chunks) {
    ASSERT_EQ(line.back(), '\n');
    const json object = json::parse(line);
    audio += unbase64(object["audio_base64"]);
    for (const auto &c : object["alignment"]["characters"]) text += c.get<std::string>();
    for (const auto &s : object["alignment"]["character_start_times_seconds"]) starts.push_back(s);
    EXPECT_EQ(object["alignment"], object["normalized_alignment"]);
  }
  EXPECT_EQ(text, "Hi you");
  EXPECT_EQ(audio, synthesize("Hi you", kPcm16k));
  EXPECT_EQ(starts, (std::vector<double>{0.0, 0.05, 0.1, 0.15, 0.2, 0.25}));
}

std::string stream_input_target(const std::string &format = "pcm_16000") {
  return "/v1/text-to-speech/voice123/stream-input?model_id=eleven_flash_v2_5&output_format=" + format;
}

TEST(ElevenLabsFake, StreamInputGeneratesOnFlushAndEndsWithIsFinal) {
  ElevenLabsFake fake;
  fake.set_api_key("xi-test");
  WsClient ws(fake.server().port(), stream_input_target(), {{"xi-api-key", "xi-test"}});
  ASSERT_EQ(ws.upgrade.status, 101);
  ws.client.ws_text(R"({"text":" ","voice_settings":{"stability":0.5,"similarity_boost":0.8},"generation_config":{"chunk_length_schedule":[120,160,250,290]}})");
  ws.client.ws_text(R"({"text":"Hello world. ","try_trigger_generation":false,"flush":false})");
  EXPECT_FALSE(ws.client.ws_read(200ms)) << "13 characters are under the first schedule step";
  ws.client.ws_text(R"({"text":"How are you? ","flush":true})");
  const std::string text = "Hello world. How are you? ";
  std::string audio, chars;
  for (const std::string piece : {"Hello ", "world. ", "How ", "are ", "you? "}) {
    const auto frame = ws.client.ws_read();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->opcode, 1);
    const nlohmann::ordered_json message = nlohmann::ordered_json::parse(frame->payload);
    std::vector<std::string> keys;
    for (const auto &[key, value] : message.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"audio", "isFinal", "normalizedAlignment", "alignment"}));
    EXPECT_TRUE(message["isFinal"].is_null());
    std::string piece_chars;
    for (const auto &c : message["alignment"]["chars"]) piece_chars += c.get<std::string>();
    EXPECT_EQ(piece_chars, piece);
    EXPECT_EQ(message["alignment"]["charStartTimesMs"][1], 50);  // relative to this chunk
    EXPECT_EQ(message["alignment"]["charDurationsMs"][0], 50);
    audio += unbase64(message["audio"]);
    chars += piece_chars;
  }
  EXPECT_EQ(chars, text);
  EXPECT_EQ(audio, synthesize(text, kPcm16k));
  ws.client.ws_text(R"({"text":""})");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, R"({"isFinal":true})");
  EXPECT_EQ(frames[1].opcode, 8);
  EXPECT_EQ(frames[1].close_code(), 1000);
}

TEST(ElevenLabsFake, StreamInputScheduleTriggersGenerationAndEosFlushesTheRest) {
  ElevenLabsFake fake;
  WsClient ws(fake.server().port(), stream_input_target("ulaw_8000"));
  ws.client.ws_text(R"({"text":" ","generation_config":{"chunk_length_schedule":[50]}})");
  ws.client.ws_text(R"({"text":"This sentence is long enough to pass fifty characters. "})");
  auto frame = ws.client.ws_read();
  ASSERT_TRUE(frame);
  EXPECT_EQ(json::parse(frame->payload)["alignment"]["chars"][0], "T");
  while ((frame = ws.client.ws_read(300ms))) {
  }
  ws.client.ws_text(R"({"text":"Tail. "})");
  ws.client.ws_text(R"({"text":""})");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 3u);  // audio for "Tail. ", isFinal, close
  EXPECT_EQ(unbase64(json::parse(frames[0].payload)["audio"]), synthesize("Tail. ", kUlaw));
  EXPECT_EQ(frames[1].payload, R"({"isFinal":true})");
}

TEST(ElevenLabsFake, StreamInputKeyInTheFirstMessage) {
  ElevenLabsFake fake;
  fake.set_api_key("xi-test");
  {
    WsClient ws(fake.server().port(), stream_input_target());
    ASSERT_EQ(ws.upgrade.status, 101);
    ws.client.ws_text(R"({"text":" ","xi_api_key":"xi-test"})");
    ws.client.ws_text(R"({"text":"Ok. ","flush":true})");
    EXPECT_EQ(ws.client.ws_read()->opcode, 1);
  }
  {
    WsClient ws(fake.server().port(), stream_input_target());
    ws.client.ws_text(R"({"text":" ","xi-api-key":"nope"})");
    const auto frames = ws.client.ws_read_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(json::parse(frames[0].payload)["error"], "invalid_api_key");
    EXPECT_EQ(frames[1].close_code(), 1008);
  }
  {
    WsClient ws(fake.server().port(), stream_input_target(), {{"xi-api-key", "wrong"}});
    EXPECT_EQ(ws.upgrade.status, 401);
  }
}

TEST(ElevenLabsFake, StreamInputRejectsAMissingInitAndTimesOut) {
  ElevenLabsFake fake;
  {
    WsClient ws(fake.server().port(), stream_input_target());
    ws.client.ws_text(R"({"text":"Hello "})");
    const auto frames = ws.client.ws_read_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[1].close_code(), 1008);
  }
  fake.set_inactivity_timeout(200ms);
  WsClient ws(fake.server().port(), stream_input_target());
  ws.client.ws_text(R"({"text":" "})");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(json::parse(frames[0].payload)["error"], "input_timeout_exceeded");
  EXPECT_EQ(frames[1].close_code(), 1008);
  EXPECT_EQ(frames[1].close_reason(), "input_timeout_exceeded");
}

TEST(ElevenLabsFake, StreamInputUnsupportedFormatIsRefused) {
  ElevenLabsFake fake;
  WsClient ws(fake.server().port(), "/v1/text-to-speech/v/stream-input?model_id=m");  // mp3 by default
  EXPECT_EQ(ws.upgrade.status, 400);
  EXPECT_EQ(json::parse(ws.upgrade.body)["detail"]["status"], "unsupported_output_format");
}

// ---------------------------------------------------------------------------------------------
// Scribe

std::string audio_chunk(const std::string &audio, bool commit = false) {
  return json{{"message_type", "input_audio_chunk"}, {"audio_base_64", detail::base64(audio)}, {"commit", commit}, {"sample_rate", 16000}}
      .dump();
}

TEST(ElevenLabsFake, ScribeManualCommitPartialsAndTimestamps) {
  ElevenLabsFake fake;
  fake.set_api_key("xi-test");
  fake.add_transcript("Hello, how are you?");
  WsClient ws(fake.server().port(),
              "/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&audio_format=pcm_16000&commit_strategy=manual&include_timestamps=true",
              {{"xi-api-key", "xi-test"}});
  ASSERT_EQ(ws.upgrade.status, 101);
  const auto started = nlohmann::ordered_json::parse(ws.client.ws_read()->payload);
  EXPECT_EQ(started["message_type"], "session_started");
  EXPECT_EQ(started["session_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(started["config"].dump(),
            R"({"sample_rate":16000,"audio_format":"pcm_16000","language_code":"en","model_id":"scribe_v2_realtime","commit_strategy":"manual","enable_logging":true,"include_timestamps":true})");
  for (int i = 0; i < 4; ++i) ws.client.ws_text(audio_chunk(speech_audio(250, kPcm16k)));
  std::vector<std::string> partials;
  for (int i = 0; i < 3; ++i) {
    const json message = json::parse(ws.client.ws_read()->payload);
    EXPECT_EQ(message["message_type"], "partial_transcript");
    partials.push_back(message["text"]);
  }
  EXPECT_EQ(partials, (std::vector<std::string>{"Hello,", "Hello, how", "Hello, how are"}));
  EXPECT_FALSE(ws.client.ws_read(200ms)) << "manual strategy: nothing is committed without a commit";
  ws.client.ws_text(audio_chunk("", true));
  EXPECT_EQ(ws.client.ws_read()->payload, R"({"message_type":"committed_transcript","text":"Hello, how are you?"})");
  const json timed = json::parse(ws.client.ws_read()->payload);
  EXPECT_EQ(timed["message_type"], "committed_transcript_with_timestamps");
  EXPECT_EQ(timed["language_code"], "en");
  ASSERT_EQ(timed["words"].size(), 7u);  // 4 words, 3 spacings
  EXPECT_EQ(timed["words"][0]["text"], "Hello,");
  EXPECT_EQ(timed["words"][0]["type"], "word");
  EXPECT_EQ(timed["words"][1]["type"], "spacing");
  EXPECT_DOUBLE_EQ(timed["words"][6]["end"].get<double>(), 1.0);
}

TEST(ElevenLabsFake, ScribeVadCommitsByItselfAndSilenceIsNotSpeech) {
  ElevenLabsFake fake;
  fake.add_transcript("First.");
  fake.add_transcript("Second.");
  fake.set_stt_timing(SttTiming{std::chrono::milliseconds(500), std::chrono::milliseconds(0), std::chrono::milliseconds(100)});
  WsClient ws(fake.server().port(), "/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&audio_format=ulaw_8000&commit_strategy=vad");
  ws.client.ws_read();  // session_started
  const AudioFormat ulaw{AudioEncoding::ulaw, 8000, false};
  ws.client.ws_text(audio_chunk(silence_audio(2000, ulaw)));
  EXPECT_FALSE(ws.client.ws_read(200ms));
  ws.client.ws_text(audio_chunk(speech_audio(500, ulaw)));
  EXPECT_EQ(json::parse(ws.client.ws_read()->payload)["text"], "First.");
  ws.client.ws_text(R"({"message_type":"commit"})");
  EXPECT_EQ(ws.client.ws_read()->payload, R"({"message_type":"committed_transcript","text":""})");
}

TEST(ElevenLabsFake, ScribeErrors) {
  ElevenLabsFake fake;
  {
    WsClient ws(fake.server().port(), "/v1/speech-to-text/realtime?audio_format=pcm_16000");
    EXPECT_EQ(ws.upgrade.status, 422);
    EXPECT_EQ(json::parse(ws.upgrade.body)["detail"][0]["loc"][1], "model_id");
  }
  {
    WsClient ws(fake.server().port(), "/v1/speech-to-text/realtime?model_id=scribe_v2_realtime");
    ws.client.ws_read();
    ws.client.ws_text(R"({"message_type":"input_audio_chunk","audio_base_64":"***"})");
    const json error = json::parse(ws.client.ws_read()->payload);
    EXPECT_EQ(error["message_type"], "input_error");
    EXPECT_TRUE(error["error"].is_string());
  }
  // A scripted quota error after session_started, then a close.
  Fault fault;
  fault.inject_at = 1;
  fault.inject = ElevenLabsFake::scribe_error("quota_exceeded", "Quota exceeded");
  fault.ws_end = Fault::WsEnd::close;
  fault.ws_after_sent = 2;
  fault.ws_close_code = 1008;
  fake.server().push_fault(fault);
  WsClient ws(fake.server().port(), "/v1/speech-to-text/realtime?model_id=scribe_v2_realtime");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(json::parse(frames[0].payload)["message_type"], "session_started");
  EXPECT_EQ(frames[1].payload, R"({"message_type":"quota_exceeded","error":"Quota exceeded"})");
  EXPECT_EQ(frames[2].close_code(), 1008);
}

}  // namespace
}  // namespace parley::fakes
