// ElevenLabs against its fake over loopback: HTTP streaming TTS ("elevenlabs"), the
// stream-input WebSocket TTS ("elevenlabs_ws") and Scribe realtime STT ("elevenlabs").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/elevenlabs_fake.hpp"
#include "speech_harness.hpp"

namespace parley::providers::testing {
namespace {

using fakes::AudioEncoding;
using fakes::AudioFormat;
using nlohmann::json;

const AudioFormat kPcm16k{AudioEncoding::pcm16, 16000, false};

// A WebSocket that accepts and then never says anything.
class SilentHandler final : public fakes::WsHandler {
 public:
  void on_open(const std::shared_ptr<fakes::WsSession> &session) override { session_ = session; }
  void on_text(std::string_view) override {}
  void on_binary(std::string_view) override {}
  void on_closed(uint16_t) override { session_.reset(); }

 private:
  std::shared_ptr<fakes::WsSession> session_;
};

fakes::WsRoute silent_route() {
  return [](const fakes::Request &) {
    fakes::WsAccept accept;
    accept.handler = std::make_shared<SilentHandler>();
    return accept;
  };
}

std::vector<int16_t> fake_speech(const std::string &text, const AudioFormat &format) {
  return fakes::decode_audio(fakes::synthesize(text, format), format.encoding);
}

std::vector<int16_t> concat(std::vector<int16_t> a, const std::vector<int16_t> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class ElevenLabsTest : public ::testing::Test {
 protected:
  explicit ElevenLabsTest(fakes::ServerOptions options = {}) : fake_(options) { fake_.set_api_key(kKey); }

  json stt_config(json extra = json::object()) {
    json c = config("elevenlabs", std::move(extra));
    c.erase("voice");
    return c;
  }

  json config(std::string provider, json extra = json::object()) {
    json c = {{"provider", std::move(provider)},
              {"voice", "voice1"},
              {"api_key", kKey},
              {"base_url", fake_.base_url()},
              {"connect_timeout_ms", 1000},
              {"first_byte_timeout_ms", 2000},
              {"idle_timeout_ms", 2000}};
    for (auto &[k, v] : extra.items()) c[k] = v;
    return c;
  }

  Harness h_;
  fakes::ElevenLabsFake fake_;
};

// ---------------------------------------------------------------------------------------------
// HTTP streaming TTS

TEST_F(ElevenLabsTest, HttpStreamsExactAudioAtTheDeclaredRate) {
  auto tts = h_.make_tts(config("elevenlabs"));
  EXPECT_EQ(tts->name(), "elevenlabs");
  ASSERT_EQ(tts->sample_rate(), 16000);
  const Spoken spoken = speak(h_, *tts, {"Hello there. ", "How are you?"});
  ASSERT_EQ(spoken.done, 1) << (spoken.errors.empty() ? "" : spoken.errors[0].message);
  EXPECT_TRUE(spoken.errors.empty());
  EXPECT_FALSE(spoken.off_executor);
  // Sample for sample what the service sent, chunk after chunk: 13 + 12 characters of 50 ms.
  EXPECT_EQ(spoken.samples, concat(fake_speech("Hello there. ", kPcm16k), fake_speech("How are you?", kPcm16k)));
  EXPECT_EQ(spoken.samples.size(), 25u * 800u);
  EXPECT_GT(spoken.audio_calls, 2);  // delivered as it streamed, not in one piece

  const auto requests = fake_.server().requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/text-to-speech/voice1/stream");
  EXPECT_EQ(requests[0].query_param("output_format"), "pcm_16000");
  EXPECT_EQ(requests[0].header("xi-api-key"), kKey);
  EXPECT_EQ(json::parse(requests[0].body), json::parse(R"({"text":"Hello there. ","model_id":"eleven_flash_v2_5"})"));
  EXPECT_EQ(json::parse(requests[1].body)["previous_text"], "Hello there. ");
}

TEST_F(ElevenLabsTest, HttpDecodesMulawAndTakesOtherRates) {
  auto ulaw = h_.make_tts(config("elevenlabs", {{"output_format", "ulaw_8000"}}));
  ASSERT_EQ(ulaw->sample_rate(), 8000);
  const Spoken low = speak(h_, *ulaw, {"Good morning."});
  ASSERT_EQ(low.done, 1);
  EXPECT_EQ(low.samples, fake_speech("Good morning.", {AudioEncoding::ulaw, 8000, false}));
  EXPECT_EQ(low.samples.size(), 13u * 400u);

  auto high = h_.make_tts(config("elevenlabs", {{"output_format", "pcm_24000"}, {"optimize_streaming_latency", 3}}));
  ASSERT_EQ(high->sample_rate(), 24000);
  const Spoken spoken = speak(h_, *high, {"Good morning."});
  ASSERT_EQ(spoken.done, 1);
  EXPECT_EQ(spoken.samples, fake_speech("Good morning.", {AudioEncoding::pcm16, 24000, false}));
  EXPECT_EQ(fake_.server().last_request()->query_param("optimize_streaming_latency"), "3");
}

TEST_F(ElevenLabsTest, HttpAudioSplitAtOddBytesComesOutWhole) {
  const std::string audio = fakes::synthesize("Odd split", kPcm16k);
  fake_.server().route("POST", "/v1/text-to-speech/odd/stream", [audio](const fakes::Request &) {
    fakes::Response response;
    response.chunked = true;
    response.interval = std::chrono::milliseconds(5);
    const size_t sizes[] = {1, 333, 1001, 7, 2049, 3};  // odd: samples straddle every boundary
    for (size_t at = 0, i = 0; at < audio.size(); at += sizes[i++ % 6]) response.chunks.push_back(audio.substr(at, sizes[i % 6]));
    return response;
  });
  auto tts = h_.make_tts(config("elevenlabs", {{"voice", "odd"}}));
  const Spoken spoken = speak(h_, *tts, {"Odd split"});
  ASSERT_EQ(spoken.done, 1);
  EXPECT_EQ(spoken.samples, fakes::decode_audio(audio, AudioEncoding::pcm16));
}

TEST_F(ElevenLabsTest, HttpUnauthorizedCarriesTheProvidersWordsAndNeverTheKey) {
  auto tts = h_.make_tts(config("elevenlabs", {{"api_key", kWrongKey}}));
  const Spoken wrong = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(wrong.errors.size(), 1u);
  EXPECT_EQ(wrong.done, 0);
  EXPECT_EQ(wrong.errors[0].kind, ErrorKind::auth);
  EXPECT_EQ(wrong.errors[0].http_status, 401);
  EXPECT_EQ(wrong.errors[0].provider, "elevenlabs");
  EXPECT_EQ(wrong.errors[0].message, "Invalid API key (invalid_api_key)");

  // A service that echoes the key back: the message keeps its words, not the key.
  fakes::Fault echo;
  echo.status = 401;
  echo.body = std::string(R"({"detail":{"status":"invalid_api_key","message":"Key )") + kKey + R"( is not valid"}})";
  fake_.server().push_fault(echo);
  auto right = h_.make_tts(config("elevenlabs"));
  const Spoken echoed = speak(h_, *right, {"Hello."});
  ASSERT_EQ(echoed.errors.size(), 1u);
  EXPECT_EQ(echoed.errors[0].message, "Key [REDACTED] is not valid (invalid_api_key)");
  std::vector<ProviderError> errors = wrong.errors;
  errors.push_back(echoed.errors[0]);
  for (const auto &error : errors) EXPECT_EQ(error.message.find(kWrongKey), std::string::npos);
  expect_no_key(h_, errors);
}

TEST_F(ElevenLabsTest, HttpRateLimitAndServerErrorsAreTyped) {
  auto tts = h_.make_tts(config("elevenlabs"));
  fake_.server().fail_next(429, {{"Retry-After", "2"}});
  const Spoken limited = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(limited.errors.size(), 1u);
  EXPECT_EQ(limited.errors[0].kind, ErrorKind::rate_limited);
  EXPECT_EQ(limited.errors[0].http_status, 429);
  EXPECT_EQ(limited.errors[0].retry_after.count(), 2000);
  EXPECT_EQ(limited.errors[0].message, "Too many concurrent requests. Please try again later. (too_many_concurrent_requests)");

  fake_.server().fail_next(500);
  const Spoken failed = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(failed.errors[0].kind, ErrorKind::server);
  EXPECT_EQ(failed.errors[0].message, "An internal server error occurred. (internal_server_error)");
  EXPECT_TRUE(failed.samples.empty());
}

TEST_F(ElevenLabsTest, HttpCutMidAudioDeliversWhatCameThenANetworkError) {
  auto tts = h_.make_tts(config("elevenlabs"));
  fake_.server().cut_next_after(5001);  // mid-sample, mid-chunk
  const Spoken spoken = speak(h_, *tts, {"Hello there, how are you today?"});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.done, 0);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::network);
  const auto full = fake_speech("Hello there, how are you today?", kPcm16k);
  ASSERT_GT(spoken.samples.size(), 0u);
  ASSERT_LE(spoken.samples.size(), 2500u);
  EXPECT_TRUE(std::equal(spoken.samples.begin(), spoken.samples.end(), full.begin()));
}

TEST_F(ElevenLabsTest, HttpServiceThatNeverAnswersTimesOut) {
  auto tts = h_.make_tts(config("elevenlabs", {{"first_byte_timeout_ms", 300}}));
  fake_.server().hang_next();
  const auto start = std::chrono::steady_clock::now();
  const Spoken spoken = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(ElevenLabsTest, ConfigErrorsNameTheKey) {
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config("elevenlabs", {{"output_format", "mp3_44100_128"}})); })
                .find("$.output_format: expected one of pcm_8000"),
            std::string::npos);
  json no_key = config("elevenlabs");
  no_key.erase("api_key");
  no_key["api_key_env"] = "PARLEY_TEST_UNSET_VARIABLE";
  EXPECT_NE(h_.config_error([&] { h_.make_tts(no_key); }).find("$.api_key: missing"), std::string::npos);
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config("elevenlabs", {{"voice_settings", {{"stability", 3}}}})); })
                .find("$.voice_settings.stability"),
            std::string::npos);
  EXPECT_NE(h_.config_error([&] { h_.make_stt(stt_config({{"sample_rate", 11025}})); }).find("$.sample_rate"),
            std::string::npos);
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config("elevenlabs", {{"colour", "blue"}})); }).find("$.colour: unknown key"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// stream-input WebSocket TTS

TEST_F(ElevenLabsTest, WebSocketStreamsAudioAndWordTimings) {
  auto tts = h_.make_tts(config("elevenlabs_ws", {{"voice_settings", {{"stability", 0.5}, {"speed", 1.1}}}}));
  EXPECT_EQ(tts->name(), "elevenlabs_ws");
  ASSERT_EQ(tts->sample_rate(), 16000);
  const Spoken spoken = speak(h_, *tts, {"Hello there. ", "How are you?"});
  ASSERT_EQ(spoken.done, 1) << (spoken.errors.empty() ? "" : spoken.errors[0].message);
  EXPECT_TRUE(spoken.errors.empty());
  EXPECT_FALSE(spoken.off_executor);
  // Each flushed chunk is generated on its own; the protocol's trailing space is spoken too.
  EXPECT_EQ(spoken.samples, concat(fake_speech("Hello there. ", kPcm16k), fake_speech("How are you? ", kPcm16k)));
  EXPECT_EQ(spoken.samples.size(), 26u * 800u);

  std::vector<std::tuple<std::string, int, int>> words;
  for (const auto &w : spoken.words) words.emplace_back(w.word, w.start_ms, w.end_ms);
  const std::vector<std::tuple<std::string, int, int>> expected = {
      {"Hello", 0, 250}, {"there", 300, 600}, {"How", 650, 800}, {"are", 850, 1000}, {"you", 1050, 1250}};
  EXPECT_EQ(words, expected);

  const auto request = fake_.server().last_request("/v1/text-to-speech/voice1/stream-input");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->header("xi-api-key"), kKey);
  EXPECT_EQ(request->query_param("model_id"), "eleven_flash_v2_5");
  EXPECT_EQ(request->query_param("output_format"), "pcm_16000");
  ASSERT_EQ(request->received.size(), 4u);
  EXPECT_EQ(json::parse(request->received[0].data),
            json::parse(R"({"text":" ","voice_settings":{"stability":0.5,"use_speaker_boost":true,"speed":1.1}})"));
  EXPECT_EQ(json::parse(request->received[1].data), json::parse(R"({"text":"Hello there. ","try_trigger_generation":false,"flush":true})"));
  EXPECT_EQ(json::parse(request->received[2].data), json::parse(R"({"text":"How are you? ","try_trigger_generation":false,"flush":true})"));
  EXPECT_EQ(request->received[3].data, R"({"text":""})");
}

