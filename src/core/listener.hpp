// A listener accepts calls for one transport (Twilio Media Streams, AudioSocket, browser...)
// and creates a session per call. The C ABI holds listeners through this interface, so it
// never depends on a transport's internals.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace parley::core {

class Listener {
 public:
  virtual ~Listener() = default;
  virtual const std::string &id() const noexcept = 0;
  virtual const std::string &transport() const noexcept = 0;
  /// The bound port (useful when the config asked for port 0).
  virtual uint16_t port() const noexcept = 0;
  /// Stops accepting calls; live calls carry on.
  virtual void stop_accepting() = 0;
  /// Stops accepting, lets live calls end for up to `deadline`, then hangs up the rest and
  /// waits (bounded) for them to close. Returns the number of calls that had to be hung up.
  virtual size_t drain(std::chrono::milliseconds deadline) = 0;
};

}  // namespace parley::core
