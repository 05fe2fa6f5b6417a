// The pocketsphinx STT (pocketsphinx.hpp). Layout, top to bottom:
//   ErrorCapture   - sphinxbase's log, silenced, its errors kept for the message at hand
//   DecoderPool    - loaded decoders kept between streams, keyed by model and dictionary
//   SphinxStream   - one stream: a backlog on the executor, decoding in batches on a worker
//   factory        - config keys, files and grammars checked when the provider is built
#include "providers/stt/pocketsphinx.hpp"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audio/resampler.hpp"
#include "audio/ring_buffer.hpp"
#include "common/error.hpp"
#include "core/logger.hpp"
#include "providers/registry.hpp"

namespace parley::providers {
namespace {

namespace fs = std::filesystem;

constexpr const char *kProvider = "pocketsphinx";
constexpr const char *kModelRoot = "/usr/share/pocketsphinx/model/en-us";
constexpr const char *kStreamSearch = "parley";  // a stream's grammar or keyword search
constexpr int kModelRate = 16000;
constexpr size_t kFrameSamples = kModelRate / 50;     // 20 ms fed per ps_process_raw
constexpr size_t kSamplesPerMs = kModelRate / 1000;
constexpr size_t kSamplesPerSphinxFrame = kModelRate / 100;  // pocketsphinx's 10 ms frame
constexpr int kBatchMs = 200;  // the most audio one worker turn decodes
constexpr double kDefaultKeywordThreshold = 1e-40;

enum class Mode { lm, grammar, jsgf, keywords };

struct Settings {
  Mode mode = Mode::lm;
  std::string model_dir;
  std::string dict;
  std::string lm;
  std::string grammar;   // a JSGF file
  std::string jsgf;      // JSGF text
  std::string keywords;  // a pocketsphinx keyword file's text: "phrase /threshold/" lines
  int sample_rate = kModelRate;
  int max_backlog_ms = 3000;
  int partial_interval_ms = 200;

