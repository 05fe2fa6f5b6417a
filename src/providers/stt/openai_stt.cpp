// The OpenAI-compatible transcription STT (openai_stt.hpp). An utterance is the audio between
// two finalize() calls; each becomes one request through the LLM adapter's Exchange.
#include "providers/stt/openai_stt.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <deque>
#include <nlohmann/json.hpp>
#include <random>

#include "audio/wav.hpp"
#include "common/error.hpp"
#include "core/logger.hpp"
#include "providers/llm/openai.hpp"
#include "providers/registry.hpp"

namespace parley::providers {
namespace openai {
namespace {

constexpr int kMinUtteranceMs = 100;  // the API refuses shorter audio

std::string escape_quotes(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r' || c == '\n') {
      out += ' ';
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string multipart_body(std::string_view boundary, const std::vector<FormPart> &parts) {
  size_t size = boundary.size() + 8;
  for (const auto &part : parts) size += part.data.size() + part.name.size() + part.filename.size() + 128;
  std::string out;
  out.reserve(size);
  for (const auto &part : parts) {
    out += "--";
    out += boundary;
    out += "\r\nContent-Disposition: form-data; name=\"";
    out += escape_quotes(part.name);
    out += '"';
    if (!part.filename.empty()) {
      out += "; filename=\"";
      out += escape_quotes(part.filename);
      out += '"';
    }
    out += "\r\n";
    if (!part.content_type.empty()) {
      out += "Content-Type: ";
      out += part.content_type;
      out += "\r\n";
    }
    out += "\r\n";
    out += part.data;
    out += "\r\n";
  }
  out += "--";
  out += boundary;
  out += "--\r\n";
  return out;
}

std::string make_boundary() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boundary = "parley-boundary-";
  for (int i = 0; i < 2; ++i) {
    uint64_t bits = engine();
    for (int j = 0; j < 16; ++j, bits >>= 4) boundary.push_back(kHex[bits & 15]);
  }
  return boundary;
}

std::optional<std::string> transcription_text(std::string_view content_type, std::string_view body,
                                              std::string &problem) {
  const bool looks_json = content_type.find("json") != std::string_view::npos ||
                          (content_type.empty() && !trim(body).empty() && trim(body).front() == '{');
  if (!looks_json) {
    if (content_type.empty() || content_type.starts_with("text/plain")) return std::string(trim(body));
    problem = "unexpected Content-Type " + std::string(content_type.substr(0, 80));
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!json.is_object()) {
    problem = "the transcription is not a JSON object";
    return std::nullopt;
  }
  const auto text = json.find("text");
  if (text == json.end() || !text->is_string()) {
    problem = "the transcription has no \"text\" string";
    return std::nullopt;
  }
  return std::string(trim(text->get<std::string>()));
}

namespace {

struct SttSettings {
  std::string model;
  std::string language;
  std::string prompt;
  std::optional<double> temperature;
  int sample_rate = 16000;
  int max_utterance_ms = 60'000;
};

// One finalized utterance: its request, then its outcome, kept until its turn to be delivered.
struct Utterance {
  std::shared_ptr<Exchange> exchange;
  int start_ms = 0;
  int end_ms = 0;
  bool ready = false;
  std::optional<std::string> text;     // ready and succeeded
  std::optional<ProviderError> error;  // ready and failed
};

class TranscriptionStream final : public std::enable_shared_from_this<TranscriptionStream> {
 public:
  TranscriptionStream(const ClientOptions &options, const SttSettings &settings, const ProviderContext &context,
                      SttCallbacks callbacks)
      : options_(options), settings_(settings), context_(context), callbacks_(std::move(callbacks)) {
    max_samples_ = static_cast<size_t>(settings_.sample_rate) * static_cast<size_t>(settings_.max_utterance_ms) / 1000;
  }

  void push_audio(const int16_t *samples, size_t count) {
    if (ended_ || count == 0) return;
    buffer_.insert(buffer_.end(), samples, samples + count);
    total_samples_ += count;
    // Keep the latest max_utterance_ms; trimming in batches keeps the erase rare.
    if (buffer_.size() > max_samples_ + max_samples_ / 4) drop_oldest(buffer_.size() - max_samples_);
  }

