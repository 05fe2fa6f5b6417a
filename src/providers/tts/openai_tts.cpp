// The OpenAI speech TTS (openai_tts.hpp): a ChunkSynthesizer whose chunks are
// /audio/speech requests, run through the LLM adapter's retrying Exchange.
#include "providers/tts/openai_tts.hpp"

#include <bit>
#include <boost/asio/post.hpp>
#include <charconv>
#include <cstring>

#include "common/error.hpp"
#include "core/logger.hpp"
#include "providers/llm/openai.hpp"
#include "providers/registry.hpp"

namespace parley::providers {
namespace openai {
namespace {

constexpr int kSpeechRate = 24000;  // "pcm" is 24 kHz, whatever the model

bool istarts_with(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::span<const int16_t> Pcm16Assembler::feed(std::string_view bytes) {
  samples_.clear();
  if (bytes.empty()) return {};
  const auto *p = reinterpret_cast<const uint8_t *>(bytes.data());
  size_t n = bytes.size();
  samples_.reserve((n + 1) / 2);
  if (carry_ >= 0) {
    samples_.push_back(static_cast<int16_t>(static_cast<uint16_t>(carry_) | static_cast<uint16_t>(p[0] << 8)));
    carry_ = -1;
    ++p;
    --n;
  }
  const size_t whole = n / 2;
  const size_t at = samples_.size();
  samples_.resize(at + whole);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(samples_.data() + at, p, whole * 2);
  } else {
    for (size_t i = 0; i < whole; ++i) {
      samples_[at + i] = static_cast<int16_t>(static_cast<uint16_t>(p[2 * i]) | static_cast<uint16_t>(p[2 * i + 1] << 8));
    }
  }
  if (n % 2) carry_ = p[n - 1];
  return samples_;
}

std::string speech_request_body(const SpeechOptions &options, std::string_view input) {
  std::string out;
  out.reserve(input.size() + 160);
  out += "{\"model\":";
  append_json_string(out, options.model);
  out += ",\"input\":";
  append_json_string(out, input);
  out += ",\"voice\":";
  append_json_string(out, options.voice);
  out += ",\"response_format\":\"pcm\"";
  if (options.speed) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, *options.speed);
    out += ",\"speed\":";
    out.append(buffer, ec == std::errc() ? end : buffer);
  }
  if (!options.instructions.empty()) {
    out += ",\"instructions\":";
    append_json_string(out, options.instructions);
  }
  out.push_back('}');
  return out;
}

std::vector<std::string> split_speech_input(std::string_view text, size_t max_chars) {
  std::vector<std::string> pieces;
  max_chars = std::max<size_t>(max_chars, 1);
  while (!text.empty()) {
    const size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    // The byte offset of the max_chars-th character, or the end.
    size_t end = 0;
    size_t chars = 0;
    while (end < text.size() && chars < max_chars) {
      ++end;
      while (end < text.size() && is_continuation(text[end])) ++end;
      ++chars;
    }
    if (end < text.size()) {
      size_t cut = std::string_view::npos;
      for (size_t i = end; i > end / 2; --i) {
        const char c = text[i - 1];
        if ((c == '.' || c == '!' || c == '?' || c == '\n') && (i == text.size() || text[i] == ' ' || text[i] == '\n')) {
          cut = i;
          break;
        }
      }
      if (cut == std::string_view::npos) {
        const size_t space = text.substr(0, end).rfind(' ');
        if (space != std::string_view::npos && space > 0) cut = space + 1;
      }
      if (cut != std::string_view::npos) end = cut;
    }
    std::string_view piece = text.substr(0, end);
    text.remove_prefix(end);
    while (!piece.empty() && (piece.back() == ' ' || piece.back() == '\n')) piece.remove_suffix(1);
    if (piece.find_first_not_of(" \t\r\n") != std::string_view::npos) pieces.emplace_back(piece);
  }
  return pieces;
}

namespace {

// One chunk of text: its pieces spoken one request at a time.
class SpeechJob final : public std::enable_shared_from_this<SpeechJob> {
 public:
  SpeechJob(const ClientOptions &options, const SpeechOptions &speech, const ProviderContext &context,
            TtsCallbacks callbacks)
      : options_(options), speech_(speech), context_(context), callbacks_(std::move(callbacks)) {}

  void begin(const std::string &text) {
    pieces_ = split_speech_input(text);
    next();
  }

  void cancel() {
    ended_ = true;
    if (exchange_) exchange_->cancel();
    if (!in_callback_) callbacks_ = {};
  }

 private:
  template <typename Owner>
  friend Exchange::Handler openai::forward_to(const std::weak_ptr<Owner> &owner);  // our callbacks

  void next() {
    if (index_ >= pieces_.size()) {
      // Nothing (left) to say: done, in a fresh executor turn as the contract asks.
      boost::asio::post(context_.executor, [self = shared_from_this()] { self->done(); });
      return;
    }
    auto request = make_request(options_, "/audio/speech", "application/json",
                                speech_request_body(speech_, pieces_[index_++]));
    request.headers.emplace_back("Accept", "application/octet-stream");
    std::weak_ptr<SpeechJob> weak = weak_from_this();
    Exchange::Handler handler = forward_to(weak);
    handler.describe_progress = [weak]() -> std::string {
      auto self = weak.lock();
      return self ? "mid-audio, " + std::to_string(self->samples_) + " samples delivered" : "mid-audio";
    };
    exchange_ = std::make_shared<Exchange>(options_, context_, std::move(request), std::move(handler), true, "audio");
    exchange_->start();
  }

