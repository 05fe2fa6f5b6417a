// The events of an agent call as a test sees them: recorded in order, searchable, and
// reducible to the sequence of names a test asserts.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "parley/parley.h"

namespace parley::agent_testing {

using Clock = std::chrono::steady_clock;

struct RecordedEvent {
  int type = 0;
  std::string name;
  nlohmann::json payload;
  Clock::time_point at;
};

class EventLog {
 public:
  void add(int type, nlohmann::json payload) {
    events_.push_back({type, parley_event_type_name(type), std::move(payload), Clock::now()});
  }

  /// The first event of `type` matching `match` not returned before.
  std::optional<RecordedEvent> take(int type, const std::function<bool(const nlohmann::json &)> &match = {}) {
    for (size_t i = 0; i < events_.size(); ++i) {
      if (events_[i].type == type && (!match || match(events_[i].payload)) && taken_.insert(i).second) return events_[i];
    }
    return std::nullopt;
  }

  std::vector<RecordedEvent> all(int type) const {
    std::vector<RecordedEvent> out;
    for (const auto &event : events_) {
      if (event.type == type) out.push_back(event);
    }
    return out;
  }

  const std::vector<RecordedEvent> &events() const { return events_; }

  /// The agent's story as names: state changes ("agent_state:thinking"), final transcripts
  /// ("transcript:user:final"), turns, interruptions ("interruption:resumed"), tool calls.
  /// Partial transcripts and per-chunk agent lines vary with timing and are left out.
  std::vector<std::string> story() const {
    std::vector<std::string> out;
    for (const auto &event : events_) {
      const auto &p = event.payload;
      switch (event.type) {
        case PARLEY_EVENT_AGENT_STATE: out.push_back("state:" + p.value("state", "")); break;
        case PARLEY_EVENT_TRANSCRIPT:
          if (p.value("final", false)) out.push_back(p.value("role", "") + ":final");
          break;
        case PARLEY_EVENT_TURN: out.push_back(p.value("interrupted", false) ? "turn:interrupted" : "turn"); break;
        case PARLEY_EVENT_INTERRUPTION: out.push_back(p.value("resumed", false) ? "interruption:resumed" : "interruption"); break;
        case PARLEY_EVENT_TOOL_CALL: out.push_back("tool_call:" + p.value("name", "")); break;
        default: break;
      }
    }
    return out;
  }

 private:
  std::vector<RecordedEvent> events_;
  std::set<size_t> taken_;
};

}  // namespace parley::agent_testing
