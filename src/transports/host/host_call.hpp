// The host transport: a session whose media path is the host program (call-centre software
// with its own SIP/RTP stack). The host pushes caller audio in; agent audio goes out as
// events, paced in real time by the session, with marks and clears in the same stream.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>

namespace parley::core {
class Runtime;
class Session;
}  // namespace parley::core

namespace parley::host {

class HostCall;

struct HostSession {
  std::shared_ptr<core::Session> session;
  std::shared_ptr<HostCall> call;
};

/// Creates and starts a host-transport session (see parley_session_create_host for the
/// config). Throws Error(config) naming the JSON path, Error(full) at max_sessions.
HostSession create_session(core::Runtime &runtime, const nlohmann::json &config);

enum class G711 { ulaw, alaw };

// Thread-safe; each copies its input and processes it on the session's strand, in order.
void push_audio(HostCall &call, std::span<const int16_t> samples, int sample_rate);
void push_g711(HostCall &call, std::span<const uint8_t> bytes, G711 encoding, int sample_rate);
void push_dtmf(HostCall &call, std::string digit);
void push_mark_played(HostCall &call, std::string name);

}  // namespace parley::host
