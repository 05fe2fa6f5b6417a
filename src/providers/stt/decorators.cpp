#include "providers/stt/decorators.hpp"

#include <algorithm>
#include <cmath>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <random>

#include "core/logger.hpp"

namespace parley::providers {
namespace {

using Clock = std::chrono::steady_clock;

void log(const ProviderContext &context, core::LogLevel level, const std::string &message) {
  if (context.logger && context.logger->enabled(level)) context.logger->log(level, context.call_id, message);
}

// Destroys a stream from a fresh executor turn: it may be the one whose callback is running.
void release_later(const boost::asio::any_io_executor &executor, std::unique_ptr<SttStream> stream) {
  if (!stream) return;
  stream->cancel();
  boost::asio::post(executor, [dead = std::shared_ptr<SttStream>(std::move(stream))] {});
}

// A decorator's Stt: forwards name and rate to the wrapped one.
class WrappingStt : public Stt {
 public:
  explicit WrappingStt(std::unique_ptr<Stt> inner, ProviderContext context)
      : inner_(std::move(inner)), context_(std::move(context)) {}
  const std::string &name() const noexcept override { return inner_->name(); }
  int sample_rate() const noexcept override { return inner_->sample_rate(); }

 protected:
  std::unique_ptr<Stt> inner_;
  ProviderContext context_;
};

// ---------------------------------------------------------------------------------------------
// Reconnection

struct ReconnectState : std::enable_shared_from_this<ReconnectState> {
  ReconnectState(Stt &stt_, ReconnectPolicy policy_, ProviderContext context_, SttCallbacks user_)
      : stt(stt_),
        policy(policy_),
        context(std::move(context_)),
        user(std::move(user_)),
        timer(context.executor),
        rng(std::random_device{}()) {}

  Stt &stt;
  ReconnectPolicy policy;
  ProviderContext context;
  SttCallbacks user;
  boost::asio::steady_timer timer;
  std::mt19937 rng;

  std::unique_ptr<SttStream> stream;
  uint64_t generation = 0;       // which stream a callback came from
  Clock::time_point opened_at;
  int failures = 0;              // failed reconnects in a row
  bool ended = false;
  bool agent_speaking = false;
  bool finalize_pending = false;
  int64_t samples_pushed = 0;    // the timeline all transcripts are placed on
  int64_t stream_origin = 0;     // timeline position of the current stream's first sample
  std::deque<int16_t> gap;

  size_t max_gap_samples() const {
    return static_cast<size_t>(policy.max_gap.count()) * static_cast<size_t>(stt.sample_rate()) / 1000;
  }

  int to_ms(int64_t samples) const { return static_cast<int>(samples * 1000 / std::max(1, stt.sample_rate())); }

  void open() {
    stream_origin = samples_pushed - static_cast<int64_t>(gap.size());
    ++generation;
    stream = stt.start(callbacks());
    opened_at = Clock::now();
    if (agent_speaking) stream->set_agent_speaking(true);
    replay_gap();
    if (finalize_pending) {
      finalize_pending = false;
      stream->finalize();
    }
  }

  void replay_gap() {
    constexpr size_t kFrame = 320;
    std::vector<int16_t> frame;
    while (!gap.empty() && stream) {
      const size_t n = std::min(kFrame, gap.size());
      frame.assign(gap.begin(), gap.begin() + static_cast<std::ptrdiff_t>(n));
      gap.erase(gap.begin(), gap.begin() + static_cast<std::ptrdiff_t>(n));
      stream->push_audio(frame.data(), frame.size());
    }
  }

  SttCallbacks callbacks() {
    std::weak_ptr<ReconnectState> weak = shared_from_this();
    const uint64_t from = generation;
    auto current = [weak, from]() -> std::shared_ptr<ReconnectState> {
      auto self = weak.lock();
      return self && !self->ended && self->generation == from ? self : nullptr;
    };
    SttCallbacks callbacks;
    callbacks.on_transcript = [current](const Transcript &transcript) {
      auto self = current();
      if (!self) return;
      self->failures = 0;
      Transcript placed = transcript;
      placed.start_ms += self->to_ms(self->stream_origin);
      placed.end_ms += self->to_ms(self->stream_origin);
      if (self->user.on_transcript) self->user.on_transcript(placed);
    };
    callbacks.on_speech_started = [current] {
      auto self = current();
      if (self && self->user.on_speech_started) self->user.on_speech_started();
    };
    callbacks.on_error = [current](ProviderError error) {
      auto self = current();
      if (!self) return;
      if (error.fatal) {
        self->ended = true;
        if (self->user.on_error) self->user.on_error(std::move(error));
        return;
      }
      self->on_drop(std::move(error));
    };
    return callbacks;
  }

