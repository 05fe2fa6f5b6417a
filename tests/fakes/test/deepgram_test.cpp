// The Deepgram fake against deepgram.md: live /v1/listen and Aura /v1/speak.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "audio/wav.hpp"
#include "fakes/audio.hpp"
#include "fakes/deepgram_fake.hpp"
#include "fakes/provider_util.hpp"
#include "raw_client.hpp"

namespace parley::fakes {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ojson = nlohmann::ordered_json;
using testing::RawClient;
using testing::WsClient;

const AudioFormat kUlaw{AudioEncoding::ulaw, 8000, false};
const Headers kAuth = {{"Authorization", "Token dg-test"}};
const std::string kTwilioListen =
    "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&channels=1&interim_results=true&endpointing=300"
    "&utterance_end_ms=1000&vad_events=true&smart_format=true";

void send_audio(RawClient &client, const std::string &audio, size_t frame_bytes) {
  for (const auto &frame : split_bytes(audio, frame_bytes)) client.ws_binary(frame);
}

ojson next_json(RawClient &client) {
  const auto frame = client.ws_read();
  if (!frame) return {};
  EXPECT_EQ(frame->opcode, 1);
  return ojson::parse(frame->payload);
}

TEST(DeepgramFake, ListenStreamsInterimsFinalsAndUtteranceEnd) {
  DeepgramFake fake;
  fake.set_api_key("dg-test");
  fake.add_transcript("Hello there.");
  WsClient ws(fake.server().port(), kTwilioListen, kAuth);
  ASSERT_EQ(ws.upgrade.status, 101);
  EXPECT_FALSE(ws.upgrade.header("dg-request-id").empty());
  send_audio(ws.client, speech_audio(1000, kUlaw), 800);  // 100 ms frames

  const ojson started = next_json(ws.client);
  EXPECT_EQ(started.dump(), R"({"type":"SpeechStarted","channel":[0],"timestamp":0.0})");
  // Interims every 250 ms of speech, reported at the end of the 100 ms frame that crossed it.
  for (const double duration : {0.3, 0.5, 0.8}) {
    const ojson interim = next_json(ws.client);
    EXPECT_EQ(interim["type"], "Results");
    EXPECT_EQ(interim["is_final"], false);
    EXPECT_EQ(interim["speech_final"], false);
    EXPECT_EQ(interim["channel"]["alternatives"][0]["transcript"], "Hello");
    EXPECT_DOUBLE_EQ(interim["duration"].get<double>(), duration);
  }
  const ojson final_result = next_json(ws.client);
  std::vector<std::string> keys;
  for (const auto &[key, value] : final_result.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"type", "channel_index", "duration", "start", "is_final", "speech_final",
                                            "from_finalize", "channel", "metadata"}));
  EXPECT_EQ(final_result["channel_index"].dump(), "[0,1]");
  EXPECT_EQ(final_result["is_final"], true);
  EXPECT_EQ(final_result["speech_final"], true);
  EXPECT_EQ(final_result["from_finalize"], false);
  EXPECT_DOUBLE_EQ(final_result["start"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(final_result["duration"].get<double>(), 1.0);
  const ojson alternative = final_result["channel"]["alternatives"][0];
  EXPECT_EQ(alternative["transcript"], "Hello there.");
  EXPECT_EQ(alternative["words"].dump(),
            R"([{"word":"hello","start":0.0,"end":0.5,"confidence":0.99,"punctuated_word":"Hello"},)"
            R"({"word":"there","start":0.5,"end":1.0,"confidence":0.99,"punctuated_word":"there."}])");
  EXPECT_EQ(final_result["metadata"]["model_info"]["arch"], "nova-3");

  EXPECT_FALSE(ws.client.ws_read(200ms)) << "UtteranceEnd waits for utterance_end_ms of audio after the last word";
  send_audio(ws.client, silence_audio(1000, kUlaw), 800);
  EXPECT_EQ(next_json(ws.client).dump(), R"({"type":"UtteranceEnd","channel":[0,1],"last_word_end":1.0})");

  ws.client.ws_text(R"({"type":"CloseStream"})");
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 2u);
  const ojson metadata = ojson::parse(frames[0].payload);
  EXPECT_EQ(metadata["type"], "Metadata");
  EXPECT_EQ(metadata["transaction_key"], "deprecated");
  EXPECT_EQ(metadata["sha256"], detail::sha256_hex(speech_audio(1000, kUlaw) + silence_audio(1000, kUlaw)));
  EXPECT_DOUBLE_EQ(metadata["duration"].get<double>(), 2.0);
  EXPECT_EQ(metadata["channels"], 1);
  EXPECT_EQ(frames[1].opcode, 8);
  EXPECT_EQ(frames[1].close_code(), 1000);

  const auto request = fake.server().last_request("/v1/listen");
  EXPECT_EQ(request->query_param("encoding"), "mulaw");
  EXPECT_EQ(request->header("Authorization"), "Token dg-test");
  EXPECT_EQ(request->received.size(), 21u);  // 20 audio frames and CloseStream
  EXPECT_TRUE(request->received[0].binary);
}

