// The espeak-ng TTS (espeak.hpp). Layout, top to bottom:
//   Engine      - the process-wide libespeak-ng state, used only with its mutex held
//   Chunk       - one text chunk synthesised on a worker, its audio and words posted back
//   EspeakTts   - the Tts: a chunked stream over a per-utterance synthesizer
//   factory     - config keys, checked when the provider is built
#include "providers/tts/espeak.hpp"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audio/resampler.hpp"
#include "common/error.hpp"
#include "providers/registry.hpp"

namespace parley::providers {
namespace {

constexpr const char *kProvider = "espeak";
constexpr int kBufferMs = 50;  // audio per synth callback, so per post to the executor

struct Settings {
  std::string voice;
  int rate = espeakRATE_NORMAL;
  int pitch = 50;
  int sample_rate = 16000;
  std::string data_path;  // empty: the library's built-in location
};

std::atomic<uint64_t> g_chunks_started{0};
std::atomic<uint64_t> g_chunks_cancelled{0};
std::atomic<uint64_t> g_samples_synthesised{0};

std::string status_text(espeak_ng_STATUS status) {
  char buffer[256] = {};
  espeak_ng_GetStatusCodeMessage(status, buffer, sizeof buffer);
  return buffer;
}

int synth_callback(short *wav, int count, espeak_EVENT *events);

// ---------------------------------------------------------------------------------------------
// Engine

// libespeak-ng keeps one voice, one set of parameters and one output callback for the whole
// process, so every call into it goes through here with mutex() held.
class Engine {
 public:
  static Engine &instance() {
    static Engine engine;
    return engine;
  }

  std::mutex &mutex() noexcept { return mutex_; }

  /// Initialises espeak-ng, from `data_path` unless empty. Returns what went wrong, or
  /// nullopt. espeak-ng cannot switch data within a process (terminating it hangs, and each
  /// initialisation starts another thread), so the first data path stays; a later
  /// provider may name the same one or none.
  std::optional<std::string> initialize(const std::string &data_path) {
    if (initialized_) {
      if (data_path.empty() || same_directory(data_folder(data_path), data_in_use_)) return std::nullopt;
      return "espeak-ng already uses the data in \"" + data_in_use_ +
             "\" in this process and cannot switch to another data path";
    }
    espeak_ng_InitializePath(data_path.empty() ? nullptr : data_path.c_str());
    espeak_ng_ERROR_CONTEXT context = nullptr;
    espeak_ng_STATUS status = espeak_ng_Initialize(&context);
    espeak_ng_ClearErrorContext(&context);
    if (status == ENS_OK) status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, kBufferMs, nullptr);
    if (status != ENS_OK) {
      std::string problem = "espeak-ng could not initialise: " + status_text(status);
      if (data_path.empty()) problem += " (its voices come with the Debian package espeak-ng-data)";
      return problem;
    }
    espeak_SetSynthCallback(synth_callback);
    sample_rate_ = espeak_ng_GetSampleRate();
    const char *in_use = nullptr;
    espeak_Info(&in_use);
    data_in_use_ = in_use ? in_use : "";
    initialized_ = true;
    return std::nullopt;
  }

  /// Loads `voice` unless it is the one loaded. Returns what went wrong, or nullopt.
  std::optional<std::string> select_voice(const std::string &voice) {
    if (voice == voice_) return std::nullopt;
    const espeak_ng_STATUS status = espeak_ng_SetVoiceByName(voice.c_str());
    if (status != ENS_OK) {
      voice_.clear();  // whatever espeak-ng holds now, load the next voice afresh
      if (status == ENS_VOICE_NOT_FOUND) {
        return "no espeak-ng voice named \"" + voice + "\" (`espeak-ng --voices` lists them)";
      }
      return "espeak-ng could not load voice \"" + voice + "\": " + status_text(status);
    }
    voice_ = voice;
    return std::nullopt;
  }

  int sample_rate() const noexcept { return sample_rate_; }

 private:
  Engine() = default;

  // espeak-ng takes the espeak-ng-data folder or its parent.
  static std::string data_folder(const std::string &path) {
    std::error_code ec;
    const auto nested = std::filesystem::path(path) / "espeak-ng-data";
    return std::filesystem::is_directory(nested, ec) ? nested.string() : path;
  }

  static bool same_directory(const std::string &a, const std::string &b) {
    std::error_code ec;
    return std::filesystem::equivalent(a, b, ec);
  }

