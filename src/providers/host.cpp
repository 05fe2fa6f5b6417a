#include "providers/host.hpp"
#include "providers/llm/chat_json.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace parley::providers {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char *host_provider_kind_name(HostProviderKind kind) noexcept {
  switch (kind) {
    case HostProviderKind::llm: return "llm";
    case HostProviderKind::tts: return "tts";
    case HostProviderKind::stt: return "stt";
  }
  return "unknown";
}

// One request awaiting the host's answers. Answers arrive on host threads and are posted to
// the requesting session's executor; after cancel nothing reaches the callbacks.
class HostProviderHub::Pending : public std::enable_shared_from_this<Pending> {
 public:
  Pending(HostProviderKind kind, std::string provider, boost::asio::any_io_executor executor)
      : kind_(kind), provider_(std::move(provider)), executor_(std::move(executor)) {}
  virtual ~Pending() = default;

  HostProviderKind kind() const noexcept { return kind_; }
  void cancel() noexcept { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  template <typename Fn>
  void on_executor(Fn &&fn) {
    boost::asio::post(executor_, [self = shared_from_this(), fn = std::forward<Fn>(fn)]() mutable {
      if (!self->cancelled()) fn(*self);
    });
  }

  virtual void audio(std::vector<int16_t>) {}
  virtual void text(const std::string &) {}
  virtual void tool_call(int, const std::string &, const std::string &, const std::string &) {}
  virtual void transcript(const Transcript &) {}
  virtual void done(bool ok, const std::string &detail) = 0;

 protected:
  ProviderError failure(const std::string &message, bool fatal = true) const {
    ProviderError error;
    error.kind = ErrorKind::server;
    error.provider = provider_;
    error.message = message;
    error.fatal = fatal;
    return error;
  }

  HostProviderKind kind_;
  std::string provider_;
  boost::asio::any_io_executor executor_;
  std::atomic<bool> cancelled_{false};
};

namespace {

std::string request_json(json body, uint64_t id, HostProviderKind kind, const std::string &provider) {
  body["request"] = id;
  body["kind"] = host_provider_kind_name(kind);
  body["provider"] = provider;
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// Shared by the three host provider kinds: naming, delivery and the cancel protocol.
class HostProviderBase {
 public:
  HostProviderBase(std::shared_ptr<HostProviderHub> hub, HostProviderKind kind, std::string name,
                   HostProviderHub::Deliver deliver, ProviderContext context)
      : hub_(std::move(hub)), kind_(kind), name_(std::move(name)), deliver_(std::move(deliver)),
        context_(std::move(context)) {}

 protected:
  // Registers `pending`, sends the request; false when the host could not take it.
  bool open(const std::shared_ptr<HostProviderHub::Pending> &pending, json body, uint64_t &id) {
    id = hub_->track(pending);
    if (send(id, std::move(body))) return true;
    hub_->forget(id);
    return false;
  }

  bool send(uint64_t id, json body, std::vector<int16_t> audio = {}) {
    HostRequest request;
    request.id = id;
    request.call_id = context_.call_id;
    request.payload_json = request_json(std::move(body), id, kind_, name_);
    request.audio = std::move(audio);
    return deliver_(std::move(request));
  }

  void close(const std::shared_ptr<HostProviderHub::Pending> &pending, uint64_t id) {
    if (!pending || pending->cancelled()) return;
    pending->cancel();
    hub_->forget(id);
    send(id, json{{"op", "cancel"}});
  }

  ProviderError refused() const {
    ProviderError error;
    error.kind = ErrorKind::internal;
    error.provider = name_;
    error.message = "host provider " + name_ + " is not taking requests (queue full)";
    return error;
  }

  std::shared_ptr<HostProviderHub> hub_;
  HostProviderKind kind_;
  std::string name_;
  HostProviderHub::Deliver deliver_;
  ProviderContext context_;
};

// ---------------------------------------------------------------------------------------------
// TTS

namespace {

class TtsPending final : public HostProviderHub::Pending {
 public:
  TtsPending(std::string provider, boost::asio::any_io_executor executor, TtsCallbacks callbacks)
      : Pending(HostProviderKind::tts, std::move(provider), std::move(executor)), callbacks_(std::move(callbacks)) {}
  void audio(std::vector<int16_t> samples) override {
    if (callbacks_.on_audio) callbacks_.on_audio(samples.data(), samples.size());
  }
  void done(bool ok, const std::string &detail) override {
    if (ok) {
      if (callbacks_.on_done) callbacks_.on_done();
    } else if (callbacks_.on_error) {
      callbacks_.on_error(failure(detail));
    }
  }

 private:
  TtsCallbacks callbacks_;
};

class RequestHandle final : public Cancellable {
 public:
  RequestHandle(std::function<void()> on_cancel) : on_cancel_(std::move(on_cancel)) {}
  ~RequestHandle() override { cancel(); }
  void cancel() override {
    if (auto fn = std::move(on_cancel_)) fn();
    on_cancel_ = nullptr;
  }

 private:
  std::function<void()> on_cancel_;
};

}  // namespace

class HostTts final : public Tts, public ChunkSynthesizer, public HostProviderBase {
 public:
  HostTts(std::shared_ptr<HostProviderHub> hub, std::string name, int rate, HostProviderHub::Deliver deliver,
          ProviderContext context)
      : HostProviderBase(std::move(hub), HostProviderKind::tts, std::move(name), std::move(deliver), std::move(context)),
        rate_(rate) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return rate_; }

  std::unique_ptr<TtsStream> start(TtsCallbacks callbacks) override {
    // The stream refers to this provider, which outlives it (provider.hpp).
    return make_chunked_stream(std::shared_ptr<ChunkSynthesizer>(std::shared_ptr<void>(), this), std::move(callbacks),
                               context_.executor);
  }

  std::unique_ptr<Cancellable> synthesize(const std::string &text, TtsCallbacks callbacks) override {
    auto pending = std::make_shared<TtsPending>(name_, context_.executor, callbacks);
    uint64_t id = 0;
    if (!open(pending, json{{"op", "synthesize"}, {"text", text}}, id)) {
      boost::asio::post(context_.executor, [callbacks, error = refused()] {
        if (callbacks.on_error) callbacks.on_error(error);
      });
    }
    return std::make_unique<RequestHandle>([this, pending, id] { close(pending, id); });
  }

 private:
  int rate_;
};

// ---------------------------------------------------------------------------------------------
// LLM

namespace {

json tools_json(const LlmRequest &request) {
  json tools = json::array();
  for (const auto &tool : request.tools) {
    json parameters = json::parse(tool.parameters_json, nullptr, false);
    tools.push_back({{"type", "function"},
                     {"function", {{"name", tool.name}, {"description", tool.description}, {"parameters", parameters}}}});
  }
  return tools;
}

class LlmPending final : public HostProviderHub::Pending {
 public:
  LlmPending(std::string provider, boost::asio::any_io_executor executor, LlmCallbacks callbacks)
      : Pending(HostProviderKind::llm, std::move(provider), std::move(executor)),
        callbacks_(std::move(callbacks)),
        started_(Clock::now()) {}