TEST(DeepgramFake, WithoutPunctuationOrInterimsOnlyLexicalFinals) {
  DeepgramFake fake;
  fake.add_transcript("Hello there.");
  WsClient ws(fake.server().port(), "/v1/listen?model=nova-2-phonecall&encoding=linear16&sample_rate=16000&endpointing=false");
  send_audio(ws.client, speech_audio(1000, AudioFormat{AudioEncoding::pcm16, 16000, false}), 3200);
  const ojson result = next_json(ws.client);
  EXPECT_EQ(result["is_final"], true);
  EXPECT_EQ(result["speech_final"], false);  // endpointing=false
  EXPECT_EQ(result["channel"]["alternatives"][0]["transcript"], "hello there");
  EXPECT_FALSE(result["channel"]["alternatives"][0]["words"][0].contains("punctuated_word"));
}

TEST(DeepgramFake, FinalizeFlushesTheUtteranceSoFar) {
  DeepgramFake fake;
  fake.add_transcript("Book a table");
  WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&punctuate=true");
  send_audio(ws.client, speech_audio(400, kUlaw), 800);
  EXPECT_FALSE(ws.client.ws_read(200ms));
  ws.client.ws_text(R"({"type":"Finalize"})");
  const ojson result = next_json(ws.client);
  EXPECT_EQ(result["from_finalize"], true);
  EXPECT_EQ(result["is_final"], true);
  EXPECT_EQ(result["speech_final"], false);
  EXPECT_EQ(result["channel"]["alternatives"][0]["transcript"], "Book a table");
  ws.client.ws_text(R"({"type":"Finalize"})");  // nothing pending: an empty final
  EXPECT_EQ(next_json(ws.client)["channel"]["alternatives"][0]["transcript"], "");
}

TEST(DeepgramFake, FinalAfterSilenceEndsTheUtteranceOnItsOwn) {
  DeepgramFake fake;
  fake.add_transcript("Book a table");
  fake.set_stt_timing({60s, 0ms, 100ms, 150ms});  // no interims; finals 150 ms after the speech
  WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000&endpointing=300");
  send_audio(ws.client, speech_audio(400, kUlaw), 800);
  const auto speech_sent = std::chrono::steady_clock::now();
  send_audio(ws.client, silence_audio(100, kUlaw), 800);  // silence alone does not end it early
  const ojson result = next_json(ws.client);
  const auto waited = std::chrono::steady_clock::now() - speech_sent;
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 1000ms);
  EXPECT_EQ(result["is_final"], true);
  EXPECT_EQ(result["speech_final"], true);
  EXPECT_EQ(result["from_finalize"], false);
  EXPECT_EQ(result["channel"]["alternatives"][0]["transcript"], "book a table");
  ws.client.ws_text(R"({"type":"Finalize"})");  // already final: an empty final
  EXPECT_EQ(next_json(ws.client)["channel"]["alternatives"][0]["transcript"], "");
}