  std::string pool_key() const { return model_dir + '\n' + dict; }
};

// ---------------------------------------------------------------------------------------------
// ErrorCapture

thread_local std::string *t_errors = nullptr;

// sphinxbase formats its errors as `ERROR: "file.c", line 12: the message`; keep the message.
std::string_view strip_sphinx_prefix(std::string_view text) {
  if (const size_t at = text.find("\", line "); at != std::string_view::npos) {
    if (const size_t colon = text.find(": ", at); colon != std::string_view::npos) text.remove_prefix(colon + 2);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

void sphinx_log(void *, err_lvl_t level, const char *format, ...) {
  if (t_errors == nullptr || level < ERR_ERROR) return;
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  const std::string_view text = strip_sphinx_prefix(line);
  if (text.empty() || t_errors->size() > 600) return;
  if (!t_errors->empty()) *t_errors += "; ";
  *t_errors += text;
}

// sphinxbase logs every setting and every model file it reads to stderr; the process's
// logger is the place for what matters, so its own log is off and errors are collected by
// whoever is calling it on this thread.
class ErrorCapture {
 public:
  ErrorCapture() {
    static std::once_flag once;
    std::call_once(once, [] {
      err_set_logfp(nullptr);
      err_set_callback(sphinx_log, nullptr);
    });
    previous_ = std::exchange(t_errors, &text_);
  }
  ~ErrorCapture() { t_errors = previous_; }
  ErrorCapture(const ErrorCapture &) = delete;
  ErrorCapture &operator=(const ErrorCapture &) = delete;

  bool empty() const noexcept { return text_.empty(); }
  std::string describe(std::string_view fallback) const { return text_.empty() ? std::string(fallback) : text_; }

 private:
  std::string text_;
  std::string *previous_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// DecoderPool

struct DecoderDeleter {
  void operator()(ps_decoder_t *decoder) const noexcept { ps_free(decoder); }
};
using Decoder = std::unique_ptr<ps_decoder_t, DecoderDeleter>;

// A decoder and where its cepstral mean normalisation started. pocketsphinx adapts that
// mean to the audio it hears, at the end of each utterance; a pooled decoder is put back to
// its freshly loaded state (the model's initial mean, nothing observed yet) for each
// stream, and ps_start_stream() resets the front end's noise estimate, so how a stream is
// heard never depends on which streams used the decoder before. (cmn_live_set() would not
// do: it weighs the mean it sets as 5 s of audio already heard.)
struct PooledDecoder {
  Decoder decoder;
  std::vector<mfcc_t> cmn_start;

  explicit operator bool() const noexcept { return decoder != nullptr; }

  void remember_cmn() {
    cmn_t *cmn = cmn_of(decoder.get());
    if (cmn == nullptr) return;
    cmn_start.assign(cmn->cmn_mean, cmn->cmn_mean + cmn->veclen);
  }

  void restore_cmn() {
    cmn_t *cmn = cmn_of(decoder.get());
    if (cmn == nullptr || cmn_start.size() != static_cast<size_t>(cmn->veclen)) return;
    std::copy(cmn_start.begin(), cmn_start.end(), cmn->cmn_mean);
    std::fill(cmn->sum, cmn->sum + cmn->veclen, mfcc_t{});
    cmn->nframe = 0;
  }

  static cmn_t *cmn_of(ps_decoder_t *decoder) {
    feat_t *feat = decoder ? ps_get_feat(decoder) : nullptr;
    return feat ? feat->cmn_struct : nullptr;
  }
};

// pocketsphinx has no way to share a loaded acoustic model between decoders, so whole
// decoders are kept: a finished stream's decoder, its utterance ended and its stream search
// removed, waits here for the next stream with the same model and dictionary. A language
// model search stays loaded with it (loading one takes 0.2 s).
class DecoderPool {
 public:
  static DecoderPool &instance() {
    static DecoderPool pool;
    return pool;
  }

  PooledDecoder take(const std::string &key) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return {};
    PooledDecoder decoder = std::move(it->second.back());
    it->second.pop_back();
    return decoder;
  }

  void give_back(const std::string &key, PooledDecoder decoder) {
    std::lock_guard lock(mutex_);
    auto &idle = idle_[key];
    if (idle.size() < kMaxIdlePerModel) idle.push_back(std::move(decoder));
  }

 private:
  static constexpr size_t kMaxIdlePerModel = 4;
  std::mutex mutex_;
  std::map<std::string, std::vector<PooledDecoder>> idle_;
};

PooledDecoder load_decoder(const Settings &settings, const ErrorCapture &errors, std::string &problem) {
  cmd_ln_t *config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", settings.model_dir.c_str(), "-dict",
                                 settings.dict.c_str(), nullptr);
  if (config == nullptr) {
    problem = errors.describe("invalid decoder settings");
    return {};
  }
  PooledDecoder loaded;
  loaded.decoder.reset(ps_init(config));
  cmd_ln_free_r(config);  // the decoder holds its own reference
  if (!loaded) {
    problem = errors.describe("ps_init failed");
    return {};
  }
  loaded.remember_cmn();
  return loaded;
}

// A keyword search reads its phrases from a file only.
int set_keyword_search(ps_decoder_t *decoder, const std::string &keyword_file_text) {
  std::string path = (fs::temp_directory_path() / "parley-kws-XXXXXX").string();
  const int fd = mkstemp(path.data());
  if (fd < 0) return -1;
  const bool written = ::write(fd, keyword_file_text.data(), keyword_file_text.size()) ==
                       static_cast<ssize_t>(keyword_file_text.size());
  ::close(fd);
  const int result = written ? ps_set_kws(decoder, kStreamSearch, path.c_str()) : -1;
  std::remove(path.c_str());
  return result;
}

// ps_set_jsgf_file() and ps_set_jsgf_string() of this pocketsphinx never free the grammar
// they parse (13 kB a stream), so this is what they do, freeing it.
int set_grammar_search(ps_decoder_t *decoder, const std::string &grammar, bool is_file) {
  jsgf_t *jsgf = is_file ? jsgf_parse_file(grammar.c_str(), nullptr) : jsgf_parse_string(grammar.c_str(), nullptr);
  if (jsgf == nullptr) return -1;
  int result = -1;
  if (jsgf_rule_t *rule = jsgf_get_public_rule(jsgf)) {
    const float lw = cmd_ln_float32_r(ps_get_config(decoder), "-lw");
    fsg_model_t *fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(decoder), lw);
    if (fsg != nullptr) {
      result = ps_set_fsg(decoder, kStreamSearch, fsg);
      fsg_model_free(fsg);  // the search holds its own reference
    }
  }
  jsgf_grammar_free(jsgf);
  return result;
}

// ---------------------------------------------------------------------------------------------
// SphinxStream

struct Output {
  enum class Kind { speech_started, transcript, error } kind;
  Transcript transcript;
  ProviderError error;
};

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

// Threading: the executor owns the backlog and the flags above `batch_`; a worker owns the
// decoder and everything below it, and only the one batch in flight touches them, so
// boost::asio::post is the only synchronisation needed. `cancelled_` is read by both.
class SphinxStream : public std::enable_shared_from_this<SphinxStream> {
 public:
  SphinxStream(std::shared_ptr<const Settings> settings, SttCallbacks callbacks, const ProviderContext &context)
      : settings_(std::move(settings)),
        callbacks_(std::move(callbacks)),
        context_(context),
        backlog_(static_cast<size_t>(settings_->max_backlog_ms) * static_cast<size_t>(settings_->sample_rate) / 1000,
                 audio::OverflowPolicy::overwrite_oldest),
        batch_limit_(static_cast<size_t>(kBatchMs * settings_->sample_rate / 1000)) {
    batch_.reserve(batch_limit_);
  }

