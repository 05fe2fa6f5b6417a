// BrowserCaller: a simulated web page on the browser protocol (docs/browser-protocol.md), for
// `parley demo` and tests. It does what a page with a microphone and a speaker does:
//
//   - connects, sends `start`, and once `started` arrives sends a 20 ms PCM16 frame every
//     20 ms in real time (absolute deadlines on a steady clock, so no drift): the next 20 ms
//     of speech queued with say(), or silence — a page's microphone never stops;
//   - plays what the server sends through a player model: agent audio plays out in real
//     time, 20 ms per tick, and reaches on_heard() as it plays; a mark is echoed when
//     playback reaches it; `clear` drops the audio not played yet and echoes pending marks.
//
// Everything runs on a strand of the io_context the user gives, and so do the callbacks.
// Server messages that break the protocol are collected (protocol_errors()), not fatal.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace parley::browser {

struct BrowserCallerOptions {
  std::string url;          ///< ws://host:port/browser (append ?token=... when the listener wants one)
  int sample_rate = 16000;  ///< the rate of say() audio and of what is heard (8000, 16000, 24000, 48000)
  std::string call_id;      ///< sent in start when not empty
  std::vector<std::pair<std::string, std::string>> parameters;  ///< start.parameters
  /// Extra upgrade headers, e.g. {"Origin", "https://app.example.com"} as a browser sends.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds connect_timeout{5000};
  bool verify_tls = true;
  std::string ca_file;
};

struct BrowserCallerCallbacks {
  std::function<void(const std::string &session_id)> on_started;
  /// Agent audio as it plays out (at the caller's rate), up to 20 ms at a time.
  std::function<void(std::span<const int16_t> samples)> on_heard;
  /// A forwarded agent event: name as core::event_type_name ("transcript"...), its payload.
  std::function<void(const std::string &name, const nlohmann::json &data)> on_event;
  /// The server sent `clear`: unplayed audio was dropped (barge-in).
  std::function<void()> on_cleared;
  /// The server reported an invalid message of ours ({"type":"error"}).
  std::function<void(const std::string &message)> on_error;
  /// Once, however the call ended: the server's close code and reason (code 0 when there was
  /// none: refused upgrade — see http_status() — or a dropped connection).
  std::function<void(int code, const std::string &reason)> on_closed;
};

class BrowserCaller : public std::enable_shared_from_this<BrowserCaller> {
 public:
  /// Connects in the background. Throws Error(invalid_argument) for a bad URL or rate.
  static std::shared_ptr<BrowserCaller> connect(boost::asio::io_context &io, BrowserCallerOptions options,
                                                BrowserCallerCallbacks callbacks);
  /// Drops the connection (no stop sent). Callbacks do not run after the destructor.
  ~BrowserCaller();
  BrowserCaller(const BrowserCaller &) = delete;
  BrowserCaller &operator=(const BrowserCaller &) = delete;

  // Any thread:
  /// Queues speech (PCM16 mono at options.sample_rate) after what is already queued.
  void say(std::vector<int16_t> samples);
  /// Sends a DTMF digit (0-9, * or #; else throws Error(invalid_argument)).
  void dtmf(char digit);
  /// Sends `stop` (the caller hangs up); the server closes with 1000 and on_closed follows.
  void hang_up();
  /// Closes the WebSocket (1000) without a stop, as a closed tab does.
  void disconnect();

  /// Queued speech not yet sent.
  bool speaking() const noexcept;
  /// Agent audio is queued in the player or played in the last 20 ms.
  bool agent_audio_playing() const noexcept;
  bool closed() const noexcept;
  /// The status of a refused upgrade (e.g. 403); 0 otherwise.
  int http_status() const noexcept;

  struct Stats {
    uint64_t frames_sent = 0;     ///< 20 ms frames, speech or silence
    uint64_t samples_heard = 0;   ///< agent audio played out
    uint64_t marks_received = 0;
    uint64_t marks_echoed = 0;
    uint64_t clears = 0;
    std::vector<std::string> protocol_errors;  ///< server messages that break the protocol
  };
  Stats stats() const;

  struct Impl;  // public for client.cpp's helpers

 private:
  explicit BrowserCaller(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::browser