  void on_head(const net::HttpResponseHead &head) {
    if (ended_) return;
    assembler_.reset();
    const auto type = net::find_header(head.headers, "content-type");
    // Anything but audio (a JSON error with status 200, an HTML page) would be played as noise.
    if (istarts_with(type, "application/json") || istarts_with(type, "text/")) {
      ProviderError error;
      error.kind = ErrorKind::protocol;
      error.http_status = head.status;
      error.message = "expected audio; got Content-Type " + std::string(type.substr(0, 80));
      exchange_->fail(std::move(error));
    }
  }

  void on_body(std::string_view chunk) {
    if (ended_) return;
    const auto samples = assembler_.feed(chunk);
    if (samples.empty()) return;
    exchange_->commit();
    samples_ += samples.size();
    if (!callbacks_.on_audio) return;
    in_callback_ = true;
    callbacks_.on_audio(samples.data(), samples.size());
    in_callback_ = false;
    if (ended_) callbacks_ = {};
  }

  void on_complete() {
    if (ended_) return;
    if (assembler_.has_partial() && context_.logger && context_.logger->enabled(core::LogLevel::debug)) {
      context_.logger->log(core::LogLevel::debug, context_.call_id,
                           options_.provider + " tts: the audio ended in half a sample; dropped");
    }
    exchange_->detach();
    next();
  }

  void done() {
    if (ended_) return;
    ended_ = true;
    auto on_done = std::move(callbacks_.on_done);
    callbacks_ = {};
    if (on_done) on_done();
  }

  void deliver_error(ProviderError error) {
    if (ended_) return;
    ended_ = true;
    auto on_error = std::move(callbacks_.on_error);
    callbacks_ = {};
    if (on_error) on_error(std::move(error));
  }

  ClientOptions options_;
  SpeechOptions speech_;
  ProviderContext context_;
  TtsCallbacks callbacks_;
  std::vector<std::string> pieces_;
  size_t index_ = 0;
  std::shared_ptr<Exchange> exchange_;
  Pcm16Assembler assembler_;
  size_t samples_ = 0;
  bool ended_ = false;
  bool in_callback_ = false;
};

class SpeechHandle final : public Cancellable {
 public:
  explicit SpeechHandle(std::shared_ptr<SpeechJob> job) : job_(std::move(job)) {}
  ~SpeechHandle() override { job_->cancel(); }
  void cancel() override { job_->cancel(); }

 private:
  std::shared_ptr<SpeechJob> job_;
};

class SpeechSynthesizer final : public ChunkSynthesizer, public std::enable_shared_from_this<SpeechSynthesizer> {
 public:
  SpeechSynthesizer(ClientOptions options, SpeechOptions speech, const ProviderContext &context)
      : options_(std::move(options)), speech_(std::move(speech)), context_(context) {}

  std::unique_ptr<Cancellable> synthesize(const std::string &text, TtsCallbacks callbacks) override {
    auto job = std::make_shared<SpeechJob>(options_, speech_, context_, std::move(callbacks));
    job->begin(text);
    return std::make_unique<SpeechHandle>(std::move(job));
  }

 private:
  ClientOptions options_;
  SpeechOptions speech_;
  ProviderContext context_;
};

class OpenAiTts final : public Tts {
 public:
  OpenAiTts(std::shared_ptr<SpeechSynthesizer> synthesizer, std::string name, const ProviderContext &context)
      : synthesizer_(std::move(synthesizer)), name_(std::move(name)), context_(context) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return kSpeechRate; }
  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    return make_chunked_stream(synthesizer_, std::move(callbacks), context_.executor);
  }

 private:
  std::shared_ptr<SpeechSynthesizer> synthesizer_;
  std::string name_;
  ProviderContext context_;
};

}  // namespace

std::unique_ptr<Tts> make_tts(core::ConfigReader &config, const ProviderContext &context, const Flavor &flavor) {
  SpeechOptions speech;
  speech.model = config.string("model", speech.model);
  if (speech.model.empty()) config.fail("model", "must not be empty");
  speech.voice = config.string("voice", speech.voice);
  if (speech.voice.empty()) config.fail("voice", "must not be empty");
  if (const double speed = config.number("speed", 0, 0.25, 4.0); speed > 0) speech.speed = speed;
  speech.instructions = config.string("instructions", "");
  ClientOptions options =
      read_client_options(config, context, flavor, "first_audio_timeout_ms", std::chrono::milliseconds(10'000));
  auto synthesizer = std::make_shared<SpeechSynthesizer>(options, std::move(speech), context);
  return std::make_unique<OpenAiTts>(std::move(synthesizer), options.provider, context);
}

}  // namespace openai

void register_openai_tts(Registry &registry) {
  registry.add_tts("openai", [](core::ConfigReader &config, const ProviderContext &context) {
    return openai::make_tts(config, context, openai::flavor("openai"));
  });
}

}  // namespace parley::providers
