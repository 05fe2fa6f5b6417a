// The engine's event record. The C ABI hands it out as the opaque `parley_event`.
#pragma once

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
};

const char *event_type_name(int type) noexcept;

struct Event {
  EventType type = EventType::none;
  std::string session_id;
  std::string payload_json = "{}";
  std::vector<int16_t> audio;
  int sample_rate = 0;
  int64_t timestamp_us = 0;
};

using EventPtr = std::unique_ptr<Event>;

/// Microseconds on the monotonic clock that stamps events.
int64_t monotonic_us() noexcept;

EventPtr make_event(EventType type, std::string session_id, std::string payload_json);

}  // namespace parley::core