  ~SphinxStream() { release_decoder(); }  // when the worker pool stopped before it could

  // --- executor ---

  void start() { pump(); }

  void push(const int16_t *samples, size_t count) {
    if (ended_ || count == 0) return;
    const uint64_t dropped_before = backlog_.dropped();
    backlog_.write(std::span<const int16_t>(samples, count));
    pushed_ += count;
    if (backlog_.dropped() != dropped_before && !overflow_reported_) {
      overflow_reported_ = true;
      warn_overflow();
    }
    pump();
  }

  void finalize() {
    if (ended_) return;
    finalize_marks_.push_back(pushed_);
    pump();
  }

  void cancel() {
    if (ended_) return;
    ended_ = true;
    cancelled_.store(true);
    backlog_.clear();
    finalize_marks_.clear();
    if (!in_flight_) post_release();
  }

 private:
  // --- executor ---

  // Hands the next batch to a worker unless one is in flight: the decoder (loaded by the
  // first batch), then up to kBatchMs of backlog, ending the utterance at a finalize() mark.
  void pump() {
    if (ended_ || in_flight_) return;
    if (started_ && backlog_.empty() && finalize_marks_.empty()) return;
    started_ = true;
    const uint64_t consumed = pushed_ - backlog_.size();  // read or dropped
    size_t take = std::min(backlog_.size(), batch_limit_);
    bool finalize = false;
    if (!finalize_marks_.empty() && finalize_marks_.front() <= consumed + take) {
      take = finalize_marks_.front() > consumed ? static_cast<size_t>(finalize_marks_.front() - consumed) : 0;
      finalize_marks_.pop_front();
      finalize = true;
    }
    batch_.resize(take);
    backlog_.read(batch_);
    if (backlog_.empty()) overflow_reported_ = false;
    in_flight_ = true;
    boost::asio::post(context_.workers, [self = shared_from_this(), finalize] { self->work(finalize); });
  }

  void deliver(std::vector<Output> outputs) {
    in_flight_ = false;
    for (auto &output : outputs) {
      if (ended_) break;
      switch (output.kind) {
        case Output::Kind::speech_started:
          if (callbacks_.on_speech_started) callbacks_.on_speech_started();
          break;
        case Output::Kind::transcript:
          if (callbacks_.on_transcript) callbacks_.on_transcript(output.transcript);
          break;
        case Output::Kind::error:
          if (output.error.fatal) {
            ended_ = true;
            backlog_.clear();
            finalize_marks_.clear();
          }
          if (callbacks_.on_error) callbacks_.on_error(std::move(output.error));
          break;
      }
    }
    if (ended_) {
      // A callback may have pushed audio (a batch is in flight again) before cancelling;
      // that batch then returns the decoder itself.
      if (!in_flight_) post_release();
      return;
    }
    pump();
  }

