// What the WebSocket transports (Twilio Media Streams, the browser protocol) share: a
// core::Listener over a net::WebSocketServer — its id, shutdown refusals, the capacity cap,
// the call's behaviour, draining — so each transport writes only its protocol: which upgrades
// it accepts, and the call object that speaks it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/behaviour.hpp"
#include "core/listener.hpp"
#include "core/session.hpp"
#include "net/websocket_server.hpp"

namespace parley::core {
class ConfigReader;
class Runtime;
}

namespace parley::transports {

/// A call on a WebSocket transport: the connection's handler and the session's media port.
class WebSocketCall : public net::WebSocketConnection::Handler, public core::MediaPort {};

struct WebSocketListenerSpec {
  std::string transport;  ///< "twilio", "browser": in ids ("twilio-8080-0") and log lines
  net::WebSocketServerOptions server;
  core::SessionOptions session;
  std::shared_ptr<core::Behaviour> behaviour;  ///< null for "host" and "echo"
  size_t max_calls = 0;                        ///< 0 = only the runtime's max_sessions
  /// The transport's own checks of an upgrade (signature, token, origin). Empty = accept.
  std::function<net::UpgradeDecision(const net::UpgradeRequest &request, const std::string &listener_id, bool tls)>
      check_upgrade;
  /// The call object for a new session on `ws`.
  std::function<std::shared_ptr<WebSocketCall>(std::shared_ptr<net::WebSocketConnection> ws,
                                               std::shared_ptr<core::Session> session)>
      make_call;
};

/// Reads the keys every WebSocket listener config has into `spec` — address, port, path
/// (default `default_path`), tls, max_calls, behaviour (and its config), sample_rate,
/// playout_lead_ms, max_message_bytes, max_send_queue_bytes, idle_timeout_ms,
/// caller_audio_events — and returns the auth token (auth_token, or the variable named by
/// auth_token_env; "" when neither), registered with the log redactor. Throws Error(config)
/// naming the path of a bad value; the caller reads its own keys and rejects unknown ones.
std::string read_common_keys(core::ConfigReader &root, core::Runtime &runtime, const std::string &default_path,
                             WebSocketListenerSpec &spec);

/// Starts listening. Throws Error(io) if it cannot listen. Calls over the cap, or arriving
/// while the listener shuts down, are closed with 1013 and a PARLEY_EVENT_SESSION_REJECTED.
std::unique_ptr<core::Listener> start_websocket_listener(core::Runtime &runtime, WebSocketListenerSpec spec);

}  // namespace parley::transports
