// A runtime plus a browser listener on a free loopback port, and a raw page: a blocking
// WebSocket client (twilio::TestCaller underneath, which knows nothing of this protocol)
// that writes every message by hand, exactly as docs/browser-protocol.md shows it, so the
// server is checked against the document rather than against its own protocol code.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "core/behaviour.hpp"
#include "core/config_reader.hpp"
#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "transports/browser/listener.hpp"
#include "transports/twilio/caller.hpp"

namespace parley::browser::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Headers = twilio::StringPairs;

inline core::RuntimeConfig quiet_runtime() {
  core::RuntimeConfig config;
  config.io_threads = 1;
  config.log.sink = "none";
  config.event_queue_capacity = 1 << 16;
  return config;
}

class Server {
 public:
  /// `listener` keys override the defaults (echo behaviour, port 0); `setup` runs on the
  /// runtime before the listener starts (to register a behaviour).
  explicit Server(nlohmann::json listener = {}, const std::function<void(core::Runtime &)> &setup = {})
      : runtime_(quiet_runtime()) {
    if (setup) setup(runtime_);
    nlohmann::json config = {{"transport", "browser"}, {"address", "127.0.0.1"}, {"port", 0}, {"behaviour", "echo"}};
    for (auto &[key, value] : listener.items()) config[key] = value;
    listener_ = start_listener(runtime_, config);
  }
  ~Server() {
    if (listener_) listener_->drain(2s);
  }

  core::Runtime &runtime() { return runtime_; }
  core::Listener &listener() { return *listener_; }
  std::string url(const std::string &query = "") const {
    return "ws://127.0.0.1:" + std::to_string(listener_->port()) + "/browser" + query;
  }

  /// The next event of `type`, skipping (and keeping) others; null after `timeout`.
  core::EventPtr wait_for(core::EventType type, std::chrono::milliseconds timeout = 5s) {
    for (auto it = seen_.begin(); it != seen_.end(); ++it) {
      if ((*it)->type == type) {
        auto event = std::move(*it);
        seen_.erase(it);
        return event;
      }
    }
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto event = runtime_.poll(10ms);
      if (!event) continue;
      if (event->type == type) return event;
      seen_.push_back(std::move(event));
    }
    return nullptr;
  }

  /// Messages of every session_error event seen so far (and any still queued).
  std::vector<std::string> error_messages() {
    while (auto event = runtime_.poll(0ms)) seen_.push_back(std::move(event));
    std::vector<std::string> messages;
    for (const auto &event : seen_) {
      if (event->type == core::EventType::session_error) messages.push_back(nlohmann::json::parse(event->payload_json)["message"]);
    }
    return messages;
  }

  std::shared_ptr<core::Session> session(const std::string &id) { return runtime_.sessions().find(id); }

 private:
  core::Runtime runtime_;
  std::unique_ptr<core::Listener> listener_;
  std::vector<core::EventPtr> seen_;
};

/// What a page read: the text messages in order, the audio, and how much audio had arrived
/// before each text message (so "the mark follows its audio" can be checked).
struct Received {
  std::vector<nlohmann::json> texts;
  std::vector<size_t> audio_before;  // per text message
  std::vector<int16_t> audio;
  size_t binary_frames = 0;

  void append(Received other) {
    for (size_t i = 0; i < other.texts.size(); ++i) {
      texts.push_back(std::move(other.texts[i]));
      audio_before.push_back(audio.size() + other.audio_before[i]);
    }
    audio.insert(audio.end(), other.audio.begin(), other.audio.end());
    binary_frames += other.binary_frames;
  }
  /// Text messages of `type`.
  std::vector<nlohmann::json> of_type(const std::string &type) const {
    std::vector<nlohmann::json> out;
    for (const auto &m : texts) {
      if (m.value("type", "") == type) out.push_back(m);
    }
    return out;
  }
  /// Index of the first text message of `type` (with `name` when given), or -1.
  int index_of(const std::string &type, const std::string &name = "") const {
    for (size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].value("type", "") == type && (name.empty() || texts[i].value("name", "") == name)) return static_cast<int>(i);
    }
    return -1;
  }
};

class RawPage {
 public:
  int connect(const std::string &url, const Headers &headers = {}) { return ws_.connect(url, headers); }
  void send(std::string_view json) { ws_.send_text(json); }
  void send_bytes(std::span<const uint8_t> bytes) { ws_.send_binary(bytes); }
  void send_audio(std::span<const int16_t> samples) {
    std::vector<uint8_t> bytes(samples.size() * 2);
    for (size_t i = 0; i < samples.size(); ++i) {  // little-endian, whatever this host is
      const auto u = static_cast<uint16_t>(samples[i]);
      bytes[2 * i] = static_cast<uint8_t>(u & 0xff);
      bytes[2 * i + 1] = static_cast<uint8_t>(u >> 8);
    }
    ws_.send_binary(bytes);
  }

