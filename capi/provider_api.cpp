// Host-implemented providers and the runtime-mode speak() call.
#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <cstring>
#include <optional>
#include <nlohmann/json.hpp>

#include "boundary.hpp"
#include "core/bounded_queue.hpp"
#include "core/config_reader.hpp"
#include "core/dispatcher.hpp"
#include "core/session.hpp"
#include "pipeline/agent.hpp"
#include "runtime_handle.hpp"
#include "session_handle.hpp"

using parley::Error;
using parley::Status;
using parley::capi::guard;
using parley::capi::require;
namespace providers = parley::providers;

namespace parley::capi {

// Calls a callback-mode host provider on a thread of its own, in request order. The queue
// is bounded: a host that stops answering makes new requests fail instead of growing memory.
class HostCallbackChannel {
 public:
  HostCallbackChannel(const parley_provider_callbacks &callbacks, void *user_data)
      : callbacks_(callbacks), user_data_(user_data), queue_(kCapacity),
        dispatcher_(std::in_place, queue_, [this](providers::HostRequest request) { call(request); }) {}

  ~HostCallbackChannel() { stop(); }

  bool deliver(providers::HostRequest request) { return queue_.push(std::move(request)); }

  // Delivers what is queued, joins the thread, then tells the host it may free user_data.
  void stop() {
    std::call_once(stopped_, [this] {
      queue_.close();
      dispatcher_.reset();
      if (callbacks_.on_release) callbacks_.on_release(user_data_);
    });
  }

 private:
  static constexpr size_t kCapacity = 4096;

  void call(const providers::HostRequest &request) {
    callbacks_.on_request(request.id, request.call_id.c_str(), request.payload_json.c_str(),
                          request.audio.empty() ? nullptr : request.audio.data(), request.audio.size(), user_data_);
  }

  parley_provider_callbacks callbacks_;
  void *user_data_;
  core::BoundedQueue<providers::HostRequest> queue_;
  std::optional<core::Dispatcher<providers::HostRequest>> dispatcher_;
  std::once_flag stopped_;
};

}  // namespace parley::capi

parley_runtime::parley_runtime(parley::core::RuntimeConfig config)
    : engine(std::move(config)),
      providers(providers::builtin_registry()),
      host_providers(std::make_shared<providers::HostProviderHub>()) {
  // Agents build their providers from this registry, which the host may extend later.
  parley::pipeline::register_agent_behaviour(
      engine, [this](const parley::pipeline::AgentConfig &agent, const providers::ProviderContext &context,
                     const std::string &what, const std::string &path) {
        std::lock_guard lock(providers_mutex);
        return parley::pipeline::build_providers(providers, agent, context, what, path);
      });
}

parley_runtime::~parley_runtime() {
  for (auto &channel : host_channels) channel->stop();
}

namespace {

providers::HostProviderKind parse_kind(const char *kind) {
  const std::string_view k = kind;
  if (k == "llm") return providers::HostProviderKind::llm;
  if (k == "tts") return providers::HostProviderKind::tts;
  if (k == "stt") return providers::HostProviderKind::stt;
  throw Error(Status::invalid_argument, "kind must be \"llm\", \"tts\" or \"stt\"; got \"" + std::string(k) + "\"");
}

int parse_sample_rate(const char *options_json) {
  const auto options = parley::core::parse_config(options_json, "provider options");
  parley::core::ConfigReader reader(options, "provider options");
  const int rate = static_cast<int>(reader.integer("sample_rate", 16000, 8000, 48000));
  reader.reject_unknown_keys();
  return rate;
}

// Event mode: each request becomes a PARLEY_EVENT_PROVIDER_REQUEST event.
providers::HostProviderHub::Deliver event_delivery(parley::core::Runtime &runtime) {
  return [&runtime](providers::HostRequest request) {
    auto event = parley::core::make_event(parley::core::EventType::provider_request, std::move(request.call_id),
                                          std::move(request.payload_json));
    event->audio = std::move(request.audio);
    return runtime.post(std::move(event));
  };
}

}  // namespace

