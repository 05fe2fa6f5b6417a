// A runtime plus a Twilio listener on a free loopback port, and helpers to read its events.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "audio/g711.hpp"
#include "common/error.hpp"
#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "transports/twilio/caller.hpp"
#include "transports/twilio/listener.hpp"
#include "transports/twilio/signature.hpp"

namespace parley::twilio::testing {

using namespace std::chrono_literals;

inline core::RuntimeConfig quiet_runtime(int io_threads = 1) {
  core::RuntimeConfig config;
  config.io_threads = io_threads;
  config.log.sink = "none";
  config.event_queue_capacity = 1 << 16;
  return config;
}

class Server {
 public:
  explicit Server(nlohmann::json listener = {}, int io_threads = 1) : runtime_(quiet_runtime(io_threads)) {
    nlohmann::json config = {{"transport", "twilio"}, {"address", "127.0.0.1"}, {"port", 0}, {"path", "/twilio"}, {"behaviour", "echo"}};
    for (auto &[key, value] : listener.items()) config[key] = value;
    listener_ = start_listener(runtime_, config);
  }
  ~Server() {
    if (listener_) listener_->drain(2s);
  }

  core::Runtime &runtime() { return runtime_; }
  core::Listener &listener() { return *listener_; }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(listener_->port()) + "/twilio"; }

  /// The next event of `type`, skipping (and keeping) others; null after `timeout`.
  core::EventPtr wait_for(core::EventType type, std::chrono::milliseconds timeout = 5s) {
    for (auto it = seen_.begin(); it != seen_.end(); ++it) {
      if ((*it)->type == type) {
        auto event = std::move(*it);
        seen_.erase(it);
        return event;
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto event = runtime_.poll(10ms);
      if (!event) continue;
      if (event->type == type) return event;
      seen_.push_back(std::move(event));
    }
    return nullptr;
  }

  /// Payloads of every error event seen so far (and any still queued).
  std::vector<std::string> error_messages() {
    while (auto event = runtime_.poll(0ms)) seen_.push_back(std::move(event));
    std::vector<std::string> messages;
    for (const auto &event : seen_) {
      if (event->type == core::EventType::session_error) messages.push_back(nlohmann::json::parse(event->payload_json)["message"]);
    }
    return messages;
  }

  std::shared_ptr<core::Session> session_of(const core::Event &started) {
    return runtime_.sessions().find(started.session_id);
  }

 private:
  core::Runtime runtime_;
  std::unique_ptr<core::Listener> listener_;
  std::vector<core::EventPtr> seen_;
};

inline std::vector<int16_t> tone(double hz, int rate, double seconds, double amplitude = 8000) {
  std::vector<int16_t> samples(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  }
  return samples;
}

inline std::vector<uint8_t> ulaw_tone(double hz, double seconds) {
  const auto pcm = tone(hz, 8000, seconds);
  std::vector<uint8_t> ulaw(pcm.size());
  audio::ulaw_encode(pcm, ulaw);
  return ulaw;
}

/// Energy of `samples` at `hz` (Goertzel), normalised by length.
inline double energy_at(std::span<const int16_t> samples, double hz, int rate) {
  const double w = 2 * std::numbers::pi * hz / rate, c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (int16_t x : samples) {
    const double s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / static_cast<double>(samples.size());
}

/// Reads server messages for `duration`, returning them parsed.
inline std::vector<nlohmann::json> read_for(TestCaller &caller, std::chrono::milliseconds duration) {
  std::vector<nlohmann::json> messages;
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    std::optional<std::string> text;
    try {
      text = caller.read_text(std::max(left, 1ms));
    } catch (const parley::Error &) {
      break;  // the server dropped the connection: that is what some tests expect
    }
    if (!text) {
      if (!caller.is_open()) break;
      continue;
    }
    messages.push_back(nlohmann::json::parse(*text));
  }
  return messages;
}

/// Sends connected + start and returns the session-started event.
inline core::EventPtr start_call(Server &server, TestCaller &caller, const StringPairs &parameters = {}) {
  EXPECT_EQ(caller.connect(server.url()), 101);
  caller.send_text(TwilioMessages::connected());
  caller.send_text(caller.twilio().start(parameters));
  auto started = server.wait_for(core::EventType::session_started);
  EXPECT_TRUE(started) << "no session_started event";
  return started;
}

}  // namespace parley::twilio::testing
