// Deepgram against its fake over loopback: Aura REST TTS and live WebSocket STT.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/deepgram_fake.hpp"
#include "speech_harness.hpp"

namespace parley::providers::testing {
namespace {

using fakes::AudioEncoding;
using fakes::AudioFormat;
using nlohmann::json;

const AudioFormat kPcm16k{AudioEncoding::pcm16, 16000, false};

class SilentHandler final : public fakes::WsHandler {
 public:
  void on_open(const std::shared_ptr<fakes::WsSession> &session) override { session_ = session; }
  void on_text(std::string_view) override {}
  void on_binary(std::string_view) override {}
  void on_closed(uint16_t) override { session_.reset(); }

 private:
  std::shared_ptr<fakes::WsSession> session_;
};

std::vector<int16_t> fake_speech(const std::string &text, const AudioFormat &format) {
  return fakes::decode_audio(fakes::synthesize(text, format), format.encoding);
}

std::vector<int16_t> speech_ms(int ms) { return samples_of(fakes::speech_audio(ms, kPcm16k)); }
std::vector<int16_t> silence_ms(int ms) { return samples_of(fakes::silence_audio(ms, kPcm16k)); }

size_t count_text(const fakes::Request &request, std::string_view text) {
  size_t n = 0;
  for (const auto &m : request.received) n += !m.binary && m.data == text ? 1 : 0;
  return n;
}

class DeepgramTest : public ::testing::Test {
 protected:
  explicit DeepgramTest(fakes::ServerOptions options = {}) : fake_(options) { fake_.set_api_key(kKey); }

  json config(json extra = json::object()) {
    json c = {{"provider", "deepgram"},
              {"api_key", kKey},
              {"base_url", fake_.base_url()},
              {"connect_timeout_ms", 1000},
              {"first_byte_timeout_ms", 2000},
              {"idle_timeout_ms", 2000}};
    for (auto &[k, v] : extra.items()) c[k] = v;
    return c;
  }

  // Runs until the stream has `finals` finals or an error.
  bool wait_finals(Heard &heard, size_t finals, std::chrono::milliseconds timeout = 3s) {
    return h_.run_until([&] { return heard.finals().size() >= finals || !heard.errors.empty(); }, timeout) &&
           heard.errors.empty();
  }

  Harness h_;
  fakes::DeepgramFake fake_;
};

// ---------------------------------------------------------------------------------------------
// Aura TTS

TEST_F(DeepgramTest, AuraStreamsExactAudioWithEveryFormatParameterExplicit) {
  auto tts = h_.make_tts(config());
  EXPECT_EQ(tts->name(), "deepgram");
  ASSERT_EQ(tts->sample_rate(), 16000);
  const Spoken spoken = speak(h_, *tts, {"Hello there. ", "How can I help?"});
  ASSERT_EQ(spoken.done, 1) << (spoken.errors.empty() ? "" : spoken.errors[0].message);
  EXPECT_FALSE(spoken.off_executor);
  std::vector<int16_t> expected = fake_speech("Hello there. ", kPcm16k);
  const auto second = fake_speech("How can I help?", kPcm16k);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(spoken.samples, expected);
  EXPECT_EQ(spoken.samples.size(), 28u * 800u);
  EXPECT_GT(spoken.audio_calls, 2);

  const auto request = fake_.server().last_request("/v1/speak");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->header("Authorization"), std::string("Token ") + kKey);
  EXPECT_EQ(request->header("Content-Type"), "application/json");
  EXPECT_EQ(request->query_param("model"), "aura-2-thalia-en");
  EXPECT_EQ(request->query_param("encoding"), "linear16");
  EXPECT_EQ(request->query_param("sample_rate"), "16000");
  EXPECT_EQ(request->query_param("container"), "none");
  EXPECT_EQ(json::parse(request->body), json::parse(R"({"text":"How can I help?"})"));
}

TEST_F(DeepgramTest, AuraMulawIsDecoded) {
  auto tts = h_.make_tts(config({{"encoding", "mulaw"}, {"model", "aura-asteria-en"}}));
  ASSERT_EQ(tts->sample_rate(), 8000);
  const Spoken spoken = speak(h_, *tts, {"Thanks for calling."});
  ASSERT_EQ(spoken.done, 1);
  EXPECT_EQ(spoken.samples, fake_speech("Thanks for calling.", {AudioEncoding::ulaw, 8000, false}));
  EXPECT_EQ(fake_.server().last_request()->query_param("sample_rate"), "8000");
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config({{"encoding", "mulaw"}, {"sample_rate", 16000}})); }).find("$.sample_rate"),
            std::string::npos);
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config({{"encoding", "mp3"}})); }).find("$.encoding: expected one of linear16, mulaw"),
            std::string::npos);
}