TEST_F(ElevenLabsTest, WebSocketWithoutFlushLetsFinishGenerateEverything) {
  auto tts = h_.make_tts(config("elevenlabs_ws", {{"flush_each_chunk", false}, {"output_format", "ulaw_8000"}}));
  ASSERT_EQ(tts->sample_rate(), 8000);
  const Spoken spoken = speak(h_, *tts, {"Short one. ", "Two."});
  ASSERT_EQ(spoken.done, 1);
  // Under the 120-character schedule nothing is generated before the end of the stream.
  EXPECT_EQ(spoken.samples, fake_speech("Short one. Two. ", {AudioEncoding::ulaw, 8000, false}));
  EXPECT_EQ(spoken.words.size(), 3u);
}

TEST_F(ElevenLabsTest, WebSocketKeepsAnIdleConnectionAlive) {
  fake_.set_inactivity_timeout(400ms);
  auto tts = h_.make_tts(config("elevenlabs_ws", {{"keepalive_ms", 100}}));
  Spoken spoken;
  auto stream = tts->start(record(spoken, h_.executor_thread));
  h_.run_for(1000ms);  // the model is thinking
  EXPECT_TRUE(spoken.errors.empty());
  stream->push_text("Finally. ");
  stream->finish();
  ASSERT_TRUE(h_.run_until([&] { return spoken.ended(); }));
  EXPECT_EQ(spoken.done, 1);
  const auto request = fake_.server().last_request("/v1/text-to-speech/");
  size_t keepalives = 0;
  for (const auto &m : request->received) keepalives += m.data == R"({"text":" "})" ? 1 : 0;
  EXPECT_GE(keepalives, 3u);  // the initialize message plus keep-alives
}