  std::mutex mutex_;
  bool initialized_ = false;
  std::string data_in_use_;
  std::string voice_;
  int sample_rate_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Chunk

// Byte offset of every UTF-8 character of `text`, plus text.size(): espeak-ng reports word
// positions in characters.
std::vector<size_t> character_offsets(const std::string &text) {
  std::vector<size_t> offsets;
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(text.size());
  return offsets;
}

bool is_word_edge_junk(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x80 && !std::isalnum(u);
}

// Audio delivered so far in one utterance, so each chunk's word timings count from the
// utterance's start. Used on the executor only.
struct UtteranceClock {
  uint64_t samples = 0;
};

struct OpenWord {
  int position = 0;  // 1-based character index
  int length = 0;    // characters
  int start_ms = 0;
};

class Chunk : public std::enable_shared_from_this<Chunk> {
 public:
  Chunk(std::shared_ptr<const Settings> settings, std::string text, TtsCallbacks callbacks,
        boost::asio::any_io_executor executor, std::shared_ptr<UtteranceClock> clock)
      : settings_(std::move(settings)),
        text_(std::move(text)),
        callbacks_(std::move(callbacks)),
        executor_(std::move(executor)),
        clock_(std::move(clock)),
        offset_ms_(static_cast<int>(clock_->samples * 1000 / static_cast<uint64_t>(settings_->sample_rate))) {}

  /// On the executor. Nothing of this chunk is delivered afterwards, and a synthesis in
  /// progress stops at its next buffer.
  void cancel() noexcept { cancelled_.store(true); }

  /// On a worker: the whole synthesis.
  void run() noexcept {
    try {
      synthesise();
    } catch (const std::exception &e) {
      fail(ErrorKind::internal, std::string("espeak-ng: ") + e.what());
    }
  }

  /// Inside espeak-ng's callback: no exception may cross its C frames.
  int on_buffer(short *wav, int count, espeak_EVENT *events) noexcept {
    try {
      return consume(wav, count, events) ? 0 : 1;
    } catch (const std::exception &e) {
      callback_failure_ = e.what();
      return 1;
    }
  }

