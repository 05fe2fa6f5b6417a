// The Twilio Media Streams transport: a WebSocket server Twilio connects to, one session per
// call. Listener configuration (JSON; unknown keys are rejected with their path):
//
//   {
//     "transport": "twilio",
//     "address": "127.0.0.1", "port": 8080, "path": "/twilio",
//     "tls": {"certificate": "cert.pem", "private_key": "key.pem"},
//     "auth_token": "...", or "auth_token_env": "TWILIO_AUTH_TOKEN",
//     "public_url": "wss://agent.example.com/twilio",   (what Twilio signs; default: from Host)
//     "max_calls": 1000,                (0 = only the runtime's max_sessions applies)
//     "behaviour": "echo" | "host" | "agent",  (or another behaviour registered with the runtime)
//     "agent": {...},                   (the agent's config, docs/agent.md)
//     "sample_rate": 16000,             (the session rate)
//     "playout_lead_ms": 200,
//     "max_message_bytes": 131072,
//     "max_send_queue_bytes": 1048576,   (a peer that stops reading is cut off past this)
//     "socket_send_buffer_bytes": 0,     (SO_SNDBUF; 0 = kernel default)
//     "idle_timeout_ms": 15000,
//     "caller_audio_events": false,
//     "record_dir": "/var/parley/recordings"   (a stereo WAV per call, named by CallSid)
//   }
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "core/listener.hpp"

namespace parley::core {
class Runtime;
}

namespace parley::twilio {

/// Starts a listener from its JSON configuration (`config` is the listener object).
/// Throws Error(config) naming the JSON path of a bad field, Error(io) if it cannot listen.
std::unique_ptr<core::Listener> start_listener(core::Runtime &runtime, const nlohmann::json &config);

}  // namespace parley::twilio