TEST(DeepgramFake, InactivityClosesWithNet0001AndKeepAliveDefersIt) {
  DeepgramFake fake;
  fake.set_inactivity_timeout(500ms);
  WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000");
  ASSERT_EQ(ws.upgrade.status, 101);
  for (int i = 0; i < 10; ++i) {
    ws.client.ws_text(R"({"type":"KeepAlive"})");
    EXPECT_FALSE(ws.client.ws_read(100ms)) << "KeepAlive has no reply and keeps the stream open";
  }
  const auto frame = ws.client.ws_read(5s);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, 8);
  EXPECT_EQ(frame->close_code(), 1011);
  EXPECT_TRUE(frame->close_reason().starts_with("NET-0001")) << frame->close_reason();
}

TEST(DeepgramFake, HandshakeErrorsAreHttpWithErrCodeBodies) {
  DeepgramFake fake;
  fake.set_api_key("dg-test");
  {
    WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000", {{"Authorization", "Token bad"}});
    EXPECT_EQ(ws.upgrade.status, 401);
    const json body = json::parse(ws.upgrade.body);
    EXPECT_EQ(body["err_code"], "INVALID_AUTH");
    EXPECT_EQ(body["err_msg"], "Invalid credentials.");
    EXPECT_TRUE(body["request_id"].is_string());
  }
  {
    WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw", kAuth);
    EXPECT_EQ(ws.upgrade.status, 400);
  }
  {
    WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000", {{"Authorization", "Bearer dg-test"}});
    EXPECT_EQ(ws.upgrade.status, 101);
  }
}

TEST(DeepgramFake, ServerCloseWithAnErrorMidStream) {
  DeepgramFake fake;
  Fault fault;
  fault.ws_end = Fault::WsEnd::close;
  fault.ws_after_received = 3;
  fault.ws_close_code = 1008;
  fault.ws_close_reason = "DATA-0000";
  fake.server().push_fault(fault);
  WsClient ws(fake.server().port(), "/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000");
  send_audio(ws.client, silence_audio(300, kUlaw), 800);
  const auto frames = ws.client.ws_read_all();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), 1008);
  EXPECT_EQ(frames[0].close_reason(), "DATA-0000");
}

TEST(DeepgramFake, SpeakReturnsRawOrWavAudio) {
  DeepgramFake fake;
  fake.set_api_key("dg-test");
  RawClient client(fake.server().port());
  Headers headers = {{"Authorization", "Token dg-test"}, {"Content-Type", "application/json"}};
  auto response = client.request("POST", "/v1/speak?model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000&container=none", headers,
                                  R"({"text":"Hello, how can I help you today?"})");
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(response.chunked);
  EXPECT_EQ(response.body, synthesize("Hello, how can I help you today?", kUlaw));
  EXPECT_EQ(response.header("dg-model-name"), "aura-2-thalia-en");
  EXPECT_EQ(response.header("dg-char-count"), "32");
  response = client.request("POST", "/v1/speak?model=aura-2-thalia-en&encoding=linear16&sample_rate=16000&container=wav", headers,
                            R"({"text":"Hi"})");
  const auto wav = audio::parse_wav(std::span(reinterpret_cast<const uint8_t *>(response.body.data()), response.body.size()));
  EXPECT_EQ(wav.format.sample_rate, 16000u);
  EXPECT_EQ(wav.frames(), 2u * 800);
  response = client.request("POST", "/v1/speak?encoding=mulaw&sample_rate=8000", {{"Authorization", "Token nope"}}, R"({"text":"Hi"})");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(json::parse(response.body)["err_code"], "INVALID_AUTH");
  response = client.request("POST", "/v1/speak?encoding=mp3", headers, R"({"text":"Hi"})");
  EXPECT_EQ(response.status, 400);
}

}  // namespace
}  // namespace parley::fakes