  /// Reads every message for `duration` (less if the server closes).
  Received read_for(std::chrono::milliseconds duration) {
    Received out;
    const auto deadline = Clock::now() + duration;
    while (Clock::now() < deadline && ws_.is_open()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      std::optional<twilio::TestCaller::Frame> frame;
      try {
        frame = ws_.read(std::max(left, 1ms));
      } catch (const parley::Error &) {
        break;  // the server dropped the connection: some tests expect that
      }
      if (!frame) continue;
      take(std::move(*frame), out);
    }
    return out;
  }

  /// Reads until a text message of `type` arrives (keeping everything read in `log`).
  std::optional<nlohmann::json> wait_for(const std::string &type, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline && ws_.is_open()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      std::optional<twilio::TestCaller::Frame> frame;
      try {
        frame = ws_.read(std::max(left, 1ms));
      } catch (const parley::Error &) {
        return std::nullopt;
      }
      if (!frame) continue;
      const bool text = !frame->binary;
      take(std::move(*frame), log);
      if (text && log.texts.back().value("type", "") == type) return log.texts.back();
    }
    return std::nullopt;
  }

  /// Sends start, and returns the `started` answer (nullopt when none came).
  std::optional<nlohmann::json> start(int sample_rate = 16000, const std::string &extra = "") {
    send(R"({"type":"start","sample_rate":)" + std::to_string(sample_rate) + extra + "}");
    return wait_for("started");
  }

  /// Sends `samples` as 20 ms frames in real time, reading what arrives meanwhile.
  Received talk(std::span<const int16_t> samples, int sample_rate) {
    Received out;
    const size_t frame = static_cast<size_t>(sample_rate / 50);
    auto next = Clock::now();
    for (size_t at = 0; at + frame <= samples.size(); at += frame) {
      send_audio(samples.subspan(at, frame));
      next += 20ms;
      out.append(read_for(std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now())));
    }
    return out;
  }

  twilio::TestCaller &ws() { return ws_; }
  Received log;  // what wait_for() read

 private:
  static void take(twilio::TestCaller::Frame frame, Received &out) {
    if (frame.binary) {
      ASSERT_EQ(frame.data.size() % 2, 0u) << "audio frames hold whole samples";
      const size_t n = frame.data.size() / 2;
      for (size_t i = 0; i < n; ++i) {
        const auto lo = static_cast<uint8_t>(frame.data[2 * i]), hi = static_cast<uint8_t>(frame.data[2 * i + 1]);
        out.audio.push_back(static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8))));
      }
      ++out.binary_frames;
      return;
    }
    out.texts.push_back(nlohmann::json::parse(frame.data));
    out.audio_before.push_back(out.audio.size());
  }

  twilio::TestCaller ws_;
};

inline std::vector<int16_t> tone(double hz, int rate, double seconds, double amplitude = 8000) {
  std::vector<int16_t> samples(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  }
  return samples;
}

/// Energy of `samples` at `hz` (Goertzel), normalised by length.
inline double energy_at(std::span<const int16_t> samples, double hz, int rate) {
  if (samples.empty()) return 0;
  const double w = 2 * std::numbers::pi * hz / rate, c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (int16_t x : samples) {
    const double s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / static_cast<double>(samples.size());
}

inline nlohmann::json payload(const core::EventPtr &event) { return nlohmann::json::parse(event->payload_json); }

/// A stand-in for the agent: greets the caller with a transcript event when the call starts
/// and answers each DTMF digit with an agent_state event, through Session::emit_event (which
/// is what forwards events to the page). Registered as "greeter" with {"greeting": "..."}.
class GreeterObserver final : public core::SessionObserver {
 public:
  GreeterObserver(std::weak_ptr<core::Session> session, std::string greeting)
      : session_(std::move(session)), greeting_(std::move(greeting)) {}
  void on_started(const core::CallInfo &) override {
    emit(core::EventType::transcript, {{"role", "agent"}, {"text", greeting_}, {"final", true}, {"turn", 1}});
  }
  void on_dtmf(std::string_view digit) override {
    emit(core::EventType::agent_state, {{"state", "thinking"}, {"digit", std::string(digit)}});
  }

 private:
  void emit(core::EventType type, const nlohmann::json &payload) {
    if (auto session = session_.lock()) session->emit_event(type, payload.dump());
  }
  std::weak_ptr<core::Session> session_;
  std::string greeting_;
};

class Greeter final : public core::Behaviour {
 public:
  explicit Greeter(std::string greeting) : greeting_(std::move(greeting)) {}
  void attach(const std::shared_ptr<core::Session> &session) override {
    session->set_observer(std::make_shared<GreeterObserver>(session, greeting_));
  }

 private:
  std::string greeting_;
};

inline void register_greeter(core::Runtime &runtime) {
  runtime.register_behaviour("greeter", [](const nlohmann::json &config, const std::string &what, const std::string &path) {
    core::ConfigReader reader(config, what, path);
    auto greeting = reader.string("greeting", "Hello");
    reader.reject_unknown_keys();
    return std::make_shared<Greeter>(std::move(greeting));
  });
}

}  // namespace parley::browser::testing
