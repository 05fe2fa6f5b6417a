#include "core/event.hpp"

#include <chrono>

namespace parley::core {

const char *event_type_name(int type) noexcept {
  switch (static_cast<EventType>(type)) {
    case EventType::none: return "none";
    case EventType::runtime_error: return "runtime_error";
    case EventType::user: return "user";
    case EventType::overflow: return "overflow";
    case EventType::session_started: return "session_started";
    case EventType::session_stopped: return "session_stopped";
    case EventType::session_error: return "session_error";
    case EventType::session_rejected: return "session_rejected";
    case EventType::dtmf: return "dtmf";
    case EventType::mark: return "mark";
    case EventType::audio: return "audio";
    case EventType::caller_audio: return "caller_audio";
    case EventType::audio_mark: return "audio_mark";
    case EventType::audio_clear: return "audio_clear";
    case EventType::provider_request: return "provider_request";
    case EventType::agent_state: return "agent_state";
    case EventType::transcript: return "transcript";
    case EventType::turn: return "turn";
    case EventType::tool_call: return "tool_call";
    case EventType::interruption: return "interruption";
    case EventType::send_dtmf: return "send_dtmf";
    case EventType::transfer: return "transfer";
  }
  return "unknown";
}

int64_t monotonic_us() noexcept {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

EventPtr make_event(EventType type, std::string session_id, std::string payload_json) {
  auto event = std::make_unique<Event>();
  event->type = type;
  event->session_id = std::move(session_id);
  event->payload_json = std::move(payload_json);
  event->timestamp_us = monotonic_us();
  return event;
}

}  // namespace parley::core