  void on_drop(ProviderError error) {
    release_later(context.executor, std::move(stream));
    ++generation;  // late callbacks of the dropped stream are ignored
    if (Clock::now() - opened_at >= std::chrono::seconds(5)) failures = 0;  // it was healthy
    ++failures;
    if (failures > policy.max_attempts) {
      ended = true;
      error.fatal = true;
      error.message = "gave up after " + std::to_string(policy.max_attempts) + " reconnect attempts; last error: " + error.message;
      if (user.on_error) user.on_error(std::move(error));
      return;
    }
    const auto delay = backoff();
    error.fatal = false;
    error.message += "; reconnecting in " + std::to_string(delay.count()) + " ms (attempt " + std::to_string(failures) + " of " +
                     std::to_string(policy.max_attempts) + ")";
    if (user.on_error) user.on_error(error);
    timer.expires_after(delay);
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->ended) return;
      self->reconnect();
    });
  }

  void reconnect() {
    try {
      open();
    } catch (const std::exception &e) {
      ProviderError error;
      error.kind = ErrorKind::network;
      error.provider = stt.name();
      error.message = std::string("reconnect failed: ") + e.what();
      on_drop(std::move(error));
    }
  }

  std::chrono::milliseconds backoff() {
    double base = static_cast<double>(policy.initial_backoff.count()) * std::pow(2.0, failures - 1);
    base = std::min(base, static_cast<double>(policy.max_backoff.count()));
    std::uniform_real_distribution<double> spread(1.0 - policy.jitter, 1.0 + policy.jitter);
    return std::chrono::milliseconds(static_cast<int64_t>(base * spread(rng)));
  }

  void push(const int16_t *samples, size_t count) {
    if (ended) return;
    samples_pushed += static_cast<int64_t>(count);
    if (stream) {
      stream->push_audio(samples, count);
      return;
    }
    gap.insert(gap.end(), samples, samples + count);
    const size_t bound = max_gap_samples();
    if (gap.size() > bound) gap.erase(gap.begin(), gap.begin() + static_cast<std::ptrdiff_t>(gap.size() - bound));
  }

  void finalize() {
    if (ended) return;
    if (stream) {
      stream->finalize();
    } else {
      finalize_pending = true;
    }
  }

  void cancel() {
    ended = true;
    timer.cancel();
    if (stream) stream->cancel();
    stream.reset();
  }
};

class ReconnectingStream final : public SttStream {
 public:
  explicit ReconnectingStream(std::shared_ptr<ReconnectState> state) : state_(std::move(state)) {}
  ~ReconnectingStream() override { state_->cancel(); }
  void push_audio(const int16_t *samples, size_t count) override { state_->push(samples, count); }
  void finalize() override { state_->finalize(); }
  void set_agent_speaking(bool speaking) override {
    state_->agent_speaking = speaking;
    if (state_->stream) state_->stream->set_agent_speaking(speaking);
  }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<ReconnectState> state_;
};

class ReconnectingStt final : public WrappingStt {
 public:
  ReconnectingStt(std::unique_ptr<Stt> inner, ReconnectPolicy policy, ProviderContext context)
      : WrappingStt(std::move(inner), std::move(context)), policy_(policy) {}

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto state = std::make_shared<ReconnectState>(*inner_, policy_, context_, std::move(callbacks));
    state->open();
    return std::make_unique<ReconnectingStream>(std::move(state));
  }

 private:
  ReconnectPolicy policy_;
};

// ---------------------------------------------------------------------------------------------
// Tee

class TeeStream final : public SttStream {
 public:
  TeeStream(std::unique_ptr<SttStream> primary, std::unique_ptr<SttStream> secondary, ProviderContext context)
      : primary_(std::move(primary)), secondary_(std::move(secondary)), context_(std::move(context)) {}
  ~TeeStream() override { cancel(); }

  void push_audio(const int16_t *samples, size_t count) override {
    primary_->push_audio(samples, count);
    guarded([&] { secondary_->push_audio(samples, count); });
  }
  void finalize() override {
    primary_->finalize();
    guarded([&] { secondary_->finalize(); });
  }
  void set_agent_speaking(bool speaking) override {
    primary_->set_agent_speaking(speaking);
    guarded([&] { secondary_->set_agent_speaking(speaking); });
  }
  void cancel() override {
    if (primary_) primary_->cancel();
    guarded([&] { secondary_->cancel(); });
  }

 private:
  // The secondary may never fail the call: anything it throws is logged and it is dropped.
  template <typename Fn>
  void guarded(Fn &&fn) {
    if (!secondary_) return;
    try {
      fn();
    } catch (const std::exception &e) {
      log(context_, core::LogLevel::warn, std::string("stt tee: secondary failed and was dropped: ") + e.what());
      release_later(context_.executor, std::move(secondary_));
    }
  }

