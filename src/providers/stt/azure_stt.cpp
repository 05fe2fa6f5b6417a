// Azure short-audio STT (azure_stt.hpp): settings and URL, then the per-utterance stream.
#include "providers/stt/azure_stt.hpp"

#include <boost/asio/post.hpp>
#include <deque>
#include <optional>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"

namespace parley::providers {
namespace azure {

SttSettings read_stt_settings(core::ConfigReader &config, const ProviderContext &context) {
  SttSettings s;
  s.language = config.string("language", s.language);
  if (s.language.empty()) config.fail("language", "expected a locale such as \"en-US\"; got \"\"");
  s.profanity = config.choice("profanity", s.profanity, {"masked", "removed", "raw"});
  s.sample_rate = static_cast<int>(config.integer("sample_rate", s.sample_rate, 8000, 48000));
  if (!audio::Resampler::is_supported_rate(s.sample_rate)) {
    config.fail("sample_rate", "no resampler to 16000 Hz from " + std::to_string(s.sample_rate));
  }
  s.max_utterance_ms = static_cast<int>(config.integer("max_utterance_ms", s.max_utterance_ms, 1000, 60'000));
  s.endpoint = read_endpoint(config, Service::stt);
  s.api_key = speech::require_api_key(config, context, kKeyEnv);
  return s;
}

std::string stt_url(const SttSettings &s) {
  speech::Query query;
  query.add("language", s.language).add("format", "detailed");
  if (s.profanity != "masked") query.add("profanity", s.profanity);
  return s.endpoint.base_url + kSttPath + query.str();
}

namespace {

constexpr size_t kMaxResponse = 1024 * 1024;
constexpr int64_t kTicksPerMs = 10'000;

struct Utterance {
  std::vector<int16_t> samples;  // 16 kHz
  int start_ms = 0;              // stream audio time of its first sample
};

class Recognizer : public std::enable_shared_from_this<Recognizer> {
 public:
  Recognizer(std::shared_ptr<const SttSettings> settings, ProviderContext context, SttCallbacks callbacks)
      : settings_(std::move(settings)), context_(std::move(context)), callbacks_(std::move(callbacks)) {
    if (settings_->sample_rate != kSttRate) resampler_.emplace(settings_->sample_rate, kSttRate);
    max_samples_ = static_cast<size_t>(settings_->max_utterance_ms) * kSttRate / 1000;
  }

  void push_audio(const int16_t *samples, size_t count) {
    if (ended_ || count == 0) return;
    if (!resampler_) return append(samples, count);
    scratch_.resize(resampler_->max_output(count));
    const size_t n = resampler_->process(std::span(samples, count), scratch_);
    append(scratch_.data(), n);
  }

  void finalize() {
    if (ended_) return;
    if (resampler_) {
      // The filter's tail belongs to this utterance; the next starts a fresh stream.
      scratch_.resize(4096);
      for (size_t n; (n = resampler_->flush(scratch_)) > 0;) append(scratch_.data(), n);
      resampler_->reset();
    }
    if (dropped_ > 0) {
      speech::log(context_, core::LogLevel::warn,
                  "azure: the utterance was longer than " + std::to_string(settings_->max_utterance_ms) + " ms; " +
                      std::to_string(dropped_ * 1000 / kSttRate) + " ms of its end were not sent");
    }
    queue_.push_back(std::move(current_));
    current_ = Utterance{};
    current_.start_ms = clock_ms();
    dropped_ = 0;
    next();
  }

  void cancel() {
    ended_ = true;
    queue_.clear();
    if (call_) call_->cancel();
  }

 private:
  int clock_ms() const { return static_cast<int>(clock_ * 1000 / kSttRate); }

  void append(const int16_t *samples, size_t count) {
    clock_ += count;
    const size_t room = max_samples_ - std::min(max_samples_, current_.samples.size());
    const size_t kept = std::min(room, count);
    current_.samples.insert(current_.samples.end(), samples, samples + kept);
    dropped_ += count - kept;
  }

  // Sends the oldest queued utterance unless one is in flight.
  void next() {
    if (ended_ || busy_ || queue_.empty()) return;
    busy_ = true;
    Utterance utterance = std::move(queue_.front());
    queue_.pop_front();
    if (utterance.samples.empty()) {
      // Nothing was said: the empty final needs no request, but keeps its place in line.
      return boost::asio::post(context_.executor, [weak = weak_from_this(), start = utterance.start_ms] {
        if (auto self = weak.lock(); self && !self->ended_) self->finished(self->empty_final(start));
      });
    }
    if (!context_.http) {
      return boost::asio::post(context_.executor, [weak = weak_from_this()] {
        if (auto self = weak.lock(); self && !self->ended_) {
          self->fail(self->error(ErrorKind::internal, "no HTTP client in the provider context", true));
        }
      });
    }
    start_request(std::move(utterance));
  }

  void start_request(Utterance utterance) {
    net::HttpRequest request = speech::http_request(settings_->endpoint, "POST", stt_url(*settings_));
    request.headers = {{kKeyHeader, settings_->api_key},
                       {"Content-Type", "audio/wav; codecs=audio/pcm; samplerate=16000"},
                       {"Accept", "application/json"}};
    const auto wav = audio::wav_bytes_pcm16(utterance.samples, 1, kSttRate);
    request.body.assign(reinterpret_cast<const char *>(wav.data()), wav.size());
    status_ = 0;
    retry_after_ = speech::milliseconds(0);
    body_.clear();
    std::weak_ptr<Recognizer> weak = weak_from_this();
    net::HttpCallbacks cb;
    cb.on_head = [weak](const net::HttpResponseHead &head) {
      if (auto self = weak.lock()) {
        self->status_ = head.status;
        self->retry_after_ = speech::retry_after(head.headers);
      }
    };
    cb.on_body = [weak](std::string_view chunk) {
      if (auto self = weak.lock(); self && self->body_.size() < kMaxResponse) self->body_.append(chunk);
    };
    cb.on_complete = [weak, start = utterance.start_ms](const net::HttpResult &result) {
      if (auto self = weak.lock(); self && !self->ended_) self->on_complete(result, start);
    };
    call_ = context_.http->start(std::move(request), std::move(cb), context_.executor);
  }

  void on_complete(const net::HttpResult &result, int start_ms) {
    if (result.status != 0) status_ = result.status;
    if (result.failure != net::HttpFailure::none) {
      ProviderError failure = speech::transfer_error(kProvider, result);
      failure.fatal = failure.kind == ErrorKind::tls;
      return failed(std::move(failure));
    }
    if (status_ < 200 || status_ >= 300) {
      ProviderError failure = speech::status_error(kProvider, status_, speech::scrub(error_message(status_, body_), settings_->api_key), retry_after_);
      failure.fatal = status_ >= 400 && status_ < 500 && status_ != 408 && status_ != 429;
      return failed(std::move(failure));
    }
    std::string problem;
    const auto recognition = parse_recognition(body_, problem);
    if (!recognition) return failed(error(ErrorKind::protocol, "unreadable recognition result: " + problem, false));
    if (recognition->status == "Error") {
      return failed(error(ErrorKind::server, "the service could not recognise the utterance (RecognitionStatus Error)", false));
    }
    Transcript t = empty_final(start_ms);
    if (recognition->status == "Success") {
      t.text = recognition->text;
      t.confidence = recognition->confidence;
    }
    // Capped at a day each, so the sums stay inside an int whatever the service says.
    t.start_ms = start_ms + static_cast<int>(std::min<int64_t>(recognition->offset_ticks / kTicksPerMs, 86'400'000));
    t.end_ms = t.start_ms + static_cast<int>(std::min<int64_t>(recognition->duration_ticks / kTicksPerMs, 86'400'000));
    finished(t);
  }

  Transcript empty_final(int at_ms) const {
    Transcript t;
    t.is_final = true;
    t.speech_final = true;
    t.start_ms = t.end_ms = at_ms;
    return t;
  }

  // One utterance answered: deliver, then the next.
  void finished(const Transcript &transcript) {
    busy_ = false;
    if (callbacks_.on_transcript) callbacks_.on_transcript(transcript);
    next();
  }

  // One utterance lost; a fatal error ends the stream.
  void failed(ProviderError failure) {
    busy_ = false;
    if (failure.fatal) return fail(std::move(failure));
    speech::log(context_, core::LogLevel::warn, "azure: " + failure.message + " (the utterance is lost)");
    if (callbacks_.on_error) callbacks_.on_error(std::move(failure));
    next();
  }

  void fail(ProviderError failure) {
    ended_ = true;
    queue_.clear();
    speech::log(context_, core::LogLevel::error, "azure: " + failure.message);
    if (callbacks_.on_error) callbacks_.on_error(std::move(failure));
  }

  ProviderError error(ErrorKind kind, std::string message, bool fatal) const {
    ProviderError out;
    out.kind = kind;
    out.provider = kProvider;
    out.message = speech::scrub(message, settings_->api_key);
    out.fatal = fatal;
    return out;
  }

  std::shared_ptr<const SttSettings> settings_;
  ProviderContext context_;
  SttCallbacks callbacks_;
  std::optional<audio::Resampler> resampler_;
  std::vector<int16_t> scratch_;
  size_t max_samples_ = 0;
  Utterance current_;
  uint64_t clock_ = 0;   // 16 kHz samples since the stream started
  size_t dropped_ = 0;   // of the current utterance, past max_utterance_ms
  std::deque<Utterance> queue_;
  std::unique_ptr<net::HttpCall> call_;
  int status_ = 0;
  speech::milliseconds retry_after_{0};
  std::string body_;
  bool busy_ = false;
  bool ended_ = false;
};

class AzureStream final : public SttStream {
 public:
  explicit AzureStream(std::shared_ptr<Recognizer> state) : state_(std::move(state)) {}
  ~AzureStream() override { state_->cancel(); }
  void push_audio(const int16_t *samples, size_t count) override { state_->push_audio(samples, count); }
  void finalize() override { state_->finalize(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<Recognizer> state_;
};

class AzureStt final : public Stt {
 public:
  AzureStt(SttSettings settings, ProviderContext context)
      : settings_(std::make_shared<const SttSettings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->sample_rate; }

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    return std::make_unique<AzureStream>(std::make_shared<Recognizer>(settings_, context_, std::move(callbacks)));
  }

 private:
  const std::string name_ = kProvider;
  std::shared_ptr<const SttSettings> settings_;
  ProviderContext context_;
};

}  // namespace
}  // namespace azure

std::unique_ptr<Stt> make_azure_stt(core::ConfigReader &config, const ProviderContext &context) {
  return std::make_unique<azure::AzureStt>(azure::read_stt_settings(config, context), context);
}

}  // namespace parley::providers