TEST_F(ElevenLabsTest, WebSocketServerErrorMessageEndsTheUtteranceWithItsWords) {
  fake_.set_inactivity_timeout(200ms);
  auto tts = h_.make_tts(config("elevenlabs_ws"));
  Spoken spoken;
  auto stream = tts->start(record(spoken, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return spoken.ended(); }));
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::timeout);
  EXPECT_EQ(spoken.errors[0].message,
            "Have not received a new text input within the timeout of 0 seconds. (input_timeout_exceeded)");
  h_.run_for(50ms);
  EXPECT_EQ(spoken.errors.size(), 1u);  // the close that follows is not a second error
}

TEST_F(ElevenLabsTest, WebSocketRefusedKeyIsAnAuthError) {
  auto tts = h_.make_tts(config("elevenlabs_ws", {{"api_key", kWrongKey}}));
  const Spoken spoken = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::auth);
  EXPECT_EQ(spoken.errors[0].http_status, 401);
  EXPECT_EQ(spoken.errors[0].message, "Invalid API key (invalid_api_key)");
  expect_no_key(h_, spoken.errors, kWrongKey);
}

TEST_F(ElevenLabsTest, WebSocketRateLimitAndServerErrorsOnUpgradeAreTyped) {
  auto tts = h_.make_tts(config("elevenlabs_ws"));
  fake_.server().fail_next(429, {{"Retry-After", "2"}});
  const Spoken limited = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(limited.errors.size(), 1u);
  EXPECT_EQ(limited.errors[0].kind, ErrorKind::rate_limited);
  EXPECT_EQ(limited.errors[0].http_status, 429);
  EXPECT_EQ(limited.errors[0].message, "Too many concurrent requests. Please try again later. (too_many_concurrent_requests)");

  fake_.server().fail_next(500);
  const Spoken failed = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(failed.errors[0].kind, ErrorKind::server);
  EXPECT_EQ(failed.errors[0].message, "An internal server error occurred. (internal_server_error)");
}

