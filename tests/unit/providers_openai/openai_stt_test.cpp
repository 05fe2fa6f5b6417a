// The OpenAI-compatible transcription STT through a Registry: audio buffered per utterance,
// one multipart request at finalize(), one final transcript per utterance in order, the
// bound on buffered audio, and failures that end the stream or only lose an utterance.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audio/wav.hpp"
#include "fakes/audio.hpp"
#include "harness.hpp"

namespace parley::providers {
namespace {

using ::testing::HasSubstr;
using testing::OpenAiHarness;
using namespace std::chrono_literals;

struct Transcripts {
  std::vector<Transcript> finals;
  std::vector<ProviderError> errors;
  int after_fatal = 0;
  bool fatal() const { return !errors.empty() && errors.back().fatal; }
};

SttCallbacks listen(Transcripts &t) {
  SttCallbacks callbacks;
  callbacks.on_transcript = [&t](const Transcript &transcript) {
    if (t.fatal()) ++t.after_fatal;
    t.finals.push_back(transcript);
  };
  callbacks.on_error = [&t](ProviderError error) {
    if (t.fatal()) ++t.after_fatal;
    t.errors.push_back(std::move(error));
  };
  return callbacks;
}

std::vector<int16_t> speech(int ms, int rate = 16000) {
  return fakes::decode_audio(fakes::speech_audio(ms, fakes::AudioFormat{fakes::AudioEncoding::pcm16, rate, false}),
                             fakes::AudioEncoding::pcm16);
}

class OpenAiSttTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("OPENAI_BASE_URL"); }

  // Pushes `samples` in 20 ms frames, as the pipeline does.
  void push(SttStream &stream, const std::vector<int16_t> &samples, int rate = 16000) {
    const size_t frame = static_cast<size_t>(rate) / 50;
    boost::asio::post(h.io, [&stream, &samples, frame] {
      for (size_t at = 0; at < samples.size(); at += frame) {
        stream.push_audio(samples.data() + at, std::min(frame, samples.size() - at));
      }
    });
    h.run_for(5ms);
  }

  void finalize(SttStream &stream) {
    boost::asio::post(h.io, [&stream] { stream.finalize(); });
  }

  OpenAiHarness h;
};

TEST_F(OpenAiSttTest, AnUtteranceIsTranscribedAtFinalize) {
  h.fake.add_transcript("book a table for two");
  auto stt = h.make_stt({{"language", "en"}, {"prompt", "Restaurant booking."}});
  EXPECT_EQ(stt->sample_rate(), 16000);
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(1000));
  h.run_for(50ms);
  EXPECT_EQ(h.fake.server().request_count(), 0u);  // nothing is sent before the utterance ends
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return !t.finals.empty() || !t.errors.empty(); }));
  ASSERT_TRUE(t.errors.empty()) << t.errors[0].message;
  ASSERT_EQ(t.finals.size(), 1u);
  EXPECT_EQ(t.finals[0].text, "book a table for two");
  EXPECT_TRUE(t.finals[0].is_final);
  EXPECT_TRUE(t.finals[0].speech_final);
  EXPECT_EQ(t.finals[0].start_ms, 0);
  EXPECT_EQ(t.finals[0].end_ms, 1000);

  const auto form = h.fake.last_transcription_form();
  auto part = [&](const std::string &name) -> const fakes::MultipartPart * {
    for (const auto &p : form) {
      if (p.name == name) return &p;
    }
    return nullptr;
  };
  ASSERT_TRUE(part("file"));
  EXPECT_EQ(part("file")->filename, "audio.wav");
  EXPECT_EQ(part("file")->content_type, "audio/wav");
  const auto wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(part("file")->data.data()),
                                             part("file")->data.size()));
  EXPECT_EQ(wav.format.sample_rate, 16000u);
  EXPECT_EQ(wav.format.channels, 1u);
  EXPECT_EQ(wav.samples, speech(1000));
  ASSERT_TRUE(part("model"));
  EXPECT_EQ(part("model")->data, "gpt-4o-mini-transcribe");
  EXPECT_EQ(part("language")->data, "en");
  EXPECT_EQ(part("prompt")->data, "Restaurant booking.");
  EXPECT_EQ(part("response_format")->data, "json");
  const auto request = h.fake.server().last_request();
  EXPECT_EQ(request->path, "/v1/audio/transcriptions");
  EXPECT_EQ(request->header("Authorization"), std::string("Bearer ") + testing::kApiKey);
}

TEST_F(OpenAiSttTest, UtterancesArriveInOrderWithTheirTimes) {
  h.fake.add_transcript("first");
  h.fake.add_transcript("second");
  // The first answer is held back, so the second utterance's answer arrives first.
  h.fake.server().delay_next_head(400ms);
  auto stt = h.make_stt();
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(600));
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return h.fake.server().request_count() == 1; }));
  push(*stream, speech(400));
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] {
    const auto requests = h.fake.server().requests();
    return requests.size() == 2 && requests[1].response_status == 200 && requests[0].response_status == 0;
  }));
  ASSERT_TRUE(h.run_until([&] { return t.finals.size() == 2 || !t.errors.empty(); }));
  ASSERT_EQ(t.finals.size(), 2u);
  EXPECT_EQ(t.finals[0].text, "first");
  EXPECT_EQ(t.finals[1].text, "second");
  EXPECT_EQ(t.finals[0].end_ms, 600);
  EXPECT_EQ(t.finals[1].start_ms, 600);
  EXPECT_EQ(t.finals[1].end_ms, 1000);
}