  void warn_overflow() {
    ProviderError error;
    error.kind = ErrorKind::internal;
    error.provider = kProvider;
    error.fatal = false;
    error.message = "pocketsphinx: decoding fell more than " + std::to_string(settings_->max_backlog_ms) +
                    " ms behind the audio; dropping the oldest audio";
    if (context_.logger) context_.logger->log(core::LogLevel::warn, context_.call_id, error.message);
    boost::asio::post(context_.executor, [self = shared_from_this(), error = std::move(error)]() mutable {
      if (!self->ended_ && self->callbacks_.on_error) self->callbacks_.on_error(std::move(error));
    });
  }

  // Returns the decoder to the pool from a worker, once nothing else will use it.
  void post_release() {
    if (release_posted_) return;
    release_posted_ = true;
    boost::asio::post(context_.workers, [self = shared_from_this()] { self->release_decoder(); });
  }

  // --- worker ---

  void work(bool finalize) noexcept {
    std::vector<Output> outputs;
    try {
      if (!cancelled_.load() && !decoder_ && !failed_) setup(outputs);
      if (!cancelled_.load() && decoder_) feed(batch_, outputs);
      if (!cancelled_.load() && decoder_ && finalize) end_utterance(true, outputs);
    } catch (const std::exception &e) {
      fatal(ErrorKind::internal, std::string("pocketsphinx: ") + e.what(), outputs);
    }
    if (cancelled_.load()) release_decoder();
    boost::asio::post(context_.executor,
                      [self = shared_from_this(), outputs = std::move(outputs)]() mutable { self->deliver(std::move(outputs)); });
  }

  void setup(std::vector<Output> &outputs) {
    ErrorCapture errors;
    const Settings &settings = *settings_;
    decoder_ = DecoderPool::instance().take(settings.pool_key());
    decoder_.restore_cmn();
    if (!decoder_) {
      const auto began = std::chrono::steady_clock::now();
      std::string problem;
      decoder_ = load_decoder(settings, errors, problem);
      if (!decoder_) {
        return fatal(ErrorKind::internal, "pocketsphinx: could not load the model " + settings.model_dir + " with " +
                                              settings.dict + ": " + problem, outputs);
      }
      if (context_.logger && context_.logger->enabled(core::LogLevel::debug)) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
        context_.logger->log(core::LogLevel::debug, context_.call_id,
                             "pocketsphinx: loaded a decoder in " + std::to_string(ms.count()) + " ms");
      }
    }
    if (!select_search(errors)) {
      return fatal(ErrorKind::bad_request, "pocketsphinx: " + errors.describe("could not set up the search"), outputs);
    }
    cmd_ln_t *config = ps_get_config(decoder_.decoder.get());
    start_lag_ = static_cast<uint64_t>(cmd_ln_int32_r(config, "-vad_startspeech")) * kSamplesPerSphinxFrame;
    end_lag_ = static_cast<uint64_t>(cmd_ln_int32_r(config, "-vad_postspeech")) * kSamplesPerSphinxFrame;
    // A new stream: the front end's noise estimate and sample count start over.
    if (ps_start_stream(decoder_.decoder.get()) < 0 || ps_start_utt(decoder_.decoder.get()) < 0) {
      return fatal(ErrorKind::internal, "pocketsphinx: " + errors.describe("could not start an utterance"), outputs);
    }
    utterance_open_ = true;
    if (settings.sample_rate != kModelRate) resampler_.emplace(settings.sample_rate, kModelRate);
  }