PARLEY_API int parley_provider_register(parley_runtime *runtime, const char *kind, const char *name,
                                        const char *options_json, const parley_provider_callbacks *callbacks,
                                        void *user_data) {
  return guard("parley_provider_register", [&] {
    require(runtime, "runtime");
    require(kind, "kind");
    require(name, "name");
    if (!*name) throw Error(Status::invalid_argument, "name must not be empty");
    const auto provider_kind = parse_kind(kind);
    const int rate = parse_sample_rate(options_json);
    providers::HostProviderHub::Deliver deliver;
    std::shared_ptr<parley::capi::HostCallbackChannel> channel;
    if (callbacks) {
      if (callbacks->size < sizeof(uint32_t) * 2 || callbacks->version != PARLEY_PROVIDER_CALLBACKS_VERSION) {
        throw Error(Status::invalid_argument, "callbacks: set size to sizeof(parley_provider_callbacks) and version to "
                                              "PARLEY_PROVIDER_CALLBACKS_VERSION");
      }
      if (!callbacks->on_request) throw Error(Status::invalid_argument, "callbacks.on_request must not be NULL");
      parley_provider_callbacks copy{};
      std::memcpy(&copy, callbacks, std::min<size_t>(callbacks->size, sizeof copy));
      channel = std::make_shared<parley::capi::HostCallbackChannel>(copy, user_data);
      deliver = [channel](providers::HostRequest request) { return channel->deliver(std::move(request)); };
    } else {
      deliver = event_delivery(runtime->engine);
    }
    std::lock_guard lock(runtime->providers_mutex);
    runtime->host_providers->add(runtime->providers, provider_kind, name, rate, std::move(deliver));
    if (channel) runtime->host_channels.push_back(std::move(channel));
  });
}

PARLEY_API int parley_provider_push_audio(parley_runtime *runtime, uint64_t request, const int16_t *samples,
                                          size_t count) {
  return guard("parley_provider_push_audio", [&] {
    require(runtime, "runtime");
    if (count > 0) require(samples, "samples");
    runtime->host_providers->push_audio(request, samples, count);
  });
}

PARLEY_API int parley_provider_push_text(parley_runtime *runtime, uint64_t request, const char *text) {
  return guard("parley_provider_push_text", [&] {
    require(runtime, "runtime");
    require(text, "text");
    runtime->host_providers->push_text(request, text);
  });
}

PARLEY_API int parley_provider_push_tool_call(parley_runtime *runtime, uint64_t request, int index, const char *id,
                                              const char *name, const char *arguments) {
  return guard("parley_provider_push_tool_call", [&] {
    require(runtime, "runtime");
    runtime->host_providers->push_tool_call(request, index, id ? id : "", name ? name : "", arguments ? arguments : "");
  });
}

PARLEY_API int parley_provider_push_transcript(parley_runtime *runtime, uint64_t request, const char *text,
                                               int is_final, int speech_final) {
  return guard("parley_provider_push_transcript", [&] {
    require(runtime, "runtime");
    require(text, "text");
    runtime->host_providers->push_transcript(request, text, is_final != 0, speech_final != 0);
  });
}

PARLEY_API int parley_provider_complete(parley_runtime *runtime, uint64_t request, int status, const char *detail) {
  return guard("parley_provider_complete", [&] {
    require(runtime, "runtime");
    runtime->host_providers->complete(request, status == PARLEY_OK, detail ? detail : "");
  });
}

// ---------------------------------------------------------------------------------------------
// speak(): synthesise with any TTS and play into the session as the audio arrives.

namespace {

// Owned by its runtime (parley_runtime::speakers) until it finishes; the TTS callbacks hold
// it weakly, so an unanswered request cannot keep the session alive through a cycle.
struct Speaker : std::enable_shared_from_this<Speaker> {
  std::shared_ptr<parley::core::Session> session;
  parley::core::Runtime *runtime = nullptr;
  parley_runtime *owner = nullptr;
  std::unique_ptr<providers::Tts> tts;
  std::unique_ptr<providers::TtsStream> stream;
  std::string text;
  std::string mark;