TEST_F(ElevenLabsTest, WebSocketClosedByTheServerCarriesCodeAndReason) {
  fake_.server().ws_close_next_after(2, 1011, "internal error: synthesis failed");
  auto tts = h_.make_tts(config("elevenlabs_ws"));
  const Spoken spoken = speak(h_, *tts, {"Hello there, how are you today?"});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.done, 0);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::server);
  EXPECT_NE(spoken.errors[0].message.find("closed by the server (1011): internal error: synthesis failed"), std::string::npos)
      << spoken.errors[0].message;
  // The two messages before the close were played: "Hello " and "there, ".
  EXPECT_EQ(spoken.samples.size(), 13u * 800u);
}

TEST_F(ElevenLabsTest, WebSocketCutMidAudioIsANetworkError) {
  fake_.server().ws_drop_next_after(1);
  auto tts = h_.make_tts(config("elevenlabs_ws"));
  const Spoken spoken = speak(h_, *tts, {"Hello there, how are you today?"});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::network);
  // At most the first word's message ("Hello "): a reset may also discard it.
  EXPECT_LE(spoken.samples.size(), 6u * 800u);
  const auto full = fake_speech("Hello there, how are you today? ", kPcm16k);
  EXPECT_TRUE(std::equal(spoken.samples.begin(), spoken.samples.end(), full.begin()));
}