  // Sets the stream's search; false (with the reason in `errors`) when it cannot.
  bool select_search(const ErrorCapture &errors) {
    const Settings &settings = *settings_;
    ps_decoder_t *decoder = decoder_.decoder.get();
    std::string name = kStreamSearch;
    int result = 0;
    switch (settings.mode) {
      case Mode::lm:
        name = "lm:" + settings.lm;
        if (ps_get_lm(decoder, name.c_str()) == nullptr) result = ps_set_lm_file(decoder, name.c_str(), settings.lm.c_str());
        break;
      case Mode::grammar: result = set_grammar_search(decoder, settings.grammar, true); break;
      case Mode::jsgf: result = set_grammar_search(decoder, settings.jsgf, false); break;
      case Mode::keywords: result = set_keyword_search(decoder, settings.keywords); break;
    }
    // A keyword search drops a phrase with a word missing from the dictionary and still
    // succeeds; the error it logged is what counts.
    if (result < 0 || !errors.empty()) return false;
    return ps_set_search(decoder, name.c_str()) >= 0;
  }

  void feed(std::span<const int16_t> input, std::vector<Output> &outputs) {
    std::span<const int16_t> audio = input;
    if (resampler_ && !input.empty()) {
      resampled_.resize(resampler_->max_output(input.size()));
      resampled_.resize(resampler_->process(input, resampled_));
      audio = resampled_;
    }
    pending_.insert(pending_.end(), audio.begin(), audio.end());
    size_t offset = 0;
    while (pending_.size() - offset >= kFrameSamples && decoder_ && !cancelled_.load()) {
      process(std::span<const int16_t>(pending_).subspan(offset, kFrameSamples), outputs);
      offset += kFrameSamples;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(offset));
  }

  void process(std::span<const int16_t> frame, std::vector<Output> &outputs) {
    ErrorCapture errors;
    ps_decoder_t *decoder = decoder_.decoder.get();
    if (ps_process_raw(decoder, frame.data(), frame.size(), FALSE, FALSE) < 0) {
      discard_decoder();
      return fatal(ErrorKind::internal, "pocketsphinx: decoding failed: " + errors.describe("ps_process_raw"), outputs);
    }
    fed_ += frame.size();
    const bool speech = ps_get_in_speech(decoder) != 0;
    if (speech && !in_speech_) {
      in_speech_ = true;
      speech_start_ = std::max(utterance_start_, fed_ - std::min(fed_, start_lag_));
      since_partial_ = 0;
      outputs.push_back(Output{Output::Kind::speech_started, {}, {}});
    }
    if (settings_->mode == Mode::keywords) {
      report_keywords(outputs);
    } else if (in_speech_ && settings_->partial_interval_ms > 0) {
      since_partial_ += frame.size();
      if (since_partial_ >= static_cast<size_t>(settings_->partial_interval_ms) * kSamplesPerMs) {
        since_partial_ = 0;
        partial(outputs);
      }
    }
    if (!speech && in_speech_) end_utterance(false, outputs);
  }

  void partial(std::vector<Output> &outputs) {
    int32 score = 0;
    const char *hypothesis = ps_get_hyp(decoder_.decoder.get(), &score);
    std::string text = trim(hypothesis ? hypothesis : "");
    if (text.empty() || text == last_partial_) return;
    last_partial_ = text;
    outputs.push_back(transcript(std::move(text), false, false, speech_start_, fed_));
  }

  // Reports the keywords spotted since the last call, oldest first. A keyword search keeps
  // its detections until the utterance ends, so each one is told once.
  void report_keywords(std::vector<Output> &outputs) {
    int32 score = 0;
    const char *hypothesis = ps_get_hyp(decoder_.decoder.get(), &score);
    if (hypothesis == nullptr || last_keywords_ == hypothesis) return;
    last_keywords_ = hypothesis;
    std::vector<std::pair<int, std::string>> found;
    for (ps_seg_t *seg = ps_seg_iter(decoder_.decoder.get()); seg != nullptr; seg = ps_seg_next(seg)) {
      int first = 0, last = 0;
      ps_seg_frames(seg, &first, &last);
      std::string word = trim(ps_seg_word(seg));
      if (!word.empty() && reported_keywords_.emplace(first, word).second) found.emplace_back(first, std::move(word));
    }
    std::sort(found.begin(), found.end());
    for (auto &[frame, word] : found) outputs.push_back(transcript(std::move(word), true, false, speech_start_, fed_));
  }