TEST_F(DeepgramTest, AuraErrorsAreTypedWithDeepgramsWords) {
  auto wrong = h_.make_tts(config({{"api_key", kWrongKey}}));
  const Spoken refused = speak(h_, *wrong, {"Hello."});
  ASSERT_EQ(refused.errors.size(), 1u);
  EXPECT_EQ(refused.errors[0].kind, ErrorKind::auth);
  EXPECT_EQ(refused.errors[0].http_status, 401);
  EXPECT_EQ(refused.errors[0].message, "Invalid credentials. (INVALID_AUTH)");

  auto tts = h_.make_tts(config());
  fake_.server().fail_next(429, {{"retry-after", "3"}});
  const Spoken limited = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(limited.errors.size(), 1u);
  EXPECT_EQ(limited.errors[0].kind, ErrorKind::rate_limited);
  EXPECT_EQ(limited.errors[0].retry_after.count(), 3000);
  EXPECT_EQ(limited.errors[0].message, "Too many requests. Please try again later. (TOO_MANY_REQUESTS)");

  fake_.server().fail_next(500);
  const Spoken failed = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(failed.errors[0].kind, ErrorKind::server);
  EXPECT_EQ(failed.errors[0].message, "An internal server error occurred. (INTERNAL_SERVER_ERROR)");
  expect_no_key(h_, {refused.errors[0], limited.errors[0], failed.errors[0]}, kWrongKey);
}

TEST_F(DeepgramTest, AuraCutAndSilenceBecomeNetworkAndTimeoutErrors) {
  auto tts = h_.make_tts(config({{"first_byte_timeout_ms", 300}}));
  fake_.server().cut_next_after(3001);
  const Spoken cut = speak(h_, *tts, {"A rather long sentence to cut."});
  ASSERT_EQ(cut.errors.size(), 1u);
  EXPECT_EQ(cut.errors[0].kind, ErrorKind::network);
  EXPECT_GT(cut.samples.size(), 0u);
  EXPECT_LE(cut.samples.size(), 1500u);

  fake_.server().hang_next();
  const auto start = std::chrono::steady_clock::now();
  const Spoken hung = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(hung.errors.size(), 1u);
  EXPECT_EQ(hung.errors[0].kind, ErrorKind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// ---------------------------------------------------------------------------------------------
// Live STT

TEST_F(DeepgramTest, LiveTranscribesWithInterimsSpeechStartAndEndpointing) {
  fake_.add_transcript("Hello there, how are you?");
  auto stt = h_.make_stt(config());
  EXPECT_EQ(stt->name(), "deepgram");
  ASSERT_EQ(stt->sample_rate(), 16000);
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, silence_ms(200));
  push_frames(*stream, speech_ms(1000));
  ASSERT_TRUE(wait_finals(heard, 1)) << (heard.errors.empty() ? "" : heard.errors[0].message);
  EXPECT_FALSE(heard.off_executor);
  EXPECT_EQ(heard.speech_started, 1);
  const auto finals = heard.finals();
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].text, "Hello there, how are you?");
  EXPECT_TRUE(finals[0].speech_final);
  EXPECT_EQ(finals[0].start_ms, 200);
  EXPECT_EQ(finals[0].end_ms, 1200);
  EXPECT_NEAR(finals[0].confidence, 0.98, 1e-9);
  const auto interims = heard.interims();
  ASSERT_EQ(interims.size(), 3u);  // at 250, 500 and 750 ms of speech
  EXPECT_EQ(interims[0].text, "Hello");
  EXPECT_EQ(interims[2].text, "Hello there, how");

  // The utterance already had its speech_final: UtteranceEnd adds nothing.
  push_frames(*stream, silence_ms(1300));
  h_.run_until([&] {
    const auto r = fake_.server().last_request("/v1/listen");
    for (const auto &m : r->sent) {
      if (m.data.find("UtteranceEnd") != std::string::npos) return true;
    }
    return false;
  });
  h_.run_for(30ms);
  EXPECT_EQ(heard.finals().size(), 1u);

  const auto request = fake_.server().last_request("/v1/listen");
  EXPECT_EQ(request->header("Authorization"), std::string("Token ") + kKey);
  EXPECT_EQ(request->query, "model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true&endpointing=300"
                            "&utterance_end_ms=1000&vad_events=true&smart_format=true");
  // Audio goes out as binary PCM16, byte for byte.
  ASSERT_FALSE(request->received.empty());
  EXPECT_TRUE(request->received[0].binary);
  EXPECT_EQ(request->received[0].data.size(), 640u);
}