  void text(const std::string &delta) override {
    first_token();
    result_.text += delta;
    if (callbacks_.on_text) callbacks_.on_text(delta);
  }

  void tool_call(int index, const std::string &id, const std::string &name, const std::string &arguments) override {
    first_token();
    if (static_cast<size_t>(index) >= result_.tool_calls.size()) result_.tool_calls.resize(static_cast<size_t>(index) + 1);
    auto &call = result_.tool_calls[static_cast<size_t>(index)];
    if (!id.empty()) call.id = id;
    if (!name.empty()) call.name = name;
    call.arguments += arguments;
    if (callbacks_.on_tool_call_delta) callbacks_.on_tool_call_delta(ToolCallDelta{index, id, name, arguments});
  }

  void done(bool ok, const std::string &detail) override {
    if (!ok) {
      if (callbacks_.on_error) callbacks_.on_error(failure(detail));
      return;
    }
    result_.finish_reason = result_.tool_calls.empty() ? "stop" : "tool_calls";
    const json extra = json::parse(detail.empty() ? "{}" : detail, nullptr, false);
    if (extra.is_object()) {
      if (auto it = extra.find("finish_reason"); it != extra.end() && it->is_string()) result_.finish_reason = *it;
      if (auto it = extra.find("usage"); it != extra.end() && it->is_object()) {
        result_.usage = LlmUsage{it->value("prompt_tokens", 0), it->value("completion_tokens", 0)};
      }
    }
    if (callbacks_.on_done) callbacks_.on_done(std::move(result_));
  }