  void finalize() {
    if (ended_) return;
    if (buffer_.size() > max_samples_) drop_oldest(buffer_.size() - max_samples_);
    auto utterance = std::make_shared<Utterance>();
    utterance->start_ms = to_ms(buffer_start_);
    utterance->end_ms = to_ms(total_samples_);
    std::vector<int16_t> audio = std::move(buffer_);
    buffer_ = {};
    buffer_start_ = total_samples_;
    pending_.push_back(utterance);
    if (audio.size() * 1000 < static_cast<size_t>(settings_.sample_rate) * kMinUtteranceMs) {
      utterance->ready = true;
      utterance->text = std::string();
      boost::asio::post(context_.executor, [self = shared_from_this()] { self->pump(); });
      return;
    }
    send(utterance, audio);
  }

  void cancel() {
    ended_ = true;
    for (auto &utterance : pending_) {
      if (utterance->exchange) utterance->exchange->cancel();
    }
    pending_.clear();
    if (!in_callback_) callbacks_ = {};
  }

 private:
  int to_ms(uint64_t samples) const {
    return static_cast<int>(std::min<uint64_t>(samples * 1000 / static_cast<uint64_t>(settings_.sample_rate), INT32_MAX));
  }

  void drop_oldest(size_t count) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(count));
    buffer_start_ += count;
    if (!warned_ && context_.logger && context_.logger->enabled(core::LogLevel::warn)) {
      warned_ = true;
      context_.logger->log(core::LogLevel::warn, context_.call_id,
                           options_.provider + " stt: utterance longer than " +
                               std::to_string(settings_.max_utterance_ms) + " ms; its start is dropped");
    }
  }

  void send(const std::shared_ptr<Utterance> &utterance, const std::vector<int16_t> &audio) {
    const auto wav = audio::wav_bytes_pcm16(audio, 1, static_cast<uint32_t>(settings_.sample_rate));
    std::vector<FormPart> parts;
    parts.push_back({"file", "audio.wav", "audio/wav", std::string(wav.begin(), wav.end())});
    parts.push_back({"model", "", "", settings_.model});
    if (!settings_.language.empty()) parts.push_back({"language", "", "", settings_.language});
    if (!settings_.prompt.empty()) parts.push_back({"prompt", "", "", settings_.prompt});
    parts.push_back({"response_format", "", "", "json"});
    if (settings_.temperature) {
      char buffer[32];
      const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, *settings_.temperature);
      parts.push_back({"temperature", "", "", std::string(buffer, ec == std::errc() ? end : buffer)});
    }
    const std::string boundary = make_boundary();
    auto request = make_request(options_, "/audio/transcriptions", "multipart/form-data; boundary=" + boundary,
                                multipart_body(boundary, parts));
    request.headers.emplace_back("Accept", "application/json");

    auto body = std::make_shared<std::string>();
    auto type = std::make_shared<std::string>();
    std::weak_ptr<TranscriptionStream> weak = weak_from_this();
    std::weak_ptr<Utterance> weak_utterance = utterance;
    Exchange::Handler handler;
    handler.on_head = [body, type](const net::HttpResponseHead &head) {
      body->clear();
      *type = std::string(net::find_header(head.headers, "content-type"));
    };
    handler.on_body = [body](std::string_view chunk) {
      if (body->size() < (1u << 20)) body->append(chunk);
    };
    handler.on_complete = [weak, weak_utterance, body, type](const net::HttpResult &) {
      auto self = weak.lock();
      auto u = weak_utterance.lock();
      if (!self || !u) return;
      std::string problem;
      if (auto text = transcription_text(*type, *body, problem)) {
        u->text = std::move(*text);
      } else {
        ProviderError error;
        error.kind = ErrorKind::protocol;
        error.http_status = 200;
        error.message = problem;
        u->error = std::move(error);
      }
      u->ready = true;
      self->pump();
    };
    handler.on_error = [weak, weak_utterance](ProviderError error) {
      auto self = weak.lock();
      auto u = weak_utterance.lock();
      if (!self || !u) return;
      u->error = std::move(error);
      u->ready = true;
      self->pump();
    };
    utterance->exchange =
        std::make_shared<Exchange>(options_, context_, std::move(request), std::move(handler), false, "transcript");
    utterance->exchange->start();
  }