TEST_F(DeepgramTest, UtteranceEndClosesAnUtteranceWithoutSpeechFinal) {
  fake_.add_transcript("Book a table for two.");
  auto stt = h_.make_stt(config({{"endpointing_ms", 0}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(1000));
  push_frames(*stream, silence_ms(1200));
  ASSERT_TRUE(wait_finals(heard, 2));
  const auto finals = heard.finals();
  ASSERT_EQ(finals.size(), 2u);
  EXPECT_EQ(finals[0].text, "Book a table for two.");
  EXPECT_FALSE(finals[0].speech_final);  // endpointing off
  EXPECT_EQ(finals[1].text, "");
  EXPECT_TRUE(finals[1].speech_final);  // from UtteranceEnd
  EXPECT_EQ(finals[1].end_ms, 1000);    // its last_word_end
  EXPECT_EQ(fake_.server().last_request("/v1/listen")->query_param("endpointing"), "false");
}

TEST_F(DeepgramTest, FinalizeFlushesTheUtteranceAsASpeechFinal) {
  fake_.add_transcript("Yes please.");
  auto stt = h_.make_stt(config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(400));  // less than the fake needs for a final of its own
  stream->finalize();
  ASSERT_TRUE(wait_finals(heard, 1));
  EXPECT_EQ(heard.finals()[0].text, "Yes please.");
  EXPECT_TRUE(heard.finals()[0].speech_final);
  const auto request = fake_.server().last_request("/v1/listen");
  EXPECT_EQ(count_text(*request, R"({"type":"Finalize"})"), 1u);

  stream->finalize();  // nothing since: an empty final, nothing sent
  ASSERT_TRUE(wait_finals(heard, 2));
  EXPECT_EQ(heard.finals()[1].text, "");
  EXPECT_TRUE(heard.finals()[1].speech_final);
  EXPECT_EQ(count_text(*fake_.server().last_request("/v1/listen"), R"({"type":"Finalize"})"), 1u);
}

TEST_F(DeepgramTest, KeepAliveHoldsAQuietStreamOpen) {
  fake_.set_inactivity_timeout(400ms);
  auto stt = h_.make_stt(config({{"keepalive_ms", 100}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  h_.run_for(1200ms);
  EXPECT_TRUE(heard.errors.empty()) << heard.errors[0].message;
  EXPECT_GE(count_text(*fake_.server().last_request("/v1/listen"), R"({"type":"KeepAlive"})"), 5u);

  // Audio flowing: no KeepAlive needed.
  const size_t before = count_text(*fake_.server().last_request("/v1/listen"), R"({"type":"KeepAlive"})");
  for (int i = 0; i < 25; ++i) {
    push_frames(*stream, silence_ms(20));
    h_.run_for(20ms);
  }
  EXPECT_LE(count_text(*fake_.server().last_request("/v1/listen"), R"({"type":"KeepAlive"})"), before + 1);
  EXPECT_TRUE(heard.errors.empty());
}

TEST_F(DeepgramTest, ServerCloseNet0001IsANonFatalErrorCarryingTheReason) {
  fake_.set_inactivity_timeout(300ms);
  auto stt = h_.make_stt(config({{"keepalive_ms", 5000}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !heard.errors.empty(); }, 2s));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::server);
  EXPECT_FALSE(heard.errors[0].fatal);
  EXPECT_EQ(heard.errors[0].message,
            "closed by the server (1011): NET-0001: Deepgram did not receive audio data or a text message within the timeout window.");
  push_frames(*stream, speech_ms(100));  // after the end: dropped, no second error
  h_.run_for(50ms);
  EXPECT_EQ(heard.errors.size(), 1u);
}

TEST_F(DeepgramTest, ServerCloseData0000AndCutsAreNonFatal) {
  auto stt = h_.make_stt(config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(100));
  ASSERT_TRUE(h_.run_until([&] { return !fake_.server().ws_sessions().empty(); }));
  h_.run_for(30ms);
  fake_.server().ws_sessions().back()->close(1008, "DATA-0000: The payload cannot be decoded as audio.");
  ASSERT_TRUE(h_.run_until([&] { return !heard.errors.empty(); }, 1s));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::bad_request);
  EXPECT_FALSE(heard.errors[0].fatal);
  EXPECT_EQ(heard.errors[0].message, "closed by the server (1008): DATA-0000: The payload cannot be decoded as audio.");

  Heard cut;
  auto second = stt->start(record(cut, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return fake_.server().request_count() == 2 && !fake_.server().ws_sessions().empty(); }));
  h_.run_for(30ms);
  fake_.server().ws_sessions().back()->drop();
  ASSERT_TRUE(h_.run_until([&] { return !cut.errors.empty(); }, 1s));
  EXPECT_EQ(cut.errors[0].kind, ErrorKind::network);
  EXPECT_FALSE(cut.errors[0].fatal);
}

TEST_F(DeepgramTest, RefusedUpgradesAreFatalOnlyWhenRetryingCannotHelp) {
  auto wrong = h_.make_stt(config({{"api_key", kWrongKey}}));
  Heard refused;
  auto a = wrong->start(record(refused, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !refused.errors.empty(); }));
  EXPECT_EQ(refused.errors[0].kind, ErrorKind::auth);
  EXPECT_TRUE(refused.errors[0].fatal);
  EXPECT_EQ(refused.errors[0].http_status, 401);
  EXPECT_EQ(refused.errors[0].message, "Invalid credentials. (INVALID_AUTH)");

  auto stt = h_.make_stt(config());
  fake_.server().fail_next(429);
  Heard limited;
  auto b = stt->start(record(limited, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !limited.errors.empty(); }));
  EXPECT_EQ(limited.errors[0].kind, ErrorKind::rate_limited);
  EXPECT_FALSE(limited.errors[0].fatal);
  EXPECT_EQ(limited.errors[0].message, "Too many requests. Please try again later. (TOO_MANY_REQUESTS)");

  fake_.server().fail_next(503);
  Heard unavailable;
  auto c = stt->start(record(unavailable, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !unavailable.errors.empty(); }));
  EXPECT_EQ(unavailable.errors[0].kind, ErrorKind::server);
  EXPECT_FALSE(unavailable.errors[0].fatal);
  expect_no_key(h_, {refused.errors[0], limited.errors[0], unavailable.errors[0]}, kWrongKey);
}

