#include "transports/common/websocket_listener.hpp"

#include <atomic>
#include <cstdlib>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "audio/resampler.hpp"
#include "core/config_reader.hpp"
#include "core/runtime.hpp"

namespace parley::transports {
namespace {

using core::LogLevel;

constexpr uint16_t kCloseTryLater = 1013;

// What the server's callbacks need. Shared with them, so a handshake still in flight when
// the listener is destroyed finds it alive (and `open` false).
struct ListenerState {
  ListenerState(core::Runtime &rt, WebSocketListenerSpec s) : runtime(rt), spec(std::move(s)) {}
  core::Runtime &runtime;
  const WebSocketListenerSpec spec;
  std::string id;
  bool tls = false;
  std::atomic<bool> open{true};

  void log(LogLevel level, const std::string &text) const {
    runtime.logger().log(level, "", spec.transport + " listener " + id + ": " + text);
  }
};

std::string listener_id_for(const std::string &transport, uint16_t port) {
  static std::atomic<int> counter{0};
  return transport + "-" + std::to_string(port) + "-" + std::to_string(counter.fetch_add(1));
}

net::UpgradeDecision decide_upgrade(const ListenerState &state, const net::UpgradeRequest &request) {
  if (!state.open.load()) return {503, "listener is shutting down"};
  if (!state.spec.check_upgrade) return {};
  return state.spec.check_upgrade(request, state.id, state.tls);
}

void refuse_at_capacity(ListenerState &state, net::WebSocketConnection &ws, const net::UpgradeRequest &request) {
  auto &runtime = state.runtime;
  const std::string reason = "server at capacity (" + std::to_string(runtime.sessions().count_of(state.id)) + " calls)";
  runtime.post(core::make_event(core::EventType::session_rejected, "",
                                nlohmann::json{{"listener", state.id}, {"remote", request.remote_address}, {"reason", reason}}.dump()));
  state.log(LogLevel::warn, "refused " + request.remote_address + ": " + reason);
  ws.close(kCloseTryLater, reason);
}

void accept_call(ListenerState &state, std::shared_ptr<net::WebSocketConnection> ws, const net::UpgradeRequest &request) {
  if (!state.open.load()) return ws->close(kCloseTryLater, "listener is shutting down");
  const auto &spec = state.spec;
  auto session = core::Session::create(state.runtime, ws->executor(), spec.session, state.id);
  if (!state.runtime.sessions().admit(session, state.id, spec.max_calls)) return refuse_at_capacity(state, *ws, request);
  auto call = spec.make_call(ws, session);
  session->attach(call);
  if (spec.behaviour) {
    try {
      spec.behaviour->attach(session);
    } catch (const std::exception &e) {
      state.log(LogLevel::error, spec.session.behaviour + ": " + e.what());
      session->on_transport_closed("behaviour failed to start");
      return ws->close(kCloseTryLater, spec.session.behaviour + " failed to start");
    }
  }
  ws->start(call);
}

class WebSocketListener final : public core::Listener {
 public:
  WebSocketListener(core::Runtime &runtime, WebSocketListenerSpec spec)
      : state_(std::make_shared<ListenerState>(runtime, std::move(spec))) {
    auto decide = [state = state_](const net::UpgradeRequest &request) { return decide_upgrade(*state, request); };
    auto accept = [state = state_](std::shared_ptr<net::WebSocketConnection> ws, const net::UpgradeRequest &request) {
      accept_call(*state, std::move(ws), request);
    };
    auto log = [&runtime, transport = state_->spec.transport](int level, const std::string &message) {
      runtime.logger().log(static_cast<LogLevel>(level), "", transport + " listener: " + message);
    };
    auto pick = [&runtime]() -> boost::asio::io_context & { return runtime.io_context_for_call(); };
    const auto &options = state_->spec.server;
    server_ = std::make_unique<net::WebSocketServer>(runtime.io_context(), options, decide, accept, log, pick);
    state_->id = listener_id_for(state_->spec.transport, server_->port());
    state_->tls = server_->tls();
    state_->log(LogLevel::info, std::string("on ") + (state_->tls ? "wss://" : "ws://") + options.address + ":" +
                                    std::to_string(server_->port()) + options.path);
  }