TEST_F(ElevenLabsTest, WebSocketThatNeverAnswersTimesOut) {
  fake_.server().hang_next();
  auto tts = h_.make_tts(config("elevenlabs_ws", {{"connect_timeout_ms", 300}}));
  const Spoken hung = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(hung.errors.size(), 1u);
  expect_upgrade_timeout(hung.errors[0]);

  // Accepted, then silence.
  fake_.server().websocket("/v1/text-to-speech/mute/", silent_route());
  auto mute = h_.make_tts(config("elevenlabs_ws", {{"voice", "mute"}, {"first_byte_timeout_ms", 300}}));
  const Spoken silent = speak(h_, *mute, {"Hello."});
  ASSERT_EQ(silent.errors.size(), 1u);
  EXPECT_EQ(silent.errors[0].kind, ErrorKind::timeout);
  EXPECT_EQ(silent.errors[0].message, "no audio from the server for 300 ms");
}

TEST_F(ElevenLabsTest, CancelStopsEveryCallback) {
  auto tts = h_.make_tts(config("elevenlabs_ws"));
  Spoken spoken;
  auto stream = tts->start(record(spoken, h_.executor_thread));
  stream->push_text("Hello there, how are you today? ");
  ASSERT_TRUE(h_.run_until([&] { return !spoken.samples.empty(); }));
  stream->cancel();
  const size_t heard = spoken.samples.size();
  stream->finish();
  h_.run_for(200ms);
  EXPECT_EQ(spoken.samples.size(), heard);
  EXPECT_EQ(spoken.done, 0);
  EXPECT_TRUE(spoken.errors.empty());
}