TEST_F(DeepgramTest, NeverAnsweringServersTimeOut) {
  fake_.server().hang_next();
  auto stt = h_.make_stt(config({{"connect_timeout_ms", 300}}));
  Heard hung;
  auto stream = stt->start(record(hung, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !hung.errors.empty(); }, 2s));
  expect_upgrade_timeout(hung.errors[0]);
  EXPECT_FALSE(hung.errors[0].fatal);

  fakes::FakeServer mute;
  mute.websocket("/v1/listen", [](const fakes::Request &) {
    fakes::WsAccept accept;
    accept.handler = std::make_shared<SilentHandler>();
    return accept;
  });
  auto quiet = h_.make_stt(config({{"base_url", mute.http_url()}, {"finalize_timeout_ms", 300}}));
  Heard silent;
  auto muted = quiet->start(record(silent, h_.executor_thread));
  push_frames(*muted, speech_ms(100));
  muted->finalize();
  ASSERT_TRUE(h_.run_until([&] { return !silent.errors.empty(); }, 2s));
  EXPECT_EQ(silent.errors[0].kind, ErrorKind::timeout);
  EXPECT_FALSE(silent.errors[0].fatal);
}

TEST_F(DeepgramTest, ClosingSendsCloseStreamAndNothingIsDeliveredAfter) {
  fake_.add_transcript("Goodbye now.");
  auto stt = h_.make_stt(config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(600));
  ASSERT_TRUE(h_.run_until([&] { return !heard.interims().empty(); }));
  stream.reset();
  ASSERT_TRUE(h_.run_until([&] {
    const auto r = fake_.server().last_request("/v1/listen");
    return r->ws_closed;
  }));
  const auto request = fake_.server().last_request("/v1/listen");
  ASSERT_FALSE(request->received.empty());
  EXPECT_EQ(request->received.back().data, R"({"type":"CloseStream"})");
  EXPECT_EQ(request->ws_client_close_code, 1000);
  h_.run_for(50ms);
  EXPECT_TRUE(heard.finals().empty());  // the final the server sent on CloseStream was not delivered
  EXPECT_TRUE(heard.errors.empty());
}

