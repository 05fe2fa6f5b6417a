// Providers implemented by the host application (a Java recogniser, a Node voice, a Go LLM
// client). The engine turns each provider call into a request with an id — synthesise this
// text, complete these messages, here is more audio — and hands it to the host (as an event
// or through a callback: the C ABI decides, see capi/provider_api.cpp). The host answers by
// id, from any thread: audio, text deltas, transcripts, then completion.
//
// Request payloads (JSON), by kind:
//   tts: {"op":"synthesize","request":7,"kind":"tts","provider":"my-voice","text":"Hello."}
//   llm: {"op":"complete","request":8,"kind":"llm","provider":"my-llm","messages":[...],"tools":[...]}
//   stt: {"op":"start","request":9,"kind":"stt","provider":"my-asr","sample_rate":16000},
//        then {"op":"audio",...} with PCM16 attached, {"op":"finalize",...}
//   any: {"op":"cancel","request":7,...} when the engine no longer wants the answer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "providers/registry.hpp"

namespace parley::providers {

struct HostRequest {
  uint64_t id = 0;
  std::string call_id;       // the session's call id, "" outside a call
  std::string payload_json;  // as above
  std::vector<int16_t> audio;  // for stt "audio"
};

enum class HostProviderKind { llm, tts, stt };

const char *host_provider_kind_name(HostProviderKind kind) noexcept;

class HostProviderHub : public std::enable_shared_from_this<HostProviderHub> {
 public:
  /// Hands a request to the host. Called on the requesting session's executor; must not
  /// block. Returns false when the host cannot take it (a full queue): the request fails.
  using Deliver = std::function<bool(HostRequest request)>;

  /// Registers host provider `name` of `kind` in `registry`, replacing any provider of that
  /// name. `sample_rate` is the TTS output rate or the STT input rate (ignored for LLMs).
  void add(Registry &registry, HostProviderKind kind, const std::string &name, int sample_rate, Deliver deliver);

  // The host's answers, from any thread. Each throws Error(Status::not_found) when the
  // request is unknown, finished or cancelled, and Error(Status::invalid_argument) when
  // the answer does not fit the request's kind.
  void push_audio(uint64_t request, const int16_t *samples, size_t count);                // tts
  void push_text(uint64_t request, std::string_view text);                                // llm
  void push_tool_call(uint64_t request, int index, std::string_view id, std::string_view name,
                      std::string_view arguments);                                        // llm
  void push_transcript(uint64_t request, std::string_view text, bool is_final, bool speech_final);  // stt
  /// Ends a request. ok: `detail` is "" or, for an LLM, {"finish_reason":..,"usage":{..}};
  /// not ok: `detail` is the error message the session's error event carries.
  void complete(uint64_t request, bool ok, std::string_view detail);

  /// Requests waiting for an answer (for tests).
  size_t pending() const;

  class Pending;

 private:
  friend class HostProviderBase;
  uint64_t track(std::shared_ptr<Pending> pending);
  std::shared_ptr<Pending> find(uint64_t request) const;
  void forget(uint64_t request);

  mutable std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Pending>> pending_;
};

}  // namespace parley::providers