// ---------------------------------------------------------------------------------------------
// Scribe realtime STT

TEST_F(ElevenLabsTest, ScribeTranscribesExactWordsOnCommit) {
  fake_.add_transcript("Hello, how are you?");
  auto stt = h_.make_stt(stt_config({{"language", "en"}}));
  EXPECT_EQ(stt->name(), "elevenlabs");
  ASSERT_EQ(stt->sample_rate(), 16000);
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  const auto speech = samples_of(fakes::speech_audio(1000, kPcm16k));
  push_frames(*stream, speech);
  stream->finalize();
  ASSERT_TRUE(h_.run_until([&] { return !heard.finals().empty() || !heard.errors.empty(); }));
  EXPECT_TRUE(heard.errors.empty()) << heard.errors[0].message;
  EXPECT_FALSE(heard.off_executor);
  const auto finals = heard.finals();
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].text, "Hello, how are you?");
  EXPECT_TRUE(finals[0].speech_final);
  EXPECT_EQ(finals[0].end_ms, 1000);
  // Partials grew word by word before the commit.
  const auto partials = heard.interims();
  ASSERT_GE(partials.size(), 2u);
  EXPECT_EQ(partials.front().text, "Hello,");
  for (const auto &p : partials) EXPECT_EQ(std::string("Hello, how are you?").rfind(p.text, 0), 0u) << p.text;

  const auto request = fake_.server().last_request("/v1/speech-to-text/realtime");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->header("xi-api-key"), kKey);
  EXPECT_EQ(request->query_param("model_id"), "scribe_v2_realtime");
  EXPECT_EQ(request->query_param("audio_format"), "pcm_16000");
  EXPECT_EQ(request->query_param("commit_strategy"), "manual");
  EXPECT_EQ(request->query_param("language_code"), "en");
  ASSERT_EQ(request->received.size(), 51u);  // 50 frames of 20 ms and the commit
  const json first = json::parse(request->received[0].data);
  EXPECT_EQ(first["message_type"], "input_audio_chunk");
  EXPECT_EQ(first["sample_rate"], 16000);
  EXPECT_EQ(first["commit"], false);
  const auto bytes = speech::decode_base64(first["audio_base_64"].get<std::string>());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(samples_of(*bytes), std::vector<int16_t>(speech.begin(), speech.begin() + 320));
  EXPECT_EQ(json::parse(request->received.back().data), json::parse(R"({"message_type":"input_audio_chunk","audio_base_64":"","commit":true,"sample_rate":16000})"));
}