  // Ends the utterance: when the detector left speech, or `forced` by finalize(), which
  // also decodes what is left of the audio and always reports a final.
  void end_utterance(bool forced, std::vector<Output> &outputs) {
    ErrorCapture errors;
    ps_decoder_t *decoder = decoder_.decoder.get();
    if (forced) {
      if (resampler_) {
        int16_t tail[512];
        while (const size_t count = resampler_->flush(tail)) pending_.insert(pending_.end(), tail, tail + count);
        resampler_->reset();
      }
      if (!pending_.empty()) {
        process(pending_, outputs);
        pending_.clear();
        if (!decoder_) return;
      }
    }
    const uint64_t end = forced || !in_speech_ ? fed_ : std::max(speech_start_, fed_ - std::min(fed_, end_lag_));
    utterance_open_ = false;
    if (ps_end_utt(decoder) < 0) {
      discard_decoder();
      return fatal(ErrorKind::internal, "pocketsphinx: " + errors.describe("could not end the utterance"), outputs);
    }
    if (settings_->mode == Mode::keywords) {
      report_keywords(outputs);
      if (forced) outputs.push_back(transcript("", true, true, speech_start_, end));
    } else {
      int32 score = 0;
      const char *hypothesis = ps_get_hyp(decoder, &score);
      std::string text = trim(hypothesis ? hypothesis : "");
      if (forced || !text.empty()) outputs.push_back(transcript(std::move(text), true, true, speech_start_, end));
    }
    in_speech_ = false;
    last_partial_.clear();
    last_keywords_.clear();
    reported_keywords_.clear();
    utterance_start_ = speech_start_ = fed_;
    if (ps_start_utt(decoder) < 0) {
      discard_decoder();
      return fatal(ErrorKind::internal, "pocketsphinx: " + errors.describe("could not start an utterance"), outputs);
    }
    utterance_open_ = true;
  }

  static Output transcript(std::string text, bool is_final, bool speech_final, uint64_t start, uint64_t end) {
    Output output{Output::Kind::transcript, {}, {}};
    output.transcript.text = std::move(text);
    output.transcript.is_final = is_final;
    output.transcript.speech_final = speech_final;
    output.transcript.start_ms = static_cast<int>(start / kSamplesPerMs);
    output.transcript.end_ms = static_cast<int>(end / kSamplesPerMs);
    return output;
  }

  void fatal(ErrorKind kind, std::string message, std::vector<Output> &outputs) {
    Output output{Output::Kind::error, {}, {}};
    output.error.kind = kind;
    output.error.provider = kProvider;
    output.error.message = std::move(message);
    outputs.push_back(std::move(output));
    failed_ = true;
    release_decoder();
  }

  // A decoder that failed mid-stream is freed, not pooled.
  void discard_decoder() noexcept {
    decoder_ = {};
    utterance_open_ = false;
  }

  void release_decoder() noexcept {
    if (!decoder_) return;
    ErrorCapture quiet;
    if (utterance_open_) ps_end_utt(decoder_.decoder.get());
    utterance_open_ = false;
    ps_unset_search(decoder_.decoder.get(), kStreamSearch);
    try {
      DecoderPool::instance().give_back(settings_->pool_key(), std::move(decoder_));
    } catch (...) {
    }
    decoder_ = {};  // freed here when the pool did not take it
  }

  const std::shared_ptr<const Settings> settings_;
  const SttCallbacks callbacks_;
  const ProviderContext context_;
  std::atomic<bool> cancelled_{false};

  // The executor's.
  audio::RingBuffer<int16_t> backlog_;
  const size_t batch_limit_;
  uint64_t pushed_ = 0;                // samples pushed since start
  std::deque<uint64_t> finalize_marks_;  // values of pushed_ at each finalize()
  bool started_ = false;
  bool in_flight_ = false;
  bool ended_ = false;  // cancelled or failed: nothing more is delivered
  bool overflow_reported_ = false;
  bool release_posted_ = false;
  std::vector<int16_t> batch_;  // the batch in flight, read by its worker