  std::unique_ptr<SttStream> primary_;
  std::unique_ptr<SttStream> secondary_;
  ProviderContext context_;
};

class TeeStt final : public WrappingStt {
 public:
  TeeStt(std::unique_ptr<Stt> primary, std::unique_ptr<Stt> secondary, ProviderContext context)
      : WrappingStt(std::move(primary), std::move(context)), secondary_(std::move(secondary)) {}

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto primary = inner_->start(std::move(callbacks));
    std::unique_ptr<SttStream> secondary;
    try {
      secondary = secondary_->start(logging_callbacks());
    } catch (const std::exception &e) {
      log(context_, core::LogLevel::warn, std::string("stt tee: secondary did not start: ") + e.what());
    }
    return std::make_unique<TeeStream>(std::move(primary), std::move(secondary), context_);
  }

 private:
  SttCallbacks logging_callbacks() {
    SttCallbacks callbacks;
    ProviderContext context = context_;
    const std::string name = secondary_->name();
    callbacks.on_transcript = [context, name](const Transcript &t) {
      if (!t.is_final) return;
      log(context, core::LogLevel::info, "stt tee: secondary " + name + " heard \"" + t.text + "\"");
    };
    callbacks.on_error = [context, name](const ProviderError &e) {
      log(context, core::LogLevel::warn, "stt tee: secondary " + name + " error (ignored): " + e.message);
    };
    return callbacks;
  }

  std::unique_ptr<Stt> secondary_;
};

// ---------------------------------------------------------------------------------------------
// Echo discard

struct EchoState {
  std::chrono::milliseconds window;
  bool agent_speaking = false;
  Clock::time_point agent_stopped{};
  SttCallbacks user;

  bool in_echo_tail() const { return !agent_speaking && Clock::now() < agent_stopped + window; }
};

class EchoDiscardStream final : public SttStream {
 public:
  EchoDiscardStream(std::shared_ptr<EchoState> state, std::unique_ptr<SttStream> inner)
      : state_(std::move(state)), inner_(std::move(inner)) {}
  void push_audio(const int16_t *samples, size_t count) override { inner_->push_audio(samples, count); }
  void finalize() override { inner_->finalize(); }
  void set_agent_speaking(bool speaking) override {
    if (state_->agent_speaking && !speaking) state_->agent_stopped = Clock::now();
    state_->agent_speaking = speaking;
    inner_->set_agent_speaking(speaking);
  }
  void cancel() override { inner_->cancel(); }

 private:
  std::shared_ptr<EchoState> state_;
  std::unique_ptr<SttStream> inner_;
};

class EchoDiscardStt final : public WrappingStt {
 public:
  EchoDiscardStt(std::unique_ptr<Stt> inner, std::chrono::milliseconds window, ProviderContext context)
      : WrappingStt(std::move(inner), std::move(context)), window_(window) {}

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto state = std::make_shared<EchoState>();
    state->window = window_;
    state->user = std::move(callbacks);
    SttCallbacks filtered;
    ProviderContext context = context_;
    filtered.on_transcript = [state, context](const Transcript &t) {
      if (state->in_echo_tail()) {
        log(context, core::LogLevel::debug, "stt: discarded \"" + t.text + "\" heard right after agent speech (echo)");
        return;
      }
      if (state->user.on_transcript) state->user.on_transcript(t);
    };
    filtered.on_speech_started = [state] {
      if (!state->in_echo_tail() && state->user.on_speech_started) state->user.on_speech_started();
    };
    filtered.on_error = [state](ProviderError e) {
      if (state->user.on_error) state->user.on_error(std::move(e));
    };
    return std::make_unique<EchoDiscardStream>(state, inner_->start(std::move(filtered)));
  }

 private:
  std::chrono::milliseconds window_;
};

}  // namespace

std::unique_ptr<Stt> make_reconnecting_stt(std::unique_ptr<Stt> inner, ReconnectPolicy policy,
                                           const ProviderContext &context) {
  return std::make_unique<ReconnectingStt>(std::move(inner), policy, context);
}

std::unique_ptr<Stt> make_tee_stt(std::unique_ptr<Stt> primary, std::unique_ptr<Stt> secondary,
                                  const ProviderContext &context) {
  return std::make_unique<TeeStt>(std::move(primary), std::move(secondary), context);
}

std::unique_ptr<Stt> make_echo_discard_stt(std::unique_ptr<Stt> inner, std::chrono::milliseconds window,
                                           const ProviderContext &context) {
  return std::make_unique<EchoDiscardStt>(std::move(inner), window, context);
}

}  // namespace parley::providers