 private:
  void first_token() {
    if (!result_.time_to_first_token) {
      result_.time_to_first_token = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    }
  }

  LlmCallbacks callbacks_;
  Clock::time_point started_;
  LlmResult result_;
};

}  // namespace

class HostLlm final : public Llm, public HostProviderBase {
 public:
  using HostProviderBase::HostProviderBase;
  const std::string &name() const noexcept override { return name_; }

  std::unique_ptr<Cancellable> stream(LlmRequest request, LlmCallbacks callbacks) override {
    auto pending = std::make_shared<LlmPending>(name_, context_.executor, callbacks);
    json body = {{"op", "complete"}, {"messages", chat_messages_json(request.messages)}, {"tools", tools_json(request)}};
    if (request.temperature) body["temperature"] = *request.temperature;
    if (request.max_tokens) body["max_tokens"] = *request.max_tokens;
    uint64_t id = 0;
    if (!open(pending, std::move(body), id)) {
      boost::asio::post(context_.executor, [callbacks, error = refused()] {
        if (callbacks.on_error) callbacks.on_error(error);
      });
    }
    return std::make_unique<RequestHandle>([this, pending, id] { close(pending, id); });
  }
};

// ---------------------------------------------------------------------------------------------
// STT

namespace {

class SttPending final : public HostProviderHub::Pending {
 public:
  SttPending(std::string provider, boost::asio::any_io_executor executor, SttCallbacks callbacks)
      : Pending(HostProviderKind::stt, std::move(provider), std::move(executor)), callbacks_(std::move(callbacks)) {}
  void transcript(const Transcript &t) override {
    if (callbacks_.on_transcript) callbacks_.on_transcript(t);
  }
  void done(bool ok, const std::string &detail) override {
    if (!ok && callbacks_.on_error) callbacks_.on_error(failure(detail));
  }

 private:
  SttCallbacks callbacks_;
};

}  // namespace

class HostStt final : public Stt, public HostProviderBase {
 public:
  HostStt(std::shared_ptr<HostProviderHub> hub, std::string name, int rate, HostProviderHub::Deliver deliver,
          ProviderContext context)
      : HostProviderBase(std::move(hub), HostProviderKind::stt, std::move(name), std::move(deliver), std::move(context)),
        rate_(rate) {}

  const std::string &name() const noexcept override { return name_; }
  int sample_rate() const noexcept override { return rate_; }

  class Stream final : public SttStream {
   public:
    Stream(HostStt &owner, std::shared_ptr<SttPending> pending, uint64_t id)
        : owner_(owner), pending_(std::move(pending)), id_(id) {}
    ~Stream() override { cancel(); }
    void push_audio(const int16_t *samples, size_t count) override {
      if (pending_->cancelled()) return;
      if (!owner_.send(id_, json{{"op", "audio"}}, std::vector<int16_t>(samples, samples + count))) ++dropped_;
    }
    void finalize() override {
      if (!pending_->cancelled()) owner_.send(id_, json{{"op", "finalize"}});
    }
    void cancel() override { owner_.close(pending_, id_); }
    uint64_t dropped() const noexcept { return dropped_; }

   private:
    HostStt &owner_;
    std::shared_ptr<SttPending> pending_;
    uint64_t id_;
    uint64_t dropped_ = 0;
  };

  std::unique_ptr<SttStream> start(SttCallbacks callbacks) override {
    auto pending = std::make_shared<SttPending>(name_, context_.executor, callbacks);
    uint64_t id = 0;
    if (!open(pending, json{{"op", "start"}, {"sample_rate", rate_}}, id)) {
      boost::asio::post(context_.executor, [callbacks, error = refused()] {
        if (callbacks.on_error) callbacks.on_error(error);
      });
    }
    return std::make_unique<Stream>(*this, std::move(pending), id);
  }