  void start() {
    providers::TtsCallbacks callbacks;
    std::weak_ptr<Speaker> weak = shared_from_this();
    callbacks.on_audio = [weak](const int16_t *samples, size_t count) {
      auto self = weak.lock();
      if (!self) return;
      try {
        self->session->play(std::span<const int16_t>(samples, count), self->tts->sample_rate());
      } catch (const std::exception &e) {
        self->fail("speak: cannot play: " + std::string(e.what()), "internal");
      }
    };
    callbacks.on_done = [weak] {
      auto self = weak.lock();
      if (!self) return;
      try {
        self->session->send_mark(self->mark);
      } catch (const std::exception &) {
        // The call is closing; there is nobody left to hear the mark.
      }
      self->finish();
    };
    callbacks.on_error = [weak](providers::ProviderError error) {
      auto self = weak.lock();
      if (!self) return;
      self->report(nlohmann::json::parse(error.to_json()));
      self->finish();
    };
    stream = tts->start(std::move(callbacks));
    stream->push_text(text);
    stream->finish();
  }

  void fail(const std::string &message, const char *kind) {
    if (stream) stream->cancel();
    report({{"kind", kind}, {"provider", tts->name()}, {"message", message}});
    finish();
  }

  // Shaped like every session error ({code, message, fatal}), with the provider's details.
  void report(const nlohmann::json &error) {
    nlohmann::json payload = {{"code", "provider"},
                              {"message", error.value("message", std::string())},
                              {"fatal", false},
                              {"error", error},
                              {"mark", mark}};
    runtime->post(parley::core::make_event(parley::core::EventType::session_error, session->id(), payload.dump()));
  }

  // The stream may be running the callback that got us here: release it on a later turn.
  void finish() {
    boost::asio::post(session->strand(), [self = shared_from_this()] {
      self->stream.reset();
      self->tts.reset();
      std::lock_guard lock(self->owner->speakers_mutex);
      self->owner->speakers.erase(self);
    });
  }
};

}  // namespace

PARLEY_API int parley_session_speak(char **out_mark, parley_session *session, const char *text,
                                    const char *options_json) {
  return guard("parley_session_speak", [&] {
    require(session, "session");
    require(text, "text");
    require(session->runtime, "session runtime");
    if (session->engine->state() >= parley::core::SessionState::closing) {
      throw Error(Status::state, "session " + session->engine->id() + " is closing");
    }
    auto options = parley::core::parse_config(options_json, "speak options");
    parley::core::ConfigReader reader(options, "speak options");
    static std::atomic<uint64_t> counter{0};
    std::string mark = reader.string("mark", "speak-" + std::to_string(++counter));
    nlohmann::json tts_config = {{"provider", "espeak"}};
    if (auto it = options.find("tts"); it != options.end()) tts_config = *it;
    reader.object("tts");
    reader.reject_unknown_keys();

    auto speaker = std::make_shared<Speaker>();
    speaker->session = session->engine;
    speaker->runtime = &session->runtime->engine;
    speaker->owner = session->runtime;
    speaker->text = text;
    speaker->mark = mark;
    auto context = providers::make_context(session->runtime->engine, session->engine->strand(), session->engine->id());
    {
      std::lock_guard lock(session->runtime->providers_mutex);
      speaker->tts = session->runtime->providers.make_tts(tts_config, context, "speak options", "$.tts");
    }
    {
      std::lock_guard lock(session->runtime->speakers_mutex);
      session->runtime->speakers.insert(speaker);
    }
    boost::asio::post(session->engine->strand(), [weak = std::weak_ptr<Speaker>(speaker)] {
      if (auto self = weak.lock()) self->start();
    });
    if (out_mark) *out_mark = parley::capi::copy_to_host(mark);
  });
}
