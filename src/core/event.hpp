// The engine's event record. The C ABI hands it out as the opaque `parley_event`.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::core {

enum class EventType : int {
  none = 0,
  runtime_error = 1,
  user = 2,
  overflow = 3,
  session_started = 10,
  session_stopped = 11,
  session_error = 12,
  session_rejected = 13,
  dtmf = 14,
  mark = 15,
  audio = 16,
  caller_audio = 17,
  audio_mark = 18,
  audio_clear = 19,
  provider_request = 20,
  agent_state = 21,
  transcript = 22,
  turn = 23,
  tool_call = 24,
  interruption = 25,
  send_dtmf = 26,
  transfer = 27,
};

const char *event_type_name(int type) noexcept;

struct Event {
  Event() = default;
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;
  ~Event() {
    if (in_flight) in_flight->fetch_sub(1, std::memory_order_relaxed);
  }

  EventType type = EventType::none;
  std::string session_id;
  std::string payload_json = "{}";
  std::vector<int16_t> audio;
  int sample_rate = 0;
  int64_t timestamp_us = 0;
  /// Audio events count themselves against their session's bound while undelivered or
  /// unreleased (see Session); the counter is decremented when the event is freed.
  std::shared_ptr<std::atomic<int>> in_flight;
};

using EventPtr = std::unique_ptr<Event>;

/// Microseconds on the monotonic clock that stamps events.
int64_t monotonic_us() noexcept;

EventPtr make_event(EventType type, std::string session_id, std::string payload_json);

}  // namespace parley::core