TEST_F(OpenAiSttTest, TooShortAnUtteranceGivesAnEmptyFinalWithoutARequest) {
  auto stt = h.make_stt();
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(60));
  finalize(*stream);
  EXPECT_TRUE(t.finals.empty());  // never inline
  ASSERT_TRUE(h.run_until([&] { return !t.finals.empty(); }));
  EXPECT_EQ(t.finals[0].text, "");
  EXPECT_TRUE(t.finals[0].speech_final);
  EXPECT_EQ(h.fake.server().request_count(), 0u);
}

TEST_F(OpenAiSttTest, BufferedAudioIsBoundedToTheLatest) {
  h.fake.add_transcript("the end");
  auto stt = h.make_stt({{"max_utterance_ms", 1000}});
  Transcripts t;
  auto stream = stt->start(listen(t));
  auto audio = fakes::decode_audio(fakes::silence_audio(2000, {}), fakes::AudioEncoding::pcm16);
  const auto tail = speech(1000);
  audio.insert(audio.end(), tail.begin(), tail.end());
  push(*stream, audio);
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return !t.finals.empty() || !t.errors.empty(); }));
  ASSERT_EQ(t.finals.size(), 1u);
  EXPECT_EQ(t.finals[0].start_ms, 2000);
  EXPECT_EQ(t.finals[0].end_ms, 3000);
  const auto form = h.fake.last_transcription_form();
  const auto wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(form[0].data.data()), form[0].data.size()));
  EXPECT_EQ(wav.samples, tail);  // the latest second, not the silence before it
}

TEST_F(OpenAiSttTest, ServerFailureLosesOnlyThatUtterance) {
  h.fake.server().fail_next(500, {}, 2);
  h.fake.add_transcript("still listening");
  auto stt = h.make_stt({{"max_retries", 1}});
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(300));
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return !t.errors.empty(); }));
  EXPECT_EQ(t.errors[0].kind, ErrorKind::server);
  EXPECT_FALSE(t.errors[0].fatal);
  EXPECT_THAT(t.errors[0].message, HasSubstr("lost"));
  push(*stream, speech(300));
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return !t.finals.empty(); }));
  EXPECT_EQ(t.finals[0].text, "still listening");
}

TEST_F(OpenAiSttTest, UnauthorizedIsFatal) {
  auto stt = h.make_stt({{"api_key", "sk-nope-5555666677778888"}});
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(300));
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return !t.errors.empty(); }));
  EXPECT_EQ(t.errors[0].kind, ErrorKind::auth);
  EXPECT_TRUE(t.errors[0].fatal);
  EXPECT_THAT(t.errors[0].message, HasSubstr("Incorrect API key"));
  push(*stream, speech(300));
  finalize(*stream);
  h.run_for(200ms);
  EXPECT_EQ(t.after_fatal, 0);
  EXPECT_EQ(h.fake.server().request_count(), 1u);
}

TEST_F(OpenAiSttTest, CancelDropsPendingUtterances) {
  h.fake.add_transcript("never heard");
  h.fake.server().delay_next_head(300ms);
  auto stt = h.make_stt();
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(300));
  finalize(*stream);
  h.run_for(50ms);
  stream->cancel();
  h.run_for(400ms);
  EXPECT_TRUE(t.finals.empty());
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(h.http->active(), 0u);
}

TEST_F(OpenAiSttTest, GroqAndOtherRates) {
  h.fake.add_transcript("groq words");
  auto stt = h.registry.make_stt(h.config({{"base_url", h.fake.server().http_url() + "/openai/v1"}, {"sample_rate", 8000}},
                                          "groq"),
                                 h.context());
  EXPECT_EQ(stt->name(), "groq");
  EXPECT_EQ(stt->sample_rate(), 8000);
  Transcripts t;
  auto stream = stt->start(listen(t));
  push(*stream, speech(500, 8000), 8000);
  finalize(*stream);
  ASSERT_TRUE(h.run_until([&] { return !t.finals.empty() || !t.errors.empty(); }));
  ASSERT_EQ(t.finals.size(), 1u);
  EXPECT_EQ(t.finals[0].text, "groq words");
  EXPECT_EQ(t.finals[0].end_ms, 500);
  const auto form = h.fake.last_transcription_form();
  EXPECT_EQ(form[1].data, "whisper-large-v3-turbo");
  const auto wav = audio::read_wav(std::span(reinterpret_cast<const uint8_t *>(form[0].data.data()), form[0].data.size()));
  EXPECT_EQ(wav.format.sample_rate, 8000u);
}

}  // namespace
}  // namespace parley::providers