  // The worker's (the batch in flight).
  PooledDecoder decoder_;
  bool failed_ = false;
  bool utterance_open_ = false;
  std::optional<audio::Resampler> resampler_;
  std::vector<int16_t> resampled_;
  std::vector<int16_t> pending_;  // 16 kHz audio short of a whole frame
  uint64_t fed_ = 0;              // 16 kHz samples decoded since start
  uint64_t utterance_start_ = 0;
  uint64_t speech_start_ = 0;
  uint64_t start_lag_ = 0;  // how long the detector needs to enter speech, in samples
  uint64_t end_lag_ = 0;    // and to leave it
  bool in_speech_ = false;
  size_t since_partial_ = 0;
  std::string last_partial_;
  std::string last_keywords_;
  std::set<std::pair<int, std::string>> reported_keywords_;
};

class PocketsphinxStream final : public SttStream {
 public:
  explicit PocketsphinxStream(std::shared_ptr<SphinxStream> state) : state_(std::move(state)) {}
  ~PocketsphinxStream() override { state_->cancel(); }

  void push_audio(const int16_t *samples, size_t count) override { state_->push(samples, count); }
  void finalize() override { state_->finalize(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<SphinxStream> state_;
};

class PocketsphinxStt final : public Stt {
 public:
  PocketsphinxStt(Settings settings, ProviderContext context)
      : settings_(std::make_shared<const Settings>(std::move(settings))), context_(std::move(context)) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return settings_->sample_rate; }

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto state = std::make_shared<SphinxStream>(settings_, std::move(callbacks), context_);
    state->start();
    return std::make_unique<PocketsphinxStream>(std::move(state));
  }

 private:
  const std::string name_ = kProvider;
  std::shared_ptr<const Settings> settings_;
  ProviderContext context_;
};

// ---------------------------------------------------------------------------------------------
// factory

bool readable_file(const std::string &path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && std::ifstream(path).good();
}

// A JSGF grammar must parse and have a public rule to start from. Whether its words are in
// the dictionary is known only once a decoder has loaded it (see SphinxStream::setup).
void check_jsgf(core::ConfigReader &config, std::string_view key, const std::string &value, bool is_file) {
  // sphinxbase's scanner echoes what it cannot match to stdout, so text that is plainly not
  // JSGF is turned away before it gets there.
  std::string head = value;
  if (is_file) {
    std::ifstream file(value);
    head.assign(64, '\0');
    file.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(file.gcount()));
  }
  if (trim(head).rfind("#JSGF", 0) != 0) config.fail(key, "not a JSGF grammar: it must start with \"#JSGF V1.0;\"");
  ErrorCapture errors;
  jsgf_t *grammar = is_file ? jsgf_parse_file(value.c_str(), nullptr) : jsgf_parse_string(value.c_str(), nullptr);
  if (grammar == nullptr) config.fail(key, "not a valid JSGF grammar: " + errors.describe("parse error"));
  const bool has_public_rule = jsgf_get_public_rule(grammar) != nullptr;
  jsgf_grammar_free(grammar);
  if (!has_public_rule) config.fail(key, "the JSGF grammar has no public rule to recognise");
}

// "operator, cancel my order /1e-30/" -> "operator /1e-40/\ncancel my order /1e-30/\n"
std::string keyword_file(core::ConfigReader &config, const std::string &list, double default_threshold) {
  std::string file;
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find_first_of(",\n", begin);
    if (end == std::string::npos) end = list.size();
    std::string item = trim(std::string_view(list).substr(begin, end - begin));
    begin = end + 1;
    if (item.empty()) continue;
    double threshold = default_threshold;
    if (item.back() == '/') {
      const size_t open = item.rfind('/', item.size() - 2);
      const std::string text = open == std::string::npos ? "" : item.substr(open + 1, item.size() - open - 2);
      char *parsed_end = nullptr;
      threshold = std::strtod(text.c_str(), &parsed_end);
      if (text.empty() || parsed_end != text.c_str() + text.size() || !(threshold > 0 && threshold <= 1)) {
        config.fail("keywords", "\"" + item + "\": expected a threshold in (0, 1] between slashes, as in \"operator /1e-20/\"");
      }
      item = trim(std::string_view(item).substr(0, open));
    }
    // Collapse inner whitespace and lower the case: the dictionary's words are lower case.
    std::string phrase;
    for (char c : item) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!phrase.empty() && phrase.back() != ' ') phrase += ' ';
      } else {
        phrase += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    if (phrase.empty()) config.fail("keywords", "\"" + item + "\": a threshold without a phrase");
    char number[32];
    std::snprintf(number, sizeof number, "%g", threshold);
    file += phrase + " /" + number + "/\n";
  }
  if (file.empty()) config.fail("keywords", "expected phrases separated by commas or newlines; got none");
  return file;
}

