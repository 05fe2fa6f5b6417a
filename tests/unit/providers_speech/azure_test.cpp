// Azure Speech against its fake over loopback: REST TTS (SSML in, raw audio out) and
// short-audio STT (one WAV per utterance).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audio/wav.hpp"
#include "fakes/azure_fake.hpp"
#include "speech_harness.hpp"

namespace parley::providers::testing {
namespace {

using fakes::AudioEncoding;
using fakes::AudioFormat;
using nlohmann::json;

const AudioFormat kPcm16k{AudioEncoding::pcm16, 16000, false};

std::vector<int16_t> fake_speech(const std::string &text, const AudioFormat &format) {
  return fakes::decode_audio(fakes::synthesize(text, format), format.encoding);
}

std::vector<int16_t> speech_ms(int ms, int rate = 16000) {
  return samples_of(fakes::speech_audio(ms, {AudioEncoding::pcm16, rate, false}));
}
std::vector<int16_t> silence_ms(int ms, int rate = 16000) {
  return samples_of(fakes::silence_audio(ms, {AudioEncoding::pcm16, rate, false}));
}

class AzureTest : public ::testing::Test {
 protected:
  explicit AzureTest(fakes::ServerOptions options = {}) : fake_(options) { fake_.set_api_key(kKey); }

  json config(json extra = json::object()) {
    json c = {{"provider", "azure"},
              {"api_key", kKey},
              {"base_url", fake_.base_url()},
              {"connect_timeout_ms", 1000},
              {"first_byte_timeout_ms", 2000},
              {"idle_timeout_ms", 2000}};
    for (auto &[k, v] : extra.items()) c[k] = v;
    return c;
  }

  bool wait(Heard &heard, size_t finals, size_t errors = 0, std::chrono::milliseconds timeout = 3s) {
    return h_.run_until([&] { return heard.finals().size() >= finals && heard.errors.size() >= errors; }, timeout);
  }

  Harness h_;
  fakes::AzureSpeechFake fake_;
};

// ---------------------------------------------------------------------------------------------
// TTS

TEST_F(AzureTest, TtsStreamsExactAudioForEscapedSsml) {
  auto tts = h_.make_tts(config());
  EXPECT_EQ(tts->name(), "azure");
  ASSERT_EQ(tts->sample_rate(), 16000);
  // Characters that must be escaped; the service reads them back as the same text.
  const std::string text = "Tom & Jerry say \"<hi>\" isn't it?";
  const Spoken spoken = speak(h_, *tts, {text});
  ASSERT_EQ(spoken.done, 1) << (spoken.errors.empty() ? "" : spoken.errors[0].message);
  EXPECT_FALSE(spoken.off_executor);
  EXPECT_EQ(spoken.samples, fake_speech(text, kPcm16k));
  EXPECT_EQ(spoken.samples.size(), 32u * 800u);
  EXPECT_GT(spoken.audio_calls, 2);

  const auto request = fake_.server().last_request("/cognitiveservices/v1");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->header("Ocp-Apim-Subscription-Key"), kKey);
  EXPECT_EQ(request->header("Content-Type"), "application/ssml+xml");
  EXPECT_EQ(request->header("X-Microsoft-OutputFormat"), "raw-16khz-16bit-mono-pcm");
  EXPECT_EQ(request->header("User-Agent"), "parley");
  EXPECT_EQ(request->body,
            "<speak version='1.0' xml:lang='en-US'><voice xml:lang='en-US' name='en-US-JennyNeural'>"
            "Tom &amp; Jerry say &quot;&lt;hi&gt;&quot; isn&apos;t it?</voice></speak>");
  const auto ssml = fakes::parse_ssml(request->body);
  ASSERT_TRUE(ssml);
  EXPECT_EQ(ssml->text, text);
  EXPECT_EQ(ssml->voice, "en-US-JennyNeural");
}

TEST_F(AzureTest, TtsMulawForTelephonyIsDecoded) {
  auto tts = h_.make_tts(config({{"output_format", "raw-8khz-8bit-mono-mulaw"}, {"voice", "de-DE-KatjaNeural"}}));
  ASSERT_EQ(tts->sample_rate(), 8000);
  const Spoken spoken = speak(h_, *tts, {"Guten Tag. ", "Wie geht's?"});
  ASSERT_EQ(spoken.done, 1);
  std::vector<int16_t> expected = fake_speech("Guten Tag.", {AudioEncoding::ulaw, 8000, false});
  const auto second = fake_speech("Wie geht's?", {AudioEncoding::ulaw, 8000, false});
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(spoken.samples, expected);
  const auto request = fake_.server().last_request("/cognitiveservices/v1");
  EXPECT_NE(request->body.find("xml:lang='de-DE'"), std::string::npos);  // the voice's locale
}

TEST_F(AzureTest, TtsErrorsAreTyped) {
  auto wrong = h_.make_tts(config({{"api_key", kWrongKey}}));
  const Spoken refused = speak(h_, *wrong, {"Hello."});
  ASSERT_EQ(refused.errors.size(), 1u);
  EXPECT_EQ(refused.errors[0].kind, ErrorKind::auth);
  EXPECT_EQ(refused.errors[0].http_status, 401);
  EXPECT_EQ(refused.errors[0].message, "Unauthorized: the key or token is wrong, or is for another region");

  auto tts = h_.make_tts(config());
  fake_.server().fail_next(429, {{"Retry-After", "1"}});
  const Spoken limited = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(limited.errors.size(), 1u);
  EXPECT_EQ(limited.errors[0].kind, ErrorKind::rate_limited);
  EXPECT_EQ(limited.errors[0].retry_after.count(), 1000);

  fakes::Fault with_body;
  with_body.status = 500;
  with_body.body = R"({"error":{"code":"InternalServerError","message":"Synthesis failed"}})";
  fake_.server().push_fault(with_body);
  const Spoken failed = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(failed.errors[0].kind, ErrorKind::server);
  EXPECT_EQ(failed.errors[0].message, "Synthesis failed (InternalServerError)");

  fake_.server().cut_next_after(2001);
  const Spoken cut = speak(h_, *tts, {"A long enough sentence to be cut."});
  ASSERT_EQ(cut.errors.size(), 1u);
  EXPECT_EQ(cut.errors[0].kind, ErrorKind::network);
  EXPECT_GT(cut.samples.size(), 0u);
  EXPECT_LE(cut.samples.size(), 1000u);
  expect_no_key(h_, {refused.errors[0], limited.errors[0], failed.errors[0], cut.errors[0]}, kWrongKey);
}

TEST_F(AzureTest, TtsThatNeverAnswersTimesOut) {
  auto tts = h_.make_tts(config({{"first_byte_timeout_ms", 300}}));
  fake_.server().hang_next();
  const Spoken spoken = speak(h_, *tts, {"Hello."});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::timeout);
}