  // Delivers the finished utterances at the front, in order.
  void pump() {
    auto keep = shared_from_this();
    while (!ended_ && !in_callback_ && !pending_.empty() && pending_.front()->ready) {
      const auto utterance = pending_.front();
      pending_.pop_front();
      if (utterance->error) {
        ProviderError error = std::move(*utterance->error);
        error.provider = options_.provider;
        error.fatal = error.kind == ErrorKind::auth || error.kind == ErrorKind::bad_request ||
                      error.kind == ErrorKind::tls;
        if (!error.fatal) error.message += " (this utterance is lost)";
        if (error.fatal) ended_ = true;
        auto on_error = callbacks_.on_error;
        if (error.fatal) cancel_pending();
        in_callback_ = true;
        if (on_error) on_error(std::move(error));
        in_callback_ = false;
      } else {
        Transcript transcript;
        transcript.text = std::move(*utterance->text);
        transcript.is_final = true;
        transcript.speech_final = true;
        transcript.start_ms = utterance->start_ms;
        transcript.end_ms = utterance->end_ms;
        in_callback_ = true;
        if (callbacks_.on_transcript) callbacks_.on_transcript(transcript);
        in_callback_ = false;
      }
      if (ended_) callbacks_ = {};
    }
  }

  void cancel_pending() {
    for (auto &u : pending_) {
      if (u->exchange) u->exchange->cancel();
    }
    pending_.clear();
  }

  ClientOptions options_;
  SttSettings settings_;
  ProviderContext context_;
  SttCallbacks callbacks_;
  size_t max_samples_ = 0;
  std::vector<int16_t> buffer_;
  uint64_t buffer_start_ = 0;  // stream sample index of buffer_[0]
  uint64_t total_samples_ = 0;
  std::deque<std::shared_ptr<Utterance>> pending_;
  bool ended_ = false;
  bool in_callback_ = false;
  bool warned_ = false;
};

class TranscriptionHandle final : public SttStream {
 public:
  explicit TranscriptionHandle(std::shared_ptr<TranscriptionStream> stream) : stream_(std::move(stream)) {}
  ~TranscriptionHandle() override { stream_->cancel(); }
  void push_audio(const int16_t *samples, size_t count) override { stream_->push_audio(samples, count); }
  void finalize() override { stream_->finalize(); }
  void cancel() override { stream_->cancel(); }

 private:
  std::shared_ptr<TranscriptionStream> stream_;
};

class OpenAiStt final : public Stt {
 public:
  OpenAiStt(ClientOptions options, SttSettings settings, const ProviderContext &context)
      : options_(std::move(options)), settings_(std::move(settings)), context_(context) {}

  const std::string &name() const noexcept override { return options_.provider; }
  int sample_rate() const noexcept override { return settings_.sample_rate; }
  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    return std::make_unique<TranscriptionHandle>(
        std::make_shared<TranscriptionStream>(options_, settings_, context_, std::move(callbacks)));
  }

 private:
  ClientOptions options_;
  SttSettings settings_;
  ProviderContext context_;
};

}  // namespace

std::unique_ptr<Stt> make_stt(core::ConfigReader &config, const ProviderContext &context, const Flavor &flavor) {
  SttSettings settings;
  const std::string_view name = flavor.name;
  settings.model = config.string("model", name == "groq" ? "whisper-large-v3-turbo" : "gpt-4o-mini-transcribe");
  if (settings.model.empty()) config.fail("model", "must not be empty");
  settings.language = config.string("language", "");
  settings.prompt = config.string("prompt", "");
  if (const double t = config.number("temperature", -1, 0, 1); t >= 0) settings.temperature = t;
  settings.sample_rate = static_cast<int>(config.integer("sample_rate", 16000, 8000, 48000));
  settings.max_utterance_ms = static_cast<int>(config.integer("max_utterance_ms", 60'000, 1'000, 600'000));
  ClientOptions options =
      read_client_options(config, context, flavor, "response_timeout_ms", std::chrono::milliseconds(15'000));
  return std::make_unique<OpenAiStt>(std::move(options), std::move(settings), context);
}

}  // namespace openai

void register_openai_stt(Registry &registry) {
  for (const char *name : {"openai", "groq"}) {
    registry.add_stt(name, [name](core::ConfigReader &config, const ProviderContext &context) {
      return openai::make_stt(config, context, openai::flavor(name));
    });
  }
}

}  // namespace parley::providers
