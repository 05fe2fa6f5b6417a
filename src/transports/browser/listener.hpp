// The browser transport: a WebSocket server web pages (and `parley demo`'s simulated caller)
// connect to, one session per connection, carrying PCM16 audio in binary frames and JSON
// control messages in text frames (docs/browser-protocol.md). Listener configuration (JSON;
// unknown keys are rejected with their path):
//
//   {
//     "transport": "browser",
//     "address": "127.0.0.1", "port": 8080, "path": "/browser",
//     "tls": {"certificate": "cert.pem", "private_key": "key.pem"},
//     "auth_token": "...", or "auth_token_env": "PARLEY_BROWSER_TOKEN",
//                                       (upgrades must carry ?token=<value>; else 403)
//     "allowed_origins": ["https://app.example.com"],   (others get 403; [] = any)
//     "max_calls": 1000,                (0 = only the runtime's max_sessions applies)
//     "behaviour": "echo" | "host" | "agent",  (or another behaviour registered with the runtime)
//     "agent": {...},                   (the agent's config, docs/agent.md)
//     "sample_rate": 16000,             (the session rate; clients choose their own in start)
//     "playout_lead_ms": 200,
//     "max_message_bytes": 131072,
//     "max_send_queue_bytes": 1048576,   (a peer that stops reading is cut off past this)
//     "idle_timeout_ms": 15000,
//     "caller_audio_events": false,
//     "record_dir": "/var/parley/recordings"   (a stereo WAV per call, named <session id>.wav)
//   }
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "core/listener.hpp"

namespace parley::core {
class Runtime;
}

namespace parley::browser {

/// Starts a listener from its JSON configuration (`config` is the listener object).
/// Throws Error(config) naming the JSON path of a bad field, Error(io) if it cannot listen.
std::unique_ptr<core::Listener> start_listener(core::Runtime &runtime, const nlohmann::json &config);

}  // namespace parley::browser