  ~WebSocketListener() override { stop_accepting(); }

  const std::string &id() const noexcept override { return state_->id; }
  const std::string &transport() const noexcept override { return state_->spec.transport; }
  uint16_t port() const noexcept override { return server_->port(); }

  void stop_accepting() override {
    state_->open = false;
    server_->stop_accepting();
  }

  size_t drain(std::chrono::milliseconds deadline) override {
    stop_accepting();
    auto &sessions = state_->runtime.sessions();
    if (sessions.wait_until_empty(state_->id, deadline)) return 0;
    auto remaining = sessions.sessions_of(state_->id);
    for (const auto &session : remaining) session->hang_up("server shutting down");
    sessions.wait_until_empty(state_->id, std::chrono::seconds(5));
    return remaining.size();
  }

 private:
  std::shared_ptr<ListenerState> state_;
  std::unique_ptr<net::WebSocketServer> server_;
};

}  // namespace

namespace {

void read_tls(core::ConfigReader &root, net::WebSocketServerOptions &server) {
  auto tls = root.object("tls");
  if (!tls) return;
  server.tls_certificate_file = tls->string("certificate", "");
  server.tls_private_key_file = tls->string("private_key", "");
  if (server.tls_certificate_file.empty()) tls->fail("certificate", "required");
  if (server.tls_private_key_file.empty()) tls->fail("private_key", "required");
  tls->reject_unknown_keys();
}

std::string read_auth_token(core::ConfigReader &root, core::Runtime &runtime) {
  std::string token = root.string("auth_token", "");
  if (auto env = root.optional_string("auth_token_env")) {
    const char *value = std::getenv(env->c_str());
    if (value == nullptr || *value == '\0') root.fail("auth_token_env", "environment variable " + *env + " is not set");
    token = value;
  }
  runtime.logger().secrets().add(token);
  return token;
}

}  // namespace

std::string read_common_keys(core::ConfigReader &root, core::Runtime &runtime, const std::string &default_path,
                             WebSocketListenerSpec &spec) {
  auto &server = spec.server;
  server.address = root.string("address", "127.0.0.1");
  server.port = static_cast<uint16_t>(root.integer("port", 0, 0, 65535));
  server.path = root.string("path", default_path);
  if (server.path.empty() || server.path[0] != '/') root.fail("path", "must start with '/'");
  read_tls(root, server);
  std::string token = read_auth_token(root, runtime);
  spec.max_calls = static_cast<size_t>(root.integer("max_calls", 0, 0, 1000000));
  spec.behaviour = core::read_behaviour(root, runtime, spec.session.behaviour);
  spec.session.sample_rate = static_cast<int>(root.integer("sample_rate", 16000, 8000, 48000));
  if (!audio::Resampler::is_supported_rate(spec.session.sample_rate)) {
    root.fail("sample_rate", "unsupported rate " + std::to_string(spec.session.sample_rate) +
                                 " (8000, 16000, 22050, 24000, 44100 or 48000)");
  }
  spec.session.playout_lead = std::chrono::milliseconds(root.integer("playout_lead_ms", 200, 20, 10000));
  server.max_message_bytes = static_cast<size_t>(root.integer("max_message_bytes", 128 * 1024, 1024, 16 << 20));
  server.max_send_queue_bytes = static_cast<size_t>(root.integer("max_send_queue_bytes", 1 << 20, 4096, 64 << 20));
  server.idle_timeout = std::chrono::milliseconds(root.integer("idle_timeout_ms", 15000, 100, 3600000));
  if (root.boolean("caller_audio_events", false)) spec.session.caller_audio = core::CallerAudioDelivery::events;
  return token;
}

std::unique_ptr<core::Listener> start_websocket_listener(core::Runtime &runtime, WebSocketListenerSpec spec) {
  return std::make_unique<WebSocketListener>(runtime, std::move(spec));
}

}  // namespace parley::transports