TEST_F(DeepgramTest, ConfigChecks) {
  EXPECT_NE(h_.config_error([&] { h_.make_stt(config({{"interim_results", false}, {"utterance_end_ms", 1000}})); })
                .find("$.utterance_end_ms: needs \"interim_results\": true"),
            std::string::npos);
  EXPECT_EQ(h_.config_error([&] { h_.make_stt(config({{"interim_results", false}})); }), "");
  EXPECT_NE(h_.config_error([&] { h_.make_stt(config({{"keepalive_ms", 20000}})); }).find("$.keepalive_ms"), std::string::npos);
}

class DeepgramTlsTest : public DeepgramTest {
 protected:
  DeepgramTlsTest() : DeepgramTest(fakes::ServerOptions{.tls = true}) {}
};

TEST_F(DeepgramTlsTest, VerifiesTheCertificate) {
  fake_.add_transcript("Secure line.");
  auto trusted = h_.make_stt(config({{"ca_file", fake_.server().ca_file()}}));
  Heard heard;
  auto stream = trusted->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(1000));
  ASSERT_TRUE(wait_finals(heard, 1));
  EXPECT_EQ(heard.finals()[0].text, "Secure line.");

  auto untrusted = h_.make_stt(config());
  Heard rejected;
  auto s = untrusted->start(record(rejected, h_.executor_thread));
  ASSERT_TRUE(h_.run_until([&] { return !rejected.errors.empty(); }));
  EXPECT_EQ(rejected.errors[0].kind, ErrorKind::tls);
  EXPECT_TRUE(rejected.errors[0].fatal);

  auto tts = h_.make_tts(config());
  const Spoken spoken = speak(h_, *tts, {"Secure."});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::tls);
}

}  // namespace
}  // namespace parley::providers::testing