 private:
  void synthesise() {
    if (cancelled_.load()) return;
    offsets_ = character_offsets(text_);
    auto &engine = Engine::instance();
    std::unique_lock lock(engine.mutex());
    if (cancelled_.load()) return;  // cancelled while waiting for another synthesis
    if (auto problem = engine.initialize(settings_->data_path)) return fail(ErrorKind::internal, *problem);
    if (auto problem = engine.select_voice(settings_->voice)) return fail(ErrorKind::bad_request, *problem);
    espeak_ng_SetParameter(espeakRATE, settings_->rate, 0);
    espeak_ng_SetParameter(espeakPITCH, settings_->pitch, 0);
    input_rate_ = engine.sample_rate();
    try {
      resampler_.emplace(input_rate_, settings_->sample_rate);
    } catch (const Error &e) {
      return fail(ErrorKind::internal, e.what());
    }
    g_chunks_started.fetch_add(1, std::memory_order_relaxed);
    // espeakENDPAUSE: a sentence's closing pause, so consecutive chunks do not run together.
    const espeak_ng_STATUS status =
        espeak_ng_Synthesize(text_.c_str(), text_.size() + 1, 0, POS_CHARACTER, 0,
                             espeakCHARS_UTF8 | espeakENDPAUSE, nullptr, this);
    lock.unlock();

    if (callback_failure_) return fail(ErrorKind::internal, "espeak-ng: " + *callback_failure_);
    if (cancelled_.load() || status == ENS_SPEECH_STOPPED) {
      g_chunks_cancelled.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (status != ENS_OK) return fail(ErrorKind::internal, "espeak-ng: synthesis failed: " + status_text(status));
    close_word(static_cast<int>(synthesised_ * 1000 / static_cast<uint64_t>(input_rate_)));
    std::vector<int16_t> tail;
    int16_t buffer[1024];
    while (const size_t count = resampler_->flush(buffer)) tail.insert(tail.end(), buffer, buffer + count);
    deliver(std::move(tail), true);
  }

  // On the worker, inside espeak_ng_Synthesize: one buffer of audio and its events.
  // Returns false to make espeak-ng stop.
  bool consume(const short *wav, int count, const espeak_EVENT *events) {
    if (cancelled_.load()) return false;
    for (const espeak_EVENT *event = events; event && event->type != espeakEVENT_LIST_TERMINATED; ++event) {
      switch (event->type) {
        case espeakEVENT_WORD:
          // espeak-ng also sends zero-length words (the end of a number, the clause's end).
          close_word(event->audio_position);
          if (event->length > 0) open_word_ = OpenWord{event->text_position, event->length, event->audio_position};
          break;
        case espeakEVENT_END:
        case espeakEVENT_MSG_TERMINATED:
          close_word(event->audio_position);
          break;
        default:
          break;
      }
    }
    std::vector<int16_t> out;
    if (wav != nullptr && count > 0) {
      synthesised_ += static_cast<uint64_t>(count);
      g_samples_synthesised.fetch_add(static_cast<uint64_t>(count), std::memory_order_relaxed);
      const std::span<const int16_t> in(wav, static_cast<size_t>(count));
      out.resize(resampler_->max_output(in.size()));
      out.resize(resampler_->process(in, out));
    }
    if (!out.empty() || !words_.empty()) deliver(std::move(out), false);
    return !cancelled_.load();
  }

  void close_word(int end_ms) {
    if (!open_word_) return;
    const OpenWord word = *open_word_;
    open_word_.reset();
    const size_t characters = offsets_.size() - 1;
    const size_t first = static_cast<size_t>(std::max(word.position - 1, 0));
    if (first >= characters) return;
    const size_t last = std::min(first + static_cast<size_t>(word.length), characters);
    size_t begin = offsets_[first], end = offsets_[last];
    while (begin < end && is_word_edge_junk(text_[begin])) ++begin;
    while (end > begin && is_word_edge_junk(text_[end - 1])) --end;
    if (begin == end) return;
    WordTiming timing;
    timing.word = text_.substr(begin, end - begin);
    timing.start_ms = offset_ms_ + word.start_ms;
    timing.end_ms = offset_ms_ + std::max(end_ms, word.start_ms);
    words_.push_back(std::move(timing));
  }

  // Posts audio, the words closed since the last post and, at the end, on_done.
  void deliver(std::vector<int16_t> audio, bool done) {
    boost::asio::post(executor_, [self = shared_from_this(), audio = std::move(audio),
                                  words = std::exchange(words_, {}), done]() mutable {
      if (self->cancelled_.load()) return;
      const auto &callbacks = self->callbacks_;
      if (!audio.empty()) {
        self->clock_->samples += audio.size();
        if (callbacks.on_audio) callbacks.on_audio(audio.data(), audio.size());
      }
      if (!words.empty() && callbacks.on_words && !self->cancelled_.load()) callbacks.on_words(std::move(words));
      if (done && callbacks.on_done && !self->cancelled_.load()) callbacks.on_done();
    });
  }

  void fail(ErrorKind kind, std::string message) {
    ProviderError error;
    error.kind = kind;
    error.provider = kProvider;
    error.message = std::move(message);
    boost::asio::post(executor_, [self = shared_from_this(), error = std::move(error)]() mutable {
      if (!self->cancelled_.load() && self->callbacks_.on_error) self->callbacks_.on_error(std::move(error));
    });
  }

  const std::shared_ptr<const Settings> settings_;
  const std::string text_;
  const TtsCallbacks callbacks_;
  const boost::asio::any_io_executor executor_;
  const std::shared_ptr<UtteranceClock> clock_;  // touched on the executor only
  const int offset_ms_;
  std::atomic<bool> cancelled_{false};

  // The worker's, during run().
  std::vector<size_t> offsets_;
  std::optional<audio::Resampler> resampler_;
  int input_rate_ = 0;
  uint64_t synthesised_ = 0;
  std::optional<OpenWord> open_word_;
  std::vector<WordTiming> words_;
  std::optional<std::string> callback_failure_;
};

int synth_callback(short *wav, int count, espeak_EVENT *events) {
  auto *chunk = events != nullptr ? static_cast<Chunk *>(events->user_data) : nullptr;
  if (chunk == nullptr) return 1;  // not ours: stop
  return chunk->on_buffer(wav, count, events);
}

class ChunkHandle final : public Cancellable {
 public:
  explicit ChunkHandle(std::shared_ptr<Chunk> chunk) : chunk_(std::move(chunk)) {}
  ~ChunkHandle() override { chunk_->cancel(); }
  void cancel() override { chunk_->cancel(); }

