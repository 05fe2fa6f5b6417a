// A caller for agent tests, over the host transport and the C ABI, driven by the test
// thread in real time: every 20 ms it pushes the next frame of what the caller says (or
// silence), takes the events that arrived, "plays" agent audio on a playout clock and
// confirms each mark once the audio before it has played, as a phone would.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "event_log.hpp"
#include "parley/parley.h"

namespace parley::agent_testing {

using namespace std::chrono_literals;

class AgentCall {
 public:
  /// Starts a runtime and a host session running the agent configured by `agent`.
  explicit AgentCall(const nlohmann::json &agent, int rate = 16000) : rate_(rate) {
    const std::string runtime_config = R"({"io_threads":1,"worker_threads":2,"log":{"level":"warn"}})";
    EXPECT_EQ(parley_runtime_create(&runtime_, runtime_config.c_str()), PARLEY_OK) << last_error();
    nlohmann::json config{{"behaviour", "agent"}, {"agent", agent}, {"sample_rate", rate}, {"call_id", "agent-test"}};
    EXPECT_EQ(parley_session_create_host(&session_, runtime_, config.dump().c_str()), PARLEY_OK) << last_error();
    next_frame_ = Clock::now();
  }

  ~AgentCall() {
    if (session_ != nullptr) {
      parley_session_close(session_);
      parley_session_destroy(session_);
    }
    parley_runtime_destroy(runtime_);
  }

  static std::string last_error() {
    const parley_error *error = parley_error_last();
    return error != nullptr ? error->message : "";
  }

  parley_session *session() { return session_; }

  /// Queues speech for the caller to say, in real time, after what is queued.
  void say(const std::vector<int16_t> &samples) { speech_.insert(speech_.end(), samples.begin(), samples.end()); }
  bool saying() const { return !speech_.empty(); }

  /// Runs the call until `done()` or `timeout`; returns done().
  bool run_until(const std::function<bool()> &done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline || stopped_) return done();
      step();
    }
    return true;
  }

  void run_for(std::chrono::milliseconds duration) {
    const auto end = Clock::now() + duration;
    run_until([&] { return Clock::now() >= end; }, duration + 1s);
  }

  /// Runs until an event of `type` (matching `match`) arrives that was not returned before.
  std::optional<RecordedEvent> wait_for(int type, std::chrono::milliseconds timeout = 20s,
                                        const std::function<bool(const nlohmann::json &)> &match = {}) {
    std::optional<RecordedEvent> found;
    run_until([&] { return (found = log_.take(type, match)).has_value(); }, timeout);
    return found;
  }

  EventLog &log() { return log_; }
  /// Agent audio heard so far (what the caller's ear got, clears applied).
  const std::vector<int16_t> &heard() const { return heard_; }
  bool stopped() const { return stopped_; }

 private:
  void step() {
    std::this_thread::sleep_until(next_frame_);
    next_frame_ += 20ms;
    push_frame();
    drain_events();
    confirm_marks();
  }

  void push_frame() {
    const size_t n = static_cast<size_t>(rate_ / 50);
    std::vector<int16_t> frame(n, 0);
    for (size_t i = 0; i < n && !speech_.empty(); ++i) {
      frame[i] = speech_.front();
      speech_.pop_front();
    }
    if (!stopped_) parley_session_push_audio(session_, frame.data(), frame.size(), rate_);
  }

  void drain_events() {
    parley_event *event = nullptr;
    while (parley_runtime_poll_event(&event, runtime_, 0) == PARLEY_OK) {
      record(event);
      parley_event_release(event);
    }
  }

  void record(parley_event *event) {
    const int type = parley_event_type_of(event);
    const auto now = Clock::now();
    if (type == PARLEY_EVENT_AUDIO) {
      const int16_t *samples = nullptr;
      size_t count = 0;
      int rate = 0;
      parley_event_audio(&samples, &count, &rate, event);
      heard_.insert(heard_.end(), samples, samples + count);
      playout_end_ = std::max(playout_end_, now) + std::chrono::microseconds(count * 1'000'000 / static_cast<size_t>(rate));
      return;
    }
    nlohmann::json payload = nlohmann::json::parse(parley_event_payload(event), nullptr, false);
    if (type == PARLEY_EVENT_AUDIO_MARK) {
      marks_.push_back({payload.value("name", ""), playout_end_});
      return;
    }
    if (type == PARLEY_EVENT_AUDIO_CLEAR) {
      playout_end_ = now;
      for (auto &mark : marks_) mark.due = now;  // flushed marks come straight back
      return;
    }
    if (type == PARLEY_EVENT_SESSION_STOPPED) stopped_ = true;
    log_.add(type, std::move(payload));
  }

  void confirm_marks() {
    const auto now = Clock::now();
    while (!marks_.empty() && marks_.front().due <= now) {
      if (!stopped_) parley_session_push_mark_played(session_, marks_.front().name.c_str());
      marks_.pop_front();
    }
  }

  struct PendingMark {
    std::string name;
    Clock::time_point due;
  };

  int rate_;
  parley_runtime *runtime_ = nullptr;
  parley_session *session_ = nullptr;
  std::deque<int16_t> speech_;
  std::vector<int16_t> heard_;
  Clock::time_point next_frame_;
  Clock::time_point playout_end_{};
  std::deque<PendingMark> marks_;
  EventLog log_;
  bool stopped_ = false;
};

}  // namespace parley::agent_testing