 private:
  int rate_;
};

// ---------------------------------------------------------------------------------------------
// The hub

void HostProviderHub::add(Registry &registry, HostProviderKind kind, const std::string &name, int sample_rate,
                          Deliver deliver) {
  auto hub = shared_from_this();
  switch (kind) {
    case HostProviderKind::tts:
      registry.add_tts(name, [hub, name, sample_rate, deliver](core::ConfigReader &, const ProviderContext &context) {
        return std::make_unique<HostTts>(hub, name, sample_rate, deliver, context);
      });
      break;
    case HostProviderKind::llm:
      registry.add_llm(name, [hub, name, deliver](core::ConfigReader &, const ProviderContext &context) {
        return std::make_unique<HostLlm>(hub, HostProviderKind::llm, name, deliver, context);
      });
      break;
    case HostProviderKind::stt:
      registry.add_stt(name, [hub, name, sample_rate, deliver](core::ConfigReader &, const ProviderContext &context) {
        return std::make_unique<HostStt>(hub, name, sample_rate, deliver, context);
      });
      break;
  }
}

uint64_t HostProviderHub::track(std::shared_ptr<Pending> pending) {
  std::lock_guard lock(mutex_);
  const uint64_t id = next_id_++;
  pending_.emplace(id, std::move(pending));
  return id;
}

std::shared_ptr<HostProviderHub::Pending> HostProviderHub::find(uint64_t request) const {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(request);
  if (it == pending_.end()) {
    throw Error(Status::not_found, "host provider request " + std::to_string(request) + " is unknown, finished or cancelled");
  }
  return it->second;
}

void HostProviderHub::forget(uint64_t request) {
  std::lock_guard lock(mutex_);
  pending_.erase(request);
}

size_t HostProviderHub::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

namespace {

void expect_kind(const HostProviderHub::Pending &pending, HostProviderKind kind, uint64_t request, const char *what) {
  if (pending.kind() != kind) {
    throw Error(Status::invalid_argument, std::string(what) + ": request " + std::to_string(request) + " is a " +
                                              host_provider_kind_name(pending.kind()) + " request, not " +
                                              host_provider_kind_name(kind));
  }
}

}  // namespace

void HostProviderHub::push_audio(uint64_t request, const int16_t *samples, size_t count) {
  auto pending = find(request);
  expect_kind(*pending, HostProviderKind::tts, request, "audio");
  pending->on_executor([audio = std::vector<int16_t>(samples, samples + count)](Pending &p) mutable {
    p.audio(std::move(audio));
  });
}

void HostProviderHub::push_text(uint64_t request, std::string_view text) {
  auto pending = find(request);
  expect_kind(*pending, HostProviderKind::llm, request, "text");
  pending->on_executor([text = std::string(text)](Pending &p) { p.text(text); });
}

void HostProviderHub::push_tool_call(uint64_t request, int index, std::string_view id, std::string_view name,
                                     std::string_view arguments) {
  if (index < 0 || index > 127) throw Error(Status::invalid_argument, "tool call index must be 0..127");
  auto pending = find(request);
  expect_kind(*pending, HostProviderKind::llm, request, "tool call");
  pending->on_executor([index, id = std::string(id), name = std::string(name), args = std::string(arguments)](Pending &p) {
    p.tool_call(index, id, name, args);
  });
}

void HostProviderHub::push_transcript(uint64_t request, std::string_view text, bool is_final, bool speech_final) {
  auto pending = find(request);
  expect_kind(*pending, HostProviderKind::stt, request, "transcript");
  Transcript transcript;
  transcript.text = std::string(text);
  transcript.is_final = is_final || speech_final;
  transcript.speech_final = speech_final;
  pending->on_executor([transcript](Pending &p) { p.transcript(transcript); });
}

void HostProviderHub::complete(uint64_t request, bool ok, std::string_view detail) {
  auto pending = find(request);
  forget(request);
  pending->on_executor([ok, detail = std::string(detail)](Pending &p) { p.done(ok, detail); });
}

}  // namespace parley::providers