 private:
  std::shared_ptr<Chunk> chunk_;
};

// ---------------------------------------------------------------------------------------------
// EspeakTts

// One per utterance: chunks of one utterance share its clock.
class EspeakSynthesizer final : public ChunkSynthesizer {
 public:
  EspeakSynthesizer(std::shared_ptr<const Settings> settings, const ProviderContext &context)
      : settings_(std::move(settings)), context_(context) {}

  std::unique_ptr<Cancellable> synthesize(const std::string &text, TtsCallbacks callbacks) override {
    auto chunk = std::make_shared<Chunk>(settings_, text, std::move(callbacks), context_.executor, clock_);
    boost::asio::post(context_.workers, [chunk] { chunk->run(); });
    return std::make_unique<ChunkHandle>(std::move(chunk));
  }

 private:
  std::shared_ptr<const Settings> settings_;
  ProviderContext context_;
  std::shared_ptr<UtteranceClock> clock_ = std::make_shared<UtteranceClock>();
};

class EspeakTts final : public Tts {
 public:
  EspeakTts(Settings settings, ProviderContext context)
      : settings_(std::make_shared<const Settings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->sample_rate; }

  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    return make_chunked_stream(std::make_shared<EspeakSynthesizer>(settings_, context_), std::move(callbacks),
                               context_.executor);
  }

 private:
  const std::string name_ = kProvider;
  std::shared_ptr<const Settings> settings_;
  ProviderContext context_;
};

// ---------------------------------------------------------------------------------------------
// factory

// espeak-ng accepts the espeak-ng-data directory itself or its parent, and silently falls
// back to its built-in path when neither holds the data, so the path is checked here.
bool holds_espeak_data(const std::string &path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  return fs::is_regular_file(fs::path(path) / "phontab", ec) ||
         fs::is_regular_file(fs::path(path) / "espeak-ng-data" / "phontab", ec);
}

std::unique_ptr<Tts> make_espeak(core::ConfigReader &config, const ProviderContext &context) {
  Settings settings;
  settings.voice = config.string("voice", "en-us");
  settings.rate = static_cast<int>(config.integer("rate", espeakRATE_NORMAL, espeakRATE_MINIMUM, espeakRATE_MAXIMUM));
  settings.pitch = static_cast<int>(config.integer("pitch", 50, 0, 100));
  settings.sample_rate = static_cast<int>(config.integer("sample_rate", 16000, 8000, 48000));
  settings.data_path = config.string("data_path", "");

  if (settings.voice.empty()) config.fail("voice", "expected a voice name such as \"en-us\"; got \"\"");
  if (!audio::Resampler::is_supported_rate(settings.sample_rate)) {
    std::string rates;
    for (int rate : audio::Resampler::supported_rates()) rates += (rates.empty() ? "" : ", ") + std::to_string(rate);
    config.fail("sample_rate", "expected one of " + rates + "; got " + std::to_string(settings.sample_rate));
  }
  if (!settings.data_path.empty() && !holds_espeak_data(settings.data_path)) {
    config.fail("data_path", "\"" + settings.data_path +
                                 "\" holds no espeak-ng data (no phontab in it or in its espeak-ng-data folder)");
  }

  // Loading the voice now turns a misspelt name into a config error instead of a failure at
  // the first sentence; it takes a few milliseconds, once per voice.
  auto &engine = Engine::instance();
  std::lock_guard lock(engine.mutex());
  if (auto problem = engine.initialize(settings.data_path)) {
    config.fail("data_path", *problem + (settings.data_path.empty() ? " from its default data path" : ""));
  }
  if (auto problem = engine.select_voice(settings.voice)) config.fail("voice", *problem);
  return std::make_unique<EspeakTts>(std::move(settings), context);
}

}  // namespace

void register_espeak(Registry &registry) { registry.add_tts(kProvider, make_espeak); }

EspeakCounters espeak_counters() noexcept {
  EspeakCounters counters;
  counters.chunks_started = g_chunks_started.load(std::memory_order_relaxed);
  counters.chunks_cancelled = g_chunks_cancelled.load(std::memory_order_relaxed);
  counters.samples_synthesised = g_samples_synthesised.load(std::memory_order_relaxed);
  return counters;
}

}  // namespace parley::providers