TEST_F(ElevenLabsTest, ScribeTimestampsAndAFinalizeWithNothingToCommit) {
  fake_.add_transcript("Good morning.");
  auto stt = h_.make_stt(stt_config({{"include_timestamps", true}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, samples_of(fakes::silence_audio(500, kPcm16k)));
  push_frames(*stream, samples_of(fakes::speech_audio(800, kPcm16k)));
  stream->finalize();
  ASSERT_TRUE(h_.run_until([&] { return heard.finals().size() == 1; }));
  auto final = heard.finals()[0];
  EXPECT_EQ(final.text, "Good morning.");
  EXPECT_EQ(final.start_ms, 500);   // the first word's start, from the words' times
  EXPECT_EQ(final.end_ms, 1300);
  h_.run_for(50ms);
  EXPECT_EQ(heard.finals().size(), 1u);  // the plain committed_transcript was not delivered too

  const size_t sent = fake_.server().last_request("/v1/speech-to-text/")->received.size();
  stream->finalize();  // nothing new since the commit: an empty final at once, nothing sent
  ASSERT_TRUE(h_.run_until([&] { return heard.finals().size() == 2; }));
  EXPECT_EQ(heard.finals()[1].text, "");
  EXPECT_TRUE(heard.finals()[1].speech_final);
  EXPECT_EQ(fake_.server().last_request("/v1/speech-to-text/")->received.size(), sent);
}

TEST_F(ElevenLabsTest, ScribeErrorMessagesAreTypedAndFatalOnlyWhenRetryingCannotHelp) {
  struct Row {
    std::string type, words;
    ErrorKind kind;
    bool fatal;
  };
  const std::vector<Row> table = {{"quota_exceeded", "Quota exceeded", ErrorKind::rate_limited, true},
                                  {"auth_error", "Invalid token", ErrorKind::auth, true},
                                  {"transcriber_error", "Transcriber crashed", ErrorKind::server, false},
                                  {"session_time_limit_exceeded", "Too long", ErrorKind::server, false}};
  for (const auto &row : table) {
    auto stt = h_.make_stt(stt_config());
    Heard heard;
    auto stream = stt->start(record(heard, h_.executor_thread));
    ASSERT_TRUE(h_.run_until([&] { return !fake_.server().ws_sessions().empty(); }));
    h_.run_for(20ms);
    fake_.server().ws_sessions().back()->send_text(fakes::ElevenLabsFake::scribe_error(row.type, row.words));
    ASSERT_TRUE(h_.run_until([&] { return !heard.errors.empty(); })) << row.type;
    EXPECT_EQ(heard.errors[0].kind, row.kind) << row.type;
    EXPECT_EQ(heard.errors[0].fatal, row.fatal) << row.type;
    EXPECT_EQ(heard.errors[0].message, row.words + " (" + row.type + ")");
    push_frames(*stream, samples_of(fakes::speech_audio(100, kPcm16k)));  // ignored from now on
    h_.run_for(50ms);
    EXPECT_EQ(heard.errors.size(), 1u);
    stream.reset();
    h_.run_until([&] { return fake_.server().ws_sessions().empty(); });
  }
}

TEST_F(ElevenLabsTest, ScribeDropsAreNonFatalAndPrompt) {
  auto stt = h_.make_stt(stt_config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, samples_of(fakes::speech_audio(200, kPcm16k)));
  ASSERT_TRUE(h_.run_until([&] { return !fake_.server().ws_sessions().empty(); }));
  h_.run_for(50ms);
  fake_.server().ws_sessions().back()->close(1011, "internal error");
  ASSERT_TRUE(h_.run_until([&] { return !heard.errors.empty(); }, 1s));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::server);
  EXPECT_FALSE(heard.errors[0].fatal);
  EXPECT_EQ(heard.errors[0].message, "closed by the server (1011): internal error");

  Heard cut;
  auto second = stt->start(record(cut, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return fake_.server().request_count() == 2 && !fake_.server().ws_sessions().empty(); }));
  h_.run_for(50ms);
  fake_.server().ws_sessions().back()->drop();
  ASSERT_TRUE(h_.run_until([&] { return !cut.errors.empty(); }, 1s));
  EXPECT_EQ(cut.errors[0].kind, ErrorKind::network);
  EXPECT_FALSE(cut.errors[0].fatal);
}

