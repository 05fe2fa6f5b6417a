// The Azure Speech fake against azure-speech.md: TTS, STT short audio, token exchange.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audio/wav.hpp"
#include "fakes/audio.hpp"
#include "fakes/azure_fake.hpp"
#include "raw_client.hpp"

namespace parley::fakes {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpResponse;
using testing::RawClient;

const std::string kSsml =
    "<speak version='1.0' xml:lang='en-US'><voice xml:lang='en-US' name='en-US-JennyNeural'>Fish &amp; chips, "
    "please.</voice></speak>";

Headers tts_headers(std::string format, std::string key = "az-key") {
  return {{"Ocp-Apim-Subscription-Key", std::move(key)},
          {"Content-Type", "application/ssml+xml"},
          {"X-Microsoft-OutputFormat", std::move(format)},
          {"User-Agent", "parley-tests"}};
}

HttpResponse post(AzureSpeechFake &fake, const std::string &target, const Headers &headers, const std::string &body) {
  RawClient client(fake.server().port());
  return client.request("POST", target, headers, body);
}

TEST(AzureSpeechFake, TtsSpeaksTheSsmlTextInTheRequestedFormat) {
  AzureSpeechFake fake;
  fake.set_api_key("az-key");
  auto response = post(fake, "/cognitiveservices/v1", tts_headers("raw-8khz-8bit-mono-mulaw"), kSsml);
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(response.chunked);
  EXPECT_EQ(response.body, synthesize("Fish & chips, please.", AudioFormat{AudioEncoding::ulaw, 8000, false}));
  response = post(fake, "/cognitiveservices/v1", tts_headers("raw-16khz-16bit-mono-pcm"), kSsml);
  EXPECT_EQ(response.body, synthesize("Fish & chips, please.", AudioFormat{AudioEncoding::pcm16, 16000, false}));
  response = post(fake, "/cognitiveservices/v1", tts_headers("riff-24khz-16bit-mono-pcm"), kSsml);
  const auto wav = audio::parse_wav(std::span(reinterpret_cast<const uint8_t *>(response.body.data()), response.body.size()));
  EXPECT_EQ(wav.format.sample_rate, 24000u);
  EXPECT_EQ(fake.server().last_request()->header("User-Agent"), "parley-tests");
}

TEST(AzureSpeechFake, SsmlParsing) {
  const auto ssml = parse_ssml(kSsml);
  ASSERT_TRUE(ssml);
  EXPECT_EQ(ssml->lang, "en-US");
  EXPECT_EQ(ssml->voice, "en-US-JennyNeural");
  EXPECT_EQ(ssml->text, "Fish & chips, please.");
  const auto nested = parse_ssml(
      "<?xml version=\"1.0\"?>\n<speak version=\"1.0\" xml:lang=\"en-GB\">\n  <voice name=\"en-GB-SoniaNeural\">"
      "<prosody rate=\"+10%\">Hello</prosody><break time=\"200ms\"/>world &#233;</voice>\n</speak>");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->voice, "en-GB-SoniaNeural");
  EXPECT_EQ(nested->text, "Hello world \xc3\xa9");
  EXPECT_FALSE(parse_ssml("Hello world"));
}

TEST(AzureSpeechFake, TtsRejectsWhatTheServiceRejects) {
  AzureSpeechFake fake;
  fake.set_api_key("az-key");
  Headers headers = tts_headers("raw-16khz-16bit-mono-pcm");
  headers[1].second = "text/plain";
  auto response = post(fake, "/cognitiveservices/v1", headers, kSsml);
  EXPECT_EQ(response.status, 415);
  EXPECT_EQ(response.body, "");
  headers = tts_headers("raw-16khz-16bit-mono-pcm");
  headers.pop_back();  // no User-Agent
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", headers, kSsml).status, 400);
  headers = tts_headers("raw-16khz-16bit-mono-pcm");
  headers.erase(headers.begin() + 2);  // no X-Microsoft-OutputFormat
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", headers, kSsml).status, 400);
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", tts_headers("raw-16khz-16bit-mono-pcm", "wrong"), kSsml).status, 401);
  headers = tts_headers("raw-16khz-16bit-mono-pcm");
  headers.erase(headers.begin());  // no key at all
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", headers, kSsml).status, 401);
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", tts_headers("raw-16khz-16bit-mono-pcm"), "not ssml").status, 400);
}

TEST(AzureSpeechFake, IssuedTokensAuthorizeAsBearer) {
  AzureSpeechFake fake;
  fake.set_api_key("az-key");
  auto response = post(fake, "/sts/v1.0/issueToken",
                       {{"Ocp-Apim-Subscription-Key", "az-key"}, {"Content-Type", "application/x-www-form-urlencoded"},
                        {"Content-Length", "0"}},
                       "");
  ASSERT_EQ(response.status, 200);
  const std::string token = response.body;
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(fake.issued_tokens(), std::vector<std::string>{token});
  Headers headers = tts_headers("raw-8khz-8bit-mono-mulaw");
  headers[0] = {"Authorization", "Bearer " + token};
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", headers, kSsml).status, 200);
  headers[0] = {"Authorization", "Bearer forged"};
  EXPECT_EQ(post(fake, "/cognitiveservices/v1", headers, kSsml).status, 401);
  EXPECT_EQ(post(fake, "/sts/v1.0/issueToken", {{"Ocp-Apim-Subscription-Key", "wrong"}, {"Content-Length", "0"}}, "").status, 401);
}