TEST_F(AzureTest, ConfigNeedsARegionOrABaseUrl) {
  json regional = config({{"region", "westeurope"}});
  regional.erase("base_url");
  EXPECT_EQ(h_.config_error([&] { h_.make_tts(regional); }), "");
  json neither = regional;
  neither.erase("region");
  EXPECT_NE(h_.config_error([&] { h_.make_stt(neither); }).find("$.region: missing"), std::string::npos);
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config({{"output_format", "riff-16khz-16bit-mono-pcm"}})); }).find("$.output_format"),
            std::string::npos);
  EXPECT_NE(h_.config_error([&] { h_.make_tts(config({{"voice", "Jenny"}})); }).find("$.language: missing"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// STT

TEST_F(AzureTest, SttSendsEachUtteranceAsAWavAndReturnsExactWords) {
  fake_.add_transcript("Good morning.");
  auto stt = h_.make_stt(config());
  EXPECT_EQ(stt->name(), "azure");
  ASSERT_EQ(stt->sample_rate(), 16000);
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, silence_ms(300));
  push_frames(*stream, speech_ms(1000));
  push_frames(*stream, silence_ms(200));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1));
  ASSERT_TRUE(heard.errors.empty()) << heard.errors[0].message;
  EXPECT_FALSE(heard.off_executor);
  const auto final = heard.finals().at(0);
  EXPECT_EQ(final.text, "Good morning.");
  EXPECT_TRUE(final.speech_final);
  EXPECT_NEAR(final.confidence, 0.98, 1e-9);
  // Where the speech lies in the utterance (the service's ticks, to the millisecond; the
  // tone's first and last samples are quiet, hence the slack).
  EXPECT_NEAR(final.start_ms, 300, 2);
  EXPECT_NEAR(final.end_ms, 1300, 2);

  const auto request = fake_.server().last_request("/speech/recognition/");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->query_param("language"), "en-US");
  EXPECT_EQ(request->query_param("format"), "detailed");
  EXPECT_EQ(request->header("Ocp-Apim-Subscription-Key"), kKey);
  EXPECT_EQ(request->header("Content-Type"), "audio/wav; codecs=audio/pcm; samplerate=16000");
  const auto wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(request->body.data()), request->body.size()));
  EXPECT_EQ(wav.format.sample_rate, 16000u);
  EXPECT_EQ(wav.format.channels, 1u);
  EXPECT_EQ(wav.samples.size(), 1500u * 16u);

  // The second utterance starts where the first ended, in stream time.
  fake_.add_transcript("Thank you.");
  push_frames(*stream, speech_ms(500));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 2));
  EXPECT_EQ(heard.finals()[1].text, "Thank you.");
  EXPECT_NEAR(heard.finals()[1].start_ms, 1500, 2);
  EXPECT_NEAR(heard.finals()[1].end_ms, 2000, 2);
}