TEST_F(ElevenLabsTest, ScribeRefusedKeyIsFatal) {
  auto stt = h_.make_stt(stt_config({{"api_key", kWrongKey}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, samples_of(fakes::speech_audio(100, kPcm16k)));
  ASSERT_TRUE(h_.run_until([&] { return !heard.errors.empty(); }));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::auth);
  EXPECT_TRUE(heard.errors[0].fatal);
  EXPECT_EQ(heard.errors[0].http_status, 401);
  EXPECT_EQ(heard.errors[0].message, "Invalid API key (invalid_api_key)");
  expect_no_key(h_, heard.errors, kWrongKey);
}

TEST_F(ElevenLabsTest, ScribeRateLimitAndServerErrorsOnUpgradeAreNotFatal) {
  auto stt = h_.make_stt(stt_config());
  fake_.server().fail_next(429);
  Heard limited;
  auto a = stt->start(record(limited, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !limited.errors.empty(); }));
  EXPECT_EQ(limited.errors[0].kind, ErrorKind::rate_limited);
  EXPECT_FALSE(limited.errors[0].fatal);
  EXPECT_EQ(limited.errors[0].message, "Too many concurrent requests. Please try again later. (too_many_concurrent_requests)");

  fake_.server().fail_next(500);
  Heard failed;
  auto b = stt->start(record(failed, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !failed.errors.empty(); }));
  EXPECT_EQ(failed.errors[0].kind, ErrorKind::server);
  EXPECT_FALSE(failed.errors[0].fatal);
  expect_no_key(h_, {limited.errors[0], failed.errors[0]});
}

TEST_F(ElevenLabsTest, ScribeThatNeverAnswersTimesOut) {
  fake_.server().hang_next();
  auto stt = h_.make_stt(stt_config({{"connect_timeout_ms", 300}}));
  Heard hung;
  auto stream = stt->start(record(hung, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !hung.errors.empty(); }, 2s));
  expect_upgrade_timeout(hung.errors[0]);
  EXPECT_FALSE(hung.errors[0].fatal);

  // Accepted, but no committed transcript ever comes.
  fakes::FakeServer mute_server;
  mute_server.websocket("/v1/speech-to-text/realtime", silent_route());
  auto mute = h_.make_stt(stt_config({{"finalize_timeout_ms", 300}, {"base_url", mute_server.http_url()}}));
  Heard silent;
  auto muted = mute->start(record(silent, h_.executor_thread));
  push_frames(*muted, samples_of(fakes::speech_audio(200, kPcm16k)));
  muted->finalize();
  ASSERT_TRUE(h_.run_until([&] { return !silent.errors.empty(); }, 2s));
  EXPECT_EQ(silent.errors[0].kind, ErrorKind::timeout);
  EXPECT_FALSE(silent.errors[0].fatal);
  EXPECT_EQ(silent.errors[0].message, "no final transcript within 300 ms of finalize");
}

// ---------------------------------------------------------------------------------------------
// TLS

class ElevenLabsTlsTest : public ElevenLabsTest {
 protected:
  ElevenLabsTlsTest() : ElevenLabsTest(fakes::ServerOptions{.tls = true}) {}
};

TEST_F(ElevenLabsTlsTest, VerifiesTheCertificate) {
  // Trusted through ca_file: works.
  auto trusted = h_.make_tts(config("elevenlabs", {{"ca_file", fake_.server().ca_file()}}));
  const Spoken ok = speak(h_, *trusted, {"Secure."});
  EXPECT_EQ(ok.done, 1);
  EXPECT_EQ(ok.samples.size(), 7u * 800u);

  // The system store does not know the test CA.
  auto http = h_.make_tts(config("elevenlabs"));
  const Spoken rejected = speak(h_, *http, {"Secure."});
  ASSERT_EQ(rejected.errors.size(), 1u);
  EXPECT_EQ(rejected.errors[0].kind, ErrorKind::tls);

  auto ws = h_.make_tts(config("elevenlabs_ws"));
  const Spoken ws_rejected = speak(h_, *ws, {"Secure."});
  ASSERT_EQ(ws_rejected.errors.size(), 1u);
  EXPECT_EQ(ws_rejected.errors[0].kind, ErrorKind::tls);

  auto stt = h_.make_stt(stt_config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !heard.errors.empty(); }));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::tls);
  EXPECT_TRUE(heard.errors[0].fatal);
}

}  // namespace
}  // namespace parley::providers::testing