const AudioFormat kWav16k{AudioEncoding::pcm16, 16000, true};
const std::string kStt = "/speech/recognition/conversation/cognitiveservices/v1";
const Headers kSttHeaders = {{"Ocp-Apim-Subscription-Key", "az-key"},
                             {"Content-Type", "audio/wav; codecs=audio/pcm; samplerate=16000"},
                             {"Accept", "application/json"}};

TEST(AzureSpeechFake, SttSimpleAndDetailed) {
  AzureSpeechFake fake;
  fake.set_api_key("az-key");
  fake.add_transcript("Remind me to buy 5 pencils.");
  fake.add_transcript("Good morning.");
  const std::string wav = [] {
    std::string pcm = silence_audio(500, AudioFormat{AudioEncoding::pcm16, 16000, false}) +
                      speech_audio(1000, AudioFormat{AudioEncoding::pcm16, 16000, false});
    const auto bytes = audio::wav_bytes(audio::WavFormat{audio::WavEncoding::pcm16, 1, 16000},
                                        std::span(reinterpret_cast<const uint8_t *>(pcm.data()), pcm.size()));
    return std::string(bytes.begin(), bytes.end());
  }();
  auto response = post(fake, kStt + "?language=en-US", kSttHeaders, wav);
  ASSERT_EQ(response.status, 200);
  const json simple = json::parse(response.body);
  EXPECT_EQ(simple["RecognitionStatus"], "Success");
  EXPECT_EQ(simple["DisplayText"], "Remind me to buy 5 pencils.");
  EXPECT_NEAR(simple["Offset"].get<double>(), 5'000'000, 1'000);  // speech starts 0.5 s in (100-ns ticks)
  EXPECT_NEAR(simple["Duration"].get<double>(), 10'000'000, 1'000);
  response = post(fake, kStt + "?language=en-US&format=detailed", kSttHeaders, wav);
  const json detailed = json::parse(response.body);
  EXPECT_EQ(detailed["DisplayText"], "Good morning.");
  EXPECT_EQ(detailed["NBest"][0]["Display"], "Good morning.");
  EXPECT_EQ(detailed["NBest"][0]["Lexical"], "good morning");
  EXPECT_GT(detailed["NBest"][0]["Confidence"].get<double>(), 0.0);
  response = post(fake, kStt + "?language=en-US", kSttHeaders, wav);
  EXPECT_EQ(json::parse(response.body)["RecognitionStatus"], "NoMatch");  // script used up
}

TEST(AzureSpeechFake, SttChunkedUploadWithExpectContinue) {
  AzureSpeechFake fake;
  fake.add_transcript("Chunked works.");
  const std::string wav = speech_audio(1000, kWav16k);
  RawClient client(fake.server().port());
  std::string head = "POST " + kStt + "?language=en-US HTTP/1.1\r\nHost: x\r\nOcp-Apim-Subscription-Key: k\r\n"
                     "Content-Type: audio/wav; codecs=audio/pcm; samplerate=16000\r\nTransfer-Encoding: chunked\r\n"
                     "Expect: 100-continue\r\n\r\n";
  client.send(head);
  EXPECT_EQ(client.read_some(5s), "HTTP/1.1 100 Continue\r\n\r\n");
  std::string body;
  for (const auto &piece : split_bytes(wav, 4096)) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    body += size + piece + "\r\n";
  }
  client.send(body + "0\r\n\r\n");
  const auto response = client.read_response();
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body)["DisplayText"], "Chunked works.");
}

TEST(AzureSpeechFake, SttRejectsAndSilence) {
  AzureSpeechFake fake;
  fake.set_api_key("az-key");
  fake.add_transcript("unused");
  const std::string wav = speech_audio(1000, kWav16k);
  EXPECT_EQ(post(fake, kStt, kSttHeaders, wav).status, 400);  // no language
  EXPECT_EQ(post(fake, kStt + "?language=en-US", kSttHeaders, speech_audio(1000, AudioFormat{AudioEncoding::pcm16, 8000, true})).status,
            400);  // 8 kHz must be upsampled first
  EXPECT_EQ(post(fake, kStt + "?language=en-US", {{"Content-Type", "audio/wav"}}, wav).status, 403);
  EXPECT_EQ(post(fake, kStt + "?language=en-US", {{"Ocp-Apim-Subscription-Key", "no"}, {"Content-Type", "audio/wav"}}, wav).status, 401);
  const auto response = post(fake, kStt + "?language=en-US", kSttHeaders, silence_audio(1000, kWav16k));
  EXPECT_EQ(json::parse(response.body)["RecognitionStatus"], "InitialSilenceTimeout");
}

TEST(AzureSpeechFake, VoicesList) {
  AzureSpeechFake fake;
  RawClient client(fake.server().port());
  const auto response = client.request("GET", "/cognitiveservices/voices/list");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body)[0]["ShortName"], "en-US-JennyNeural");
}

}  // namespace
}  // namespace parley::fakes
