// The OpenAI speech TTS through a Registry: 24 kHz PCM streamed as it arrives, chunks in
// order, the request's shape, retries before audio, cuts mid-audio, cancellation, and odd
// byte counts split across HTTP chunks (a tiny local server: the fake cuts only at samples).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "fakes/audio.hpp"
#include "harness.hpp"

namespace parley::providers {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using testing::OpenAiHarness;
using namespace std::chrono_literals;

struct Heard {
  std::vector<int16_t> samples;
  int audio_calls = 0;
  int done = 0;
  std::optional<ProviderError> error;
  int after_end = 0;
  bool over() const { return done > 0 || error.has_value(); }
};

TtsCallbacks listen(Heard &heard) {
  TtsCallbacks callbacks;
  callbacks.on_audio = [&heard](const int16_t *samples, size_t count) {
    if (heard.over()) ++heard.after_end;
    ++heard.audio_calls;
    heard.samples.insert(heard.samples.end(), samples, samples + count);
  };
  callbacks.on_done = [&heard] {
    if (heard.over()) ++heard.after_end;
    ++heard.done;
  };
  callbacks.on_error = [&heard](ProviderError error) {
    if (heard.over()) ++heard.after_end;
    heard.error = std::move(error);
  };
  return callbacks;
}

std::vector<int16_t> tone(std::initializer_list<const char *> texts) {
  std::vector<int16_t> out;
  for (const char *text : texts) {
    const auto samples = fakes::tone_pcm(text, 24000);
    out.insert(out.end(), samples.begin(), samples.end());
  }
  return out;
}

class OpenAiTtsTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("OPENAI_BASE_URL"); }

  Heard speak(Tts &tts, std::vector<std::string> chunks, std::chrono::milliseconds timeout = 5s) {
    Heard heard;
    std::unique_ptr<TtsStream> stream;
    boost::asio::post(h.io, [&] {
      stream = tts.start(listen(heard));
      for (auto &chunk : chunks) stream->push_text(std::move(chunk));
      stream->finish();
    });
    EXPECT_TRUE(h.run_until([&] { return heard.over(); }, timeout));
    h.run_for(20ms);
    EXPECT_EQ(heard.after_end, 0);
    return heard;
  }

  OpenAiHarness h;
};

TEST_F(OpenAiTtsTest, SpeaksEachChunkInOrderAs24kHzPcm) {
  auto tts = h.make_tts();
  EXPECT_EQ(tts->sample_rate(), 24000);
  EXPECT_EQ(tts->name(), "openai");
  const auto heard = speak(*tts, {"Hello there.", "How are you?"});
  ASSERT_FALSE(heard.error) << heard.error->message;
  EXPECT_EQ(heard.done, 1);
  EXPECT_EQ(heard.samples, tone({"Hello there.", "How are you?"}));  // sample-exact, in order
  const auto requests = h.fake.server().requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto &request : requests) {
    EXPECT_EQ(request.path, "/v1/audio/speech");
    EXPECT_EQ(request.header("Accept"), "application/octet-stream");
    const auto body = json::parse(request.body);
    EXPECT_EQ(body["response_format"], "pcm");
    EXPECT_EQ(body["model"], "gpt-4o-mini-tts");
    EXPECT_EQ(body["voice"], "alloy");
    EXPECT_FALSE(body.contains("speed"));
  }
  EXPECT_EQ(json::parse(requests[1].body)["input"], "How are you?");
}

TEST_F(OpenAiTtsTest, VoiceModelSpeedAndInstructionsComeFromConfig) {
  auto tts = h.make_tts({{"voice", "nova"}, {"model", "tts-1"}, {"speed", 1.5}, {"instructions", "Warm."}});
  const auto heard = speak(*tts, {"Hi."});
  ASSERT_FALSE(heard.error);
  const auto body = json::parse(h.fake.server().last_request()->body);
  EXPECT_EQ(body["voice"], "nova");
  EXPECT_EQ(body["model"], "tts-1");
  EXPECT_EQ(body["speed"], 1.5);
  EXPECT_EQ(body["instructions"], "Warm.");
  EXPECT_THAT(testing::config_error([&] { h.make_tts({{"speed", 9}}); }), HasSubstr("$.speed"));
  EXPECT_THAT(testing::config_error([&] { h.make_tts({{"voice", ""}}); }), HasSubstr("$.voice"));
}

TEST_F(OpenAiTtsTest, AudioIsDeliveredAsItStreams) {
  h.fake.set_audio_chunk_ms(100);
  h.fake.server().delay_next_chunks(60ms);
  auto tts = h.make_tts();
  Heard heard;
  std::unique_ptr<TtsStream> stream;
  boost::asio::post(h.io, [&] {
    stream = tts->start(listen(heard));
    stream->push_text("Streaming audio now.");  // 20 characters: 1 s of tone, 10 HTTP chunks
    stream->finish();
  });
  ASSERT_TRUE(h.run_until([&] { return heard.audio_calls > 0; }));
  EXPECT_EQ(heard.done, 0);  // the first audio came before the response ended
  ASSERT_TRUE(h.run_until([&] { return heard.over(); }));
  EXPECT_GE(heard.audio_calls, 5);
  EXPECT_EQ(heard.samples, tone({"Streaming audio now."}));
}