std::unique_ptr<Stt> make_pocketsphinx(core::ConfigReader &config, const ProviderContext &context) {
  Settings settings;
  const std::string root = kModelRoot;
  settings.model_dir = config.string("model_dir", root + "/en-us");
  settings.dict = config.string("dict", root + "/cmudict-en-us.dict");
  const auto lm = config.optional_string("lm");
  const auto grammar = config.optional_string("grammar");
  const auto jsgf = config.optional_string("jsgf");
  const auto keywords = config.optional_string("keywords");
  const double threshold = config.number("keyword_threshold", kDefaultKeywordThreshold, 1e-300, 1.0);
  settings.sample_rate = static_cast<int>(config.integer("sample_rate", kModelRate, 8000, 48000));
  settings.max_backlog_ms = static_cast<int>(config.integer("max_backlog_ms", 3000, 100, 600000));
  settings.partial_interval_ms = static_cast<int>(config.integer("partial_interval_ms", 200, 0, 60000));

  using Choice = std::pair<const char *, const std::optional<std::string> *>;
  const char *chosen = nullptr;
  for (const auto &[key, value] : std::initializer_list<Choice>{{"grammar", &grammar}, {"jsgf", &jsgf}, {"keywords", &keywords}}) {
    if (!value->has_value()) continue;
    if (chosen != nullptr) {
      config.fail(key, std::string("grammar, jsgf and keywords exclude each other; ") + chosen + " is set too");
    }
    chosen = key;
  }
  if (lm && chosen != nullptr) config.fail("lm", std::string("the language model is not used with ") + chosen);

  if (!audio::Resampler::is_supported_rate(settings.sample_rate)) {
    std::string rates;
    for (int rate : audio::Resampler::supported_rates()) rates += (rates.empty() ? "" : ", ") + std::to_string(rate);
    config.fail("sample_rate", "expected one of " + rates + "; got " + std::to_string(settings.sample_rate));
  }
  // A missing model file is checked here: some of pocketsphinx's loaders exit the process.
  for (const char *file : {"mdef", "means", "variances", "transition_matrices"}) {
    if (!readable_file((fs::path(settings.model_dir) / file).string())) {
      config.fail("model_dir", "\"" + settings.model_dir + "\" is not an acoustic model folder (no readable " +
                                   file + " in it; the en-us model comes with the Debian package pocketsphinx-en-us)");
    }
  }
  if (!readable_file(settings.dict)) {
    config.fail("dict", "no readable dictionary file at \"" + settings.dict +
                            "\" (the en-us dictionary comes with the Debian package pocketsphinx-en-us)");
  }

  if (grammar) {
    settings.mode = Mode::grammar;
    settings.grammar = *grammar;
    if (!readable_file(*grammar)) config.fail("grammar", "no readable JSGF file at \"" + *grammar + "\"");
    check_jsgf(config, "grammar", *grammar, true);
  } else if (jsgf) {
    settings.mode = Mode::jsgf;
    settings.jsgf = *jsgf;
    check_jsgf(config, "jsgf", *jsgf, false);
  } else if (keywords) {
    settings.mode = Mode::keywords;
    settings.keywords = keyword_file(config, *keywords, threshold);
  } else {
    settings.mode = Mode::lm;
    settings.lm = lm.value_or(root + "/en-us.lm.bin");
    if (!readable_file(settings.lm)) config.fail("lm", "no readable language model at \"" + settings.lm + "\"");
  }
  return std::make_unique<PocketsphinxStt>(std::move(settings), context);
}

}  // namespace

void register_pocketsphinx(Registry &registry) { registry.add_stt(kProvider, make_pocketsphinx); }

}  // namespace parley::providers