TEST_F(AzureTest, SttSilenceAndNoMatchGiveEmptyFinals) {
  auto stt = h_.make_stt(config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, silence_ms(500));
  stream->finalize();  // InitialSilenceTimeout
  fake_.add_transcript("");
  push_frames(*stream, speech_ms(500));
  stream->finalize();  // NoMatch
  stream->finalize();  // nothing at all: no request
  ASSERT_TRUE(wait(heard, 3));
  for (const auto &t : heard.finals()) {
    EXPECT_EQ(t.text, "");
    EXPECT_TRUE(t.speech_final);
  }
  EXPECT_EQ(fake_.server().request_count(), 2u);
  EXPECT_TRUE(heard.errors.empty());
}

TEST_F(AzureTest, SttResamplesTelephonyAudio) {
  fake_.add_transcript("Press one.");
  auto stt = h_.make_stt(config({{"sample_rate", 8000}}));
  ASSERT_EQ(stt->sample_rate(), 8000);
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(1000, 8000), 8000);
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1));
  EXPECT_EQ(heard.finals()[0].text, "Press one.");
  const auto request = fake_.server().last_request("/speech/recognition/");
  const auto wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(request->body.data()), request->body.size()));
  EXPECT_EQ(wav.format.sample_rate, 16000u);
  EXPECT_NEAR(static_cast<double>(wav.samples.size()), 16000.0, 2.0);
}

TEST_F(AzureTest, SttPassingFailuresLoseOneUtteranceButNotTheStream) {
  auto stt = h_.make_stt(config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  fake_.server().fail_next(500);
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 0, 1));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::server);
  EXPECT_FALSE(heard.errors[0].fatal);
  EXPECT_EQ(heard.errors[0].http_status, 500);

  fake_.add_transcript("Still here.");
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1, 1));
  EXPECT_EQ(heard.finals()[0].text, "Still here.");

  fake_.server().fail_next(429, {{"Retry-After", "4"}});
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1, 2));
  EXPECT_EQ(heard.errors[1].kind, ErrorKind::rate_limited);
  EXPECT_FALSE(heard.errors[1].fatal);
  EXPECT_EQ(heard.errors[1].retry_after.count(), 4000);
  EXPECT_EQ(heard.errors[1].message, "Too Many Requests: the resource's quota or rate was exceeded");

  fake_.server().cut_next_after(10);  // the JSON answer cut short
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1, 3));
  EXPECT_EQ(heard.errors[2].kind, ErrorKind::network);
  EXPECT_FALSE(heard.errors[2].fatal);

  fakes::Fault status_error;
  status_error.status = 200;
  status_error.body = R"({"RecognitionStatus":"Error","Offset":0,"Duration":0})";
  fake_.server().push_fault(status_error);
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1, 4));
  EXPECT_EQ(heard.errors[3].kind, ErrorKind::server);
  EXPECT_FALSE(heard.errors[3].fatal);
  EXPECT_EQ(heard.errors[3].message, "the service could not recognise the utterance (RecognitionStatus Error)");
}

TEST_F(AzureTest, SttRefusedKeyIsFatal) {
  auto stt = h_.make_stt(config({{"api_key", kWrongKey}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  push_frames(*stream, speech_ms(300));
  stream->finalize();  // queued behind the first; dropped when the stream ends
  ASSERT_TRUE(wait(heard, 0, 1));
  h_.run_for(100ms);
  ASSERT_EQ(heard.errors.size(), 1u);
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::auth);
  EXPECT_TRUE(heard.errors[0].fatal);
  EXPECT_EQ(fake_.server().request_count(), 1u);
  expect_no_key(h_, heard.errors, kWrongKey);
}

TEST_F(AzureTest, SttThatNeverAnswersTimesOutAndTheNextUtteranceGoesThrough) {
  auto stt = h_.make_stt(config({{"first_byte_timeout_ms", 300}}));
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  fake_.server().hang_next();
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  fake_.add_transcript("After the wait.");
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 1, 1));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::timeout);
  EXPECT_FALSE(heard.errors[0].fatal);
  EXPECT_EQ(heard.finals()[0].text, "After the wait.");
}

class AzureTlsTest : public AzureTest {
 protected:
  AzureTlsTest() : AzureTest(fakes::ServerOptions{.tls = true}) {}
};

TEST_F(AzureTlsTest, VerifiesTheCertificate) {
  auto trusted = h_.make_tts(config({{"ca_file", fake_.server().ca_file()}}));
  EXPECT_EQ(speak(h_, *trusted, {"Secure."}).done, 1);

  auto tts = h_.make_tts(config());
  const Spoken spoken = speak(h_, *tts, {"Secure."});
  ASSERT_EQ(spoken.errors.size(), 1u);
  EXPECT_EQ(spoken.errors[0].kind, ErrorKind::tls);

  auto stt = h_.make_stt(config());
  Heard heard;
  auto stream = stt->start(record(heard, h_.executor_thread));
  push_frames(*stream, speech_ms(300));
  stream->finalize();
  ASSERT_TRUE(wait(heard, 0, 1));
  EXPECT_EQ(heard.errors[0].kind, ErrorKind::tls);
  EXPECT_TRUE(heard.errors[0].fatal);
}

}  // namespace
}  // namespace parley::providers::testing