TEST_F(OpenAiTtsTest, ServerErrorBeforeAudioIsRetried) {
  h.fake.server().fail_next(503, {{"retry-after-ms", "30"}});
  auto tts = h.make_tts();
  const auto heard = speak(*tts, {"Retry me."});
  ASSERT_FALSE(heard.error) << heard.error->message;
  EXPECT_EQ(heard.samples, tone({"Retry me."}));
  EXPECT_EQ(h.fake.server().request_count(), 2u);
}

TEST_F(OpenAiTtsTest, UnauthorizedIsAnAuthError) {
  auto tts = h.make_tts({{"api_key", "sk-bad-1111222233334444"}});
  const auto heard = speak(*tts, {"Hi.", "More."});
  ASSERT_TRUE(heard.error);
  EXPECT_EQ(heard.error->kind, ErrorKind::auth);
  EXPECT_EQ(heard.error->http_status, 401);
  EXPECT_THAT(heard.error->message, HasSubstr("Incorrect API key"));
  EXPECT_EQ(heard.done, 0);
  EXPECT_EQ(h.fake.server().request_count(), 1u);  // the first error ends the stream
}

TEST_F(OpenAiTtsTest, CutMidAudioIsANetworkErrorAfterTheAudioThatCame) {
  h.fake.set_audio_chunk_ms(100);
  h.fake.server().cut_next_after(4800 * 2 + 1001);  // two whole chunks, then half a sample
  auto tts = h.make_tts();
  const auto heard = speak(*tts, {"A long sentence to cut."});
  ASSERT_TRUE(heard.error);
  EXPECT_EQ(heard.error->kind, ErrorKind::network);
  EXPECT_THAT(heard.error->message, HasSubstr("cut"));
  EXPECT_GE(heard.samples.size(), 4800u);
  const auto full = tone({"A long sentence to cut."});
  ASSERT_LT(heard.samples.size(), full.size());
  EXPECT_TRUE(std::equal(heard.samples.begin(), heard.samples.end(), full.begin()));
  EXPECT_EQ(h.fake.server().request_count(), 1u);  // audio played: no retry
}

TEST_F(OpenAiTtsTest, CancelStopsAudio) {
  h.fake.set_audio_chunk_ms(50);
  h.fake.server().delay_next_chunks(40ms);
  auto tts = h.make_tts();
  Heard heard;
  std::unique_ptr<TtsStream> stream;
  boost::asio::post(h.io, [&] {
    stream = tts->start(listen(heard));
    stream->push_text("This will be interrupted by the caller.");
    stream->finish();
  });
  ASSERT_TRUE(h.run_until([&] { return heard.audio_calls >= 2; }));
  stream->cancel();
  const auto calls = heard.audio_calls;
  h.run_for(200ms);
  EXPECT_EQ(heard.audio_calls, calls);
  EXPECT_FALSE(heard.over());
  EXPECT_EQ(h.http->active(), 0u);
}

// A one-request HTTP server that answers with `chunks` as HTTP chunks, written separately.
class OddChunkServer {
 public:
  explicit OddChunkServer(std::vector<std::string> chunks)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), chunks_(std::move(chunks)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~OddChunkServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    thread_.join();
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1"; }

 private:
  void serve() {
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) return;
    boost::asio::streambuf buffer;
    const size_t head = boost::asio::read_until(socket, buffer, "\r\n\r\n", ec);
    if (ec) return;
    std::string text(boost::asio::buffers_begin(buffer.data()), boost::asio::buffers_begin(buffer.data()) + head);
    buffer.consume(head);
    size_t length = 0;
    for (const char *name : {"Content-Length: ", "content-length: "}) {
      if (const auto at = text.find(name); at != std::string::npos) length = std::stoul(text.substr(at + 16));
    }
    while (buffer.size() < length && !ec) boost::asio::read(socket, buffer, boost::asio::transfer_at_least(1), ec);
    boost::asio::write(socket, boost::asio::buffer(std::string(
        "HTTP/1.1 200 OK\r\nContent-Type: audio/pcm\r\nTransfer-Encoding: chunked\r\n\r\n")), ec);
    for (const auto &chunk : chunks_) {
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
      boost::asio::write(socket, boost::asio::buffer(std::string(size) + chunk + "\r\n"), ec);
      std::this_thread::sleep_for(5ms);  // separate reads, so the odd cuts reach the client
    }
    boost::asio::write(socket, boost::asio::buffer(std::string("0\r\n\r\n")), ec);
    std::this_thread::sleep_for(50ms);
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::string> chunks_;
  std::thread thread_;
};

TEST_F(OpenAiTtsTest, OddByteCountsAcrossHttpChunksGiveTheRightSamples) {
  std::vector<int16_t> samples;
  for (int i = 0; i < 200; ++i) samples.push_back(static_cast<int16_t>(i * 300 - 30000));
  const std::string bytes = fakes::encode_audio(samples, fakes::AudioEncoding::pcm16);
  std::vector<std::string> chunks;
  size_t at = 0;
  for (size_t size : {1, 3, 2, 7, 5, 100, 33}) {
    chunks.push_back(bytes.substr(at, size));
    at += size;
  }
  chunks.push_back(bytes.substr(at));
  OddChunkServer server(chunks);
  auto tts = h.make_tts({{"base_url", server.base_url()}, {"max_retries", 0}});
  const auto heard = speak(*tts, {"Odd."});
  ASSERT_FALSE(heard.error) << heard.error->message;
  EXPECT_EQ(heard.samples, samples);
}

}  // namespace
}  // namespace parley::providers
